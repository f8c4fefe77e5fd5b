//! Volume → surface projection against `reference/projection.json` (scipy `map_coordinates` and
//! nilearn 0.14.1 `vol_to_surf`): the motor t-map sampled at the fsaverage5 pial vertices.

mod common;

use common::*;
use cortexlens_data::mesh::{Mesh, check_same_vertices};
use cortexlens_data::projection::{ProjectionMethod, project};
use cortexlens_data::{Loaded, Volume, load_path};
use serde_json::Value;

fn motor() -> Volume {
    load_vol(&assets_dir().join("motor_stat_map.nii.gz"))
}

fn pial(side: &str) -> Mesh {
    mesh(&format!("fsaverage5_pial_{side}.gii.gz"))
}

fn mesh(file: &str) -> Mesh {
    match load_path(&data_dir().join("surfaces").join(file), &mut |_| {}) {
        Ok(Loaded::Surface(s)) => Mesh::from_surface(&s).unwrap(),
        other => panic!("{file}: {other:?}"),
    }
}

/// `(vertex, value)` pairs of a reference `samples` object.
fn samples(v: &Value) -> Vec<(usize, f64)> {
    v["samples"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, x)| (k.parse().unwrap(), f(x)))
        .collect()
}

fn mean(values: &[f32]) -> f64 {
    values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len() as f64
}

#[test]
fn linear_matches_scipy_trilinear() {
    let volume = motor();
    let reference = json("reference/projection.json");
    for side in ["left", "right"] {
        let r = &reference["hemispheres"][side];
        let want = &r["trilinear_at_vertex"];
        let surface = pial(side);
        assert_eq!(surface.vertices.len() as u64, r["n_vertices"].as_u64().unwrap());
        let got = project(&volume, 0, &surface, None, ProjectionMethod::Linear);
        assert_eq!(got.len(), surface.vertices.len());
        for (vertex, value) in samples(want) {
            assert_close(
                &format!("{side} vertex {vertex}"),
                f64::from(got[vertex]),
                value,
                0.0,
                1e-4,
            );
        }
        assert_close(&format!("{side} mean"), mean(&got), f(&want["mean"]), 0.0, 1e-4);
        let (argmax, max) = got
            .iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
        let min = got.iter().copied().fold(f32::INFINITY, f32::min);
        assert_close(&format!("{side} max"), f64::from(max), f(&want["max"]), 0.0, 1e-4);
        assert_close(&format!("{side} min"), f64::from(min), f(&want["min"]), 0.0, 1e-4);
        // Several vertices tie for the maximum in float32: the reference's argmax is one of them.
        let ref_argmax = want["argmax"].as_u64().unwrap() as usize;
        assert!(
            (got[ref_argmax] - max).abs() < 1e-4,
            "{side}: argmax {argmax}, reference {ref_argmax}"
        );
        let above = got.iter().filter(|&&v| v > 3.0).count();
        assert_eq!(above as u64, want["n_above_3"].as_u64().unwrap(), "{side} n_above_3");
    }
}

/// The reference rounds voxel coordinates with `np.round` (halves to even): left vertex 3389
/// lies exactly on k = 36.5 and takes voxel 36, where scipy's order-0 `map_coordinates` would
/// take 37.
#[test]
fn nearest_matches_reference_rounding() {
    let volume = motor();
    let reference = json("reference/projection.json");
    for side in ["left", "right"] {
        let want = &reference["hemispheres"][side]["nearest_at_vertex"];
        let got = project(&volume, 0, &pial(side), None, ProjectionMethod::Nearest);
        for (vertex, value) in samples(want) {
            // Nearest values are voxel values: equal up to float32 → f64 conversion.
            assert_close(
                &format!("{side} vertex {vertex}"),
                f64::from(got[vertex]),
                value,
                1e-7,
                1e-7,
            );
        }
        assert_close(&format!("{side} mean"), mean(&got), f(&want["mean"]), 0.0, 1e-6);
    }
}

/// nilearn's `vol_to_surf` defaults (10 samples on the normal, ±3 mm): the same sampling, so
/// only floating-point differences remain (nilearn computes its normals in float32).
#[test]
fn nilearn_default_is_reproduced() {
    let volume = motor();
    let reference = json("reference/projection.json");
    for side in ["left", "right"] {
        let want = &reference["hemispheres"][side]["nilearn_vol_to_surf_default"];
        let got = project(&volume, 0, &pial(side), None, ProjectionMethod::Nilearn);
        let pairs = samples(want);
        let diffs: Vec<f64> = pairs.iter().map(|&(v, w)| (f64::from(got[v]) - w).abs()).collect();
        let max_diff = diffs.iter().copied().fold(0.0, f64::max);
        let mean_diff = diffs.iter().sum::<f64>() / diffs.len() as f64;
        let (xs, ys): (Vec<f64>, Vec<f64>) = pairs.iter().map(|&(v, w)| (f64::from(got[v]), w)).unzip();
        let r = correlation(&xs, &ys);
        let max = got.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        println!(
            "{side}: nilearn vs ours on {} vertices: max |diff| {max_diff:.2e}, mean |diff| {mean_diff:.2e}, r = {r:.9}; mean {:.9} vs {:.9}; max {max:.9} vs {:.9}",
            pairs.len(),
            mean(&got),
            f(&want["mean"]),
            f(&want["max"])
        );
        assert!(max_diff < 1e-5, "{side}: max |diff| {max_diff}");
        assert!(r > 0.999_999_9, "{side}: r = {r}");
        assert_close(&format!("{side} mean"), mean(&got), f(&want["mean"]), 0.0, 1e-5);
        assert_close(&format!("{side} max"), f64::from(max), f(&want["max"]), 0.0, 1e-5);
    }
}

/// With the white surface as the inner mesh the samples lie between white and pial: the values
/// differ from the normal-line default but stay in the volume's range, and a white mesh with
/// other vertices is refused before projecting.
#[test]
fn nilearn_between_white_and_pial() {
    let volume = motor();
    let (pial, white) = (pial("left"), mesh("fsaverage5_white_left.gii.gz"));
    check_same_vertices("white", &white, "pial", &pial).unwrap();
    let depth = project(&volume, 0, &pial, Some(&white), ProjectionMethod::Nilearn);
    let line = project(&volume, 0, &pial, None, ProjectionMethod::Nilearn);
    assert_eq!(depth.len(), pial.vertices.len());
    assert!(depth.iter().all(|v| v.is_finite() && (-8.0..=8.0).contains(v)));
    assert!(depth.iter().zip(&line).any(|(a, b)| (a - b).abs() > 0.1));
    let r = correlation(
        &depth.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
        &line.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
    );
    assert!(r > 0.8, "depth vs line sampling: r = {r}");
    let other = Mesh::icosphere(2);
    let e = check_same_vertices("ico2", &other, "pial", &pial).unwrap_err();
    assert!(
        e.to_string().starts_with("ico2: 162 vertices but mesh pial has 10242"),
        "{e}"
    );
}

/// Vertices outside the volume are 0 for every method, and a 4D volume's frames are sampled
/// separately.
#[test]
fn outside_is_zero_and_frames_are_separate() {
    let volume = load_vol(&volume_path("nibabel_functional.nii"));
    assert!(volume.frames() > 1);
    let far = Mesh {
        vertices: vec![[1e4, 0.0, 0.0], [-1e4, 5.0, 5.0]],
        triangles: vec![],
    };
    for method in ProjectionMethod::ALL {
        assert_eq!(
            project(&volume, 0, &far, None, method),
            vec![0.0, 0.0],
            "{}",
            method.name()
        );
    }
    let centre = volume.voxel_to_world(glam::DVec3::new(8.0, 10.0, 1.0)).as_vec3();
    let at = Mesh {
        vertices: vec![centre.to_array()],
        triangles: vec![],
    };
    for frame in [0, 5, 19] {
        let want = volume.value_at([8, 10, 1], frame).unwrap();
        for method in [ProjectionMethod::Nearest, ProjectionMethod::Linear] {
            let got = project(&volume, frame, &at, None, method)[0];
            assert!(
                (got - want).abs() < 1e-4 * want.abs().max(1.0),
                "{} frame {frame}: {got} vs {want}",
                method.name()
            );
        }
    }
}

fn correlation(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}
