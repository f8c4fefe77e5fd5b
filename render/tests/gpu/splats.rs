//! Gaussian splats on the GPU against the CPU reference: a generated scene of a few thousand
//! splats with SH degree 3, seen from several sides; the depth order (two opaque splats on the
//! anterior–posterior axis: each camera sees the nearer one); a scene placed by a transform.

use cortexlens_data::camera::{CameraPreset, OrbitCamera};
use cortexlens_data::splats::Splats;
use cortexlens_render::splat_cpu_reference::rasterise_splats;
use cortexlens_render::test_splats::ball_scene;
use cortexlens_render::testing::shared_context;
use cortexlens_render::{
    ClipPlane, GpuSplats, OffscreenTarget, SLICE_FORMAT, SliceTarget, SplatData, SplatFrame, SplatRenderer,
};
use glam::DMat4;

/// The splats drawn over `background` by the GPU renderer, RGBA8.
fn render(
    data: &SplatData,
    camera: &OrbitCamera,
    size: (u32, u32),
    background: [f32; 3],
    clip_planes: &[ClipPlane],
) -> Vec<u8> {
    let ctx = shared_context();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let gpu = GpuSplats::upload(device, data);
    let mut renderer = SplatRenderer::new(device, SLICE_FORMAT);
    let target = SliceTarget::create(device, size.0, size.1);
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let [r, g, b] = background.map(f64::from);
        let _clear = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: None,
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: target.view(),
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color { r, g, b, a: 1.0 }),
                    store: wgpu::StoreOp::Store,
                },
            })],
            ..Default::default()
        });
    }
    let frame = SplatFrame {
        camera,
        splats: &gpu,
        opacity_scale: 1.0,
        size_scale: 1.0,
        clip_planes,
    };
    renderer.record(device, &mut encoder, target.view(), None, size, &frame);
    queue.submit([encoder.finish()]);
    target.read_rgba(device, queue).unwrap()
}

/// Largest channel difference and the share of pixels differing by more than 2.
fn compare(gpu: &[u8], cpu: &[u8]) -> (u8, f64) {
    let mut worst = 0;
    let mut off = 0;
    for (g, c) in gpu.chunks(4).zip(cpu.chunks(4)) {
        let d = (0..3).map(|i| g[i].abs_diff(c[i])).max().unwrap();
        worst = worst.max(d);
        off += usize::from(d > 2);
    }
    (worst, off as f64 / (gpu.len() / 4) as f64)
}

#[test]
fn splats_match_the_cpu_reference_from_every_side() {
    let splats = ball_scene(3000, 3, 7);
    let data = SplatData::new(&splats, DMat4::IDENTITY, 3);
    let bounds = splats.bounds().unwrap();
    let size = (160, 120);
    for preset in [CameraPreset::LateralLeft, CameraPreset::Anterior, CameraPreset::Dorsal] {
        let camera = OrbitCamera::preset(preset, bounds);
        let gpu = render(&data, &camera, size, [0.0, 0.0, 0.1], &[]);
        let cpu = rasterise_splats(&data, &camera, size, [0.0, 0.0, 0.1], 1.0, 1.0, &[]);
        let drawn = cpu.chunks(4).filter(|p| p[0] > 30 || p[1] > 30).count();
        assert!(
            drawn > size.0 as usize * size.1 as usize / 4,
            "{preset:?}: {drawn} pixels drawn"
        );
        let (worst, off) = compare(&gpu, &cpu);
        assert!(
            worst <= 6 && off < 0.01,
            "{preset:?}: worst {worst}, {:.3}% of pixels off by more than 2",
            off * 100.0
        );
    }
}

#[test]
fn the_nearer_splat_hides_the_farther_one() {
    // Two large opaque splats on the y (anterior–posterior) axis: red in front (+y), blue behind.
    let mut s = Splats {
        name: "two".into(),
        sh_degree: 0,
        ..Default::default()
    };
    for (y, rgb) in [(10.0, [1.0, 0.0, 0.0]), (-10.0, [0.0, 0.0, 1.0])] {
        s.positions.push([0.0, y, 0.0]);
        s.scales.push([8.0, 1.0, 8.0]);
        s.rotations.push([1.0, 0.0, 0.0, 0.0]);
        s.opacities.push(1.0);
        // colour = 0.5 + C0·dc: dc = (c − 0.5) / C0.
        s.sh.push(rgb.map(|c: f32| (c - 0.5) / cortexlens_data::splats::SH_C0));
    }
    let data = SplatData::new(&s, DMat4::IDENTITY, 0);
    let bounds = ([-20.0, -20.0, -20.0], [20.0, 20.0, 20.0]);
    let size = (64, 64);
    let centre = |image: &[u8]| {
        let at = (32 * 64 + 32) * 4;
        [image[at], image[at + 1], image[at + 2]]
    };
    let anterior = render(
        &data,
        &OrbitCamera::preset(CameraPreset::Anterior, bounds),
        size,
        [0.0; 3],
        &[],
    );
    let posterior = render(
        &data,
        &OrbitCamera::preset(CameraPreset::Posterior, bounds),
        size,
        [0.0; 3],
        &[],
    );
    let (a, p) = (centre(&anterior), centre(&posterior));
    assert!(a[0] > 240 && a[2] < 15, "from the front, red: {a:?}");
    assert!(p[2] > 240 && p[0] < 15, "from the back, blue: {p:?}");
    // A clip plane through the origin removing y > 0 cuts the red splat: blue from the front too.
    let cut = [ClipPlane::through([0.0; 3], [0.0, 1.0, 0.0])];
    let clipped = render(
        &data,
        &OrbitCamera::preset(CameraPreset::Anterior, bounds),
        size,
        [0.0; 3],
        &cut,
    );
    let c = centre(&clipped);
    assert!(c[2] > 240 && c[0] < 15, "the red splat is cut: {c:?}");
}

#[test]
fn a_placed_scene_and_its_sh_degree_reduced_match_the_reference() {
    let splats = ball_scene(500, 3, 11);
    // 90° about z, ×1.5, moved: the SH are looked up in the scene's own frame.
    let placement = DMat4::from_translation(glam::DVec3::new(5.0, -3.0, 20.0))
        * DMat4::from_rotation_z(std::f64::consts::FRAC_PI_2)
        * DMat4::from_scale(glam::DVec3::splat(1.5));
    for degree in [3, 1] {
        let data = SplatData::new(&splats, placement, degree);
        assert_eq!(data.sh_degree, degree);
        let bounds = ([-60.0, -60.0, -30.0], [60.0, 60.0, 70.0]);
        let camera = OrbitCamera::preset(CameraPreset::LateralRight, bounds);
        let cut = [ClipPlane::through([5.0, -3.0, 20.0], [0.0, 0.0, 1.0])];
        let gpu = render(&data, &camera, (96, 96), [0.2, 0.2, 0.2], &cut);
        let cpu = rasterise_splats(&data, &camera, (96, 96), [0.2, 0.2, 0.2], 1.0, 1.0, &cut);
        let (worst, off) = compare(&gpu, &cpu);
        assert!(worst <= 6 && off < 0.01, "degree {degree}: worst {worst}, {off}");
    }
}

/// Draw `splats` over what `target` holds (hidden behind its depth when `depth_test`) and read
/// back the RGB of the centre pixel.
fn centre_with_splats(
    target: &cortexlens_render::RayTarget,
    camera: &OrbitCamera,
    splats: &GpuSplats,
    depth_test: bool,
) -> [u8; 3] {
    let ctx = shared_context();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let size = target.size();
    let frame = SplatFrame {
        camera,
        splats,
        opacity_scale: 1.0,
        size_scale: 1.0,
        clip_planes: &[],
    };
    let mut encoder = device.create_command_encoder(&Default::default());
    let depth = depth_test.then(|| target.depth_view());
    SplatRenderer::new(device, SLICE_FORMAT).record(device, &mut encoder, target.view(), depth, size, &frame);
    queue.submit([encoder.finish()]);
    let rgba = target.read_rgba(device, queue).unwrap();
    let at = ((size.1 / 2 * size.0 + size.0 / 2) * 4) as usize;
    [rgba[at], rgba[at + 1], rgba[at + 2]]
}

/// One opaque blue splat 25 mm behind the origin as seen from the front (at y = −25, flat in y).
fn blue_splat_behind() -> Splats {
    let mut s = Splats {
        name: "behind".into(),
        sh_degree: 0,
        ..Default::default()
    };
    s.positions.push([0.0, -25.0, 0.0]);
    s.scales.push([6.0, 1.0, 6.0]);
    s.rotations.push([1.0, 0.0, 0.0, 0.0]);
    s.opacities.push(1.0);
    s.sh.push([0.0, 0.0, 1.0].map(|c: f32| (c - 0.5) / cortexlens_data::splats::SH_C0));
    s
}

#[test]
fn a_volume_hides_the_splats_behind_it_and_not_those_before_it_in_iso_and_mip() {
    use cortexlens_data::Colormap;
    use cortexlens_data::transfer::TransferFunction;
    use cortexlens_render::{
        RayFrame, RayMarchRenderer, RayMarchSettings, RaySource, RayTarget, RenderMode, Renderer, VolumeTexture,
    };
    // A solid ball of radius 12 mm (2 mm voxels) drawn as an isosurface, and one opaque blue
    // splat 25 mm behind its centre as seen from the front.
    let a = crate::common::affine(
        glam::DVec3::X * 2.0,
        glam::DVec3::Y * 2.0,
        glam::DVec3::Z * 2.0,
        glam::DVec3::splat(-23.0),
    );
    let ball = crate::common::volume("ball", [24, 24, 24], a, |i, j, k| {
        let w = a.transform_point3(glam::DVec3::new(i as f64, j as f64, k as f64));
        if w.length() < 12.0 { 100.0 } else { 0.0 }
    });
    let s = blue_splat_behind();
    let ctx = shared_context();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let texture = VolumeTexture::upload(device, queue, &ball, 0);
    let data = SplatData::new(&s, DMat4::IDENTITY, 0);
    let gpu = GpuSplats::upload(device, &data);
    // ISO stops at the ball's surface; MIP at its largest sample, the first voxel of 100.
    for mode in [RenderMode::Iso, RenderMode::Mip] {
        let settings = RayMarchSettings {
            mode,
            transfer: TransferFunction {
                colormap: Colormap::Gray,
                range: (0.0, 100.0),
                opacity: vec![[0.0, 0.0], [1.0, 1.0]],
            },
            iso_level: 50.0,
            step_mm: 0.5,
            ..RayMarchSettings::default()
        };
        let bounds = ([-30.0; 3], [30.0; 3]);
        let size = (64, 64);
        // The ball, then the splat over it, with or without the ball's depth.
        let draw = |preset: CameraPreset, depth_test: bool| {
            let camera = OrbitCamera::preset(preset, bounds);
            let frame = RayFrame {
                meshes: false,
                camera: &camera,
                settings: &settings,
                source: RaySource::Volume {
                    volume: &texture,
                    overlay: None,
                },
            };
            let mut ray = RayMarchRenderer::new(device);
            ray.prepare(device, queue, &frame);
            let target = RayTarget::create(device, size.0, size.1);
            queue.submit([ray.draw(device, queue, &target, &frame)]);
            centre_with_splats(&target, &camera, &gpu, depth_test)
        };
        let grey = |p: [u8; 3]| p[0] > 40 && p[0].abs_diff(p[2]) < 10;
        let blue = |p: [u8; 3]| p[2] > 200 && p[0] < 40;
        let front = draw(CameraPreset::Anterior, true);
        assert!(
            grey(front),
            "{mode:?}: from the front the ball hides the splat behind it: {front:?}"
        );
        let unsorted = draw(CameraPreset::Anterior, false);
        assert!(
            blue(unsorted),
            "{mode:?}: without the depth the splat is laid over the ball: {unsorted:?}"
        );
        let back = draw(CameraPreset::Posterior, true);
        assert!(
            blue(back),
            "{mode:?}: from behind the splat is in front of the ball: {back:?}"
        );
    }
}

#[test]
fn a_mesh_in_the_3d_view_hides_the_splats_behind_it() {
    use cortexlens_render::{GpuMesh, Lighting, MeshDestination, MeshFrame, MeshInstance, MeshRenderer, RayTarget};
    // A red square across the y = 0 plane, and one opaque blue splat 25 mm behind it as seen
    // from the front.
    let square = cortexlens_data::mesh::Mesh {
        vertices: vec![
            [-20.0, 0.0, -20.0],
            [20.0, 0.0, -20.0],
            [-20.0, 0.0, 20.0],
            [20.0, 0.0, 20.0],
        ],
        triangles: vec![[0, 1, 2], [2, 1, 3]],
    };
    let s = blue_splat_behind();
    let ctx = shared_context();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let mesh = GpuMesh::upload(device, queue, &square, &[[220, 30, 30, 255]; 4]);
    let gpu = GpuSplats::upload(device, &SplatData::new(&s, DMat4::IDENTITY, 0));
    let meshes = MeshRenderer::new(device);
    let lighting = Lighting::default();
    let size = (64, 64);
    let draw = |preset: CameraPreset| {
        let camera = OrbitCamera::preset(preset, ([-30.0; 3], [30.0; 3]));
        let target = RayTarget::create(device, size.0, size.1);
        let mut encoder = device.create_command_encoder(&Default::default());
        let instances = [MeshInstance {
            mesh: &mesh,
            offset: glam::Vec3::ZERO,
        }];
        let frame = MeshFrame {
            camera: &camera,
            instances: &instances,
            lighting: &lighting,
        };
        let background = [0.0, 0.0, 0.0, 1.0];
        meshes.record_3d(
            device,
            &mut encoder,
            &target,
            &frame,
            &[],
            MeshDestination::Alone { background },
        );
        queue.submit([encoder.finish()]);
        centre_with_splats(&target, &camera, &gpu, true)
    };
    let red = |p: [u8; 3]| p[0] > 100 && p[2] < 60;
    let blue = |p: [u8; 3]| p[2] > 200 && p[0] < 40;
    let front = draw(CameraPreset::Anterior);
    assert!(
        red(front),
        "from the front the square hides the splat behind it: {front:?}"
    );
    let back = draw(CameraPreset::Posterior);
    assert!(blue(back), "from behind the splat is in front of the square: {back:?}");
}
