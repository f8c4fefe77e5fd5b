//! Isosurfaces: a synthetic sphere against the analytic area and volume, the MNI152 template
//! at a brain-like threshold, and the empty case.

mod common;

use std::collections::HashMap;
use std::f64::consts::PI;
use std::time::Instant;

use common::*;
use cortexlens_data::Volume;
use cortexlens_data::isosurface::isosurface;
use cortexlens_data::mesh::Mesh;
use glam::{DMat4, DVec3, DVec4};

/// A volume of the distance (mm) to a point near the grid's centre (returned too), on a grid
/// with an oblique, handedness-flipping affine, so that world coordinates and winding are both
/// exercised.
fn distance_volume(n: usize) -> (Volume, DVec3) {
    let rot = DMat4::from_rotation_z(0.3) * DMat4::from_rotation_x(-0.2);
    let affine = DMat4::from_translation(DVec3::new(-40.0, -35.0, -30.0))
        * rot
        * DMat4::from_cols(
            DVec4::new(-1.5, 0.0, 0.0, 0.0),
            DVec4::new(0.0, 1.2, 0.0, 0.0),
            DVec4::new(0.0, 0.0, 1.0, 0.0),
            DVec4::new(n as f64 * 1.5, 0.0, 0.0, 1.0),
        );
    let middle = (n as f64 - 1.0) / 2.0;
    let centre = affine.transform_point3(DVec3::new(middle + 0.3, middle - 0.2, middle + 0.1));
    let mut data = Vec::with_capacity(n * n * n);
    for k in 0..n {
        for j in 0..n {
            for i in 0..n {
                let w = affine.transform_point3(DVec3::new(i as f64, j as f64, k as f64));
                data.push(w.distance(centre) as f32);
            }
        }
    }
    let volume = Volume {
        name: "distance".into(),
        shape: [n, n, n, 1],
        ndim: 3,
        zooms: vec![1.5, 1.2, 1.0],
        affine,
        datatype: "float32".into(),
        scl_slope: 1.0,
        scl_inter: 0.0,
        data,
        nifti_space: None,
    };
    (volume, centre)
}

/// Each undirected edge's number of uses and the sum of its directions (+1 one way, −1 the
/// other): a closed, consistently wound mesh has (2, 0) everywhere.
fn edges_closed(mesh: &Mesh) -> bool {
    let mut uses: HashMap<(u32, u32), (u32, i32)> = HashMap::new();
    for t in &mesh.triangles {
        for (a, b) in [(t[0], t[1]), (t[1], t[2]), (t[2], t[0])] {
            let e = uses.entry((a.min(b), a.max(b))).or_default();
            e.0 += 1;
            e.1 += if a < b { 1 } else { -1 };
        }
    }
    uses.values().all(|&u| u == (2, 0))
}

#[test]
fn sphere_matches_analytic_area_and_volume() {
    let (volume, centre) = distance_volume(48);
    // Where the distance is at most r: inside is "≥ level", so negate to make the ball bright.
    let r = 18.0;
    let mut ball = volume.clone();
    for v in &mut ball.data {
        *v = -*v;
    }
    let mesh = isosurface(&ball, 0, -r as f32);
    assert!(!mesh.is_empty());
    let area = mesh.area();
    let enclosed = mesh.signed_volume();
    let (area0, volume0) = (4.0 * PI * r * r, 4.0 / 3.0 * PI * r * r * r);
    println!(
        "sphere r = {r} mm: {} vertices, {} triangles; area {area:.1} vs {area0:.1}, volume {enclosed:.1} vs {volume0:.1}",
        mesh.vertices.len(),
        mesh.triangles.len()
    );
    assert!((area - area0).abs() / area0 < 0.01, "area {area} vs {area0}");
    assert!(
        (enclosed - volume0).abs() / volume0 < 0.01,
        "volume {enclosed} vs {volume0}"
    );
    assert!(edges_closed(&mesh));
    // Outward: every vertex normal points away from the centre; every vertex is on the sphere.
    for (v, nrm) in mesh.vertices.iter().zip(mesh.vertex_normals()) {
        let d = DVec3::new(f64::from(v[0]), f64::from(v[1]), f64::from(v[2])) - centre;
        assert!((d.length() - r).abs() < 0.1, "{v:?}");
        let n = DVec3::new(f64::from(nrm[0]), f64::from(nrm[1]), f64::from(nrm[2]));
        assert!(n.dot(d.normalize()) > 0.9, "{v:?} {nrm:?}");
    }
}

#[test]
fn level_above_the_maximum_is_empty() {
    let (volume, _) = distance_volume(8);
    let max = volume.data.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mesh = isosurface(&volume, 0, max + 1.0);
    assert!(mesh.is_empty() && mesh.vertices.is_empty());
    let mut nan = volume.clone();
    nan.data.fill(f32::NAN);
    assert!(isosurface(&nan, 0, 0.0).is_empty());
}

#[test]
fn mni152_template_gives_a_head() {
    let volume = load_vol(&volume_path("mni152_t1_1mm.nii.gz"));
    let start = Instant::now();
    let mesh = isosurface(&volume, 0, 80.0);
    let took = start.elapsed();
    println!(
        "MNI152 T1 at 80: {} vertices, {} triangles in {took:.2?} (this build's profile)",
        mesh.vertices.len(),
        mesh.triangles.len()
    );
    assert!(
        (100_000..3_000_000).contains(&mesh.vertices.len()),
        "{}",
        mesh.vertices.len()
    );
    assert!(edges_closed(&mesh));
    let (lo, hi) = volume.world_bounds();
    let (mlo, mhi) = mesh.bounds();
    for a in 0..3 {
        assert!(f64::from(mlo[a]) >= lo[a] - 1e-3 && f64::from(mhi[a]) <= hi[a] + 1e-3);
        // The head fills most of the field of view.
        assert!(f64::from(mhi[a] - mlo[a]) > 0.6 * (hi[a] - lo[a]));
    }
    assert!(mesh.signed_volume() > 0.0, "wound outwards");
    // About the volume of the voxels at or above the level.
    let voxels = volume.data.iter().filter(|&&v| v >= 80.0).count() as f64;
    let ratio = mesh.signed_volume() / voxels;
    assert!((0.9..1.1).contains(&ratio), "enclosed / voxels = {ratio}");
}
