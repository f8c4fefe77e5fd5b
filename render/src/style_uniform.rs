//! A [`LayerStyle`] packed for the shaders (`struct Style` in `shaders/lut.wgsl`), shared by the
//! slice renderer's layers and the ray marcher's overlay, and colour tables packed as RGBA8 words.

use cortexlens_data::colormap::LUT_SIZE;
use cortexlens_data::{Interpolation, LayerStyle};

/// Mirrors `struct Style` in `shaders/lut.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct StyleUniform {
    params: [f32; 4],
    flags: [u32; 4],
    lut: [[u32; 4]; 2 * LUT_SIZE / 4],
}

impl StyleUniform {
    /// Range, threshold (0 when none or NaN: a NaN threshold hides nothing), clamped opacity;
    /// the flags of `lut_entry` and the interpolation; the colormap's LUT then the negative one's.
    pub(crate) fn new(style: &LayerStyle) -> StyleUniform {
        let negative = style.negative.unwrap_or(style.colormap);
        let mut lut = [[0; 4]; 2 * LUT_SIZE / 4];
        let (positive_half, negative_half) = lut.split_at_mut(LUT_SIZE / 4);
        positive_half.copy_from_slice(&packed_lut(&style.colormap.lut()));
        negative_half.copy_from_slice(&packed_lut(&negative.lut()));
        StyleUniform {
            params: [
                style.range.0,
                style.range.1,
                style.threshold.filter(|t| !t.is_nan()).unwrap_or(0.0),
                clamp_opacity(style.opacity),
            ],
            flags: flags(style),
            lut,
        }
    }
}

/// A lookup table as little-endian RGBA8 words (what WGSL's `unpack4x8unorm` reads), four
/// entries per `vec4<u32>`.
pub(crate) fn packed_lut(lut: &[[u8; 4]; LUT_SIZE]) -> [[u32; 4]; LUT_SIZE / 4] {
    std::array::from_fn(|i| std::array::from_fn(|j| u32::from_le_bytes(lut[4 * i + j])))
}

/// The shader's style flags: a threshold applies (a NaN one hides nothing, as none), the map is
/// signed, values are labels (`lut_entry` in lut.wgsl); the interpolation (0 nearest, 1 linear).
fn flags(style: &LayerStyle) -> [u32; 4] {
    let labels = style.colormap.is_categorical();
    [
        style.threshold.is_some_and(|t| !t.is_nan()) as u32,
        (style.negative.is_some() && !labels) as u32,
        labels as u32,
        match style.interpolation {
            Interpolation::Nearest => 0,
            Interpolation::Linear => 1,
        },
    ]
}

/// Opacity as the blender sees it: targets are unorm, so the alpha is clamped to 0..=1.
pub(crate) fn clamp_opacity(opacity: f32) -> f32 {
    if opacity.is_nan() { 0.0 } else { opacity.clamp(0.0, 1.0) }
}

#[cfg(test)]
mod tests {
    use cortexlens_data::Colormap;

    use super::*;
    use crate::shaders::SLICE;
    use crate::wgsl_layout::assert_wgsl_layout;

    #[test]
    fn layout_matches_wgsl() {
        assert_wgsl_layout!(SLICE, "Style", StyleUniform { params, flags, lut });
    }

    #[test]
    fn packed_lut_is_little_endian_rgba() {
        let lut = packed_lut(&Colormap::RedYellow.lut());
        assert_eq!(lut[0][0], u32::from_le_bytes([255, 0, 0, 255]));
        assert_eq!(lut[0][0] & 0xff, 255);
    }

    #[test]
    fn negative_colormap_follows_the_positive_one() {
        let style = LayerStyle::signed_overlay(2.0, 6.0);
        let packed = StyleUniform::new(&style);
        let negative = packed_lut(&style.negative.unwrap().lut());
        assert_eq!(packed.lut[LUT_SIZE / 4..], negative[..]);
        assert_eq!(packed.flags, [1, 1, 0, 1]);
    }

    #[test]
    fn nan_threshold_and_opacity() {
        let mut style = LayerStyle::base((0.0, 1.0));
        style.threshold = Some(f32::NAN);
        style.opacity = f32::NAN;
        let packed = StyleUniform::new(&style);
        assert_eq!(packed.flags[0], 0);
        assert_eq!(packed.params[2..], [0.0, 0.0]);
        assert_eq!(clamp_opacity(1.5), 1.0);
    }
}
