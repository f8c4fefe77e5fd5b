//! `NeuralField::eval` against hand-computed values, and `validate` on broken fields.

use cortexlens_data::field::{
    Activation, Cam, CamGrid, DenseGrid, DenseLayer, Encoding, FieldError, FieldOutput, HashGrid, NeuralField,
    OccupancyGrid, sigmoid,
};

fn layer(inputs: usize, outputs: usize, weight: Vec<f32>, bias: Vec<f32>, activation: Activation) -> DenseLayer {
    DenseLayer {
        inputs,
        outputs,
        weight,
        bias,
        activation,
    }
}

/// A 2³ dense grid whose vertex `(i, j, k)` holds `1 + i + 2j + 4k`, read by an identity layer.
fn dense_identity() -> NeuralField {
    let values = (0..8).map(|n| 1.0 + n as f32).collect();
    NeuralField {
        bounds_min: [-10.0, 0.0, 5.0],
        bounds_max: [10.0, 4.0, 9.0],
        encoding: Encoding::Dense(DenseGrid {
            resolution: [2, 2, 2],
            features: 1,
            values,
        }),
        layers: vec![layer(1, 1, vec![1.0], vec![0.0], Activation::None)],
        cam: None,
        output: FieldOutput::Intensity {
            scale: 2.0,
            offset: 1.0,
        },
        occupancy: None,
    }
}

#[track_caller]
fn close(got: f32, want: f64, tol: f64) {
    assert!(
        (got as f64 - want).abs() <= tol * want.abs().max(1.0),
        "got {got}, want {want}"
    );
}

#[test]
fn dense_grid_identity_layer() {
    let f = dense_identity();
    f.validate().unwrap();
    // x = (0.25, 0.5, 0.75): 1 + 0.25 + 2·0.5 + 4·0.75 = 5.25, then ·2 + 1.
    assert_eq!(f.eval([-5.0, 2.0, 8.0]), [11.5, 0.0, 0.0, 0.0]);
    // Corners, and clamping outside the box.
    assert_eq!(f.eval([-10.0, 0.0, 5.0])[0], 3.0);
    assert_eq!(f.eval([10.0, 4.0, 9.0])[0], 17.0);
    assert_eq!(f.eval([-99.0, -99.0, -99.0])[0], 3.0);
    assert_eq!(f.eval([99.0, 0.0, 5.0])[0], 5.0);
    assert_eq!(f.feature_count(), 1);
    assert_eq!(f.parameter_count(), 8 + 2);
}

#[test]
fn dense_grid_vertices_and_two_features() {
    // 3 × 2 × 2 vertices, 2 features: f0 = i (vertex at x = i/2), f1 = 10·k.
    let mut values = Vec::new();
    for k in 0..2 {
        for _j in 0..2 {
            for i in 0..3 {
                values.extend([i as f32, 10.0 * k as f32]);
            }
        }
    }
    let f = NeuralField {
        bounds_min: [0.0; 3],
        bounds_max: [1.0; 3],
        encoding: Encoding::Dense(DenseGrid {
            resolution: [3, 2, 2],
            features: 2,
            values,
        }),
        layers: vec![layer(2, 1, vec![1.0, 0.5], vec![0.25], Activation::Relu)],
        cam: None,
        output: FieldOutput::Intensity {
            scale: 1.0,
            offset: 0.0,
        },
        occupancy: None,
    };
    f.validate().unwrap();
    // x = 0.75 → u = 1.5 → f0 = 1.5; z = 0.5 → f1 = 5; 1.5 + 2.5 + 0.25.
    assert_eq!(f.eval([0.75, 0.3, 0.5])[0], 4.25);
    assert_eq!(f.features([1.0, 1.0, 1.0]), [2.0, 10.0]);
}

/// One hash level of 4 entries over a 4³ lattice: every corner collides.
fn tiny_hash(params: Vec<f32>) -> NeuralField {
    NeuralField {
        bounds_min: [0.0; 3],
        bounds_max: [1.0; 3],
        encoding: Encoding::HashGrid(HashGrid {
            levels: 1,
            features: 1,
            log2_table_size: 2,
            base_resolution: 4,
            per_level_scale: 2.0,
            params,
        }),
        layers: vec![layer(1, 1, vec![1.0], vec![0.0], Activation::None)],
        cam: None,
        output: FieldOutput::Intensity {
            scale: 1.0,
            offset: 0.0,
        },
        occupancy: None,
    }
}

#[test]
fn hash_level_with_collisions() {
    let f = tiny_hash(vec![1.0, 10.0, 100.0, 1000.0]);
    f.validate().unwrap();
    let Encoding::HashGrid(g) = &f.encoding else {
        unreachable!()
    };
    let level = g.level(0);
    assert_eq!((level.scale, level.resolution, level.dense), (3.0, 4, false));
    // x = 0.25: pos = 0.25·3 + 0.5 = 1.25 → corners 1 and 2 on every axis, weights 0.75 / 0.25.
    let hash =
        |i: u32, j: u32, k: u32| ((i ^ j.wrapping_mul(2_654_435_761) ^ k.wrapping_mul(805_459_861)) % 4) as usize;
    let mut want = 0.0f64;
    for c in 0..8u32 {
        let (i, j, k) = (1 + (c & 1), 1 + ((c >> 1) & 1), 1 + ((c >> 2) & 1));
        let w: f64 = [c & 1, (c >> 1) & 1, (c >> 2) & 1]
            .iter()
            .map(|&b| if b == 1 { 0.25 } else { 0.75 })
            .product();
        assert_eq!(g.corner_index(&level, [i, j, k]), hash(i, j, k));
        want += w * [1.0, 10.0, 100.0, 1000.0][hash(i, j, k)];
    }
    // The 8 corners land on two entries: (1,1,1) and three others on entry 1, the rest on entry 2.
    assert_eq!(hash(1, 1, 1), 1);
    assert_eq!(hash(2, 1, 1), 2);
    assert_eq!(hash(2, 2, 1), 1);
    assert_eq!(want, 0.5625 * 10.0 + 0.4375 * 100.0);
    assert_eq!(f.eval([0.25, 0.25, 0.25])[0] as f64, want);
    // x = 0: pos = 0.5 on every axis, corners 0 and 1: entries 0 and 1 half each.
    assert_eq!(f.eval([0.0, 0.0, 0.0])[0], 5.5);
}

#[test]
fn dense_hash_levels_wrap_like_tcnn() {
    // base 2, ×2: level 0 has scale 1 (2³ vertices), level 1 scale 3 (4³ = 64 vertices), both dense in
    // a table of 64; the top half-cell of level 1 reads corner 4, which wraps.
    let table = 64usize;
    let params: Vec<f32> = (0..2 * table)
        .map(|n| (n % table) as f32 + if n >= table { 0.5 } else { 0.0 })
        .collect();
    let f = NeuralField {
        bounds_min: [0.0; 3],
        bounds_max: [1.0; 3],
        encoding: Encoding::HashGrid(HashGrid {
            levels: 2,
            features: 1,
            log2_table_size: 6,
            base_resolution: 2,
            per_level_scale: 2.0,
            params: params.clone(),
        }),
        layers: vec![layer(2, 1, vec![1.0, 1000.0], vec![0.0], Activation::None)],
        cam: None,
        output: FieldOutput::Intensity {
            scale: 1.0,
            offset: 0.0,
        },
        occupancy: None,
    };
    f.validate().unwrap();
    let Encoding::HashGrid(g) = &f.encoding else {
        unreachable!()
    };
    assert!(g.level(0).dense && g.level(1).dense);
    assert_eq!(g.level(1).resolution, 4);
    // x = 1: level 1 pos = 3.5 → corners 3 and 4 (weights ½); index i + 4j + 16k mod 64.
    let mut want1 = 0.0f64;
    for c in 0..8u32 {
        let (i, j, k) = (3 + (c & 1), 3 + ((c >> 1) & 1), 3 + ((c >> 2) & 1));
        want1 += 0.125 * params[table + ((i + 4 * j + 16 * k) % 64) as usize] as f64;
    }
    // Level 0 at x = 1: pos = 1.5 → corners 1, 2, index i + 2j + 4k.
    let mut want0 = 0.0f64;
    for c in 0..8u32 {
        let (i, j, k) = (1 + (c & 1), 1 + ((c >> 1) & 1), 1 + ((c >> 2) & 1));
        want0 += 0.125 * params[((i + 2 * j + 4 * k) % 64) as usize] as f64;
    }
    let feats = f.features([1.0, 1.0, 1.0]);
    assert_eq!(feats[0] as f64, want0);
    assert_eq!(feats[1] as f64, want1);
    close(f.eval([1.0, 1.0, 1.0])[0], want0 + 1000.0 * want1, 1e-6);
}

#[test]
fn cam_with_constant_modulation() {
    // Dense 2³ grid with 2 features, f = (1 + x, 2·y); layer 0: 2 → 3 (relu) with γ = 2, β = 1;
    // layer 1: 3 → 1, no CAM.
    let mut values = Vec::new();
    for k in 0..2 {
        for j in 0..2 {
            for i in 0..2 {
                let _ = k;
                values.extend([1.0 + i as f32, 2.0 * j as f32]);
            }
        }
    }
    let w0 = vec![1.0, 0.0, 0.0, 1.0, 1.0, -1.0];
    let b0 = vec![0.5, -0.25, 0.0];
    let w1 = vec![0.5, -1.0, 2.0];
    let b1 = vec![0.125];
    let f = NeuralField {
        bounds_min: [0.0; 3],
        bounds_max: [1.0; 3],
        encoding: Encoding::Dense(DenseGrid {
            resolution: [2, 2, 2],
            features: 2,
            values,
        }),
        layers: vec![
            layer(2, 3, w0.clone(), b0.clone(), Activation::Relu),
            layer(3, 1, w1.clone(), b1.clone(), Activation::None),
        ],
        cam: Some(Cam {
            grids: vec![CamGrid {
                resolution: [2, 2, 2],
                scale: vec![2.0; 8],
                shift: vec![1.0; 8],
            }],
            normalize: true,
        }),
        output: FieldOutput::Intensity {
            scale: 1.0,
            offset: 0.0,
        },
        occupancy: None,
    };
    f.validate().unwrap();
    for p in [[0.3f32, 0.6, 0.1], [0.0, 0.0, 0.0], [1.0, 0.25, 0.5], [0.9, 0.9, 0.9]] {
        let feats = [1.0 + p[0] as f64, 2.0 * p[1] as f64];
        let h: Vec<f64> = (0..3)
            .map(|o| w0[o * 2] as f64 * feats[0] + w0[o * 2 + 1] as f64 * feats[1] + b0[o] as f64)
            .collect();
        let mean = h.iter().sum::<f64>() / 3.0;
        let var = h.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 3.0;
        let h: Vec<f64> = h
            .iter()
            .map(|v| (2.0 * (v - mean) / (var + 1e-5).sqrt() + 1.0).max(0.0))
            .collect();
        let want: f64 = h.iter().zip(&w1).map(|(a, b)| a * *b as f64).sum::<f64>() + b1[0] as f64;
        close(f.eval(p)[0], want, 1e-5);
    }
    // Without CAM the same network gives something else.
    let mut plain = f.clone();
    plain.cam = None;
    assert!((plain.eval([0.3, 0.6, 0.1])[0] - f.eval([0.3, 0.6, 0.1])[0]).abs() > 1e-3);
    // Modulation without normalisation: relu(2·h + 1).
    let mut unnormalised = f.clone();
    unnormalised.cam.as_mut().unwrap().normalize = false;
    for p in [[0.3f32, 0.6, 0.1], [1.0, 0.25, 0.5]] {
        let feats = [1.0 + p[0] as f64, 2.0 * p[1] as f64];
        let want: f64 = (0..3)
            .map(|o| {
                let h = w0[o * 2] as f64 * feats[0] + w0[o * 2 + 1] as f64 * feats[1] + b0[o] as f64;
                (2.0 * h + 1.0).max(0.0) * w1[o] as f64
            })
            .sum::<f64>()
            + b1[0] as f64;
        close(unnormalised.eval(p)[0], want, 1e-5);
    }
    assert_eq!(f.parameter_count(), 16 + 6 + 3 + 3 + 1 + 16);
}

#[test]
fn density_rgb_readout() {
    let mut f = dense_identity();
    f.encoding = Encoding::Dense(DenseGrid {
        resolution: [2, 2, 2],
        features: 1,
        values: vec![0.5; 8],
    });
    f.layers = vec![layer(
        1,
        4,
        vec![1.0, 2.0, -2.0, 0.0],
        vec![0.0, 0.0, 0.0, 3.0],
        Activation::Exp,
    )];
    f.output = FieldOutput::DensityRgb;
    f.validate().unwrap();
    let got = f.eval([0.0, 2.0, 7.0]);
    // σ = exp(0.5); colour = sigmoid of the pre-activation outputs 1, −1, 3.
    assert_eq!(got, [0.5f32.exp(), sigmoid(1.0), sigmoid(-1.0), sigmoid(3.0)]);
    f.layers[0].activation = Activation::Relu;
    assert_eq!(f.eval([0.0, 2.0, 7.0])[0], 0.5);
}

#[test]
fn batch_equals_single_and_occupancy() {
    let mut f = tiny_hash(vec![1.0, 10.0, 100.0, 1000.0]);
    let points: Vec<[f32; 3]> = (0..2000)
        .map(|n| {
            let t = n as f32 / 2000.0;
            [t, (t * 7.3).fract(), (t * 13.1).fract() * 1.2 - 0.1]
        })
        .collect();
    let batch = f.eval_batch(&points);
    assert_eq!(batch.len(), points.len());
    for (p, b) in points.iter().zip(&batch) {
        assert_eq!(f.eval(*p), *b);
    }
    assert!(f.occupied([0.5, 0.5, 0.5]));
    assert!(!f.occupied([1.5, 0.5, 0.5]));
    assert!(!f.occupied([f32::NAN, 0.5, 0.5]));
    f.occupancy = Some(OccupancyGrid {
        resolution: [2, 1, 1],
        occupied: vec![0, 1],
    });
    f.validate().unwrap();
    assert!(!f.occupied([0.25, 0.5, 0.5]));
    assert!(f.occupied([0.75, 0.5, 0.5]));
    assert!(f.occupied([1.0, 1.0, 1.0]));
}

#[track_caller]
fn invalid(f: &NeuralField, needle: &str) {
    match f.validate() {
        Err(e @ FieldError::Invalid { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(needle), "{msg:?} does not mention {needle:?}");
        }
        other => panic!("expected Invalid mentioning {needle:?}, got {other:?}"),
    }
}

#[test]
fn validation_errors() {
    let good = dense_identity();

    let mut f = good.clone();
    f.bounds_max[1] = f.bounds_min[1];
    invalid(&f, "axis 1");

    let mut f = good.clone();
    f.layers[0].inputs = 2;
    f.layers[0].weight = vec![1.0, 1.0];
    invalid(&f, "encoding gives 1 features");

    let mut f = good.clone();
    f.layers.push(layer(2, 1, vec![1.0, 1.0], vec![0.0], Activation::None));
    invalid(&f, "layer 1 takes 2 inputs, layer 0 gives 1 outputs");

    let mut f = good.clone();
    f.layers[0].weight.push(0.0);
    invalid(&f, "layer 0 weight holds 2 values");

    let mut f = good.clone();
    f.layers[0].bias.clear();
    invalid(&f, "bias holds 0 values");

    let mut f = good.clone();
    f.layers[0].weight[0] = f32::NAN;
    invalid(&f, "non-finite");

    let mut f = good.clone();
    f.cam = Some(Cam {
        grids: vec![CamGrid {
            resolution: [2, 2, 2],
            scale: vec![1.0; 8],
            shift: vec![0.0; 8],
        }],
        normalize: true,
    });
    invalid(&f, "cam has 1 grids, the MLP has 0 hidden layers");

    let mut f = good.clone();
    f.layers = vec![
        layer(1, 2, vec![1.0, 1.0], vec![0.0, 0.0], Activation::Relu),
        layer(2, 1, vec![1.0, 1.0], vec![0.0], Activation::None),
    ];
    f.cam = Some(Cam {
        grids: vec![CamGrid {
            resolution: [2, 1, 2],
            scale: vec![1.0; 4],
            shift: vec![0.0; 4],
        }],
        normalize: true,
    });
    invalid(&f, "at least 2 vertices");

    let mut f = good.clone();
    f.layers = vec![layer(1, 2, vec![1.0, 1.0], vec![0.0, 0.0], Activation::None)];
    invalid(&f, "must have 1 output");

    let mut f = good.clone();
    f.output = FieldOutput::DensityRgb;
    f.layers = vec![layer(1, 4, vec![1.0; 4], vec![0.0; 4], Activation::None)];
    invalid(&f, "non-negative activation");

    let mut f = good.clone();
    f.output = FieldOutput::DensityRgb;
    invalid(&f, "must have 4 outputs");

    let mut f = good.clone();
    if let Encoding::Dense(g) = &mut f.encoding {
        g.values.pop();
    }
    invalid(&f, "dense grid holds 7 values");

    let mut f = tiny_hash(vec![0.0; 3]);
    invalid(&f, "hash grid holds 3 values");
    f = tiny_hash(vec![0.0; 4]);
    if let Encoding::HashGrid(g) = &mut f.encoding {
        g.per_level_scale = 0.0;
    }
    invalid(&f, "per_level_scale");

    let mut f = good.clone();
    f.occupancy = Some(OccupancyGrid {
        resolution: [2, 2, 2],
        occupied: vec![1; 7],
    });
    invalid(&f, "occupancy holds 7 cells");

    let mut f = good;
    f.layers.clear();
    invalid(&f, "no layers");
}
