//! The same head stored in all 48 axis permutations and flips: with the header's affine applied,
//! every file shows the same value at the same world point.

mod common;

use common::*;
use cortexlens_data::Volume;
use glam::DVec3;

#[test]
fn all_48_orientations_agree_in_world_space() {
    let dir = data_dir().join("orientation");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".nii.gz"))
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 48);
    let volumes: Vec<Volume> = paths.iter().map(|p| load_vol(p)).collect();
    let ras = volumes.iter().find(|v| v.name == "RAS.nii.gz").unwrap();

    // World points at RAS voxel centres inside the head (non-zero there), spread over the grid.
    let mut points = Vec::new();
    for i in (8..ras.shape[0] - 8).step_by(9) {
        for j in (8..ras.shape[1] - 8).step_by(11) {
            for k in (8..ras.shape[2] - 8).step_by(10) {
                let ijk = [i as i64, j as i64, k as i64];
                if ras.value_at(ijk, 0).unwrap() > 0.0 {
                    points.push((
                        ras.voxel_to_world(DVec3::new(i as f64, j as f64, k as f64)),
                        ras.value_at(ijk, 0).unwrap(),
                    ));
                }
            }
        }
    }
    assert!(points.len() >= 20, "only {} points inside the head", points.len());
    let distinct: std::collections::BTreeSet<u32> = points.iter().map(|(_, v)| v.to_bits()).collect();
    assert!(distinct.len() >= 5, "the points should see different tissue");

    for v in &volumes {
        assert_eq!(
            v.shape.iter().product::<usize>(),
            ras.shape.iter().product::<usize>(),
            "{}",
            v.name
        );
        assert!(
            (v.world_center() - ras.world_center()).length() < 1e-3,
            "{}: centre",
            v.name
        );
        for (world, want) in &points {
            let ijk = v.nearest_voxel(*world);
            let exact = v.world_to_voxel(*world);
            assert!(
                (exact - DVec3::new(ijk[0] as f64, ijk[1] as f64, ijk[2] as f64)).length() < 1e-3,
                "{}: {world} is not a voxel centre",
                v.name
            );
            assert_eq!(v.value_at(ijk, 0), Some(*want), "{} at {world}", v.name);
        }
    }
}
