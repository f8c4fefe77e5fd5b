// Slice reslicer, after voxel_sampling.wgsl and lut.wgsl: one full-screen triangle per layer. Each fragment
// maps its pixel centre through the layer's pixel→voxel transform, samples the volume (nearest
// or trilinear), applies the layer's threshold / signed / range mapping and looks the colour up
// in the layer's 256-entry LUTs. The CPU twin is `cpu_reference.rs`; `LayerStyle::lut_entry` in
// the data crate is the definition of the value→colour steps.

// Mirrors `LayerUniform` in `src/slice.rs`.
struct Layer {
    // (pixel x, pixel y, 0, 1) → continuous voxel coordinate, voxel centres at integers.
    // Composed on the CPU in f64 from the slice geometry and the inverse of the affine.
    pixel_to_voxel: mat4x4<f32>,
    // xyz: grid size.
    dims: vec4<i32>,
    style: Style,
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

@fragment
fn fs_main(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
    // position.xy is the pixel centre (x + 0.5, y + 0.5), y down: SliceGeometry's pixel space.
    let p = (layer.pixel_to_voxel * vec4<f32>(position.xy, 0.0, 1.0)).xyz;
    let s = sample_layer(volume, layer.dims.xyz, i32(layer.style.flags.w), p);
    if s.y == 0.0 {
        discard;
    }
    let entry = lut_entry(s.x, layer.style.params, layer.style.flags);
    if entry < 0 {
        discard;
    }
    let word = layer.style.lut[entry / 4][entry % 4];
    let rgb = unpack4x8unorm(word).rgb;
    return vec4<f32>(rgb, layer.style.params.w);
}
