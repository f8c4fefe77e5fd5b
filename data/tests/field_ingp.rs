//! instant-ngp snapshot import on snapshots built here from known weights: an analytic field
//! through pass-through MLPs (exact), random weights against an independent re-implementation of
//! tiny-cuda-nn's network, the density grid, and malformed snapshots.

mod common;

use std::path::Path;

use common::{gzip, scratch};
use cortexlens_data::field::{
    FieldError, FieldOutput, IngpImport, load_field, load_ingp, load_ingp_with, sigmoid, spherical_harmonics,
};
use rmpv::Value;

/// Deterministic values in `[-1, 1)`.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (Value::from(k), v)).collect())
}

fn floats3(v: [f32; 3]) -> Value {
    Value::Array(v.iter().map(|&x| Value::F32(x)).collect())
}

/// The network configuration of a snapshot.
#[derive(Clone)]
struct Config {
    levels: u32,
    features: u32,
    log2_table: u32,
    base: u32,
    /// `None`: left out, instant-ngp derives it from `aabb_scale`.
    per_level_scale: Option<f32>,
    neurons: u32,
    density_hidden: u32,
    rgb_hidden: u32,
    sh_degree: u32,
    aabb_scale: u32,
    aabb: Option<([f32; 3], [f32; 3])>,
    /// `otype` of the density and colour networks (`FullyFusedMLP` or `CutlassMLP`).
    density_otype: &'static str,
    rgb_otype: &'static str,
    /// The density network's `n_output_dims`; `None`: left out (instant-ngp's default, 16).
    density_outputs: Option<u32>,
}

impl Config {
    fn per_level_scale(&self) -> f32 {
        self.per_level_scale.unwrap_or_else(|| {
            ((2048.0f32 * self.aabb_scale as f32 / self.base as f32).ln() / (self.levels - 1) as f32).exp()
        })
    }

    fn level_scale(&self, l: u32) -> f32 {
        (l as f32 * self.per_level_scale().log2()).exp2() * self.base as f32 - 1.0
    }

    fn level_resolution(&self, l: u32) -> u32 {
        self.level_scale(l).ceil() as u32 + 1
    }

    fn level_entries(&self, l: u32) -> usize {
        let r = self.level_resolution(l) as usize;
        (r * r * r).div_ceil(8).saturating_mul(8).min(1 << self.log2_table)
    }

    fn grid_params(&self) -> usize {
        (0..self.levels).map(|l| self.level_entries(l)).sum::<usize>() * self.features as usize
    }

    fn dir_width(&self) -> usize {
        ((self.sh_degree * self.sh_degree) as usize).div_ceil(16) * 16
    }

    /// The density network's outputs, padded to 16.
    fn density_width(&self) -> usize {
        (self.density_outputs.unwrap_or(16) as usize).div_ceil(16) * 16
    }

    /// `(rows, cols)` of an MLP's matrices: with hidden layers `n × input`, `n × n`…, `out × n`;
    /// without, `out × input`.
    fn mlp_shapes(&self, hidden: u32, input: usize, out: usize) -> Vec<(usize, usize)> {
        let n = self.neurons as usize;
        if hidden == 0 {
            return vec![(out, input)];
        }
        let mut s = vec![(n, input)];
        s.extend((1..hidden).map(|_| (n, n)));
        s.push((out, n));
        s
    }

    /// `(rows, cols)` of the density and colour matrices. The encoding is padded to 16 for a
    /// FullyFusedMLP density network, else to 8.
    fn density_shapes(&self) -> Vec<(usize, usize)> {
        let align = if self.density_otype == "FullyFusedMLP" { 16 } else { 8 };
        let input = ((self.levels * self.features) as usize).div_ceil(align) * align;
        self.mlp_shapes(self.density_hidden, input, self.density_width())
    }

    fn rgb_shapes(&self) -> Vec<(usize, usize)> {
        self.mlp_shapes(self.rgb_hidden, self.density_width() + self.dir_width(), 16)
    }

    fn mlp_params(shapes: &[(usize, usize)]) -> usize {
        shapes.iter().map(|(r, c)| r * c).sum()
    }

    fn n_params(&self) -> usize {
        Self::mlp_params(&self.density_shapes()) + Self::mlp_params(&self.rgb_shapes()) + self.grid_params()
    }

    fn json(&self) -> Vec<(&'static str, Value)> {
        let mut encoding = vec![
            ("otype", Value::from("HashGrid")),
            ("n_levels", Value::from(self.levels)),
            ("n_features_per_level", Value::from(self.features)),
            ("log2_hashmap_size", Value::from(self.log2_table)),
            ("base_resolution", Value::from(self.base)),
        ];
        if let Some(b) = self.per_level_scale {
            encoding.push(("per_level_scale", Value::F32(b)));
        }
        let mlp = |otype: &str, hidden: u32, outputs: Option<u32>| {
            let mut entries = vec![
                ("otype", Value::from(otype)),
                ("activation", Value::from("ReLU")),
                ("output_activation", Value::from("None")),
                ("n_neurons", Value::from(self.neurons)),
                ("n_hidden_layers", Value::from(hidden)),
            ];
            if let Some(n) = outputs {
                entries.push(("n_output_dims", Value::from(n)));
            }
            map(entries)
        };
        vec![
            ("loss", map(vec![("otype", Value::from("Huber"))])),
            ("encoding", map(encoding)),
            (
                "network",
                mlp(self.density_otype, self.density_hidden, self.density_outputs),
            ),
            (
                "dir_encoding",
                map(vec![
                    ("otype", Value::from("Composite")),
                    (
                        "nested",
                        Value::Array(vec![
                            map(vec![
                                ("n_dims_to_encode", Value::from(3)),
                                ("otype", Value::from("SphericalHarmonics")),
                                ("degree", Value::from(self.sh_degree)),
                            ]),
                            map(vec![("otype", Value::from("Identity"))]),
                        ]),
                    ),
                ]),
            ),
            ("rgb_network", mlp(self.rgb_otype, self.rgb_hidden, None)),
        ]
    }
}

/// A whole snapshot: config, tcnn-layout parameters, optional density grid.
struct Snapshot {
    config: Config,
    params: Vec<f32>,
    half: bool,
    n_params: Option<u64>,
    density_grid: Option<Vec<f32>>,
    extra: Vec<(&'static str, Value)>,
    mode: &'static str,
}

impl Snapshot {
    fn new(config: Config, params: Vec<f32>) -> Snapshot {
        Snapshot {
            config,
            params,
            half: false,
            n_params: None,
            density_grid: None,
            extra: Vec::new(),
            mode: "nerf",
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let params: Vec<u8> = if self.half {
            self.params
                .iter()
                .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
                .collect()
        } else {
            self.params.iter().flat_map(|v| v.to_le_bytes()).collect()
        };
        let c = &self.config;
        let mut snapshot = vec![
            (
                "n_params",
                Value::from(self.n_params.unwrap_or(self.params.len() as u64)),
            ),
            ("params_type", Value::from(if self.half { "__half" } else { "float" })),
            ("params_binary", Value::Binary(params)),
            ("version", Value::from(1)),
            ("mode", Value::from(self.mode)),
            ("density_grid_size", Value::from(128)),
            (
                "nerf",
                map(vec![
                    ("aabb_scale", Value::from(c.aabb_scale)),
                    (
                        "dataset",
                        map(vec![
                            ("aabb_scale", Value::from(c.aabb_scale)),
                            ("is_hdr", Value::from(false)),
                        ]),
                    ),
                ]),
            ),
            ("up_dir", floats3([0.0, 1.0, 0.0])),
        ];
        if let Some(grid) = &self.density_grid {
            snapshot.push((
                "density_grid_binary",
                Value::Binary(grid.iter().flat_map(|&v| f16_bytes(v)).collect()),
            ));
        }
        if let Some((min, max)) = c.aabb {
            snapshot.push(("aabb", map(vec![("min", floats3(min)), ("max", floats3(max))])));
        }
        snapshot.extend(self.extra.iter().cloned());
        let mut root = c.json();
        root.push(("snapshot", map(snapshot)));
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, &map(root)).unwrap();
        out
    }

    fn write(&self, path: &Path) {
        std::fs::write(path, self.bytes()).unwrap();
    }
}

/// `f16` bytes of `v`, with a shortcut for the few values a density grid here holds.
fn f16_bytes(v: f32) -> [u8; 2] {
    if v == 0.0 {
        [0, 0]
    } else if v == 1.0 {
        [0x00, 0x3c]
    } else {
        half::f16::from_f32(v).to_le_bytes()
    }
}

fn base_config() -> Config {
    Config {
        levels: 8,
        features: 4,
        log2_table: 14,
        base: 16,
        per_level_scale: None,
        neurons: 64,
        density_hidden: 1,
        rgb_hidden: 2,
        sh_degree: 4,
        aabb_scale: 1,
        aabb: None,
        density_otype: "FullyFusedMLP",
        rgb_otype: "FullyFusedMLP",
        density_outputs: None,
    }
}

/// The analytic fields written into level 0: log σ and the three colour logits, affine in `x`.
fn analytic(x: [f32; 3]) -> [f64; 4] {
    let [a, b, c] = x.map(f64::from);
    [
        0.5 + 2.0 * a - b + 0.5 * c,
        -1.0 + 3.0 * b,
        2.0 * c - a,
        0.25 + a + b - c,
    ]
}

/// Parameters in tiny-cuda-nn's layout: level 0 (dense, 16³) holds the analytic field at its
/// vertices `x = (i − 0.5) / 15`; the MLPs pass it through with ReLU(x) − ReLU(−x) pairs.
fn analytic_params(c: &Config) -> Vec<f32> {
    let mut params = Vec::with_capacity(c.n_params());
    let n = c.neurons as usize;
    // Density: rows 2f, 2f+1 = ±feature f (f < 4); output row f = h_2f − h_2f+1.
    let shapes = c.density_shapes();
    let (_, cols) = shapes[0];
    let mut w = vec![0f32; n * cols];
    for f in 0..4 {
        w[2 * f * cols + f] = 1.0;
        w[(2 * f + 1) * cols + f] = -1.0;
    }
    params.extend(w);
    let mut w = vec![0f32; 16 * n];
    for f in 0..4 {
        w[f * n + 2 * f] = 1.0;
        w[f * n + 2 * f + 1] = -1.0;
    }
    params.extend(w);
    // Colour: rows 2c, 2c+1 = ±density output c+1 (SH weights zero); identity; out row c.
    let (_, cols) = c.rgb_shapes()[0];
    let mut w = vec![0f32; n * cols];
    for ch in 0..3 {
        w[2 * ch * cols + ch + 1] = 1.0;
        w[(2 * ch + 1) * cols + ch + 1] = -1.0;
    }
    params.extend(w);
    let mut w = vec![0f32; n * n];
    for r in 0..6 {
        w[r * n + r] = 1.0;
    }
    params.extend(w);
    let mut w = vec![0f32; 16 * n];
    for ch in 0..3 {
        w[ch * n + 2 * ch] = 1.0;
        w[ch * n + 2 * ch + 1] = -1.0;
    }
    params.extend(w);
    // Grid: level 0 dense 16³ with the analytic values, other levels zero.
    assert_eq!(c.level_resolution(0), 16);
    let entries0 = c.level_entries(0);
    let mut grid = vec![0f32; c.grid_params()];
    for k in 0..16 {
        for j in 0..16 {
            for i in 0..16 {
                let x = [i, j, k].map(|v| (v as f32 - 0.5) / 15.0);
                let v = analytic(x);
                let e = i + 16 * j + 256 * k;
                assert!(e < entries0);
                for f in 0..4 {
                    grid[e * 4 + f] = v[f] as f32;
                }
            }
        }
    }
    params.extend(grid);
    assert_eq!(params.len(), c.n_params());
    params
}

#[test]
fn analytic_field_through_pass_through_mlps() {
    let c = base_config();
    let dir = scratch("ingp-analytic");
    let path = dir.join("analytic.msgpack");
    Snapshot::new(c.clone(), analytic_params(&c)).write(&path);
    let field = load_ingp(&path).unwrap();
    assert_eq!(field.output, FieldOutput::DensityRgb);
    assert_eq!((field.bounds_min, field.bounds_max), ([0.0; 3], [1.0; 3]));
    assert_eq!(field.layers.len(), 5);
    assert!(field.occupancy.is_none());
    // Exact up to f32 rounding away from the top half-cell, where tiny-cuda-nn's dense level wraps.
    let mut worst = 0f64;
    for n in 0..500 {
        let t = n as f32 / 500.0;
        let x = [t * 0.96, (t * 7.31).fract() * 0.96, (t * 3.17).fract() * 0.96];
        let got = field.eval(x);
        let v = analytic(x);
        let want = [v[0].exp(), sig(v[1]), sig(v[2]), sig(v[3])];
        for ch in 0..4 {
            let err = (got[ch] as f64 - want[ch]).abs() / want[ch].abs().max(1.0);
            worst = worst.max(err);
        }
    }
    assert!(worst < 2e-6, "worst relative error {worst}");

    // fp16 parameters (instant-ngp's default), gzip-compressed as `.ingp`: the same field to fp16 rounding.
    let mut half = Snapshot::new(c.clone(), analytic_params(&c));
    half.half = true;
    let ingp = dir.join("analytic.ingp");
    std::fs::write(&ingp, gzip(&half.bytes())).unwrap();
    let h = load_field(&ingp).unwrap();
    for x in [[0.1f32, 0.2, 0.3], [0.5, 0.5, 0.5], [0.9, 0.05, 0.6]] {
        let (a, b) = (h.eval(x), field.eval(x));
        for ch in 0..4 {
            assert!((a[ch] - b[ch]).abs() <= 4e-3 * b[ch].abs().max(1.0), "{a:?} vs {b:?}");
        }
    }
}

fn sig(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// tiny-cuda-nn's NeRF network evaluated directly from its parameter layout (no conversion).
fn tcnn_reference(c: &Config, params: &[f32], p: [f32; 3], view: [f32; 3]) -> [f32; 4] {
    let (min, max) = c.aabb.unwrap_or(([0.0; 3], [1.0; 3]));
    let x: Vec<f32> = (0..3).map(|d| (p[d] - min[d]) / (max[d] - min[d])).collect();
    let density_n = Config::mlp_params(&c.density_shapes());
    let rgb_n = Config::mlp_params(&c.rgb_shapes());
    let grid = &params[density_n + rgb_n..];
    let table = 1usize << c.log2_table;
    let feats = c.features as usize;
    let mut encoded = vec![0f32; c.density_shapes()[0].1];
    let mut offset = 0usize;
    for l in 0..c.levels {
        let scale = c.level_scale(l);
        let res = c.level_resolution(l);
        let entries = c.level_entries(l);
        let mut base = [0u32; 3];
        let mut frac = [0f32; 3];
        for d in 0..3 {
            let pos = scale.mul_add(x[d], 0.5);
            base[d] = pos.floor() as u32;
            frac[d] = pos - pos.floor();
        }
        for corner in 0..8u32 {
            let mut w = 1.0f32;
            let mut g = [0u32; 3];
            for d in 0..3 {
                if corner & (1 << d) == 0 {
                    w *= 1.0 - frac[d];
                    g[d] = base[d];
                } else {
                    w *= frac[d];
                    g[d] = base[d] + 1;
                }
            }
            let dense = (res as usize).pow(3) <= entries;
            let index = if dense {
                g[0] + g[1] * res + g[2] * res * res
            } else {
                g[0] ^ g[1].wrapping_mul(2_654_435_761) ^ g[2].wrapping_mul(805_459_861)
            } as usize
                % entries;
            for f in 0..feats {
                encoded[l as usize * feats + f] += w * grid[(offset + index) * feats + f];
            }
        }
        offset += entries;
        assert!(entries <= table);
    }
    let matmul = |shapes: &[(usize, usize)], base: usize, input: Vec<f32>| -> Vec<f32> {
        let mut h = input;
        let mut off = base;
        for (i, &(rows, cols)) in shapes.iter().enumerate() {
            let out: Vec<f32> = (0..rows)
                .map(|r| {
                    let s: f32 = (0..cols).map(|k| params[off + r * cols + k] * h[k]).sum();
                    if i + 1 < shapes.len() { s.max(0.0) } else { s }
                })
                .collect();
            off += rows * cols;
            h = out;
        }
        h
    };
    let density = matmul(&c.density_shapes(), 0, encoded);
    let norm = (view[0] * view[0] + view[1] * view[1] + view[2] * view[2]).sqrt();
    let dir = view.map(|v| v / norm);
    let sh = spherical_harmonics(c.sh_degree, dir);
    let mut rgb_in = density.clone();
    rgb_in.extend(std::iter::repeat_n(1.0, c.dir_width() - sh.len()));
    rgb_in.extend(sh);
    let rgb = matmul(&c.rgb_shapes(), density_n, rgb_in);
    [density[0].exp(), sigmoid(rgb[0]), sigmoid(rgb[1]), sigmoid(rgb[2])]
}

fn random_params(c: &Config, seed: u64, scale: f32) -> Vec<f32> {
    let mut rng = Lcg(seed);
    let mlp = Config::mlp_params(&c.density_shapes()) + Config::mlp_params(&c.rgb_shapes());
    (0..c.n_params())
        .map(|i| rng.next() * if i < mlp { scale } else { 1.0 })
        .collect()
}

#[test]
fn random_weights_match_tcnn_reference() {
    // Small levels: 0 and 1 dense (level 1 with 344 of 1024 entries, padded by repetition and read
    // by the wraparound near x = 1), 2 and 3 hashed; non-integer scales; an off-unit aabb.
    let configs = [
        Config {
            levels: 4,
            features: 2,
            log2_table: 10,
            base: 4,
            per_level_scale: Some(1.7),
            neurons: 16,
            density_hidden: 1,
            rgb_hidden: 2,
            sh_degree: 4,
            aabb_scale: 2,
            aabb: Some(([-0.5, -0.25, -0.5], [1.5, 1.25, 1.5])),
            ..base_config()
        },
        // SH degree 3 (9 values padded with 7 leading ones), more hidden layers, fp16 params.
        Config {
            levels: 3,
            features: 4,
            log2_table: 9,
            base: 3,
            per_level_scale: Some(2.5),
            neurons: 32,
            density_hidden: 2,
            rgb_hidden: 3,
            sh_degree: 3,
            aabb_scale: 1,
            aabb: None,
            ..base_config()
        },
    ];
    let dir = scratch("ingp-random");
    for (n, c) in configs.iter().enumerate() {
        assert_matches_reference(c, &dir.join(format!("random{n}.msgpack")), 5 + n as u64, n == 1);
    }
}

/// Writes a snapshot of `c` with random weights (`fp16`: stored as `__half`) and checks the imported field
/// against [`tcnn_reference`] at two view directions, including points in the top half-cells where
/// dense levels wrap around.
#[track_caller]
fn assert_matches_reference(c: &Config, path: &Path, seed: u64, fp16: bool) {
    let params = random_params(c, seed, 0.4);
    let mut snap = Snapshot::new(c.clone(), params.clone());
    snap.half = fp16;
    // The reference reads what the file holds.
    let params: Vec<f32> = if fp16 {
        params.iter().map(|&v| half::f16::from_f32(v).to_f32()).collect()
    } else {
        params
    };
    snap.write(path);
    for view in [[0.0f32, 0.0, -1.0], [0.3, -0.5, 0.81]] {
        let options = IngpImport {
            view_direction: view,
            ..IngpImport::default()
        };
        let field = load_ingp_with(path, &options).unwrap();
        let (min, max) = c.aabb.unwrap_or(([0.0; 3], [1.0; 3]));
        assert_eq!((field.bounds_min, field.bounds_max), (min, max));
        let mut rng = Lcg(99);
        for k in 0..300 {
            let t: [f32; 3] = std::array::from_fn(|_| {
                let u = rng.next() * 0.5 + 0.5;
                if k < 30 { 0.97 + 0.03 * u } else { u }
            });
            let p: [f32; 3] = std::array::from_fn(|d| min[d] + t[d] * (max[d] - min[d]));
            let got = field.eval(p);
            let want = tcnn_reference(c, &params, p, view);
            for ch in 0..4 {
                assert!(
                    (got[ch] - want[ch]).abs() <= 2e-5 * want[ch].abs().max(1.0),
                    "{path:?}, view {view:?}, point {p:?}: {got:?} vs {want:?}"
                );
            }
        }
    }
}

#[test]
fn cutlass_linear_and_wide_density_networks_match_tcnn_reference() {
    let dir = scratch("ingp-networks");
    let small = Config {
        levels: 4,
        features: 2,
        log2_table: 10,
        base: 4,
        per_level_scale: Some(1.7),
        neurons: 16,
        ..base_config()
    };
    // instant-ngp's configs/nerf/linear.json: CutlassMLP density and colour networks without hidden
    // layers; the 8 encoded features stay 8 wide (CutlassMLP density networks pad to 8, not 16).
    let linear = Config {
        density_otype: "CutlassMLP",
        rgb_otype: "CutlassMLP",
        density_hidden: 0,
        rgb_hidden: 0,
        ..small.clone()
    };
    assert_eq!(linear.density_shapes(), [(16, 8)]);
    assert_eq!(linear.rgb_shapes(), [(16, 32)]);
    assert_matches_reference(&linear, &dir.join("linear.msgpack"), 21, false);
    // configs/nerf/base_0layer.json: FullyFusedMLP density network, linear CutlassMLP colour one.
    let zero = Config {
        rgb_otype: "CutlassMLP",
        rgb_hidden: 0,
        ..small.clone()
    };
    assert_matches_reference(&zero, &dir.join("base_0layer.msgpack"), 22, true);
    // A density network with 20 outputs, padded to 32: the colour network reads all 32.
    let wide = Config {
        density_otype: "CutlassMLP",
        density_outputs: Some(20),
        ..small.clone()
    };
    assert_eq!(wide.rgb_shapes()[0], (16, 32 + 16));
    assert_matches_reference(&wide, &dir.join("wide.msgpack"), 23, false);
    // A FullyFusedMLP without hidden layers, as saved by a tiny-cuda-nn build without fully fused
    // kernels (which runs it as a CutlassMLP of the same layout): read, not refused.
    let fused_linear = Config {
        density_hidden: 0,
        ..small
    };
    assert_eq!(fused_linear.density_shapes(), [(16, 16)]);
    assert_matches_reference(&fused_linear, &dir.join("fused0.msgpack"), 24, false);
}

/// A snapshot of `c` whose `snapshot.nerf` is replaced by `nerf`.
fn with_nerf(c: &Config, nerf: Value) -> Vec<u8> {
    let bytes = Snapshot::new(c.clone(), random_params(c, 3, 0.1)).bytes();
    let Value::Map(mut root) = rmpv::decode::read_value(&mut &bytes[..]).unwrap() else {
        unreachable!()
    };
    for (k, v) in root.iter_mut() {
        if k.as_str() == Some("snapshot")
            && let Value::Map(entries) = v
        {
            for (k, v) in entries.iter_mut() {
                if k.as_str() == Some("nerf") {
                    *v = nerf.clone();
                }
            }
        }
    }
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &Value::Map(root)).unwrap();
    out
}

#[test]
fn aabb_scale_is_resolved_as_instant_ngp_opens_a_snapshot() {
    let dir = scratch("ingp-aabb-scale");
    let path = dir.join("scale.msgpack");
    let mut c = base_config();
    c.levels = 2;
    c.log2_table = 12;
    // per_level_scale left out: the layout itself depends on aabb_scale (2 here).
    c.aabb_scale = 2;
    let dataset = |s: u32| map(vec![("aabb_scale", Value::from(s)), ("is_hdr", Value::from(false))]);
    // The dataset's aabb_scale wins over `nerf.aabb_scale` (testbed.cu 5386-5392).
    std::fs::write(
        &path,
        with_nerf(&c, map(vec![("aabb_scale", Value::from(1)), ("dataset", dataset(2))])),
    )
    .unwrap();
    let f = load_ingp(&path).unwrap();
    assert_eq!((f.bounds_min, f.bounds_max), ([-0.5; 3], [1.5; 3]));
    // Without a dataset, `nerf.aabb_scale`.
    std::fs::write(&path, with_nerf(&c, map(vec![("aabb_scale", Value::from(2))]))).unwrap();
    let g = load_ingp(&path).unwrap();
    assert_eq!(g, f);
    // Not a power of two: instant-ngp refuses it (testbed_nerf.cu 2408-2412).
    c.aabb_scale = 3;
    for nerf in [
        map(vec![("aabb_scale", Value::from(3))]),
        map(vec![("aabb_scale", Value::from(4)), ("dataset", dataset(3))]),
    ] {
        std::fs::write(&path, with_nerf(&c, nerf)).unwrap();
        let e = ingp_err(&path);
        assert!(
            matches!(e, FieldError::BadHeader { .. }) && e.to_string().contains("power of two"),
            "{e}"
        );
    }
}

#[test]
fn density_grid_becomes_occupancy() {
    let mut c = base_config();
    c.levels = 2;
    c.log2_table = 12;
    let cells = 128 * 128 * 128;
    let spread: Vec<usize> = (0..128u32)
        .map(|v| (0..7).map(|b| ((v >> b) & 1) << (3 * b)).sum::<u32>() as usize)
        .collect();
    let morton = |x: u32, y: u32, z: u32| spread[x as usize] | (spread[y as usize] << 1) | (spread[z as usize] << 2);
    let dir = scratch("ingp-occupancy");
    let path = dir.join("occ.msgpack");

    // aabb_scale 1: cells with x < 64 hold an optical thickness of 1; threshold min(0.01, mean).
    let mut grid = vec![0f32; cells];
    for z in 0..128 {
        for y in 0..128 {
            for x in 0..64 {
                grid[morton(x, y, z)] = 1.0;
            }
        }
    }
    let mut snap = Snapshot::new(c.clone(), random_params(&c, 1, 0.1));
    snap.density_grid = Some(grid.clone());
    snap.write(&path);
    let f = load_ingp(&path).unwrap();
    let occ = f.occupancy.as_ref().unwrap();
    assert_eq!(occ.resolution, [128; 3]);
    for (n, &o) in occ.occupied.iter().enumerate() {
        assert_eq!(o != 0, n % 128 < 64, "cell {n}");
    }
    assert!(f.occupied([0.2, 0.9, 0.5]));
    assert!(!f.occupied([0.7, 0.9, 0.5]));
    // Without occupancy on request.
    let options = IngpImport {
        occupancy: false,
        ..IngpImport::default()
    };
    assert!(load_ingp_with(&path, &options).unwrap().occupancy.is_none());

    // A faint field: the threshold is the mean (0.001), not 0.01.
    for v in grid.iter_mut() {
        *v *= 0.002;
    }
    snap.density_grid = Some(grid);
    snap.write(&path);
    let occ = load_ingp(&path).unwrap().occupancy.unwrap();
    assert_eq!(occ.occupied.iter().filter(|&&o| o != 0).count(), cells / 2);

    // aabb_scale 2: two cascades; cascade 0's cell (0,0,0) max-pools into cascade 1's (32,32,32),
    // which with cascade 1's own (127,127,127) are the occupied cells over the aabb [-0.5, 1.5]³.
    c.aabb_scale = 2;
    let mut grid = vec![0f32; 2 * cells];
    grid[morton(0, 0, 0)] = 1.0;
    grid[cells + morton(127, 127, 127)] = 1.0;
    let mut snap = Snapshot::new(c.clone(), random_params(&c, 1, 0.1));
    snap.density_grid = Some(grid);
    snap.write(&path);
    let f = load_ingp(&path).unwrap();
    assert_eq!((f.bounds_min, f.bounds_max), ([-0.5; 3], [1.5; 3]));
    let occ = f.occupancy.as_ref().unwrap();
    let on: Vec<usize> = (0..cells).filter(|&n| occ.occupied[n] != 0).collect();
    assert_eq!(on, [(32 * 128 + 32) * 128 + 32, cells - 1]);
    assert!(f.occupied([0.001, 0.001, 0.001]));
    assert!(!f.occupied([0.5, 0.5, 0.5]));

    // A grid of the wrong size.
    let mut snap = Snapshot::new(c.clone(), random_params(&c, 1, 0.1));
    snap.density_grid = Some(vec![0.0; cells]);
    snap.write(&path);
    assert!(matches!(load_ingp(&path), Err(FieldError::Truncated { .. })));
}

#[track_caller]
fn ingp_err(path: &Path) -> FieldError {
    let e = load_field(path).expect_err("must not load");
    let name = path.file_name().unwrap().to_string_lossy();
    assert!(e.to_string().starts_with(&format!("{name}: ")), "{e}");
    e
}

#[test]
fn malformed_snapshots() {
    let mut c = base_config();
    c.levels = 2;
    c.log2_table = 12;
    let dir = scratch("ingp-malformed");
    let path = dir.join("bad.msgpack");
    let good = Snapshot::new(c.clone(), random_params(&c, 3, 0.1));
    let bytes = good.bytes();

    // Not MessagePack, or not a map.
    std::fs::write(&path, b"hello, this is text").unwrap();
    assert!(matches!(ingp_err(&path), FieldError::NotFormat { .. }));
    std::fs::write(&path, [0xc1u8, 0, 0]).unwrap();
    assert!(matches!(ingp_err(&path), FieldError::NotFormat { .. }));
    std::fs::write(&path, []).unwrap();
    assert!(matches!(ingp_err(&path), FieldError::Truncated { .. }));

    // Truncated in the middle of the parameters, and a truncated gzip stream.
    for cut in [bytes.len() / 2, bytes.len() - 3, 10] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let e = ingp_err(&path);
        assert!(matches!(e, FieldError::Truncated { .. }), "cut {cut}: {e}");
    }
    let gz = gzip(&bytes);
    let ingp = dir.join("bad.ingp");
    std::fs::write(&ingp, &gz[..gz.len() / 2]).unwrap();
    assert!(matches!(ingp_err(&ingp), FieldError::Truncated { .. }));
    std::fs::write(&ingp, &gz).unwrap();
    let from_gzip = load_field(&ingp).unwrap();
    // Told apart by content under any other name, compressed or not.
    let other = dir.join("snapshot.bin");
    std::fs::write(&other, &gz).unwrap();
    assert_eq!(load_field(&other).unwrap(), from_gzip);
    std::fs::write(&other, &bytes).unwrap();
    assert_eq!(load_field(&other).unwrap(), from_gzip);

    // Wrong n_params.
    let mut snap = Snapshot::new(c.clone(), random_params(&c, 3, 0.1));
    snap.n_params = Some(c.n_params() as u64 + 16);
    snap.write(&path);
    let e = ingp_err(&path);
    assert!(
        matches!(e, FieldError::BadHeader { .. }) && e.to_string().contains(&format!("needs {}", c.n_params())),
        "{e}"
    );
    // Parameters missing from params_binary.
    let mut snap = Snapshot::new(c.clone(), random_params(&c, 3, 0.1));
    snap.params.truncate(c.n_params() - 5);
    snap.n_params = Some(c.n_params() as u64);
    snap.write(&path);
    assert!(matches!(ingp_err(&path), FieldError::Truncated { .. }));
    // A config whose layout differs from the weights (more neurons).
    let mut wrong = c.clone();
    wrong.neurons = 32;
    let mut snap = Snapshot::new(wrong, random_params(&c, 3, 0.1));
    snap.n_params = Some(c.n_params() as u64);
    snap.write(&path);
    assert!(matches!(ingp_err(&path), FieldError::BadHeader { .. }));

    // Not a NeRF snapshot, HDR, per-image latents, no snapshot at all.
    let mut snap = Snapshot::new(c.clone(), random_params(&c, 3, 0.1));
    snap.mode = "sdf";
    snap.write(&path);
    assert!(matches!(ingp_err(&path), FieldError::Unsupported { .. }));
    let mut root = c.json();
    root.push(("snapshot", map(vec![])));
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &map(root)).unwrap();
    std::fs::write(&path, &out).unwrap();
    assert!(matches!(ingp_err(&path), FieldError::Unsupported { .. }));
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &map(c.json())).unwrap();
    std::fs::write(&path, &out).unwrap();
    let e = ingp_err(&path);
    assert!(
        matches!(e, FieldError::NotFormat { .. }) && e.to_string().contains("snapshot"),
        "{e}"
    );

    // A non-hash encoding, with a valid snapshot.
    let snapshot = {
        let v = rmpv::decode::read_value(&mut &bytes[..]).unwrap();
        let Value::Map(entries) = v else { unreachable!() };
        entries
            .into_iter()
            .find(|(k, _)| k.as_str() == Some("snapshot"))
            .unwrap()
            .1
    };
    let mut root = c.json();
    root[1] = ("encoding", map(vec![("otype", Value::from("Frequency"))]));
    root.push(("snapshot", snapshot));
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &map(root)).unwrap();
    std::fs::write(&path, &out).unwrap();
    assert!(matches!(ingp_err(&path), FieldError::Unsupported { .. }));
}

#[test]
fn hdr_and_latent_snapshots_are_refused() {
    let mut c = base_config();
    c.levels = 2;
    c.log2_table = 12;
    let dir = scratch("ingp-hdr");
    let path = dir.join("hdr.msgpack");
    for (key, value) in [
        ("is_hdr", Value::from(true)),
        ("n_extra_learnable_dims", Value::from(8)),
    ] {
        let mut snap = Snapshot::new(c.clone(), random_params(&c, 3, 0.1));
        snap.extra.push((
            "nerf",
            map(vec![
                ("aabb_scale", Value::from(1)),
                ("dataset", map(vec![(key, value)])),
            ]),
        ));
        // The later `nerf` entry is a duplicate key; write the snapshot with only this one.
        let bytes = snap.bytes();
        let v = rmpv::decode::read_value(&mut &bytes[..]).unwrap();
        let Value::Map(mut root) = v else { unreachable!() };
        for (k, v) in root.iter_mut() {
            if k.as_str() == Some("snapshot")
                && let Value::Map(entries) = v
            {
                let last_nerf = entries.iter().rposition(|(k, _)| k.as_str() == Some("nerf")).unwrap();
                let keep = entries[last_nerf].clone();
                entries.retain(|(k, _)| k.as_str() != Some("nerf"));
                entries.push(keep);
            }
        }
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, &Value::Map(root)).unwrap();
        std::fs::write(&path, &out).unwrap();
        let e = load_ingp(&path).unwrap_err();
        assert!(matches!(e, FieldError::Unsupported { .. }), "{key}: {e}");
    }
}
