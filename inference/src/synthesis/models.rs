//! [`SynthesisModels`]: a diffusers Stable Diffusion folder and a Hugging Face CLIP folder, loaded.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use serde_json::Value;

use super::clip_tower::{ClipText, ClipVision, TowerConfig, VisionConfig};
use super::error::SynthesisError;
use super::scheduler::ScheduleConfig;
use super::unet::{UNet, UNetConfig};
use super::vae::{Vae, VaeConfig};

/// The file in a diffusion folder that may hold the empty prompt's text conditioning, key
/// [`EMPTY_PROMPT_KEY`], `[1, L, cross_attention_dim]`; used instead of `text_encoder/` when present.
pub const EMPTY_PROMPT_FILE: &str = "empty_prompt_embeds.safetensors";
/// The tensor name in [`EMPTY_PROMPT_FILE`].
pub const EMPTY_PROMPT_KEY: &str = "empty_prompt_embeds";

/// Everything synthesis runs: the UNet, the VAE, the noise schedule and the empty prompt's
/// conditioning of one Stable Diffusion folder, and the image tower of the guidance CLIP.
///
/// The diffusion folder has diffusers' layout (as `huggingface-cli download
/// stabilityai/stable-diffusion-2-1-base` or `stabilityai/sd-turbo` writes it):
/// `model_index.json`, `unet/config.json` + `unet/diffusion_pytorch_model[.fp16].safetensors`,
/// `vae/config.json` + `vae/diffusion_pytorch_model[.fp16].safetensors`,
/// `scheduler/scheduler_config.json`, and the text conditioning of the empty prompt: either
/// [`EMPTY_PROMPT_FILE`] or `text_encoder/` (`config.json`, `model[.fp16].safetensors`) with
/// `tokenizer/` (`vocab.json`, `tokenizer_config.json`), from which it is computed once at load.
/// The CLIP folder is a `transformers` CLIP (`config.json`, `model.safetensors`).
pub struct SynthesisModels {
    pub(crate) unet: UNet,
    pub(crate) vae: Vae,
    pub(crate) clip: ClipVision,
    pub(crate) schedule: ScheduleConfig,
    pub(crate) conditioning: Tensor,
    pub(crate) device: Device,
}

impl SynthesisModels {
    /// Loads both folders onto `device`: f32 on the CPU; on CUDA the UNet and VAE in f16 (the
    /// CLIP stays f32).
    pub fn load(diffusion: &Path, clip: &Path, device: &Device) -> Result<Self, SynthesisError> {
        let dtype = if device.is_cpu() { DType::F32 } else { DType::F16 };
        Self::load_with_dtype(diffusion, clip, device, dtype)
    }

    /// Like [`load`](Self::load) with the UNet and VAE in `dtype` (f32, f16 or bf16).
    pub fn load_with_dtype(
        diffusion: &Path,
        clip: &Path,
        device: &Device,
        dtype: DType,
    ) -> Result<Self, SynthesisError> {
        let index = diffusion.join("model_index.json");
        if !index.is_file() {
            return Err(SynthesisError::Missing {
                path: index,
                expected: "a diffusers Stable Diffusion folder (SD 2.1-base or SD-Turbo)".into(),
            });
        }
        let unet_config = parse(&diffusion.join("unet/config.json"), UNetConfig::from_json)?;
        let unet_weights = weights_file(&diffusion.join("unet"), "diffusion_pytorch_model", dtype)?;
        let unet = UNet::load(var_builder(&unet_weights, dtype, device)?, unet_config)
            .map_err(weights_error(&unet_weights))?;
        let vae_config = parse(&diffusion.join("vae/config.json"), VaeConfig::from_json)?;
        let vae_weights = weights_file(&diffusion.join("vae"), "diffusion_pytorch_model", dtype)?;
        let vae =
            Vae::load(var_builder(&vae_weights, dtype, device)?, vae_config).map_err(weights_error(&vae_weights))?;
        let schedule = parse(
            &diffusion.join("scheduler/scheduler_config.json"),
            ScheduleConfig::from_json,
        )?;
        let clip = load_clip_vision(clip, device)?;
        let conditioning = empty_prompt(diffusion, device)?;
        let width = conditioning.dim(2)?;
        let expected = unet.config().cross_attention_dim;
        if width != expected {
            return Err(SynthesisError::ConditioningMismatch { got: width, expected });
        }
        Ok(Self {
            unet,
            vae,
            clip,
            schedule,
            conditioning: conditioning.to_dtype(dtype)?,
            device: device.clone(),
        })
    }

    /// Models of the given shapes with all weights zero (for benchmarks: the cost does not depend
    /// on the values), a zero conditioning of `text_len` tokens, and `schedule`.
    pub fn zeros(
        unet: UNetConfig,
        vae: VaeConfig,
        clip: VisionConfig,
        schedule: ScheduleConfig,
        text_len: usize,
        device: &Device,
        dtype: DType,
    ) -> Result<Self, SynthesisError> {
        let width = unet.cross_attention_dim;
        Ok(Self {
            unet: UNet::load(VarBuilder::zeros(dtype, device), unet)?,
            vae: Vae::load(VarBuilder::zeros(dtype, device), vae)?,
            clip: ClipVision::load(VarBuilder::zeros(DType::F32, device), clip)?,
            schedule,
            conditioning: Tensor::zeros((1, text_len, width), dtype, device)?,
            device: device.clone(),
        })
    }

    /// The image side the diffusion model was trained at (512 for SD 2.1-base and SD-Turbo).
    pub fn native_size(&self) -> usize {
        self.unet.config().sample_size * self.vae.config().downscale()
    }

    /// Image sides must be multiples of this.
    pub fn size_multiple(&self) -> usize {
        self.unet.config().size_multiple() * self.vae.config().downscale()
    }

    /// Whether the folder's scheduler is Euler (SD-Turbo), the one the `fast` mode expects.
    pub fn is_turbo(&self) -> bool {
        self.schedule.is_euler()
    }

    /// The guidance CLIP's embedding width (the encoder's feature dimension must equal it).
    pub fn clip_dim(&self) -> usize {
        self.clip.config().projection_dim
    }

    /// The side of the CLIP's input images.
    pub fn clip_image_size(&self) -> usize {
        self.clip.config().image_size
    }

    /// Where the models run.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The UNet.
    pub fn unet(&self) -> &UNet {
        &self.unet
    }

    /// The VAE.
    pub fn vae(&self) -> &Vae {
        &self.vae
    }

    /// The guidance CLIP's image tower.
    pub fn clip(&self) -> &ClipVision {
        &self.clip
    }

    /// The noise schedule of the folder's scheduler config.
    pub fn schedule(&self) -> &ScheduleConfig {
        &self.schedule
    }

    /// The empty prompt's text conditioning `[1, L, cross_attention_dim]` (in the UNet's dtype).
    pub fn conditioning(&self) -> &Tensor {
        &self.conditioning
    }
}

fn read(path: &Path) -> Result<String, SynthesisError> {
    std::fs::read_to_string(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => SynthesisError::Missing {
            path: path.to_owned(),
            expected: "a configuration file".into(),
        },
        _ => SynthesisError::Io {
            path: path.to_owned(),
            source,
        },
    })
}

fn parse<T>(path: &Path, f: impl FnOnce(&str) -> Result<T, String>) -> Result<T, SynthesisError> {
    f(&read(path)?).map_err(|message| SynthesisError::Config {
        path: path.to_owned(),
        message,
    })
}

fn weights_error(path: &Path) -> impl Fn(candle_core::Error) -> SynthesisError + '_ {
    move |e| SynthesisError::Weights {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// `dir/stem.safetensors` or its `.fp16` variant (tried first when `dtype` is half precision).
fn weights_file(dir: &Path, stem: &str, dtype: DType) -> Result<PathBuf, SynthesisError> {
    let full = dir.join(format!("{stem}.safetensors"));
    let half = dir.join(format!("{stem}.fp16.safetensors"));
    let order = if dtype == DType::F32 {
        [&full, &half]
    } else {
        [&half, &full]
    };
    order
        .into_iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| SynthesisError::Missing {
            path: full.clone(),
            expected: format!("{stem}.safetensors or {stem}.fp16.safetensors"),
        })
}

fn var_builder(path: &Path, dtype: DType, device: &Device) -> Result<VarBuilder<'static>, SynthesisError> {
    // SAFETY: the file is mapped read-only and not expected to change while the models are loaded
    // (the same contract as every safetensors loader that maps model files).
    unsafe { VarBuilder::from_mmaped_safetensors(&[path], dtype, device) }.map_err(weights_error(path))
}

/// Loads the image tower and projection of a `transformers` CLIP folder (`config.json`,
/// `model.safetensors`) in f32.
pub fn load_clip_vision(dir: &Path, device: &Device) -> Result<ClipVision, SynthesisError> {
    let config = parse(&dir.join("config.json"), VisionConfig::from_hf_json)?;
    let weights = weights_file(dir, "model", DType::F32)?;
    ClipVision::load(var_builder(&weights, DType::F32, device)?, config).map_err(weights_error(&weights))
}

/// The empty prompt's conditioning `[1, L, D]` (f32): from [`EMPTY_PROMPT_FILE`] or computed with
/// the folder's text encoder.
fn empty_prompt(diffusion: &Path, device: &Device) -> Result<Tensor, SynthesisError> {
    let file = diffusion.join(EMPTY_PROMPT_FILE);
    if file.is_file() {
        let tensors = candle_core::safetensors::load(&file, device).map_err(weights_error(&file))?;
        let t = tensors.get(EMPTY_PROMPT_KEY).ok_or_else(|| SynthesisError::Weights {
            path: file.clone(),
            message: format!("no tensor {EMPTY_PROMPT_KEY:?}"),
        })?;
        if t.rank() != 3 || t.dim(0)? != 1 {
            return Err(SynthesisError::Weights {
                path: file.clone(),
                message: format!("{EMPTY_PROMPT_KEY} has shape {:?}, expected [1, L, D]", t.dims()),
            });
        }
        return Ok(t.to_dtype(DType::F32)?);
    }
    let text_dir = diffusion.join("text_encoder");
    if !text_dir.join("config.json").is_file() {
        return Err(SynthesisError::Missing {
            path: file,
            expected: "the empty prompt's conditioning, or text_encoder/ and tokenizer/ to compute it".into(),
        });
    }
    let config_path = text_dir.join("config.json");
    let json: Value = serde_json::from_str(&read(&config_path)?).map_err(|e| SynthesisError::Config {
        path: config_path.clone(),
        message: e.to_string(),
    })?;
    let config_error = |message: String| SynthesisError::Config {
        path: config_path.clone(),
        message,
    };
    let tower = TowerConfig::from_json(&json, "text").map_err(config_error)?;
    let vocab = super::clip_tower::usize_field(&json, "vocab_size", 49408).map_err(config_error)?;
    let positions = super::clip_tower::usize_field(&json, "max_position_embeddings", 77).map_err(config_error)?;
    let ids = empty_prompt_ids(&diffusion.join("tokenizer"), positions)?;
    let weights = weights_file(&text_dir, "model", DType::F32)?;
    let model = ClipText::load(var_builder(&weights, DType::F32, device)?, &tower, vocab, positions)
        .map_err(weights_error(&weights))?;
    let ids = Tensor::new(ids.as_slice(), device)?.unsqueeze(0)?;
    Ok(model.forward(&ids)?)
}

/// The token ids of `""` as the SD pipelines tokenize it: start, end, then padding up to the
/// tokenizer's `model_max_length` (CLIP's BPE is not needed for an empty string).
pub(crate) fn empty_prompt_ids(tokenizer: &Path, max_positions: usize) -> Result<Vec<u32>, SynthesisError> {
    let vocab_path = tokenizer.join("vocab.json");
    let config_path = tokenizer.join("tokenizer_config.json");
    let json = |path: &Path| -> Result<Value, SynthesisError> {
        serde_json::from_str(&read(path)?).map_err(|e| SynthesisError::Config {
            path: path.to_owned(),
            message: e.to_string(),
        })
    };
    let vocab = json(&vocab_path)?;
    let config = json(&config_path)?;
    let id = |token: &str| -> Result<u32, SynthesisError> {
        vocab
            .get(token)
            .and_then(Value::as_u64)
            .map(|v| v as u32)
            .ok_or_else(|| SynthesisError::Config {
                path: vocab_path.clone(),
                message: format!("no token {token:?}"),
            })
    };
    let token_name = |key: &str, default: &str| -> String {
        match config.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Object(o)) => o.get("content").and_then(Value::as_str).unwrap_or(default).to_owned(),
            _ => default.to_owned(),
        }
    };
    let bos = id(&token_name("bos_token", "<|startoftext|>"))?;
    let eos = id(&token_name("eos_token", "<|endoftext|>"))?;
    let pad = id(&token_name("pad_token", "<|endoftext|>"))?;
    let length = config
        .get("model_max_length")
        .and_then(Value::as_u64)
        .map_or(max_positions, |l| (l as usize).min(max_positions))
        .max(2);
    let mut ids = vec![pad; length];
    ids[0] = bos;
    ids[1] = eos;
    Ok(ids)
}
