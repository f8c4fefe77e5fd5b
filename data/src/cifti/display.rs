//! What a CIFTI-2 file shows, as Connectome Workbench's `wb_view` shows it: the rows of a dense
//! or parcel file painted on each surface structure (per-vertex maps) and on the volume grid
//! (a volume, NaN outside the file's voxels).
//!
//! A row is one map over the brainordinates of dimension 1. Series and scalar rows become the
//! frames of one map; each label row is its own map with its own table; of a connectivity file
//! (dconn, pconn: dimension 0 is spatial too) one row is shown at a time — the row of the vertex
//! or voxel under the crosshair.

use super::{CiftiFile, IndexMap};
use crate::mesh::{Hemisphere, VertexMap};
use crate::surface::Label;
use crate::volume::Volume;

/// Which rows are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rows {
    /// Every row (series frames, scalar or label maps).
    All,
    /// One row (of a connectivity file).
    One(usize),
}

/// The per-vertex maps of `file` on the surface of `structure` (empty when dimension 1 does not
/// cover it). The hemisphere is the structure's (`CIFTI_STRUCTURE_CORTEX_LEFT` → left).
pub fn surface_maps(file: &CiftiFile, structure: &str, rows: Rows) -> Vec<VertexMap> {
    let columns = &file.maps[1];
    if !columns.surfaces().iter().any(|(s, _)| *s == structure) {
        return Vec::new();
    }
    let hemisphere = Hemisphere::from_structure(structure);
    let painted = |row: usize| columns.surface_values(structure, &file.row(row)).unwrap_or_default();
    let map = |name: String, frames: Vec<Vec<f32>>, labels: Vec<Label>| VertexMap {
        name,
        frames,
        labels,
        hemisphere,
    };
    match (rows, &file.maps[0]) {
        (Rows::One(row), _) => vec![map(file.name.clone(), vec![painted(row)], Vec::new())],
        (Rows::All, IndexMap::Labels(tables)) => tables
            .iter()
            .enumerate()
            .map(|(row, table)| {
                let name = if tables.len() > 1 {
                    format!("{} [{}]", file.name, table.name)
                } else {
                    file.name.clone()
                };
                map(name, vec![painted(row)], table.labels.clone())
            })
            .collect(),
        (Rows::All, _) => vec![map(
            file.name.clone(),
            (0..file.shape[0]).map(painted).collect(),
            Vec::new(),
        )],
    }
}

/// The file's values on its volume grid, cropped to the box around its voxels, one frame per
/// shown row (NaN outside its voxels), or `None` when dimension 1 covers no voxel.
pub fn volume(file: &CiftiFile, rows: Rows) -> Option<Volume> {
    let columns = &file.maps[1];
    let space = columns.volume()?;
    let (lo, hi) = columns.voxel_bounds()?;
    let shown: Vec<usize> = match rows {
        Rows::All => (0..file.shape[0]).collect(),
        Rows::One(row) => vec![row],
    };
    let dims = [0, 1, 2].map(|a| (hi[a] - lo[a] + 1) as usize);
    let mut data = Vec::with_capacity(dims.iter().product::<usize>() * shown.len());
    for &row in &shown {
        data.extend(columns.volume_values(&file.row(row), (lo, hi)));
    }
    // The box's first voxel is voxel `lo` of the file's grid.
    let mut affine = space.affine_mm();
    let corner = affine.transform_point3(glam::DVec3::new(lo[0] as f64, lo[1] as f64, lo[2] as f64));
    affine.w_axis = corner.extend(1.0);
    Some(Volume::from_f32(
        file.name.clone(),
        [dims[0], dims[1], dims[2], shown.len()],
        affine,
        data,
    ))
}

/// The label table of the first label row, for naming a label volume's values.
pub fn volume_labels(file: &CiftiFile) -> Option<&[Label]> {
    match &file.maps[0] {
        IndexMap::Labels(tables) => tables.first().map(|t| t.labels.as_slice()),
        _ => None,
    }
}
