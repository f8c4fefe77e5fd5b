//! Short fits on a small synthetic volume: the PSNR rises above a stated bound with and without
//! CAM, the field comes back in the volume's units over its world box, and cancelling stops at once.
//!
//! Runs on `cortexlens_inference::device()`: the CPU, or CUDA in a `cuda` build on a machine with a
//! GPU (`tools/gpu/check.sh`).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use common::blob_volume;
use cortexlens_data::field::{FieldOutput, load_field, save_field};
use cortexlens_inference::{EncodingConfig, FitConfig, FitError, FitProgress, VALIDATE_EVERY, device, fit, psnr};

/// PSNR (dB) that 200 steps must exceed on the 20³ blob volume, CAM or not.
const PSNR_BOUND: f32 = 30.0;

fn small_config(cam: bool) -> FitConfig {
    FitConfig {
        encoding: EncodingConfig::HashGrid {
            levels: 6,
            features: 2,
            log2_table_size: 12,
            base_resolution: 4,
            per_level_scale: 1.5,
        },
        hidden: vec![32, 32],
        cam,
        cam_resolution: [6, 6, 6],
        cam_normalize: true,
        cam_learning_rate_factor: cortexlens_inference::CAM_LEARNING_RATE_FACTOR,
        steps: 200,
        batch: 512,
        learning_rate: 1e-2,
        seed: 1,
    }
}

/// PSNR of the returned field over every voxel, evaluated with the CPU reference.
fn reference_psnr(volume: &cortexlens_data::Volume, field: &cortexlens_data::field::NeuralField) -> f32 {
    let (lo, hi) = volume
        .data
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let [nx, ny, _, _] = volume.shape;
    let points: Vec<[f32; 3]> = (0..volume.frame_len())
        .map(|i| {
            let ijk = glam::DVec3::new((i % nx) as f64, (i / nx % ny) as f64, (i / (nx * ny)) as f64);
            volume.voxel_to_world(ijk).as_vec3().to_array()
        })
        .collect();
    let values = field.eval_batch(&points);
    let mse = values
        .iter()
        .zip(&volume.data)
        .map(|(v, &t)| (((v[0] - t) / (hi - lo)) as f64).powi(2))
        .sum::<f64>()
        / points.len() as f64;
    psnr(mse)
}

#[test]
fn short_fits_reach_the_psnr_bound_with_and_without_cam() {
    let volume = blob_volume(20);
    for cam in [false, true] {
        let config = small_config(cam);
        let mut reports: Vec<FitProgress> = Vec::new();
        let field = fit(&volume, 0, &config, &device(), &AtomicBool::new(false), &mut |p| {
            reports.push(p.clone())
        })
        .unwrap();
        let first = &reports[0];
        let last = reports.last().unwrap();
        let reference = reference_psnr(&volume, &field);
        println!(
            "cam={cam}: {} parameters, PSNR {:.2} dB after step 1, {:.2} dB after {} steps ({:.2} s); \
             eval over all voxels {:.2} dB",
            config.parameter_count(),
            first.psnr,
            last.psnr,
            last.step,
            last.elapsed.as_secs_f32(),
            reference
        );
        assert_eq!(reports.len(), config.steps);
        assert!(
            reports
                .iter()
                .enumerate()
                .all(|(i, p)| p.step == i + 1 && p.steps == config.steps)
        );
        assert!(last.psnr > PSNR_BOUND, "cam={cam}: {} dB", last.psnr);
        assert!(last.psnr > first.psnr + 10.0);
        // The validation sample is the whole 20³ volume, so the reference agrees closely.
        assert!((reference - last.psnr).abs() < 0.05, "{reference} vs {}", last.psnr);
        // PSNR is refreshed every VALIDATE_EVERY steps.
        assert_eq!(reports[VALIDATE_EVERY].psnr, reports[VALIDATE_EVERY + 1].psnr);
        let (lo, hi) = volume.world_bounds();
        assert_eq!(field.bounds_min, lo.as_vec3().to_array());
        assert_eq!(field.bounds_max, hi.as_vec3().to_array());
        let FieldOutput::Intensity { scale, offset } = field.output else {
            panic!("{:?}", field.output)
        };
        let (vlo, vhi) = volume
            .data
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        assert_eq!((scale, offset), (vhi - vlo, vlo));
        assert_eq!(field.cam.is_some(), cam);
        assert_eq!(field.parameter_count(), config.parameter_count());
        let occupancy = field.occupancy.as_ref().expect("fits save an occupancy grid");
        assert_eq!(occupancy.resolution, [20, 20, 20]);
        let empty = occupancy.occupied.iter().filter(|&&b| b == 0).count();
        assert!(empty > 1000 && empty < 7000, "{empty} empty cells");
        // Where the grid lets renderers skip, the fitted field is near the background.
        let mut skipped = 0;
        for (index, &value) in volume.data.iter().enumerate() {
            let ijk = glam::DVec3::new((index % 20) as f64, (index / 20 % 20) as f64, (index / 400) as f64);
            let world = volume.voxel_to_world(ijk).as_vec3().to_array();
            if !field.occupied(world) {
                skipped += 1;
                assert!(value - vlo < 0.01 * (vhi - vlo), "voxel {index} holds signal");
                let fitted = field.eval(world)[0];
                assert!(
                    (fitted - vlo).abs() < 0.1 * (vhi - vlo),
                    "voxel {index}: field {fitted}"
                );
            }
        }
        // The grid is rotated 20° in its axis-aligned world box: most empty cells lie outside it.
        assert!(skipped > 0, "some voxels lie in skipped cells");
    }
}

#[test]
fn cam_options_reach_the_field_and_a_zero_factor_freezes_the_grids() {
    let volume = blob_volume(12);
    let never = AtomicBool::new(false);
    let unnormalised = FitConfig {
        cam_normalize: false,
        steps: 100,
        ..small_config(true)
    };
    let field = fit(&volume, 0, &unnormalised, &device(), &never, &mut |_| {}).unwrap();
    let cam = field.cam.as_ref().unwrap();
    assert!(!cam.normalize);
    let grids = &cam.grids;
    assert!(
        grids.iter().any(|g| g.scale.iter().any(|&v| v != 1.0)),
        "the grids learn"
    );
    let frozen = FitConfig {
        cam_learning_rate_factor: 0.0,
        steps: 20,
        ..small_config(true)
    };
    let field = fit(&volume, 0, &frozen, &device(), &never, &mut |_| {}).unwrap();
    let cam = field.cam.as_ref().unwrap();
    assert!(cam.normalize);
    for grid in &cam.grids {
        assert!(grid.scale.iter().all(|&v| v == 1.0) && grid.shift.iter().all(|&v| v == 0.0));
    }
    let bad = FitConfig {
        cam_learning_rate_factor: -1.0,
        ..small_config(true)
    };
    assert!(fit(&volume, 0, &bad, &device(), &never, &mut |_| {}).is_err());
}

#[test]
fn cancelling_stops_before_the_next_step() {
    let volume = blob_volume(12);
    let cancel = AtomicBool::new(false);
    let mut steps = Vec::new();
    let result = fit(&volume, 0, &small_config(true), &device(), &cancel, &mut |p| {
        steps.push(p.step);
        if p.step == 3 {
            cancel.store(true, Ordering::Relaxed);
        }
    });
    assert!(matches!(result, Err(FitError::Cancelled)), "{result:?}");
    assert_eq!(steps, [1, 2, 3]);

    let cancelled = AtomicBool::new(true);
    let mut called = false;
    let result = fit(&volume, 0, &small_config(false), &device(), &cancelled, &mut |_| {
        called = true
    });
    assert!(matches!(result, Err(FitError::Cancelled)));
    assert!(!called);
}

#[test]
fn bad_requests_fail_with_their_error() {
    let volume = blob_volume(8);
    let never = AtomicBool::new(false);
    let result = fit(&volume, 1, &small_config(false), &device(), &never, &mut |_| {});
    assert!(matches!(result, Err(FitError::Frame { frame: 1, frames: 1 })));
    let mut config = small_config(false);
    config.batch = 0;
    let result = fit(&volume, 0, &config, &device(), &never, &mut |_| {});
    assert!(matches!(result, Err(FitError::Config(_))));
}

#[test]
fn the_same_seed_gives_the_same_field() {
    let volume = blob_volume(10);
    let mut config = small_config(true);
    config.steps = 5;
    let never = AtomicBool::new(false);
    let a = fit(&volume, 0, &config, &device(), &never, &mut |_| {}).unwrap();
    let b = fit(&volume, 0, &config, &device(), &never, &mut |_| {}).unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_fitted_field_saves_and_loads_as_nfield() {
    let volume = blob_volume(10);
    let mut config = small_config(true);
    config.steps = 3;
    let field = fit(&volume, 0, &config, &device(), &AtomicBool::new(false), &mut |_| {}).unwrap();
    let path = std::env::temp_dir().join(format!("cortexlens-inference-{}.nfield", std::process::id()));
    save_field(&path, &field).unwrap();
    let loaded = load_field(&path);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded.unwrap(), field);
}
