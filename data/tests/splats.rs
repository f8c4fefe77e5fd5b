//! Gaussian splats: one generated scene (`tests/data/generated/make_splats.py`) in every format,
//! against the activated values numpy computed (`splats.json`); malformed files; the placement fit
//! and its sidecar.
//!
//! Tolerances of the quantised formats follow from their definitions (see `make_splats.py` and the
//! readers' module docs): SPZ stores positions in steps of 2⁻¹² (±2⁻¹³), log-scales in steps of
//! 1/16 (±1/32), opacity and colour in 8 bits (±0.5/255; colour c = f_dc·0.15·255 + 127.5, so
//! f_dc ±0.5/38.25), SH as round(128·v) in buckets of 8 (degree 1) and 16 (above) (±4.5/128,
//! ±8.5/128), rotations as 9-bit magnitudes in units of 1/√2/511 (version 3) or 8-bit x, y, z
//! (version 2). The compressed PLY stores positions and log-scales as 11/10/11-bit fractions of
//! each 256-splat chunk's range (± half a step of that range), colours as 8-bit fractions of the
//! chunk's colour range (or of 0..1), opacity in 8 bits, rotations as 10-bit values in ±1/√2, SH
//! in steps of 8/256 (±4/256).

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{data_dir, load_err, scratch};
use cortexlens_data::formats::MEMORY_BUDGET;
use cortexlens_data::splats::Splats;
use cortexlens_data::splats::placement::{
    FitError, TransformFileError, fit_similarity, parse_transform, read_transform, sidecar_path, transform_json,
    write_transform,
};
use cortexlens_data::{LoadError, Loaded};
use glam::{DMat4, DQuat, DVec3};
use serde_json::Value;

const SH_C0: f64 = 0.282_094_791_773_878_14;

fn fixture(name: &str) -> PathBuf {
    data_dir().join("generated/splats").join(name)
}

fn load_splats(path: &Path) -> Splats {
    match common::load(path) {
        Ok(Loaded::Splats(s)) => {
            s.validate().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            s
        }
        Ok(other) => panic!("{}: loaded as a {}", path.display(), other.kind()),
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

/// The reference scene of `splats.json`, in f64.
struct Reference {
    n: usize,
    positions: Vec<[f64; 3]>,
    scales: Vec<[f64; 3]>,
    rotations: Vec<[f64; 4]>,
    opacities: Vec<f64>,
    /// 16 coefficients of RGB per splat.
    sh: Vec<[f64; 3]>,
    bounds: [[f64; 3]; 2],
}

fn reference() -> Reference {
    let v = common::json("generated/splats.json");
    let flat = |key: &str| common::fs(&v[key]);
    let n = v["count"].as_u64().unwrap() as usize;
    let triples = |key: &str| flat(key).chunks(3).map(|c| [c[0], c[1], c[2]]).collect::<Vec<_>>();
    let b: Vec<Vec<f64>> = v["bounds"].as_array().unwrap().iter().map(common::fs).collect();
    Reference {
        n,
        positions: triples("positions"),
        scales: triples("scales"),
        rotations: flat("rotations").chunks(4).map(|c| [c[0], c[1], c[2], c[3]]).collect(),
        opacities: flat("opacities"),
        sh: triples("sh"),
        bounds: [[b[0][0], b[0][1], b[0][2]], [b[1][0], b[1][1], b[1][2]]],
    }
}

/// Per-field tolerances of a format.
struct Tolerance {
    /// Absolute, per position coordinate of splat `i` and axis `a`.
    position: Box<dyn Fn(usize, usize) -> f64>,
    /// Absolute, of the natural log of a scale, per splat and axis.
    log_scale: Box<dyn Fn(usize, usize) -> f64>,
    /// Absolute, of an opacity.
    opacity: f64,
    /// Absolute, of the DC coefficient, per splat and channel.
    dc: Box<dyn Fn(usize, usize) -> f64>,
    /// Absolute, of SH coefficient `k ≥ 1`.
    sh: Box<dyn Fn(usize) -> f64>,
    /// Largest angle between the rotations, radians.
    angle: f64,
}

fn exact(rel: f64) -> Tolerance {
    Tolerance {
        position: Box::new(move |_, _| rel),
        log_scale: Box::new(move |_, _| rel),
        opacity: rel,
        dc: Box::new(move |_, _| rel),
        sh: Box::new(move |_| rel),
        angle: 1e-3,
    }
}

/// Checks `s` against the reference cut to `s`'s SH degree; returns the worst error of each field.
fn compare(what: &str, s: &Splats, r: &Reference, tol: &Tolerance) -> [f64; 6] {
    assert_eq!(s.len(), r.n, "{what}: count");
    let nc = (s.sh_degree as usize + 1).pow(2);
    let mut worst = [0f64; 6];
    let mut check = |field: usize, got: f64, want: f64, bound: f64, label: &dyn Fn() -> String| {
        let err = (got - want).abs();
        worst[field] = worst[field].max(err / bound.max(f64::MIN_POSITIVE));
        assert!(err <= bound, "{what}: {}: got {got}, want {want} (±{bound})", label());
    };
    for i in 0..r.n {
        for a in 0..3 {
            let p = f64::from(s.positions[i][a]);
            check(0, p, r.positions[i][a], (tol.position)(i, a), &|| {
                format!("splat {i} position {a}")
            });
            let ls = f64::from(s.scales[i][a]).ln();
            check(1, ls, r.scales[i][a].ln(), (tol.log_scale)(i, a), &|| {
                format!("splat {i} log-scale {a}")
            });
        }
        check(2, f64::from(s.opacities[i]), r.opacities[i], tol.opacity, &|| {
            format!("splat {i} opacity")
        });
        let q = s.rotations[i].map(f64::from);
        let dot: f64 = (0..4).map(|k| q[k] * r.rotations[i][k]).sum::<f64>().abs().min(1.0);
        let angle = 2.0 * dot.acos();
        check(3, angle, 0.0, tol.angle, &|| {
            format!("splat {i} rotation {q:?} vs {:?} (rad)", r.rotations[i])
        });
        for k in 0..nc {
            for c in 0..3 {
                let got = f64::from(s.sh[i * nc + k][c]);
                let want = r.sh[i * 16 + k][c];
                let (field, bound) = if k == 0 { (4, (tol.dc)(i, c)) } else { (5, (tol.sh)(k)) };
                check(field, got, want, bound, &|| format!("splat {i} SH {k} channel {c}"));
            }
        }
    }
    worst
}

fn without_name(mut s: Splats) -> Splats {
    s.name.clear();
    s
}

#[test]
fn ply_binary_both_endians_and_ascii_load_the_reference() {
    let r = reference();
    let le = load_splats(&fixture("scene_le.ply"));
    assert_eq!(le.name, "scene_le.ply");
    assert_eq!(le.sh_degree, 3);
    let be = load_splats(&fixture("scene_be.ply"));
    let ascii = load_splats(&fixture("scene_ascii.ply"));
    // float32 as stored: the three files hold the same numbers, so load bit for bit the same.
    assert_eq!(without_name(le.clone()), without_name(be));
    assert_eq!(without_name(le.clone()), without_name(ascii));
    // Activated in f32 here, f64 in numpy (rounded to 9 digits): within a few ulp.
    let tol = Tolerance {
        position: Box::new(|_, _| 1e-7),
        ..exact(2e-6)
    };
    compare("scene_le.ply", &le, &r, &tol);
    let (lo, hi) = le.bounds().unwrap();
    for a in 0..3 {
        assert!((f64::from(lo[a]) - r.bounds[0][a]).abs() < 1e-7);
        assert!((f64::from(hi[a]) - r.bounds[1][a]).abs() < 1e-7);
    }
}

#[test]
fn ply_with_other_types_order_extras_and_degree_one() {
    let r = reference();
    let mixed = load_splats(&fixture("scene_mixed.ply"));
    assert_eq!(mixed.sh_degree, 1);
    assert_eq!(mixed.sh.len(), r.n * 4);
    // Doubles written from the same float32 values: identical once stored as f32.
    let le = load_splats(&fixture("scene_le.ply"));
    assert_eq!(mixed.positions, le.positions);
    assert_eq!(mixed.rotations, le.rotations);
    assert_eq!(mixed.scales, le.scales);
    for i in 0..r.n {
        assert_eq!(mixed.coefficients(i), &le.coefficients(i)[..4], "splat {i}");
    }
}

#[test]
fn a_saved_scene_loads_back_as_it_was() {
    let dir = scratch("splats_saved");
    for (name, degree) in [("scene_le.ply", 3), ("scene_mixed.ply", 1)] {
        let scene = load_splats(&fixture(name));
        assert_eq!(scene.sh_degree, degree);
        let path = dir.join(name);
        cortexlens_data::formats::save_splats_ply(&path, &scene).unwrap();
        let back = load_splats(&path);
        assert_eq!(back.sh_degree, degree);
        // Positions, SH and rotations as stored; scales and opacities through ln/exp and
        // logit/sigmoid in f32.
        assert_eq!((&back.positions, &back.sh), (&scene.positions, &scene.sh), "{name}");
        assert_eq!(back.rotations, scene.rotations, "{name}");
        let near = |a: f32, b: f32| (a - b).abs() <= 1e-5 * b.abs().max(1.0);
        for i in 0..scene.len() {
            assert!(near(back.opacities[i], scene.opacities[i]), "{name}: opacity {i}");
            for a in 0..3 {
                assert!(near(back.scales[i][a], scene.scales[i][a]), "{name}: scale {i}");
            }
        }
    }
}

#[test]
fn ply_gzipped_loads_the_same() {
    let dir = scratch("splats_gz");
    let path = dir.join("scene.ply.gz");
    std::fs::write(&path, common::gzip(&std::fs::read(fixture("scene_le.ply")).unwrap())).unwrap();
    assert_eq!(
        without_name(load_splats(&path)),
        without_name(load_splats(&fixture("scene_le.ply")))
    );
}

fn spz_tolerance(version: u32) -> Tolerance {
    Tolerance {
        position: Box::new(|_, _| 0.5 / 4096.0 + 1e-7),
        log_scale: Box::new(|_, _| 1.0 / 32.0 + 1e-5),
        opacity: 0.5 / 255.0 + 1e-6,
        dc: Box::new(|_, _| 0.5 / (0.15 * 255.0) + 1e-5),
        sh: Box::new(|k| (if k <= 3 { 4.5 } else { 8.5 }) / 128.0 + 1e-6),
        // Version 3: 9-bit magnitudes (about 0.002 rad). Version 2: 8-bit x, y, z (±0.5/127.5) with
        // w = √(1 − |xyz|²) derived, which near w = 0 is off by up to √(2·√3·0.5/127.5) ≈ 0.12
        // (about 0.23 rad).
        angle: if version >= 3 { 0.004 } else { 0.25 },
    }
}

#[test]
fn spz_versions_3_and_2_load_the_reference_to_their_precision() {
    let r = reference();
    for version in [3, 2] {
        let name = format!("scene_v{version}.spz");
        let s = load_splats(&fixture(&name));
        assert_eq!(s.sh_degree, 3);
        let worst = compare(&name, &s, &r, &spz_tolerance(version));
        // The bounds are not loose: some splat comes near each.
        assert!(
            worst.iter().all(|&w| w > 0.1),
            "{name}: worst errors / bounds {worst:?}"
        );
    }
}

/// The attribute arrays of a gzip (version 1–3) SPZ: header, then positions … SH.
fn spz_payload(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&std::fs::read(path).unwrap()[..])
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A version-4 SPZ (zstd streams behind a plain header) holding what the version-3 file holds,
/// with `extensions` between the header and the table of contents.
fn spz_v4(v3: &[u8], extensions: &[u8]) -> Vec<u8> {
    let n = u32::from_le_bytes(v3[8..12].try_into().unwrap()) as usize;
    let sizes = [9 * n, n, 3 * n, 3 * n, 4 * n, 45 * n];
    let mut at = 16;
    let streams: Vec<Vec<u8>> = sizes
        .iter()
        .map(|&len| {
            let s = &v3[at..at + len];
            at += len;
            ruzstd::encoding::compress_to_vec(s, ruzstd::encoding::CompressionLevel::Fastest)
        })
        .collect();
    let toc = 32 + extensions.len();
    let mut out = Vec::new();
    out.extend(b"NGSP");
    out.extend(4u32.to_le_bytes());
    out.extend((n as u32).to_le_bytes());
    out.extend([3, 12, if extensions.is_empty() { 0 } else { 2 }, 6]);
    out.extend((toc as u32).to_le_bytes());
    out.extend([0u8; 12]);
    out.extend(extensions);
    for (s, &len) in streams.iter().zip(&sizes) {
        out.extend((s.len() as u64).to_le_bytes());
        out.extend((len as u64).to_le_bytes());
    }
    for s in &streams {
        out.extend(s);
    }
    out
}

fn coordinate_extension(system: u32) -> Vec<u8> {
    let mut e = Vec::new();
    e.extend(0xADBE_0003u32.to_le_bytes());
    e.extend(4u32.to_le_bytes());
    e.extend(system.to_le_bytes());
    e
}

#[test]
fn spz_version_4_zstd_loads_as_version_3_and_honours_the_coordinate_extension() {
    let dir = scratch("splats_v4");
    let v3 = load_splats(&fixture("scene_v3.spz"));
    let payload = spz_payload(&fixture("scene_v3.spz"));
    let path = dir.join("scene_v4.spz");
    std::fs::write(&path, spz_v4(&payload, &[])).unwrap();
    assert_eq!(without_name(load_splats(&path)), without_name(v3.clone()));
    // The extension naming RUB (the default) changes nothing; naming RDF (PLY's axes), nothing is
    // flipped: y and z come out negated relative to the RUB reading.
    std::fs::write(&path, spz_v4(&payload, &coordinate_extension(4))).unwrap();
    assert_eq!(without_name(load_splats(&path)), without_name(v3.clone()));
    std::fs::write(&path, spz_v4(&payload, &coordinate_extension(6))).unwrap();
    let rdf = load_splats(&path);
    for i in 0..v3.len() {
        let [x, y, z] = v3.positions[i];
        assert_eq!(rdf.positions[i], [x, -y, -z]);
        let [w, qx, qy, qz] = v3.rotations[i];
        assert_eq!(rdf.rotations[i], [w, qx, -qy, -qz]);
    }
    // A rotated axis order is refused, by name.
    std::fs::write(&path, spz_v4(&payload, &coordinate_extension(12))).unwrap();
    let e = load_err(&path);
    assert!(
        matches!(e, LoadError::Splats { .. }) && e.to_string().contains("rotated"),
        "{e}"
    );
    // The same in a gzip stream (extensions after the data, flag 0x2).
    let mut legacy = payload.clone();
    legacy[14] = 2;
    legacy.extend(coordinate_extension(6));
    let gz = dir.join("scene_ext.spz");
    std::fs::write(&gz, common::gzip(&legacy)).unwrap();
    assert_eq!(load_splats(&gz).positions, rdf.positions);
}

fn compressed_tolerance(r: &Reference, chunk_colors: bool) -> Tolerance {
    // Each chunk's ranges, as the writer took them from the float32 values.
    let chunks = r.n.div_ceil(256);
    let range = |f: &dyn Fn(usize) -> f64, c: usize| {
        let idx = c * 256..((c + 1) * 256).min(r.n);
        let (lo, hi) = idx.fold((f64::MAX, f64::MIN), |(lo, hi), i| (lo.min(f(i)), hi.max(f(i))));
        hi - lo
    };
    let bits = [11.0, 10.0, 11.0];
    let per_chunk = |f: &dyn Fn(usize, usize) -> f64| -> Vec<[f64; 3]> {
        (0..chunks)
            .map(|c| std::array::from_fn(|a| range(&|i| f(i, a), c)))
            .collect()
    };
    let pos = per_chunk(&|i, a| r.positions[i][a]);
    let scale = per_chunk(&|i, a| r.scales[i][a].ln());
    let color = per_chunk(&|i, a| r.sh[i * 16][a] * SH_C0 + 0.5);
    let step = |range: f64, b: f64| range / (2f64.powf(b) - 1.0) / 2.0;
    Tolerance {
        position: Box::new(move |i, a| step(pos[i / 256][a], bits[a]) + 1e-6),
        log_scale: Box::new(move |i, a| step(scale[i / 256][a], bits[a]) + 1e-5),
        opacity: 0.5 / 255.0 + 1e-6,
        dc: Box::new(move |i, c| {
            let range = if chunk_colors { color[i / 256][c] } else { 1.0 };
            step(range, 8.0) / SH_C0 + 1e-5
        }),
        sh: Box::new(|_| 4.0 / 256.0 + 1e-6),
        angle: 0.004,
    }
}

#[test]
fn compressed_ply_loads_the_reference_to_its_precision() {
    let r = reference();
    let s = load_splats(&fixture("scene.compressed.ply"));
    assert_eq!((s.len(), s.sh_degree), (260, 3));
    let worst = compare("scene.compressed.ply", &s, &r, &compressed_tolerance(&r, true));
    assert!(worst.iter().all(|&w| w > 0.1), "worst errors / bounds {worst:?}");
    let s = load_splats(&fixture("scene_nocolor.compressed.ply"));
    assert_eq!(s.sh_degree, 0);
    compare("scene_nocolor.compressed.ply", &s, &r, &compressed_tolerance(&r, false));
}

#[test]
fn a_ply_mesh_is_not_taken_for_splats() {
    let dir = scratch("splats_mesh");
    let path = dir.join("mesh.ply");
    std::fs::write(
        &path,
        "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n\
         element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n",
    )
    .unwrap();
    let e = load_err(&path);
    assert!(matches!(e, LoadError::UnknownFormat { .. }), "{e}");
}

/// `bytes` with the first occurrence of `from` replaced by `to` (same length).
fn edit(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap_or_else(|| panic!("{from} not found"));
    let mut out = bytes[..at].to_vec();
    out.extend(to.as_bytes());
    out.extend(&bytes[at + from.len()..]);
    out
}

fn header_end(bytes: &[u8]) -> usize {
    bytes.windows(11).position(|w| w == b"end_header\n").unwrap() + 11
}

/// Loads a malformed file: a typed error naming the file, within a second.
#[track_caller]
fn refused(dir: &Path, name: &str, bytes: &[u8]) -> LoadError {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let start = Instant::now();
    let e = load_err(&path);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{name}: {:?}",
        start.elapsed()
    );
    assert_eq!(e.file(), name);
    e
}

#[test]
fn malformed_ply_files_are_typed_errors() {
    let dir = scratch("splats_bad_ply");
    let le = std::fs::read(fixture("scene_le.ply")).unwrap();
    let body = header_end(&le);
    let row = (le.len() - body) / 260;

    let e = refused(&dir, "truncated.ply", &le[..body + 100 * row + 7]);
    assert!(matches!(e, LoadError::Truncated { .. }), "{e}");
    let e = refused(&dir, "header_only.ply", &le[..body - 3]);
    assert!(matches!(e, LoadError::Truncated { .. }), "{e}");

    for count in ["99999999", "18446744073709551615"] {
        let claimed = String::from_utf8(edit(
            &le[..body],
            "element vertex 260",
            &format!("element vertex {count}"),
        ))
        .unwrap();
        let mut bytes = claimed.into_bytes();
        bytes.extend(&le[body..]);
        let e = refused(&dir, "too_many.ply", &bytes);
        assert!(
            matches!(e, LoadError::Truncated { .. } | LoadError::TooLarge { .. }),
            "{e}"
        );
        assert!(e.to_string().contains(count), "{e}");
    }

    let e = refused(
        &dir,
        "no_opacity.ply",
        &edit(&le, "property float opacity", "property float opacitx"),
    );
    match &e {
        LoadError::MissingProperties { element, names, .. } => {
            assert_eq!(
                (element.as_str(), names.as_slice()),
                ("vertex", &["opacity".to_owned()][..])
            );
        }
        _ => panic!("{e}"),
    }
    assert!(e.to_string().contains("has no opacity"), "{e}");
    let e = refused(
        &dir,
        "no_rest_7.ply",
        &edit(&le, "property float f_rest_7\n", "property float f_xxxx_7\n"),
    );
    assert!(
        matches!(&e, LoadError::MissingProperties { names, .. } if names == &["f_rest_7".to_owned()]),
        "{e}"
    );

    // NaN in splat 7's opacity (float 54 of its row: x y z nx ny nz, 3 dc, 45 rest).
    let mut nan = le.clone();
    let at = body + 7 * row + 54 * 4;
    nan[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    let e = refused(&dir, "nan.ply", &nan);
    assert!(matches!(e, LoadError::NonFinite { .. }), "{e}");
    assert!(e.to_string().contains("splat 7: opacity"), "{e}");
    // A log-scale whose exp overflows.
    let mut huge = le.clone();
    let at = body + 3 * row + 55 * 4;
    huge[at..at + 4].copy_from_slice(&200f32.to_le_bytes());
    let e = refused(&dir, "huge_scale.ply", &huge);
    assert!(e.to_string().contains("splat 3: exp(scale_0)"), "{e}");
    // A zero quaternion.
    let mut zero = le.clone();
    let at = body + 5 * row + 58 * 4;
    zero[at..at + 16].fill(0);
    let e = refused(&dir, "zero_rotation.ply", &zero);
    assert!(
        matches!(e, LoadError::Splats { .. }) && e.to_string().contains("splat 5"),
        "{e}"
    );

    let e = refused(&dir, "bad_magic.ply", &edit(&le, "ply\n", "plx\n"));
    assert!(matches!(e, LoadError::BadMagic { .. }), "{e}");
    let e = refused(
        &dir,
        "bad_format.ply",
        &edit(&le, "binary_little_endian", "binary_middle_endian"),
    );
    assert!(matches!(e, LoadError::Ply { .. }), "{e}");

    let ascii = std::fs::read(fixture("scene_ascii.ply")).unwrap();
    let start = header_end(&ascii);
    let first = ascii[start..].iter().position(|&b| b == b' ').unwrap();
    let mut bad_x = ascii[..start].to_vec();
    bad_x.extend(b"1.2.3");
    bad_x.extend(&ascii[start + first..]);
    let e = refused(&dir, "bad_number.ply", &bad_x);
    assert!(e.to_string().contains("`1.2.3` is not a float (x)"), "{e}");
    assert!(
        matches!(e, LoadError::Ply { .. }) && e.to_string().contains("line 67"),
        "{e}"
    );
    let e = refused(&dir, "short_ascii.ply", &ascii[..ascii.len() / 2]);
    assert!(matches!(e, LoadError::Truncated { .. } | LoadError::Ply { .. }), "{e}");

    let compressed = std::fs::read(fixture("scene.compressed.ply")).unwrap();
    let e = refused(
        &dir,
        "few_chunks.compressed.ply",
        &edit(&compressed, "element chunk 2", "element chunk 1"),
    );
    assert!(matches!(e, LoadError::Splats { .. }), "{e}");
    let e = refused(
        &dir,
        "no_color.compressed.ply",
        &edit(&compressed, "uint packed_color", "uint packed_colox"),
    );
    assert!(
        matches!(e, LoadError::MissingProperties { .. }) && e.to_string().contains("packed_color"),
        "{e}"
    );
    let e = refused(&dir, "cut.compressed.ply", &compressed[..compressed.len() - 100]);
    assert!(matches!(e, LoadError::Truncated { .. }), "{e}");
}

#[test]
fn malformed_spz_files_are_typed_errors() {
    let dir = scratch("splats_bad_spz");
    let payload = spz_payload(&fixture("scene_v3.spz"));
    let gz = common::gzip;

    let e = refused(&dir, "magic.spz", &gz(&edit(&payload, "NGSP", "NGSQ")));
    assert!(matches!(e, LoadError::BadMagic { .. }), "{e}");
    let e = refused(&dir, "plain.spz", b"not an spz file at all");
    assert!(matches!(e, LoadError::BadMagic { .. }), "{e}");
    let e = refused(&dir, "cut.spz", &gz(&payload[..payload.len() / 2]));
    assert!(matches!(e, LoadError::Truncated { .. }), "{e}");
    let mut many = payload.clone();
    many[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    let e = refused(&dir, "count.spz", &gz(&many));
    assert!(
        matches!(e, LoadError::Truncated { .. } | LoadError::TooLarge { .. }),
        "{e}"
    );
    let mut version = payload.clone();
    version[4] = 9;
    let e = refused(&dir, "version.spz", &gz(&version));
    assert!(
        matches!(e, LoadError::BadHeader { .. }) && e.to_string().contains("version 9"),
        "{e}"
    );
    // Corrupt deflate data: an error or (where the damage still inflates) values, never a panic.
    let mut corrupt = gz(&payload);
    let mid = corrupt.len() / 2;
    corrupt[mid..mid + 8].fill(0xff);
    std::fs::write(dir.join("corrupt.spz"), &corrupt).unwrap();
    let _ = common::load_without_hang(&dir.join("corrupt.spz"));

    let v4 = spz_v4(&payload, &[]);
    let e = refused(&dir, "v4_cut.spz", &v4[..v4.len() - 10]);
    assert!(matches!(e, LoadError::Truncated { .. }), "{e}");
    let mut lie = v4.clone();
    lie[32 + 8..32 + 16].copy_from_slice(&(260u64 * 9 + 1).to_le_bytes());
    let e = refused(&dir, "v4_size.spz", &lie);
    assert!(matches!(e, LoadError::Splats { .. }), "{e}");
    let mut garbage = v4.clone();
    let first_stream = 32 + 6 * 16;
    garbage[first_stream..first_stream + 4].fill(0);
    let e = refused(&dir, "v4_zstd.spz", &garbage);
    assert!(
        matches!(e, LoadError::BadGzip { .. } | LoadError::Truncated { .. }),
        "{e}"
    );
    let mut big = v4.clone();
    big[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    let e = refused(&dir, "v4_count.spz", &big);
    assert!(
        matches!(e, LoadError::Splats { .. } | LoadError::TooLarge { .. }),
        "{e}"
    );
    assert!(
        u64::from(u32::MAX) * 236 > MEMORY_BUDGET,
        "the count above is over the budget"
    );
}

#[test]
fn spz_gzip_bomb_is_read_no_further_than_its_header() {
    // The v3 scene, then 256 MiB of zeros in the same gzip member: the 260 splats load and the
    // zeros are not inflated (bombs.rs measures the heap of the same case).
    let dir = scratch("splats_bomb");
    let payload = spz_payload(&fixture("scene_v3.spz"));
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    use std::io::Write;
    e.write_all(&payload).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        e.write_all(&zeros).unwrap();
    }
    let path = dir.join("bomb.spz");
    std::fs::write(&path, e.finish().unwrap()).unwrap();
    let start = Instant::now();
    let s = load_splats(&path);
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    assert_eq!(without_name(s), without_name(load_splats(&fixture("scene_v3.spz"))));
}

fn known_transform() -> DMat4 {
    DMat4::from_scale_rotation_translation(
        DVec3::splat(950.0),
        DQuat::from_euler(glam::EulerRot::XYZ, 0.4, -1.1, 2.3),
        DVec3::new(3.5, -21.0, 44.0),
    )
}

#[test]
fn placement_fit_recovers_a_known_similarity() {
    let t = known_transform();
    // Nasion, preauricular points and a vertex point of a head in scene units (metres).
    let scene = [
        DVec3::new(0.0, 0.1, 0.02),
        DVec3::new(-0.075, 0.0, -0.01),
        DVec3::new(0.075, 0.0, -0.012),
        DVec3::new(0.0, -0.02, 0.12),
    ];
    let world: Vec<DVec3> = scene.iter().map(|&p| t.transform_point3(p)).collect();
    for n in [3, 4] {
        let fit = fit_similarity(&scene[..n], &world[..n]).unwrap();
        assert!(fit.rms_mm < 1e-9, "{n} pairs: {}", fit.rms_mm);
        assert!((fit.scale - 950.0).abs() < 1e-9, "{}", fit.scale);
        assert!((fit.rotation.determinant() - 1.0).abs() < 1e-12);
        assert!(
            fit.scene_to_world.abs_diff_eq(t, 1e-9),
            "{:?} vs {t:?}",
            fit.scene_to_world
        );
    }
    // Noisy picks: the residual is reported, and is about the noise (2 mm here).
    let noise = [
        DVec3::new(1.5, -0.5, 1.0),
        DVec3::new(-1.0, 2.0, 0.5),
        DVec3::new(0.5, -1.5, -2.0),
        DVec3::new(-1.0, 0.0, 1.5),
    ];
    let noisy: Vec<DVec3> = world.iter().zip(noise).map(|(&w, d)| w + d).collect();
    let fit = fit_similarity(&scene, &noisy).unwrap();
    assert!(fit.rms_mm > 0.1 && fit.rms_mm < 3.0, "{}", fit.rms_mm);
    let rms = (fit.residuals_mm.iter().map(|r| r * r).sum::<f64>() / 4.0).sqrt();
    assert!((rms - fit.rms_mm).abs() < 1e-12);
    // A mirrored world (a reflection fits best) still gets a proper rotation.
    let mirrored: Vec<DVec3> = world.iter().map(|w| DVec3::new(-w.x, w.y, w.z)).collect();
    let fit = fit_similarity(&scene, &mirrored).unwrap();
    assert!((fit.rotation.determinant() - 1.0).abs() < 1e-9);
    assert!(fit.rms_mm > 1.0);
}

#[test]
fn placement_fit_refuses_too_few_and_collinear_points() {
    let a = [DVec3::ZERO, DVec3::X];
    assert_eq!(fit_similarity(&a, &a), Err(FitError::TooFewPairs { pairs: 2 }));
    let line = [DVec3::ZERO, DVec3::X, DVec3::X * 2.0, DVec3::X * 5.0];
    let good = [DVec3::ZERO, DVec3::X, DVec3::Y, DVec3::Z];
    assert_eq!(
        fit_similarity(&line, &good),
        Err(FitError::Degenerate { side: "scene" })
    );
    assert_eq!(
        fit_similarity(&good, &line),
        Err(FitError::Degenerate { side: "world" })
    );
    let same = [DVec3::ONE; 3];
    assert_eq!(
        fit_similarity(&same, &good[..3]),
        Err(FitError::Degenerate { side: "scene" })
    );
    assert!(matches!(
        fit_similarity(&good, &good[..3]),
        Err(FitError::Unpaired { .. })
    ));
    let nan = [DVec3::ZERO, DVec3::X, DVec3::new(f64::NAN, 0.0, 0.0)];
    assert_eq!(fit_similarity(&nan, &good[..3]), Err(FitError::NonFinite { pair: 2 }));
    assert!(FitError::Degenerate { side: "scene" }.to_string().contains("collinear"));
}

#[test]
fn placement_sidecar_round_trips_and_refuses_bad_files() {
    let dir = scratch("splats_sidecar");
    let scene = dir.join("head.ply");
    let path = sidecar_path(&scene);
    assert_eq!(path, dir.join("head.ply.transform.json"));
    let t = known_transform();
    write_transform(&path, &t).unwrap();
    assert_eq!(read_transform(&path).unwrap(), t);
    let text = std::fs::read_to_string(&path).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["format"], "cortexlens-transform");
    assert_eq!(v["version"], 1);
    assert_eq!(v["scene_to_world"][3], serde_json::json!([0.0, 0.0, 0.0, 1.0]));
    assert_eq!(v["scene_to_world"][0][3].as_f64().unwrap(), t.w_axis.x);
    assert_eq!(text, transform_json(&t));

    let doc = |m: &str| format!("{{\"format\":\"cortexlens-transform\",\"version\":1,\"scene_to_world\":{m}}}");
    let identity = "[[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]";
    assert_eq!(parse_transform(doc(identity).as_bytes()).unwrap(), DMat4::IDENTITY);
    for (text, want) in [
        ("not json".to_owned(), "not JSON"),
        ("[1,2]".to_owned(), "not an object"),
        (
            identity.replace("[[", "{\"x\":[[").replace("]]", "]]}"),
            "no \"format\"",
        ),
        (doc(identity).replace("version\":1", "version\":2"), "version 2"),
        (doc(identity).replace("cortexlens-transform", "other"), "\"other\""),
        (doc("[[1,0,0,0],[0,1,0,0],[0,0,1,0]]"), "3 rows"),
        (doc("[[1,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]"), "row 0"),
        (doc("[[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,1,1]]"), "last row"),
        (doc("[[0,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]"), "singular"),
        (doc("[[1,0,0,\"a\"],[0,1,0,0],[0,0,1,0],[0,0,0,1]]"), "column 3"),
    ] {
        let bad = dir.join("bad.transform.json");
        std::fs::write(&bad, &text).unwrap();
        let e = read_transform(&bad).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with(&bad.display().to_string()), "{msg}");
        assert!(msg.contains(want), "{text}: {msg}");
    }
    let e = read_transform(&dir.join("missing.json")).unwrap_err();
    assert!(matches!(e, TransformFileError::Io { .. }), "{e}");
}
