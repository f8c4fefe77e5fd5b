//! `rasterise_splats` with the low-pass filter (`LOW_PASS`, 0.3 px² added to the 2D covariance's
//! diagonal, as 3DGS does) as a parameter: at 0.3 it is the CPU reference itself (checked in
//! debug builds), at 0 it tells how much of a renderer's difference comes from leaving it out.
//! No clip planes, opacity and size scales 1.

use cortexlens_data::camera::OrbitCamera;
use cortexlens_render::SplatData;
use cortexlens_render::splat_cpu_reference::{composite, project_splats};

/// `rasterise_splats(data, camera, size, background, 1.0, 1.0, &[])` with `low_pass`.
pub fn rasterise(
    data: &SplatData,
    camera: &OrbitCamera,
    size: (u32, u32),
    background: [f32; 3],
    low_pass: f32,
) -> Vec<u8> {
    composite(project_splats(data, camera, size, (1.0, 1.0), &[], low_pass), size, background)
}
