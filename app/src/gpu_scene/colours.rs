//! Per-vertex colours of a hemisphere, and what they are computed from (to recompute them only when
//! that changes).

use cortexlens_data::LayerStyle;
use cortexlens_data::vertex_colors::{Shading, VertexLayer, VertexRegion, highlight, paint_regions, vertex_colors};

use crate::viewer::{HemisphereSurfaces, RegionStyle, SurfaceId, SurfaceScene};

/// Per-vertex colours of a hemisphere: shading under its visible maps, bottom first, its visible
/// regions (outline or fill) over them, and the highlighted vertex on top.
pub fn surface_colors(scene: &SurfaceScene, group: &HemisphereSurfaces) -> Vec<[u8; 4]> {
    let layers: Vec<VertexLayer<'_>> = scene
        .maps_of(group.id)
        .filter(|m| m.style.visible)
        .map(|m| VertexLayer {
            values: m.values(),
            style: &m.style,
            labels: (!m.labels.is_empty()).then_some(m.labels.as_slice()),
        })
        .collect();
    let regions: Vec<VertexRegion<'_>> = scene
        .regions_of(group.id)
        .filter(|r| r.style.visible)
        .map(|r| VertexRegion {
            vertices: r.drawn_vertices(),
            rgb: r.style.colour,
            opacity: r.style.opacity,
        })
        .collect();
    let shading = group.shading.as_ref().map(|(_, values)| values.as_slice());
    let mut colours = vertex_colors(group.vertex_count(), shading, scene.shading, &layers, None);
    paint_regions(&mut colours, &regions);
    if let Some(pick) = scene.highlight.filter(|h| h.surface == group.id) {
        highlight(&mut colours, pick.vertex);
    }
    colours
}

/// Everything [`surface_colors`] reads, by id and value: maps by id with the frame, revision and
/// style shown (a map's values change under its id only with its revision), regions by id with
/// their style (a region's vertices never change under its id), the shading file's name and mode,
/// the highlight.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct ColourKey {
    shading: Shading,
    shading_file: Option<String>,
    highlight: Option<usize>,
    maps: Vec<(SurfaceId, usize, u64, LayerStyle)>,
    regions: Vec<(SurfaceId, RegionStyle)>,
}

impl ColourKey {
    pub(super) fn of(scene: &SurfaceScene, group: &HemisphereSurfaces) -> ColourKey {
        ColourKey {
            shading: scene.shading,
            shading_file: group.shading.as_ref().map(|(name, _)| name.clone()),
            highlight: scene.highlight.filter(|h| h.surface == group.id).map(|h| h.vertex),
            maps: scene
                .maps_of(group.id)
                .map(|m| (m.id, m.frame, m.revision, m.style))
                .collect(),
            regions: scene.regions_of(group.id).map(|r| (r.id, r.style)).collect(),
        }
    }
}
