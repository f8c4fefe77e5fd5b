//! CLIP model configurations: the ViT-B/32 preset and Hugging Face `config.json` files.

use candle_transformers::models::clip::ClipConfig;
use candle_transformers::models::clip::text_model::{Activation, ClipTextConfig};
use candle_transformers::models::clip::vision_model::ClipVisionConfig;
use serde_json::Value;

use super::ClipError;

/// OpenAI CLIP ViT-B/32 (`openai/clip-vit-base-patch32`): 224² images, 512-d embeddings.
pub fn vit_base_patch32() -> ClipConfig {
    ClipConfig::vit_base_patch32()
}

/// Reads a Hugging Face `CLIPModel` `config.json`.
///
/// Fields missing from the file take the Hugging Face defaults (which are ViT-B/32's), as
/// `transformers` omits sub-config fields equal to their defaults. Only `quick_gelu` activations and
/// a layer-norm epsilon of 1e-5 are supported (what candle's CLIP implements); anything else is
/// [`ClipError::Unsupported`].
pub fn from_hf_json(text: &str) -> Result<ClipConfig, ClipError> {
    let root: Value = serde_json::from_str(text).map_err(|e| ClipError::Config(e.to_string()))?;
    let empty = Value::Object(Default::default());
    let text_json = root.get("text_config").unwrap_or(&empty);
    let vision_json = root.get("vision_config").unwrap_or(&empty);
    let projection_dim = usize_field(&root, "projection_dim", 512)?;
    let text = Section::new(text_json, "text_config");
    let vision = Section::new(vision_json, "vision_config");
    text.check_supported()?;
    vision.check_supported()?;
    let text_config = ClipTextConfig {
        vocab_size: text.usize("vocab_size", 49408)?,
        embed_dim: text.usize("hidden_size", 512)?,
        activation: Activation::QuickGelu,
        intermediate_size: text.usize("intermediate_size", 2048)?,
        max_position_embeddings: text.usize("max_position_embeddings", 77)?,
        pad_with: None,
        num_hidden_layers: text.usize("num_hidden_layers", 12)?,
        num_attention_heads: text.usize("num_attention_heads", 8)?,
        projection_dim,
    };
    let vision_config = ClipVisionConfig {
        embed_dim: vision.usize("hidden_size", 768)?,
        activation: Activation::QuickGelu,
        intermediate_size: vision.usize("intermediate_size", 3072)?,
        num_hidden_layers: vision.usize("num_hidden_layers", 12)?,
        num_attention_heads: vision.usize("num_attention_heads", 12)?,
        projection_dim,
        num_channels: vision.usize("num_channels", 3)?,
        image_size: vision.usize("image_size", 224)?,
        patch_size: vision.usize("patch_size", 32)?,
    };
    for (name, embed, heads) in [
        ("text_config", text_config.embed_dim, text_config.num_attention_heads),
        (
            "vision_config",
            vision_config.embed_dim,
            vision_config.num_attention_heads,
        ),
    ] {
        if heads == 0 || embed % heads != 0 {
            return Err(ClipError::Config(format!(
                "{name}: hidden_size {embed} is not a multiple of num_attention_heads {heads}"
            )));
        }
    }
    if vision_config.patch_size == 0 || !vision_config.image_size.is_multiple_of(vision_config.patch_size) {
        return Err(ClipError::Config(format!(
            "vision_config: image_size {} is not a multiple of patch_size {}",
            vision_config.image_size, vision_config.patch_size
        )));
    }
    Ok(ClipConfig {
        image_size: vision_config.image_size,
        text_config,
        vision_config,
        logit_scale_init_value: root
            .get("logit_scale_init_value")
            .and_then(Value::as_f64)
            .unwrap_or(2.6592) as f32,
    })
}

struct Section<'a> {
    json: &'a Value,
    name: &'static str,
}

impl<'a> Section<'a> {
    fn new(json: &'a Value, name: &'static str) -> Self {
        Section { json, name }
    }

    fn usize(&self, key: &str, default: usize) -> Result<usize, ClipError> {
        usize_field(self.json, key, default).map_err(|e| ClipError::Config(format!("{}: {e}", self.name)))
    }

    fn check_supported(&self) -> Result<(), ClipError> {
        if let Some(act) = self.json.get("hidden_act")
            && act.as_str() != Some("quick_gelu")
        {
            return Err(ClipError::Unsupported(format!(
                "{}.hidden_act {act}: only quick_gelu is implemented",
                self.name
            )));
        }
        if let Some(eps) = self.json.get("layer_norm_eps").and_then(Value::as_f64)
            && (eps - 1e-5).abs() > 1e-12
        {
            return Err(ClipError::Unsupported(format!(
                "{}.layer_norm_eps {eps}: only 1e-5 is implemented",
                self.name
            )));
        }
        Ok(())
    }
}

fn usize_field(json: &Value, key: &str, default: usize) -> Result<usize, ClipError> {
    match json.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(value) => value
            .as_u64()
            .filter(|&v| v > 0)
            .map(|v| v as usize)
            .ok_or_else(|| ClipError::Config(format!("{key} = {value} is not a positive integer"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_vit_b32() {
        let config = from_hf_json("{}").unwrap();
        let preset = vit_base_patch32();
        assert_eq!(config.image_size, preset.image_size);
        assert_eq!(config.vision_config.embed_dim, preset.vision_config.embed_dim);
        assert_eq!(config.vision_config.patch_size, 32);
        assert_eq!(config.text_config.max_position_embeddings, 77);
        assert_eq!(config.vision_config.projection_dim, 512);
    }

    #[test]
    fn rejects_unsupported_and_bad_fields() {
        let gelu = r#"{"vision_config": {"hidden_act": "gelu"}}"#;
        assert!(matches!(from_hf_json(gelu), Err(ClipError::Unsupported(_))));
        let bad = r#"{"text_config": {"hidden_size": -3}}"#;
        assert!(matches!(from_hf_json(bad), Err(ClipError::Config(_))));
        let heads = r#"{"vision_config": {"hidden_size": 65, "num_attention_heads": 4}}"#;
        assert!(matches!(from_hf_json(heads), Err(ClipError::Config(_))));
        assert!(matches!(from_hf_json("not json"), Err(ClipError::Config(_))));
    }
}
