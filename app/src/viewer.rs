//! What is open and how it is shown: layers, the crosshair, the layout and each view's camera.
//!
//! Pure state: the window and the headless renderer both draw from a [`Viewer`].

mod camera;
mod cifti;
mod drawing;
mod layer;
mod layout;
mod splat_scenes;
mod surface_scene;
mod volume3d;

pub use camera::ViewCamera;
pub use cifti::{CiftiAdded, CiftiSurfacePart, OpenCifti};
pub use drawing::{DrawError, DrawSettings, DrawTool, Drawings, DrawnLayer, LabelStats, stats_tsv};
pub use layer::{Layer, LayerId, default_style, label_style};
pub use layout::{Layout, MOSAIC_MAX_SLICES, Mosaic, Pane, View, panes};
pub use splat_scenes::{OpenSplats, Picked, PointPair, Registration, SplatsId};
pub use surface_scene::{
    HemisphereSurfaces, RegionDraw, RegionStyle, SurfaceId, SurfaceMapLayer, SurfaceRegion, SurfaceScene, VertexPick,
    default_map_style,
};
pub use volume3d::{CrosshairClips, FieldDrawing, FieldId, OpenField, Source3d, Volume3d};

use cortexlens_data::atlas::Atlas;
use cortexlens_data::mesh::{GeometryKind, MeshError};
use cortexlens_data::{Plane, SliceGeometry};
use glam::{DVec2, DVec3};

/// Why an isosurface was not added.
#[derive(Debug, thiserror::Error)]
pub enum IsosurfaceError {
    /// The level crosses no voxel edge.
    #[error("{name}: no surface at level {level}")]
    Empty {
        /// The layer's name.
        name: String,
        /// The level asked for.
        level: f32,
    },
    /// The mesh could not join the surface scene.
    #[error(transparent)]
    Mesh(#[from] MeshError),
}

/// Everything open in one window, and how it is shown.
#[derive(Default)]
pub struct Viewer {
    /// Volume layers, bottom first: the first is the base, later ones are overlays.
    pub layers: Vec<Layer>,
    /// The surface view's meshes and maps.
    pub surfaces: SurfaceScene,
    /// The 3D view's state and the open neural fields.
    pub volume3d: Volume3d,
    /// The shared crosshair in world millimetres (RAS+).
    pub crosshair: DVec3,
    /// Which views are shown.
    pub layout: Layout,
    /// Radiological convention (patient left on screen right).
    pub radiological: bool,
    /// Zoom and pan of the sagittal, coronal and axial views.
    pub cameras: [ViewCamera; 3],
    /// The layer whose settings the panels show and act on.
    pub selected: Option<LayerId>,
    /// Open CIFTI files: where their parts are shown, the row shown of a connectivity file.
    pub cifti: Vec<OpenCifti>,
    /// Label layers being drawn, and the drawing tool.
    pub drawings: Drawings,
    /// Every file opened, in order, with what it added (what a session records).
    pub files: Vec<(std::path::PathBuf, crate::open::Added)>,
    /// The id the next layer gets.
    next_layer: u64,
}

impl Viewer {
    /// An id no layer of this viewer has had.
    pub fn new_layer_id(&mut self) -> LayerId {
        self.next_layer += 1;
        LayerId(self.next_layer)
    }

    /// Put a layer on top of the stack; the first one becomes the base, centres the crosshair and
    /// sets the 3D view's transfer function.
    pub fn push_layer(&mut self, layer: Layer) {
        self.next_layer = self.next_layer.max(layer.id.0);
        if self.layers.is_empty() {
            self.set_crosshair(layer.volume.world_center());
            self.volume3d.fit_to(layer.style.range, layer.volume.min_voxel_mm());
        }
        self.layers.push(layer);
    }

    /// The layer with this id.
    pub fn layer(&self, id: LayerId) -> Option<&Layer> {
        self.layers.iter().find(|l| l.id == id)
    }

    /// Mutable access to the layer with this id.
    pub fn layer_mut(&mut self, id: LayerId) -> Option<&mut Layer> {
        self.layers.iter_mut().find(|l| l.id == id)
    }

    /// Remove a layer; returns it. A removed selected layer passes the selection to the top layer.
    pub fn remove_layer(&mut self, id: LayerId) -> Option<Layer> {
        let at = self.layers.iter().position(|l| l.id == id)?;
        let removed = self.layers.remove(at);
        if self.selected == Some(id) {
            self.selected = self.layers.last().map(|l| l.id);
        }
        Some(removed)
    }

    /// The selected layer.
    pub fn selected_layer(&self) -> Option<&Layer> {
        self.selected.and_then(|id| self.layer(id))
    }

    /// What the topmost layer that names regions says is under `world`: an atlas's most probable
    /// region with its probability (`45% Precentral Gyrus`) or its label, else the name of the
    /// label there of a layer with label names (a segmentation with a table); `None` where none does.
    pub fn label_at(&self, world: DVec3) -> Option<String> {
        self.layers.iter().rev().find_map(|layer| {
            if let Some(atlas) = &layer.atlas {
                return atlas.top(world);
            }
            let names = layer.label_names.as_ref()?;
            let value = layer.volume.value_at(layer.volume.nearest_voxel(world), layer.frame)?;
            names.name(value).map(str::to_owned)
        })
    }

    /// The atlases of the layers, bottom first, with their layers.
    pub fn atlases(&self) -> impl DoubleEndedIterator<Item = (&Layer, &Atlas)> {
        self.layers.iter().filter_map(|l| Some((l, l.atlas.as_deref()?)))
    }

    /// Extract the isosurface of layer `id` at `level` (marching cubes) and show it in the surface view.
    pub fn add_isosurface(&mut self, id: LayerId, level: f32) -> Result<(), IsosurfaceError> {
        let Some(layer) = self.layer(id) else {
            return Ok(());
        };
        let mesh = cortexlens_data::isosurface::isosurface(&layer.volume, layer.frame, level);
        let name = layer.name().to_owned();
        if mesh.triangles.is_empty() {
            return Err(IsosurfaceError::Empty { name, level });
        }
        let mesh_name = format!("{name} @ {level}");
        self.surfaces.add_mesh(None, GeometryKind::Other, mesh_name, mesh)?;
        Ok(())
    }

    /// Move a layer one step up (towards the top of the stack) or down.
    pub fn move_layer(&mut self, id: LayerId, up: bool) {
        if let Some(at) = self.layers.iter().position(|l| l.id == id) {
            let to = if up { at + 1 } else { at.wrapping_sub(1) };
            if to < self.layers.len() {
                self.layers.swap(at, to);
            }
        }
    }

    /// World bounding box of all layers, or a 200 mm cube around the origin when nothing is open.
    pub fn world_bounds(&self) -> (DVec3, DVec3) {
        self.layers
            .iter()
            .map(|l| l.volume.world_bounds())
            .reduce(|(lo, hi), (l2, h2)| (lo.min(l2), hi.max(h2)))
            .unwrap_or((DVec3::splat(-100.0), DVec3::splat(100.0)))
    }

    /// Slice step in millimetres: the base layer's smallest voxel edge.
    pub fn slice_step(&self) -> f64 {
        self.layers.first().map_or(1.0, |l| l.volume.min_voxel_mm())
    }

    /// World bounds of what the 3D view shows: the field's box, else the base volume's, else the
    /// splat scenes', else the surfaces' drawn there.
    pub fn bounds_3d(&self) -> Option<([f32; 3], [f32; 3])> {
        let as_f32 = |(lo, hi): (DVec3, DVec3)| (lo.as_vec3().to_array(), hi.as_vec3().to_array());
        match self.volume3d.shown_field() {
            Some(open) => Some((open.field.bounds_min, open.field.bounds_max)),
            None => self
                .layers
                .first()
                .map(|l| l.volume.world_bounds())
                .or_else(|| self.volume3d.splat_bounds())
                .map(as_f32)
                .or_else(|| {
                    let shown = self.volume3d.surfaces && self.surfaces.in_world_space().next().is_some();
                    shown.then(|| self.surfaces.bounds())
                }),
        }
    }

    /// The panes of the current layout in a `width × height` area.
    pub fn panes(&self, width: u32, height: u32) -> Vec<Pane> {
        panes(self.layout, !self.surfaces.is_empty(), width, height)
    }

    /// Move the crosshair and highlight the surface vertex nearest to it (within 10 mm); a
    /// connectivity file (dconn, pconn) shows the row of the voxel or vertex there.
    pub fn set_crosshair(&mut self, world: DVec3) {
        self.crosshair = world;
        self.surfaces.highlight = self.surfaces.nearest_vertex(world, 10.0);
        self.follow_crosshair_cifti();
    }

    /// Camera of a plane.
    pub fn camera(&self, plane: Plane) -> &ViewCamera {
        &self.cameras[plane_slot(plane)]
    }

    /// Mutable camera of a plane.
    pub fn camera_mut(&mut self, plane: Plane) -> &mut ViewCamera {
        &mut self.cameras[plane_slot(plane)]
    }

    /// The geometry of a mosaic tile: `plane` at `at` mm along its normal, rasterised to
    /// `width × height` pixels (as [`Viewer::geometry`] with the crosshair moved there).
    pub fn geometry_at(&self, plane: Plane, at: f64, width: u32, height: u32) -> SliceGeometry {
        let mut geometry = self.geometry(plane, width, height);
        geometry.crosshair[plane.normal_axis()] = at;
        geometry
    }

    /// The geometry of a view of `plane` rasterised to `width × height` pixels.
    pub fn geometry(&self, plane: Plane, width: u32, height: u32) -> SliceGeometry {
        let (lo, hi) = self.world_bounds();
        let (ax_r, ax_u) = plane.screen_axes();
        let fov = DVec2::new(hi[ax_r] - lo[ax_r], hi[ax_u] - lo[ax_u]);
        let camera = self.camera(plane);
        let mut center = (lo + hi) * 0.5;
        center[ax_r] += camera.pan_mm.x;
        center[ax_u] += camera.pan_mm.y;
        let mut geometry = SliceGeometry::fit(plane, self.crosshair, center, fov, width, height);
        geometry.mm_per_px /= camera.zoom;
        geometry.radiological = self.radiological;
        geometry
    }

    /// Step the crosshair by `steps` slices along the normal of `plane`.
    pub fn step_slice(&mut self, plane: Plane, steps: f64) {
        let axis = plane.normal_axis();
        let (lo, hi) = self.world_bounds();
        let mut crosshair = self.crosshair;
        crosshair[axis] = (crosshair[axis] + steps * self.slice_step()).clamp(lo[axis], hi[axis]);
        self.set_crosshair(crosshair);
    }
}

fn plane_slot(plane: Plane) -> usize {
    match plane {
        Plane::Sagittal => 0,
        Plane::Coronal => 1,
        Plane::Axial => 2,
    }
}
