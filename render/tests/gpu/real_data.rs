//! The real data: the flipped-x 3 mm motor t map (signed, threshold 3) over the 1 mm MNI152
//! template, through a point in the motor cortex, GPU against CPU; and a check against
//! nibabel's numbers that does not go through the CPU reference.

use std::path::Path;

use cortexlens_data::{LayerStyle, Loaded, Plane, SliceGeometry, Volume, load_path};
use cortexlens_render::SliceRenderer;
use glam::{DVec2, DVec3};

use crate::common::{check, pixel, render_slice};

fn load(name: &str) -> Volume {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets").join(name);
    match load_path(&path, &mut |_| {}) {
        Ok(Loaded::Volume(v)) => v,
        Ok(_) => panic!("{}: not a volume", path.display()),
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

/// Peak of the motor map as nibabel reports it: voxel (6, 31, 32), t = 7.94, at world
/// (60, −19, 46) through its affine (x flipped: affine[0][0] = −3, offset 78).
const PEAK_WORLD: DVec3 = DVec3::new(60.0, -19.0, 46.0);

#[test]
fn motor_overlay_over_mni152_every_plane() {
    let mni = load("mni152_t1_1mm.nii.gz");
    let motor = load("motor_stat_map.nii.gz");
    assert_eq!(&mni.shape[..3], &[197, 233, 189]);
    assert_eq!(&motor.shape[..3], &[53, 63, 46]);
    assert_eq!(motor.affine.x_axis.x, -3.0, "the motor map's x axis is flipped");
    assert_eq!(motor.voxel_to_world(DVec3::new(6.0, 31.0, 32.0)), PEAK_WORLD);

    let base = LayerStyle::base((0.0, 200.0));
    let overlay = LayerStyle::signed_overlay(3.0, 8.0);
    // Near the peak, off the voxel grids of both volumes.
    let point = DVec3::new(57.3, -19.4, 45.7);
    for plane in Plane::ALL {
        let g = SliceGeometry::fit(plane, point, mni.world_center(), DVec2::new(200.0, 220.0), 181, 199);
        let checked = check(
            &format!("motor over MNI152 {plane:?}"),
            &g,
            &[(&mni, 0, &base), (&motor, 0, &overlay)],
            0,
            5000,
        );
        let overlay_px = checked
            .cpu
            .chunks_exact(4)
            .filter(|p| p[0] == 255 && p[2] == 0 && p[1] < 255)
            .count();
        assert!(overlay_px > 50, "{plane:?}: only {overlay_px} overlay pixels");
    }
}

/// Independent of the CPU reference: through the peak, the pixel at the peak's world point is
/// the top of red-yellow, and its mirror image across x = 0 (t = −1.7 there) shows only gray.
#[test]
fn motor_peak_on_the_right_side() {
    let ctx = cortexlens_render::testing::shared_context();
    let mni = load("mni152_t1_1mm.nii.gz");
    let motor = load("motor_stat_map.nii.gz");
    let tm = cortexlens_render::VolumeTexture::upload(&ctx.device, &ctx.queue, &mni, 0);
    let ts = cortexlens_render::VolumeTexture::upload(&ctx.device, &ctx.queue, &motor, 0);
    let base = LayerStyle::base((0.0, 200.0));
    let overlay = LayerStyle::signed_overlay(3.0, 8.0);
    for plane in [Plane::Axial, Plane::Coronal] {
        for radiological in [false, true] {
            // Centred half a pixel off the origin, so pixel centres fall on whole millimetres
            // and the peak's pixel samples exactly the peak voxel's centre.
            let mut g = SliceGeometry::fit(plane, PEAK_WORLD, DVec3::splat(0.5), DVec2::new(200.0, 200.0), 200, 200);
            g.radiological = radiological;
            let layers = [(&tm, &base), (&ts, &overlay)];
            let picture = render_slice(&mut SliceRenderer::new(&ctx.device), &g, &layers);
            let at = |w: DVec3| {
                let p = g.world_to_pixel(w);
                pixel(&picture, 200, p.x as u32, p.y as u32)
            };
            let peak = at(PEAK_WORLD);
            assert!(
                peak[0] == 255 && peak[1] > 230 && peak[2] == 0,
                "{plane:?} rad={radiological}: peak pixel {peak:?}"
            );
            let mirror = at(DVec3::new(-PEAK_WORLD.x, PEAK_WORLD.y, PEAK_WORLD.z));
            assert!(
                mirror[0] == mirror[1] && mirror[1] == mirror[2],
                "{plane:?} rad={radiological}: mirror pixel {mirror:?}"
            );
            // And the peak is on the screen side the convention says: right of centre in
            // neurological display, left in radiological.
            assert_eq!(g.world_to_pixel(PEAK_WORLD).x > 100.0, !radiological);
            let expected =
                cortexlens_data::Colormap::RedYellow.lut()[(((7.941f32 - 3.0) / 5.0) * 255.0).round() as usize];
            assert!(peak[1].abs_diff(expected[1]) <= 2, "{peak:?} vs {expected:?}");
        }
    }
}
