//! Projection benchmark: BrainSCUBA's `softmax_convex` of random voxel weights onto a generated
//! f16 embedding pool, streamed from a memory-mapped safetensors file in the temp folder, on the
//! CPU (or CUDA when built with `--features cuda`).
//!
//! `cargo bench -p cortexlens-inference --bench projection`. The size is the default
//! (2,000,000 × 512 pool, a 2 GB file; 10,000 voxels): about 4·10¹³ floating-point operations,
//! which is for a GPU — on 2 CPU cores use e.g. `PROJ_BENCH_POOL=100000 PROJ_BENCH_VOXELS=1000`.
//! Environment: `PROJ_BENCH_POOL`, `PROJ_BENCH_DIM`, `PROJ_BENCH_VOXELS`, `PROJ_BENCH_BLOCK` (pool
//! entries per block), `PROJ_BENCH_BATCH` (voxels per product), `PROJ_BENCH_TOPK`. The pool file is
//! kept between runs of the same size (`cortexlens-bench-pool-M-D.safetensors`) and its writing is
//! not timed; the time printed is one full projection after a warm-up on the first block.

#[path = "common/allocator.rs"]
mod allocator;

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use cortexlens_inference::projection::{EmbeddingPool, ProjectionConfig, project, write_pool};
use cortexlens_inference::{device, device_name};
use half::f16;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A deterministic xorshift generator giving roughly normal values (sum of uniforms).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }

    fn normal(&mut self) -> f32 {
        (0..4).map(|_| self.next()).sum::<f32>() - 2.0
    }
}

fn main() {
    let m = env("PROJ_BENCH_POOL", 2_000_000);
    let d = env("PROJ_BENCH_DIM", 512);
    let n = env("PROJ_BENCH_VOXELS", 10_000);
    let defaults = ProjectionConfig::default();
    let config = ProjectionConfig {
        block: env("PROJ_BENCH_BLOCK", defaults.block),
        voxel_batch: env("PROJ_BENCH_BATCH", defaults.voxel_batch),
        top_k: env("PROJ_BENCH_TOPK", 0),
        ..defaults
    };
    let path = std::env::temp_dir().join(format!("cortexlens-bench-pool-{m}-{d}.safetensors"));
    if EmbeddingPool::open(&path).map(|p| (p.len(), p.dim())).ok() != Some((m, d)) {
        let start = Instant::now();
        let mut rng = Rng(0x5EED);
        write_pool(&path, m, d, |_, rows| {
            rows.iter_mut().for_each(|v| *v = f16::from_f32(rng.normal()));
        })
        .expect("write the pool");
        eprintln!(
            "wrote {} ({m} × {d} f16) in {:.1} s",
            path.display(),
            start.elapsed().as_secs_f64()
        );
    }
    let pool = EmbeddingPool::open(&path).expect("open the pool");
    let mut rng = Rng(42);
    let weights: Vec<f32> = (0..n * d).map(|_| rng.normal()).collect();
    let device = device();
    let never = AtomicBool::new(false);
    // Warm-up: one block (allocations, CUDA context and kernels).
    let warm = ProjectionConfig {
        block: config.block.min(m),
        ..config.clone()
    };
    let first: Vec<f32> = weights[..d.min(weights.len())].to_vec();
    project(&first, &pool, &warm, &device, &never, &mut |_, _| {}).expect("warm-up");

    let start = Instant::now();
    let out = project(&weights, &pool, &config, &device, &never, &mut |_, _| {}).expect("project");
    let seconds = start.elapsed().as_secs_f64();
    let checksum: f64 = out.projected.iter().map(|&v| f64::from(v)).sum();
    println!(
        "projection on {}: {n} voxels × {m} pool entries × {d} dims in {seconds:.3} s \
         (block {}, voxel batch {}, top-k {}; checksum {checksum:.4})",
        device_name(&device),
        config.block,
        config.voxel_batch,
        config.top_k
    );
}
