//! What the surface view shows: meshes grouped by hemisphere, the geometry shown, per-vertex maps
//! (from files or projected from volumes), regions (FreeSurfer labels), the camera and the vertex
//! nearest the crosshair.

use std::sync::Arc;

use cortexlens_data::camera::{CameraPreset, OrbitCamera};
use cortexlens_data::mesh::{
    GeometryKind, Hemisphere, Mesh, MeshError, SurfaceRole, VertexMap, check_vertex_count, classify, region_vertices,
    vertex_maps,
};
use cortexlens_data::projection::{ProjectionMethod, project};
use cortexlens_data::vertex_colors::Shading;
use cortexlens_data::{FreeSurferLabel, Label, LayerStyle, SurfaceFile};
use glam::{DVec3, Vec3};

/// Identifies a hemisphere group or a map for the renderer's caches.
pub type SurfaceId = u64;

/// The meshes of one hemisphere (every geometry has the same vertex count).
#[derive(Clone, Debug)]
pub struct HemisphereSurfaces {
    /// Stable id for GPU buffers.
    pub id: SurfaceId,
    /// Left, right, or unknown (e.g. an isosurface).
    pub hemisphere: Option<Hemisphere>,
    /// Geometries with their file names.
    pub meshes: Vec<(GeometryKind, String, Arc<Mesh>)>,
    /// Curvature or sulcal depth under the overlays, with its file name.
    pub shading: Option<(String, Vec<f32>)>,
}

impl HemisphereSurfaces {
    /// Vertex count shared by all geometries.
    pub fn vertex_count(&self) -> usize {
        self.meshes.first().map_or(0, |(_, _, m)| m.vertices.len())
    }

    /// The mesh of `geometry`, or the first one when this hemisphere lacks it.
    pub fn mesh(&self, geometry: GeometryKind) -> Option<&(GeometryKind, String, Arc<Mesh>)> {
        self.meshes
            .iter()
            .find(|(g, _, _)| *g == geometry)
            .or(self.meshes.first())
    }

    /// The anatomical mesh (pial, else white, else what there is): where a vertex is in world mm.
    pub fn anatomical(&self) -> Option<&Arc<Mesh>> {
        [GeometryKind::Pial, GeometryKind::White]
            .iter()
            .find_map(|g| self.meshes.iter().find(|(k, _, _)| k == g))
            .or(self.meshes.first())
            .map(|(_, _, m)| m)
    }

    /// The white-matter mesh, when loaded (the inner surface for projection).
    pub fn white(&self) -> Option<&Arc<Mesh>> {
        self.meshes
            .iter()
            .find(|(g, _, _)| *g == GeometryKind::White)
            .map(|(_, _, m)| m)
    }
}

/// A per-vertex map on one hemisphere.
#[derive(Clone, Debug)]
pub struct SurfaceMapLayer {
    /// Stable id.
    pub id: SurfaceId,
    /// Display name.
    pub name: String,
    /// The hemisphere group it belongs to.
    pub surface: SurfaceId,
    /// Values per frame, one per vertex.
    pub frames: Vec<Vec<f32>>,
    /// Label table for a parcellation (values are keys), empty otherwise.
    pub labels: Vec<Label>,
    /// How it is drawn.
    pub style: LayerStyle,
    /// Frame shown.
    pub frame: usize,
    /// Bumped when `frames` change in place (a connectivity row that follows the crosshair).
    pub revision: u64,
    /// The volume layer it was projected from, and how (none for a map read from a file).
    pub projected: Option<(crate::viewer::LayerId, ProjectionMethod)>,
}

impl SurfaceMapLayer {
    /// Values of the frame shown.
    pub fn values(&self) -> &[f32] {
        &self.frames[self.frame.min(self.frames.len() - 1)]
    }

    /// The label name of a value in a label map.
    pub fn label_name(&self, value: f32) -> Option<&str> {
        self.labels
            .iter()
            .find(|l| l.key as f32 == value)
            .map(|l| l.name.as_str())
    }
}

/// How a region is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RegionDraw {
    /// Its vertices that have a neighbour outside it.
    Outline,
    /// All its vertices.
    Fill,
}

/// A region's colour, drawing and visibility.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RegionStyle {
    /// Colour (sRGB).
    pub colour: [u8; 3],
    /// Outline or fill.
    pub draw: RegionDraw,
    /// Opacity over the maps, 0..=1.
    pub opacity: f32,
    /// Whether it is drawn.
    pub visible: bool,
}

/// Colours given to regions in the order they open: distinct from the colormaps' reds,
/// yellows and blues where possible.
const REGION_COLOURS: [[u8; 3]; 6] = [
    [255, 0, 200],
    [0, 230, 255],
    [255, 255, 255],
    [255, 150, 0],
    [170, 120, 255],
    [120, 255, 60],
];

/// A region of one hemisphere (a FreeSurfer label), drawn over its maps.
#[derive(Clone, Debug)]
pub struct SurfaceRegion {
    /// Stable id.
    pub id: SurfaceId,
    /// Display name (the label's file name).
    pub name: String,
    /// The hemisphere group it belongs to.
    pub surface: SurfaceId,
    /// Its vertices, ascending, each once.
    pub vertices: Vec<u32>,
    /// Its vertices with a neighbour outside it (on the group's anatomical mesh), ascending.
    pub outline: Vec<u32>,
    /// How it is drawn.
    pub style: RegionStyle,
}

impl SurfaceRegion {
    /// Whether `vertex` is in the region.
    pub fn contains(&self, vertex: usize) -> bool {
        u32::try_from(vertex).is_ok_and(|v| self.vertices.binary_search(&v).is_ok())
    }

    /// The vertices drawn: the outline or all of them.
    pub fn drawn_vertices(&self) -> &[u32] {
        match self.style.draw {
            RegionDraw::Outline => &self.outline,
            RegionDraw::Fill => &self.vertices,
        }
    }
}

/// The vertex nearest the crosshair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VertexPick {
    /// Hemisphere group.
    pub surface: SurfaceId,
    /// Vertex index.
    pub vertex: usize,
    /// Its anatomical world position.
    pub world: DVec3,
    /// Distance from the crosshair in mm.
    pub distance: f64,
}

/// Everything the surface view shows.
#[derive(Clone, Debug)]
pub struct SurfaceScene {
    /// Hemispheres (or other meshes), in load order.
    pub hemispheres: Vec<HemisphereSurfaces>,
    /// Per-vertex maps, bottom first.
    pub maps: Vec<SurfaceMapLayer>,
    /// Regions, drawn over the maps in this order.
    pub regions: Vec<SurfaceRegion>,
    /// Geometry shown.
    pub geometry: GeometryKind,
    /// Shading under the overlays.
    pub shading: Shading,
    /// The camera.
    pub camera: OrbitCamera,
    /// Whether the camera was placed for the current meshes (reset when the first mesh arrives).
    pub camera_placed: bool,
    /// The vertex nearest the crosshair, highlighted.
    pub highlight: Option<VertexPick>,
    next_id: SurfaceId,
}

impl Default for SurfaceScene {
    fn default() -> Self {
        SurfaceScene {
            hemispheres: Vec::new(),
            maps: Vec::new(),
            regions: Vec::new(),
            geometry: GeometryKind::Pial,
            shading: Shading::Binary,
            camera: OrbitCamera::preset(CameraPreset::LateralLeft, ([-70.0, -110.0, -50.0], [70.0, 75.0, 85.0])),
            camera_placed: false,
            highlight: None,
            next_id: 1,
        }
    }
}

/// Separation between hemispheres drawn side by side for geometries that overlap in space.
const HEMISPHERE_GAP_MM: f32 = 10.0;

impl SurfaceScene {
    /// Whether there is anything to draw.
    pub fn is_empty(&self) -> bool {
        self.hemispheres.is_empty()
    }

    fn take_id(&mut self) -> SurfaceId {
        self.next_id += 1;
        self.next_id
    }

    /// Add what a surface file holds: a mesh joins its hemisphere, maps attach to the hemisphere
    /// whose vertex count they match. Errors leave the scene as it was.
    pub fn add_file(&mut self, file: &SurfaceFile) -> Result<(), MeshError> {
        match classify(&file.name, file) {
            SurfaceRole::Mesh { hemisphere, geometry } => {
                let mesh = Mesh::from_surface(file)?;
                self.add_mesh(hemisphere, geometry, file.name.clone(), mesh)
            }
            SurfaceRole::Maps { hemisphere } => {
                for map in vertex_maps(file) {
                    self.add_map(hemisphere.or(map.hemisphere), map, &file.name)?;
                }
                Ok(())
            }
        }
    }

    /// Add a mesh to its hemisphere group (created if new); its vertex count must match the group's.
    pub fn add_mesh(
        &mut self,
        hemisphere: Option<Hemisphere>,
        geometry: GeometryKind,
        name: String,
        mesh: Mesh,
    ) -> Result<(), MeshError> {
        let existing = self
            .hemispheres
            .iter()
            .position(|h| hemisphere.is_some() && h.hemisphere == hemisphere);
        match existing {
            Some(i) => {
                let group = &mut self.hemispheres[i];
                if group.vertex_count() != mesh.vertices.len() {
                    return Err(MeshError::VertexCountMismatch {
                        what: name,
                        count: mesh.vertices.len(),
                        mesh: group.meshes[0].1.clone(),
                        expected: group.vertex_count(),
                    });
                }
                group
                    .meshes
                    .retain(|(g, _, _)| *g != geometry || geometry == GeometryKind::Other);
                group.meshes.push((geometry, name, Arc::new(mesh)));
            }
            None => {
                let id = self.take_id();
                self.hemispheres.push(HemisphereSurfaces {
                    id,
                    hemisphere,
                    meshes: vec![(geometry, name, Arc::new(mesh))],
                    shading: None,
                });
                if self.hemispheres.len() == 1 {
                    self.geometry = geometry;
                }
            }
        }
        self.camera_placed = false;
        Ok(())
    }

    /// Attach a map to the hemisphere it names (or the one whose vertex count it matches).
    /// Curvature and sulcal-depth files become that hemisphere's shading.
    pub fn add_map(
        &mut self,
        hemisphere: Option<Hemisphere>,
        map: VertexMap,
        file_name: &str,
    ) -> Result<(), MeshError> {
        let group = self.group_for(hemisphere, &map, file_name)?;
        let lower = file_name.to_ascii_lowercase();
        let is_shading = map.labels.is_empty() && (lower.contains("sulc") || lower.contains("curv"));
        if is_shading && self.hemispheres[group].shading.is_none() {
            let values = map.frames.first().cloned().unwrap_or_default();
            self.hemispheres[group].shading = Some((file_name.to_owned(), values));
            if lower.contains("sulc") {
                self.shading = Shading::Graded;
            }
            return Ok(());
        }
        let style = default_map_style(&map);
        let surface = self.hemispheres[group].id;
        let id = self.take_id();
        self.maps.push(SurfaceMapLayer {
            id,
            name: map.name,
            surface,
            frames: map.frames,
            labels: map.labels,
            style,
            frame: 0,
            revision: 0,
            projected: None,
        });
        Ok(())
    }

    fn group_for(&self, hemisphere: Option<Hemisphere>, map: &VertexMap, file_name: &str) -> Result<usize, MeshError> {
        let candidates: Vec<usize> = self
            .hemispheres
            .iter()
            .enumerate()
            .filter(|(_, h)| hemisphere.is_none() || h.hemisphere == hemisphere)
            .map(|(i, _)| i)
            .collect();
        let Some(&first) = candidates.first() else {
            return Err(MeshError::NoMesh {
                what: file_name.to_owned(),
            });
        };
        let matching = candidates.iter().copied().find(|&i| {
            let (_, name, mesh) = &self.hemispheres[i].meshes[0];
            check_vertex_count(name, mesh, map).is_ok()
        });
        match matching {
            Some(i) => Ok(i),
            None => {
                let (_, name, mesh) = &self.hemispheres[first].meshes[0];
                check_vertex_count(name, mesh, map).map(|_| first)
            }
        }
    }

    /// Add a FreeSurfer label as a region of the hemisphere its file name names (`lh.`, `rh.`),
    /// or, when the name names none, of the first hemisphere whose vertex count covers its
    /// largest vertex number. Returns the region's id and, when several hemispheres would fit an
    /// unnamed label, a warning naming the one chosen. A label of a hemisphere that is not open,
    /// with a vertex number past its mesh (the error names both), with volume points or without
    /// rows is an error and leaves the scene as it was.
    pub fn add_label(&mut self, label: &FreeSurferLabel) -> Result<(SurfaceId, Option<String>), MeshError> {
        let named = Hemisphere::from_file_name(&label.name);
        let candidates: Vec<usize> = self
            .hemispheres
            .iter()
            .enumerate()
            .filter(|(_, h)| named.is_none() || h.hemisphere == named)
            .map(|(i, _)| i)
            .collect();
        let Some(&first) = candidates.first() else {
            return Err(match named {
                Some(h) if !self.hemispheres.is_empty() => MeshError::NoHemisphereMesh {
                    what: label.name.clone(),
                    hemisphere: h.name(),
                },
                _ => MeshError::NoMesh {
                    what: label.name.clone(),
                },
            });
        };
        // Every geometry of a hemisphere has the same vertices: its first mesh answers for all.
        let on = |i: usize| {
            let (_, name, mesh) = &self.hemispheres[i].meshes[0];
            region_vertices(label, name, mesh).map(|vertices| (i, vertices))
        };
        let fitting: Vec<usize> = candidates.iter().copied().filter(|&i| on(i).is_ok()).collect();
        let (group, vertices) = match fitting.first() {
            Some(&i) => on(i)?,
            None => on(first)?,
        };
        let warning = (fitting.len() > 1).then(|| {
            format!(
                "{} names no hemisphere and fits {} meshes; it is shown on {} (name it lh.… or rh.… to choose)",
                label.name,
                fitting.len(),
                self.hemispheres[group].meshes[0].1
            )
        });
        let outline = self.hemispheres[group]
            .anatomical()
            .map_or_else(Vec::new, |mesh| mesh.region_outline(&vertices));
        let style = RegionStyle {
            colour: REGION_COLOURS[self.regions.len() % REGION_COLOURS.len()],
            draw: RegionDraw::Outline,
            opacity: 1.0,
            visible: true,
        };
        let id = self.take_id();
        self.regions.push(SurfaceRegion {
            id,
            name: label.name.clone(),
            surface: self.hemispheres[group].id,
            vertices,
            outline,
            style,
        });
        Ok((id, warning))
    }

    /// The region with this id.
    pub fn region(&self, id: SurfaceId) -> Option<&SurfaceRegion> {
        self.regions.iter().find(|r| r.id == id)
    }

    /// Regions of one hemisphere group, in drawing order.
    pub fn regions_of(&self, surface: SurfaceId) -> impl Iterator<Item = &SurfaceRegion> {
        self.regions.iter().filter(move |r| r.surface == surface)
    }

    /// Where a region's vertices are in the world: their positions on the hemisphere's
    /// anatomical mesh (pial, else white, else what there is), in vertex order.
    pub fn region_points(&self, id: SurfaceId) -> Option<Vec<DVec3>> {
        let region = self.region(id)?;
        let mesh = self.hemisphere(region.surface)?.anatomical()?;
        Some(
            region
                .vertices
                .iter()
                .filter_map(|&v| mesh.vertices.get(v as usize))
                .map(|p| DVec3::from_array(p.map(f64::from)))
                .collect(),
        )
    }

    /// The group with this id.
    pub fn hemisphere(&self, id: SurfaceId) -> Option<&HemisphereSurfaces> {
        self.hemispheres.iter().find(|h| h.id == id)
    }

    /// Close a hemisphere: its meshes, and the maps and regions on it.
    pub fn remove_hemisphere(&mut self, id: SurfaceId) {
        self.hemispheres.retain(|h| h.id != id);
        self.maps.retain(|m| m.surface != id);
        self.regions.retain(|r| r.surface != id);
        if self.highlight.is_some_and(|h| h.surface == id) {
            self.highlight = None;
        }
    }

    /// The hemispheres whose shown mesh lies where the brain is in world space (pial, white or
    /// another mesh file), so that it can be drawn with the volumes in the 3D view; inflated,
    /// spherical and flat meshes cannot.
    pub fn in_world_space(&self) -> impl Iterator<Item = &HemisphereSurfaces> {
        self.hemispheres.iter().filter(|group| {
            group
                .mesh(self.geometry)
                .is_some_and(|(kind, _, _)| in_world_space(*kind))
        })
    }

    /// Translation applied when drawing a hemisphere: inflated, spherical and flat meshes of the two
    /// hemispheres overlap in space, so they are pushed apart along x.
    pub fn draw_offset(&self, group: &HemisphereSurfaces) -> Vec3 {
        if in_world_space(self.geometry) {
            return Vec3::ZERO;
        }
        let Some((_, _, mesh)) = group.mesh(self.geometry) else {
            return Vec3::ZERO;
        };
        let (lo, hi) = mesh.bounds();
        match group.hemisphere {
            Some(Hemisphere::Left) => Vec3::new(-HEMISPHERE_GAP_MM / 2.0 - hi[0].max(0.0), 0.0, 0.0),
            Some(Hemisphere::Right) => Vec3::new(HEMISPHERE_GAP_MM / 2.0 - lo[0].min(0.0), 0.0, 0.0),
            None => Vec3::ZERO,
        }
    }

    /// Bounds of everything drawn, offsets included.
    pub fn bounds(&self) -> ([f32; 3], [f32; 3]) {
        let mut lo = [f32::INFINITY; 3];
        let mut hi = [f32::NEG_INFINITY; 3];
        for group in &self.hemispheres {
            if let Some((_, _, mesh)) = group.mesh(self.geometry) {
                let offset = self.draw_offset(group);
                let (l, h) = mesh.bounds();
                for a in 0..3 {
                    lo[a] = lo[a].min(l[a] + offset[a]);
                    hi[a] = hi[a].max(h[a] + offset[a]);
                }
            }
        }
        if lo[0].is_finite() {
            (lo, hi)
        } else {
            ([-1.0; 3], [1.0; 3])
        }
    }

    /// Put the camera at a preset framing everything drawn.
    pub fn look_from(&mut self, preset: CameraPreset) {
        self.camera = OrbitCamera::preset(preset, self.bounds());
        self.camera_placed = true;
    }

    /// Find the vertex nearest `world` on the anatomical meshes (within `max_mm`).
    pub fn nearest_vertex(&self, world: DVec3, max_mm: f64) -> Option<VertexPick> {
        let point = world.as_vec3().to_array();
        self.hemispheres
            .iter()
            .filter_map(|h| {
                let mesh = h.anatomical()?;
                let (vertex, distance) = mesh.nearest_vertex(point)?;
                let v = mesh.vertices[vertex];
                Some(VertexPick {
                    surface: h.id,
                    vertex,
                    world: DVec3::new(v[0] as f64, v[1] as f64, v[2] as f64),
                    distance: distance as f64,
                })
            })
            .filter(|p| p.distance <= max_mm)
            .min_by(|a, b| a.distance.total_cmp(&b.distance))
    }

    /// Maps of one hemisphere group, bottom first.
    pub fn maps_of(&self, surface: SurfaceId) -> impl Iterator<Item = &SurfaceMapLayer> {
        self.maps.iter().filter(move |m| m.surface == surface)
    }
}

/// Default style of a per-vertex map: label maps opaque from their table; signed maps red-yellow /
/// blue-lightblue from a third of their largest magnitude; others viridis over their range.
pub fn default_map_style(map: &VertexMap) -> LayerStyle {
    let values = map.frames.iter().flatten().copied().filter(|v| v.is_finite());
    let (lo, hi) = values.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    if lo < 0.0 && map.labels.is_empty() {
        let peak = hi.max(-lo);
        return LayerStyle::signed_overlay(peak / 3.0, peak);
    }
    LayerStyle {
        colormap: cortexlens_data::Colormap::Viridis,
        range: (lo, if hi > lo { hi } else { lo + 1.0 }),
        threshold: None,
        negative: None,
        opacity: 1.0,
        interpolation: cortexlens_data::Interpolation::Nearest,
        visible: true,
    }
}

impl SurfaceScene {
    /// Sample a volume layer at every hemisphere's vertices (pial, with white as the inner surface
    /// when loaded) and add the values as maps styled like the layer. Returns how many maps were added.
    pub fn add_projection(&mut self, layer: &crate::viewer::Layer, method: ProjectionMethod) -> usize {
        let mut added = Vec::new();
        for group in &self.hemispheres {
            let Some(surface) = group.anatomical() else {
                continue;
            };
            let inner = group.white().filter(|w| !Arc::ptr_eq(w, surface));
            let values = project(&layer.volume, layer.frame, surface, inner.map(|m| m.as_ref()), method);
            let side = group.hemisphere.map_or(String::new(), |h| format!(" ({})", h.name()));
            added.push((group.id, format!("{}{side}", layer.name()), values));
        }
        let count = added.len();
        for (surface, name, values) in added {
            let id = self.take_id();
            let mut style = layer.style;
            style.visible = true;
            self.maps.push(SurfaceMapLayer {
                id,
                name,
                surface,
                frames: vec![values],
                labels: Vec::new(),
                style,
                frame: 0,
                revision: 0,
                projected: Some((layer.id, method)),
            });
        }
        count
    }
}

/// Whether meshes of this kind lie where the brain is in world space.
fn in_world_space(kind: GeometryKind) -> bool {
    matches!(kind, GeometryKind::Pial | GeometryKind::White | GeometryKind::Other)
}
