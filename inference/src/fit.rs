//! The training loop: random voxels each step, MSE on normalised intensities, Adam.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use candle_core::{Device, Tensor};
use cortexlens_data::Volume;
use cortexlens_data::field::{FieldOutput, NeuralField};

use crate::adam::Adam;
use crate::config::FitConfig;
use crate::error::FitError;
use crate::init::initial_field;
use crate::model::FieldModel;
use crate::occupancy::occupancy_of;
use crate::rng::Rng;
use crate::sample::{Batch, TrainingData};

/// The validation PSNR is recomputed after step 1, every this many steps, and after the last step;
/// progress reports in between repeat the latest value.
pub const VALIDATE_EVERY: usize = 10;

/// The default learning-rate multiplier of CAM grids (the CAM paper's code).
pub const CAM_LEARNING_RATE_FACTOR: f64 = 10.0;

/// Points evaluated at once when validating.
const VALIDATION_CHUNK: usize = 1 << 13;

/// Where a fit stands, reported after every step.
#[derive(Clone, Debug, PartialEq)]
pub struct FitProgress {
    /// Steps done (1 after the first).
    pub step: usize,
    /// Steps in the fit.
    pub steps: usize,
    /// MSE of this step's batch (normalised intensities), before the update.
    pub loss: f32,
    /// PSNR in dB of the field on a fixed validation sample (every voxel of volumes up to 2^15
    /// voxels, else 2^15 voxels drawn once), for the intensity range normalised to `[0, 1]`:
    /// `−10·log10(MSE)`. Updated every [`VALIDATE_EVERY`] steps.
    pub psnr: f32,
    /// Time since the fit started (including setup).
    pub elapsed: Duration,
}

/// Fits a field to frame `frame` of `volume`.
///
/// The field covers the volume's world bounding box ([`Volume::world_bounds`]); training samples are
/// voxel centres mapped through the volume's affine, so an oblique volume is fitted in world
/// coordinates. Intensities are normalised to `[0, 1]` by the frame's finite minimum and maximum
/// (non-finite voxels are skipped); the result reads them back through
/// [`FieldOutput::Intensity`] with `scale = max − min` and `offset = min`.
///
/// Each step draws `config.batch` voxels (seeded by `config.seed`), takes Adam's step on the MSE
/// (CAM grids at [`CAM_LEARNING_RATE_FACTOR`] × the learning rate; the rate decays to a tenth over
/// the last half of the steps), and calls `progress`. `cancel` is read before every step: once it is
/// set the fit stops before the next step and returns [`FitError::Cancelled`] (the partial field is
/// dropped).
pub fn fit(
    volume: &Volume,
    frame: usize,
    config: &FitConfig,
    device: &Device,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&FitProgress),
) -> Result<NeuralField, FitError> {
    let start = Instant::now();
    config.validate()?;
    let data = TrainingData::new(volume, frame)?;
    let output = FieldOutput::Intensity {
        scale: data.range,
        offset: data.lo,
    };
    let field = initial_field(config, data.bounds_min, data.bounds_max, output);
    let model = FieldModel::from_field(&field, device)?;
    let mut groups = vec![(config.learning_rate, [model.encoding_vars(), model.mlp_vars()].concat())];
    if config.cam {
        groups.push((config.learning_rate * config.cam_learning_rate_factor, model.cam_vars()));
    }
    let mut adam = Adam::new(groups)?;
    let validation = data.validation(config.seed ^ 0x0A11_DA7E);
    let mut rng = Rng::new(config.seed);
    let mut batch = Batch::default();
    let mut psnr = f32::NAN;
    for step in 1..=config.steps {
        if cancel.load(Ordering::Relaxed) {
            return Err(FitError::Cancelled);
        }
        data.sample(&mut rng, config.batch, &mut batch);
        let prediction = model.forward_normalised(&batch.x)?;
        let target = Tensor::from_slice(&batch.target, (batch.target.len(), 1), device)?.to_dtype(model.dtype())?;
        let loss = (prediction - target)?.sqr()?.mean_all()?;
        let loss_value = loss.to_dtype(candle_core::DType::F32)?.to_scalar::<f32>()?;
        if !loss_value.is_finite() {
            return Err(FitError::Diverged { step, loss: loss_value });
        }
        adam.step(&loss.backward()?, learning_rate_factor(step, config.steps))?;
        if step == 1 || step % VALIDATE_EVERY == 0 || step == config.steps {
            psnr = validation_psnr(&model, &validation)?;
        }
        progress(&FitProgress {
            step,
            steps: config.steps,
            loss: loss_value,
            psnr,
            elapsed: start.elapsed(),
        });
    }
    let mut field = model.try_to_field()?;
    field.occupancy = Some(occupancy_of(&data));
    Ok(field)
}

/// Learning-rate multiplier at `step` (1-based) of `steps`: 1 over the first half, then an
/// exponential decay reaching 0.1 at the last step.
pub(crate) fn learning_rate_factor(step: usize, steps: usize) -> f64 {
    let half = steps as f64 / 2.0;
    let t = step as f64 - half;
    if t <= 0.0 { 1.0 } else { 0.1f64.powf(t / half) }
}

/// PSNR (dB, data range 1) of `model` on the normalised `batch`.
pub(crate) fn validation_psnr(model: &FieldModel, batch: &Batch) -> Result<f32, FitError> {
    let mut squared_error = 0f64;
    for (x, target) in batch
        .x
        .chunks(VALIDATION_CHUNK)
        .zip(batch.target.chunks(VALIDATION_CHUNK))
    {
        let prediction = model.forward_normalised(x)?.detach();
        let target = Tensor::from_slice(target, (target.len(), 1), model.device())?.to_dtype(model.dtype())?;
        let sum = (prediction - target)?.sqr()?.sum_all()?;
        squared_error += sum.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
    }
    Ok(psnr(squared_error / batch.x.len().max(1) as f64))
}

/// `−10·log10(mse)` for data range 1, capped at 200 dB for an exact fit.
pub fn psnr(mse: f64) -> f32 {
    (-10.0 * mse.max(1e-20).log10()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_rate_decays_over_the_second_half() {
        assert_eq!(learning_rate_factor(1, 100), 1.0);
        assert_eq!(learning_rate_factor(50, 100), 1.0);
        assert!((learning_rate_factor(75, 100) - 0.1f64.sqrt()).abs() < 1e-12);
        assert!((learning_rate_factor(100, 100) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn psnr_of_known_errors() {
        assert!((psnr(0.01) - 20.0).abs() < 1e-5);
        assert!((psnr(1.0)).abs() < 1e-6);
        assert_eq!(psnr(0.0), 200.0);
    }
}
