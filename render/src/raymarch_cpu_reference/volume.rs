//! Volumes (and their overlay) as a data source of the CPU marcher.

use cortexlens_data::{Interpolation, LayerStyle, Volume};
use glam::{DMat4, DVec3};

use super::march::Source;
use crate::cpu_reference::sample;

/// One frame of a volume with its f64 world→voxel matrix.
pub(super) struct Grid<'a> {
    pub volume: &'a Volume,
    pub frame: usize,
    pub world_to_voxel: DMat4,
}

impl<'a> Grid<'a> {
    /// `None` when the volume has no frames or voxels, or its affine is singular.
    pub fn new(volume: &'a Volume, frame: usize) -> Option<Grid<'a>> {
        let world_to_voxel = volume.affine.inverse();
        (volume.frames() > 0 && volume.frame_len() > 0 && world_to_voxel.is_finite()).then(|| Grid {
            volume,
            frame: frame.min(volume.frames() - 1),
            world_to_voxel,
        })
    }

    fn sample(&self, p: DVec3, interpolation: Interpolation) -> Option<f32> {
        sample(self.volume, self.frame, p, interpolation)
    }
}

/// The anatomy (trilinear) and an optional overlay drawn by its style.
pub(super) struct VolumeSource<'a> {
    pub anatomy: Grid<'a>,
    pub overlay: Option<(Grid<'a>, &'a LayerStyle)>,
}

impl Source for VolumeSource<'_> {
    fn value(&self, p: DVec3) -> Option<f32> {
        let q = self.anatomy.world_to_voxel.transform_point3(p);
        self.anatomy.sample(q, Interpolation::Linear)
    }

    fn gradient(&self, p: DVec3, centre: f32) -> DVec3 {
        let m = self.anatomy.world_to_voxel;
        let q = m.transform_point3(p);
        let shape = self.anatomy.volume.shape;
        let hi = DVec3::new(shape[0] as f64, shape[1] as f64, shape[2] as f64) - 0.5;
        let tap = |q: DVec3| {
            self.anatomy
                .sample(q.clamp(DVec3::splat(-0.5), hi), Interpolation::Linear)
                .unwrap_or(centre) as f64
        };
        let axes = [DVec3::X, DVec3::Y, DVec3::Z];
        let g = DVec3::from_array(axes.map(|e| 0.5 * (tap(q + e) - tap(q - e))));
        // ∂f/∂world = Mᵀ ∂f/∂voxel, M the linear part of world→voxel.
        DVec3::new(
            m.x_axis.truncate().dot(g),
            m.y_axis.truncate().dot(g),
            m.z_axis.truncate().dot(g),
        )
    }

    fn has_overlay(&self) -> bool {
        self.overlay.is_some()
    }

    fn overlay(&self, p: DVec3) -> Option<[f64; 3]> {
        let (grid, style) = self.overlay.as_ref()?;
        let value = grid.sample(grid.world_to_voxel.transform_point3(p), style.interpolation)?;
        let (colormap, index) = style.lut_entry(value)?;
        let [r, g, b, _] = colormap.lut()[index];
        Some([r, g, b].map(|c| c as f64 / 255.0))
    }
}
