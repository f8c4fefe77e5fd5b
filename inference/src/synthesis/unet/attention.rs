// Adapted from candle-transformers 0.11.1, `models/stable_diffusion/attention.rs`
// (https://github.com/huggingface/candle, MIT OR Apache-2.0, © the candle authors).
// Changes: layer norms are `diff::LayerNorm` and the attention softmax is `diff::softmax`, so that
// gradients reach the latent (candle 0.11's `nn::LayerNorm` and `softmax_last_dim` have no backward;
// drop these changes once candle merges #3823 or #3613 + #3724); GeGlu uses the erf GELU as
// diffusers does; `proj_out` has the diffusers shape; no flash or sliced attention, no tracing.

//! Diffusers' `Transformer2DModel` (the UNet's spatial transformer) with a full backward pass.

use candle_core::{D, DType, Module, Result, Tensor};
use candle_nn::{self as nn, VarBuilder};

use crate::synthesis::diff::{LayerNorm, softmax};

/// `GEGLU`: a linear layer to twice the width, the first half gated by the erf GELU of the second.
#[derive(Debug)]
struct GeGlu {
    proj: nn::Linear,
}

impl Module for GeGlu {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let halves = self.proj.forward(xs)?.chunk(2, D::Minus1)?;
        &halves[0] * halves[1].gelu_erf()?
    }
}

/// `FeedForward` with GEGLU, inner width 4 × dim.
#[derive(Debug)]
struct FeedForward {
    project_in: GeGlu,
    linear: nn::Linear,
}

impl FeedForward {
    fn new(vb: VarBuilder, dim: usize) -> Result<Self> {
        let inner = dim * 4;
        let vb = vb.pp("net");
        Ok(Self {
            project_in: GeGlu {
                proj: nn::linear(dim, inner * 2, vb.pp("0.proj"))?,
            },
            linear: nn::linear(inner, dim, vb.pp("2"))?,
        })
    }
}

impl Module for FeedForward {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        self.linear.forward(&self.project_in.forward(xs)?)
    }
}

/// Multi-head (cross-)attention, computed in f32.
#[derive(Debug)]
pub struct CrossAttention {
    to_q: nn::Linear,
    to_k: nn::Linear,
    to_v: nn::Linear,
    to_out: nn::Linear,
    heads: usize,
    scale: f64,
}

impl CrossAttention {
    fn new(
        vb: VarBuilder,
        query_dim: usize,
        context_dim: Option<usize>,
        heads: usize,
        dim_head: usize,
    ) -> Result<Self> {
        let inner = dim_head * heads;
        let context_dim = context_dim.unwrap_or(query_dim);
        Ok(Self {
            to_q: nn::linear_no_bias(query_dim, inner, vb.pp("to_q"))?,
            to_k: nn::linear_no_bias(context_dim, inner, vb.pp("to_k"))?,
            to_v: nn::linear_no_bias(context_dim, inner, vb.pp("to_v"))?,
            to_out: nn::linear(inner, query_dim, vb.pp("to_out.0"))?,
            heads,
            scale: 1.0 / (dim_head as f64).sqrt(),
        })
    }

    fn split_heads(&self, xs: &Tensor) -> Result<Tensor> {
        let (b, l, dim) = xs.dims3()?;
        xs.reshape((b, l, self.heads, dim / self.heads))?
            .transpose(1, 2)?
            .reshape((b * self.heads, l, dim / self.heads))
    }

    fn merge_heads(&self, xs: &Tensor) -> Result<Tensor> {
        let (bh, l, dim) = xs.dims3()?;
        xs.reshape((bh / self.heads, self.heads, l, dim))?
            .transpose(1, 2)?
            .reshape((bh / self.heads, l, dim * self.heads))
    }

    /// Attends from `xs` `[B, L, query_dim]` to `context` (itself when `None`).
    pub fn forward(&self, xs: &Tensor, context: Option<&Tensor>) -> Result<Tensor> {
        let in_dtype = xs.dtype();
        let context = context.unwrap_or(xs).contiguous()?;
        let q = self.split_heads(&self.to_q.forward(xs)?)?.to_dtype(DType::F32)?;
        let k = self.split_heads(&self.to_k.forward(&context)?)?.to_dtype(DType::F32)?;
        let v = self.split_heads(&self.to_v.forward(&context)?)?.to_dtype(DType::F32)?;
        let probs = softmax(&q.matmul(&(k.t()? * self.scale)?)?)?;
        let xs = probs.matmul(&v)?.to_dtype(in_dtype)?;
        self.to_out.forward(&self.merge_heads(&xs)?)
    }
}

/// Self-attention, cross-attention and a GEGLU feed-forward, each after a layer norm, with residuals.
#[derive(Debug)]
struct BasicTransformerBlock {
    attn1: CrossAttention,
    ff: FeedForward,
    attn2: CrossAttention,
    norm1: LayerNorm,
    norm2: LayerNorm,
    norm3: LayerNorm,
}

impl BasicTransformerBlock {
    fn new(vb: VarBuilder, dim: usize, heads: usize, dim_head: usize, context_dim: usize) -> Result<Self> {
        Ok(Self {
            attn1: CrossAttention::new(vb.pp("attn1"), dim, None, heads, dim_head)?,
            ff: FeedForward::new(vb.pp("ff"), dim)?,
            attn2: CrossAttention::new(vb.pp("attn2"), dim, Some(context_dim), heads, dim_head)?,
            norm1: LayerNorm::load(vb.pp("norm1"), dim, 1e-5)?,
            norm2: LayerNorm::load(vb.pp("norm2"), dim, 1e-5)?,
            norm3: LayerNorm::load(vb.pp("norm3"), dim, 1e-5)?,
        })
    }

    fn forward(&self, xs: &Tensor, context: &Tensor) -> Result<Tensor> {
        let xs = (self.attn1.forward(&self.norm1.forward(xs)?, None)? + xs)?;
        let xs = (self.attn2.forward(&self.norm2.forward(&xs)?, Some(context))? + xs)?;
        self.ff.forward(&self.norm3.forward(&xs)?)? + xs
    }
}

/// How a spatial transformer is built.
#[derive(Debug, Clone, Copy)]
pub struct SpatialTransformerConfig {
    /// Number of transformer blocks.
    pub depth: usize,
    /// Groups of the input group norm.
    pub num_groups: usize,
    /// Width of the text conditioning.
    pub context_dim: usize,
    /// Linear (SD 2) rather than 1×1-convolution (SD 1) input and output projections.
    pub use_linear_projection: bool,
}

#[derive(Debug)]
enum Proj {
    Conv2d(nn::Conv2d),
    Linear(nn::Linear),
}

/// Diffusers' `Transformer2DModel`: group norm, projection in, transformer blocks, projection
/// out, residual.
#[derive(Debug)]
pub struct SpatialTransformer {
    norm: nn::GroupNorm,
    proj_in: Proj,
    blocks: Vec<BasicTransformerBlock>,
    proj_out: Proj,
}

impl SpatialTransformer {
    /// Builds the transformer on `in_channels` with `heads` heads of width `dim_head`.
    pub fn new(
        vb: VarBuilder,
        in_channels: usize,
        heads: usize,
        dim_head: usize,
        config: SpatialTransformerConfig,
    ) -> Result<Self> {
        let inner = heads * dim_head;
        let norm = nn::group_norm(config.num_groups, in_channels, 1e-6, vb.pp("norm"))?;
        let (proj_in, proj_out) = if config.use_linear_projection {
            (
                Proj::Linear(nn::linear(in_channels, inner, vb.pp("proj_in"))?),
                Proj::Linear(nn::linear(inner, in_channels, vb.pp("proj_out"))?),
            )
        } else {
            (
                Proj::Conv2d(nn::conv2d(in_channels, inner, 1, Default::default(), vb.pp("proj_in"))?),
                Proj::Conv2d(nn::conv2d(
                    inner,
                    in_channels,
                    1,
                    Default::default(),
                    vb.pp("proj_out"),
                )?),
            )
        };
        let vb_blocks = vb.pp("transformer_blocks");
        let blocks = (0..config.depth)
            .map(|i| BasicTransformerBlock::new(vb_blocks.pp(i), inner, heads, dim_head, config.context_dim))
            .collect::<Result<_>>()?;
        Ok(Self {
            norm,
            proj_in,
            blocks,
            proj_out,
        })
    }

    /// Applies the transformer to `xs` `[B, C, H, W]` conditioned on `context` `[B, L, context_dim]`.
    pub fn forward(&self, xs: &Tensor, context: &Tensor) -> Result<Tensor> {
        let (b, _, h, w) = xs.dims4()?;
        let residual = xs;
        let xs = self.norm.forward(xs)?;
        let to_tokens = |xs: Tensor| {
            let c = xs.dim(1)?;
            xs.transpose(1, 2)?.t()?.reshape((b, h * w, c))
        };
        let mut xs = match &self.proj_in {
            Proj::Conv2d(p) => to_tokens(p.forward(&xs)?)?,
            Proj::Linear(p) => p.forward(&to_tokens(xs)?)?,
        };
        for block in &self.blocks {
            xs = block.forward(&xs, context)?;
        }
        let to_image = |xs: Tensor| {
            let c = xs.dim(2)?;
            xs.reshape((b, h, w, c))?.t()?.transpose(1, 2)
        };
        let xs = match &self.proj_out {
            Proj::Conv2d(p) => p.forward(&to_image(xs)?)?,
            Proj::Linear(p) => to_image(p.forward(&xs)?)?,
        };
        xs + residual
    }
}
