//! Does coordinate-aware modulation (CAM) help a field fitted to a brain volume? The experiment of
//! issue 15 on the MNI152 T1 template (`assets/mni152_t1_1mm.nii.gz`): each configuration fitted
//! with batch 8192 for 1,000 steps from seeds 0, 1 and 2, then evaluated at every voxel.
//!
//! `cargo bench -p cortexlens-inference --bench cam_experiment` prints one line per fit as it ends
//! and then the table: per configuration, the parameter count, the PSNR over all voxels and over
//! the brain (voxels > 0) for each seed with their mean, and the seconds per step. Environment:
//! `CAM_BENCH_STEPS` (1000), `CAM_BENCH_BATCH` (8192), `CAM_BENCH_SEEDS` (`0,1,2`) and
//! `CAM_BENCH_ONLY` (configuration names, comma-separated) shorten it; `CAM_BENCH_SHARD=K/N` runs
//! every N-th (configuration, seed) pair from the K-th, so that a cluster's job array (SLURM
//! `--array=0-N-1`) splits it and the printed lines concatenate. A whole run is 27 fits of about a minute
//! and a half each on one core (release).
//!
//! Configurations (hash grids: 16 levels × 2 features, base resolution 16, growth 1.2030; dense
//! grids: 8 features; learning rate 1e-2; CAM grids at 10× unless named):
//! - the cause, with a hash table of 2^16 and an MLP [64, 64]: `hash16` (no CAM),
//!   `hash16-cam` (16³, normalised), `hash16-cam-lr1` and `hash16-cam-lr0` (grid learning-rate
//!   factor 1 and 0: with 0 the grids stay γ = 1, β = 0, which isolates the normalisation),
//!   `hash16-cam-nonorm` (16³, not normalised: CAM's NeRF variant);
//! - the compact setting CAM is meant for: `hash12-cam` (2^12, [64, 64], CAM 16³) against
//!   `hash12-128` (2^12, [128, 128]); `dense16-cam` (a 16³ × 8 dense grid, [64, 64], CAM 32³)
//!   against `dense16-128` (the same grid, [128, 128]).
//!
//! The positional-encoding MLP of the CAM paper's image setting is not run: cortexlens has no
//! frequency encoding.

#[path = "common/allocator.rs"]
mod allocator;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use cortexlens_data::{Loaded, load_path};
use cortexlens_inference::{CAM_LEARNING_RATE_FACTOR, EncodingConfig, FitConfig, device, device_name, fit};

#[path = "common/volume_psnr.rs"]
mod volume_psnr;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A hash grid of 2^`log2_table_size` entries per level.
fn hash(log2_table_size: u32) -> EncodingConfig {
    EncodingConfig::HashGrid {
        levels: 16,
        features: 2,
        log2_table_size,
        base_resolution: 16,
        per_level_scale: 1.2030,
    }
}

/// Every configuration of the experiment, by name.
fn configurations(steps: usize, batch: usize) -> Vec<(&'static str, FitConfig)> {
    let base = |encoding: EncodingConfig, width: usize, cam: Option<u32>| FitConfig {
        encoding,
        hidden: vec![width, width],
        cam: cam.is_some(),
        cam_resolution: [cam.unwrap_or(16); 3],
        cam_normalize: true,
        cam_learning_rate_factor: CAM_LEARNING_RATE_FACTOR,
        steps,
        batch,
        learning_rate: 1e-2,
        seed: 0,
    };
    let dense16 = || EncodingConfig::Dense {
        resolution: [16, 16, 16],
        features: 8,
    };
    vec![
        ("hash16", base(hash(16), 64, None)),
        ("hash16-cam", base(hash(16), 64, Some(16))),
        (
            "hash16-cam-lr1",
            FitConfig {
                cam_learning_rate_factor: 1.0,
                ..base(hash(16), 64, Some(16))
            },
        ),
        (
            "hash16-cam-lr0",
            FitConfig {
                cam_learning_rate_factor: 0.0,
                ..base(hash(16), 64, Some(16))
            },
        ),
        (
            "hash16-cam-nonorm",
            FitConfig {
                cam_normalize: false,
                ..base(hash(16), 64, Some(16))
            },
        ),
        ("hash12-cam", base(hash(12), 64, Some(16))),
        ("hash12-128", base(hash(12), 128, None)),
        ("dense16-cam", base(dense16(), 64, Some(32))),
        ("dense16-128", base(dense16(), 128, None)),
    ]
}

/// One fit's results.
struct Outcome {
    seed: u64,
    all: f32,
    brain: f32,
    seconds_per_step: f32,
}

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/mni152_t1_1mm.nii.gz");
    let Loaded::Volume(volume) = load_path(&path, &mut |_| {}).expect("load the MNI152 template") else {
        panic!("not a volume")
    };
    let steps = env_or("CAM_BENCH_STEPS", 1000);
    let batch = env_or("CAM_BENCH_BATCH", 8192);
    let seeds: Vec<u64> = std::env::var("CAM_BENCH_SEEDS")
        .unwrap_or_else(|_| "0,1,2".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let only = std::env::var("CAM_BENCH_ONLY").ok();
    let (shard, shards) = std::env::var("CAM_BENCH_SHARD")
        .ok()
        .and_then(|s| {
            let (k, n) = s.split_once('/')?;
            Some((k.parse().ok()?, n.parse().ok()?))
        })
        .filter(|&(k, n): &(usize, usize)| n > 0 && k < n)
        .unwrap_or((0, 1));
    let device = device();
    println!(
        "MNI152 {:?}; device {}; {steps} steps of {batch} voxels; seeds {seeds:?}; shard {shard}/{shards}",
        &volume.shape[..3],
        device_name(&device),
    );
    let configurations: Vec<_> = configurations(steps, batch)
        .into_iter()
        .filter(|(name, _)| only.as_ref().is_none_or(|o| o.split(',').any(|x| x == *name)))
        .collect();
    let mut table: Vec<(&str, usize, Vec<Outcome>)> = Vec::new();
    let mut pair = 0;
    for (name, config) in &configurations {
        let mut outcomes = Vec::new();
        for &seed in &seeds {
            pair += 1;
            if (pair - 1) % shards != shard {
                continue;
            }
            let config = FitConfig { seed, ..config.clone() };
            let started = Instant::now();
            let field = fit(&volume, 0, &config, &device, &AtomicBool::new(false), &mut |_| {}).expect("fit");
            let seconds_per_step = started.elapsed().as_secs_f32() / steps as f32;
            let psnr = volume_psnr::field_psnr(&volume, &field);
            println!(
                "{name}\tseed {seed}\t{} params\tall {:.2} dB\tbrain {:.2} dB\t{seconds_per_step:.3} s/step",
                config.parameter_count(),
                psnr.all,
                psnr.positive
            );
            outcomes.push(Outcome {
                seed,
                all: psnr.all,
                brain: psnr.positive,
                seconds_per_step,
            });
        }
        if !outcomes.is_empty() {
            table.push((name, config.parameter_count(), outcomes));
        }
    }
    println!();
    println!(
        "| configuration | parameters | PSNR all voxels (per seed; mean) | PSNR brain > 0 (per seed; mean) | s/step |"
    );
    println!("|---|---|---|---|---|");
    for (name, parameters, outcomes) in &table {
        let n = outcomes.len() as f32;
        let list = |f: fn(&Outcome) -> f32| {
            let values: Vec<String> = outcomes.iter().map(|o| format!("{:.2}", f(o))).collect();
            format!("{}; {:.2}", values.join(" / "), outcomes.iter().map(f).sum::<f32>() / n)
        };
        let seeds: Vec<String> = outcomes.iter().map(|o| o.seed.to_string()).collect();
        println!(
            "| {name} (seeds {}) | {parameters} | {} | {} | {:.3} |",
            seeds.join(","),
            list(|o| o.all),
            list(|o| o.brain),
            outcomes.iter().map(|o| o.seconds_per_step).sum::<f32>() / n
        );
    }
}
