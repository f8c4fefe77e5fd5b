// Slice reslicer: one full-screen triangle per layer. Each fragment maps its pixel centre
// through the layer's pixel→voxel transform, samples the volume (nearest or trilinear, done
// by hand with textureLoad so R32Float needs no filtering support), applies the layer's
// threshold / signed / range mapping and looks the colour up in the layer's 256-entry LUTs.
// The CPU twin is `cpu_reference.rs`; `LayerStyle::lut_entry` in the data crate is the
// definition of the value→colour steps.

struct Layer {
    // (pixel x, pixel y, 0, 1) → continuous voxel coordinate, voxel centres at integers.
    // Composed on the CPU in f64 from the slice geometry and the inverse of the affine.
    pixel_to_voxel: mat4x4<f32>,
    // xyz: grid size; w: interpolation (0 nearest, 1 trilinear).
    dims: vec4<i32>,
    // x: range low, y: range high, z: threshold, w: opacity (already clamped to 0..1).
    params: vec4<f32>,
    // x: 1 when a threshold applies, y: 1 when the map is signed (negative LUT used below 0).
    flags: vec4<u32>,
    // Entries 0..255: the colormap, 256..511: the negative colormap; RGBA8 packed, 4 per vec4.
    lut: array<vec4<u32>, 128>,
}

@group(0) @binding(0) var volume: texture_3d<f32>;
@group(0) @binding(1) var<uniform> layer: Layer;

@vertex
fn vs_main(@builtin(vertex_index) index: u32) -> @builtin(position) vec4<f32> {
    // (-1,-1), (3,-1), (-1,3): one triangle covering the whole target.
    let x = f32(i32(index & 1u) * 4 - 1);
    let y = f32(i32(index >> 1u) * 4 - 1);
    return vec4<f32>(x, y, 0.0, 1.0);
}

// NaN and ±inf by their bits: WGSL lets implementations assume floats are finite.
fn is_finite(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

fn fetch(i: vec3<i32>) -> f32 {
    return textureLoad(volume, i, 0).x;
}

// x: the value, y: 1 when drawn (inside the grid and finite), 0 otherwise.
fn sample_nearest(p: vec3<f32>) -> vec2<f32> {
    let n = vec3<f32>(layer.dims.xyz);
    let i = floor(p + vec3<f32>(0.5));
    if !(all(i >= vec3<f32>(0.0)) && all(i < n)) {
        return vec2<f32>(0.0, 0.0);
    }
    let v = fetch(vec3<i32>(i));
    if !is_finite(v) {
        return vec2<f32>(0.0, 0.0);
    }
    return vec2<f32>(v, 1.0);
}

fn sample_linear(p: vec3<f32>) -> vec2<f32> {
    let n = vec3<f32>(layer.dims.xyz);
    if !(all(p >= vec3<f32>(-0.5)) && all(p <= n - vec3<f32>(0.5))) {
        return vec2<f32>(0.0, 0.0);
    }
    let f0 = floor(p);
    let w = p - f0;
    let last = layer.dims.xyz - vec3<i32>(1);
    let i0 = clamp(vec3<i32>(f0), vec3<i32>(0), last);
    let i1 = clamp(vec3<i32>(f0) + vec3<i32>(1), vec3<i32>(0), last);
    let v000 = fetch(vec3<i32>(i0.x, i0.y, i0.z));
    let v100 = fetch(vec3<i32>(i1.x, i0.y, i0.z));
    let v010 = fetch(vec3<i32>(i0.x, i1.y, i0.z));
    let v110 = fetch(vec3<i32>(i1.x, i1.y, i0.z));
    let v001 = fetch(vec3<i32>(i0.x, i0.y, i1.z));
    let v101 = fetch(vec3<i32>(i1.x, i0.y, i1.z));
    let v011 = fetch(vec3<i32>(i0.x, i1.y, i1.z));
    let v111 = fetch(vec3<i32>(i1.x, i1.y, i1.z));
    // Any non-finite neighbour (even at weight 0) hides the pixel, as IEEE arithmetic would.
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

// The LUT entry of a value as `LayerStyle::lut_entry` defines it, or -1 when not drawn.
fn lut_index(value: f32) -> i32 {
    var magnitude = value;
    var base = 0;
    if layer.flags.y == 1u && value < 0.0 {
        magnitude = -value;
        base = 256;
    }
    if layer.flags.x == 1u && magnitude < layer.params.z {
        return -1;
    }
    let lo = layer.params.x;
    let hi = layer.params.y;
    let span = hi - lo;
    var t = 0.0;
    if span != 0.0 {
        t = (magnitude - lo) / span;
    } else if magnitude >= hi {
        t = 1.0;
    }
    let index = min(i32(floor(clamp(t, 0.0, 1.0) * 255.0 + 0.5)), 255);
    return base + index;
}

@fragment
fn fs_main(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
    // position.xy is the pixel centre (x + 0.5, y + 0.5), y down: SliceGeometry's pixel space.
    let p = (layer.pixel_to_voxel * vec4<f32>(position.xy, 0.0, 1.0)).xyz;
    var s: vec2<f32>;
    if layer.dims.w == 0 {
        s = sample_nearest(p);
    } else {
        s = sample_linear(p);
    }
    if s.y == 0.0 {
        discard;
    }
    let entry = lut_index(s.x);
    if entry < 0 {
        discard;
    }
    let word = layer.lut[entry / 4][entry % 4];
    let rgb = unpack4x8unorm(word).rgb;
    return vec4<f32>(rgb, layer.params.w);
}
