//! BrainSCUBA captions in the app: the model files (a models folder, or files the user picks), and a
//! worker that loads them once and captions the voxel at the crosshair or a whole region.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use cortexlens_data::{LayerStyle, Volume};
use cortexlens_inference::brainscuba::{Stage, VoxelCaption, caption_voxels};
use cortexlens_inference::caption::{Captioner, DecodeConfig};
use cortexlens_inference::encoder::Encoder;
use cortexlens_inference::encoder::file::load_encoder;
use cortexlens_inference::projection::{EmbeddingPool, ProjectionConfig};
use cortexlens_inference::{device, device_name};
use glam::DVec3;

use crate::worker::Worker;

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

/// The loaded models (kept between requests).
pub struct CaptionModels {
    /// The encoder.
    pub encoder: Encoder,
    pool: EmbeddingPool,
    captioner: Captioner,
    /// Image files in pool order (empty without an image folder).
    pub images: Vec<PathBuf>,
    paths: ModelPaths,
}

impl CaptionModels {
    /// Load every model named in `paths`; the message names the file that failed.
    pub fn load(paths: &ModelPaths) -> Result<CaptionModels, String> {
        let need = |p: &Option<PathBuf>, what: &str| p.clone().ok_or_else(|| format!("no {what} chosen"));
        let encoder = load_encoder(&need(&paths.encoder, "encoder")?).map_err(|e| e.to_string())?;
        let pool = EmbeddingPool::open(&need(&paths.pool, "embedding pool")?).map_err(|e| e.to_string())?;
        let captioner = Captioner::load(&need(&paths.decoder, "decoder")?, &device()).map_err(|e| e.to_string())?;
        let images = paths.images.as_deref().map(image_files).unwrap_or_default();
        Ok(CaptionModels {
            encoder,
            pool,
            captioner,
            images,
            paths: paths.clone(),
        })
    }

    /// The encoder voxel whose grid cell holds world point `world`.
    pub fn voxel_at(&self, world: DVec3) -> Option<usize> {
        let ijk = self.encoder.grid_affine().inverse().transform_point3(world);
        let ijk = [ijk.x, ijk.y, ijk.z].map(|c| (c + 0.5).floor());
        let shape = self.encoder.grid_shape();
        let inside = ijk.iter().zip(shape).all(|(&c, n)| c >= 0.0 && c < n as f64);
        inside.then(|| self.encoder.find_voxel(ijk.map(|c| c as u32))).flatten()
    }

    /// The encoder voxels where `volume` (frame `frame`, sampled at the voxel centre) is drawn with `style`.
    pub fn voxels_shown(&self, volume: &Volume, frame: usize, style: &LayerStyle) -> Vec<usize> {
        let affine = self.encoder.grid_affine();
        self.encoder
            .voxels()
            .iter()
            .enumerate()
            .filter(|(_, ijk)| {
                let world = affine.transform_point3(DVec3::from_array(ijk.map(f64::from)));
                volume
                    .value_at(volume.nearest_voxel(world), frame)
                    .and_then(|v| style.shade(v))
                    .is_some_and(|c| c[3] > 0.0)
            })
            .map(|(v, _)| v)
            .collect()
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

/// What to caption.
#[derive(Clone, Debug)]
pub enum CaptionTarget {
    /// The encoder voxel at this world point (the crosshair).
    At(DVec3),
    /// The encoder voxels where this layer is drawn.
    Region {
        /// The layer's volume.
        volume: Arc<Volume>,
        /// Its frame.
        frame: usize,
        /// Its style (threshold, signed sides).
        style: LayerStyle,
        /// Its name, for messages.
        name: String,
    },
}

/// A finished caption request.
pub struct CaptionOutcome {
    /// What was asked.
    pub target: CaptionTarget,
    /// One caption per voxel.
    pub captions: Vec<VoxelCaption>,
    /// Image files of the top pool entries of the first caption (when an image folder is known).
    pub top_images: Vec<PathBuf>,
    /// Thumbnails of those that could be read, at most [`THUMBNAIL`] pixels on a side.
    pub thumbnails: Vec<(PathBuf, egui::ColorImage)>,
}

/// Longest side of a top image's thumbnail, in pixels.
pub const THUMBNAIL: u32 = 96;

/// The image at `path` shrunk to fit [`THUMBNAIL`] (smaller ones as they are), or `None` when it
/// cannot be read.
fn thumbnail(path: &Path) -> Option<egui::ColorImage> {
    let mut image = image::open(path).ok()?;
    if image.width() > THUMBNAIL || image.height() > THUMBNAIL {
        image = image.thumbnail(THUMBNAIL, THUMBNAIL);
    }
    let image = image.to_rgba8();
    let size = [image.width() as usize, image.height() as usize];
    Some(egui::ColorImage::from_rgba_unmultiplied(size, image.as_raw()))
}

/// What a caption request hands back: the models (when they loaded) and the outcome.
pub type CaptionResult = (Option<CaptionModels>, Result<CaptionOutcome, String>);

/// Captioning running in the background.
pub struct CaptionJob {
    worker: Worker<(Stage, usize, usize), CaptionResult>,
    device_name: String,
}

/// Voxels a single-voxel request lists as its top pool images.
const TOP_IMAGES: usize = 8;

impl CaptionJob {
    /// Caption `target` with `models` (loaded from `paths` first when `None` or loaded from other
    /// paths). The models come back with the result, to be handed to the next request.
    pub fn start(
        models: Option<CaptionModels>,
        paths: ModelPaths,
        target: CaptionTarget,
        notify: Arc<dyn Fn() + Send + Sync>,
    ) -> CaptionJob {
        let worker = Worker::spawn("caption", notify, move |report, cancel| {
            let models = match models.filter(|m| m.paths == paths) {
                Some(models) => models,
                None => match CaptionModels::load(&paths) {
                    Ok(models) => models,
                    Err(error) => return (None, Err(error)),
                },
            };
            let outcome = run(&models, target, cancel, &mut |stage, done, total| {
                report((stage, done, total))
            });
            (Some(models), outcome)
        });
        CaptionJob {
            worker,
            device_name: device_name(&device()),
        }
    }

    /// The latest progress: stage, done, total.
    pub fn progress(&self) -> Option<(Stage, usize, usize)> {
        self.worker.progress()
    }

    /// Ask the job to stop.
    pub fn cancel(&self) {
        self.worker.cancel();
    }

    /// The models (when loaded) and the outcome, once finished.
    pub fn poll(&self) -> Option<CaptionResult> {
        self.worker.poll()
    }

    /// Where the models run ("CPU", "CUDA 0").
    pub fn device_name(&self) -> &str {
        &self.device_name
    }
}

fn run(
    models: &CaptionModels,
    target: CaptionTarget,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Stage, usize, usize),
) -> Result<CaptionOutcome, String> {
    let voxels = match &target {
        CaptionTarget::At(world) => vec![models.voxel_at(*world).ok_or_else(|| {
            format!(
                "the crosshair ({:.1}, {:.1}, {:.1}) is not on one of the encoder's {} voxels",
                world.x,
                world.y,
                world.z,
                models.encoder.voxel_count()
            )
        })?],
        CaptionTarget::Region {
            volume,
            frame,
            style,
            name,
        } => {
            let voxels = models.voxels_shown(volume, *frame, style);
            if voxels.is_empty() {
                return Err(format!("no encoder voxel lies where {name} is shown"));
            }
            voxels
        }
    };
    let single = voxels.len() == 1;
    let projection = ProjectionConfig {
        top_k: if single { TOP_IMAGES } else { 0 },
        ..ProjectionConfig::default()
    };
    let captions = caption_voxels(
        &models.encoder,
        &voxels,
        &models.pool,
        &models.captioner,
        &projection,
        &DecodeConfig::default(),
        cancel,
        progress,
    )
    .map_err(|e| e.to_string())?;
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
        assert_eq!(err, "no encoder chosen");
    }
}
