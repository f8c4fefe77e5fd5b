// Reading 3D f32 textures by hand, shared by the slice shader, the volume ray marcher and the
// occupancy builder: textureLoad only, so R32Float needs no filtering support. A continuous voxel
// coordinate p has voxel centres at integers; a sample is vec2(value, 1) when drawn, vec2(0, 0)
// when outside the grid or not finite. The CPU twin is `cpu_reference.rs`.

// NaN and ±inf by their bits: WGSL lets implementations assume floats are finite.
fn is_finite(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

// The voxel nearest to p.
fn sample_nearest(volume: texture_3d<f32>, dims: vec3<i32>, p: vec3<f32>) -> vec2<f32> {
    let i = floor(p + vec3<f32>(0.5));
    if !(all(i >= vec3<f32>(0.0)) && all(i < vec3<f32>(dims))) {
        return vec2<f32>(0.0, 0.0);
    }
    let v = textureLoad(volume, vec3<i32>(i), 0).x;
    if !is_finite(v) {
        return vec2<f32>(0.0, 0.0);
    }
    return vec2<f32>(v, 1.0);
}

// Trilinear interpolation inside −0.5..n−0.5 (corners clamped into the grid). Any non-finite
// corner, even at weight 0, means no sample, as IEEE arithmetic would. The eight corners are
// written out (no loop: lavapipe counts loop iterations).
fn sample_linear(volume: texture_3d<f32>, dims: vec3<i32>, p: vec3<f32>) -> vec2<f32> {
    if !(all(p >= vec3<f32>(-0.5)) && all(p <= vec3<f32>(dims) - vec3<f32>(0.5))) {
        return vec2<f32>(0.0, 0.0);
    }
    let f0 = floor(p);
    let w = p - f0;
    let last = dims - vec3<i32>(1);
    let i0 = clamp(vec3<i32>(f0), vec3<i32>(0), last);
    let i1 = clamp(vec3<i32>(f0) + vec3<i32>(1), vec3<i32>(0), last);
    let v000 = textureLoad(volume, vec3<i32>(i0.x, i0.y, i0.z), 0).x;
    let v100 = textureLoad(volume, vec3<i32>(i1.x, i0.y, i0.z), 0).x;
    let v010 = textureLoad(volume, vec3<i32>(i0.x, i1.y, i0.z), 0).x;
    let v110 = textureLoad(volume, vec3<i32>(i1.x, i1.y, i0.z), 0).x;
    let v001 = textureLoad(volume, vec3<i32>(i0.x, i0.y, i1.z), 0).x;
    let v101 = textureLoad(volume, vec3<i32>(i1.x, i0.y, i1.z), 0).x;
    let v011 = textureLoad(volume, vec3<i32>(i0.x, i1.y, i1.z), 0).x;
    let v111 = textureLoad(volume, vec3<i32>(i1.x, i1.y, i1.z), 0).x;
    let finite = is_finite(v000) && is_finite(v100) && is_finite(v010) && is_finite(v110)
        && is_finite(v001) && is_finite(v101) && is_finite(v011) && is_finite(v111);
    if !finite {
        return vec2<f32>(0.0, 0.0);
    }
    let c00 = v000 * (1.0 - w.x) + v100 * w.x;
    let c10 = v010 * (1.0 - w.x) + v110 * w.x;
    let c01 = v001 * (1.0 - w.x) + v101 * w.x;
    let c11 = v011 * (1.0 - w.x) + v111 * w.x;
    let c0 = c00 * (1.0 - w.y) + c10 * w.y;
    let c1 = c01 * (1.0 - w.y) + c11 * w.y;
    return vec2<f32>(c0 * (1.0 - w.z) + c1 * w.z, 1.0);
}

// A layer's sample: nearest when `interpolation` is 0, trilinear otherwise.
fn sample_layer(volume: texture_3d<f32>, dims: vec3<i32>, interpolation: i32, p: vec3<f32>) -> vec2<f32> {
    if interpolation == 0 {
        return sample_nearest(volume, dims, p);
    }
    return sample_linear(volume, dims, p);
}
