//! `cortexlens fit VOLUME --out brain.nfield [--steps N] [--cam | --no-cam] [--no-cam-norm]
//! [--cam-lr-factor F] [--encoding hash|dense]`: fit a neural field to a volume.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use clap::{Args, ValueEnum};
use cortexlens_inference::{FitConfig, device, device_name, fit};

use super::CliError;

/// Arguments of `cortexlens fit`.
#[derive(Debug, Args)]
pub struct FitArgs {
    /// The volume to fit.
    pub volume: PathBuf,
    /// Output `.nfield` scene.
    #[arg(long)]
    pub out: PathBuf,
    /// Optimisation steps.
    #[arg(long)]
    pub steps: Option<usize>,
    /// Voxels sampled per step.
    #[arg(long)]
    pub batch: Option<usize>,
    /// With coordinate-aware modulation (16³ grids per hidden layer). Off by default: on MNI152 it
    /// lost to the plain hash-grid fit on every seed (BENCHMARKS.md, `cam_experiment`).
    #[arg(long, conflicts_with = "no_cam")]
    pub cam: bool,
    /// Without coordinate-aware modulation (the default; kept for scripts that say so).
    #[arg(long)]
    pub no_cam: bool,
    /// CAM without normalising each layer's outputs first (γ·h + β, CAM's NeRF variant).
    #[arg(long)]
    pub no_cam_norm: bool,
    /// The CAM grids' learning rate as a multiple of the network's (default 10, CAM's code; 0
    /// freezes them).
    #[arg(long)]
    pub cam_lr_factor: Option<f64>,
    /// The input encoding: a multiresolution hash grid or one dense grid (equal parameter counts).
    #[arg(long, value_enum, default_value_t = Encoding::Hash)]
    pub encoding: Encoding,
    /// Frame of a 4D volume.
    #[arg(long, default_value_t = 0)]
    pub frame: usize,
}

/// The encodings `--encoding` offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Encoding {
    /// instant-ngp's multiresolution hash grid ([`FitConfig::default_hash`]).
    Hash,
    /// One dense feature grid ([`FitConfig::default_dense`]).
    Dense,
}

pub(super) fn run(args: &FitArgs) -> Result<(), CliError> {
    let volume = super::load_volume_frame(&args.volume, args.frame)?;
    let mut config = match args.encoding {
        Encoding::Hash => FitConfig::default_hash(args.cam),
        Encoding::Dense => FitConfig::default_dense(args.cam),
    };
    if let Some(steps) = args.steps {
        config.steps = steps;
    }
    if let Some(batch) = args.batch {
        config.batch = batch;
    }
    config.cam_normalize = !args.no_cam_norm;
    if let Some(factor) = args.cam_lr_factor {
        config.cam_learning_rate_factor = factor;
    }
    let device = device();
    eprintln!(
        "fitting {} on {} ({:?} encoding, {} parameters, {} steps, CAM {})",
        volume.name,
        device_name(&device),
        args.encoding,
        config.parameter_count(),
        config.steps,
        if !config.cam {
            "off".to_owned()
        } else {
            format!(
                "on, {}normalised, grids at {}× the learning rate",
                if config.cam_normalize { "" } else { "not " },
                config.cam_learning_rate_factor
            )
        }
    );
    let every = (config.steps / 10).max(1);
    let mut last_psnr = f32::NAN;
    let field = fit(
        &volume,
        args.frame,
        &config,
        &device,
        &AtomicBool::new(false),
        &mut |p| {
            last_psnr = p.psnr;
            if p.step % every == 0 || p.step == p.steps {
                eprintln!(
                    "step {:>6}/{}  PSNR {:6.2} dB  {:.1} s",
                    p.step,
                    p.steps,
                    p.psnr,
                    p.elapsed.as_secs_f64()
                );
            }
        },
    )
    .map_err(CliError::failure)?;
    cortexlens_data::field::save_field(&args.out, &field).map_err(CliError::bad_input)?;
    eprintln!("saved {} (PSNR {last_psnr:.2} dB)", args.out.display());
    Ok(())
}
