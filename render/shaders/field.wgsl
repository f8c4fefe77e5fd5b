// A neural field evaluated exactly as `NeuralField::eval` (data/src/field) defines it: encoding
// (multiresolution hash grid or dense grid), then the MLP layer by layer from storage buffers,
// with optional instance-norm CAM modulation, then the output reading. Used by the field ray
// marcher (with field_sampler.wgsl) and by the point evaluator (field_eval.wgsl).
//
// Layout on the GPU (written by `src/field_gpu/layout.rs`):
// - `enc`: the hash grid's params (levels × table × features) or the dense grid's values.
// - `net`: vec4 blocks of f32 bits: per layer the weights as rows of ceil(inputs/4) blocks,
//   ceil(outputs/4)·4 rows (padding zero), then the bias (ceil(outputs/4) blocks, padding zero);
//   the CAM grids' γ and β, 4 vertices per block; then the occupancy bytes, 16 per block,
//   little-endian. Offsets are in blocks.
// Activations live in vec4 blocks too, so that one loop iteration does 16 multiply-adds: loop
// iterations are what lavapipe limits (see raymarch.wgsl), and GPUs like the vector loads.

const ACT_NONE: u32 = 0u;
const ACT_RELU: u32 = 1u;
const ACT_SIGMOID: u32 = 2u;
const ACT_EXP: u32 = 3u;

struct FieldLayer {
    // inputs, outputs, activation, weight offset.
    shape: vec4<u32>,
    // bias offset, CAM γ offset, CAM β offset, 1 when the layer is modulated.
    offsets: vec4<u32>,
    // CAM grid vertices per axis; w: 1 when the outputs are normalised before γ·h + β.
    cam_res: vec4<u32>,
}

// Mirrors `FieldHeader` in `src/field_gpu/layout.rs`.
struct FieldHeader {
    bounds_min: vec4<f32>,
    bounds_max: vec4<f32>,
    // kind (0 hash grid, 1 dense), levels, features per level (or vertex), table size.
    encoding: vec4<u32>,
    // Dense grid vertices per axis.
    dense_res: vec4<u32>,
    // layers, output (0 intensity, 1 density + colour), occupancy block offset, 1 with occupancy.
    network: vec4<u32>,
    // Intensity scale and offset.
    output: vec4<f32>,
    // Occupancy cells per axis.
    occupancy: vec4<u32>,
    // Per hash level: scale (HashGrid::level), 4 levels per vec4.
    level_scale: array<vec4<f32>, 8>,
    // Per hash level: vertices per axis when the level is dense (res³ ≤ table), else 0.
    level_res: array<vec4<u32>, 8>,
    layers: array<FieldLayer, 16>,
}

@group(1) @binding(0) var<uniform> fh: FieldHeader;
@group(1) @binding(1) var<storage, read> enc: array<f32>;
@group(1) @binding(2) var<storage, read> net: array<vec4<u32>>;

// Activations into (h) and out of (g) the current layer: 128 values in 32 blocks
// (`MAX_WIDTH` in `src/field_gpu/layout.rs`).
var<private> field_h: array<vec4<f32>, 32>;
var<private> field_g: array<vec4<f32>, 32>;

fn net_block(i: u32) -> vec4<f32> {
    return bitcast<vec4<f32>>(net[i]);
}

fn net_scalar(i: u32) -> f32 {
    return bitcast<f32>(net[i / 4u][i % 4u]);
}

// x in [0,1]³ of a world point.
fn field_x(p: vec3<f32>) -> vec3<f32> {
    let x = (p - fh.bounds_min.xyz) / (fh.bounds_max.xyz - fh.bounds_min.xyz);
    return clamp(x, vec3<f32>(0.0), vec3<f32>(1.0));
}

// Weight of corner c (bit 0: x, bit 1: y, bit 2: z) for upper-corner weights t; the product
// over x, y, z in that order, as the reference.
fn corner_weight(c: u32, t: vec3<f32>) -> f32 {
    let wx = select(1.0 - t.x, t.x, (c & 1u) != 0u);
    let wy = select(1.0 - t.y, t.y, (c & 2u) != 0u);
    let wz = select(1.0 - t.z, t.z, (c & 4u) != 0u);
    return wx * wy * wz;
}

fn corner_offset(c: u32) -> vec3<u32> {
    return vec3<u32>(c & 1u, (c >> 1u) & 1u, (c >> 2u) & 1u);
}

// Lower corner and weights of a dense grid with `res` vertices per axis:
// u = x·(r−1), i0 = min(floor(u), r−2), t = u − i0.
fn dense_cell(x: vec3<f32>, res: vec3<u32>) -> array<vec3<f32>, 2> {
    let r1 = vec3<f32>(res - vec3<u32>(1u));
    let pos = x * r1;
    let i0 = min(floor(pos), r1 - vec3<f32>(1.0));
    return array<vec3<f32>, 2>(i0, pos - i0);
}

fn add_feature(i: u32, v: f32) {
    field_h[i / 4u][i % 4u] += v;
}

// Features of the hash grid at x into field_h (level 0's first).
fn encode_hash(x: vec3<f32>) {
    let levels = fh.encoding.y;
    let features = fh.encoding.z;
    let table = fh.encoding.w;
    for (var b = 0u; b < (levels * features + 3u) / 4u; b++) {
        field_h[b] = vec4<f32>(0.0);
    }
    for (var l = 0u; l < levels; l++) {
        let scale = fh.level_scale[l / 4u][l % 4u];
        let res = fh.level_res[l / 4u][l % 4u];
        let pos = x * scale + vec3<f32>(0.5);
        let floored = floor(pos);
        let t = pos - floored;
        let base = vec3<u32>(floored);
        for (var c = 0u; c < 8u; c++) {
            let v = base + corner_offset(c);
            var index: u32;
            if res != 0u {
                index = (v.x + v.y * res + v.z * res * res) % table;
            } else {
                index = (v.x ^ (v.y * 2654435761u) ^ (v.z * 805459861u)) % table;
            }
            let w = corner_weight(c, t);
            let at = (l * table + index) * features;
            for (var f = 0u; f < features; f++) {
                add_feature(l * features + f, w * enc[at + f]);
            }
        }
    }
}

// Features of the dense grid at x into field_h.
fn encode_dense(x: vec3<f32>) {
    let features = fh.encoding.z;
    let res = fh.dense_res.xyz;
    let cell = dense_cell(x, res);
    let i0 = vec3<u32>(cell[0]);
    for (var b = 0u; b < (features + 3u) / 4u; b++) {
        field_h[b] = vec4<f32>(0.0);
    }
    for (var c = 0u; c < 8u; c++) {
        let v = i0 + corner_offset(c);
        let w = corner_weight(c, cell[1]);
        let at = ((v.z * res.y + v.y) * res.x + v.x) * features;
        for (var f = 0u; f < features; f++) {
            add_feature(f, w * enc[at + f]);
        }
    }
}

// γ (x) and β (y) of a layer's CAM grid at x.
fn cam_at(layer: FieldLayer, x: vec3<f32>) -> vec2<f32> {
    let res = layer.cam_res.xyz;
    let cell = dense_cell(x, res);
    let i0 = vec3<u32>(cell[0]);
    var gamma = 0.0;
    var beta = 0.0;
    for (var c = 0u; c < 8u; c++) {
        let v = i0 + corner_offset(c);
        let w = corner_weight(c, cell[1]);
        let at = (v.z * res.y + v.y) * res.x + v.x;
        gamma += w * net_scalar(layer.offsets.y * 4u + at);
        beta += w * net_scalar(layer.offsets.z * 4u + at);
    }
    return vec2<f32>(gamma, beta);
}

fn sigmoid(z: f32) -> f32 {
    return 1.0 / (1.0 + exp(-z));
}

fn sigmoid4(z: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(1.0) / (vec4<f32>(1.0) + exp(-z));
}

fn activate4(z: vec4<f32>, activation: u32) -> vec4<f32> {
    switch activation {
        case ACT_RELU: {
            return max(z, vec4<f32>(0.0));
        }
        case ACT_SIGMOID: {
            return sigmoid4(z);
        }
        case ACT_EXP: {
            return exp(z);
        }
        default: {
            return z;
        }
    }
}

// Lanes of block b that hold one of `count` real values.
fn lanes(b: u32, count: u32) -> vec4<bool> {
    return vec4<u32>(4u * b) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(count);
}

// The field at world point p: Intensity fields give (value, 0, 0, 0), density–colour fields
// (σ, r, g, b).
fn field_eval(p: vec3<f32>) -> vec4<f32> {
    let x = field_x(p);
    if fh.encoding.x == 0u {
        encode_hash(x);
    } else {
        encode_dense(x);
    }
    let count = fh.network.x;
    var z = vec4<f32>(0.0);
    for (var l = 0u; l < count; l++) {
        let layer = fh.layers[l];
        let outputs = layer.shape.y;
        let in4 = (layer.shape.x + 3u) / 4u;
        let out4 = (outputs + 3u) / 4u;
        // g = W·h + b, one block of 4 outputs per iteration of the outer loop.
        for (var ob = 0u; ob < out4; ob++) {
            var acc = net_block(layer.offsets.x + ob);
            let r0 = layer.shape.w + 4u * ob * in4;
            for (var ib = 0u; ib < in4; ib++) {
                let hb = field_h[ib];
                acc += vec4<f32>(
                    dot(net_block(r0 + ib), hb),
                    dot(net_block(r0 + in4 + ib), hb),
                    dot(net_block(r0 + 2u * in4 + ib), hb),
                    dot(net_block(r0 + 3u * in4 + ib), hb),
                );
            }
            field_g[ob] = acc;
        }
        if l + 1u == count {
            z = field_g[0];
            break;
        }
        if layer.offsets.w == 1u {
            // Instance normalisation over the real outputs (two passes) when the grid asks for
            // it, then γ·h + β.
            var mean = 0.0;
            var inv = 1.0;
            if layer.cam_res.w == 1u {
                var sum = 0.0;
                for (var ob = 0u; ob < out4; ob++) {
                    sum += dot(select(vec4<f32>(0.0), field_g[ob], lanes(ob, outputs)), vec4<f32>(1.0));
                }
                mean = sum / f32(outputs);
                var squares = 0.0;
                for (var ob = 0u; ob < out4; ob++) {
                    let dv = select(vec4<f32>(0.0), field_g[ob] - vec4<f32>(mean), lanes(ob, outputs));
                    squares += dot(dv, dv);
                }
                inv = 1.0 / sqrt(squares / f32(outputs) + 1e-5);
            }
            let gb = cam_at(layer, x);
            for (var ob = 0u; ob < out4; ob++) {
                field_g[ob] = gb.x * ((field_g[ob] - vec4<f32>(mean)) * inv) + vec4<f32>(gb.y);
            }
        }
        // Padding lanes stay exactly 0, so that no inf or NaN reaches the next layer.
        for (var ob = 0u; ob < out4; ob++) {
            field_h[ob] = select(vec4<f32>(0.0), activate4(field_g[ob], layer.shape.z), lanes(ob, outputs));
        }
    }
    // The last layer's activation applies to output 0 only (see FieldOutput).
    let last = fh.layers[count - 1u].shape.z;
    let out0 = activate4(vec4<f32>(z.x), last).x;
    if fh.network.y == 1u {
        return vec4<f32>(out0, sigmoid(z.y), sigmoid(z.z), sigmoid(z.w));
    }
    return vec4<f32>(out0 * fh.output.x + fh.output.y, 0.0, 0.0, 0.0);
}

// Whether the occupancy grid marks the cell of world point p as possibly non-empty (always true
// without a grid). Cell (i, j, k) covers [i/rx, (i+1)/rx) × …, x = 1 in the last cell.
fn field_occupied(p: vec3<f32>) -> bool {
    if fh.network.w == 0u {
        return true;
    }
    let r = fh.occupancy.xyz;
    let c = min(vec3<u32>(field_x(p) * vec3<f32>(r)), r - vec3<u32>(1u));
    let byte = c.x + r.x * (c.y + r.y * c.z);
    let word = net[fh.network.z + byte / 16u][(byte / 4u) % 4u];
    return ((word >> (8u * (byte % 4u))) & 0xffu) != 0u;
}
