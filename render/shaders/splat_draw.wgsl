// Gaussian splats, step 3 of 3: one quad per splat in sorted order (farthest first), blended
// back to front as premultiplied colour into a transparent layer (`splat_composite.wgsl` then
// lays it over what the view drew before). With a depth test, a splat whose centre lies behind
// the depth at which the view's ray-marched data stopped the pixel's ray is hidden there.

struct Draw {
    size: vec2<f32>,
    count: u32,
    // 1: hide splats behind `scene_depth`.
    depth_test: u32,
}

@group(0) @binding(0) var<uniform> draw: Draw;
@group(0) @binding(1) var<storage, read> proj_a: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> proj_b: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> order: array<u32>;
// The sort keys, in the same (sorted) order: `~bits(view depth)` of each splat's centre.
@group(0) @binding(4) var<storage, read> keys: array<u32>;
// View-space depth per pixel of what was drawn before (`RayTarget::depth_view`).
@group(0) @binding(5) var scene_depth: texture_2d<f32>;

struct Splat {
    @builtin(position) position: vec4<f32>,
    @location(0) @interpolate(flat) center: vec2<f32>,
    @location(1) @interpolate(flat) conic: vec3<f32>,
    @location(2) @interpolate(flat) colour: vec4<f32>,
    @location(3) @interpolate(flat) depth: f32,
}

@vertex
fn vs_main(@builtin(vertex_index) vertex: u32, @builtin(instance_index) instance: u32) -> Splat {
    var out: Splat;
    // Outside the clip volume: nothing is drawn.
    out.position = vec4<f32>(0.0, 0.0, 2.0, 1.0);
    let index = order[instance];
    if index >= draw.count {
        return out;
    }
    let a = proj_a[index];
    let b = proj_b[index];
    let radius = bitcast<f32>(b.y);
    if radius <= 0.0 {
        return out;
    }
    let corner = vec2<f32>(f32(vertex & 1u), f32(vertex >> 1u)) * 2.0 - 1.0;
    let center = vec2<f32>(bitcast<f32>(a.x), bitcast<f32>(a.y));
    let p = center + corner * radius;
    out.position = vec4<f32>(p.x / draw.size.x * 2.0 - 1.0, 1.0 - p.y / draw.size.y * 2.0, 0.0, 1.0);
    out.center = center;
    out.conic = vec3<f32>(bitcast<f32>(a.z), bitcast<f32>(a.w), bitcast<f32>(b.x));
    out.colour = vec4<f32>(unpack4x8unorm(b.z).rgb, bitcast<f32>(b.w));
    out.depth = bitcast<f32>(~keys[instance]);
    return out;
}

@fragment
fn fs_main(splat: Splat) -> @location(0) vec4<f32> {
    if draw.depth_test == 1u {
        let last = vec2<u32>(textureDimensions(scene_depth)) - 1u;
        let behind = textureLoad(scene_depth, min(vec2<u32>(splat.position.xy), last), 0).r;
        if splat.depth > behind {
            discard;
        }
    }
    let d = splat.position.xy - splat.center;
    let c = splat.conic;
    let power = -0.5 * (c.x * d.x * d.x + c.z * d.y * d.y) - c.y * d.x * d.y;
    if power > 0.0 {
        discard;
    }
    let alpha = min(0.99, splat.colour.a * exp(power));
    if alpha < 1.0 / 255.0 {
        discard;
    }
    return vec4<f32>(splat.colour.rgb * alpha, alpha);
}
