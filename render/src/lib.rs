//! The wgpu renderer of cortexlens. It knows nothing of egui: the app's paint callback asks a
//! renderer for a command buffer that draws a picture offscreen, then composites that target
//! into egui's pass with a [`Compositor`].
//!
//! # One shape from data to pixels
//!
//! Every renderer is a [`Renderer`]: made once per device, it draws one kind of *frame* (a
//! plain struct of borrowed data saying what one picture shows) into its kind of
//! [`OffscreenTarget`]. Per picture, [`Renderer::prepare`] does the work the frame needs first
//! (submitted there), and [`Renderer::draw`] returns the commands that draw it (not submitted).
//! [`render_rgba`] is the one readback: prepare, draw into a new target, submit, read RGBA8.
//!
//! | renderer | frame | target |
//! | --- | --- | --- |
//! | [`SliceRenderer`] (`shaders/slice.wgsl`) | [`SliceFrame`]: geometry, layers | [`SliceTarget`] |
//! | [`MeshRenderer`] (`shaders/mesh.wgsl`) | [`MeshFrame`]: camera, meshes, lighting | [`MeshTarget`] (+ depth) |
//! | [`RayMarchRenderer`] (`shaders/raymarch*.wgsl`) | [`RayFrame`]: camera, settings, [`RaySource`] | [`RayTarget`] |
//!
//! - [`GpuContext`]: a headless device (CLI, screenshots, tests), [`device_requirements`] and
//!   [`device_limits`] (also what the window asks for).
//! - [`VolumeTexture`]: one frame of a volume as a 3D `R32Float` texture, downsampled if too big,
//!   with a [`VolumeTexture::content_id`] that changes with its contents.
//! - [`GpuMesh`]: positions, normals, per-vertex colours and triangles; geometry and colours
//!   are replaced separately. [`Lighting`]: the surface view's light and its maths.
//! - [`GpuField`]: a `NeuralField` in GPU buffers; [`eval_field_gpu`] evaluates it at points
//!   with the same WGSL.
//! - [`Compositor`]: draws any target over the current viewport of someone else's pass.
//! - [`shaders`]: the WGSL sources as the pipelines use them. A [`LayerStyle`] is packed for
//!   them in one place (`style_uniform`), for slice layers and the ray marcher's overlay.
//!
//! The slice renderer blends layers bottom first through each volume's affine. The mesh
//! renderer draws depth-tested, two-sided. The ray marcher draws volumes (MIP, DVR, shaded
//! isosurface, clip planes, stat-map overlay) and neural fields; [`raymarch`] defines the
//! picture. Its empty-space skipping reads occupancy grids ([`VolumeOccupancy`]) that belong to
//! the ray marcher: [`Renderer::prepare`] builds those a frame needs, keyed by the textures'
//! content ids, and the renderer keeps a bounded few.
//!
//! Each picture has a CPU twin, the GPU's test oracle: [`cpu_reference`] (slices),
//! [`mesh_cpu_reference`] (surfaces), [`raymarch_cpu_reference`] (3D).
//!
//! [`LayerStyle`]: cortexlens_data::LayerStyle

pub mod composite;
pub mod context;
pub mod cpu_reference;
pub mod error;
pub mod field_gpu;
pub mod gpu_mesh;
pub mod lighting;
pub mod limits;
pub mod mesh_cpu_reference;
pub mod mesh_renderer;
pub mod mesh_target;
pub mod raymarch;
pub mod raymarch_cpu_reference;
mod readback;
pub mod renderer;
mod setup;
pub mod shaders;
pub mod slice;
pub mod splat_cpu_reference;
pub mod splats;
mod style_uniform;
pub mod target;
#[cfg(any(test, feature = "testing"))]
pub mod test_meshes;
#[cfg(any(test, feature = "testing"))]
pub mod test_splats;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod volume_texture;
#[cfg(test)]
mod wgsl_layout;

pub use composite::Compositor;
pub use context::{GpuContext, device_limits, device_requirements};
pub use error::RenderError;
pub use field_gpu::{GpuField, eval_field_gpu};
pub use gpu_mesh::GpuMesh;
pub use lighting::Lighting;
pub use mesh_renderer::{MeshDestination, MeshFrame, MeshInstance, MeshRenderer};
pub use mesh_target::{MESH_COLOR_FORMAT, MESH_DEPTH_FORMAT, MeshTarget};
pub use raymarch::{
    ClipPlane, RayFrame, RayMarchRenderer, RayMarchSettings, RaySource, RayTarget, RenderMode, VolumeOccupancy,
};
pub use renderer::{Renderer, render_rgba};
pub use slice::{SliceFrame, SliceRenderer};
pub use splats::{GpuSplats, SplatData, SplatFrame, SplatRenderer};
pub use target::{OffscreenTarget, SLICE_FORMAT, SliceTarget};
pub use volume_texture::{TextureBudget, VolumeTexture};
