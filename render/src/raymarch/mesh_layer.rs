//! Meshes in the 3D view: the [`MeshLayer`] they are drawn into before the ray marcher, which
//! stops each ray at them and composites the data over them.

use super::target::SCENE_DEPTH_FORMAT;
use crate::mesh_target::MESH_DEPTH_FORMAT;
use crate::setup;
use crate::target::SLICE_FORMAT;

/// What [`crate::MeshRenderer::record_3d`] draws for a [`crate::RayTarget`] of the same size:
/// the meshes' straight RGBA colour (alpha 0 where there is no mesh), their view depth (mm along
/// the camera's forward axis, [`super::FAR_DEPTH`] where there is none; the format of
/// [`crate::RayTarget::depth_view`]) and the depth buffer of their depth test.
pub struct MeshLayer {
    pub(crate) colour: wgpu::TextureView,
    pub(crate) depth: wgpu::TextureView,
    pub(crate) z_buffer: wgpu::TextureView,
}

impl MeshLayer {
    pub(crate) fn new(device: &wgpu::Device, size: (u32, u32)) -> MeshLayer {
        let sampled = wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING;
        let view = |label, format, usage| {
            setup::texture_2d(device, label, size, format, usage).create_view(&wgpu::TextureViewDescriptor::default())
        };
        MeshLayer {
            colour: view("3D meshes", SLICE_FORMAT, sampled),
            depth: view("3D mesh depth", SCENE_DEPTH_FORMAT, sampled),
            z_buffer: view(
                "3D mesh z-buffer",
                MESH_DEPTH_FORMAT,
                wgpu::TextureUsages::RENDER_ATTACHMENT,
            ),
        }
    }
}
