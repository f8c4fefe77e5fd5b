//! Volumes over the texture budget are box-averaged down, say so, and still render in place.

use cortexlens_data::{Interpolation, LayerStyle, Plane, SliceGeometry};
use cortexlens_render::testing::{compare_rgba, shared_context};
use cortexlens_render::volume_texture::box_downsample;
use cortexlens_render::{SliceRenderer, TextureBudget, VolumeTexture, cpu_reference};
use glam::{DVec2, DVec3};

use crate::common::{TOLERANCE, affine, count, render_slice, volume};

#[test]
fn over_the_limit_is_downsampled_with_a_notice_and_renders() {
    let ctx = shared_context();
    // 50 × 40 × 33 voxels of 1 mm, x flipped, a smooth blob; limit lowered to 16 per axis.
    let a = affine(DVec3::X * -1.0, DVec3::Y, DVec3::Z, DVec3::new(25.0, -20.0, -16.0));
    let centre = DVec3::new(24.6, 19.3, 16.2);
    let v = volume("big", [50, 40, 33], a, |i, j, k| {
        let r = (DVec3::new(i as f64, j as f64, k as f64) - centre).length();
        (200.0 - 10.0 * r).max(0.0) as f32
    });
    let budget = TextureBudget {
        max_dimension: 16,
        max_bytes: u64::MAX,
    };
    let texture = VolumeTexture::upload_with_budget(&ctx.device, &ctx.queue, &v, 0, budget);
    assert_eq!(texture.factors(), [4, 3, 3]);
    assert_eq!(texture.dims(), [13, 14, 11]);
    assert_eq!(
        texture.downsample_notice(),
        Some("downsampled 4×3×3 (texture limit 16): 50×40×33 → 13×14×11")
    );
    // Same world extent (up to the partial last block), same place.
    let small = box_downsample(&v, 0, texture.factors());
    assert_eq!(small.affine, texture.affine());
    let (lo, hi) = (v.world_bounds(), small.world_bounds());
    assert!(
        (lo.0 - hi.0).abs().max_element() <= 4.0 && (lo.1 - hi.1).abs().max_element() <= 4.0,
        "{lo:?} {hi:?}"
    );

    let mut renderer = SliceRenderer::new(&ctx.device);
    let mut style = LayerStyle::base((0.0, 200.0));
    for interpolation in [Interpolation::Nearest, Interpolation::Linear] {
        style.interpolation = interpolation;
        for plane in Plane::ALL {
            let g = SliceGeometry::fit(
                plane,
                v.world_center() + 0.31,
                v.world_center(),
                DVec2::splat(60.0),
                64,
                64,
            );
            let gpu = render_slice(&mut renderer, &g, &[(&texture, &style)]);
            // Exactly the downsampled volume's picture …
            let cpu = cpu_reference::reslice(&g, &[(&small, 0, &style)]);
            let diff = compare_rgba(&gpu, &cpu, g.width, TOLERANCE);
            assert_eq!(diff.over, 0, "{plane:?} {interpolation:?}: {diff:?}");
            // … and close to the full-resolution one: the blob is where it was.
            let full = cpu_reference::reslice(&g, &[(&v, 0, &style)]);
            let bright = |p: [u8; 4]| p[0] > 100;
            let (n_gpu, n_full) = (count(&gpu, bright), count(&full, bright));
            assert!(
                n_gpu > 300 && n_gpu.abs_diff(n_full) * 5 < n_full,
                "{plane:?}: {n_gpu} vs {n_full} bright pixels"
            );
            let overlap = gpu
                .chunks_exact(4)
                .zip(full.chunks_exact(4))
                .filter(|(p, q)| p[0] > 100 && q[0] > 100)
                .count();
            assert!(
                overlap * 10 > n_full * 8,
                "{plane:?}: bright regions overlap in {overlap} of {n_full} pixels"
            );
        }
    }
}

#[test]
fn byte_budget_and_frames() {
    let ctx = shared_context();
    let mut v = volume(
        "4d",
        [20, 20, 20],
        affine(DVec3::X, DVec3::Y, DVec3::Z, DVec3::splat(-10.0)),
        |i, _, _| i as f32,
    );
    // A second frame: the ramp reversed.
    let second: Vec<f32> = v.data.iter().map(|x| 19.0 - x).collect();
    v.data.extend(second);
    v.shape[3] = 2;
    v.ndim = 4;
    let budget = TextureBudget {
        max_dimension: 2048,
        max_bytes: 10 * 10 * 10 * 4,
    };
    let mut texture = VolumeTexture::upload_with_budget(&ctx.device, &ctx.queue, &v, 0, budget);
    assert_eq!(texture.dims(), [10, 10, 10]);
    let notice = texture.downsample_notice().unwrap_or_default();
    assert!(notice.starts_with("downsampled 2× (texture budget 4 KiB)"), "{notice}");

    let mut renderer = SliceRenderer::new(&ctx.device);
    let style = LayerStyle::base((0.0, 19.0));
    let g = SliceGeometry::fit(Plane::Axial, DVec3::splat(0.3), DVec3::ZERO, DVec2::splat(24.0), 48, 48);
    for frame in [1, 0, 7] {
        texture.set_frame(&ctx.queue, &v, frame);
        assert_eq!(texture.frame(), frame.min(1));
        let gpu = render_slice(&mut renderer, &g, &[(&texture, &style)]);
        let cpu = cpu_reference::reslice(&g, &[(&box_downsample(&v, frame.min(1), texture.factors()), 0, &style)]);
        let diff = compare_rgba(&gpu, &cpu, g.width, TOLERANCE);
        assert_eq!(diff.over, 0, "frame {frame}: {diff:?}");
        // Frame 0 brightens to the right (+x), frame 1 to the left.
        let row = 24 * 48 * 4;
        let (left, right) = (gpu[row + 4 * 8], gpu[row + 4 * 40]);
        assert_eq!(
            left < right,
            frame.min(1) == 0,
            "frame {frame}: left {left}, right {right}"
        );
    }
}
