// Adapted from candle-transformers 0.11.1, `models/stable_diffusion/{resnet,embeddings,unet_2d_blocks}.rs`
// (https://github.com/huggingface/candle, MIT OR Apache-2.0, © the candle authors).
// Changes: only what the SD 2 UNet uses; resnets of the plain down/up blocks take the configured
// group count; no tracing. These blocks were already differentiable upstream (group norm, conv,
// SiLU, nearest upsampling); they are copied because the spatial transformers inside them are local.

//! The UNet's building blocks: timestep embedding, resnets, down/up sampling, down/mid/up blocks.

use candle_core::{D, DType, Module, Result, Tensor};
use candle_nn::{self as nn, VarBuilder};

use super::attention::{SpatialTransformer, SpatialTransformerConfig};

/// Sinusoidal timestep features (diffusers' `get_timestep_embedding`).
#[derive(Debug)]
pub struct Timesteps {
    channels: usize,
    flip_sin_to_cos: bool,
    shift: f64,
}

impl Timesteps {
    /// `channels` features; `flip_sin_to_cos` puts cosines first; `shift` is `downscale_freq_shift`.
    pub fn new(channels: usize, flip_sin_to_cos: bool, shift: f64) -> Self {
        Self {
            channels,
            flip_sin_to_cos,
            shift,
        }
    }

    /// Features `[B, channels]` of timesteps `[B]` (f32).
    pub fn forward(&self, t: &Tensor) -> Result<Tensor> {
        let half = self.channels / 2;
        let exponent = (Tensor::arange(0, half as u32, t.device())?.to_dtype(DType::F32)? * -(10000f64.ln()))?;
        let freqs = (exponent / (half as f64 - self.shift))?.exp()?;
        let args = t
            .to_dtype(DType::F32)?
            .unsqueeze(1)?
            .broadcast_mul(&freqs.unsqueeze(0)?)?;
        let (cos, sin) = (args.cos()?, args.sin()?);
        let emb = if self.flip_sin_to_cos {
            Tensor::cat(&[&cos, &sin], D::Minus1)?
        } else {
            Tensor::cat(&[&sin, &cos], D::Minus1)?
        };
        if self.channels % 2 == 1 {
            emb.pad_with_zeros(D::Minus1, 0, 1)
        } else {
            Ok(emb)
        }
    }
}

/// `TimestepEmbedding`: linear, SiLU, linear.
#[derive(Debug)]
pub struct TimestepEmbedding {
    linear_1: nn::Linear,
    linear_2: nn::Linear,
}

impl TimestepEmbedding {
    /// From `channels` sinusoidal features to `dim`.
    pub fn new(vb: VarBuilder, channels: usize, dim: usize) -> Result<Self> {
        Ok(Self {
            linear_1: nn::linear(channels, dim, vb.pp("linear_1"))?,
            linear_2: nn::linear(dim, dim, vb.pp("linear_2"))?,
        })
    }
}

impl Module for TimestepEmbedding {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        self.linear_2.forward(&self.linear_1.forward(xs)?.silu()?)
    }
}

fn conv3(vb: VarBuilder, cin: usize, cout: usize, stride: usize, padding: usize) -> Result<nn::Conv2d> {
    let config = nn::Conv2dConfig {
        padding,
        stride,
        ..Default::default()
    };
    nn::conv2d(cin, cout, 3, config, vb)
}

/// `ResnetBlock2D` with a timestep embedding (diffusers' "default" time scale shift).
#[derive(Debug)]
pub struct ResnetBlock2D {
    norm1: nn::GroupNorm,
    conv1: nn::Conv2d,
    norm2: nn::GroupNorm,
    conv2: nn::Conv2d,
    time_emb_proj: nn::Linear,
    conv_shortcut: Option<nn::Conv2d>,
    output_scale_factor: f64,
}

/// Shared settings of a UNet's resnets.
#[derive(Debug, Clone, Copy)]
pub struct ResnetConfig {
    /// Group-norm groups.
    pub groups: usize,
    /// Group-norm epsilon.
    pub eps: f64,
    /// Width of the timestep embedding.
    pub temb_channels: usize,
    /// The output is divided by this.
    pub output_scale_factor: f64,
}

impl ResnetBlock2D {
    /// A resnet from `cin` to `cout` channels.
    pub fn new(vb: VarBuilder, cin: usize, cout: usize, c: ResnetConfig) -> Result<Self> {
        let conv_shortcut = if cin != cout {
            Some(nn::conv2d(cin, cout, 1, Default::default(), vb.pp("conv_shortcut"))?)
        } else {
            None
        };
        Ok(Self {
            norm1: nn::group_norm(c.groups, cin, c.eps, vb.pp("norm1"))?,
            conv1: conv3(vb.pp("conv1"), cin, cout, 1, 1)?,
            norm2: nn::group_norm(c.groups, cout, c.eps, vb.pp("norm2"))?,
            conv2: conv3(vb.pp("conv2"), cout, cout, 1, 1)?,
            time_emb_proj: nn::linear(c.temb_channels, cout, vb.pp("time_emb_proj"))?,
            conv_shortcut,
            output_scale_factor: c.output_scale_factor,
        })
    }

    /// Applies the block to `xs` with the timestep embedding `temb` `[B, temb_channels]`.
    pub fn forward(&self, xs: &Tensor, temb: &Tensor) -> Result<Tensor> {
        let shortcut = match &self.conv_shortcut {
            Some(conv) => conv.forward(xs)?,
            None => xs.clone(),
        };
        let h = self.conv1.forward(&self.norm1.forward(xs)?.silu()?)?;
        let t = self
            .time_emb_proj
            .forward(&temb.silu()?)?
            .unsqueeze(D::Minus1)?
            .unsqueeze(D::Minus1)?;
        let h = h.broadcast_add(&t)?;
        let h = self.conv2.forward(&self.norm2.forward(&h)?.silu()?)?;
        (shortcut + h)? / self.output_scale_factor
    }
}

/// One resolution level going down: resnets (each followed by a spatial transformer in a
/// cross-attention block), then an optional stride-2 convolution.
#[derive(Debug)]
pub struct DownBlock {
    resnets: Vec<ResnetBlock2D>,
    attentions: Vec<SpatialTransformer>,
    downsampler: Option<nn::Conv2d>,
}

/// What a down or up block needs besides its channels.
#[derive(Debug, Clone, Copy)]
pub struct BlockConfig {
    /// Resnets of the block.
    pub layers: usize,
    /// The resnets' settings.
    pub resnet: ResnetConfig,
    /// Spatial transformers after the resnets (a `CrossAttn…Block2D`), with this many heads.
    pub attention: Option<(usize, SpatialTransformerConfig)>,
    /// Whether the block ends with a down- or upsampler.
    pub resample: bool,
    /// Padding of the downsampling convolution.
    pub downsample_padding: usize,
}

fn attentions(vb: &VarBuilder, n: usize, channels: usize, c: &BlockConfig) -> Result<Vec<SpatialTransformer>> {
    match c.attention {
        None => Ok(Vec::new()),
        Some((heads, config)) => (0..n)
            .map(|i| SpatialTransformer::new(vb.pp("attentions").pp(i), channels, heads, channels / heads, config))
            .collect(),
    }
}

impl DownBlock {
    /// A block from `cin` to `cout` channels.
    pub fn new(vb: VarBuilder, cin: usize, cout: usize, c: BlockConfig) -> Result<Self> {
        let resnets = (0..c.layers)
            .map(|i| ResnetBlock2D::new(vb.pp("resnets").pp(i), if i == 0 { cin } else { cout }, cout, c.resnet))
            .collect::<Result<_>>()?;
        let downsampler = if c.resample {
            Some(conv3(
                vb.pp("downsamplers.0.conv"),
                cout,
                cout,
                2,
                c.downsample_padding,
            )?)
        } else {
            None
        };
        Ok(Self {
            resnets,
            attentions: attentions(&vb, c.layers, cout, &c)?,
            downsampler,
        })
    }

    /// The block's output and the states it hands to the skip connections.
    pub fn forward(&self, xs: &Tensor, temb: &Tensor, context: &Tensor) -> Result<(Tensor, Vec<Tensor>)> {
        let mut xs = xs.clone();
        let mut states = Vec::new();
        for (i, resnet) in self.resnets.iter().enumerate() {
            xs = resnet.forward(&xs, temb)?;
            if let Some(attn) = self.attentions.get(i) {
                xs = attn.forward(&xs, context)?;
            }
            states.push(xs.clone());
        }
        if let Some(down) = &self.downsampler {
            if down.config().padding == 0 {
                xs = xs.pad_with_zeros(D::Minus1, 0, 1)?.pad_with_zeros(D::Minus2, 0, 1)?;
            }
            xs = down.forward(&xs)?;
            states.push(xs.clone());
        }
        Ok((xs, states))
    }
}

/// One resolution level going up: resnets on the input concatenated with a skip state (each
/// followed by a spatial transformer in a cross-attention block), then nearest ×2 and a convolution.
#[derive(Debug)]
pub struct UpBlock {
    resnets: Vec<ResnetBlock2D>,
    attentions: Vec<SpatialTransformer>,
    upsampler: Option<nn::Conv2d>,
}

impl UpBlock {
    /// Number of skip states the block consumes.
    pub fn skips(&self) -> usize {
        self.resnets.len()
    }

    /// A block with `prev` input channels, `cout` output channels, and skip states of `skip`
    /// channels (`skip_last` for the last resnet), built like diffusers' `UpBlock2D`.
    pub fn new(vb: VarBuilder, skip_last: usize, prev: usize, cout: usize, c: BlockConfig) -> Result<Self> {
        let resnets = (0..c.layers)
            .map(|i| {
                let skip = if i == c.layers - 1 { skip_last } else { cout };
                let cin = if i == 0 { prev } else { cout };
                ResnetBlock2D::new(vb.pp("resnets").pp(i), cin + skip, cout, c.resnet)
            })
            .collect::<Result<_>>()?;
        let upsampler = if c.resample {
            Some(conv3(vb.pp("upsamplers.0.conv"), cout, cout, 1, 1)?)
        } else {
            None
        };
        Ok(Self {
            resnets,
            attentions: attentions(&vb, c.layers, cout, &c)?,
            upsampler,
        })
    }

    /// Applies the block; `skips` are consumed from the end; `size` forces the upsampled size.
    pub fn forward(
        &self,
        xs: &Tensor,
        skips: &[Tensor],
        temb: &Tensor,
        context: &Tensor,
        size: Option<(usize, usize)>,
    ) -> Result<Tensor> {
        let mut xs = xs.clone();
        for (i, resnet) in self.resnets.iter().enumerate() {
            xs = Tensor::cat(&[&xs, &skips[skips.len() - i - 1]], 1)?.contiguous()?;
            xs = resnet.forward(&xs, temb)?;
            if let Some(attn) = self.attentions.get(i) {
                xs = attn.forward(&xs, context)?;
            }
        }
        match &self.upsampler {
            Some(conv) => {
                let (_, _, h, w) = xs.dims4()?;
                let (h, w) = size.unwrap_or((2 * h, 2 * w));
                conv.forward(&xs.upsample_nearest2d(h, w)?)
            }
            None => Ok(xs),
        }
    }
}

/// `UNetMidBlock2DCrossAttn`: resnet, then (spatial transformer, resnet) pairs.
#[derive(Debug)]
pub struct MidBlock {
    resnet: ResnetBlock2D,
    attn_resnets: Vec<(SpatialTransformer, ResnetBlock2D)>,
}

impl MidBlock {
    /// One transformer–resnet pair on `channels`, with `heads` heads.
    pub fn new(
        vb: VarBuilder,
        channels: usize,
        heads: usize,
        resnet: ResnetConfig,
        attn: SpatialTransformerConfig,
    ) -> Result<Self> {
        let first = ResnetBlock2D::new(vb.pp("resnets.0"), channels, channels, resnet)?;
        let pair = (
            SpatialTransformer::new(vb.pp("attentions.0"), channels, heads, channels / heads, attn)?,
            ResnetBlock2D::new(vb.pp("resnets.1"), channels, channels, resnet)?,
        );
        Ok(Self {
            resnet: first,
            attn_resnets: vec![pair],
        })
    }

    /// Applies the block.
    pub fn forward(&self, xs: &Tensor, temb: &Tensor, context: &Tensor) -> Result<Tensor> {
        let mut xs = self.resnet.forward(xs, temb)?;
        for (attn, resnet) in &self.attn_resnets {
            xs = resnet.forward(&attn.forward(&xs, context)?, temb)?;
        }
        Ok(xs)
    }
}
