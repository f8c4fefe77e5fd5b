//! How a layer's values become colours: range, threshold, signed maps, opacity, interpolation.
//!
//! [`LayerStyle::shade`] is the definition; the WGSL slice shader implements the same steps
//! and is tested pixel by pixel against it.

use crate::colormap::{Colormap, label_index, range_index};

/// How a volume is sampled between voxel centres.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Interpolation {
    /// The nearest voxel.
    Nearest,
    /// Trilinear between the eight surrounding voxels.
    Linear,
}

/// Display settings of one layer.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LayerStyle {
    /// Colormap of the values (of the positive side for a signed map).
    pub colormap: Colormap,
    /// Value (or |value| for a signed map) shown at the bottom and top of the colormap.
    pub range: (f32, f32),
    /// Values (|value| for a signed map) below this are transparent.
    pub threshold: Option<f32>,
    /// For a signed map: the colormap of negative values, which then map |value| onto `range`.
    pub negative: Option<Colormap>,
    /// Layer opacity, 0..=1.
    pub opacity: f32,
    /// Sampling between voxel centres.
    pub interpolation: Interpolation,
    /// Whether the layer is drawn at all.
    pub visible: bool,
}

impl LayerStyle {
    /// A gray base layer over `range`.
    pub fn base(range: (f32, f32)) -> Self {
        LayerStyle {
            colormap: Colormap::Gray,
            range,
            threshold: None,
            negative: None,
            opacity: 1.0,
            interpolation: Interpolation::Linear,
            visible: true,
        }
    }

    /// A signed statistical overlay: red-yellow above `threshold`, blue-lightblue below `-threshold`.
    pub fn signed_overlay(threshold: f32, max: f32) -> Self {
        LayerStyle {
            colormap: Colormap::RedYellow,
            range: (threshold, max),
            threshold: Some(threshold),
            negative: Some(Colormap::BlueLightblue),
            opacity: 1.0,
            interpolation: Interpolation::Linear,
            visible: true,
        }
    }

    /// Switch to `colormap`. The labels colormap also shows integer labels as they are: nearest
    /// sampling, no negative side, and a threshold of 0.5 whatever the threshold was, so that
    /// label 0 (the background) is transparent — an overlay's threshold of 0 would otherwise
    /// draw it opaque over the base. A threshold set afterwards (`--threshold` after
    /// `--colormap labels`, the panel) applies as usual.
    pub fn set_colormap(&mut self, colormap: Colormap) {
        self.colormap = colormap;
        if colormap.is_categorical() {
            self.interpolation = Interpolation::Nearest;
            self.negative = None;
            self.threshold = Some(0.5);
        }
    }

    /// Which colormap and lookup-table entry a value falls on, or `None` when it is not drawn
    /// (NaN or below the threshold). With the labels colormap the entry is
    /// [`crate::colormap::label_index`] of the value (|value| against the threshold);
    /// range and negative side do not apply.
    pub fn lut_entry(&self, value: f32) -> Option<(Colormap, usize)> {
        if !value.is_finite() {
            return None;
        }
        if self.colormap.is_categorical() {
            if self.threshold.is_some_and(|t| value.abs() < t) {
                return None;
            }
            return Some((self.colormap, label_index(value)));
        }
        let (colormap, magnitude) = match self.negative {
            Some(negative) if value < 0.0 => (negative, -value),
            Some(_) => (self.colormap, value),
            None => (self.colormap, value),
        };
        if let Some(threshold) = self.threshold
            && magnitude < threshold
        {
            return None;
        }
        Some((colormap, range_index(magnitude, self.range)))
    }

    /// The straight (non-premultiplied) colour of a value, alpha including the opacity; `None` when not drawn.
    pub fn shade(&self, value: f32) -> Option<[f32; 4]> {
        let (colormap, index) = self.lut_entry(value)?;
        let [r, g, b, _] = colormap.lut()[index];
        Some([r as f32 / 255.0, g as f32 / 255.0, b as f32 / 255.0, self.opacity])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_pick_entries_by_integer_value() {
        let mut style = LayerStyle::signed_overlay(3.0, 8.0);
        style.set_colormap(Colormap::Labels);
        assert_eq!(style.interpolation, Interpolation::Nearest);
        assert_eq!(style.negative, None);
        assert_eq!(
            style.threshold,
            Some(0.5),
            "labels start at 0.5 whatever the threshold was"
        );
        let mut atlas = LayerStyle::base((0.0, 1.0));
        atlas.set_colormap(Colormap::Labels);
        assert_eq!(atlas.lut_entry(0.0), None, "label 0 is the background");
        assert_eq!(atlas.lut_entry(17.0), Some((Colormap::Labels, 17)));
        assert_eq!(atlas.lut_entry(1017.0), Some((Colormap::Labels, 1017 % 256)));
        assert_eq!(atlas.lut_entry(-4.0), Some((Colormap::Labels, 252)));
        assert_eq!(atlas.lut_entry(f32::NAN), None);
    }

    #[test]
    fn labels_hide_label_0_over_an_overlay_threshold_of_0() {
        // `cortexlens render T1.nii.gz ATLAS.nii --colormap labels`: the atlas opens as the app's
        // default overlay (hot above the bottom of its robust range, 0 for an atlas), and
        // switching to labels must still make label 0 transparent.
        let mut atlas = LayerStyle {
            colormap: Colormap::Hot,
            range: (0.0, 40.0),
            threshold: Some(0.0),
            negative: None,
            opacity: 1.0,
            interpolation: Interpolation::Linear,
            visible: true,
        };
        assert_eq!(
            atlas.lut_entry(0.0),
            Some((Colormap::Hot, 0)),
            "drawn before the switch"
        );
        atlas.set_colormap(Colormap::Labels);
        assert_eq!(atlas.threshold, Some(0.5));
        assert_eq!(atlas.lut_entry(0.0), None, "label 0 is transparent");
        assert_eq!(atlas.shade(0.0), None);
        assert_eq!(atlas.lut_entry(1.0), Some((Colormap::Labels, 1)));
        // A threshold chosen afterwards applies.
        atlas.threshold = Some(0.0);
        assert_eq!(atlas.lut_entry(0.0), Some((Colormap::Labels, 0)));
        // Switching to a continuous colormap leaves the threshold alone.
        atlas.set_colormap(Colormap::Gray);
        assert_eq!(atlas.threshold, Some(0.0));
    }

    #[test]
    fn signed_map_sides_and_threshold() {
        let s = LayerStyle::signed_overlay(3.0, 6.0);
        assert_eq!(s.lut_entry(2.9), None);
        assert_eq!(s.lut_entry(-2.9), None);
        assert_eq!(s.lut_entry(3.0), Some((Colormap::RedYellow, 0)));
        assert_eq!(s.lut_entry(-6.0), Some((Colormap::BlueLightblue, 255)));
        assert_eq!(s.lut_entry(100.0), Some((Colormap::RedYellow, 255)));
        assert_eq!(s.lut_entry(f32::NAN), None);
    }

    #[test]
    fn base_layer_maps_range_linearly() {
        let s = LayerStyle::base((0.0, 255.0));
        assert_eq!(s.lut_entry(-5.0), Some((Colormap::Gray, 0)));
        assert_eq!(s.lut_entry(128.0), Some((Colormap::Gray, 128)));
        assert_eq!(s.shade(255.0), Some([1.0, 1.0, 1.0, 1.0]));
    }
}
