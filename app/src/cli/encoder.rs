//! `cortexlens encoder import|fit`: voxel-wise encoders from BrainSCUBA/BrainDiVE checkpoints or
//! fitted by ridge regression on CLIP image embeddings.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::{Args, Subcommand};
use cortexlens_data::formats::load_volume;
use cortexlens_inference::clip::HF_FILES;
use cortexlens_inference::encoder::VoxelOrder;
use cortexlens_inference::encoder::file::save_encoder;
use cortexlens_inference::encoder::fit::EncoderFitConfig;
use cortexlens_inference::encoder::import::{BRAINSCUBA_BACKBONE, import_checkpoint};
use cortexlens_inference::hub::Hub;
use cortexlens_inference::{device, device_name};

use super::CliError;
use super::download::download_with_bar;
use crate::encoder_fitting::{EncoderFitRequest, ResponsesSource, clip_folder, fit_and_save};

/// Arguments of `cortexlens encoder`.
#[derive(Debug, Args)]
pub struct EncoderArgs {
    #[command(subcommand)]
    command: EncoderCommand,
}

#[derive(Debug, Subcommand)]
enum EncoderCommand {
    /// Convert a BrainSCUBA/BrainDiVE PyTorch checkpoint and its voxel mask to an encoder file.
    Import(ImportArgs),
    /// Fit an encoder: CLIP embeddings of the stimuli, ridge with per-voxel cross-validated penalty.
    Fit(FitEncoderArgs),
}

/// Arguments of `cortexlens encoder import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The `.chkpt`/`.pt` file (`linear.*` or `final_*_higher.*` weights).
    pub checkpoint: PathBuf,
    /// The mask volume whose non-zero voxels are the weight rows.
    #[arg(long)]
    pub mask: PathBuf,
    /// Output encoder (`.safetensors`).
    #[arg(long)]
    pub out: PathBuf,
    /// The entry of the pickled dict holding the state dict ("" for a bare state dict).
    #[arg(long, default_value = "network")]
    pub key: String,
    /// Order of the mask's voxels: `c` (k fastest, NumPy's `np.where` on an [x, y, z] array, as
    /// BrainSCUBA/BrainDiVE built their voxel lists) or `f` (i fastest, NIfTI order).
    #[arg(long, default_value = "c", value_parser = parse_order)]
    pub order: VoxelOrder,
    /// The feature extractor's name, stored in the file.
    #[arg(long, default_value = BRAINSCUBA_BACKBONE)]
    pub backbone: String,
}

/// Arguments of `cortexlens encoder fit`.
#[derive(Debug, Args)]
pub struct FitEncoderArgs {
    /// Responses: a 4D volume with one frame per stimulus, or a `.tsv` (one row per stimulus).
    #[arg(long)]
    pub responses: PathBuf,
    /// The stimulus images, one path per line (first column), in the order of the responses.
    #[arg(long)]
    pub stimuli: PathBuf,
    /// CLIP: a folder with Hugging Face's `config.json` and `model.safetensors`, or a repository id
    /// (e.g. `openai/clip-vit-base-patch32`) looked up in the Hugging Face cache.
    #[arg(long)]
    pub clip: String,
    /// Download the `--clip` repository's files into the Hugging Face cache when they are missing.
    #[arg(long)]
    pub download: bool,
    /// Output encoder (`.safetensors`).
    #[arg(long)]
    pub out: PathBuf,
    /// Voxels to fit (non-zero voxels, i fastest); for a TSV, the grid of its columns.
    #[arg(long)]
    pub mask: Option<PathBuf>,
    /// Write the held-out R² map here (NIfTI).
    #[arg(long)]
    pub r2: Option<PathBuf>,
    /// Write the held-out Pearson r map here (NIfTI).
    #[arg(long)]
    pub pearson: Option<PathBuf>,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Fraction of the stimuli (the last ones) held out for R² and r.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Images per CLIP batch.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// The backbone name stored in the file.
    #[arg(long, default_value = BRAINSCUBA_BACKBONE)]
    pub backbone: String,
}

fn parse_order(text: &str) -> Result<VoxelOrder, String> {
    text.parse()
}

pub(super) fn run(args: &EncoderArgs) -> Result<(), CliError> {
    match &args.command {
        EncoderCommand::Import(args) => import(args),
        EncoderCommand::Fit(args) => fit(args),
    }
}

fn import(args: &ImportArgs) -> Result<(), CliError> {
    let key = (!args.key.is_empty()).then_some(args.key.as_str());
    let encoder = import_checkpoint(&args.checkpoint, key, &args.mask, args.order, &args.backbone)
        .map_err(CliError::bad_input)?;
    save_encoder(&args.out, &encoder).map_err(CliError::bad_input)?;
    eprintln!(
        "saved {} ({} voxels × {} features, grid {:?})",
        args.out.display(),
        encoder.voxel_count(),
        encoder.dim(),
        encoder.grid_shape()
    );
    Ok(())
}

fn fit(args: &FitEncoderArgs) -> Result<(), CliError> {
    let mask = match &args.mask {
        Some(path) => Some(Arc::new(load_volume(path, &mut |_| {}).map_err(CliError::bad_input)?)),
        None => None,
    };
    let is_tsv = args
        .responses
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv") || e.eq_ignore_ascii_case("txt"));
    let responses = if is_tsv {
        ResponsesSource::Table(args.responses.clone())
    } else {
        ResponsesSource::Volume(Arc::new(
            load_volume(&args.responses, &mut |_| {}).map_err(CliError::bad_input)?,
        ))
    };
    let mut config = EncoderFitConfig {
        batch: args.batch,
        backbone: args.backbone.clone(),
        ..EncoderFitConfig::default()
    };
    config.ridge.folds = args.folds;
    config.ridge.test_fraction = args.test_fraction;
    let request = EncoderFitRequest {
        responses,
        mask,
        stimuli: args.stimuli.clone(),
        clip: clip_dir(&args.clip, args.download)?,
        config,
        out: args.out.clone(),
        r2: args.r2.clone(),
        pearson: args.pearson.clone(),
    };
    eprintln!("fitting with CLIP on {}", device_name(&device()));
    let mut next = 0;
    let fit = fit_and_save(&request, &AtomicBool::new(false), &mut |done, total| {
        if done >= next || done == total {
            eprintln!("embedded {done}/{total} images");
            next = done + (total / 10).max(1);
        }
    })
    .map_err(CliError::bad_input)?;
    eprintln!(
        "saved {} ({} voxels, median held-out R² {:.3})",
        fit.encoder.display(),
        fit.voxels,
        fit.median_r2
    );
    Ok(())
}

/// CLIP's folder: `spec` itself, or a repository's snapshot folder in the Hugging Face cache, its
/// missing files first downloaded (with a progress bar on a terminal) when `download`.
fn clip_dir(spec: &str, download: bool) -> Result<PathBuf, CliError> {
    let hub = Hub::from_env().map_err(CliError::bad_input)?;
    if !download {
        return clip_folder(Some(&hub), spec).map_err(CliError::bad_input);
    }
    download_with_bar(&hub, spec, &HF_FILES)
}
