//! The differentiable tensor pieces of a field's forward pass: trilinear interpolation by gather
//! and weights, CAM's feature normalisation, activations.

use candle_core::Tensor;
use cortexlens_data::field::Activation;

/// Variance epsilon of CAM's feature normalisation (PyTorch's `instance_norm` default, the same as
/// [`cortexlens_data::field::CAM_EPS`]).
const NORM_EPS: f64 = cortexlens_data::field::CAM_EPS as f64;

/// Trilinear interpolation of `table` `[rows, f]`: gathers the corner rows, weights them and sums
/// the 8 corners of each of `points · grids` cells, giving `[points, grids · f]` (grid-major).
pub(crate) fn interpolate(
    table: &Tensor,
    indices: &Tensor,
    weights: &Tensor,
    points: usize,
    grids: usize,
) -> candle_core::Result<Tensor> {
    let features = table.dim(1)?;
    table
        .index_select(indices, 0)?
        .broadcast_mul(weights)?
        .reshape((points * grids, 8, features))?
        .sum(1)?
        .reshape((points, grids * features))
}

/// CAM's normalisation of each row over its features: subtract the mean, divide by
/// `sqrt(population variance + 1e-5)`.
pub(crate) fn normalise_features(h: &Tensor) -> candle_core::Result<Tensor> {
    let centred = h.broadcast_sub(&h.mean_keepdim(1)?)?;
    let variance = centred.sqr()?.mean_keepdim(1)?;
    centred.broadcast_div(&(variance + NORM_EPS)?.sqrt()?)
}

/// A layer's activation, with differentiable candle ops.
pub(crate) fn activate(h: &Tensor, activation: Activation) -> candle_core::Result<Tensor> {
    match activation {
        Activation::None => Ok(h.clone()),
        Activation::Relu => h.relu(),
        Activation::Sigmoid => (h.neg()?.exp()? + 1.0)?.recip(),
        Activation::Exp => h.exp(),
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor};
    use cortexlens_data::field::{Activation, modulate};

    use super::*;

    #[test]
    fn normalisation_matches_the_reference_modulation() {
        let rows = [[1.0f32, 2.0, 3.0, 7.0], [-0.5, 0.25, 0.0, 0.1]];
        let h = Tensor::new(&rows, &Device::Cpu).unwrap();
        let ours = normalise_features(&h).unwrap().to_vec2::<f32>().unwrap();
        for (row, got) in rows.iter().zip(&ours) {
            let mut want = *row;
            modulate(&mut want, 1.0, 0.0, true);
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
            }
        }
    }

    #[test]
    fn activations_match_the_reference() {
        let values = [-3.0f32, -0.5, 0.0, 0.7, 4.0];
        let t = Tensor::new(&values, &Device::Cpu).unwrap();
        for activation in [Activation::None, Activation::Relu, Activation::Sigmoid, Activation::Exp] {
            let ours = activate(&t, activation).unwrap().to_vec1::<f32>().unwrap();
            for (g, v) in ours.iter().zip(values) {
                let w = activation.apply(v);
                assert!(
                    (g - w).abs() <= 1e-6 * w.abs().max(1.0),
                    "{activation:?}({v}): {g} vs {w}"
                );
            }
        }
    }

    #[test]
    fn interpolation_weights_gathered_rows() {
        let table = Tensor::new(&[[1.0f32, 10.0], [2.0, 20.0], [3.0, 30.0]], &Device::Cpu).unwrap();
        let indices = Tensor::new(&[0u32, 1, 2, 2, 0, 0, 1, 1], &Device::Cpu).unwrap();
        let w = [0.1f32, 0.2, 0.3, 0.4, 0.0, 0.0, 0.0, 0.0];
        let weights = Tensor::new(&w, &Device::Cpu).unwrap().reshape((8, 1)).unwrap();
        let out = interpolate(&table, &indices, &weights, 1, 1)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        let want = 0.1 * 1.0 + 0.2 * 2.0 + 0.3 * 3.0 + 0.4 * 3.0;
        assert!(
            (out[0][0] - want).abs() < 1e-6 && (out[0][1] - 10.0 * want).abs() < 1e-5,
            "{out:?}"
        );
    }
}
