// Ray marcher, part 1 of 3: the per-draw uniform and the maths shared by every data source.
// Composed as raymarch_common.wgsl + lut.wgsl + (voxel_sampling.wgsl + volume_sampler.wgsl |
// field.wgsl + field_sampler.wgsl) + raymarch.wgsl; see `src/shaders.rs`. The definitions are in `src/raymarch/mod.rs`, the CPU
// twin in `src/raymarch_cpu_reference/`.

const MODE_MIP: u32 = 0u;
const MODE_DVR: u32 = 1u;
const MODE_ISO: u32 = 2u;
// Density + colour fields, composited NeRF-style.
const MODE_DENSITY: u32 = 3u;

// Larger than any distance along a ray.
const FAR: f32 = 3.0e38;

// One evaluation of the data source (see `src_eval`).
struct Sample {
    // The value (intensity fields and volumes) or the density σ ≥ 0 (density–colour fields).
    value: f32,
    // Whether there is a sample at all.
    valid: bool,
    // Density–colour fields: the colour in 0..1.
    rgb: vec3<f32>,
}

// The unit vector along `axis` (0, 1, 2) times `length`, without dynamic indexing.
fn axis_step(axis: i32, length: f32) -> vec3<f32> {
    return vec3<f32>(vec3<i32>(axis) == vec3<i32>(0, 1, 2)) * length;
}

// Mirrors `RayUniform` in `src/raymarch/uniform.rs`.
struct Ray {
    // xyz: the eye (world mm).
    eye: vec4<f32>,
    // xyz: unit viewing direction (−backward).
    forward: vec4<f32>,
    // xyz: right · tan(fov/2) · aspect.
    right: vec4<f32>,
    // xyz: up · tan(fov/2).
    up: vec4<f32>,
    // xy: target size in pixels.
    viewport: vec4<f32>,
    // World → the unit cube [0,1]³ of the data's box (composed in f64 on the CPU).
    world_to_unit: mat4x4<f32>,
    // World → continuous voxel coordinate of the anatomy (voxel centres at integers).
    world_to_voxel: mat4x4<f32>,
    // World → occupancy cell coordinate of the anatomy (cells are unit cubes).
    world_to_cell: mat4x4<f32>,
    // The same two for the overlay.
    ov_world_to_voxel: mat4x4<f32>,
    ov_world_to_cell: mat4x4<f32>,
    // xyz: anatomy grid size.
    dims: vec4<i32>,
    // xyz: anatomy occupancy cells; w: 1 when empty space is skipped.
    cells: vec4<i32>,
    // xyz: overlay grid size.
    ov_dims: vec4<i32>,
    // xyz: overlay occupancy cells; w: 1 when an overlay is drawn.
    ov_cells: vec4<i32>,
    // x: mode, y: 1 when DVR is lit, z: clip planes in use, w: most samples per ray.
    mode: vec4<u32>,
    // x: step (mm), y: early termination, z: iso level, w: overlay depth (mm).
    params: vec4<f32>,
    // x, y: transfer range; z: ambient; w: diffuse.
    transfer: vec4<f32>,
    // Straight RGBA behind the data.
    background: vec4<f32>,
    // xyz: normal, w: offset; keeps dot(normal, p) <= offset.
    clip: array<vec4<f32>, 3>,
    // Transfer LUT, RGBA8 packed, 4 entries per vec4.
    lut: array<vec4<u32>, 64>,
    // Opacity of one sample per LUT entry (already corrected for the step).
    alpha: array<vec4<f32>, 64>,
    // alpha_count[i]: LUT entries 0..=i with a non-zero sample opacity.
    alpha_count: array<vec4<u32>, 64>,
    // The overlay's style.
    ov_style: Style,
}

@group(0) @binding(0) var<uniform> u: Ray;

// `TransferFunction::index` of a finite value.
fn transfer_index(value: f32) -> i32 {
    return range_index(value, u.transfer.x, u.transfer.y);
}

fn lut_rgb(index: i32) -> vec3<f32> {
    return unpack4x8unorm(u.lut[index / 4][index % 4]).rgb;
}

fn sample_alpha(index: i32) -> f32 {
    return u.alpha[index / 4][index % 4];
}

fn alpha_count(index: i32) -> u32 {
    return u.alpha_count[index / 4][index % 4];
}

// Whether some LUT entry between the entries of `lo` and `hi` has a non-zero sample opacity.
fn any_alpha_between(lo: f32, hi: f32) -> bool {
    let a = transfer_index(lo);
    let b = transfer_index(hi);
    let first = min(a, b);
    let last = max(a, b);
    var before = 0u;
    if first > 0 {
        before = alpha_count(first - 1);
    }
    return alpha_count(last) > before;
}

// The unit direction of the ray through the pixel centre `px` (OrbitCamera::ray).
fn pixel_direction(px: vec2<f32>) -> vec3<f32> {
    let ndc_x = 2.0 * px.x / u.viewport.x - 1.0;
    let ndc_y = 1.0 - 2.0 * px.y / u.viewport.y;
    return normalize(u.forward.xyz + u.right.xyz * ndc_x + u.up.xyz * ndc_y);
}

// Entry and exit distances (t0, t1) of the ray q + t·dq through the box lo..hi, per axis
// without loops (lavapipe counts loop iterations); t0 > t1 when it misses. Axes along which the
// ray does not move constrain nothing, unless the ray lies outside the box along them.
fn slab(q: vec3<f32>, dq: vec3<f32>, lo: vec3<f32>, hi: vec3<f32>) -> vec2<f32> {
    let still = dq == vec3<f32>(0.0);
    if any(still & ((q < lo) | (q > hi))) {
        return vec2<f32>(1.0, 0.0);
    }
    let safe = select(dq, vec3<f32>(1.0), still);
    let ta = (lo - q) / safe;
    let tb = (hi - q) / safe;
    let near = select(min(ta, tb), vec3<f32>(-FAR), still);
    let far = select(max(ta, tb), vec3<f32>(FAR), still);
    return vec2<f32>(max(max(near.x, near.y), near.z), min(min(far.x, far.y), far.z));
}

// (t0, t1) of the ray o + t·d inside the data's box, in front of the eye and on the kept side of
// every clip plane; t0 >= t1 when there is nothing to sample.
fn ray_segment(o: vec3<f32>, d: vec3<f32>) -> vec2<f32> {
    let q = (u.world_to_unit * vec4<f32>(o, 1.0)).xyz;
    let dq = (u.world_to_unit * vec4<f32>(d, 0.0)).xyz;
    let inside = slab(q, dq, vec3<f32>(0.0), vec3<f32>(1.0));
    var t0 = max(inside.x, 0.0);
    var t1 = inside.y;
    for (var c = 0u; c < u.mode.z; c++) {
        let plane = u.clip[c];
        let nd = dot(plane.xyz, d);
        let no = dot(plane.xyz, o);
        if nd == 0.0 {
            if no > plane.w {
                return vec2<f32>(1.0, 0.0);
            }
        } else {
            let t = (plane.w - no) / nd;
            if nd > 0.0 {
                t1 = min(t1, t);
            } else {
                t0 = max(t0, t);
            }
        }
    }
    return vec2<f32>(t0, t1);
}

// Samples k = 0, 1, … at t0 + (k + 0.5)·step while that is below t1.
fn sample_count(segment: vec2<f32>, step: f32) -> i32 {
    if !(segment.x < segment.y) {
        return 0;
    }
    let n = ceil((segment.y - segment.x) / step - 0.5);
    return i32(clamp(n, 0.0, f32(u.mode.w)));
}

// The index of the first sample at or after `t`, less one (so that a sample just before `t`,
// misplaced by rounding, is looked at again).
fn resume_index(t0: f32, t: f32, step: f32) -> i32 {
    let k = ceil((t - t0) / step - 0.5) - 1.0;
    return i32(clamp(k, -1.0, f32(u.mode.w)));
}

// Headlight shading of a world-space gradient `g` seen along `d`: ambient + diffuse·|n·d|, or
// ambient + diffuse where the gradient vanishes.
fn shade(g: vec3<f32>, d: vec3<f32>) -> f32 {
    let len2 = dot(g, g);
    if !(len2 > 1e-20) {
        return u.transfer.z + u.transfer.w;
    }
    return u.transfer.z + u.transfer.w * abs(dot(g, d)) * inverseSqrt(len2);
}

// Distance along `dq` from `q` to where it leaves the unit cell `cell` (q inside the cell).
fn cell_exit(q: vec3<f32>, dq: vec3<f32>, cell: vec3<f32>) -> f32 {
    let still = dq == vec3<f32>(0.0);
    let bound = select(cell, cell + vec3<f32>(1.0), dq > vec3<f32>(0.0));
    let t = select((bound - q) / select(dq, vec3<f32>(1.0), still), vec3<f32>(FAR), still);
    return max(min(min(t.x, t.y), t.z), 0.0);
}

// Distance along `dq` from `q` (outside the box [0, size]) to where it enters the box; FAR when
// it never does.
fn box_entry(q: vec3<f32>, dq: vec3<f32>, size: vec3<f32>) -> f32 {
    let span = slab(q, dq, vec3<f32>(0.0), size);
    if span.x > span.y || span.y < 0.0 {
        return FAR;
    }
    return max(span.x, 0.0);
}

// Slack added to a cell's value range before classifying it, so that f32 rounding of the
// trilinear interpolation can never make an "empty" cell produce a visible sample.
fn range_margin(r: vec2<f32>) -> f32 {
    return max(abs(r.x), abs(r.y)) * 1e-5 + 1e-30;
}
