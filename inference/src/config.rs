//! What to fit: encoding, MLP widths, CAM and the optimiser's settings.

use crate::error::FitError;
use crate::fit::CAM_LEARNING_RATE_FACTOR;

/// The input encoding of a field to fit (sizes only; the values are learned).
#[derive(Clone, Debug, PartialEq)]
pub enum EncodingConfig {
    /// instant-ngp's multiresolution hash grid; see [`cortexlens_data::field::HashGrid`].
    HashGrid {
        /// Number of levels.
        levels: u32,
        /// Features per level.
        features: u32,
        /// log2 of the table entries per level.
        log2_table_size: u32,
        /// Resolution of the coarsest level.
        base_resolution: u32,
        /// Growth factor between levels.
        per_level_scale: f32,
    },
    /// One dense feature grid; see [`cortexlens_data::field::DenseGrid`].
    Dense {
        /// Vertices per axis (each ≥ 2).
        resolution: [u32; 3],
        /// Features per vertex.
        features: u32,
    },
}

impl EncodingConfig {
    /// Length of the feature vector the MLP receives.
    pub fn output_features(&self) -> usize {
        match *self {
            Self::HashGrid { levels, features, .. } => levels as usize * features as usize,
            Self::Dense { features, .. } => features as usize,
        }
    }

    /// Learned values in the encoding.
    pub fn parameter_count(&self) -> usize {
        match *self {
            Self::HashGrid {
                levels,
                features,
                log2_table_size,
                ..
            } => levels as usize * (1usize << log2_table_size) * features as usize,
            Self::Dense { resolution, features } => {
                resolution.iter().map(|&r| r as usize).product::<usize>() * features as usize
            }
        }
    }
}

/// Everything that defines a fit: model sizes, CAM, and the optimiser.
///
/// The MLP is `encoding → hidden[0] → … → hidden[last] → 1`, ReLU on hidden layers and no
/// activation on the output (the target is the volume's intensity normalised to `[0, 1]`).
#[derive(Clone, Debug, PartialEq)]
pub struct FitConfig {
    /// Input encoding.
    pub encoding: EncodingConfig,
    /// Widths of the hidden layers (at least one).
    pub hidden: Vec<usize>,
    /// Coordinate-aware modulation: a scale and shift grid per hidden layer (see
    /// [`cortexlens_data::field`]).
    pub cam: bool,
    /// Vertices per axis of each CAM grid (each ≥ 2); ignored without CAM.
    pub cam_resolution: [u32; 3],
    /// Whether the modulation normalises the layer's outputs first (CAM's image variant) or
    /// scales and shifts them as they are (its NeRF variant); ignored without CAM.
    pub cam_normalize: bool,
    /// The CAM grids' learning rate as a multiple of `learning_rate` (CAM's code: 10; 0 freezes
    /// them at γ = 1, β = 0); ignored without CAM.
    pub cam_learning_rate_factor: f64,
    /// Optimiser steps.
    pub steps: usize,
    /// Voxels sampled per step.
    pub batch: usize,
    /// Adam's learning rate for the encoding and the MLP (CAM grids: `cam_learning_rate_factor`×).
    pub learning_rate: f64,
    /// Seed of the initial weights and of the voxel sampling.
    pub seed: u64,
}

impl FitConfig {
    /// A hash-grid field sized for a 1 mm brain volume: 16 levels × 2 features × 2^16 entries from
    /// 16 to about 256 vertices per axis, two hidden layers of 64, CAM grids of 16³ when `cam` is on,
    /// 1000 steps of 8192 voxels at learning rate 1e-2 (instant-ngp's). About 2.1 M parameters; a
    /// few minutes on two CPU cores (see the `fit` benchmark).
    pub fn default_hash(cam: bool) -> Self {
        Self {
            encoding: EncodingConfig::HashGrid {
                levels: 16,
                features: 2,
                log2_table_size: 16,
                base_resolution: 16,
                per_level_scale: 1.2030,
            },
            hidden: vec![64, 64],
            cam,
            cam_resolution: [16, 16, 16],
            cam_normalize: true,
            cam_learning_rate_factor: CAM_LEARNING_RATE_FACTOR,
            steps: 1000,
            batch: 8192,
            learning_rate: 1e-2,
            seed: 0,
        }
    }

    /// A dense-grid field with the hash default's parameter budget: one 64³ grid of 8 features
    /// (2.1 M values) and otherwise [`FitConfig::default_hash`]'s MLP, CAM and optimiser settings.
    pub fn default_dense(cam: bool) -> Self {
        Self {
            encoding: EncodingConfig::Dense {
                resolution: [64, 64, 64],
                features: 8,
            },
            ..Self::default_hash(cam)
        }
    }

    /// Learned values: encoding, MLP weights and biases, and (with CAM) two values per vertex of
    /// each hidden layer's CAM grid.
    pub fn parameter_count(&self) -> usize {
        let mut inputs = self.encoding.output_features();
        let mut mlp = 0;
        for &width in self.hidden.iter().chain(std::iter::once(&1)) {
            mlp += inputs * width + width;
            inputs = width;
        }
        self.encoding.parameter_count() + mlp + self.cam_parameter_count()
    }

    /// Learned values in the CAM grids (0 without CAM).
    pub fn cam_parameter_count(&self) -> usize {
        if self.cam {
            let vertices: usize = self.cam_resolution.iter().map(|&r| r as usize).product();
            2 * vertices * self.hidden.len()
        } else {
            0
        }
    }

    /// Checks that the configuration can be trained.
    pub fn validate(&self) -> Result<(), FitError> {
        let bad = |what: &str| Err(FitError::Config(what.to_owned()));
        match self.encoding {
            EncodingConfig::HashGrid {
                levels,
                features,
                log2_table_size,
                base_resolution,
                per_level_scale,
            } => {
                if levels == 0 || features == 0 {
                    return bad("the hash grid needs at least one level and one feature");
                }
                if !(1..=28).contains(&log2_table_size) {
                    return bad("log2_table_size must be in 1..=28");
                }
                if base_resolution < 2 {
                    return bad("base_resolution must be at least 2");
                }
                if !(per_level_scale.is_finite() && per_level_scale >= 1.0) {
                    return bad("per_level_scale must be finite and at least 1");
                }
                let finest = base_resolution as f64 * (per_level_scale as f64).powi(levels as i32 - 1);
                if finest > 1e6 {
                    return bad("the finest hash-grid level exceeds 10^6 vertices per axis");
                }
            }
            EncodingConfig::Dense { resolution, features } => {
                if features == 0 || resolution.iter().any(|&r| r < 2) {
                    return bad("the dense grid needs at least 2 vertices per axis and one feature");
                }
                if resolution.iter().map(|&r| r as u64).product::<u64>() > u32::MAX as u64 {
                    return bad("the dense grid has more than 2^32 vertices");
                }
            }
        }
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return bad("hidden must list at least one layer, each with a positive width");
        }
        if self.cam && self.cam_resolution.iter().any(|&r| r < 2) {
            return bad("cam_resolution must be at least 2 per axis");
        }
        if self.cam && !(self.cam_learning_rate_factor.is_finite() && self.cam_learning_rate_factor >= 0.0) {
            return bad("cam_learning_rate_factor must be a finite number ≥ 0");
        }
        if self.steps == 0 || self.batch == 0 {
            return bad("steps and batch must be positive");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad("learning_rate must be positive");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_count_adds_encoding_mlp_and_cam() {
        let config = FitConfig::default_hash(true);
        let encoding = 16 * (1 << 16) * 2;
        let mlp = (32 * 64 + 64) + (64 * 64 + 64) + (64 + 1);
        let cam = 2 * 16 * 16 * 16 * 2;
        assert_eq!(config.parameter_count(), encoding + mlp + cam);
        assert_eq!(FitConfig::default_hash(false).parameter_count(), encoding + mlp);
    }

    #[test]
    fn dense_parameter_count() {
        let config = FitConfig {
            encoding: EncodingConfig::Dense {
                resolution: [4, 5, 6],
                features: 3,
            },
            hidden: vec![8],
            ..FitConfig::default_hash(false)
        };
        assert_eq!(config.parameter_count(), 4 * 5 * 6 * 3 + (3 * 8 + 8) + (8 + 1));
    }

    #[test]
    fn dense_default_matches_the_hash_budget() {
        let (dense, hash) = (FitConfig::default_dense(false), FitConfig::default_hash(false));
        assert!(dense.validate().is_ok());
        assert_eq!(dense.encoding.parameter_count(), hash.encoding.parameter_count());
        assert_eq!(
            (dense.hidden, dense.steps, dense.batch),
            (hash.hidden, hash.steps, hash.batch)
        );
    }

    #[test]
    fn validate_rejects_bad_sizes() {
        assert!(FitConfig::default_hash(true).validate().is_ok());
        let mut config = FitConfig::default_hash(true);
        config.hidden.clear();
        assert!(matches!(config.validate(), Err(FitError::Config(_))));
        let mut config = FitConfig::default_hash(true);
        config.cam_resolution = [1, 4, 4];
        assert!(config.validate().is_err());
        let mut config = FitConfig::default_hash(false);
        config.learning_rate = f64::NAN;
        assert!(config.validate().is_err());
    }
}
