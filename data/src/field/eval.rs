//! The CPU reference evaluator: [`NeuralField::eval`] and the pieces it is built from, public so
//! that the GPU evaluator and the candle model can take the very same per-level numbers.

use rayon::prelude::*;

use super::{Activation, CamGrid, DenseGrid, DenseLayer, Encoding, FieldOutput, HashGrid, NeuralField, OccupancyGrid};

/// Epsilon of the CAM instance normalisation: `norm(h) = (h − mean) / sqrt(var + CAM_EPS)`.
pub const CAM_EPS: f32 = 1e-5;

/// First hash prime (y), as tiny-cuda-nn's `coherent_prime_hash`.
pub const HASH_PRIME_Y: u32 = 2_654_435_761;
/// Second hash prime (z).
pub const HASH_PRIME_Z: u32 = 805_459_861;

/// The logistic sigmoid `1 / (1 + e^−x)`.
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// The geometry of one hash-grid level, as every evaluator must use it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HashLevel {
    /// `exp2(l · log2(per_level_scale)) · base_resolution − 1`, in `f32`.
    pub scale: f32,
    /// `ceil(scale) + 1` vertices per axis.
    pub resolution: u32,
    /// `resolution³ ≤ table_size`: corners are indexed densely, else hashed.
    pub dense: bool,
}

impl Activation {
    /// Applies the activation to one value.
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::None => x,
            Activation::Relu => x.max(0.0),
            Activation::Sigmoid => sigmoid(x),
            Activation::Exp => x.exp(),
        }
    }

    /// The name used in `.nfield` headers: `none`, `relu`, `sigmoid` or `exp`.
    pub fn name(self) -> &'static str {
        match self {
            Activation::None => "none",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Exp => "exp",
        }
    }
}

impl HashGrid {
    /// Entries per level, `2^log2_table_size`.
    pub fn table_size(&self) -> usize {
        1usize << self.log2_table_size
    }

    /// The geometry of level `level` (computed exactly as tiny-cuda-nn's `grid_scale` and
    /// `grid_resolution`).
    pub fn level(&self, level: u32) -> HashLevel {
        let scale = (level as f32 * self.per_level_scale.log2()).exp2() * self.base_resolution as f32 - 1.0;
        let resolution = scale.ceil() as u32 + 1;
        let dense = (resolution as u64)
            .checked_pow(3)
            .is_some_and(|n| n <= self.table_size() as u64);
        HashLevel {
            scale,
            resolution,
            dense,
        }
    }

    /// Index into the level's table of the corner at integer grid position `corner`.
    pub fn corner_index(&self, level: &HashLevel, corner: [u32; 3]) -> usize {
        let table = self.table_size() as u32;
        let [i, j, k] = corner;
        let index = if level.dense {
            let r = level.resolution;
            i.wrapping_add(j.wrapping_mul(r))
                .wrapping_add(k.wrapping_mul(r.wrapping_mul(r)))
        } else {
            i ^ j.wrapping_mul(HASH_PRIME_Y) ^ k.wrapping_mul(HASH_PRIME_Z)
        };
        // table_size ≤ 2^31, a power of two: `%` on u32 is exact (table = 2^31 only when
        // log2_table_size = 31, which validation rejects anyway).
        (index % table) as usize
    }

    /// Writes the `levels × features` features at normalised position `x` into `out`.
    pub fn encode(&self, x: [f32; 3], out: &mut [f32]) {
        let geometry: Vec<HashLevel> = (0..self.levels).map(|l| self.level(l)).collect();
        self.encode_with(&geometry, x, out);
    }

    pub(crate) fn encode_with(&self, geometry: &[HashLevel], x: [f32; 3], out: &mut [f32]) {
        let features = self.features as usize;
        let table = self.table_size();
        for (l, level) in geometry.iter().enumerate() {
            let mut base = [0u32; 3];
            let mut frac = [0f32; 3];
            for d in 0..3 {
                let pos = x[d] * level.scale + 0.5;
                let floor = pos.floor();
                base[d] = floor as u32;
                frac[d] = pos - floor;
            }
            let params = &self.params[l * table * features..(l + 1) * table * features];
            let result = &mut out[l * features..(l + 1) * features];
            result.fill(0.0);
            for c in 0..8u32 {
                let mut weight = 1.0f32;
                let mut corner = [0u32; 3];
                for d in 0..3 {
                    if c & (1 << d) == 0 {
                        weight *= 1.0 - frac[d];
                        corner[d] = base[d];
                    } else {
                        weight *= frac[d];
                        corner[d] = base[d] + 1;
                    }
                }
                let entry = self.corner_index(level, corner) * features;
                for (r, v) in result.iter_mut().zip(&params[entry..entry + features]) {
                    *r += weight * v;
                }
            }
        }
    }
}

/// Lower corner (`x`, `y`, `z`) and upper-corner weights of trilinear interpolation at `x` on a grid of
/// `res` vertices per axis (vertices at `i / (r − 1)`).
fn dense_cell(x: [f32; 3], res: [u32; 3]) -> ([usize; 3], [f32; 3]) {
    let mut base = [0usize; 3];
    let mut t = [0f32; 3];
    for d in 0..3 {
        let u = x[d] * (res[d] - 1) as f32;
        let i0 = (u.floor() as u32).min(res[d] - 2);
        base[d] = i0 as usize;
        t[d] = u - i0 as f32;
    }
    (base, t)
}

/// Trilinear interpolation of `features` values per vertex of a grid laid out `z, y, x, feature`.
fn trilinear(values: &[f32], res: [u32; 3], features: usize, x: [f32; 3], out: &mut [f32]) {
    let (base, t) = dense_cell(x, res);
    let (rx, ry) = (res[0] as usize, res[1] as usize);
    out.fill(0.0);
    for c in 0..8usize {
        let mut weight = 1.0f32;
        let mut corner = [0usize; 3];
        for d in 0..3 {
            if c & (1 << d) == 0 {
                weight *= 1.0 - t[d];
                corner[d] = base[d];
            } else {
                weight *= t[d];
                corner[d] = base[d] + 1;
            }
        }
        let entry = ((corner[2] * ry + corner[1]) * rx + corner[0]) * features;
        for (r, v) in out.iter_mut().zip(&values[entry..entry + features]) {
            *r += weight * v;
        }
    }
}

impl DenseGrid {
    /// Writes the `features` values interpolated at normalised position `x` into `out`.
    pub fn encode(&self, x: [f32; 3], out: &mut [f32]) {
        trilinear(&self.values, self.resolution, self.features as usize, x, out);
    }
}

impl CamGrid {
    /// `(γ, β)` interpolated at normalised position `x`.
    pub fn sample(&self, x: [f32; 3]) -> (f32, f32) {
        let mut g = [0f32];
        let mut b = [0f32];
        trilinear(&self.scale, self.resolution, 1, x, &mut g);
        trilinear(&self.shift, self.resolution, 1, x, &mut b);
        (g[0], b[0])
    }
}

impl DenseLayer {
    /// `out = W · input + b`, before modulation and activation.
    pub fn affine(&self, input: &[f32], out: &mut [f32]) {
        for (o, slot) in out.iter_mut().enumerate().take(self.outputs) {
            let row = &self.weight[o * self.inputs..(o + 1) * self.inputs];
            let mut acc = 0.0f32;
            for (w, h) in row.iter().zip(input) {
                acc += w * h;
            }
            *slot = acc + self.bias[o];
        }
    }
}

/// `h ← γ · (h − mean) / sqrt(var + CAM_EPS) + β` over all of `h` (population variance, two
/// passes) when `normalize`, else `h ← γ · h + β`.
pub fn modulate(h: &mut [f32], gamma: f32, beta: f32, normalize: bool) {
    if !normalize {
        for v in h.iter_mut() {
            *v = gamma * *v + beta;
        }
        return;
    }
    let n = h.len() as f32;
    let mean = h.iter().sum::<f32>() / n;
    let var = h.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let inv = 1.0 / (var + CAM_EPS).sqrt();
    for v in h.iter_mut() {
        *v = gamma * ((*v - mean) * inv) + beta;
    }
}

impl OccupancyGrid {
    /// Whether the cell holding normalised position `x ∈ [0,1]³` is occupied (`x = 1` belongs to
    /// the last cell).
    pub fn at(&self, x: [f32; 3]) -> bool {
        let mut cell = [0usize; 3];
        for d in 0..3 {
            let r = self.resolution[d];
            cell[d] = ((x[d] * r as f32).floor().max(0.0) as u32).min(r - 1) as usize;
        }
        let (rx, ry) = (self.resolution[0] as usize, self.resolution[1] as usize);
        self.occupied[(cell[2] * ry + cell[1]) * rx + cell[0]] != 0
    }
}

/// Reusable buffers of one evaluating thread.
struct Scratch {
    a: Vec<f32>,
    b: Vec<f32>,
}

/// Per-field constants, computed once per call of `eval` or `eval_batch`.
struct Prepared {
    levels: Vec<HashLevel>,
    width: usize,
}

impl NeuralField {
    /// The normalised position `x ∈ [0,1]³` of world point `world` (step 1 of the evaluation, clamped).
    pub fn normalize(&self, world: [f32; 3]) -> [f32; 3] {
        let mut x = [0f32; 3];
        for d in 0..3 {
            let t = (world[d] - self.bounds_min[d]) / (self.bounds_max[d] - self.bounds_min[d]);
            // `clamp` would keep a NaN; a NaN coordinate (a degenerate ray) reads the corner at 0.
            x[d] = if t >= 0.0 { t.min(1.0) } else { 0.0 };
        }
        x
    }

    /// Length of the encoding's feature vector (the first layer's inputs).
    pub fn feature_count(&self) -> usize {
        match &self.encoding {
            Encoding::HashGrid(g) => g.levels as usize * g.features as usize,
            Encoding::Dense(g) => g.features as usize,
        }
    }

    /// Number of learned values: encoding table or grid, weights, biases and CAM γ/β (the occupancy
    /// grid is not counted).
    pub fn parameter_count(&self) -> usize {
        let encoding = match &self.encoding {
            Encoding::HashGrid(g) => g.params.len(),
            Encoding::Dense(g) => g.values.len(),
        };
        let layers: usize = self.layers.iter().map(|l| l.weight.len() + l.bias.len()).sum();
        let cam: usize = self
            .cam
            .iter()
            .flat_map(|cam| &cam.grids)
            .map(|c| c.scale.len() + c.shift.len())
            .sum();
        encoding + layers + cam
    }

    /// Evaluates the field at world point `world` (see the module documentation for the exact
    /// specification). Intensity fields give `[value, 0, 0, 0]`, radiance fields `[σ, r, g, b]`.
    ///
    /// The field must be valid ([`NeuralField::validate`]; every loader checks it): an inconsistent
    /// field may panic here.
    pub fn eval(&self, world: [f32; 3]) -> [f32; 4] {
        let prepared = self.prepare();
        let mut scratch = self.scratch(&prepared);
        self.eval_prepared(&prepared, &mut scratch, world)
    }

    /// [`NeuralField::eval`] at every point, in parallel (rayon); the result is in the order of `points`.
    pub fn eval_batch(&self, points: &[[f32; 3]]) -> Vec<[f32; 4]> {
        let prepared = self.prepare();
        points
            .par_iter()
            .with_min_len(256)
            .map_init(
                || self.scratch(&prepared),
                |scratch, &p| self.eval_prepared(&prepared, scratch, p),
            )
            .collect()
    }

    /// Whether the field may be non-empty at world point `world`: false outside the box, true
    /// everywhere inside it without an occupancy grid, else the grid's cell.
    pub fn occupied(&self, world: [f32; 3]) -> bool {
        let mut x = [0f32; 3];
        for d in 0..3 {
            let t = (world[d] - self.bounds_min[d]) / (self.bounds_max[d] - self.bounds_min[d]);
            // Also false for NaN.
            if !(0.0..=1.0).contains(&t) {
                return false;
            }
            x[d] = t;
        }
        self.occupancy.as_ref().is_none_or(|grid| grid.at(x))
    }

    /// The encoding's feature vector at world point `world` (step 2 of the evaluation).
    pub fn features(&self, world: [f32; 3]) -> Vec<f32> {
        let x = self.normalize(world);
        let mut out = vec![0f32; self.feature_count()];
        match &self.encoding {
            Encoding::HashGrid(g) => g.encode(x, &mut out),
            Encoding::Dense(g) => g.encode(x, &mut out),
        }
        out
    }

    fn prepare(&self) -> Prepared {
        let levels = match &self.encoding {
            Encoding::HashGrid(g) => (0..g.levels).map(|l| g.level(l)).collect(),
            Encoding::Dense(_) => Vec::new(),
        };
        let width = self
            .layers
            .iter()
            .map(|l| l.inputs.max(l.outputs))
            .max()
            .unwrap_or(0)
            .max(self.feature_count());
        Prepared { levels, width }
    }

    fn scratch(&self, prepared: &Prepared) -> Scratch {
        Scratch {
            a: vec![0.0; prepared.width],
            b: vec![0.0; prepared.width],
        }
    }

    fn eval_prepared(&self, prepared: &Prepared, scratch: &mut Scratch, world: [f32; 3]) -> [f32; 4] {
        let x = self.normalize(world);
        let Scratch { a, b } = scratch;
        let n_features = self.feature_count();
        match &self.encoding {
            Encoding::HashGrid(g) => g.encode_with(&prepared.levels, x, &mut a[..n_features]),
            Encoding::Dense(g) => g.encode(x, &mut a[..n_features]),
        }
        let (mut input, mut output) = (a, b);
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            let out = &mut output[..layer.outputs];
            layer.affine(&input[..layer.inputs], out);
            if i == last {
                break;
            }
            if let Some(cam) = &self.cam {
                let (gamma, beta) = cam.grids[i].sample(x);
                modulate(out, gamma, beta, cam.normalize);
            }
            for v in out.iter_mut() {
                *v = layer.activation.apply(*v);
            }
            std::mem::swap(&mut input, &mut output);
        }
        let z = &output[..self.layers[last].outputs];
        let act = self.layers[last].activation;
        match self.output {
            FieldOutput::Intensity { scale, offset } => [act.apply(z[0]) * scale + offset, 0.0, 0.0, 0.0],
            FieldOutput::DensityRgb => [act.apply(z[0]), sigmoid(z[1]), sigmoid(z[2]), sigmoid(z[3])],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_geometry_matches_tcnn() {
        let g = HashGrid {
            levels: 8,
            features: 4,
            log2_table_size: 19,
            base_resolution: 16,
            per_level_scale: 2.0,
            params: Vec::new(),
        };
        let res: Vec<u32> = (0..8).map(|l| g.level(l).resolution).collect();
        assert_eq!(res, [16, 32, 64, 128, 256, 512, 1024, 2048]);
        let dense: Vec<bool> = (0..8).map(|l| g.level(l).dense).collect();
        assert_eq!(dense, [true, true, true, false, false, false, false, false]);
        assert_eq!(g.level(0).scale, 15.0);
        // Dense index wraps modulo the table like tiny-cuda-nn.
        let l0 = g.level(0);
        assert_eq!(g.corner_index(&l0, [1, 2, 3]), 1 + 2 * 16 + 3 * 256);
        let l3 = g.level(3);
        let h = 5u32 ^ 6u32.wrapping_mul(HASH_PRIME_Y) ^ 7u32.wrapping_mul(HASH_PRIME_Z);
        assert_eq!(g.corner_index(&l3, [5, 6, 7]), (h % (1 << 19)) as usize);
    }

    #[test]
    fn modulation_normalises() {
        let mut h = [1.0, 2.0, 3.0, 4.0];
        modulate(&mut h, 1.0, 0.0, true);
        let mean: f32 = h.iter().sum::<f32>() / 4.0;
        let var: f32 = h.iter().map(|v| v * v).sum::<f32>() / 4.0;
        assert!(mean.abs() < 1e-6);
        assert!((var - 1.25 / (1.25 + CAM_EPS)).abs() < 1e-5);
    }

    #[test]
    fn occupancy_cells() {
        let g = OccupancyGrid {
            resolution: [2, 1, 1],
            occupied: vec![0, 1],
        };
        assert!(!g.at([0.0, 0.0, 0.0]));
        assert!(!g.at([0.49, 0.5, 0.5]));
        assert!(g.at([0.5, 0.5, 0.5]));
        assert!(g.at([1.0, 1.0, 1.0]));
    }
}
