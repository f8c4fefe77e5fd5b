//! The 3D view's picture computed on the CPU, to test the GPU ray marcher against.
//!
//! It follows the definition in [`crate::raymarch`] step by step but shares none of the GPU's
//! code paths: positions, box and clip-plane intersections and compositing in f64, the box in
//! voxel coordinates (`−0.5 ..= n − 0.5`) rather than the GPU's unit cube, volume samples through
//! [`crate::cpu_reference::sample`] (the slice reference's Linear mode), colours through
//! `TransferFunction::lut` and `LayerStyle::lut_entry`, and no empty-space skipping at all (so
//! comparing with the GPU's skipping renders also tests that skipping changes nothing).
//! It shares the parameter definitions: [`RayMarchSettings::effective_step`] and
//! [`crate::raymarch::sample_alphas`].

mod field;
mod march;
mod volume;

use cortexlens_data::camera::OrbitCamera;
use cortexlens_data::{LayerStyle, Volume};
use glam::DVec3;

pub use self::field::CpuField;
use self::field::FieldSource;
use self::march::{Bounds, Mode, Plan};
use self::volume::{Grid, VolumeSource};
use crate::raymarch::RayMarchSettings;
use crate::style_uniform::clamp_opacity;

/// The picture of frame `frame` of `volume`, with `overlay` (volume, frame, style) when visible,
/// through `camera` in a `width × height` image: tightly packed straight RGBA8, top row first.
/// A volume without voxels or with a singular affine gives the background.
pub fn render_volume(
    width: u32,
    height: u32,
    camera: &OrbitCamera,
    volume: &Volume,
    frame: usize,
    overlay: Option<(&Volume, usize, &LayerStyle)>,
    settings: &RayMarchSettings,
) -> Vec<u8> {
    let view = View {
        width,
        height,
        camera,
        meshes: None,
    };
    render_volume_in(view, volume, frame, overlay, settings)
}

/// A picture's size and camera, and the meshes the rays stop at.
#[derive(Clone, Copy)]
pub struct View<'a> {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pixel `(x, y)` marches `camera.ray(x + 0.5, y + 0.5, width, height)`.
    pub camera: &'a OrbitCamera,
    /// Meshes drawn as the 3D view draws them ([`crate::mesh_cpu_reference::rasterize_clipped`],
    /// same size and camera): each ray ends at the mesh in front of it (its view depth over
    /// `d · forward`), and the mesh's colour is the background there.
    pub meshes: Option<&'a crate::mesh_cpu_reference::Frame>,
}

/// [`render_volume`] in `view`, over its meshes.
pub fn render_volume_in(
    view: View<'_>,
    volume: &Volume,
    frame: usize,
    overlay: Option<(&Volume, usize, &LayerStyle)>,
    settings: &RayMarchSettings,
) -> Vec<u8> {
    let (lo, hi) = volume.world_bounds();
    let shape = volume.shape;
    let Some(anatomy) = Grid::new(volume, frame) else {
        let bounds = Bounds {
            to_local: glam::DMat4::IDENTITY,
            lo: DVec3::ONE,
            hi: DVec3::ZERO,
            diagonal: 0.0,
        };
        return Plan::new(settings, settings.mode.into(), bounds, 0.0).render(view, &NoData);
    };
    let bounds = Bounds {
        to_local: anatomy.world_to_voxel,
        lo: DVec3::splat(-0.5),
        hi: DVec3::new(shape[0] as f64, shape[1] as f64, shape[2] as f64) - 0.5,
        diagonal: (hi - lo).length(),
    };
    let overlay = overlay
        .filter(|(_, _, style)| style.visible)
        .and_then(|(v, f, style)| Some((Grid::new(v, f)?, style)));
    let opacity = overlay.as_ref().map_or(0.0, |(_, s)| clamp_opacity(s.opacity) as f64);
    let source = VolumeSource { anatomy, overlay };
    Plan::new(settings, settings.mode.into(), bounds, opacity).render(view, &source)
}

/// The picture of a field through `camera` in a `width × height` image: intensity fields through
/// `settings.mode`, density–colour fields composited NeRF-style; tightly packed straight RGBA8.
pub fn render_field(
    width: u32,
    height: u32,
    camera: &OrbitCamera,
    field: &CpuField<'_>,
    settings: &RayMarchSettings,
) -> Vec<u8> {
    let view = View {
        width,
        height,
        camera,
        meshes: None,
    };
    render_field_in(view, field, settings)
}

/// [`render_field`] in `view`, over its meshes.
pub fn render_field_in(view: View<'_>, field: &CpuField<'_>, settings: &RayMarchSettings) -> Vec<u8> {
    let (min, max) = field.bounds;
    let lo = DVec3::from_array(min.map(f64::from));
    let hi = DVec3::from_array(max.map(f64::from));
    let bounds = Bounds {
        to_local: glam::DMat4::IDENTITY,
        lo,
        hi,
        diagonal: (hi - lo).length(),
    };
    let mode = if field.density_rgb {
        Mode::Density
    } else {
        settings.mode.into()
    };
    let plan = Plan::new(settings, mode, bounds, 0.0);
    let step = settings.effective_step(bounds.diagonal as f32) as f64;
    plan.render(view, &FieldSource { field, step })
}

/// No data: every ray misses.
struct NoData;

impl march::Source for NoData {
    fn value(&self, _p: DVec3) -> Option<f32> {
        None
    }

    fn gradient(&self, _p: DVec3, _centre: f32) -> DVec3 {
        DVec3::ZERO
    }
}
