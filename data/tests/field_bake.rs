//! Baking an intensity field into a voxel grid.

use std::sync::atomic::AtomicBool;

use cortexlens_data::field::{
    Activation, BakeError, DenseGrid, DenseLayer, Encoding, FieldOutput, NeuralField, OccupancyGrid, bake, bake_shape,
};
use glam::DVec3;

/// A 2³ dense grid whose vertex `(i, j, k)` holds `1 + i + 2j + 4k`, read by an identity layer:
/// the field is linear in the position, `2·(1 + x + 2y + 4z) + 1` for `x ∈ [0,1]³`.
fn linear_field() -> NeuralField {
    NeuralField {
        bounds_min: [-10.0, 0.0, 5.0],
        bounds_max: [10.0, 4.0, 9.0],
        encoding: Encoding::Dense(DenseGrid {
            resolution: [2, 2, 2],
            features: 1,
            values: (0..8).map(|n| 1.0 + n as f32).collect(),
        }),
        layers: vec![DenseLayer {
            inputs: 1,
            outputs: 1,
            weight: vec![1.0],
            bias: vec![0.0],
            activation: Activation::None,
        }],
        cam: None,
        output: FieldOutput::Intensity {
            scale: 2.0,
            offset: 1.0,
        },
        occupancy: None,
    }
}

#[test]
fn shapes_respect_the_budget_with_cubic_voxels() {
    let field = linear_field();
    assert_eq!(bake_shape(&field, 80), [10, 2, 2]);
    for budget in [1, 7, 1000, 123_457] {
        let shape = bake_shape(&field, budget);
        assert!(shape.iter().product::<usize>() <= budget, "{shape:?} over {budget}");
    }
    let shape = bake_shape(&field, 123_457);
    assert!(
        shape.iter().product::<usize>() > 123_457 / 2,
        "{shape:?} wastes the budget"
    );
}

#[test]
fn voxels_hold_the_field_at_their_centres() {
    let field = linear_field();
    let mut reports = Vec::new();
    let volume = bake(&field, 320, &AtomicBool::new(false), &mut |p| reports.push(p)).unwrap();
    assert_eq!(volume.shape, [20, 4, 4, 1]);
    assert_eq!(reports.len(), 4);
    assert_eq!(reports.last(), Some(&1.0));
    let (lo, hi) = volume.world_bounds();
    assert!((lo - DVec3::new(-10.0, 0.0, 5.0)).abs().max_element() < 1e-9);
    assert!((hi - DVec3::new(10.0, 4.0, 9.0)).abs().max_element() < 1e-9);
    for (k, j, i) in [(0, 0, 0), (3, 2, 7), (3, 3, 19)] {
        let world = volume.voxel_to_world(DVec3::new(i as f64, j as f64, k as f64));
        let x = [(world.x + 10.0) / 20.0, world.y / 4.0, (world.z - 5.0) / 4.0];
        let want = 2.0 * (1.0 + x[0] + 2.0 * x[1] + 4.0 * x[2]) + 1.0;
        let got = volume.value_at([i, j, k], 0).unwrap();
        assert!((got as f64 - want).abs() < 1e-5, "({i},{j},{k}): {got} vs {want}");
        assert_eq!(got, field.eval(world.as_vec3().to_array())[0]);
    }
}

#[test]
fn empty_cells_are_nan_radiance_and_cancel_are_errors() {
    let mut field = linear_field();
    field.occupancy = Some(OccupancyGrid {
        resolution: [2, 1, 1],
        occupied: vec![0, 1],
    });
    let volume = bake(&field, 640, &AtomicBool::new(false), &mut |_| {}).unwrap();
    assert!(volume.value_at([3, 1, 1], 0).unwrap().is_nan(), "left half is empty");
    assert!(volume.value_at([15, 1, 1], 0).unwrap().is_finite());
    assert_eq!(
        bake(&field, 640, &AtomicBool::new(true), &mut |_| {}).unwrap_err(),
        BakeError::Cancelled
    );
    field.output = FieldOutput::DensityRgb;
    assert_eq!(
        bake(&field, 640, &AtomicBool::new(false), &mut |_| {}).unwrap_err(),
        BakeError::Radiance
    );
}
