//! diffusers' `EulerDiscreteScheduler` for ε-prediction without churn (SD-Turbo's scheduler).

use candle_core::{Result, Tensor};

use super::{ScheduleConfig, Spacing, interp_sigma, timesteps};

/// The Euler sampler's state over one sampling run. Samples live in diffusers' Euler scaling
/// (`x = x_vp · √(σ² + 1)`), so the model input is `x / √(σ² + 1)`.
#[derive(Debug, Clone)]
pub struct Euler {
    timesteps: Vec<f64>,
    sigmas: Vec<f32>,
    step: usize,
}

impl Euler {
    /// A run of `steps` steps on `config`'s noise schedule with `spacing` (the file's when `None`,
    /// else diffusers' Euler default `linspace`).
    pub fn new(config: &ScheduleConfig, steps: usize, spacing: Option<Spacing>) -> Self {
        let spacing = spacing.or(config.spacing).unwrap_or(Spacing::Linspace);
        let ts: Vec<f64> = timesteps(
            spacing,
            config.num_train_timesteps,
            steps.max(1),
            config.steps_offset,
            false,
        )
        .into_iter()
        .map(|t| t as f32 as f64)
        .collect();
        let mut sigmas: Vec<f32> = ts.iter().map(|&t| interp_sigma(config, t)).collect();
        sigmas.push(0.0);
        Self {
            timesteps: ts,
            sigmas,
            step: 0,
        }
    }

    /// The timesteps, first to last.
    pub fn timesteps(&self) -> &[f64] {
        &self.timesteps
    }

    /// σ of step `i` (σ after the last step is 0).
    pub fn sigma(&self, i: usize) -> f32 {
        self.sigmas[i]
    }

    /// The standard deviation of the initial noise: the largest σ (`linspace`/`trailing` spacing)
    /// or `√(σ_max² + 1)` (`leading`), as diffusers' `init_noise_sigma`.
    pub fn init_noise_sigma(&self, leading: bool) -> f64 {
        let max = self.sigmas.iter().copied().fold(0f32, f32::max);
        if leading {
            f64::from((max * max + 1.0).sqrt())
        } else {
            f64::from(max)
        }
    }

    /// The model input at the current step: `sample / √(σ² + 1)`.
    pub fn scale_model_input(&self, sample: &Tensor) -> Result<Tensor> {
        let sigma = self.sigmas[self.step];
        sample / f64::from((sigma * sigma + 1.0).sqrt())
    }

    /// The clean-latent estimate `x − σ ε` at the current step.
    pub fn predict_x0(&self, eps: &Tensor, sample: &Tensor) -> Result<Tensor> {
        sample - (eps * f64::from(self.sigmas[self.step]))?
    }

    /// One step from `sample` with the noise prediction `eps`; returns the next sample.
    pub fn step(&mut self, eps: &Tensor, sample: &Tensor) -> Result<Tensor> {
        let i = self.step;
        if i >= self.timesteps.len() {
            candle_core::bail!("Euler has no step {i} of {}", self.timesteps.len());
        }
        let sigma = self.sigmas[i];
        let x0 = self.predict_x0(eps, sample)?;
        let derivative = ((sample - &x0)? / f64::from(sigma))?;
        let dt = self.sigmas[i + 1] - sigma;
        self.step += 1;
        sample + (derivative * f64::from(dt))?
    }
}
