//! Fitting a voxel-wise encoder, one path for the window and `cortexlens encoder fit`: responses
//! (a 4D volume with one frame per stimulus, or a table), the stimulus list and a CLIP model go to
//! [`fit_and_save`], which embeds the images, fits the ridge encoder and writes it with its held-out
//! R² and Pearson r maps.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use cortexlens_data::Volume;
use cortexlens_data::formats::{WriteError, save_nifti};
use cortexlens_inference::clip::{Clip, ClipError, HF_FILES};
use cortexlens_inference::device;
use cortexlens_inference::encoder::EncoderError;
use cortexlens_inference::encoder::file::save_encoder;
use cortexlens_inference::encoder::fit::{EncoderFitConfig, Responses, fit_encoder, read_stimuli};
use cortexlens_inference::hub::{Hub, HubError};

/// Where the responses come from.
#[derive(Clone, Debug)]
pub enum ResponsesSource {
    /// A 4D volume with one frame per stimulus.
    Volume(Arc<Volume>),
    /// A tab-separated table, one row per stimulus (its grid from the mask).
    Table(PathBuf),
}

/// What to fit and where to write it.
#[derive(Clone, Debug)]
pub struct EncoderFitRequest {
    /// The responses.
    pub responses: ResponsesSource,
    /// The voxels to fit (non-zero voxels, same grid); without one, every voxel whose responses
    /// are finite and vary.
    pub mask: Option<Arc<Volume>>,
    /// The stimulus list (image paths in response order).
    pub stimuli: PathBuf,
    /// CLIP's folder (Hugging Face's `config.json` and `model.safetensors`).
    pub clip: PathBuf,
    /// Folds, held-out fraction, batch size, backbone name.
    pub config: EncoderFitConfig,
    /// Where to write the encoder (`.safetensors`; missing folders are made).
    pub out: PathBuf,
    /// Where to write the held-out R² map, if anywhere.
    pub r2: Option<PathBuf>,
    /// Where to write the held-out Pearson r map, if anywhere.
    pub pearson: Option<PathBuf>,
}

/// The files a finished fit wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct EncoderFitOutcome {
    /// The encoder.
    pub encoder: PathBuf,
    /// Held-out R² map, if written.
    pub r2: Option<PathBuf>,
    /// Held-out Pearson r map, if written.
    pub pearson: Option<PathBuf>,
    /// Voxels fitted.
    pub voxels: usize,
    /// Median held-out R².
    pub median_r2: f32,
}

/// Why a fit wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum EncoderFitError {
    /// Responses, stimuli or the fit itself.
    #[error(transparent)]
    Encoder(#[from] EncoderError),
    /// CLIP could not be loaded.
    #[error(transparent)]
    Clip(#[from] ClipError),
    /// A map could not be written.
    #[error(transparent)]
    Map(#[from] WriteError),
    /// An output folder could not be made.
    #[error("{path}: {source}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The held-out map files the window writes beside `encoder`: `NAME_r2.nii.gz` and
/// `NAME_pearson.nii.gz`.
pub fn map_paths(encoder: &Path) -> (PathBuf, PathBuf) {
    let stem = encoder
        .file_stem()
        .map_or("encoder".into(), |s| s.to_string_lossy().into_owned());
    let beside = |suffix: &str| encoder.with_file_name(format!("{stem}_{suffix}.nii.gz"));
    (beside("r2"), beside("pearson"))
}

/// CLIP's folder on disk: `spec` itself when it is a folder, else a repository's snapshot folder in
/// `hub`'s cache (every file of [`HF_FILES`] must be there).
pub fn clip_folder(hub: Option<&Hub>, spec: &str) -> Result<PathBuf, HubError> {
    let folder = Path::new(spec);
    if folder.is_dir() {
        return Ok(folder.to_owned());
    }
    hub.ok_or(HubError::NoCache)?.locate(spec, &HF_FILES)
}

/// CLIP's files missing from disk: none for a folder (its contents are checked when it loads), the
/// ones not in `hub`'s cache for a repository id.
pub fn clip_missing(hub: Option<&Hub>, spec: &str) -> Result<Vec<String>, HubError> {
    if Path::new(spec).is_dir() {
        return Ok(Vec::new());
    }
    hub.ok_or(HubError::NoCache)?.missing(spec, &HF_FILES)
}

/// Read the responses and stimuli, embed the stimuli with CLIP (on [`device`]), fit the encoder and
/// write it and the maps asked for. `progress(done, total)` reports embedded images; `cancel` is read
/// between batches and folds. Nothing is written unless the fit succeeds.
pub fn fit_and_save(
    request: &EncoderFitRequest,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<EncoderFitOutcome, EncoderFitError> {
    let mask = request.mask.as_deref();
    let responses = match &request.responses {
        ResponsesSource::Volume(volume) => Responses::from_volume(volume, mask)?,
        ResponsesSource::Table(path) => Responses::from_tsv(path, mask)?,
    };
    let stimuli = read_stimuli(&request.stimuli)?;
    let clip = Clip::load_dir(&request.clip, &device())?;
    let fit = fit_encoder(&responses, &stimuli, &clip, &request.config, cancel, progress)?;
    if let Some(folder) = request.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(|source| EncoderFitError::Folder {
            path: folder.to_owned(),
            source,
        })?;
    }
    save_encoder(&request.out, &fit.encoder)?;
    for (path, volume) in [(&request.r2, &fit.r2), (&request.pearson, &fit.pearson)] {
        if let Some(path) = path {
            save_nifti(path, volume)?;
        }
    }
    Ok(EncoderFitOutcome {
        encoder: request.out.clone(),
        r2: request.r2.clone(),
        pearson: request.pearson.clone(),
        voxels: fit.encoder.voxel_count(),
        median_r2: fit.median_r2(),
    })
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

    #[test]
    fn a_clip_folder_is_itself_and_a_repository_needs_a_cache() {
        let dir = std::env::temp_dir();
        let spec = dir.display().to_string();
        assert_eq!(clip_folder(None, &spec).unwrap(), dir);
        assert!(clip_missing(None, &spec).unwrap().is_empty());
        assert!(matches!(
            clip_folder(None, "openai/clip-vit-base-patch32"),
            Err(HubError::NoCache)
        ));
    }
}
