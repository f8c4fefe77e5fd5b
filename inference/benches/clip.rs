//! CLIP ViT-B/32 image embeddings per second (the encoder's feature extractor): the OpenAI layout
//! with zero weights (the cost does not depend on the values), batches of 256 preprocessed 224²
//! images, on candle's device (`cortexlens_inference::device`: CUDA with the `cuda` feature).
//!
//! `cargo bench -p cortexlens-inference --bench clip` — `CLIP_BENCH_BATCH` (256) and
//! `CLIP_BENCH_RUNS` (2, after one warm-up batch) change the sizes.

#[path = "common/allocator.rs"]
mod allocator;

use std::time::Instant;

use candle_core::{DType, Tensor};
use candle_nn::VarBuilder;
use cortexlens_inference::clip::{Clip, vit_base_patch32};
use cortexlens_inference::{device, device_name};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let (batch, runs) = (env("CLIP_BENCH_BATCH", 256), env("CLIP_BENCH_RUNS", 2));
    let device = device();
    let clip = Clip::new(VarBuilder::zeros(DType::F32, &device), vit_base_patch32()).expect("model");
    let size = clip.image_size();
    let pixels = Tensor::randn(0f32, 1.0, (batch, 3, size, size), &device).expect("pixels");
    let embed = || {
        let out = clip.encode_images(&pixels).expect("encode");
        out.to_vec2::<f32>().expect("read back").len()
    };
    assert_eq!(embed(), batch, "warm-up");
    let start = Instant::now();
    for _ in 0..runs {
        embed();
    }
    let seconds = start.elapsed().as_secs_f64() / runs as f64;
    println!(
        "CLIP ViT-B/32 on {}: batch {batch}: {seconds:.2} s per batch, {:.1} images/s",
        device_name(&device),
        batch as f64 / seconds
    );
}
