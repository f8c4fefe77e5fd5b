//! Shared helpers of the integration tests: random fields and synthetic volumes.

#![allow(dead_code)]

use cortexlens_data::Volume;
use cortexlens_data::field::{
    Activation, Cam, CamGrid, DenseGrid, DenseLayer, Encoding, FieldOutput, HashGrid, NeuralField,
};
use glam::{DMat4, DVec3};

/// A tiny deterministic generator (xorshift64*), independent of the crate's own.
pub struct TestRng(u64);

impl TestRng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn unit(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 / (1u64 << 24) as f32
    }

    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    pub fn vec(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| self.uniform(lo, hi)).collect()
    }
}

/// Which encoding a random field gets.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// 4 levels, 2 features, 2^10 entries, base 4, growth 2: levels 0–1 dense (level 0 and 1 with
    /// integer scales, so the wrapping corner is exercised), 2–3 hashed.
    Hash,
    /// Like `Hash` with a non-integer growth factor (1.7).
    HashFractional,
    /// A 5 × 4 × 6 grid of 3 features.
    Dense,
}

/// A random field with values of order one everywhere (so that parity and gradients are
/// meaningful), hidden layers `[16, 12]`, an intensity or radiance read-out.
pub fn random_field(kind: Kind, cam: bool, output: FieldOutput, seed: u64) -> NeuralField {
    let mut rng = TestRng::new(seed);
    let encoding = match kind {
        Kind::Hash | Kind::HashFractional => {
            let (levels, features, log2) = (4u32, 2u32, 10u32);
            Encoding::HashGrid(HashGrid {
                levels,
                features,
                log2_table_size: log2,
                base_resolution: 4,
                per_level_scale: if matches!(kind, Kind::Hash) { 2.0 } else { 1.7 },
                params: rng.vec(((levels * features) as usize) << log2, -1.0, 1.0),
            })
        }
        Kind::Dense => Encoding::Dense(DenseGrid {
            resolution: [5, 4, 6],
            features: 3,
            values: rng.vec(5 * 4 * 6 * 3, -1.0, 1.0),
        }),
    };
    let features = match &encoding {
        Encoding::HashGrid(g) => (g.levels * g.features) as usize,
        Encoding::Dense(g) => g.features as usize,
    };
    let (outputs, last_activation) = match output {
        FieldOutput::Intensity { .. } => (1, Activation::Sigmoid),
        FieldOutput::DensityRgb => (4, Activation::Exp),
    };
    let widths = [16, 12, outputs];
    let mut inputs = features;
    let mut layers = Vec::new();
    for (i, &width) in widths.iter().enumerate() {
        let bound = 1.5 / (inputs as f32).sqrt();
        layers.push(DenseLayer {
            inputs,
            outputs: width,
            weight: rng.vec(inputs * width, -bound, bound),
            bias: rng.vec(width, -0.3, 0.3),
            activation: if i + 1 < widths.len() {
                Activation::Relu
            } else {
                last_activation
            },
        });
        inputs = width;
    }
    let cam = cam.then(|| Cam {
        grids: [[3, 4, 5], [2, 2, 3]]
            .into_iter()
            .map(|resolution: [u32; 3]| {
                let n = resolution.iter().product::<u32>() as usize;
                CamGrid {
                    resolution,
                    scale: rng.vec(n, 0.5, 1.5),
                    shift: rng.vec(n, -0.5, 0.5),
                }
            })
            .collect(),
        normalize: true,
    });
    NeuralField {
        bounds_min: [-90.0, -126.0, -72.0],
        bounds_max: [91.0, 91.0, 109.0],
        encoding,
        layers,
        cam,
        output,
        occupancy: None,
    }
}

/// `n` random world points: 90 % inside the field's box, 10 % up to a fifth of the box outside it,
/// plus the box's two corners.
pub fn random_points(field: &NeuralField, n: usize, seed: u64) -> Vec<[f32; 3]> {
    let mut rng = TestRng::new(seed);
    let mut points = vec![field.bounds_min, field.bounds_max];
    while points.len() < n {
        let margin = if points.len() % 10 == 0 { 0.2 } else { 0.0 };
        points.push(std::array::from_fn(|a| {
            let (lo, hi) = (field.bounds_min[a], field.bounds_max[a]);
            let e = hi - lo;
            rng.uniform(lo - margin * e, hi + margin * e)
        }));
    }
    points
}

/// A smooth synthetic volume of `n³` voxels: two Gaussian blobs and a linear ramp, values in
/// `[100, ~400]`, on an oblique 2 mm grid (rotated 20° about z, shifted).
pub fn blob_volume(n: usize) -> Volume {
    let angle = 20f64.to_radians();
    let affine = DMat4::from_translation(DVec3::new(-30.0, 12.0, 5.0))
        * DMat4::from_rotation_z(angle)
        * DMat4::from_scale(DVec3::splat(2.0));
    let c = (n as f64 - 1.0) / 2.0;
    let mut data = Vec::with_capacity(n * n * n);
    for k in 0..n {
        for j in 0..n {
            for i in 0..n {
                let (x, y, z) = (i as f64 - c, j as f64 - c, k as f64 - c);
                let s = n as f64 / 5.0;
                let a = (-((x - 3.0).powi(2) + y * y + (z + 2.0).powi(2)) / (2.0 * s * s)).exp();
                let b = (-((x + 4.0).powi(2) + (y - 4.0).powi(2) + (z - 3.0).powi(2)) / (0.5 * s * s)).exp();
                data.push((100.0 + 200.0 * a + 80.0 * b + 2.0 * (x + c)) as f32);
            }
        }
    }
    Volume {
        name: "blob".into(),
        shape: [n, n, n, 1],
        ndim: 3,
        zooms: vec![2.0; 3],
        affine,
        datatype: "float32".into(),
        scl_slope: 1.0,
        scl_inter: 0.0,
        data,
        nifti_space: None,
    }
}
