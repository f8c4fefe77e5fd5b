//! Offscreen targets of the surface view: a colour texture and its depth buffer.

use crate::setup;
use crate::target::SLICE_FORMAT;

/// Colour format of every [`MeshTarget`]: straight 8-bit RGBA, not sRGB-encoded, as slice
/// targets, so the same [`crate::Compositor`] shows both.
pub const MESH_COLOR_FORMAT: wgpu::TextureFormat = SLICE_FORMAT;

/// Depth format of every [`MeshTarget`].
pub const MESH_DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

/// An offscreen `Rgba8Unorm` colour target (render attachment, texture binding, copy source)
/// with a `Depth32Float` depth buffer of the same size, one sample per pixel.
pub struct MeshTarget {
    color: wgpu::Texture,
    color_view: wgpu::TextureView,
    depth_view: wgpu::TextureView,
    size: (u32, u32),
}

crate::target::offscreen_target!(MeshTarget);

impl MeshTarget {
    /// A `width × height` target, each side clamped to `1..=max_texture_dimension_2d`.
    pub fn new(device: &wgpu::Device, width: u32, height: u32) -> MeshTarget {
        let size = setup::clamp_target_size(device, width, height, "mesh target");
        let color = setup::texture_2d(
            device,
            "mesh target",
            size,
            MESH_COLOR_FORMAT,
            wgpu::TextureUsages::RENDER_ATTACHMENT
                | wgpu::TextureUsages::TEXTURE_BINDING
                | wgpu::TextureUsages::COPY_SRC,
        );
        let depth = setup::texture_2d(
            device,
            "mesh depth",
            size,
            MESH_DEPTH_FORMAT,
            wgpu::TextureUsages::RENDER_ATTACHMENT,
        );
        MeshTarget {
            color_view: color.create_view(&wgpu::TextureViewDescriptor::default()),
            depth_view: depth.create_view(&wgpu::TextureViewDescriptor::default()),
            color,
            size,
        }
    }

    /// `(width, height)` in pixels.
    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    /// The colour texture (for copies).
    pub fn texture(&self) -> &wgpu::Texture {
        &self.color
    }

    /// The colour view rendered into, and shown by [`crate::Compositor::bind_view`].
    pub fn view(&self) -> &wgpu::TextureView {
        &self.color_view
    }

    /// The depth view.
    pub fn depth_view(&self) -> &wgpu::TextureView {
        &self.depth_view
    }
}
