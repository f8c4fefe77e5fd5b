//! The three sampling loops behind [`synthesize`](super::synthesize).

use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::{DType, Tensor};
use image::RgbImage;

use super::error::SynthesisError;
use super::guidance::{braindive_eps, guide_x0};
use super::models::SynthesisModels;
use super::objective::{Chain, Objective};
use super::scheduler::{DpmSolver, Euler, Spacing};
use super::{SynthesisConfig, SynthesisProgress};
use crate::rng::Rng;

/// What every loop needs besides its own state.
pub(super) struct Run<'a, 'p> {
    pub models: &'a SynthesisModels,
    pub chain: &'a Chain<'a>,
    pub objective: &'a Objective,
    pub config: &'a SynthesisConfig,
    pub cancel: &'a AtomicBool,
    pub progress: &'p mut dyn FnMut(&SynthesisProgress),
    /// Steps done before this loop (rerank runs several) and steps in all.
    pub done: usize,
    pub total: usize,
}

impl Run<'_, '_> {
    fn check_cancel(&self) -> Result<(), SynthesisError> {
        if self.cancel.load(Ordering::Relaxed) {
            Err(SynthesisError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Reports step `i` (0-based) of `n` in this loop, with a preview of `x0` every
    /// `preview_every` steps (never on the last one: the result follows).
    fn report(
        &mut self,
        i: usize,
        n: usize,
        x0: impl FnOnce() -> candle_core::Result<Tensor>,
    ) -> Result<(), SynthesisError> {
        let every = self.config.preview_every;
        let preview = if every > 0 && (i + 1).is_multiple_of(every) && i + 1 < n {
            Some(to_rgb(&self.chain.decode(&x0()?)?)?)
        } else {
            None
        };
        (self.progress)(&SynthesisProgress {
            step: self.done + i + 1,
            steps: self.total,
            preview,
        });
        Ok(())
    }

    /// The initial noise `[1, C, h, w]` of `seed` (standard normal, cortexlens' own generator).
    pub fn noise(&self, seed: u64) -> Result<Tensor, SynthesisError> {
        let c = self.models.unet.config().in_channels;
        let side = self.config.size / self.models.vae.config().downscale();
        let mut rng = Rng::new(seed);
        let values: Vec<f32> = (0..c * side * side).map(|_| rng.normal()).collect();
        Ok(Tensor::from_vec(values, (1, c, side, side), self.models.device())?)
    }

    /// DPM-Solver++(2M) from `noise`, guided as BrainDiVE when `scale ≠ 0`; returns the final latent.
    pub fn dpm(&mut self, noise: &Tensor, steps: usize, scale: f32) -> Result<Tensor, SynthesisError> {
        let mut solver = DpmSolver::new(&self.models.schedule, steps);
        let mut x = (noise * solver.init_noise_sigma())?;
        let timesteps = solver.timesteps().to_vec();
        for (i, &t) in timesteps.iter().enumerate() {
            self.check_cancel()?;
            let (eps, _) = braindive_eps(self.models, self.chain, self.objective, &x, t, scale)?;
            self.report(i, timesteps.len(), || solver.predict_x0(&eps, &x))?;
            x = solver.step(&eps, &x)?.detach();
        }
        Ok(x)
    }

    /// Euler sampling from `noise` (`spacing`: the folder's when `None`); when `scale ≠ 0` each
    /// clean-latent estimate is moved by [`guide_x0`] before re-noising to the next step.
    pub fn euler(
        &mut self,
        noise: &Tensor,
        steps: usize,
        scale: f32,
        spacing: Option<Spacing>,
    ) -> Result<Tensor, SynthesisError> {
        let mut euler = Euler::new(&self.models.schedule, steps, spacing);
        let leading = spacing.or(self.models.schedule.spacing) == Some(Spacing::Leading);
        let mut x = (noise * euler.init_noise_sigma(leading))?;
        let timesteps = euler.timesteps().to_vec();
        let cond = &self.models.conditioning;
        for (i, &t) in timesteps.iter().enumerate() {
            self.check_cancel()?;
            let input = euler.scale_model_input(&x)?;
            let eps = self.models.unet.forward(&input, t, cond)?.to_dtype(DType::F32)?;
            let x0 = euler.predict_x0(&eps, &x)?;
            let sigma = f64::from(euler.sigma(i));
            // √(1 − ᾱ) with ᾱ = 1/(σ² + 1): larger moves while the sample is noisy.
            let step = f64::from(scale) * sigma / (sigma * sigma + 1.0).sqrt();
            let guided = guide_x0(self.chain, self.objective, &x0, self.config.fast_iterations, step)?;
            self.report(i, timesteps.len(), || Ok(guided.clone()))?;
            // x₀′ + σ_next·ε, written as diffusers' Euler step plus the guidance's move.
            x = (euler.step(&eps, &x)? + (guided - x0)?)?.detach();
        }
        Ok(x)
    }
}

/// `[1, 3, H, W]` images in `[0, 1]` → an RGB image (`round(255·x)`, as diffusers' `numpy_to_pil`).
pub(super) fn to_rgb(images: &Tensor) -> Result<RgbImage, SynthesisError> {
    let (_, _, h, w) = images.dims4()?;
    let hwc = (images.get(0)?.permute((1, 2, 0))?.to_dtype(DType::F32)? * 255.0)?
        .round()?
        .clamp(0f32, 255f32)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let bytes = hwc.into_iter().map(|v| v as u8).collect();
    RgbImage::from_raw(w as u32, h as u32, bytes)
        .ok_or_else(|| SynthesisError::Settings("decoded image of the wrong size".into()))
}

/// An RGB image → `[1, 3, H, W]` in `[0, 1]` on `device`.
pub(super) fn from_rgb(image: &RgbImage, device: &candle_core::Device) -> Result<Tensor, SynthesisError> {
    let (w, h) = image.dimensions();
    let values: Vec<f32> = image.as_raw().iter().map(|&v| f32::from(v) / 255.0).collect();
    Ok(Tensor::from_vec(values, (h as usize, w as usize, 3), device)?
        .permute((2, 0, 1))?
        .unsqueeze(0)?
        .contiguous()?)
}
