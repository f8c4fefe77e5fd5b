//! Fitting an encoder from measured responses and the stimulus images.
//!
//! Responses come from a 4D volume (one frame per stimulus) or a TSV table (one row per stimulus,
//! one column per voxel); the stimuli from a TSV listing image paths in the same order. The images
//! go through CLIP ([`embed_images`], unit-normalised image embeddings), then [`fit_ridge`]; the
//! held-out R² and Pearson r come back as volumes on the reference grid, NaN outside the voxels.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use cortexlens_data::Volume;
use glam::DMat4;

use super::import::BRAINSCUBA_BACKBONE;
use super::ridge::{RidgeConfig, fit_ridge};
use super::{Encoder, EncoderError, VoxelOrder, mask_voxels};
use crate::FileError;
use crate::clip::preprocess::{batch_tensor, load_image};
use crate::clip::{Clip, unit_normalize};

/// Responses `[S, N]` of voxels on a reference grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Responses {
    /// Values, row-major: stimulus after stimulus.
    pub values: Vec<f32>,
    /// Grid indices of the `N` columns.
    pub voxels: Vec<[u32; 3]>,
    /// Voxel → world of the grid.
    pub grid_affine: DMat4,
    /// `[nx, ny, nz]` of the grid.
    pub grid_shape: [usize; 3],
}

impl Responses {
    /// Number of stimuli `S`.
    pub fn stimuli(&self) -> usize {
        self.values.len().checked_div(self.voxels.len()).unwrap_or(0)
    }

    /// From a 4D volume, one frame per stimulus. The voxels are the mask's non-zero voxels when a
    /// mask (same grid) is given, else every voxel whose responses are finite and not constant; in
    /// both cases in Fortran order (`i` fastest).
    pub fn from_volume(volume: &Volume, mask: Option<&Volume>) -> Result<Responses, EncoderError> {
        let shape = [volume.shape[0], volume.shape[1], volume.shape[2]];
        let s = volume.frames();
        let voxels = match mask {
            Some(mask) => {
                if mask.shape[..3] != volume.shape[..3] {
                    return Err(EncoderError::Invalid(format!(
                        "the mask's grid {:?} differs from the responses' {shape:?}",
                        &mask.shape[..3]
                    )));
                }
                mask_voxels(mask.frame(0), shape, VoxelOrder::F)
            }
            None => (0..volume.frame_len())
                .filter(|&v| {
                    let first = volume.data[v];
                    (0..s).all(|t| volume.data[t * volume.frame_len() + v].is_finite())
                        && (0..s).any(|t| volume.data[t * volume.frame_len() + v] != first)
                })
                .map(|v| {
                    let (i, rest) = (v % shape[0], v / shape[0]);
                    [i as u32, (rest % shape[1]) as u32, (rest / shape[1]) as u32]
                })
                .collect(),
        };
        if voxels.is_empty() {
            return Err(EncoderError::Invalid("no voxels to fit".into()));
        }
        let mut values = Vec::with_capacity(s * voxels.len());
        for t in 0..s {
            let frame = volume.frame(t);
            values.extend(
                voxels
                    .iter()
                    .map(|&[i, j, k]| frame[volume.index(i as usize, j as usize, k as usize)]),
            );
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(EncoderError::Invalid(
                "responses inside the mask are not all finite".into(),
            ));
        }
        Ok(Responses {
            values,
            voxels,
            grid_affine: volume.affine,
            grid_shape: shape,
        })
    }

    /// From a TSV table: one row per stimulus, one column per voxel, tab-separated numbers; a first
    /// line that does not parse as numbers is a header and skipped. With a mask, the columns are the
    /// mask's non-zero voxels in Fortran order; without, they get a `[N, 1, 1]` grid with an identity
    /// affine.
    pub fn from_tsv(path: &Path, mask: Option<&Volume>) -> Result<Responses, EncoderError> {
        let text = std::fs::read_to_string(path).map_err(FileError::io(path))?;
        let format = |message: String| EncoderError::from(FileError::format(path, message));
        let mut rows: Vec<Vec<f32>> = Vec::new();
        for (line_no, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let parsed: Result<Vec<f32>, _> = line.split('\t').map(|c| c.trim().parse::<f32>()).collect();
            match parsed {
                Ok(row) => rows.push(row),
                Err(_) if rows.is_empty() && line_no == 0 => continue,
                Err(e) => return Err(format(format!("line {}: {e}", line_no + 1))),
            }
        }
        let n = rows.first().map_or(0, Vec::len);
        if n == 0 {
            return Err(format("no responses".into()));
        }
        if let Some(bad) = rows.iter().position(|r| r.len() != n) {
            return Err(format(format!(
                "row {} has {} columns, the first {n}",
                bad + 1,
                rows[bad].len()
            )));
        }
        let (voxels, grid_affine, grid_shape) = match mask {
            Some(mask) => {
                let shape = [mask.shape[0], mask.shape[1], mask.shape[2]];
                let voxels = mask_voxels(mask.frame(0), shape, VoxelOrder::F);
                if voxels.len() != n {
                    return Err(format(format!("{n} columns but the mask has {} voxels", voxels.len())));
                }
                (voxels, mask.affine, shape)
            }
            None => ((0..n as u32).map(|v| [v, 0, 0]).collect(), DMat4::IDENTITY, [n, 1, 1]),
        };
        let values: Vec<f32> = rows.into_iter().flatten().collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err(format("responses are not all finite".into()));
        }
        Ok(Responses {
            values,
            voxels,
            grid_affine,
            grid_shape,
        })
    }
}

/// Reads a stimulus list: the first tab-separated column of each non-empty line is an image path,
/// relative to the list's folder unless absolute. Lines starting with `#` and a first line whose
/// first column is `path`, `image`, `file` or `stimulus` are skipped.
pub fn read_stimuli(path: &Path) -> Result<Vec<PathBuf>, EncoderError> {
    let text = std::fs::read_to_string(path).map_err(FileError::io(path))?;
    let base = path.parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    for (line_no, line) in text.lines().enumerate() {
        let first = line.split('\t').next().unwrap_or("").trim();
        if first.is_empty() || first.starts_with('#') {
            continue;
        }
        if line_no == 0 && ["path", "image", "file", "stimulus"].contains(&first.to_ascii_lowercase().as_str()) {
            continue;
        }
        out.push(base.join(first));
    }
    if out.is_empty() {
        return Err(FileError::format(path, "no stimuli listed").into());
    }
    Ok(out)
}

/// Unit-normalised CLIP image embeddings `[S, D]` (row-major) of image files, `batch` at a time.
/// `progress(done, total)` follows each batch; `cancel` is read before each batch.
pub fn embed_images(
    clip: &Clip,
    paths: &[PathBuf],
    batch: usize,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<f32>, EncoderError> {
    let mut out = Vec::with_capacity(paths.len() * clip.projection_dim());
    for chunk in paths.chunks(batch.max(1)) {
        if cancel.load(Ordering::Relaxed) {
            return Err(EncoderError::Cancelled);
        }
        let images = chunk.iter().map(|p| load_image(p)).collect::<Result<Vec<_>, _>>()?;
        let pixels = batch_tensor(&images, clip.image_size() as u32, clip.device())?;
        let embeddings = unit_normalize(&clip.encode_images(&pixels)?)?;
        out.extend(embeddings.flatten_all()?.to_vec1::<f32>()?);
        progress(out.len() / clip.projection_dim(), paths.len());
    }
    Ok(out)
}

/// Options of [`fit_encoder`].
#[derive(Clone, Debug, PartialEq)]
pub struct EncoderFitConfig {
    /// Ridge penalties, folds and held-out fraction.
    pub ridge: RidgeConfig,
    /// Images per CLIP batch.
    pub batch: usize,
    /// The backbone name stored in the encoder.
    pub backbone: String,
}

impl Default for EncoderFitConfig {
    fn default() -> Self {
        EncoderFitConfig {
            ridge: RidgeConfig::default(),
            batch: 32,
            backbone: BRAINSCUBA_BACKBONE.into(),
        }
    }
}

/// A fitted encoder with its held-out scores as volumes on the reference grid.
#[derive(Clone, Debug)]
pub struct EncoderFit {
    /// The encoder (unit-normalised features).
    pub encoder: Encoder,
    /// Held-out R², NaN outside the voxels.
    pub r2: Volume,
    /// Held-out Pearson r, NaN outside the voxels.
    pub pearson: Volume,
    /// The penalty chosen for each voxel.
    pub alpha: Vec<f64>,
}

impl EncoderFit {
    /// The median of the finite held-out R² values (NaN when there are none).
    pub fn median_r2(&self) -> f32 {
        let mut r2: Vec<f32> = self.r2.data.iter().copied().filter(|v| v.is_finite()).collect();
        r2.sort_by(f32::total_cmp);
        r2.get(r2.len() / 2).copied().unwrap_or(f32::NAN)
    }
}

/// Embeds `stimuli` with `clip` and fits a ridge encoder to `responses`.
///
/// `progress(done, total)` reports the embedded images; `cancel` is read between batches and folds.
pub fn fit_encoder(
    responses: &Responses,
    stimuli: &[PathBuf],
    clip: &Clip,
    config: &EncoderFitConfig,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<EncoderFit, EncoderError> {
    if stimuli.len() != responses.stimuli() {
        return Err(EncoderError::Invalid(format!(
            "{} stimuli listed for {} responses",
            stimuli.len(),
            responses.stimuli()
        )));
    }
    let features = embed_images(clip, stimuli, config.batch, cancel, progress)?;
    let d = clip.projection_dim();
    let n = responses.voxels.len();
    let fit = fit_ridge(&features, &responses.values, d, n, &config.ridge, cancel)?;
    let encoder = Encoder::new(
        fit.weight,
        fit.bias,
        d,
        responses.voxels.clone(),
        responses.grid_affine,
        responses.grid_shape,
        config.backbone.clone(),
        true,
    )?;
    let r2 = map_volume("r2", &encoder, &fit.r2);
    let pearson = map_volume("pearson", &encoder, &fit.pearson);
    Ok(EncoderFit {
        encoder,
        r2,
        pearson,
        alpha: fit.alpha,
    })
}

/// A 3D volume on the encoder's grid with `values[v]` at voxel `v` and NaN elsewhere.
pub fn map_volume(name: &str, encoder: &Encoder, values: &[f32]) -> Volume {
    let [nx, ny, nz] = encoder.grid_shape();
    let mut data = vec![f32::NAN; nx * ny * nz];
    for (&[i, j, k], &value) in encoder.voxels().iter().zip(values) {
        data[i as usize + nx * (j as usize + ny * k as usize)] = value;
    }
    Volume::from_f32(name, [nx, ny, nz, 1], encoder.grid_affine(), data)
}
