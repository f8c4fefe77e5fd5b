//! GPT-2 (Hugging Face layout) with an embeddings entry point and a key/value cache.
//!
//! Conv1D weights are stored `[in, out]` as in Hugging Face; the output projection is tied to the
//! token embedding `wte`. Inference only, f32.

use candle_core::{D, Device, Tensor};
use candle_nn::ops::{layer_norm, softmax_last_dim};

use super::config::{Activation, Gpt2Config};
use super::error::CaptionError;
use super::weights::Weights;

/// Hugging Face's `Conv1D`: `x · W + b` with `W` stored `[in, out]` (kept here transposed, `[out, in]`).
struct Conv1D {
    weight_t: Tensor,
    bias: Tensor,
}

impl Conv1D {
    fn load(weights: &Weights, name: &str, inputs: usize, outputs: usize) -> Result<Self, CaptionError> {
        Ok(Self {
            weight_t: weights
                .get(&format!("{name}.weight"), &[inputs, outputs])?
                .t()?
                .contiguous()?,
            bias: weights.get(&format!("{name}.bias"), &[outputs])?,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        linear(x, &self.weight_t)?.broadcast_add(&self.bias)
    }
}

/// `x · wᵀ` over the last dimension of `x` (any leading dimensions), with `w` `[out, in]`. Computed
/// as `(w · xᵀ)ᵀ`: with few rows (decoding steps) that is 2–3× faster than `x · wᵀ` in candle's CPU
/// matmul, and never slower in measurements up to 320 rows.
fn linear(x: &Tensor, w: &Tensor) -> candle_core::Result<Tensor> {
    let mut dims = x.dims().to_vec();
    let inputs = dims.pop().unwrap_or(1);
    let rows = dims.iter().product::<usize>();
    let out = w.matmul(&x.reshape((rows, inputs))?.t()?)?.t()?;
    dims.push(w.dim(0)?);
    out.contiguous()?.reshape(dims)
}

struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl LayerNorm {
    fn load(weights: &Weights, name: &str, width: usize, eps: f64) -> Result<Self, CaptionError> {
        Ok(Self {
            weight: weights.get(&format!("{name}.weight"), &[width])?,
            bias: weights.get(&format!("{name}.bias"), &[width])?,
            eps: eps as f32,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        layer_norm(&x.contiguous()?, &self.weight, &self.bias, self.eps)
    }
}

struct Block {
    ln_1: LayerNorm,
    c_attn: Conv1D,
    attn_proj: Conv1D,
    ln_2: LayerNorm,
    c_fc: Conv1D,
    mlp_proj: Conv1D,
}

/// Keys and values of every layer for the positions run so far, `[batch, heads, positions, head_dim]`.
#[derive(Clone, Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
}

impl KvCache {
    /// An empty cache (no positions yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// Positions already cached.
    pub fn len(&self) -> usize {
        match self.layers.first() {
            Some(Some((k, _))) => k.dim(2).unwrap_or(0),
            _ => 0,
        }
    }

    /// Whether no position is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sequences cached (the batch size), 0 when empty.
    pub fn batch(&self) -> usize {
        match self.layers.first() {
            Some(Some((k, _))) => k.dim(0).unwrap_or(0),
            _ => 0,
        }
    }

    /// Keeps the sequences `rows` (u32 indices into the batch, in that order, repeats allowed):
    /// how beam search reorders, duplicates and drops hypotheses.
    pub fn select(&mut self, rows: &Tensor) -> candle_core::Result<()> {
        for (k, v) in self.layers.iter_mut().flatten() {
            *k = k.index_select(rows, 0)?;
            *v = v.index_select(rows, 0)?;
        }
        Ok(())
    }
}

/// GPT-2's transformer and its tied language-model head.
pub struct Gpt2 {
    config: Gpt2Config,
    wte: Tensor,
    wpe: Tensor,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
}

impl Gpt2 {
    /// Loads the weights named `{prefix}wte.weight`, `{prefix}h.{i}.attn.c_attn.weight`, … (ClipCap:
    /// `prefix = "gpt.transformer."`; Hugging Face `GPT2LMHeadModel`: `"transformer."`).
    pub fn load(config: &Gpt2Config, weights: &Weights, prefix: &str) -> Result<Self, CaptionError> {
        let (e, eps) = (config.n_embd, config.layer_norm_epsilon);
        let blocks = (0..config.n_layer)
            .map(|i| {
                let p = format!("{prefix}h.{i}.");
                Ok(Block {
                    ln_1: LayerNorm::load(weights, &format!("{p}ln_1"), e, eps)?,
                    c_attn: Conv1D::load(weights, &format!("{p}attn.c_attn"), e, 3 * e)?,
                    attn_proj: Conv1D::load(weights, &format!("{p}attn.c_proj"), e, e)?,
                    ln_2: LayerNorm::load(weights, &format!("{p}ln_2"), e, eps)?,
                    c_fc: Conv1D::load(weights, &format!("{p}mlp.c_fc"), e, config.n_inner)?,
                    mlp_proj: Conv1D::load(weights, &format!("{p}mlp.c_proj"), config.n_inner, e)?,
                })
            })
            .collect::<Result<Vec<_>, CaptionError>>()?;
        Ok(Self {
            config: config.clone(),
            wte: weights.get(&format!("{prefix}wte.weight"), &[config.vocab_size, e])?,
            wpe: weights.get(&format!("{prefix}wpe.weight"), &[config.n_positions, e])?,
            blocks,
            ln_f: LayerNorm::load(weights, &format!("{prefix}ln_f"), e, eps)?,
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &Gpt2Config {
        &self.config
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        self.wte.device()
    }

    /// Token embeddings of `ids` (u32, any shape): `[…, n_embd]`.
    pub fn embed_tokens(&self, ids: &Tensor) -> candle_core::Result<Tensor> {
        let mut dims = ids.dims().to_vec();
        let flat = self.wte.index_select(&ids.flatten_all()?, 0)?;
        dims.push(self.config.n_embd);
        flat.reshape(dims)
    }

    /// Logits `[B, T, vocab]` for input embeddings `[B, T, n_embd]` that continue the positions in
    /// `cache` (which then holds them too).
    pub fn forward_embeds(&self, embeds: &Tensor, cache: &mut KvCache) -> Result<Tensor, CaptionError> {
        let hidden = self.hidden(embeds, cache)?;
        Ok(self.logits(&hidden)?)
    }

    /// Like [`forward_embeds`](Self::forward_embeds) but only the last position's logits, `[B, vocab]`.
    pub fn forward_embeds_last(&self, embeds: &Tensor, cache: &mut KvCache) -> Result<Tensor, CaptionError> {
        let hidden = self.hidden(embeds, cache)?;
        let last = hidden.narrow(1, hidden.dim(1)? - 1, 1)?;
        Ok(self.logits(&last)?.squeeze(1)?)
    }

    fn logits(&self, hidden: &Tensor) -> candle_core::Result<Tensor> {
        linear(hidden, &self.wte)
    }

    /// The final hidden states (after `ln_f`), `[B, T, n_embd]`.
    fn hidden(&self, embeds: &Tensor, cache: &mut KvCache) -> Result<Tensor, CaptionError> {
        let (batch, steps, width) = embeds.dims3()?;
        if width != self.config.n_embd {
            return Err(CaptionError::Input(format!(
                "embeddings are {width} wide, the model is {}",
                self.config.n_embd
            )));
        }
        let past = cache.len();
        if past + steps > self.config.n_positions {
            return Err(CaptionError::Input(format!(
                "{} positions exceed the model's n_positions {}",
                past + steps,
                self.config.n_positions
            )));
        }
        if past > 0 && cache.batch() != batch {
            return Err(CaptionError::Input(format!(
                "a batch of {batch} continues a cache of {} sequences",
                cache.batch()
            )));
        }
        if cache.layers.len() != self.blocks.len() {
            cache.layers = vec![None; self.blocks.len()];
        }
        let positions = self.wpe.narrow(0, past, steps)?;
        let mut x = embeds.broadcast_add(&positions)?;
        let mask = causal_mask(past, steps, x.device())?;
        for (block, layer) in self.blocks.iter().zip(cache.layers.iter_mut()) {
            x = self.block(block, &x, layer, mask.as_ref())?;
        }
        Ok(self.ln_f.forward(&x)?)
    }

    fn block(
        &self,
        block: &Block,
        x: &Tensor,
        layer: &mut Option<(Tensor, Tensor)>,
        mask: Option<&Tensor>,
    ) -> candle_core::Result<Tensor> {
        let (batch, steps, width) = x.dims3()?;
        let heads = self.config.n_head;
        let head_dim = width / heads;
        let qkv = block.c_attn.forward(&block.ln_1.forward(x)?)?;
        let split = |i: usize| -> candle_core::Result<Tensor> {
            qkv.narrow(D::Minus1, i * width, width)?
                .reshape((batch, steps, heads, head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let (q, mut k, mut v) = (split(0)?, split(1)?, split(2)?);
        if let Some((past_k, past_v)) = layer.as_ref() {
            k = Tensor::cat(&[past_k, &k], 2)?;
            v = Tensor::cat(&[past_v, &v], 2)?;
        }
        *layer = Some((k.clone(), v.clone()));
        let scale = 1.0 / (head_dim as f64).sqrt();
        let mut scores = (q.matmul(&k.t()?)? * scale)?;
        if let Some(mask) = mask {
            scores = scores.broadcast_add(mask)?;
        }
        let attended = softmax_last_dim(&scores)?.matmul(&v)?;
        let attended = attended.transpose(1, 2)?.reshape((batch, steps, width))?;
        let x = (x + block.attn_proj.forward(&attended)?)?;
        let hidden = block.c_fc.forward(&block.ln_2.forward(&x)?)?;
        let hidden = match self.config.activation {
            Activation::GeluTanh => hidden.gelu()?,
            Activation::GeluErf => hidden.gelu_erf()?,
        };
        x + block.mlp_proj.forward(&hidden)?
    }
}

/// The additive causal mask `[steps, past + steps]` (0 or −∞), `None` for a single step.
fn causal_mask(past: usize, steps: usize, device: &Device) -> candle_core::Result<Option<Tensor>> {
    if steps == 1 {
        return Ok(None);
    }
    let total = past + steps;
    let values: Vec<f32> = (0..steps)
        .flat_map(|i| (0..total).map(move |j| if j <= past + i { 0.0 } else { f32::NEG_INFINITY }))
        .collect();
    Tensor::from_vec(values, (steps, total), device).map(Some)
}
