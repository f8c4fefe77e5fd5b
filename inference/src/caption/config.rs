//! The decoder's `config.json`: a Hugging Face GPT-2 config plus ClipCap's prefix sizes.

use std::path::Path;

use serde::Deserialize;

use super::error::CaptionError;

/// The activation of GPT-2's MLP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `gelu_new` (GPT-2's): the tanh approximation of GELU.
    GeluTanh,
    /// `gelu`: the exact, erf-based GELU.
    GeluErf,
}

/// The GPT-2 hyper-parameters, as Hugging Face's `config.json` names them.
#[derive(Clone, Debug, PartialEq)]
pub struct Gpt2Config {
    /// Transformer blocks.
    pub n_layer: usize,
    /// Width of the residual stream.
    pub n_embd: usize,
    /// Attention heads (`n_embd` must be a multiple).
    pub n_head: usize,
    /// Largest sequence length (rows of the position embedding).
    pub n_positions: usize,
    /// Tokens in the vocabulary.
    pub vocab_size: usize,
    /// Width of the MLP's hidden layer (`n_inner`, 4 · `n_embd` when absent).
    pub n_inner: usize,
    /// Epsilon of every layer norm.
    pub layer_norm_epsilon: f64,
    /// The MLP's activation.
    pub activation: Activation,
}

/// A decoder directory's config: GPT-2 plus the ClipCap MLP mapper.
#[derive(Clone, Debug, PartialEq)]
pub struct DecoderConfig {
    /// The language model.
    pub gpt2: Gpt2Config,
    /// Embeddings the mapper makes from one prefix vector (ClipCap COCO: 10).
    pub prefix_length: usize,
    /// Length of a prefix vector, i.e. the CLIP embedding (ClipCap COCO: 512).
    pub prefix_dim: usize,
    /// Width of the mapper's hidden layer (ClipCap: `n_embd · prefix_length / 2`).
    pub mapper_hidden: usize,
}

#[derive(Deserialize)]
struct RawConfig {
    n_layer: usize,
    n_embd: usize,
    n_head: usize,
    n_positions: usize,
    vocab_size: usize,
    #[serde(default)]
    n_inner: Option<usize>,
    #[serde(default = "default_epsilon")]
    layer_norm_epsilon: f64,
    #[serde(default = "default_activation")]
    activation_function: String,
    #[serde(default = "default_prefix_length")]
    prefix_length: usize,
    #[serde(default = "default_prefix_dim")]
    prefix_dim: usize,
    #[serde(default)]
    mapper_hidden: Option<usize>,
}

fn default_epsilon() -> f64 {
    1e-5
}

fn default_activation() -> String {
    "gelu_new".to_owned()
}

fn default_prefix_length() -> usize {
    10
}

fn default_prefix_dim() -> usize {
    512
}

impl DecoderConfig {
    /// Reads `config.json`. `prefix_length` (default 10), `prefix_dim` (default 512) and
    /// `mapper_hidden` (default `n_embd · prefix_length / 2`) may be absent, so Hugging Face's own
    /// `gpt2` config describes ClipCap's COCO model.
    pub fn from_file(path: &Path) -> Result<Self, CaptionError> {
        let error = |message: String| CaptionError::Config {
            path: path.to_owned(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        Self::from_json(&text).map_err(error)
    }

    /// Parses and validates the text of `config.json`.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let raw: RawConfig = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let activation = match raw.activation_function.as_str() {
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Activation::GeluTanh,
            "gelu" => Activation::GeluErf,
            other => return Err(format!("unsupported activation_function {other:?}")),
        };
        let config = Self {
            gpt2: Gpt2Config {
                n_layer: raw.n_layer,
                n_embd: raw.n_embd,
                n_head: raw.n_head,
                n_positions: raw.n_positions,
                vocab_size: raw.vocab_size,
                n_inner: raw.n_inner.unwrap_or(4 * raw.n_embd),
                layer_norm_epsilon: raw.layer_norm_epsilon,
                activation,
            },
            prefix_length: raw.prefix_length,
            prefix_dim: raw.prefix_dim,
            mapper_hidden: raw.mapper_hidden.unwrap_or(raw.n_embd * raw.prefix_length / 2),
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        let g = &self.gpt2;
        let sizes = [
            ("n_layer", g.n_layer),
            ("n_embd", g.n_embd),
            ("n_head", g.n_head),
            ("n_positions", g.n_positions),
            ("vocab_size", g.vocab_size),
            ("n_inner", g.n_inner),
            ("prefix_length", self.prefix_length),
            ("prefix_dim", self.prefix_dim),
            ("mapper_hidden", self.mapper_hidden),
        ];
        if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{name} must be positive"));
        }
        if !g.n_embd.is_multiple_of(g.n_head) {
            return Err(format!("n_embd {} is not a multiple of n_head {}", g.n_embd, g.n_head));
        }
        if self.prefix_length >= g.n_positions {
            return Err(format!(
                "prefix_length {} leaves no room for tokens in n_positions {}",
                self.prefix_length, g.n_positions
            ));
        }
        if !(g.layer_norm_epsilon.is_finite() && g.layer_norm_epsilon > 0.0) {
            return Err(format!("layer_norm_epsilon {} must be positive", g.layer_norm_epsilon));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hugging_face_gpt2_config_gets_clipcap_defaults() {
        let text = r#"{"n_layer": 12, "n_embd": 768, "n_head": 12, "n_positions": 1024, "n_ctx": 1024,
            "vocab_size": 50257, "layer_norm_epsilon": 1e-05, "activation_function": "gelu_new", "n_inner": null}"#;
        let config = DecoderConfig::from_json(text).unwrap();
        assert_eq!(config.gpt2.n_inner, 3072);
        assert_eq!(config.gpt2.activation, Activation::GeluTanh);
        assert_eq!(
            (config.prefix_length, config.prefix_dim, config.mapper_hidden),
            (10, 512, 3840)
        );
    }

    #[test]
    fn impossible_configs_are_rejected() {
        let base = r#""n_layer": 2, "n_embd": 64, "n_positions": 128, "vocab_size": 300"#;
        assert!(
            DecoderConfig::from_json(&format!("{{{base}, \"n_head\": 5}}"))
                .unwrap_err()
                .contains("multiple")
        );
        assert!(
            DecoderConfig::from_json(&format!("{{{base}, \"n_head\": 0}}"))
                .unwrap_err()
                .contains("n_head")
        );
        let relu = format!("{{{base}, \"n_head\": 4, \"activation_function\": \"relu\"}}");
        assert!(DecoderConfig::from_json(&relu).unwrap_err().contains("relu"));
        assert!(DecoderConfig::from_json("{\"n_layer\": 2}").is_err());
    }
}
