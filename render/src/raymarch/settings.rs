//! What the 3D view draws and how: render mode, transfer function, clip planes, step, lighting.

use cortexlens_data::colormap::LUT_SIZE;
use cortexlens_data::transfer::TransferFunction;

/// Opacities of the transfer function are per this many millimetres of ray: a sample `step` mm
/// long gets `1 − (1 − alpha)^(step / REFERENCE_STEP_MM)`.
pub const REFERENCE_STEP_MM: f32 = 1.0;

/// Ambient term of the gradient shading: `ambient + diffuse · |n · l|`.
pub const AMBIENT: f32 = 0.3;

/// Diffuse (Lambert) term of the gradient shading.
pub const DIFFUSE: f32 = 0.7;

/// Most samples along one ray; the step grows for boxes longer than `MAX_SAMPLES` steps.
pub const MAX_SAMPLES: u32 = 8192;

/// Most clip planes (more are ignored).
pub const MAX_CLIP_PLANES: usize = 3;

/// Step used when `step_mm` is not a positive finite number.
pub const FALLBACK_STEP_MM: f32 = 1.0;

/// How the samples along a ray become a colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RenderMode {
    /// Maximum intensity projection.
    Mip,
    /// Direct volume rendering: front-to-back compositing through the transfer function.
    Dvr,
    /// The first crossing of the iso level, shaded by the gradient.
    Iso,
}

impl RenderMode {
    /// Every mode, in menu order.
    pub const ALL: [RenderMode; 3] = [RenderMode::Mip, RenderMode::Dvr, RenderMode::Iso];

    /// Name as used on the command line: `mip`, `dvr`, `iso`.
    pub fn name(self) -> &'static str {
        match self {
            RenderMode::Mip => "mip",
            RenderMode::Dvr => "dvr",
            RenderMode::Iso => "iso",
        }
    }

    /// Parse a name as printed by [`RenderMode::name`] (case and surrounding space ignored).
    pub fn from_name(name: &str) -> Option<RenderMode> {
        let name = name.trim().to_ascii_lowercase();
        RenderMode::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The mode's number in the shaders (`MODE_*` in `raymarch_common.wgsl`).
    pub(crate) fn shader_id(self) -> u32 {
        match self {
            RenderMode::Mip => 0,
            RenderMode::Dvr => 1,
            RenderMode::Iso => 2,
        }
    }
}

/// A clip plane: keeps the world points `p` with `dot(normal, p) <= offset`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClipPlane {
    /// Normal (world, need not be unit length); points on its side are removed.
    pub normal: [f32; 3],
    /// Offset along the normal, in the normal's units.
    pub offset: f32,
}

impl ClipPlane {
    /// The plane through `point` removing the side `normal` points to.
    pub fn through(point: [f32; 3], normal: [f32; 3]) -> ClipPlane {
        let offset = (0..3).map(|a| point[a] * normal[a]).sum();
        ClipPlane { normal, offset }
    }
}

/// Everything the ray marcher needs besides the camera, the data and the target.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RayMarchSettings {
    /// MIP, DVR or isosurface (ignored by density–colour fields).
    pub mode: RenderMode,
    /// Colour (all modes) and opacity (DVR) of the values.
    pub transfer: TransferFunction,
    /// Level of the isosurface (ISO).
    pub iso_level: f32,
    /// Distance between samples in mm, e.g. half the smallest voxel edge.
    pub step_mm: f32,
    /// Up to [`MAX_CLIP_PLANES`] clip planes.
    pub clip_planes: Vec<ClipPlane>,
    /// Shade DVR samples by the gradient (ISO is always shaded; MIP never).
    pub lighting: bool,
    /// Straight RGBA (0..=1) behind the volume.
    pub background: [f32; 4],
    /// DVR and density fields stop once the accumulated opacity reaches this, e.g. 0.99.
    pub early_termination: f32,
    /// Skip empty space with the occupancy grid. It never changes the picture, only the speed.
    pub empty_space_skipping: bool,
    /// How far behind the anatomy's termination depth (mm) the overlay is still looked for: 0
    /// shows only activation in front of the surface drawn, more looks into the tissue, as
    /// MRIcroGL's overlay depth.
    pub overlay_depth_mm: f32,
}

impl Default for RayMarchSettings {
    /// DVR with [`TransferFunction::default`], 0.5 mm steps, lighting, black background,
    /// termination at 0.99, skipping on, overlay depth 20 mm.
    fn default() -> Self {
        RayMarchSettings {
            mode: RenderMode::Dvr,
            transfer: TransferFunction::default(),
            iso_level: 0.5,
            step_mm: 0.5,
            clip_planes: Vec::new(),
            lighting: true,
            background: [0.0, 0.0, 0.0, 1.0],
            early_termination: 0.99,
            empty_space_skipping: true,
            overlay_depth_mm: 20.0,
        }
    }
}

impl RayMarchSettings {
    /// The sample spacing actually used in a box whose bounding box has diagonal `diagonal_mm`:
    /// `step_mm` (or [`FALLBACK_STEP_MM`] when it is not a positive finite number), raised so
    /// that the diagonal takes at most [`MAX_SAMPLES`] steps.
    pub fn effective_step(&self, diagonal_mm: f32) -> f32 {
        let step = if self.step_mm.is_finite() && self.step_mm > 0.0 {
            self.step_mm
        } else {
            FALLBACK_STEP_MM
        };
        if diagonal_mm.is_finite() {
            step.max(diagonal_mm / MAX_SAMPLES as f32)
        } else {
            step
        }
    }

    /// The clip planes used: the first [`MAX_CLIP_PLANES`] with a finite normal and offset.
    pub fn active_clip_planes(&self) -> Vec<ClipPlane> {
        self.clip_planes
            .iter()
            .filter(|c| c.normal.iter().all(|v| v.is_finite()) && c.offset.is_finite())
            .take(MAX_CLIP_PLANES)
            .copied()
            .collect()
    }

    /// Early termination clamped to 0..=1 (NaN: never terminate early).
    pub fn termination(&self) -> f32 {
        if self.early_termination.is_nan() {
            1.0
        } else {
            self.early_termination.clamp(0.0, 1.0)
        }
    }

    /// Overlay depth, at least 0 (NaN: 0).
    pub fn overlay_depth(&self) -> f32 {
        if self.overlay_depth_mm > 0.0 {
            self.overlay_depth_mm
        } else {
            0.0
        }
    }

    /// Background clamped to 0..=1 (NaN: 0).
    pub fn background_clamped(&self) -> [f32; 4] {
        self.background
            .map(|c| if c.is_nan() { 0.0 } else { c.clamp(0.0, 1.0) })
    }
}

/// Per LUT entry, the opacity of one sample `step` mm long: `1 − (1 − a)^(step / REFERENCE_STEP_MM)`
/// with `a` the entry's 8-bit alpha / 255, computed in f64 and rounded to f32 (the GPU reads this
/// very table).
pub fn sample_alphas(lut: &[[u8; 4]; LUT_SIZE], step: f32) -> [f32; LUT_SIZE] {
    let exponent = step as f64 / REFERENCE_STEP_MM as f64;
    std::array::from_fn(|i| {
        let a = lut[i][3] as f64 / 255.0;
        if a >= 1.0 {
            1.0
        } else {
            (1.0 - (1.0 - a).powf(exponent)) as f32
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in RenderMode::ALL {
            assert_eq!(RenderMode::from_name(m.name()), Some(m));
        }
        assert_eq!(RenderMode::from_name(" DVR "), Some(RenderMode::Dvr));
        assert_eq!(RenderMode::from_name("volume"), None);
    }

    #[test]
    fn step_is_bounded() {
        let s = RayMarchSettings::default();
        assert_eq!(s.effective_step(100.0), 0.5);
        assert_eq!(s.effective_step(8192.0), 1.0);
        let bad = RayMarchSettings { step_mm: f32::NAN, ..s };
        assert_eq!(bad.effective_step(10.0), FALLBACK_STEP_MM);
    }

    #[test]
    fn opacity_correction() {
        let mut lut = [[0u8; 4]; LUT_SIZE];
        lut[1][3] = 255;
        lut[2][3] = 51;
        let a = sample_alphas(&lut, 1.0);
        assert_eq!((a[0], a[1]), (0.0, 1.0));
        assert!((a[2] - 0.2).abs() < 1e-7);
        // Two half steps let through what one whole step does.
        let half = sample_alphas(&lut, 0.5)[2];
        assert!(((1.0 - half) * (1.0 - half) - 0.8).abs() < 1e-6);
    }

    #[test]
    fn clip_planes_filtered() {
        let s = RayMarchSettings {
            clip_planes: vec![
                ClipPlane::through([1.0, 2.0, 3.0], [0.0, 0.0, 2.0]),
                ClipPlane {
                    normal: [f32::NAN, 0.0, 0.0],
                    offset: 0.0,
                },
                ClipPlane::through([0.0; 3], [1.0, 0.0, 0.0]),
                ClipPlane::through([0.0; 3], [0.0, 1.0, 0.0]),
                ClipPlane::through([0.0; 3], [0.0, 0.0, 1.0]),
            ],
            ..Default::default()
        };
        let active = s.active_clip_planes();
        assert_eq!(active.len(), 3);
        assert_eq!(active[0].offset, 6.0);
        assert_eq!(active[1].normal, [1.0, 0.0, 0.0]);
    }
}
