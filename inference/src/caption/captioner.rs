//! [`Captioner`]: a decoder directory loaded, and prefix vectors turned into captions.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use candle_core::{Device, Tensor};

use super::beam::{CachedStepper, FullStepper, Hypothesis, Stepper, beam_search, greedy};
use super::clipcap::ClipCap;
use super::config::DecoderConfig;
use super::error::CaptionError;
use super::tokenizer::Gpt2Tokenizer;
use super::weights::Weights;

/// How tokens are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// ClipCap's `generate_beam` with this many beams (BrainSCUBA: 5).
    Beam {
        /// Beams kept per prefix.
        width: usize,
    },
    /// The most likely token at every step.
    Greedy,
}

/// Decoding settings; the default is BrainSCUBA's (beam 5, 67 tokens, temperature 1, stop at '.').
#[derive(Clone, Debug, PartialEq)]
pub struct DecodeConfig {
    /// Beam search or greedy.
    pub strategy: Strategy,
    /// Largest number of generated tokens (ClipCap's `entry_length`).
    pub max_tokens: usize,
    /// Logits are divided by it before the softmax (≤ 0 counts as 1).
    pub temperature: f64,
    /// Decoding of a prefix stops once its beams produced the first token of this text.
    pub stop: String,
    /// Reuse GPT-2's keys and values between steps (same result, much faster); `false` re-runs the
    /// whole sequence every step as ClipCap does.
    pub use_cache: bool,
    /// Prefixes decoded together in one batch (each with `width` beams).
    pub batch: usize,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        Self {
            strategy: Strategy::Beam { width: 5 },
            max_tokens: 67,
            temperature: 1.0,
            stop: ".".to_owned(),
            use_cache: true,
            batch: 16,
        }
    }
}

/// Progress of [`Captioner::caption`]: prefixes decoded so far out of all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaptionProgress {
    /// Prefixes done.
    pub done: usize,
    /// Prefixes in all.
    pub total: usize,
}

/// Decodes every row of `prefixes` `[N, prefix_dim]` with `model`, `settings.batch` rows at a time,
/// stopping at token `stop` (never when `None`; `settings.stop` is not used here). Returns each
/// prefix's hypotheses, best first (one for greedy decoding). `cancel` is read before every step;
/// `progress` is called after every batch.
pub fn generate(
    model: &ClipCap,
    prefixes: &Tensor,
    settings: &DecodeConfig,
    stop: Option<u32>,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&CaptionProgress),
) -> Result<Vec<Vec<Hypothesis>>, CaptionError> {
    let embeds = model.mapper.forward(prefixes)?;
    let total = embeds.dim(0)?;
    let vocab = model.gpt.config().vocab_size;
    let batch = settings.batch.max(1);
    let mut out = Vec::with_capacity(total);
    for start in (0..total).step_by(batch) {
        let chunk = embeds.narrow(0, start, batch.min(total - start))?;
        let mut cached = CachedStepper::new(&model.gpt, settings.temperature);
        let mut full = FullStepper::new(&model.gpt, settings.temperature);
        let stepper: &mut dyn Stepper = if settings.use_cache { &mut cached } else { &mut full };
        match settings.strategy {
            Strategy::Beam { width } => {
                out.extend(beam_search(
                    stepper,
                    &chunk,
                    vocab,
                    width,
                    settings.max_tokens,
                    stop,
                    cancel,
                )?);
            }
            Strategy::Greedy => {
                let best = greedy(stepper, &chunk, vocab, settings.max_tokens, stop, cancel)?;
                out.extend(best.into_iter().map(|h| vec![h]));
            }
        }
        progress(&CaptionProgress { done: out.len(), total });
    }
    Ok(out)
}

/// A ClipCap caption decoder: mapper, GPT-2 and tokenizer, on one device.
pub struct Captioner {
    config: DecoderConfig,
    model: ClipCap,
    tokenizer: Gpt2Tokenizer,
}

impl Captioner {
    /// The config file of a decoder directory.
    pub const CONFIG_FILE: &str = "config.json";
    /// The weights file with ClipCap's key names (preferred).
    pub const WEIGHTS_FILE: &str = "model.safetensors";
    /// ClipCap's original checkpoint (a PyTorch state_dict), read when `model.safetensors` is absent.
    pub const CHECKPOINT_FILE: &str = "coco_weights.pt";
    /// The GPT-2 tokenizer.
    pub const TOKENIZER_FILE: &str = "tokenizer.json";

    /// Loads a decoder directory: `config.json`, `model.safetensors` (or `coco_weights.pt`) and
    /// `tokenizer.json`. Missing files are all named in one [`CaptionError::MissingFiles`].
    pub fn load(dir: &Path, device: &Device) -> Result<Self, CaptionError> {
        let config_path = dir.join(Self::CONFIG_FILE);
        let tokenizer_path = dir.join(Self::TOKENIZER_FILE);
        let safetensors = dir.join(Self::WEIGHTS_FILE);
        let checkpoint = dir.join(Self::CHECKPOINT_FILE);
        let mut missing = Vec::new();
        if !config_path.is_file() {
            missing.push(Self::CONFIG_FILE.to_owned());
        }
        if !safetensors.is_file() && !checkpoint.is_file() {
            missing.push(format!("{} or {}", Self::WEIGHTS_FILE, Self::CHECKPOINT_FILE));
        }
        if !tokenizer_path.is_file() {
            missing.push(Self::TOKENIZER_FILE.to_owned());
        }
        if !missing.is_empty() {
            return Err(CaptionError::MissingFiles {
                dir: dir.to_owned(),
                missing,
            });
        }
        let config = DecoderConfig::from_file(&config_path)?;
        let weights = if safetensors.is_file() {
            Weights::from_safetensors(&safetensors, device)?
        } else {
            Weights::from_pytorch(&checkpoint, device)?
        };
        let tokenizer = Gpt2Tokenizer::from_file(&tokenizer_path)?;
        if tokenizer.vocab_size() > config.gpt2.vocab_size {
            return Err(CaptionError::Tokenizer {
                path: tokenizer_path,
                message: format!(
                    "{} tokens, more than the model's vocab_size {}",
                    tokenizer.vocab_size(),
                    config.gpt2.vocab_size
                ),
            });
        }
        Self::new(config, &weights, tokenizer)
    }

    /// A captioner from parts already read.
    pub fn new(config: DecoderConfig, weights: &Weights, tokenizer: Gpt2Tokenizer) -> Result<Self, CaptionError> {
        let model = ClipCap::load(&config, weights)?;
        Ok(Self {
            config,
            model,
            tokenizer,
        })
    }

    /// The decoder's config.
    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// The mapper and GPT-2.
    pub fn model(&self) -> &ClipCap {
        &self.model
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Gpt2Tokenizer {
        &self.tokenizer
    }

    /// The device the model runs on.
    pub fn device(&self) -> &Device {
        self.model.gpt.device()
    }

    /// Every hypothesis of every prefix (rows of `prefixes` `[N, prefix_dim]`), best first; see
    /// [`generate`].
    pub fn generate(
        &self,
        prefixes: &Tensor,
        settings: &DecodeConfig,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(&CaptionProgress),
    ) -> Result<Vec<Vec<Hypothesis>>, CaptionError> {
        let stop = self.tokenizer.stop_token(&settings.stop)?;
        if stop as usize >= self.config.gpt2.vocab_size {
            return Err(CaptionError::Input(format!(
                "stop token {stop} is outside the vocabulary"
            )));
        }
        generate(&self.model, prefixes, settings, Some(stop), cancel, progress)
    }

    /// One caption per row of `prefixes` `[N, prefix_dim]` (raw CLIP image embeddings, or BrainSCUBA's
    /// projected voxel weights): the best hypothesis, decoded to text.
    pub fn caption(
        &self,
        prefixes: &Tensor,
        settings: &DecodeConfig,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(&CaptionProgress),
    ) -> Result<Vec<String>, CaptionError> {
        self.generate(prefixes, settings, cancel, progress)?
            .iter()
            .map(|hypotheses| match hypotheses.first() {
                Some(best) => self.tokenizer.decode(&best.tokens),
                None => Ok(String::new()),
            })
            .collect()
    }

    /// [`caption`](Self::caption) with BrainSCUBA's settings, no progress and no cancel.
    pub fn caption_batch(&self, prefixes: &Tensor) -> Result<Vec<String>, CaptionError> {
        self.caption(prefixes, &DecodeConfig::default(), &AtomicBool::new(false), &mut |_| {})
    }
}
