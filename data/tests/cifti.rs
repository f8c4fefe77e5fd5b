//! CIFTI-2 against nibabel: the files of `generated/cifti/` read as `generated/cifti.json` says
//! nibabel's `cifti2` module reads them (shape, index maps, values), what they show on surfaces
//! and on the volume grid, and the malformed variants refused with typed errors.

mod common;

use common::*;
use cortexlens_data::cifti::display::{Rows, surface_maps, volume, volume_labels};
use cortexlens_data::cifti::{CiftiFile, IndexMap, ModelKind};
use cortexlens_data::mesh::Hemisphere;
use cortexlens_data::{LoadError, Loaded, load_path};
use serde_json::Value;

fn cifti_dir() -> std::path::PathBuf {
    data_dir().join("generated/cifti")
}

fn load(name: &str) -> CiftiFile {
    match load_path(&cifti_dir().join(name), &mut |_| {}) {
        Ok(Loaded::Cifti(c)) => c,
        Ok(other) => panic!("{name}: read as {}", other.kind()),
        Err(e) => panic!("{name}: {e}"),
    }
}

fn reference() -> Value {
    json("generated/cifti.json")
}

fn ints(v: &Value) -> Vec<u32> {
    us(v).into_iter().map(|x| x as u32).collect()
}

fn triples(v: &Value) -> Vec<[u32; 3]> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let t = ints(t);
            [t[0], t[1], t[2]]
        })
        .collect()
}

/// The value of a volume shown for `file` at voxel `ijk` of the file's own grid.
fn at_file_voxel(file: &CiftiFile, vol: &cortexlens_data::Volume, ijk: [u32; 3], frame: usize) -> f32 {
    let space = file.maps[1].volume().unwrap();
    let world = space
        .affine_mm()
        .transform_point3(glam::DVec3::new(ijk[0] as f64, ijk[1] as f64, ijk[2] as f64));
    vol.value_at(vol.nearest_voxel(world), frame).unwrap()
}

fn check_affine(what: &str, got: glam::DMat4, want: &Value) {
    for (r, row) in want.as_array().unwrap().iter().enumerate() {
        for (c, v) in fs(row).into_iter().enumerate() {
            assert_close(&format!("{what} affine[{r}][{c}]"), got.col(c)[r], v, 1e-12, 1e-12);
        }
    }
}

fn check_map(file: &str, got: &IndexMap, want: &Value) {
    assert_eq!(got.type_name(), want["type"].as_str().unwrap(), "{file}: type");
    assert_eq!(got.len(), want["count"].as_u64().unwrap() as usize, "{file}: count");
    match got {
        IndexMap::BrainModels(b) => {
            let structures = want["structures"].as_array().unwrap();
            assert_eq!(b.models.len(), structures.len(), "{file}: structures");
            for (m, s) in b.models.iter().zip(structures) {
                assert_eq!(m.structure, s["name"].as_str().unwrap());
                assert_eq!(m.offset, s["offset"].as_u64().unwrap() as usize);
                assert_eq!(m.count, s["count"].as_u64().unwrap() as usize);
                match &m.kind {
                    ModelKind::Surface { vertex_count, vertices } => {
                        assert_eq!(s["model_type"], "surface");
                        assert_eq!(
                            *vertex_count,
                            s["surface_number_of_vertices"].as_u64().unwrap() as usize
                        );
                        assert_eq!(*vertices, ints(&s["vertices"]), "{file}: {} vertices", m.structure);
                    }
                    ModelKind::Voxels { voxels } => {
                        assert_eq!(s["model_type"], "voxels");
                        assert_eq!(*voxels, triples(&s["voxels"]), "{file}: {} voxels", m.structure);
                    }
                }
            }
            if let Some(dims) = want.get("volume_dimensions") {
                let volume = b.volume.as_ref().expect("volume");
                assert_eq!(volume.dims.to_vec(), us(dims));
                check_affine(file, volume.transform, &want["affine"]);
                assert_eq!(volume.meter_exponent, -3);
            }
        }
        IndexMap::Parcels(p) => {
            let parcels = want["parcels"].as_array().unwrap();
            for (got, want) in p.parcels.iter().zip(parcels) {
                assert_eq!(got.name, want["name"].as_str().unwrap());
                let vertices = want["vertices"].as_object().unwrap();
                assert_eq!(got.vertices.len(), vertices.len(), "{file}: {}", got.name);
                for (structure, list) in &got.vertices {
                    assert_eq!(*list, ints(&vertices[structure]), "{file}: {} on {structure}", got.name);
                }
                assert_eq!(got.voxels, triples(&want["voxels"]), "{file}: {} voxels", got.name);
            }
            let surfaces = want["surfaces"].as_object().unwrap();
            assert_eq!(p.surfaces.len(), surfaces.len());
            for (s, n) in &p.surfaces {
                assert_eq!(*n, surfaces[s].as_u64().unwrap() as usize);
            }
            check_affine(file, p.volume.as_ref().unwrap().transform, &want["affine"]);
        }
        IndexMap::Series(s) => {
            assert_eq!(s.start, f(&want["start"]));
            assert_eq!(s.step, f(&want["step"]));
            assert_eq!(s.unit, want["unit"].as_str().unwrap());
        }
        IndexMap::Scalars(names) => {
            let want: Vec<&str> = want["names"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect();
            assert_eq!(*names, want);
        }
        IndexMap::Labels(maps) => {
            let names = want["names"].as_array().unwrap();
            let tables = want["tables"].as_array().unwrap();
            for ((map, name), table) in maps.iter().zip(names).zip(tables) {
                assert_eq!(map.name, name.as_str().unwrap());
                let mut labels = map.labels.clone();
                labels.sort_by_key(|l| l.key);
                let table = table.as_array().unwrap();
                assert_eq!(labels.len(), table.len());
                for (l, t) in labels.iter().zip(table) {
                    assert_eq!(l.key, t["key"].as_i64().unwrap() as i32);
                    assert_eq!(l.name, t["name"].as_str().unwrap());
                    for (g, w) in l.rgba.iter().zip(fs(&t["rgba"])) {
                        assert_close("rgba", *g as f64, w, 1e-6, 1e-6);
                    }
                }
            }
        }
    }
}

#[test]
fn every_file_reads_as_nibabel_reads_it() {
    let reference = reference();
    let files = reference["files"].as_array().unwrap();
    assert_eq!(files.len(), 6);
    for want in files {
        let name = want["file"].as_str().unwrap();
        let c = load(name);
        assert_eq!(c.name, name);
        assert_eq!(c.intent_code as i64, want["intent_code"].as_i64().unwrap(), "{name}");
        assert_eq!(
            c.datatype,
            numpy_name(want["on_disk_dtype"].as_str().unwrap()),
            "{name}"
        );
        assert_eq!(c.shape.to_vec(), us(&want["shape"]), "{name}");
        for (d, map) in c.maps.iter().enumerate() {
            check_map(name, map, &want["maps"][d]);
        }
        for sample in want["samples"].as_array().unwrap() {
            let (r, col) = (
                sample["row"].as_u64().unwrap() as usize,
                sample["col"].as_u64().unwrap() as usize,
            );
            // float32 values as nibabel reads them; int16 with scaling within a float32 rounding.
            assert_close(
                &format!("{name} [{r}, {col}]"),
                c.value(r, col) as f64,
                f(&sample["value"]),
                1e-6,
                1e-5,
            );
        }
        for (r, sum) in fs(&want["row_sums"]).into_iter().enumerate() {
            let got: f64 = c.row(r).iter().map(|&v| v as f64).sum();
            assert_close(&format!("{name} row {r} sum"), got, sum, 1e-5, 1e-3);
        }
        if let Some(rows) = want.get("values") {
            for (r, row) in rows.as_array().unwrap().iter().enumerate() {
                for (col, v) in fs(row).into_iter().enumerate() {
                    assert_close(&format!("{name} [{r}, {col}]"), c.value(r, col) as f64, v, 1e-6, 1e-5);
                }
            }
        }
    }
}

#[test]
fn dense_rows_paint_the_surfaces_and_the_volume() {
    let c = load("mini.dscalar.nii");
    let reference = reference();
    let want = &reference["files"][0];
    let values = want["values"].as_array().unwrap();
    let left = &want["maps"][1]["structures"][0];
    let vertices = ints(&left["vertices"]);
    let maps = surface_maps(&c, "CIFTI_STRUCTURE_CORTEX_LEFT", Rows::All);
    assert_eq!(maps.len(), 1, "scalar rows are the frames of one map");
    let map = &maps[0];
    assert_eq!(map.hemisphere, Some(Hemisphere::Left));
    assert_eq!(map.frames.len(), 2);
    assert_eq!(map.len(), 162);
    for (i, &v) in vertices.iter().enumerate() {
        for (frame, row) in values.iter().enumerate() {
            assert_close("painted", map.frames[frame][v as usize] as f64, f(&row[i]), 1e-6, 1e-6);
        }
    }
    let medial = (0..162).filter(|v| !vertices.contains(v)).count();
    assert_eq!(medial, 12);
    assert_eq!(
        map.frames[0].iter().filter(|v| v.is_nan()).count(),
        medial,
        "the medial wall is NaN"
    );

    let vol = volume(&c, Rows::All).expect("subcortical voxels");
    assert_eq!(vol.shape, [4, 2, 2, 2], "cropped to the box around the voxels");
    let thalamus = &want["maps"][1]["structures"][2];
    let offset = thalamus["offset"].as_u64().unwrap() as usize;
    for (i, ijk) in triples(&thalamus["voxels"]).into_iter().enumerate() {
        let got = at_file_voxel(&c, &vol, ijk, 1);
        assert_close("voxel", got as f64, f(&values[1][offset + i]), 1e-6, 1e-6);
    }
    assert_eq!(vol.data.iter().filter(|v| v.is_finite()).count(), 2 * 8);
    assert!(volume_labels(&c).is_none());
}

#[test]
fn label_rows_are_maps_with_their_tables_and_dconn_rows_follow_an_index() {
    let labels = load("mini.dlabel.nii");
    let maps = surface_maps(&labels, "CIFTI_STRUCTURE_CORTEX_RIGHT", Rows::All);
    assert_eq!(maps.len(), 2);
    assert_eq!(maps[0].name, "mini.dlabel.nii [lobes]");
    assert!(maps[0].is_label() && maps[1].is_label());
    assert!(maps[1].labels.iter().any(|l| l.key == 7 && l.name == "lower"));
    assert_eq!(volume_labels(&labels).unwrap().len(), 4);

    let conn = load("mini.dconn.nii");
    assert!(conn.is_connectivity());
    let reference = reference();
    let want = &reference["files"][3];
    let rows = &conn.maps[0];
    let first = ints(&want["maps"][0]["structures"][0]["vertices"]);
    assert_eq!(rows.index_at_vertex("CIFTI_STRUCTURE_CORTEX_LEFT", first[5]), Some(5));
    assert_eq!(rows.index_at_vertex("CIFTI_STRUCTURE_CORTEX_LEFT", first[5] + 1), None);
    let last = want["shape"][0].as_u64().unwrap() as usize - 1;
    let voxel = *triples(&want["maps"][0]["structures"][3]["voxels"]).last().unwrap();
    assert_eq!(rows.index_at_voxel(voxel), Some(last));
    let row5 = fs(&want["rows"]["5"]);
    let maps = surface_maps(&conn, "CIFTI_STRUCTURE_CORTEX_LEFT", Rows::One(5));
    assert_eq!(maps.len(), 1);
    for (i, &v) in first.iter().enumerate() {
        assert_close("dconn row", maps[0].frames[0][v as usize] as f64, row5[i], 1e-6, 1e-6);
    }
    let vol = volume(&conn, Rows::One(last)).unwrap();
    let row_last = fs(&want["rows"][last.to_string().as_str()]);
    assert_close(
        "dconn voxel",
        at_file_voxel(&conn, &vol, voxel, 0) as f64,
        *row_last.last().unwrap(),
        1e-6,
        1e-6,
    );
}

#[test]
fn parcel_values_are_painted_on_their_vertices_and_voxels() {
    let c = load("mini.pscalar.nii");
    let reference = reference();
    let want = &reference["files"][4];
    let parcels = want["maps"][1]["parcels"].as_array().unwrap();
    let maps = surface_maps(&c, "CIFTI_STRUCTURE_CORTEX_LEFT", Rows::All);
    for (p, parcel) in parcels.iter().enumerate() {
        if let Some(vertices) = parcel["vertices"].get("CIFTI_STRUCTURE_CORTEX_LEFT") {
            for v in ints(vertices) {
                assert_eq!(maps[0].frames[0][v as usize], c.value(0, p), "{}", parcel["name"]);
            }
        }
    }
    let vol = volume(&c, Rows::All).unwrap();
    let ijk = triples(&parcels[3]["voxels"])[0];
    assert_eq!(at_file_voxel(&c, &vol, ijk, 1), c.value(1, 3));
}

#[test]
fn malformed_files_give_typed_errors_naming_the_file() {
    type Case = (&'static str, fn(&LoadError) -> bool, &'static str);
    let cases: [Case; 7] = [
        ("bad_xml.dscalar.nii", |e| matches!(e, LoadError::Xml { .. }), "Matrx"),
        (
            "bad_count.dscalar.nii",
            |e| matches!(e, LoadError::Cifti { .. }),
            "IndexCount 140",
        ),
        (
            "bad_shape.dscalar.nii",
            |e| matches!(e, LoadError::Cifti { .. }),
            "describes 308 indices but the matrix has 300 columns",
        ),
        (
            "bad_vertices.dscalar.nii",
            |e| matches!(e, LoadError::Cifti { .. }),
            "its surface has 100",
        ),
        (
            "bad_voxel.dscalar.nii",
            |e| matches!(e, LoadError::Cifti { .. }),
            "outside the volume",
        ),
        (
            "no_xml.dscalar.nii",
            |e| matches!(e, LoadError::Cifti { .. }),
            "no CIFTI extension",
        ),
        (
            "truncated.dscalar.nii",
            |e| matches!(e, LoadError::Truncated { .. }),
            "2×308",
        ),
    ];
    for (name, is_expected, words) in cases {
        let error = match load_path(&cifti_dir().join(name), &mut |_| {}) {
            Err(e) => e,
            Ok(loaded) => panic!("{name}: read as {}", loaded.kind()),
        };
        let text = error.to_string();
        assert!(is_expected(&error), "{name}: {error:?}");
        assert!(text.starts_with(name) && text.contains(words), "{name}: {text}");
    }
}

#[test]
fn a_matrix_larger_than_the_budget_is_refused_before_reading() {
    let mut bytes = std::fs::read(cifti_dir().join("mini.dscalar.nii")).unwrap();
    // dim[5] and dim[6] of the NIfTI-2 header: a 2^31 × 2^31 matrix.
    bytes[56..64].copy_from_slice(&(1i64 << 31).to_le_bytes());
    bytes[64..72].copy_from_slice(&(1i64 << 31).to_le_bytes());
    let dir = std::env::temp_dir().join(format!("cortexlens-cifti-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge.dscalar.nii");
    std::fs::write(&path, bytes).unwrap();
    let error = load_path(&path, &mut |_| {}).unwrap_err();
    assert!(matches!(error, LoadError::TooLarge { .. }), "{error:?}");
}

/// Every cut and many byte flips of the header, the XML and the matrix: an answer, never a panic.
#[test]
fn cut_and_corrupted_cifti_files_never_panic() {
    let dir = std::env::temp_dir().join(format!("cortexlens-cifti-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["mini.dscalar.nii", "mini.pscalar.nii", "mini.dlabel.nii"] {
        let bytes = std::fs::read(cifti_dir().join(name)).unwrap();
        let target = dir.join(name);
        let cuts = (0..bytes.len())
            .step_by(bytes.len() / 60)
            .map(|cut| bytes[..cut].to_vec());
        let flips = (0..bytes.len()).step_by(11).map(|i| {
            let mut b = bytes.clone();
            b[i] ^= if i % 2 == 0 { 0xff } else { 0x04 };
            b
        });
        for (n, variant) in cuts.chain(flips).enumerate() {
            std::fs::write(&target, &variant).unwrap();
            let _ = without_hang(&format!("{name} variant {n}"), {
                let target = target.clone();
                move || load_path(&target, &mut |_| {}).map(|l| l.kind())
            });
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
