//! The command line end to end: `info --json` against nibabel's numbers, `render` to PNG, bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fixture by file name: the demo volumes live in `assets/`, the rest under `tests/data/`.
fn fixture(sub: &str, name: &str) -> PathBuf {
    let asset = repo().join("assets").join(name);
    if asset.exists() {
        asset
    } else {
        repo().join("tests/data").join(sub).join(name)
    }
}

fn reference(name: &str) -> Value {
    let text = std::fs::read_to_string(repo().join("tests/data/reference").join(name)).expect("reference json");
    serde_json::from_str(&text).expect("valid json")
}

fn cortexlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cortexlens"))
        .args(args)
        .env(
            "WGPU_BACKEND",
            std::env::var("WGPU_BACKEND").unwrap_or_else(|_| "vulkan".into()),
        )
        .output()
        .expect("run cortexlens")
}

/// numpy's dtype name for an on-disk dtype string such as `>i2` (byte order dropped).
fn numpy_name(dtype: &str) -> &str {
    match dtype.trim_start_matches(['<', '>', '=', '|']) {
        "u1" => "uint8",
        "i1" => "int8",
        "i2" => "int16",
        "u2" => "uint16",
        "i4" => "int32",
        "u4" => "uint32",
        "i8" => "int64",
        "u8" => "uint64",
        "f4" => "float32",
        "f8" => "float64",
        _ => dtype,
    }
}

fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    (a - b).abs() <= abs + rel * b.abs()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

#[test]
fn info_json_matches_nibabel_for_every_volume() {
    let volumes = reference("volumes.json");
    for expected in volumes["volumes"].as_array().unwrap() {
        let name = expected["file"].as_str().unwrap();
        let path = fixture("volumes", name);
        let mut args = vec!["info".to_owned(), path.to_string_lossy().into_owned(), "--json".into()];
        for sample in expected["samples"].as_array().unwrap() {
            let ijk: Vec<String> = sample["ijk"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.to_string())
                .collect();
            args.push("--at".into());
            args.push(ijk.join(","));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = cortexlens(&args);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let got: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
        assert_eq!(got["kind"], "volume", "{name}");
        assert_eq!(got["shape"], expected["shape"], "{name}");
        assert_eq!(
            got["datatype"].as_str(),
            Some(numpy_name(expected["on_disk_dtype"].as_str().unwrap())),
            "{name}"
        );
        let (zooms, expected_zooms) = (got["zooms"].as_array().unwrap(), expected["zooms"].as_array().unwrap());
        assert_eq!(zooms.len(), expected_zooms.len(), "{name} zooms");
        for (g, e) in zooms.iter().zip(expected_zooms) {
            assert!(close(f(g), f(e), 1e-6, 1e-6), "{name} zooms {g} vs {e}");
        }
        for r in 0..4 {
            for c in 0..4 {
                let (g, e) = (f(&got["affine"][r][c]), f(&expected["affine"][r][c]));
                assert!(close(g, e, 0.0, 1e-4), "{name} affine[{r}][{c}] {g} vs {e}");
            }
        }
        let stats = &expected["stats_scaled"];
        for key in ["min", "max", "mean", "sum"] {
            let (g, e) = (f(&got["stats"][key]), f(&stats[key]));
            assert!(close(g, e, 1e-6, 1e-9), "{name} {key} {g} vs {e}");
        }
        assert_eq!(got["stats"]["n_nan"], stats["n_nan"], "{name}");
        assert_eq!(got["stats"]["n_nonzero"], stats["n_nonzero"], "{name}");
        assert!(
            close(f(&got["scl_slope"]), f(&expected["scl_slope"]), 1e-7, 0.0),
            "{name} slope"
        );
        assert!(
            close(f(&got["scl_inter"]), f(&expected["scl_inter"]), 1e-7, 1e-12),
            "{name} inter"
        );
        let (samples, expected_samples) = (
            got["samples"].as_array().unwrap(),
            expected["samples"].as_array().unwrap(),
        );
        assert_eq!(samples.len(), expected_samples.len(), "{name} samples");
        for (g, e) in samples.iter().zip(expected_samples) {
            assert_eq!(g["ijk"], e["ijk"]);
            assert!(
                close(f(&g["value"]), f(&e["value"]), 1e-6, 1e-6),
                "{name} {} value {} vs {}",
                e["ijk"],
                g["value"],
                e["value"]
            );
            for a in 0..3 {
                assert!(
                    close(f(&g["world_mm"][a]), f(&e["world_mm"][a]), 0.0, 1e-4),
                    "{name} world"
                );
            }
        }
    }
}

#[test]
fn info_json_describes_surface_arrays_and_labels() {
    let surfaces = reference("surfaces.json");
    for expected in surfaces["surfaces"].as_array().unwrap() {
        let name = expected["file"].as_str().unwrap();
        let out = cortexlens(&["info", fixture("surfaces", name).to_str().unwrap(), "--json"]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let got: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got["kind"], "surface");
        let (g, e) = (
            got["arrays"].as_array().unwrap(),
            expected["arrays"].as_array().unwrap(),
        );
        assert_eq!(g.len(), e.len(), "{name}");
        for (g, e) in g.iter().zip(e) {
            assert_eq!(g["intent"], e["intent"], "{name}");
            assert_eq!(g["datatype"], e["dtype"], "{name}");
            assert_eq!(g["shape"], e["shape"], "{name}");
            for key in ["min", "max", "sum"] {
                assert!(
                    close(f(&g[key]), f(&e[key]), 1e-6, 1e-6),
                    "{name} {key} {} vs {}",
                    g[key],
                    e[key]
                );
            }
        }
        if let Some(labels) = expected.get("labels").and_then(Value::as_array) {
            let got_labels = got["labels"].as_array().unwrap();
            assert_eq!(got_labels.len(), labels.len(), "{name}");
        }
    }
}

#[test]
fn bad_input_is_one_line_on_stderr_with_exit_code_2() {
    let dir = std::env::temp_dir().join(format!("cortexlens-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_gzip = dir.join("not_gzip.nii.gz");
    std::fs::write(&not_gzip, b"this is not gzip at all, just text").unwrap();
    let empty = dir.join("empty.nii");
    std::fs::write(&empty, b"").unwrap();
    let missing = dir.join("missing.nii");
    for path in [&not_gzip, &empty, &missing] {
        let out = cortexlens(&["info", path.to_str().unwrap(), "--json"]);
        assert_eq!(out.status.code(), Some(2), "{}", path.display());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    let mni = fixture("volumes", "mni152_t1_1mm.nii.gz");
    let png = dir.join("x.png");
    let out = cortexlens(&[
        "render",
        mni.to_str().unwrap(),
        "--colormap",
        "nope",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = cortexlens(&[
        "render",
        "--colormap",
        "hot",
        mni.to_str().unwrap(),
        "--out",
        png.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "an option before any file");
}

/// Count pixels of a picture that look like the signed overlay's positive side (red to yellow).
fn red_yellow_pixels(img: &image::RgbaImage) -> usize {
    img.pixels()
        .filter(|p| p.0[0] == 255 && p.0[2] == 0 && p.0[1] < 255)
        .count()
}

#[test]
fn render_draws_the_overlay_over_the_template() {
    let dir = std::env::temp_dir().join(format!("cortexlens-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mni = fixture("volumes", "mni152_t1_1mm.nii.gz");
    let motor = fixture("volumes", "motor_stat_map.nii.gz");
    let out_png = dir.join("axial.png");
    // A slice through the left motor cortex (hand knob), where the t-map exceeds 3.
    let out = cortexlens(&[
        "render",
        mni.to_str().unwrap(),
        "--colormap",
        "gray",
        motor.to_str().unwrap(),
        "--negative-colormap",
        "blue-lightblue",
        "--threshold",
        "3",
        "--range",
        "3,8",
        "--view",
        "axial",
        "--at",
        "-38,-22,56",
        "--size",
        "240x280",
        "--out",
        out_png.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let img = image::open(&out_png).unwrap().to_rgba8();
    assert_eq!(img.dimensions(), (240, 280));
    let gray = img
        .pixels()
        .filter(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2] && p.0[0] > 60)
        .count();
    assert!(gray > 240 * 280 / 8, "the template shows: {gray} gray pixels");
    assert!(red_yellow_pixels(&img) > 20, "the motor overlay shows");

    let with_bar = dir.join("ortho.png");
    let out = cortexlens(&[
        "render",
        mni.to_str().unwrap(),
        motor.to_str().unwrap(),
        "--out",
        with_bar.to_str().unwrap(),
        "--size",
        "600x200",
        "--colorbar",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let img = image::open(&with_bar).unwrap().to_rgba8();
    assert_eq!(img.height(), 200);
    assert!(img.width() > 600, "the colour bar adds a strip");
}

#[test]
fn project_linear_matches_scipy_and_writes_gifti() {
    let reference = reference("projection.json");
    let dir = std::env::temp_dir().join(format!("cortexlens-project-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let motor = fixture("volumes", "motor_stat_map.nii.gz");
    for side in ["left", "right"] {
        let mesh = fixture("surfaces", &format!("fsaverage5_pial_{side}.gii.gz"));
        let out = dir.join(format!("{side}.json"));
        let run = cortexlens(&[
            "project",
            motor.to_str().unwrap(),
            "--surface",
            mesh.to_str().unwrap(),
            "--interp",
            "linear",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let got: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let values = got["values"].as_array().unwrap();
        let expected = &reference["hemispheres"][side];
        assert_eq!(values.len() as u64, expected["n_vertices"].as_u64().unwrap());
        for (vertex, value) in expected["trilinear_at_vertex"]["samples"].as_object().unwrap() {
            let i: usize = vertex.parse().unwrap();
            assert!(
                (f(&values[i]) - f(value)).abs() < 1e-4,
                "{side} vertex {i}: {} vs {value}",
                values[i]
            );
        }
        let mean = values.iter().map(f).sum::<f64>() / values.len() as f64;
        assert!(
            (mean - f(&expected["trilinear_at_vertex"]["mean"])).abs() < 1e-4,
            "{side} mean {mean}"
        );
    }
    let gii = dir.join("left.gii");
    let mesh = fixture("surfaces", "fsaverage5_pial_left.gii.gz");
    let run = cortexlens(&[
        "project",
        motor.to_str().unwrap(),
        "--surface",
        mesh.to_str().unwrap(),
        "--out",
        gii.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let info = cortexlens(&["info", gii.to_str().unwrap(), "--json"]);
    let info: Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["arrays"][0]["shape"], serde_json::json!([10242]));
    let bad = cortexlens(&[
        "project",
        motor.to_str().unwrap(),
        "--surface",
        motor.to_str().unwrap(),
        "--out",
        gii.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2), "a volume is not a mesh");
}

#[test]
fn isosurface_and_surface_render() {
    let dir = std::env::temp_dir().join(format!("cortexlens-iso-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mni = fixture("volumes", "mni152_t1_1mm.nii.gz");
    let obj = dir.join("brain.obj");
    let run = cortexlens(&[
        "isosurface",
        mni.to_str().unwrap(),
        "--level",
        "80",
        "--out",
        obj.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let text = std::fs::read_to_string(&obj).unwrap();
    assert!(text.lines().filter(|l| l.starts_with("v ")).count() > 10_000);
    assert!(text.lines().filter(|l| l.starts_with("f ")).count() > 20_000);

    // The OBJ opens like a GIFTI mesh (three-d-asset's formats): its vertices as written, drawn in
    // the surface view.
    let info = cortexlens(&["info", obj.to_str().unwrap(), "--json"]);
    assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
    let info: Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["kind"], "surface");
    let vertices = text.lines().filter(|l| l.starts_with("v ")).count();
    assert_eq!(info["arrays"][0]["shape"], serde_json::json!([vertices, 3]));
    let obj_png = dir.join("obj.png");
    let run = cortexlens(&[
        "render",
        obj.to_str().unwrap(),
        "--view",
        "surface",
        "--size",
        "160x120",
        "--out",
        obj_png.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let img = image::open(&obj_png).unwrap().to_rgba8();
    let background = *img.get_pixel(0, 0);
    let covered = img.pixels().filter(|p| **p != background).count();
    assert!(covered > 160 * 120 / 6, "the isosurface fills the view: {covered}");

    let motor = fixture("volumes", "motor_stat_map.nii.gz");
    let png = dir.join("surface.png");
    let mut args = vec![
        "render".to_owned(),
        motor.to_string_lossy().into_owned(),
        "--threshold".into(),
        "3".into(),
    ];
    for side in ["left", "right"] {
        args.push(
            fixture("surfaces", &format!("fsaverage5_pial_{side}.gii.gz"))
                .to_string_lossy()
                .into_owned(),
        );
    }
    args.extend(
        [
            "--view",
            "surface",
            "--camera",
            "lateral-right",
            "--size",
            "320x240",
            "--out",
        ]
        .map(str::to_owned),
    );
    args.push(png.to_string_lossy().into_owned());
    let run = cortexlens(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let img = image::open(&png).unwrap().to_rgba8();
    assert_eq!(img.dimensions(), (320, 240));
    let background = *img.get_pixel(0, 0);
    let covered = img.pixels().filter(|p| **p != background).count();
    assert!(
        covered > 320 * 240 / 6,
        "the right hemisphere fills the view: {covered}"
    );
    // Lit colours are darkened by the shading: count warm (red to yellow) pixels, not exact LUT entries.
    let warm = img.pixels().filter(|p| p.0[0] as i32 > p.0[2] as i32 + 60).count();
    assert!(
        warm > 300,
        "the motor map's positive blob shows on the right hemisphere: {warm}"
    );
}

#[test]
fn render_3d_modes_and_fit_a_field() {
    let dir = std::env::temp_dir().join(format!("cortexlens-3d-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mni = fixture("volumes", "mni152_t1_1mm.nii.gz");
    let motor = fixture("volumes", "motor_stat_map.nii.gz");
    let mut pictures = Vec::new();
    for mode in ["mip", "dvr", "iso"] {
        let png = dir.join(format!("{mode}.png"));
        let run = cortexlens(&[
            "render",
            mni.to_str().unwrap(),
            motor.to_str().unwrap(),
            "--threshold",
            "3",
            "--view",
            "3d",
            "--mode",
            mode,
            "--iso-level",
            "60",
            "--size",
            "160x120",
            "--out",
            png.to_str().unwrap(),
        ]);
        assert!(run.status.success(), "{mode}: {}", String::from_utf8_lossy(&run.stderr));
        let img = image::open(&png).unwrap().to_rgba8();
        assert_eq!(img.dimensions(), (160, 120));
        let brain = img.pixels().filter(|p| p.0[..3].iter().any(|&c| c > 30)).count();
        assert!(
            brain > 160 * 120 / 8,
            "{mode}: the head fills part of the view ({brain} pixels)"
        );
        let blue = img.pixels().filter(|p| p.0[2] > 150 && p.0[0] < 80).count();
        assert!(
            blue > 10,
            "{mode}: the negative overlay (left motor cortex) shows on the lateral-left view"
        );
        pictures.push(img);
    }
    assert!(
        pictures[0] != pictures[1] && pictures[1] != pictures[2],
        "the modes differ"
    );

    // A short fit of a small volume writes a field that renders.
    let small = fixture("volumes", "nibabel_anatomical.nii");
    let field = dir.join("anat.nfield");
    let run = cortexlens(&[
        "fit",
        small.to_str().unwrap(),
        "--steps",
        "20",
        "--batch",
        "1024",
        "--out",
        field.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let log = String::from_utf8_lossy(&run.stderr);
    assert!(log.contains("PSNR") && log.contains("Hash encoding"), "{log}");
    let dense = dir.join("anat-dense.nfield");
    let run = cortexlens(&[
        "fit",
        small.to_str().unwrap(),
        "--steps",
        "3",
        "--batch",
        "256",
        "--encoding",
        "dense",
        "--no-cam",
        "--out",
        dense.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let fitted = cortexlens_data::field::load_field(&dense).unwrap();
    assert!(matches!(fitted.encoding, cortexlens_data::field::Encoding::Dense(_)));
    assert!(fitted.cam.is_none() && fitted.occupancy.is_some());
    let png = dir.join("field.png");
    let run = cortexlens(&[
        "render",
        field.to_str().unwrap(),
        "--view",
        "3d",
        "--mode",
        "mip",
        "--size",
        "96x72",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let img = image::open(&png).unwrap().to_rgba8();
    assert!(
        img.pixels().filter(|p| p.0[0] > 30).count() > 96 * 72 / 10,
        "the fitted field is visible"
    );
    let bad = dir.join("bad.nfield");
    std::fs::write(&bad, b"not a safetensors file").unwrap();
    let run = cortexlens(&[
        "render",
        bad.to_str().unwrap(),
        "--view",
        "3d",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(2), "a bad scene file is bad input");
}

#[test]
fn render_draws_a_segmentation_with_a_label_table_as_labels() {
    use cortexlens_data::Colormap;
    use cortexlens_data::formats::save_nifti;
    let dir = std::env::temp_dir().join(format!("cortexlens-cli-dseg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Label 17 where i < 4, background elsewhere.
    let data: Vec<f32> = (0..512).map(|v| if v % 8 < 4 { 17.0 } else { 0.0 }).collect();
    let seg = cortexlens_data::Volume::from_f32("seg", [8, 8, 8, 1], glam::DMat4::IDENTITY, data);
    let path = dir.join("sub-01_dseg.nii.gz");
    save_nifti(&path, &seg).unwrap();
    let render = |out: &Path| {
        cortexlens(&[
            "render",
            path.to_str().unwrap(),
            "--view",
            "axial",
            "--size",
            "64x64",
            "--no-crosshair",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let colours = |png: &Path| -> std::collections::HashSet<[u8; 3]> {
        let img = image::open(png).unwrap().to_rgb8();
        img.pixels().map(|p| p.0).collect()
    };
    let [r, g, b, _] = Colormap::Labels.lut()[17];

    // Without a table: a plain gray volume.
    let plain = dir.join("plain.png");
    let out = render(&plain);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!colours(&plain).contains(&[r, g, b]));

    // With the BIDS sidecar: label 17 in its label colour, the background transparent (black).
    std::fs::write(dir.join("sub-01_dseg.tsv"), "index\tname\n17\tLeft-Hippocampus\n").unwrap();
    let labelled = dir.join("labelled.png");
    let out = render(&labelled);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seen = colours(&labelled);
    assert!(seen.contains(&[r, g, b]) && seen.contains(&[0, 0, 0]), "{seen:?}");

    // A broken table: a warning, and the volume drawn as without one.
    std::fs::write(dir.join("sub-01_dseg.tsv"), "index\tname\nx\ty\n").unwrap();
    let out = render(&labelled);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("without its label table"));
    assert!(!colours(&labelled).contains(&[r, g, b]));
    std::fs::remove_dir_all(dir).ok();
}

/// Pixels that differ between two pictures of the same size.
fn differing(a: &Path, b: &Path) -> usize {
    let (a, b) = (image::open(a).unwrap().to_rgba8(), image::open(b).unwrap().to_rgba8());
    assert_eq!(a.dimensions(), b.dimensions());
    a.pixels().zip(b.pixels()).filter(|(p, q)| p != q).count()
}

#[test]
fn the_base_shows_through_an_overlays_zeros_and_sub_threshold_values() {
    let dir = std::env::temp_dir().join(format!("cortexlens-zeros-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mni = fixture("volumes", "mni152_t1_1mm.nii.gz");
    let map = common::sparse_positive_map(&dir);
    let render = |extra: &[&str], out: &Path| {
        let mut args = vec!["render", mni.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.extend([
            "--view",
            "axial",
            "--at",
            "40,-20,50",
            "--size",
            "300x300",
            "--no-crosshair",
        ]);
        args.extend(["--out", out.to_str().unwrap()]);
        let run = cortexlens(&args);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    };
    let base = dir.join("base.png");
    render(&[], &base);
    // The ball of radius 10 mm covers about π·10² mm² of the slice; at 300 px for the template's
    // ≈ 200 mm that is about 700 pixels (zeros drawn would change the whole brain, ≈ 20,000).
    let ball_px = |mm: f64| std::f64::consts::PI * (mm * 300.0 / 200.0).powi(2);
    for (name, extra) in [
        ("default", vec![map.to_str().unwrap()]),
        ("hot", vec![map.to_str().unwrap(), "--colormap", "hot"]),
    ] {
        let out = dir.join(format!("{name}.png"));
        render(&extra, &out);
        let changed = differing(&base, &out) as f64;
        assert!(
            changed > 0.5 * ball_px(10.0) && changed < 1.3 * ball_px(10.0),
            "{name}: only the ball is drawn over the template ({changed} pixels differ)"
        );
    }
    // With an explicit threshold, the values below it show the template too.
    let out = dir.join("threshold.png");
    render(&[map.to_str().unwrap(), "--threshold", "6"], &out);
    let changed = differing(&base, &out) as f64;
    assert!(
        changed > 0.5 * ball_px(5.0) && changed < 1.3 * ball_px(5.0),
        "only the part of the ball above 6 is drawn ({changed} pixels differ)"
    );
}

#[test]
fn without_a_gpu_driver_or_a_display_the_message_says_what_to_do() {
    let mni = fixture("volumes", "mni152_t1_1mm.nii.gz");
    let dir = std::env::temp_dir().join(format!("cortexlens-no-gpu-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A backend this machine has no driver for stands for a machine without a Vulkan driver.
    let out = Command::new(env!("CARGO_BIN_EXE_cortexlens"))
        .args(["render", mni.to_str().unwrap(), "--out"])
        .arg(dir.join("shot.png"))
        .env("WGPU_BACKEND", "noop-is-not-a-backend")
        .env_remove("CI")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no usable GPU driver") && stderr.contains("mesa-vulkan-drivers"),
        "{stderr}"
    );
    // The window without any display (a cluster login node without X forwarding).
    let out = Command::new(env!("CARGO_BIN_EXE_cortexlens"))
        .arg(&mni)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no display to show it on") && stderr.contains("cortexlens render"),
        "{stderr}"
    );
}

fn cifti_fixture(name: &str) -> String {
    repo()
        .join("tests/data/generated/cifti")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn info_json_describes_cifti_index_maps_as_nibabel_reads_them() {
    let text = std::fs::read_to_string(repo().join("tests/data/generated/cifti.json")).unwrap();
    let reference: Value = serde_json::from_str(&text).unwrap();
    for want in reference["files"].as_array().unwrap() {
        let name = want["file"].as_str().unwrap();
        let out = cortexlens(&["info", &cifti_fixture(name), "--json"]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let got: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got["kind"], "cifti", "{name}");
        assert_eq!(got["shape"], want["shape"], "{name}");
        assert_eq!(got["intent_code"], want["intent_code"], "{name}");
        assert_eq!(
            got["datatype"],
            numpy_name(want["on_disk_dtype"].as_str().unwrap()),
            "{name}"
        );
        for (dim, (map, wanted)) in got["maps"]
            .as_array()
            .unwrap()
            .iter()
            .zip(want["maps"].as_array().unwrap())
            .enumerate()
        {
            assert_eq!(map["index_map"], dim, "{name}");
            assert_eq!(map["type"], wanted["type"], "{name}");
            assert_eq!(map["count"], wanted["count"], "{name}");
            match wanted["type"].as_str().unwrap() {
                "brain_models" => {
                    let structures = map["structures"].as_array().unwrap();
                    for (s, w) in structures.iter().zip(wanted["structures"].as_array().unwrap()) {
                        assert_eq!(s["name"], w["name"]);
                        assert_eq!(s["model_type"], w["model_type"]);
                        assert_eq!(s["offset"], w["offset"]);
                        assert_eq!(s["count"], w["count"]);
                        if w["model_type"] == "surface" {
                            assert_eq!(s["vertices"], w["surface_number_of_vertices"]);
                        }
                    }
                    assert_eq!(map["volume"]["dimensions"], wanted["volume_dimensions"]);
                }
                "series" => {
                    for key in ["start", "step", "unit"] {
                        assert_eq!(map[key], wanted[key], "{name}: {key}");
                    }
                }
                "scalars" | "labels" => assert_eq!(map["names"], wanted["names"], "{name}"),
                "parcels" => {
                    let names: Vec<&Value> = wanted["parcels"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| &p["name"])
                        .collect();
                    assert_eq!(map["names"].as_array().unwrap().iter().collect::<Vec<_>>(), names);
                }
                other => panic!("{other}"),
            }
        }
    }
    let out = cortexlens(&["info", &cifti_fixture("bad_count.dscalar.nii"), "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("bad_count.dscalar.nii: invalid CIFTI-2"), "{stderr}");
}

#[test]
fn render_draws_a_dscalar_on_its_surfaces() {
    let dir = std::env::temp_dir().join(format!("cortexlens-cifti-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let meshes = [
        cifti_fixture("mini.L.sphere.surf.gii"),
        cifti_fixture("mini.R.sphere.surf.gii"),
    ];
    let render = |extra: &[&str], out: &str| {
        let png = dir.join(out).to_string_lossy().into_owned();
        let mut args = vec!["render"];
        args.extend_from_slice(extra);
        args.extend(meshes.iter().map(String::as_str));
        args.extend([
            "--view", "surface", "--camera", "dorsal", "--size", "256x192", "--out", &png,
        ]);
        let run = cortexlens(&args);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        image::open(&png).unwrap().to_rgba8()
    };
    // Grey shading has equal channels; a map's colours do not.
    let coloured = |img: &image::RgbaImage| {
        img.pixels()
            .filter(|p| (p.0[0] as i32 - p.0[2] as i32).abs() > 40 || (p.0[1] as i32 - p.0[2] as i32).abs() > 40)
            .count()
    };
    let bare = render(&[], "bare.png");
    assert_eq!(coloured(&bare), 0, "the meshes alone are grey");
    let dscalar = cifti_fixture("mini.dscalar.nii");
    let first = render(&[&dscalar], "frame0.png");
    assert!(
        coloured(&first) > 256 * 192 / 20,
        "the map covers the spheres: {}",
        coloured(&first)
    );
    let second = render(&[&dscalar, "--frame", "1"], "frame1.png");
    assert!(first.as_raw() != second.as_raw(), "--frame 1 shows the second map");
    // The dscalar after the meshes, and a label file: the same open step.
    let labels = cifti_fixture("mini.dlabel.nii");
    let png = dir.join("labels.png").to_string_lossy().into_owned();
    let run = cortexlens(&[
        "render", &meshes[0], &meshes[1], &labels, "--view", "surface", "--size", "128x96", "--out", &png,
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(coloured(&image::open(&png).unwrap().to_rgba8()) > 128 * 96 / 20);
    // Without meshes the surface part cannot be drawn: the warning names the mesh to open.
    let run = cortexlens(&["render", &dscalar, "--view", "axial", "--size", "64x64", "--out", &png]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("CORTEX_LEFT waits for a left surface mesh of 162 vertices"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Pixels that look like the first region colour (magenta), lit or not.
fn magenta_pixels(img: &image::RgbaImage) -> usize {
    img.pixels()
        .filter(|p| p.0[0] as i32 > p.0[1] as i32 + 60 && p.0[2] as i32 > p.0[1] as i32 + 40)
        .count()
}

#[test]
fn a_freesurfer_label_is_described_and_drawn_as_a_region() {
    let label = repo().join("tests/data/generated/labels/lh.occipital.label");
    let labels: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tests/data/generated/labels.json")).unwrap())
            .unwrap();
    let want = labels["labels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["file"] == "labels/lh.occipital.label")
        .unwrap();
    let vertices: Vec<i64> = want["vertices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let values: Vec<f64> = want["values"].as_array().unwrap().iter().map(f).collect();

    let out = cortexlens(&["info", label.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["kind"], "label");
    assert_eq!(info["count"], vertices.len());
    assert_eq!(info["vertices"]["min"], *vertices.iter().min().unwrap());
    assert_eq!(info["vertices"]["max"], *vertices.iter().max().unwrap());
    assert_eq!(info["vertices"]["distinct"], vertices.len());
    assert_eq!(info["vertices"]["volume_points"], 0);
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    assert!(close(f(&info["values"]["mean"]), mean, 1e-12, 0.0));
    assert!(close(
        f(&info["values"]["max"]),
        values.iter().copied().fold(f64::MIN, f64::max),
        1e-12,
        0.0
    ));
    assert!(info["comment"].as_str().unwrap().contains("fsaverage5"));

    // Drawn on the left pial surface seen from behind: the outline's colour appears only with it.
    let dir = std::env::temp_dir().join(format!("cortexlens-label-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pial = repo().join("tests/data/freesurfer/lh.pial");
    let render = |files: &[&Path], out: &Path| {
        let mut args: Vec<&str> = vec!["render"];
        args.extend(files.iter().map(|p| p.to_str().unwrap()));
        args.extend([
            "--view",
            "surface",
            "--camera",
            "posterior",
            "--size",
            "320x240",
            "--out",
        ]);
        args.push(out.to_str().unwrap());
        cortexlens(&args)
    };
    let (plain, with_label) = (dir.join("plain.png"), dir.join("label.png"));
    let run = render(&[&pial], &plain);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let run = render(&[&pial, &label], &with_label);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let plain = magenta_pixels(&image::open(&plain).unwrap().to_rgba8());
    let outlined = magenta_pixels(&image::open(&with_label).unwrap().to_rgba8());
    assert_eq!(plain, 0);
    assert!(outlined > 100, "the occipital outline shows: {outlined} pixels");

    // A label of a hemisphere that is not open, and one whose vertices the mesh lacks: bad input
    // naming the label and, for the second, the mesh and both numbers.
    let text = std::fs::read_to_string(&label).unwrap();
    let right = dir.join("rh.occipital.label");
    std::fs::write(&right, &text).unwrap();
    let beyond = dir.join("lh.beyond.label");
    std::fs::write(&beyond, text.replacen("\n34  ", "\n20000  ", 1)).unwrap();
    for (file, words) in [
        (&right, vec!["rh.occipital.label", "no right hemisphere mesh"]),
        (
            &beyond,
            vec!["lh.beyond.label", "vertex 20000", "lh.pial has 10242 vertices"],
        ),
    ] {
        let out = render(&[&pial, file], &dir.join("bad.png"));
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        for word in words {
            assert!(stderr.contains(word), "{word}: {stderr}");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_mosaic_is_its_slices_side_by_side() {
    let dir = std::env::temp_dir().join(format!("cortexlens-mosaic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mni = fixture("volumes", "mni152_t1_1mm.nii.gz");
    let motor = fixture("volumes", "motor_stat_map.nii.gz");
    let render = |extra: &[&str], out: &Path| {
        let mut args = vec![
            "render",
            mni.to_str().unwrap(),
            motor.to_str().unwrap(),
            "--no-crosshair",
        ];
        args.extend_from_slice(extra);
        args.extend(["--out", out.to_str().unwrap()]);
        let run = cortexlens(&args);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        image::open(out).unwrap().to_rgba8()
    };
    let mosaic = render(
        &[
            "--view",
            "mosaic",
            "--slices",
            "axial:-20:40:20",
            "--columns",
            "2",
            "--size",
            "400x400",
        ],
        &dir.join("mosaic.png"),
    );
    // Four slices, row by row: each tile is the axial view at its z.
    for (index, z) in [-20, 0, 20, 40].into_iter().enumerate() {
        let single = render(
            &["--view", "axial", "--at", &format!("0,0,{z}"), "--size", "200x200"],
            &dir.join(format!("z{z}.png")),
        );
        let (x0, y0) = ((index % 2) as u32 * 200, (index / 2) as u32 * 200);
        let tile = image::imageops::crop_imm(&mosaic, x0, y0, 200, 200).to_image();
        assert!(
            tile == single,
            "tile {index} (z = {z}) differs from the axial view there"
        );
    }
    // Tiles differ from each other (the slices move), and bad ranges are bad input.
    let first = image::imageops::crop_imm(&mosaic, 0, 0, 200, 200).to_image();
    let last = image::imageops::crop_imm(&mosaic, 200, 200, 200, 200).to_image();
    assert!(first != last);
    for bad in ["axial:40:-20:20", "axial:0:10:0", "diagonal:0:10:1", "axial:0:10"] {
        let out = cortexlens(&[
            "render",
            mni.to_str().unwrap(),
            "--view",
            "mosaic",
            "--slices",
            bad,
            "--out",
            dir.join("bad.png").to_str().unwrap(),
        ]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{bad}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn an_fsl_atlas_is_described_and_drawn_over_a_base_only_when_asked() {
    use cortexlens_data::Colormap;
    let atlases = repo().join("tests/data/generated/atlases");
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tests/data/generated/atlases.json")).unwrap())
            .unwrap();
    let want = &reference["blobs"];
    let out = cortexlens(&["info", atlases.join("Blobs.xml").to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["kind"], "atlas");
    for key in ["name", "shortname", "type"] {
        assert_eq!(info[key], want[key], "{key}");
    }
    assert_eq!(info["labels"], 4);
    assert_eq!(info["finest"], 1);
    let images = info["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    for (got, want) in images.iter().zip(want["images"].as_array().unwrap()) {
        for key in ["imagefile", "summaryimagefile"] {
            let path = got[key].as_str().unwrap();
            assert!(path.ends_with(want[key].as_str().unwrap()), "{key}: {path}");
        }
        assert_eq!((&got["shape"], &got["zooms"]), (&want["shape"], &want["zooms"]));
    }
    // A broken descriptor, or --at on one, is bad input.
    for args in [
        vec!["info", "bad_index.xml", "--json"],
        vec!["info", "Blobs.xml", "--at", "1,2,3"],
    ] {
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                if a.ends_with(".xml") {
                    atlases.join(a).to_string_lossy().into_owned()
                } else {
                    (*a).to_owned()
                }
            })
            .collect();
        let out = cortexlens(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }

    // Drawn as labels when alone; over a base only with a per-layer option, as in the window.
    let dir = std::env::temp_dir().join(format!("cortexlens-cli-atlas-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = atlases.join("blobs_fractions.nii.gz");
    let atlas = atlases.join("Blobs.xml");
    let colours = |files: &[&Path], options: &[&str], name: &str| {
        let png = dir.join(name);
        let mut args = vec!["render"];
        args.extend(files.iter().map(|p| p.to_str().unwrap()));
        args.extend(options);
        args.extend([
            "--view",
            "axial",
            "--at",
            "0,10,8",
            "--size",
            "96x96",
            "--no-crosshair",
            "--out",
        ]);
        args.push(png.to_str().unwrap());
        let out = cortexlens(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let img = image::open(&png).unwrap().to_rgb8();
        img.pixels()
            .map(|p| p.0)
            .collect::<std::collections::HashSet<[u8; 3]>>()
    };
    let [r, g, b, _] = Colormap::Labels.lut()[1];
    assert!(
        colours(&[&atlas], &[], "alone.png").contains(&[r, g, b]),
        "the left blob's label colour"
    );
    assert!(!colours(&[&base, &atlas], &[], "hidden.png").contains(&[r, g, b]));
    assert!(colours(&[&base, &atlas], &["--opacity", "1"], "shown.png").contains(&[r, g, b]));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn clusters_prints_nilearns_table_with_atlas_labels() {
    let dir = std::env::temp_dir().join(format!("cortexlens-cli-clusters-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // An atlas of the two hemispheres (20 mm voxels from −90 mm), with its BIDS table.
    let affine =
        glam::DMat4::from_translation(glam::DVec3::splat(-90.0)) * glam::DMat4::from_scale(glam::DVec3::splat(20.0));
    let halves: Vec<f32> = (0..1000).map(|v| if v % 10 < 5 { 1.0 } else { 2.0 }).collect();
    let atlas = cortexlens_data::Volume::from_f32("hemispheres", [10, 10, 10, 1], affine, halves);
    cortexlens_data::formats::save_nifti(&dir.join("hemispheres.nii.gz"), &atlas).unwrap();
    std::fs::write(dir.join("hemispheres.tsv"), "index\tname\n1\tLeft\n2\tRight\n").unwrap();
    let out = dir.join("clusters.tsv");
    let map = repo().join("assets/motor_stat_map.nii.gz");
    let atlas = dir.join("hemispheres.nii.gz");
    let output = cortexlens(&[
        "clusters",
        map.to_str().unwrap(),
        "--threshold",
        "3",
        "--two-sided",
        "--min-size",
        "10",
        "--atlas",
        atlas.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // The same rows as nilearn's get_clusters_table (tests/data/generated/clusters.json).
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tests/data/generated/clusters.json")).unwrap())
            .unwrap();
    let case = reference["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["file"] == "assets/motor_stat_map.nii.gz"
                && c["threshold"] == 3.0
                && c["two_sided"] == true
                && c["cluster_threshold"] == 10
        })
        .expect("the reference case");
    let table = std::fs::read_to_string(&out).unwrap();
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
    let expected = case["rows"].as_array().unwrap();
    assert_eq!(rows.len(), expected.len());
    for (row, want) in rows.iter().zip(expected) {
        // Numbered in order (nilearn's numbers skip clusters dropped as too small); sub-peaks
        // carry a letter in both.
        let sub_peak = |id: &str| id.ends_with(|c: char| c.is_ascii_alphabetic());
        assert_eq!(sub_peak(row[column("cluster")]), sub_peak(want["id"].as_str().unwrap()));
        let xyz: Vec<f64> = ["x_mm", "y_mm", "z_mm"]
            .iter()
            .map(|c| row[column(c)].parse().unwrap())
            .collect();
        let want_xyz: Vec<f64> = want["xyz"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(xyz, want_xyz);
        let side = if xyz[0] < 0.0 { "Left" } else { "Right" };
        assert_eq!(row[column("label")], side, "{row:?}");
    }
    // A map that is not a volume is bad input.
    let bad = cortexlens(&[
        "clusters",
        atlas.with_extension("tsv").to_str().unwrap(),
        "--threshold",
        "1",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn info_json_describes_splat_scenes() {
    let want = reference_json("generated/splats.json");
    let bounds: Vec<Vec<f64>> = want["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_array().unwrap().iter().map(f).collect())
        .collect();
    for (name, degree, tolerance) in [
        ("scene_le.ply", 3, 1e-7),
        ("scene_ascii.ply", 3, 1e-7),
        ("scene_v3.spz", 3, 0.5 / 4096.0),
        ("scene.compressed.ply", 3, 1e-4),
        ("scene_nocolor.compressed.ply", 0, 1e-4),
    ] {
        let path = fixture("generated/splats", name);
        let out = cortexlens(&["info", path.to_str().unwrap(), "--json"]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.starts_with(&format!(
                r#"{{"kind":"splats","count":260,"sh_degree":{degree},"bounds":[["#
            )),
            "{name}: {text}"
        );
        let info: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(info.as_object().unwrap().len(), 4, "{name}: {text}");
        for (side, want) in bounds.iter().enumerate() {
            for (axis, &w) in want.iter().enumerate() {
                let got = f(&info["bounds"][side][axis]);
                assert!(
                    close(got, w, 0.0, tolerance),
                    "{name}: bounds[{side}][{axis}] {got} vs {w}"
                );
            }
        }
    }
    // A malformed scene is an error naming the file, not a crash.
    let dir = std::env::temp_dir().join(format!("cortexlens-splats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("cut.spz");
    let spz = std::fs::read(fixture("generated/splats", "scene_v3.spz")).unwrap();
    std::fs::write(&bad, &spz[..spz.len() / 3]).unwrap();
    let out = cortexlens(&["info", bad.to_str().unwrap(), "--json"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cut.spz"));
}

fn reference_json(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo().join("tests/data").join(rel)).unwrap()).unwrap()
}

#[test]
fn output_into_a_pipe_whose_reader_has_gone_ends_quietly() {
    // `cortexlens info FILE | head -1`, with `head` gone before anything is written.
    let demo = repo().join("assets/fsaverage5_pial_left.gii.gz");
    for args in [
        vec!["info", demo.to_str().unwrap()],
        vec!["info", demo.to_str().unwrap(), "--json"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_cortexlens"))
            .args(&args)
            .stdout(writer)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?}, {stderr}", out.status);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
