//! The GPT-2 tokenizer, through the `tokenizers` crate (`tokenizer.json`).

use std::path::Path;

use super::error::CaptionError;

/// A byte-level BPE tokenizer that decodes generated ids and names the stop token.
pub struct Gpt2Tokenizer {
    inner: tokenizers::Tokenizer,
}

impl Gpt2Tokenizer {
    /// Reads a Hugging Face `tokenizer.json`.
    pub fn from_file(path: &Path) -> Result<Self, CaptionError> {
        let inner = tokenizers::Tokenizer::from_file(path).map_err(|e| CaptionError::Tokenizer {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Ok(Self { inner })
    }

    /// Tokens in the vocabulary, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The ids of `text`, without special tokens.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, CaptionError> {
        let encoding = self
            .inner
            .encode(text, false)
            .map_err(|e| CaptionError::Decode(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// The id ClipCap stops at for `text`: the first token of its encoding (`'.'` → 13 in GPT-2).
    pub fn stop_token(&self, text: &str) -> Result<u32, CaptionError> {
        self.encode(text)?
            .first()
            .copied()
            .ok_or_else(|| CaptionError::Input(format!("the stop text {text:?} encodes to no token")))
    }

    /// The text of `ids` (special tokens kept, no clean-up of spaces before punctuation).
    pub fn decode(&self, ids: &[u32]) -> Result<String, CaptionError> {
        self.inner
            .decode(ids, false)
            .map_err(|e| CaptionError::Decode(e.to_string()))
    }
}
