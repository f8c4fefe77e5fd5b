// Adapted from candle-transformers 0.11.1, `models/stable_diffusion/unet_2d.rs`
// (https://github.com/huggingface/candle, MIT OR Apache-2.0, © the candle authors).
// Changes: configured from diffusers' `unet/config.json`; built on the local, differentiable
// spatial transformers; no ControlNet residuals, no tracing.

//! Stable Diffusion's `UNet2DConditionModel` (SD 1.x/2.x layout) with a backward pass that reaches
//! the latent: candle-transformers' UNet cuts the graph in its layer norms and attention softmax
//! (see [`diff`](super::diff)).

mod attention;
mod blocks;

use candle_core::{DType, Module, Result, Tensor};
use candle_nn::{self as nn, VarBuilder};
use serde_json::Value;

use self::attention::SpatialTransformerConfig;
use self::blocks::{BlockConfig, DownBlock, MidBlock, ResnetConfig, TimestepEmbedding, Timesteps, UpBlock};

/// The UNet's shape, from diffusers' `unet/config.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct UNetConfig {
    /// Latent channels in and out.
    pub in_channels: usize,
    /// Output channels (the noise prediction).
    pub out_channels: usize,
    /// Channels of each resolution level.
    pub block_out_channels: Vec<usize>,
    /// Whether each down level has cross-attention (`CrossAttnDownBlock2D`); up levels mirror it.
    pub cross_attention: Vec<bool>,
    /// Attention heads of each level (diffusers' `attention_head_dim`, which counts heads).
    pub heads: Vec<usize>,
    /// Resnets per down level (up levels have one more).
    pub layers_per_block: usize,
    /// Width of the text conditioning.
    pub cross_attention_dim: usize,
    /// Linear (SD 2) or 1×1-convolution (SD 1) transformer projections.
    pub use_linear_projection: bool,
    /// Group-norm groups.
    pub norm_num_groups: usize,
    /// Group-norm epsilon of the resnets and the output norm.
    pub norm_eps: f64,
    /// Timestep features: cosines first.
    pub flip_sin_to_cos: bool,
    /// Timestep features: `downscale_freq_shift`.
    pub freq_shift: f64,
    /// Padding of the downsampling convolutions.
    pub downsample_padding: usize,
    /// Output scale of the mid block's resnets.
    pub mid_block_scale_factor: f64,
    /// Transformer blocks per spatial transformer.
    pub transformer_layers_per_block: usize,
    /// Latent side the model was trained at (`sample_size`).
    pub sample_size: usize,
}

impl UNetConfig {
    /// Parses diffusers' `unet/config.json`; a feature this UNet does not implement (class or
    /// addition embeddings, other block types, `center_input_sample`, per-level layer counts) is an
    /// error naming it.
    pub fn from_json(text: &str) -> std::result::Result<Self, String> {
        let j: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let get = |k: &str| j.get(k).filter(|v| !v.is_null());
        let uint = |k: &str, default: usize| -> std::result::Result<usize, String> {
            match get(k) {
                None => Ok(default),
                Some(v) => v
                    .as_u64()
                    .map(|v| v as usize)
                    .ok_or_else(|| format!("{k} = {v} is not an integer")),
            }
        };
        let float = |k: &str, default: f64| get(k).and_then(Value::as_f64).unwrap_or(default);
        let boolean = |k: &str, default: bool| get(k).and_then(Value::as_bool).unwrap_or(default);
        let strings = |k: &str| -> std::result::Result<Vec<String>, String> {
            get(k)
                .and_then(Value::as_array)
                .ok_or_else(|| format!("{k} missing"))?
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| format!("{k} holds {v}")))
                .collect()
        };
        let block_out_channels: Vec<usize> = get("block_out_channels")
            .and_then(Value::as_array)
            .ok_or("block_out_channels missing")?
            .iter()
            .map(|v| {
                v.as_u64()
                    .map(|v| v as usize)
                    .ok_or(format!("block_out_channels holds {v}"))
            })
            .collect::<std::result::Result<_, _>>()?;
        let n = block_out_channels.len();
        if n == 0 {
            return Err("block_out_channels is empty".into());
        }
        let down = strings("down_block_types")?;
        let up = strings("up_block_types")?;
        let mut cross_attention = Vec::new();
        for name in &down {
            match name.as_str() {
                "CrossAttnDownBlock2D" => cross_attention.push(true),
                "DownBlock2D" => cross_attention.push(false),
                other => return Err(format!("down block type {other} is not implemented")),
            }
        }
        let expected_up: Vec<&str> = cross_attention
            .iter()
            .rev()
            .map(|&x| if x { "CrossAttnUpBlock2D" } else { "UpBlock2D" })
            .collect();
        if down.len() != n || up != expected_up {
            return Err(format!(
                "up_block_types {up:?} do not mirror down_block_types {down:?} over {n} levels"
            ));
        }
        if let Some(mid) = get("mid_block_type").and_then(Value::as_str)
            && mid != "UNetMidBlock2DCrossAttn"
        {
            return Err(format!("mid block type {mid} is not implemented"));
        }
        let heads = match get("num_attention_heads").or_else(|| get("attention_head_dim")) {
            None => vec![8; n],
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_u64()
                        .map(|v| v as usize)
                        .ok_or(format!("attention_head_dim holds {v}"))
                })
                .collect::<std::result::Result<_, _>>()?,
            Some(v) => vec![v.as_u64().ok_or(format!("attention_head_dim = {v}"))? as usize; n],
        };
        if heads.len() != n || heads.contains(&0) {
            return Err(format!("attention heads {heads:?} for {n} levels"));
        }
        for (key, ok) in [
            ("center_input_sample", !boolean("center_input_sample", false)),
            ("class_embed_type", get("class_embed_type").is_none()),
            ("addition_embed_type", get("addition_embed_type").is_none()),
            ("encoder_hid_dim", get("encoder_hid_dim").is_none()),
            ("only_cross_attention", !boolean("only_cross_attention", false)),
            ("dual_cross_attention", !boolean("dual_cross_attention", false)),
            (
                "time_embedding_type",
                get("time_embedding_type")
                    .and_then(Value::as_str)
                    .unwrap_or("positional")
                    == "positional",
            ),
            (
                "resnet_time_scale_shift",
                get("resnet_time_scale_shift")
                    .and_then(Value::as_str)
                    .unwrap_or("default")
                    == "default",
            ),
            (
                "act_fn",
                get("act_fn").and_then(Value::as_str).unwrap_or("silu") == "silu",
            ),
            ("layers_per_block", get("layers_per_block").is_none_or(Value::is_u64)),
            (
                "transformer_layers_per_block",
                get("transformer_layers_per_block").is_none_or(Value::is_u64),
            ),
            ("conv_in_kernel", uint("conv_in_kernel", 3)? == 3),
            ("conv_out_kernel", uint("conv_out_kernel", 3)? == 3),
        ] {
            if !ok {
                return Err(format!(
                    "{key} = {} is not implemented",
                    get(key).unwrap_or(&Value::Null)
                ));
            }
        }
        let config = UNetConfig {
            in_channels: uint("in_channels", 4)?,
            out_channels: uint("out_channels", 4)?,
            cross_attention,
            heads,
            layers_per_block: uint("layers_per_block", 2)?,
            cross_attention_dim: uint("cross_attention_dim", 1280)?,
            use_linear_projection: boolean("use_linear_projection", false),
            norm_num_groups: uint("norm_num_groups", 32)?,
            norm_eps: float("norm_eps", 1e-5),
            flip_sin_to_cos: boolean("flip_sin_to_cos", true),
            freq_shift: float("freq_shift", 0.0),
            downsample_padding: uint("downsample_padding", 1)?,
            mid_block_scale_factor: float("mid_block_scale_factor", 1.0),
            transformer_layers_per_block: uint("transformer_layers_per_block", 1)?,
            sample_size: uint("sample_size", 64)?,
            block_out_channels,
        };
        if config.layers_per_block == 0 || config.norm_num_groups == 0 {
            return Err("layers_per_block and norm_num_groups must be positive".into());
        }
        Ok(config)
    }

    /// The latent side must be a multiple of this (one halving per down level).
    pub fn size_multiple(&self) -> usize {
        1 << (self.block_out_channels.len() - 1)
    }
}

/// Stable Diffusion's noise-prediction UNet.
#[derive(Debug)]
pub struct UNet {
    conv_in: nn::Conv2d,
    time_proj: Timesteps,
    time_embedding: TimestepEmbedding,
    down: Vec<DownBlock>,
    mid: MidBlock,
    up: Vec<UpBlock>,
    norm_out: nn::GroupNorm,
    conv_out: nn::Conv2d,
    config: UNetConfig,
}

impl UNet {
    /// Builds the UNet from diffusers' weight names.
    pub fn load(vb: VarBuilder, config: UNetConfig) -> Result<Self> {
        let c = &config;
        let ch = &c.block_out_channels;
        let n = ch.len();
        let temb = ch[0] * 4;
        let conv = nn::Conv2dConfig {
            padding: 1,
            ..Default::default()
        };
        let resnet = ResnetConfig {
            groups: c.norm_num_groups,
            eps: c.norm_eps,
            temb_channels: temb,
            output_scale_factor: 1.0,
        };
        let attn = SpatialTransformerConfig {
            depth: c.transformer_layers_per_block,
            num_groups: c.norm_num_groups,
            context_dim: c.cross_attention_dim,
            use_linear_projection: c.use_linear_projection,
        };
        let block = |level: usize, layers: usize, resample: bool| BlockConfig {
            layers,
            resnet,
            attention: c.cross_attention[level].then_some((c.heads[level], attn)),
            resample,
            downsample_padding: c.downsample_padding,
        };
        let down = (0..n)
            .map(|i| {
                let cin = if i == 0 { ch[0] } else { ch[i - 1] };
                DownBlock::new(
                    vb.pp("down_blocks").pp(i),
                    cin,
                    ch[i],
                    block(i, c.layers_per_block, i + 1 < n),
                )
            })
            .collect::<Result<_>>()?;
        let mid_resnet = ResnetConfig {
            output_scale_factor: c.mid_block_scale_factor,
            ..resnet
        };
        let mid = MidBlock::new(vb.pp("mid_block"), ch[n - 1], c.heads[n - 1], mid_resnet, attn)?;
        let up = (0..n)
            .map(|i| {
                let level = n - 1 - i;
                let prev = if i == 0 { ch[n - 1] } else { ch[level + 1] };
                let skip_last = ch[level.saturating_sub(1)];
                UpBlock::new(
                    vb.pp("up_blocks").pp(i),
                    skip_last,
                    prev,
                    ch[level],
                    block(level, c.layers_per_block + 1, i + 1 < n),
                )
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            conv_in: nn::conv2d(c.in_channels, ch[0], 3, conv, vb.pp("conv_in"))?,
            time_proj: Timesteps::new(ch[0], c.flip_sin_to_cos, c.freq_shift),
            time_embedding: TimestepEmbedding::new(vb.pp("time_embedding"), ch[0], temb)?,
            down,
            mid,
            up,
            norm_out: nn::group_norm(c.norm_num_groups, ch[0], c.norm_eps, vb.pp("conv_norm_out"))?,
            conv_out: nn::conv2d(ch[0], c.out_channels, 3, conv, vb.pp("conv_out"))?,
            config,
        })
    }

    /// The model's shape.
    pub fn config(&self) -> &UNetConfig {
        &self.config
    }

    /// The noise prediction `[B, out, h, w]` for latents `xs` `[B, in, h, w]` at `timestep`,
    /// conditioned on `context` `[B, L, cross_attention_dim]`. Computed in the weights' dtype.
    pub fn forward(&self, xs: &Tensor, timestep: f64, context: &Tensor) -> Result<Tensor> {
        let (b, _, h, w) = xs.dims4()?;
        let dtype = self.conv_in.weight().dtype();
        let xs = xs.to_dtype(dtype)?;
        let context = context.to_dtype(dtype)?;
        let t = Tensor::full(timestep as f32, b, xs.device())?;
        let emb = self
            .time_embedding
            .forward(&self.time_proj.forward(&t)?.to_dtype(dtype)?)?;
        let mut xs = self.conv_in.forward(&xs)?;
        let mut skips = vec![xs.clone()];
        for block in &self.down {
            let (out, states) = block.forward(&xs, &emb, &context)?;
            skips.extend(states);
            xs = out;
        }
        xs = self.mid.forward(&xs, &emb, &context)?;
        let factor = self.config.size_multiple();
        let odd = h % factor != 0 || w % factor != 0;
        let n = self.up.len();
        for (i, block) in self.up.iter().enumerate() {
            let rest = skips.split_off(skips.len() - block.skips());
            let size = if i + 1 < n && odd {
                let (_, _, sh, sw) = skips.last().expect("a skip state per level").dims4()?;
                Some((sh, sw))
            } else {
                None
            };
            xs = block.forward(&xs, &rest, &emb, &context, size)?;
        }
        let xs = self.norm_out.forward(&xs)?.silu()?;
        self.conv_out.forward(&xs)
    }

    /// The weights' dtype.
    pub fn dtype(&self) -> DType {
        self.conv_in.weight().dtype()
    }
}
