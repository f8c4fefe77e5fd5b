// Ray marcher, part 2 of 3 for volumes (after voxel_sampling.wgsl): the anatomy and overlay
// textures, their occupancy grids (value range per cell), and the `src_*` functions that
// raymarch.wgsl calls. Samples are trilinear for the anatomy, as the slice shader's Linear mode.

@group(0) @binding(1) var anatomy: texture_3d<f32>;
@group(0) @binding(2) var overlay: texture_3d<f32>;
// Per occupancy cell (x fastest): (min, max) of the finite voxels it can interpolate from;
// min > max when there are none. See `occupancy.wgsl`.
@group(0) @binding(3) var<storage, read> anatomy_cells: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read> overlay_cells: array<vec2<f32>>;

// The anatomy at world point p (tap < 0), or gradient tap `tap` around it: one voxel along
// voxel axis tap / 2, forwards for even taps and backwards for odd ones, the position clamped
// into the grid. An invalid tap is replaced by the centre value by the caller.
fn src_eval(p: vec3<f32>, tap: i32) -> Sample {
    var q = (u.world_to_voxel * vec4<f32>(p, 1.0)).xyz;
    if tap >= 0 {
        let n = vec3<f32>(u.dims.xyz);
        q = clamp(q + axis_step(tap / 2, select(-1.0, 1.0, tap % 2 == 0)), vec3<f32>(-0.5), n - vec3<f32>(0.5));
    }
    let s = sample_linear(anatomy, u.dims.xyz, q);
    return Sample(s.x, s.y > 0.0, vec3<f32>(0.0));
}

// World-space gradient from the forward and backward taps per voxel axis: central differences
// in voxel space, times the transpose of the world→voxel matrix.
fn src_gradient(forward: vec3<f32>, backward: vec3<f32>) -> vec3<f32> {
    let g = 0.5 * (forward - backward);
    let m = u.world_to_voxel;
    return vec3<f32>(dot(m[0].xyz, g), dot(m[1].xyz, g), dot(m[2].xyz, g));
}

// The overlay's colour at world point p: (rgb, 1) where it is drawn, zero elsewhere.
fn src_overlay(p: vec3<f32>) -> vec4<f32> {
    let q = (u.ov_world_to_voxel * vec4<f32>(p, 1.0)).xyz;
    let s = sample_layer(overlay, u.ov_dims.xyz, i32(u.ov_style.flags.w), q);
    if s.y == 0.0 {
        return vec4<f32>(0.0);
    }
    let entry = lut_entry(s.x, u.ov_style.params, u.ov_style.flags);
    if entry < 0 {
        return vec4<f32>(0.0);
    }
    return vec4<f32>(unpack4x8unorm(u.ov_style.lut[entry / 4][entry % 4]).rgb, 1.0);
}

fn cell_index(c: vec3<f32>, cells: vec3<i32>) -> u32 {
    let i = vec3<u32>(c);
    let n = vec3<u32>(cells);
    return i.x + n.x * (i.y + n.y * i.z);
}

// Whether no anatomy sample in a cell of value range r can change the picture in this mode;
// `mip_floor` is the largest MIP sample so far (−FAR before the first).
fn anatomy_cell_empty(r: vec2<f32>, mip_floor: f32) -> bool {
    if r.x > r.y {
        return true;
    }
    let m = range_margin(r);
    let lo = r.x - m;
    let hi = r.y + m;
    switch u.mode.x {
        case MODE_MIP: {
            // Below the range, or below the maximum already found: the maximum cannot change.
            return hi < max(min(u.transfer.x, u.transfer.y), mip_floor);
        }
        case MODE_ISO: {
            return hi < u.params.z;
        }
        default: {
            return !any_alpha_between(lo, hi);
        }
    }
}

// Whether no overlay sample in a cell of value range r is drawn.
fn overlay_cell_empty(r: vec2<f32>) -> bool {
    if r.x > r.y {
        return true;
    }
    if u.ov_style.flags.x == 0u {
        return false;
    }
    let m = range_margin(r);
    let threshold = u.ov_style.params.z;
    // Signed maps and labels are drawn by |value| against the threshold.
    if u.ov_style.flags.y == 1u || u.ov_style.flags.z == 1u {
        return r.y + m < threshold && -(r.x - m) < threshold;
    }
    return r.y + m < threshold;
}

// Where the empty space around the sample at p (distance t along the ray) ends: the t at which
// the ray leaves the anatomy cell (unless `anatomy_done`) and the overlay cell, both empty; -1
// when p must be sampled. `mip_floor`: see anatomy_cell_empty.
fn src_skip(p: vec3<f32>, d: vec3<f32>, t: f32, anatomy_done: bool, mip_floor: f32) -> f32 {
    var exit = FAR;
    if !anatomy_done {
        let q = (u.world_to_cell * vec4<f32>(p, 1.0)).xyz;
        let c = floor(q);
        if any(c < vec3<f32>(0.0)) || any(c >= vec3<f32>(u.cells.xyz)) {
            return -1.0;
        }
        if !anatomy_cell_empty(anatomy_cells[cell_index(c, u.cells.xyz)], mip_floor) {
            return -1.0;
        }
        exit = cell_exit(q, (u.world_to_cell * vec4<f32>(d, 0.0)).xyz, c);
    }
    if u.ov_cells.w == 1 {
        let q = (u.ov_world_to_cell * vec4<f32>(p, 1.0)).xyz;
        let dq = (u.ov_world_to_cell * vec4<f32>(d, 0.0)).xyz;
        let size = vec3<f32>(u.ov_cells.xyz);
        let c = floor(q);
        if any(q < vec3<f32>(0.0)) || any(q > size) {
            // Outside the overlay's grid nothing is drawn until the ray enters it.
            exit = min(exit, box_entry(q, dq, size));
        } else {
            let cc = min(c, size - vec3<f32>(1.0));
            if !overlay_cell_empty(overlay_cells[cell_index(cc, u.ov_cells.xyz)]) {
                return -1.0;
            }
            exit = min(exit, cell_exit(q, dq, cc));
        }
    }
    return t + exit;
}
