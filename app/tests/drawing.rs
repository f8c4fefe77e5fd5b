//! Regions drawn on a layer's grid, through the viewer's drawing API that the slice views call:
//! pen, 3D brush, fill, fill between slices, undo and redo, statistics, and the saved NIfTI,
//! which must be byte-for-byte the file nibabel read into `tests/data/generated/drawing.json`.

use std::io::Read;
use std::path::{Path, PathBuf};

use cortexlens::viewer::{DrawTool, Layer, LayerId, Viewer, default_style, stats_tsv};
use cortexlens_data::{Loaded, Plane, Volume, load_path};
use glam::DVec3;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn base() -> Volume {
    match load_path(&repo().join("tests/data/volumes/nibabel_example4d.nii.gz"), &mut |_| {}).unwrap() {
        Loaded::Volume(v) => v,
        _ => panic!("a volume"),
    }
}

/// A viewer showing the oblique 4D base, and an empty region layer on its grid.
fn viewer_with_region() -> (Viewer, LayerId, LayerId) {
    let mut viewer = Viewer::default();
    let volume = base();
    let id = viewer.new_layer_id();
    let style = default_style(&volume, true);
    viewer.push_layer(Layer::new(id, volume, style));
    let region = viewer.new_drawn_layer(id).unwrap();
    (viewer, id, region)
}

fn world(viewer: &Viewer, id: LayerId, [i, j, k]: [i64; 3]) -> DVec3 {
    let volume = &viewer.layer(id).unwrap().volume;
    volume.voxel_to_world(DVec3::new(i as f64, j as f64, k as f64))
}

fn labels(viewer: &Viewer, region: LayerId) -> Vec<f32> {
    viewer.layer(region).unwrap().volume.data.clone()
}

/// The fixed drawing whose saved file nibabel checked.
fn draw_fixture(viewer: &mut Viewer, base: LayerId) {
    let at = |viewer: &Viewer, ijk| world(viewer, base, ijk);
    let settings = &mut viewer.drawings.settings;
    (settings.size, settings.label) = (3, 1);
    for ijk in [[40, 40, 12], [60, 50, 12], [70, 30, 12]] {
        let w = at(viewer, ijk);
        viewer.draw_at(w, Plane::Axial);
    }
    viewer.end_stroke();
    let settings = &mut viewer.drawings.settings;
    (settings.size, settings.label, settings.ball) = (5, 2, true);
    let w = at(viewer, [90, 30, 10]);
    viewer.draw_at(w, Plane::Axial);
    viewer.end_stroke();
    // An outline on slice 5, then filled inside.
    let settings = &mut viewer.drawings.settings;
    (settings.size, settings.label, settings.ball) = (1, 3, false);
    for ijk in [[20, 60, 5], [30, 60, 5], [30, 70, 5], [20, 70, 5], [20, 60, 5]] {
        let w = at(viewer, ijk);
        viewer.draw_at(w, Plane::Axial);
    }
    viewer.end_stroke();
    viewer.drawings.settings.tool = DrawTool::Fill;
    let w = at(viewer, [25, 65, 5]);
    assert_eq!(viewer.fill_at(w, Plane::Axial), 81, "the 9×9 inside of the outline");
    // Two squares of label 4 on slices 15 and 19, and the slices between filled.
    viewer.drawings.settings.tool = DrawTool::Pen;
    let settings = &mut viewer.drawings.settings;
    (settings.size, settings.label) = (7, 4);
    for ijk in [[100, 70, 15], [100, 70, 19]] {
        let w = at(viewer, ijk);
        viewer.draw_at(w, Plane::Axial);
        viewer.end_stroke();
    }
    assert!(viewer.fill_between_slices() > 0);
}

#[test]
fn drawing_fills_undo_and_statistics() {
    let (mut viewer, base, region) = viewer_with_region();
    assert_eq!(viewer.layers.len(), 2);
    assert_eq!(viewer.selected, Some(region));
    let empty = labels(&viewer, region);
    assert!(empty.iter().all(|&v| v == 0.0));

    draw_fixture(&mut viewer, base);
    let drawn = labels(&viewer, region);
    let count = |data: &[f32], label: f32| data.iter().filter(|&&v| v == label).count();
    // The stroke stays in the axial slice k = 12 of the oblique grid (its third axis is the one
    // closest to world z), with no gaps between the points.
    let volume = viewer.layer(region).unwrap().volume.clone();
    let [nx, ny, _, _] = volume.shape;
    let slices_of = |label: f32| -> Vec<usize> {
        let mut ks: Vec<usize> = (0..drawn.len())
            .filter(|&n| drawn[n] == label)
            .map(|n| n / (nx * ny))
            .collect();
        ks.dedup();
        ks
    };
    assert_eq!(slices_of(1.0), [12]);
    assert!(count(&drawn, 1.0) >= 3 * (22 + 22), "{}", count(&drawn, 1.0));
    assert_eq!(
        count(&drawn, 2.0),
        81,
        "a 5-voxel ball: the voxels of the 5³ cube with |d|² ≤ 6.25"
    );
    assert_eq!(slices_of(2.0), [8, 9, 10, 11, 12]);
    assert_eq!(count(&drawn, 3.0), 40 + 81);
    assert_eq!(slices_of(4.0), [15, 16, 17, 18, 19], "filled between 15 and 19");
    assert_eq!(count(&drawn, 4.0), 5 * 37, "equal squares: the same square in between");

    // Undo steps back one edit at a time, redo forward; a new edit clears the redo steps.
    assert!(viewer.undo_drawing());
    assert_eq!(count(&labels(&viewer, region), 4.0), 2 * 37);
    assert!(viewer.undo_drawing() && viewer.undo_drawing());
    assert_eq!(count(&labels(&viewer, region), 4.0), 0);
    assert!(viewer.redo_drawing() && viewer.redo_drawing() && viewer.redo_drawing());
    assert_eq!(labels(&viewer, region), drawn);
    assert!(!viewer.redo_drawing());

    // The eraser clears any label.
    viewer.drawings.settings.tool = DrawTool::Eraser;
    viewer.drawings.settings.size = 15;
    let w = world(&viewer, base, [25, 65, 5]);
    viewer.draw_at(w, Plane::Axial);
    viewer.end_stroke();
    assert_eq!(count(&labels(&viewer, region), 3.0), 0);
    viewer.undo_drawing();

    // A fill bounded by the base's values covers only voxels whose value lies in the range.
    let base_volume = viewer.layer(base).unwrap().volume.clone();
    let seed = [64, 48, 2];
    let seed_value = base_volume.value_at(seed, 0).unwrap();
    let range = (seed_value - 100.0, seed_value + 100.0);
    let settings = &mut viewer.drawings.settings;
    (settings.tool, settings.label, settings.fill_range) = (DrawTool::Fill, 5, Some(range));
    let filled = viewer.fill_at(world(&viewer, base, seed), Plane::Axial);
    let now = labels(&viewer, region);
    let fives: Vec<usize> = (0..now.len()).filter(|&n| now[n] == 5.0).collect();
    assert_eq!(fives.len(), filled);
    assert!(filled > 0 && filled < nx * ny, "{filled}");
    assert!(fives.iter().all(|&n| {
        let v = base_volume.data[n];
        n / (nx * ny) == 2 && v >= range.0 && v <= range.1
    }));
    viewer.undo_drawing();
    viewer.drawings.settings.fill_range = None;

    // Statistics: size and volume per label, the base's values inside (frame 0).
    let stats = viewer.drawn_stats(region);
    assert_eq!(stats.iter().map(|s| s.label).collect::<Vec<_>>(), [1, 2, 3, 4]);
    let voxel_mm3 = volume.affine.determinant().abs();
    let three = &stats[2];
    assert_eq!(three.size.voxels, 121);
    assert!((three.size.volume_mm3 - 121.0 * voxel_mm3).abs() < 1e-9);
    let base_volume = &viewer.layer(base).unwrap().volume;
    let inside: Vec<f64> = (0..drawn.len())
        .filter(|&n| drawn[n] == 3.0)
        .map(|n| f64::from(base_volume.data[n]))
        .collect();
    let mean = inside.iter().sum::<f64>() / inside.len() as f64;
    let (name, values) = &three.layers[0];
    assert_eq!(name, "nibabel_example4d.nii.gz");
    let values = values.unwrap();
    assert_eq!(values.count, 121);
    assert!((values.mean - mean).abs() < 1e-9, "{} vs {mean}", values.mean);
    let tsv = stats_tsv(&stats);
    assert!(tsv.starts_with("label\tvoxels\tvolume_mm3\tlayer\tcount\tmean\tsd\tmin\tmax\n"));
    assert_eq!(tsv.lines().count(), 1 + 4);
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

#[test]
fn a_saved_region_is_what_nibabel_read() {
    let (mut viewer, base, region) = viewer_with_region();
    draw_fixture(&mut viewer, base);
    let dir = std::env::temp_dir().join(format!("cortexlens-drawing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let saved = dir.join("drawn_region.nii.gz");
    viewer.save_drawn(region, &saved).unwrap();
    let fixture = repo().join("tests/data/generated/drawing/drawn_region.nii.gz");
    if std::env::var_os("CORTEXLENS_UPDATE_FIXTURES").is_some() {
        std::fs::copy(&saved, &fixture).unwrap();
    }
    assert!(
        gunzip(&saved) == gunzip(&fixture),
        "the saved region differs from the file nibabel checked: rerun with CORTEXLENS_UPDATE_FIXTURES=1, then \
         tests/data/generated/check_drawn_region.py"
    );

    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tests/data/generated/drawing.json")).unwrap())
            .unwrap();
    let Loaded::Volume(back) = load_path(&saved, &mut |_| {}).unwrap() else {
        panic!("a volume");
    };
    assert_eq!(back.datatype, reference["dtype"].as_str().unwrap());
    let shape: Vec<usize> = serde_json::from_value(reference["shape"].clone()).unwrap();
    assert_eq!(back.shape[..3], shape[..]);
    let affine: Vec<Vec<f64>> = serde_json::from_value(reference["affine"].clone()).unwrap();
    for (row, values) in affine.iter().enumerate().take(3) {
        for (col, v) in values.iter().enumerate() {
            assert!((back.affine.col(col)[row] - v).abs() < 1e-9, "affine[{row}][{col}]");
        }
    }
    let space = back.nifti_space.unwrap();
    assert_eq!(i64::from(space.qform_code), reference["qform_code"].as_i64().unwrap());
    assert_eq!(i64::from(space.sform_code), reference["sform_code"].as_i64().unwrap());
    assert_eq!(i64::from(space.xyzt_units), reference["xyzt_units"].as_i64().unwrap());
    let voxels: Vec<[usize; 3]> = serde_json::from_value(reference["voxels"].clone()).unwrap();
    let values: Vec<f32> = serde_json::from_value(reference["values"].clone()).unwrap();
    let [nx, ny, _, _] = back.shape;
    let nonzero = back.data.iter().filter(|&&v| v != 0.0).count();
    assert_eq!(nonzero, voxels.len());
    for ([i, j, k], value) in voxels.iter().zip(values) {
        assert_eq!(back.data[i + nx * (j + ny * k)], value, "voxel {i},{j},{k}");
    }
    // The base's own grid: the region lines up with it in world space.
    assert_eq!(back.affine, viewer.layer(base).unwrap().volume.affine);
    std::fs::remove_dir_all(dir).ok();
}
