//! CLIP towers and preprocessing against the transformers fixtures (`fixtures/clip_tiny`).
//!
//! Runs on `cortexlens_inference::device()`: the CPU, or CUDA in a `cuda` build on a machine with a
//! GPU (`tools/gpu/check.sh`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cortexlens_inference::clip::preprocess::{load_image, preprocess};
use cortexlens_inference::clip::{Clip, ClipError, unit_normalize};
use cortexlens_inference::{Tensor, device};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clip_tiny")
}

fn load(name: &str) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(fixtures().join(name), &device()).unwrap()
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    let a = a.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let b = b.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn image_and_text_embeddings_match_transformers() {
    let clip = Clip::load_dir(&fixtures(), &device()).unwrap();
    assert_eq!((clip.image_size(), clip.projection_dim()), (32, 32));
    let io = load("clip_io.safetensors");
    let images = clip.encode_images(&io["pixel_values"]).unwrap();
    let diff = max_abs_diff(&images, &io["image_embeds"]);
    assert!(diff <= 1e-4, "image embeddings differ by {diff}");
    let text = clip.encode_text(&io["input_ids"]).unwrap();
    let text_diff = max_abs_diff(&text, &io["text_embeds"]);
    assert!(text_diff <= 1e-4, "text embeddings differ by {text_diff}");
    eprintln!("max |Δ| image {diff:.2e}, text {text_diff:.2e}");

    let unit = unit_normalize(&images).unwrap();
    let norms = unit.sqr().unwrap().sum(1).unwrap().to_vec1::<f32>().unwrap();
    assert!(norms.iter().all(|n| (n - 1.0).abs() < 1e-5));
}

#[test]
fn bad_inputs_are_errors() {
    let clip = Clip::load_dir(&fixtures(), &device()).unwrap();
    let wrong = Tensor::zeros((1, 3, 16, 16), candle_core::DType::F32, &device()).unwrap();
    assert!(matches!(clip.encode_images(&wrong), Err(ClipError::Input(_))));
    let out_of_vocab = Tensor::new(&[[98i64, 5, 100]], &device()).unwrap();
    assert!(matches!(clip.encode_text(&out_of_vocab), Err(ClipError::Input(_))));
    let too_long = Tensor::zeros((1, 17), candle_core::DType::I64, &device()).unwrap();
    assert!(matches!(clip.encode_text(&too_long), Err(ClipError::Input(_))));
    assert!(matches!(
        Clip::load_dir(Path::new("/nonexistent-clip"), &device()),
        Err(ClipError::Io { .. })
    ));
    // The right config with weights of another size: a candle shape error, not a panic.
    let mut config = cortexlens_inference::clip::from_hf_json("{}").unwrap();
    config.vision_config.num_hidden_layers = 1;
    assert!(Clip::load(&fixtures().join("model.safetensors"), config, &device()).is_err());
}

#[test]
fn preprocessing_matches_clip_image_processor() {
    let reference = load("preprocess.safetensors");
    for name in ["wide", "tall"] {
        let image = load_image(&fixtures().join(format!("preprocess_{name}.png"))).unwrap();
        let ours = Tensor::from_vec(preprocess(&image, 32).unwrap(), (3, 32, 32), &device()).unwrap();
        let diff = max_abs_diff(&ours, &reference[name]);
        eprintln!("{name}: max |Δ| vs CLIPImageProcessor = {diff:e}");
        assert!(diff <= 1e-6, "{name}: preprocessing differs by {diff}");
    }
}
