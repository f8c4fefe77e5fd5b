//! Training data from one frame of a volume: voxel centres mapped into the field's `[0, 1]³` box,
//! intensities normalised to `[0, 1]` by the frame's finite minimum and maximum.

use cortexlens_data::Volume;
use glam::DVec3;

use crate::error::FitError;
use crate::rng::Rng;

/// Voxels in the fixed validation sample (all voxels when the frame has fewer).
pub(crate) const VALIDATION_VOXELS: usize = 1 << 15;

/// Normalised positions and targets of a set of voxels.
#[derive(Clone, Debug, Default)]
pub(crate) struct Batch {
    /// Positions in `[0, 1]³`.
    pub x: Vec<[f32; 3]>,
    /// Normalised intensities.
    pub target: Vec<f32>,
}

/// One frame of a volume, ready to sample.
pub(crate) struct TrainingData<'a> {
    values: &'a [f32],
    shape: [usize; 3],
    /// Row `a`: `x_a = m[a][0]·i + m[a][1]·j + m[a][2]·k + m[a][3]`.
    to_x: [[f64; 4]; 3],
    /// Indices of the finite voxels, when some are not finite (`None`: every voxel is).
    finite: Option<Vec<usize>>,
    /// Smallest finite value.
    pub lo: f32,
    /// `max − min` of the finite values (1 for a constant frame).
    pub range: f32,
    /// World corner mapped to `x = 0` (the volume's world bounding box).
    pub bounds_min: [f32; 3],
    /// World corner mapped to `x = 1`.
    pub bounds_max: [f32; 3],
}

impl<'a> TrainingData<'a> {
    /// Frame `frame` of `volume`, fitted over its world bounding box.
    pub(crate) fn new(volume: &'a Volume, frame: usize) -> Result<Self, FitError> {
        if frame >= volume.frames() {
            return Err(FitError::Frame {
                frame,
                frames: volume.frames(),
            });
        }
        let values = volume.frame(frame);
        let (mut lo, mut hi, mut finite_count) = (f32::INFINITY, f32::NEG_INFINITY, 0usize);
        for &v in values.iter().filter(|v| v.is_finite()) {
            lo = lo.min(v);
            hi = hi.max(v);
            finite_count += 1;
        }
        if finite_count == 0 {
            return Err(FitError::NoData);
        }
        let finite = (finite_count < values.len()).then(|| {
            values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(i, _)| i)
                .collect()
        });
        let range = if hi > lo { hi - lo } else { 1.0 };
        let (min, max) = volume.world_bounds();
        let bounds_min = [min.x as f32, min.y as f32, min.z as f32];
        let bounds_max = [max.x as f32, max.y as f32, max.z as f32];
        let origin = volume.voxel_to_world(DVec3::ZERO);
        let mut to_x = [[0.0; 4]; 3];
        for (b, column) in [DVec3::X, DVec3::Y, DVec3::Z].into_iter().enumerate() {
            let step = volume.voxel_to_world(column) - origin;
            for a in 0..3 {
                to_x[a][b] = step[a] / extent(bounds_min, bounds_max, a);
            }
        }
        for a in 0..3 {
            to_x[a][3] = (origin[a] - bounds_min[a] as f64) / extent(bounds_min, bounds_max, a);
        }
        Ok(Self {
            values,
            shape: [volume.shape[0], volume.shape[1], volume.shape[2]],
            to_x,
            finite,
            lo,
            range,
            bounds_min,
            bounds_max,
        })
    }

    /// Number of voxels that can be sampled.
    pub(crate) fn len(&self) -> usize {
        self.finite.as_ref().map_or(self.values.len(), Vec::len)
    }

    /// `count` voxels drawn uniformly (with replacement) from the finite ones.
    pub(crate) fn sample(&self, rng: &mut Rng, count: usize, batch: &mut Batch) {
        batch.x.clear();
        batch.target.clear();
        for _ in 0..count {
            let pick = rng.below(self.len());
            self.push(self.finite.as_ref().map_or(pick, |f| f[pick]), batch);
        }
    }

    /// A fixed validation sample: every finite voxel when there are at most
    /// [`VALIDATION_VOXELS`], else that many drawn with `seed`.
    pub(crate) fn validation(&self, seed: u64) -> Batch {
        let mut batch = Batch::default();
        if self.len() <= VALIDATION_VOXELS {
            for pick in 0..self.len() {
                self.push(self.finite.as_ref().map_or(pick, |f| f[pick]), &mut batch);
            }
        } else {
            self.sample(&mut Rng::new(seed), VALIDATION_VOXELS, &mut batch);
        }
        batch
    }

    /// Voxels per axis.
    pub(crate) fn shape(&self) -> [usize; 3] {
        self.shape
    }

    /// Calls `f(x, value)` for every finite voxel: its normalised position and normalised value.
    pub(crate) fn for_each_voxel(&self, mut f: impl FnMut([f32; 3], f32)) {
        let mut batch = Batch::default();
        for pick in 0..self.len() {
            batch.x.clear();
            batch.target.clear();
            self.push(self.finite.as_ref().map_or(pick, |f| f[pick]), &mut batch);
            f(batch.x[0], batch.target[0]);
        }
    }

    /// Appends voxel `index` (linear, i fastest).
    fn push(&self, index: usize, batch: &mut Batch) {
        let i = (index % self.shape[0]) as f64;
        let j = (index / self.shape[0] % self.shape[1]) as f64;
        let k = (index / (self.shape[0] * self.shape[1])) as f64;
        let x = self
            .to_x
            .map(|m| (m[0] * i + m[1] * j + m[2] * k + m[3]).clamp(0.0, 1.0) as f32);
        batch.x.push(x);
        batch.target.push((self.values[index] - self.lo) / self.range);
    }
}

/// Length of the box along axis `a` (1 for a degenerate axis, so that `x` stays finite).
fn extent(min: [f32; 3], max: [f32; 3], a: usize) -> f64 {
    let e = max[a] as f64 - min[a] as f64;
    if e > 0.0 { e } else { 1.0 }
}

#[cfg(test)]
mod tests {
    use glam::DMat4;

    use super::*;

    fn volume(data: Vec<f32>, shape: [usize; 3], affine: DMat4) -> Volume {
        Volume::from_f32("test", [shape[0], shape[1], shape[2], 1], affine, data)
    }

    #[test]
    fn voxel_centres_map_inside_the_world_box() {
        let affine = DMat4::from_cols_array(&[
            0.0, 2.0, 0.0, 0.0, //
            -1.5, 0.0, 0.3, 0.0, //
            0.0, 0.0, 1.0, 0.0, //
            10.0, -20.0, 5.0, 1.0,
        ]);
        let vol = volume((0..4 * 3 * 2).map(|v| v as f32).collect(), [4, 3, 2], affine);
        let data = TrainingData::new(&vol, 0).unwrap();
        let all = data.validation(0);
        assert_eq!(all.x.len(), 24);
        for (index, x) in all.x.iter().enumerate() {
            let ijk = DVec3::new((index % 4) as f64, (index / 4 % 3) as f64, (index / 12) as f64);
            let world = vol.voxel_to_world(ijk);
            for a in 0..3 {
                let expected =
                    (world[a] - data.bounds_min[a] as f64) / (data.bounds_max[a] as f64 - data.bounds_min[a] as f64);
                assert!((x[a] as f64 - expected).abs() < 1e-6);
                assert!(x[a] > 0.0 && x[a] < 1.0);
            }
        }
        assert_eq!((data.lo, data.range), (0.0, 23.0));
        assert_eq!(all.target[23], 1.0);
    }

    #[test]
    fn non_finite_voxels_are_never_sampled() {
        let mut values = vec![f32::NAN; 27];
        values[4] = 2.0;
        values[20] = 4.0;
        let vol = volume(values, [3, 3, 3], DMat4::IDENTITY);
        let data = TrainingData::new(&vol, 0).unwrap();
        let mut batch = Batch::default();
        data.sample(&mut Rng::new(3), 100, &mut batch);
        assert!(batch.target.iter().all(|&t| t == 0.0 || t == 1.0));
        assert_eq!(data.len(), 2);
        let empty = volume(vec![f32::NAN; 8], [2, 2, 2], DMat4::IDENTITY);
        assert!(matches!(TrainingData::new(&empty, 0), Err(FitError::NoData)));
        assert!(matches!(
            TrainingData::new(&vol, 1),
            Err(FitError::Frame { frame: 1, frames: 1 })
        ));
    }
}
