//! `cortexlens caption --encoder E --pool P --decoder D (--voxel i,j,k | --mask M.nii.gz) --out
//! captions.tsv`: BrainSCUBA captions of encoder voxels, one TSV row per voxel.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use clap::Args;
use cortexlens_data::formats::load_volume;
use cortexlens_inference::brainscuba::{Stage, caption_voxels, captions_tsv};
use cortexlens_inference::caption::{Captioner, DecodeConfig};
use cortexlens_inference::encoder::Encoder;
use cortexlens_inference::encoder::file::load_encoder;
use cortexlens_inference::projection::{DEFAULT_TEMPERATURE, EmbeddingPool, ProjectionConfig};
use cortexlens_inference::{device, device_name};

use super::CliError;
use super::info::parse_ijk;

/// Arguments of `cortexlens caption`.
#[derive(Debug, Args)]
pub struct CaptionArgs {
    /// The voxel-wise encoder (`.safetensors`, from `cortexlens encoder import|fit`).
    #[arg(long)]
    pub encoder: PathBuf,
    /// The image-embedding pool (`.safetensors` with an f16 `embeddings` tensor `[M, D]`).
    #[arg(long)]
    pub pool: PathBuf,
    /// The decoder directory (`config.json`, `model.safetensors` or `coco_weights.pt`, `tokenizer.json`).
    #[arg(long)]
    pub decoder: PathBuf,
    /// Caption the encoder voxel at `i,j,k` of its reference grid; repeatable.
    #[arg(long, value_name = "I,J,K", value_parser = parse_ijk, required_unless_present = "mask")]
    pub voxel: Vec<[i64; 3]>,
    /// Caption every encoder voxel inside this volume (on the encoder's grid): its non-zero voxels,
    /// or with `--threshold`/`--label` the ones passing them.
    #[arg(long, conflicts_with = "voxel")]
    pub mask: Option<PathBuf>,
    /// With `--mask`: keep voxels with |value| ≥ this (a thresholded statistical map).
    #[arg(long, requires = "mask", allow_hyphen_values = true)]
    pub threshold: Option<f32>,
    /// With `--mask`: keep voxels whose value is this label.
    #[arg(long, requires = "mask", conflicts_with = "threshold", allow_hyphen_values = true)]
    pub label: Option<f32>,
    /// Output table (tab-separated, one row per voxel).
    #[arg(long)]
    pub out: PathBuf,
    /// Softmax temperature of the projection.
    #[arg(long, default_value_t = DEFAULT_TEMPERATURE)]
    pub temperature: f32,
    /// Most generated tokens per caption.
    #[arg(long, default_value_t = 67)]
    pub max_tokens: usize,
    /// Also list the indices of the `N` most similar pool images per voxel.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub top: usize,
}

pub(super) fn run(args: &CaptionArgs) -> Result<(), CliError> {
    let encoder = load_encoder(&args.encoder).map_err(CliError::bad_input)?;
    let voxels = selected_voxels(args, &encoder)?;
    let pool = EmbeddingPool::open(&args.pool).map_err(CliError::bad_input)?;
    let device = device();
    let captioner = Captioner::load(&args.decoder, &device).map_err(CliError::bad_input)?;
    eprintln!(
        "captioning {} voxels against {} pool images on {}",
        voxels.len(),
        pool.len(),
        device_name(&device)
    );
    let projection = ProjectionConfig {
        temperature: args.temperature,
        top_k: args.top,
        ..ProjectionConfig::default()
    };
    let decode = DecodeConfig {
        max_tokens: args.max_tokens,
        ..DecodeConfig::default()
    };
    let mut last = None;
    let captions = caption_voxels(
        &encoder,
        &voxels,
        &pool,
        &captioner,
        &projection,
        &decode,
        &AtomicBool::new(false),
        &mut |stage, done, total| {
            if last != Some(stage) || done == total {
                let what = match stage {
                    Stage::Projecting => "projecting onto the pool",
                    Stage::Captioning => "decoding captions",
                };
                eprintln!("{what}: {done}/{total}");
                last = Some(stage);
            }
        },
    )
    .map_err(CliError::bad_input)?;
    std::fs::write(&args.out, captions_tsv(&captions, args.top > 0))
        .map_err(|e| CliError::failure(format!("{}: {e}", args.out.display())))
}

/// The encoder voxels the arguments ask for.
fn selected_voxels(args: &CaptionArgs, encoder: &Encoder) -> Result<Vec<usize>, CliError> {
    let Some(mask_path) = &args.mask else {
        return args
            .voxel
            .iter()
            .map(|&ijk| {
                ijk.iter()
                    .all(|&c| (0..=u32::MAX as i64).contains(&c))
                    .then(|| encoder.find_voxel(ijk.map(|c| c as u32)))
                    .flatten()
                    .ok_or_else(|| {
                        CliError::bad_input(format!(
                            "voxel {},{},{} is not one of the encoder's {} voxels",
                            ijk[0],
                            ijk[1],
                            ijk[2],
                            encoder.voxel_count()
                        ))
                    })
            })
            .collect();
    };
    let mask = load_volume(mask_path, &mut |_| {}).map_err(CliError::bad_input)?;
    let grid = encoder.grid_shape();
    if mask.shape[..3] != grid {
        return Err(CliError::bad_input(format!(
            "{}: shape {:?} but the encoder's grid is {:?}",
            mask_path.display(),
            &mask.shape[..3],
            grid
        )));
    }
    let keep = |v: f32| match (args.label, args.threshold) {
        (Some(label), _) => v == label,
        (None, Some(threshold)) => v.abs() >= threshold,
        (None, None) => v != 0.0 && v.is_finite(),
    };
    let voxels: Vec<usize> = encoder
        .voxels()
        .iter()
        .enumerate()
        .filter(|(_, ijk)| {
            let [i, j, k] = ijk.map(|c| c as i64);
            mask.value_at([i, j, k], 0).is_some_and(keep)
        })
        .map(|(v, _)| v)
        .collect();
    if voxels.is_empty() {
        return Err(CliError::bad_input(format!(
            "{}: no encoder voxel is selected by the mask",
            mask_path.display()
        )));
    }
    Ok(voxels)
}
