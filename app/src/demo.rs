//! The bundled demo scene: the MNI152 T1 template with a NeuroVault motor t-map overlaid, and the
//! fsaverage5 cortex (pial and inflated, sulcal shading) with the map projected onto it.

use std::path::PathBuf;

use cortexlens_data::{LayerStyle, Volume};

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
