//! Meshes and per-vertex maps from the real surface files: fsaverage5 in every geometry, the
//! FreeSurfer files, the nibabel GIFTI files; classification, vertex-count checks, normals and
//! nearest-vertex picking.

mod common;

use common::*;
use cortexlens_data::SurfaceFile;
use cortexlens_data::mesh::{
    GeometryKind, Hemisphere, Mesh, MeshError, SurfaceRole, check_same_vertices, check_vertex_count, classify,
    vertex_maps,
};

fn surf(rel: &str) -> SurfaceFile {
    load_surf(&data_dir().join(rel))
}

fn fsaverage(kind: &str, side: &str) -> SurfaceFile {
    surf(&format!("surfaces/fsaverage5_{kind}_{side}.gii.gz"))
}

#[test]
fn fsaverage5_geometries_share_vertices() {
    for (side, hemisphere) in [("left", Hemisphere::Left), ("right", Hemisphere::Right)] {
        let pial = Mesh::from_surface(&fsaverage("pial", side)).unwrap();
        for (kind, geometry) in [
            ("pial", GeometryKind::Pial),
            ("white", GeometryKind::White),
            ("infl", GeometryKind::Inflated),
            ("sphere", GeometryKind::Sphere),
            ("flat", GeometryKind::Flat),
        ] {
            let file = fsaverage(kind, side);
            assert_eq!(
                classify(&file.name, &file),
                SurfaceRole::Mesh {
                    hemisphere: Some(hemisphere),
                    geometry
                },
                "{}",
                file.name
            );
            let mesh = Mesh::from_surface(&file).unwrap();
            assert_eq!(mesh.vertices.len(), 10242, "{}", file.name);
            check_same_vertices(&file.name, &mesh, "pial", &pial).unwrap();
            if kind == "flat" {
                // A patch: the medial wall is cut away.
                assert!(mesh.triangles.len() < 20480 && mesh.triangles.len() > 15000);
            } else {
                assert_eq!(mesh.triangles.len(), 20480, "{}", file.name);
            }
        }
        // Left hemisphere on the left of the midline, right on the right.
        let (lo, hi) = pial.bounds();
        match hemisphere {
            Hemisphere::Left => assert!(hi[0] < 5.0 && lo[0] < -60.0),
            Hemisphere::Right => assert!(lo[0] > -5.0 && hi[0] > 60.0),
        }
    }
}

#[test]
fn fsaverage5_maps() {
    for (kind, lo, hi) in [("curv", -1.0, 1.0), ("sulc", -20.0, 20.0), ("thick", -0.01, 6.0)] {
        let file = fsaverage(kind, "left");
        assert_eq!(
            classify(&file.name, &file),
            SurfaceRole::Maps {
                hemisphere: Some(Hemisphere::Left)
            }
        );
        let maps = vertex_maps(&file);
        assert_eq!(maps.len(), 1, "{kind}");
        let map = &maps[0];
        assert_eq!(map.name, file.name);
        assert_eq!(map.frames.len(), 1);
        assert_eq!(map.len(), 10242);
        assert!(!map.is_label());
        assert_eq!(map.hemisphere, Some(Hemisphere::Left));
        assert!(map.frames[0].iter().all(|v| (lo..=hi).contains(v)), "{kind}");
        let pial = Mesh::from_surface(&fsaverage("pial", "left")).unwrap();
        check_vertex_count("pial", &pial, map).unwrap();
    }
}

#[test]
fn vertex_count_mismatch_is_a_clear_error() {
    let thickness = &vertex_maps(&surf("freesurfer/lh.thickness"))[0];
    let small = Mesh::from_surface(&surf("surfaces/nibabel_ascii.gii")).unwrap();
    let e = check_vertex_count("nibabel_ascii.gii", &small, thickness).unwrap_err();
    assert_eq!(
        e.to_string(),
        "lh.thickness: 10242 values but mesh nibabel_ascii.gii has 3 vertices"
    );
    let shape = &vertex_maps(&surf("surfaces/nibabel_rh.shape.curv.gii"))[0];
    let pial = Mesh::from_surface(&fsaverage("pial", "right")).unwrap();
    assert!(matches!(
        check_vertex_count("rh.pial", &pial, shape),
        Err(MeshError::VertexCountMismatch {
            count: 133_764,
            expected: 10242,
            ..
        })
    ));
}

#[test]
fn bad_triangle_index_is_an_error() {
    let file = surf("surfaces/nibabel_base64bin.gii");
    let e = Mesh::from_surface(&file).unwrap_err();
    assert!(matches!(e, MeshError::BadIndex { vertices: 10, .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.starts_with("nibabel_base64bin.gii: triangle 0 refers to vertex"),
        "{msg}"
    );
    // A file of values only is not a mesh.
    let e = Mesh::from_surface(&fsaverage("thick", "left")).unwrap_err();
    assert!(matches!(e, MeshError::NoPoints { .. }), "{e}");
}

#[test]
fn nibabel_gifti_files() {
    let ascii = surf("surfaces/nibabel_ascii.gii");
    assert_eq!(
        classify(&ascii.name, &ascii),
        SurfaceRole::Mesh {
            hemisphere: Some(Hemisphere::Left),
            geometry: GeometryKind::Pial
        }
    );
    let mesh = Mesh::from_surface(&ascii).unwrap();
    assert_eq!((mesh.vertices.len(), mesh.triangles.len()), (3, 1));

    let task = surf("surfaces/nibabel_task.func.gii");
    let maps = vertex_maps(&task);
    assert_eq!(maps.len(), 1, "TIME_SERIES arrays are frames of one map");
    assert_eq!(maps[0].frames.len(), task.arrays.len());
    assert_eq!(maps[0].len(), 642);

    let annot = surf("surfaces/nibabel_rh.aparc.annot.gii");
    assert_eq!(
        classify(&annot.name, &annot),
        SurfaceRole::Maps {
            hemisphere: Some(Hemisphere::Right)
        }
    );
    let maps = vertex_maps(&annot);
    assert_eq!(maps.len(), 1);
    assert!(maps[0].is_label());
    assert_eq!(maps[0].labels.len(), annot.labels.len());
    assert_eq!(maps[0].len(), 151_533);
    // Values are table keys, except 0 where the file left vertices unlabelled.
    let keys: std::collections::HashSet<i32> = maps[0].labels.iter().map(|l| l.key).collect();
    assert!(
        maps[0].frames[0]
            .iter()
            .all(|&v| v == 0.0 || keys.contains(&(v as i32)))
    );
}

#[test]
fn freesurfer_files() {
    for (file, geometry) in [
        ("lh.pial", GeometryKind::Pial),
        ("lh.white", GeometryKind::White),
        ("lh.inflated", GeometryKind::Inflated),
        ("rh.pial", GeometryKind::Pial),
    ] {
        let s = surf(&format!("freesurfer/{file}"));
        let hemisphere = Hemisphere::from_file_name(file);
        assert_eq!(classify(&s.name, &s), SurfaceRole::Mesh { hemisphere, geometry });
        let m = Mesh::from_surface(&s).unwrap();
        assert_eq!((m.vertices.len(), m.triangles.len()), (10242, 20480));
    }
    let annot = surf("freesurfer/lh.sectors.annot");
    let maps = vertex_maps(&annot);
    assert_eq!(maps.len(), 1);
    assert_eq!(maps[0].hemisphere, Some(Hemisphere::Left));
    assert!(maps[0].is_label());
    assert_eq!(maps[0].len(), 10242);
    let curv = vertex_maps(&surf("freesurfer/rh.curv"));
    assert_eq!(curv[0].hemisphere, Some(Hemisphere::Right));
    assert_eq!(curv[0].len(), 10242);
}

#[test]
fn sphere_normals_point_outward() {
    let sphere = Mesh::icosphere(4);
    for (v, n) in sphere.vertices.iter().zip(sphere.vertex_normals()) {
        let dot: f32 = (0..3).map(|a| v[a] * n[a]).sum();
        assert!(dot > 0.999, "{v:?} {n:?}");
    }
    // fsaverage5's sphere (radius 100) too: its triangles are wound outwards.
    let fs = Mesh::from_surface(&fsaverage("sphere", "left")).unwrap();
    for (v, n) in fs.vertices.iter().zip(fs.vertex_normals()) {
        let dot: f32 = (0..3).map(|a| v[a] * n[a]).sum::<f32>() / 100.0;
        assert!(dot > 0.99, "{v:?} {n:?}");
    }
    assert!(fs.signed_volume() > 0.0);
    let area = fs.area();
    let exact = 4.0 * std::f64::consts::PI * 100.0 * 100.0;
    assert!((area - exact).abs() / exact < 0.01, "{area} vs {exact}");
}

#[test]
fn nearest_vertex_on_a_real_mesh() {
    let pial = Mesh::from_surface(&fsaverage("pial", "left")).unwrap();
    for i in [0, 1234, 10241] {
        let v = pial.vertices[i];
        assert_eq!(pial.nearest_vertex(v), Some((i, 0.0)));
        let n = pial.vertex_normals()[i];
        let off = [v[0] + 0.01 * n[0], v[1] + 0.01 * n[1], v[2] + 0.01 * n[2]];
        let (j, d) = pial.nearest_vertex(off).unwrap();
        assert_eq!(j, i);
        assert!((d - 0.01).abs() < 1e-4);
    }
    // From far away the nearest vertex is the extreme one in that direction.
    let (j, _) = pial.nearest_vertex([-1000.0, 0.0, 0.0]).unwrap();
    let min_x = pial.vertices.iter().map(|v| v[0]).fold(f32::INFINITY, f32::min);
    assert!((pial.vertices[j][0] - min_x).abs() < 5.0);
}
