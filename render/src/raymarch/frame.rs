//! What one 3D picture shows: [`RayFrame`] and its [`RaySource`].

use cortexlens_data::LayerStyle;
use cortexlens_data::camera::OrbitCamera;

use super::settings::RayMarchSettings;
use crate::field_gpu::GpuField;
use crate::volume_texture::VolumeTexture;

/// One picture of the ray marcher.
#[derive(Clone, Copy)]
pub struct RayFrame<'a> {
    /// Pixel `(x, y)` of a `w × h` target marches `camera.ray(x + 0.5, y + 0.5, w, h)`.
    pub camera: &'a OrbitCamera,
    /// Mode, transfer function, step, lighting, clip planes, background.
    pub settings: &'a RayMarchSettings,
    /// What is marched through.
    pub source: RaySource<'a>,
    /// Whether the target's mesh layer holds this frame's meshes
    /// ([`crate::MeshRenderer::record_3d`] with [`crate::MeshDestination::UnderRays`], recorded
    /// before the draw): rays stop at them and they are the background behind the data.
    pub meshes: bool,
}

/// The data a [`RayFrame`] marches through.
#[derive(Clone, Copy)]
pub enum RaySource<'a> {
    /// A volume, with a stat-map overlay on another grid (drawn when visible).
    Volume {
        /// The volume.
        volume: &'a VolumeTexture,
        /// The overlay and its style.
        overlay: Option<(&'a VolumeTexture, &'a LayerStyle)>,
    },
    /// A neural field.
    Field(&'a GpuField),
}

impl RaySource<'_> {
    /// Whether there is anything to march: not for a volume whose affine is singular (it is drawn
    /// as the bare background, so meshes are better drawn alone).
    pub fn is_drawable(&self) -> bool {
        match self {
            RaySource::Volume { volume, .. } => volume.has_invertible_affine(),
            RaySource::Field(_) => true,
        }
    }
}
