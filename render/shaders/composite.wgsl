// Compositor: draws a slice target as a textured quad covering the render pass's current
// viewport (egui sets it to the paint callback's rectangle). Nearest sampling, so a target
// of the viewport's pixel size is copied exactly.

struct VertexOut {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
}

@group(0) @binding(0) var picture: texture_2d<f32>;
@group(0) @binding(1) var picture_sampler: sampler;

@vertex
fn vs_main(@builtin(vertex_index) index: u32) -> VertexOut {
    // Two triangles: (0,1,2) and (2,1,3) over the corners 0=(0,0) 1=(1,0) 2=(0,1) 3=(1,1) in uv.
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(0.0, 1.0),
        vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0),
    );
    let uv = corners[index];
    var out: VertexOut;
    // uv (0,0) is the top-left texel; clip space has y up.
    out.position = vec4<f32>(uv.x * 2.0 - 1.0, 1.0 - uv.y * 2.0, 0.0, 1.0);
    out.uv = uv;
    return out;
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    return textureSample(picture, picture_sampler, in.uv);
}

// For sRGB render targets: decode, so that the hardware's encode stores the original bytes.
@fragment
fn fs_main_srgb(in: VertexOut) -> @location(0) vec4<f32> {
    let c = textureSample(picture, picture_sampler, in.uv);
    let low = c.rgb / 12.92;
    let high = pow((c.rgb + vec3<f32>(0.055)) / 1.055, vec3<f32>(2.4));
    return vec4<f32>(select(high, low, c.rgb <= vec3<f32>(0.04045)), c.a);
}
