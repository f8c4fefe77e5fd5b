use glam::{DMat4, DVec3};

use super::*;
use crate::volume::Volume;

fn count(d: &Drawing, label: i16) -> usize {
    d.labels().iter().filter(|&&l| l == label).count()
}

#[test]
fn brushes_cover_discs_and_balls() {
    let mut d = Drawing::new([20, 20, 20]).unwrap();
    d.paint([10, 10, 10], 1, Brush::Disc { axis: 2 }, 1);
    assert_eq!(count(&d, 1), 1);
    d.paint([10, 10, 10], 3, Brush::Disc { axis: 2 }, 2);
    assert_eq!(count(&d, 2), 9, "a 3-voxel disc is 3×3 within (1.5)²");
    assert!(d.voxels_of(2).all(|v| v[2] == 10));
    d.paint([10, 10, 10], 3, Brush::Ball, 3);
    assert_eq!(
        count(&d, 3),
        19,
        "a 3-voxel ball: the 3×3×3 cube without its 8 corners (|d|² = 3)"
    );
    d.paint([10, 10, 10], 5, Brush::Disc { axis: 0 }, 4);
    assert_eq!(count(&d, 4), 21, "5 across: |d|² ≤ 6.25");
    assert!(d.voxels_of(4).all(|v| v[0] == 10));
    // The edge of the grid clips the brush.
    d.paint([0, 0, 0], 3, Brush::Ball, 5);
    assert_eq!(
        count(&d, 5),
        7,
        "the octant of the ball inside the grid: the 2×2×2 cube less its far corner"
    );
}

#[test]
fn a_stroke_is_one_edit_and_undo_redo_restore_it() {
    let mut d = Drawing::new([30, 30, 3]).unwrap();
    d.begin_stroke();
    d.paint_line(
        DVec3::new(2.0, 2.0, 1.0),
        DVec3::new(27.0, 20.0, 1.0),
        1,
        Brush::Disc { axis: 2 },
        1,
    );
    d.paint_line(
        DVec3::new(27.0, 20.0, 1.0),
        DVec3::new(27.0, 2.0, 1.0),
        1,
        Brush::Disc { axis: 2 },
        1,
    );
    d.end_stroke();
    let drawn = d.labels().to_vec();
    // No gaps: every drawn voxel but the last has a drawn 8-neighbour further along.
    assert!(count(&d, 1) >= 25 + 18);
    assert_eq!(d.label_at([2, 2, 1]), Some(1));
    assert_eq!(d.label_at([27, 2, 1]), Some(1));
    // Erase part of it in a second stroke.
    d.begin_stroke();
    d.paint([27, 10, 1], 5, Brush::Disc { axis: 2 }, 0);
    d.end_stroke();
    let erased = d.labels().to_vec();
    assert!(count(&d, 1) < drawn.iter().filter(|&&l| l == 1).count());
    assert!(d.undo());
    assert_eq!(d.labels(), &drawn[..]);
    assert!(d.undo());
    assert_eq!(count(&d, 1), 0);
    assert!(!d.undo());
    assert!(d.redo() && d.redo());
    assert_eq!(d.labels(), &erased[..]);
    assert!(!d.redo());
    // A new edit clears what could be redone.
    d.undo();
    d.paint([5, 5, 0], 1, Brush::Ball, 2);
    d.end_stroke();
    assert!(!d.can_redo());
    assert!(d.can_undo());
}

#[test]
fn painting_a_voxel_twice_in_a_stroke_undoes_to_its_first_state() {
    let mut d = Drawing::new([5, 5, 5]).unwrap();
    d.paint([2, 2, 2], 1, Brush::Ball, 1);
    d.end_stroke();
    d.begin_stroke();
    d.paint([2, 2, 2], 1, Brush::Ball, 2);
    d.paint([2, 2, 2], 1, Brush::Ball, 3);
    d.end_stroke();
    assert_eq!(d.label_at([2, 2, 2]), Some(3));
    d.undo();
    assert_eq!(d.label_at([2, 2, 2]), Some(1));
    d.redo();
    assert_eq!(d.label_at([2, 2, 2]), Some(3));
}

#[test]
fn flood_fill_stays_in_its_slice_its_outline_and_the_allowed_voxels() {
    let mut d = Drawing::new([12, 12, 3]).unwrap();
    // A closed square outline on slice k = 1.
    for a in 2..=9 {
        for at in [[a, 2, 1], [a, 9, 1], [2, a, 1], [9, a, 1]] {
            d.paint(at, 1, Brush::Ball, 1);
        }
    }
    d.end_stroke();
    let changed = d.fill_slice([5, 5, 1], 2, 1, &|_| true);
    assert_eq!(changed, 36, "the 6×6 inside");
    assert_eq!(count(&d, 1), 64);
    assert_eq!(d.label_at([5, 5, 0]), Some(0));
    assert_eq!(d.label_at([0, 0, 1]), Some(0));
    d.undo();
    assert_eq!(count(&d, 1), 28);
    // Bounded: only voxels with i < 5 may be filled.
    let changed = d.fill_slice([4, 4, 1], 2, 2, &|[i, _, _]| i < 5);
    assert_eq!(changed, 2 * 6);
    assert!(d.voxels_of(2).all(|[i, _, k]| i < 5 && k == 1));
    // Filling outside the outline covers the rest of the slice.
    assert_eq!(d.fill_slice([0, 0, 1], 2, 3, &|_| true), 144 - 64);
}

#[test]
fn filling_between_slices_blends_the_shapes() {
    let mut d = Drawing::new([21, 21, 9]).unwrap();
    // A 9×9 square on k = 0 and a 3×3 square on k = 8, same centre.
    for j in 6..=14 {
        for i in 6..=14 {
            d.paint([i, j, 0], 1, Brush::Ball, 1);
        }
    }
    for j in 9..=11 {
        for i in 9..=11 {
            d.paint([i, j, 8], 1, Brush::Ball, 1);
        }
    }
    d.end_stroke();
    // A voxel of another label in between is not overwritten.
    d.paint([10, 10, 4], 1, Brush::Ball, 7);
    d.end_stroke();
    let changed = d.fill_between_slices(2, 1);
    let per_slice: Vec<usize> = (0..9).map(|k| d.voxels_of(1).filter(|v| v[2] == k).count()).collect();
    assert_eq!(per_slice[0], 81);
    assert_eq!(per_slice[8], 9);
    assert_eq!(changed, per_slice[1..8].iter().sum::<usize>());
    // Side lengths shrink from 9 to 3 through the slices: the sizes decrease monotonically.
    for k in 1..8 {
        assert!(
            per_slice[k] <= per_slice[k - 1] && per_slice[k] >= per_slice[k + 1],
            "{per_slice:?}"
        );
    }
    // Halfway the signed distances (−(5 − |x|) inside the large square, |x| − 1 outside the small
    // one along an axis) cross zero at |x| = 3: a 5×5 square with three voxels more on each side
    // (the corners rounded), less the voxel of the other label.
    assert_eq!(per_slice[4], 5 * 5 + 4 * 3 - 1);
    assert_eq!(d.label_at([10, 10, 4]), Some(7));
    // Symmetric around the centre, within the square's extent.
    assert!(
        d.voxels_of(1)
            .all(|[i, j, _]| (6..=14).contains(&i) && (6..=14).contains(&j))
    );
    d.undo();
    assert_eq!(count(&d, 1), 81 + 9);
    // Along another axis there is nothing to fill between (one slice per i holds both squares).
    assert_eq!(d.fill_between_slices(0, 1), 0);
}

#[test]
fn region_and_sample_statistics() {
    let mut d = Drawing::new([4, 4, 4]).unwrap();
    d.paint([1, 1, 1], 2, Brush::Disc { axis: 2 }, 3);
    d.end_stroke();
    let stats = d.region_stats(3, 8.0);
    assert_eq!(stats.voxels, 5);
    assert_eq!(stats.volume_mm3, 40.0);
    // A volume on a grid twice as fine, shifted: values = i + 10·j at its own voxels.
    let affine = DMat4::from_cols_array(&[
        0.5, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 1.0,
    ]);
    let data = (0..8 * 8 * 8)
        .map(|n| (n % 8) as f32 + 10.0 * (n / 8 % 8) as f32)
        .collect();
    let volume = Volume::from_f32("v", [8, 8, 8, 1], affine, data);
    let points = d.voxels_of(3).map(|[i, j, k]| DVec3::new(i as f64, j as f64, k as f64));
    let s = sample_stats(points, &volume, 0).unwrap();
    // Voxels (1,1),(0,1),(2,1),(1,0),(1,2) of the drawing land on i, j doubled.
    let values = [22.0, 20.0, 24.0, 2.0, 42.0];
    let mean = values.iter().sum::<f64>() / 5.0;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
    assert!((s.mean - mean).abs() < 1e-12 && (s.sd - sd).abs() < 1e-12, "{s:?}");
    assert_eq!((s.count, s.min, s.max), (5, 2.0, 42.0));
    assert!(sample_stats([DVec3::splat(100.0)], &volume, 0).is_none());
}

#[test]
fn bad_grids_are_errors() {
    assert!(matches!(
        Drawing::new([1 << 12, 1 << 12, 1 << 9]),
        Err(DrawingError::TooLarge(_))
    ));
    assert!(matches!(
        Drawing::from_labels([2, 2, 2], vec![0; 7]),
        Err(DrawingError::Size { labels: 7, .. })
    ));
}
