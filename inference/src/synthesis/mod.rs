//! Preferred images for a brain region: Stable Diffusion guided by a voxel-wise encoder, as
//! BrainDiVE (Luo et al., NeurIPS 2023) does, plus an interactive few-step mode and a gradient-free
//! baseline. The objective is always the encoder's mean predicted response over the region's
//! voxels, `mean_v (W_v·ê + b_v)` with `ê` the unit CLIP embedding of the image.
//!
//! [`synthesize`] runs one of three [`SynthesisMode`]s on [`SynthesisModels`] (a diffusers SD folder
//! and a Hugging Face CLIP folder) and returns a [`SynthesizedImage`]; [`roi_mean`] scores any
//! image. Modes:
//!
//! - **`BrainDive`** — BrainDiVE's `cond_fn` exactly (see [`guidance::braindive_eps`]): at each of
//!   50 DPM-Solver++(2M) steps the UNet runs with autograd, the region mean of the image decoded
//!   from `√(1−ᾱ)·x̂₀ + (1−√(1−ᾱ))·x_t` is differentiated with respect to `x_t` through VAE, CLIP
//!   and UNet, and the noise prediction becomes `ε − √(1−ᾱ)·scale·∇`. Empty prompt, no
//!   classifier-free guidance, scale 130; no self-attention guidance. For SD 2.1-base.
//! - **`Fast`** — for SD-Turbo in 1–4 Euler steps with trailing timesteps. After each UNet call the
//!   clean-latent estimate x̂₀ takes `fast_iterations` normalised gradient-ascent steps through VAE →
//!   CLIP → encoder only (the UNet is not differentiated), of `scale·√(1−ᾱ_t)` RMS latent units
//!   each; the guided x̂₀ is then re-noised to the next timestep with the step's predicted noise
//!   and denoised again, as manifold-preserving guidance (MPGD, He et al. 2023) does. After the
//!   last step the guided x̂₀ is the result.
//! - **`Rerank`** — no gradients: `candidates` unguided samples (seeds `seed`, `seed + 1`, …) with
//!   the folder's own sampler (Euler for SD-Turbo, else DPM-Solver++), the one the encoder scores
//!   highest returned.
//!
//! Seeds drive cortexlens' own generator (SplitMix64 + Box–Muller), not PyTorch's: a seed gives the
//! same image on every run here, not the image diffusers gives for it.
//!
//! Gradients: candle 0.11 drops them silently in its fused layer norm and `softmax_last_dim`, and
//! has no bilinear-resize backward, so the CLIP tower ([`clip_tower`]), the UNet ([`unet`], adapted
//! from candle-transformers) and the resize ([`diff`]) are local, differentiable versions. The
//! VAE decoder is candle-transformers' own ([`vae`]). Schedulers ([`scheduler`]) follow diffusers 0.31.

pub mod clip_tower;
pub mod diff;
mod error;
pub mod guidance;
mod models;
pub mod objective;
mod pipeline;
pub mod scheduler;
pub mod unet;
pub mod vae;

use std::sync::atomic::AtomicBool;

use image::RgbImage;

pub use self::error::SynthesisError;
pub use self::models::{EMPTY_PROMPT_FILE, EMPTY_PROMPT_KEY, SynthesisModels, load_clip_vision};
use self::objective::{Chain, Objective};
use self::pipeline::{Run, from_rgb, to_rgb};
use self::scheduler::Spacing;
use crate::encoder::Encoder;

/// How the image is steered towards the region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SynthesisMode {
    /// BrainDiVE: gradient through UNet, VAE and CLIP at every DPM-Solver++ step (SD 2.1-base).
    #[default]
    BrainDive,
    /// Interactive: SD-Turbo in 1–4 steps, gradient steps on the clean-latent estimate only.
    Fast,
    /// No gradients: the best of several unguided samples.
    Rerank,
}

/// Settings of one synthesis.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthesisConfig {
    /// The mode.
    pub mode: SynthesisMode,
    /// Denoising steps (per candidate in `Rerank`).
    pub steps: usize,
    /// Guidance strength. `BrainDive`: BrainDiVE's `clip_guidance_scale` (130). `Fast`: RMS latent
    /// units per gradient step at full noise (0.3). Ignored by `Rerank`. 0 is unguided; negative
    /// values push the region's response down.
    pub scale: f32,
    /// Image side in pixels (512 for SD 2.1-base and SD-Turbo); a multiple of
    /// [`SynthesisModels::size_multiple`].
    pub size: usize,
    /// `Fast`: gradient steps on x̂₀ after each denoising step (2).
    pub fast_iterations: usize,
    /// `Rerank`: unguided samples to rank (8).
    pub candidates: usize,
    /// Report a preview of x̂₀ every this many steps (0: never).
    pub preview_every: usize,
}

impl SynthesisConfig {
    /// The defaults of `mode`: BrainDiVE's 50 steps at scale 130; 4 SD-Turbo steps at 0.3 with 2
    /// gradient steps each; 8 candidates of 4 steps (SD-Turbo; use 25–50 with SD 2.1-base).
    pub fn new(mode: SynthesisMode) -> Self {
        let (steps, scale, preview_every) = match mode {
            SynthesisMode::BrainDive => (50, 130.0, 10),
            SynthesisMode::Fast => (4, 0.3, 1),
            SynthesisMode::Rerank => (4, 0.0, 0),
        };
        Self {
            mode,
            steps,
            scale,
            size: 512,
            fast_iterations: 2,
            candidates: 8,
            preview_every,
        }
    }
}

impl Default for SynthesisConfig {
    fn default() -> Self {
        Self::new(SynthesisMode::BrainDive)
    }
}

/// Where a synthesis is, after each denoising step.
#[derive(Debug, Clone)]
pub struct SynthesisProgress {
    /// Steps done (1-based), over all candidates in `Rerank`.
    pub step: usize,
    /// Steps in all.
    pub steps: usize,
    /// The decoded clean-latent estimate, every `preview_every` steps.
    pub preview: Option<RgbImage>,
}

/// A synthesised image.
#[derive(Debug, Clone)]
pub struct SynthesizedImage {
    /// The seed of its initial noise (in `Rerank`, the winning candidate's).
    pub seed: u64,
    /// The image, `size`×`size`.
    pub image: RgbImage,
    /// [`roi_mean`] of `image` (as saved, 8-bit).
    pub roi_mean: f32,
}

/// Synthesises an image that maximises `encoder`'s mean predicted response over `voxels` (row
/// indices of the encoder), from the initial noise of `seed`. `cancel` is read between steps;
/// `progress` hears about every step.
pub fn synthesize(
    models: &SynthesisModels,
    encoder: &Encoder,
    voxels: &[usize],
    config: &SynthesisConfig,
    seed: u64,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&SynthesisProgress),
) -> Result<SynthesizedImage, SynthesisError> {
    let objective = Objective::new(encoder, voxels, models.clip_dim(), models.device())?;
    check(models, config)?;
    let chain = Chain::new(models, (config.size, config.size))?;
    let runs = if config.mode == SynthesisMode::Rerank {
        config.candidates
    } else {
        1
    };
    let mut run = Run {
        models,
        chain: &chain,
        objective: &objective,
        config,
        cancel,
        progress,
        done: 0,
        total: runs * config.steps,
    };
    let mut best: Option<SynthesizedImage> = None;
    for candidate in 0..runs {
        let seed = seed.wrapping_add(candidate as u64);
        let noise = run.noise(seed)?;
        let latent = match config.mode {
            SynthesisMode::BrainDive => run.dpm(&noise, config.steps, config.scale)?,
            SynthesisMode::Fast => run.euler(&noise, config.steps, config.scale, Some(Spacing::Trailing))?,
            SynthesisMode::Rerank if models.is_turbo() => run.euler(&noise, config.steps, 0.0, None)?,
            SynthesisMode::Rerank => run.dpm(&noise, config.steps, 0.0)?,
        };
        run.done += config.steps;
        let image = to_rgb(&chain.decode(&latent)?)?;
        let score = score_image(models, &objective, &image)?;
        if best.as_ref().is_none_or(|b| score > b.roi_mean) {
            best = Some(SynthesizedImage {
                seed,
                image,
                roi_mean: score,
            });
        }
    }
    Ok(best.expect("at least one candidate"))
}

fn check(models: &SynthesisModels, config: &SynthesisConfig) -> Result<(), SynthesisError> {
    let multiple = models.size_multiple();
    let bad = |m: String| Err(SynthesisError::Settings(m));
    if config.steps == 0 {
        return bad("at least one step is needed".into());
    }
    if config.size == 0 || !config.size.is_multiple_of(multiple) {
        return bad(format!(
            "image size {} is not a positive multiple of {multiple} (this model's native size is {})",
            config.size,
            models.native_size()
        ));
    }
    if !config.scale.is_finite() {
        return bad(format!("scale {} is not finite", config.scale));
    }
    if config.mode == SynthesisMode::Rerank && config.candidates == 0 {
        return bad("rerank needs at least one candidate".into());
    }
    if config.mode == SynthesisMode::Fast && config.scale != 0.0 && config.fast_iterations == 0 {
        return bad("fast guidance needs at least one gradient step per denoising step".into());
    }
    Ok(())
}

/// The encoder's mean predicted response over `voxels` for `image` (any size: resized bilinearly to
/// CLIP's input size without antialiasing, as during guidance).
pub fn roi_mean(
    models: &SynthesisModels,
    encoder: &Encoder,
    voxels: &[usize],
    image: &RgbImage,
) -> Result<f32, SynthesisError> {
    let objective = Objective::new(encoder, voxels, models.clip_dim(), models.device())?;
    score_image(models, &objective, image)
}

fn score_image(models: &SynthesisModels, objective: &Objective, image: &RgbImage) -> Result<f32, SynthesisError> {
    let (w, h) = image.dimensions();
    if w == 0 || h == 0 {
        return Err(SynthesisError::Settings("an empty image has no response".into()));
    }
    let chain = Chain::new(models, (h as usize, w as usize))?;
    let pixels = from_rgb(image, models.device())?;
    Ok(chain.score_images(objective, &pixels)?.to_vec1::<f32>()?[0])
}
