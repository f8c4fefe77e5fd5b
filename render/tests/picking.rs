//! Picking on known meshes (no GPU): an icosphere, offset copies of it, and the fsaverage5
//! hemispheres seen through the camera presets.

use std::path::Path;

use cortexlens_data::camera::{CameraPreset, OrbitCamera, pick};
use cortexlens_data::mesh::Mesh;
use cortexlens_data::{Loaded, load_path};
use cortexlens_render::test_meshes::icosphere;
use glam::Vec3;

#[test]
fn icosphere_pick_returns_the_vertex_nearest_the_hit() {
    let centre = Vec3::new(3.0, -2.0, 5.0);
    let sphere = icosphere(4, 50.0, centre);
    let meshes = [(&sphere.vertices[..], &sphere.triangles[..], Vec3::ZERO)];
    let mut checked = 0;
    // Rays from a ring of eyes towards points scattered around the centre.
    for i in 0..24 {
        let a = i as f32 * 0.7;
        let eye = centre + Vec3::new(a.cos(), a.sin(), (a * 1.3).sin() * 0.6).normalize() * 200.0;
        for j in 0..8 {
            let aim = centre + Vec3::new((j as f32).sin(), (j as f32 * 2.1).cos(), 0.3) * 20.0;
            let dir = (aim - eye).normalize();
            let hit = pick((eye, dir), &meshes).expect("aimed inside the sphere");
            assert_eq!(hit.mesh, 0);
            assert!(((hit.point - centre).length() - 50.0).abs() < 0.5, "on the surface");
            assert!((hit.point - (eye + dir * hit.distance)).length() < 1e-3);
            // The nearer of the two crossings: on the eye's side of the sphere.
            assert!((hit.point - eye).length() < (centre - eye).length());
            let (nearest, _) = sphere.nearest_vertex(hit.point.to_array()).unwrap();
            assert_eq!(hit.vertex, nearest, "eye {i}, aim {j}");
            assert!(sphere.triangles[hit.triangle].contains(&(hit.vertex as u32)));
            checked += 1;
        }
    }
    assert_eq!(checked, 192);
    // Aimed past the sphere: a miss.
    let eye = centre + Vec3::new(200.0, 0.0, 0.0);
    assert_eq!(pick((eye, Vec3::Z), &meshes), None);
}

#[test]
fn offsets_and_nearest_hit() {
    let sphere = icosphere(3, 10.0, Vec3::ZERO);
    let (v, t) = (&sphere.vertices[..], &sphere.triangles[..]);
    // Two copies on the x axis, seen from −x: the one at x = −30 is hit first, in either order.
    let ray = (Vec3::new(-100.0, 0.5, 0.3), Vec3::X);
    let a = (v, t, Vec3::new(-30.0, 0.0, 0.0));
    let b = (v, t, Vec3::new(30.0, 0.0, 0.0));
    let hit = pick(ray, &[b, a]).unwrap();
    assert_eq!(hit.mesh, 1);
    assert!((hit.point.x - -40.0).abs() < 0.2, "{}", hit.point);
    let hit = pick(ray, &[a, b]).unwrap();
    assert_eq!(hit.mesh, 0);
    // The vertex is the one nearest the hit in the mesh's own coordinates.
    let local = hit.point - a.2;
    assert_eq!(hit.vertex, sphere.nearest_vertex(local.to_array()).unwrap().0);
    // Moving the copies off the ray: nothing is hit.
    let c = (v, t, Vec3::new(0.0, 30.0, 0.0));
    assert_eq!(pick(ray, &[c]), None);
}

fn hemisphere(name: &str) -> Mesh {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/surfaces")
        .join(name);
    match load_path(&path, &mut |_| {}) {
        Ok(Loaded::Surface(s)) => Mesh::from_surface(&s).expect("a mesh"),
        other => panic!("{name}: {:?}", other.err()),
    }
}

#[test]
fn fsaverage5_presets_pick_the_hemisphere_facing_the_eye() {
    let left = hemisphere("fsaverage5_pial_left.gii.gz");
    let right = hemisphere("fsaverage5_pial_right.gii.gz");
    let meshes = [
        (&left.vertices[..], &left.triangles[..], Vec3::ZERO),
        (&right.vertices[..], &right.triangles[..], Vec3::ZERO),
    ];
    let (ll, lh) = left.bounds();
    let (rl, rh) = right.bounds();
    let both = ([0, 1, 2].map(|a| ll[a].min(rl[a])), [0, 1, 2].map(|a| lh[a].max(rh[a])));
    let (w, h) = (800.0, 600.0);
    for (preset, bounds, mesh) in [
        (CameraPreset::LateralLeft, both, 0),
        (CameraPreset::LateralRight, both, 1),
        (CameraPreset::MedialLeft, left.bounds(), 0),
    ] {
        let camera = OrbitCamera::preset(preset, bounds);
        let shown: &[_] = if preset == CameraPreset::MedialLeft {
            &meshes[..1]
        } else {
            &meshes
        };
        let hit = pick(camera.ray(w / 2.0, h / 2.0, w, h), shown)
            .unwrap_or_else(|| panic!("{preset:?}: the centre ray misses"));
        assert_eq!(hit.mesh, mesh, "{preset:?}");
        let m = [&left, &right][mesh];
        assert_eq!(
            hit.vertex,
            m.nearest_vertex(hit.point.to_array()).unwrap().0,
            "{preset:?}"
        );
        // Lateral views hit the outer face, the medial view the inner (x near the midline).
        match preset {
            CameraPreset::LateralLeft => assert!(hit.point.x < -40.0, "{}", hit.point),
            CameraPreset::LateralRight => assert!(hit.point.x > 40.0, "{}", hit.point),
            _ => assert!(hit.point.x > -20.0 && hit.point.x < 0.0, "{}", hit.point),
        }
    }
}
