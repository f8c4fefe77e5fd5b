//! BrainSCUBA's projection of voxel weights onto a pool of natural-image embeddings
//! (`softmax_convex` in BrainSCUBA's `projection.py`).
//!
//! For a voxel weight `w`: `ŵ = w/‖w‖`, `p_j = softmax_j(T·⟨ŵ, ê_j⟩)` over the pool's unit
//! embeddings `ê_j`, and the result is `normalize(Σ p_j ê_j) · Σ p_j ‖e_j‖`: the direction of the
//! softmax-weighted mean of unit embeddings with the weighted mean of the embeddings' norms (ClipCap
//! was trained on raw, unnormalised CLIP embeddings).
//!
//! The pool is a safetensors file with one tensor `embeddings` `[M, D]` f16, memory-mapped and
//! streamed in blocks of pool entries; each block serves all voxels at once (matrix products), and
//! the softmax is accumulated online with a running maximum, so nothing of size `M × N` exists.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::{D, DType, Device, Tensor};
use half::f16;
use half::slice::{HalfBitsSliceExt, HalfFloatSliceExt};
use memmap2::Mmap;
use safetensors::tensor::{Dtype, SafeTensors};

use crate::FileError;

/// BrainSCUBA's softmax temperature (the inverse of τ = 1/150).
pub const DEFAULT_TEMPERATURE: f32 = 150.0;
/// The name of the pool's tensor.
pub const POOL_TENSOR: &str = "embeddings";

/// Why a projection failed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The pool file could not be read or written, or is not a safetensors file with an
    /// `embeddings` `[M, D]` f16 tensor.
    #[error(transparent)]
    File(#[from] FileError),
    /// Bad arguments (dimensions that disagree, a zero block size, a non-finite temperature).
    #[error("projection: {0}")]
    Invalid(String),
    /// The cancel flag was raised.
    #[error("projection was cancelled")]
    Cancelled,
    /// An error from candle.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
}

/// A memory-mapped pool of image embeddings `[M, D]` f16.
pub struct EmbeddingPool {
    map: Mmap,
    offset: usize,
    count: usize,
    dim: usize,
}

impl EmbeddingPool {
    /// Maps `path` and checks its `embeddings` tensor.
    pub fn open(path: &Path) -> Result<EmbeddingPool, ProjectionError> {
        let io = FileError::io(path);
        let format = |message: String| ProjectionError::from(FileError::format(path, message));
        let file = File::open(path).map_err(io)?;
        // SAFETY: the map is read-only; a pool file truncated or rewritten by another process while
        // mapped is outside what this program supports (as for any memory-mapped model file).
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        let (header_len, header) =
            SafeTensors::read_metadata(&map).map_err(|e| format(format!("not safetensors: {e}")))?;
        let info = header
            .info(POOL_TENSOR)
            .ok_or_else(|| format(format!("no tensor {POOL_TENSOR:?}")))?;
        let &[count, dim] = info.shape.as_slice() else {
            return Err(format(format!(
                "{POOL_TENSOR} has shape {:?}, expected [M, D]",
                info.shape
            )));
        };
        if info.dtype != Dtype::F16 {
            return Err(format(format!("{POOL_TENSOR} is {:?}, expected F16", info.dtype)));
        }
        if count == 0 || dim == 0 {
            return Err(format(format!("{POOL_TENSOR} is empty ({count} × {dim})")));
        }
        let offset = 8 + header_len + info.data_offsets.0;
        if info.data_offsets.1 - info.data_offsets.0 != count * dim * 2 || offset + count * dim * 2 > map.len() {
            return Err(format("truncated embeddings".into()));
        }
        Ok(EmbeddingPool {
            map,
            offset,
            count,
            dim,
        })
    }

    /// Number of embeddings `M`.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the pool is empty (never, for an opened pool).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Embedding dimension `D`.
    pub fn dim(&self) -> usize {
        self.dim
    }

    fn bytes(&self, start: usize, len: usize) -> &[u8] {
        let row = self.dim * 2;
        &self.map[self.offset + start * row..self.offset + (start + len) * row]
    }

    /// Embedding `index` as f32.
    pub fn embedding(&self, index: usize) -> Option<Vec<f32>> {
        (index < self.count).then(|| {
            self.bytes(index, 1)
                .chunks_exact(2)
                .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect()
        })
    }

    /// Rows `start..start+len` as an f32 tensor `[len, D]` on `device`. On the CPU the rows are
    /// converted with `half`'s slice conversion (F16C vector instructions where the processor has
    /// them); elsewhere the f16 bytes go to the device and are converted there.
    fn block(&self, start: usize, len: usize, device: &Device) -> Result<Tensor, candle_core::Error> {
        let bytes = self.bytes(start, len);
        if !device.is_cpu() {
            return Tensor::from_raw_buffer(bytes, DType::F16, &[len, self.dim], device)?.to_dtype(DType::F32);
        }
        let mut values = vec![0f32; len * self.dim];
        match bytemuck::try_cast_slice::<u8, u16>(bytes) {
            Ok(bits) if cfg!(target_endian = "little") => {
                bits.reinterpret_cast::<f16>().convert_to_f32_slice(&mut values)
            }
            _ => {
                for (v, c) in values.iter_mut().zip(bytes.chunks_exact(2)) {
                    *v = f16::from_le_bytes([c[0], c[1]]).to_f32();
                }
            }
        }
        Tensor::from_vec(values, (len, self.dim), device)
    }
}

/// Writes a pool file of `count` embeddings of dimension `dim`, `fill(start, rows)` filling
/// consecutive blocks of rows (row-major) from row `start`.
pub fn write_pool(
    path: &Path,
    count: usize,
    dim: usize,
    mut fill: impl FnMut(usize, &mut [f16]),
) -> Result<(), ProjectionError> {
    let io = FileError::io(path);
    let bytes = count * dim * 2;
    let mut header =
        format!("{{\"{POOL_TENSOR}\":{{\"dtype\":\"F16\",\"shape\":[{count},{dim}],\"data_offsets\":[0,{bytes}]}}}}");
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = BufWriter::new(File::create(path).map_err(io)?);
    out.write_all(&(header.len() as u64).to_le_bytes()).map_err(io)?;
    out.write_all(header.as_bytes()).map_err(io)?;
    let block_rows = (1 << 16).min(count.max(1));
    let mut buffer = vec![f16::ZERO; block_rows * dim];
    let mut raw = Vec::with_capacity(block_rows * dim * 2);
    for start in (0..count).step_by(block_rows) {
        let rows = block_rows.min(count - start);
        let block = &mut buffer[..rows * dim];
        fill(start, block);
        raw.clear();
        raw.extend(block.iter().flat_map(|v| v.to_le_bytes()));
        out.write_all(&raw).map_err(io)?;
    }
    Ok(out.flush().map_err(io)?)
}

/// Options of [`project`].
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectionConfig {
    /// Softmax temperature (multiplies the cosine similarities).
    pub temperature: f32,
    /// Pool entries per streamed block.
    pub block: usize,
    /// Voxels per matrix product.
    pub voxel_batch: usize,
    /// Pool indices to keep per voxel, most similar first (0: none). Needs the similarities on the
    /// CPU, so it is meant for a few voxels (the ones shown), not whole regions.
    pub top_k: usize,
}

impl Default for ProjectionConfig {
    fn default() -> Self {
        ProjectionConfig {
            temperature: DEFAULT_TEMPERATURE,
            // Blocks of 1,024 voxels × 8,192 pool entries keep each temporary (logits, weights)
            // at 32 MB: under glibc's largest mmap threshold, so the memory of one block is
            // reused by the next instead of being mapped and faulted in again (at 16,384 × 4,096
            // page faults took a sixth of the time; BENCHMARKS.md).
            block: 8192,
            voxel_batch: 1024,
            top_k: 0,
        }
    }
}

/// The projected voxel weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// Projected vectors `[N, D]`, row-major.
    pub projected: Vec<f32>,
    /// Per voxel, the `top_k` most similar pool indices with their cosine similarity, best first.
    pub top: Vec<Vec<(usize, f32)>>,
}

/// Projects voxel weights `[N, D]` (row-major) onto `pool`.
///
/// `progress(done, total)` is called after each pool block; `cancel` is read before each block.
pub fn project(
    weights: &[f32],
    pool: &EmbeddingPool,
    config: &ProjectionConfig,
    device: &Device,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Projection, ProjectionError> {
    let d = pool.dim();
    if !weights.len().is_multiple_of(d) || weights.is_empty() {
        return Err(ProjectionError::Invalid(format!(
            "{} weight values for dimension {d}",
            weights.len()
        )));
    }
    if config.block == 0 || config.voxel_batch == 0 || !config.temperature.is_finite() {
        return Err(ProjectionError::Invalid(format!("bad configuration {config:?}")));
    }
    let n = weights.len() / d;
    let w = Tensor::from_slice(weights, (n, d), device)?;
    let norms = w.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?;
    let unit_w = (w.broadcast_div(&norms.clamp(f32::MIN_POSITIVE, f32::MAX)?)? * f64::from(config.temperature))?;
    let chunks: Vec<(usize, usize)> = (0..n)
        .step_by(config.voxel_batch)
        .map(|s| (s, config.voxel_batch.min(n - s)))
        .collect();
    let mut states = chunks
        .iter()
        .map(|&(_, len)| Online::new(len, d, device))
        .collect::<Result<Vec<_>, _>>()?;
    let mut top = vec![TopK::new(config.top_k); n];
    for start in (0..pool.len()).step_by(config.block) {
        if cancel.load(Ordering::Relaxed) {
            return Err(ProjectionError::Cancelled);
        }
        let len = config.block.min(pool.len() - start);
        let e = pool.block(start, len, device)?;
        let e_norm = e.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?; // [b, 1]
        let e_unit = e.broadcast_div(&e_norm.clamp(f32::MIN_POSITIVE, f32::MAX)?)?;
        // The unit embeddings and their norms side by side: one product accumulates both.
        let e_cat = Tensor::cat(&[&e_unit, &e_norm], 1)?; // [b, D + 1]
        let e_unit_t = e_unit.t()?; // a transposed view: the product reads it in place
        for (state, &(v0, vn)) in states.iter_mut().zip(&chunks) {
            let logits = unit_w.narrow(0, v0, vn)?.matmul(&e_unit_t)?; // [vn, b]
            if config.top_k > 0 {
                let values = logits.to_vec2::<f32>()?;
                for (v, row) in values.iter().enumerate() {
                    for (j, &s) in row.iter().enumerate() {
                        top[v0 + v].offer(start + j, s / config.temperature);
                    }
                }
            }
            state.update(&logits, &e_cat)?;
        }
        progress(start + len, pool.len());
    }
    let mut projected = Vec::with_capacity(n * d);
    for state in states {
        projected.extend(state.finish()?.flatten_all()?.to_vec1::<f32>()?);
    }
    Ok(Projection {
        projected,
        top: top.into_iter().map(TopK::into_sorted).collect(),
    })
}

/// The running sums of the online softmax for a batch of voxels.
struct Online {
    max: Tensor, // [n, 1] running maximum logit
    sum: Tensor, // [n, 1] Σ exp(logit − max)
    acc: Tensor, // [n, D + 1] Σ exp(logit − max) [ê, ‖e‖]
}

impl Online {
    fn new(n: usize, d: usize, device: &Device) -> Result<Online, candle_core::Error> {
        Ok(Online {
            max: Tensor::full(f32::NEG_INFINITY, (n, 1), device)?,
            sum: Tensor::zeros((n, 1), DType::F32, device)?,
            acc: Tensor::zeros((n, d + 1), DType::F32, device)?,
        })
    }

    /// Take in a block: `logits` `[n, b]`, `e_cat` `[b, D + 1]` (unit embeddings and norms).
    fn update(&mut self, logits: &Tensor, e_cat: &Tensor) -> Result<(), candle_core::Error> {
        let (p, new_max, block_sum) = if logits.device().is_cpu() {
            softmax_terms_cpu(logits, &self.max)?
        } else {
            let new_max = self.max.maximum(&logits.max_keepdim(D::Minus1)?)?;
            let p = logits.broadcast_sub(&new_max)?.exp()?;
            let block_sum = p.sum_keepdim(D::Minus1)?;
            (p, new_max, block_sum)
        };
        let rescale = (&self.max - &new_max)?.exp()?;
        self.sum = (self.sum.mul(&rescale)? + block_sum)?;
        self.acc = (self.acc.broadcast_mul(&rescale)? + p.matmul(e_cat)?)?;
        self.max = new_max;
        Ok(())
    }

    fn finish(self) -> Result<Tensor, candle_core::Error> {
        let d = self.acc.dim(1)? - 1;
        let direction = self.acc.narrow(1, 0, d)?;
        let norm = self.acc.narrow(1, d, 1)?;
        let length = direction.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?;
        let scale = (norm / self.sum)?.div(&length)?;
        direction.broadcast_mul(&scale)
    }
}

/// One pass over a block's logits `[n, b]` on the CPU (rows split over candle's threads, read in
/// place): per row the new running maximum `m = max(old, max(row))`, `p = exp(logit − m)` and
/// `Σ p` — what the tensor path computes in five passes, vectorised ([`softmax_row`]).
fn softmax_terms_cpu(logits: &Tensor, old_max: &Tensor) -> Result<(Tensor, Tensor, Tensor), candle_core::Error> {
    let (n, b) = logits.dims2()?;
    let logits = logits.contiguous()?;
    let (storage, layout) = logits.storage_and_layout();
    let candle_core::Storage::Cpu(cpu) = &*storage else {
        candle_core::bail!("softmax_terms_cpu needs a CPU tensor")
    };
    let values = &cpu.as_slice::<f32>()?[layout.start_offset()..][..n * b];
    let old = old_max.flatten_all()?.to_vec1::<f32>()?;
    let mut p = vec![0f32; n * b];
    let mut maxima = vec![0f32; n];
    let mut sums = vec![0f32; n];
    let threads = candle_core::utils::get_num_threads().clamp(1, n.max(1));
    let rows_per = n.div_ceil(threads);
    std::thread::scope(|scope| {
        let parts = p
            .chunks_mut(rows_per * b)
            .zip(maxima.chunks_mut(rows_per))
            .zip(sums.chunks_mut(rows_per))
            .enumerate();
        for (part, ((p, maxima), sums)) in parts {
            let old = &old;
            scope.spawn(move || {
                for (row, ((p, m), s)) in p.chunks_mut(b).zip(maxima.iter_mut()).zip(sums.iter_mut()).enumerate() {
                    let r = part * rows_per + row;
                    (*m, *s) = softmax_row(&values[r * b..(r + 1) * b], old[r], p);
                }
            });
        }
    });
    drop(storage);
    let device = logits.device();
    Ok((
        Tensor::from_vec(p, (n, b), device)?,
        Tensor::from_vec(maxima, (n, 1), device)?,
        Tensor::from_vec(sums, (n, 1), device)?,
    ))
}

/// Lanes of [`softmax_row`]'s partial maxima and sums (a multiple of every vector width).
const LANES: usize = 16;

/// One row of [`softmax_terms_cpu`]: `(m, Σ p)` with `m = max(old_max, max(logits))` and
/// `p = exp(logit − m)` written to `out`. Compiled for AVX-512, AVX2 and the baseline, chosen at
/// run time; maxima and sums are kept in [`LANES`] partial lanes so that they vectorise.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512bw+avx512dq+avx512vl", "x86_64+avx2+fma"))]
fn softmax_row(logits: &[f32], old_max: f32, out: &mut [f32]) -> (f32, f32) {
    let mut lanes = [old_max; LANES];
    let chunks = logits.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane = lane.max(v);
        }
    }
    let m = tail.iter().chain(&lanes).fold(old_max, |a, &v| a.max(v));
    let mut sums = [0f32; LANES];
    let mut out_chunks = out.chunks_exact_mut(LANES);
    for (o, l) in (&mut out_chunks).zip(logits.chunks_exact(LANES)) {
        for ((o, &l), s) in o.iter_mut().zip(l).zip(sums.iter_mut()) {
            *o = exp_nonpositive(l - m);
            *s += *o;
        }
    }
    let mut total: f32 = sums.iter().sum();
    for (o, &l) in out_chunks.into_remainder().iter_mut().zip(tail) {
        *o = exp_nonpositive(l - m);
        total += *o;
    }
    (m, total)
}

/// `e^x` for `x ≤ 0` in plain arithmetic that the compiler vectorises: Cephes' `expf` (range
/// reduction by ln 2 in two parts, a degree-6 polynomial, the power of two set in the exponent
/// bits); within a few ulp of `f32::exp`. Below −87 (where `e^x` < 1.7·10⁻³⁸) it returns
/// `e^−87`, negligible beside the softmax's largest term of 1.
#[inline(always)]
fn exp_nonpositive(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 0.0);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let poly =
        ((((1.987_569_2e-4 * r + 1.398_2e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 1.666_666_5e-1) * r + 0.5;
    let e = poly * r * r + r + 1.0;
    e * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// The `k` largest similarities seen so far (a small sorted list; `k` is small).
#[derive(Clone, Debug)]
struct TopK {
    k: usize,
    items: Vec<(usize, f32)>,
}

impl TopK {
    fn new(k: usize) -> TopK {
        TopK {
            k,
            items: Vec::with_capacity(k + 1),
        }
    }

    fn offer(&mut self, index: usize, score: f32) {
        if self.k == 0 || (self.items.len() == self.k && score <= self.items[self.k - 1].1) {
            return;
        }
        let at = self.items.partition_point(|&(_, s)| s >= score);
        self.items.insert(at, (index, score));
        self.items.truncate(self.k);
    }

    fn into_sorted(self) -> Vec<(usize, f32)> {
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vectorised_exponential_is_within_a_few_ulp() {
        let mut worst = 0f32;
        for i in 0..=200_000 {
            let x = -87.0 * i as f32 / 200_000.0;
            let (ours, libm) = (exp_nonpositive(x), x.exp());
            worst = worst.max((ours - libm).abs() / libm);
        }
        assert!(worst < 4.0 * f32::EPSILON, "relative error {worst}");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert!(exp_nonpositive(-1e4) < 1e-37);
    }

    #[test]
    fn a_softmax_row_matches_the_plain_definition_at_every_length() {
        for len in [0, 1, 15, 16, 17, 100, 1000] {
            for old_max in [f32::NEG_INFINITY, 0.3, 40.0] {
                let logits: Vec<f32> = (0..len).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.7).collect();
                let mut out = vec![0f32; len];
                let (m, sum) = softmax_row(&logits, old_max, &mut out);
                let want_m = logits.iter().fold(old_max, |a, &v| a.max(v));
                assert_eq!(m, want_m, "length {len}");
                let want: Vec<f32> = logits.iter().map(|&l| (l - want_m).exp()).collect();
                for (got, want) in out.iter().zip(&want) {
                    assert!(
                        (got - want).abs() <= 4.0 * f32::EPSILON * want.max(1e-30),
                        "{got} vs {want}"
                    );
                }
                let want_sum: f32 = want.iter().sum();
                assert!(
                    (sum - want_sum).abs() <= 1e-5 * want_sum.max(1e-30),
                    "{sum} vs {want_sum}"
                );
            }
        }
    }

    #[test]
    fn top_k_keeps_the_best_in_order_and_first_on_ties() {
        let mut t = TopK::new(3);
        for (i, s) in [0.1, 0.5, 0.3, 0.5, 0.9, -1.0].into_iter().enumerate() {
            t.offer(i, s);
        }
        assert_eq!(t.into_sorted(), vec![(4, 0.9), (1, 0.5), (3, 0.5)]);
    }
}
