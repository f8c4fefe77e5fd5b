//! The two guidance steps: BrainDiVE's `cond_fn` (through the UNet) and the `fast` mode's
//! gradient steps on the clean-latent estimate (not through the UNet).

use candle_core::{DType, Tensor, Var};

use super::models::SynthesisModels;
use super::objective::{Chain, Objective};

/// BrainDiVE's guided noise prediction at timestep `t` for the latent `x` (`cond_fn` of
/// `brain_guide_pipeline.py`, without self-attention guidance), and the unguided one:
///
/// 1. `ε = UNet(x, t, c)` with autograd on, so the gradient also flows through the UNet;
/// 2. `x̂₀ = (x − √(1−ᾱ)·ε)/√ᾱ`, `s = fac·x̂₀ + (1−fac)·x` with `fac = √(1−ᾱ)`;
/// 3. `L = −mean(encoder(CLIP(normalise(resize(clamp(decode(s/0.18215)/2 + 0.5))))))·scale`;
/// 4. `g = −∂L/∂x`, `ε′ = ε − √(1−ᾱ)·g`.
///
/// Returns `(ε′, ε)`, both f32. With `scale == 0` no gradient is computed and `ε′ = ε`.
pub fn braindive_eps(
    models: &SynthesisModels,
    chain: &Chain,
    objective: &Objective,
    x: &Tensor,
    t: usize,
    scale: f32,
) -> candle_core::Result<(Tensor, Tensor)> {
    let cond = &models.conditioning;
    if scale == 0.0 {
        let eps = models.unet.forward(x, t as f64, cond)?.to_dtype(DType::F32)?;
        return Ok((eps.clone(), eps));
    }
    let var = Var::from_tensor(&x.to_dtype(DType::F32)?)?;
    let x = var.as_tensor();
    let eps = models.unet.forward(x, t as f64, cond)?.to_dtype(DType::F32)?;
    let alpha_prod = models.schedule.alphas_cumprod[t];
    let beta_prod = 1.0 - alpha_prod;
    let (sqrt_beta, sqrt_alpha) = (f64::from(beta_prod.sqrt()), f64::from(alpha_prod.sqrt()));
    let x0 = ((x - (&eps * sqrt_beta)?)? / sqrt_alpha)?;
    let fac = sqrt_beta;
    let s = ((x0 * fac)? + (x * (1.0 - fac))?)?;
    let loss = (chain.score_latents(objective, &s)?.sum_all()? * -f64::from(scale))?;
    let grads = loss.backward()?;
    let g = grads
        .get(x)
        .ok_or_else(|| candle_core::Error::Msg("no gradient reached the latent".into()))?
        .neg()?;
    let eps = eps.detach();
    let guided = (&eps - (g * sqrt_beta)?)?;
    Ok((guided, eps))
}

/// `iterations` normalised gradient-ascent steps on the clean-latent estimate `x0` through the
/// VAE decoder, CLIP and the encoder (the UNet is not differentiated): each moves `x0` by `step`
/// in RMS latent units along `∇ objective` (a negative `step` lowers the objective).
pub fn guide_x0(
    chain: &Chain,
    objective: &Objective,
    x0: &Tensor,
    iterations: usize,
    step: f64,
) -> candle_core::Result<Tensor> {
    let mut z = x0.to_dtype(DType::F32)?.detach();
    if step == 0.0 {
        return Ok(z);
    }
    for _ in 0..iterations {
        let var = Var::from_tensor(&z)?;
        let score = chain.score_latents(objective, var.as_tensor())?.sum_all()?;
        let grads = score.backward()?;
        let Some(g) = grads.get(var.as_tensor()) else {
            break;
        };
        let rms = g.sqr()?.mean_all()?.sqrt()?.to_scalar::<f32>()?;
        if !(rms.is_finite() && rms > 0.0) {
            break;
        }
        z = (var.as_tensor().detach() + (g * (step / f64::from(rms)))?)?;
    }
    Ok(z)
}
