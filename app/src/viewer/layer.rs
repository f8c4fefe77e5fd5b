//! One volume layer and its default display settings.

use std::sync::Arc;

use cortexlens_data::atlas::{Atlas, AtlasKind};
use cortexlens_data::formats::LabelNames;
use cortexlens_data::stats::{finite_min_max, robust_nonzero_range, robust_range};
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
    /// The atlas this layer draws (an FSL atlas's summary or label image, a labelled volume with
    /// its names, a 4D probabilistic volume with a name per frame), looked up at the crosshair.
    pub atlas: Option<Arc<Atlas>>,
}

impl Layer {
    /// A layer showing frame 0 of `volume`.
    pub fn new(id: LayerId, volume: impl Into<Arc<Volume>>, style: LayerStyle) -> Layer {
        let volume = volume.into();
        let value_range = finite_min_max(&volume);
        Layer {
            id,
            volume,
            style,
            frame: 0,
            notice: None,
            value_range,
            label_names: None,
            atlas: None,
        }
    }

    /// Show `volume` instead (a region redrawn): the value range follows, and so does the label
    /// atlas of the layer's names.
    pub fn set_volume(&mut self, volume: Volume) {
        self.volume = Arc::new(volume);
        self.value_range = finite_min_max(&self.volume);
        if let Some(names) = self.label_names.clone() {
            self.set_label_names(names);
        }
    }

    /// Name the layer's labels. A 3D layer becomes a label atlas of them (searchable, with region
    /// centres), unless it draws a probabilistic or statistic atlas, which it keeps; a 4D layer
    /// keeps only the names.
    pub fn set_label_names(&mut self, names: Arc<LabelNames>) {
        if self.atlas.as_ref().is_none_or(|a| a.kind == AtlasKind::Label) {
            self.atlas =
                (self.volume.frames() == 1).then(|| Arc::new(Atlas::from_label_volume(self.volume.clone(), &names)));
        }
        self.label_names = Some(names);
    }

    /// Display name.
    pub fn name(&self) -> &str {
        &self.volume.name
    }
}

/// Default style of a newly opened volume: the base is gray over its robust range; an overlay with
/// negative values is a signed map (red-yellow / blue-lightblue) thresholded at a third of its largest
/// magnitude; other overlays are `hot` over the robust range of their non-zero values and hide
/// what lies below it — their zeros always — so the base shows through, as in MRIcroGL and niivue.
pub fn default_style(volume: &Volume, is_base: bool) -> LayerStyle {
    if is_base {
        return LayerStyle::base(robust_range(volume));
    }
    let (min, max) = finite_min_max(volume);
    if min < 0.0 {
        let peak = max.max(-min);
        let threshold = peak / 3.0;
        return LayerStyle::signed_overlay(threshold, peak);
    }
    let (lo, hi) = robust_nonzero_range(volume);
    LayerStyle {
        colormap: cortexlens_data::Colormap::Hot,
        range: (lo, hi),
        // Values below the threshold are hidden: a positive one hides the zeros too.
        threshold: Some(lo.max(f32::MIN_POSITIVE)),
        negative: None,
        opacity: 1.0,
        interpolation: Interpolation::Linear,
        visible: true,
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
    fn a_sparse_positive_overlay_hides_its_zeros() {
        let mut data = vec![0.0; 1000];
        data[10..20].copy_from_slice(&[2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]);
        let style = default_style(&volume(data), false);
        assert_eq!(style.range, (2.0, 11.0), "the range of the non-zero values");
        assert_eq!(style.lut_entry(0.0), None, "zeros are transparent");
        assert!(style.lut_entry(2.0).is_some());
        // An empty map hides everything.
        assert_eq!(default_style(&volume(vec![0.0; 8]), false).lut_entry(0.0), None);
    }

    #[test]
    fn a_labelled_layer_is_a_label_atlas_that_follows_its_volume() {
        let mut layer = Layer::new(LayerId(1), volume(vec![0.0, 1.0]), label_style(false));
        layer.set_label_names(Arc::new(LabelNames::parse("1 one\n2 two\n").unwrap()));
        let at = glam::DVec3::X;
        assert_eq!(
            layer.atlas.as_ref().and_then(|a| a.describe(at)).as_deref(),
            Some("one")
        );
        layer.set_volume(volume(vec![0.0, 2.0]));
        assert_eq!(layer.value_range, (0.0, 2.0));
        assert_eq!(
            layer.atlas.as_ref().and_then(|a| a.describe(at)).as_deref(),
            Some("two")
        );
    }

    #[test]
    fn signed_overlay_by_default_when_negative() {
        let style = default_style(&volume(vec![-6.0, 0.0, 3.0]), false);
        assert_eq!(style.negative, Some(cortexlens_data::Colormap::BlueLightblue));
        assert_eq!(style.threshold, Some(2.0));
        assert_eq!(style.range, (2.0, 6.0));
    }
}
