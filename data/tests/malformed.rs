//! Malformed inputs, each built from a real file: every one is a typed error naming the file,
//! never a panic, and never a hang (a watchdog bound only a hang exceeds, `common::HANG_BOUND`:
//! wall-clock limits near the real time of a load flake on a busy 2-core debug build).

mod common;

use std::path::{Path, PathBuf};

use common::*;
use cortexlens_data::LoadError;
use cortexlens_data::formats::{load_surface, load_volume};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// nibabel_anatomical.nii: a big-endian NIfTI-1, 33×41×25 int16.
fn anatomical() -> Vec<u8> {
    std::fs::read(volume_path("nibabel_anatomical.nii")).unwrap()
}

fn set_dims_be(nii: &mut [u8], dims: &[i16]) {
    for (i, d) in dims.iter().enumerate() {
        nii[40 + 2 * i..42 + 2 * i].copy_from_slice(&d.to_be_bytes());
    }
}

#[test]
fn empty_files() {
    let dir = scratch("empty");
    for name in [
        "empty.nii",
        "empty.mgh",
        "empty.gii",
        "lh.pial",
        "lh.curv",
        "x.annot",
        "empty.hdr",
        "noext",
    ] {
        let p = write(&dir, name, b"");
        if name == "empty.hdr" {
            write(&dir, "empty.img", b"");
        }
        let e = load_err(&p);
        assert!(
            matches!(e, LoadError::Truncated { .. } | LoadError::UnknownFormat { .. }),
            "{name}: {e}"
        );
        assert!(e.to_string().contains("empty"), "{e}");
    }
    // An empty .gz is not gzip.
    assert!(matches!(
        load_err(&write(&dir, "empty.nii.gz", b"")),
        LoadError::NotGzip { .. }
    ));
}

#[test]
fn truncated_nifti() {
    let dir = scratch("truncated-nifti");
    let gz = std::fs::read(assets_dir().join("motor_stat_map.nii.gz")).unwrap();
    for cut in [gz.len() / 2, gz.len() - 100, 400, 30] {
        let e = load_err(&write(&dir, "motor.nii.gz", &gz[..cut]));
        assert!(
            matches!(e, LoadError::Truncated { .. } | LoadError::BadGzip { .. }),
            "cut {cut}: {e}"
        );
        assert!(e.to_string().starts_with("motor.nii.gz: "), "{e}");
    }
    let e = load_err(&write(&dir, "motor.nii.gz", &gz[..gz.len() / 2]));
    assert!(
        e.to_string()
            .starts_with("motor.nii.gz: truncated: header claims 614376 bytes of voxels"),
        "{e}"
    );

    let nii = anatomical();
    let e = load_err(&write(&dir, "anat.nii", &nii[..nii.len() - 1]));
    assert_eq!(
        e.to_string(),
        "anat.nii: truncated: header claims 67650 bytes of voxels at offset 352, the file has 68001"
    );
    let e = load_err(&write(&dir, "anat.nii", &nii[..200]));
    assert!(matches!(e, LoadError::Truncated { .. }), "{e}");
}

#[test]
fn not_gzip_and_wrong_magic() {
    let dir = scratch("magic");
    let nii = anatomical();
    let e = load_err(&write(&dir, "plain.nii.gz", &nii));
    assert!(matches!(e, LoadError::NotGzip { .. }), "{e}");
    assert!(e.to_string().starts_with("plain.nii.gz: not gzip"), "{e}");

    let mut bad = nii.clone();
    bad[344..348].copy_from_slice(b"xyz\0");
    let e = load_err(&write(&dir, "magic.nii", &bad));
    assert!(matches!(e, LoadError::BadMagic { .. }), "{e}");
    let e = load_err(&write(&dir, "magic.nii.gz", &gzip(&bad)));
    assert!(matches!(e, LoadError::BadMagic { .. }), "{e}");

    let mut garbage = vec![0u8; 4000];
    garbage
        .iter_mut()
        .enumerate()
        .for_each(|(i, b)| *b = (i * 7 % 251) as u8);
    let e = load_err(&write(&dir, "garbage.nii", &garbage));
    assert!(matches!(e, LoadError::BadMagic { .. }), "{e}");
    let e = load_err(&write(&dir, "garbage.bin", &garbage));
    assert!(matches!(e, LoadError::UnknownFormat { .. }), "{e}");
    let e = load_err(&write(&dir, "garbage.mgz", &gzip(&garbage)));
    assert!(matches!(e, LoadError::BadMagic { .. }), "{e}");
    let e = load_err(&write(&dir, "garbage.gii", &garbage));
    assert!(matches!(e, LoadError::Xml { .. } | LoadError::BadMagic { .. }), "{e}");
    let e = load_err(&write(&dir, "lh.pial", &garbage));
    assert!(matches!(e, LoadError::UnknownFormat { .. }), "{e}");
    // Corrupt deflate data after a valid gzip header.
    let mut gz = gzip(&nii);
    for b in &mut gz[20..200] {
        *b ^= 0x5a;
    }
    let e = load_err(&write(&dir, "corrupt.nii.gz", &gz));
    assert!(
        matches!(
            e,
            LoadError::BadGzip { .. } | LoadError::Truncated { .. } | LoadError::BadMagic { .. }
        ),
        "{e}"
    );
}

#[test]
fn huge_claims_fail_fast() {
    let dir = scratch("huge");
    let mut nii = anatomical();
    set_dims_be(&mut nii, &[3, 30000, 30000, 30000]);
    for (name, bytes) in [("huge.nii", nii.clone()), ("huge.nii.gz", gzip(&nii))] {
        let e = load_err(&write(&dir, name, &bytes));
        assert!(matches!(e, LoadError::TooLarge { .. }), "{name}: {e}");
    }
    // Within the memory budget (1000³ int16 = 4 GB as f32) but absent from the file: fails on the
    // file length (uncompressed) or when the stream ends (gzip), without allocating the claim.
    set_dims_be(&mut nii, &[3, 1000, 1000, 1000]);
    for (name, bytes) in [("big.nii", nii.clone()), ("big.nii.gz", gzip(&nii))] {
        let e = load_err(&write(&dir, name, &bytes));
        assert!(matches!(e, LoadError::Truncated { .. }), "{name}: {e}");
    }
    // 4-D claims multiply out too.
    set_dims_be(&mut nii, &[4, 2000, 2000, 2000, 2000]);
    assert!(matches!(
        load_err(&write(&dir, "huge4d.nii", &nii)),
        LoadError::TooLarge { .. }
    ));
}

#[test]
fn bad_dimensions() {
    let dir = scratch("dims");
    let cases: [(&str, &[i16], &str); 6] = [
        ("five_d.nii", &[5, 33, 41, 25, 1, 2], "5-D"),
        ("six_d.nii", &[6, 33, 41, 25, 2, 2, 2], "6-D"),
        ("zero.nii", &[3, 33, 0, 25], "zero-sized"),
        ("zero_t.nii", &[4, 33, 41, 25, 0], "zero-sized"),
        ("negative.nii", &[3, 33, -41, 25], "negative"),
        ("ndim0.nii", &[0, 33, 41, 25], "dim[0]"),
    ];
    for (name, dims, msg) in cases {
        let mut nii = anatomical();
        set_dims_be(&mut nii, dims);
        let e = load_err(&write(&dir, name, &nii));
        assert!(matches!(e, LoadError::BadHeader { .. }), "{name}: {e}");
        assert!(e.to_string().contains(msg), "{name}: {e}");
    }
    // A 5-D header whose extra dimensions are 1 is a 4-D volume of one frame.
    let mut nii = anatomical();
    set_dims_be(&mut nii, &[5, 33, 41, 25, 1, 1]);
    let v = load_vol(&write(&dir, "five_d_ones.nii", &nii));
    assert_eq!((v.ndim, v.shape), (4, [33, 41, 25, 1]));
}

#[test]
fn bad_header_fields() {
    let dir = scratch("fields");
    let mut nii = anatomical();
    nii[70..72].copy_from_slice(&32i16.to_be_bytes()); // complex64
    let e = load_err(&write(&dir, "complex.nii", &nii));
    assert!(matches!(e, LoadError::UnsupportedDatatype { .. }), "{e}");
    assert!(e.to_string().contains("complex64"), "{e}");
    let mut nii = anatomical();
    nii[108..112].copy_from_slice(&f32::NAN.to_be_bytes());
    assert!(matches!(
        load_err(&write(&dir, "nan_offset.nii", &nii)),
        LoadError::BadHeader { .. }
    ));
    let mut nii = anatomical();
    nii[108..112].copy_from_slice(&100f32.to_be_bytes());
    assert!(matches!(
        load_err(&write(&dir, "low_offset.nii", &nii)),
        LoadError::BadHeader { .. }
    ));
    let mut nii = anatomical();
    nii[108..112].copy_from_slice(&1e9f32.to_be_bytes());
    assert!(matches!(
        load_err(&write(&dir, "far_offset.nii", &nii)),
        LoadError::Truncated { .. }
    ));
    let mut nii = anatomical();
    nii[112..116].copy_from_slice(&2f32.to_be_bytes());
    nii[116..120].copy_from_slice(&f32::INFINITY.to_be_bytes());
    assert!(matches!(
        load_err(&write(&dir, "bad_inter.nii", &nii)),
        LoadError::BadHeader { .. }
    ));
    // NIfTI-2: truncated header and truncated data.
    let n2 = raw_bytes(&data_dir().join("generated/nifti2_functional.nii"));
    assert!(matches!(
        load_err(&write(&dir, "n2.nii", &n2[..300])),
        LoadError::Truncated { .. }
    ));
    assert!(matches!(
        load_err(&write(&dir, "n2.nii.gz", &gzip(&n2[..5000]))),
        LoadError::Truncated { .. }
    ));
}

#[test]
fn malformed_gifti() {
    let dir = scratch("gifti");
    let src = std::fs::read_to_string(data_dir().join("surfaces/nibabel_base64bin.gii")).unwrap();
    let start = src.find("<Data>").unwrap() + 6;
    let broken = format!("{}!!!!{}", &src[..start], &src[start + 4..]);
    let e = load_err(&write(&dir, "broken.gii", broken.as_bytes()));
    assert!(matches!(e, LoadError::Base64 { array: 0, .. }), "{e}");
    let short = src.replacen("Dim0=\"10\"", "Dim0=\"20\"", 1);
    let e = load_err(&write(&dir, "short.gii", short.as_bytes()));
    assert!(matches!(e, LoadError::Truncated { .. }), "{e}");
    assert!(e.to_string().contains("data array 0"), "{e}");
    let long = src.replacen("Dim0=\"10\"", "Dim0=\"5\"", 1);
    assert!(matches!(
        load_err(&write(&dir, "long.gii", long.as_bytes())),
        LoadError::Gifti { .. }
    ));
    let huge = src.replacen("Dim0=\"10\"", "Dim0=\"100000000000\"", 1);
    assert!(matches!(
        load_err(&write(&dir, "huge.gii", huge.as_bytes())),
        LoadError::TooLarge { .. }
    ));
    // Complex values mean nothing on a surface (float64 and the other real types are read).
    let complex = src.replacen("NIFTI_TYPE_FLOAT32", "NIFTI_TYPE_COMPLEX64", 1);
    assert!(matches!(
        load_err(&write(&dir, "c64.gii", complex.as_bytes())),
        LoadError::UnsupportedDatatype { .. }
    ));
    let colours = src.replacen("NIFTI_TYPE_FLOAT32", "NIFTI_TYPE_RGB24", 1);
    assert!(matches!(
        load_err(&write(&dir, "rgb.gii", colours.as_bytes())),
        LoadError::UnsupportedDatatype { .. }
    ));
    let cut = &src[..src.len() / 2];
    let e = load_err(&write(&dir, "cut.gii", cut.as_bytes()));
    assert!(matches!(e, LoadError::Truncated { .. } | LoadError::Xml { .. }), "{e}");
    let mismatched = src.replacen("</MatrixData>", "</Matrix>", 1);
    assert!(matches!(
        load_err(&write(&dir, "tags.gii", mismatched.as_bytes())),
        LoadError::Xml { .. }
    ));
    let not_gifti = "<?xml version=\"1.0\"?><svg></svg>";
    assert!(matches!(
        load_err(&write(&dir, "svg.gii", not_gifti.as_bytes())),
        LoadError::BadMagic { .. }
    ));
    // Compressed data (GZipBase64Binary) that is not zlib.
    let bad_zlib = src.replacen("GIFTI_ENCODING_B64BIN", "GZipBase64Binary", 1);
    assert!(matches!(
        load_err(&write(&dir, "zlib.gii", bad_zlib.as_bytes())),
        LoadError::BadGzip { .. }
    ));

    // ExternalFileBinary: missing and short external files are errors naming that file.
    let ext = std::fs::read_to_string(data_dir().join("surfaces/external.gii")).unwrap();
    let p = write(&dir, "external.gii", ext.as_bytes());
    let e = load_err(&p);
    assert!(
        matches!(e, LoadError::Io { .. }) && e.to_string().starts_with("external.dat: "),
        "{e}"
    );
    let dat = std::fs::read(data_dir().join("surfaces/external.dat")).unwrap();
    write(&dir, "external.dat", &dat[..150]);
    let e = load_err(&p);
    assert!(
        matches!(e, LoadError::Truncated { .. }) && e.to_string().starts_with("external.dat: "),
        "{e}"
    );
}

#[test]
fn malformed_freesurfer() {
    let dir = scratch("freesurfer");
    let pial = std::fs::read(data_dir().join("freesurfer/lh.pial")).unwrap();
    for cut in [pial.len() / 2, pial.len() - 1, 60, 10, 2] {
        let e = load_err(&write(&dir, "lh.pial", &pial[..cut]));
        assert!(
            matches!(e, LoadError::Truncated { .. } | LoadError::UnknownFormat { .. }),
            "cut {cut}: {e}"
        );
    }
    let e = load_err(&write(&dir, "lh.pial", &pial[..pial.len() / 2]));
    assert!(
        e.to_string()
            .starts_with("lh.pial: truncated: header claims 10242 vertices and 20480 triangles"),
        "{e}"
    );
    let curv = std::fs::read(data_dir().join("freesurfer/lh.curv")).unwrap();
    assert!(matches!(
        load_err(&write(&dir, "lh.curv", &curv[..curv.len() - 4])),
        LoadError::Truncated { .. }
    ));
    let annot = std::fs::read(data_dir().join("freesurfer/lh.sectors.annot")).unwrap();
    for cut in [annot.len() - 3, annot.len() / 2, 3] {
        let e = load_err(&write(&dir, "lh.x.annot", &annot[..cut]));
        assert!(
            matches!(e, LoadError::Truncated { .. } | LoadError::FreeSurfer { .. }),
            "cut {cut}: {e}"
        );
    }
    let mut huge = annot.clone();
    huge[..4].copy_from_slice(&i32::MAX.to_be_bytes());
    assert!(matches!(
        load_err(&write(&dir, "huge.annot", &huge)),
        LoadError::Truncated { .. }
    ));
}

#[test]
fn malformed_mgh() {
    let dir = scratch("mgh");
    let mgh = raw_bytes(&data_dir().join("volumes/nibabel_test.mgz"));
    let with_dims = |dims: [i32; 4]| {
        let mut b = mgh.clone();
        for (i, d) in dims.iter().enumerate() {
            b[4 + 4 * i..8 + 4 * i].copy_from_slice(&d.to_be_bytes());
        }
        b
    };
    for (name, bytes) in [
        ("huge.mgh", with_dims([100_000, 100_000, 100_000, 1])),
        ("huge.mgz", gzip(&with_dims([2000, 2000, 2000, 1]))),
    ] {
        let e = load_err(&write(&dir, name, &bytes));
        assert!(matches!(e, LoadError::TooLarge { .. }), "{name}: {e}");
    }
    for (name, bytes) in [
        ("big.mgh", with_dims([1000, 1000, 1000, 1])),
        ("big.mgz", gzip(&with_dims([1000, 1000, 1000, 1]))),
    ] {
        let e = load_err(&write(&dir, name, &bytes));
        assert!(matches!(e, LoadError::Truncated { .. }), "{name}: {e}");
    }
    assert!(matches!(
        load_err(&write(&dir, "zero.mgh", &with_dims([3, 0, 5, 2]))),
        LoadError::BadHeader { .. }
    ));
    assert!(matches!(
        load_err(&write(&dir, "neg.mgh", &with_dims([3, -4, 5, 2]))),
        LoadError::BadHeader { .. }
    ));
    let mut version = mgh.clone();
    version[3] = 9;
    assert!(matches!(
        load_err(&write(&dir, "version.mgh", &version)),
        LoadError::BadMagic { .. }
    ));
    let mut kind = mgh.clone();
    kind[20..24].copy_from_slice(&2i32.to_be_bytes());
    assert!(matches!(
        load_err(&write(&dir, "kind.mgh", &kind)),
        LoadError::UnsupportedDatatype { .. }
    ));
    assert!(matches!(
        load_err(&write(&dir, "cut.mgh", &mgh[..300])),
        LoadError::Truncated { .. }
    ));
    assert!(matches!(
        load_err(&write(&dir, "hdr.mgh", &mgh[..50])),
        LoadError::Truncated { .. }
    ));
}

#[test]
fn wrong_kind() {
    let e = load_volume(&data_dir().join("freesurfer/lh.curv"), &mut |_| {}).unwrap_err();
    assert!(matches!(e, LoadError::WrongKind { expected: "volume", .. }), "{e}");
    assert_eq!(e.to_string(), "lh.curv: expected a volume, the file holds a surface");
    let e = load_surface(&volume_path("nibabel_standard.nii.gz"), &mut |_| {}).unwrap_err();
    assert!(
        matches!(
            e,
            LoadError::WrongKind {
                expected: "surface",
                ..
            }
        ),
        "{e}"
    );
    let e = load_volume(Path::new("/nonexistent/x.nii"), &mut |_| {}).unwrap_err();
    assert!(
        matches!(e, LoadError::Io { .. }) && e.to_string().starts_with("x.nii: "),
        "{e}"
    );
}

/// Every prefix and many single-byte corruptions of small real files: no panic, and an answer
/// (within [`HANG_BOUND`], which only a hang exceeds).
#[test]
fn cut_and_corrupted_files_never_panic() {
    let dir = scratch("fuzz");
    let sources = [
        volume_path("nibabel_standard.nii.gz"),
        data_dir().join("volumes/nibabel_test.mgz"),
        data_dir().join("generated/dtypes/int16_be.nii"),
        data_dir().join("generated/qform_only.nii"),
        data_dir().join("surfaces/nibabel_ascii.gii"),
        data_dir().join("surfaces/external.gii"),
        data_dir().join("generated/big_endian.gii"),
        data_dir().join("generated/labels_ascii.gii"),
        data_dir().join("generated/nifti2_anatomical_be.nii.gz"),
        data_dir().join("freesurfer/lh.sectors.annot"),
        data_dir().join("freesurfer/lh.curv"),
        data_dir().join("generated/labels/lh.square.label"),
        data_dir().join("generated/labels/dtypes.gii"),
    ];
    for src in &sources {
        let name = src.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = raw_bytes(src);
        let target = dir.join(name.trim_end_matches(".gz").replace(".mgz", ".mgh"));
        if name == "external.gii" {
            std::fs::copy(data_dir().join("surfaces/external.dat"), dir.join("external.dat")).unwrap();
        }
        // Cuts everywhere; corruptions dense in the header, sparse in the data.
        let cuts = (0..bytes.len()).step_by((bytes.len() / 40).max(1));
        let header = (0..bytes.len().min(360)).step_by(6).map(|i| (i, 0xff));
        let data = (0..bytes.len()).step_by((bytes.len() / 20).max(1)).map(|i| (i, 0x80));
        for cut in cuts {
            std::fs::write(&target, &bytes[..cut]).unwrap();
            let _ = without_hang(&format!("{name} cut at {cut}"), {
                let target = target.clone();
                move || cortexlens_data::load_path(&target, &mut |_| {})
            });
        }
        for (i, flip) in header.chain(data) {
            let mut b = bytes.clone();
            b[i] ^= flip;
            std::fs::write(&target, &b).unwrap();
            let _ = without_hang(&format!("{name} byte {i} ^ {flip:#x}"), {
                let target = target.clone();
                move || cortexlens_data::load_path(&target, &mut |_| {})
            });
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
