//! Voxel-wise linear encoders: `response = W · feature + b` for each voxel of a reference grid.
//!
//! [`Encoder`] holds the weights and the voxels' grid indices; [`file`](mod@file) reads and writes the
//! safetensors format, [`import`] reads BrainSCUBA/BrainDiVE PyTorch checkpoints, [`ridge`] fits
//! encoders by ridge regression and [`fit`] drives a fit from a 4D NIfTI (or TSV) and stimulus images.
//! [`select`] chooses encoder voxels: under a world point ([`Encoder::voxel_at_world`]), where a
//! volume passes a test ([`Encoder::voxels_where`]), in a mask on the encoder's grid
//! ([`Encoder::voxels_in_mask`]) or by grid index ([`Encoder::voxels_at_indices`]).

pub mod file;
pub mod fit;
pub mod import;
pub mod metrics;
pub mod ridge;
pub mod select;

use candle_core::Tensor;
use glam::DMat4;

pub use self::select::{MaskRule, SelectError};
use crate::FileError;
use crate::clip::{ClipError, unit_normalize};

/// Why an encoder could not be built, read, written, imported or fitted.
#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    /// A file could not be read or written, or is not a valid encoder / checkpoint / table.
    #[error(transparent)]
    File(#[from] FileError),
    /// Arrays that do not agree (shapes, voxel indices outside the grid, bad options).
    #[error("invalid encoder: {0}")]
    Invalid(String),
    /// A volume or mask could not be loaded.
    #[error("{0}")]
    Load(#[from] cortexlens_data::LoadError),
    /// Computing CLIP embeddings failed.
    #[error("{0}")]
    Clip(#[from] ClipError),
    /// The cancel flag was raised.
    #[error("encoder fitting was cancelled")]
    Cancelled,
    /// An error from candle.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
}

/// A voxel-wise linear encoder on a reference grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Encoder {
    weight: Vec<f32>,
    bias: Vec<f32>,
    dim: usize,
    voxels: Vec<[u32; 3]>,
    grid_affine: DMat4,
    grid_shape: [usize; 3],
    backbone: String,
    unit_normalized: bool,
}

impl Encoder {
    /// Builds an encoder, checking that `weight` is `[N, dim]` row-major, `bias` has `N` values,
    /// there are `N` voxels, all inside `grid_shape`, and every value is finite.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        weight: Vec<f32>,
        bias: Vec<f32>,
        dim: usize,
        voxels: Vec<[u32; 3]>,
        grid_affine: DMat4,
        grid_shape: [usize; 3],
        backbone: impl Into<String>,
        unit_normalized: bool,
    ) -> Result<Encoder, EncoderError> {
        let n = voxels.len();
        if dim == 0 {
            return Err(EncoderError::Invalid("feature dimension 0".into()));
        }
        if weight.len() != n * dim {
            return Err(EncoderError::Invalid(format!(
                "weight has {} values, expected {n} voxels × {dim} features",
                weight.len()
            )));
        }
        if bias.len() != n {
            return Err(EncoderError::Invalid(format!(
                "bias has {} values for {n} voxels",
                bias.len()
            )));
        }
        if let Some(v) = voxels.iter().find(|v| (0..3).any(|a| v[a] as usize >= grid_shape[a])) {
            return Err(EncoderError::Invalid(format!(
                "voxel {v:?} outside the grid {grid_shape:?}"
            )));
        }
        if weight.iter().chain(&bias).any(|x| !x.is_finite()) {
            return Err(EncoderError::Invalid("weight or bias has non-finite values".into()));
        }
        if !grid_affine.is_finite() || grid_affine.determinant() == 0.0 {
            return Err(EncoderError::Invalid(
                "the grid affine is singular or not finite".into(),
            ));
        }
        Ok(Encoder {
            weight,
            bias,
            dim,
            voxels,
            grid_affine,
            grid_shape,
            backbone: backbone.into(),
            unit_normalized,
        })
    }

    /// Number of voxels `N`.
    pub fn voxel_count(&self) -> usize {
        self.voxels.len()
    }

    /// Feature dimension `D`.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Weights `[N, D]`, row-major.
    pub fn weight(&self) -> &[f32] {
        &self.weight
    }

    /// The weight vector of voxel `v`.
    pub fn voxel_weight(&self, v: usize) -> &[f32] {
        &self.weight[v * self.dim..(v + 1) * self.dim]
    }

    /// Biases `[N]`.
    pub fn bias(&self) -> &[f32] {
        &self.bias
    }

    /// Grid indices `(i, j, k)` of the voxels, in weight-row order.
    pub fn voxels(&self) -> &[[u32; 3]] {
        &self.voxels
    }

    /// Voxel index → world millimetres of the reference grid.
    pub fn grid_affine(&self) -> DMat4 {
        self.grid_affine
    }

    /// `[nx, ny, nz]` of the reference grid.
    pub fn grid_shape(&self) -> [usize; 3] {
        self.grid_shape
    }

    /// The feature extractor's name (e.g. `openai/clip-vit-base-patch32`).
    pub fn backbone(&self) -> &str {
        &self.backbone
    }

    /// Whether features are divided by their L2 norm before the linear map.
    pub fn unit_normalized(&self) -> bool {
        self.unit_normalized
    }

    /// The row of voxel `(i, j, k)`, if the encoder has it.
    pub fn find_voxel(&self, ijk: [u32; 3]) -> Option<usize> {
        self.voxels.iter().position(|&v| v == ijk)
    }

    /// Predicted responses `[B, N]` of features `[B, D]` (normalised first when
    /// [`unit_normalized`](Self::unit_normalized)), on the features' device.
    pub fn predict(&self, features: &Tensor) -> Result<Tensor, EncoderError> {
        let (_, d) = features
            .dims2()
            .map_err(|_| EncoderError::Invalid(format!("features of shape {:?}, expected [B, D]", features.dims())))?;
        if d != self.dim {
            return Err(EncoderError::Invalid(format!(
                "features have {d} dimensions, the encoder {}",
                self.dim
            )));
        }
        let features = features.to_dtype(candle_core::DType::F32)?;
        let features = if self.unit_normalized {
            unit_normalize(&features)?
        } else {
            features
        };
        let device = features.device();
        let weight = Tensor::from_slice(&self.weight, (self.voxel_count(), self.dim), device)?;
        let bias = Tensor::from_slice(&self.bias, self.voxel_count(), device)?;
        Ok(features.matmul(&weight.t()?)?.broadcast_add(&bias)?)
    }
}

/// Voxel orders of a mask's non-zero voxels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VoxelOrder {
    /// C order over `[x, y, z]`: `k` fastest. What NumPy's `np.where(mask)` / `data[mask]` give on
    /// a nibabel `get_fdata()` array, hence BrainSCUBA's and BrainDiVE's voxel rows.
    #[default]
    C,
    /// Fortran order: `i` fastest, the order of voxels in NIfTI files and in cortexlens' `Volume`.
    F,
}

impl std::str::FromStr for VoxelOrder {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "c" | "C" => Ok(VoxelOrder::C),
            "f" | "F" => Ok(VoxelOrder::F),
            other => Err(format!("voxel order {other:?}: expected c or f")),
        }
    }
}

/// The non-zero voxels (NaN counts as zero) of a `[nx, ny, nz]` frame stored with `i` fastest,
/// listed in `order`.
pub fn mask_voxels(frame: &[f32], shape: [usize; 3], order: VoxelOrder) -> Vec<[u32; 3]> {
    let [nx, ny, nz] = shape;
    let on = |i: usize, j: usize, k: usize| {
        let v = frame[i + nx * (j + ny * k)];
        v != 0.0 && !v.is_nan()
    };
    let mut out = Vec::new();
    match order {
        VoxelOrder::F => {
            for k in 0..nz {
                for j in 0..ny {
                    for i in 0..nx {
                        if on(i, j, k) {
                            out.push([i as u32, j as u32, k as u32]);
                        }
                    }
                }
            }
        }
        VoxelOrder::C => {
            for i in 0..nx {
                for j in 0..ny {
                    for k in 0..nz {
                        if on(i, j, k) {
                            out.push([i as u32, j as u32, k as u32]);
                        }
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Encoder {
        Encoder::new(
            vec![1.0, 0.0, 0.0, 2.0],
            vec![0.5, -1.0],
            2,
            vec![[0, 0, 0], [1, 2, 0]],
            DMat4::IDENTITY,
            [2, 3, 1],
            "test",
            true,
        )
        .unwrap()
    }

    #[test]
    fn predict_normalises_when_asked() {
        let enc = tiny();
        let x = Tensor::new(&[[3.0f32, 4.0]], &candle_core::Device::Cpu).unwrap();
        let y = enc.predict(&x).unwrap().to_vec2::<f32>().unwrap();
        assert!((y[0][0] - 1.1).abs() < 1e-6 && (y[0][1] - 0.6).abs() < 1e-6, "{y:?}");
        let bad = Tensor::new(&[[1.0f32, 2.0, 3.0]], &candle_core::Device::Cpu).unwrap();
        assert!(matches!(enc.predict(&bad), Err(EncoderError::Invalid(_))));
        assert_eq!(enc.find_voxel([1, 2, 0]), Some(1));
    }

    #[test]
    fn constructor_validates() {
        let bad_voxel = Encoder::new(
            vec![0.0; 2],
            vec![0.0],
            2,
            vec![[0, 3, 0]],
            DMat4::IDENTITY,
            [2, 3, 1],
            "",
            false,
        );
        assert!(matches!(bad_voxel, Err(EncoderError::Invalid(_))));
        let bad_len = Encoder::new(
            vec![0.0; 3],
            vec![0.0],
            2,
            vec![[0, 0, 0]],
            DMat4::IDENTITY,
            [2, 3, 1],
            "",
            false,
        );
        assert!(bad_len.is_err());
        let nan = Encoder::new(
            vec![f32::NAN, 0.0],
            vec![0.0],
            2,
            vec![[0, 0, 0]],
            DMat4::IDENTITY,
            [1, 1, 1],
            "",
            false,
        );
        assert!(nan.is_err());
    }

    #[test]
    fn mask_orders() {
        // [2, 2, 2] with i fastest; on: (1,0,0), (0,1,0), (0,0,1)
        let frame = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, f32::NAN];
        assert_eq!(
            mask_voxels(&frame, [2, 2, 2], VoxelOrder::F),
            vec![[1, 0, 0], [0, 1, 0], [0, 0, 1]]
        );
        assert_eq!(
            mask_voxels(&frame, [2, 2, 2], VoxelOrder::C),
            vec![[0, 0, 1], [0, 1, 0], [1, 0, 0]]
        );
    }
}
