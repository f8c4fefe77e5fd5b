//! `cortexlens synthesize --encoder E --roi ROI.nii.gz [--threshold T | --label L] --diffusion
//! DIR|REPO_ID --clip DIR|REPO_ID [--mode braindive|fast|rerank] [--steps N] [--scale S] [--seeds
//! 0-7 | --seeds 0,3,9] [--shard K/N] [--download] --out DIR`: preferred images of a region, saved
//! as `DIR/seed_00000.png`, … with `DIR/images.tsv` (seed, file, roi_mean), through the same
//! [`crate::synthesis`] path as the window.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::{Args, ValueEnum};
use cortexlens_data::formats::load_volume;
use cortexlens_inference::clip::HF_FILES;
use cortexlens_inference::encoder::file::load_encoder;
use cortexlens_inference::encoder::select::MaskRule;
use cortexlens_inference::hub::{Hub, HubError};
use cortexlens_inference::synthesis::{SynthesisConfig, SynthesisMode, SynthesisModels};
use cortexlens_inference::{device, device_name};
use indicatif::{ProgressBar, ProgressStyle};

use super::CliError;
use super::download::download_with_bar;
use crate::regions::Region;
use crate::synthesis::{DIFFUSION_FILES, Run, RunEvent, Shard, model_folder, parse_seeds};

/// Arguments of `cortexlens synthesize`.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct SynthesizeArgs {
    /// The voxel-wise encoder (`.safetensors`, from `cortexlens encoder import|fit`).
    #[arg(long)]
    pub encoder: PathBuf,
    /// The region: a volume on any grid whose non-zero voxels (or, with `--threshold`/`--label`,
    /// the ones passing them) select the encoder voxels whose centres they hold.
    #[arg(long)]
    pub roi: PathBuf,
    /// Keep the ROI's voxels with |value| ≥ this (a thresholded statistical map).
    #[arg(long, conflicts_with = "label", allow_hyphen_values = true)]
    pub threshold: Option<f32>,
    /// Keep the ROI's voxels whose value is this label (an atlas region).
    #[arg(long, allow_hyphen_values = true)]
    pub label: Option<f32>,
    /// Stable Diffusion: a diffusers folder (SD 2.1-base for braindive, SD-Turbo for fast) or a
    /// Hugging Face repository id in the cache (e.g. stabilityai/stable-diffusion-2-1-base).
    #[arg(long)]
    pub diffusion: String,
    /// The encoder's CLIP: a Hugging Face CLIP folder or repository id.
    #[arg(long)]
    pub clip: String,
    /// Download the repositories' missing files into the Hugging Face cache first.
    #[arg(long)]
    pub download: bool,
    /// braindive (gradient through the UNet, 50 DPM-Solver++ steps), fast (SD-Turbo, 1–4 steps,
    /// guidance on the clean estimate) or rerank (the best of unguided samples).
    #[arg(long, value_enum, default_value_t = Mode::Braindive)]
    pub mode: Mode,
    /// Denoising steps (default: the mode's).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Guidance scale (default: the mode's; 0 is unguided).
    #[arg(long)]
    pub scale: Option<f32>,
    /// Image side in pixels (default: the model's native size).
    #[arg(long)]
    pub size: Option<usize>,
    /// Seeds: `0-7`, `0,3,9` or a mix.
    #[arg(long, default_value = "0")]
    pub seeds: String,
    /// Run every N-th seed starting at the K-th (K from 0), for a cluster job array.
    #[arg(long, value_name = "K/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,
    /// The folder to write the images and `images.tsv` into (made if missing).
    #[arg(long)]
    pub out: PathBuf,
}

/// The modes `--mode` offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// BrainDiVE's guidance.
    Braindive,
    /// Interactive, SD-Turbo.
    Fast,
    /// No gradients.
    Rerank,
}

impl From<Mode> for SynthesisMode {
    fn from(mode: Mode) -> SynthesisMode {
        match mode {
            Mode::Braindive => SynthesisMode::BrainDive,
            Mode::Fast => SynthesisMode::Fast,
            Mode::Rerank => SynthesisMode::Rerank,
        }
    }
}

pub(super) fn run(args: &SynthesizeArgs) -> Result<(), CliError> {
    let seeds = parse_seeds(&args.seeds).map_err(CliError::bad_input)?;
    let seeds = args.shard.map_or(seeds.clone(), |shard| shard.seeds(&seeds));
    let encoder = load_encoder(&args.encoder).map_err(CliError::bad_input)?;
    let roi = load_volume(&args.roi, &mut |_| {}).map_err(CliError::bad_input)?;
    let region = Region::Roi {
        name: roi.name.clone(),
        volume: Arc::new(roi),
        rule: MaskRule::from_options(args.label, args.threshold),
    };
    let voxels = region.encoder_voxels(&encoder).map_err(CliError::bad_input)?;
    let backbone = encoder.backbone();
    if !backbone.is_empty() && !std::path::Path::new(&args.clip).is_dir() && args.clip != backbone {
        eprintln!(
            "warning: the encoder was fitted on {backbone}'s features; guiding with {} instead",
            args.clip
        );
    }
    let hub = Hub::from_env().ok();
    let diffusion = folder(hub.as_ref(), &args.diffusion, &DIFFUSION_FILES, args.download)?;
    let clip = folder(hub.as_ref(), &args.clip, &HF_FILES, args.download)?;
    let device = device();
    let models = SynthesisModels::load(&diffusion, &clip, &device).map_err(CliError::bad_input)?;
    let mut config = SynthesisConfig::new(args.mode.into());
    config.size = args.size.unwrap_or(models.native_size());
    config.steps = args.steps.unwrap_or(config.steps);
    config.scale = args.scale.unwrap_or(config.scale);
    std::fs::create_dir_all(&args.out).map_err(|e| CliError::failure(format!("{}: {e}", args.out.display())))?;
    eprintln!(
        "synthesizing {} images for {} encoder voxels of {} on {} ({:?}, {} steps, scale {})",
        seeds.len(),
        voxels.len(),
        region.describe(),
        device_name(&device),
        config.mode,
        config.steps,
        config.scale
    );
    let bar = ProgressBar::new(config.steps as u64).with_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} steps {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let run = Run {
        models: &models,
        encoder: &encoder,
        voxels: &voxels,
        config: &config,
        unguided: false,
    };
    let rows = run
        .images(
            &seeds,
            Some(&args.out),
            &AtomicBool::new(false),
            &mut |event| match event {
                RunEvent::Step {
                    seed,
                    index,
                    count,
                    progress,
                } => {
                    bar.set_message(format!("seed {seed} ({}/{count})", index + 1));
                    bar.set_length(progress.steps as u64);
                    bar.set_position(progress.step as u64);
                }
                RunEvent::Image { row, .. } => {
                    bar.println(format!("{}: roi_mean {:.4}", row.file.display(), row.roi_mean));
                    bar.reset();
                }
            },
        )
        .map_err(CliError::failure)?;
    bar.finish_and_clear();
    eprintln!(
        "wrote {} images and {}",
        rows.len(),
        args.out.join("images.tsv").display()
    );
    Ok(())
}

/// A model's folder, downloading its missing files first when asked.
fn folder(hub: Option<&Hub>, spec: &str, files: &[&str], download: bool) -> Result<PathBuf, CliError> {
    if !download || std::path::Path::new(spec).is_dir() {
        return model_folder(hub, spec, files).map_err(CliError::bad_input);
    }
    let hub = hub.ok_or_else(|| CliError::bad_input(HubError::NoCache))?;
    download_with_bar(hub, spec, files)
}
