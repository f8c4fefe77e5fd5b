//! Diffusion schedulers as diffusers 0.31 computes them, for ε-prediction models:
//! [`DpmSolver`] (DPM-Solver++(2M), `DPMSolverMultistepScheduler`'s defaults: BrainDiVE's sampler)
//! and [`Euler`] (`EulerDiscreteScheduler` without churn: SD-Turbo's). Both are built from the
//! model folder's `scheduler/scheduler_config.json` ([`ScheduleConfig`]), taking from it what
//! `from_config` would (betas, spacing, offset) and the target scheduler's defaults otherwise.
//!
//! The noise table is computed in f32 as PyTorch does (`torch.linspace` in f32, `cumprod`
//! accumulated in f64 and stored as f32), and each step's coefficients follow diffusers' f32
//! arithmetic, so timesteps and step outputs match diffusers to ~1e-6.

mod dpm;
mod euler;

pub use self::dpm::DpmSolver;
pub use self::euler::Euler;

use serde_json::Value;

/// How inference timesteps are spread over the training steps (diffusers' `timestep_spacing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spacing {
    /// `linspace(0, T − 1, …)` rounded.
    Linspace,
    /// Multiples of `T // n` plus `steps_offset`.
    Leading,
    /// Counting down from `T` by `T / n`, minus one (SD-Turbo's).
    Trailing,
}

/// What the scheduler config says about the training noise schedule and timestep spacing.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleConfig {
    /// `_class_name` of the file (e.g. `PNDMScheduler` for SD 2.1-base, `EulerDiscreteScheduler` for SD-Turbo).
    pub class_name: String,
    /// Training steps `T` (1000).
    pub num_train_timesteps: usize,
    /// `ᾱ_t` for t in 0..T (f32, as diffusers holds them).
    pub alphas_cumprod: Vec<f32>,
    /// `timestep_spacing` if the file sets it.
    pub spacing: Option<Spacing>,
    /// `steps_offset` (0 if absent).
    pub steps_offset: usize,
}

impl ScheduleConfig {
    /// Parses `scheduler_config.json`. Only ε-prediction with `linear`/`scaled_linear` betas (or
    /// `trained_betas`) and no Karras sigmas, zero-SNR rescaling or thresholding is supported.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let j: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let get = |k: &str| j.get(k).filter(|v| !v.is_null());
        let prediction = get("prediction_type").and_then(Value::as_str).unwrap_or("epsilon");
        if prediction != "epsilon" {
            return Err(format!(
                "prediction_type {prediction:?}: only ε-prediction models (SD 2.1-base, SD-Turbo) are supported"
            ));
        }
        for key in [
            "use_karras_sigmas",
            "use_exponential_sigmas",
            "use_beta_sigmas",
            "use_lu_lambdas",
            "rescale_betas_zero_snr",
            "thresholding",
        ] {
            if get(key).and_then(Value::as_bool) == Some(true) {
                return Err(format!("{key} = true is not implemented"));
            }
        }
        if let Some(t) = get("timestep_type").and_then(Value::as_str)
            && t != "discrete"
        {
            return Err(format!("timestep_type {t:?} is not implemented"));
        }
        if let Some(t) = get("interpolation_type").and_then(Value::as_str)
            && t != "linear"
        {
            return Err(format!("interpolation_type {t:?} is not implemented"));
        }
        let num_train_timesteps = get("num_train_timesteps").and_then(Value::as_u64).unwrap_or(1000) as usize;
        if num_train_timesteps < 2 {
            return Err(format!("num_train_timesteps {num_train_timesteps}"));
        }
        let betas: Vec<f32> = if let Some(trained) = get("trained_betas").and_then(Value::as_array) {
            trained.iter().filter_map(Value::as_f64).map(|b| b as f32).collect()
        } else {
            let start = get("beta_start").and_then(Value::as_f64).unwrap_or(0.0001);
            let end = get("beta_end").and_then(Value::as_f64).unwrap_or(0.02);
            match get("beta_schedule").and_then(Value::as_str).unwrap_or("linear") {
                "linear" => torch_linspace(start as f32, end as f32, num_train_timesteps),
                "scaled_linear" => torch_linspace(start.sqrt() as f32, end.sqrt() as f32, num_train_timesteps)
                    .into_iter()
                    .map(|b| b * b)
                    .collect(),
                other => return Err(format!("beta_schedule {other:?} is not implemented")),
            }
        };
        if betas.len() != num_train_timesteps || betas.iter().any(|b| !(0.0..1.0).contains(b)) {
            return Err("betas must be num_train_timesteps values in [0, 1)".into());
        }
        let mut product = 1f64;
        let alphas_cumprod = betas
            .iter()
            .map(|&b| {
                product *= f64::from(1.0 - b);
                product as f32
            })
            .collect();
        let spacing = match get("timestep_spacing").and_then(Value::as_str) {
            None => None,
            Some("linspace") => Some(Spacing::Linspace),
            Some("leading") => Some(Spacing::Leading),
            Some("trailing") => Some(Spacing::Trailing),
            Some(other) => return Err(format!("timestep_spacing {other:?} is not implemented")),
        };
        Ok(Self {
            class_name: get("_class_name").and_then(Value::as_str).unwrap_or("").to_owned(),
            num_train_timesteps,
            alphas_cumprod,
            spacing,
            steps_offset: get("steps_offset").and_then(Value::as_u64).unwrap_or(0) as usize,
        })
    }

    /// Whether the folder's own scheduler is Euler (SD-Turbo) rather than a DDIM/PNDM-style one.
    pub fn is_euler(&self) -> bool {
        self.class_name.starts_with("Euler")
    }

    /// `√((1 − ᾱ_t) / ᾱ_t)` in f32, as diffusers computes its sigma table.
    pub fn sigma(&self, t: usize) -> f32 {
        let a = self.alphas_cumprod[t];
        ((1.0 - a) / a).sqrt()
    }
}

/// `torch.linspace(start, end, steps, dtype=float32)` as ATen's CPU kernel computes it: in f32,
/// from the start for the first half and from the end for the second.
fn torch_linspace(start: f32, end: f32, steps: usize) -> Vec<f32> {
    let step = (end - start) / (steps - 1) as f32;
    let half = steps / 2;
    (0..steps)
        .map(|i| {
            if i < half {
                start + step * i as f32
            } else {
                end - step * (steps - i - 1) as f32
            }
        })
        .collect()
}

/// Inference timesteps (descending) for `steps` steps out of `train` training steps, as diffusers'
/// `set_timesteps` computes them; `with_end` is DPM-Solver's `linspace(…, steps + 1)[:-1]` form
/// (Euler's linspace has `steps` points).
fn timesteps(spacing: Spacing, train: usize, steps: usize, offset: usize, dpm: bool) -> Vec<f64> {
    let n = steps as f64;
    match spacing {
        Spacing::Linspace => {
            let points = if dpm { steps + 1 } else { steps };
            let last = (train - 1) as f64;
            let mut values: Vec<f64> = (0..points)
                .map(|i| {
                    if points == 1 {
                        0.0
                    } else {
                        numpy_linspace(0.0, last, points, i)
                    }
                })
                .collect();
            if dpm {
                values = values.iter().map(|v| round_half_even(*v)).collect();
            }
            values.reverse();
            if dpm {
                values.truncate(steps);
            }
            values
        }
        Spacing::Leading => {
            let ratio = if dpm { train / (steps + 1) } else { train / steps };
            let count = if dpm { steps + 1 } else { steps };
            let mut values: Vec<f64> = (0..count).map(|i| (i * ratio + offset) as f64).collect();
            values.reverse();
            values.truncate(steps);
            values
        }
        Spacing::Trailing => {
            let ratio = train as f64 / n;
            let mut values = Vec::new();
            let mut x = train as f64;
            // numpy.arange(train, 0, -ratio): values train − i·ratio while > 0.
            let mut i = 0;
            while x > 0.0 {
                values.push(round_half_even(x) - 1.0);
                i += 1;
                x = train as f64 - i as f64 * ratio;
            }
            values
        }
    }
}

/// `numpy.linspace(start, stop, num)[i]` (float64): `start + i·step`, the last point exactly `stop`.
fn numpy_linspace(start: f64, stop: f64, num: usize, i: usize) -> f64 {
    if i == num - 1 {
        return stop;
    }
    let step = (stop - start) / (num - 1) as f64;
    start + i as f64 * step
}

/// NumPy's `round` (half to even).
fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - x.signum()
    } else {
        r
    }
}

/// `numpy.interp` of the sigma table at a (possibly fractional) timestep.
fn interp_sigma(config: &ScheduleConfig, t: f64) -> f32 {
    let last = config.num_train_timesteps - 1;
    let t = t.clamp(0.0, last as f64);
    let i = (t.floor() as usize).min(last);
    let frac = t - i as f64;
    if frac == 0.0 || i == last {
        return config.sigma(i);
    }
    let (a, b) = (f64::from(config.sigma(i)), f64::from(config.sigma(i + 1)));
    (a + frac * (b - a)) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacings_match_diffusers_by_hand() {
        // DPM, linspace, 50 steps: 999, 979, …, 20 (checked against diffusers 0.31).
        let t = timesteps(Spacing::Linspace, 1000, 50, 0, true);
        assert_eq!((t.len(), t[0], t[1], t[25], t[49]), (50, 999.0, 979.0, 500.0, 20.0));
        assert_eq!(
            timesteps(Spacing::Trailing, 1000, 4, 0, false),
            vec![999.0, 749.0, 499.0, 249.0]
        );
        assert_eq!(
            timesteps(Spacing::Trailing, 1000, 3, 0, false),
            vec![999.0, 666.0, 332.0]
        );
        assert_eq!(timesteps(Spacing::Trailing, 1000, 1, 0, false), vec![999.0]);
        assert_eq!(
            timesteps(Spacing::Leading, 1000, 4, 1, false),
            vec![751.0, 501.0, 251.0, 1.0]
        );
        assert_eq!(round_half_even(2.5), 2.0);
        assert_eq!(round_half_even(3.5), 4.0);
    }
}
