//! DPM-Solver++(2M): diffusers' `DPMSolverMultistepScheduler` with its defaults (`dpmsolver++`,
//! order 2, midpoint, `lower_order_final`, final sigma zero) for ε-prediction models.

use candle_core::{Result, Tensor};

use super::{ScheduleConfig, Spacing, timesteps};

/// The solver's state over one sampling run.
#[derive(Debug, Clone)]
pub struct DpmSolver {
    timesteps: Vec<usize>,
    /// σ at each timestep, then 0.
    sigmas: Vec<f32>,
    previous: Option<Tensor>,
    step: usize,
}

/// `(α_t, σ_t)` of diffusers' `_sigma_to_alpha_sigma_t`, in f32.
fn alpha_sigma(sigma: f32) -> (f32, f32) {
    let alpha = 1.0 / (sigma * sigma + 1.0).sqrt();
    (alpha, sigma * alpha)
}

impl DpmSolver {
    /// A run of `steps` steps on `config`'s noise schedule, spaced as the file says (diffusers'
    /// DPM default `linspace` when it does not).
    pub fn new(config: &ScheduleConfig, steps: usize) -> Self {
        let spacing = config.spacing.unwrap_or(Spacing::Linspace);
        let ts: Vec<usize> = timesteps(
            spacing,
            config.num_train_timesteps,
            steps.max(1),
            config.steps_offset,
            true,
        )
        .into_iter()
        .map(|t| t as usize)
        .collect();
        let mut sigmas: Vec<f32> = ts.iter().map(|&t| config.sigma(t)).collect();
        sigmas.push(0.0);
        Self {
            timesteps: ts,
            sigmas,
            previous: None,
            step: 0,
        }
    }

    /// The timesteps, first to last.
    pub fn timesteps(&self) -> &[usize] {
        &self.timesteps
    }

    /// The standard deviation of the initial noise (1).
    pub fn init_noise_sigma(&self) -> f64 {
        1.0
    }

    /// The clean-latent estimate `(x − σ_t ε)/α_t` at the current step (diffusers'
    /// `convert_model_output`).
    pub fn predict_x0(&self, eps: &Tensor, sample: &Tensor) -> Result<Tensor> {
        let (alpha, sigma) = alpha_sigma(self.sigmas[self.step]);
        (sample - (eps * f64::from(sigma))?)? / f64::from(alpha)
    }

    /// One step from `sample` with the noise prediction `eps`; returns the next sample.
    pub fn step(&mut self, eps: &Tensor, sample: &Tensor) -> Result<Tensor> {
        let i = self.step;
        if i >= self.timesteps.len() {
            candle_core::bail!("DPM-Solver has no step {i} of {}", self.timesteps.len());
        }
        let m0 = self.predict_x0(eps, sample)?;
        let last = i + 1 == self.timesteps.len();
        let (alpha_t, sigma_t) = alpha_sigma(self.sigmas[i + 1]);
        let (alpha_s0, sigma_s0) = alpha_sigma(self.sigmas[i]);
        let lambda_t = alpha_t.ln() - sigma_t.ln();
        let lambda_s0 = alpha_s0.ln() - sigma_s0.ln();
        let h = lambda_t - lambda_s0;
        let c_sample = f64::from(sigma_t / sigma_s0);
        let c_d = f64::from(alpha_t * ((-h).exp() - 1.0));
        let next = match (&self.previous, last) {
            (Some(m1), false) => {
                let (alpha_s1, sigma_s1) = alpha_sigma(self.sigmas[i - 1]);
                let lambda_s1 = alpha_s1.ln() - sigma_s1.ln();
                let r0 = (lambda_s0 - lambda_s1) / h;
                let d1 = ((&m0 - m1)? * f64::from(1.0 / r0))?;
                let c_d1 = f64::from(0.5 * (alpha_t * ((-h).exp() - 1.0)));
                (((sample * c_sample)? - (&m0 * c_d)?)? - (d1 * c_d1)?)?
            }
            _ => ((sample * c_sample)? - (&m0 * c_d)?)?,
        };
        self.previous = Some(m0);
        self.step += 1;
        Ok(next)
    }
}
