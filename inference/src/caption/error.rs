//! The error type of loading a caption decoder and of captioning.

use std::path::PathBuf;

/// Why a caption decoder could not be loaded or a caption could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CaptionError {
    /// The decoder directory lacks files; `missing` names each one (or each alternative).
    #[error(
        "the caption decoder directory {dir} is missing {}; it needs config.json (GPT-2 config plus \
         prefix_length, prefix_dim), model.safetensors or coco_weights.pt (ClipCap weights) and \
         tokenizer.json (GPT-2 tokenizer)",
        missing.join(", ")
    )]
    MissingFiles {
        /// The directory that was searched.
        dir: PathBuf,
        /// The missing files, e.g. `"tokenizer.json"` or `"model.safetensors or coco_weights.pt"`.
        missing: Vec<String>,
    },
    /// `config.json` cannot be read or describes an impossible model.
    #[error("invalid decoder config {path}: {message}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A weights file cannot be read.
    #[error("cannot read decoder weights {path}: {message}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// The reader's error.
        message: String,
    },
    /// A tensor the model needs is not in the weights file.
    #[error("the decoder weights lack the tensor {name}")]
    MissingTensor {
        /// The tensor's name (ClipCap key names, e.g. `gpt.transformer.h.0.attn.c_attn.weight`).
        name: String,
    },
    /// A tensor of the weights file does not have the shape the config implies.
    #[error("the decoder tensor {name} has shape {found:?}, expected {expected:?}")]
    TensorShape {
        /// The tensor's name.
        name: String,
        /// The shape the config implies.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// `tokenizer.json` cannot be read, or does not fit the model.
    #[error("invalid tokenizer {path}: {message}")]
    Tokenizer {
        /// The tokenizer file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Token ids could not be decoded to text.
    #[error("cannot decode tokens: {0}")]
    Decode(String),
    /// The input or the decoding settings are invalid (the message says which).
    #[error("invalid caption input: {0}")]
    Input(String),
    /// The cancel flag was raised.
    #[error("captioning was cancelled")]
    Cancelled,
    /// An error from candle (device, allocation or shape).
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
}
