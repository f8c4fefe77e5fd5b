//! Per-vertex maps of a surface file (shape, functional, time series, labels) and the check
//! that a map fits a mesh.

use super::{INTENT_POINTSET, INTENT_TRIANGLE, Mesh, MeshError};
use crate::mesh::Hemisphere;
use crate::surface::{DataArray, Label, SurfaceFile};

/// Intents of arrays that are not per-vertex scalars: geometry and vectors.
const NOT_MAPS: &[&str] = &[
    INTENT_POINTSET,
    INTENT_TRIANGLE,
    "NIFTI_INTENT_VECTOR",
    "NIFTI_INTENT_RGB_VECTOR",
    "NIFTI_INTENT_RGBA_VECTOR",
    "NIFTI_INTENT_NODE_INDEX",
    "NIFTI_INTENT_GENMATRIX",
    "NIFTI_INTENT_SYMMATRIX",
    "NIFTI_INTENT_DISPVECT",
    "NIFTI_INTENT_QUATERNION",
];

const TIME_SERIES: &str = "NIFTI_INTENT_TIME_SERIES";
const LABEL: &str = "NIFTI_INTENT_LABEL";

/// Values at every vertex of a mesh: one frame, several frames (a time series), or label keys.
#[derive(Clone, Debug, PartialEq)]
pub struct VertexMap {
    /// Display name: the file name, with the array's `Name` metadata (or index) when the file
    /// holds several maps.
    pub name: String,
    /// The values, one `Vec` per frame, each with one value per vertex.
    pub frames: Vec<Vec<f32>>,
    /// For a label map: the label table (the file's, or one made from the keys present when the
    /// file has none); the values are the keys. Empty for other maps.
    pub labels: Vec<Label>,
    /// The hemisphere, if the array's or the file's metadata or the file name tells.
    pub hemisphere: Option<Hemisphere>,
}

impl VertexMap {
    /// Number of values per frame (the vertex count it needs).
    pub fn len(&self) -> usize {
        self.frames.first().map_or(0, Vec::len)
    }

    /// Whether the map has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this is a label map.
    pub fn is_label(&self) -> bool {
        !self.labels.is_empty()
    }
}

/// The per-vertex maps of a surface file, in file order:
///
/// - every 1-D array, or 2-D `[n, t]` array (`t` frames), whose intent is not geometry or a
///   vector (so `NIFTI_INTENT_SHAPE`, `NIFTI_INTENT_NONE`, statistics such as
///   `NIFTI_INTENT_TTEST`, `NIFTI_INTENT_TIME_SERIES`, `NIFTI_INTENT_LABEL`);
/// - consecutive 1-D `NIFTI_INTENT_TIME_SERIES` arrays of the same length are the frames of one map;
/// - a `NIFTI_INTENT_LABEL` array is a label map with the file's label table;
/// - FreeSurfer curv/morph files (one shape array) and `.annot` files (one label array with
///   the colour table) are read this way too, as the readers store them.
///
/// Integer arrays are widened to `f32`.
pub fn vertex_maps(file: &SurfaceFile) -> Vec<VertexMap> {
    let file_hemisphere = file
        .meta_value("AnatomicalStructurePrimary")
        .and_then(Hemisphere::from_structure)
        .or_else(|| Hemisphere::from_file_name(&file.name));
    let mut groups: Vec<(usize, Vec<Vec<f32>>)> = Vec::new();
    for (index, array) in file.arrays.iter().enumerate() {
        if NOT_MAPS.contains(&array.intent.as_str()) || array.dims.is_empty() || array.dims.len() > 2 {
            continue;
        }
        let frames = frames(array);
        if frames.is_empty() {
            continue;
        }
        if let Some((first, group)) = groups.last_mut()
            && array.intent == TIME_SERIES
            && array.dims.len() == 1
            && file.arrays[*first].intent == TIME_SERIES
            && file.arrays[*first].dims.len() == 1
            && group[0].len() == frames[0].len()
            && index == *first + group.len()
        {
            group.extend(frames);
            continue;
        }
        groups.push((index, frames));
    }
    let several = groups.len() > 1;
    groups
        .into_iter()
        .map(|(index, frames)| {
            let array = &file.arrays[index];
            let name = if several {
                let label = array
                    .meta_value("Name")
                    .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).trim())
                    .filter(|n| !n.is_empty())
                    .map_or_else(|| format!("#{index}"), str::to_owned);
                format!("{} [{label}]", file.name)
            } else {
                file.name.clone()
            };
            let labels = if array.intent == LABEL {
                if file.labels.is_empty() {
                    made_up_labels(&frames)
                } else {
                    file.labels.clone()
                }
            } else {
                Vec::new()
            };
            let hemisphere = array
                .meta_value("AnatomicalStructurePrimary")
                .and_then(Hemisphere::from_structure)
                .or(file_hemisphere);
            VertexMap {
                name,
                frames,
                labels,
                hemisphere,
            }
        })
        .collect()
}

/// The frames of a 1-D `[n]` or 2-D `[n, t]` array.
fn frames(array: &DataArray) -> Vec<Vec<f32>> {
    let values: Vec<f32> = array.data.to_f64().into_iter().map(|v| v as f32).collect();
    let n = array.dims[0];
    let t = array.dims.get(1).copied().unwrap_or(1);
    if n == 0 || t == 0 || values.len() != n * t {
        return Vec::new();
    }
    (0..t).map(|f| (0..n).map(|i| values[i * t + f]).collect()).collect()
}

/// A label table for a label array stored without one: each key present, named by its
/// number, with colours spread around the hue circle (golden-angle steps).
fn made_up_labels(frames: &[Vec<f32>]) -> Vec<Label> {
    let mut keys: Vec<i32> = frames.iter().flatten().map(|&v| v as i32).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .enumerate()
        .map(|(i, key)| {
            let hue = (i as f32 * 0.381_966) % 1.0;
            let [r, g, b] = hue_to_rgb(hue);
            Label {
                key,
                name: key.to_string(),
                rgba: [r, g, b, 1.0],
            }
        })
        .collect()
}

/// A saturated colour of hue `h` in `0..1`.
fn hue_to_rgb(h: f32) -> [f32; 3] {
    let channel = |offset: f32| {
        let x = ((h + offset) % 1.0) * 6.0;
        ((x - 3.0).abs() - 1.0).clamp(0.0, 1.0)
    };
    [channel(0.0), channel(2.0 / 3.0), channel(1.0 / 3.0)]
}

/// Checks that a map has one value per vertex of a mesh; the error names both:
/// `lh.thickness: 10242 values but mesh lh.pial has 2562 vertices`.
pub fn check_vertex_count(mesh_name: &str, mesh: &Mesh, map: &VertexMap) -> Result<(), MeshError> {
    let expected = mesh.vertices.len();
    // The first frame of another length, else the common length (0 for a map without frames).
    let count = map
        .frames
        .iter()
        .map(Vec::len)
        .find(|&l| l != expected)
        .unwrap_or(map.len());
    if count == expected {
        Ok(())
    } else {
        Err(MeshError::VertexCountMismatch {
            what: map.name.clone(),
            count,
            mesh: mesh_name.to_owned(),
            expected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surface::ArrayData;

    fn array(intent: &str, dims: Vec<usize>, data: ArrayData) -> DataArray {
        DataArray {
            intent: intent.to_owned(),
            dims,
            data,
            ..DataArray::default()
        }
    }

    #[test]
    fn time_series_arrays_become_frames() {
        let ts = |v: f32| array(TIME_SERIES, vec![3], ArrayData::F32(vec![v, v + 1.0, v + 2.0]));
        let file = SurfaceFile {
            name: "lh.task.func.gii".into(),
            arrays: vec![ts(0.0), ts(10.0), ts(20.0)],
            ..SurfaceFile::default()
        };
        let maps = vertex_maps(&file);
        assert_eq!(maps.len(), 1);
        assert_eq!(maps[0].name, "lh.task.func.gii");
        assert_eq!(maps[0].frames.len(), 3);
        assert_eq!(maps[0].frames[2], vec![20.0, 21.0, 22.0]);
        assert_eq!(maps[0].hemisphere, Some(Hemisphere::Left));
        assert!(!maps[0].is_label());
    }

    #[test]
    fn two_d_array_columns_are_frames_and_labels_get_a_table() {
        let file = SurfaceFile {
            name: "maps.gii".into(),
            arrays: vec![
                array(
                    "NIFTI_INTENT_NONE",
                    vec![2, 3],
                    ArrayData::F32(vec![1., 2., 3., 4., 5., 6.]),
                ),
                array(LABEL, vec![2], ArrayData::I32(vec![7, -1])),
                array(INTENT_POINTSET, vec![2, 3], ArrayData::F32(vec![0.0; 6])),
            ],
            ..SurfaceFile::default()
        };
        let maps = vertex_maps(&file);
        assert_eq!(maps.len(), 2);
        assert_eq!(maps[0].name, "maps.gii [#0]");
        assert_eq!(maps[0].frames, vec![vec![1., 4.], vec![2., 5.], vec![3., 6.]]);
        assert_eq!(maps[1].frames, vec![vec![7., -1.]]);
        let keys: Vec<i32> = maps[1].labels.iter().map(|l| l.key).collect();
        assert_eq!(keys, vec![-1, 7]);
        assert!(maps[1].is_label());
    }

    #[test]
    fn vertex_count_mismatch_names_both() {
        let mesh = Mesh {
            vertices: vec![[0.0; 3]; 2562],
            triangles: Vec::new(),
        };
        let map = VertexMap {
            name: "lh.thickness".into(),
            frames: vec![vec![0.0; 10242]],
            labels: Vec::new(),
            hemisphere: None,
        };
        let e = check_vertex_count("lh.pial", &mesh, &map).unwrap_err();
        assert_eq!(
            e.to_string(),
            "lh.thickness: 10242 values but mesh lh.pial has 2562 vertices"
        );
        let fits = VertexMap {
            frames: vec![vec![0.0; 2562]],
            ..map
        };
        assert!(check_vertex_count("lh.pial", &mesh, &fits).is_ok());
    }

    #[test]
    fn hues_are_in_range() {
        for i in 0..20 {
            let c = hue_to_rgb(i as f32 / 20.0);
            assert!(c.iter().all(|v| (0.0..=1.0).contains(v)));
            assert!(c.contains(&1.0));
        }
    }
}
