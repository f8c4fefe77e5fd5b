//! Preferred-image synthesis: seconds per image in each mode, on candle's device (the CPU, or
//! CUDA with `--features cuda`).
//!
//! `cargo bench -p cortexlens-inference --bench synthesis` runs the tiny fixture models
//! (`tests/fixtures/synthesis_tiny`, 40² images): braindive (50 DPM-Solver++ steps with UNet
//! backprop), braindive at scale 0 (the same sampler unguided), fast (SD-Turbo, 4 steps, 2 gradient
//! steps on x̂₀ each), SD-Turbo at scale 0, and rerank (8 candidates × 4 steps) for region A of
//! `roi.nii.gz`, and prints for each the seconds per image, the process's peak resident memory and
//! the images' mean `roi_mean`, then the time ratios and how much of BrainDiVE's gain in `roi_mean`
//! over unguided images the fast mode reaches. `SYNTHESIS_BENCH_MODES=braindive,fast1,…` runs only
//! those rows (keys: braindive, unguided, fast1, fast4, turbo_unguided, rerank).
//!
//! `SYNTHESIS_BENCH_REAL=1` instead builds SD 2.1-base / SD-Turbo-shaped models (UNet 320–1280,
//! VAE 128–512, 1024-d conditioning of 77 tokens) and a LAION CLIP ViT-B/16 with zero weights (the
//! cost does not depend on the values) at `SYNTHESIS_BENCH_SIZE` (512) and times
//! `SYNTHESIS_BENCH_STEPS` (2) BrainDiVE steps, a 1-step and a 4-step fast image, and one unguided
//! step; f16 UNet/VAE on CUDA. `SYNTHESIS_BENCH_REPEATS` (2) images per mode after a warm-up.

#[path = "common/allocator.rs"]
mod allocator;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use cortexlens_inference::encoder::Encoder;
use cortexlens_inference::encoder::file::load_encoder;
use cortexlens_inference::encoder::select::MaskRule;
use cortexlens_inference::synthesis::clip_tower::VisionConfig;
use cortexlens_inference::synthesis::scheduler::ScheduleConfig;
use cortexlens_inference::synthesis::unet::UNetConfig;
use cortexlens_inference::synthesis::vae::VaeConfig;
use cortexlens_inference::synthesis::{SynthesisConfig, SynthesisMode, SynthesisModels, synthesize};
use cortexlens_inference::{DType, device, device_name};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

const SD21_UNET: &str = r#"{"attention_head_dim": [5, 10, 20, 20], "block_out_channels": [320, 640, 1280, 1280],
 "cross_attention_dim": 1024, "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
 "CrossAttnDownBlock2D", "DownBlock2D"], "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D",
 "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"], "layers_per_block": 2, "sample_size": 64,
 "use_linear_projection": true}"#;
const SD_VAE: &str = r#"{"block_out_channels": [128, 256, 512, 512], "layers_per_block": 2, "latent_channels": 4,
 "norm_num_groups": 32, "scaling_factor": 0.18215}"#;
const VIT_B16: &str = r#"{"vision_config": {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
 "num_attention_heads": 12, "image_size": 224, "patch_size": 16, "hidden_act": "gelu"}, "projection_dim": 512}"#;
const SD21_SCHEDULER: &str = r#"{"_class_name": "PNDMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
 "beta_start": 0.00085, "num_train_timesteps": 1000, "prediction_type": "epsilon", "steps_offset": 1}"#;

/// What one mode cost and scored.
struct Measured {
    /// Mean seconds per image after a warm-up.
    seconds: f64,
    /// Peak resident memory of the process while the mode ran (host memory; on CUDA the models
    /// live on the device), MiB.
    peak_mib: f64,
    /// Mean of the images' `roi_mean`.
    roi_mean: f32,
}

/// Peak resident set size since the last [`reset_peak_memory`], MiB (Linux; 0 elsewhere).
fn peak_memory_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
    kib.unwrap_or(0.0) / 1024.0
}

/// Restarts the kernel's peak-RSS count (`echo 5 > /proc/self/clear_refs`).
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn measure(
    models: &SynthesisModels,
    encoder: &Encoder,
    voxels: &[usize],
    config: &SynthesisConfig,
    repeats: usize,
) -> Measured {
    let never = AtomicBool::new(false);
    let once = |seed| {
        synthesize(models, encoder, voxels, config, seed, &never, &mut |_| {})
            .expect("synthesis")
            .roi_mean
    };
    reset_peak_memory();
    once(0);
    let start = Instant::now();
    let scores: f32 = (1..=repeats as u64).map(once).sum();
    Measured {
        seconds: start.elapsed().as_secs_f64() / repeats as f64,
        peak_mib: peak_memory_mib(),
        roi_mean: scores / repeats as f32,
    }
}

/// Region A of the fixtures' `roi.nii.gz` (label 1), as the app selects it.
fn fixture_region(root: &Path, encoder: &Encoder) -> Vec<usize> {
    let roi = match cortexlens_data::load_path(&root.join("roi.nii.gz"), &mut |_| {}).expect("roi") {
        cortexlens_data::Loaded::Volume(volume) => volume,
        _ => panic!("roi.nii.gz is a volume"),
    };
    encoder
        .voxels_in_mask(&roi, |v| MaskRule::Label(1.0).keeps(v))
        .expect("region A")
}

fn main() {
    let device = device();
    let repeats = env("SYNTHESIS_BENCH_REPEATS", 2);
    let real = std::env::var("SYNTHESIS_BENCH_REAL").is_ok_and(|v| v == "1");
    let chosen = std::env::var("SYNTHESIS_BENCH_MODES").unwrap_or_default();
    let wanted = |name: &str| chosen.is_empty() || chosen.split(',').any(|m| m.trim() == name);
    let (sd, turbo, encoder, voxels, size) = if real {
        let dtype = if device.is_cpu() { DType::F32 } else { DType::F16 };
        let clip = VisionConfig::from_hf_json(VIT_B16).expect("clip config");
        let make = |scheduler: &str| {
            SynthesisModels::zeros(
                UNetConfig::from_json(SD21_UNET).expect("unet config"),
                VaeConfig::from_json(SD_VAE).expect("vae config"),
                clip.clone(),
                ScheduleConfig::from_json(scheduler).expect("scheduler config"),
                77,
                &device,
                dtype,
            )
            .expect("models")
        };
        let turbo_scheduler = SD21_SCHEDULER
            .replace("PNDMScheduler", "EulerDiscreteScheduler")
            .replace("\"steps_offset\": 1", "\"timestep_spacing\": \"trailing\"");
        let encoder = Encoder::new(
            vec![0.01; 512 * 100],
            vec![0.0; 100],
            512,
            (0..100u32).map(|i| [i, 0, 0]).collect(),
            glam::DMat4::IDENTITY,
            [100, 1, 1],
            "laion/CLIP-ViT-B-16-laion2B-s34B-b88K",
            true,
        )
        .expect("encoder");
        (
            make(SD21_SCHEDULER),
            make(&turbo_scheduler),
            encoder,
            (0..8).collect::<Vec<usize>>(),
            env("SYNTHESIS_BENCH_SIZE", 512),
        )
    } else {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/synthesis_tiny");
        let load = |name: &str| SynthesisModels::load(&root.join(name), &root.join("clip"), &device).expect("models");
        let encoder = load_encoder(&root.join("encoder.safetensors")).expect("encoder");
        let voxels = fixture_region(&root, &encoder);
        (load("sd"), load("sd_turbo"), encoder, voxels, 40)
    };
    let config = |mode, steps: usize, scale: Option<f32>| {
        let defaults = SynthesisConfig::new(mode);
        SynthesisConfig {
            size,
            preview_every: 0,
            steps,
            scale: scale.unwrap_or(defaults.scale),
            ..defaults
        }
    };
    let braindive_steps = if real { env("SYNTHESIS_BENCH_STEPS", 2) } else { 50 };
    let runs = [
        (
            "braindive",
            format!("braindive, {braindive_steps} steps, scale 130"),
            &sd,
            config(SynthesisMode::BrainDive, braindive_steps, None),
        ),
        (
            "unguided",
            format!("unguided DPM-Solver++, {braindive_steps} steps"),
            &sd,
            config(SynthesisMode::BrainDive, braindive_steps, Some(0.0)),
        ),
        (
            "fast1",
            "fast, 1 step (2 gradient steps)".to_owned(),
            &turbo,
            config(SynthesisMode::Fast, 1, None),
        ),
        (
            "fast4",
            "fast, 4 steps (2 gradient steps each)".to_owned(),
            &turbo,
            config(SynthesisMode::Fast, 4, None),
        ),
        (
            "turbo_unguided",
            "unguided SD-Turbo, 4 steps".to_owned(),
            &turbo,
            config(SynthesisMode::Fast, 4, Some(0.0)),
        ),
        (
            "rerank",
            "rerank, 8 candidates x 4 steps".to_owned(),
            &turbo,
            config(SynthesisMode::Rerank, 4, None),
        ),
    ];
    let label = if real {
        "SD 2.1-base-sized, zero weights"
    } else {
        "tiny fixtures, region A"
    };
    println!(
        "synthesis on {} ({label}), {size}² images, {} voxels, mean of {repeats} after a warm-up:",
        device_name(&device),
        voxels.len()
    );
    println!(
        "  {:44} {:>12} {:>14} {:>9}",
        "", "s per image", "peak RSS MiB", "roi_mean"
    );
    let mut measured = std::collections::HashMap::new();
    for (key, name, models, config) in runs.iter().filter(|(key, ..)| wanted(key)) {
        let m = measure(models, &encoder, &voxels, config, repeats);
        println!("  {name:44} {:12.3} {:14.0} {:9.4}", m.seconds, m.peak_mib, m.roi_mean);
        measured.insert(*key, m);
    }
    let ratio = |a: &str, b: &str, what: &str| {
        if let (Some(a), Some(b)) = (measured.get(a), measured.get(b)) {
            println!("  {what}: {:.1}x", a.seconds / b.seconds);
        }
    };
    ratio("braindive", "unguided", "time braindive / unguided (guidance overhead)");
    ratio("braindive", "fast4", "time braindive / fast (4 steps)");
    ratio("braindive", "rerank", "time braindive / rerank");
    let gain = |guided: &str, unguided: &str| {
        measured
            .get(guided)
            .zip(measured.get(unguided))
            .map(|(g, u)| g.roi_mean - u.roi_mean)
    };
    if let (Some(braindive), Some(fast)) = (gain("braindive", "unguided"), gain("fast4", "turbo_unguided")) {
        println!(
            "  roi_mean gained over the unguided images of the same seeds: braindive {braindive:+.4}, fast {fast:+.4} ({:.0}% of braindive's)",
            100.0 * fast / braindive
        );
    }
    if let Some(m) = measured.get("braindive").filter(|_| real) {
        println!(
            "  per BrainDiVE step {:.2} s -> 50 steps {:.0} s per image",
            m.seconds / braindive_steps as f64,
            50.0 * m.seconds / braindive_steps as f64
        );
    }
}
