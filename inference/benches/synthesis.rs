//! Preferred-image synthesis: seconds per image in each mode, on candle's device (the CPU, or
//! CUDA with `--features cuda`).
//!
//! `cargo bench -p cortexlens-inference --bench synthesis` runs the tiny fixture models
//! (`tests/fixtures/synthesis_tiny`, 40² images): braindive (50 DPM-Solver++ steps with UNet
//! backprop), braindive at scale 0 (the same sampler unguided), fast (SD-Turbo, 4 steps, 2 gradient
//! steps on x̂₀ each) and rerank (8 candidates × 4 steps), and prints the ratios.
//!
//! `SYNTHESIS_BENCH_REAL=1` instead builds SD 2.1-base / SD-Turbo-shaped models (UNet 320–1280,
//! VAE 128–512, 1024-d conditioning of 77 tokens) and a LAION CLIP ViT-B/16 with zero weights (the
//! cost does not depend on the values) at `SYNTHESIS_BENCH_SIZE` (512) and times
//! `SYNTHESIS_BENCH_STEPS` (2) BrainDiVE steps, a 1-step and a 4-step fast image, and one unguided
//! step; f16 UNet/VAE on CUDA. `SYNTHESIS_BENCH_REPEATS` (2) images per mode after a warm-up.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use cortexlens_inference::encoder::Encoder;
use cortexlens_inference::encoder::file::load_encoder;
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

/// Mean seconds per image of `repeats` runs after a warm-up.
fn time(
    models: &SynthesisModels,
    encoder: &Encoder,
    voxels: &[usize],
    config: &SynthesisConfig,
    repeats: usize,
) -> f64 {
    let never = AtomicBool::new(false);
    let once = |seed| {
        synthesize(models, encoder, voxels, config, seed, &never, &mut |_| {}).expect("synthesis");
    };
    once(0);
    let start = Instant::now();
    for seed in 1..=repeats as u64 {
        once(seed);
    }
    start.elapsed().as_secs_f64() / repeats as f64
}

fn main() {
    let device = device();
    let repeats = env("SYNTHESIS_BENCH_REPEATS", 2);
    let real = std::env::var("SYNTHESIS_BENCH_REAL").is_ok_and(|v| v == "1");
    let (sd, turbo, encoder, size) = if real {
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
            env("SYNTHESIS_BENCH_SIZE", 512),
        )
    } else {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/synthesis_tiny");
        let load = |name: &str| SynthesisModels::load(&root.join(name), &root.join("clip"), &device).expect("models");
        let encoder = load_encoder(&root.join("encoder.safetensors")).expect("encoder");
        (load("sd"), load("sd_turbo"), encoder, 40)
    };
    let voxels: Vec<usize> = (0..8).collect();
    let config = |mode, steps: Option<usize>| {
        let mut c = SynthesisConfig {
            size,
            preview_every: 0,
            ..SynthesisConfig::new(mode)
        };
        if let Some(steps) = steps {
            c.steps = steps;
        }
        c
    };
    let braindive_steps = if real { env("SYNTHESIS_BENCH_STEPS", 2) } else { 50 };
    let braindive = config(SynthesisMode::BrainDive, Some(braindive_steps));
    let unguided = SynthesisConfig {
        scale: 0.0,
        ..braindive.clone()
    };
    let fast1 = config(SynthesisMode::Fast, Some(1));
    let fast4 = config(SynthesisMode::Fast, None);
    let rerank = config(SynthesisMode::Rerank, None);
    let label = if real {
        "SD 2.1-base-sized, zero weights"
    } else {
        "tiny fixtures"
    };
    println!(
        "synthesis on {} ({label}), {size}² images, mean of {repeats} after a warm-up:",
        device_name(&device)
    );
    let t_bd = time(&sd, &encoder, &voxels, &braindive, repeats);
    let t_un = time(&sd, &encoder, &voxels, &unguided, repeats);
    let t_f1 = time(&turbo, &encoder, &voxels, &fast1, repeats);
    let t_f4 = time(&turbo, &encoder, &voxels, &fast4, repeats);
    let rows = [
        (format!("braindive, {braindive_steps} steps, scale 130"), t_bd),
        (format!("unguided DPM-Solver++, {braindive_steps} steps"), t_un),
        ("fast, 1 step (2 gradient steps)".to_owned(), t_f1),
        ("fast, 4 steps (2 gradient steps each)".to_owned(), t_f4),
    ];
    for (name, t) in &rows {
        println!("  {name:44} {t:9.3} s per image");
    }
    if !real {
        let t_rr = time(&turbo, &encoder, &voxels, &rerank, repeats);
        println!("  {:44} {t_rr:9.3} s per image", "rerank, 8 candidates x 4 steps");
        println!("  ratio braindive / rerank: {:.1}x", t_bd / t_rr);
    }
    println!(
        "  ratio braindive / unguided (guidance overhead per step): {:.1}x",
        t_bd / t_un
    );
    println!("  ratio braindive / fast (4 steps): {:.1}x", t_bd / t_f4);
    if real {
        println!(
            "  per BrainDiVE step {:.2} s -> 50 steps {:.0} s per image",
            t_bd / braindive_steps as f64,
            50.0 * t_bd / braindive_steps as f64
        );
    }
}
