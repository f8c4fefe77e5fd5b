//! Summary statistics of a volume's scaled values, defined as numpy/nibabel compute them, and the
//! display ranges chosen from them ([`robust_range`], [`finite_min_max`]).

use crate::volume::Volume;

/// NaN-aware statistics over every value of every frame, accumulated in `f64`.
///
/// `min`, `max`, `mean` and `sum` ignore NaN (numpy's `nanmin`, `nanmax`, `nanmean`, `nansum`);
/// `n_nonzero` counts NaN as non-zero, as `numpy.count_nonzero` does. With no finite-or-infinite
/// value at all (empty, or all NaN) `min`, `max` and `mean` are NaN and `sum` is 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VolumeStats {
    /// Smallest non-NaN value.
    pub min: f64,
    /// Largest non-NaN value.
    pub max: f64,
    /// Mean of the non-NaN values.
    pub mean: f64,
    /// Sum of the non-NaN values.
    pub sum: f64,
    /// Number of NaN values.
    pub n_nan: usize,
    /// Number of values that are not zero (NaN included).
    pub n_nonzero: usize,
}

impl VolumeStats {
    /// Statistics of all frames of `volume`.
    pub fn of(volume: &Volume) -> VolumeStats {
        VolumeStats::of_values(&volume.data)
    }

    /// Statistics of any slice of values (same definitions as [`VolumeStats::of`]).
    pub fn of_values(values: &[f32]) -> VolumeStats {
        let mut min = f64::INFINITY;
        let mut max = f64::NEG_INFINITY;
        let mut sum = 0.0f64;
        let mut n_nan = 0usize;
        let mut n_zero = 0usize;
        for &v in values {
            if v.is_nan() {
                n_nan += 1;
                continue;
            }
            if v == 0.0 {
                n_zero += 1;
            }
            let v = f64::from(v);
            min = min.min(v);
            max = max.max(v);
            sum += v;
        }
        let n_valid = values.len() - n_nan;
        let (min, max, mean) = if n_valid == 0 {
            (f64::NAN, f64::NAN, f64::NAN)
        } else {
            (min, max, sum / n_valid as f64)
        };
        VolumeStats {
            min,
            max,
            mean,
            sum,
            n_nan,
            n_nonzero: values.len() - n_zero,
        }
    }
}

/// Values [`robust_range`] looks at, at most: a regular sample of larger volumes.
pub const ROBUST_RANGE_SAMPLES: usize = 1 << 20;

/// The display range of a volume as FSLeyes and nilearn show anatomy: the 2nd and 98th percentiles
/// of its finite values (all frames); see [`robust_range_where`].
pub fn robust_range(volume: &Volume) -> (f32, f32) {
    robust_range_where(volume, f32::is_finite)
}

/// The display range of an overlay as MRIcroGL and niivue choose it: [`robust_range`] of its
/// finite non-zero values, so that the zeros around a thresholded map do not pull it to 0.
pub fn robust_nonzero_range(volume: &Volume) -> (f32, f32) {
    robust_range_where(volume, |v| v.is_finite() && v != 0.0)
}

/// The 2nd and 98th percentiles of the values that `keep` (which must keep only finite values),
/// computed on every `n / 2^20`-th of the `n` kept values when there are more than
/// [`ROBUST_RANGE_SAMPLES`] (percentile `q` is the sorted sample's element at `round((n − 1) · q)`).
/// When the two coincide (a mostly constant volume, a mask) it falls back to the kept values' full
/// range, `(min, min + 1)` when that is a single value too, and to `(0, 1)` when nothing is kept.
pub fn robust_range_where(volume: &Volume, keep: impl Fn(f32) -> bool) -> (f32, f32) {
    let kept = volume.data.iter().filter(|&&v| keep(v)).count();
    let stride = (kept / ROBUST_RANGE_SAMPLES).max(1);
    let mut sample: Vec<f32> = volume
        .data
        .iter()
        .copied()
        .filter(|&v| keep(v))
        .step_by(stride)
        .collect();
    if sample.is_empty() {
        return (0.0, 1.0);
    }
    let pick = |sample: &mut Vec<f32>, q: f64| {
        let at = ((sample.len() - 1) as f64 * q).round() as usize;
        *sample.select_nth_unstable_by(at, f32::total_cmp).1
    };
    let lo = pick(&mut sample, 0.02);
    let hi = pick(&mut sample, 0.98);
    if hi > lo {
        return (lo, hi);
    }
    let (min, max) = volume
        .data
        .iter()
        .copied()
        .filter(|&v| keep(v))
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if max > min { (min, max) } else { (min, min + 1.0) }
}

/// The smallest and largest finite value of all frames; `(+∞, −∞)` when no value is finite.
pub fn finite_min_max(volume: &Volume) -> (f32, f32) {
    volume
        .data
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::DMat4;

    fn volume(data: Vec<f32>) -> Volume {
        Volume::from_f32("t", [data.len(), 1, 1, 1], DMat4::IDENTITY, data)
    }

    #[test]
    fn robust_range_ignores_outliers_and_nan() {
        let mut data: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        data.push(1e9);
        data.push(f32::NAN);
        let (lo, hi) = robust_range(&volume(data));
        assert!((15.0..25.0).contains(&lo) && (970.0..990.0).contains(&hi), "{lo} {hi}");
    }

    #[test]
    fn robust_range_picks_rounded_ranks_exactly() {
        // 0..=100: ranks round(100 · 0.02) = 2 and round(100 · 0.98) = 98; infinities are skipped.
        let mut data: Vec<f32> = (0..=100).rev().map(|i| i as f32).collect();
        data.extend([f32::INFINITY, f32::NEG_INFINITY]);
        assert_eq!(robust_range(&volume(data)), (2.0, 98.0));
    }

    #[test]
    fn robust_range_falls_back() {
        // A mask: both percentiles are 0, the full range is (0, 5).
        let mut mask = vec![0.0; 999];
        mask.push(5.0);
        assert_eq!(robust_range(&volume(mask)), (0.0, 5.0));
        // Constant: one unit above the value.
        assert_eq!(robust_range(&volume(vec![7.0; 10])), (7.0, 8.0));
        // Nothing finite, or nothing at all.
        assert_eq!(robust_range(&volume(vec![f32::NAN, f32::INFINITY])), (0.0, 1.0));
        assert_eq!(robust_range(&volume(Vec::new())), (0.0, 1.0));
    }

    #[test]
    fn robust_range_samples_large_volumes() {
        // 2^21 + 4 values: every second one is looked at, so the odd values (all 1000) are never
        // seen, and the even ones run 0, 1, 2, ….
        let n = (2 * ROBUST_RANGE_SAMPLES) + 4;
        let data: Vec<f32> = (0..n)
            .map(|i| if i % 2 == 0 { (i / 2) as f32 } else { 1000.0 })
            .collect();
        let (lo, hi) = robust_range(&volume(data));
        let count = (n / 2) as f64;
        assert_eq!(lo, ((count - 1.0) * 0.02).round() as f32);
        assert_eq!(hi, ((count - 1.0) * 0.98).round() as f32);
    }

    #[test]
    fn the_nonzero_range_of_a_sparse_map_ignores_its_zeros() {
        // A thresholded map: zeros everywhere but 100 voxels valued 3..=102.
        let mut data = vec![0.0; 100_000];
        for (i, v) in data.iter_mut().step_by(1000).enumerate() {
            *v = 3.0 + i as f32;
        }
        assert_eq!(robust_range(&volume(data.clone())), (0.0, 102.0), "the zeros win");
        assert_eq!(robust_nonzero_range(&volume(data)), (5.0, 100.0));
        // A binary mask: its one value, one unit wide.
        let mask: Vec<f32> = (0..50).map(|i| (i % 5 == 0) as u8 as f32).collect();
        assert_eq!(robust_nonzero_range(&volume(mask)), (1.0, 2.0));
    }

    #[test]
    fn finite_min_max_over_all_frames() {
        let v = Volume::from_f32(
            "4d",
            [2, 1, 1, 2],
            DMat4::IDENTITY,
            vec![3.0, f32::NAN, -2.0, f32::INFINITY],
        );
        assert_eq!(finite_min_max(&v), (-2.0, 3.0));
        assert_eq!(
            finite_min_max(&volume(vec![f32::NAN])),
            (f32::INFINITY, f32::NEG_INFINITY)
        );
    }

    #[test]
    fn nan_aware() {
        let s = VolumeStats::of_values(&[1.0, f32::NAN, 0.0, -3.0, 6.0]);
        assert_eq!((s.min, s.max, s.sum, s.mean), (-3.0, 6.0, 4.0, 1.0));
        assert_eq!((s.n_nan, s.n_nonzero), (1, 4));
    }

    #[test]
    fn empty_and_all_nan() {
        let s = VolumeStats::of_values(&[]);
        assert!(s.min.is_nan() && s.max.is_nan() && s.mean.is_nan());
        assert_eq!((s.sum, s.n_nan, s.n_nonzero), (0.0, 0, 0));
        let s = VolumeStats::of_values(&[f32::NAN, f32::NAN]);
        assert!(s.mean.is_nan());
        assert_eq!((s.n_nan, s.n_nonzero), (2, 2));
    }
}
