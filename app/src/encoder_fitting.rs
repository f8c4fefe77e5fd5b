//! Fitting a voxel-wise encoder in the app: a 4D layer (one frame per stimulus), the stimulus list
//! and a CLIP model go to a worker that embeds the images and fits the ridge encoder, then writes the
//! encoder and its held-out R² and Pearson r maps side by side, for the app to open as overlays.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cortexlens_data::Volume;
use cortexlens_data::formats::save_nifti;
use cortexlens_inference::clip::Clip;
use cortexlens_inference::encoder::EncoderError;
use cortexlens_inference::encoder::file::save_encoder;
use cortexlens_inference::encoder::fit::{EncoderFitConfig, Responses, fit_encoder, read_stimuli};
use cortexlens_inference::{device, device_name};

use crate::worker::Worker;

/// What to fit.
#[derive(Clone)]
pub struct EncoderFitRequest {
    /// Responses: one frame per stimulus.
    pub responses: Arc<Volume>,
    /// The voxels to fit (non-zero voxels, same grid); without one, every voxel whose responses
    /// are finite and vary.
    pub mask: Option<Arc<Volume>>,
    /// The stimulus list (image paths in frame order).
    pub stimuli: PathBuf,
    /// CLIP's folder (Hugging Face's `config.json` and `model.safetensors`).
    pub clip: PathBuf,
    /// Where to write the encoder (`.safetensors`); the maps go beside it.
    pub out: PathBuf,
    /// Cross-validation folds of the ridge penalty.
    pub folds: usize,
}

/// The files a finished fit wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct EncoderFitOutcome {
    /// The encoder.
    pub encoder: PathBuf,
    /// Held-out R² map.
    pub r2: PathBuf,
    /// Held-out Pearson r map.
    pub pearson: PathBuf,
    /// Voxels fitted.
    pub voxels: usize,
    /// Median held-out R².
    pub median_r2: f32,
}

/// Why a fit ended without an encoder.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EncoderFitFailure {
    /// The user cancelled it.
    #[error("cancelled")]
    Cancelled,
    /// An input or a file could not be used; the message names it.
    #[error("{0}")]
    Failed(String),
}

impl EncoderFitFailure {
    fn from_display(error: impl std::fmt::Display) -> EncoderFitFailure {
        EncoderFitFailure::Failed(error.to_string())
    }
}

/// Where a fit is: images embedded so far out of all (the ridge fit follows the last image).
pub type EncoderFitProgress = (usize, usize);

/// The held-out map files written beside `encoder`: `NAME_r2.nii.gz` and `NAME_pearson.nii.gz`.
pub fn map_paths(encoder: &Path) -> (PathBuf, PathBuf) {
    let stem = encoder
        .file_stem()
        .map_or("encoder".into(), |s| s.to_string_lossy().into_owned());
    let beside = |suffix: &str| encoder.with_file_name(format!("{stem}_{suffix}.nii.gz"));
    (beside("r2"), beside("pearson"))
}

/// An encoder fit running in the background.
pub struct EncoderFitJob {
    /// Name of the responses layer.
    pub name: String,
    worker: Worker<EncoderFitProgress, Result<EncoderFitOutcome, EncoderFitFailure>>,
    device_name: String,
}

impl EncoderFitJob {
    /// Start fitting; `notify` wakes the UI after each progress report.
    pub fn start(request: EncoderFitRequest, notify: Arc<dyn Fn() + Send + Sync>) -> EncoderFitJob {
        let device = device();
        let device_name = device_name(&device);
        let name = request.responses.name.clone();
        let worker = Worker::spawn("encoder-fit", notify, move |report, cancel| {
            let responses = Responses::from_volume(&request.responses, request.mask.as_deref())
                .map_err(EncoderFitFailure::from_display)?;
            let stimuli = read_stimuli(&request.stimuli).map_err(EncoderFitFailure::from_display)?;
            let clip = Clip::load_dir(&request.clip, &device).map_err(EncoderFitFailure::from_display)?;
            let mut config = EncoderFitConfig::default();
            config.ridge.folds = request.folds;
            let fit = fit_encoder(&responses, &stimuli, &clip, &config, cancel, &mut |done, total| {
                report((done, total))
            })
            .map_err(|e| match e {
                EncoderError::Cancelled => EncoderFitFailure::Cancelled,
                e => EncoderFitFailure::from_display(e),
            })?;
            if let Some(folder) = request.out.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(folder)
                    .map_err(|e| EncoderFitFailure::Failed(format!("{}: {e}", folder.display())))?;
            }
            save_encoder(&request.out, &fit.encoder).map_err(EncoderFitFailure::from_display)?;
            let (r2, pearson) = map_paths(&request.out);
            save_nifti(&r2, &fit.r2).map_err(EncoderFitFailure::from_display)?;
            save_nifti(&pearson, &fit.pearson).map_err(EncoderFitFailure::from_display)?;
            Ok(EncoderFitOutcome {
                encoder: request.out,
                r2,
                pearson,
                voxels: fit.encoder.voxel_count(),
                median_r2: fit.median_r2(),
            })
        });
        EncoderFitJob {
            name,
            worker,
            device_name,
        }
    }

    /// Images embedded so far, out of all.
    pub fn progress(&self) -> Option<EncoderFitProgress> {
        self.worker.progress()
    }

    /// Ask the fit to stop (between image batches and cross-validation folds).
    pub fn cancel(&self) {
        self.worker.cancel();
    }

    /// The outcome, once finished: the files written, or why there are none.
    pub fn poll(&self) -> Option<Result<EncoderFitOutcome, EncoderFitFailure>> {
        self.worker.poll()
    }

    /// Where CLIP runs ("CPU", "CUDA 0").
    pub fn device_name(&self) -> &str {
        &self.device_name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_are_named_after_the_encoder() {
        let (r2, pearson) = map_paths(Path::new("/data/sub-01/enc.safetensors"));
        assert_eq!(r2, Path::new("/data/sub-01/enc_r2.nii.gz"));
        assert_eq!(pearson, Path::new("/data/sub-01/enc_pearson.nii.gz"));
    }
}
