//! A sanity check that does not lean on the CPU reference: one bright voxel at a known world
//! point, stored once with a +x and once with a −x affine (data reversed along i), shows at the
//! pixel worked out by hand from the plane conventions, in both.

use cortexlens_data::{Interpolation, LayerStyle, Plane, SliceGeometry, Volume};
use cortexlens_render::testing::shared_context;
use cortexlens_render::{SliceRenderer, VolumeTexture};
use glam::{DVec2, DVec3};

use crate::common::{affine, render_slice, volume};

/// World point of the bright voxel; distinct x, y, z so a swapped or mirrored axis shows.
const BRIGHT: DVec3 = DVec3::new(4.0, 2.0, -6.0);

/// 9×7×8 grid of 2 mm voxels, voxel (i, j, k) at world (2i − 8, 2j − 6, 2k − 8) for +x,
/// (8 − 2i, …) for −x. The bright voxel is (6, 4, 1) resp. (2, 4, 1).
fn grids() -> [Volume; 2] {
    let plus = affine(
        DVec3::X * 2.0,
        DVec3::Y * 2.0,
        DVec3::Z * 2.0,
        DVec3::new(-8.0, -6.0, -8.0),
    );
    let minus = affine(
        DVec3::X * -2.0,
        DVec3::Y * 2.0,
        DVec3::Z * 2.0,
        DVec3::new(8.0, -6.0, -8.0),
    );
    let a = volume("plus-x", [9, 7, 8], plus, |i, j, k| {
        if (i, j, k) == (6, 4, 1) { 100.0 } else { 10.0 }
    });
    let b = volume("minus-x", [9, 7, 8], minus, |i, j, k| {
        if (i, j, k) == (2, 4, 1) { 100.0 } else { 10.0 }
    });
    assert_eq!(a.voxel_to_world(DVec3::new(6.0, 4.0, 1.0)), BRIGHT);
    assert_eq!(b.voxel_to_world(DVec3::new(2.0, 4.0, 1.0)), BRIGHT);
    [a, b]
}

/// The bright pixels of a picture (red channel above the background's).
fn bright_pixels(pixels: &[u8], width: u32) -> Vec<(u32, u32)> {
    pixels
        .chunks_exact(4)
        .enumerate()
        .filter(|(_, p)| p[0] > 200)
        .map(|(n, _)| (n as u32 % width, n as u32 / width))
        .collect()
}

#[test]
fn bright_voxel_lands_on_the_hand_computed_pixel() {
    let ctx = shared_context();
    let mut renderer = SliceRenderer::new(&ctx.device);
    let [a, b] = grids();
    let ta = VolumeTexture::upload(&ctx.device, &ctx.queue, &a, 0);
    let tb = VolumeTexture::upload(&ctx.device, &ctx.queue, &b, 0);
    let mut style = LayerStyle::base((0.0, 100.0));
    style.interpolation = Interpolation::Nearest;
    // 40 × 30 px at 1 mm per pixel centred on the world origin: pixel (px, py) covers
    // right ∈ [px − 20, px − 19], up ∈ [14 − py, 15 − py] (before any radiological mirror).
    // The bright voxel spans ±1 mm around BRIGHT, so it covers a 2 × 2 pixel block.
    // (plane, radiological, expected top-left pixel of that block)
    let cases = [
        // Axial: right = +x, up = +y. x ∈ [3, 5] → px 23, 24; y ∈ [1, 3] → py 12, 13.
        (Plane::Axial, false, (23, 12)),
        // Radiological: right = −x: −x ∈ [−5, −3] → px 15, 16.
        (Plane::Axial, true, (15, 12)),
        // Coronal: right = +x, up = +z. z ∈ [−7, −5] → py 20, 21.
        (Plane::Coronal, false, (23, 20)),
        (Plane::Coronal, true, (15, 20)),
        // Sagittal: right = +y, up = +z; never mirrored. y ∈ [1, 3] → px 21, 22.
        (Plane::Sagittal, false, (21, 20)),
        (Plane::Sagittal, true, (21, 20)),
    ];
    for (plane, radiological, (x0, y0)) in cases {
        let mut g = SliceGeometry::fit(plane, BRIGHT, DVec3::ZERO, DVec2::new(40.0, 30.0), 40, 30);
        g.radiological = radiological;
        assert_eq!(g.mm_per_px, 1.0);
        let pa = render_slice(&mut renderer, &g, &[(&ta, &style)]);
        let pb = render_slice(&mut renderer, &g, &[(&tb, &style)]);
        let expected = vec![(x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1)];
        assert_eq!(
            bright_pixels(&pa, 40),
            expected,
            "+x grid, {plane:?} radiological={radiological}"
        );
        assert_eq!(
            pa, pb,
            "−x grid differs from +x grid, {plane:?} radiological={radiological}"
        );
    }
}
