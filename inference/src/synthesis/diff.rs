//! Differentiable stand-ins for candle 0.11 ops whose backward pass is missing.
//!
//! candle 0.11.1 cuts the autograd graph *silently* in `candle_nn::LayerNorm` (its fused
//! `ops::layer_norm`), `ops::softmax_last_dim` and `ops::rms_norm` (all `apply_op*_no_bwd`), and
//! `upsample_bilinear2d` has no backward at all. The guidance gradient must pass through all of
//! them, so this module provides:
//!
//! - [`LayerNorm`] over `ops::layer_norm_slow` (drop once candle merges #3823 or #3613);
//! - [`softmax`] over `ops::softmax` (drop with #3823 or #3724);
//! - [`BilinearResize`]: PyTorch's `F.interpolate(mode="bilinear", align_corners=False)` without
//!   antialiasing, as two matrix products `R_h · X · R_wᵀ` (differentiable through `matmul`).
//!
//! No RMS norm is used by these models (#3526 would fix `rms_norm`).

use candle_core::{D, DType, Device, Result, Tensor};
use candle_nn::VarBuilder;

/// A layer norm over the last dimension whose backward pass reaches its input.
#[derive(Debug, Clone)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl LayerNorm {
    /// Reads `weight` and `bias` `[dim]`.
    pub fn load(vb: VarBuilder, dim: usize, eps: f64) -> Result<Self> {
        Ok(Self {
            weight: vb.get(dim, "weight")?,
            bias: vb.get(dim, "bias")?,
            eps: eps as f32,
        })
    }

    /// Normalises `xs` over its last dimension (computed in f32 for f16/bf16 inputs).
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        candle_nn::ops::layer_norm_slow(xs, &self.weight, &self.bias, self.eps)
    }
}

/// Softmax over the last dimension with a backward pass.
pub fn softmax(xs: &Tensor) -> Result<Tensor> {
    candle_nn::ops::softmax(xs, D::Minus1)
}

/// The `[out, in]` interpolation matrix of PyTorch's 1-D linear resampling with
/// `align_corners=False` and no antialiasing: output `d` reads `src = (d + 0.5)·in/out − 0.5`,
/// clamped at 0, between `⌊src⌋` and the next sample (the last sample repeats at the edge).
pub fn bilinear_weights(input: usize, output: usize) -> Vec<f32> {
    let scale = input as f64 / output as f64;
    let mut m = vec![0f32; output * input];
    for d in 0..output {
        // PyTorch computes the source index in the accumulation type (f32 for f32 tensors).
        let src = (scale as f32 * (d as f32 + 0.5) - 0.5).max(0.0);
        let i0 = (src as usize).min(input - 1);
        let i1 = if i0 < input - 1 { i0 + 1 } else { i0 };
        let l1 = src - i0 as f32;
        m[d * input + i0] += 1.0 - l1;
        m[d * input + i1] += l1;
    }
    m
}

/// Resizes `[B, C, H, W]` images to `[B, C, out_h, out_w]` as `F.interpolate(…, mode="bilinear")`.
#[derive(Debug, Clone)]
pub struct BilinearResize {
    rows: Tensor,
    cols_t: Tensor,
    input: (usize, usize),
}

impl BilinearResize {
    /// The resize from `input` `(H, W)` to `output` `(out_h, out_w)`, as `dtype` on `device`.
    pub fn new(input: (usize, usize), output: (usize, usize), dtype: DType, device: &Device) -> Result<Self> {
        let rows = Tensor::from_vec(bilinear_weights(input.0, output.0), (output.0, input.0), device)?;
        let cols = Tensor::from_vec(bilinear_weights(input.1, output.1), (output.1, input.1), device)?;
        Ok(Self {
            rows: rows.to_dtype(dtype)?,
            cols_t: cols.t()?.contiguous()?.to_dtype(dtype)?,
            input,
        })
    }

    /// Resizes `xs` `[B, C, H, W]`.
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let (_, _, h, w) = xs.dims4()?;
        if (h, w) != self.input {
            candle_core::bail!("resize built for {:?}, got {h}×{w}", self.input);
        }
        let xs = xs.broadcast_matmul(&self.cols_t)?;
        self.rows.broadcast_matmul(&xs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_rows_sum_to_one_and_identity_is_identity() {
        for (i, o) in [(512, 224), (32, 32), (7, 3), (3, 7)] {
            let m = bilinear_weights(i, o);
            for row in m.chunks(i) {
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
            }
        }
        let m = bilinear_weights(5, 5);
        for d in 0..5 {
            assert_eq!(m[d * 5 + d], 1.0);
        }
    }

    #[test]
    fn layer_norm_and_softmax_carry_gradients() {
        let dev = Device::Cpu;
        let x = candle_core::Var::new(&[[1.0f32, 2.0, 4.0], [0.5, -1.0, 3.0]], &dev).unwrap();
        let ln = LayerNorm {
            weight: Tensor::new(&[1.0f32, 2.0, 0.5], &dev).unwrap(),
            bias: Tensor::zeros(3, DType::F32, &dev).unwrap(),
            eps: 1e-5,
        };
        let w = Tensor::new(&[[0.3f32, -1.0, 2.0]], &dev).unwrap();
        let loss = softmax(&ln.forward(x.as_tensor()).unwrap())
            .unwrap()
            .broadcast_mul(&w)
            .unwrap()
            .sum_all()
            .unwrap();
        let grads = loss.backward().unwrap();
        let g = grads.get(x.as_tensor()).expect("gradient reaches x");
        let total = g.abs().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(total > 1e-3, "{total}");
    }
}
