//! GPU against CPU on small synthetic volumes: every plane, both interpolations, NaN,
//! oblique and flipped affines, signed thresholded overlays, opacity and several grids.

use cortexlens_data::{Colormap, Interpolation, LayerStyle, Plane, SliceGeometry};
use glam::{DMat3, DMat4, DVec2, DVec3};

use crate::common::{TOLERANCE, affine, check, count, pixel, render_slice, volume};
use cortexlens_render::testing::{compare_rgba, shared_context};
use cortexlens_render::{SliceRenderer, VolumeTexture};

const INTERPOLATIONS: [Interpolation; 2] = [Interpolation::Nearest, Interpolation::Linear];

/// A view of `plane` through `crosshair`, `fov` mm across, at a pixel size that does not divide
/// the voxel size (so pixel centres fall at many different sub-voxel offsets).
fn view(plane: Plane, crosshair: DVec3, fov: f64) -> SliceGeometry {
    SliceGeometry::fit(
        plane,
        crosshair,
        crosshair + DVec3::splat(0.377),
        DVec2::new(fov, fov * 0.8),
        96,
        77,
    )
}

fn with_interpolation(mut style: LayerStyle, interpolation: Interpolation) -> LayerStyle {
    style.interpolation = interpolation;
    style
}

/// A linear ramp on a 2 mm grid, gray over its range: the plainest case.
#[test]
fn gradient_every_plane_both_interpolations() {
    let v = volume(
        "gradient",
        [20, 16, 12],
        affine(
            DVec3::X * 2.0,
            DVec3::Y * 2.0,
            DVec3::Z * 2.0,
            DVec3::new(-19.0, -15.0, -11.0),
        ),
        |i, j, k| (i + 2 * j + 3 * k) as f32,
    );
    for plane in Plane::ALL {
        let mut levels = Vec::new();
        for interpolation in INTERPOLATIONS {
            let style = with_interpolation(LayerStyle::base((0.0, 83.0)), interpolation);
            let g = view(plane, DVec3::new(1.3, -2.1, 0.7), 50.0);
            let checked = check(
                &format!("gradient {plane:?} {interpolation:?}"),
                &g,
                &[(&v, 0, &style)],
                0,
                2000,
            );
            let mut grays: Vec<u8> = checked.gpu.chunks_exact(4).map(|p| p[0]).collect();
            grays.sort_unstable();
            grays.dedup();
            levels.push(grays.len());
        }
        // Nearest shows the voxels' own few values; trilinear many in between.
        assert!(
            levels[1] > 2 * levels[0],
            "{plane:?}: gray levels nearest/linear {levels:?}"
        );
    }
}

/// A smooth sphere through viridis (steps of up to a few units per LUT entry).
#[test]
fn sphere_viridis() {
    let c = DVec3::new(11.3, 12.1, 10.6);
    let v = volume(
        "sphere",
        [24, 24, 22],
        affine(DVec3::X * 1.5, DVec3::Y * 1.5, DVec3::Z * 1.5, DVec3::splat(-17.0)),
        |i, j, k| {
            let r = (DVec3::new(i as f64, j as f64, k as f64) - c).length();
            (100.0 * (1.0 - r / 10.0)).max(0.0) as f32
        },
    );
    for plane in Plane::ALL {
        for interpolation in INTERPOLATIONS {
            let mut style = with_interpolation(LayerStyle::base((0.0, 100.0)), interpolation);
            style.colormap = Colormap::Viridis;
            let g = view(plane, DVec3::new(0.4, 1.1, -0.9), 40.0);
            check(
                &format!("sphere {plane:?} {interpolation:?}"),
                &g,
                &[(&v, 0, &style)],
                0,
                3000,
            );
        }
    }
}

/// A NaN box inside a ramp: transparent where NaN (and, for trilinear, next to it). The ramp
/// is 0 along two faces, so "drawn" counts only part of the grid.
#[test]
fn nan_region_is_transparent() {
    let v = volume(
        "nan",
        [16, 16, 16],
        affine(DVec3::X * 2.0, DVec3::Y * 2.0, DVec3::Z * 2.0, DVec3::splat(-15.0)),
        |i, j, k| {
            if (5..10).contains(&i) && (4..9).contains(&j) && (3..12).contains(&k) {
                f32::NAN
            } else {
                (i * j + k) as f32
            }
        },
    );
    for plane in Plane::ALL {
        for interpolation in INTERPOLATIONS {
            // Cool has no black entry, so a NaN drawn as any LUT entry would show.
            let mut style = with_interpolation(LayerStyle::base((0.0, 240.0)), interpolation);
            style.colormap = Colormap::Cool;
            let g = view(plane, DVec3::new(-0.9, -1.3, 0.2), 36.0);
            let checked = check(
                &format!("nan {plane:?} {interpolation:?}"),
                &g,
                &[(&v, 0, &style)],
                0,
                1000,
            );
            // The hole is really there: the crosshair lies inside the NaN box, and it is black.
            let at = g.world_to_pixel(g.crosshair);
            assert_eq!(pixel(&checked.gpu, g.width, at.x as u32, at.y as u32), [0, 0, 0, 255]);
            let black = count(&checked.gpu, |p| p == [0, 0, 0, 255]);
            assert!(
                black > 200,
                "nan {plane:?} {interpolation:?}: only {black} black pixels"
            );
        }
    }
}

/// A rotated, anisotropic grid (1.2 × 2.5 × 3.1 mm, rotated about two axes): resliced obliquely.
#[test]
fn oblique_anisotropic_affine() {
    let rotation = DMat3::from_rotation_z(30f64.to_radians()) * DMat3::from_rotation_x(10f64.to_radians());
    let m = rotation * DMat3::from_diagonal(DVec3::new(1.2, 2.5, 3.1));
    let a = affine(m.x_axis, m.y_axis, m.z_axis, DVec3::new(-5.0, -22.0, -17.0));
    let v = volume("oblique", [30, 14, 11], a, |i, j, k| {
        (i as f32 * 0.7).sin() * 40.0 + (j * 5 + k * 3) as f32
    });
    for plane in Plane::ALL {
        for interpolation in INTERPOLATIONS {
            let mut style = with_interpolation(LayerStyle::base((-40.0, 100.0)), interpolation);
            style.colormap = Colormap::Inferno;
            let g = view(plane, v.world_center() + DVec3::new(0.31, -0.47, 0.23), 60.0);
            check(
                &format!("oblique {plane:?} {interpolation:?}"),
                &g,
                &[(&v, 0, &style)],
                0,
                1500,
            );
        }
    }
}

/// A grid whose x axis runs right to left (affine[0][0] < 0), as in the motor map.
#[test]
fn flipped_x_affine() {
    let a = affine(
        DVec3::X * -3.0,
        DVec3::Y * 3.0,
        DVec3::Z * 3.0,
        DVec3::new(30.0, -24.0, -21.0),
    );
    let v = volume("flipped", [20, 17, 15], a, |i, j, k| (i * 10 + j * 3 + k) as f32);
    for plane in Plane::ALL {
        for interpolation in INTERPOLATIONS {
            let style = with_interpolation(LayerStyle::base((0.0, 250.0)), interpolation);
            let g = view(plane, DVec3::new(1.1, 0.6, -0.8), 70.0);
            check(
                &format!("flipped {plane:?} {interpolation:?}"),
                &g,
                &[(&v, 0, &style)],
                0,
                3000,
            );
        }
        // Radiological display mirrors axial and coronal views.
        let mut g = view(plane, DVec3::new(1.1, 0.6, -0.8), 70.0);
        g.radiological = true;
        check(
            &format!("flipped {plane:?} radiological"),
            &g,
            &[(&v, 0, &LayerStyle::base((0.0, 250.0)))],
            0,
            3000,
        );
    }
}

/// A signed statistical map (threshold 3, both sides) at 60 % opacity over a gray base on
/// another grid, under a third, nearest-sampled layer at 30 %, with a hidden layer on top.
#[test]
fn signed_overlay_several_layers() {
    let base = volume(
        "base",
        [40, 44, 36],
        affine(DVec3::X, DVec3::Y, DVec3::Z, DVec3::new(-20.0, -22.0, -18.0)),
        |i, j, k| ((i * 7 + j * 5 + k * 3) % 97) as f32,
    );
    let stat = volume(
        "stat",
        [14, 15, 12],
        affine(
            DVec3::X * -3.0,
            DVec3::Y * 3.0,
            DVec3::Z * 3.0,
            DVec3::new(20.0, -21.0, -17.0),
        ),
        |i, j, k| {
            let (x, y, z) = (i as f32 - 6.5, j as f32 - 7.2, k as f32 - 5.4);
            8.0 * (x * 0.5).sin() * (y * 0.4).cos() + z * 0.3
        },
    );
    let third = volume(
        "third",
        [9, 9, 9],
        affine(DVec3::X * 4.0, DVec3::Y * 4.0, DVec3::Z * 4.0, DVec3::splat(-16.0)),
        |i, j, k| ((i + j + k) % 5) as f32,
    );
    let base_style = LayerStyle::base((0.0, 96.0));
    let mut overlay = LayerStyle::signed_overlay(3.0, 8.0);
    overlay.opacity = 0.6;
    let mut third_style = with_interpolation(LayerStyle::base((0.0, 4.0)), Interpolation::Nearest);
    third_style.colormap = Colormap::Cool;
    third_style.opacity = 0.3;
    third_style.threshold = Some(2.0);
    let mut hidden = LayerStyle::base((0.0, 1.0));
    hidden.visible = false;
    for plane in Plane::ALL {
        for interpolation in INTERPOLATIONS {
            let overlay = with_interpolation(overlay, interpolation);
            // x = −4.05 crosses the stat map where sin(x/2) is large, so both signs show.
            let g = view(plane, DVec3::new(-4.05, -0.65, 1.15), 46.0);
            let layers = [
                (&base, 0, &base_style),
                (&stat, 0, &overlay),
                (&third, 0, &third_style),
                (&base, 0, &hidden),
            ];
            let checked = check(&format!("signed {plane:?} {interpolation:?}"), &g, &layers, 0, 5000);
            // Both sides of the signed map show: reddish (r > b) and bluish (b > r) pixels.
            let red = count(&checked.cpu, |p| p[0] as i32 > p[2] as i32 + 60);
            let blue = count(&checked.cpu, |p| p[2] as i32 > p[0] as i32 + 60);
            assert!(red > 100 && blue > 100, "signed {plane:?}: red {red}, blue {blue}");
        }
    }
}

/// Without visible layers the picture is opaque black, on both sides.
#[test]
fn no_layers_is_opaque_black() {
    let v = volume("v", [4, 4, 4], DMat4::IDENTITY, |_, _, _| 1.0);
    let mut hidden = LayerStyle::base((0.0, 1.0));
    hidden.visible = false;
    let g = view(Plane::Axial, DVec3::ZERO, 8.0);
    let checked = check("hidden only", &g, &[(&v, 0, &hidden)], 0, 0);
    assert!(checked.gpu.chunks_exact(4).all(|p| p == [0, 0, 0, 255]));
    let ctx = shared_context();
    let empty = render_slice(&mut SliceRenderer::new(&ctx.device), &g, &[]);
    assert_eq!(empty, checked.cpu);
}

/// The comparison has teeth: the GPU picture of a geometry moved by a third of a voxel is
/// told apart from the CPU picture of the original.
#[test]
fn comparison_detects_a_small_shift() {
    let ctx = shared_context();
    let v = volume(
        "gradient",
        [20, 16, 12],
        affine(
            DVec3::X * 2.0,
            DVec3::Y * 2.0,
            DVec3::Z * 2.0,
            DVec3::new(-19.0, -15.0, -11.0),
        ),
        |i, j, k| ((i * 13 + j * 7 + k * 5) % 31) as f32,
    );
    let style = with_interpolation(LayerStyle::base((0.0, 30.0)), Interpolation::Nearest);
    let g = view(Plane::Axial, DVec3::new(1.3, -2.1, 0.7), 50.0);
    let mut moved = g;
    moved.view_center.x += 0.67;
    let texture = VolumeTexture::upload(&ctx.device, &ctx.queue, &v, 0);
    let gpu = render_slice(&mut SliceRenderer::new(&ctx.device), &moved, &[(&texture, &style)]);
    let cpu = cortexlens_render::cpu_reference::reslice(&g, &[(&v, 0, &style)]);
    let diff = compare_rgba(&gpu, &cpu, g.width, TOLERANCE);
    assert!(diff.over > 500, "a shifted picture went unnoticed: {diff:?}");
}

/// An atlas of integer labels (0 background, labels up to 300, some negative) over a gray base:
/// each label gets its table entry (modulo 256), label 0 is transparent, nearest sampling keeps
/// the voxels' own labels on every plane.
#[test]
fn labels_atlas_over_a_base() {
    let grid = affine(DVec3::X * 2.0, DVec3::Y * 2.0, DVec3::Z * 2.0, DVec3::splat(-12.0));
    let base = volume("base", [12, 12, 12], grid, |i, j, k| (i + j + k) as f32);
    let atlas = volume("atlas", [12, 12, 12], grid, |i, j, k| {
        if (i + j + k) % 5 == 0 {
            0.0
        } else {
            ((i / 3) * 100 + (j / 3) * 7 + k / 4) as f32 - 20.0
        }
    });
    let mut labels = LayerStyle::base((0.0, 1.0));
    labels.set_colormap(Colormap::Labels);
    assert_eq!(labels.interpolation, Interpolation::Nearest);
    assert_eq!(labels.threshold, Some(0.5));
    labels.opacity = 0.8;
    let base_style = LayerStyle::base((0.0, 33.0));
    for plane in Plane::ALL {
        let g = view(plane, DVec3::new(0.3, -1.1, 0.9), 26.0);
        let checked = check(
            &format!("labels {plane:?}"),
            &g,
            &[(&base, 0, &base_style), (&atlas, 0, &labels)],
            0,
            3000,
        );
        // Labels show as colours (not grays), and background voxels (label 0) show the gray base.
        let colourful = checked
            .gpu
            .chunks_exact(4)
            .filter(|p| p[0] != p[1] || p[1] != p[2])
            .count();
        let gray = checked
            .gpu
            .chunks_exact(4)
            .filter(|p| p[0] == p[1] && p[1] == p[2] && p[0] > 0)
            .count();
        assert!(
            colourful > 1000 && gray > 100,
            "{plane:?}: {colourful} coloured, {gray} gray pixels"
        );
    }
}

/// How far apart adjacent LUT entries are, which bounds what an f32-vs-f64 off-by-one entry
/// costs: 1 for gray, `cool` and the FSL maps, 3 for viridis, 4 for `hot` (its blue ramps over
/// a quarter of the range), 5 for inferno; so such a pixel in those maps would count as a
/// boundary pixel in [`check`], not pass silently.
#[test]
fn lut_steps() {
    for colormap in Colormap::ALL.into_iter().filter(|c| !c.is_categorical()) {
        let lut = colormap.lut();
        let step = lut
            .windows(2)
            .flat_map(|w| (0..3).map(move |c| w[0][c].abs_diff(w[1][c])))
            .max()
            .unwrap_or(0);
        eprintln!("{}: largest step between adjacent LUT entries {step}", colormap.name());
        assert!(step <= 5, "{}: step {step}", colormap.name());
    }
}
