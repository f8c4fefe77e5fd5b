//! Gaussian-splat scenes in the 3D view: each with its placement in world space (a scene-to-world
//! transform: typed, nudged, fitted to point pairs, or read from its sidecar), visibility, opacity
//! and a splat-size scale.

use std::sync::Arc;

use cortexlens_data::splats::Splats;
use cortexlens_data::splats::placement::{FitError, SimilarityFit, fit_similarity};
use glam::{DMat4, DVec3};

use super::{Viewer, Volume3d};

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
    /// Point pairs that fit the placement.
    pub registration: Registration,
}

/// A scene point (a picked splat's centre, scene coordinates) and the world position it belongs
/// at (the crosshair's when the pair was made, RAS mm).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PointPair {
    /// Scene coordinates.
    pub scene: DVec3,
    /// World millimetres.
    pub world: DVec3,
}

/// Registration of a scene to the brain by point pairs (e.g. nasion and the preauricular points
/// picked on a head scan and marked with the crosshair on the T1).
#[derive(Clone, Debug, Default)]
pub struct Registration {
    /// The pairs made so far.
    pub pairs: Vec<PointPair>,
    /// Whether the next click on this scene picks a scene point (instead of moving the crosshair).
    pub picking: bool,
    /// A picked scene point waiting for its world partner.
    pub pending: Option<DVec3>,
    /// The last fit: the placement it gave, with its residuals, or why it failed.
    pub fit: Option<Result<SimilarityFit, FitError>>,
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

    /// The splat nearest to the eye among those whose centres lie within `within` mm of the ray
    /// `(origin, unit direction)` and in front of the origin: its centre in scene coordinates
    /// and in world millimetres.
    pub fn pick(&self, origin: DVec3, direction: DVec3, within: f64) -> Option<Picked> {
        self.splats
            .positions
            .iter()
            .map(|p| {
                let scene = DVec3::new(p[0].into(), p[1].into(), p[2].into());
                Picked {
                    scene,
                    world: self.transform.transform_point3(scene),
                }
            })
            .filter_map(|picked| {
                let along = (picked.world - origin).dot(direction);
                let off = (picked.world - origin - direction * along).length();
                (along > 0.0 && off <= within).then_some((along, picked))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, picked)| picked)
    }

    /// Pair the pending scene point with `world` (the crosshair); false when none is pending.
    pub fn pair_with(&mut self, world: DVec3) -> bool {
        let Some(scene) = self.registration.pending.take() else {
            return false;
        };
        self.registration.pairs.push(PointPair { scene, world });
        self.registration.fit = None;
        true
    }

    /// Fit the placement to the pairs (least-squares similarity) and, when it succeeds, place
    /// the scene by it. The fit, or why it failed, stays in `registration.fit`.
    pub fn fit_placement(&mut self) -> Result<&SimilarityFit, FitError> {
        let (scene, world): (Vec<DVec3>, Vec<DVec3>) =
            self.registration.pairs.iter().map(|p| (p.scene, p.world)).unzip();
        let fit = fit_similarity(&scene, &world);
        if let Ok(fit) = &fit {
            self.transform = fit.scene_to_world;
        }
        self.registration.fit.insert(fit).as_ref().map_err(Clone::clone)
    }
}

/// A splat under the pointer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Picked {
    /// Its centre in the scene's own coordinates.
    pub scene: DVec3,
    /// Its centre in world millimetres.
    pub world: DVec3,
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
            registration: Registration::default(),
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

impl Viewer {
    /// A click along the ray `(eye, unit dir)` in the 3D view: the nearest visible splat within
    /// `within` mm of the ray becomes the pending scene point of its scene when that scene is
    /// picking, else the crosshair moves to it. Returns what was hit.
    pub fn click_splat(&mut self, eye: DVec3, dir: DVec3, within: f64) -> Option<Picked> {
        let (index, picked) = self
            .volume3d
            .splats
            .iter()
            .enumerate()
            .filter(|(_, s)| s.visible)
            .filter_map(|(i, s)| Some((i, s.pick(eye, dir, within)?)))
            .min_by(|a, b| (a.1.world - eye).length().total_cmp(&(b.1.world - eye).length()))?;
        let registration = &mut self.volume3d.splats[index].registration;
        if registration.picking {
            registration.pending = Some(picked.scene);
            registration.picking = false;
        } else {
            self.set_crosshair(picked.world);
        }
        Some(picked)
    }
}
