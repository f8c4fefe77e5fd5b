//! One volume layer and its default display settings.

use std::sync::Arc;

use cortexlens_data::formats::LabelNames;
use cortexlens_data::stats::{finite_min_max, robust_range};
use cortexlens_data::{Interpolation, LayerStyle, Volume};

/// Identifies a layer for the renderer's texture cache; ordered as the files were requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LayerId(pub u64);

/// A volume shown as a layer of the slice views.
#[derive(Clone, Debug)]
pub struct Layer {
    /// Stable id (the load job's id).
    pub id: LayerId,
    /// The data.
    pub volume: Arc<Volume>,
    /// How it is drawn.
    pub style: LayerStyle,
    /// Frame shown of a 4D volume.
    pub frame: usize,
    /// A notice for the user about this layer (e.g. downsampled to fit the GPU).
    pub notice: Option<String>,
    /// Smallest and largest finite value over all frames.
    pub value_range: (f32, f32),
    /// Names of the labels of a segmentation or atlas, shown in the readout.
    pub label_names: Option<Arc<LabelNames>>,
}

impl Layer {
    /// A layer showing frame 0 of `volume`.
    pub fn new(id: LayerId, volume: Volume, style: LayerStyle) -> Layer {
        let value_range = finite_min_max(&volume);
        Layer {
            id,
            volume: Arc::new(volume),
            style,
            frame: 0,
            notice: None,
            value_range,
            label_names: None,
        }
    }

    /// Display name.
    pub fn name(&self) -> &str {
        &self.volume.name
    }
}

/// Default style of a newly opened volume: the base is gray over its robust range; an overlay with
/// negative values is a signed map (red-yellow / blue-lightblue) thresholded at a third of its largest
/// magnitude; other overlays are `hot` above the bottom of their robust range.
pub fn default_style(volume: &Volume, is_base: bool) -> LayerStyle {
    let (lo, hi) = robust_range(volume);
    if is_base {
        return LayerStyle::base((lo, hi));
    }
    let (min, max) = finite_min_max(volume);
    if min < 0.0 {
        let peak = max.max(-min);
        let threshold = peak / 3.0;
        LayerStyle::signed_overlay(threshold, peak)
    } else {
        LayerStyle {
            colormap: cortexlens_data::Colormap::Hot,
            range: (lo, hi),
            threshold: Some(lo),
            negative: None,
            opacity: 1.0,
            interpolation: Interpolation::Linear,
            visible: true,
        }
    }
}

/// How a segmentation or atlas with label names opens: the labels colormap, nearest sampling,
/// label 0 transparent; see-through (opacity 0.7) over a base layer.
pub fn label_style(is_base: bool) -> LayerStyle {
    let mut style = LayerStyle::base((0.0, 1.0));
    style.set_colormap(cortexlens_data::Colormap::Labels);
    if !is_base {
        style.opacity = 0.7;
    }
    style
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::DMat4;

    fn volume(data: Vec<f32>) -> Volume {
        Volume::from_f32("t", [data.len(), 1, 1, 1], DMat4::IDENTITY, data)
    }

    #[test]
    fn signed_overlay_by_default_when_negative() {
        let style = default_style(&volume(vec![-6.0, 0.0, 3.0]), false);
        assert_eq!(style.negative, Some(cortexlens_data::Colormap::BlueLightblue));
        assert_eq!(style.threshold, Some(2.0));
        assert_eq!(style.range, (2.0, 6.0));
    }
}
