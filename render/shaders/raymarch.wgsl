// Ray marcher, part 3 of 3: one full-screen triangle per pass; each fragment marches the ray
// through its pixel centre over the samples t0 + (k + 0.5)·step of its segment.
//
// The loop is a small state machine that evaluates the data source exactly once per iteration
// (`src_eval`, at a sample, at a gradient tap or at the refined ISO hit), so that a neural field
// is compiled into the shader once and no evaluation runs nested in another's branch.
//
// Passes: lavapipe (Mesa's gallivm) stops every loop of a shader invocation once the
// invocation has run 65,535 loop iterations in all, nested loops included, and a neural field
// evaluation is hundreds of iterations. So a draw is split into passes, each given a budget of
// iterations (`pass_info`): a pass stops at a sample boundary when the next sample might not fit
// and stores the ray's state (fs_state: two state targets), which the next pass reads back; the
// last pass writes the colour (fs_final). The state is stored exactly (f32 and u32 bits), so the
// picture does not depend on the number of passes. A volume normally needs one pass.
//
// Meshes drawn before (`pass_info.meshes.x == 1`): every pass ends the segment at the mesh's
// view depth, and the last pass composites the data over the mesh's colour.

// What the current iteration evaluates.
const PHASE_SAMPLE: u32 = 0u;
// ISO: the sample before the hit, to refine it.
const PHASE_PREVIOUS: u32 = 1u;
// ISO: the value at the refined hit, the centre of its gradient.
const PHASE_CENTRE: u32 = 2u;
// Gradient taps 0..5: forward and backward along axes 0, 1, 2.
const PHASE_TAP: u32 = 3u;

// Loop iterations spent on the ray setup (the clip-plane loop) before marching.
const SETUP_ITERATIONS: u32 = 4u;

// Flags of the stored state.
const FLAG_DONE: u32 = 1u;
const FLAG_MIP_HIT: u32 = 2u;
const FLAG_OVERLAY: u32 = 4u;
const FLAG_COMPLETE: u32 = 8u;

// Mirrors `PassUniform` in `src/raymarch/passes.rs`.
struct Pass {
    // x: 1 when there is no state to read (the first pass), y: iterations this pass may run,
    // z: iterations of one evaluation of the data, w: iterations one whole sample may take.
    budget: vec4<u32>,
    // x: 1 when mesh_colour and mesh_depth hold meshes drawn for this picture.
    meshes: vec4<u32>,
}

@group(2) @binding(0) var<uniform> pass_info: Pass;
@group(2) @binding(1) var state_colour: texture_2d<f32>;
@group(2) @binding(2) var state_misc: texture_2d<u32>;
// The meshes' straight colour (alpha 0: none) and view depth (FAR_DEPTH: none).
@group(2) @binding(3) var mesh_colour: texture_2d<f32>;
@group(2) @binding(4) var mesh_depth: texture_2d<f32>;

fn has_meshes() -> bool {
    return pass_info.meshes.x == 1u;
}

// The ray's segment in the data, ended at the mesh in front of it.
fn segment_before_meshes(px: vec2<f32>, o: vec3<f32>, d: vec3<f32>) -> vec2<f32> {
    var segment = ray_segment(o, d);
    if has_meshes() {
        let z = textureLoad(mesh_depth, vec2<i32>(px), 0).r;
        segment.y = min(segment.y, z / dot(d, normalize(u.forward.xyz)));
    }
    return segment;
}

// A ray's progress: everything that survives from one pass to the next.
struct March {
    // Premultiplied colour and opacity of the data (ISO: set at the hit). MIP: x holds the
    // distance of the largest sample until the end, when the colour is set.
    acc: vec4<f32>,
    // The next sample to look at.
    k: i32,
    mip_max: f32,
    // Where the data finished (terminated or hit); the segment's end until then.
    t_term: f32,
    // FLAG_* bits.
    flags: u32,
    overlay_rgb: vec3<f32>,
}

fn has(m: March, flag: u32) -> bool {
    return (m.flags & flag) != 0u;
}

struct StateOut {
    @location(0) colour: vec4<f32>,
    @location(1) misc: vec4<u32>,
}

@vertex
fn vs_main(@builtin(vertex_index) index: u32) -> @builtin(position) vec4<f32> {
    // (-1,-1), (3,-1), (-1,3): one triangle covering the whole target.
    let x = f32(i32(index & 1u) * 4 - 1);
    let y = f32(i32(index >> 1u) * 4 - 1);
    return vec4<f32>(x, y, 0.0, 1.0);
}

fn load_state(px: vec2<f32>, t1: f32) -> March {
    if pass_info.budget.x == 1u {
        return March(vec4<f32>(0.0), 0, 0.0, t1, 0u, vec3<f32>(0.0));
    }
    let at = vec2<i32>(px);
    let misc = textureLoad(state_misc, at, 0);
    return March(
        textureLoad(state_colour, at, 0),
        i32(misc.x),
        bitcast<f32>(misc.y),
        bitcast<f32>(misc.z),
        misc.w & 0xffu,
        unpack4x8unorm(misc.w).yzw,
    );
}

// Continue the ray through pixel centre px for one pass.
fn march(px: vec2<f32>) -> March {
    let d = pixel_direction(px);
    let o = u.eye.xyz;
    let segment = segment_before_meshes(px, o, d);
    var m = load_state(px, segment.y);
    if has(m, FLAG_COMPLETE) {
        return m;
    }
    let t0 = segment.x;
    let step = u.params.x;
    let n = sample_count(segment, step);
    let mode = u.mode.x;
    let termination = u.params.y;
    let level = u.params.z;
    let depth = u.params.w;
    let has_overlay = u.ov_cells.w == 1;
    let skipping = u.cells.w == 1;
    let lit = u.mode.y == 1u;
    let budget = pass_info.budget.y;
    let per_eval = pass_info.budget.z;
    let per_sample = pass_info.budget.w;

    var used = SETUP_ITERATIONS;
    var phase = PHASE_SAMPLE;
    var t = 0.0;
    var p = vec3<f32>(0.0);
    // The sample being worked on and what its gradient needs.
    var hit_value = 0.0;
    var centre = 0.0;
    var at = vec3<f32>(0.0);
    var pending = vec4<f32>(0.0);
    var forward = vec3<f32>(0.0);
    var backward = vec3<f32>(0.0);

    loop {
        if phase == PHASE_SAMPLE {
            let done = has(m, FLAG_DONE);
            if m.k >= n {
                m.flags |= FLAG_COMPLETE;
                break;
            }
            t = t0 + (f32(m.k) + 0.5) * step;
            if done && t > m.t_term + depth {
                m.flags |= FLAG_COMPLETE;
                break;
            }
            if used > SETUP_ITERATIONS && used + per_sample > budget {
                // Out of budget for this pass: the next pass goes on from sample k.
                break;
            }
            p = o + t * d;
            if skipping {
                used += 1u;
                let mip_floor = select(-FAR, m.mip_max, has(m, FLAG_MIP_HIT));
                let exit = src_skip(p, d, t, done, mip_floor);
                if exit >= 0.0 {
                    m.k = max(m.k + 1, resume_index(t0, exit, step));
                    continue;
                }
            }
        }

        // The one evaluation of this iteration (none for overlay-only samples once the data is done).
        var q = p;
        var tap = -1;
        if phase == PHASE_PREVIOUS {
            q = o + (t0 + (f32(m.k) - 0.5) * step) * d;
        } else if phase == PHASE_CENTRE {
            q = at;
        } else if phase >= PHASE_TAP {
            q = at;
            tap = i32(phase - PHASE_TAP);
        }
        var s = Sample(0.0, false, vec3<f32>(0.0));
        if has(m, FLAG_DONE) && phase == PHASE_SAMPLE {
            used += 1u;
        } else {
            s = src_eval(q, tap);
            used += per_eval;
        }

        // Whether sample k is complete (then the overlay is looked at and k moves on).
        var finished = false;
        if phase == PHASE_SAMPLE {
            finished = true;
            if !has(m, FLAG_DONE) {
                switch mode {
                    case MODE_MIP: {
                        if s.valid && (!has(m, FLAG_MIP_HIT) || s.value > m.mip_max) {
                            m.mip_max = s.value;
                            m.acc.x = t;
                            m.flags |= FLAG_MIP_HIT;
                        }
                    }
                    case MODE_ISO: {
                        if s.valid && s.value >= level {
                            m.flags |= FLAG_DONE;
                            hit_value = s.value;
                            // Until refined: the hit is sample k itself, the centre its value.
                            m.t_term = t;
                            at = p;
                            centre = s.value;
                            phase = select(PHASE_TAP, PHASE_PREVIOUS, m.k > 0);
                            finished = false;
                        }
                    }
                    case MODE_DENSITY: {
                        let a = 1.0 - exp(-s.value * step);
                        if a > 0.0 {
                            m.acc += (1.0 - m.acc.a) * a * vec4<f32>(s.rgb, 1.0);
                            if m.acc.a >= termination {
                                m.flags |= FLAG_DONE;
                                m.t_term = t;
                            }
                        }
                    }
                    default: {
                        if s.valid {
                            let index = transfer_index(s.value);
                            let a = sample_alpha(index);
                            if a > 0.0 {
                                pending = vec4<f32>(lut_rgb(index), a);
                                if lit {
                                    at = p;
                                    centre = s.value;
                                    phase = PHASE_TAP;
                                    finished = false;
                                } else {
                                    m.acc += (1.0 - m.acc.a) * a * vec4<f32>(pending.rgb, 1.0);
                                    if m.acc.a >= termination {
                                        m.flags |= FLAG_DONE;
                                        m.t_term = t;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        } else if phase == PHASE_PREVIOUS {
            if s.valid && s.value < level {
                let t_prev = t0 + (f32(m.k) - 0.5) * step;
                m.t_term = t_prev + step * (level - s.value) / (hit_value - s.value);
                at = o + m.t_term * d;
                phase = PHASE_CENTRE;
            } else {
                phase = PHASE_TAP;
            }
        } else if phase == PHASE_CENTRE {
            centre = select(level, s.value, s.valid);
            phase = PHASE_TAP;
        } else {
            let i = phase - PHASE_TAP;
            let value = vec3<f32>(select(centre, s.value, s.valid));
            let axis = vec3<u32>(i / 2u) == vec3<u32>(0u, 1u, 2u);
            if i % 2u == 0u {
                forward = select(forward, value, axis);
            } else {
                backward = select(backward, value, axis);
            }
            phase += 1u;
            if i == 5u {
                phase = PHASE_SAMPLE;
                finished = true;
                let light = shade(src_gradient(forward, backward), d);
                if mode == MODE_ISO {
                    m.acc = vec4<f32>(lut_rgb(transfer_index(level)) * light, 1.0);
                } else {
                    m.acc += (1.0 - m.acc.a) * pending.a * vec4<f32>(pending.rgb * light, 1.0);
                    if m.acc.a >= termination {
                        m.flags |= FLAG_DONE;
                        m.t_term = t;
                    }
                }
            }
        }

        if finished {
            if has_overlay && !has(m, FLAG_OVERLAY) && t <= m.t_term + depth {
                let ov = src_overlay(p);
                if ov.w > 0.0 {
                    m.flags |= FLAG_OVERLAY;
                    m.overlay_rgb = ov.rgb;
                }
            }
            m.k += 1;
            if has(m, FLAG_DONE) && (!has_overlay || has(m, FLAG_OVERLAY)) {
                m.flags |= FLAG_COMPLETE;
                break;
            }
        }
    }
    return m;
}

// Whether a MIP pixel shows its largest sample (one exists, within the range).
fn mip_drawn(m: March) -> bool {
    return has(m, FLAG_MIP_HIT) && m.mip_max >= min(u.transfer.x, u.transfer.y);
}

// The pixel: the data over the background (the mesh where there is one), then the overlay
// blended on top by its opacity.
fn final_colour(m: March, px: vec2<f32>) -> vec4<f32> {
    var acc = m.acc;
    if u.mode.x == MODE_MIP {
        acc = vec4<f32>(0.0);
        if mip_drawn(m) {
            acc = vec4<f32>(lut_rgb(transfer_index(m.mip_max)), 1.0);
        }
    }
    var bg = u.background;
    if has_meshes() {
        let mesh = textureLoad(mesh_colour, vec2<i32>(px), 0);
        if mesh.a > 0.0 {
            bg = mesh;
        }
    }
    let alpha = acc.a + (1.0 - acc.a) * bg.a;
    var rgb = acc.rgb + (1.0 - acc.a) * bg.a * bg.rgb;
    if alpha > 0.0 {
        rgb = rgb / alpha;
    }
    var out = vec4<f32>(rgb, alpha);
    if has(m, FLAG_OVERLAY) {
        let opacity = u.ov_style.params.w;
        out = vec4<f32>(mix(out.rgb, m.overlay_rgb, opacity), out.a * (1.0 - opacity) + opacity);
    }
    return clamp(out, vec4<f32>(0.0), vec4<f32>(1.0));
}

// An intermediate pass: march within the budget and store the state.
@fragment
fn fs_state(@builtin(position) position: vec4<f32>) -> StateOut {
    // position.xy is the pixel centre (x + 0.5, y + 0.5), y down, as OrbitCamera::ray takes it.
    let m = march(position.xy);
    let bits = (pack4x8unorm(vec4<f32>(0.0, m.overlay_rgb)) & 0xffffff00u) | m.flags;
    return StateOut(m.acc, vec4<u32>(u32(m.k), bitcast<u32>(m.mip_max), bitcast<u32>(m.t_term), bits));
}

// What the last pass writes: the colour, and the view-space depth at which the ray stopped.
struct FinalOut {
    @location(0) colour: vec4<f32>,
    @location(1) depth: f32,
}

// Mirrors FAR_DEPTH in `src/raymarch/target.rs`: the depth where the ray did not stop.
const FAR_DEPTH: f32 = 3.0e38;

// The last pass: march what is left and write the straight RGBA colour and the depth (mm along
// the camera's forward axis) where the data stopped the ray: the isosurface, where opacity
// reached the termination threshold, or (MIP) the largest sample shown; else the mesh's depth
// (FAR_DEPTH where there is none: translucent rays, the background).
@fragment
fn fs_final(@builtin(position) position: vec4<f32>) -> FinalOut {
    let m = march(position.xy);
    let along = dot(pixel_direction(position.xy), normalize(u.forward.xyz));
    var depth = FAR_DEPTH;
    if has(m, FLAG_DONE) {
        depth = m.t_term * along;
    } else if u.mode.x == MODE_MIP && mip_drawn(m) {
        depth = m.acc.x * along;
    } else if has_meshes() {
        depth = textureLoad(mesh_depth, vec2<i32>(position.xy), 0).r;
    }
    return FinalOut(final_colour(m, position.xy), depth);
}
