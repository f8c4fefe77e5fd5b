//! Sessions: what is open and how it is shown, saved as a small JSON file that reopens it — in the
//! window (File › Open, drag-and-drop, `cortexlens SESSION.json`) and in `cortexlens render
//! SESSION.json`, which then draws what the window showed.
//!
//! A session lists the files in the order they were opened (paths relative to the session's
//! folder, with their size and modification time), then how their layers, maps, regions and
//! fields are shown, the layout, crosshair, cameras and 3D settings. Drawn regions are saved
//! beside it as NIfTI files (`SESSION_region1.nii.gz`, …) and reopened as drawn layers. Reopening
//! reads the files again through the usual open step ([`crate::open::open`]), then [`apply`]s
//! the rest; a file that moved is named and what does not need it is restored, a file that changed
//! is named and restored as it is now.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use cortexlens_data::LayerStyle;
use cortexlens_data::camera::OrbitCamera;
use cortexlens_data::mesh::GeometryKind;
use cortexlens_data::projection::ProjectionMethod;
use cortexlens_data::vertex_colors::Shading;
use cortexlens_render::RayMarchSettings;
use serde::{Deserialize, Serialize};

use crate::open::Added;
use crate::viewer::{CrosshairClips, LayerId, Layout, RegionStyle, Source3d, SurfaceId, ViewCamera, Viewer};

/// The `format` of a session file.
pub const FORMAT: &str = "cortexlens-session";
/// The version this code writes and reads.
pub const VERSION: u32 = 1;

/// A saved session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The files, in the order they are opened.
    pub files: Vec<SessionFile>,
    /// Volume layers, bottom first.
    pub layers: Vec<SessionLayer>,
    /// The selected layer (index into `layers`).
    pub selected: Option<usize>,
    /// The crosshair, world mm.
    pub crosshair: [f64; 3],
    /// The views shown.
    pub layout: Layout,
    /// Radiological convention.
    pub radiological: bool,
    /// Zoom and pan of the sagittal, coronal and axial views.
    pub cameras: [ViewCamera; 3],
    /// The window's view area in pixels when saved: `cortexlens render SESSION.json` draws at
    /// this size unless `--size` says otherwise.
    pub view_size: Option<[u32; 2]>,
    /// The surface view.
    pub surfaces: SessionSurfaces,
    /// The 3D view.
    pub view3d: Session3d,
}

/// A file of the session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionFile {
    /// Relative to the session's folder where possible, with `/` separators.
    pub path: String,
    /// Its size in bytes when saved.
    pub bytes: u64,
    /// Its modification time when saved, seconds since 1970.
    pub modified: Option<u64>,
}

/// Where a volume layer comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerSource {
    /// The volume (or a CIFTI file's voxels) of file `files[i]`.
    File(usize),
    /// A drawn region, saved beside the session at this path (relative like the files).
    Drawn(String),
}

/// A volume layer and how it is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionLayer {
    /// Where it comes from.
    pub source: LayerSource,
    /// Its name then (for messages).
    pub name: String,
    /// How it is drawn.
    pub style: LayerStyle,
    /// The frame shown.
    pub frame: usize,
}

/// Where a per-vertex map comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MapSource {
    /// The `index`-th map of file `file` (a surface file's maps, or a CIFTI file's in order).
    File {
        /// Index into `files`.
        file: usize,
        /// Which of its maps.
        index: usize,
    },
    /// The `index`-th map of a projection of layer `layer` (index into `layers`).
    Projection {
        /// Index into `layers`.
        layer: usize,
        /// How it was projected.
        method: ProjectionMethod,
        /// Which of the projection's maps (one per hemisphere).
        index: usize,
    },
}

/// A per-vertex map and how it is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionMap {
    /// Where it comes from.
    pub source: MapSource,
    /// How it is drawn.
    pub style: LayerStyle,
    /// The frame shown.
    pub frame: usize,
}

/// The surface view's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionSurfaces {
    /// Which meshes are shown.
    pub geometry: GeometryKind,
    /// Curvature or depth shading.
    pub shading: Shading,
    /// The camera.
    pub camera: OrbitCamera,
    /// Whether the camera was placed (else it frames the meshes when they open).
    pub camera_placed: bool,
    /// The maps, in the scene's order.
    pub maps: Vec<SessionMap>,
    /// Label regions (file index, style).
    pub regions: Vec<(usize, RegionStyle)>,
}

/// The 3D view's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session3d {
    /// Mode, transfer function, steps and the rest.
    pub settings: RayMarchSettings,
    /// Clip planes through the crosshair.
    pub clips: CrosshairClips,
    /// The camera.
    pub camera: OrbitCamera,
    /// Whether the camera was placed.
    pub camera_placed: bool,
    /// The field shown (index into `files`), or the base volume.
    pub field: Option<usize>,
    /// Splat scenes with their placement and how they are drawn.
    #[serde(default)]
    pub splats: Vec<SessionSplats>,
    /// Whether the surfaces are drawn in the 3D view (true in sessions from before).
    #[serde(default = "shown")]
    pub surfaces: bool,
}

fn shown() -> bool {
    true
}

/// A splat scene of the session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionSplats {
    /// Index into `files`.
    pub file: usize,
    /// Scene → world.
    pub transform: glam::DMat4,
    /// Whether it is drawn.
    pub visible: bool,
    /// Opacity scale.
    pub opacity: f32,
    /// Splat-size scale.
    pub size: f32,
}

/// Why a session could not be saved or read.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not a session this code reads.
    #[error("{path} is not a cortexlens session: {reason}")]
    Format {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A drawn region could not be saved.
    #[error("saving the drawn region {name}: {reason}")]
    Region {
        /// The layer's name.
        name: String,
        /// Why.
        reason: String,
    },
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> SessionError + '_ {
    move |source| SessionError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Whether a path names a session file (`.json`).
pub fn is_session_path(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Saves what `viewer` shows as a session at `path`, drawn regions beside it. `view_size` is the
/// window's view area in pixels. Returns what could not be saved (made in this session without a
/// file, e.g. an isosurface), one line each.
pub fn save_session(viewer: &Viewer, view_size: Option<[u32; 2]>, path: &Path) -> Result<Vec<String>, SessionError> {
    let folder = path.parent().unwrap_or(Path::new("."));
    let stem = path
        .file_stem()
        .map_or("session".to_owned(), |s| s.to_string_lossy().into_owned());
    let mut skipped = Vec::new();
    // Files that still show something, in open order.
    let mut files = Vec::new();
    let mut file_index = vec![None; viewer.files.len()];
    for (i, (file, added)) in viewer.files.iter().enumerate() {
        if still_open(viewer, added) {
            file_index[i] = Some(files.len());
            files.push(session_file(file, folder));
        }
    }
    let mut layers = Vec::new();
    let mut layer_index = Vec::new();
    let mut regions_saved = 0;
    for layer in &viewer.layers {
        let source = if viewer.drawings.get(layer.id).is_some() {
            regions_saved += 1;
            let region = folder.join(format!("{stem}_region{regions_saved}.nii.gz"));
            viewer.save_drawn(layer.id, &region).map_err(|e| SessionError::Region {
                name: layer.name().to_owned(),
                reason: e.to_string(),
            })?;
            LayerSource::Drawn(relative(&region, folder))
        } else if let Some(file) = (0..viewer.files.len())
            .find(|&i| layers_of(&viewer.files[i].1).contains(&layer.id))
            .and_then(|i| file_index[i])
        {
            LayerSource::File(file)
        } else {
            skipped.push(format!("{} (made in this session, no file)", layer.name()));
            continue;
        };
        layer_index.push(layer.id);
        layers.push(SessionLayer {
            source,
            name: layer.name().to_owned(),
            style: layer.style,
            frame: layer.frame,
        });
    }
    let selected = viewer.selected.and_then(|id| layer_index.iter().position(|l| *l == id));
    let scene = &viewer.surfaces;
    let mut maps = Vec::new();
    for map in &scene.maps {
        let source = match map.projected {
            Some((layer, method)) => {
                let Some(layer_at) = layer_index.iter().position(|l| *l == layer) else {
                    skipped.push(format!("{} (projected from a layer not saved)", map.name));
                    continue;
                };
                let index = scene
                    .maps
                    .iter()
                    .filter(|m| m.projected == map.projected)
                    .position(|m| m.id == map.id)
                    .unwrap_or(0);
                MapSource::Projection {
                    layer: layer_at,
                    method,
                    index,
                }
            }
            None => {
                let found = (0..viewer.files.len()).find_map(|i| {
                    let index = maps_of(viewer, i).iter().position(|m| *m == map.id)?;
                    Some(MapSource::File {
                        file: file_index[i]?,
                        index,
                    })
                });
                let Some(source) = found else {
                    skipped.push(format!("{} (made in this session, no file)", map.name));
                    continue;
                };
                source
            }
        };
        maps.push(SessionMap {
            source,
            style: map.style,
            frame: map.frame,
        });
    }
    let regions = scene
        .regions
        .iter()
        .filter_map(|region| {
            let file = (0..viewer.files.len())
                .find(|&i| viewer.files[i].1 == Added::Region(region.id))
                .and_then(|i| file_index[i])?;
            Some((file, region.style))
        })
        .collect();
    let field = match viewer.volume3d.source {
        Source3d::Field(id) => (0..viewer.files.len())
            .find(|&i| viewer.files[i].1 == Added::Field(id))
            .and_then(|i| file_index[i]),
        Source3d::Volume => None,
    };
    let c = viewer.crosshair;
    let session = Session {
        format: FORMAT.to_owned(),
        version: VERSION,
        files,
        layers,
        selected,
        crosshair: [c.x, c.y, c.z],
        layout: viewer.layout,
        radiological: viewer.radiological,
        cameras: viewer.cameras,
        view_size,
        surfaces: SessionSurfaces {
            geometry: scene.geometry,
            shading: scene.shading,
            camera: scene.camera,
            camera_placed: scene.camera_placed,
            maps,
            regions,
        },
        view3d: Session3d {
            settings: viewer.volume3d.settings.clone(),
            clips: viewer.volume3d.clips,
            camera: viewer.volume3d.camera,
            camera_placed: viewer.volume3d.camera_placed,
            surfaces: viewer.volume3d.surfaces,
            field,
            splats: viewer
                .volume3d
                .splats
                .iter()
                .filter_map(|open| {
                    let file = (0..viewer.files.len())
                        .find(|&i| viewer.files[i].1 == Added::Splats(open.id))
                        .and_then(|i| file_index[i])?;
                    Some(SessionSplats {
                        file,
                        transform: open.transform,
                        visible: open.visible,
                        opacity: open.opacity,
                        size: open.size,
                    })
                })
                .collect(),
        },
    };
    let json = serde_json::to_string_pretty(&session).map_err(|e| SessionError::Format {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    std::fs::write(path, json).map_err(io_error(path))?;
    Ok(skipped)
}

/// Reads a session file (at most 64 MiB: a session is small).
pub fn read_session(path: &Path) -> Result<Session, SessionError> {
    const LIMIT: u64 = 64 << 20;
    let format_error = |reason: String| SessionError::Format {
        path: path.display().to_string(),
        reason,
    };
    let size = std::fs::metadata(path).map_err(io_error(path))?.len();
    if size > LIMIT {
        return Err(format_error(format!("{size} bytes, more than a session holds")));
    }
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| format_error(e.to_string()))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(format_error(format!("its \"format\" is not \"{FORMAT}\"")));
    }
    let version = value.get("version").and_then(|v| v.as_u64());
    if version != Some(u64::from(VERSION)) {
        return Err(format_error(format!(
            "version {version:?}; this cortexlens reads version {VERSION}"
        )));
    }
    serde_json::from_value(value).map_err(|e| format_error(e.to_string()))
}

/// What to open for a session, in order: its files, then its drawn regions; and a message for
/// each file that moved or changed since it was saved.
pub struct SessionPlan {
    /// The files to read, in order (`None` where the file is missing).
    pub files: Vec<Option<PathBuf>>,
    /// The drawn regions to read, in layer order (`None` where missing).
    pub regions: Vec<Option<PathBuf>>,
    /// One line per missing or changed file.
    pub problems: Vec<String>,
}

/// Where a session's files are now, and which moved or changed.
pub fn plan(session: &Session, session_path: &Path) -> SessionPlan {
    let folder = session_path.parent().unwrap_or(Path::new("."));
    let mut problems = Vec::new();
    let mut locate = |recorded: &str, saved: Option<(u64, Option<u64>)>| {
        let path = folder.join(recorded);
        let Ok(meta) = std::fs::metadata(&path) else {
            problems.push(format!("{recorded} is missing (looked for {})", path.display()));
            return None;
        };
        if let Some((bytes, modified)) = saved
            && (meta.len() != bytes || (modified.is_some() && modified_secs(&meta) != modified))
        {
            problems.push(format!(
                "{recorded} changed since the session was saved; it opens as it is now"
            ));
        }
        Some(path)
    };
    let files = session
        .files
        .iter()
        .map(|f| locate(&f.path, Some((f.bytes, f.modified))))
        .collect();
    let regions = session
        .layers
        .iter()
        .filter_map(|l| match &l.source {
            LayerSource::Drawn(path) => Some(locate(path, None)),
            LayerSource::File(_) => None,
        })
        .collect();
    SessionPlan {
        files,
        regions,
        problems,
    }
}

/// Shows `viewer` as `session` says, after its files were opened into it: `files[i]` is what the
/// session's file `i` added (`None` if it could not be opened), `regions[j]` what its `j`-th drawn
/// region added. Returns what could not be restored, one line each.
pub fn apply(
    session: &Session,
    viewer: &mut Viewer,
    files: &[Option<Added>],
    regions: &[Option<Added>],
) -> Vec<String> {
    let mut problems = Vec::new();
    // Layers: find each one's new id, then restore the stack's order and every style.
    let mut regions = regions.iter();
    let mut ids: Vec<Option<LayerId>> = Vec::new();
    for entry in &session.layers {
        let id = match &entry.source {
            LayerSource::File(i) => files
                .get(*i)
                .and_then(|a| a.as_ref())
                .and_then(|a| layers_of(a).first().copied()),
            LayerSource::Drawn(_) => match regions.next().and_then(|a| a.as_ref()) {
                Some(Added::Layer(id)) => match viewer.draw_into(*id) {
                    Ok(id) => {
                        // Named as it was, not after its file.
                        if let Some(layer) = viewer.layer_mut(id) {
                            let mut volume = (*layer.volume).clone();
                            volume.name = entry.name.clone();
                            layer.set_volume(volume);
                        }
                        Some(id)
                    }
                    Err(error) => {
                        problems.push(format!("{}: {error}", entry.name));
                        None
                    }
                },
                _ => None,
            },
        };
        if id.is_none() {
            problems.push(format!("{} is not restored (its file did not open)", entry.name));
        }
        ids.push(id);
    }
    let order: Vec<LayerId> = ids.iter().flatten().copied().collect();
    viewer
        .layers
        .sort_by_key(|l| order.iter().position(|id| *id == l.id).unwrap_or(usize::MAX));
    for (entry, id) in session.layers.iter().zip(&ids) {
        if let Some(layer) = id.and_then(|id| viewer.layer_mut(id)) {
            layer.style = entry.style;
            layer.frame = entry.frame.min(layer.volume.frames() - 1);
        }
    }
    viewer.drawings.settings.enabled = false;
    viewer.selected = session
        .selected
        .and_then(|i| ids.get(i).copied().flatten())
        .or(viewer.selected);

    // Maps: from files, or projected again from their restored layers.
    let mut projected: Vec<((usize, ProjectionMethod), Vec<SurfaceId>)> = Vec::new();
    for entry in &session.surfaces.maps {
        let id = match &entry.source {
            MapSource::File { file, index } => files.get(*file).and_then(|a| a.as_ref()).and_then(|_| {
                maps_of(viewer, opened_index(viewer, files, *file)?)
                    .get(*index)
                    .copied()
            }),
            MapSource::Projection { layer, method, index } => {
                let key = (*layer, *method);
                if !projected.iter().any(|(k, _)| *k == key)
                    && let Some(source) = ids
                        .get(*layer)
                        .copied()
                        .flatten()
                        .and_then(|id| viewer.layer(id))
                        .cloned()
                {
                    let first = viewer.surfaces.maps.len();
                    viewer.surfaces.add_projection(&source, *method);
                    let new = viewer.surfaces.maps[first..].iter().map(|m| m.id).collect();
                    projected.push((key, new));
                }
                projected
                    .iter()
                    .find(|(k, _)| *k == key)
                    .and_then(|(_, maps)| maps.get(*index).copied())
            }
        };
        match id.and_then(|id| viewer.surfaces.maps.iter_mut().find(|m| m.id == id)) {
            Some(map) => {
                map.style = entry.style;
                map.frame = entry.frame.min(map.frames.len() - 1);
            }
            None => problems.push("a surface map is not restored (its file did not open)".to_owned()),
        }
    }
    for (file, style) in &session.surfaces.regions {
        if let Some(Some(Added::Region(id))) = files.get(*file)
            && let Some(region) = viewer.surfaces.regions.iter_mut().find(|r| r.id == *id)
        {
            region.style = *style;
        }
    }
    let scene = &mut viewer.surfaces;
    (scene.geometry, scene.shading) = (session.surfaces.geometry, session.surfaces.shading);
    (scene.camera, scene.camera_placed) = (session.surfaces.camera, session.surfaces.camera_placed);

    let view3d = &mut viewer.volume3d;
    view3d.settings = session.view3d.settings.clone();
    (view3d.clips, view3d.camera) = (session.view3d.clips, session.view3d.camera);
    view3d.camera_placed = session.view3d.camera_placed;
    view3d.surfaces = session.view3d.surfaces;
    for entry in &session.view3d.splats {
        if let Some(Some(Added::Splats(id))) = files.get(entry.file)
            && let Some(open) = view3d.splats.iter_mut().find(|s| s.id == *id)
        {
            (open.transform, open.visible) = (entry.transform, entry.visible);
            (open.opacity, open.size) = (entry.opacity, entry.size);
        }
    }
    view3d.source = match session.view3d.field.and_then(|i| files.get(i)) {
        Some(Some(Added::Field(id))) => Source3d::Field(*id),
        _ => Source3d::Volume,
    };

    viewer.layout = session.layout;
    viewer.radiological = session.radiological;
    viewer.cameras = session.cameras;
    let [x, y, z] = session.crosshair;
    viewer.set_crosshair(glam::DVec3::new(x, y, z));
    problems
}

/// Opens a session into `viewer` now, reading its files on this thread (the command line's way;
/// the window reads them as jobs and calls [`apply`] the same way). Returns the session and what
/// could not be restored, one line each.
pub fn open_session_now(path: &Path, viewer: &mut Viewer) -> Result<(Session, Vec<String>), SessionError> {
    let session = read_session(path)?;
    let plan = plan(&session, path);
    let mut problems = plan.problems.clone();
    let mut open_one = |viewer: &mut Viewer, file: &Option<PathBuf>| {
        let file = file.as_ref()?;
        let contents = crate::loader::read_file(file, &mut |_| {})
            .map_err(|e| problems.push(e.to_string()))
            .ok()?;
        let opened = crate::open::open(viewer, file, contents)
            .map_err(|e| problems.push(e.to_string()))
            .ok()?;
        problems.extend(opened.warnings);
        Some(opened.added)
    };
    let files: Vec<Option<Added>> = plan.files.iter().map(|f| open_one(viewer, f)).collect();
    let regions: Vec<Option<Added>> = plan.regions.iter().map(|f| open_one(viewer, f)).collect();
    problems.extend(apply(&session, viewer, &files, &regions));
    Ok((session, problems))
}

/// Index into `viewer.files` of what the session's file `file` added (they were opened last, in
/// the session's order, after anything opened before).
fn opened_index(viewer: &Viewer, files: &[Option<Added>], file: usize) -> Option<usize> {
    let added = files.get(file)?.as_ref()?;
    viewer.files.iter().rposition(|(_, a)| a == added)
}

/// The volume layers a file added.
fn layers_of(added: &Added) -> Vec<LayerId> {
    match added {
        Added::Layer(id) => vec![*id],
        Added::Cifti(cifti) => cifti.layer.into_iter().collect(),
        Added::Surface { .. } | Added::Region(_) | Added::Field(_) | Added::Splats(_) => Vec::new(),
    }
}

/// The per-vertex maps of `viewer.files[i]`: a surface file's, or all of a CIFTI file's
/// (including those attached when their mesh opened later), in order.
fn maps_of(viewer: &Viewer, i: usize) -> Vec<SurfaceId> {
    match &viewer.files[i].1 {
        Added::Surface { maps } => maps.clone(),
        Added::Cifti(_) => {
            // The k-th CIFTI file opened is `viewer.cifti[k]`.
            let k = viewer.files[..i]
                .iter()
                .filter(|(_, a)| matches!(a, Added::Cifti(_)))
                .count();
            viewer
                .cifti
                .get(k)
                .map(|c| c.parts.iter().flat_map(|p| p.maps.iter().copied()).collect())
                .unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

/// Whether anything a file added is still open.
fn still_open(viewer: &Viewer, added: &Added) -> bool {
    match added {
        Added::Layer(id) => viewer.layer(*id).is_some(),
        Added::Surface { .. } => !viewer.surfaces.is_empty(),
        Added::Region(id) => viewer.surfaces.regions.iter().any(|r| r.id == *id),
        Added::Field(id) => viewer.volume3d.fields.iter().any(|f| f.id == *id),
        Added::Splats(id) => viewer.volume3d.splats.iter().any(|s| s.id == *id),
        Added::Cifti(_) => true,
    }
}

fn session_file(path: &Path, folder: &Path) -> SessionFile {
    let meta = std::fs::metadata(path).ok();
    SessionFile {
        path: relative(path, folder),
        bytes: meta.as_ref().map_or(0, |m| m.len()),
        modified: meta.as_ref().and_then(modified_secs),
    }
}

fn modified_secs(meta: &std::fs::Metadata) -> Option<u64> {
    let time = meta.modified().ok()?;
    Some(time.duration_since(UNIX_EPOCH).ok()?.as_secs())
}

/// `path` relative to `folder` where they share a root (`..` as needed), else absolute; `/`
/// separators.
fn relative(path: &Path, folder: &Path) -> String {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    let (path, folder) = (absolute(path), absolute(folder));
    let relative = pathdiff::diff_paths(&path, &folder).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// A session the window is opening: its files are read as jobs into a viewer of its own, which
/// replaces the window's once all have opened, so what was open stays until then.
pub struct SessionOpening {
    /// The session file.
    pub path: PathBuf,
    session: Session,
    /// The viewer being filled.
    pub viewer: Viewer,
    /// The reads of its files, then of its drawn regions (`None` where a file is missing).
    reads: Vec<Option<crate::jobs::JobId>>,
    /// How many of the reads are files (the rest are regions).
    file_count: usize,
    /// What each read added, by read.
    added: std::collections::HashMap<crate::jobs::JobId, Option<Added>>,
}

impl SessionOpening {
    /// Starts reading the session's files with `request` (which returns the read's job); returns
    /// it with the lines about moved or changed files.
    pub fn start(
        path: &Path,
        mut request: impl FnMut(&Path) -> crate::jobs::JobId,
    ) -> Result<(SessionOpening, Vec<String>), SessionError> {
        let session = read_session(path)?;
        let plan = plan(&session, path);
        let mut reads: Vec<Option<crate::jobs::JobId>> =
            plan.files.iter().map(|f| f.as_deref().map(&mut request)).collect();
        let file_count = reads.len();
        reads.extend(plan.regions.iter().map(|f| f.as_deref().map(&mut request)));
        let opening = SessionOpening {
            path: path.to_owned(),
            session,
            viewer: Viewer::default(),
            reads,
            file_count,
            added: Default::default(),
        };
        Ok((opening, plan.problems))
    }

    /// Whether `read` is one of this session's.
    pub fn owns(&self, read: crate::jobs::JobId) -> bool {
        self.reads.contains(&Some(read))
    }

    /// One of its reads was opened into [`SessionOpening::viewer`] (or failed).
    pub fn opened(&mut self, read: crate::jobs::JobId, added: Option<Added>) {
        self.added.insert(read, added);
    }

    /// Once every read has opened: the viewer showing the session, and what could not be
    /// restored.
    pub fn finish(&mut self) -> Option<(Viewer, Vec<String>)> {
        let done = self.reads.iter().flatten().all(|r| self.added.contains_key(r));
        if !done {
            return None;
        }
        let added: Vec<Option<Added>> = self
            .reads
            .iter()
            .map(|r| r.and_then(|r| self.added.get(&r).cloned().flatten()))
            .collect();
        let (files, regions) = added.split_at(self.file_count);
        let problems = apply(&self.session, &mut self.viewer, files, regions);
        Some((std::mem::take(&mut self.viewer), problems))
    }
}
