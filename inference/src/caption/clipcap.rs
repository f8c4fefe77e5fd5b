//! ClipCap: the MLP that maps a CLIP embedding to GPT-2 prefix embeddings, and the two together.

use candle_core::{DType, Tensor};

use super::config::DecoderConfig;
use super::error::CaptionError;
use super::gpt2::Gpt2;
use super::weights::Weights;

/// ClipCap's mapper `clip_project`: Linear(prefix_dim → hidden), Tanh, Linear(→ n_embd · prefix_length).
pub struct Mapper {
    w0: Tensor,
    b0: Tensor,
    w2: Tensor,
    b2: Tensor,
    prefix_length: usize,
    width: usize,
}

impl Mapper {
    /// Loads `clip_project.model.{0,2}.{weight,bias}` (PyTorch `Linear`: weights `[out, in]`).
    pub fn load(config: &DecoderConfig, weights: &Weights) -> Result<Self, CaptionError> {
        let width = config.gpt2.n_embd;
        let (input, hidden, output) = (config.prefix_dim, config.mapper_hidden, width * config.prefix_length);
        Ok(Self {
            w0: weights.get("clip_project.model.0.weight", &[hidden, input])?.t()?,
            b0: weights.get("clip_project.model.0.bias", &[hidden])?,
            w2: weights.get("clip_project.model.2.weight", &[output, hidden])?.t()?,
            b2: weights.get("clip_project.model.2.bias", &[output])?,
            prefix_length: config.prefix_length,
            width,
        })
    }

    /// Prefix embeddings `[N, prefix_length, n_embd]` of CLIP embeddings `[N, prefix_dim]`.
    pub fn forward(&self, prefixes: &Tensor) -> Result<Tensor, CaptionError> {
        let (n, dim) = prefixes
            .dims2()
            .map_err(|_| CaptionError::Input(format!("prefixes must be [N, prefix_dim], got {:?}", prefixes.dims())))?;
        let expected = self.w0.dim(0)?;
        if dim != expected {
            return Err(CaptionError::Input(format!(
                "prefix vectors have {dim} values, the decoder expects {expected}"
            )));
        }
        let x = prefixes.to_dtype(DType::F32)?.to_device(self.w0.device())?;
        let hidden = x.matmul(&self.w0)?.broadcast_add(&self.b0)?.tanh()?;
        let out = hidden.matmul(&self.w2)?.broadcast_add(&self.b2)?;
        Ok(out.reshape((n, self.prefix_length, self.width))?)
    }
}

/// ClipCap's `ClipCaptionModel` for inference: the mapper and GPT-2 (`gpt.transformer.*`).
pub struct ClipCap {
    /// The prefix mapper.
    pub mapper: Mapper,
    /// The language model.
    pub gpt: Gpt2,
}

impl ClipCap {
    /// Loads both from weights with ClipCap's key names (`clip_project.model.*`, `gpt.transformer.*`);
    /// extra tensors (`gpt.lm_head.weight`, attention-mask buffers) are ignored.
    pub fn load(config: &DecoderConfig, weights: &Weights) -> Result<Self, CaptionError> {
        Ok(Self {
            mapper: Mapper::load(config, weights)?,
            gpt: Gpt2::load(&config.gpt2, weights, "gpt.transformer.")?,
        })
    }
}
