//! CIFTI-2 files in the viewer, as Connectome Workbench shows them: each surface structure's
//! rows as per-vertex maps on the hemisphere mesh of that structure and vertex count, the
//! subcortical voxels as a volume layer, and of a connectivity file (dconn, pconn) the row of the
//! vertex or voxel under the crosshair, updated when the crosshair moves.
//!
//! A structure whose mesh is not open yet waits: its maps attach when a mesh of its hemisphere
//! and vertex count opens ([`Viewer::attach_waiting_cifti`]); until then
//! [`Viewer::waiting_cifti`] says which mesh to open.

use std::sync::Arc;

use cortexlens_data::cifti::display::{Rows, surface_maps, volume, volume_labels};
use cortexlens_data::cifti::{CiftiFile, IndexMap, ModelKind};
use cortexlens_data::formats::LabelNames;
use cortexlens_data::mesh::{Hemisphere, MeshError};
use cortexlens_data::stats::finite_min_max;

use super::{Layer, LayerId, SurfaceId, Viewer, default_style, label_style};

/// A CIFTI file open in the viewer.
#[derive(Clone, Debug)]
pub struct OpenCifti {
    /// The file.
    pub file: Arc<CiftiFile>,
    /// The surface structures of its columns, each with where it is shown.
    pub parts: Vec<CiftiSurfacePart>,
    /// The layer of its subcortical voxels, if it has any.
    pub layer: Option<LayerId>,
    /// The row shown of a connectivity file; `None` for other files (every row is shown).
    pub row: Option<usize>,
}

/// One surface structure of a CIFTI file.
#[derive(Clone, Debug, PartialEq)]
pub struct CiftiSurfacePart {
    /// `CIFTI_STRUCTURE_CORTEX_LEFT`, …
    pub structure: String,
    /// The vertex count of its surface.
    pub vertex_count: usize,
    /// Whether it is shown (its maps joined a hemisphere, or became its shading).
    pub attached: bool,
    /// The maps showing it.
    pub maps: Vec<SurfaceId>,
}

impl CiftiSurfacePart {
    /// The hemisphere its structure names.
    pub fn hemisphere(&self) -> Option<Hemisphere> {
        Hemisphere::from_structure(&self.structure)
    }
}

/// What opening a CIFTI file added.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CiftiAdded {
    /// Per-vertex maps, in order.
    pub maps: Vec<SurfaceId>,
    /// The volume layer of the subcortical voxels.
    pub layer: Option<LayerId>,
}

/// The short name of a structure: `CIFTI_STRUCTURE_CORTEX_LEFT` → `CORTEX_LEFT`.
fn short(structure: &str) -> &str {
    structure.strip_prefix("CIFTI_STRUCTURE_").unwrap_or(structure)
}

impl Viewer {
    /// Open a CIFTI file: maps on the meshes open now (the others wait for theirs) and a layer of
    /// its voxels. A connectivity file shows the row under the crosshair (row 0 until one is).
    pub fn add_cifti(&mut self, file: Arc<CiftiFile>) -> CiftiAdded {
        let connectivity = file.is_connectivity();
        let mut open = OpenCifti {
            parts: file.maps[1]
                .surfaces()
                .into_iter()
                .map(|(structure, vertex_count)| CiftiSurfacePart {
                    structure: structure.to_owned(),
                    vertex_count,
                    attached: false,
                    maps: Vec::new(),
                })
                .collect(),
            layer: None,
            row: None,
            file,
        };
        if connectivity {
            open.row = Some(self.cifti_row_at_crosshair(&open.file).unwrap_or(0));
        }
        let mut added = CiftiAdded::default();
        for part in &mut open.parts {
            added.maps.extend(self.attach_part(&open.file, part, open.row));
        }
        if let Some(mut volume) = volume(&open.file, rows_of(open.row)) {
            if let Some(name) = connectivity_name(&open) {
                volume.name = name;
            }
            let labels = volume_labels(&open.file);
            let style = if labels.is_some() {
                label_style(false)
            } else {
                default_style(&volume, false)
            };
            let id = self.new_layer_id();
            let mut layer = Layer::new(id, volume, style);
            layer.label_names = labels.map(|labels| {
                Arc::new(
                    labels
                        .iter()
                        .map(|l| (i64::from(l.key), l.name.clone()))
                        .collect::<LabelNames>(),
                )
            });
            self.selected = Some(id);
            self.push_layer(layer);
            open.layer = Some(id);
            added.layer = Some(id);
        }
        if connectivity {
            rename_connectivity(self, &open);
        }
        self.cifti.push(open);
        added
    }

    /// Attach the waiting structures of open CIFTI files that a mesh opened since fits; returns
    /// the maps added.
    pub fn attach_waiting_cifti(&mut self) -> Vec<SurfaceId> {
        let mut added = Vec::new();
        let mut cifti = std::mem::take(&mut self.cifti);
        for open in &mut cifti {
            for part in open.parts.iter_mut().filter(|p| !p.attached) {
                added.extend(self.attach_part(&open.file, part, open.row));
            }
        }
        self.cifti = cifti;
        added
    }

    /// One line per structure still waiting for its mesh, saying which mesh to open.
    pub fn waiting_cifti(&self) -> Vec<String> {
        self.cifti
            .iter()
            .flat_map(|open| {
                open.parts.iter().filter(|p| !p.attached).map(|p| {
                    let side = p.hemisphere().map_or(String::new(), |h| format!("{} ", h.name()));
                    format!(
                        "{}: {} waits for a {side}surface mesh of {} vertices (e.g. a {}.32k_fs_LR.surf.gii of that count); open one to show it",
                        open.file.name,
                        short(&p.structure),
                        p.vertex_count,
                        match p.hemisphere() {
                            Some(Hemisphere::Left) => "L.midthickness",
                            Some(Hemisphere::Right) => "R.midthickness",
                            None => "midthickness",
                        }
                    )
                })
            })
            .collect()
    }

    /// Try to show `part` on an open mesh; the maps added (none while no mesh fits).
    fn attach_part(&mut self, file: &CiftiFile, part: &mut CiftiSurfacePart, row: Option<usize>) -> Vec<SurfaceId> {
        let maps = surface_maps(file, &part.structure, rows_of(row));
        let first_new = self.surfaces.maps.len();
        for map in maps {
            match self.surfaces.add_map(map.hemisphere, map, &file.name) {
                Ok(()) => part.attached = true,
                Err(MeshError::NoMesh { .. } | MeshError::VertexCountMismatch { .. }) => break,
                Err(error) => {
                    tracing::warn!("{}: {error}", file.name);
                    break;
                }
            }
        }
        let ids: Vec<SurfaceId> = self.surfaces.maps[first_new..].iter().map(|m| m.id).collect();
        part.maps.extend(&ids);
        ids
    }

    /// The row of a connectivity file under the crosshair: the voxel of its rows' volume that
    /// holds the crosshair, else the highlighted vertex (nearest within 10 mm).
    fn cifti_row_at_crosshair(&self, file: &CiftiFile) -> Option<usize> {
        let rows = &file.maps[0];
        if let Some(space) = rows.volume() {
            let ijk = space.affine_mm().inverse().transform_point3(self.crosshair).round();
            let dims = space.dims.map(|d| d as f64);
            if (0..3).all(|a| ijk[a] >= 0.0 && ijk[a] < dims[a])
                && let Some(index) = rows.index_at_voxel([ijk.x as u32, ijk.y as u32, ijk.z as u32])
            {
                return Some(index);
            }
        }
        let pick = self.surfaces.highlight?;
        let group = self.surfaces.hemisphere(pick.surface)?;
        rows.surfaces()
            .into_iter()
            .filter(|(s, n)| *n == group.vertex_count() && Hemisphere::from_structure(s) == group.hemisphere)
            .find_map(|(structure, _)| rows.index_at_vertex(structure, pick.vertex as u32))
    }

    /// Show the row under the crosshair of every connectivity file (called when it moves).
    pub(super) fn follow_crosshair_cifti(&mut self) {
        for at in 0..self.cifti.len() {
            let open = &self.cifti[at];
            if open.row.is_none() {
                continue;
            }
            let Some(row) = self.cifti_row_at_crosshair(&open.file) else {
                continue;
            };
            if open.row == Some(row) {
                continue;
            }
            let open = {
                let open = &mut self.cifti[at];
                open.row = Some(row);
                open.clone()
            };
            for part in open.parts.iter().filter(|p| p.attached) {
                let values = surface_maps(&open.file, &part.structure, Rows::One(row));
                for (id, map) in part.maps.iter().zip(values) {
                    if let Some(layer) = self.surfaces.maps.iter_mut().find(|m| m.id == *id) {
                        layer.frames = map.frames;
                        layer.frame = 0;
                        layer.revision += 1;
                    }
                }
            }
            if let (Some(id), Some(mut volume)) = (open.layer, volume(&open.file, Rows::One(row)))
                && let Some(layer) = self.layer_mut(id)
            {
                volume.name = connectivity_name(&open).unwrap_or_default();
                layer.value_range = finite_min_max(&volume);
                layer.volume = Arc::new(volume);
                layer.frame = 0;
            }
            rename_connectivity(self, &open);
        }
    }
}

fn rows_of(row: Option<usize>) -> Rows {
    row.map_or(Rows::All, Rows::One)
}

/// What a connectivity row stands for: `CORTEX_LEFT vertex 12`, `THALAMUS_RIGHT voxel (6, 5, 3)`,
/// a parcel's name.
fn describe_row(rows: &IndexMap, row: usize) -> String {
    match rows {
        IndexMap::BrainModels(b) => b
            .models
            .iter()
            .find(|m| (m.offset..m.offset + m.count).contains(&row))
            .map(|m| {
                let i = row - m.offset;
                match &m.kind {
                    ModelKind::Surface { vertices, .. } => {
                        format!("{} vertex {}", short(&m.structure), vertices[i])
                    }
                    ModelKind::Voxels { voxels } => {
                        let [x, y, z] = voxels[i];
                        format!("{} voxel ({x}, {y}, {z})", short(&m.structure))
                    }
                }
            })
            .unwrap_or_else(|| format!("row {row}")),
        IndexMap::Parcels(p) => p.parcels.get(row).map_or(format!("row {row}"), |p| p.name.clone()),
        _ => format!("row {row}"),
    }
}

/// The name of a connectivity file's maps and layer: the file and the row they show.
fn connectivity_name(open: &OpenCifti) -> Option<String> {
    let row = open.row?;
    Some(format!(
        "{} [{}]",
        open.file.name,
        describe_row(&open.file.maps[0], row)
    ))
}

/// Names a connectivity file's maps after the row they show.
fn rename_connectivity(viewer: &mut Viewer, open: &OpenCifti) {
    let Some(name) = connectivity_name(open) else { return };
    for part in &open.parts {
        for id in &part.maps {
            if let Some(map) = viewer.surfaces.maps.iter_mut().find(|m| m.id == *id) {
                map.name = name.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::loader::read_file;
    use crate::open::{Added, open};
    use glam::DVec3;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/data/generated/cifti")
            .join(name)
    }

    fn open_file(viewer: &mut Viewer, name: &str) -> crate::open::Opened {
        let path = fixture(name);
        let contents = read_file(&path, &mut |_| {}).unwrap();
        open(viewer, &path, contents).unwrap()
    }

    #[test]
    fn a_dense_file_waits_for_its_meshes_and_attaches_when_they_open() {
        let mut viewer = Viewer::default();
        let opened = open_file(&mut viewer, "mini.dscalar.nii");
        let Added::Cifti(added) = &opened.added else {
            panic!("{opened:?}")
        };
        assert!(added.maps.is_empty(), "no mesh is open yet");
        let layer = viewer.layer(added.layer.unwrap()).unwrap();
        assert_eq!(
            layer.volume.shape,
            [4, 2, 2, 2],
            "the thalamus voxels, both maps as frames"
        );
        assert_eq!(opened.notes.len(), 2);
        assert!(opened.notes[0].contains("CORTEX_LEFT waits for a left surface mesh of 162 vertices"));

        let opened = open_file(&mut viewer, "mini.L.sphere.surf.gii");
        assert!(
            opened.notes[0].starts_with("mini.L.sphere.surf.gii shows mini.dscalar.nii"),
            "{:?}",
            opened.notes
        );
        assert_eq!(viewer.surfaces.maps.len(), 1);
        assert_eq!(viewer.surfaces.maps[0].frames.len(), 2, "one frame per row");
        assert_eq!(viewer.waiting_cifti().len(), 1, "the right cortex still waits");
        open_file(&mut viewer, "mini.R.sphere.surf.gii");
        assert!(viewer.waiting_cifti().is_empty());
        let left = viewer.surfaces.hemispheres[0].id;
        let right = viewer.surfaces.hemispheres[1].id;
        assert_eq!(viewer.surfaces.maps[0].surface, left);
        assert_eq!(viewer.surfaces.maps[1].surface, right);
    }

    #[test]
    fn a_dconn_shows_the_row_under_the_crosshair() {
        let mut viewer = Viewer::default();
        open_file(&mut viewer, "mini.L.sphere.surf.gii");
        open_file(&mut viewer, "mini.R.sphere.surf.gii");
        let opened = open_file(&mut viewer, "mini.dconn.nii");
        let Added::Cifti(added) = opened.added else { panic!() };
        assert_eq!(added.maps.len(), 2);
        let file = viewer.cifti[0].file.clone();
        let IndexMap::BrainModels(rows) = &file.maps[0] else {
            panic!()
        };
        let ModelKind::Surface { vertices, .. } = &rows.models[0].kind else {
            panic!()
        };
        // The crosshair on left vertex vertices[5] (row 5): the left map shows row 5.
        let mesh = viewer.surfaces.hemispheres[0].anatomical().unwrap().clone();
        let v = mesh.vertices[vertices[5] as usize];
        viewer.set_crosshair(DVec3::new(v[0] as f64, v[1] as f64, v[2] as f64));
        assert_eq!(viewer.cifti[0].row, Some(5));
        let map = viewer.surfaces.maps.iter().find(|m| m.id == added.maps[0]).unwrap();
        let row = file.row(5);
        assert_eq!(map.values()[vertices[5] as usize], row[5]);
        assert_eq!(map.revision, 1);
        assert!(
            map.name.ends_with(&format!("[CORTEX_LEFT vertex {}]", vertices[5])),
            "{}",
            map.name
        );

        // The crosshair in the last thalamus voxel: its row, on the surfaces and in the layer.
        let last = file.shape[0] - 1;
        let space = file.maps[0].volume().unwrap();
        let ModelKind::Voxels { voxels } = &rows.models[3].kind else {
            panic!()
        };
        let [i, j, k] = *voxels.last().unwrap();
        let world = space
            .affine_mm()
            .transform_point3(DVec3::new(i as f64, j as f64, k as f64));
        viewer.set_crosshair(world);
        assert_eq!(viewer.cifti[0].row, Some(last));
        let layer = viewer.layer(added.layer.unwrap()).unwrap();
        let voxel = layer.volume.nearest_voxel(world);
        assert_eq!(layer.volume.value_at(voxel, 0), Some(file.value(last, last)));
        assert!(layer.name().contains("THALAMUS_RIGHT voxel"), "{}", layer.name());
    }
}
