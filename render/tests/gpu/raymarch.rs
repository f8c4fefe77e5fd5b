//! The volume ray marcher against its CPU reference (see `raymarch_common` for how pictures are
//! compared): MIP, DVR and ISO on a sphere and a gradient volume, an oblique and flipped affine,
//! clip planes, a signed overlay on another grid, lighting on and off, NaN voxels; empty-space
//! skipping on against off (identical pixels); the occupancy grid against its CPU definition.

use cortexlens_data::camera::{CameraPreset, OrbitCamera};
use cortexlens_data::transfer::TransferFunction;
use cortexlens_data::{Colormap, Interpolation, LayerStyle, Volume};
use cortexlens_render::raymarch::occupancy_ranges_cpu;
use cortexlens_render::raymarch_cpu_reference::render_volume;
use cortexlens_render::testing::shared_context;
use cortexlens_render::{
    ClipPlane, OffscreenTarget, RayFrame, RayMarchRenderer, RayMarchSettings, RaySource, RayTarget, RenderMode,
    Renderer, VolumeTexture,
};
use glam::{DMat3, DVec3};

use crate::common::{affine, volume};
use crate::raymarch_common::{Allowed, compare, render_ray, render_ray_over_meshes};

/// A volume without overlay.
fn alone(volume: &VolumeTexture) -> RaySource<'_> {
    RaySource::Volume { volume, overlay: None }
}

const SIZE: (u32, u32) = (64, 48);

/// A ball of radius 20 mm falling off linearly from 100 at its centre to 0 (2 mm voxels), in a
/// box with empty margins.
fn sphere() -> Volume {
    let a = affine(
        DVec3::X * 2.0,
        DVec3::Y * 2.0,
        DVec3::Z * 2.0,
        DVec3::new(-27.0, -25.0, -23.0),
    );
    let m = a;
    volume("sphere", [28, 26, 24], a, |i, j, k| {
        let w = m.transform_point3(DVec3::new(i as f64, j as f64, k as f64));
        (100.0 * (1.0 - w.length() / 20.0)).max(0.0) as f32
    })
}

/// A ramp `i + 2j + 3k` on an oblique, x-flipped, sheared grid of 2.5 mm voxels.
fn gradient() -> Volume {
    let r = DMat3::from_axis_angle(DVec3::new(1.0, 2.0, 0.5).normalize(), 0.6);
    let x = r * DVec3::new(-2.5, 0.0, 0.0);
    let y = r * DVec3::new(0.3, 2.5, 0.0);
    let z = r * DVec3::new(0.0, 0.0, 2.5);
    let origin = -(x * 9.5 + y * 7.5 + z * 5.5);
    volume("gradient", [20, 16, 12], affine(x, y, z, origin), |i, j, k| {
        (i + 2 * j + 3 * k) as f32
    })
}

/// A signed overlay on a 3 mm grid offset from the anatomy: a positive blob on +x, a negative
/// one on −x (peaks ±6).
fn blobs() -> Volume {
    let a = affine(
        DVec3::X * 3.0,
        DVec3::Y * 3.0,
        DVec3::Z * 3.0,
        DVec3::new(-25.0, -22.0, -20.0),
    );
    volume("blobs", [18, 16, 15], a, |i, j, k| {
        let w = a.transform_point3(DVec3::new(i as f64, j as f64, k as f64));
        let bump = |c: DVec3| (-(w - c).length_squared() / 40.0).exp();
        (6.0 * (bump(DVec3::new(10.0, 0.0, 5.0)) - bump(DVec3::new(-10.0, 3.0, -2.0)))) as f32
    })
}

/// A camera looking at `v` from an oblique direction.
fn camera_for(v: &Volume, preset: CameraPreset) -> OrbitCamera {
    let (lo, hi) = v.world_bounds();
    let mut c = OrbitCamera::preset(preset, (lo.as_vec3().to_array(), hi.as_vec3().to_array()));
    c.orbit(0.35, 0.25);
    c
}

fn settings(mode: RenderMode, range: (f32, f32), colormap: Colormap) -> RayMarchSettings {
    RayMarchSettings {
        mode,
        transfer: TransferFunction {
            colormap,
            range,
            opacity: vec![[0.0, 0.0], [0.15, 0.0], [1.0, 0.9]],
        },
        iso_level: range.0 + 0.3 * (range.1 - range.0),
        step_mm: 0.7,
        ..RayMarchSettings::default()
    }
}

/// Render on the GPU (with and without empty-space skipping, which must agree exactly) and on
/// the CPU, and compare.
fn check(
    name: &str,
    camera: &OrbitCamera,
    v: &Volume,
    overlay: Option<(&Volume, &LayerStyle)>,
    s: &RayMarchSettings,
    allowed: Allowed,
) -> Vec<u8> {
    let ctx = shared_context();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let mut renderer = RayMarchRenderer::new(device);
    let texture = VolumeTexture::upload(device, queue, v, 0);
    let overlay_texture = overlay.map(|(o, _)| VolumeTexture::upload(device, queue, o, 0));
    let source = RaySource::Volume {
        volume: &texture,
        overlay: overlay_texture.as_ref().zip(overlay).map(|(t, (_, style))| (t, style)),
    };
    let mut render = |skip: bool| {
        let s = RayMarchSettings {
            empty_space_skipping: skip,
            ..s.clone()
        };
        render_ray(&mut renderer, SIZE, camera, &s, source)
    };
    let gpu = render(true);
    assert!(gpu == render(false), "{name}: empty-space skipping changed the picture");
    let cpu = render_volume(SIZE.0, SIZE.1, camera, v, 0, overlay.map(|(o, style)| (o, 0, style)), s);
    let background = s.background.map(|c| (c * 255.0).round() as u8);
    compare(name, &gpu, &cpu, SIZE, background, allowed);
    gpu
}

const SPHERE: Allowed = Allowed {
    edge: 12,
    min_drawn: 100,
};

#[test]
fn sphere_every_mode() {
    let v = sphere();
    let camera = camera_for(&v, CameraPreset::Anterior);
    for mode in RenderMode::ALL {
        let s = settings(mode, (0.0, 100.0), Colormap::Hot);
        check(&format!("sphere {}", mode.name()), &camera, &v, None, &s, SPHERE);
    }
    // A gray MIP with a low threshold: everything in the ball, background outside.
    let mut s = settings(RenderMode::Mip, (5.0, 100.0), Colormap::Gray);
    s.background = [0.1, 0.2, 0.3, 1.0];
    check("sphere mip background", &camera, &v, None, &s, SPHERE);
}

#[test]
fn gradient_oblique_affine_every_mode() {
    let v = gradient();
    for preset in [CameraPreset::LateralLeft, CameraPreset::Dorsal] {
        let camera = camera_for(&v, preset);
        for mode in RenderMode::ALL {
            let s = settings(mode, (0.0, 90.0), Colormap::Viridis);
            let allowed = Allowed {
                edge: 40,
                min_drawn: 400,
            };
            check(
                &format!("gradient {preset:?} {}", mode.name()),
                &camera,
                &v,
                None,
                &s,
                allowed,
            );
        }
    }
}

#[test]
fn lighting_on_and_off() {
    let v = sphere();
    let camera = camera_for(&v, CameraPreset::Posterior);
    let lit = settings(RenderMode::Dvr, (0.0, 100.0), Colormap::Gray);
    let flat = RayMarchSettings {
        lighting: false,
        ..lit.clone()
    };
    let a = check("sphere dvr lit", &camera, &v, None, &lit, SPHERE);
    let b = check("sphere dvr unlit", &camera, &v, None, &flat, SPHERE);
    let differing = a.chunks_exact(4).zip(b.chunks_exact(4)).filter(|(x, y)| x != y).count();
    assert!(differing > 300, "lighting changed only {differing} pixels");
}

#[test]
fn clip_planes_cut_every_mode() {
    let v = sphere();
    let camera = camera_for(&v, CameraPreset::Anterior);
    for mode in RenderMode::ALL {
        let mut s = settings(mode, (0.0, 100.0), Colormap::Inferno);
        s.clip_planes = vec![
            // Remove the front-right octant's worth: x > 2 and (tilted) y > −3.
            ClipPlane::through([2.0, 0.0, 0.0], [1.0, 0.0, 0.2]),
            ClipPlane::through([0.0, -3.0, 0.0], [0.0, 1.0, 0.0]),
        ];
        let clipped = check(
            &format!("sphere clipped {}", mode.name()),
            &camera,
            &v,
            None,
            &s,
            SPHERE,
        );
        let whole = check(
            &format!("sphere unclipped {}", mode.name()),
            &camera,
            &v,
            None,
            &settings(mode, (0.0, 100.0), Colormap::Inferno),
            SPHERE,
        );
        assert!(clipped != whole, "{}: the clip planes changed nothing", mode.name());
    }
    // A plane removing everything leaves the background.
    let mut s = settings(RenderMode::Iso, (0.0, 100.0), Colormap::Gray);
    s.clip_planes = vec![ClipPlane::through([0.0, 0.0, -100.0], [0.0, 0.0, 1.0])];
    let ctx = shared_context();
    let texture = VolumeTexture::upload(&ctx.device, &ctx.queue, &v, 0);
    let empty = render_ray(
        &mut RayMarchRenderer::new(&ctx.device),
        (16, 12),
        &camera,
        &s,
        alone(&texture),
    );
    assert!(empty.chunks_exact(4).all(|p| p == [0, 0, 0, 255]));
}

#[test]
fn overlay_composited_on_the_anatomy() {
    let v = sphere();
    let o = blobs();
    let camera = camera_for(&v, CameraPreset::Anterior);
    for interpolation in [Interpolation::Linear, Interpolation::Nearest] {
        let mut style = LayerStyle::signed_overlay(2.0, 6.0);
        style.opacity = 0.8;
        style.interpolation = interpolation;
        for mode in RenderMode::ALL {
            let mut s = settings(mode, (0.0, 100.0), Colormap::Gray);
            s.overlay_depth_mm = 6.0;
            let allowed = Allowed {
                edge: 40,
                min_drawn: 150,
            };
            let name = format!("overlay {interpolation:?} {}", mode.name());
            let gpu = check(&name, &camera, &v, Some((&o, &style)), &s, allowed);
            // Red-yellow (positive) and blue-lightblue (negative) pixels both show.
            let warm = gpu.chunks_exact(4).filter(|p| p[0] > 150 && p[2] < 100).count();
            let cold = gpu.chunks_exact(4).filter(|p| p[2] > 150 && p[0] < 100).count();
            assert!(warm > 20 && cold > 20, "{name}: {warm} warm, {cold} cold pixels");
        }
    }
    // An invisible overlay is not drawn.
    let mut hidden = LayerStyle::signed_overlay(2.0, 6.0);
    hidden.visible = false;
    let s = settings(RenderMode::Iso, (0.0, 100.0), Colormap::Gray);
    let with = check("overlay hidden", &camera, &v, Some((&o, &hidden)), &s, SPHERE);
    let without = check("no overlay", &camera, &v, None, &s, SPHERE);
    assert!(with == without);
}

/// An atlas overlay with negative and positive labels: the same with and without empty-space
/// skipping and as the CPU reference; negative labels are drawn (by |value| against the
/// threshold), so dropping them takes coloured pixels away.
#[test]
fn label_overlay_with_negative_labels() {
    let v = sphere();
    let mut labels = blobs();
    for value in &mut labels.data {
        *value = value.round();
    }
    let mut positive = labels.clone();
    for value in &mut positive.data {
        *value = value.max(0.0);
    }
    let camera = camera_for(&v, CameraPreset::Anterior);
    let mut style = LayerStyle::base((0.0, 1.0));
    style.set_colormap(Colormap::Labels);
    // The anatomy is gray, so coloured pixels are the overlay's.
    let coloured = |picture: &[u8]| {
        picture
            .chunks_exact(4)
            .filter(|p| p[0].abs_diff(p[1]) > 8 || p[1].abs_diff(p[2]) > 8)
            .count()
    };
    for mode in [RenderMode::Dvr, RenderMode::Mip] {
        let mut s = settings(mode, (0.0, 100.0), Colormap::Gray);
        s.overlay_depth_mm = 6.0;
        let allowed = Allowed {
            edge: 40,
            min_drawn: 150,
        };
        let all = check(
            &format!("labels {}", mode.name()),
            &camera,
            &v,
            Some((&labels, &style)),
            &s,
            allowed,
        );
        let name = format!("positive labels {}", mode.name());
        let some = check(&name, &camera, &v, Some((&positive, &style)), &s, allowed);
        assert!(
            coloured(&all) > coloured(&some) + 20 && coloured(&some) > 20,
            "{}: {} coloured pixels with negative labels, {} without",
            mode.name(),
            coloured(&all),
            coloured(&some)
        );
    }
}

#[test]
fn nan_voxels_and_transparent_background() {
    let mut v = sphere();
    // A NaN slab through the middle: no samples next to it.
    for k in 0..24 {
        for i in 0..28 {
            let n = v.index(i, 13, k);
            v.data[n] = f32::NAN;
        }
    }
    let camera = camera_for(&v, CameraPreset::Dorsal);
    for mode in RenderMode::ALL {
        let mut s = settings(mode, (0.0, 100.0), Colormap::Cool);
        s.background = [0.0, 0.0, 0.0, 0.0];
        check(&format!("nan slab {}", mode.name()), &camera, &v, None, &s, SPHERE);
    }
}

#[test]
fn occupancy_grid_matches_its_definition() {
    let ctx = shared_context();
    let mut v = sphere();
    v.data[5] = f32::NAN;
    v.data[7] = f32::INFINITY;
    let texture = VolumeTexture::upload(&ctx.device, &ctx.queue, &v, 0);
    let mut renderer = RayMarchRenderer::new(&ctx.device);
    let occupancy = renderer.occupancy(&ctx.device, &ctx.queue, &texture);
    assert_eq!(occupancy.cells(), [4, 4, 3]);
    let gpu = occupancy.read_ranges(&ctx.device, &ctx.queue).unwrap();
    let cpu = occupancy_ranges_cpu(v.frame(0), [28, 26, 24]);
    assert_eq!(gpu, cpu);
    let empty = cpu.iter().filter(|r| r[1] <= 0.0).count();
    assert!(empty >= 8, "corner cells of the sphere volume are all zero ({empty})");
}

#[test]
fn missing_and_degenerate_volumes_show_the_background() {
    let ctx = shared_context();
    let v = sphere();
    let texture = VolumeTexture::upload(&ctx.device, &ctx.queue, &v, 0);
    let mut renderer = RayMarchRenderer::new(&ctx.device);
    let mut s = settings(RenderMode::Dvr, (0.0, 100.0), Colormap::Gray);
    s.background = [1.0, 0.0, 0.0, 1.0];
    // Looking past the volume.
    let mut away = camera_for(&v, CameraPreset::Anterior);
    away.target += away.right() * (away.distance * 2.0);
    let pixels = render_ray(&mut renderer, (20, 10), &away, &s, alone(&texture));
    assert!(pixels.chunks_exact(4).all(|p| p == [255, 0, 0, 255]));
    // A singular affine.
    let mut flat = v.clone();
    flat.affine.z_axis = glam::DVec4::ZERO;
    let flat_texture = VolumeTexture::upload(&ctx.device, &ctx.queue, &flat, 0);
    assert!(!alone(&flat_texture).is_drawable() && alone(&texture).is_drawable());
    let camera = camera_for(&v, CameraPreset::Anterior);
    let pixels = render_ray(&mut renderer, (20, 10), &camera, &s, alone(&flat_texture));
    assert!(pixels.chunks_exact(4).all(|p| p == [255, 0, 0, 255]));
    let cpu = render_volume(20, 10, &camera, &flat, 0, None, &s);
    assert_eq!(pixels, cpu);
}

#[test]
fn targets_of_any_size_and_resizing() {
    let ctx = shared_context();
    let v = sphere();
    let texture = VolumeTexture::upload(&ctx.device, &ctx.queue, &v, 0);
    let mut renderer = RayMarchRenderer::new(&ctx.device);
    let camera = camera_for(&v, CameraPreset::Anterior);
    let s = settings(RenderMode::Mip, (0.0, 100.0), Colormap::Gray);
    let frame = RayFrame {
        meshes: false,
        camera: &camera,
        settings: &s,
        source: alone(&texture),
    };
    renderer.prepare(&ctx.device, &ctx.queue, &frame);
    let mut target = RayTarget::new(&ctx.device, 64, 48);
    assert!(!target.resize(&ctx.device, 64, 48));
    for (w, h) in [(16, 12), (7, 3), (64, 48)] {
        assert!(target.resize(&ctx.device, w, h));
        assert_eq!(target.size(), (w, h));
        ctx.queue
            .submit([renderer.draw(&ctx.device, &ctx.queue, &target, &frame)]);
        let gpu = target.read_rgba(&ctx.device, &ctx.queue).unwrap();
        let cpu = render_volume(w, h, &camera, &v, 0, None, &s);
        let diff = cortexlens_render::testing::compare_rgba(&gpu, &cpu, w, 3);
        assert!(diff.over <= (w * h) as usize / 20, "{w}×{h}: {diff:?}");
    }
}

/// Drawing without `prepare` (no occupancy grids) gives the prepared picture, only without
/// skipping; after `set_frame` the new contents get their own grid, not the old frame's.
#[test]
fn grids_follow_prepare_and_frames() {
    let ctx = shared_context();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let v = sphere();
    // Frame 1 is the inverse: bright corners, where frame 0's cells are empty.
    let mut data = v.data.clone();
    data.extend(v.data.iter().map(|value| 100.0 - value));
    let two = Volume::from_f32("two frames", [28, 26, 24, 2], v.affine, data);
    let camera = camera_for(&v, CameraPreset::Anterior);
    let s = settings(RenderMode::Mip, (5.0, 100.0), Colormap::Gray);
    let mut texture = VolumeTexture::upload(device, queue, &two, 0);
    let mut renderer = RayMarchRenderer::new(device);
    let frame = RayFrame {
        meshes: false,
        camera: &camera,
        settings: &s,
        source: alone(&texture),
    };
    let target = RayTarget::new(device, 32, 24);
    queue.submit([renderer.draw(device, queue, &target, &frame)]);
    let unprepared = target.read_rgba(device, queue).unwrap();
    assert_eq!(
        unprepared,
        render_ray(&mut renderer, (32, 24), &camera, &s, alone(&texture))
    );

    texture.set_frame(queue, &two, 1);
    let again = render_ray(&mut renderer, (32, 24), &camera, &s, alone(&texture));
    let fresh = VolumeTexture::upload(device, queue, &two, 1);
    let expected = render_ray(&mut RayMarchRenderer::new(device), (32, 24), &camera, &s, alone(&fresh));
    assert_eq!(again, expected);
    assert_ne!(again, unprepared);
}

/// A small ball poking out of the sphere volume on +x (half inside, half outside) and a flat
/// square behind the sphere's centre, in green and blue.
fn meshes_around_the_sphere() -> Vec<(cortexlens_data::mesh::Mesh, Vec<[u8; 4]>)> {
    let ball = cortexlens_render::test_meshes::icosphere(3, 9.0, glam::Vec3::new(17.0, 0.0, 4.0));
    let square = cortexlens_data::mesh::Mesh {
        vertices: vec![
            [-30.0, 6.0, -30.0],
            [30.0, 6.0, -30.0],
            [-30.0, 6.0, 30.0],
            [30.0, 6.0, 30.0],
        ],
        triangles: vec![[0, 1, 2], [2, 1, 3]],
    };
    let green = vec![[40, 200, 60, 255]; ball.vertices.len()];
    let blue = vec![[30, 60, 220, 255]; 4];
    vec![(ball, green), (square, blue)]
}

/// The 3D view's meshes under the rays: each ray stops at the mesh in front of it and the data
/// is composited over the mesh's colour — GPU against the CPU reference in every mode, with and
/// without a clip plane (which cuts the meshes too).
#[test]
fn meshes_stop_the_rays_and_show_behind_the_data() {
    use cortexlens_render::raymarch_cpu_reference::{View, render_volume_in};

    let ctx = shared_context();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let v = sphere();
    let camera = camera_for(&v, CameraPreset::Anterior);
    let meshes = meshes_around_the_sphere();
    let mut ray = RayMarchRenderer::new(device);
    let texture = VolumeTexture::upload(device, queue, &v, 0);
    let cut = ClipPlane::through([0.0, 0.0, 8.0], [0.0, 0.0, 1.0]);
    for clip in [vec![], vec![cut]] {
        for mode in RenderMode::ALL {
            let mut s = settings(mode, (0.0, 100.0), Colormap::Inferno);
            s.clip_planes = clip.clone();
            let name = format!("meshes, {} clip planes, {}", clip.len(), mode.name());
            let (gpu, drawn) = render_ray_over_meshes(&mut ray, SIZE, &camera, &s, alone(&texture), &meshes);
            let view = View {
                width: SIZE.0,
                height: SIZE.1,
                camera: &camera,
                meshes: Some(&drawn),
            };
            let cpu = render_volume_in(view, &v, 0, None, &s);
            compare(&name, &gpu, &cpu, SIZE, [0, 0, 0, 255], SPHERE);
            // The meshes show where no data lies in front of them (ISO: around the isosurface;
            // MIP and DVR draw colour over most of the box).
            let covered = drawn.coverage.iter().filter(|c| c.is_some()).count();
            let mesh_coloured = (0..SIZE.0 as usize * SIZE.1 as usize)
                .filter(|&n| drawn.coverage[n].is_some() && gpu[4 * n..4 * n + 4] == drawn.rgba[4 * n..4 * n + 4])
                .count();
            let least = if mode == RenderMode::Iso { covered / 4 } else { 1 };
            assert!(
                mesh_coloured >= least,
                "{name}: {mesh_coloured} of {covered} mesh pixels show the mesh"
            );
            // Without meshes, the same settings give another picture.
            let plain = render_volume(SIZE.0, SIZE.1, &camera, &v, 0, None, &s);
            assert!(plain != cpu, "{name}: the meshes changed nothing");
        }
    }
}
