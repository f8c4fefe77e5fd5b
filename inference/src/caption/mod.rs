//! BrainSCUBA's caption decoder: ClipCap's MLP mapper and GPT-2, decoded with an exact port of
//! ClipCap's `generate_beam` (beam 5, at most 67 tokens, stop at '.') using a key/value cache.
//!
//! A decoder directory holds `config.json` (Hugging Face GPT-2 config plus `prefix_length`,
//! `prefix_dim`, optionally `mapper_hidden`), `model.safetensors` with ClipCap's key names
//! (`clip_project.model.{0,2}.*`, `gpt.transformer.*`) or ClipCap's own `coco_weights.pt`, and
//! `tokenizer.json`. [`Captioner::load`] reads it; [`Captioner::caption`] turns prefix vectors
//! `[N, prefix_dim]` into one caption each, batching over prefixes.

mod beam;
mod captioner;
mod clipcap;
mod config;
mod error;
mod gpt2;
mod tokenizer;
mod weights;

pub use beam::{CachedStepper, FullStepper, Hypothesis, Stepper, beam_search, greedy};
pub use captioner::{CaptionProgress, Captioner, DecodeConfig, Strategy, generate};
pub use clipcap::{ClipCap, Mapper};
pub use config::{Activation, DecoderConfig, Gpt2Config};
pub use error::CaptionError;
pub use gpt2::{Gpt2, KvCache};
pub use tokenizer::Gpt2Tokenizer;
pub use weights::Weights;
