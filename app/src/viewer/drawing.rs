//! Regions drawn on slice views: which label layers are being drawn, the tool, and the edits
//! (pen, eraser, flood fill, fill between slices, undo, redo) in world terms.
//!
//! Each drawn layer is an ordinary label layer whose volume is republished from its
//! [`Drawing`] after every change, so views, readout, captions, synthesis and saving see it like
//! any other volume.

use std::sync::Arc;

use cortexlens_data::drawing::{Brush, Drawing, DrawingError, RegionStats, SampleStats, sample_stats};
use cortexlens_data::formats::{StoredAs, save_nifti_as};
use cortexlens_data::{Plane, Volume};
use glam::DVec3;

use super::{Layer, LayerId, Viewer, label_style};

/// What a click or drag in a slice view does while drawing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrawTool {
    /// Paint the current label.
    Pen,
    /// Clear any label.
    Eraser,
    /// Flood-fill the clicked area of the slice with the current label.
    Fill,
}

/// The drawing tool's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DrawSettings {
    /// Whether clicks and drags in slice views draw (instead of moving the crosshair).
    pub enabled: bool,
    /// What they do.
    pub tool: DrawTool,
    /// Brush size in voxels across.
    pub size: u32,
    /// A ball through neighbouring slices instead of a disc in the slice.
    pub ball: bool,
    /// The label painted and filled (1–32767).
    pub label: i16,
    /// When set, a fill only covers voxels whose base-image value lies in this range.
    pub fill_range: Option<(f32, f32)>,
}

impl Default for DrawSettings {
    fn default() -> Self {
        DrawSettings {
            enabled: false,
            tool: DrawTool::Pen,
            size: 1,
            ball: false,
            label: 1,
            fill_range: None,
        }
    }
}

/// A label layer being drawn.
#[derive(Clone, Debug)]
pub struct DrawnLayer {
    /// The layer it is shown as.
    pub layer: LayerId,
    /// Its labels and undo history.
    pub drawing: Drawing,
    /// The grid (shape, affine, NIfTI spatial fields) the labels lie on.
    grid: Arc<Volume>,
    /// The drawing's revision the layer's volume shows.
    published: u64,
}

/// Every drawn layer, the tool, and the stroke in progress.
#[derive(Clone, Debug, Default)]
pub struct Drawings {
    /// The tool.
    pub settings: DrawSettings,
    /// The layers being drawn.
    pub layers: Vec<DrawnLayer>,
    /// The layer edits go into.
    pub target: Option<LayerId>,
    /// Where the stroke in progress last painted, in the target's voxel coordinates.
    last: Option<DVec3>,
    /// The grid axis of the view drawn in last (fill between slices works along it).
    pub last_axis: Option<usize>,
}

/// Statistics of one label of a drawn layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelStats {
    /// The label.
    pub label: i16,
    /// Its size.
    pub size: RegionStats,
    /// Every other layer's values inside it (name, statistics; `None` where it covers none).
    pub layers: Vec<(String, Option<SampleStats>)>,
}

/// Why a drawing could not start or be saved.
#[derive(Debug, thiserror::Error)]
pub enum DrawError {
    /// The layer is not open.
    #[error("that layer is no longer open")]
    NoLayer,
    /// A 4D layer cannot be drawn into.
    #[error("{0} has several frames; draw into a 3D label layer")]
    FourD(String),
    /// Values that are not labels.
    #[error("{name} holds {value}, which is not a whole-number label from −32768 to 32767")]
    NotLabels {
        /// The layer.
        name: String,
        /// The offending value.
        value: f32,
    },
    /// The grid is too large.
    #[error(transparent)]
    Grid(#[from] DrawingError),
    /// Saving failed.
    #[error(transparent)]
    Save(#[from] cortexlens_data::formats::WriteError),
}

impl Drawings {
    /// The drawn layer with this id.
    pub fn get(&self, id: LayerId) -> Option<&DrawnLayer> {
        self.layers.iter().find(|d| d.layer == id)
    }

    fn get_mut(&mut self, id: LayerId) -> Option<&mut DrawnLayer> {
        self.layers.iter_mut().find(|d| d.layer == id)
    }

    /// Whether clicks in slice views draw now.
    pub fn active(&self) -> bool {
        self.settings.enabled && self.target.is_some()
    }
}

impl DrawnLayer {
    /// The volume showing the labels on the grid.
    fn volume(&self, name: &str) -> Volume {
        let [nx, ny, nz] = self.drawing.shape();
        Volume {
            name: name.to_owned(),
            shape: [nx, ny, nz, 1],
            ndim: 3,
            zooms: self.grid.zooms.iter().take(3).copied().collect(),
            affine: self.grid.affine,
            datatype: "int16".into(),
            scl_slope: 1.0,
            scl_inter: 0.0,
            data: self.drawing.labels().iter().map(|&l| f32::from(l)).collect(),
            nifti_space: self.grid.nifti_space.clone(),
        }
    }

    /// One voxel's volume, mm³.
    fn voxel_mm3(&self) -> f64 {
        self.grid.affine.determinant().abs()
    }

    /// The grid axis a view of `plane` looks along: the one closest to the plane's normal.
    fn axis_of(&self, plane: Plane) -> usize {
        let normal = plane.normal_axis();
        (0..3)
            .max_by(|&a, &b| {
                let along = |axis: usize| self.grid.affine.col(axis).truncate().normalize()[normal].abs();
                along(a).total_cmp(&along(b))
            })
            .unwrap_or(normal)
    }
}

impl Viewer {
    /// Starts a new, empty label layer on the grid of layer `grid_of` (3D: its first frame's
    /// grid), on top of the others, and draws into it.
    pub fn new_drawn_layer(&mut self, grid_of: LayerId) -> Result<LayerId, DrawError> {
        let grid = self.layer(grid_of).ok_or(DrawError::NoLayer)?.volume.clone();
        let [nx, ny, nz, _] = grid.shape;
        let drawing = Drawing::new([nx, ny, nz])?;
        let number = self.drawings.layers.len() + 1;
        self.add_drawn(format!("region {number}"), drawing, grid)
    }

    /// Draws into an open 3D layer of integer labels (e.g. a mask opened from a file); its
    /// values become the drawing's starting labels.
    pub fn draw_into(&mut self, id: LayerId) -> Result<LayerId, DrawError> {
        if self.drawings.get(id).is_some() {
            self.drawings.target = Some(id);
            return Ok(id);
        }
        let layer = self.layer(id).ok_or(DrawError::NoLayer)?;
        let volume = layer.volume.clone();
        if volume.shape[3] > 1 {
            return Err(DrawError::FourD(layer.name().to_owned()));
        }
        let labels = volume
            .data
            .iter()
            .map(|&v| {
                let whole = v.round();
                let fits = v.is_finite() && whole == v && (-32768.0..=32767.0).contains(&whole);
                fits.then_some(whole as i16).ok_or_else(|| DrawError::NotLabels {
                    name: volume.name.clone(),
                    value: v,
                })
            })
            .collect::<Result<Vec<i16>, DrawError>>()?;
        let [nx, ny, nz, _] = volume.shape;
        let drawing = Drawing::from_labels([nx, ny, nz], labels)?;
        let (name, style) = (volume.name.clone(), layer.style);
        let place = self.layers.iter().position(|l| l.id == id).unwrap_or(0);
        self.remove_layer(id);
        let new = self.add_drawn(name, drawing, volume)?;
        // It keeps its place in the stack and its style.
        if let Some(from) = self.layers.iter().position(|l| l.id == new) {
            let mut layer = self.layers.remove(from);
            layer.style = style;
            self.layers.insert(place.min(self.layers.len()), layer);
        }
        Ok(new)
    }

    fn add_drawn(&mut self, name: String, drawing: Drawing, grid: Arc<Volume>) -> Result<LayerId, DrawError> {
        let id = self.new_layer_id();
        let drawn = DrawnLayer {
            layer: id,
            drawing,
            grid,
            published: u64::MAX,
        };
        let volume = drawn.volume(&name);
        self.drawings.layers.push(drawn);
        let is_base = self.layers.is_empty();
        self.push_layer(Layer::new(id, volume, label_style(is_base)));
        self.drawings.target = Some(id);
        self.selected = Some(id);
        self.publish_drawings();
        Ok(id)
    }

    /// Paints with the current tool at a world point seen in a view of `plane`: continues the
    /// stroke from the last point (so fast drags leave no gaps), or starts one.
    pub fn draw_at(&mut self, world: DVec3, plane: Plane) {
        let settings = self.drawings.settings;
        let last = self.drawings.last;
        let Some(target) = self.drawings.target.and_then(|id| self.drawings.get_mut(id)) else {
            return;
        };
        let axis = target.axis_of(plane);
        let at = target.grid.world_to_voxel(world);
        let brush = if settings.ball {
            Brush::Ball
        } else {
            Brush::Disc { axis }
        };
        let label = match settings.tool {
            DrawTool::Eraser => 0,
            _ => settings.label,
        };
        target
            .drawing
            .paint_line(last.unwrap_or(at), at, settings.size, brush, label);
        self.drawings.last = Some(at);
        self.drawings.last_axis = Some(axis);
        self.publish_drawings();
    }

    /// Ends the stroke in progress: it becomes one step of undo.
    pub fn end_stroke(&mut self) {
        self.drawings.last = None;
        for drawn in &mut self.drawings.layers {
            drawn.drawing.end_stroke();
        }
    }

    /// Flood-fills the area of the slice (of a view of `plane`) under a world point with the
    /// current label, within the fill range of the base image when one is set. Returns the
    /// voxels filled.
    pub fn fill_at(&mut self, world: DVec3, plane: Plane) -> usize {
        let settings = self.drawings.settings;
        let Some(target_id) = self.drawings.target else {
            return 0;
        };
        // The bottom layer that is not being drawn bounds the fill.
        let base = self
            .layers
            .iter()
            .find(|l| self.drawings.get(l.id).is_none())
            .map(|l| (l.volume.clone(), l.frame));
        let Some(target) = self.drawings.get_mut(target_id) else {
            return 0;
        };
        let axis = target.axis_of(plane);
        let v = target.grid.world_to_voxel(world);
        let seed = [v.x, v.y, v.z].map(|c| c.round() as i64);
        let grid = target.grid.clone();
        let allowed = |ijk: [i64; 3]| -> bool {
            let (Some((lo, hi)), Some((base, frame))) = (settings.fill_range, &base) else {
                return true;
            };
            let world = grid.voxel_to_world(DVec3::new(ijk[0] as f64, ijk[1] as f64, ijk[2] as f64));
            base.value_at(base.nearest_voxel(world), *frame)
                .is_some_and(|value| value >= lo && value <= hi)
        };
        let filled = target.drawing.fill_slice(seed, axis, settings.label, &allowed);
        self.drawings.last_axis = Some(axis);
        self.publish_drawings();
        filled
    }

    /// Fills the current label between the slices that hold it, along the axis of the view drawn
    /// in last (axial when none yet). Returns the voxels filled.
    pub fn fill_between_slices(&mut self) -> usize {
        let (label, axis) = (self.drawings.settings.label, self.drawings.last_axis);
        let Some(target) = self.drawings.target.and_then(|id| self.drawings.get_mut(id)) else {
            return 0;
        };
        let axis = axis.unwrap_or_else(|| target.axis_of(Plane::Axial));
        let filled = target.drawing.fill_between_slices(axis, label);
        self.publish_drawings();
        filled
    }

    /// Undoes the target's last edit.
    pub fn undo_drawing(&mut self) -> bool {
        self.edit_target(Drawing::undo)
    }

    /// Redoes the target's last undone edit.
    pub fn redo_drawing(&mut self) -> bool {
        self.edit_target(Drawing::redo)
    }

    fn edit_target(&mut self, edit: fn(&mut Drawing) -> bool) -> bool {
        self.drawings.last = None;
        let Some(target) = self.drawings.target.and_then(|id| self.drawings.get_mut(id)) else {
            return false;
        };
        let changed = edit(&mut target.drawing);
        self.publish_drawings();
        changed
    }

    /// Shows every drawing's latest labels in its layer; forgets drawings whose layer was closed.
    pub fn publish_drawings(&mut self) {
        let open: Vec<LayerId> = self.layers.iter().map(|l| l.id).collect();
        self.drawings.layers.retain(|d| open.contains(&d.layer));
        if self.drawings.target.is_some_and(|t| !open.contains(&t)) {
            self.drawings.target = None;
        }
        for drawn in &mut self.drawings.layers {
            if drawn.published == drawn.drawing.revision() {
                continue;
            }
            let Some(layer) = self.layers.iter_mut().find(|l| l.id == drawn.layer) else {
                continue;
            };
            layer.set_volume(drawn.volume(layer.name()));
            drawn.published = drawn.drawing.revision();
        }
    }

    /// Each label of a drawn layer: its size, and the values of every other layer inside it.
    pub fn drawn_stats(&self, id: LayerId) -> Vec<LabelStats> {
        let Some(drawn) = self.drawings.get(id) else {
            return Vec::new();
        };
        drawn
            .drawing
            .used_labels()
            .into_iter()
            .map(|label| {
                let points: Vec<DVec3> = drawn
                    .drawing
                    .voxels_of(label)
                    .map(|[i, j, k]| drawn.grid.voxel_to_world(DVec3::new(i as f64, j as f64, k as f64)))
                    .collect();
                let layers = self
                    .layers
                    .iter()
                    .filter(|l| l.id != id)
                    .map(|l| {
                        let stats = sample_stats(points.iter().copied(), &l.volume, l.frame);
                        (l.name().to_owned(), stats)
                    })
                    .collect();
                LabelStats {
                    label,
                    size: drawn.drawing.region_stats(label, drawn.voxel_mm3()),
                    layers,
                }
            })
            .collect()
    }

    /// Saves a drawn layer as NIfTI on its grid (the grid's affine and NIfTI codes kept): uint8
    /// when every label fits, else int16.
    pub fn save_drawn(&self, id: LayerId, path: &std::path::Path) -> Result<(), DrawError> {
        let drawn = self.drawings.get(id).ok_or(DrawError::NoLayer)?;
        let name = self.layer(id).map_or("region", |l| l.name());
        let labels = drawn.drawing.labels();
        let as_type = if labels.iter().all(|&l| (0..=255).contains(&l)) {
            StoredAs::Uint8
        } else {
            StoredAs::Int16
        };
        Ok(save_nifti_as(path, &drawn.volume(name), as_type)?)
    }
}

/// The statistics table as TSV: one row per label and layer.
pub fn stats_tsv(stats: &[LabelStats]) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("label\tvoxels\tvolume_mm3\tlayer\tcount\tmean\tsd\tmin\tmax\n");
    for s in stats {
        let head = format!("{}\t{}\t{:.3}", s.label, s.size.voxels, s.size.volume_mm3);
        if s.layers.is_empty() {
            let _ = writeln!(out, "{head}\t\t\t\t\t\t");
        }
        for (name, values) in &s.layers {
            match values {
                Some(v) => {
                    let _ = writeln!(
                        out,
                        "{head}\t{name}\t{}\t{}\t{}\t{}\t{}",
                        v.count, v.mean, v.sd, v.min, v.max
                    );
                }
                None => {
                    let _ = writeln!(out, "{head}\t{name}\t0\t\t\t\t");
                }
            }
        }
    }
    out
}
