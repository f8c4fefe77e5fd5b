//! A candle forward pass of a field's weights equals the CPU reference `NeuralField::eval`, and
//! loading a field into candle and reading it back changes nothing.
//!
//! Runs on `cortexlens_inference::device()`: the CPU, or CUDA in a `cuda` build on a machine with a
//! GPU (`tools/gpu/check.sh`).

mod common;

use common::{Kind, random_field, random_points};
use cortexlens_data::field::{FieldOutput, NeuralField};
use cortexlens_inference::{DType, FieldModel, Tensor, device};

const INTENSITY: FieldOutput = FieldOutput::Intensity {
    scale: 3.0,
    offset: -1.0,
};

/// Largest |candle − eval| over 1000 points, in `dtype`.
fn max_diff(field: &NeuralField, dtype: DType) -> f32 {
    let device = device();
    let model = FieldModel::from_field_with_dtype(field, &device, dtype).unwrap();
    let points = random_points(field, 1000, 11);
    let flat: Vec<f32> = points.iter().flatten().copied().collect();
    let tensor = Tensor::from_vec(flat, (points.len(), 3), &device).unwrap();
    let ours = model
        .evaluate(&tensor)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    let mut max = 0f32;
    for (p, got) in points.iter().zip(&ours) {
        let want = field.eval(*p);
        for (g, w) in got.iter().zip(want) {
            assert!(g.is_finite() && w.is_finite());
            max = max.max((g - w).abs());
        }
    }
    max
}

#[test]
fn candle_matches_eval_for_every_encoding_with_and_without_cam() {
    for kind in [Kind::Hash, Kind::HashFractional, Kind::Dense] {
        for cam in [false, true] {
            for output in [INTENSITY, FieldOutput::DensityRgb] {
                let field = random_field(kind, cam, output, 5);
                let diff = max_diff(&field, DType::F32);
                println!("{kind:?} cam={cam} {output:?}: max |candle f32 - eval| = {diff:.3e}");
                assert!(diff < 1e-5, "{kind:?} cam={cam} {output:?}: {diff}");
                let diff64 = max_diff(&field, DType::F64);
                println!("{kind:?} cam={cam} {output:?}: max |candle f64 - eval| = {diff64:.3e}");
                assert!(diff64 < 1e-5, "{kind:?} cam={cam} {output:?} f64: {diff64}");
            }
        }
        // CAM without normalising first.
        let mut field = random_field(kind, true, INTENSITY, 6);
        field.cam.as_mut().unwrap().normalize = false;
        let diff = max_diff(&field, DType::F32);
        assert!(diff < 1e-5, "{kind:?} unnormalised CAM: {diff}");
        let model = FieldModel::from_field_with_dtype(&field, &device(), DType::F32).unwrap();
        assert_eq!(model.to_field(), field, "{kind:?}: the setting survives the model");
    }
}

#[test]
fn round_trip_through_candle_is_exact() {
    for kind in [Kind::Hash, Kind::HashFractional, Kind::Dense] {
        for cam in [false, true] {
            let field = random_field(kind, cam, INTENSITY, 9);
            for dtype in [DType::F32, DType::F64] {
                let model = FieldModel::from_field_with_dtype(&field, &device(), dtype).unwrap();
                assert_eq!(model.to_field(), field, "{kind:?} cam={cam} {dtype:?}");
                assert_eq!(model.parameter_count(), field.parameter_count());
            }
        }
    }
}

#[test]
fn forward_returns_one_row_per_point() {
    let field = random_field(Kind::Hash, true, FieldOutput::DensityRgb, 2);
    let model = FieldModel::from_field(&field, &device()).unwrap();
    let points = Tensor::zeros((7, 3), DType::F32, &device()).unwrap();
    use cortexlens_inference::Module;
    assert_eq!(model.forward(&points).unwrap().dims(), &[7, 4]);
    let none = Tensor::zeros((0, 3), DType::F32, &device()).unwrap();
    assert_eq!(model.forward(&none).unwrap().dims(), &[0, 4]);
}

#[test]
fn inconsistent_fields_are_rejected() {
    let mut field = random_field(Kind::Hash, true, INTENSITY, 3);
    field.layers[1].weight.pop();
    assert!(FieldModel::from_field(&field, &device()).is_err());
    let mut field = random_field(Kind::Dense, true, INTENSITY, 3);
    field.cam.as_mut().unwrap().grids.pop();
    assert!(FieldModel::from_field(&field, &device()).is_err());
}
