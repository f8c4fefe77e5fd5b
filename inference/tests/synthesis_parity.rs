//! Synthesis models, schedulers and BrainDiVE's guidance step against PyTorch/diffusers
//! (`fixtures/synthesis_tiny/reference`, from `make_synthesis_fixtures.py`): forwards to 1e-4 and
//! gradients (vector–Jacobian products) to 1e-3, both relative to the reference's largest value;
//! scheduler timesteps exactly and step outputs to 1e-5.
//!
//! Runs on `cortexlens_inference::device()`: the CPU, or CUDA in a `cuda` build (f32 models).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Tensor, Var};
use cortexlens_inference::device;
use cortexlens_inference::encoder::file::load_encoder;
use cortexlens_inference::synthesis::diff::BilinearResize;
use cortexlens_inference::synthesis::guidance::braindive_eps;
use cortexlens_inference::synthesis::objective::{Chain, Objective};
use cortexlens_inference::synthesis::scheduler::{DpmSolver, Euler, ScheduleConfig};
use cortexlens_inference::synthesis::{SynthesisModels, load_clip_vision};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/synthesis_tiny")
}

fn refs(name: &str) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(root().join("reference").join(name), &device()).unwrap()
}

fn reference_json() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("reference/reference.json")).unwrap()).unwrap()
}

/// max |a − b| / max |b|.
fn rel_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    let a = a
        .to_dtype(DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let b = b
        .to_dtype(DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
    a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max) / scale
}

fn check(what: &str, ours: &Tensor, theirs: &Tensor, tolerance: f32) {
    let d = rel_diff(ours, theirs);
    eprintln!("{what}: relative max |Δ| {d:.2e}");
    assert!(
        d <= tolerance,
        "{what} differs by {d:.2e} (relative), tolerance {tolerance:.0e}"
    );
}

/// `(f(x), rᵀ ∂f/∂x)` with candle's autograd.
fn vjp(x: &Tensor, r: &Tensor, f: impl Fn(&Tensor) -> candle_core::Result<Tensor>) -> (Tensor, Tensor) {
    let var = Var::from_tensor(x).unwrap();
    let y = f(var.as_tensor()).unwrap().to_dtype(DType::F32).unwrap();
    let loss = (&y * r).unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    let g = grads
        .get(var.as_tensor())
        .expect("the gradient reaches the input")
        .clone();
    (y, g)
}

fn models(name: &str) -> SynthesisModels {
    SynthesisModels::load_with_dtype(&root().join(name), &root().join("clip"), &device(), DType::F32).unwrap()
}

#[test]
fn clip_towers_match_transformers_forward_and_backward() {
    let r = refs("components.safetensors");
    for (name, folder) in [("clip", "clip"), ("clip_quick", "clip_quick_gelu")] {
        let clip = load_clip_vision(&root().join(folder), &device()).unwrap();
        let (y, g) = vjp(&r[&format!("{name}.pixels")], &r[&format!("{name}.r")], |p| {
            clip.forward(p)
        });
        check(&format!("{folder} embeddings"), &y, &r[&format!("{name}.embeds")], 1e-4);
        check(&format!("{folder} pixel VJP"), &g, &r[&format!("{name}.vjp")], 1e-3);
    }
}

#[test]
fn bilinear_resize_matches_interpolate() {
    let r = refs("components.safetensors");
    for name in ["down", "up"] {
        let x = &r[&format!("resize.{name}.x")];
        let want = &r[&format!("resize.{name}.y")];
        let (_, _, h, w) = x.dims4().unwrap();
        let (_, _, oh, ow) = want.dims4().unwrap();
        let resize = BilinearResize::new((h, w), (oh, ow), DType::F32, &device()).unwrap();
        let (y, g) = vjp(x, &r[&format!("resize.{name}.r")], |t| resize.forward(t));
        check(&format!("resize {name}"), &y, want, 1e-5);
        check(
            &format!("resize {name} VJP"),
            &g,
            &r[&format!("resize.{name}.vjp")],
            1e-5,
        );
    }
}

#[test]
fn unet_vae_and_conditioning_match_diffusers() {
    let r = refs("components.safetensors");
    let timesteps: Vec<u64> = reference_json()["unet_timesteps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    for (name, folder) in [("sd", "sd"), ("turbo", "sd_turbo")] {
        let m = models(folder);
        // sd/ computes the empty prompt with its text encoder, sd_turbo/ reads it precomputed.
        check(
            &format!("{folder} conditioning"),
            m.conditioning(),
            &r["conditioning"],
            1e-4,
        );
        let (y, g) = vjp(&r[&format!("{name}.vae.z")], &r[&format!("{name}.vae.r")], |z| {
            m.vae().decode(z)
        });
        check(
            &format!("{folder} VAE decode"),
            &y,
            &r[&format!("{name}.vae.image")],
            1e-4,
        );
        check(&format!("{folder} VAE VJP"), &g, &r[&format!("{name}.vae.vjp")], 1e-3);
        for t in &timesteps {
            let key = |k: &str| format!("{name}.unet{t}.{k}");
            let (y, g) = vjp(&r[&key("x")], &r[&key("r")], |x| {
                m.unet().forward(x, *t as f64, m.conditioning())
            });
            check(&format!("{folder} UNet t={t}"), &y, &r[&key("eps")], 1e-4);
            check(&format!("{folder} UNet VJP t={t}"), &g, &r[&key("vjp")], 1e-3);
        }
    }
}

fn region(name: &str) -> Vec<usize> {
    reference_json()[name]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn whole_chain_score_and_gradient_match_pytorch() {
    let r = refs("components.safetensors");
    let m = models("sd");
    let encoder = load_encoder(&root().join("encoder.safetensors")).unwrap();
    let objective = Objective::new(&encoder, &region("region_a"), m.clip_dim(), &device()).unwrap();
    let size = reference_json()["size"].as_u64().unwrap() as usize;
    let chain = Chain::new(&m, (size, size)).unwrap();
    let one = Tensor::ones(1, DType::F32, &device()).unwrap();
    let (score, grad) = vjp(&r["chain.z"], &one, |z| chain.score_latents(&objective, z));
    check("region score", &score, &r["chain.score"], 1e-4);
    check("region score gradient", &grad, &r["chain.grad"], 1e-3);
}

#[test]
fn schedulers_match_diffusers() {
    let s = refs("schedulers.safetensors");
    let text = std::fs::read_to_string(root().join("sd/scheduler/scheduler_config.json")).unwrap();
    let sd = ScheduleConfig::from_json(&text).unwrap();
    let theirs = s["alphas_cumprod"].to_vec1::<f32>().unwrap();
    let worst = sd
        .alphas_cumprod
        .iter()
        .zip(&theirs)
        .map(|(a, b)| ((a - b) / b).abs())
        .fold(0f32, f32::max);
    eprintln!("alphas_cumprod: relative max |Δ| {worst:.2e}");
    assert!(worst <= 1e-6, "alphas_cumprod differ by {worst:e}");

    for steps in [50usize, 20, 10, 5, 1] {
        let key = |k: &str| format!("dpm{steps}.{k}");
        let mut dpm = DpmSolver::new(&sd, steps);
        let want: Vec<usize> = s[&key("timesteps")]
            .to_vec1::<i64>()
            .unwrap()
            .iter()
            .map(|&t| t as usize)
            .collect();
        assert_eq!(
            dpm.timesteps(),
            want.as_slice(),
            "DPM-Solver++ timesteps for {steps} steps"
        );
        let eps = &s[&key("eps")];
        let xs = &s[&key("x")];
        let mut x = s[&key("x0")].clone();
        for i in 0..steps {
            x = dpm.step(&eps.get(i).unwrap(), &x).unwrap();
            check(
                &format!("DPM-Solver++ {steps} steps, step {i}"),
                &x,
                &xs.get(i).unwrap(),
                1e-5,
            );
        }
    }

    let text = std::fs::read_to_string(root().join("sd_turbo/scheduler/scheduler_config.json")).unwrap();
    let turbo = ScheduleConfig::from_json(&text).unwrap();
    assert!(turbo.is_euler() && !sd.is_euler());
    for steps in [1usize, 2, 3, 4] {
        let key = |k: &str| format!("euler{steps}.{k}");
        let mut euler = Euler::new(&turbo, steps, None);
        let want = s[&key("timesteps")].to_vec1::<f32>().unwrap();
        let ours: Vec<f32> = euler.timesteps().iter().map(|&t| t as f32).collect();
        assert_eq!(ours, want, "Euler timesteps for {steps} steps");
        let sigmas = s[&key("sigmas")].to_vec1::<f32>().unwrap();
        for (i, want) in sigmas.iter().enumerate() {
            assert!((euler.sigma(i) - want).abs() <= 1e-5 * want.max(1.0), "sigma {i}");
        }
        let init = s[&key("init_noise_sigma")].to_vec1::<f32>().unwrap()[0];
        assert!((euler.init_noise_sigma(false) as f32 - init).abs() <= 1e-5 * init);
        let mut x = s[&key("x0")].get(0).unwrap().unsqueeze(0).unwrap();
        for i in 0..steps {
            check(
                &format!("Euler {steps} steps, model input {i}"),
                &euler.scale_model_input(&x).unwrap(),
                &s[&key("inputs")].get(i).unwrap(),
                1e-5,
            );
            x = euler.step(&s[&key("eps")].get(i).unwrap(), &x).unwrap();
            check(
                &format!("Euler {steps} steps, step {i}"),
                &x,
                &s[&key("x")].get(i).unwrap(),
                1e-5,
            );
        }
    }
}

#[test]
fn braindive_guided_steps_match_pytorch() {
    let b = refs("braindive.safetensors");
    let json = reference_json();
    let m = models("sd");
    let encoder = load_encoder(&root().join("encoder.safetensors")).unwrap();
    let objective = Objective::new(&encoder, &region("region_a"), m.clip_dim(), &device()).unwrap();
    let size = json["size"].as_u64().unwrap() as usize;
    let chain = Chain::new(&m, (size, size)).unwrap();
    let scale = json["guided_scale"].as_f64().unwrap() as f32;
    let mut dpm = DpmSolver::new(m.schedule(), 50);
    let mut x = b["noise"].clone();
    for i in 0..json["guided_steps"].as_u64().unwrap() as usize {
        let t = dpm.timesteps()[i];
        let (guided, eps) = braindive_eps(&m, &chain, &objective, &x, t, scale).unwrap();
        check(&format!("step {i} (t={t}): ε"), &eps, &b[&format!("step{i}.eps")], 1e-4);
        check(
            &format!("step {i}: guided ε′"),
            &guided,
            &b[&format!("step{i}.eps_guided")],
            1e-3,
        );
        x = dpm.step(&guided, &x).unwrap();
        check(&format!("step {i}: next latent"), &x, &b[&format!("step{i}.x")], 1e-3);
    }
}
