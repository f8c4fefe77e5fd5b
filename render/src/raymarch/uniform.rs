//! The ray marcher's per-draw uniform block (`struct Ray` in `shaders/raymarch_common.wgsl`) and
//! the boxes and grids it is made of. Matrices are composed in f64 and rounded to f32 once.

use cortexlens_data::LayerStyle;
use cortexlens_data::camera::OrbitCamera;
use cortexlens_data::colormap::LUT_SIZE;
use glam::{DMat4, DVec3, DVec4};

use super::settings::{AMBIENT, DIFFUSE, MAX_SAMPLES, RayMarchSettings, sample_alphas};
use crate::style_uniform::{StyleUniform, packed_lut};
use crate::volume_texture::VolumeTexture;

/// Voxels per occupancy cell edge.
pub const OCCUPANCY_CELL: u32 = 8;

/// The box a ray is clipped to: world → unit cube `[0, 1]³`, and the world bounding box's
/// diagonal (which bounds the number of samples, see [`RayMarchSettings::effective_step`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DataBox {
    /// World millimetres → the unit cube of the box.
    pub world_to_unit: DMat4,
    /// Length of the diagonal of the box's world-space bounding box, mm.
    pub diagonal: f64,
}

impl DataBox {
    /// The box of a voxel grid: voxel centres `0..n` extended by half a voxel (`−0.5 ..= n − 0.5`)
    /// through `affine` (voxel → world), oblique and flipped affines included.
    pub fn of_grid(affine: DMat4, dims: [u32; 3]) -> DataBox {
        let n = dims.map(|d| d.max(1) as f64);
        let voxel_to_unit = DMat4::from_cols(
            DVec4::new(1.0 / n[0], 0.0, 0.0, 0.0),
            DVec4::new(0.0, 1.0 / n[1], 0.0, 0.0),
            DVec4::new(0.0, 0.0, 1.0 / n[2], 0.0),
            DVec4::new(0.5 / n[0], 0.5 / n[1], 0.5 / n[2], 1.0),
        );
        let mut lo = DVec3::splat(f64::INFINITY);
        let mut hi = DVec3::splat(f64::NEG_INFINITY);
        for c in 0..8 {
            let corner = DVec4::new(
                if c & 1 == 0 { -0.5 } else { n[0] - 0.5 },
                if c & 2 == 0 { -0.5 } else { n[1] - 0.5 },
                if c & 4 == 0 { -0.5 } else { n[2] - 0.5 },
                1.0,
            );
            let w = (affine * corner).truncate();
            lo = lo.min(w);
            hi = hi.max(w);
        }
        DataBox {
            world_to_unit: voxel_to_unit * affine.inverse(),
            diagonal: (hi - lo).length(),
        }
    }

    /// The axis-aligned box `min ..= max` (world mm), as a neural field's.
    pub fn of_bounds(min: [f32; 3], max: [f32; 3]) -> DataBox {
        let lo = DVec3::from_array(min.map(f64::from));
        let hi = DVec3::from_array(max.map(f64::from));
        let extent = hi - lo;
        let world_to_unit = DMat4::from_scale(extent.recip()) * DMat4::from_translation(-lo);
        DataBox {
            world_to_unit,
            diagonal: extent.length(),
        }
    }
}

/// World → occupancy cell coordinates of a grid with `world_to_voxel`: `(v + 0.5) / OCCUPANCY_CELL`.
pub fn world_to_cell(world_to_voxel: DMat4) -> DMat4 {
    let s = 1.0 / OCCUPANCY_CELL as f64;
    DMat4::from_scale(DVec3::splat(s)) * DMat4::from_translation(DVec3::splat(0.5)) * world_to_voxel
}

/// Occupancy cells per axis of a grid of `dims` voxels.
pub fn cell_dims(dims: [u32; 3]) -> [u32; 3] {
    dims.map(|d| d.max(1).div_ceil(OCCUPANCY_CELL))
}

/// Mirrors `struct Ray` in `shaders/raymarch_common.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct RayUniform {
    eye: [f32; 4],
    forward: [f32; 4],
    right: [f32; 4],
    up: [f32; 4],
    viewport: [f32; 4],
    world_to_unit: [[f32; 4]; 4],
    world_to_voxel: [[f32; 4]; 4],
    world_to_cell: [[f32; 4]; 4],
    ov_world_to_voxel: [[f32; 4]; 4],
    ov_world_to_cell: [[f32; 4]; 4],
    dims: [i32; 4],
    cells: [i32; 4],
    ov_dims: [i32; 4],
    ov_cells: [i32; 4],
    mode: [u32; 4],
    params: [f32; 4],
    transfer: [f32; 4],
    background: [f32; 4],
    clip: [[f32; 4]; 3],
    lut: [[u32; 4]; LUT_SIZE / 4],
    alpha: [[f32; 4]; LUT_SIZE / 4],
    alpha_count: [[u32; 4]; LUT_SIZE / 4],
    ov_style: StyleUniform,
}

fn mat(m: DMat4) -> [[f32; 4]; 4] {
    m.as_mat4().to_cols_array_2d()
}

fn ivec(v: [u32; 3], w: i32) -> [i32; 4] {
    [v[0] as i32, v[1] as i32, v[2] as i32, w]
}

/// Four values per vec4.
fn pack4<T: Copy + Default, const N: usize>(values: &[T]) -> [[T; 4]; N] {
    let mut out = [[T::default(); 4]; N];
    for (i, v) in values.iter().enumerate().take(4 * N) {
        out[i / 4][i % 4] = *v;
    }
    out
}

impl RayUniform {
    /// Camera, box, mode and transfer function; no anatomy grid, no overlay, no skipping.
    pub(crate) fn new(
        camera: &OrbitCamera,
        size: (u32, u32),
        settings: &RayMarchSettings,
        data: &DataBox,
        mode: u32,
    ) -> RayUniform {
        let (w, h) = (size.0.max(1) as f32, size.1.max(1) as f32);
        let tan = (camera.fov_y * 0.5).tan();
        let step = settings.effective_step(data.diagonal as f32);
        let lut = settings.transfer.lut();
        let alphas = sample_alphas(&lut, step);
        let counts: Vec<u32> = alphas
            .iter()
            .scan(0u32, |n, &a| {
                *n += (a > 0.0) as u32;
                Some(*n)
            })
            .collect();
        let mut clip = [[0.0f32; 4]; 3];
        let planes = settings.active_clip_planes();
        for (slot, plane) in clip.iter_mut().zip(&planes) {
            *slot = [plane.normal[0], plane.normal[1], plane.normal[2], plane.offset];
        }
        let (lo, hi) = settings.transfer.range;
        RayUniform {
            eye: camera.eye().extend(1.0).to_array(),
            forward: (-camera.backward()).extend(0.0).to_array(),
            right: (camera.right() * (tan * w / h)).extend(0.0).to_array(),
            up: (camera.up() * tan).extend(0.0).to_array(),
            viewport: [w, h, 0.0, 0.0],
            world_to_unit: mat(data.world_to_unit),
            world_to_voxel: mat(DMat4::IDENTITY),
            world_to_cell: mat(DMat4::IDENTITY),
            ov_world_to_voxel: mat(DMat4::IDENTITY),
            ov_world_to_cell: mat(DMat4::IDENTITY),
            dims: [1, 1, 1, 0],
            cells: [1, 1, 1, 0],
            ov_dims: [1, 1, 1, 0],
            ov_cells: [1, 1, 1, 0],
            mode: [mode, settings.lighting as u32, planes.len() as u32, 2 * MAX_SAMPLES],
            params: [
                step,
                settings.termination(),
                settings.iso_level,
                settings.overlay_depth(),
            ],
            transfer: [lo, hi, AMBIENT, DIFFUSE],
            background: settings.background_clamped(),
            clip,
            lut: packed_lut(&lut),
            alpha: pack4(&alphas),
            alpha_count: pack4(&counts),
            ov_style: bytemuck::Zeroable::zeroed(),
        }
    }

    /// The anatomy's grid; `skipping` turns on empty-space skipping with its occupancy cells.
    pub(crate) fn set_anatomy(&mut self, volume: &VolumeTexture, skipping: bool) {
        self.world_to_voxel = mat(volume.world_to_voxel());
        self.world_to_cell = mat(world_to_cell(volume.world_to_voxel()));
        self.dims = ivec(volume.dims(), 0);
        self.cells = ivec(cell_dims(volume.dims()), skipping as i32);
    }

    /// Turn on empty-space skipping for a data source with its own occupancy (fields).
    pub(crate) fn set_skipping(&mut self, skipping: bool) {
        self.cells[3] = skipping as i32;
    }

    /// The overlay's grid and style.
    pub(crate) fn set_overlay(&mut self, overlay: &VolumeTexture, style: &LayerStyle) {
        self.ov_world_to_voxel = mat(overlay.world_to_voxel());
        self.ov_world_to_cell = mat(world_to_cell(overlay.world_to_voxel()));
        self.ov_dims = ivec(overlay.dims(), 0);
        self.ov_cells = ivec(cell_dims(overlay.dims()), 1);
        self.ov_style = StyleUniform::new(style);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shaders::{RAYMARCH_FIELD, RAYMARCH_VOLUME};
    use crate::wgsl_layout::assert_wgsl_layout;

    #[test]
    fn layout_matches_wgsl() {
        for source in [RAYMARCH_VOLUME, RAYMARCH_FIELD] {
            assert_wgsl_layout!(
                source,
                "Ray",
                RayUniform {
                    eye,
                    forward,
                    right,
                    up,
                    viewport,
                    world_to_unit,
                    world_to_voxel,
                    world_to_cell,
                    ov_world_to_voxel,
                    ov_world_to_cell,
                    dims,
                    cells,
                    ov_dims,
                    ov_cells,
                    mode,
                    params,
                    transfer,
                    background,
                    clip,
                    lut,
                    alpha,
                    alpha_count,
                    ov_style,
                }
            );
        }
        assert!(
            std::mem::size_of::<RayUniform>() <= 16 << 10,
            "fits downlevel uniform limits"
        );
    }

    #[test]
    fn grid_box_maps_the_half_voxel_border_to_the_unit_cube() {
        let affine = DMat4::from_cols(
            DVec4::new(0.0, -2.0, 0.0, 0.0),
            DVec4::new(1.5, 0.0, 0.3, 0.0),
            DVec4::new(0.0, 0.0, 1.0, 0.0),
            DVec4::new(10.0, 20.0, -5.0, 1.0),
        );
        let b = DataBox::of_grid(affine, [4, 6, 8]);
        let corner = affine.transform_point3(DVec3::new(-0.5, -0.5, -0.5));
        assert!(b.world_to_unit.transform_point3(corner).length() < 1e-12);
        let far = affine.transform_point3(DVec3::new(3.5, 5.5, 7.5));
        assert!((b.world_to_unit.transform_point3(far) - DVec3::ONE).length() < 1e-12);
        let f = DataBox::of_bounds([-1.0, 0.0, 2.0], [1.0, 4.0, 3.0]);
        assert!((f.world_to_unit.transform_point3(DVec3::new(0.0, 2.0, 2.5)) - DVec3::splat(0.5)).length() < 1e-12);
        assert!((f.diagonal - 21f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn cells_cover_the_grid() {
        assert_eq!(cell_dims([8, 9, 1]), [1, 2, 1]);
        let m = world_to_cell(DMat4::IDENTITY);
        assert_eq!(
            m.transform_point3(DVec3::new(-0.5, 7.5, 15.5)),
            DVec3::new(0.0, 1.0, 2.0)
        );
    }
}
