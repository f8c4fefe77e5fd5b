//! Files and data the app's tests build (each test crate uses some of them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A thresholded positive map on a 2 mm grid: zeros everywhere but a ball of radius 10 mm around
/// (40, −20, 50) valued 1 + (10 − distance).
pub fn sparse_positive_map(dir: &Path) -> PathBuf {
    let (shape, origin) = ([91usize, 109, 91], glam::DVec3::new(-90.0, -126.0, -72.0));
    let affine = glam::DMat4::from_translation(origin) * glam::DMat4::from_scale(glam::DVec3::splat(2.0));
    let centre = glam::DVec3::new(40.0, -20.0, 50.0);
    let mut data = vec![0.0f32; shape.iter().product()];
    for k in 0..shape[2] {
        for j in 0..shape[1] {
            for i in 0..shape[0] {
                let world = affine.transform_point3(glam::DVec3::new(i as f64, j as f64, k as f64));
                let d = world.distance(centre);
                data[i + shape[0] * (j + shape[1] * k)] = if d <= 10.0 { 1.0 + (10.0 - d) as f32 } else { 0.0 };
            }
        }
    }
    let volume = cortexlens_data::Volume::from_f32("map", [shape[0], shape[1], shape[2], 1], affine, data);
    let path = dir.join("sparse_map.nii.gz");
    cortexlens_data::formats::save_nifti(&path, &volume).unwrap();
    path
}

/// A field whose value grows from the box's centre outwards: `1 − |x − ½|²·4/3` on a dense 5³ grid.
pub fn ball_field() -> cortexlens_data::field::NeuralField {
    use cortexlens_data::field::{Activation, DenseGrid, DenseLayer, Encoding, FieldOutput, NeuralField};
    let mut values = Vec::new();
    for k in 0..5 {
        for j in 0..5 {
            for i in 0..5 {
                let d2: f32 = [i, j, k].iter().map(|&c| (c as f32 / 4.0 - 0.5).powi(2)).sum();
                values.push(1.0 - d2 * 4.0 / 3.0);
            }
        }
    }
    NeuralField {
        bounds_min: [-60.0, -70.0, -50.0],
        bounds_max: [60.0, 50.0, 70.0],
        encoding: Encoding::Dense(DenseGrid {
            resolution: [5, 5, 5],
            features: 1,
            values,
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
            scale: 100.0,
            offset: 0.0,
        },
        occupancy: None,
    }
}
