//! Stable Diffusion's VAE decoder (`AutoencoderKL`), candle-transformers' own: it is
//! differentiable as shipped (decomposed group norm, `ops::softmax` in its attention, nearest ×2
//! upsampling), so only its configuration is read here, from diffusers' `vae/config.json`.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::stable_diffusion::vae::{AutoEncoderKL, AutoEncoderKLConfig};
use serde_json::Value;

/// The VAE's shape and latent scaling, from diffusers' `vae/config.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct VaeConfig {
    /// Channels of each level.
    pub block_out_channels: Vec<usize>,
    /// Resnets per encoder level (decoder levels have one more).
    pub layers_per_block: usize,
    /// Latent channels.
    pub latent_channels: usize,
    /// Group-norm groups.
    pub norm_num_groups: usize,
    /// Latents are divided by this before decoding (0.18215 for SD 1/2).
    pub scaling_factor: f64,
    /// Whether the `quant_conv`/`post_quant_conv` 1×1 convolutions exist.
    pub use_quant_conv: bool,
    /// See `use_quant_conv`.
    pub use_post_quant_conv: bool,
}

impl VaeConfig {
    /// Parses `vae/config.json`; block types, activations and RGB channels other than SD's are errors.
    pub fn from_json(text: &str) -> std::result::Result<Self, String> {
        let j: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let get = |k: &str| j.get(k).filter(|v| !v.is_null());
        let uint = |k: &str, default: u64| -> std::result::Result<usize, String> {
            match get(k) {
                None => Ok(default as usize),
                Some(v) => v
                    .as_u64()
                    .map(|v| v as usize)
                    .ok_or_else(|| format!("{k} = {v} is not an integer")),
            }
        };
        let block_out_channels: Vec<usize> = get("block_out_channels")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_u64).map(|v| v as usize).collect())
            .unwrap_or_else(|| vec![64]);
        if block_out_channels.is_empty() {
            return Err("block_out_channels is empty".into());
        }
        let types_ok = |k: &str, want: &str| {
            get(k)
                .and_then(Value::as_array)
                .is_none_or(|a| a.iter().all(|v| v.as_str() == Some(want)))
        };
        for (key, ok) in [
            ("down_block_types", types_ok("down_block_types", "DownEncoderBlock2D")),
            ("up_block_types", types_ok("up_block_types", "UpDecoderBlock2D")),
            (
                "act_fn",
                get("act_fn").and_then(Value::as_str).unwrap_or("silu") == "silu",
            ),
            ("in_channels", uint("in_channels", 3)? == 3),
            ("out_channels", uint("out_channels", 3)? == 3),
            (
                "mid_block_add_attention",
                get("mid_block_add_attention").and_then(Value::as_bool).unwrap_or(true),
            ),
            ("latents_mean", get("latents_mean").is_none()),
        ] {
            if !ok {
                return Err(format!(
                    "{key} = {} is not implemented",
                    get(key).unwrap_or(&Value::Null)
                ));
            }
        }
        Ok(VaeConfig {
            layers_per_block: uint("layers_per_block", 1)?,
            latent_channels: uint("latent_channels", 4)?,
            norm_num_groups: uint("norm_num_groups", 32)?,
            scaling_factor: get("scaling_factor").and_then(Value::as_f64).unwrap_or(0.18215),
            use_quant_conv: get("use_quant_conv").and_then(Value::as_bool).unwrap_or(true),
            use_post_quant_conv: get("use_post_quant_conv").and_then(Value::as_bool).unwrap_or(true),
            block_out_channels,
        })
    }

    /// Pixels per latent along each side.
    pub fn downscale(&self) -> usize {
        1 << (self.block_out_channels.len() - 1)
    }
}

/// The VAE, used for decoding latents to images in `[-1, 1]`.
pub struct Vae {
    model: AutoEncoderKL,
    config: VaeConfig,
}

impl Vae {
    /// Builds the VAE from diffusers' weight names (encoder and decoder).
    pub fn load(vb: VarBuilder, config: VaeConfig) -> Result<Self> {
        let c = AutoEncoderKLConfig {
            block_out_channels: config.block_out_channels.clone(),
            layers_per_block: config.layers_per_block,
            latent_channels: config.latent_channels,
            norm_num_groups: config.norm_num_groups,
            use_quant_conv: config.use_quant_conv,
            use_post_quant_conv: config.use_post_quant_conv,
        };
        Ok(Self {
            model: AutoEncoderKL::new(vb, 3, 3, c)?,
            config,
        })
    }

    /// The VAE's shape.
    pub fn config(&self) -> &VaeConfig {
        &self.config
    }

    /// Decodes *unscaled* latents (`latent / scaling_factor`) to images in about `[-1, 1]`,
    /// differentiably.
    pub fn decode(&self, latents: &Tensor) -> Result<Tensor> {
        self.model.decode(latents)
    }
}
