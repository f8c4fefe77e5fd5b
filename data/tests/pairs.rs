//! NIfTI pairs (`.hdr` + `.img`, either given, each possibly gzipped) built from a single file.

mod common;

use common::*;

/// Splits a big-endian NIfTI-1 `.nii` into a pair header (magic `ni1`, vox_offset 0) and image bytes.
fn split(nii: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut hdr = nii[..348].to_vec();
    hdr[344..348].copy_from_slice(b"ni1\0");
    hdr[108..112].copy_from_slice(&0f32.to_be_bytes());
    (hdr, nii[352..].to_vec())
}

#[test]
fn pair_loads_like_the_single_file() {
    let src = volume_path("nibabel_anatomical.nii");
    let single = load_vol(&src);
    let (hdr, img) = split(&std::fs::read(&src).unwrap());
    let dir = scratch("pairs");
    std::fs::write(dir.join("anat.hdr"), &hdr).unwrap();
    std::fs::write(dir.join("anat.img"), &img).unwrap();
    std::fs::write(dir.join("zipped.hdr"), &hdr).unwrap();
    std::fs::write(dir.join("zipped.img.gz"), gzip(&img)).unwrap();
    std::fs::write(dir.join("both.hdr.gz"), gzip(&hdr)).unwrap();
    std::fs::write(dir.join("both.img.gz"), gzip(&img)).unwrap();
    std::fs::write(dir.join("UPPER.HDR"), &hdr).unwrap();
    std::fs::write(dir.join("UPPER.IMG"), &img).unwrap();
    for name in [
        "anat.hdr",
        "anat.img",
        "zipped.hdr",
        "zipped.img.gz",
        "both.hdr.gz",
        "both.img.gz",
        "UPPER.HDR",
    ] {
        let v = load_vol(&dir.join(name));
        assert_eq!(v.name, name);
        assert_eq!(v.shape, single.shape, "{name}");
        assert_eq!(v.datatype, "int16", "{name}");
        assert!(v.affine.abs_diff_eq(single.affine, 0.0), "{name}");
        assert!(v.data == single.data, "{name}");
        let grid = cortexlens_data::formats::read_grid(&dir.join(name)).unwrap();
        assert_eq!(
            (grid.shape, grid.zooms, grid.affine),
            (v.shape, v.zooms, v.affine),
            "{name}: the header alone"
        );
    }

    // vox_offset inside the .img.
    let mut hdr2 = hdr.clone();
    hdr2[108..112].copy_from_slice(&16f32.to_be_bytes());
    let mut img2 = vec![0xAB; 16];
    img2.extend_from_slice(&img);
    std::fs::write(dir.join("offset.hdr"), &hdr2).unwrap();
    std::fs::write(dir.join("offset.img"), &img2).unwrap();
    assert!(load_vol(&dir.join("offset.hdr")).data == single.data);

    // A missing or short partner is an error naming the file at fault.
    std::fs::write(dir.join("lonely.hdr"), &hdr).unwrap();
    let e = load_err(&dir.join("lonely.hdr"));
    assert!(e.to_string().contains("lonely.img"), "{e}");
    std::fs::write(dir.join("short.hdr"), &hdr).unwrap();
    std::fs::write(dir.join("short.img"), &img[..100]).unwrap();
    let e = load_err(&dir.join("short.hdr"));
    assert!(e.to_string().starts_with("short.img: truncated"), "{e}");
    std::fs::write(dir.join("badhdr.hdr"), &hdr[..200]).unwrap();
    std::fs::write(dir.join("badhdr.img"), &img).unwrap();
    let e = load_err(&dir.join("badhdr.img"));
    assert!(e.to_string().starts_with("badhdr.hdr: "), "{e}");
    let _ = std::fs::remove_dir_all(dir);
}
