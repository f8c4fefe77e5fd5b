//! Decoding: an exact port of ClipCap's `generate_beam` (rmokady/CLIP_prefix_caption, MIT licence,
//! © 2021 rmokady), and greedy decoding, over many prefixes at once, with or without GPT-2's
//! key/value cache.
//!
//! The search itself runs on the host over log-probabilities that a [`Stepper`] computes on the
//! model's device; every prefix (voxel) keeps its own beams, and a prefix whose beams have all
//! stopped leaves the batch.

use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::{D, Device, Tensor};
use candle_nn::ops::softmax_last_dim;

use super::error::CaptionError;
use super::gpt2::{Gpt2, KvCache};

/// One decoded token sequence and its score.
#[derive(Clone, Debug, PartialEq)]
pub struct Hypothesis {
    /// Token ids, up to and including the stop token when it was produced.
    pub tokens: Vec<u32>,
    /// Length-normalised log-probability: ClipCap's `scores / seq_lengths` for beam search, the
    /// mean log-probability of the tokens for greedy decoding.
    pub score: f32,
}

/// Next-token log-probabilities for a batch of growing sequences.
pub trait Stepper {
    /// Starts one sequence per row of `prefix_embeds` `[N, P, n_embd]`; returns the log-probabilities
    /// of each row's next token, row-major `[N · vocab]`.
    fn start(&mut self, prefix_embeds: &Tensor) -> Result<Vec<f32>, CaptionError>;

    /// Keeps the sequences `rows` (indices into the previous call's rows, in this order, repeats
    /// allowed), appends `tokens[i]` to sequence `i`, and returns the log-probabilities of each
    /// sequence's next token, `[rows.len() · vocab]`.
    fn step(&mut self, rows: &[u32], tokens: &[u32]) -> Result<Vec<f32>, CaptionError>;
}

/// `log(softmax(logits / temperature))` as ClipCap computes it (a temperature ≤ 0 counts as 1).
fn log_probs(logits: &Tensor, temperature: f64) -> Result<Vec<f32>, CaptionError> {
    let t = if temperature > 0.0 { temperature } else { 1.0 };
    let scaled = if t == 1.0 { logits.clone() } else { (logits / t)? };
    Ok(softmax_last_dim(&scaled)?.log()?.flatten_all()?.to_vec1::<f32>()?)
}

fn index_tensor(values: &[u32], device: &Device) -> candle_core::Result<Tensor> {
    Tensor::from_slice(values, values.len(), device)
}

/// Runs GPT-2 on the new tokens only, reusing the cached keys and values.
pub struct CachedStepper<'a> {
    gpt: &'a Gpt2,
    cache: KvCache,
    temperature: f64,
}

impl<'a> CachedStepper<'a> {
    /// A stepper over `gpt` that divides logits by `temperature`.
    pub fn new(gpt: &'a Gpt2, temperature: f64) -> Self {
        Self {
            gpt,
            cache: KvCache::new(),
            temperature,
        }
    }
}

impl Stepper for CachedStepper<'_> {
    fn start(&mut self, prefix_embeds: &Tensor) -> Result<Vec<f32>, CaptionError> {
        self.cache = KvCache::new();
        let logits = self.gpt.forward_embeds_last(prefix_embeds, &mut self.cache)?;
        log_probs(&logits, self.temperature)
    }

    fn step(&mut self, rows: &[u32], tokens: &[u32]) -> Result<Vec<f32>, CaptionError> {
        let device = self.gpt.device();
        let identity = rows.len() == self.cache.batch() && rows.iter().enumerate().all(|(i, &r)| r as usize == i);
        if !identity {
            self.cache.select(&index_tensor(rows, device)?)?;
        }
        let embeds = self.gpt.embed_tokens(&index_tensor(tokens, device)?.unsqueeze(1)?)?;
        let logits = self.gpt.forward_embeds_last(&embeds, &mut self.cache)?;
        log_probs(&logits, self.temperature)
    }
}

/// Re-runs GPT-2 over the whole sequence at every step, as ClipCap does: the reference that the
/// cached stepper must agree with.
pub struct FullStepper<'a> {
    gpt: &'a Gpt2,
    embeds: Option<Tensor>,
    temperature: f64,
}

impl<'a> FullStepper<'a> {
    /// A stepper over `gpt` that divides logits by `temperature`.
    pub fn new(gpt: &'a Gpt2, temperature: f64) -> Self {
        Self {
            gpt,
            embeds: None,
            temperature,
        }
    }

    fn run(&mut self, embeds: Tensor) -> Result<Vec<f32>, CaptionError> {
        let logits = self.gpt.forward_embeds_last(&embeds, &mut KvCache::new())?;
        self.embeds = Some(embeds);
        log_probs(&logits, self.temperature)
    }
}

impl Stepper for FullStepper<'_> {
    fn start(&mut self, prefix_embeds: &Tensor) -> Result<Vec<f32>, CaptionError> {
        self.run(prefix_embeds.clone())
    }

    fn step(&mut self, rows: &[u32], tokens: &[u32]) -> Result<Vec<f32>, CaptionError> {
        let device = self.gpt.device();
        let previous = self
            .embeds
            .as_ref()
            .ok_or_else(|| CaptionError::Input("step before start".to_owned()))?;
        let kept = previous.index_select(&index_tensor(rows, device)?, 0)?;
        let new = self.gpt.embed_tokens(&index_tensor(tokens, device)?.unsqueeze(1)?)?;
        self.run(Tensor::cat(&[&kept, &new], D::Minus2)?)
    }
}

/// The `k` largest values of `values` as `(value, index)`, largest first; ties go to the lower
/// index, and NaNs count as −∞.
fn top_k(values: &[f32], k: usize) -> Vec<(f32, usize)> {
    let mut best: Vec<(f32, usize)> = Vec::with_capacity(k + 1);
    for (i, &v) in values.iter().enumerate() {
        let v = if v.is_nan() { f32::NEG_INFINITY } else { v };
        if best.len() == k && best.last().is_none_or(|&(last, _)| v <= last) {
            continue;
        }
        let mut pos = best.len();
        while pos > 0 && v > best[pos - 1].0 {
            pos -= 1;
        }
        best.insert(pos, (v, i));
        best.truncate(k);
    }
    best
}

/// The beams of one prefix, as ClipCap's `generate_beam` keeps them.
struct Beams {
    tokens: Vec<Vec<u32>>,
    scores: Vec<f32>,
    lengths: Vec<f32>,
    stopped: Vec<bool>,
}

impl Beams {
    /// The first step: the `width` most likely tokens after the prefix.
    fn first(log_probs: &[f32], width: usize, stop: Option<u32>) -> Self {
        let best = top_k(log_probs, width);
        Self {
            tokens: best.iter().map(|&(_, t)| vec![t as u32]).collect(),
            scores: best.iter().map(|&(s, _)| s).collect(),
            lengths: vec![1.0; best.len()],
            stopped: best.iter().map(|&(_, t)| Some(t as u32) == stop).collect(),
        }
    }

    /// One later step over `log_probs` `[width · vocab]` (row `b` continues beam `b`); returns the
    /// beam each new beam continues.
    fn advance(&mut self, log_probs: &[f32], vocab: usize, stop: Option<u32>) -> Vec<usize> {
        let width = self.scores.len();
        for (length, &stopped) in self.lengths.iter_mut().zip(&self.stopped) {
            if !stopped {
                *length += 1.0;
            }
        }
        let mut averages = vec![f32::NEG_INFINITY; width * vocab];
        for b in 0..width {
            let row = &mut averages[b * vocab..(b + 1) * vocab];
            if self.stopped[b] {
                row[0] = (self.scores[b] + 0.0) / self.lengths[b];
            } else {
                for (average, &lp) in row.iter_mut().zip(&log_probs[b * vocab..(b + 1) * vocab]) {
                    *average = (self.scores[b] + lp) / self.lengths[b];
                }
            }
        }
        let best = top_k(&averages, width);
        let sources: Vec<usize> = best.iter().map(|&(_, i)| i / vocab).collect();
        let lengths: Vec<f32> = sources.iter().map(|&s| self.lengths[s]).collect();
        self.scores = best.iter().zip(&lengths).map(|(&(avg, _), &len)| avg * len).collect();
        self.tokens = best
            .iter()
            .map(|&(_, i)| {
                let mut tokens = self.tokens[i / vocab].clone();
                tokens.push((i % vocab) as u32);
                tokens
            })
            .collect();
        self.stopped = best
            .iter()
            .map(|&(_, i)| self.stopped[i / vocab] || Some((i % vocab) as u32) == stop)
            .collect();
        self.lengths = lengths;
        sources
    }

    fn all_stopped(&self) -> bool {
        self.stopped.iter().all(|&s| s)
    }

    /// The beams, best first by `score / length`, each cut to its length.
    fn finish(self) -> Vec<Hypothesis> {
        let mut hypotheses: Vec<Hypothesis> = self
            .tokens
            .into_iter()
            .zip(self.scores.iter().zip(&self.lengths))
            .map(|(mut tokens, (&score, &length))| {
                tokens.truncate(length as usize);
                Hypothesis {
                    tokens,
                    score: score / length,
                }
            })
            .collect();
        hypotheses.sort_by(|a, b| b.score.total_cmp(&a.score));
        hypotheses
    }
}

fn check_settings(vocab: usize, width: usize, max_tokens: usize) -> Result<(), CaptionError> {
    if width == 0 || width > vocab {
        return Err(CaptionError::Input(format!(
            "beam width {width} must be in 1..={vocab}"
        )));
    }
    if max_tokens == 0 {
        return Err(CaptionError::Input("at most 0 tokens were asked for".to_owned()));
    }
    Ok(())
}

fn check_cancel(cancel: &AtomicBool) -> Result<(), CaptionError> {
    if cancel.load(Ordering::Relaxed) {
        Err(CaptionError::Cancelled)
    } else {
        Ok(())
    }
}

/// ClipCap's `generate_beam` for every row of `prefix_embeds` `[N, P, n_embd]`: `width` beams,
/// at most `max_tokens` tokens, stopping at `stop` (never when `None`). Returns each prefix's beams,
/// best first.
pub fn beam_search(
    stepper: &mut dyn Stepper,
    prefix_embeds: &Tensor,
    vocab: usize,
    width: usize,
    max_tokens: usize,
    stop: Option<u32>,
    cancel: &AtomicBool,
) -> Result<Vec<Vec<Hypothesis>>, CaptionError> {
    check_settings(vocab, width, max_tokens)?;
    check_cancel(cancel)?;
    let n = prefix_embeds.dim(0)?;
    let log_probs = stepper.start(prefix_embeds)?;
    let mut beams: Vec<Beams> = log_probs
        .chunks_exact(vocab)
        .map(|row| Beams::first(row, width, stop))
        .collect();
    // The stepper's rows: `per` rows for each voxel of `layout`, in order; each voxel's beams
    // continue rows `sources` of its block.
    let mut layout: Vec<usize> = (0..n).collect();
    let mut per = 1;
    let mut sources: Vec<Vec<usize>> = vec![vec![0; width]; n];
    for _ in 1..max_tokens {
        let mut rows = Vec::new();
        let mut tokens = Vec::new();
        let mut next_layout = Vec::new();
        for (k, &v) in layout.iter().enumerate() {
            if beams[v].all_stopped() {
                continue;
            }
            next_layout.push(v);
            for (&source, beam) in sources[v].iter().zip(&beams[v].tokens) {
                rows.push((k * per + source) as u32);
                tokens.push(beam.last().copied().unwrap_or(0));
            }
        }
        if next_layout.is_empty() {
            break;
        }
        check_cancel(cancel)?;
        let log_probs = stepper.step(&rows, &tokens)?;
        layout = next_layout;
        per = width;
        for (&v, block) in layout.iter().zip(log_probs.chunks_exact(width * vocab)) {
            sources[v] = beams[v].advance(block, vocab, stop);
        }
    }
    Ok(beams.into_iter().map(Beams::finish).collect())
}

/// Greedy decoding of every row of `prefix_embeds`: the most likely token at each step, at most
/// `max_tokens`, stopping after `stop`.
pub fn greedy(
    stepper: &mut dyn Stepper,
    prefix_embeds: &Tensor,
    vocab: usize,
    max_tokens: usize,
    stop: Option<u32>,
    cancel: &AtomicBool,
) -> Result<Vec<Hypothesis>, CaptionError> {
    check_settings(vocab, 1, max_tokens)?;
    check_cancel(cancel)?;
    let n = prefix_embeds.dim(0)?;
    let mut out: Vec<(Vec<u32>, f32)> = vec![(Vec::new(), 0.0); n];
    let mut layout: Vec<usize> = (0..n).collect();
    let mut log_probs = stepper.start(prefix_embeds)?;
    for step in 0..max_tokens {
        for (&v, row) in layout.iter().zip(log_probs.chunks_exact(vocab)) {
            let (lp, token) = top_k(row, 1).first().copied().unwrap_or((f32::NEG_INFINITY, 0));
            out[v].0.push(token as u32);
            out[v].1 += lp;
        }
        let (rows, tokens, next_layout): (Vec<u32>, Vec<u32>, Vec<usize>) = layout
            .iter()
            .enumerate()
            .filter_map(|(k, &v)| {
                let last = *out[v].0.last()?;
                (Some(last) != stop).then_some((k as u32, last, v))
            })
            .fold((Vec::new(), Vec::new(), Vec::new()), |mut acc, (k, t, v)| {
                acc.0.push(k);
                acc.1.push(t);
                acc.2.push(v);
                acc
            });
        if next_layout.is_empty() || step + 1 == max_tokens {
            break;
        }
        check_cancel(cancel)?;
        log_probs = stepper.step(&rows, &tokens)?;
        layout = next_layout;
    }
    Ok(out
        .into_iter()
        .map(|(tokens, sum)| {
            let score = sum / tokens.len().max(1) as f32;
            Hypothesis { tokens, score }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_orders_by_value_then_index() {
        let values = [1.0, 3.0, f32::NAN, 3.0, -1.0, 2.0];
        assert_eq!(top_k(&values, 3), vec![(3.0, 1), (3.0, 3), (2.0, 5)]);
        assert_eq!(
            top_k(&[f32::NEG_INFINITY, 0.5], 2),
            vec![(0.5, 1), (f32::NEG_INFINITY, 0)]
        );
        assert_eq!(
            top_k(&[f32::NAN, f32::NEG_INFINITY], 2),
            vec![(f32::NEG_INFINITY, 0), (f32::NEG_INFINITY, 1)]
        );
    }

    /// Log-probabilities from a fixed table: row `last token` of `table` (start uses row 0).
    struct TableStepper {
        table: Vec<Vec<f32>>,
    }

    impl Stepper for TableStepper {
        fn start(&mut self, prefix_embeds: &Tensor) -> Result<Vec<f32>, CaptionError> {
            let n = prefix_embeds.dim(0)?;
            Ok((0..n).flat_map(|_| self.table[0].clone()).collect())
        }

        fn step(&mut self, rows: &[u32], tokens: &[u32]) -> Result<Vec<f32>, CaptionError> {
            assert_eq!(rows.len(), tokens.len());
            Ok(tokens.iter().flat_map(|&t| self.table[t as usize].clone()).collect())
        }
    }

    fn ln(p: &[f32]) -> Vec<f32> {
        p.iter().map(|p| p.ln()).collect()
    }

    /// Vocabulary {0, 1, 2 = stop}: after the prefix, 1 is likely; after 1, the stop is likely;
    /// after the stop, 1 again.
    fn table() -> TableStepper {
        TableStepper {
            table: vec![ln(&[0.3, 0.6, 0.1]), ln(&[0.1, 0.2, 0.7]), ln(&[0.2, 0.5, 0.3])],
        }
    }

    #[test]
    fn beam_search_stops_and_normalises_by_length() {
        let prefix = Tensor::zeros((2, 1, 1), candle_core::DType::F32, &Device::Cpu).unwrap();
        let out = beam_search(&mut table(), &prefix, 3, 2, 10, Some(2), &AtomicBool::new(false)).unwrap();
        assert_eq!(out.len(), 2);
        // Step 1: beams [1] (ln .6) and [0] (ln .3). Step 2: [1,2] (ln .42 / 2 = −0.43, stopped) and
        // [0,1] (ln .18 / 2). Step 3: [1,2] keeps −0.43 (token 0 appended, cut off), [0,1,2] gets
        // ln .126 / 3 = −0.69; both have stopped.
        let best = &out[0][0];
        assert_eq!(best.tokens, vec![1, 2]);
        assert_eq!(out[0][1].tokens, vec![0, 1, 2]);
        assert!((best.score - (0.6f32 * 0.7).ln() / 2.0).abs() < 1e-6);
        assert_eq!(out[0], out[1]);
    }

    #[test]
    fn beam_search_without_stop_runs_to_the_limit() {
        let prefix = Tensor::zeros((1, 1, 1), candle_core::DType::F32, &Device::Cpu).unwrap();
        let out = beam_search(&mut table(), &prefix, 3, 3, 7, None, &AtomicBool::new(false)).unwrap();
        assert!(out[0].iter().all(|h| h.tokens.len() == 7));
        assert!(out[0].windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn greedy_stops_after_the_stop_token() {
        let prefix = Tensor::zeros((1, 1, 1), candle_core::DType::F32, &Device::Cpu).unwrap();
        let out = greedy(&mut table(), &prefix, 3, 10, Some(2), &AtomicBool::new(false)).unwrap();
        assert_eq!(out[0].tokens, vec![1, 2]);
        let out = greedy(&mut table(), &prefix, 3, 5, None, &AtomicBool::new(false)).unwrap();
        assert_eq!(out[0].tokens, vec![1, 2, 1, 2, 1]);
    }

    #[test]
    fn bad_settings_and_cancel_are_errors() {
        let prefix = Tensor::zeros((1, 1, 1), candle_core::DType::F32, &Device::Cpu).unwrap();
        let no = AtomicBool::new(false);
        assert!(matches!(
            beam_search(&mut table(), &prefix, 3, 4, 5, None, &no),
            Err(CaptionError::Input(_))
        ));
        assert!(matches!(
            beam_search(&mut table(), &prefix, 3, 2, 0, None, &no),
            Err(CaptionError::Input(_))
        ));
        let yes = AtomicBool::new(true);
        assert!(matches!(
            greedy(&mut table(), &prefix, 3, 5, None, &yes),
            Err(CaptionError::Cancelled)
        ));
    }
}
