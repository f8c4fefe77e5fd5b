// Gaussian splats: the layer of blended splats (premultiplied colour) laid over the target, with
// blending (One, OneMinusSrcAlpha): target = layer + (1 − layer alpha) · target.

@group(0) @binding(0) var layer: texture_2d<f32>;

@vertex
fn vs_fullscreen(@builtin(vertex_index) vertex: u32) -> @builtin(position) vec4<f32> {
    let uv = vec2<f32>(f32((vertex << 1u) & 2u), f32(vertex & 2u));
    return vec4<f32>(uv * 2.0 - 1.0, 0.0, 1.0);
}

// The layer's premultiplied colour over the target: blended with (One, OneMinusSrcAlpha).
@fragment
fn composite(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
    return textureLoad(layer, vec2<i32>(position.xy), 0);
}
