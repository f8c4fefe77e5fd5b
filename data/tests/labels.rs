//! GIFTI arrays in every datatype nibabel reads (pycortex's uint32 triangles among them) and
//! FreeSurfer `.label` files, checked against what nibabel 5.4.2 reads from the same files
//! (`tests/data/generated/make_labels.py` → `labels.json`).

mod common;

use common::*;
use cortexlens_data::mesh::{Mesh, MeshError};
use cortexlens_data::{FreeSurferLabel, LoadError, Loaded};
use serde_json::Value;

fn labels_dir() -> std::path::PathBuf {
    data_dir().join("generated")
}

fn reference() -> Value {
    json("generated/labels.json")
}

fn entry<'a>(list: &'a Value, file: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e["file"] == file)
        .unwrap_or_else(|| panic!("{file} is not in labels.json"))
}

fn load_label(file: &str) -> Result<FreeSurferLabel, LoadError> {
    match load(&labels_dir().join(file))? {
        Loaded::Label(label) => Ok(label),
        other => panic!("{file}: loaded as a {}", other.kind()),
    }
}

/// A JSON integer as i128 (uint64 values beyond i64 included).
fn int(v: &Value) -> i128 {
    v.as_i64()
        .map(i128::from)
        .or_else(|| v.as_u64().map(i128::from))
        .unwrap_or_else(|| panic!("not an integer: {v}"))
}

#[test]
fn gifti_arrays_of_every_datatype_read_as_nibabel_reads_them() {
    let reference = reference();
    let entries = reference["gifti"].as_array().unwrap();
    let mut checked = 0;
    for want in entries {
        let file = want["file"].as_str().unwrap();
        if file.ends_with("complex64.gii") {
            continue;
        }
        let s = load_surf(&labels_dir().join(file));
        let arrays = want["arrays"].as_array().unwrap();
        assert_eq!(s.arrays.len(), arrays.len(), "{file}");
        for (i, (a, want)) in s.arrays.iter().zip(arrays).enumerate() {
            let what = format!("{file} array {i}");
            assert_eq!(a.intent, want["intent"].as_str().unwrap(), "{what}");
            assert_eq!(a.data.dtype_name(), want["dtype"].as_str().unwrap(), "{what}");
            assert_eq!(a.dims, us(&want["shape"]), "{what}");
            let values = want["values_row_major"].as_array().unwrap();
            match a.data.to_i128() {
                Some(ints) => assert_eq!(ints, values.iter().map(int).collect::<Vec<_>>(), "{what}"),
                // serde_json's default float parsing may be one ulp off Python's repr.
                None => {
                    for (got, want) in a.data.to_f64().into_iter().zip(fs(&want["values_row_major"])) {
                        assert_close(&what, got, want, 1e-15, 0.0);
                    }
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 2 + 11 + 2, "every array of the three readable files");
}

#[test]
fn uint32_and_int64_triangles_make_the_same_mesh_and_big_indices_are_errors() {
    let grid = Mesh::from_surface(&load_surf(&labels_dir().join("labels/lh.grid_uint32.gii"))).unwrap();
    assert_eq!((grid.vertices.len(), grid.triangles.len()), (16, 18));
    assert_eq!(grid.vertices[5], [-3.0, -3.0, 0.0]);
    let zoo = Mesh::from_surface(&load_surf(&labels_dir().join("labels/dtypes.gii"))).unwrap();
    assert_eq!(zoo, grid, "float64 coordinates and int64 ASCII triangles");
    let reference = reference();
    let tris = &entry(&reference["gifti"], "labels/lh.grid_uint32.gii")["arrays"][1]["values_row_major"];
    let want: Vec<u32> = tris.as_array().unwrap().iter().map(|v| int(v) as u32).collect();
    assert_eq!(grid.triangles.concat(), want);

    let bad = load_surf(&labels_dir().join("labels/lh.grid_bad_uint64.gii"));
    let e = Mesh::from_surface(&bad).unwrap_err();
    assert_eq!(
        e,
        MeshError::BadIndex {
            file: "lh.grid_bad_uint64.gii".into(),
            triangle: 5,
            index: 1 << 40,
            vertices: 16
        }
    );
    assert_eq!(
        e.to_string(),
        "lh.grid_bad_uint64.gii: triangle 5 refers to vertex 1099511627776 but the mesh has 16 vertices"
    );
}

#[test]
fn complex_arrays_are_refused_with_the_reason() {
    let e = load(&labels_dir().join("labels/complex64.gii")).unwrap_err();
    assert!(matches!(e, LoadError::UnsupportedDatatype { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.starts_with("complex64.gii: ") && text.contains("NIFTI_TYPE_COMPLEX64"),
        "{text}"
    );
    // nibabel reads it; the reference keeps what it read.
    let reference = reference();
    let want = entry(&reference["gifti"], "labels/complex64.gii");
    assert_eq!(want["arrays"][0]["dtype"], "complex64");
}

#[test]
fn labels_read_as_nibabel_reads_them() {
    let reference = reference();
    for file in ["labels/lh.square.label", "labels/lh.occipital.label"] {
        let want = entry(&reference["labels"], file);
        let label = load_label(file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(label.name, file.trim_start_matches("labels/"));
        assert!(
            label.comment.starts_with("!ascii label  , from subject"),
            "{}",
            label.comment
        );
        let vertices: Vec<i64> = want["vertices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(label.vertices, vertices, "{file}");
        assert_eq!(want["header_count"].as_u64(), Some(label.len() as u64));
        let coords: Vec<f64> = want["coords"].as_array().unwrap().iter().flat_map(fs).collect();
        for (got, want) in label.coords.concat().into_iter().zip(coords) {
            assert_close(file, got, want, 1e-15, 0.0);
        }
        for (got, want) in label.values.iter().zip(fs(&want["values"])) {
            assert_close(file, *got, want, 1e-15, 0.0);
        }
    }
    let square = load_label("labels/lh.square.label").unwrap();
    assert_eq!(square.vertex_range(), Some((0, 10)));
    assert_eq!(square.len(), 9);
}

#[test]
fn a_header_count_that_disagrees_with_the_rows_is_an_error() {
    let e = load_label("labels/lh.mismatch.label").unwrap_err();
    let LoadError::Label { file, line, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!((file.as_str(), *line), ("lh.mismatch.label", 2));
    assert_eq!(
        e.to_string(),
        "lh.mismatch.label: invalid FreeSurfer label, line 2: the header counts 5 rows but 4 follow"
    );
    // nibabel ignores the count and reads the 4 rows.
    let reference = reference();
    let want = entry(&reference["labels"], "labels/lh.mismatch.label");
    assert_eq!(want["header_count"], 5);
    assert_eq!(want["vertices"].as_array().unwrap().len(), 4);
}

#[test]
fn labels_are_recognised_by_content_and_malformed_ones_are_typed_errors() {
    let dir = scratch("labels");
    let text = std::fs::read_to_string(labels_dir().join("labels/lh.square.label")).unwrap();
    let unnamed = dir.join("square_without_extension");
    std::fs::write(&unnamed, &text).unwrap();
    assert!(matches!(load(&unnamed), Ok(Loaded::Label(l)) if l.len() == 9));
    let cases: [(&str, String, usize); 4] = [
        ("row.label", text.replacen("4  -6.000", "4  six", 1), 6),
        ("columns.label", text.replacen(" 1.0000000000\n", "\n", 1), 6),
        ("count.label", text.replacen("\n9\n", "\nnine\n", 1), 2),
        ("negative.label", text.replacen("\n0  ", "\n-5  ", 1), 3),
    ];
    for (name, bad, want_line) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bad).unwrap();
        match load(&path) {
            Err(LoadError::Label { file, line, .. }) => assert_eq!((file.as_str(), line), (name, want_line)),
            other => panic!("{name}: {other:?}"),
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
