//! CLIP image and text towers (OpenAI ViT-B/32 layout, Hugging Face safetensors), through
//! candle-transformers' `clip`, with CLIP's exact preprocessing ([`preprocess`]).

mod config;
pub mod preprocess;
mod resize;

use std::path::{Path, PathBuf};

use candle_core::{D, DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::clip::{ClipConfig, ClipModel};

pub use self::config::{from_hf_json, vit_base_patch32};
pub use self::resize::resize_bicubic;

/// Why a CLIP model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ClipError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An image file could not be decoded.
    #[error("{}: {source}", path.display())]
    Image {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        source: image::ImageError,
    },
    /// A malformed configuration or a bad argument.
    #[error("CLIP configuration: {0}")]
    Config(String),
    /// A configuration that candle's CLIP does not implement.
    #[error("unsupported CLIP model: {0}")]
    Unsupported(String),
    /// An input of the wrong shape or with out-of-range token ids.
    #[error("CLIP input: {0}")]
    Input(String),
    /// An error from candle (missing or mis-shaped weights, device).
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
}

/// The files of a Hugging Face CLIP model folder that [`Clip::load_dir`] reads.
pub const HF_FILES: [&str; 2] = ["config.json", "model.safetensors"];

/// A loaded CLIP model: both towers and their projections.
pub struct Clip {
    model: ClipModel,
    config: ClipConfig,
    device: Device,
}

impl Clip {
    /// Loads a Hugging Face model folder: `config.json` and `model.safetensors`.
    pub fn load_dir(dir: &Path, device: &Device) -> Result<Clip, ClipError> {
        let config_path = dir.join("config.json");
        let text = std::fs::read_to_string(&config_path).map_err(|source| ClipError::Io {
            path: config_path,
            source,
        })?;
        let config = from_hf_json(&text)?;
        Clip::load(&dir.join("model.safetensors"), config, device)
    }

    /// Loads the weights of a `CLIPModel` in Hugging Face naming from one safetensors file.
    pub fn load(weights: &Path, config: ClipConfig, device: &Device) -> Result<Clip, ClipError> {
        if !weights.is_file() {
            return Err(ClipError::Io {
                path: weights.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        let tensors = candle_core::safetensors::load(weights, device)?;
        Clip::new(VarBuilder::from_tensors(tensors, DType::F32, device), config)
    }

    /// Builds the model from weights in Hugging Face naming (e.g. `VarBuilder::zeros` for benchmarks).
    pub fn new(vb: VarBuilder, config: ClipConfig) -> Result<Clip, ClipError> {
        let device = vb.device().clone();
        let model = ClipModel::new(vb, &config)?;
        Ok(Clip { model, config, device })
    }

    /// The side of the square input images.
    pub fn image_size(&self) -> usize {
        self.config.vision_config.image_size
    }

    /// The dimension of the projected embeddings.
    pub fn projection_dim(&self) -> usize {
        self.config.vision_config.projection_dim
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Projected image embeddings `[B, projection_dim]` (raw, not normalised) of preprocessed
    /// pixels `[B, 3, image_size, image_size]`.
    pub fn encode_images(&self, pixels: &Tensor) -> Result<Tensor, ClipError> {
        let s = self.image_size();
        match pixels.dims() {
            &[_, 3, h, w] if h == s && w == s => {}
            dims => {
                return Err(ClipError::Input(format!(
                    "pixels of shape {dims:?}, expected [B, 3, {s}, {s}]"
                )));
            }
        }
        let pixels = pixels.to_dtype(DType::F32)?.to_device(&self.device)?;
        Ok(self.model.get_image_features(&pixels)?)
    }

    /// Projected text embeddings `[B, projection_dim]` of token ids `[B, L]`.
    ///
    /// Each sequence is pooled at its largest id, which is the end-of-text token in CLIP's
    /// vocabulary (as OpenAI's code and `transformers` with the original configs do); there is no
    /// padding mask, so padding must come after the end token.
    pub fn encode_text(&self, ids: &Tensor) -> Result<Tensor, ClipError> {
        let (_, len) = ids
            .dims2()
            .map_err(|_| ClipError::Input(format!("token ids of shape {:?}", ids.dims())))?;
        let max_len = self.config.text_config.max_position_embeddings;
        if len == 0 || len > max_len {
            return Err(ClipError::Input(format!("{len} tokens, expected 1 to {max_len}")));
        }
        let ids = ids.to_dtype(DType::I64)?;
        let values = ids.flatten_all()?.to_vec1::<i64>()?;
        let vocab = self.config.text_config.vocab_size as i64;
        if let Some(bad) = values.iter().find(|&&v| v < 0 || v >= vocab) {
            return Err(ClipError::Input(format!(
                "token id {bad} outside the vocabulary of {vocab}"
            )));
        }
        let ids = ids.to_dtype(DType::U32)?.to_device(&self.device)?;
        Ok(self.model.get_text_features(&ids)?)
    }
}

/// Divides each row (last dimension) by its L2 norm.
pub fn unit_normalize(embeddings: &Tensor) -> Result<Tensor, candle_core::Error> {
    let norm = embeddings.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?;
    embeddings.broadcast_div(&norm)
}
