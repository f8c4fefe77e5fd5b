//! instant-ngp snapshot import (`.ingp`, `.msgpack`): the embedded network configuration and the
//! trained weights of a NeRF snapshot, converted into an exactly equivalent [`NeuralField`].
//!
//! The file is MessagePack (gzip-compressed for `.ingp`, recognised by its magic bytes) of
//! instant-ngp's network configuration (`encoding`, `network`, `dir_encoding`, `rgb_network`) plus a
//! `snapshot` object (`n_params`, `params_type`, `params_binary`, `density_grid_binary`, `aabb`,
//! `nerf.aabb_scale`, …). The layout of `params_binary` is computed from the configuration exactly
//! as tiny-cuda-nn does — density MLP, colour MLP, hash grid, in that order; each MLP layer a
//! row-major `W[out][in]` without bias, outputs padded to a multiple of 16; hash level `l` holding
//! `min(round_up8(res³), 2^T)` entries — and `n_params` must match it.
//!
//! # Upstream sources
//!
//! Checked line by line against instant-ngp `abe236e` (NVlabs/instant-ngp `abe236ee00cf`) and the
//! tiny-cuda-nn it pins, `2e757bb` (NVlabs/tiny-cuda-nn `2e757bbe781d`; these files are unchanged at
//! tiny-cuda-nn `6ee3546`). `ngp:` is instant-ngp's tree, `tcnn:` tiny-cuda-nn's.
//!
//! - **Snapshot.** `save_snapshot` writes the configuration as loaded (without the
//!   `base_resolution`/`per_level_scale` that `reset_network` fills in), the trainer's
//!   `n_params`/`params_type`/`params_binary` (the inference parameters in tiny-cuda-nn's linear
//!   layout; the JIT layout exists only inside a `jit_guard`), `density_grid_binary` (fp16),
//!   `nerf.aabb_scale`, `aabb` and `nerf.dataset` (`ngp:src/testbed.cu` 5288-5355,
//!   `tcnn:include/tiny-cuda-nn/trainer.h` 442-455, `tcnn:include/tiny-cuda-nn/object.h` 724-744).
//!   `load_snapshot` needs `version ≥ 1` (`testbed.cu` 5359) and, opening a snapshot on its own,
//!   takes `aabb_scale` from `nerf.dataset` before `nerf.aabb_scale` (5386-5392); `load_nerf_post`
//!   requires a power of two ≤ 128 (`ngp:src/testbed_nerf.cu` 2408-2422).
//! - **Parameter blocks.** `NerfNetwork::set_params_impl`: density MLP at 0, colour MLP at
//!   `n(density)`, position encoding at `n(density) + n(rgb)`, direction encoding (no parameters)
//!   last (`ngp:include/neural-graphics-primitives/nerf_network.h` 357-372; the same order in
//!   `initialize_params` 374-386 and in the JIT offsets 503-514).
//! - **Widths.** The position encoding is padded to 16 for a `FullyFusedMLP`/`MegakernelMLP`
//!   density network, else 8 (`nerf_network.h` 82); the density MLP takes that padded width and has
//!   `n_output_dims` 16 unless configured (86-91); the direction encoding is padded to
//!   `minimum_alignment(rgb_network)` = 16 (83-84, `tcnn:src/network.cu` 79-98); the colour MLP's
//!   input is `next_multiple(dir padded + density padded_output_width, 16)`, density outputs first
//!   (`nerf_network.h` 93, 110, 122); instant-ngp's output is the colour MLP's outputs 0-2 and the
//!   density MLP's output 0 (132-138).
//! - **MLPs.** Both `CutlassMLP` and `FullyFusedMLP` hold, without biases, `W₀` `(n_neurons × input)`
//!   (or `(padded_out × input)` for a `CutlassMLP` with 0 hidden layers), `n_hidden_layers − 1`
//!   `(n_neurons × n_neurons)`, then `(padded_out × n_neurons)`, `padded_out =
//!   next_multiple(n_output_dims, 16)`, packed in that order as `GPUMatrix<T, RM>`
//!   (`tcnn:src/cutlass_mlp.cu` 55-88 and 331-340, `tcnn:include/tiny-cuda-nn/networks/cutlass_mlp.h`
//!   117-123, `tcnn:src/fully_fused_mlp.cu` 650-677 and 857-864, `fully_fused_mlp.h` 110-112);
//!   row-major: element `(i, j)` at `i · cols + j` (`tcnn:include/tiny-cuda-nn/gpu_matrix.h` 190-192,
//!   226-228). A `FullyFusedMLP` falls back to `CutlassMLP` on builds without fully fused kernels
//!   (`network.cu` 51-77, 100-141).
//! - **Hash grid.** Defaults: `n_levels` 16, `n_features_per_level` 2, `log2_hashmap_size` 19,
//!   `hash` `CoherentPrime`, `interpolation` `Linear` (`tcnn:include/tiny-cuda-nn/encodings/grid.h`
//!   1727-1755, 1837-1852), overridden by instant-ngp's `reset_network`: `base_resolution`
//!   `1 << (log2_hashmap_size (default 15) / 3)` and `per_level_scale`
//!   `exp(ln(2048 · aabb_scale / base_resolution) / (levels − 1))` in f32 (`testbed.cu` 4217-4255).
//!   Level `l`: `scale = exp2(l · log2(per_level_scale)) · base_resolution − 1`, `res = ceil(scale) + 1`
//!   (`tcnn:include/tiny-cuda-nn/common_device.h` 886-895), `min(next_multiple(res³, 8), 2^T)` entries
//!   at consecutive offsets, `n_features_per_level` values per entry interleaved (`grid.h` 699-730,
//!   94-95, 117); padding outputs are zeros after the features (757-767). Lookup: `pos =
//!   fmaf(scale, x, 0.5)`, corner `floor(pos)` (`common_device.h` 1017-1029); linear index
//!   `i + j·res + k·res²` when `res³` fits the level's entries, else `i ⊕ j·2654435761 ⊕ k·805459861`,
//!   then `mod` the level's entry count (847-884, 767-791).
//! - **Direction encoding.** instant-ngp feeds `(d + 1) / 2` for the unit ray direction `d`
//!   (`ngp:include/neural-graphics-primitives/nerf_device.cuh` 291-293,
//!   `ngp:include/neural-graphics-primitives/fused_kernels/render_nerf.cuh` 124); tiny-cuda-nn's
//!   `SphericalHarmonics` maps back with `x · 2 − 1`, writes the padding as leading ones, then
//!   `sh_enc` (`tcnn:include/tiny-cuda-nn/encodings/spherical_harmonics.h` 46-72, 174-194;
//!   `common_device.h` 474-555, transcribed in `sh_all`). In a `Composite` (instant-ngp's
//!   `configs/nerf/base.json`), a nested encoding of 0 dimensions (the latent `Identity` when
//!   `n_extra_learnable_dims` is 0) is not created and the padding goes to the last one created, the
//!   spherical harmonics (`tcnn:include/tiny-cuda-nn/encodings/composite.h` 164-186, 382-392).
//! - **Activations and occupancy.** σ = `expf(out)` (`nerf_device.cuh` 235-244), colour = logistic
//!   unless the dataset is HDR (`testbed_nerf.cu` 2354, `nerf_device.cuh` 204-213). On load the
//!   density grid (128³ per cascade, Morton order, cascades `0..=max_cascade` with
//!   `2^max_cascade ≥ aabb_scale`) is thresholded at `min(NERF_MIN_OPTICAL_THICKNESS = 0.01, mean of
//!   cascade 0 clamped at 0)` and each cascade OR-ed with the max-pool of the finer one into cell
//!   `x/2 + 32` (`testbed.cu` 5402-5416; `testbed_nerf.cu` 348-396, 2433-2436, 2594-2633;
//!   `nerf_device.cuh` 25-43).
//!
//! Two places where this import and instant-ngp can disagree, both documented rather than changed:
//! - instant-ngp's `load_nerf_post` replaces the snapshot's `aabb` with `[0.5 − s/2, 0.5 + s/2]³`
//!   for `aabb_scale` s (`testbed.cu` 5372 then 5400, `testbed_nerf.cu` 2424-2425). The two agree
//!   unless the box was changed through the Python API (`testbed.aabb`) during training; this import
//!   keeps the snapshot's `aabb`, the box the weights were trained in.
//! - The level padding below reproduces tiny-cuda-nn's dense wraparound exactly unless
//!   `res³ < 2^T ≤ res + res² + res³` with `round_up8(res³) < 2^T` for a level, which happens only for
//!   `T` ∈ {8, 10, 13, 16, 22, 23, 28} at one resolution each (e.g. `res` 40 for `T` 16, 161 for 22):
//!   there the corners `(i, j, res)` whose linear index reaches `2^T` (y and z in the level's last
//!   cell) read a different entry. instant-ngp's NeRF hash-grid configurations use `T` 14, 15, 19
//!   and 21 (`ngp:configs/nerf/`).
//!
//! # Conversion
//!
//! (See `docs/nfield.md` for the whole story.)
//! - **Encoding.** The hash grid keeps its parameters; each level is padded to the uniform
//!   `2^T` entries of [`HashGrid`] by repeating its entries (entry `e` ← entry `e mod n_l`), so that
//!   the wraparound of dense levels reads what tiny-cuda-nn reads (see above for the exception). The
//!   bounds are the snapshot's `aabb`, in instant-ngp's own (unit-cube) coordinates.
//! - **Density MLP.** Copied (zero biases); its padded outputs (`out0` = log σ; 16 by default) feed
//!   the colour MLP.
//! - **View direction.** The colour MLP's direction input (spherical harmonics of the viewing
//!   direction, padded with leading ones) is evaluated once at a fixed direction,
//!   [`IngpImport::view_direction`] (default [`DEFAULT_VIEW_DIRECTION`], the central ray of
//!   instant-ngp's default camera), and folded into the first colour layer's bias. The imported
//!   field's colour is what instant-ngp shows when looking along that direction.
//! - **σ through the colour MLP.** Our MLP is a single chain, so log σ is carried through the colour
//!   MLP's hidden layers on two extra ReLU units (`relu(s)` and `relu(−s)`, recombined as their
//!   difference, which is exact). The last layer gives `[log σ, r, g, b]` logits with activation
//!   `exp`, read as [`FieldOutput::DensityRgb`] (σ = exp, colour = sigmoid), which is instant-ngp's
//!   exponential density and logistic colour.
//! - **Occupancy.** The density grid (`density_grid_binary`, fp16, 128³ per cascade in Morton
//!   order) is thresholded as instant-ngp does on load (`value > min(0.01, mean of cascade 0)`),
//!   max-pooled into coarser cascades, and the cascade that spans the `aabb` is resampled onto a
//!   128³ [`OccupancyGrid`] over the bounds (a cell is occupied when any overlapping cascade cell
//!   is). For the usual `aabb_scale` 1 that is cascade 0, cell for cell.
//!
//! instant-ngp evaluates its MLPs in fp16; the imported field is evaluated in f32, so the two agree
//! to fp16 rounding.

use std::path::Path;

use rmpv::ValueRef;

use super::error::display_name;
use super::msgpack_value::read_one_value;
use super::nfield::{f16_to_f32, read_file};
use super::validate::MAX_LOG2_TABLE_SIZE;
use super::{Activation, DenseLayer, Encoding, FieldError, FieldOutput, HashGrid, NeuralField, OccupancyGrid};
use crate::formats::MEMORY_BUDGET;

/// The direction at which the colour network's view-direction input is fixed by default: `(0, 0, −1)`
/// in instant-ngp's coordinates, the central ray of its default camera.
pub const DEFAULT_VIEW_DIRECTION: [f32; 3] = [0.0, 0.0, -1.0];

/// Most bytes a decompressed snapshot may have.
const MAX_SNAPSHOT_BYTES: u64 = MEMORY_BUDGET / 4;

/// instant-ngp's density grid: cells per axis of each cascade.
const NERF_GRIDSIZE: usize = 128;

/// instant-ngp's `NERF_MIN_OPTICAL_THICKNESS`: the occupancy threshold is `min(this, mean)`.
const NERF_MIN_OPTICAL_THICKNESS: f32 = 0.01;

/// instant-ngp's `NERF_CASCADES`: at most this many cascades, so `aabb_scale ≤ 128`.
const NERF_CASCADES: u32 = 8;

/// The `"snapshot"` of a file that this reader does not recognise as instant-ngp's.
const FORMAT: &str = "an instant-ngp snapshot";

/// Options of the instant-ngp import.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IngpImport {
    /// Viewing direction (instant-ngp's coordinates; normalised here) at which the colour MLP's
    /// direction input is evaluated and folded away.
    pub view_direction: [f32; 3],
    /// Whether to convert the snapshot's density grid into an [`OccupancyGrid`].
    pub occupancy: bool,
}

impl Default for IngpImport {
    fn default() -> Self {
        IngpImport {
            view_direction: DEFAULT_VIEW_DIRECTION,
            occupancy: true,
        }
    }
}

/// Imports an instant-ngp NeRF snapshot (`.ingp` or `.msgpack`) with the default options
/// ([`IngpImport::default`]).
pub fn load_ingp(path: &Path) -> Result<NeuralField, FieldError> {
    load_ingp_with(path, &IngpImport::default())
}

/// Imports an instant-ngp NeRF snapshot with explicit options.
pub fn load_ingp_with(path: &Path, options: &IngpImport) -> Result<NeuralField, FieldError> {
    load_ingp_full(path, options, &mut |_| {})
}

pub(crate) fn load_ingp_full(
    path: &Path,
    options: &IngpImport,
    progress: &mut dyn FnMut(f32),
) -> Result<NeuralField, FieldError> {
    let name = display_name(path);
    let result = read_file(path, 0.5, progress).and_then(|bytes| {
        let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
            gunzip(&bytes)?
        } else {
            bytes
        };
        progress(0.6);
        decode_snapshot(&bytes, options)
    });
    progress(1.0);
    result.map_err(|e| e.in_file(&name))
}

/// Whether `head` starts like a snapshot: gzip, or a MessagePack map.
pub(crate) fn looks_like_snapshot(head: &[u8]) -> bool {
    matches!(head.first(), Some(0x80..=0x8f | 0xde | 0xdf)) || head.starts_with(&[0x1f, 0x8b])
}

/// Decompresses a gzip stream (all members) as far as its one MessagePack value goes, at most
/// [`MAX_SNAPSHOT_BYTES`]: what follows the value is not inflated.
fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, FieldError> {
    read_one_value(&mut flate2::read::MultiGzDecoder::new(bytes), MAX_SNAPSHOT_BYTES)
}

/// The real spherical-harmonics basis of tiny-cuda-nn's `SphericalHarmonics` encoding
/// (`sh_enc`), `degree²` values for a unit direction `dir` (degree 1 to 8).
pub fn spherical_harmonics(degree: u32, dir: [f32; 3]) -> Vec<f32> {
    assert!(
        (1..=8).contains(&degree),
        "spherical harmonics degree {degree} is not in 1..=8"
    );
    let all = sh_all(dir[0], dir[1], dir[2]);
    all[..(degree * degree) as usize].to_vec()
}

/// All 64 values of `sh_enc` up to degree 8, transcribed from tiny-cuda-nn (`common_device.h`).
#[allow(clippy::excessive_precision)]
fn sh_all(x: f32, y: f32, z: f32) -> [f32; 64] {
    let (xy, xz, yz, x2, y2, z2) = (x * y, x * z, y * z, x * x, y * y, z * z);
    let (x4, y4, z4) = (x2 * x2, y2 * y2, z2 * z2);
    let (x6, y6, z6) = (x4 * x2, y4 * y2, z4 * z2);
    [
        // 0: 1/(2*sqrt(pi))
        0.28209479177387814,
        // 1: -sqrt(3)*y/(2*sqrt(pi))
        -0.48860251190291987 * y,
        // 2: sqrt(3)*z/(2*sqrt(pi))
        0.48860251190291987 * z,
        // 3: -sqrt(3)*x/(2*sqrt(pi))
        -0.48860251190291987 * x,
        // 4: sqrt(15)*xy/(2*sqrt(pi))
        1.0925484305920792 * xy,
        // 5: -sqrt(15)*yz/(2*sqrt(pi))
        -1.0925484305920792 * yz,
        // 6: sqrt(5)*(3*z2 - 1)/(4*sqrt(pi))
        0.94617469575755997 * z2 - 0.31539156525251999,
        // 7: -sqrt(15)*xz/(2*sqrt(pi))
        -1.0925484305920792 * xz,
        // 8: sqrt(15)*(x2 - y2)/(4*sqrt(pi))
        0.54627421529603959 * x2 - 0.54627421529603959 * y2,
        // 9: sqrt(70)*y*(-3*x2 + y2)/(8*sqrt(pi))
        0.59004358992664352 * y * (-3.0 * x2 + y2),
        // 10: sqrt(105)*xy*z/(2*sqrt(pi))
        2.8906114426405538 * xy * z,
        // 11: sqrt(42)*y*(1 - 5*z2)/(8*sqrt(pi))
        0.45704579946446572 * y * (1.0 - 5.0 * z2),
        // 12: sqrt(7)*z*(5*z2 - 3)/(4*sqrt(pi))
        0.3731763325901154 * z * (5.0 * z2 - 3.0),
        // 13: sqrt(42)*x*(1 - 5*z2)/(8*sqrt(pi))
        0.45704579946446572 * x * (1.0 - 5.0 * z2),
        // 14: sqrt(105)*z*(x2 - y2)/(4*sqrt(pi))
        1.4453057213202769 * z * (x2 - y2),
        // 15: sqrt(70)*x*(-x2 + 3*y2)/(8*sqrt(pi))
        0.59004358992664352 * x * (-x2 + 3.0 * y2),
        // 16: 3*sqrt(35)*xy*(x2 - y2)/(4*sqrt(pi))
        2.5033429417967046 * xy * (x2 - y2),
        // 17: 3*sqrt(70)*yz*(-3*x2 + y2)/(8*sqrt(pi))
        1.7701307697799304 * yz * (-3.0 * x2 + y2),
        // 18: 3*sqrt(5)*xy*(7*z2 - 1)/(4*sqrt(pi))
        0.94617469575756008 * xy * (7.0 * z2 - 1.0),
        // 19: 3*sqrt(10)*yz*(3 - 7*z2)/(8*sqrt(pi))
        0.66904654355728921 * yz * (3.0 - 7.0 * z2),
        // 20: 3*(-30*z2 + 35*z4 + 3)/(16*sqrt(pi))
        -3.1735664074561294 * z2 + 3.7024941420321507 * z4 + 0.31735664074561293,
        // 21: 3*sqrt(10)*xz*(3 - 7*z2)/(8*sqrt(pi))
        0.66904654355728921 * xz * (3.0 - 7.0 * z2),
        // 22: 3*sqrt(5)*(x2 - y2)*(7*z2 - 1)/(8*sqrt(pi))
        0.47308734787878004 * (x2 - y2) * (7.0 * z2 - 1.0),
        // 23: 3*sqrt(70)*xz*(-x2 + 3*y2)/(8*sqrt(pi))
        1.7701307697799304 * xz * (-x2 + 3.0 * y2),
        // 24: 3*sqrt(35)*(-6*x2*y2 + x4 + y4)/(16*sqrt(pi))
        -3.7550144126950569 * x2 * y2 + 0.62583573544917614 * x4 + 0.62583573544917614 * y4,
        // 25: 3*sqrt(154)*y*(10*x2*y2 - 5*x4 - y4)/(32*sqrt(pi))
        0.65638205684017015 * y * (10.0 * x2 * y2 - 5.0 * x4 - y4),
        // 26: 3*sqrt(385)*xy*z*(x2 - y2)/(4*sqrt(pi))
        8.3026492595241645 * xy * z * (x2 - y2),
        // 27: -sqrt(770)*y*(3*x2 - y2)*(9*z2 - 1)/(32*sqrt(pi))
        -0.48923829943525038 * y * (3.0 * x2 - y2) * (9.0 * z2 - 1.0),
        // 28: sqrt(1155)*xy*z*(3*z2 - 1)/(4*sqrt(pi))
        4.7935367849733241 * xy * z * (3.0 * z2 - 1.0),
        // 29: sqrt(165)*y*(14*z2 - 21*z4 - 1)/(16*sqrt(pi))
        0.45294665119569694 * y * (14.0 * z2 - 21.0 * z4 - 1.0),
        // 30: sqrt(11)*z*(-70*z2 + 63*z4 + 15)/(16*sqrt(pi))
        0.1169503224534236 * z * (-70.0 * z2 + 63.0 * z4 + 15.0),
        // 31: sqrt(165)*x*(14*z2 - 21*z4 - 1)/(16*sqrt(pi))
        0.45294665119569694 * x * (14.0 * z2 - 21.0 * z4 - 1.0),
        // 32: sqrt(1155)*z*(x2 - y2)*(3*z2 - 1)/(8*sqrt(pi))
        2.3967683924866621 * z * (x2 - y2) * (3.0 * z2 - 1.0),
        // 33: -sqrt(770)*x*(x2 - 3*y2)*(9*z2 - 1)/(32*sqrt(pi))
        -0.48923829943525038 * x * (x2 - 3.0 * y2) * (9.0 * z2 - 1.0),
        // 34: 3*sqrt(385)*z*(-6*x2*y2 + x4 + y4)/(16*sqrt(pi))
        2.0756623148810411 * z * (-6.0 * x2 * y2 + x4 + y4),
        // 35: 3*sqrt(154)*x*(10*x2*y2 - x4 - 5*y4)/(32*sqrt(pi))
        0.65638205684017015 * x * (10.0 * x2 * y2 - x4 - 5.0 * y4),
        // 36: sqrt(6006)*xy*(-10*x2*y2 + 3*x4 + 3*y4)/(32*sqrt(pi))
        1.3663682103838286 * xy * (-10.0 * x2 * y2 + 3.0 * x4 + 3.0 * y4),
        // 37: 3*sqrt(2002)*yz*(10*x2*y2 - 5*x4 - y4)/(32*sqrt(pi))
        2.3666191622317521 * yz * (10.0 * x2 * y2 - 5.0 * x4 - y4),
        // 38: 3*sqrt(91)*xy*(x2 - y2)*(11*z2 - 1)/(8*sqrt(pi))
        2.0182596029148963 * xy * (x2 - y2) * (11.0 * z2 - 1.0),
        // 39: -sqrt(2730)*yz*(3*x2 - y2)*(11*z2 - 3)/(32*sqrt(pi))
        -0.92120525951492349 * yz * (3.0 * x2 - y2) * (11.0 * z2 - 3.0),
        // 40: sqrt(2730)*xy*(-18*z2 + 33*z4 + 1)/(32*sqrt(pi))
        0.92120525951492349 * xy * (-18.0 * z2 + 33.0 * z4 + 1.0),
        // 41: sqrt(273)*yz*(30*z2 - 33*z4 - 5)/(16*sqrt(pi))
        0.58262136251873131 * yz * (30.0 * z2 - 33.0 * z4 - 5.0),
        // 42: sqrt(13)*(105*z2 - 315*z4 + 231*z6 - 5)/(32*sqrt(pi))
        6.6747662381009842 * z2 - 20.024298714302954 * z4 + 14.684485723822165 * z6 - 0.31784601133814211,
        // 43: sqrt(273)*xz*(30*z2 - 33*z4 - 5)/(16*sqrt(pi))
        0.58262136251873131 * xz * (30.0 * z2 - 33.0 * z4 - 5.0),
        // 44: sqrt(2730)*(x2 - y2)*(11*z2*(3*z2 - 1) - 7*z2 + 1)/(64*sqrt(pi))
        0.46060262975746175 * (x2 - y2) * (11.0 * z2 * (3.0 * z2 - 1.0) - 7.0 * z2 + 1.0),
        // 45: -sqrt(2730)*xz*(x2 - 3*y2)*(11*z2 - 3)/(32*sqrt(pi))
        -0.92120525951492349 * xz * (x2 - 3.0 * y2) * (11.0 * z2 - 3.0),
        // 46: 3*sqrt(91)*(11*z2 - 1)*(-6*x2*y2 + x4 + y4)/(32*sqrt(pi))
        0.50456490072872406 * (11.0 * z2 - 1.0) * (-6.0 * x2 * y2 + x4 + y4),
        // 47: 3*sqrt(2002)*xz*(10*x2*y2 - x4 - 5*y4)/(32*sqrt(pi))
        2.3666191622317521 * xz * (10.0 * x2 * y2 - x4 - 5.0 * y4),
        // 48: sqrt(6006)*(15*x2*y4 - 15*x4*y2 + x6 - y6)/(64*sqrt(pi))
        10.247761577878714 * x2 * y4 - 10.247761577878714 * x4 * y2 + 0.6831841051919143 * x6 - 0.6831841051919143 * y6,
        // 49: 3*sqrt(715)*y*(-21*x2*y4 + 35*x4*y2 - 7*x6 + y6)/(64*sqrt(pi))
        0.70716273252459627 * y * (-21.0 * x2 * y4 + 35.0 * x4 * y2 - 7.0 * x6 + y6),
        // 50: 3*sqrt(10010)*xy*z*(-10*x2*y2 + 3*x4 + 3*y4)/(32*sqrt(pi))
        5.2919213236038001 * xy * z * (-10.0 * x2 * y2 + 3.0 * x4 + 3.0 * y4),
        // 51: -3*sqrt(385)*y*(13*z2 - 1)*(-10*x2*y2 + 5*x4 + y4)/(64*sqrt(pi))
        -0.51891557872026028 * y * (13.0 * z2 - 1.0) * (-10.0 * x2 * y2 + 5.0 * x4 + y4),
        // 52: 3*sqrt(385)*xy*z*(x2 - y2)*(13*z2 - 3)/(8*sqrt(pi))
        4.1513246297620823 * xy * z * (x2 - y2) * (13.0 * z2 - 3.0),
        // 53: -3*sqrt(35)*y*(3*x2 - y2)*(13*z2*(11*z2 - 3) - 27*z2 + 3)/(64*sqrt(pi))
        -0.15645893386229404 * y * (3.0 * x2 - y2) * (13.0 * z2 * (11.0 * z2 - 3.0) - 27.0 * z2 + 3.0),
        // 54: 3*sqrt(70)*xy*z*(-110*z2 + 143*z4 + 15)/(32*sqrt(pi))
        0.44253269244498261 * xy * z * (-110.0 * z2 + 143.0 * z4 + 15.0),
        // 55: sqrt(105)*y*(-135*z2 + 495*z4 - 429*z6 + 5)/(64*sqrt(pi))
        0.090331607582517306 * y * (-135.0 * z2 + 495.0 * z4 - 429.0 * z6 + 5.0),
        // 56: sqrt(15)*z*(315*z2 - 693*z4 + 429*z6 - 35)/(32*sqrt(pi))
        0.068284276912004949 * z * (315.0 * z2 - 693.0 * z4 + 429.0 * z6 - 35.0),
        // 57: sqrt(105)*x*(-135*z2 + 495*z4 - 429*z6 + 5)/(64*sqrt(pi))
        0.090331607582517306 * x * (-135.0 * z2 + 495.0 * z4 - 429.0 * z6 + 5.0),
        // 58: sqrt(70)*z*(x2 - y2)*(143*z2*(3*z2 - 1) - 187*z2 + 45)/(64*sqrt(pi))
        0.07375544874083044 * z * (x2 - y2) * (143.0 * z2 * (3.0 * z2 - 1.0) - 187.0 * z2 + 45.0),
        // 59: -3*sqrt(35)*x*(x2 - 3*y2)*(13*z2*(11*z2 - 3) - 27*z2 + 3)/(64*sqrt(pi))
        -0.15645893386229404 * x * (x2 - 3.0 * y2) * (13.0 * z2 * (11.0 * z2 - 3.0) - 27.0 * z2 + 3.0),
        // 60: 3*sqrt(385)*z*(13*z2 - 3)*(-6*x2*y2 + x4 + y4)/(32*sqrt(pi))
        1.0378311574405206 * z * (13.0 * z2 - 3.0) * (-6.0 * x2 * y2 + x4 + y4),
        // 61: -3*sqrt(385)*x*(13*z2 - 1)*(-10*x2*y2 + x4 + 5*y4)/(64*sqrt(pi))
        -0.51891557872026028 * x * (13.0 * z2 - 1.0) * (-10.0 * x2 * y2 + x4 + 5.0 * y4),
        // 62: 3*sqrt(10010)*z*(15*x2*y4 - 15*x4*y2 + x6 - y6)/(64*sqrt(pi))
        2.6459606618019 * z * (15.0 * x2 * y4 - 15.0 * x4 * y2 + x6 - y6),
        // 63: 3*sqrt(715)*x*(-35*x2*y4 + 21*x4*y2 - x6 + 7*y6)/(64*sqrt(pi))
        0.70716273252459627 * x * (-35.0 * x2 * y4 + 21.0 * x4 * y2 - x6 + 7.0 * y6),
    ]
}

/// A MessagePack value with the path that led to it, for messages.
#[derive(Clone, Copy)]
struct Node<'v, 'a> {
    value: &'v ValueRef<'a>,
    path: &'v str,
}

/// `path.key`, or `key` at the top.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

impl<'v, 'a> Node<'v, 'a> {
    /// The value of `key` if this is a map holding it.
    fn get(&self, key: &str) -> Option<&'v ValueRef<'a>> {
        match self.value {
            ValueRef::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, ValueRef::String(s) if s.as_str() == Some(key)))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    fn bad(&self, key: &str, what: &str) -> FieldError {
        FieldError::bad_header(format!("`{}` is not {what}", join(self.path, key)))
    }

    /// An unsigned integer (a float with an integral value is accepted too).
    fn uint(&self, key: &str) -> Result<Option<u64>, FieldError> {
        let Some(v) = self.get(key) else { return Ok(None) };
        let n = match v {
            ValueRef::Integer(i) => i.as_u64(),
            ValueRef::F64(f) if *f >= 0.0 && f.fract() == 0.0 && *f < 1.8e19 => Some(*f as u64),
            ValueRef::F32(f) if *f >= 0.0 && f.fract() == 0.0 && *f < 1.8e19 => Some(*f as u64),
            _ => None,
        };
        n.map(Some).ok_or_else(|| self.bad(key, "an unsigned integer"))
    }

    fn uint_or(&self, key: &str, default: u64) -> Result<u64, FieldError> {
        Ok(self.uint(key)?.unwrap_or(default))
    }

    /// A `u32` with a default.
    fn u32_or(&self, key: &str, default: u32) -> Result<u32, FieldError> {
        let n = self.uint_or(key, default as u64)?;
        u32::try_from(n).map_err(|_| self.bad(key, "a 32-bit unsigned integer"))
    }

    fn number(&self, key: &str) -> Result<Option<f64>, FieldError> {
        let Some(v) = self.get(key) else { return Ok(None) };
        let n = match v {
            ValueRef::Integer(i) => i.as_f64(),
            ValueRef::F64(f) => Some(*f),
            ValueRef::F32(f) => Some(*f as f64),
            _ => None,
        };
        n.map(Some).ok_or_else(|| self.bad(key, "a number"))
    }

    fn string(&self, key: &str) -> Result<Option<&'v str>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(ValueRef::String(s)) => s.as_str().map(Some).ok_or_else(|| self.bad(key, "a UTF-8 string")),
            Some(_) => Err(self.bad(key, "a string")),
        }
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(ValueRef::Boolean(b)) => Ok(Some(*b)),
            Some(_) => Err(self.bad(key, "a boolean")),
        }
    }

    /// Binary data (MessagePack `bin`, or `ext` as nlohmann writes binary with a subtype).
    fn binary(&self, key: &str) -> Result<Option<&'a [u8]>, FieldError> {
        match self.get(key) {
            None | Some(ValueRef::Nil) => Ok(None),
            Some(ValueRef::Binary(b)) => Ok(Some(b)),
            Some(ValueRef::Ext(_, b)) => Ok(Some(b)),
            Some(_) => Err(self.bad(key, "binary data")),
        }
    }

    /// Three numbers.
    fn vec3(&self, key: &str) -> Result<Option<[f32; 3]>, FieldError> {
        let Some(v) = self.get(key) else { return Ok(None) };
        let ValueRef::Array(items) = v else {
            return Err(self.bad(key, "an array of 3 numbers"));
        };
        if items.len() != 3 {
            return Err(self.bad(key, "an array of 3 numbers"));
        }
        let mut out = [0f32; 3];
        for (o, item) in out.iter_mut().zip(items) {
            *o = match item {
                ValueRef::Integer(i) => i.as_f64().map(|f| f as f32),
                ValueRef::F64(f) => Some(*f as f32),
                ValueRef::F32(f) => Some(*f),
                _ => None,
            }
            .ok_or_else(|| self.bad(key, "an array of 3 numbers"))?;
        }
        Ok(Some(out))
    }
}

/// Looks up a map; `Ok(None)` when absent, an error when present but not a map.
fn child<'v, 'a>(node: &Node<'v, 'a>, key: &str, path: &'v mut String) -> Result<Option<Node<'v, 'a>>, FieldError> {
    match node.get(key) {
        None | Some(ValueRef::Nil) => Ok(None),
        Some(v @ ValueRef::Map(_)) => {
            *path = join(node.path, key);
            Ok(Some(Node { value: v, path }))
        }
        Some(_) => Err(node.bad(key, "a map")),
    }
}

fn next_multiple(n: u64, m: u64) -> u64 {
    n.div_ceil(m) * m
}

/// tiny-cuda-nn's activation names (case-insensitive) → ours.
fn activation(name: &str, what: &str) -> Result<Activation, FieldError> {
    match name.to_ascii_lowercase().as_str() {
        "none" => Ok(Activation::None),
        "relu" => Ok(Activation::Relu),
        "sigmoid" => Ok(Activation::Sigmoid),
        "exponential" => Ok(Activation::Exp),
        _ => Err(FieldError::unsupported(format!(
            "{what} activation `{name}` (cortexlens has None, ReLU, Sigmoid and Exponential)"
        ))),
    }
}

/// A tiny-cuda-nn MLP (`FullyFusedMLP` or `CutlassMLP`) as configured.
struct Mlp {
    /// Width of the hidden layers.
    neurons: u64,
    /// Hidden layers (`n_hidden_layers`).
    hidden_layers: u64,
    activation: Activation,
    output_activation: Activation,
    /// Inputs of the first matrix (already padded by the caller).
    inputs: u64,
    /// Outputs padded to a multiple of 16 (tiny-cuda-nn's `REQUIRED_ALIGNMENT` of both MLPs).
    padded_outputs: u64,
}

impl Mlp {
    /// Parses a network config; `what` names it in messages.
    fn parse(node: &Node<'_, '_>, what: &str, inputs: u64, outputs: u64) -> Result<Mlp, FieldError> {
        let otype = node.string("otype")?.unwrap_or("MLP");
        let fused = otype.eq_ignore_ascii_case("FullyFusedMLP") || otype.eq_ignore_ascii_case("MegakernelMLP");
        let cutlass = otype.eq_ignore_ascii_case("CutlassMLP") || otype.eq_ignore_ascii_case("MLP");
        if !fused && !cutlass {
            return Err(FieldError::unsupported(format!(
                "{what} otype `{otype}` (tiny-cuda-nn's FullyFusedMLP or CutlassMLP are supported)"
            )));
        }
        let neurons = node.uint_or("n_neurons", 128)?;
        let hidden_layers = node.uint_or("n_hidden_layers", 5)?;
        // No `FullyFusedMLP` rule on `n_neurons` or `n_hidden_layers ≥ 1` here: builds without
        // fully fused kernels (TCNN_MIN_GPU_ARCH ≤ 70, or fp32 networks) run such a configuration as
        // a `CutlassMLP` (`network.cu` 51-77), whose parameter layout is the same.
        if neurons == 0 || neurons > 4096 || hidden_layers > 64 {
            return Err(FieldError::bad_header(format!(
                "{what} has {neurons} neurons and {hidden_layers} hidden layers"
            )));
        }
        Ok(Mlp {
            neurons,
            hidden_layers,
            activation: activation(node.string("activation")?.unwrap_or("ReLU"), what)?,
            output_activation: activation(node.string("output_activation")?.unwrap_or("None"), what)?,
            inputs,
            padded_outputs: next_multiple(outputs, 16),
        })
    }

    /// `(rows, cols)` of each weight matrix, first layer first.
    fn shapes(&self) -> Vec<(u64, u64)> {
        if self.hidden_layers == 0 {
            return vec![(self.padded_outputs, self.inputs)];
        }
        let mut shapes = vec![(self.neurons, self.inputs)];
        shapes.extend((1..self.hidden_layers).map(|_| (self.neurons, self.neurons)));
        shapes.push((self.padded_outputs, self.neurons));
        shapes
    }

    fn n_params(&self) -> u64 {
        self.shapes().iter().map(|(r, c)| r * c).sum()
    }

    /// Splits `params` into this MLP's matrices.
    fn matrices(&self, params: &[f32]) -> Vec<Matrix> {
        let mut offset = 0usize;
        self.shapes()
            .into_iter()
            .map(|(rows, cols)| {
                let (rows, cols) = (rows as usize, cols as usize);
                let data = params[offset..offset + rows * cols].to_vec();
                offset += rows * cols;
                Matrix { rows, cols, data }
            })
            .collect()
    }

    /// Activation after matrix `i` of `count`.
    fn activation_after(&self, i: usize, count: usize) -> Activation {
        if i + 1 == count {
            self.output_activation
        } else {
            self.activation
        }
    }
}

/// A row-major weight matrix.
struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f32>,
}

impl Matrix {
    fn at(&self, r: usize, c: usize) -> f32 {
        self.data[r * self.cols + c]
    }
}

/// The multiresolution hash grid as configured.
struct Grid {
    levels: u32,
    features: u32,
    log2_table_size: u32,
    base_resolution: u32,
    per_level_scale: f32,
}

impl Grid {
    /// Entries of level `l` exactly as tiny-cuda-nn's `GridEncodingTemplated` sizes them.
    fn level_entries(&self, l: u32) -> u64 {
        let scale = (l as f32 * self.per_level_scale.log2()).exp2() * self.base_resolution as f32 - 1.0;
        let resolution = scale.ceil() as u32 as u64 + 1;
        let max_params = (u32::MAX / 2) as u64;
        let dense = if (resolution as f32).powi(3) > max_params as f32 {
            max_params
        } else {
            resolution.pow(3)
        };
        next_multiple(dense, 8).min(1u64 << self.log2_table_size)
    }

    fn n_params(&self) -> u64 {
        (0..self.levels).map(|l| self.level_entries(l)).sum::<u64>() * self.features as u64
    }
}

/// Everything read from the configuration, before any weight is touched.
struct Layout {
    grid: Grid,
    density: Mlp,
    rgb: Mlp,
    /// SH degree of the direction encoding.
    sh_degree: u32,
    /// Leading ones that pad the direction encoding to a multiple of 16.
    dir_padding: u64,
}

impl Layout {
    fn n_params(&self) -> u64 {
        self.density.n_params() + self.rgb.n_params() + self.grid.n_params()
    }
}

/// `aabb_scale` as instant-ngp's `load_snapshot` resolves it when it opens a snapshot on its own (no
/// training data loaded, `testbed.cu` 5386-5392): `snapshot.nerf.dataset.aabb_scale` when the
/// snapshot carries its dataset, else `snapshot.nerf.aabb_scale`, else 1. `load_nerf_post` then
/// requires a power of two of at most 128 (`testbed_nerf.cu` 2408-2422).
fn aabb_scale(snapshot: &Node<'_, '_>) -> Result<u32, FieldError> {
    let mut p1 = String::new();
    let mut p2 = String::new();
    let Some(nerf) = child(snapshot, "nerf", &mut p1)? else {
        return Ok(1);
    };
    let from_dataset = match child(&nerf, "dataset", &mut p2)? {
        Some(dataset) => dataset.uint("aabb_scale")?,
        None => None,
    };
    let scale = match from_dataset {
        Some(s) => s,
        None => nerf.uint_or("aabb_scale", 1)?,
    };
    let max = 1u64 << (NERF_CASCADES - 1);
    if scale == 0 || scale > max || !scale.is_power_of_two() {
        return Err(FieldError::bad_header(format!(
            "`snapshot.nerf{}.aabb_scale` is {scale}: instant-ngp requires a power of two from 1 to {max}",
            if from_dataset.is_some() { ".dataset" } else { "" }
        )));
    }
    Ok(scale as u32)
}

/// Reads the network configuration as instant-ngp's `reset_network` and `NerfNetwork` build it.
fn layout(root: &Node<'_, '_>, aabb_scale: u32) -> Result<Layout, FieldError> {
    let (mut pe, mut pn, mut pd, mut pr) = (String::new(), String::new(), String::new(), String::new());
    let missing = |key: &str| FieldError::bad_header(format!("no `{key}` object in the network configuration"));
    let encoding = child(root, "encoding", &mut pe)?.ok_or_else(|| missing("encoding"))?;
    let network = child(root, "network", &mut pn)?.ok_or_else(|| missing("network"))?;
    let dir_encoding = child(root, "dir_encoding", &mut pd)?.ok_or_else(|| missing("dir_encoding"))?;
    let rgb_network = child(root, "rgb_network", &mut pr)?.ok_or_else(|| missing("rgb_network"))?;

    // Position encoding (instant-ngp's `reset_network` fills in defaults, tiny-cuda-nn's
    // `create_grid_encoding` reads them).
    let otype = encoding.string("otype")?.unwrap_or("OneBlob");
    let default_type = if otype.eq_ignore_ascii_case("TiledGrid") {
        "Tiled"
    } else if otype.eq_ignore_ascii_case("DenseGrid") {
        "Dense"
    } else {
        "Hash"
    };
    let grid_type = encoding.string("type")?.unwrap_or(default_type);
    if !otype.to_ascii_lowercase().contains("grid") || !grid_type.eq_ignore_ascii_case("Hash") {
        return Err(FieldError::unsupported(format!(
            "position encoding `{otype}` of type `{grid_type}` (only tiny-cuda-nn's hash grid is supported)"
        )));
    }
    for (key, default, supported) in [
        ("interpolation", "Linear", "Linear"),
        ("hash", "CoherentPrime", "CoherentPrime"),
    ] {
        let value = encoding.string(key)?.unwrap_or(default);
        if !value.eq_ignore_ascii_case(supported) {
            return Err(FieldError::unsupported(format!(
                "hash grid {key} `{value}` (only `{supported}` is supported)"
            )));
        }
    }
    if encoding.boolean("fixed_point_pos")?.unwrap_or(false) {
        return Err(FieldError::unsupported("hash grid with fixed_point_pos"));
    }
    let features = encoding.u32_or("n_features_per_level", 2)?;
    let levels = match encoding.uint("n_features")? {
        Some(n) if n > 0 => u32::try_from(n / features.max(1) as u64).unwrap_or(u32::MAX),
        _ => encoding.u32_or("n_levels", 16)?,
    };
    let log2_table_size = encoding.u32_or("log2_hashmap_size", 19)?;
    if !(1..=8).contains(&features) || !(1..=32).contains(&levels) || log2_table_size > MAX_LOG2_TABLE_SIZE {
        return Err(FieldError::unsupported(format!(
            "hash grid with {levels} levels of {features} features and 2^{log2_table_size} entries \
             (at most 32 levels, 8 features, 2^{MAX_LOG2_TABLE_SIZE} entries)"
        )));
    }
    let base_resolution = match encoding.u32_or("base_resolution", 0)? {
        // instant-ngp's default uses its own default of 15 for log2_hashmap_size.
        0 => 1u32 << (encoding.u32_or("log2_hashmap_size", 15)?.min(30) / 3),
        b => b,
    };
    let mut per_level_scale = encoding.number("per_level_scale")?.unwrap_or(0.0) as f32;
    if per_level_scale <= 0.0 {
        per_level_scale = if levels > 1 {
            ((2048.0f32 * aabb_scale as f32 / base_resolution as f32).ln() / (levels - 1) as f32).exp()
        } else {
            2.0
        };
    }
    if !per_level_scale.is_finite() {
        return Err(FieldError::bad_header("`encoding.per_level_scale` is not finite"));
    }
    let grid = Grid {
        levels,
        features,
        log2_table_size,
        base_resolution,
        per_level_scale,
    };

    // Density MLP: its input is the encoding padded to 16 (FullyFusedMLP) or 8 (otherwise), with zeros.
    let density_otype = network.string("otype")?.unwrap_or("");
    let pos_alignment =
        if density_otype.eq_ignore_ascii_case("FullyFusedMLP") || density_otype.eq_ignore_ascii_case("MegakernelMLP") {
            16
        } else {
            8
        };
    let n_encoded = levels as u64 * features as u64;
    let density_outputs = network.uint_or("n_output_dims", 16)?;
    if density_outputs == 0 || density_outputs > 4096 {
        return Err(FieldError::bad_header(format!(
            "`network.n_output_dims` is {density_outputs}"
        )));
    }
    let density = Mlp::parse(
        &network,
        "density network",
        next_multiple(n_encoded, pos_alignment),
        density_outputs,
    )?;
    if density.output_activation != Activation::None {
        return Err(FieldError::unsupported(
            "density network with an output activation (its outputs feed the colour network raw)",
        ));
    }

    // Direction encoding: spherical harmonics of the view direction, alone or first in a Composite
    // whose other part (per-image latent codes) must be empty.
    let dir_otype = dir_encoding.string("otype")?.unwrap_or("");
    let nested_path: String;
    let sh = if dir_otype.eq_ignore_ascii_case("SphericalHarmonics") {
        dir_encoding
    } else if dir_otype.eq_ignore_ascii_case("Composite") {
        let nested = match dir_encoding.get("nested") {
            Some(ValueRef::Array(items)) => items,
            _ => return Err(dir_encoding.bad("nested", "an array")),
        };
        nested_path = join(dir_encoding.path, "nested.0");
        let first = nested
            .first()
            .ok_or_else(|| dir_encoding.bad("nested", "a non-empty array"))?;
        let first = Node {
            value: first,
            path: &nested_path,
        };
        let first_otype = first.string("otype")?.unwrap_or("");
        if !first_otype.eq_ignore_ascii_case("SphericalHarmonics") || first.uint_or("n_dims_to_encode", 3)? != 3 {
            return Err(FieldError::unsupported(format!(
                "direction encoding `{first_otype}` (spherical harmonics of the 3D direction are supported)"
            )));
        }
        first
    } else {
        return Err(FieldError::unsupported(format!(
            "direction encoding `{dir_otype}` (spherical harmonics are supported)"
        )));
    };
    let sh_degree = sh.u32_or("degree", 4)?;
    if !(1..=8).contains(&sh_degree) {
        return Err(FieldError::bad_header(format!(
            "spherical harmonics degree {sh_degree}"
        )));
    }
    let dir_width = next_multiple(sh_degree as u64 * sh_degree as u64, 16);
    let dir_padding = dir_width - (sh_degree * sh_degree) as u64;
    let rgb_inputs = density.padded_outputs + dir_width;
    let rgb = Mlp::parse(&rgb_network, "colour network", rgb_inputs, 3)?;
    if rgb.output_activation != Activation::None {
        return Err(FieldError::unsupported(
            "colour network with an output activation (instant-ngp applies the colour activation itself)",
        ));
    }
    if rgb.hidden_layers > 0 && rgb.activation != Activation::Relu {
        return Err(FieldError::unsupported(
            "colour network whose hidden activation is not ReLU (σ is carried through it on ReLU units)",
        ));
    }
    Ok(Layout {
        grid,
        density,
        rgb,
        sh_degree,
        dir_padding,
    })
}

/// Converts the snapshot's parameter bytes to `f32`.
fn params_f32(snapshot: &Node<'_, '_>, n_params: u64) -> Result<Vec<f32>, FieldError> {
    let bytes = snapshot
        .binary("params_binary")?
        .ok_or_else(|| FieldError::bad_header("no `snapshot.params_binary`"))?;
    let size = match snapshot.string("params_type")? {
        Some("__half") => 2,
        Some("float") => 4,
        Some(other) => {
            return Err(FieldError::unsupported(format!(
                "`snapshot.params_type` `{other}` (`__half` or `float`)"
            )));
        }
        // Older snapshots: tell by the length, half being tiny-cuda-nn's default.
        None if bytes.len() as u64 == n_params * 4 => 4,
        None => 2,
    };
    let want = n_params * size;
    if (bytes.len() as u64) < want {
        return Err(FieldError::truncated(format!(
            "`snapshot.params_binary` holds {} bytes, {n_params} parameters of {size} bytes need {want}",
            bytes.len()
        )));
    }
    if bytes.len() as u64 != want {
        return Err(FieldError::bad_header(format!(
            "`snapshot.params_binary` holds {} bytes, {n_params} parameters of {size} bytes need {want}",
            bytes.len()
        )));
    }
    Ok(if size == 2 {
        f16_to_f32(bytes)
    } else {
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    })
}

/// Decodes a (decompressed) snapshot.
fn decode_snapshot(bytes: &[u8], options: &IngpImport) -> Result<NeuralField, FieldError> {
    let value = rmpv::decode::read_value_ref(&mut &bytes[..]).map_err(|e| match &e {
        rmpv::decode::Error::InvalidMarkerRead(io) | rmpv::decode::Error::InvalidDataRead(io)
            if io.kind() == std::io::ErrorKind::UnexpectedEof =>
        {
            FieldError::truncated(format!("the MessagePack data ends early: {e}"))
        }
        _ => FieldError::not_format(FORMAT, format!("not MessagePack: {e}")),
    })?;
    let root = Node {
        value: &value,
        path: "",
    };
    if !matches!(value, ValueRef::Map(_)) {
        return Err(FieldError::not_format(FORMAT, "the MessagePack data is not a map"));
    }
    let mut ps = String::new();
    let snapshot = child(&root, "snapshot", &mut ps)?.ok_or_else(|| {
        FieldError::not_format(
            FORMAT,
            "no `snapshot` map: a network configuration without trained weights",
        )
    })?;
    let version = snapshot.uint_or("version", 0)?;
    if version < 1 {
        return Err(FieldError::unsupported(
            "snapshot format version 0 (instant-ngp itself no longer loads it)",
        ));
    }
    match snapshot.string("mode")? {
        Some(mode) if !mode.eq_ignore_ascii_case("nerf") => {
            return Err(FieldError::unsupported(format!(
                "instant-ngp `{mode}` snapshot (only NeRF snapshots hold a radiance field)"
            )));
        }
        None if snapshot.get("nerf").is_none() => {
            return Err(FieldError::unsupported(
                "snapshot without a mode and without `nerf` data",
            ));
        }
        _ => {}
    }

    let (mut pn, mut pd) = (String::new(), String::new());
    if let Some(nerf) = child(&snapshot, "nerf", &mut pn)?
        && let Some(dataset) = child(&nerf, "dataset", &mut pd)?
    {
        if dataset.boolean("is_hdr")?.unwrap_or(false) {
            return Err(FieldError::unsupported(
                "HDR snapshot (instant-ngp's exponential colour activation; cortexlens reads colour through a sigmoid)",
            ));
        }
        let extra = dataset.uint_or("n_extra_learnable_dims", 0)?;
        if extra > 0 {
            return Err(FieldError::unsupported(format!(
                "snapshot with {extra} per-image latent dimensions (n_extra_learnable_dims)"
            )));
        }
    }

    let scale = aabb_scale(&snapshot)?;
    let layout = layout(&root, scale)?;
    let want = layout.n_params();
    let n_params = snapshot
        .uint("n_params")?
        .ok_or_else(|| FieldError::bad_header("no `snapshot.n_params`"))?;
    if n_params != want {
        return Err(FieldError::bad_header(format!(
            "`snapshot.n_params` is {n_params}, the network configuration needs {want} \
             (density MLP {} + colour MLP {} + hash grid {})",
            layout.density.n_params(),
            layout.rgb.n_params(),
            layout.grid.n_params()
        )));
    }
    let table = 1u64 << layout.grid.log2_table_size;
    let our_bytes = layout.grid.levels as u64 * table * layout.grid.features as u64 * 4;
    if our_bytes > MEMORY_BUDGET {
        return Err(FieldError::too_large(format!(
            "the hash grid takes {our_bytes} bytes as f32, over the memory budget of {} GiB",
            MEMORY_BUDGET >> 30
        )));
    }
    let params = params_f32(&snapshot, n_params)?;

    let (bounds_min, bounds_max) = bounds(&snapshot, scale)?;
    let field = NeuralField {
        bounds_min,
        bounds_max,
        encoding: Encoding::HashGrid(hash_grid(&layout, &params)),
        layers: layers(&layout, &params, options.view_direction)?,
        cam: None,
        output: FieldOutput::DensityRgb,
        occupancy: if options.occupancy {
            occupancy(&snapshot, scale, bounds_min, bounds_max)?
        } else {
            None
        },
    };
    field.validate()?;
    Ok(field)
}

/// The snapshot's `aabb`, else instant-ngp's default box for `aabb_scale`.
fn bounds(snapshot: &Node<'_, '_>, aabb_scale: u32) -> Result<([f32; 3], [f32; 3]), FieldError> {
    let mut pa = String::new();
    if let Some(aabb) = child(snapshot, "aabb", &mut pa)? {
        let min = aabb
            .vec3("min")?
            .ok_or_else(|| aabb.bad("min", "an array of 3 numbers"))?;
        let max = aabb
            .vec3("max")?
            .ok_or_else(|| aabb.bad("max", "an array of 3 numbers"))?;
        return Ok((min, max));
    }
    let half = 0.5 * aabb_scale as f32;
    Ok(([0.5 - half; 3], [0.5 + half; 3]))
}

/// The hash grid, each level padded to `2^T` entries by repetition.
fn hash_grid(layout: &Layout, params: &[f32]) -> HashGrid {
    let g = &layout.grid;
    let features = g.features as usize;
    let table = 1usize << g.log2_table_size;
    let grid_params = &params[(layout.density.n_params() + layout.rgb.n_params()) as usize..];
    let mut out = vec![0f32; g.levels as usize * table * features];
    let mut offset = 0usize;
    for l in 0..g.levels {
        let entries = g.level_entries(l) as usize;
        let src = &grid_params[offset * features..(offset + entries) * features];
        let dst = &mut out[l as usize * table * features..(l as usize + 1) * table * features];
        for chunk in dst.chunks_mut(src.len()) {
            chunk.copy_from_slice(&src[..chunk.len()]);
        }
        offset += entries;
    }
    HashGrid {
        levels: g.levels,
        features: g.features,
        log2_table_size: g.log2_table_size,
        base_resolution: g.base_resolution,
        per_level_scale: g.per_level_scale,
        params: out,
    }
}

/// A layer from rows of a matrix restricted to some columns.
fn layer_from(m: &Matrix, rows: usize, cols: usize, activation: Activation) -> DenseLayer {
    let mut weight = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        weight.extend_from_slice(&m.data[r * m.cols..r * m.cols + cols]);
    }
    DenseLayer {
        inputs: cols,
        outputs: rows,
        weight,
        bias: vec![0.0; rows],
        activation,
    }
}

/// The MLP chain: density layers, then the colour layers with the direction folded into the first
/// one's bias and log σ carried alongside.
fn layers(layout: &Layout, params: &[f32], view_direction: [f32; 3]) -> Result<Vec<DenseLayer>, FieldError> {
    let d = view_direction;
    let norm = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
    if !norm.is_finite() || norm == 0.0 {
        return Err(FieldError::bad_header(format!("view direction {d:?} has no length")));
    }
    // Round-trip through instant-ngp's warp ((d + 1) / 2) and tiny-cuda-nn's unwarp (× 2 − 1).
    let dir = d.map(|c| ((c / norm + 1.0) * 0.5) * 2.0 - 1.0);
    let mut dir_input = vec![1.0f32; layout.dir_padding as usize];
    dir_input.extend(spherical_harmonics(layout.sh_degree, dir));

    let density_params = layout.density.n_params() as usize;
    let density = layout.density.matrices(&params[..density_params]);
    let rgb = layout
        .rgb
        .matrices(&params[density_params..density_params + layout.rgb.n_params() as usize]);

    let mut out = Vec::new();
    let n_encoded = (layout.grid.levels * layout.grid.features) as usize;
    for (i, m) in density.iter().enumerate() {
        let cols = if i == 0 { n_encoded } else { m.cols };
        out.push(layer_from(
            m,
            m.rows,
            cols,
            layout.density.activation_after(i, density.len()),
        ));
    }

    let dens_width = layout.density.padded_outputs as usize;
    let first = &rgb[0];
    let folded_bias: Vec<f32> = (0..first.rows)
        .map(|r| {
            dir_input
                .iter()
                .enumerate()
                .map(|(c, v)| first.at(r, dens_width + c) * v)
                .sum()
        })
        .collect();

    if rgb.len() == 1 {
        // No hidden colour layer: one output layer [log σ, r, g, b] from the density outputs.
        let mut weight = vec![0f32; 4 * dens_width];
        weight[0] = 1.0;
        let mut bias = vec![0f32; 4];
        for c in 0..3 {
            weight[(c + 1) * dens_width..(c + 2) * dens_width]
                .copy_from_slice(&first.data[c * first.cols..c * first.cols + dens_width]);
            bias[c + 1] = folded_bias[c];
        }
        out.push(DenseLayer {
            inputs: dens_width,
            outputs: 4,
            weight,
            bias,
            activation: Activation::Exp,
        });
        return Ok(out);
    }

    let n = layout.rgb.neurons as usize;
    let width = n + 2;
    // First colour layer: the hidden units, then relu(log σ) and relu(−log σ).
    let mut first_layer = layer_from(first, n, dens_width, Activation::Relu);
    first_layer.bias.copy_from_slice(&folded_bias[..n]);
    let mut carry = vec![0f32; 2 * dens_width];
    carry[0] = 1.0;
    carry[dens_width] = -1.0;
    first_layer.weight.extend(carry);
    first_layer.bias.extend([0.0, 0.0]);
    first_layer.outputs = width;
    out.push(first_layer);

    for m in &rgb[1..rgb.len() - 1] {
        let mut weight = vec![0f32; width * width];
        for r in 0..n {
            weight[r * width..r * width + n].copy_from_slice(&m.data[r * n..(r + 1) * n]);
        }
        weight[n * width + n] = 1.0;
        weight[(n + 1) * width + n + 1] = 1.0;
        out.push(DenseLayer {
            inputs: width,
            outputs: width,
            weight,
            bias: vec![0.0; width],
            activation: Activation::Relu,
        });
    }

    let last = &rgb[rgb.len() - 1];
    let mut weight = vec![0f32; 4 * width];
    weight[n] = 1.0;
    weight[n + 1] = -1.0;
    for c in 0..3 {
        weight[(c + 1) * width..(c + 1) * width + n].copy_from_slice(&last.data[c * n..(c + 1) * n]);
    }
    out.push(DenseLayer {
        inputs: width,
        outputs: 4,
        weight,
        bias: vec![0.0; 4],
        activation: Activation::Exp,
    });
    Ok(out)
}

/// Spreads the low 10 bits of `v` to every third bit (tiny-cuda-nn's `expand_bits`).
fn expand_bits(v: u32) -> u32 {
    let mut v = v.wrapping_mul(0x0001_0001) & 0xFF00_00FF;
    v = v.wrapping_mul(0x0000_0101) & 0x0F00_F00F;
    v = v.wrapping_mul(0x0000_0011) & 0xC30C_30C3;
    v.wrapping_mul(0x0000_0005) & 0x4924_9249
}

/// The density grid as a 128³ occupancy grid over the bounds (see the module documentation).
fn occupancy(
    snapshot: &Node<'_, '_>,
    aabb_scale: u32,
    bounds_min: [f32; 3],
    bounds_max: [f32; 3],
) -> Result<Option<OccupancyGrid>, FieldError> {
    let Some(bytes) = snapshot.binary("density_grid_binary")? else {
        return Ok(None);
    };
    if bytes.is_empty() {
        return Ok(None);
    }
    let size = snapshot.uint_or("density_grid_size", NERF_GRIDSIZE as u64)?;
    if size != NERF_GRIDSIZE as u64 {
        return Err(FieldError::bad_header(format!(
            "`snapshot.density_grid_size` is {size}, instant-ngp's grid has {NERF_GRIDSIZE}"
        )));
    }
    let cells = NERF_GRIDSIZE * NERF_GRIDSIZE * NERF_GRIDSIZE;
    let mut max_cascade = 0u32;
    while (1u32 << max_cascade) < aabb_scale {
        max_cascade += 1;
    }
    let cascades = max_cascade as usize + 1;
    if bytes.len() != cascades * cells * 2 {
        let detail = format!(
            "`snapshot.density_grid_binary` holds {} bytes, {cascades} cascades of 128³ fp16 values need {}",
            bytes.len(),
            cascades * cells * 2
        );
        return Err(if bytes.len() < cascades * cells * 2 {
            FieldError::truncated(detail)
        } else {
            FieldError::bad_header(detail)
        });
    }
    let grid = f16_to_f32(bytes);
    let mean = (grid[..cells].iter().map(|v| v.max(0.0) as f64).sum::<f64>() / cells as f64) as f32;
    let threshold = NERF_MIN_OPTICAL_THICKNESS.min(mean);

    // Bitfields in x-fastest order, cascade by cascade, each OR-ed with the max-pool of the finer one.
    let n = NERF_GRIDSIZE;
    let spread: Vec<usize> = (0..n as u32).map(|v| expand_bits(v) as usize).collect();
    let mut level: Vec<bool> = Vec::new();
    for c in 0..cascades {
        let values = &grid[c * cells..(c + 1) * cells];
        let mut bits = vec![false; cells];
        for (z, plane) in bits.chunks_exact_mut(n * n).enumerate() {
            for (y, row) in plane.chunks_exact_mut(n).enumerate() {
                let yz = (spread[y] << 1) | (spread[z] << 2);
                for (x, bit) in row.iter_mut().enumerate() {
                    *bit = values[spread[x] | yz] > threshold;
                }
            }
        }
        if c > 0 {
            for (cell, _) in level.iter().enumerate().filter(|(_, on)| **on) {
                let (x, y, z) = (cell % n, (cell / n) % n, cell / (n * n));
                let (px, py, pz) = (x / 2 + n / 4, y / 2 + n / 4, z / 2 + n / 4);
                bits[(pz * n + py) * n + px] = true;
            }
        }
        level = bits;
    }

    // Resample the coarsest cascade (side 2^max_cascade, centred at 0.5) onto 128³ cells over the bounds.
    let side = (1u64 << max_cascade) as f64;
    let to_cascade = |d: usize, t: f64| -> f64 {
        let p = bounds_min[d] as f64 + t * (bounds_max[d] as f64 - bounds_min[d] as f64);
        ((p - 0.5) / side + 0.5) * n as f64
    };
    let mut ranges = [[(0usize, 0usize); NERF_GRIDSIZE]; 3];
    for (d, axis) in ranges.iter_mut().enumerate() {
        for (i, range) in axis.iter_mut().enumerate() {
            let lo = to_cascade(d, i as f64 / n as f64).floor().max(0.0);
            let hi = to_cascade(d, (i + 1) as f64 / n as f64).ceil().min(n as f64);
            *range = if hi > lo { (lo as usize, hi as usize) } else { (0, 0) };
        }
    }
    let identity = ranges
        .iter()
        .all(|axis| axis.iter().enumerate().all(|(i, &r)| r == (i, i + 1)));
    let occupied: Vec<u8> = if identity {
        level.iter().map(|&on| on as u8).collect()
    } else {
        let mut occupied = vec![0u8; cells];
        for k in 0..n {
            for j in 0..n {
                for i in 0..n {
                    let (x0, x1) = ranges[0][i];
                    let (y0, y1) = ranges[1][j];
                    let (z0, z1) = ranges[2][k];
                    let any = (z0..z1).any(|z| (y0..y1).any(|y| (x0..x1).any(|x| level[(z * n + y) * n + x])));
                    occupied[(k * n + j) * n + i] = any as u8;
                }
            }
        }
        occupied
    };
    Ok(Some(OccupancyGrid {
        resolution: [n as u32; 3],
        occupied,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// instant-ngp's Morton index of a density-grid cell.
    fn morton3d(x: u32, y: u32, z: u32) -> u32 {
        expand_bits(x) | (expand_bits(y) << 1) | (expand_bits(z) << 2)
    }

    #[test]
    fn morton_order() {
        assert_eq!(morton3d(1, 0, 0), 1);
        assert_eq!(morton3d(0, 1, 0), 2);
        assert_eq!(morton3d(0, 0, 1), 4);
        assert_eq!(morton3d(127, 127, 127), (1 << 21) - 1);
    }

    #[test]
    fn sh_basis_is_orthonormal_at_degree_0_and_1() {
        let v = spherical_harmonics(2, [0.0, 0.0, 1.0]);
        assert_eq!(v.len(), 4);
        assert!((v[0] - 0.282_094_8).abs() < 1e-7);
        assert!((v[2] - 0.488_602_5).abs() < 1e-7);
        assert_eq!(v[1], 0.0);
        // Σ over a band of Y² = (2l+1)/(4π) for any unit direction.
        let d = [0.36f32, -0.48, 0.8];
        let v = spherical_harmonics(8, d);
        for l in 0..8usize {
            let band: f32 = v[l * l..(l + 1) * (l + 1)].iter().map(|y| y * y).sum();
            let want = (2 * l + 1) as f32 / (4.0 * std::f32::consts::PI);
            assert!((band - want).abs() < 1e-4 * want.max(1.0), "band {l}: {band} vs {want}");
        }
    }

    #[test]
    fn default_grid_size_matches_the_research_notes() {
        // configs/nerf/base.json at aabb_scale 1: 11,692,032 parameters (docs: research notes).
        let grid = Grid {
            levels: 8,
            features: 4,
            log2_table_size: 19,
            base_resolution: 16,
            per_level_scale: ((2048.0f32 / 16.0).ln() / 7.0).exp(),
        };
        assert_eq!(grid.n_params() + 3072 + 7168, 11_692_032);
    }
}
