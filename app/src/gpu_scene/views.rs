//! What one view draws this frame, decided from the [`Viewer`] by value and by id: the window's
//! paint callbacks and offscreen pictures build the same [`ViewRequest`]s.

use cortexlens_data::camera::OrbitCamera;
use cortexlens_data::{LayerStyle, Plane, SliceGeometry};
use cortexlens_render::RayMarchSettings;
use glam::Vec3;

use crate::viewer::{FieldId, LayerId, Source3d, SplatsId, SurfaceId, View, Viewer};

/// One view's drawing for a frame of `size` pixels.
#[derive(Clone, Debug, PartialEq)]
pub enum ViewRequest {
    /// A slice view, or a tile of a mosaic.
    Slice {
        /// Which world point each pixel shows (its size is the target's).
        geometry: SliceGeometry,
        /// The mosaic tile it is, if any.
        tile: Option<usize>,
        /// Layers bottom first with their styles.
        layers: Vec<(LayerId, LayerStyle)>,
    },
    /// The surface view.
    Surface {
        /// Size in pixels.
        size: (u32, u32),
        /// The camera.
        camera: OrbitCamera,
        /// Hemispheres with their draw offsets.
        instances: Vec<(SurfaceId, Vec3)>,
    },
    /// The 3D view.
    Volume3d {
        /// Size in pixels.
        size: (u32, u32),
        /// What it shows.
        frame: Frame3d,
    },
}

/// Where a view's offscreen target is kept: one per slice plane, one for the surface view, one for
/// the 3D view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ViewSlot {
    /// A slice view of this plane.
    Slice(Plane),
    /// A mosaic's tile.
    Tile(usize),
    /// The surface view.
    Surface,
    /// The 3D view.
    Volume3d,
}

impl ViewRequest {
    /// What `view` of `viewer` draws at `size` pixels, or `None` when it has nothing to draw.
    pub fn of(viewer: &Viewer, view: View, size: (u32, u32)) -> Option<ViewRequest> {
        let size = (size.0.max(1), size.1.max(1));
        match view {
            View::Slice(_) | View::Tile { .. } if viewer.layers.is_empty() => None,
            View::Slice(plane) => Some(ViewRequest::Slice {
                geometry: viewer.geometry(plane, size.0, size.1),
                tile: None,
                layers: viewer.layers.iter().map(|l| (l.id, l.style)).collect(),
            }),
            View::Tile { plane, index, at } => Some(ViewRequest::Slice {
                geometry: viewer.geometry_at(plane, at, size.0, size.1),
                tile: Some(index),
                layers: viewer.layers.iter().map(|l| (l.id, l.style)).collect(),
            }),
            View::Surface if viewer.surfaces.is_empty() => None,
            View::Surface => Some(ViewRequest::Surface {
                size,
                camera: viewer.surfaces.camera,
                instances: viewer
                    .surfaces
                    .hemispheres
                    .iter()
                    .map(|g| (g.id, viewer.surfaces.draw_offset(g)))
                    .collect(),
            }),
            View::Volume3d => Frame3d::of(viewer).map(|frame| ViewRequest::Volume3d { size, frame }),
        }
    }

    /// The slot of its target.
    pub fn slot(&self) -> ViewSlot {
        match self {
            ViewRequest::Slice { tile: Some(index), .. } => ViewSlot::Tile(*index),
            ViewRequest::Slice { geometry, .. } => ViewSlot::Slice(geometry.plane),
            ViewRequest::Surface { .. } => ViewSlot::Surface,
            ViewRequest::Volume3d { .. } => ViewSlot::Volume3d,
        }
    }

    /// Its size in pixels.
    pub fn size(&self) -> (u32, u32) {
        match self {
            ViewRequest::Slice { geometry, .. } => (geometry.width.max(1), geometry.height.max(1)),
            ViewRequest::Surface { size, .. } | ViewRequest::Volume3d { size, .. } => *size,
        }
    }
}

/// What one 3D frame draws.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame3d {
    /// The camera.
    pub camera: OrbitCamera,
    /// Mode, transfer function, clip planes…
    pub settings: RayMarchSettings,
    /// The data ray-marched, if any.
    pub source: Option<Source3dRefs>,
    /// Which frame each layer shows.
    pub frames: Vec<(LayerId, usize)>,
    /// The visible splat scenes drawn over it, with their opacity and size scales.
    pub splats: Vec<(SplatsId, f32, f32)>,
    /// The surfaces drawn under the rays, where they are in world space.
    pub meshes: Vec<SurfaceId>,
}

/// The data a 3D frame draws, by id.
#[derive(Clone, Debug, PartialEq)]
pub enum Source3dRefs {
    /// A volume layer and the overlay composited into it.
    Volume {
        /// The base layer.
        base: LayerId,
        /// The top visible overlay with its style.
        overlay: Option<(LayerId, LayerStyle)>,
    },
    /// A neural field, evaluated at every sample.
    Field(FieldId),
    /// A neural field's baked grid, ray-marched as a volume.
    Baked(FieldId),
}

impl Frame3d {
    /// The frame the viewer's 3D view shows, or `None` when there is nothing to draw.
    pub fn of(viewer: &Viewer) -> Option<Frame3d> {
        let v3 = &viewer.volume3d;
        let source = match v3.source {
            // A field waiting for its baked grid shows nothing rather than the minutes-long exact path.
            Source3d::Field(id) if v3.draws_baked() => v3
                .shown_field()
                .and_then(|open| open.baked.as_ref())
                .map(|_| Source3dRefs::Baked(id)),
            Source3d::Field(id) => Some(Source3dRefs::Field(id)),
            Source3d::Volume => viewer.layers.first().map(|base| {
                let overlay = viewer
                    .layers
                    .iter()
                    .skip(1)
                    .rev()
                    .find(|l| l.style.visible)
                    .map(|l| (l.id, l.style));
                Source3dRefs::Volume { base: base.id, overlay }
            }),
        };
        let splats: Vec<(SplatsId, f32, f32)> = v3
            .splats
            .iter()
            .filter(|s| s.visible)
            .map(|s| (s.id, s.opacity, s.size))
            .collect();
        let meshes: Vec<SurfaceId> = if v3.surfaces {
            viewer.surfaces.in_world_space().map(|h| h.id).collect()
        } else {
            Vec::new()
        };
        if source.is_none() && splats.is_empty() && meshes.is_empty() {
            return None;
        }
        Some(Frame3d {
            camera: v3.camera,
            settings: v3.effective_settings(viewer.crosshair),
            source,
            frames: viewer.layers.iter().map(|l| (l.id, l.frame)).collect(),
            splats,
            meshes,
        })
    }
}
