//! Issue 13: cortexlens' own splat WGSL against `wgpu-3dgs-viewer` 0.8 (wgpu 30), on the two
//! measures that matter here: correctness against the CPU reference
//! (`cortexlens_render::splat_cpu_reference::rasterise_splats`) and frame time.
//!
//! Correctness: one generated scene (20,000 splats, SH degree 3, in a 60 mm ball, as the GPU
//! tests' `test_splats::ball_scene`), written to a `.ply` with `save_splats_ply` and read back by the crate's own
//! `.ply` reader, seen by `OrbitCamera::preset(Anterior)` at 320×240 over a background, into an
//! `Rgba8Unorm` target. Each picture is compared with the CPU reference as the GPU tests do
//! (largest channel difference, share of pixels off by more than 2).
//!
//! Frame time: 1 M splats (the splats bench's `garden` scene) at 1920×1080, median of 3 frames
//! after one warm-up, each submitted and waited for, both renderers in this process.
//!
//! `WGPU_BACKEND=vulkan cargo run` (see README.md). `SPLAT_COMPARE_SIZE` (`320x240`),
//! `SPLAT_COMPARE_COUNT` (`20000`), `SPLAT_COMPARE_TIMING_COUNT` (`1000000`, 0 skips timing),
//! `SPLAT_COMPARE_TIMING_SIZE` (`1920x1080`), `SPLAT_COMPARE_FRAMES` (`3`) change what is run;
//! `SPLAT_COMPARE_DUMP` names a folder for the pictures (PPM).

use std::time::Instant;

use cortexlens_data::camera::{CameraPreset, OrbitCamera};
use cortexlens_data::formats::save_splats_ply;
use cortexlens_data::splats::{SH_C0, sh_coefficients};
use cortexlens_render::splat_cpu_reference::rasterise_splats;
use cortexlens_render::test_splats::{ball_scene, garden_scene};
use cortexlens_render::testing::shared_context;
use cortexlens_render::{GpuSplats, OffscreenTarget, SLICE_FORMAT, SliceTarget, SplatData, SplatFrame, SplatRenderer};
use glam::DMat4;
use wgpu_3dgs_viewer as gs;
use wgpu_3dgs_viewer::core::glam as g;
use wgpu_3dgs_viewer::core::{
    Gaussian, GaussianDisplayMode, GaussianMaxStdDev, GaussianPod, GaussianShDegree, Gaussians, GaussiansSource,
    IterGaussian,
};

mod reference;

/// The crate's pod with f16 SH and f16 covariances (ours keeps both in f16 too).
type HalfPod = gs::core::GaussianPodWithShHalfCov3dHalfConfigs;

fn main() {
    let env = |name: &str| std::env::var(name).ok();
    let size_of = |name: &str, default: (u32, u32)| {
        env(name)
            .and_then(|v| {
                let (w, h) = v.split_once('x')?;
                Some((w.parse().ok()?, h.parse().ok()?))
            })
            .unwrap_or(default)
    };
    let size = size_of("SPLAT_COMPARE_SIZE", (320, 240));
    let timing_size = size_of("SPLAT_COMPARE_TIMING_SIZE", (1920, 1080));
    let count: usize = env("SPLAT_COMPARE_COUNT")
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let timing_count: usize = env("SPLAT_COMPARE_TIMING_COUNT")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let frames: usize = env("SPLAT_COMPARE_FRAMES").and_then(|v| v.parse().ok()).unwrap_or(3);

    let ctx = shared_context();
    let info = ctx.adapter.get_info();
    println!(
        "adapter: {} ({:?}, {:?}, {} {})",
        info.name, info.backend, info.device_type, info.driver, info.driver_info
    );
    let limits = ctx.device.limits();
    println!(
        "device limits: max_storage_buffer_binding_size {} MB, max_buffer_size {} MB",
        limits.max_storage_buffer_binding_size / 1_000_000,
        limits.max_buffer_size / 1_000_000
    );

    correctness(count, size);
    if timing_count > 0 {
        timing(timing_count, timing_size, frames);
    }
}

/// The crate's settings of one run: `size` and `max_std_dev` of its Gaussian transform.
#[derive(Clone, Copy)]
struct CrateSettings {
    size: f32,
    max_std_dev: GaussianMaxStdDev,
}

impl CrateSettings {
    /// The crate's defaults: size 1, cut at 3 (in its own units).
    fn defaults() -> CrateSettings {
        CrateSettings {
            size: 1.0,
            max_std_dev: GaussianMaxStdDev::default(),
        }
    }

    /// The footprint of 3DGS: the crate draws `alpha · exp(−q²)` for `q` in `|q| ≤ s` (s the
    /// max std dev) and places `q` at `q · s · size · σ / 2` pixels along each axis of the 2D
    /// Gaussian, so its falloff equals `exp(−d²/2σ²)` only when `s · size = 2√2`; with
    /// `s = 3/√2` the cut falls at 3σ, where ours cuts the major axis.
    fn matched() -> CrateSettings {
        let max_std_dev = GaussianMaxStdDev::new(3.0 / std::f32::consts::SQRT_2).unwrap();
        CrateSettings {
            size: 2.0 * std::f32::consts::SQRT_2 / max_std_dev.get(),
            max_std_dev,
        }
    }
}

/// The camera of the crate: our view and projection matrices as they are (both right-handed,
/// depth 0..1), converted to the crate's glam.
fn camera_pod(camera: &OrbitCamera, (width, height): (u32, u32)) -> gs::CameraPod {
    let m = |m: glam::Mat4| g::Mat4::from_cols_array(&m.to_cols_array());
    gs::CameraPod {
        view: m(camera.view()),
        proj: m(camera.projection(width as f32 / height as f32)),
        size: g::Vec2::new(width as f32, height as f32),
        _padding: [0; 2],
    }
}

/// A crate viewer set up for `camera`, `size` and `settings` (SH degree 3, splat mode).
fn crate_viewer<G: GaussianPod>(
    gaussians: &impl IterGaussian,
    camera: &OrbitCamera,
    size: (u32, u32),
    settings: CrateSettings,
) -> gs::Viewer<G> {
    let ctx = shared_context();
    let mut viewer = gs::Viewer::<G>::new(&ctx.device, SLICE_FORMAT, gaussians).expect("the crate's viewer");
    viewer.update_camera_with_pod(&ctx.queue, &camera_pod(camera, size));
    viewer.update_gaussian_transform(
        &ctx.queue,
        settings.size,
        GaussianDisplayMode::Splat,
        GaussianShDegree::new(3).unwrap(),
        false,
        settings.max_std_dev,
    );
    viewer
}

/// A render pass clearing `view` to `background` (opaque).
fn clear_pass<'e>(
    encoder: &'e mut wgpu::CommandEncoder,
    view: &wgpu::TextureView,
    background: [f32; 3],
) -> wgpu::RenderPass<'e> {
    let [r, g, b] = background.map(f64::from);
    encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: None,
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view,
            depth_slice: None,
            resolve_target: None,
            ops: wgpu::Operations {
                load: wgpu::LoadOp::Clear(wgpu::Color { r, g, b, a: 1.0 }),
                store: wgpu::StoreOp::Store,
            },
        })],
        ..Default::default()
    })
}

/// Our renderer's picture, as `render` in render/tests/gpu/splats.rs.
fn render_ours(data: &SplatData, camera: &OrbitCamera, size: (u32, u32), background: [f32; 3]) -> Vec<u8> {
    let ctx = shared_context();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let gpu = GpuSplats::upload(device, data);
    let mut renderer = SplatRenderer::new(device, SLICE_FORMAT);
    let target = SliceTarget::create(device, size.0, size.1);
    let mut encoder = device.create_command_encoder(&Default::default());
    drop(clear_pass(&mut encoder, target.view(), background));
    let frame = SplatFrame {
        camera,
        splats: &gpu,
        opacity_scale: 1.0,
        size_scale: 1.0,
        clip_planes: &[],
    };
    renderer.record(device, &mut encoder, target.view(), None, size, &frame);
    queue.submit([encoder.finish()]);
    target.read_rgba(device, queue).unwrap()
}

/// The crate's picture over `background`: its preprocess and sort, then its render pipeline in a
/// pass of ours that clears to the background (`Viewer::render` clears to black); its blend
/// (`ALPHA_BLENDING`, back to front) over an opaque background is the same compositing as ours.
fn render_crate<G: GaussianPod>(
    gaussians: &impl IterGaussian,
    camera: &OrbitCamera,
    size: (u32, u32),
    background: [f32; 3],
    settings: CrateSettings,
) -> Vec<u8> {
    let ctx = shared_context();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let viewer = crate_viewer::<G>(gaussians, camera, size, settings);
    let target = SliceTarget::create(device, size.0, size.1);
    let mut encoder = device.create_command_encoder(&Default::default());
    viewer
        .preprocessor
        .preprocess(&mut encoder, viewer.gaussians_buffer.len() as u32);
    viewer
        .radix_sorter
        .sort(&mut encoder, &viewer.radix_sort_indirect_args_buffer);
    {
        let mut pass = clear_pass(&mut encoder, target.view(), background);
        viewer
            .renderer
            .render_with_pass(&mut pass, &viewer.indirect_args_buffer);
    }
    queue.submit([encoder.finish()]);
    target.read_rgba(device, queue).unwrap()
}

/// Largest channel difference, share of pixels differing by more than 2, and the mean absolute
/// channel difference (RGB).
fn compare(gpu: &[u8], cpu: &[u8]) -> (u8, f64, f64) {
    let mut worst = 0;
    let mut off = 0;
    let mut sum = 0u64;
    for (g, c) in gpu.chunks(4).zip(cpu.chunks(4)) {
        let d = (0..3).map(|i| g[i].abs_diff(c[i])).max().unwrap();
        sum += (0..3).map(|i| u64::from(g[i].abs_diff(c[i]))).sum::<u64>();
        worst = worst.max(d);
        off += usize::from(d > 2);
    }
    let pixels = (gpu.len() / 4) as f64;
    (worst, off as f64 / pixels, sum as f64 / (3.0 * pixels))
}

/// One way of drawing the correctness scene, drawn [`RUNS`] times.
struct Row<'a> {
    name: &'a str,
    /// Over black (`Viewer::render`, which clears to black) instead of the background.
    black: bool,
    draw: Box<dyn Fn(&OrbitCamera, (u32, u32), [f32; 3]) -> Vec<u8> + 'a>,
}

/// How many times each renderer draws the correctness scene (the crate's sort is not
/// deterministic on every device: its result can change from one frame to the next).
///
/// A run is counted as garbled when its mean absolute difference exceeds [`GARBLED`]: every
/// correctly sorted picture of either renderer, under any of the settings here, stays below 3.
const RUNS: usize = 10;
const GARBLED: f64 = 5.0;

fn correctness(count: usize, size: (u32, u32)) {
    let splats = ball_scene(count, 3, 7);
    let data = SplatData::new(&splats, DMat4::IDENTITY, 3);
    let camera = OrbitCamera::preset(CameraPreset::Anterior, splats.bounds().unwrap());
    let background = [0.0, 0.0, 0.1];
    println!(
        "\ncorrectness: {count} splats, SH 3, anterior camera, {}×{} over {background:?}, each drawn {RUNS} times",
        size.0, size.1
    );

    let start = Instant::now();
    let cpu = rasterise_splats(&data, &camera, size, background, 1.0, 1.0, &[]);
    let cpu_black = rasterise_splats(&data, &camera, size, [0.0; 3], 1.0, 1.0, &[]);
    let drawn = cpu.chunks(4).filter(|p| p[0] > 30 || p[1] > 30).count();
    println!(
        "CPU reference: {:.1} s, {:.0}% of pixels drawn",
        start.elapsed().as_secs_f64() / 2.0,
        100.0 * drawn as f64 / (size.0 * size.1) as f64
    );
    // The same reference without the 0.3 px² low-pass (which the crate does not add), to tell how
    // much of the crate's difference that one convention explains.
    assert_eq!(reference::rasterise(&data, &camera, size, background, 0.3), cpu);
    let cpu_no_low_pass = reference::rasterise(&data, &camera, size, background, 0.0);

    // The crate reads the scene as it reads files.
    let path = std::env::temp_dir().join(format!("splat-compare-{count}.ply"));
    save_splats_ply(&path, &splats).expect("write the scene");
    let read = Gaussians::read_from_file(&path, GaussiansSource::Ply).expect("the crate reads the .ply");
    std::fs::remove_file(&path).ok();
    assert_eq!(read.len(), count);
    // The crate keeps the DC colour and the opacity in 8 bits, truncated (`as_u8vec4`); the same
    // Gaussians with both rounded instead, from our values.
    let rounded: Vec<Gaussian> = read
        .iter_gaussian()
        .enumerate()
        .map(|(i, mut gaussian)| {
            let dc = splats.sh[i * sh_coefficients(3)];
            let channel = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
            let [r, gr, b] = dc.map(|c| channel(0.5 + SH_C0 * c));
            gaussian.color = g::U8Vec4::new(r, gr, b, channel(splats.opacities[i]));
            gaussian
        })
        .collect();
    let matched = CrateSettings::matched();
    println!(
        "crate settings \"matched\": max std dev {:.4}, size {:.4}",
        matched.max_std_dev.get(),
        matched.size
    );

    let (read, rounded) = (&read, &rounded);
    let rows = [
        Row {
            name: "ours (render/shaders/splat_*.wgsl)",
            black: false,
            draw: Box::new(|c, s, bg| render_ours(&data, c, s, bg)),
        },
        Row {
            name: "crate, defaults (size 1, max std dev 3), f32 pod",
            black: false,
            draw: Box::new(|c, s, bg| {
                render_crate::<gs::DefaultGaussianPod>(read, c, s, bg, CrateSettings::defaults())
            }),
        },
        Row {
            name: "crate, defaults, `Viewer::render` (over black)",
            black: true,
            draw: Box::new(|c, s, _| viewer_render(read, c, s)),
        },
        Row {
            name: "crate, matched footprint, f32 pod",
            black: false,
            draw: Box::new(|c, s, bg| render_crate::<gs::DefaultGaussianPod>(read, c, s, bg, matched)),
        },
        Row {
            name: "crate, matched footprint, DC and opacity rounded, f32 pod",
            black: false,
            draw: Box::new(|c, s, bg| render_crate::<gs::DefaultGaussianPod>(rounded, c, s, bg, matched)),
        },
        Row {
            name: "crate, matched footprint, DC and opacity rounded, f16 pod",
            black: false,
            draw: Box::new(|c, s, bg| render_crate::<HalfPod>(rounded, c, s, bg, matched)),
        },
    ];
    println!(
        "\nvs rasterise_splats: max channel difference, share of pixels off by > 2, mean abs difference; best and worst of {RUNS} runs (by mean); runs garbled (mean > {GARBLED})"
    );
    println!(
        "| renderer | garbled | best: max | > 2 off | mean | worst: max | > 2 off | mean | best vs reference without low-pass: max | > 2 off | mean |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (i, row) in rows.iter().enumerate() {
        let reference = if row.black { &cpu_black } else { &cpu };
        let mut runs: Vec<(Vec<u8>, (u8, f64, f64))> = (0..RUNS)
            .map(|_| {
                let picture = (row.draw)(&camera, size, background);
                let diff = compare(&picture, reference);
                (picture, diff)
            })
            .collect();
        runs.sort_by(|a, b| a.1.2.total_cmp(&b.1.2));
        let garbled = runs.iter().filter(|r| r.1.2 > GARBLED).count();
        let (best, worst) = (&runs[0], &runs[RUNS - 1]);
        let cell = |(max, off, mean): (u8, f64, f64)| format!("{max} | {:.2}% | {mean:.2}", off * 100.0);
        let no_low_pass = if row.black {
            "– | – | –".to_string()
        } else {
            cell(compare(&best.0, &cpu_no_low_pass))
        };
        println!(
            "| {} | {garbled}/{RUNS} | {} | {} | {no_low_pass} |",
            row.name,
            cell(best.1),
            cell(worst.1)
        );
        if let Some(dir) = env_dir() {
            write_ppm(&dir.join(format!("row{i}-best.ppm")), &best.0, size);
            write_ppm(&dir.join(format!("row{i}-worst.ppm")), &worst.0, size);
        }
    }
    if let Some(dir) = env_dir() {
        write_ppm(&dir.join("reference.ppm"), &cpu, size);
        write_ppm(&dir.join("reference-no-low-pass.ppm"), &cpu_no_low_pass, size);
    }
}

/// The crate's own frame, `Viewer::render` (which clears to black), with its defaults.
fn viewer_render(gaussians: &impl IterGaussian, camera: &OrbitCamera, size: (u32, u32)) -> Vec<u8> {
    let ctx = shared_context();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let viewer = crate_viewer::<gs::DefaultGaussianPod>(gaussians, camera, size, CrateSettings::defaults());
    let target = SliceTarget::create(device, size.0, size.1);
    let mut encoder = device.create_command_encoder(&Default::default());
    viewer.render(&mut encoder, target.view());
    queue.submit([encoder.finish()]);
    target.read_rgba(device, queue).unwrap()
}

/// `SPLAT_COMPARE_DUMP`: a folder to write the pictures to (PPM), for looking at them.
fn env_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("SPLAT_COMPARE_DUMP").map(Into::into)
}

fn write_ppm(path: &std::path::Path, rgba: &[u8], (width, height): (u32, u32)) {
    let mut bytes = format!("P6\n{width} {height}\n255\n").into_bytes();
    bytes.extend(rgba.chunks(4).flat_map(|p| [p[0], p[1], p[2]]));
    std::fs::write(path, bytes).expect("write a picture");
}

fn timing(count: usize, (width, height): (u32, u32), frames: usize) {
    let ctx = shared_context();
    let (device, queue) = (&ctx.device, &ctx.queue);
    println!(
        "\nframe time: {count} splats (the splats bench's garden scene), SH 3, {width}×{height}, median of {frames} after 1 warm-up, submit + wait"
    );
    let scene = garden_scene(count, 3, 1);
    let bounds = scene.bounds().expect("splats");
    let target = SliceTarget::create(device, width, height);
    let start_camera = OrbitCamera::preset(CameraPreset::Anterior, bounds);

    let degree = cortexlens_render::splats::fitting_sh_degree(device, scene.len(), 3).expect("the scene fits");
    let data = SplatData::new(&scene, DMat4::IDENTITY, degree);
    let gpu = GpuSplats::upload(device, &data);
    drop(data);
    let mut renderer = SplatRenderer::new(device, SLICE_FORMAT);
    let mut camera = start_camera;
    let ours = time_frames(frames, || {
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
    drop(gpu);
    drop(renderer);
    println!(
        "ours (SH degree {degree}, f16 SH and covariances): median {:.0} ms ({})",
        ours,
        list()
    );

    // The crate as an application would use it: the scene from its `.ply`, `Viewer::render`.
    let path = std::env::temp_dir().join(format!("splat-compare-{count}.ply"));
    save_splats_ply(&path, &scene).expect("write the scene");
    drop(scene);
    let start = Instant::now();
    let gaussians = Gaussians::read_from_file(&path, GaussiansSource::Ply).expect("the crate reads the .ply");
    std::fs::remove_file(&path).ok();
    println!("(the crate read the .ply in {:.1} s)", start.elapsed().as_secs_f64());
    let mut results = vec![("ours", ours)];
    for (name, half) in [("crate, f32 pod (its default)", false), ("crate, f16 pod", true)] {
        let pod_bytes = if half {
            std::mem::size_of::<HalfPod>()
        } else {
            std::mem::size_of::<gs::DefaultGaussianPod>()
        } as u64;
        let bytes = pod_bytes * count as u64;
        if bytes > device.limits().max_storage_buffer_binding_size {
            println!("{name}: {bytes} bytes exceed the device's storage binding size; skipped");
            continue;
        }
        let median = if half {
            time_crate::<HalfPod>(&gaussians, &start_camera, &target, (width, height), frames)
        } else {
            time_crate::<gs::DefaultGaussianPod>(&gaussians, &start_camera, &target, (width, height), frames)
        };
        println!("{name} ({pod_bytes} bytes a splat): median {median:.0} ms ({})", list());
        results.push((name, median));
    }
    println!("\n| renderer | median frame | ratio to ours |");
    println!("| --- | ---: | ---: |");
    for (name, median) in &results {
        println!("| {name} | {:.2} s | {:.2}× |", median / 1e3, median / ours);
    }
}

fn time_crate<G: GaussianPod>(
    gaussians: &impl IterGaussian,
    start_camera: &OrbitCamera,
    target: &SliceTarget,
    size: (u32, u32),
    frames: usize,
) -> f64 {
    let ctx = shared_context();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let mut viewer = crate_viewer::<G>(gaussians, start_camera, size, CrateSettings::defaults());
    let mut camera = *start_camera;
    time_frames(frames, || {
        camera.orbit(0.02, 0.0);
        viewer.update_camera_with_pod(queue, &camera_pod(&camera, size));
        let mut encoder = device.create_command_encoder(&Default::default());
        viewer.render(&mut encoder, target.view());
        queue.submit([encoder.finish()])
    })
}

thread_local! {
    static TIMES: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The frame times of the last [`time_frames`], ms.
fn list() -> String {
    TIMES.with(|t| {
        t.borrow()
            .iter()
            .map(|v| format!("{v:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
            + " ms"
    })
}

/// Median milliseconds of `frames` frames after one warm-up, each waited for.
fn time_frames(frames: usize, mut frame: impl FnMut() -> wgpu::SubmissionIndex) -> f64 {
    let device = &shared_context().device;
    let mut wait = || {
        let submission = frame();
        device
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
    TIMES.with(|t| *t.borrow_mut() = times.clone());
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
