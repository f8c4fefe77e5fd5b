//! CIFTI-2 files (`.dscalar.nii`, `.dtseries.nii`, `.dlabel.nii`, `.dconn.nii`, `.pscalar.nii`,
//! `.pconn.nii`, …): a matrix whose two dimensions are each described by an index map — brain
//! models (surface vertices per structure and subcortical voxels), parcels, a series, named
//! scalar maps or label maps — as nibabel's `cifti2` module reads them.
//!
//! The reader lives in `formats/cifti/`; this module holds the types and what the viewer needs of
//! them: the values of a row painted on a structure's vertices or on the volume grid
//! ([`IndexMap::surface_values`], [`IndexMap::volume_values`] within [`IndexMap::voxel_bounds`]) and the index that covers a vertex
//! or voxel ([`IndexMap::index_at_vertex`], [`IndexMap::index_at_voxel`]); the per-vertex maps and
//! the volume a file shows are assembled in [`display`].

pub mod display;

use glam::DMat4;

use crate::surface::Label;

/// A CIFTI-2 file: the matrix and the index map of each of its two dimensions.
#[derive(Clone, Debug)]
pub struct CiftiFile {
    /// Display name (the file name).
    pub name: String,
    /// The NIfTI intent code (3000–3099: 3001 dconn, 3002 dtseries, 3003 pconn, 3006 dscalar,
    /// 3007 dlabel, 3008 pscalar, …).
    pub intent_code: i32,
    /// `[rows, cols]`: the lengths of dimension 0 (NIfTI `dim[5]`) and dimension 1 (`dim[6]`).
    pub shape: [usize; 2],
    /// On-disk datatype name as numpy spells it.
    pub datatype: String,
    /// The index map of dimension 0 (rows) and of dimension 1 (columns).
    pub maps: [IndexMap; 2],
    /// Scaled values in file order: column-major (`data[row + col * rows]`), as nibabel's
    /// `dataobj` of shape `(rows, cols)`.
    pub data: Vec<f32>,
}

impl CiftiFile {
    /// Value at `row`, `col`.
    pub fn value(&self, row: usize, col: usize) -> f32 {
        self.data[row + col * self.shape[0]]
    }

    /// The values of `row`, one per column.
    pub fn row(&self, row: usize) -> Vec<f32> {
        let rows = self.shape[0];
        (0..self.shape[1]).map(|c| self.data[row + c * rows]).collect()
    }

    /// The file-name ending its intent stands for (`dscalar`, `dconn`, …), or `cifti`.
    pub fn kind_name(&self) -> &'static str {
        match self.intent_code {
            3001 => "dconn",
            3002 => "dtseries",
            3003 => "pconn",
            3004 => "ptseries",
            3006 => "dscalar",
            3007 => "dlabel",
            3008 => "pscalar",
            3009 => "pdconn",
            3010 => "dpconn",
            _ => "cifti",
        }
    }

    /// Whether a row stands for a brainordinate or parcel (dconn, pconn, …): the viewer shows the
    /// row under the crosshair rather than every row.
    pub fn is_connectivity(&self) -> bool {
        self.maps[0].is_spatial()
    }
}

/// What the indices of one dimension stand for.
#[derive(Clone, Debug, PartialEq)]
pub enum IndexMap {
    /// Surface vertices and voxels (`CIFTI_INDEX_TYPE_BRAIN_MODELS`).
    BrainModels(BrainModels),
    /// Parcels, each a set of vertices and voxels (`CIFTI_INDEX_TYPE_PARCELS`).
    Parcels(Parcels),
    /// Evenly spaced points of a series (`CIFTI_INDEX_TYPE_SERIES`).
    Series(Series),
    /// Named maps (`CIFTI_INDEX_TYPE_SCALARS`).
    Scalars(Vec<String>),
    /// Named label maps with their tables (`CIFTI_INDEX_TYPE_LABELS`).
    Labels(Vec<LabelMap>),
}

/// The brain models of a dimension, in file order.
#[derive(Clone, Debug, PartialEq)]
pub struct BrainModels {
    /// One per structure.
    pub models: Vec<BrainModel>,
    /// The voxel grid of the voxel models (required when there are any).
    pub volume: Option<VolumeSpace>,
}

/// One structure of a brain-models dimension.
#[derive(Clone, Debug, PartialEq)]
pub struct BrainModel {
    /// `CIFTI_STRUCTURE_CORTEX_LEFT`, `CIFTI_STRUCTURE_THALAMUS_RIGHT`, …
    pub structure: String,
    /// Its first index in the dimension.
    pub offset: usize,
    /// How many indices it covers.
    pub count: usize,
    /// Its vertices or voxels.
    pub kind: ModelKind,
}

/// Where the indices of a brain model lie.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelKind {
    /// `CIFTI_MODEL_TYPE_SURFACE`: vertices of a surface with `vertex_count` vertices.
    Surface {
        /// `SurfaceNumberOfVertices`.
        vertex_count: usize,
        /// `VertexIndices`, one per index.
        vertices: Vec<u32>,
    },
    /// `CIFTI_MODEL_TYPE_VOXELS`: voxels of the dimension's volume.
    Voxels {
        /// `VoxelIndicesIJK`, one per index.
        voxels: Vec<[u32; 3]>,
    },
}

/// The voxel grid of a dimension's voxels.
#[derive(Clone, Debug, PartialEq)]
pub struct VolumeSpace {
    /// `VolumeDimensions`.
    pub dims: [usize; 3],
    /// `TransformationMatrixVoxelIndicesIJKtoXYZ` as written (nibabel's `affine`).
    pub transform: DMat4,
    /// Its `MeterExponent` (−3: millimetres).
    pub meter_exponent: i32,
}

impl VolumeSpace {
    /// Voxel index → world millimetres: the transform scaled by `10^(MeterExponent + 3)`.
    pub fn affine_mm(&self) -> DMat4 {
        let scale = 10f64.powi(self.meter_exponent + 3);
        let mut m = self.transform;
        for c in 0..4 {
            let col = m.col_mut(c);
            col.x *= scale;
            col.y *= scale;
            col.z *= scale;
        }
        m
    }
}

/// The parcels of a dimension.
#[derive(Clone, Debug, PartialEq)]
pub struct Parcels {
    /// The surfaces the parcels' vertices lie on: structure and vertex count.
    pub surfaces: Vec<(String, usize)>,
    /// The voxel grid of the parcels' voxels.
    pub volume: Option<VolumeSpace>,
    /// One per index.
    pub parcels: Vec<Parcel>,
}

/// One parcel: named, with vertices per surface structure and voxels.
#[derive(Clone, Debug, PartialEq)]
pub struct Parcel {
    /// `Name`.
    pub name: String,
    /// Vertices per structure.
    pub vertices: Vec<(String, Vec<u32>)>,
    /// Voxels of the dimension's volume.
    pub voxels: Vec<[u32; 3]>,
}

/// A series dimension: `count` points from `start` in steps of `step` (`unit`, scaled by
/// `10^exponent`).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// `SeriesStart`.
    pub start: f64,
    /// `SeriesStep`.
    pub step: f64,
    /// `SeriesUnit`: `SECOND`, `HERTZ`, `METER` or `RADIAN`.
    pub unit: String,
    /// `SeriesExponent`.
    pub exponent: i32,
    /// `NumberOfSeriesPoints`.
    pub count: usize,
}

/// A named label map.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelMap {
    /// `MapName`.
    pub name: String,
    /// Its label table, in file order.
    pub labels: Vec<Label>,
}

impl IndexMap {
    /// nibabel's name of the map's type: `brain_models`, `parcels`, `series`, `scalars`, `labels`.
    pub fn type_name(&self) -> &'static str {
        match self {
            IndexMap::BrainModels(_) => "brain_models",
            IndexMap::Parcels(_) => "parcels",
            IndexMap::Series(_) => "series",
            IndexMap::Scalars(_) => "scalars",
            IndexMap::Labels(_) => "labels",
        }
    }

    /// How many indices the map describes.
    pub fn len(&self) -> usize {
        match self {
            IndexMap::BrainModels(b) => b.models.iter().map(|m| m.count).sum(),
            IndexMap::Parcels(p) => p.parcels.len(),
            IndexMap::Series(s) => s.count,
            IndexMap::Scalars(names) => names.len(),
            IndexMap::Labels(maps) => maps.len(),
        }
    }

    /// Whether the map describes no index.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the indices stand for places in the brain (brain models or parcels).
    pub fn is_spatial(&self) -> bool {
        matches!(self, IndexMap::BrainModels(_) | IndexMap::Parcels(_))
    }

    /// The surface structures the map covers, with their vertex counts, in file order.
    pub fn surfaces(&self) -> Vec<(&str, usize)> {
        match self {
            IndexMap::BrainModels(b) => b
                .models
                .iter()
                .filter_map(|m| match &m.kind {
                    ModelKind::Surface { vertex_count, .. } => Some((m.structure.as_str(), *vertex_count)),
                    ModelKind::Voxels { .. } => None,
                })
                .collect(),
            IndexMap::Parcels(p) => p.surfaces.iter().map(|(s, n)| (s.as_str(), *n)).collect(),
            _ => Vec::new(),
        }
    }

    /// The voxel grid, when the map covers voxels.
    pub fn volume(&self) -> Option<&VolumeSpace> {
        match self {
            IndexMap::BrainModels(b) if b.models.iter().any(|m| matches!(m.kind, ModelKind::Voxels { .. })) => {
                b.volume.as_ref()
            }
            IndexMap::Parcels(p) if p.parcels.iter().any(|p| !p.voxels.is_empty()) => p.volume.as_ref(),
            _ => None,
        }
    }

    /// `row` (one value per index of this map) painted on the vertices of `structure`: one value
    /// per vertex, NaN where no index covers the vertex. `None` when the map does not cover it.
    pub fn surface_values(&self, structure: &str, row: &[f32]) -> Option<Vec<f32>> {
        let (_, count) = self.surfaces().into_iter().find(|(s, _)| *s == structure)?;
        let mut out = vec![f32::NAN; count];
        self.for_each_vertex(structure, |index, vertex| out[vertex as usize] = row[index]);
        Some(out)
    }

    /// The smallest box `[lo, hi]` (inclusive voxel indices) holding every voxel the map covers.
    pub fn voxel_bounds(&self) -> Option<([u32; 3], [u32; 3])> {
        let mut bounds: Option<([u32; 3], [u32; 3])> = None;
        self.for_each_voxel(|_, v| {
            let (lo, hi) = bounds.get_or_insert((v, v));
            for a in 0..3 {
                lo[a] = lo[a].min(v[a]);
                hi[a] = hi[a].max(v[a]);
            }
        });
        bounds
    }

    /// `row` painted on the voxels of the box `[lo, hi]` (Fortran order within the box), NaN
    /// where no index covers a voxel.
    pub fn volume_values(&self, row: &[f32], (lo, hi): ([u32; 3], [u32; 3])) -> Vec<f32> {
        let n = |a: usize| (hi[a] - lo[a] + 1) as usize;
        let mut out = vec![f32::NAN; n(0) * n(1) * n(2)];
        self.for_each_voxel(|index, v| {
            if (0..3).all(|a| (lo[a]..=hi[a]).contains(&v[a])) {
                let [i, j, k] = [0, 1, 2].map(|a| (v[a] - lo[a]) as usize);
                out[i + n(0) * (j + n(1) * k)] = row[index];
            }
        });
        out
    }

    /// The index that covers vertex `vertex` of `structure`.
    pub fn index_at_vertex(&self, structure: &str, vertex: u32) -> Option<usize> {
        let mut found = None;
        self.for_each_vertex(structure, |index, v| {
            if v == vertex && found.is_none() {
                found = Some(index);
            }
        });
        found
    }

    /// The index that covers voxel `ijk` of the map's volume.
    pub fn index_at_voxel(&self, ijk: [u32; 3]) -> Option<usize> {
        let mut found = None;
        self.for_each_voxel(|index, v| {
            if v == ijk && found.is_none() {
                found = Some(index);
            }
        });
        found
    }

    /// Calls `f(index, vertex)` for every vertex of `structure` the map covers.
    fn for_each_vertex(&self, structure: &str, mut f: impl FnMut(usize, u32)) {
        match self {
            IndexMap::BrainModels(b) => {
                for m in b.models.iter().filter(|m| m.structure == structure) {
                    if let ModelKind::Surface { vertices, .. } = &m.kind {
                        vertices.iter().enumerate().for_each(|(i, &v)| f(m.offset + i, v));
                    }
                }
            }
            IndexMap::Parcels(p) => {
                for (index, parcel) in p.parcels.iter().enumerate() {
                    for (_, vertices) in parcel.vertices.iter().filter(|(s, _)| s == structure) {
                        vertices.iter().for_each(|&v| f(index, v));
                    }
                }
            }
            _ => {}
        }
    }

    /// Calls `f(index, ijk)` for every voxel the map covers.
    fn for_each_voxel(&self, mut f: impl FnMut(usize, [u32; 3])) {
        match self {
            IndexMap::BrainModels(b) => {
                for m in &b.models {
                    if let ModelKind::Voxels { voxels } = &m.kind {
                        voxels.iter().enumerate().for_each(|(i, &v)| f(m.offset + i, v));
                    }
                }
            }
            IndexMap::Parcels(p) => {
                for (index, parcel) in p.parcels.iter().enumerate() {
                    parcel.voxels.iter().for_each(|&v| f(index, v));
                }
            }
            _ => {}
        }
    }
}
