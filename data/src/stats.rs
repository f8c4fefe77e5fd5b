//! Summary statistics of a volume's scaled values, defined as numpy/nibabel compute them.

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

#[cfg(test)]
mod tests {
    use super::*;

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
