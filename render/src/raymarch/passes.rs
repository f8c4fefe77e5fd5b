//! Splitting a ray-marching draw into passes within a loop-iteration budget.
//!
//! lavapipe (Mesa's gallivm) ends every loop of a shader invocation once that invocation has
//! run 65,535 loop iterations in all, nested loops included (`LP_MAX_TGSI_LOOP_ITERATIONS`,
//! "shared between every loop"), silently: a long ray through a neural field (hundreds of
//! iterations per evaluation) would be cut short. So a draw runs as passes of at most
//! [`PASS_BUDGET`] iterations per pixel; each stops at a sample boundary and stores the ray's
//! state in two state targets (`Rgba32Float` colour, `Rgba32Uint` progress), which the next
//! pass reads; the last pass writes the colour. The state is stored exactly, so the picture is
//! the same for any number of passes. The number of passes is an upper bound computed from the
//! longest possible ray, so every ray finishes.

use super::settings::{MAX_SAMPLES, RayMarchSettings, RenderMode};
use super::uniform::DataBox;
use crate::setup;

/// Loop iterations one pass may run per pixel (below lavapipe's 65,535, with room for the ray
/// setup).
pub const PASS_BUDGET: u32 = 60_000;

/// Most passes of one draw (only reached by fields far beyond the supported sizes).
pub const MAX_PASSES: u32 = 1024;

/// Loop iterations of the ray setup (`SETUP_ITERATIONS` in `raymarch.wgsl`).
const SETUP_ITERATIONS: u64 = 4;

/// Format of the state target holding the premultiplied colour.
pub(crate) const STATE_COLOUR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba32Float;

/// Format of the state target holding sample index, MIP maximum, termination depth and flags.
pub(crate) const STATE_MISC_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba32Uint;

/// Mirrors `struct Pass` in `shaders/raymarch.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct PassUniform {
    budget: [u32; 4],
    meshes: [u32; 4],
}

/// How a draw is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PassPlan {
    /// Number of passes (≥ 1).
    pub passes: u32,
    /// Loop iterations of one evaluation of the data (1 for volumes).
    pub per_eval: u32,
    /// Loop iterations one whole sample may take (its evaluations, gradient taps, ISO refinement).
    pub per_sample: u32,
}

/// The shader's modes: whether a sample may need gradient taps (7 evaluations) or an ISO hit
/// (9: the sample, the one before, the refined hit and 6 taps).
fn evaluations_per_sample(mode: Option<RenderMode>, lighting: bool) -> (u64, u64) {
    match mode {
        Some(RenderMode::Iso) => (1, 9),
        Some(RenderMode::Dvr) if lighting => (7, 7),
        _ => (1, 1),
    }
}

impl PassPlan {
    /// The plan for a box of world diagonal `diagonal` sampled every `step` mm, with `per_eval`
    /// iterations per evaluation; `mode` is `None` for density–colour fields.
    pub fn new(diagonal: f64, step: f32, per_eval: u32, mode: Option<RenderMode>, lighting: bool) -> PassPlan {
        let per_eval = per_eval.max(1) as u64;
        let (typical, worst) = evaluations_per_sample(mode, lighting);
        let per_sample = worst * per_eval + 2;
        let samples = if step > 0.0 && diagonal.is_finite() {
            ((diagonal / step as f64).ceil() as u64 + 2).min(2 * MAX_SAMPLES as u64)
        } else {
            2 * MAX_SAMPLES as u64
        };
        // Every sample at its typical cost (at least one iteration, as a skip), the ISO hit or a
        // lit sample at its worst, and the setup.
        let work = SETUP_ITERATIONS + samples * (typical * per_eval + 1) + per_sample;
        let usable = (PASS_BUDGET as u64)
            .saturating_sub(per_sample + SETUP_ITERATIONS)
            .max(1);
        let passes = work.div_ceil(usable).clamp(1, MAX_PASSES as u64) as u32;
        PassPlan {
            passes,
            per_eval: per_eval.min(u32::MAX as u64) as u32,
            per_sample: per_sample.min(u32::MAX as u64) as u32,
        }
    }

    /// The plan for `data` drawn with `settings` (its step and lighting), with `per_eval`
    /// iterations per evaluation; `mode` is `None` for density–colour fields.
    pub fn for_box(data: &DataBox, settings: &RayMarchSettings, per_eval: u32, mode: Option<RenderMode>) -> PassPlan {
        let step = settings.effective_step(data.diagonal as f32);
        PassPlan::new(data.diagonal, step, per_eval, mode, settings.lighting)
    }

    /// The uniform of pass `index`, of a draw over meshes or not.
    pub(crate) fn uniform(&self, index: u32, meshes: bool) -> PassUniform {
        PassUniform {
            budget: [(index == 0) as u32, PASS_BUDGET, self.per_eval, self.per_sample],
            meshes: [meshes as u32, 0, 0, 0],
        }
    }
}

/// One set of state targets (written by one pass, read by the next).
pub(crate) struct StateTargets {
    pub colour: wgpu::TextureView,
    pub misc: wgpu::TextureView,
}

impl StateTargets {
    pub(crate) fn new(device: &wgpu::Device, size: (u32, u32)) -> StateTargets {
        let size = (size.0.max(1), size.1.max(1));
        let usage = wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING;
        let texture = |label, format| {
            setup::texture_2d(device, label, size, format, usage).create_view(&wgpu::TextureViewDescriptor::default())
        };
        StateTargets {
            colour: texture("raymarch state colour", STATE_COLOUR_FORMAT),
            misc: texture("raymarch state", STATE_MISC_FORMAT),
        }
    }
}

/// Bind group 2 of the ray-marching pipelines: the pass uniform, the state of the previous
/// pass, and the meshes' colour and depth ([`super::MeshLayer`]).
pub(crate) fn pass_bind_group_layout(device: &wgpu::Device) -> wgpu::BindGroupLayout {
    let fragment = wgpu::ShaderStages::FRAGMENT;
    let state = |binding, sample_type| setup::texture(binding, fragment, sample_type, wgpu::TextureViewDimension::D2);
    setup::bind_group_layout(
        device,
        "raymarch pass",
        &[
            setup::uniform::<PassUniform>(0, fragment),
            state(1, wgpu::TextureSampleType::Float { filterable: false }),
            state(2, wgpu::TextureSampleType::Uint),
            state(3, wgpu::TextureSampleType::Float { filterable: false }),
            state(4, wgpu::TextureSampleType::Float { filterable: false }),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shaders::RAYMARCH_VOLUME;
    use crate::wgsl_layout::assert_wgsl_layout;

    #[test]
    fn uniform_layout_matches_wgsl() {
        assert_wgsl_layout!(RAYMARCH_VOLUME, "Pass", PassUniform { budget, meshes });
    }

    #[test]
    fn volumes_take_one_pass_fields_several() {
        // MNI152 at 0.5 mm, lit DVR: one pass.
        let mni = PassPlan::new(337.0, 0.5, 1, Some(RenderMode::Dvr), true);
        assert_eq!(mni.passes, 1);
        // A field of ~600 iterations per evaluation over 300 mm at 1 mm.
        let field = PassPlan::new(300.0, 1.0, 600, Some(RenderMode::Dvr), false);
        assert!(field.passes >= 3 && field.passes <= 5, "{field:?}");
        let lit = PassPlan::new(300.0, 1.0, 600, Some(RenderMode::Dvr), true);
        assert!(lit.passes > field.passes);
        // Every pass can take at least one whole sample.
        assert!(lit.per_sample < PASS_BUDGET);
        assert_eq!(lit.uniform(0, false).budget[0], 1);
        assert_eq!(lit.uniform(1, false).budget[0], 0);
        assert_eq!(lit.uniform(1, true).meshes[0], 1);
    }
}
