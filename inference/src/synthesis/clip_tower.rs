//! CLIP's transformer towers with a backward pass that reaches the pixels: the image tower and
//! projection that guidance differentiates through, and the text tower that encodes Stable
//! Diffusion's empty prompt. Hugging Face `transformers` layout and key names (`CLIPModel`,
//! `CLIPVisionModelWithProjection`, `CLIPTextModel`).
//!
//! candle-transformers' own CLIP starts with a fused `LayerNorm` (no gradient) and knows only
//! `quick_gelu`; here layer norms are [`LayerNorm`] and the activation is the one the config
//! names: `quick_gelu` (OpenAI), `gelu` (erf, LAION/OpenCLIP and SD 2's text encoder), or the tanh
//! approximations `gelu_new` / `gelu_pytorch_tanh`.

use candle_core::{D, DType, Device, IndexOp, Module, Result, Tensor};
use candle_nn::{Conv2dConfig, Linear, VarBuilder, linear, linear_no_bias};
use serde_json::Value;

use super::diff::{LayerNorm, softmax};

/// A CLIP MLP activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipActivation {
    /// `x·σ(1.702x)` (OpenAI CLIP).
    QuickGelu,
    /// The exact, erf-based GELU (OpenCLIP/LAION, SD 2's text encoder).
    Gelu,
    /// The tanh approximation of GELU.
    GeluTanh,
}

impl ClipActivation {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "quick_gelu" => Some(Self::QuickGelu),
            "gelu" => Some(Self::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" => Some(Self::GeluTanh),
            _ => None,
        }
    }

    fn forward(self, xs: &Tensor) -> Result<Tensor> {
        match self {
            Self::QuickGelu => xs * candle_nn::ops::sigmoid(&(xs * 1.702)?)?,
            Self::Gelu => xs.gelu_erf(),
            Self::GeluTanh => xs.gelu(),
        }
    }
}

/// The shape of one CLIP tower, read from a Hugging Face config.
#[derive(Debug, Clone, PartialEq)]
pub struct TowerConfig {
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Width of the MLP.
    pub intermediate_size: usize,
    /// Number of transformer layers.
    pub layers: usize,
    /// Number of attention heads.
    pub heads: usize,
    /// The MLP activation.
    pub activation: ClipActivation,
    /// Layer-norm epsilon.
    pub eps: f64,
}

impl TowerConfig {
    /// Reads a `vision_config`/`text_config` section (or a tower's own config), with the
    /// `transformers` defaults of `kind` (`"vision"`: ViT-B/32, `"text"`: 512 wide, 12 layers).
    pub(crate) fn from_json(json: &Value, kind: &str) -> std::result::Result<Self, String> {
        let (hidden, inter, layers, heads) = match kind {
            "vision" => (768, 3072, 12, 12),
            _ => (512, 2048, 12, 8),
        };
        let act = json.get("hidden_act").and_then(Value::as_str).unwrap_or("quick_gelu");
        let activation = ClipActivation::parse(act).ok_or_else(|| format!("hidden_act {act:?} is not implemented"))?;
        let config = TowerConfig {
            hidden_size: usize_field(json, "hidden_size", hidden)?,
            intermediate_size: usize_field(json, "intermediate_size", inter)?,
            layers: usize_field(json, "num_hidden_layers", layers)?,
            heads: usize_field(json, "num_attention_heads", heads)?,
            activation,
            eps: json.get("layer_norm_eps").and_then(Value::as_f64).unwrap_or(1e-5),
        };
        if !config.hidden_size.is_multiple_of(config.heads) {
            return Err(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                config.hidden_size, config.heads
            ));
        }
        Ok(config)
    }
}

pub(crate) fn usize_field(json: &Value, key: &str, default: usize) -> std::result::Result<usize, String> {
    match json.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_u64()
            .filter(|&v| v > 0)
            .map(|v| v as usize)
            .ok_or_else(|| format!("{key} = {v} is not a positive integer")),
    }
}

#[derive(Debug, Clone)]
struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    heads: usize,
}

impl Attention {
    fn load(vb: VarBuilder, dim: usize, heads: usize) -> Result<Self> {
        Ok(Self {
            q: linear(dim, dim, vb.pp("q_proj"))?,
            k: linear(dim, dim, vb.pp("k_proj"))?,
            v: linear(dim, dim, vb.pp("v_proj"))?,
            out: linear(dim, dim, vb.pp("out_proj"))?,
            heads,
        })
    }

    fn forward(&self, xs: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        let (b, l, d) = xs.dims3()?;
        let hd = d / self.heads;
        let split = |t: Tensor| t.reshape((b, l, self.heads, hd))?.transpose(1, 2)?.contiguous();
        let q = split((self.q.forward(xs)? * (hd as f64).powf(-0.5))?)?;
        let k = split(self.k.forward(xs)?)?;
        let v = split(self.v.forward(xs)?)?;
        let mut scores = q.matmul(&k.t()?)?;
        if let Some(mask) = mask {
            scores = scores.broadcast_add(mask)?;
        }
        let out = softmax(&scores)?.matmul(&v)?.transpose(1, 2)?.reshape((b, l, d))?;
        self.out.forward(&out)
    }
}

#[derive(Debug, Clone)]
struct Layer {
    norm1: LayerNorm,
    attn: Attention,
    norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    activation: ClipActivation,
}

impl Layer {
    fn forward(&self, xs: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        let xs = (xs + self.attn.forward(&self.norm1.forward(xs)?, mask)?)?;
        let h = self.activation.forward(&self.fc1.forward(&self.norm2.forward(&xs)?)?)?;
        xs + self.fc2.forward(&h)?
    }
}

/// The stack of transformer layers (`encoder.layers.N`).
#[derive(Debug, Clone)]
struct Encoder {
    layers: Vec<Layer>,
}

impl Encoder {
    fn load(vb: VarBuilder, c: &TowerConfig) -> Result<Self> {
        let vb = vb.pp("layers");
        let layers = (0..c.layers)
            .map(|i| {
                let vb = vb.pp(i);
                Ok(Layer {
                    norm1: LayerNorm::load(vb.pp("layer_norm1"), c.hidden_size, c.eps)?,
                    attn: Attention::load(vb.pp("self_attn"), c.hidden_size, c.heads)?,
                    norm2: LayerNorm::load(vb.pp("layer_norm2"), c.hidden_size, c.eps)?,
                    fc1: linear(c.hidden_size, c.intermediate_size, vb.pp("mlp.fc1"))?,
                    fc2: linear(c.intermediate_size, c.hidden_size, vb.pp("mlp.fc2"))?,
                    activation: c.activation,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self { layers })
    }

    fn forward(&self, xs: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        self.layers
            .iter()
            .try_fold(xs.clone(), |xs, layer| layer.forward(&xs, mask))
    }
}

/// The shape of a CLIP image tower with its projection.
#[derive(Debug, Clone, PartialEq)]
pub struct VisionConfig {
    /// The transformer.
    pub tower: TowerConfig,
    /// Side of the square input image.
    pub image_size: usize,
    /// Side of a patch.
    pub patch_size: usize,
    /// Width of the projected embedding.
    pub projection_dim: usize,
}

impl VisionConfig {
    /// Reads a Hugging Face `config.json` of a `CLIPModel` (its `vision_config` and root
    /// `projection_dim`) or of a `CLIPVisionModelWithProjection` (fields at the root).
    pub fn from_hf_json(text: &str) -> std::result::Result<Self, String> {
        let root: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let vision = root.get("vision_config").unwrap_or(&root);
        let tower = TowerConfig::from_json(vision, "vision").map_err(|e| format!("vision_config: {e}"))?;
        let config = VisionConfig {
            tower,
            image_size: usize_field(vision, "image_size", 224)?,
            patch_size: usize_field(vision, "patch_size", 32)?,
            projection_dim: usize_field(&root, "projection_dim", 512)?,
        };
        if !config.image_size.is_multiple_of(config.patch_size) {
            return Err(format!(
                "image_size {} is not a multiple of patch_size {}",
                config.image_size, config.patch_size
            ));
        }
        Ok(config)
    }
}

/// CLIP's image tower and projection: preprocessed pixels → raw (unnormalised) image embedding,
/// with a backward pass to the pixels.
#[derive(Debug, Clone)]
pub struct ClipVision {
    patch: candle_nn::Conv2d,
    class_embedding: Tensor,
    positions: Tensor,
    pre_norm: LayerNorm,
    encoder: Encoder,
    post_norm: LayerNorm,
    projection: Linear,
    config: VisionConfig,
}

impl ClipVision {
    /// Builds the tower from weights in `transformers` naming (`vision_model.*`,
    /// `visual_projection.weight`).
    pub fn load(vb: VarBuilder, config: VisionConfig) -> Result<Self> {
        let c = &config.tower;
        let d = c.hidden_size;
        let vm = vb.pp("vision_model");
        let emb = vm.pp("embeddings");
        let n = (config.image_size / config.patch_size).pow(2) + 1;
        let conv = Conv2dConfig {
            stride: config.patch_size,
            ..Default::default()
        };
        Ok(Self {
            patch: candle_nn::conv2d_no_bias(3, d, config.patch_size, conv, emb.pp("patch_embedding"))?,
            class_embedding: emb.get(d, "class_embedding")?,
            positions: emb.get((n, d), "position_embedding.weight")?,
            pre_norm: LayerNorm::load(vm.pp("pre_layrnorm"), d, c.eps)?,
            encoder: Encoder::load(vm.pp("encoder"), c)?,
            post_norm: LayerNorm::load(vm.pp("post_layernorm"), d, c.eps)?,
            projection: linear_no_bias(d, config.projection_dim, vb.pp("visual_projection"))?,
            config,
        })
    }

    /// The tower's shape.
    pub fn config(&self) -> &VisionConfig {
        &self.config
    }

    /// Projected embeddings `[B, projection_dim]` of normalised pixels `[B, 3, S, S]`.
    pub fn forward(&self, pixels: &Tensor) -> Result<Tensor> {
        let b = pixels.dim(0)?;
        let patches = self.patch.forward(pixels)?.flatten_from(2)?.transpose(1, 2)?;
        let d = self.config.tower.hidden_size;
        let class = self.class_embedding.reshape((1, 1, d))?.repeat((b, 1, 1))?;
        let xs = Tensor::cat(&[&class, &patches], 1)?.broadcast_add(&self.positions)?;
        let xs = self.encoder.forward(&self.pre_norm.forward(&xs)?, None)?;
        let pooled = self.post_norm.forward(&xs.i((.., 0, ..))?)?;
        self.projection.forward(&pooled)
    }
}

/// CLIP's text tower (`CLIPTextModel`): token ids → the final layer norm's hidden states
/// `[B, L, hidden]`, Stable Diffusion's text conditioning. Causal, no padding mask (as the SD
/// pipelines call it).
#[derive(Debug, Clone)]
pub struct ClipText {
    tokens: candle_nn::Embedding,
    positions: Tensor,
    encoder: Encoder,
    final_norm: LayerNorm,
}

impl ClipText {
    /// Builds the tower from `text_model.*` weights; `vocab` and `max_positions` from the config.
    pub fn load(vb: VarBuilder, c: &TowerConfig, vocab: usize, max_positions: usize) -> Result<Self> {
        let tm = vb.pp("text_model");
        let emb = tm.pp("embeddings");
        Ok(Self {
            tokens: candle_nn::embedding(vocab, c.hidden_size, emb.pp("token_embedding"))?,
            positions: emb.get((max_positions, c.hidden_size), "position_embedding.weight")?,
            encoder: Encoder::load(tm.pp("encoder"), c)?,
            final_norm: LayerNorm::load(tm.pp("final_layer_norm"), c.hidden_size, c.eps)?,
        })
    }

    /// Hidden states `[B, L, hidden]` of `ids` `[B, L]` (u32).
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let (_, l) = ids.dims2()?;
        let xs = self
            .tokens
            .forward(ids)?
            .broadcast_add(&self.positions.narrow(0, 0, l)?)?;
        let mask = causal_mask(l, xs.dtype(), xs.device())?;
        self.final_norm.forward(&self.encoder.forward(&xs, Some(&mask))?)
    }
}

fn causal_mask(l: usize, dtype: DType, device: &Device) -> Result<Tensor> {
    let values: Vec<f32> = (0..l)
        .flat_map(|i| (0..l).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(values, (l, l), device)?.to_dtype(dtype)
}

/// Divides each row of `[B, D]` by its L2 norm (differentiable).
pub fn unit_rows(xs: &Tensor) -> Result<Tensor> {
    xs.broadcast_div(&xs.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?)
}
