//! PSNR of a fitted field against its volume at every voxel, with the CPU reference evaluator
//! (`NeuralField::eval_batch`); intensities normalised by the volume's range. Shared by the fitting
//! benchmarks.

use cortexlens_data::Volume;
use cortexlens_data::field::NeuralField;
use cortexlens_inference::psnr;

/// PSNR (dB) over every voxel and over the voxels whose value is above 0 (the brain of a
/// skull-stripped template).
pub struct VolumePsnr {
    /// Every voxel.
    pub all: f32,
    /// Voxels > 0.
    pub positive: f32,
}

/// The field evaluated at every voxel centre of frame 0 of `volume`.
pub fn field_psnr(volume: &Volume, field: &NeuralField) -> VolumePsnr {
    let frame = volume.frame(0);
    let (lo, hi) = frame
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let [nx, ny, _, _] = volume.shape;
    let (mut all, mut positive, mut positive_count) = (0f64, 0f64, 0usize);
    let chunk = 1 << 18;
    for start in (0..frame.len()).step_by(chunk) {
        let end = (start + chunk).min(frame.len());
        let points: Vec<[f32; 3]> = (start..end)
            .map(|i| {
                let ijk = glam::DVec3::new((i % nx) as f64, (i / nx % ny) as f64, (i / (nx * ny)) as f64);
                volume.voxel_to_world(ijk).as_vec3().to_array()
            })
            .collect();
        for (v, &t) in field.eval_batch(&points).iter().zip(&frame[start..end]) {
            let squared = (((v[0] - t) / (hi - lo)) as f64).powi(2);
            all += squared;
            if t > 0.0 {
                positive += squared;
                positive_count += 1;
            }
        }
    }
    VolumePsnr {
        all: psnr(all / frame.len() as f64),
        positive: psnr(positive / positive_count.max(1) as f64),
    }
}
