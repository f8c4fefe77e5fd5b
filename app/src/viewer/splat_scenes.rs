//! Gaussian-splat scenes in the 3D view: each with its placement in world space (a scene-to-world
//! transform: typed, nudged, fitted to point pairs, or read from its sidecar), visibility, opacity
//! and a splat-size scale.

use std::sync::Arc;

use cortexlens_data::splats::Splats;
use glam::{DMat4, DVec3};

use super::Volume3d;

/// Identifies a splat scene for the renderer's cache.
pub type SplatsId = u64;

/// A splat scene open in the app.
#[derive(Clone, Debug)]
pub struct OpenSplats {
    /// Stable id.
    pub id: SplatsId,
    /// Display name.
    pub name: String,
    /// The splats, in the scene's own coordinates.
    pub splats: Arc<Splats>,
    /// Scene → world (RAS mm).
    pub transform: DMat4,
    /// Whether it is drawn.
    pub visible: bool,
    /// Multiplies every splat's opacity.
    pub opacity: f32,
    /// Multiplies every splat's size.
    pub size: f32,
}

impl OpenSplats {
    /// World box around the placed centres, `None` when empty.
    pub fn world_bounds(&self) -> Option<(DVec3, DVec3)> {
        let first = self.splats.positions.first()?;
        let place = |p: &[f32; 3]| {
            self.transform
                .transform_point3(DVec3::new(p[0].into(), p[1].into(), p[2].into()))
        };
        let start = place(first);
        Some(
            self.splats
                .positions
                .iter()
                .map(place)
                .fold((start, start), |(lo, hi), p| (lo.min(p), hi.max(p))),
        )
    }

    /// The world centre of the splat nearest to the ray `(origin, unit direction)` within
    /// `within` mm of it, and in front of the origin.
    pub fn pick(&self, origin: DVec3, direction: DVec3, within: f64) -> Option<DVec3> {
        self.splats
            .positions
            .iter()
            .map(|p| {
                self.transform
                    .transform_point3(DVec3::new(p[0].into(), p[1].into(), p[2].into()))
            })
            .filter_map(|p| {
                let along = (p - origin).dot(direction);
                let off = (p - origin - direction * along).length();
                (along > 0.0 && off <= within).then_some((along, p))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, p)| p)
    }
}

impl Volume3d {
    /// Open a splat scene placed by `transform`; returns its id.
    pub fn add_splats(&mut self, name: String, splats: impl Into<Arc<Splats>>, transform: DMat4) -> SplatsId {
        self.next_id += 1;
        let id = self.next_id;
        self.splats.push(OpenSplats {
            id,
            name,
            splats: splats.into(),
            transform,
            visible: true,
            opacity: 1.0,
            size: 1.0,
        });
        self.camera_placed = false;
        id
    }

    /// Close splat scene `id`.
    pub fn close_splats(&mut self, id: SplatsId) {
        self.splats.retain(|s| s.id != id);
    }

    /// The world box around every visible splat scene.
    pub fn splat_bounds(&self) -> Option<(DVec3, DVec3)> {
        self.splats
            .iter()
            .filter(|s| s.visible)
            .filter_map(OpenSplats::world_bounds)
            .reduce(|(lo, hi), (l, h)| (lo.min(l), hi.max(h)))
    }
}
