//! `cortexlens caption --encoder E --pool P --decoder D (--voxel i,j,k | --mask M.nii.gz |
//! --region LABEL --surface MESH) --out captions.tsv`: BrainSCUBA captions of encoder voxels, one
//! TSV row per voxel, through the same [`crate::captioning`] path as the window (a label is opened
//! on its mesh by the window's open step).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Args;
use cortexlens_data::formats::load_volume;
use cortexlens_inference::brainscuba::{Stage, captions_tsv};
use cortexlens_inference::projection::DEFAULT_TEMPERATURE;
use cortexlens_inference::{device, device_name};

use super::CliError;
use super::info::parse_ijk;
use cortexlens_inference::encoder::select::MaskRule;

use crate::captioning::{CaptionModels, CaptionSettings, ModelPaths, caption};
use crate::loader::read_file;
use crate::open::{Added, open};
use crate::regions::Region;
use crate::viewer::Viewer;

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
    #[arg(long, value_name = "I,J,K", value_parser = parse_ijk, required_unless_present_any = ["mask", "region"])]
    pub voxel: Vec<[i64; 3]>,
    /// Caption every encoder voxel inside this volume (on the encoder's grid): its non-zero voxels,
    /// or with `--threshold`/`--label` the ones passing them.
    #[arg(long, conflicts_with = "voxel")]
    pub mask: Option<PathBuf>,
    /// Caption every encoder voxel at a vertex of this FreeSurfer label (`lh.V1.label`), placed on
    /// the `--surface` meshes as the window places it (each voxel once).
    #[arg(long, requires = "surface", conflicts_with_all = ["voxel", "mask"])]
    pub region: Option<PathBuf>,
    /// With `--region`: the mesh(es) the label's vertices lie on (e.g. `lh.pial`); repeatable.
    #[arg(long, requires = "region")]
    pub surface: Vec<PathBuf>,
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

/// The label at `label` opened on the meshes `surfaces` (as the window opens them), as a target.
fn region_target(label: &Path, surfaces: &[PathBuf]) -> Result<Region, CliError> {
    let mut viewer = Viewer::default();
    let mut added = None;
    for path in surfaces.iter().map(PathBuf::as_path).chain([label]) {
        let contents = read_file(path, &mut |_| {}).map_err(CliError::bad_input)?;
        let opened = open(&mut viewer, path, contents).map_err(CliError::bad_input)?;
        for warning in &opened.warnings {
            eprintln!("warning: {warning}");
        }
        added = Some(opened.added);
    }
    let Some(Added::Region(id)) = added else {
        return Err(CliError::bad_input(format!(
            "{}: --region takes a FreeSurfer .label file",
            label.display()
        )));
    };
    let region = viewer.surfaces.region(id).map(|r| r.name.clone());
    let points = viewer.surfaces.region_points(id);
    match (region, points) {
        (Some(name), Some(points)) => Ok(Region::Surface { name, points }),
        _ => Err(CliError::failure("the region was lost after opening it")),
    }
}

pub(super) fn run(args: &CaptionArgs) -> Result<(), CliError> {
    let paths = ModelPaths {
        encoder: Some(args.encoder.clone()),
        pool: Some(args.pool.clone()),
        decoder: Some(args.decoder.clone()),
        images: None,
    };
    let target = match (&args.mask, &args.region) {
        (Some(mask), _) => Region::Mask {
            volume: Arc::new(load_volume(mask, &mut |_| {}).map_err(CliError::bad_input)?),
            rule: MaskRule::from_options(args.label, args.threshold),
        },
        (None, Some(label)) => region_target(label, &args.surface)?,
        (None, None) => Region::Voxels(args.voxel.clone()),
    };
    let models = CaptionModels::load(&paths).map_err(CliError::bad_input)?;
    let voxels = target
        .encoder_voxels(&models.encoder)
        .map_err(CliError::bad_input)?
        .len();
    eprintln!(
        "captioning {voxels} voxels against {} pool images on {}",
        models.pool.len(),
        device_name(&device())
    );
    let mut settings = CaptionSettings::default();
    settings.projection.temperature = args.temperature;
    settings.projection.top_k = args.top;
    settings.decode.max_tokens = args.max_tokens;
    let mut last = None;
    let outcome = caption(
        &models,
        target,
        &settings,
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
    std::fs::write(&args.out, captions_tsv(&outcome.captions, args.top > 0))
        .map_err(|e| CliError::failure(format!("{}: {e}", args.out.display())))
}
