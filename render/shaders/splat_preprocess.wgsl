// Gaussian splats, step 1 of 3: project every splat to a screen-space ellipse (EWA splatting as
// 3DGS's reference rasteriser does it; mirrored by `render/src/splats/project.rs`), evaluate its
// SH colour for the viewing direction, and write its sort key (the bitwise complement of its view
// depth, so that an ascending sort puts the farthest first) and index. Entries past the last
// splat, and culled splats, get the largest key and sort last.

struct Frame {
    view: mat4x4<f32>,
    world_to_scene: mat4x4<f32>,
    eye: vec4<f32>,
    size: vec2<f32>,
    focal: f32,
    near: f32,
    tan_half: vec2<f32>,
    count: u32,
    sh_degree: u32,
    sh_words: u32,
    opacity_scale: f32,
    size_scale: f32,
    clip_count: u32,
    // Clip planes (normal, offset): a splat whose centre has dot(normal, p) > offset is cut.
    clips: array<vec4<f32>, 3>,
}

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<storage, read> positions: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> covariances: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> sh: array<u32>;
@group(0) @binding(4) var<storage, read_write> proj_a: array<vec4<u32>>;
@group(0) @binding(5) var<storage, read_write> proj_b: array<vec4<u32>>;
@group(0) @binding(6) var<storage, read_write> keys: array<u32>;
@group(0) @binding(7) var<storage, read_write> values: array<u32>;

const SH_C0: f32 = 0.2820948;
const SH_C1: f32 = 0.4886025;
const LOW_PASS: f32 = 0.3;
const CULLED: u32 = 0xffffffffu;

// An IEEE half-precision value (the low 16 bits of `h`) as f32, exactly; by hand, since
// `unpack2x16float` needs a capability some backends lack.
fn half_to_f32(h: u32) -> f32 {
    let sign = (h >> 15u) & 1u;
    let exponent = (h >> 10u) & 0x1fu;
    let mantissa = h & 0x3ffu;
    if exponent == 0u {
        let v = f32(mantissa) * 5.9604645e-8;
        return select(v, -v, sign == 1u);
    }
    if exponent == 31u {
        return bitcast<f32>((sign << 31u) | 0x7f800000u | (mantissa << 13u));
    }
    return bitcast<f32>((sign << 31u) | ((exponent + 112u) << 23u) | (mantissa << 13u));
}

// The two halves of `word`, low first.
fn halves(word: u32) -> vec2<f32> {
    return vec2<f32>(half_to_f32(word & 0xffffu), half_to_f32(word >> 16u));
}

// Value `i` of the f16 SH coefficients of the splat whose words start at `base`.
fn sh_value(base: u32, i: u32) -> f32 {
    let pair = halves(sh[base + i / 2u]);
    return select(pair.x, pair.y, (i & 1u) == 1u);
}

fn coefficient(base: u32, k: u32) -> vec3<f32> {
    return vec3<f32>(sh_value(base, 3u * k), sh_value(base, 3u * k + 1u), sh_value(base, 3u * k + 2u));
}

// The SH colour seen along `dir` (unit, in the scene's frame), as `computeColorFromSH`.
fn sh_color(base: u32, dir: vec3<f32>) -> vec3<f32> {
    var c = SH_C0 * coefficient(base, 0u);
    let x = dir.x;
    let y = dir.y;
    let z = dir.z;
    if frame.sh_degree >= 1u {
        c += -SH_C1 * y * coefficient(base, 1u) + SH_C1 * z * coefficient(base, 2u) - SH_C1 * x * coefficient(base, 3u);
        if frame.sh_degree >= 2u {
            let xx = x * x;
            let yy = y * y;
            let zz = z * z;
            c += 1.0925484 * x * y * coefficient(base, 4u)
                - 1.0925484 * y * z * coefficient(base, 5u)
                + 0.31539157 * (2.0 * zz - xx - yy) * coefficient(base, 6u)
                - 1.0925484 * x * z * coefficient(base, 7u)
                + 0.5462742 * (xx - yy) * coefficient(base, 8u);
            if frame.sh_degree >= 3u {
                c += -0.5900436 * y * (3.0 * xx - yy) * coefficient(base, 9u)
                    + 2.8906114 * x * y * z * coefficient(base, 10u)
                    - 0.4570458 * y * (4.0 * zz - xx - yy) * coefficient(base, 11u)
                    + 0.37317633 * z * (2.0 * zz - 3.0 * xx - 3.0 * yy) * coefficient(base, 12u)
                    - 0.4570458 * x * (4.0 * zz - xx - yy) * coefficient(base, 13u)
                    + 1.4453057 * z * (xx - yy) * coefficient(base, 14u)
                    - 0.5900436 * x * (xx - 3.0 * yy) * coefficient(base, 15u);
            }
        }
    }
    return max(c + vec3<f32>(0.5), vec3<f32>(0.0));
}

fn cull(i: u32) {
    proj_b[i] = vec4<u32>(0u);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if i >= arrayLength(&keys) {
        return;
    }
    values[i] = i;
    keys[i] = CULLED;
    if i >= frame.count {
        return;
    }
    let po = positions[i];
    for (var c = 0u; c < frame.clip_count; c++) {
        if dot(frame.clips[c].xyz, po.xyz) > frame.clips[c].w {
            cull(i);
            return;
        }
    }
    let t = (frame.view * vec4<f32>(po.xyz, 1.0)).xyz;
    let depth = -t.z;
    if depth <= frame.near {
        cull(i);
        return;
    }
    let f = frame.focal;
    let center = vec2<f32>(frame.size.x * 0.5 + f * t.x / depth, frame.size.y * 0.5 - f * t.y / depth);
    let x = clamp(t.x / depth, -1.3 * frame.tan_half.x, 1.3 * frame.tan_half.x) * depth;
    let y = clamp(t.y / depth, -1.3 * frame.tan_half.y, 1.3 * frame.tan_half.y) * depth;
    let j0 = vec3<f32>(f / depth, 0.0, f * x / (depth * depth));
    let j1 = vec3<f32>(0.0, -f / depth, -f * y / (depth * depth));
    let w = mat3x3<f32>(frame.view[0].xyz, frame.view[1].xyz, frame.view[2].xyz);
    let a0 = transpose(w) * j0;
    let a1 = transpose(w) * j1;
    let c = covariances[i];
    let p01 = halves(c.x);
    let p23 = halves(c.y);
    let p45 = halves(c.z);
    let scale2 = frame.size_scale * frame.size_scale;
    let sigma = mat3x3<f32>(
        vec3<f32>(p01.x, p01.y, p23.x),
        vec3<f32>(p01.y, p23.y, p45.x),
        vec3<f32>(p23.x, p45.x, p45.y),
    ) * scale2;
    let ca = dot(a0, sigma * a0) + LOW_PASS;
    let cb = dot(a0, sigma * a1);
    let cc = dot(a1, sigma * a1) + LOW_PASS;
    let det = ca * cc - cb * cb;
    if !(det > 0.0) {
        cull(i);
        return;
    }
    let mid = 0.5 * (ca + cc);
    let lambda = mid + sqrt(max(mid * mid - det, 0.1));
    let radius = ceil(3.0 * sqrt(lambda));
    let to_splat = (frame.world_to_scene * vec4<f32>(po.xyz - frame.eye.xyz, 0.0)).xyz;
    let len = length(to_splat);
    let dir = select(vec3<f32>(0.0, 0.0, 1.0), to_splat / len, len > 0.0);
    let colour = sh_color(i * frame.sh_words, dir);
    proj_a[i] = vec4<u32>(bitcast<u32>(center.x), bitcast<u32>(center.y), bitcast<u32>(cc / det), bitcast<u32>(-cb / det));
    proj_b[i] = vec4<u32>(
        bitcast<u32>(ca / det),
        bitcast<u32>(radius),
        pack4x8unorm(vec4<f32>(colour, 0.0)),
        bitcast<u32>(po.w * frame.opacity_scale),
    );
    keys[i] = ~bitcast<u32>(depth);
}
