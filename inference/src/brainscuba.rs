//! BrainSCUBA end to end: each voxel's encoder weight vector is projected onto a pool of natural-image
//! embeddings ([`crate::projection::project`], `softmax_convex`) and the projected vector is decoded
//! into a sentence by ClipCap + GPT-2 ([`Captioner`]).

use std::sync::atomic::AtomicBool;

use candle_core::Tensor;
use glam::DVec3;

use crate::caption::{CaptionError, Captioner, DecodeConfig};
use crate::encoder::Encoder;
use crate::projection::{EmbeddingPool, ProjectionConfig, ProjectionError, project};

/// The caption of one encoder voxel.
#[derive(Clone, Debug, PartialEq)]
pub struct VoxelCaption {
    /// Index of the voxel in the encoder.
    pub voxel: usize,
    /// Its voxel index on the encoder's reference grid.
    pub ijk: [u32; 3],
    /// Its centre in world millimetres (the grid's affine).
    pub world_mm: [f64; 3],
    /// The decoded sentence.
    pub caption: String,
    /// The pool entries most similar to the voxel's weights, best first, with their cosine
    /// similarity (as many as [`ProjectionConfig::top_k`]).
    pub top: Vec<(usize, f32)>,
}

/// Which stage a [`caption_voxels`] progress report belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Streaming the pool: `done` of `total` blocks.
    Projecting,
    /// Decoding: `done` of `total` voxels.
    Captioning,
}

/// Why captions could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BrainScubaError {
    /// The encoder, pool and decoder do not fit together, or no voxel was asked for.
    #[error("{0}")]
    Mismatch(String),
    /// Projecting onto the pool failed (or was cancelled).
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    /// Decoding failed (or was cancelled).
    #[error(transparent)]
    Caption(#[from] CaptionError),
    /// An error from candle.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
}

/// The captions as a tab-separated table: a header, then one row per caption with
/// `voxel i j k x_mm y_mm z_mm caption`, plus `top_images` (comma-separated pool indices) when
/// `with_top`. Control characters in captions become spaces.
pub fn captions_tsv(captions: &[VoxelCaption], with_top: bool) -> String {
    let mut out = String::from("voxel\ti\tj\tk\tx_mm\ty_mm\tz_mm\tcaption");
    out.push_str(if with_top { "\ttop_images\n" } else { "\n" });
    for c in captions {
        let text: String = c
            .caption
            .chars()
            .map(|ch| if ch.is_control() { ' ' } else { ch })
            .collect();
        let [x, y, z] = c.world_mm;
        let [i, j, k] = c.ijk;
        out.push_str(&format!(
            "{}\t{i}\t{j}\t{k}\t{x:.2}\t{y:.2}\t{z:.2}\t{}",
            c.voxel,
            text.trim()
        ));
        if with_top {
            let top: Vec<String> = c.top.iter().map(|(index, _)| index.to_string()).collect();
            out.push('\t');
            out.push_str(&top.join(","));
        }
        out.push('\n');
    }
    out
}

/// Captions of the encoder voxels `voxels` (indices into `encoder`), on `captioner`'s device.
/// `progress(stage, done, total)` reports both stages; `cancel` is read between blocks and steps.
#[allow(clippy::too_many_arguments)]
pub fn caption_voxels(
    encoder: &Encoder,
    voxels: &[usize],
    pool: &EmbeddingPool,
    captioner: &Captioner,
    projection: &ProjectionConfig,
    decode: &DecodeConfig,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Stage, usize, usize),
) -> Result<Vec<VoxelCaption>, BrainScubaError> {
    let dims = (encoder.dim(), pool.dim(), captioner.config().prefix_dim);
    if dims.0 != dims.1 || dims.0 != dims.2 {
        return Err(BrainScubaError::Mismatch(format!(
            "the encoder's features have {} values, the pool's embeddings {} and the decoder's prefix {}",
            dims.0, dims.1, dims.2
        )));
    }
    if voxels.is_empty() {
        return Err(BrainScubaError::Mismatch("no voxel to caption".into()));
    }
    if let Some(&bad) = voxels.iter().find(|&&v| v >= encoder.voxel_count()) {
        return Err(BrainScubaError::Mismatch(format!(
            "voxel {bad} but the encoder has {}",
            encoder.voxel_count()
        )));
    }
    let weights: Vec<f32> = voxels
        .iter()
        .flat_map(|&v| encoder.voxel_weight(v).iter().copied())
        .collect();
    let device = captioner.device();
    let projected = project(&weights, pool, projection, device, cancel, &mut |done, total| {
        progress(Stage::Projecting, done, total)
    })?;
    let prefixes = Tensor::from_slice(&projected.projected, (voxels.len(), dims.0), device)?;
    let captions = captioner.caption(&prefixes, decode, cancel, &mut |p| {
        progress(Stage::Captioning, p.done, p.total)
    })?;
    let affine = encoder.grid_affine();
    Ok(voxels
        .iter()
        .zip(captions)
        .enumerate()
        .map(|(row, (&voxel, caption))| {
            let ijk = encoder.voxels()[voxel];
            let world = affine.transform_point3(DVec3::from_array(ijk.map(f64::from)));
            VoxelCaption {
                voxel,
                ijk,
                world_mm: world.to_array(),
                caption,
                top: projected.top.get(row).cloned().unwrap_or_default(),
            }
        })
        .collect())
}
