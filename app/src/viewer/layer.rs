//! One volume layer and its default display settings.

use std::sync::Arc;

use cortexlens_data::formats::LabelNames;
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

/// The 2nd and 98th percentiles of the finite values (as FSLeyes and nilearn display anatomy);
/// falls back to the full range when they coincide.
pub fn robust_range(volume: &Volume) -> (f32, f32) {
    const MAX_SAMPLES: usize = 1 << 20;
    let stride = (volume.data.len() / MAX_SAMPLES).max(1);
    let mut sample: Vec<f32> = volume
        .data
        .iter()
        .step_by(stride)
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if sample.is_empty() {
        return (0.0, 1.0);
    }
    let pick = |sample: &mut Vec<f32>, q: f64| {
        let at = ((sample.len() - 1) as f64 * q).round() as usize;
        *sample.select_nth_unstable_by(at, f32::total_cmp).1
    };
    let lo = pick(&mut sample, 0.02);
    let hi = pick(&mut sample, 0.98);
    if hi > lo {
        (lo, hi)
    } else {
        let (min, max) = finite_min_max(volume);
        if max > min { (min, max) } else { (min, min + 1.0) }
    }
}

/// Smallest and largest finite value (infinite bounds when there is none).
pub fn finite_min_max(volume: &Volume) -> (f32, f32) {
    volume
        .data
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::DMat4;

    fn volume(data: Vec<f32>) -> Volume {
        Volume::from_f32("t", [data.len(), 1, 1, 1], DMat4::IDENTITY, data)
    }

    #[test]
    fn robust_range_ignores_outliers_and_nan() {
        let mut data: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        data.push(1e9);
        data.push(f32::NAN);
        let (lo, hi) = robust_range(&volume(data));
        assert!((15.0..25.0).contains(&lo) && (970.0..990.0).contains(&hi), "{lo} {hi}");
    }

    #[test]
    fn signed_overlay_by_default_when_negative() {
        let style = default_style(&volume(vec![-6.0, 0.0, 3.0]), false);
        assert_eq!(style.negative, Some(cortexlens_data::Colormap::BlueLightblue));
        assert_eq!(style.threshold, Some(2.0));
        assert_eq!(style.range, (2.0, 6.0));
    }
}
