//! The bundled demo scene: the MNI152 T1 template with a NeuroVault motor t-map overlaid, and the
//! fsaverage5 cortex (pial and inflated, sulcal shading) with the map projected onto it.

use std::collections::HashSet;
use std::path::PathBuf;

use cortexlens_data::projection::ProjectionMethod;
use cortexlens_data::{LayerStyle, Volume};

use crate::jobs::JobId;
use crate::open::Added;
use crate::viewer::Viewer;

/// The folder with the bundled assets: `$CORTEXLENS_ASSETS`, else `assets/` of the source tree.
pub fn assets_dir() -> PathBuf {
    std::env::var_os("CORTEXLENS_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets")))
}

/// The demo's files: the template (base), the motor map, then fsaverage5 meshes and sulcal depth.
pub fn demo_files() -> Vec<PathBuf> {
    let dir = assets_dir();
    let mut files = vec![dir.join("mni152_t1_1mm.nii.gz"), dir.join("motor_stat_map.nii.gz")];
    for kind in ["pial", "infl", "sulc"] {
        for side in ["left", "right"] {
            files.push(dir.join(format!("fsaverage5_{kind}_{side}.gii.gz")));
        }
    }
    files
}

/// Threshold of the demo's t-map (|t| ≥ 3 is shown).
pub const DEMO_T_THRESHOLD: f32 = 3.0;

/// Style of the demo overlay: signed, thresholded at |t| = 3, up to the map's largest magnitude.
pub fn demo_overlay_style(volume: &Volume) -> LayerStyle {
    let peak = volume
        .data
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f32, |m, v| m.max(v.abs()));
    LayerStyle::signed_overlay(DEMO_T_THRESHOLD, peak.max(DEMO_T_THRESHOLD + 1.0))
}

/// The demo scene while its files are read: which reads are the demo's, and the projection of the
/// motor map onto the cortex once all are open.
#[derive(Debug, Default)]
pub struct DemoOpening {
    reads: HashSet<JobId>,
}

impl DemoOpening {
    /// Follow the demo's reads.
    pub fn new(reads: impl IntoIterator<Item = JobId>) -> DemoOpening {
        DemoOpening {
            reads: reads.into_iter().collect(),
        }
    }

    /// A read was opened (or failed): the demo's overlay gets the demo's style. Returns whether the
    /// demo is complete, after which its motor map has been projected onto the surfaces.
    pub fn opened(&mut self, read: JobId, added: Option<&Added>, viewer: &mut Viewer) -> bool {
        if !self.reads.remove(&read) {
            return false;
        }
        if let Some(Added::Layer(id)) = added
            && viewer.layers.first().is_some_and(|base| base.id != *id)
            && let Some(layer) = viewer.layer_mut(*id)
        {
            layer.style = demo_overlay_style(&layer.volume);
        }
        if !self.reads.is_empty() {
            return false;
        }
        if let Some(overlay) = viewer.layers.get(1).cloned() {
            viewer.surfaces.add_projection(&overlay, ProjectionMethod::Nilearn);
        }
        true
    }
}
