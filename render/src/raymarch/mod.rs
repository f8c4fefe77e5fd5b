//! The 3D view's GPU ray marcher: volumes (a [`VolumeTexture`](crate::VolumeTexture), with an
//! optional stat-map overlay) and neural fields ([`GpuField`](crate::GpuField)) drawn by one
//! marching loop (`shaders/raymarch.wgsl`) behind a data-source interface (`src_eval`,
//! `src_gradient`, `src_overlay`, `src_skip`; `shaders/volume_sampler.wgsl` and
//! `shaders/field_sampler.wgsl`), as full-screen fragment passes.
//!
//! # Definition
//!
//! [`crate::raymarch_cpu_reference`] implements the same steps on the CPU (positions in f64) and
//! is the GPU's test oracle.
//!
//! - **Ray.** Pixel `(x, y)` of a `w × h` target marches `OrbitCamera::ray(x + 0.5, y + 0.5, w, h)`:
//!   origin `o` at the eye, unit direction `d`, distance `t` in mm.
//! - **Segment.** The data's box: for a volume the voxel-centre grid extended by half a voxel
//!   (`−0.5 ..= n − 0.5` in voxel coordinates, through the affine, so oblique and flipped affines
//!   give the right parallelepiped); for a field `bounds_min ..= bounds_max`. `[t0, t1]` is the
//!   ray's intersection with the box, with `t ≥ 0`, and with every clip plane's kept half-space
//!   `dot(n, p) ≤ offset` (at most [`MAX_CLIP_PLANES`]). With meshes ([`RayFrame::meshes`]) the
//!   segment also ends at the nearest mesh: `t1 ≤ z / (d · f)`, `z` the mesh's view depth at the
//!   pixel and `f` the camera's unit forward axis.
//! - **Samples.** `t_k = t0 + (k + 0.5)·step` for `k = 0, 1, …` while `t_k < t1`, with `step`
//!   from [`RayMarchSettings::effective_step`] (the box's world bounding-box diagonal bounds it to
//!   [`MAX_SAMPLES`] steps). A volume sample is the slice renderer's Linear mode at
//!   `world_to_voxel · p` (trilinear, indices clamped; no sample outside `−0.5 ..= n − 0.5` or next
//!   to a non-finite voxel). A field sample is `NeuralField::eval(p)`; there is no sample in a
//!   cell that the field's occupancy grid marks empty.
//! - **Colour.** `TransferFunction::lut()` indexed by [`TransferFunction::index`]
//!   (cortexlens_data::transfer).
//! - **MIP.** `m` = the largest sample; the pixel is the LUT colour of `m`, opaque, when some
//!   sample exists and `m ≥ min(range)`, else background. (So values below the range are empty
//!   space, and skipping them is exact.)
//! - **DVR.** Front to back: sample opacity `a = 1 − (1 − α)^(step / REFERENCE_STEP_MM)` from the
//!   LUT's 8-bit alpha `α` ([`REFERENCE_STEP_MM`] = 1 mm: opacities are per millimetre;
//!   [`sample_alphas`]), colour `c` = LUT RGB, times the shading below when `lighting`;
//!   `C += (1 − A)·a·c`, `A += (1 − A)·a`; the data terminates at the first sample where
//!   `A ≥ early_termination`.
//! - **ISO.** The first sample `k` with a value `s_k ≥ iso_level` is the hit; when sample `k − 1`
//!   exists with `s_{k−1} < iso_level` the hit is refined to
//!   `t = t_{k−1} + step·(level − s_{k−1}) / (s_k − s_{k−1})`, else `t = t_k` (a ray entering
//!   the data already above the level, as at a clip plane, shows the cut face). Colour: the LUT
//!   RGB at the level, shaded; opaque.
//! - **Shading.** Headlight: `ambient + diffuse·|n · d|` ([`AMBIENT`] 0.3, [`DIFFUSE`] 0.7),
//!   `n` the normalised world gradient (`ambient + diffuse` where `|g|² ≤ 1e-20`). Volume
//!   gradient: central differences of the Linear sample one voxel either side along each voxel
//!   axis, positions clamped into `−0.5 ..= n − 0.5`, an invalid tap replaced by the centre value
//!   (the sample's, or the level at an ISO hit), then `g_world = Mᵀ g_voxel` with `M` the
//!   world→voxel matrix. Field gradient: central differences of the field `step` mm along each
//!   world axis.
//! - **Density–colour fields.** `α = 1 − exp(−σ·step)`, colour `rgb`, composited as DVR
//!   (terminating at `early_termination`), regardless of mode, transfer function and lighting.
//! - **Overlay** (volumes). At the same sample positions the overlay is sampled through its own
//!   affine with its style's interpolation; its colour is `LayerStyle::lut_entry` of the value.
//!   The first sample `k` at which it is drawn, among those with `t_k ≤ t_term + overlay_depth_mm`,
//!   wins: `t_term` is where the data terminated (DVR: the terminating sample; ISO: the hit) or
//!   `t1` (MIP, or no termination). This is how MRIcroGL shows activation on and just under the
//!   surface.
//! - **Output.** Data over the background `B` — the mesh's colour where a mesh is drawn, else the
//!   settings' background — (premultiplied `C, A` over straight `B`): alpha
//!   `A + (1 − A)·B.a`, colour `(C + (1 − A)·B.a·B.rgb) / alpha`; then, where the overlay was
//!   found, `rgb = mix(rgb, overlay, o)`, `alpha = alpha·(1 − o) + o` with `o` the style's opacity;
//!   clamped to 0..=1 and stored as straight RGBA8.
//! - **Depth** (the [`RayTarget::depth_view`], which hides splats): `t·(d · f)` at the ray's
//!   stop — ISO: the hit; DVR and density fields: the terminating sample; MIP: the largest sample
//!   when the pixel shows it — else the mesh's view depth where there is one, else [`FAR_DEPTH`].
//! - **Empty-space skipping** ([`VolumeOccupancy`], the field's occupancy grid) only jumps over
//!   samples that the steps above ignore (for MIP also cells whose maximum is below the largest
//!   sample found so far), and lands on the sample grid `t_k`: it never changes the picture.
//!
//! Everything is deterministic: no derivatives, no jitter.
//!
//! # Shader structure
//!
//! - The marching loop is a per-pixel state machine that evaluates the data exactly once per
//!   iteration (a sample, a gradient tap, the sample before an ISO hit, the refined hit), so a
//!   neural field is compiled into the shader once. (With several inlined evaluations in
//!   divergent branches, lavapipe gave results that depended on the neighbouring pixels.)
//! - A draw runs as one or more passes ([`PassPlan`]): lavapipe ends all loops of a shader
//!   invocation after 65,535 loop iterations in total, and a field evaluation takes hundreds, so
//!   each pass stops within [`PASS_BUDGET`] iterations at a sample boundary and stores the ray
//!   state (exactly) in the [`RayTarget`]'s state targets; the last pass writes the colour.
//!   Volumes take one pass (the trilinear fetches are written out, not looped).
//!
//! # Use
//!
//! The app keeps one [`RayMarchRenderer`] and a [`RayTarget`] per 3D view and, per picture, calls
//! [`Renderer::prepare`](crate::Renderer::prepare) (which builds missing occupancy grids) then
//! [`Renderer::draw`](crate::Renderer::draw) with a [`RayFrame`]; while the camera moves it may
//! draw into a smaller [`RayTarget`] and show it scaled (nothing but the target depends on the
//! size). Screenshots use [`crate::render_rgba`] at any size.

mod frame;
mod mesh_layer;
mod occupancy;
mod occupancy_cache;
mod passes;
mod renderer;
mod settings;
mod target;
mod uniform;

pub use self::frame::{RayFrame, RaySource};
pub use self::mesh_layer::MeshLayer;
pub use self::occupancy::{VolumeOccupancy, occupancy_ranges_cpu};
pub use self::passes::{MAX_PASSES, PASS_BUDGET, PassPlan};
pub use self::renderer::RayMarchRenderer;
pub use self::settings::{
    AMBIENT, ClipPlane, DIFFUSE, FALLBACK_STEP_MM, MAX_CLIP_PLANES, MAX_SAMPLES, REFERENCE_STEP_MM, RayMarchSettings,
    RenderMode, sample_alphas,
};
pub use self::target::{FAR_DEPTH, RayTarget, SCENE_DEPTH_FORMAT};
pub use self::uniform::{DataBox, OCCUPANCY_CELL, cell_dims};

#[doc(no_inline)]
pub use cortexlens_data::transfer::TransferFunction;
