//! Neural fields: a learned function of world position, stored as a `.nfield` scene and drawn by the
//! same ray marcher as volumes.
//!
//! This module defines the field exactly; [`NeuralField::eval`] is the reference that the WGSL
//! evaluator and the candle model are tested against. `docs/nfield.md` restates the same
//! specification together with the file format.
//!
//! Evaluation of a world point `p` (all arithmetic in `f32`):
//! 1. `x = (p - bounds_min) / (bounds_max - bounds_min)`, each component clamped to `[0, 1]`.
//! 2. Encoding → feature vector `f` (see [`HashGrid`] and [`DenseGrid`]).
//! 3. For each layer `i` of `layers`: `h = W_i · h + b_i` (`h` starts as `f`); for every layer
//!    but the last, when `cam` is present: `h = gamma_i(x) · norm(h) + beta_i(x)` where `norm`
//!    subtracts the mean over the layer's outputs and divides by `sqrt(var + 1e-5)` (population
//!    variance, no affine: instance normalisation as in the CAM paper's image code) — or is the
//!    identity when [`Cam::normalize`] is off (CAM's NeRF variant) — and `gamma_i`,
//!    `beta_i` are scalars trilinearly interpolated from [`CamGrid`] `i` at `x`; then the layer's
//!    activation.
//!    The mean and variance are computed in two passes (`mean = Σh/n`, then `var = Σ(h−mean)²/n`).
//! 4. The last layer's pre-activation outputs `z` are read through [`FieldOutput`], with `act` the
//!    last layer's activation: [`FieldOutput::Intensity`] gives `[act(z0) · scale + offset, 0, 0, 0]`;
//!    [`FieldOutput::DensityRgb`] gives `[σ, r, g, b] = [act(z0), sigmoid(z1), sigmoid(z2), sigmoid(z3)]`.
//!    So the last layer's activation applies to output 0 only (σ; it must then be `Relu`, `Exp` or
//!    `Sigmoid` so that σ ≥ 0) and the colour always goes through the logistic sigmoid: one
//!    activation cannot give instant-ngp's `exp` density and logistic colour at once.
//!
//! Trilinear interpolation, everywhere in this module, visits the 8 corners in the order
//! `c = 0..8` where bit 0 of `c` steps along x, bit 1 along y and bit 2 along z; a corner's weight is
//! the product over x, y, z (in that order) of `t` for a stepped axis and `1 − t` otherwise, and
//! the result is accumulated corner by corner starting from zero. Evaluators that sum in another
//! order agree to rounding.
//!
//! Points outside the box evaluate to the value at the nearest point of the box (step 1 clamps; a
//! NaN component of `x` counts as 0).
//!
//! Files: [`load_field`] reads `.nfield` scenes (`docs/nfield.md`) and instant-ngp snapshots
//! (`.ingp`, `.msgpack`, see [`load_ingp`]); [`save_field`] writes `.nfield`.

mod bake;
mod error;
mod eval;
mod ingp;
mod msgpack_value;
mod nfield;
mod validate;

use std::path::Path;

pub use self::bake::{BAKE_VOXELS, BakeError, bake, bake_shape};
pub use self::error::FieldError;
pub use self::eval::{CAM_EPS, HASH_PRIME_Y, HASH_PRIME_Z, HashLevel, modulate, sigmoid};
pub use self::ingp::{DEFAULT_VIEW_DIRECTION, IngpImport, load_ingp, load_ingp_with, spherical_harmonics};
pub use self::nfield::{NFIELD_METADATA_KEY, NFIELD_VERSION, load_nfield, save_field};

/// File-name endings that [`load_field`] reads, for file dialogs.
pub const FIELD_EXTENSIONS: &[&str] = &["nfield", "ingp", "msgpack"];

/// Whether the file name ends in `.nfield`, `.ingp` or `.msgpack` (any case): the files that
/// [`load_field`] reads and [`crate::formats::load_path`] does not.
pub fn is_field_path(path: &Path) -> bool {
    let Some(name) = path.file_name() else {
        return false;
    };
    let name = name.to_string_lossy().to_ascii_lowercase();
    FIELD_EXTENSIONS
        .iter()
        .any(|ext| name.len() > ext.len() + 1 && name.ends_with(ext) && name[..name.len() - ext.len()].ends_with('.'))
}

/// Loads a neural field: a `.nfield` scene, or an instant-ngp snapshot (`.ingp`, `.msgpack`; see
/// [`load_ingp`] for the conversion and its defaults). Files with another name are told apart by
/// their content. The field is validated; every error names the file.
pub fn load_field(path: &Path) -> Result<NeuralField, FieldError> {
    load_field_with_progress(path, &mut |_| {})
}

/// [`load_field`], reporting progress in `0..=1` as the file is read and converted.
pub fn load_field_with_progress(path: &Path, progress: &mut dyn FnMut(f32)) -> Result<NeuralField, FieldError> {
    let name = error::display_name(path);
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".nfield") {
        return nfield::load_nfield_with_progress(path, progress);
    }
    if lower.ends_with(".ingp") || lower.ends_with(".msgpack") {
        return ingp::load_ingp_full(path, &IngpImport::default(), progress);
    }
    let head = nfield::read_head(path, 16).map_err(|e| e.in_file(&name))?;
    if nfield::looks_like_safetensors(&head) {
        nfield::load_nfield_with_progress(path, progress)
    } else if ingp::looks_like_snapshot(&head) {
        ingp::load_ingp_full(path, &IngpImport::default(), progress)
    } else {
        Err(FieldError::NotFormat {
            file: name,
            format: "a neural field",
            detail: "the name does not end in .nfield, .ingp or .msgpack and the content is neither \
                     safetensors nor an instant-ngp snapshot"
                .into(),
        })
    }
}

/// A neural field over a world-space box.
#[derive(Clone, Debug, PartialEq)]
pub struct NeuralField {
    /// World-space (mm) corner mapped to `x = 0`.
    pub bounds_min: [f32; 3],
    /// World-space (mm) corner mapped to `x = 1`.
    pub bounds_max: [f32; 3],
    /// Input encoding.
    pub encoding: Encoding,
    /// The MLP, first layer first; layer 0 takes the encoding's features.
    pub layers: Vec<DenseLayer>,
    /// Coordinate-aware modulation of the hidden layers, or none.
    pub cam: Option<Cam>,
    /// How the last layer's outputs are read.
    pub output: FieldOutput,
    /// Which cells may be non-empty, for empty-space skipping; `None` means everywhere.
    pub occupancy: Option<OccupancyGrid>,
}

/// The input encoding.
#[derive(Clone, Debug, PartialEq)]
pub enum Encoding {
    /// instant-ngp's multiresolution hash grid.
    HashGrid(HashGrid),
    /// One dense feature grid.
    Dense(DenseGrid),
}

/// Multiresolution hash encoding (instant-ngp / tiny-cuda-nn layout).
///
/// Level `l` has `scale = base_resolution · per_level_scale^l − 1` and `res = ceil(scale) + 1`
/// vertices per axis. The sample position is `pos = x · scale + 0.5`; its cell corner is
/// `floor(pos)` and the weights are `fract(pos)` (trilinear over the 8 corners). A corner `(i, j, k)`
/// is stored at index `i + j·res + k·res²` when `res³ ≤ table_size`, else at
/// `(i ⊕ j·2654435761 ⊕ k·805459861) mod table_size` (u32 wrapping arithmetic). Every level owns
/// `table_size = 2^log2_table_size` entries of `features` values; the feature vector is level 0's
/// features, then level 1's, …
///
/// Precisely (decisions where the sentence above leaves room):
/// - `scale` is computed in `f32` as tiny-cuda-nn does: `exp2(l · log2(per_level_scale)) ·
///   base_resolution − 1`. Evaluators take the per-level `scale` and `res` from
///   [`HashGrid::level`] (the GPU as uniforms) rather than recomputing them.
/// - `pos = x · scale + 0.5` is a plain (not fused) multiply-add; tiny-cuda-nn uses `fmaf`, which
///   differs by at most one rounding and, interpolation being continuous, changes nothing visible.
/// - The dense index is also taken `mod table_size` (u32 arithmetic): when `scale` is an integer,
///   the top half-cell of each axis reads corner `res`, which wraps onto the next row, as in
///   tiny-cuda-nn ("wraparound indexing in dense grids").
#[derive(Clone, Debug, PartialEq)]
pub struct HashGrid {
    /// Number of levels.
    pub levels: u32,
    /// Features per level.
    pub features: u32,
    /// log2 of the entries per level.
    pub log2_table_size: u32,
    /// Resolution of the coarsest level.
    pub base_resolution: u32,
    /// Growth factor between levels.
    pub per_level_scale: f32,
    /// `levels × table_size × features` values, level-major.
    pub params: Vec<f32>,
}

/// A dense grid of feature vectors; vertex `(i, j, k)` sits at `x = (i/(rx−1), j/(ry−1), k/(rz−1))`
/// and values are trilinearly interpolated.
///
/// Along an axis with `r` vertices, `u = x · (r − 1)`, the lower corner is
/// `i0 = min(floor(u), r − 2)` and the weight of the upper one is `t = u − i0` (so `x = 1` reads
/// vertex `r − 1` with weight 1).
#[derive(Clone, Debug, PartialEq)]
pub struct DenseGrid {
    /// Vertices per axis (each ≥ 2), `[rx, ry, rz]`.
    pub resolution: [u32; 3],
    /// Features per vertex.
    pub features: u32,
    /// `rz × ry × rx × features` values (x fastest after the features).
    pub values: Vec<f32>,
}

/// One fully connected layer.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseLayer {
    /// Inputs.
    pub inputs: usize,
    /// Outputs.
    pub outputs: usize,
    /// `outputs × inputs`, row-major.
    pub weight: Vec<f32>,
    /// `outputs` values (zeros for a layer without bias).
    pub bias: Vec<f32>,
    /// Applied after the (modulated) affine map.
    pub activation: Activation,
}

/// Activation functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// Identity.
    None,
    /// max(0, x).
    Relu,
    /// 1 / (1 + e^−x).
    Sigmoid,
    /// e^x.
    Exp,
}

/// Coordinate-aware modulation (CAM): one grid per hidden layer, and one setting for all of them.
#[derive(Clone, Debug, PartialEq)]
pub struct Cam {
    /// One grid per hidden layer (`layers.len() - 1` of them), first layer first.
    pub grids: Vec<CamGrid>,
    /// Whether each layer's outputs are normalised before `γ·h + β` (instance normalisation, the
    /// CAM paper's image variant) or modulated as they are (its NeRF variant).
    pub normalize: bool,
}

/// Per-layer modulation grid: scalar scale (γ) and shift (β) at each vertex of a dense grid over `x`,
/// laid out and interpolated as [`DenseGrid`] with one feature.
#[derive(Clone, Debug, PartialEq)]
pub struct CamGrid {
    /// Vertices per axis (each ≥ 2), `[rx, ry, rz]`.
    pub resolution: [u32; 3],
    /// γ per vertex.
    pub scale: Vec<f32>,
    /// β per vertex.
    pub shift: Vec<f32>,
}

/// What the field's outputs mean.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FieldOutput {
    /// One output: a scalar image value `out0 · scale + offset` (e.g. a fitted MRI intensity), where
    /// `out0` is the last layer's output after its activation.
    Intensity {
        /// Multiplier back to the volume's units.
        scale: f32,
        /// Offset back to the volume's units.
        offset: f32,
    },
    /// Radiance field: `out0` is the density σ (≥ 0 after the activation), `out1..=3` the colour in 0..1.
    ///
    /// The last layer has exactly 4 outputs `z`. σ is `act(z0)` with `act` the last layer's activation,
    /// which must be `Relu`, `Exp` or `Sigmoid`; the colour is `sigmoid(z1..=3)`, whatever `act` is.
    DensityRgb,
}

/// Occupancy bitfield over `x ∈ [0,1]³`: cell `(i, j, k)` covers `[i/rx, (i+1)/rx) × …`.
///
/// `x = 1` belongs to the last cell. [`NeuralField::occupied`] is false outside the box.
#[derive(Clone, Debug, PartialEq)]
pub struct OccupancyGrid {
    /// Cells per axis, `[rx, ry, rz]`.
    pub resolution: [u32; 3],
    /// One byte per cell (0 = empty), x fastest.
    pub occupied: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths() {
        for yes in ["a.nfield", "B.NFIELD", "dir/x.ingp", "snap.msgpack", "s.Ingp"] {
            assert!(is_field_path(Path::new(yes)), "{yes}");
        }
        for no in ["nfield", ".nfield", "a.nii.gz", "a.nfield.gz", "amsgpack", "a.json"] {
            assert!(!is_field_path(Path::new(no)), "{no}");
        }
    }
}
