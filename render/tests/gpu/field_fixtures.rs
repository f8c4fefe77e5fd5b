//! Neural fields with random weights from a fixed seed, for the field tests and the benchmark's
//! style of field: hash-grid or dense encodings, with or without CAM, intensity or density–colour.

use cortexlens_data::field::{
    Activation, Cam, CamGrid, DenseGrid, DenseLayer, Encoding, FieldOutput, HashGrid, NeuralField, OccupancyGrid,
};

/// xorshift64*: a tiny deterministic generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..hi`.
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        let unit = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * unit
    }

    pub fn values(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| self.uniform(lo, hi)).collect()
    }
}

/// Which encoding a test field uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 6 levels × 2 features, 2^12 entries (levels 0–2 dense, 3–5 hashed), base 4, scale 1.6.
    Hash,
    /// 5×6×7 vertices × 8 features.
    Dense,
}

/// The box of every test field (mm).
pub const BOUNDS: ([f32; 3], [f32; 3]) = ([-20.0, -25.0, -15.0], [20.0, 15.0, 25.0]);

fn layer(rng: &mut Rng, inputs: usize, outputs: usize, activation: Activation) -> DenseLayer {
    let w = 1.5 / (inputs as f32).sqrt();
    DenseLayer {
        inputs,
        outputs,
        weight: rng.values(inputs * outputs, -w, w),
        bias: rng.values(outputs, -0.2, 0.2),
        activation,
    }
}

fn cam(rng: &mut Rng, resolution: [u32; 3]) -> CamGrid {
    let n = resolution.iter().product::<u32>() as usize;
    CamGrid {
        resolution,
        scale: rng.values(n, 0.5, 1.5),
        shift: rng.values(n, -0.5, 0.5),
    }
}

/// A field of `kind` with `hidden` hidden layers of `width` (ReLU), CAM when `with_cam`, and an
/// intensity (`out · 60 + 40`) or density–colour output (σ = ReLU).
pub fn random_field(
    seed: u64,
    kind: Kind,
    hidden: usize,
    width: usize,
    with_cam: bool,
    density_rgb: bool,
) -> NeuralField {
    let mut rng = Rng::new(seed);
    let encoding = match kind {
        Kind::Hash => {
            let (levels, features, log2) = (6, 2, 12);
            Encoding::HashGrid(HashGrid {
                levels,
                features,
                log2_table_size: log2,
                base_resolution: 4,
                per_level_scale: 1.6,
                params: rng.values(((levels * features) as usize) << log2, -1.0, 1.0),
            })
        }
        Kind::Dense => Encoding::Dense(DenseGrid {
            resolution: [5, 6, 7],
            features: 8,
            values: rng.values(5 * 6 * 7 * 8, -1.0, 1.0),
        }),
    };
    let features = match &encoding {
        Encoding::HashGrid(g) => (g.levels * g.features) as usize,
        Encoding::Dense(g) => g.features as usize,
    };
    let mut layers = Vec::new();
    let mut inputs = features;
    for _ in 0..hidden {
        layers.push(layer(&mut rng, inputs, width, Activation::Relu));
        inputs = width;
    }
    let (outputs, output, last) = if density_rgb {
        (4, FieldOutput::DensityRgb, Activation::Relu)
    } else {
        (
            1,
            FieldOutput::Intensity {
                scale: 60.0,
                offset: 40.0,
            },
            Activation::None,
        )
    };
    layers.push(layer(&mut rng, inputs, outputs, last));
    let cam = with_cam.then(|| Cam {
        grids: (0..hidden).map(|_| cam(&mut rng, [3, 4, 5])).collect(),
        normalize: true,
    });
    NeuralField {
        bounds_min: BOUNDS.0,
        bounds_max: BOUNDS.1,
        encoding,
        layers,
        cam,
        output,
        occupancy: None,
    }
}

/// An occupancy grid of `resolution` cells keeping those whose centre lies within `radius` of the
/// box's centre (in units of the box, 0.5 = the inscribed ball).
pub fn ball_occupancy(resolution: [u32; 3], radius: f32) -> OccupancyGrid {
    let mut occupied = Vec::new();
    for k in 0..resolution[2] {
        for j in 0..resolution[1] {
            for i in 0..resolution[0] {
                let c = [i, j, k].map(|v| v as f32 + 0.5);
                let d2: f32 = (0..3).map(|a| (c[a] / resolution[a] as f32 - 0.5).powi(2)).sum();
                occupied.push((d2 <= radius * radius) as u8);
            }
        }
    }
    OccupancyGrid { resolution, occupied }
}
