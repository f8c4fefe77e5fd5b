//! Neural fields on the GPU: the WGSL evaluator against `NeuralField::eval` at random points
//! (hash-grid and dense encodings, with and without CAM, intensity and density–colour outputs),
//! field renders against the CPU reference ray marcher, empty-space skipping with the field's
//! occupancy grid, and the evaluator's limits.

use cortexlens_data::Colormap;
use cortexlens_data::camera::{CameraPreset, OrbitCamera};
use cortexlens_data::field::NeuralField;
use cortexlens_data::transfer::TransferFunction;
use cortexlens_render::field_gpu::MAX_WIDTH;
use cortexlens_render::raymarch_cpu_reference::{CpuField, render_field};
use cortexlens_render::testing::shared_context;
use cortexlens_render::{
    GpuField, RayMarchRenderer, RayMarchSettings, RaySource, RenderError, RenderMode, eval_field_gpu,
};

use crate::field_fixtures::{BOUNDS, Kind, Rng, ball_occupancy, random_field};
use crate::raymarch_common::{Allowed, compare, render_ray, render_ray_over_meshes};

/// Required agreement of the GPU evaluator with `NeuralField::eval`, per output.
const PARITY: f32 = 1e-3;

/// ~1000 points: the box and a 10 % margin around it (outside points read the clamped field).
fn points(seed: u64) -> Vec<[f32; 3]> {
    let mut rng = Rng::new(seed);
    let (lo, hi) = BOUNDS;
    (0..1000)
        .map(|_| {
            std::array::from_fn(|a| {
                let margin = 0.1 * (hi[a] - lo[a]);
                rng.uniform(lo[a] - margin, hi[a] + margin)
            })
        })
        .collect()
}

/// Largest absolute difference between the GPU and CPU evaluations of `field`.
fn parity(field: &NeuralField) -> f32 {
    let ctx = shared_context();
    let gpu_field = GpuField::upload(&ctx.device, &ctx.queue, field).expect("upload");
    let pts = points(7);
    let gpu = eval_field_gpu(&ctx.device, &ctx.queue, &gpu_field, &pts).expect("eval");
    assert_eq!(gpu.len(), pts.len());
    let mut worst = 0.0f32;
    let mut magnitude = 0.0f32;
    for (p, g) in pts.iter().zip(&gpu) {
        let c = field.eval(*p);
        for a in 0..4 {
            worst = worst.max((g[a] - c[a]).abs());
            magnitude = magnitude.max(c[a].abs());
        }
    }
    assert!(magnitude > 0.1, "a degenerate test field (outputs up to {magnitude})");
    worst
}

#[test]
fn gpu_evaluation_matches_the_reference() {
    let mut report = Vec::new();
    for kind in [Kind::Hash, Kind::Dense] {
        for with_cam in [false, true] {
            for density_rgb in [false, true] {
                let seed = 11 + 2 * with_cam as u64 + 4 * density_rgb as u64 + 8 * (kind == Kind::Dense) as u64;
                let field = random_field(seed, kind, 2, 32, with_cam, density_rgb);
                let worst = parity(&field);
                let name = format!("{kind:?} cam={with_cam} density_rgb={density_rgb}");
                eprintln!("field parity {name}: max |gpu − cpu| = {worst:.3e}");
                report.push((name, worst));
            }
        }
    }
    // CAM's other variant: modulation without normalising first.
    for kind in [Kind::Hash, Kind::Dense] {
        let mut field = random_field(31, kind, 2, 32, true, false);
        field.cam.as_mut().unwrap().normalize = false;
        let worst = parity(&field);
        let name = format!("{kind:?} cam without normalisation");
        eprintln!("field parity {name}: max |gpu − cpu| = {worst:.3e}");
        report.push((name, worst));
    }
    for (name, worst) in report {
        assert!(worst < PARITY, "{name}: max abs difference {worst}");
    }
}

#[test]
fn wide_and_deep_fields_within_the_limits() {
    // The widest layers the evaluator holds, and several of them.
    let field = random_field(3, Kind::Dense, 3, MAX_WIDTH, true, false);
    let worst = parity(&field);
    eprintln!("field parity 3×{MAX_WIDTH} dense cam: {worst:.3e}");
    assert!(worst < PARITY);
    // One wider is refused with a reason.
    let ctx = shared_context();
    let too_wide = random_field(3, Kind::Dense, 1, MAX_WIDTH + 1, false, false);
    match GpuField::upload(&ctx.device, &ctx.queue, &too_wide) {
        Err(RenderError::Field(reason)) => assert!(reason.contains("outputs"), "{reason}"),
        other => panic!("expected a field error, got {:?}", other.map(|_| ())),
    }
    // So is an inconsistent field.
    let mut broken = random_field(3, Kind::Hash, 1, 8, false, false);
    broken.layers[0].bias.pop();
    assert!(matches!(
        GpuField::upload(&ctx.device, &ctx.queue, &broken),
        Err(RenderError::Field(_))
    ));
}

fn camera() -> OrbitCamera {
    let mut c = OrbitCamera::preset(CameraPreset::Anterior, BOUNDS);
    c.orbit(0.4, 0.3);
    c
}

/// Render `field` on the GPU (skipping on and off, which must agree exactly) and on the CPU.
fn check_render(name: &str, field: &NeuralField, s: &RayMarchSettings, size: (u32, u32), allowed: Allowed) -> Vec<u8> {
    let ctx = shared_context();
    let gpu_field = GpuField::upload(&ctx.device, &ctx.queue, field).expect("upload");
    let mut renderer = RayMarchRenderer::new(&ctx.device);
    let camera = camera();
    let mut render = |skip: bool| {
        let s = RayMarchSettings {
            empty_space_skipping: skip,
            ..s.clone()
        };
        render_ray(&mut renderer, size, &camera, &s, RaySource::Field(&gpu_field))
    };
    let gpu = render(true);
    assert!(gpu == render(false), "{name}: empty-space skipping changed the picture");
    let eval = |p: [f32; 3]| field.eval(p);
    let occupied = |p: [f32; 3]| field.occupied(p);
    let cpu_field = CpuField {
        eval: &eval,
        bounds: (field.bounds_min, field.bounds_max),
        density_rgb: gpu_field.is_density_rgb(),
        occupied: field
            .occupancy
            .is_some()
            .then_some(&occupied as &dyn Fn([f32; 3]) -> bool),
    };
    let cpu = render_field(size.0, size.1, &camera, &cpu_field, s);
    let background = s.background.map(|c| (c * 255.0).round() as u8);
    compare(name, &gpu, &cpu, size, background, allowed);
    gpu
}

fn intensity_settings(mode: RenderMode) -> RayMarchSettings {
    RayMarchSettings {
        mode,
        transfer: TransferFunction {
            colormap: Colormap::Viridis,
            range: (0.0, 100.0),
            opacity: vec![[0.0, 0.0], [0.5, 0.0], [1.0, 0.5]],
        },
        iso_level: 70.0,
        step_mm: 1.0,
        lighting: false,
        ..RayMarchSettings::default()
    }
}

#[test]
fn intensity_field_renders_match_the_reference() {
    let mut field = random_field(21, Kind::Hash, 2, 16, true, false);
    field.occupancy = Some(ball_occupancy([5, 5, 5], 0.45));
    let allowed = Allowed {
        edge: 60,
        min_drawn: 200,
    };
    for mode in RenderMode::ALL {
        let s = intensity_settings(mode);
        check_render(&format!("field {}", mode.name()), &field, &s, (40, 32), allowed);
    }
    // Lit DVR: six gradient taps per sample, so several passes (see `PassPlan`).
    let lit = RayMarchSettings {
        lighting: true,
        ..intensity_settings(RenderMode::Dvr)
    };
    check_render("field dvr lit", &field, &lit, (40, 32), allowed);
}

#[test]
fn density_field_render_matches_the_reference() {
    let mut field = random_field(5, Kind::Dense, 2, 16, false, true);
    field.occupancy = Some(ball_occupancy([6, 6, 6], 0.5));
    let mut s = RayMarchSettings {
        step_mm: 1.0,
        // Mode, transfer function and lighting are ignored for density–colour fields.
        mode: RenderMode::Iso,
        ..RayMarchSettings::default()
    };
    s.background = [0.2, 0.2, 0.2, 1.0];
    let allowed = Allowed {
        edge: 60,
        min_drawn: 200,
    };
    let a = check_render("density field", &field, &s, (40, 32), allowed);
    s.mode = RenderMode::Mip;
    s.lighting = false;
    let b = check_render("density field (mode ignored)", &field, &s, (40, 32), allowed);
    assert!(a == b);
}

/// What the app draws on software GPUs: the field baked into a grid and ray-marched as a volume
/// stays close to the exact per-sample evaluation (mean and 99th-percentile channel differences).
#[test]
fn baked_field_renders_close_to_the_exact_field() {
    use cortexlens_render::VolumeTexture;
    let ctx = shared_context();
    let field = random_field(5, Kind::Dense, 1, 16, false, false);
    let grid = cortexlens_data::field::bake(&field, 200_000, &Default::default(), &mut |_| {}).expect("bake");
    let texture = VolumeTexture::upload(&ctx.device, &ctx.queue, &grid, 0);
    let gpu_field = GpuField::upload(&ctx.device, &ctx.queue, &field).expect("upload");
    let mut renderer = RayMarchRenderer::new(&ctx.device);
    let (w, h) = (48, 36);
    for mode in [RenderMode::Mip, RenderMode::Dvr] {
        let s = intensity_settings(mode);
        let exact = render_ray(&mut renderer, (w, h), &camera(), &s, RaySource::Field(&gpu_field));
        let volume = RaySource::Volume {
            volume: &texture,
            overlay: None,
        };
        let baked = render_ray(&mut renderer, (w, h), &camera(), &s, volume);
        let mut diffs: Vec<u8> = exact.iter().zip(&baked).map(|(a, b)| a.abs_diff(*b)).collect();
        let background = s.background.map(|c| (c * 255.0).round() as u8);
        let drawn = exact.chunks_exact(4).filter(|p| **p != background).count();
        assert!(drawn > (w * h) as usize / 4, "{mode:?}: only {drawn} pixels drawn");
        let mean = diffs.iter().map(|&d| d as f64).sum::<f64>() / diffs.len() as f64;
        diffs.sort_unstable();
        let p99 = diffs[diffs.len() * 99 / 100];
        eprintln!(
            "{mode:?}: baked vs exact, mean {mean:.2}, 99th percentile {p99}, max {}",
            diffs[diffs.len() - 1]
        );
        assert!(
            mean < 1.0 && p99 <= 6,
            "{mode:?}: mean {mean:.2}, 99th percentile {p99}"
        );
    }
}

/// A field drawn in several passes (lit DVR) and in one (ISO) over a mesh inside its box: every
/// pass ends the rays at the mesh, as the CPU reference does.
#[test]
fn field_passes_stop_at_the_meshes() {
    use cortexlens_render::raymarch_cpu_reference::{View, render_field_in};
    let mut field = random_field(21, Kind::Hash, 2, 16, true, false);
    field.occupancy = Some(ball_occupancy([5, 5, 5], 0.45));
    let ctx = shared_context();
    let gpu_field = GpuField::upload(&ctx.device, &ctx.queue, &field).expect("upload");
    let mut renderer = RayMarchRenderer::new(&ctx.device);
    let camera = camera();
    let (lo, hi) = (glam::Vec3::from(BOUNDS.0), glam::Vec3::from(BOUNDS.1));
    let ball = cortexlens_render::test_meshes::icosphere(2, (hi - lo).min_element() * 0.2, (lo + hi) * 0.5);
    let colours = vec![[200, 60, 40, 255]; ball.vertices.len()];
    let meshes = [(ball, colours)];
    let size = (40, 32);
    let lit = RayMarchSettings {
        lighting: true,
        ..intensity_settings(RenderMode::Dvr)
    };
    for (name, s) in [("lit dvr", lit), ("iso", intensity_settings(RenderMode::Iso))] {
        let plan = cortexlens_render::raymarch::PassPlan::for_box(
            &cortexlens_render::raymarch::DataBox::of_bounds(field.bounds_min, field.bounds_max),
            &s,
            gpu_field.loop_iterations(),
            Some(s.mode),
        );
        let (gpu, drawn) =
            render_ray_over_meshes(&mut renderer, size, &camera, &s, RaySource::Field(&gpu_field), &meshes);
        let eval = |p: [f32; 3]| field.eval(p);
        let occupied = |p: [f32; 3]| field.occupied(p);
        let cpu_field = CpuField {
            eval: &eval,
            bounds: (field.bounds_min, field.bounds_max),
            density_rgb: false,
            occupied: Some(&occupied as &dyn Fn([f32; 3]) -> bool),
        };
        let view = View {
            width: size.0,
            height: size.1,
            camera: &camera,
            meshes: Some(&drawn),
        };
        let cpu = render_field_in(view, &cpu_field, &s);
        let allowed = Allowed {
            edge: 60,
            min_drawn: 200,
        };
        let background = s.background.map(|c| (c * 255.0).round() as u8);
        compare(
            &format!("field over a mesh, {name} ({} passes)", plan.passes),
            &gpu,
            &cpu,
            size,
            background,
            allowed,
        );
        assert!(drawn.coverage.iter().any(Option::is_some), "the mesh is in view");
        let plain = render_field(size.0, size.1, &camera, &cpu_field, &s);
        let changed = plain
            .chunks_exact(4)
            .zip(cpu.chunks_exact(4))
            .filter(|(a, b)| a != b)
            .count();
        assert!(changed > 20, "{name}: the mesh changed {changed} pixels");
        if name == "lit dvr" {
            assert!(plan.passes > 1, "lit DVR takes several passes: {plan:?}");
        }
    }
}
