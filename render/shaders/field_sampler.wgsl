// Ray marcher, part 2 of 3 for neural fields (after field.wgsl): the `src_*` functions that
// raymarch.wgsl calls. Samples in cells that the field's occupancy grid marks empty are no
// samples at all (as in the CPU reference); the step `u.params.x` is also the distance of the
// gradient's central differences.

// The field at world point p (tap < 0): intensity, or σ and colour; no sample in an empty
// occupancy cell. Gradient tap `tap`: the field `step` mm from p along world axis tap / 2,
// forwards for even taps and backwards for odd ones. The only call of field_eval in the
// marcher, so that it is compiled once.
fn src_eval(p: vec3<f32>, tap: i32) -> Sample {
    var q = p;
    if tap >= 0 {
        q = p + axis_step(tap / 2, select(-u.params.x, u.params.x, tap % 2 == 0));
    } else if !field_occupied(p) {
        return Sample(0.0, false, vec3<f32>(0.0));
    }
    let e = field_eval(q);
    if fh.network.y == 1u {
        return Sample(max(e.x, 0.0), true, clamp(e.yzw, vec3<f32>(0.0), vec3<f32>(1.0)));
    }
    return Sample(e.x, true, vec3<f32>(0.0));
}

// World-space gradient from the forward and backward taps per world axis.
fn src_gradient(forward: vec3<f32>, backward: vec3<f32>) -> vec3<f32> {
    return (forward - backward) / (2.0 * u.params.x);
}

// Fields have no overlay.
fn src_overlay(p: vec3<f32>) -> vec4<f32> {
    return vec4<f32>(0.0);
}

// Where the empty occupancy cell around p (distance t along the ray) ends; -1 when p must be
// sampled.
fn src_skip(p: vec3<f32>, d: vec3<f32>, t: f32, anatomy_done: bool, mip_floor: f32) -> f32 {
    if field_occupied(p) {
        return -1.0;
    }
    // The cell exactly as field_occupied finds it, so that the cell left is the empty one.
    let r = vec3<f32>(fh.occupancy.xyz);
    let q = field_x(p) * r;
    let c = min(floor(q), r - vec3<f32>(1.0));
    return t + cell_exit(q, d * r / (fh.bounds_max.xyz - fh.bounds_min.xyz), c);
}
