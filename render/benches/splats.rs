//! Gaussian splats: frame time at 1920×1080 of generated scenes of 1 M and 6 M splats with SH
//! degree 3 (about a Mip-NeRF 360 "garden"), against the MNI152 DVR frame of the ray-marcher
//! bench drawn in the same process; and the load time of each scene's 3DGS `.ply` against reading
//! the same bytes.
//!
//! `WGPU_BACKEND=vulkan cargo bench -p cortexlens-render --bench splats` — prints the adapter,
//! then per scene: the `.ply` size, read and load times and their ratio, the upload time, and the
//! median and mean frame time (preprocess, GPU sort, draw and composite; submit and wait), fps and
//! the ratio to the DVR frame. `SPLAT_BENCH_COUNTS` (`1000000,6000000`), `SPLAT_BENCH_FRAMES` (2
//! after one warm-up), `SPLAT_BENCH_SIZE` (`1920x1080`) and `SPLAT_BENCH_DIR` (the temp dir, for
//! the `.ply` files, deleted after) change what is run.

use std::path::Path;
use std::time::Instant;

use cortexlens_data::camera::{CameraPreset, OrbitCamera};
use cortexlens_data::formats::save_splats_ply;
use cortexlens_data::transfer::TransferFunction;
use cortexlens_data::{Colormap, Loaded, VolumeStats, load_path};
use cortexlens_render::splats::fitting_sh_degree;
use cortexlens_render::test_splats::garden_scene;
use cortexlens_render::{
    GpuContext, GpuSplats, RayFrame, RayMarchRenderer, RayMarchSettings, RaySource, RayTarget, RenderMode, Renderer,
    SLICE_FORMAT, SplatData, SplatFrame, SplatRenderer, VolumeTexture,
};
use glam::DMat4;

fn main() {
    let env = |name: &str| std::env::var(name).ok();
    let counts: Vec<usize> = env("SPLAT_BENCH_COUNTS")
        .unwrap_or_else(|| "1000000,6000000".into())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let frames: usize = env("SPLAT_BENCH_FRAMES").and_then(|v| v.parse().ok()).unwrap_or(2);
    let (width, height) = env("SPLAT_BENCH_SIZE")
        .and_then(|v| {
            let (w, h) = v.split_once('x')?;
            Some((w.parse().ok()?, h.parse().ok()?))
        })
        .unwrap_or((1920u32, 1080u32));
    let dir = env("SPLAT_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let ctx = GpuContext::headless().expect("a GPU adapter (WGPU_BACKEND=vulkan for lavapipe)");
    let info = ctx.adapter.get_info();
    println!(
        "adapter: {} ({:?}, {:?}, {} {})",
        info.name, info.backend, info.device_type, info.driver, info.driver_info
    );
    println!("{width}×{height}, {frames} frames after 1 warm-up frame");
    let (device, queue) = (&ctx.device, &ctx.queue);
    let target = RayTarget::new(device, width, height);

    // The baseline: the MNI152 T1 in unlit DVR at 0.5 mm steps, as in the raymarch bench.
    let mni = match load_path(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/mni152_t1_1mm.nii.gz"),
        &mut |_| {},
    ) {
        Ok(Loaded::Volume(v)) => v,
        _ => panic!("the MNI152 template is missing"),
    };
    let texture = VolumeTexture::upload(device, queue, &mni, 0);
    let (lo, hi) = mni.world_bounds();
    let settings = RayMarchSettings {
        mode: RenderMode::Dvr,
        transfer: TransferFunction {
            colormap: Colormap::Gray,
            range: (0.0, VolumeStats::of(&mni).max as f32),
            opacity: vec![[0.0, 0.0], [0.3, 0.0], [0.6, 0.4], [1.0, 0.9]],
        },
        step_mm: 0.5,
        lighting: false,
        ..RayMarchSettings::default()
    };
    let mut ray = RayMarchRenderer::new(device);
    let mut camera = OrbitCamera::preset(
        CameraPreset::LateralLeft,
        (lo.as_vec3().to_array(), hi.as_vec3().to_array()),
    );
    let dvr = time_frames(&ctx, frames, || {
        camera.orbit(0.02, 0.0);
        let frame = RayFrame {
            meshes: false,
            camera: &camera,
            settings: &settings,
            source: RaySource::Volume {
                volume: &texture,
                overlay: None,
            },
        };
        ray.prepare(device, queue, &frame);
        queue.submit([ray.draw(device, queue, &target, &frame)])
    });
    println!("baseline MNI152 DVR unlit 0.5 mm: median {:.1} ms", dvr.0);

    let mut renderer = SplatRenderer::new(device, SLICE_FORMAT);
    for count in counts {
        let scene = garden_scene(count, 3, 1);
        let path = dir.join(format!("cortexlens-bench-{count}.ply"));
        save_splats_ply(&path, &scene).expect("write the scene");
        drop(scene);
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
        let start = Instant::now();
        let read = std::fs::read(&path).expect("read the scene");
        let read_s = start.elapsed().as_secs_f64();
        drop(read);
        let start = Instant::now();
        let Ok(Loaded::Splats(scene)) = load_path(&path, &mut |_| {}) else {
            panic!("the written scene does not load");
        };
        let load_s = start.elapsed().as_secs_f64();
        std::fs::remove_file(&path).ok();
        println!(
            "{count} splats, SH 3: .ply {:.0} MB; read {read_s:.2} s, load {load_s:.2} s ({:.2}× reading)",
            bytes as f64 / 1e6,
            load_s / read_s
        );
        // As the app does: the highest SH degree whose buffers fit the device.
        let degree = fitting_sh_degree(device, scene.len(), scene.sh_degree).expect("the scene fits the device");
        let start = Instant::now();
        let data = SplatData::new(&scene, DMat4::IDENTITY, degree);
        let gpu = GpuSplats::upload(device, &data);
        drop(data);
        println!(
            "  upload with SH degree {degree}: {:.2} s",
            start.elapsed().as_secs_f64()
        );
        let mut camera = OrbitCamera::preset(CameraPreset::Anterior, scene.bounds().expect("splats"));
        let (median, mean) = time_frames(&ctx, frames, || {
            camera.orbit(0.02, 0.0);
            let mut encoder = device.create_command_encoder(&Default::default());
            let frame = SplatFrame {
                camera: &camera,
                splats: &gpu,
                opacity_scale: 1.0,
                size_scale: 1.0,
                clip_planes: &[],
            };
            renderer.record(device, &mut encoder, target.view(), None, (width, height), &frame);
            queue.submit([encoder.finish()])
        });
        println!(
            "  frame: median {median:.1} ms, mean {mean:.1} ms, {:.2} fps, {:.2}× the DVR frame",
            1e3 / median,
            median / dvr.0
        );
    }
}

/// Median and mean milliseconds of `frames` frames after one warm-up, each waited for.
fn time_frames(ctx: &GpuContext, frames: usize, mut frame: impl FnMut() -> wgpu::SubmissionIndex) -> (f64, f64) {
    let mut wait = || {
        let submission = frame();
        ctx.device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(submission),
                timeout: None,
            })
            .expect("GPU wait");
    };
    wait();
    let mut times: Vec<f64> = (0..frames.max(1))
        .map(|_| {
            let start = Instant::now();
            wait();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times.iter().sum::<f64>() / times.len() as f64)
}
