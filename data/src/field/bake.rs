//! Baking an intensity field into a voxel grid: the field evaluated once at every voxel centre, so
//! that renderers which cannot afford the network at every ray sample (software GPUs) draw the grid
//! with the volume path instead.

use std::sync::atomic::{AtomicBool, Ordering};

use glam::{DMat4, DVec3};

use super::{FieldOutput, NeuralField};
use crate::volume::Volume;

/// Voxels of a baked grid by default: about 4 M (1.24 mm voxels over the MNI152 box).
pub const BAKE_VOXELS: usize = 4_000_000;

/// Why a field was not baked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BakeError {
    /// Only intensity fields have one value per point; radiance fields are drawn exactly.
    #[error("only intensity fields can be baked into a grid; a radiance field is drawn exactly")]
    Radiance,
    /// The caller's cancel flag was set.
    #[error("baking was cancelled")]
    Cancelled,
}

/// Voxels per axis of a grid over `field`'s box with cubic voxels and at most `max_voxels` in all
/// (at least one per axis).
pub fn bake_shape(field: &NeuralField, max_voxels: usize) -> [usize; 3] {
    let extent = [0, 1, 2].map(|a| f64::from(field.bounds_max[a] - field.bounds_min[a]).max(f64::MIN_POSITIVE));
    let mut voxel = (extent.iter().product::<f64>() / max_voxels.max(1) as f64).cbrt();
    loop {
        let shape = extent.map(|e| ((e / voxel).ceil() as usize).max(1));
        if shape.iter().product::<usize>() <= max_voxels.max(1) {
            return shape;
        }
        voxel *= 1.01;
    }
}

/// `field` sampled at the voxel centres of a [`bake_shape`] grid whose voxel corners span the
/// field's box. Cells the occupancy grid marks empty hold NaN, which the volume ray marcher treats
/// as no sample, as the field path skips them. `progress` sees the fraction done after each slab.
pub fn bake(
    field: &NeuralField,
    max_voxels: usize,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(f32),
) -> Result<Volume, BakeError> {
    if matches!(field.output, FieldOutput::DensityRgb) {
        return Err(BakeError::Radiance);
    }
    let shape = bake_shape(field, max_voxels);
    let min = DVec3::from_array(field.bounds_min.map(f64::from));
    let size = (DVec3::from_array(field.bounds_max.map(f64::from)) - min) / DVec3::from_array(shape.map(|n| n as f64));
    let affine = DMat4::from_translation(min + 0.5 * size) * DMat4::from_scale(size);
    let mut data = Vec::with_capacity(shape.iter().product());
    let (mut at, mut points) = (Vec::new(), Vec::new());
    for k in 0..shape[2] {
        if cancel.load(Ordering::Relaxed) {
            return Err(BakeError::Cancelled);
        }
        // Only occupied points are evaluated; the others stay NaN.
        at.clear();
        points.clear();
        for j in 0..shape[1] {
            for i in 0..shape[0] {
                let point = affine
                    .transform_point3(DVec3::new(i as f64, j as f64, k as f64))
                    .as_vec3()
                    .to_array();
                if field.occupied(point) {
                    at.push(data.len());
                    points.push(point);
                }
                data.push(f32::NAN);
            }
        }
        for (&index, value) in at.iter().zip(field.eval_batch(&points)) {
            data[index] = value[0];
        }
        progress((k + 1) as f32 / shape[2] as f32);
    }
    Ok(Volume::from_f32(
        "baked field",
        [shape[0], shape[1], shape[2], 1],
        affine,
        data,
    ))
}
