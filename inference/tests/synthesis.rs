//! Preferred-image synthesis on the tiny models of `fixtures/synthesis_tiny`: gradients against
//! finite differences (a silently cut graph would fail), the objective in each mode, region
//! specificity, errors, cancel and progress.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use candle_core::{DType, Tensor, Var};
use cortexlens_inference::encoder::file::load_encoder;
use cortexlens_inference::encoder::{Encoder, MaskRule};
use cortexlens_inference::synthesis::guidance::braindive_eps;
use cortexlens_inference::synthesis::objective::{Chain, Objective};
use cortexlens_inference::synthesis::{
    SynthesisConfig, SynthesisError, SynthesisMode, SynthesisModels, SynthesisProgress, roi_mean, synthesize,
};
use cortexlens_inference::{Device, device};

const SIZE: usize = 40;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/synthesis_tiny")
}

fn models(name: &str) -> SynthesisModels {
    SynthesisModels::load(&root().join(name), &root().join("clip"), &device()).unwrap()
}

fn encoder() -> Encoder {
    load_encoder(&root().join("encoder.safetensors")).unwrap()
}

/// Regions A and B from `roi.nii.gz` (labels 1 and 2), as the app selects them.
fn regions(encoder: &Encoder) -> (Vec<usize>, Vec<usize>) {
    let roi = match cortexlens_data::load_path(&root().join("roi.nii.gz"), &mut |_| {}).unwrap() {
        cortexlens_data::Loaded::Volume(v) => v,
        _ => panic!("roi.nii.gz is a volume"),
    };
    let a = encoder.voxels_in_mask(&roi, |v| MaskRule::Label(1.0).keeps(v)).unwrap();
    let b = encoder.voxels_in_mask(&roi, |v| MaskRule::Label(2.0).keeps(v)).unwrap();
    (a, b)
}

fn config(mode: SynthesisMode) -> SynthesisConfig {
    SynthesisConfig {
        size: SIZE,
        preview_every: 0,
        ..SynthesisConfig::new(mode)
    }
}

fn run(models: &SynthesisModels, voxels: &[usize], config: &SynthesisConfig, seed: u64) -> f32 {
    let never = AtomicBool::new(false);
    synthesize(models, &encoder(), voxels, config, seed, &never, &mut |_| {})
        .unwrap()
        .roi_mean
}

/// ⟨∇f(z), v⟩ by autograd and by central differences of `f` in f32 (step 4e-3, Richardson-
/// extrapolated with the half step: the tiny random networks are far from linear at 1e-2).
fn directional(f: &dyn Fn(&Tensor) -> candle_core::Result<Tensor>, z: &Tensor, v: &Tensor) -> (f32, f32) {
    let var = Var::from_tensor(z).unwrap();
    let value = f(var.as_tensor()).unwrap().sum_all().unwrap();
    let grads = value.backward().unwrap();
    let g = grads.get(var.as_tensor()).expect("a gradient reaches the latent");
    let analytic = (g * v).unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap();
    let at = |s: f64| {
        f(&(z + (v * s).unwrap()).unwrap())
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    };
    let central = |h: f64| (at(h) - at(-h)) / (2.0 * h as f32);
    let h = 4e-3;
    (analytic, (4.0 * central(h / 2.0) - central(h)) / 3.0)
}

fn random(seed: u64, dims: (usize, usize, usize, usize), device: &Device) -> Tensor {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let n = dims.0 * dims.1 * dims.2 * dims.3;
    let values: Vec<f32> = (0..n)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        })
        .collect();
    Tensor::from_vec(values, dims, device).unwrap()
}

/// The chain from a scaled latent to the region mean, with the clamp to [0, 1] frozen at `at`:
/// pixels clamped there stay at their clamped value, the others pass through. It equals the real
/// chain at `at` and has the same derivative there (the clamp's derivative is that mask), but no
/// kinks nearby, so finite differences converge (the tiny random VAE puts ~75 of its 4800 pixels
/// within 0.05 of 0 or 1, and steps across those kinks bias differences by a few per cent).
fn frozen_chain<'a>(
    m: &'a SynthesisModels,
    chain: &'a Chain<'a>,
    objective: &'a Objective,
    at: &Tensor,
) -> impl Fn(&Tensor) -> candle_core::Result<Tensor> + 'a {
    let scaling = m.vae().config().scaling_factor;
    let unclamped =
        move |z: &Tensor| -> candle_core::Result<Tensor> { (m.vae().decode(&(z / scaling)?)? / 2.0)? + 0.5 };
    let q = unclamped(at).unwrap();
    let inside = q.ge(0f32).unwrap().to_dtype(DType::F32).unwrap() * q.le(1f32).unwrap().to_dtype(DType::F32).unwrap();
    let inside = inside.unwrap();
    let outside = (q.clamp(0f32, 1f32).unwrap() * (1.0 - &inside).unwrap()).unwrap();
    move |z: &Tensor| chain.score_images(objective, &((unclamped(z)? * &inside)? + &outside)?)
}

#[test]
fn gradients_of_the_whole_chain_match_finite_differences() {
    let m = models("sd");
    let enc = encoder();
    let (a, _) = regions(&enc);
    let objective = Objective::new(&enc, &a, m.clip_dim(), &device()).unwrap();
    let chain = Chain::new(&m, (SIZE, SIZE)).unwrap();
    let dims = (1, 4, SIZE / 2, SIZE / 2);
    let close = |what: &str, analytic: f32, numeric: f32| {
        eprintln!("{what}: autograd {analytic:.6}, finite differences {numeric:.6}");
        assert!(
            (analytic - numeric).abs() <= 1e-2 * numeric.abs().max(1e-2),
            "{what}: {analytic} vs {numeric}"
        );
    };
    // latent → VAE → clamp → resize → CLIP normalisation → CLIP → unit norm → region mean
    let z = (random(1, dims, &device()) * 0.8).unwrap();
    let frozen = frozen_chain(&m, &chain, &objective, &z);
    for seed in [2, 3] {
        let v = random(seed, dims, &device());
        let (analytic, _) = directional(&|z| chain.score_latents(&objective, z), &z, &v);
        let (frozen_analytic, numeric) = directional(&frozen, &z, &v);
        assert!((analytic - frozen_analytic).abs() <= 1e-6 * analytic.abs().max(1.0));
        close("chain", analytic, numeric);
    }
    // BrainDiVE's objective as a function of x_t, through the UNet as well; the guided step's
    // ε − ε′ is √(1−ᾱ)·scale·∇ of it.
    let t = 500;
    let alpha = f64::from(m.schedule().alphas_cumprod[t]);
    let fac = (1.0 - alpha).sqrt();
    let mix = |x: &Tensor| -> candle_core::Result<Tensor> {
        let eps = m.unet().forward(x, t as f64, m.conditioning())?;
        let x0 = ((x - (eps * fac)?)? / alpha.sqrt())?;
        (x0 * fac)? + (x * (1.0 - fac))?
    };
    let x = random(4, dims, &device());
    let v = random(5, dims, &device());
    let frozen = frozen_chain(&m, &chain, &objective, &mix(&x).unwrap());
    let (analytic, numeric) = directional(&|x| frozen(&mix(x)?), &x, &v);
    close("through the UNet", analytic, numeric);
    let (guided, eps) = braindive_eps(&m, &chain, &objective, &x, t, 1.0).unwrap();
    let term = ((eps - guided).unwrap() / fac).unwrap();
    let from_step = (term * &v).unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap();
    assert!(
        (from_step - analytic).abs() <= 1e-4 * analytic.abs().max(1.0),
        "{from_step} vs {analytic}"
    );
}

#[test]
fn guidance_raises_the_region_response_in_every_mode() {
    let sd = models("sd");
    let turbo = models("sd_turbo");
    let enc = encoder();
    let (a, _) = regions(&enc);
    for (name, m, mode) in [
        ("braindive", &sd, SynthesisMode::BrainDive),
        ("fast", &turbo, SynthesisMode::Fast),
        ("rerank", &turbo, SynthesisMode::Rerank),
    ] {
        let mut guided = config(mode);
        if mode == SynthesisMode::BrainDive {
            guided.steps = 20;
        }
        let unguided = SynthesisConfig {
            scale: 0.0,
            candidates: 1,
            ..guided.clone()
        };
        for seed in [11, 12, 13] {
            let (g, u) = (run(m, &a, &guided, seed), run(m, &a, &unguided, seed));
            eprintln!("{name} seed {seed}: guided {g:.4}, unguided {u:.4}");
            assert!(g > u, "{name} seed {seed}: guided {g} ≤ unguided {u}");
        }
    }
}

#[test]
fn a_region_s_images_prefer_that_region() {
    let sd = models("sd");
    let turbo = models("sd_turbo");
    let enc = encoder();
    let (a, b) = regions(&enc);
    for (name, m, mode) in [
        ("braindive", &sd, SynthesisMode::BrainDive),
        ("fast", &turbo, SynthesisMode::Fast),
    ] {
        let mut c = config(mode);
        if mode == SynthesisMode::BrainDive {
            c.steps = 20;
        }
        let never = AtomicBool::new(false);
        for (target, other, label) in [(&a, &b, "A"), (&b, &a, "B")] {
            let image = synthesize(m, &enc, target, &c, 21, &never, &mut |_| {}).unwrap();
            let on_other = roi_mean(m, &enc, other, &image.image).unwrap();
            eprintln!("{name}, region {label}: own {:.4}, other {on_other:.4}", image.roi_mean);
            assert!(
                image.roi_mean > on_other,
                "{name} {label}: {} ≤ {on_other}",
                image.roi_mean
            );
        }
    }
}

#[test]
fn results_progress_previews_and_cancel() {
    let m = models("sd_turbo");
    let enc = encoder();
    let (a, _) = regions(&enc);
    let c = SynthesisConfig {
        preview_every: 1,
        ..config(SynthesisMode::Fast)
    };
    let mut reports: Vec<SynthesisProgress> = Vec::new();
    let never = AtomicBool::new(false);
    let out = synthesize(&m, &enc, &a, &c, 5, &never, &mut |p| reports.push(p.clone())).unwrap();
    assert_eq!((out.seed, out.image.dimensions()), (5, (SIZE as u32, SIZE as u32)));
    assert_eq!(reports.iter().map(|p| p.step).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    assert!(reports.iter().all(|p| p.steps == 4));
    assert_eq!(reports.iter().filter(|p| p.preview.is_some()).count(), 3);
    // The score is the saved image's, and the same seed gives the same image.
    assert_eq!(roi_mean(&m, &enc, &a, &out.image).unwrap(), out.roi_mean);
    let again = synthesize(&m, &enc, &a, &c, 5, &never, &mut |_| {}).unwrap();
    assert_eq!(again.image, out.image);
    // Rerank reports the winning candidate's seed and counts steps over all candidates.
    let r = SynthesisConfig {
        candidates: 3,
        ..config(SynthesisMode::Rerank)
    };
    let mut last = 0;
    let best = synthesize(&m, &enc, &a, &r, 100, &never, &mut |p| last = p.step).unwrap();
    assert!((100..103).contains(&best.seed) && last == 12);
    for seed in 100..103 {
        let single = SynthesisConfig {
            candidates: 1,
            ..r.clone()
        };
        assert!(run(&m, &a, &single, seed) <= best.roi_mean);
    }

    let cancel = AtomicBool::new(true);
    let cancelled = synthesize(&m, &enc, &a, &c, 5, &cancel, &mut |_| {});
    assert!(matches!(cancelled, Err(SynthesisError::Cancelled)));
}

#[test]
fn bad_inputs_are_typed_errors() {
    let m = models("sd_turbo");
    let enc = encoder();
    let never = AtomicBool::new(false);
    let c = config(SynthesisMode::Fast);
    let err = synthesize(&m, &enc, &[], &c, 0, &never, &mut |_| {}).unwrap_err();
    assert!(
        matches!(err, SynthesisError::EmptyRegion { encoder_voxels: 32 }),
        "{err}"
    );
    assert!(err.to_string().contains("32"), "{err}");
    let err = synthesize(&m, &enc, &[32], &c, 0, &never, &mut |_| {}).unwrap_err();
    assert!(
        matches!(err, SynthesisError::VoxelOutOfRange { voxel: 32, .. }),
        "{err}"
    );
    let odd = SynthesisConfig { size: 42, ..c.clone() };
    let err = synthesize(&m, &enc, &[0], &odd, 0, &never, &mut |_| {}).unwrap_err();
    assert!(matches!(err, SynthesisError::Settings(_)), "{err}");
    assert_eq!((m.native_size(), m.size_multiple(), m.clip_dim()), (32, 4, 32));
    assert!(m.is_turbo() && !models("sd").is_turbo());

    // An encoder on 16-d features cannot read a 32-d CLIP.
    let narrow = Encoder::new(
        vec![0.1; 16],
        vec![0.0],
        16,
        vec![[0, 0, 0]],
        enc.grid_affine(),
        [4, 4, 4],
        "x",
        true,
    )
    .unwrap();
    let err = synthesize(&m, &narrow, &[0], &c, 0, &never, &mut |_| {}).unwrap_err();
    assert!(
        matches!(err, SynthesisError::DimensionMismatch { encoder: 16, clip: 32 }),
        "{err}"
    );

    let missing = SynthesisModels::load(Path::new("/nonexistent"), &root().join("clip"), &device());
    assert!(matches!(missing, Err(SynthesisError::Missing { .. })));
    let wrong_clip = SynthesisModels::load(&root().join("sd"), &root().join("sd"), &device());
    assert!(matches!(wrong_clip, Err(SynthesisError::Missing { .. })));
    // A CLIP folder whose config names an activation that is not implemented.
    let dir = std::env::temp_dir().join(format!("cortexlens-synthesis-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = std::fs::read_to_string(root().join("clip/config.json")).unwrap();
    std::fs::write(dir.join("config.json"), config.replace("\"gelu\"", "\"relu\"")).unwrap();
    std::fs::copy(root().join("clip/model.safetensors"), dir.join("model.safetensors")).unwrap();
    let bad = SynthesisModels::load(&root().join("sd"), &dir, &device());
    assert!(matches!(bad, Err(SynthesisError::Config { .. })), "{:?}", bad.err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn half_precision_models_run_and_stay_close() {
    // f16 UNet/VAE (the CUDA setting) on the CPU: the guided step runs and agrees with f32.
    let full = models("sd");
    let half = SynthesisModels::load_with_dtype(&root().join("sd"), &root().join("clip"), &device(), DType::F16);
    let half = match half {
        Ok(h) => h,
        Err(e) => panic!("f16 load: {e}"),
    };
    let enc = encoder();
    let (a, _) = regions(&enc);
    let x = random(9, (1, 4, SIZE / 2, SIZE / 2), &device());
    let mut out = Vec::new();
    for m in [&full, &half] {
        let objective = Objective::new(&enc, &a, m.clip_dim(), &device()).unwrap();
        let chain = Chain::new(m, (SIZE, SIZE)).unwrap();
        out.push(braindive_eps(m, &chain, &objective, &x, 500, 130.0).unwrap().0);
    }
    let diff = (&out[0] - &out[1])
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    let scale = out[0].abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
    eprintln!("f16 vs f32 guided ε′: {:.2e} relative", diff / scale);
    assert!(diff <= 0.05 * scale, "{diff} vs {scale}");
}
