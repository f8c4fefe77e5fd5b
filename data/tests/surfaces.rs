//! Surfaces against nibabel: every GIFTI of `reference/surfaces.json`, the FreeSurfer files of
//! `reference/freesurfer.json`, and the generated GIFTI variants (column-major, big-endian, labels).

mod common;

use common::*;
use cortexlens_data::{ArrayData, DataArray, Label, SurfaceFile};
use serde_json::Value;

/// Rows of an array as `f64` (a 1-D array has rows of one value).
fn rows(a: &DataArray) -> Vec<Vec<f64>> {
    let width = a.dims.iter().skip(1).product::<usize>().max(1);
    a.data.to_f64().chunks(width).map(<[f64]>::to_vec).collect()
}

fn as_row(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(_) => fs(v),
        _ => vec![f(v)],
    }
}

fn check_rows(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: row length");
    for (g, w) in got.iter().zip(want) {
        assert_close(what, *g, *w, 1e-6, 1e-6);
    }
}

#[test]
fn reference_gifti() {
    let reference = json("reference/surfaces.json");
    let entries = reference["surfaces"].as_array().unwrap();
    assert_eq!(entries.len(), 22);
    for r in entries {
        let file = r["file"].as_str().unwrap();
        let s = load_surf(&data_dir().join("surfaces").join(file));
        assert_eq!(s.name, file);
        let arrays = r["arrays"].as_array().unwrap();
        assert_eq!(s.arrays.len(), arrays.len(), "{file}: n_arrays");
        assert_eq!(s.arrays.len() as u64, r["n_arrays"].as_u64().unwrap());
        for (i, (a, want)) in s.arrays.iter().zip(arrays).enumerate() {
            let what = format!("{file}[{i}]");
            assert_eq!(a.intent, want["intent"].as_str().unwrap(), "{what}: intent");
            assert_eq!(a.data.dtype_name(), want["dtype"].as_str().unwrap(), "{what}: dtype");
            assert_eq!(a.dims, us(&want["shape"]), "{what}: dims");
            assert_eq!(a.data.len(), a.dims.iter().product::<usize>(), "{what}: length");
            let values = a.data.to_f64();
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = values.iter().sum();
            assert_close(&format!("{what}: min"), min, f(&want["min"]), 1e-7, 0.0);
            assert_close(&format!("{what}: max"), max, f(&want["max"]), 1e-7, 0.0);
            assert_close(&format!("{what}: sum"), sum, f(&want["sum"]), 1e-6, 1e-6);
            let rows = rows(a);
            for (k, row) in want["first_rows"].as_array().unwrap().iter().enumerate() {
                check_rows(&format!("{what}: row {k}"), &rows[k], &as_row(row));
            }
            check_rows(
                &format!("{what}: last row"),
                rows.last().unwrap(),
                &as_row(&want["last_row"]),
            );
        }
        let labels = r.get("labels").and_then(Value::as_array).cloned().unwrap_or_default();
        assert_eq!(s.labels.len(), labels.len(), "{file}: labels");
        for (l, want) in s.labels.iter().zip(&labels) {
            assert_eq!(i64::from(l.key), want["key"].as_i64().unwrap(), "{file}: label key");
            assert_eq!(l.name, want["name"].as_str().unwrap(), "{file}: label name");
        }
    }
}

#[test]
fn gifti_label_colours() {
    let s = load_surf(&data_dir().join("surfaces/nibabel_rh.aparc.annot.gii"));
    // <Label Key="2647065" Red="0.0980392" Green="0.392157" Blue="0.156863" Alpha="1">bankssts</Label>
    let l = s.labels.iter().find(|l| l.name == "bankssts").unwrap();
    assert_eq!(
        l,
        &Label {
            key: 2647065,
            name: "bankssts".into(),
            rgba: [0.0980392, 0.392157, 0.156863, 1.0]
        }
    );
    assert_eq!(s.labels[0].rgba, [0.0, 0.0, 0.0, 0.0]);
    // Every vertex key but 0 (which this file uses for unlabelled vertices) is in the table.
    let ArrayData::I32(keys) = &s.arrays[0].data else {
        panic!("LABEL array is not int32")
    };
    assert!(keys.iter().all(|k| *k == 0 || s.labels.iter().any(|l| l.key == *k)));
}

#[test]
fn generated_gifti() {
    let reference = json("generated/generated.json");
    let entries = reference["surfaces"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    for r in entries {
        let file = r["file"].as_str().unwrap();
        let s = load_surf(&data_dir().join("generated").join(file));
        let arrays = r["arrays"].as_array().unwrap();
        assert_eq!(s.arrays.len(), arrays.len(), "{file}");
        for (a, want) in s.arrays.iter().zip(arrays) {
            assert_eq!(a.intent, want["intent"].as_str().unwrap(), "{file}");
            assert_eq!(a.data.dtype_name(), want["dtype"].as_str().unwrap(), "{file}");
            assert_eq!(a.dims, us(&want["shape"]), "{file}");
            assert_eq!(a.data.to_f64(), fs(&want["values_row_major"]), "{file}: {}", a.intent);
        }
        let labels = r["labels"].as_array().unwrap();
        assert_eq!(s.labels.len(), labels.len(), "{file}");
        for (l, want) in s.labels.iter().zip(labels) {
            assert_eq!(i64::from(l.key), want["key"].as_i64().unwrap());
            assert_eq!(l.name, want["name"].as_str().unwrap());
            let rgba = fs(&want["rgba"]);
            for (got, want) in l.rgba.iter().zip(&rgba) {
                let what = format!("{file}: {} colour", l.name);
                assert_close(&what, f64::from(*got), *want, 1e-6, 0.0);
            }
        }
    }
    // Column-major + gzip-base64 (nibabel), big-endian (hand-written) and the row-major,
    // little-endian fsaverage-style reading all agree.
    let cm = load_surf(&data_dir().join("generated/column_major_gzip.gii"));
    let be = load_surf(&data_dir().join("generated/big_endian.gii"));
    assert_eq!(cm.arrays[0].data, be.arrays[0].data);
    assert_eq!(cm.arrays[1].data, be.arrays[1].data);
}

#[test]
fn gifti_encodings_agree() {
    // The ASCII and base64 test files of nibabel and a GZipBase64Binary conversion written here.
    let ascii = load_surf(&data_dir().join("surfaces/nibabel_ascii.gii"));
    assert_eq!(ascii.arrays[1].data, ArrayData::I32(vec![0, 1, 2]));
    let dir = scratch("gifti-encodings");
    let src = std::fs::read_to_string(data_dir().join("surfaces/nibabel_base64bin.gii")).unwrap();
    let b64 = load_surf(&data_dir().join("surfaces/nibabel_base64bin.gii"));
    // Re-encode every Base64Binary <Data> as a zlib stream: GZipBase64Binary.
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut out = String::new();
    let mut rest = src.as_str();
    while let Some(start) = rest.find("<Data>") {
        let end = rest[start..].find("</Data>").unwrap() + start;
        out.push_str(&rest[..start + 6]);
        let raw: String = rest[start + 6..end].chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = engine.decode(raw).unwrap();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut z, &bytes).unwrap();
        out.push_str(&engine.encode(z.finish().unwrap()));
        rest = &rest[end..];
    }
    out.push_str(rest);
    let out = out.replace("GIFTI_ENCODING_B64BIN", "GZipBase64Binary");
    let p = dir.join("b64gz.gii");
    std::fs::write(&p, &out).unwrap();
    let gz = load_surf(&p);
    assert_eq!(gz.arrays.len(), 2);
    for (a, b) in gz.arrays.iter().zip(&b64.arrays) {
        assert_eq!(a.data, b.data);
        assert_eq!(a.dims, b.dims);
    }
    // Whole-file gzip of the same document.
    let p = dir.join("b64gz.gii.gz");
    std::fs::write(&p, gzip(out.as_bytes())).unwrap();
    assert_eq!(load_surf(&p).arrays[0].data, b64.arrays[0].data);
    let _ = std::fs::remove_dir_all(dir);
}

fn triangle_counts(s: &SurfaceFile) -> (usize, usize) {
    assert_eq!(s.arrays.len(), 2);
    assert_eq!(s.arrays[0].intent, "NIFTI_INTENT_POINTSET");
    assert_eq!(s.arrays[1].intent, "NIFTI_INTENT_TRIANGLE");
    assert_eq!(s.arrays[0].data.dtype_name(), "float32");
    assert_eq!(s.arrays[1].data.dtype_name(), "int32");
    assert_eq!(s.arrays[0].dims[1], 3);
    assert_eq!(s.arrays[1].dims[1], 3);
    (s.arrays[0].dims[0], s.arrays[1].dims[0])
}

#[test]
fn reference_freesurfer() {
    let reference = json("reference/freesurfer.json");
    let files = reference["files"].as_object().unwrap();
    let mut checked = 0;
    for (rel, r) in files {
        if !rel.starts_with("freesurfer/") {
            continue;
        }
        checked += 1;
        let s = load_surf(&data_dir().join(rel));
        match r["kind"].as_str().unwrap() {
            "surface" => {
                let (nv, nf) = triangle_counts(&s);
                assert_eq!(
                    (nv, nf),
                    (
                        r["n_vertices"].as_u64().unwrap() as usize,
                        r["n_faces"].as_u64().unwrap() as usize
                    )
                );
                let coord_sum: f64 = s.arrays[0].data.to_f64().iter().sum();
                assert_close(&format!("{rel}: coord_sum"), coord_sum, f(&r["coord_sum"]), 1e-6, 0.0);
                let verts = rows(&s.arrays[0]);
                let faces = rows(&s.arrays[1]);
                check_rows(rel, &verts[0], &fs(&r["first_vertex"]));
                check_rows(rel, &faces[0], &fs(&r["first_face"]));
                check_rows(rel, faces.last().unwrap(), &fs(&r["last_face"]));
                // The same mesh as the fsaverage5 GIFTI it was written from.
                let hemi = if rel.contains("/lh.") { "left" } else { "right" };
                let kind = rel.rsplit('.').next().unwrap().replace("inflated", "infl");
                let gii = load_surf(&data_dir().join(format!("surfaces/fsaverage5_{kind}_{hemi}.gii.gz")));
                assert_eq!(gii.arrays[0].data, s.arrays[0].data, "{rel}");
                assert_eq!(gii.arrays[1].data, s.arrays[1].data, "{rel}");
            }
            "morph" => {
                assert_eq!(s.arrays.len(), 1);
                let a = &s.arrays[0];
                assert_eq!(
                    (a.intent.as_str(), a.data.dtype_name()),
                    ("NIFTI_INTENT_SHAPE", "float32")
                );
                assert_eq!(a.dims, [r["n"].as_u64().unwrap() as usize]);
                let v = a.data.to_f64();
                assert_close(&format!("{rel}: sum"), v.iter().sum(), f(&r["sum"]), 1e-6, 0.0);
                assert_close(
                    &format!("{rel}: min"),
                    v.iter().copied().fold(f64::INFINITY, f64::min),
                    f(&r["min"]),
                    1e-7,
                    0.0,
                );
                assert_close(
                    &format!("{rel}: max"),
                    v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    f(&r["max"]),
                    1e-7,
                    0.0,
                );
                assert_close(&format!("{rel}: first"), v[0], f(&r["first"]), 1e-7, 0.0);
            }
            "annot" => {
                assert_eq!(s.arrays.len(), 1);
                let a = &s.arrays[0];
                assert_eq!(
                    (a.intent.as_str(), a.data.dtype_name()),
                    ("NIFTI_INTENT_LABEL", "int32")
                );
                assert_eq!(a.dims, [r["n"].as_u64().unwrap() as usize]);
                let ArrayData::I32(keys) = &a.data else { unreachable!() };
                let names: Vec<&str> = r["names"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str().unwrap())
                    .collect();
                assert_eq!(
                    s.labels.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
                    names,
                    "{rel}"
                );
                for (i, (label, rgb)) in s.labels.iter().zip(r["colors_rgb"].as_array().unwrap()).enumerate() {
                    assert_eq!(label.key, i as i32, "{rel}: keys are colour-table indices");
                    let rgb = fs(rgb);
                    for (got, want) in label.rgba.iter().zip(&rgb) {
                        let what = format!("{rel}: {} colour", label.name);
                        assert_eq!((f64::from(*got) * 255.0).round(), *want, "{what}");
                    }
                    assert_eq!(label.rgba[3], 1.0);
                }
                let counts = us(&r["label_counts"]);
                for (k, want) in counts.iter().enumerate() {
                    assert_eq!(
                        keys.iter().filter(|&&key| key == k as i32).count(),
                        *want,
                        "{rel}: count of label {k}"
                    );
                }
                assert_eq!(
                    counts.iter().sum::<usize>(),
                    keys.len(),
                    "{rel}: no unassigned vertices"
                );
            }
            other => panic!("{rel}: unknown kind {other}"),
        }
    }
    assert_eq!(checked, 14);
}
