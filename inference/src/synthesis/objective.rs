//! The objective and the differentiable chain that reaches it: latent → VAE decode → `/2 + 0.5`
//! → clamp to [0, 1] → bilinear resize to CLIP's size → CLIP normalisation → CLIP image tower →
//! unit norm → the mean predicted response of the region's voxels.
//!
//! With a linear encoder `pred = W·ê + b`, the region mean is `w̄·ê + b̄` (w̄, b̄: the mean of the
//! region's weight rows and biases), so the encoder costs one dot product per image.

use candle_core::{DType, Device, Tensor};

use super::clip_tower::unit_rows;
use super::diff::BilinearResize;
use super::error::SynthesisError;
use super::models::SynthesisModels;
use crate::encoder::Encoder;

/// CLIP's normalisation (OpenAI's constants, also OpenCLIP's for the LAION models), as BrainDiVE
/// applies it.
pub use crate::clip::preprocess::{CLIP_MEAN, CLIP_STD};

/// The region's mean response as a function of a CLIP embedding.
#[derive(Debug, Clone)]
pub struct Objective {
    mean_weight: Tensor,
    mean_bias: f64,
    unit_normalized: bool,
}

impl Objective {
    /// The mean over `voxels` (encoder rows) of `encoder`, checked against the CLIP width `clip_dim`.
    pub fn new(encoder: &Encoder, voxels: &[usize], clip_dim: usize, device: &Device) -> Result<Self, SynthesisError> {
        let n = encoder.voxel_count();
        if voxels.is_empty() {
            return Err(SynthesisError::EmptyRegion { encoder_voxels: n });
        }
        if let Some(&voxel) = voxels.iter().find(|&&v| v >= n) {
            return Err(SynthesisError::VoxelOutOfRange {
                voxel,
                encoder_voxels: n,
            });
        }
        if encoder.dim() != clip_dim {
            return Err(SynthesisError::DimensionMismatch {
                encoder: encoder.dim(),
                clip: clip_dim,
            });
        }
        let d = encoder.dim();
        let mut weight = vec![0f64; d];
        let mut bias = 0f64;
        for &v in voxels {
            for (acc, &w) in weight.iter_mut().zip(encoder.voxel_weight(v)) {
                *acc += f64::from(w);
            }
            bias += f64::from(encoder.bias()[v]);
        }
        let k = voxels.len() as f64;
        let weight: Vec<f32> = weight.iter().map(|w| (w / k) as f32).collect();
        Ok(Self {
            mean_weight: Tensor::from_vec(weight, (d, 1), device)?,
            mean_bias: bias / k,
            unit_normalized: encoder.unit_normalized(),
        })
    }

    /// The region mean `[B]` of raw CLIP embeddings `[B, D]` (differentiable).
    pub fn of_embeddings(&self, embeddings: &Tensor) -> candle_core::Result<Tensor> {
        let e = embeddings.to_dtype(DType::F32)?;
        let e = if self.unit_normalized { unit_rows(&e)? } else { e };
        e.matmul(&self.mean_weight)?.squeeze(1)? + self.mean_bias
    }
}

/// Latents or images to the objective, with the resize built for one image size.
pub struct Chain<'a> {
    models: &'a SynthesisModels,
    resize: BilinearResize,
    mean: Tensor,
    std: Tensor,
}

impl<'a> Chain<'a> {
    /// The chain for `size`×`size` images.
    pub fn new(models: &'a SynthesisModels, size: (usize, usize)) -> Result<Self, SynthesisError> {
        let s = models.clip_image_size();
        let device = models.device();
        Ok(Self {
            models,
            resize: BilinearResize::new(size, (s, s), DType::F32, device)?,
            mean: Tensor::new(&CLIP_MEAN, device)?.reshape((1, 3, 1, 1))?,
            std: Tensor::new(&CLIP_STD, device)?.reshape((1, 3, 1, 1))?,
        })
    }

    /// Images in `[0, 1]` `[B, 3, H, W]` (f32) of scaled latents (`decode(z / scaling_factor)/2 + 0.5`,
    /// clamped).
    pub fn decode(&self, latents: &Tensor) -> candle_core::Result<Tensor> {
        let vae = &self.models.vae;
        let z = (latents / vae.config().scaling_factor)?.to_dtype(self.models.unet.dtype())?;
        let image = vae.decode(&z)?.to_dtype(DType::F32)?;
        ((image / 2.0)? + 0.5)?.clamp(0f32, 1f32)
    }

    /// Raw CLIP embeddings `[B, D]` of images in `[0, 1]`.
    pub fn embed(&self, images: &Tensor) -> candle_core::Result<Tensor> {
        let pixels = self
            .resize
            .forward(images)?
            .broadcast_sub(&self.mean)?
            .broadcast_div(&self.std)?;
        self.models.clip.forward(&pixels)
    }

    /// The objective `[B]` of images in `[0, 1]`.
    pub fn score_images(&self, objective: &Objective, images: &Tensor) -> candle_core::Result<Tensor> {
        objective.of_embeddings(&self.embed(images)?)
    }

    /// The objective `[B]` of scaled latents (differentiable end to end).
    pub fn score_latents(&self, objective: &Objective, latents: &Tensor) -> candle_core::Result<Tensor> {
        self.score_images(objective, &self.decode(latents)?)
    }
}
