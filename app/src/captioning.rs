//! BrainSCUBA captions, one path for the window and `cortexlens caption`: the model files (a models
//! folder, or files the user picks), loading them, choosing the encoder voxels a request names, and
//! captioning them.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use cortexlens_inference::brainscuba::{BrainScubaError, Stage, VoxelCaption, caption_voxels};
use cortexlens_inference::caption::{CaptionError as DecoderError, Captioner, DecodeConfig};
use cortexlens_inference::device;
use cortexlens_inference::encoder::file::load_encoder;
use cortexlens_inference::encoder::{Encoder, EncoderError};
use cortexlens_inference::projection::{EmbeddingPool, ProjectionConfig, ProjectionError};
use image::RgbaImage;

use crate::regions::{Region, RegionError};

/// Environment variable naming the models folder.
pub const MODELS_ENV: &str = "CORTEXLENS_MODELS";

/// The files a caption needs, as named inside the models folder.
pub const MODEL_FILES: [(&str, &str); 3] = [
    (
        "encoder.safetensors",
        "the voxel-wise encoder (cortexlens encoder import|fit)",
    ),
    (
        "pool.safetensors",
        "the image-embedding pool (f16 `embeddings` [M, D], raw CLIP image embeddings)",
    ),
    (
        "decoder/",
        "the ClipCap decoder: config.json, model.safetensors (or coco_weights.pt), tokenizer.json",
    ),
];

/// The models folder: `$CORTEXLENS_MODELS`, else `~/.local/share/cortexlens/models`.
pub fn models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(MODELS_ENV) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local/share/cortexlens/models")
}

/// Where the caption models are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelPaths {
    /// Encoder file.
    pub encoder: Option<PathBuf>,
    /// Embedding pool.
    pub pool: Option<PathBuf>,
    /// Decoder folder.
    pub decoder: Option<PathBuf>,
    /// Images in pool order (the folder's image files sorted by name), to name the top images.
    pub images: Option<PathBuf>,
}

impl ModelPaths {
    /// The files of the models folder `dir` that exist (an `images/` subfolder included).
    pub fn in_folder(dir: &Path) -> ModelPaths {
        let existing = |name: &str| Some(dir.join(name)).filter(|p| p.exists());
        ModelPaths {
            encoder: existing("encoder.safetensors"),
            pool: existing("pool.safetensors"),
            decoder: existing("decoder"),
            images: existing("images"),
        }
    }

    /// One line per missing model: what it is and where to put it.
    pub fn missing(&self, dir: &Path) -> Vec<String> {
        [&self.encoder, &self.pool, &self.decoder]
            .into_iter()
            .zip(MODEL_FILES)
            .filter(|(path, _)| path.is_none())
            .map(|(_, (name, what))| format!("{} — {what}", dir.join(name).display()))
            .collect()
    }
}

/// Why captions could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CaptioningError {
    /// A model file was not chosen.
    #[error("no {0} chosen")]
    NotChosen(&'static str),
    /// The encoder could not be read.
    #[error(transparent)]
    Encoder(#[from] EncoderError),
    /// The pool could not be read.
    #[error(transparent)]
    Pool(#[from] ProjectionError),
    /// The decoder could not be read.
    #[error(transparent)]
    Decoder(#[from] DecoderError),
    /// The request names no encoder voxel.
    #[error(transparent)]
    Region(#[from] RegionError),
    /// Projecting or decoding failed.
    #[error(transparent)]
    Captions(#[from] BrainScubaError),
}

/// The loaded models (kept between requests).
pub struct CaptionModels {
    /// The encoder.
    pub encoder: Encoder,
    /// The image-embedding pool.
    pub pool: EmbeddingPool,
    captioner: Captioner,
    /// Image files in pool order (empty without an image folder).
    pub images: Vec<PathBuf>,
    /// Where they were loaded from.
    pub paths: ModelPaths,
}

impl CaptionModels {
    /// Load every model named in `paths` (the decoder on [`device`]); the error names the file.
    pub fn load(paths: &ModelPaths) -> Result<CaptionModels, CaptioningError> {
        let need = |p: &Option<PathBuf>, what| p.clone().ok_or(CaptioningError::NotChosen(what));
        let encoder = load_encoder(&need(&paths.encoder, "encoder")?)?;
        let pool = EmbeddingPool::open(&need(&paths.pool, "embedding pool")?)?;
        let captioner = Captioner::load(&need(&paths.decoder, "decoder")?, &device())?;
        let images = paths.images.as_deref().map(image_files).unwrap_or_default();
        Ok(CaptionModels {
            encoder,
            pool,
            captioner,
            images,
            paths: paths.clone(),
        })
    }
}

/// Image files (png, jpg, jpeg, webp, bmp) of `dir`, sorted by name.
fn image_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| ["png", "jpg", "jpeg", "webp", "bmp"].contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    files.sort();
    files
}

/// How captions are made.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CaptionSettings {
    /// Projection onto the pool (temperature, how many top images to list).
    pub projection: ProjectionConfig,
    /// Decoding (beam width, longest caption).
    pub decode: DecodeConfig,
}

/// A finished caption request.
#[derive(Debug)]
pub struct CaptionOutcome {
    /// What was asked.
    pub target: Region,
    /// One caption per voxel.
    pub captions: Vec<VoxelCaption>,
    /// Image files of the top pool entries of the first caption (when an image folder is known).
    pub top_images: Vec<PathBuf>,
    /// Thumbnails of those that could be read, at most [`THUMBNAIL`] pixels on a side.
    pub thumbnails: Vec<(PathBuf, RgbaImage)>,
}

/// Longest side of a top image's thumbnail, in pixels.
pub const THUMBNAIL: u32 = 96;

/// The image at `path` shrunk to fit [`THUMBNAIL`] (smaller ones as they are), or `None` when it
/// cannot be read.
fn thumbnail(path: &Path) -> Option<RgbaImage> {
    let mut image = image::open(path).ok()?;
    if image.width() > THUMBNAIL || image.height() > THUMBNAIL {
        image = image.thumbnail(THUMBNAIL, THUMBNAIL);
    }
    Some(image.to_rgba8())
}

/// Caption the voxels `target` names with `models`. `progress(stage, done, total)` reports both
/// stages; `cancel` is read between blocks and decoding steps.
pub fn caption(
    models: &CaptionModels,
    target: Region,
    settings: &CaptionSettings,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Stage, usize, usize),
) -> Result<CaptionOutcome, CaptioningError> {
    let voxels = target.encoder_voxels(&models.encoder)?;
    let captions = caption_voxels(
        &models.encoder,
        &voxels,
        &models.pool,
        &models.captioner,
        &settings.projection,
        &settings.decode,
        cancel,
        progress,
    )?;
    let top_images: Vec<PathBuf> = captions
        .first()
        .map(|c| {
            c.top
                .iter()
                .filter_map(|(i, _)| models.images.get(*i).cloned())
                .collect()
        })
        .unwrap_or_default();
    let thumbnails = top_images
        .iter()
        .filter_map(|path| Some((path.clone(), thumbnail(path)?)))
        .collect();
    Ok(CaptionOutcome {
        target,
        captions,
        top_images,
        thumbnails,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_folder_finds_files_and_names_the_missing_ones() {
        let dir = std::env::temp_dir().join(format!("cortexlens-models-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("decoder")).unwrap();
        std::fs::write(dir.join("pool.safetensors"), b"").unwrap();
        let paths = ModelPaths::in_folder(&dir);
        assert_eq!(paths.pool, Some(dir.join("pool.safetensors")));
        assert_eq!(paths.decoder, Some(dir.join("decoder")));
        assert_eq!((paths.encoder.as_ref(), paths.images.as_ref()), (None, None));
        let missing = paths.missing(&dir);
        assert_eq!(missing.len(), 1);
        assert!(missing[0].contains("encoder.safetensors") && missing[0].contains("voxel-wise encoder"));
        let err = CaptionModels::load(&paths).err().unwrap();
        assert_eq!(err.to_string(), "no encoder chosen");
    }
}
