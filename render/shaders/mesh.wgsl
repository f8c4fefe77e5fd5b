// Surface meshes: per-vertex positions, normals and colours, one instance offset per draw,
// lit by `Lighting::shade` (render/src/lighting.rs is the definition; the CPU twin is
// mesh_cpu_reference.rs). No derivatives, no MSAA: the picture is deterministic.
// `fs_main` draws the surface view; `fs_3d` the 3D view's meshes: cut by the clip planes, with
// the view depth beside the colour (for the ray marcher and the splats).

struct Frame {
    // World → clip (depth 0..1).
    view_projection: mat4x4<f32>,
    // xyz: eye position (world mm).
    eye: vec4<f32>,
    // xyz: unit direction towards the light (world).
    light: vec4<f32>,
    // x: ambient, y: diffuse, z: specular, w: shininess.
    params: vec4<f32>,
    // xyz: the camera's unit forward axis (world).
    forward: vec4<f32>,
    // Clip planes (fs_3d): xyz normal, w offset; points with dot(n, p) > offset are removed.
    clip: array<vec4<f32>, 3>,
    // x: clip planes in use.
    clip_count: vec4<u32>,
}

@group(0) @binding(0) var<uniform> frame: Frame;

struct VertexIn {
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
    // RGBA8 unorm; alpha unused.
    @location(2) color: vec4<f32>,
    // Per instance: added to every position.
    @location(3) offset: vec3<f32>,
}

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) world: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) color: vec3<f32>,
}

@vertex
fn vs_main(in: VertexIn) -> VertexOut {
    let world = in.position + in.offset;
    var out: VertexOut;
    out.clip = frame.view_projection * vec4<f32>(world, 1.0);
    out.world = world;
    out.normal = in.normal;
    out.color = in.color.rgb;
    return out;
}

fn normalize_or_zero(x: vec3<f32>) -> vec3<f32> {
    let len2 = dot(x, x);
    if len2 > 0.0 {
        return x * inverseSqrt(len2);
    }
    return vec3<f32>(0.0);
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    return shade(in);
}

struct Out3d {
    @location(0) colour: vec4<f32>,
    // mm along the camera's forward axis.
    @location(1) depth: f32,
}

@fragment
fn fs_3d(in: VertexOut) -> Out3d {
    for (var c = 0u; c < frame.clip_count.x; c++) {
        if dot(frame.clip[c].xyz, in.world) > frame.clip[c].w {
            discard;
        }
    }
    return Out3d(shade(in), dot(in.world - frame.eye.xyz, frame.forward.xyz));
}

// The lit, opaque colour of a fragment.
fn shade(in: VertexOut) -> vec4<f32> {
    let v = normalize_or_zero(frame.eye.xyz - in.world);
    let len2 = dot(in.normal, in.normal);
    var n = v;
    if len2 > 1e-20 {
        n = in.normal * inverseSqrt(len2);
    }
    // Two-sided: a normal facing away from the eye is flipped.
    if dot(n, v) < 0.0 {
        n = -n;
    }
    let l = frame.light.xyz;
    let lambert = max(dot(n, l), 0.0);
    var highlight = 0.0;
    if frame.params.z > 0.0 {
        let n_dot_h = dot(n, normalize_or_zero(l + v));
        if n_dot_h > 0.0 {
            highlight = frame.params.z * pow(n_dot_h, frame.params.w);
        }
    }
    let lit = in.color * (frame.params.x + frame.params.y * lambert) + vec3<f32>(highlight);
    return vec4<f32>(clamp(lit, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0);
}
