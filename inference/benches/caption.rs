//! Caption benchmark: BrainSCUBA decoding (ClipCap mapper + GPT-2, beam 5, 67 tokens) with
//! GPT-2-small-sized random weights, on the CPU (or CUDA when built with `--features cuda`).
//!
//! `cargo bench -p cortexlens-inference --bench caption`. There is no stop token, so every beam
//! runs the full length (random weights would otherwise stop at an arbitrary step). Environment:
//! `CAPTION_BENCH_LAYERS` (12), `CAPTION_BENCH_WIDTH` (768), `CAPTION_BENCH_HEADS` (12),
//! `CAPTION_BENCH_VOCAB` (50257), `CAPTION_BENCH_PREFIX` (10), `CAPTION_BENCH_PREFIX_DIM` (512),
//! `CAPTION_BENCH_BEAM` (5), `CAPTION_BENCH_TOKENS` (67), `CAPTION_BENCH_VOXELS` (1: prefixes decoded
//! in one batch), `CAPTION_BENCH_REPEATS` (3), `CAPTION_BENCH_NO_CACHE=1` (re-run the whole sequence
//! every step, as ClipCap does).

#[path = "common/allocator.rs"]
mod allocator;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use cortexlens_inference::caption::{ClipCap, DecodeConfig, DecoderConfig, Strategy, Weights, generate};
use cortexlens_inference::{DType, Device, Tensor, device, device_name};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Pseudo-random values in [−0.035, 0.035] (std 0.02, like GPT-2's init): `sin` of a scrambled index,
/// much cheaper than candle's `randn` in unoptimised builds.
fn pseudo_random(shape: Vec<usize>, seed: usize, device: &Device) -> candle_core::Result<Tensor> {
    let n: usize = shape.iter().product();
    let index = Tensor::arange(0u32, n as u32, device)?.to_dtype(DType::F32)?;
    ((index * 12.9898)? + seed as f64 * 78.233)?
        .sin()?
        .affine(0.02 * 3f64.sqrt(), 0.0)?
        .reshape(shape)
}

/// Random weights with ClipCap's key names: std-0.02 matrices, unit layer-norm gains, zero biases.
fn random_weights(config: &DecoderConfig, device: &Device) -> candle_core::Result<HashMap<String, Tensor>> {
    let g = &config.gpt2;
    let (e, inner) = (g.n_embd, g.n_inner);
    let mut shapes: Vec<(String, Vec<usize>)> = vec![
        (
            "clip_project.model.0.weight".into(),
            vec![config.mapper_hidden, config.prefix_dim],
        ),
        ("clip_project.model.0.bias".into(), vec![config.mapper_hidden]),
        (
            "clip_project.model.2.weight".into(),
            vec![e * config.prefix_length, config.mapper_hidden],
        ),
        ("clip_project.model.2.bias".into(), vec![e * config.prefix_length]),
        ("gpt.transformer.wte.weight".into(), vec![g.vocab_size, e]),
        ("gpt.transformer.wpe.weight".into(), vec![g.n_positions, e]),
        ("gpt.transformer.ln_f.weight".into(), vec![e]),
        ("gpt.transformer.ln_f.bias".into(), vec![e]),
    ];
    for i in 0..g.n_layer {
        let p = format!("gpt.transformer.h.{i}.");
        for (name, shape) in [
            ("ln_1.weight", vec![e]),
            ("ln_1.bias", vec![e]),
            ("attn.c_attn.weight", vec![e, 3 * e]),
            ("attn.c_attn.bias", vec![3 * e]),
            ("attn.c_proj.weight", vec![e, e]),
            ("attn.c_proj.bias", vec![e]),
            ("ln_2.weight", vec![e]),
            ("ln_2.bias", vec![e]),
            ("mlp.c_fc.weight", vec![e, inner]),
            ("mlp.c_fc.bias", vec![inner]),
            ("mlp.c_proj.weight", vec![inner, e]),
            ("mlp.c_proj.bias", vec![e]),
        ] {
            shapes.push((format!("{p}{name}"), shape));
        }
    }
    shapes
        .into_iter()
        .enumerate()
        .map(|(seed, (name, shape))| {
            let tensor = if shape.len() > 1 {
                pseudo_random(shape, seed, device)?
            } else if name.contains("ln_") {
                Tensor::ones(shape, DType::F32, device)?
            } else {
                Tensor::zeros(shape, DType::F32, device)?
            };
            Ok((name, tensor))
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let width = env_usize("CAPTION_BENCH_WIDTH", 768);
    let prefix = env_usize("CAPTION_BENCH_PREFIX", 10);
    let config = DecoderConfig::from_json(&format!(
        r#"{{"n_layer": {}, "n_embd": {width}, "n_head": {}, "n_positions": 1024, "vocab_size": {},
            "prefix_length": {prefix}, "prefix_dim": {}}}"#,
        env_usize("CAPTION_BENCH_LAYERS", 12),
        env_usize("CAPTION_BENCH_HEADS", 12),
        env_usize("CAPTION_BENCH_VOCAB", 50257),
        env_usize("CAPTION_BENCH_PREFIX_DIM", 512),
    ))?;
    let device = device();
    let weights = Weights::from_map(random_weights(&config, &device)?, Path::new("random"), &device);
    let model = ClipCap::load(&config, &weights)?;
    let voxels = env_usize("CAPTION_BENCH_VOXELS", 1);
    let settings = DecodeConfig {
        strategy: Strategy::Beam {
            width: env_usize("CAPTION_BENCH_BEAM", 5),
        },
        max_tokens: env_usize("CAPTION_BENCH_TOKENS", 67),
        use_cache: std::env::var("CAPTION_BENCH_NO_CACHE").is_err(),
        batch: voxels,
        ..DecodeConfig::default()
    };
    let prefixes = (pseudo_random(vec![voxels, config.prefix_dim], 7, &device)? * 50.0)?;
    let g = &config.gpt2;
    println!(
        "caption on {}: {} layers × {}, vocab {}, prefix {} (mapper {} → {} → {}), {:?}, {} tokens, {} voxel(s) per batch, cache {}",
        device_name(&device),
        g.n_layer,
        g.n_embd,
        g.vocab_size,
        config.prefix_length,
        config.prefix_dim,
        config.mapper_hidden,
        g.n_embd * config.prefix_length,
        settings.strategy,
        settings.max_tokens,
        voxels,
        settings.use_cache
    );
    for repeat in 0..env_usize("CAPTION_BENCH_REPEATS", 3) {
        let start = Instant::now();
        let out = generate(&model, &prefixes, &settings, None, &AtomicBool::new(false), &mut |_| {})?;
        device.synchronize()?;
        let seconds = start.elapsed().as_secs_f64();
        let tokens = out.first().and_then(|h| h.first()).map_or(0, |h| h.tokens.len());
        println!(
            "run {repeat}: {seconds:.3} s for {voxels} caption(s), {:.3} s per caption ({tokens} tokens)",
            seconds / voxels as f64
        );
    }
    Ok(())
}
