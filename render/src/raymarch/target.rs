//! The 3D view's offscreen colour target.

use std::sync::OnceLock;

use super::mesh_layer::MeshLayer;
use super::passes::StateTargets;
use crate::target::SliceTarget;

/// An offscreen `Rgba8Unorm` colour target of the ray marcher (render attachment, texture
/// binding, copy source), shown with [`crate::Compositor::bind_view`] like any other target.
///
/// Cheap to make: while the camera moves the app can draw into a smaller one (reduced
/// resolution) and switch back when it stops; nothing in [`crate::RayMarchRenderer`] depends on
/// the size.
///
/// Beside the colour, every draw writes a depth target ([`SCENE_DEPTH_FORMAT`]): the view-space
/// depth (mm along the camera's forward axis) at which each pixel's ray stopped — the isosurface,
/// where the opacity reached the early-termination threshold, the largest sample of a MIP pixel
/// that shows one, or a mesh drawn under the rays ([`crate::MeshRenderer::record_3d`]) — and
/// [`FAR_DEPTH`] where it did not stop (a ray that leaves the data translucent, the background).
/// Splats are hidden behind it.
///
/// Draws that need several passes (neural fields; see [`crate::raymarch`]) also keep two sets of
/// state targets here (32 bytes per pixel each), and draws with meshes a [`MeshLayer`], made on
/// first use.
pub struct RayTarget {
    inner: SliceTarget,
    depth: wgpu::TextureView,
    state: OnceLock<[StateTargets; 2]>,
    meshes: OnceLock<MeshLayer>,
}

/// Format of [`RayTarget::depth_view`].
pub const SCENE_DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::R32Float;

/// The depth written where a ray did not stop: farther than anything drawn.
pub const FAR_DEPTH: f32 = 3.0e38;

crate::target::offscreen_target!(RayTarget);

impl RayTarget {
    /// A `width × height` target, each side clamped to `1..=max_texture_dimension_2d`.
    pub fn new(device: &wgpu::Device, width: u32, height: u32) -> RayTarget {
        let inner = SliceTarget::new(device, width, height);
        let usage = wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING;
        let depth = crate::setup::texture_2d(device, "ray depth", inner.size(), SCENE_DEPTH_FORMAT, usage)
            .create_view(&wgpu::TextureViewDescriptor::default());
        RayTarget {
            inner,
            depth,
            state: OnceLock::new(),
            meshes: OnceLock::new(),
        }
    }

    /// `(width, height)` in pixels.
    pub fn size(&self) -> (u32, u32) {
        self.inner.size()
    }

    /// The colour texture (for copies).
    pub fn texture(&self) -> &wgpu::Texture {
        self.inner.texture()
    }

    /// The view rendered into, and shown by [`crate::Compositor::bind_view`].
    pub fn view(&self) -> &wgpu::TextureView {
        self.inner.view()
    }

    /// The depth at which each pixel's ray stopped (see the type's docs).
    pub fn depth_view(&self) -> &wgpu::TextureView {
        &self.depth
    }

    /// The layer meshes are drawn into before the ray marcher, made on first use.
    pub(crate) fn mesh_layer(&self, device: &wgpu::Device) -> &MeshLayer {
        self.meshes.get_or_init(|| MeshLayer::new(device, self.size()))
    }

    /// The ping-pong state targets of multi-pass draws, made on first use.
    pub(crate) fn state(&self, device: &wgpu::Device) -> &[StateTargets; 2] {
        self.state.get_or_init(|| {
            [
                StateTargets::new(device, self.size()),
                StateTargets::new(device, self.size()),
            ]
        })
    }
}
