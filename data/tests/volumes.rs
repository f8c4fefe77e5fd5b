//! Volumes against nibabel: every file of `reference/volumes.json`, the MGZ of
//! `reference/freesurfer.json`, and the generated datatype/transform/NIfTI-2 files.

mod common;

use common::*;
use cortexlens_data::{Volume, VolumeStats};
use glam::DVec3;
use serde_json::Value;

fn check_common(v: &Volume, r: &Value, file: &str) {
    let shape = us(&r["shape"]);
    assert_eq!(v.ndim, shape.len().max(3), "{file}: ndim");
    assert_eq!(&v.shape[..shape.len()], &shape[..], "{file}: shape");
    if shape.len() == 3 {
        assert_eq!(v.shape[3], 1, "{file}: frames");
    }
    assert_eq!(v.data.len(), v.shape.iter().product::<usize>(), "{file}: data length");
    assert_eq!(
        v.datatype,
        numpy_name(r["on_disk_dtype"].as_str().unwrap()),
        "{file}: datatype"
    );
    let zooms = fs(&r["zooms"]);
    assert_eq!(v.zooms.len(), zooms.len(), "{file}: zooms {:?}", v.zooms);
    for (g, w) in v.zooms.iter().zip(&zooms) {
        assert_close(&format!("{file}: zoom"), *g, *w, 1e-7, 1e-7);
    }
    for (row, want) in r["affine"].as_array().unwrap().iter().enumerate() {
        for (col, w) in fs(want).iter().enumerate() {
            assert_close(
                &format!("{file}: affine[{row}][{col}]"),
                v.affine.col(col)[row],
                *w,
                0.0,
                1e-4,
            );
        }
    }
    assert_close(
        &format!("{file}: scl_slope"),
        v.scl_slope,
        f(&r["scl_slope"]),
        1e-12,
        0.0,
    );
    assert_close(
        &format!("{file}: scl_inter"),
        v.scl_inter,
        f(&r["scl_inter"]),
        1e-12,
        0.0,
    );
}

fn centre(v: &Volume) -> [i64; 3] {
    [0, 1, 2].map(|a| (v.shape[a] / 2) as i64)
}

#[test]
fn reference_volumes() {
    let reference = json("reference/volumes.json");
    let entries = reference["volumes"].as_array().unwrap();
    assert_eq!(entries.len(), 8);
    for r in entries {
        let file = r["file"].as_str().unwrap();
        let v = load_vol(&volume_path(file));
        assert_eq!(v.name, file);
        check_common(&v, r, file);
        let s = VolumeStats::of(&v);
        let want = &r["stats_scaled"];
        for (name, got) in [("min", s.min), ("max", s.max), ("mean", s.mean), ("sum", s.sum)] {
            assert_close(&format!("{file}: {name}"), got, f(&want[name]), 1e-6, 1e-9);
        }
        assert_eq!(s.n_nan as u64, want["n_nan"].as_u64().unwrap(), "{file}: n_nan");
        assert_eq!(
            s.n_nonzero as u64,
            want["n_nonzero"].as_u64().unwrap(),
            "{file}: n_nonzero"
        );
        for sample in r["samples"].as_array().unwrap() {
            let ijk = us(&sample["ijk"]);
            let ijk = [ijk[0] as i64, ijk[1] as i64, ijk[2] as i64];
            let got = v.value_at(ijk, 0).unwrap_or_else(|| panic!("{file}: {ijk:?} outside"));
            assert_close(
                &format!("{file}: value at {ijk:?}"),
                f64::from(got),
                f(&sample["value"]),
                1e-6,
                1e-6,
            );
            let world = v.voxel_to_world(DVec3::new(ijk[0] as f64, ijk[1] as f64, ijk[2] as f64));
            for (a, w) in fs(&sample["world_mm"]).iter().enumerate() {
                assert_close(&format!("{file}: world of {ijk:?}"), world[a], *w, 0.0, 1e-4);
            }
            assert_eq!(v.nearest_voxel(world), ijk, "{file}: round trip of {ijk:?}");
        }
        if let Some(ts) = r.get("timeseries_at_centre") {
            let got = v.time_series(centre(&v)).unwrap();
            let want = fs(ts);
            assert_eq!(got.len(), want.len(), "{file}: time series length");
            for (g, w) in got.iter().zip(&want) {
                assert_close(&format!("{file}: time series"), f64::from(*g), *w, 1e-6, 1e-6);
            }
        }
    }
}

#[test]
fn mgz_of_freesurfer_reference() {
    let reference = json("reference/freesurfer.json");
    let r = &reference["files"]["volumes/mni152_t1_1mm.mgz"];
    let v = load_vol(&volume_path("mni152_t1_1mm.mgz"));
    assert_eq!(&v.shape[..3], &us(&r["shape"])[..]);
    assert_eq!((v.ndim, v.shape[3], v.datatype.as_str()), (3, 1, "uint8"));
    for (row, want) in r["affine"].as_array().unwrap().iter().enumerate() {
        for (col, w) in fs(want).iter().enumerate() {
            assert_close("mgz affine", v.affine.col(col)[row], *w, 0.0, 1e-4);
        }
    }
    assert_close("mgz sum", VolumeStats::of(&v).sum, f(&r["sum"]), 1e-9, 0.0);
    assert_eq!(
        f64::from(v.value_at([98, 134, 72], 0).unwrap()),
        f(&r["value_at_98_134_72"])
    );
    // The same template as NIfTI: identical voxels.
    let nii = load_vol(&volume_path("mni152_t1_1mm.nii.gz"));
    assert!(nii.data == v.data);
}

#[test]
fn generated_volumes() {
    let reference = json("generated/generated.json");
    let entries = reference["volumes"].as_array().unwrap();
    assert!(entries.len() >= 24);
    for r in entries {
        let file = r["file"].as_str().unwrap();
        let v = load_vol(&data_dir().join("generated").join(file));
        check_common(&v, r, file);
        let s = VolumeStats::of(&v);
        assert_close(&format!("{file}: sum"), s.sum, f(&r["sum"]), 1e-6, 1e-9);
        assert_close(&format!("{file}: min"), s.min, f(&r["min"]), 1e-6, 1e-9);
        assert_close(&format!("{file}: max"), s.max, f(&r["max"]), 1e-6, 1e-9);
        if let Some(all) = r.get("values_fortran_order") {
            let want = fs(all);
            assert_eq!(v.data.len(), want.len(), "{file}");
            for (i, (g, w)) in v.data.iter().zip(&want).enumerate() {
                // f32 holds the value nibabel computes in f64 to within one rounding.
                assert_close(&format!("{file}: value {i}"), f64::from(*g), *w, 1e-7, 0.0);
            }
        }
        for sample in r.get("samples").and_then(Value::as_array).into_iter().flatten() {
            let ijk = us(&sample["ijk"]);
            let got = v.value_at([ijk[0] as i64, ijk[1] as i64, ijk[2] as i64], 0).unwrap();
            assert_close(
                &format!("{file}: value at {ijk:?}"),
                f64::from(got),
                f(&sample["value"]),
                1e-6,
                1e-6,
            );
        }
    }
}

#[test]
fn nifti2_matches_nifti1_source() {
    let n1 = load_vol(&volume_path("nibabel_functional.nii"));
    let n2 = load_vol(&data_dir().join("generated/nifti2_functional.nii"));
    assert_eq!(n1.shape, n2.shape);
    assert!(n1.affine.abs_diff_eq(n2.affine, 1e-5));
    assert_eq!(n1.zooms, n2.zooms);
    // Same int16 values; NIfTI-2 stores the (f32) scaling of NIfTI-1 in f64.
    for (a, b) in n1.data.iter().zip(&n2.data) {
        assert!((a - b).abs() <= 1e-6 * a.abs(), "{a} {b}");
    }
    let be1 = load_vol(&volume_path("nibabel_anatomical.nii"));
    let be2 = load_vol(&data_dir().join("generated/nifti2_anatomical_be.nii.gz"));
    assert!(be1.data == be2.data);
    // qform only (quaternion in f64) against the sform of the source.
    assert!(
        be1.affine.abs_diff_eq(be2.affine, 1e-6),
        "{} vs {}",
        be1.affine,
        be2.affine
    );
}
