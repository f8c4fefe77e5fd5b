//! Statistics of a drawn region: its size, and the values of other volumes inside it.

use glam::DVec3;

use crate::volume::Volume;

/// The size of one label of a drawing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegionStats {
    /// Voxels holding the label.
    pub voxels: usize,
    /// Their volume, mm³ (voxels × the grid's voxel volume).
    pub volume_mm3: f64,
}

/// Summary of a volume's values at a region's voxels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleStats {
    /// Finite values sampled (points outside the volume or on NaN are skipped).
    pub count: usize,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation (n − 1; 0 for one value).
    pub sd: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

/// The values of `volume`'s frame `frame` at world points, each taken at the nearest voxel (as
/// FSL's `fslstats -k` does on a mask of the same grid, where it samples exactly the mask's
/// voxels); `None` when no point lands on a finite value.
pub fn sample_stats(points: impl IntoIterator<Item = DVec3>, volume: &Volume, frame: usize) -> Option<SampleStats> {
    let to_voxel = volume.affine.inverse();
    // Welford's running mean and variance.
    let (mut count, mut mean, mut m2) = (0usize, 0.0f64, 0.0f64);
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for world in points {
        let v = to_voxel.transform_point3(world);
        let ijk = [v.x, v.y, v.z].map(|c| (c + 0.5).floor() as i64);
        let Some(value) = volume.value_at(ijk, frame).map(f64::from).filter(|v| v.is_finite()) else {
            continue;
        };
        count += 1;
        let delta = value - mean;
        mean += delta / count as f64;
        m2 += delta * (value - mean);
        min = min.min(value);
        max = max.max(value);
    }
    (count > 0).then(|| SampleStats {
        count,
        mean,
        sd: if count > 1 {
            (m2 / (count - 1) as f64).sqrt()
        } else {
            0.0
        },
        min,
        max,
    })
}

impl super::Drawing {
    /// How many voxels hold `label`, and their volume given one voxel's (mm³).
    pub fn region_stats(&self, label: i16, voxel_mm3: f64) -> RegionStats {
        let voxels = self.labels.iter().filter(|&&l| l == label).count();
        RegionStats {
            voxels,
            volume_mm3: voxels as f64 * voxel_mm3,
        }
    }
}
