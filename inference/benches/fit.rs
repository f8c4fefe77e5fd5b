//! Fitting benchmark: PSNR against steps and seconds for CAM and no CAM at nearly equal parameter
//! counts, on the MNI152 T1 template (`assets/mni152_t1_1mm.nii.gz`, 197 × 233 × 189 voxels), on
//! the CPU (or CUDA when built with `--features cuda`).
//!
//! `RAYON_NUM_THREADS=1 cargo bench -p cortexlens-inference --bench fit` (about 10 minutes on 2
//! cores; candle 0.11 takes its CPU thread count from `RAYON_NUM_THREADS`, not from its own
//! `CANDLE_NUM_THREADS`). Environment: `FIT_BENCH_STEPS` (default 400) and `FIT_BENCH_BATCH` (default 8192) shorten
//! or lengthen it, `FIT_BENCH_ONLY=cam,no-cam` picks runs. On a machine that is busy with other work,
//! candle's spin-waiting CPU thread pool makes 2 threads slower than 1 (2–3× measured while other
//! builds ran), hence one thread; on an idle machine leave it unset to use both cores.
//!
//! Configurations (both: 16-level hash grid, 2 features, 2^16 entries per level, base resolution 16,
//! growth 1.2030 so the finest level has about 256 vertices per axis, learning rate 1e-2, seed 0):
//! - `cam`: hidden `[64, 64]` with CAM grids of 16³ per hidden layer;
//! - `no-cam`: hidden `[128, 128]` (the wider MLP takes the CAM grids' parameters);
//! - `no-cam-64`: hidden `[64, 64]`, the same network as `cam` without modulation.
//!
//! The PSNR (dB, intensity range normalised to `[0, 1]`) is the fit's own validation PSNR on 2^15
//! fixed random voxels; after the last step the exported field is also evaluated with the CPU
//! reference (`NeuralField::eval`) at every voxel.

#[path = "common/allocator.rs"]
mod allocator;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use cortexlens_data::{Loaded, load_path};
use cortexlens_inference::{EncodingConfig, FitConfig, device, device_name, fit};

#[path = "common/volume_psnr.rs"]
mod volume_psnr;

/// One benchmarked configuration: its label, `(seconds, PSNR)` at each checkpoint, and the PSNR of
/// the exported field over every voxel.
type Run = (String, Vec<(f32, f32)>, f32);

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn config(hidden: usize, cam: bool, steps: usize, batch: usize) -> FitConfig {
    FitConfig {
        encoding: EncodingConfig::HashGrid {
            levels: 16,
            features: 2,
            log2_table_size: 16,
            base_resolution: 16,
            per_level_scale: 1.2030,
        },
        hidden: vec![hidden, hidden],
        cam,
        cam_resolution: [16, 16, 16],
        cam_normalize: true,
        cam_learning_rate_factor: cortexlens_inference::CAM_LEARNING_RATE_FACTOR,
        steps,
        batch,
        learning_rate: 1e-2,
        seed: 0,
    }
}

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/mni152_t1_1mm.nii.gz");
    let Loaded::Volume(volume) = load_path(&path, &mut |_| {}).expect("load the MNI152 template") else {
        panic!("not a volume")
    };
    let steps = env_usize("FIT_BENCH_STEPS", 400);
    let batch = env_usize("FIT_BENCH_BATCH", 8192);
    let device = device();
    println!(
        "MNI152 {:?}, {} voxels; device {}; {} CPU threads; {steps} steps of {batch} voxels",
        &volume.shape[..3],
        volume.frame_len(),
        device_name(&device),
        candle_core::utils::get_num_threads()
    );
    let checkpoints: Vec<usize> = [10, 25, 50, 100, 200, 300, 400, 600, 800, 1000, 1500, 2000, 3000, 4000]
        .into_iter()
        .filter(|&s| s < steps)
        .chain(std::iter::once(steps))
        .collect();
    let only = std::env::var("FIT_BENCH_ONLY").ok();
    let runs: Vec<(&str, FitConfig)> = [
        ("cam", config(64, true, steps, batch)),
        ("no-cam", config(128, false, steps, batch)),
        ("no-cam-64", config(64, false, steps, batch)),
    ]
    .into_iter()
    .filter(|(name, _)| only.as_ref().is_none_or(|o| o.split(',').any(|x| x == *name)))
    .collect();
    // Per run: name, (seconds, PSNR) at each checkpoint, PSNR over every voxel.
    let mut table: Vec<Run> = Vec::new();
    for (name, config) in &runs {
        let mut points = Vec::new();
        let never = AtomicBool::new(false);
        let started = Instant::now();
        let field = fit(&volume, 0, config, &device, &never, &mut |p| {
            if checkpoints.contains(&p.step) {
                points.push((p.elapsed.as_secs_f32(), p.psnr));
            }
        })
        .expect("fit");
        let fit_seconds = started.elapsed().as_secs_f32();
        let psnr = volume_psnr::field_psnr(&volume, &field);
        let full = psnr.all;
        println!(
            "{name}: {} parameters ({} in CAM grids), {fit_seconds:.1} s, final PSNR {:.2} dB (validation), \
             {full:.2} dB (every voxel), {:.2} dB (brain, voxels > 0)",
            config.parameter_count(),
            config.cam_parameter_count(),
            points.last().map_or(f32::NAN, |p| p.1),
            psnr.positive
        );
        table.push((format!("{name} ({} params)", config.parameter_count()), points, full));
    }
    println!();
    print!("{:>6}", "step");
    for (name, ..) in &table {
        print!(" | {name:>32}");
    }
    println!();
    for (row, step) in checkpoints.iter().enumerate() {
        print!("{step:>6}");
        for (_, points, _) in &table {
            let (seconds, db) = points[row];
            print!(" | {:>32}", format!("{db:6.2} dB at {seconds:7.1} s"));
        }
        println!();
    }
}
