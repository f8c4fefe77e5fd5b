//! The wgpu renderer of cortexlens. It knows nothing of egui: the app's paint callback asks
//! [`SliceRenderer::draw`] for a command buffer that renders a slice offscreen into a
//! [`SliceTarget`], then composites that target into egui's pass with a [`Compositor`].
//!
//! - [`GpuContext`]: a headless device (CLI, screenshots, tests) and [`device_requirements`].
//! - [`VolumeTexture`]: one frame of a volume as a 3D `R32Float` texture, downsampled if too big.
//! - [`SliceRenderer`]: the reslicer (`shaders/slice.wgsl`), layers blended bottom first.
//! - [`SliceTarget`]: offscreen `Rgba8Unorm` target with readback.
//! - [`Compositor`]: draws a target over the current viewport of someone else's pass.
//! - [`cpu_reference`]: the same picture on the CPU, the GPU's test oracle.
//!
//! The surface view works the same way: [`MeshRenderer::draw`] renders [`GpuMesh`]es through an
//! [`OrbitCamera`](cortexlens_data::camera::OrbitCamera) with [`Lighting`] into a [`MeshTarget`]
//! (colour + depth), which the [`Compositor`] shows with [`Compositor::bind_view`].
//!
//! - [`GpuMesh`]: positions, normals, per-vertex colours and triangles; geometry and colours
//!   are replaced separately.
//! - [`MeshRenderer`]: the mesh pipeline (`shaders/mesh.wgsl`), depth-tested, two-sided.
//! - [`Lighting`]: headlight, ambient, diffuse, specular and background; the lighting maths.
//! - [`mesh_cpu_reference`]: the surface picture on the CPU, the mesh renderer's test oracle.
//!
//! The 3D view ray-marches volumes and neural fields: [`RayMarchRenderer::draw_volume`] and
//! [`RayMarchRenderer::draw_field`] render into a [`RayTarget`] through an `OrbitCamera` with
//! [`RayMarchSettings`] (MIP, DVR with a transfer function, shaded isosurface, clip planes,
//! stat-map overlay), shown with [`Compositor::bind_view`]; [`raymarch`] defines the picture.
//!
//! - [`VolumeOccupancy`]: per-cell value ranges of a volume texture for empty-space skipping.
//! - [`GpuField`]: a `NeuralField` in GPU buffers; [`eval_field_gpu`] evaluates it at points
//!   with the same WGSL.
//! - [`raymarch_cpu_reference`]: the 3D picture on the CPU, the ray marcher's test oracle.
//! - [`shaders`]: the WGSL sources as the pipelines use them.

pub mod composite;
pub mod context;
pub mod cpu_reference;
pub mod error;
pub mod field_gpu;
pub mod gpu_mesh;
pub mod lighting;
pub mod mesh_cpu_reference;
pub mod mesh_renderer;
pub mod mesh_target;
pub mod raymarch;
pub mod raymarch_cpu_reference;
mod readback;
mod setup;
pub mod shaders;
pub mod slice;
mod style_uniform;
pub mod target;
#[cfg(any(test, feature = "testing"))]
pub mod test_meshes;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod volume_texture;
#[cfg(test)]
mod wgsl_layout;

pub use composite::Compositor;
pub use context::{GpuContext, device_requirements};
pub use error::RenderError;
pub use field_gpu::{GpuField, eval_field_gpu};
pub use gpu_mesh::GpuMesh;
pub use lighting::Lighting;
pub use mesh_renderer::{MeshInstance, MeshRenderer};
pub use mesh_target::{MESH_COLOR_FORMAT, MESH_DEPTH_FORMAT, MeshTarget};
pub use raymarch::{ClipPlane, RayMarchRenderer, RayMarchSettings, RayTarget, RenderMode, VolumeOccupancy};
pub use slice::SliceRenderer;
pub use target::{SLICE_FORMAT, SliceTarget};
pub use volume_texture::{TextureBudget, VolumeTexture};

use cortexlens_data::{LayerStyle, SliceGeometry};

/// Render a slice into a new target of the geometry's size and read it back: tightly packed
/// RGBA8, top row first. Builds a [`SliceRenderer`] each call; keep one and use
/// [`SliceRenderer::render_rgba`] to render many.
///
/// # Panics
/// When the GPU cannot be waited for (device lost); see [`SliceTarget::read_rgba`].
pub fn render_slice_rgba(
    ctx: &GpuContext,
    geometry: &SliceGeometry,
    layers: &[(&VolumeTexture, &LayerStyle)],
) -> Vec<u8> {
    SliceRenderer::new(&ctx.device)
        .render_rgba(&ctx.device, &ctx.queue, geometry, layers)
        .unwrap_or_else(|e| panic!("render_slice_rgba: {e}"))
}
