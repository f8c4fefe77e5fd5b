//! 3D view frame time at 1920×1080: the MNI152 T1 template (182×218×182, 1 mm) in DVR (lit and
//! unlit) and MIP at 0.5 mm steps, and a neural field (8-level hash grid, 2 × 64 MLP, random
//! weights from a fixed seed) over the same box at 1 mm steps, as an intensity in DVR and as
//! density + colour.
//!
//! `WGPU_BACKEND=vulkan cargo bench -p cortexlens-render --bench raymarch` — prints the adapter,
//! then per scene the number of passes, the median and mean time of draw + submit + wait and the
//! frames per second. The camera turns a little every frame. `RAYMARCH_BENCH_FRAMES` sets the
//! number of timed frames (3), `RAYMARCH_BENCH_SIZE` the size (`1920x1080`) and
//! `RAYMARCH_BENCH_FIELD_SIZE` the size of the field scenes (the same; on lavapipe a 1080p field
//! frame takes over an hour, so measure a smaller one and scale by the pixel count).
//! The intensity field is also baked into a grid of `BAKE_VOXELS` voxels (what the app draws on
//! software GPUs): the bake's CPU time is printed, then the grid's DVR frame time at the volume size.
//! `RAYMARCH_BENCH_ONLY=text` runs only the scenes whose name contains `text`.

use std::path::Path;
use std::time::Instant;

use cortexlens_data::camera::{CameraPreset, OrbitCamera};
use cortexlens_data::field::{
    Activation, BAKE_VOXELS, DenseLayer, Encoding, FieldOutput, HashGrid, NeuralField, OccupancyGrid, bake,
};
use cortexlens_data::transfer::TransferFunction;
use cortexlens_data::{Colormap, Loaded, Volume, VolumeStats, load_path};
use cortexlens_render::raymarch::{DataBox, PassPlan};
use cortexlens_render::{
    GpuContext, GpuField, RayFrame, RayMarchRenderer, RayMarchSettings, RaySource, RayTarget, RenderMode, Renderer,
    VolumeTexture,
};

const WARM_UP: usize = 1;

fn main() {
    let frames: usize = std::env::var("RAYMARCH_BENCH_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let size = |var: &str, default: (u32, u32)| {
        std::env::var(var)
            .ok()
            .and_then(|v| {
                let (w, h) = v.split_once('x')?;
                Some((w.parse().ok()?, h.parse().ok()?))
            })
            .unwrap_or(default)
    };
    let (width, height) = size("RAYMARCH_BENCH_SIZE", (1920, 1080));
    let field_size = size("RAYMARCH_BENCH_FIELD_SIZE", (width, height));
    let ctx = GpuContext::headless().expect("a GPU adapter (WGPU_BACKEND=vulkan for lavapipe)");
    let info = ctx.adapter.get_info();
    println!(
        "adapter: {} ({:?}, {:?}, {} {})",
        info.name, info.backend, info.device_type, info.driver, info.driver_info
    );
    println!(
        "volumes {width}×{height}, fields {}×{}, {frames} frames after {WARM_UP} warm-up frame",
        field_size.0, field_size.1
    );
    println!(
        "{:<44} {:>6} {:>11} {:>11} {:>8}",
        "scene", "passes", "median ms", "mean ms", "fps"
    );
    let only = std::env::var("RAYMARCH_BENCH_ONLY").unwrap_or_default();
    let wanted = |name: &str| name.contains(only.as_str());
    let (device, queue) = (&ctx.device, &ctx.queue);
    let mut renderer = RayMarchRenderer::new(device);
    let target = RayTarget::new(device, width, height);

    let mni = mni152();
    let texture = VolumeTexture::upload(device, queue, &mni, 0);
    let (lo, hi) = mni.world_bounds();
    let bounds = (lo.as_vec3().to_array(), hi.as_vec3().to_array());
    // Time a volume texture drawn with `settings`, the camera turning around `bounds`.
    let mut time_volume = |name: &str, texture: &VolumeTexture, settings: &RayMarchSettings| {
        let data = DataBox::of_grid(texture.affine(), texture.dims());
        let plan = PassPlan::for_box(&data, settings, 1, Some(settings.mode));
        let mut camera = OrbitCamera::preset(CameraPreset::LateralLeft, bounds);
        let source = RaySource::Volume {
            volume: texture,
            overlay: None,
        };
        run(name, plan.passes, frames, &ctx, |ctx| {
            camera.orbit(0.02, 0.0);
            draw_frame(&mut renderer, ctx, &target, &camera, settings, source)
        });
    };
    let max = VolumeStats::of(&mni).max as f32;
    let transfer = TransferFunction {
        colormap: Colormap::Gray,
        range: (0.0, max),
        opacity: vec![[0.0, 0.0], [0.3, 0.0], [0.6, 0.4], [1.0, 0.9]],
    };
    for (name, mode, lighting) in [
        ("MNI152 DVR lit, 0.5 mm", RenderMode::Dvr, true),
        ("MNI152 DVR unlit, 0.5 mm", RenderMode::Dvr, false),
        ("MNI152 MIP, 0.5 mm", RenderMode::Mip, false),
    ] {
        if !wanted(name) {
            continue;
        }
        let settings = RayMarchSettings {
            mode,
            transfer: transfer.clone(),
            step_mm: 0.5,
            lighting,
            ..RayMarchSettings::default()
        };
        time_volume(name, &texture, &settings);
    }

    let field_settings = RayMarchSettings {
        mode: RenderMode::Dvr,
        transfer: TransferFunction {
            colormap: Colormap::Viridis,
            range: (0.0, 100.0),
            opacity: vec![[0.0, 0.0], [0.5, 0.0], [1.0, 0.3]],
        },
        step_mm: 1.0,
        lighting: false,
        ..RayMarchSettings::default()
    };
    let baked_name = "field baked to a grid, DVR, 1 mm";
    if wanted(baked_name) {
        let field = bench_field(bounds, false);
        let start = Instant::now();
        let grid = bake(&field, BAKE_VOXELS, &Default::default(), &mut |_| {}).expect("bake");
        println!(
            "baking the field into {:?} voxels on the CPU: {:.2} s",
            &grid.shape[..3],
            start.elapsed().as_secs_f64()
        );
        time_volume(
            baked_name,
            &VolumeTexture::upload(device, queue, &grid, 0),
            &field_settings,
        );
    }

    let field_target = RayTarget::new(device, field_size.0, field_size.1);
    for density_rgb in [false, true] {
        let name = if density_rgb {
            "field σ+rgb, hash 8 lv + 2×64, 1 mm"
        } else {
            "field DVR, hash 8 lv + 2×64, 1 mm"
        };
        if !wanted(name) {
            continue;
        }
        let field = bench_field(bounds, density_rgb);
        let gpu = GpuField::upload(device, queue, &field).expect("field upload");
        let settings = field_settings.clone();
        let data = DataBox::of_bounds(field.bounds_min, field.bounds_max);
        let plan = PassPlan::for_box(
            &data,
            &settings,
            gpu.loop_iterations(),
            (!density_rgb).then_some(RenderMode::Dvr),
        );
        let mut camera = OrbitCamera::preset(CameraPreset::LateralLeft, bounds);
        run(name, plan.passes, frames, &ctx, |ctx| {
            camera.orbit(0.02, 0.0);
            draw_frame(
                &mut renderer,
                ctx,
                &field_target,
                &camera,
                &settings,
                RaySource::Field(&gpu),
            )
        });
    }
}

/// Prepare and draw one frame into `target`, as the app does, and submit it.
fn draw_frame(
    renderer: &mut RayMarchRenderer,
    ctx: &GpuContext,
    target: &RayTarget,
    camera: &OrbitCamera,
    settings: &RayMarchSettings,
    source: RaySource<'_>,
) -> wgpu::SubmissionIndex {
    let frame = RayFrame {
        meshes: false,
        camera,
        settings,
        source,
    };
    renderer.prepare(&ctx.device, &ctx.queue, &frame);
    ctx.queue
        .submit([renderer.draw(&ctx.device, &ctx.queue, target, &frame)])
}

/// Time `frames` frames of `frame` (which submits) after the warm-up, each waited for.
fn run(
    name: &str,
    passes: u32,
    frames: usize,
    ctx: &GpuContext,
    mut frame: impl FnMut(&GpuContext) -> wgpu::SubmissionIndex,
) {
    let mut wait = |ctx: &GpuContext| {
        let submission = frame(ctx);
        ctx.device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(submission),
                timeout: None,
            })
            .expect("GPU wait");
    };
    for _ in 0..WARM_UP {
        wait(ctx);
    }
    let mut times: Vec<f64> = (0..frames.max(1))
        .map(|_| {
            let start = Instant::now();
            wait(ctx);
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!("{name:<44} {passes:>6} {median:>11.1} {mean:>11.1} {:>8.2}", 1e3 / mean);
}

fn mni152() -> Volume {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/mni152_t1_1mm.nii.gz");
    match load_path(&path, &mut |_| {}) {
        Ok(Loaded::Volume(v)) => v,
        Ok(_) => panic!("{}: not a volume", path.display()),
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

/// xorshift64*: deterministic weights without a dependency.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let unit = (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * unit
    }

    fn values(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| self.uniform(lo, hi)).collect()
    }
}

/// An 8-level hash grid (2 features, 2^19 entries, base 16, scale 1.5) and a 2 × 64 ReLU MLP
/// over `bounds`, with a 16³ occupancy grid keeping the inscribed ball.
fn bench_field(bounds: ([f32; 3], [f32; 3]), density_rgb: bool) -> NeuralField {
    let mut rng = Rng(0x5eed);
    let (levels, features, log2) = (8u32, 2u32, 19u32);
    let mut layer = |inputs: usize, outputs: usize, activation| {
        let w = 1.5 / (inputs as f32).sqrt();
        DenseLayer {
            inputs,
            outputs,
            weight: rng.values(inputs * outputs, -w, w),
            bias: rng.values(outputs, -0.2, 0.2),
            activation,
        }
    };
    let (outputs, output) = if density_rgb {
        (4, FieldOutput::DensityRgb)
    } else {
        (
            1,
            FieldOutput::Intensity {
                scale: 60.0,
                offset: 40.0,
            },
        )
    };
    let layers = vec![
        layer(16, 64, Activation::Relu),
        layer(64, 64, Activation::Relu),
        layer(64, outputs, Activation::Relu),
    ];
    let resolution = [16u32; 3];
    let occupied = (0..16 * 16 * 16)
        .map(|i: u32| {
            let c = [i % 16, (i / 16) % 16, i / 256].map(|v| (v as f32 + 0.5) / 16.0 - 0.5);
            (c.iter().map(|v| v * v).sum::<f32>() <= 0.25) as u8
        })
        .collect();
    NeuralField {
        bounds_min: bounds.0,
        bounds_max: bounds.1,
        encoding: Encoding::HashGrid(HashGrid {
            levels,
            features,
            log2_table_size: log2,
            base_resolution: 16,
            per_level_scale: 1.5,
            params: Rng(7).values(((levels * features) as usize) << log2, -1.0, 1.0),
        }),
        layers,
        cam: None,
        output,
        occupancy: Some(OccupancyGrid { resolution, occupied }),
    }
}
