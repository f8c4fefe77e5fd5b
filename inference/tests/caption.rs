//! The caption decoder against ClipCap and transformers (fixtures from
//! `tests/fixtures/make_caption_fixtures.py`): mapper and logits to 1e-4, beam-search and greedy
//! tokens and texts exactly, the key/value cache against full re-runs, and typed errors for broken
//! decoder directories.
//!
//! Runs on `cortexlens_inference::device()`: the CPU, or CUDA in a `cuda` build on a machine with a
//! GPU (`tools/gpu/check.sh`).

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use cortexlens_inference::caption::{
    CaptionError, CaptionProgress, Captioner, DecodeConfig, DecoderConfig, Gpt2, KvCache, Mapper, Strategy, Weights,
};
use cortexlens_inference::{Tensor, device};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn tiny() -> PathBuf {
    fixtures().join("clipcap_tiny")
}

fn reference() -> std::collections::HashMap<String, Tensor> {
    candle_core::safetensors::load(tiny().join("reference.safetensors"), &device()).unwrap()
}

fn reference_json() -> Value {
    serde_json::from_str(&std::fs::read_to_string(tiny().join("reference.json")).unwrap()).unwrap()
}

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

fn tiny_gpt() -> Gpt2 {
    let config = DecoderConfig::from_file(&tiny().join("config.json")).unwrap();
    let weights = Weights::from_safetensors(&tiny().join("model.safetensors"), &device()).unwrap();
    Gpt2::load(&config.gpt2, &weights, "gpt.transformer.").unwrap()
}

fn captioner() -> Captioner {
    Captioner::load(&tiny(), &device()).unwrap()
}

fn ids(value: &Value) -> Vec<u32> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect()
}

fn settings(strategy: Strategy, max_tokens: usize) -> DecodeConfig {
    DecodeConfig {
        strategy,
        max_tokens,
        ..DecodeConfig::default()
    }
}

#[test]
fn mapper_matches_clipcap() {
    let config = DecoderConfig::from_file(&tiny().join("config.json")).unwrap();
    let weights = Weights::from_safetensors(&tiny().join("model.safetensors"), &device()).unwrap();
    let mapper = Mapper::load(&config, &weights).unwrap();
    let r = reference();
    let diff = max_diff(&mapper.forward(&r["prefixes"]).unwrap(), &r["mapped"]);
    eprintln!("mapper: max |diff| {diff:e}");
    assert!(diff < 1e-4, "mapper differs by {diff}");
}

#[test]
fn logits_from_embeddings_match_transformers() {
    let gpt = tiny_gpt();
    let r = reference();
    let logits = gpt.forward_embeds(&r["logits.embeds"], &mut KvCache::new()).unwrap();
    let diff = max_diff(&logits, &r["logits.expected"]);
    eprintln!("logits from embeddings: max |diff| {diff:e}");
    assert!(diff < 1e-4, "logits differ by {diff}");
    // The token part of the embeddings is `wte` of the tokens.
    let tokens = r["logits.tokens"]
        .to_dtype(candle_core::DType::U32)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let embedded = gpt.embed_tokens(&tokens).unwrap();
    let expected = r["logits.embeds"].narrow(1, 10, 4).unwrap();
    assert_eq!(max_diff(&embedded, &expected), 0.0);
}

#[test]
fn cached_steps_equal_full_runs() {
    let gpt = tiny_gpt();
    let r = reference();
    let embeds = &r["logits.embeds"];
    let expected = gpt.forward_embeds(embeds, &mut KvCache::new()).unwrap();
    // Prefix in one call, then one token at a time.
    let mut cache = KvCache::new();
    let mut parts = vec![
        gpt.forward_embeds(&embeds.narrow(1, 0, 10).unwrap(), &mut cache)
            .unwrap(),
    ];
    for t in 10..14 {
        parts.push(
            gpt.forward_embeds(&embeds.narrow(1, t, 1).unwrap(), &mut cache)
                .unwrap(),
        );
    }
    assert_eq!(cache.len(), 14);
    let stepped = Tensor::cat(&parts, 1).unwrap();
    assert!(max_diff(&stepped, &expected) < 1e-5);
    // Several tokens after a cached prefix (the causal mask with an offset).
    let mut cache = KvCache::new();
    gpt.forward_embeds(&embeds.narrow(1, 0, 9).unwrap(), &mut cache)
        .unwrap();
    let rest = gpt
        .forward_embeds(&embeds.narrow(1, 9, 5).unwrap(), &mut cache)
        .unwrap();
    assert!(max_diff(&rest, &expected.narrow(1, 9, 5).unwrap()) < 1e-5);
    // Reordering a batched cache reorders (and duplicates) the sequences.
    let rows = Tensor::new(&[1u32, 0, 1], &device()).unwrap();
    let batch = Tensor::cat(&[embeds, &(embeds * 0.5).unwrap()], 0).unwrap();
    let mut cache = KvCache::new();
    gpt.forward_embeds(&batch.narrow(1, 0, 13).unwrap(), &mut cache)
        .unwrap();
    cache.select(&rows).unwrap();
    assert_eq!(cache.batch(), 3);
    let last = batch.narrow(1, 13, 1).unwrap().contiguous().unwrap();
    let got = gpt
        .forward_embeds(&last.index_select(&rows, 0).unwrap(), &mut cache)
        .unwrap();
    let full = gpt
        .forward_embeds(&batch, &mut KvCache::new())
        .unwrap()
        .narrow(1, 13, 1)
        .unwrap();
    let full = full.contiguous().unwrap().index_select(&rows, 0).unwrap();
    assert!(max_diff(&got, &full) < 1e-5);
}

#[test]
fn too_many_positions_is_an_error() {
    let gpt = tiny_gpt();
    let embeds = Tensor::zeros((1, 129, 64), candle_core::DType::F32, &device()).unwrap();
    assert!(matches!(
        gpt.forward_embeds(&embeds, &mut KvCache::new()),
        Err(CaptionError::Input(_))
    ));
}

#[test]
fn beam_search_matches_clipcap_generate_beam() {
    let captioner = captioner();
    let json = reference_json();
    let prefixes = &reference()["prefixes"];
    assert_eq!(
        captioner.tokenizer().stop_token(".").unwrap() as u64,
        json["stop_token"].as_u64().unwrap()
    );
    let no = AtomicBool::new(false);
    for case in json["beam"].as_array().unwrap() {
        let index = case["prefix"].as_u64().unwrap() as usize;
        let max_tokens = case["entry_length"].as_u64().unwrap() as usize;
        let prefix = prefixes.narrow(0, index, 1).unwrap();
        let config = settings(Strategy::Beam { width: 5 }, max_tokens);
        let beams = captioner.generate(&prefix, &config, &no, &mut |_| {}).unwrap();
        let beams = &beams[0];
        let expected_tokens: Vec<Vec<u32>> = case["tokens"].as_array().unwrap().iter().map(ids).collect();
        let got_tokens: Vec<Vec<u32>> = beams.iter().map(|h| h.tokens.clone()).collect();
        assert_eq!(got_tokens, expected_tokens, "prefix {index}, {max_tokens} tokens");
        for (h, s) in beams.iter().zip(case["scores"].as_array().unwrap()) {
            assert!(
                (h.score - s.as_f64().unwrap() as f32).abs() < 1e-4,
                "prefix {index}: score {}",
                h.score
            );
        }
        for (h, text) in beams.iter().zip(case["texts"].as_array().unwrap()) {
            assert_eq!(captioner.tokenizer().decode(&h.tokens).unwrap(), text.as_str().unwrap());
        }
    }
}

#[test]
fn batched_captions_equal_the_reference_and_the_uncached_search() {
    let captioner = captioner();
    let json = reference_json();
    let prefixes = &reference()["prefixes"];
    let expected: Vec<(usize, String)> = json["beam"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|case| case["entry_length"] == 67)
        .map(|case| {
            (
                case["prefix"].as_u64().unwrap() as usize,
                case["texts"][0].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(expected.len(), prefixes.dim(0).unwrap());
    let captions = captioner.caption_batch(prefixes).unwrap();
    for (index, text) in &expected {
        assert_eq!(&captions[*index], text, "prefix {index}");
    }
    // Several batches, with progress, without the cache.
    let config = DecodeConfig {
        use_cache: false,
        batch: 4,
        ..DecodeConfig::default()
    };
    let mut reports = Vec::new();
    let uncached = captioner
        .caption(
            prefixes,
            &config,
            &AtomicBool::new(false),
            &mut |p: &CaptionProgress| reports.push(*p),
        )
        .unwrap();
    assert_eq!(uncached, captions);
    let done: Vec<(usize, usize)> = reports.iter().map(|p| (p.done, p.total)).collect();
    assert_eq!(done, vec![(4, 6), (6, 6)]);
}

#[test]
fn greedy_matches_transformers() {
    let captioner = captioner();
    let json = reference_json();
    let prefixes = &reference()["prefixes"];
    let config = settings(Strategy::Greedy, 67);
    let no = AtomicBool::new(false);
    let out = captioner.generate(prefixes, &config, &no, &mut |_| {}).unwrap();
    let texts = captioner.caption(prefixes, &config, &no, &mut |_| {}).unwrap();
    for case in json["greedy"].as_array().unwrap() {
        let index = case["prefix"].as_u64().unwrap() as usize;
        assert_eq!(out[index][0].tokens, ids(&case["tokens"]), "prefix {index}");
        assert_eq!(texts[index], case["text"].as_str().unwrap());
    }
}

#[test]
fn cancel_stops_captioning() {
    let captioner = captioner();
    let prefixes = &reference()["prefixes"];
    let result = captioner.caption(prefixes, &DecodeConfig::default(), &AtomicBool::new(true), &mut |_| {});
    assert!(matches!(result, Err(CaptionError::Cancelled)));
}

#[test]
fn wrong_prefix_size_is_an_input_error() {
    let captioner = captioner();
    let prefixes = Tensor::zeros((2, 31), candle_core::DType::F32, &device()).unwrap();
    assert!(matches!(
        captioner.caption_batch(&prefixes),
        Err(CaptionError::Input(_))
    ));
    let flat = Tensor::zeros(32, candle_core::DType::F32, &device()).unwrap();
    assert!(matches!(captioner.caption_batch(&flat), Err(CaptionError::Input(_))));
}

#[test]
fn clipcap_pytorch_checkpoint_loads() {
    let dir = fixtures().join("clipcap_tiny_pt");
    let captioner = Captioner::load(&dir, &device()).unwrap();
    let r = candle_core::safetensors::load(dir.join("reference.safetensors"), &device()).unwrap();
    let model = captioner.model();
    let embeds = model.mapper.forward(&r["prefixes"]).unwrap();
    let logits = model.gpt.forward_embeds(&embeds, &mut KvCache::new()).unwrap();
    let diff = max_diff(&logits, &r["logits.expected"]);
    eprintln!("coco_weights.pt logits: max |diff| {diff:e}");
    assert!(diff < 1e-4, "logits differ by {diff}");
}

/// A scratch copy of the tiny decoder directory, with `edit` applied.
fn broken_dir(name: &str, edit: impl FnOnce(&Path)) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cortexlens-caption-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["config.json", "model.safetensors", "tokenizer.json"] {
        std::fs::copy(tiny().join(file), dir.join(file)).unwrap();
    }
    edit(&dir);
    dir
}

fn load_error(name: &str, edit: impl FnOnce(&Path)) -> CaptionError {
    let dir = broken_dir(name, edit);
    let result = Captioner::load(&dir, &device());
    let _ = std::fs::remove_dir_all(&dir);
    match result {
        Ok(_) => panic!("{name}: the broken decoder loaded"),
        Err(e) => e,
    }
}

#[test]
fn missing_files_are_all_named() {
    let dir = std::env::temp_dir().join(format!("cortexlens-caption-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let error = Captioner::load(&dir, &device()).err().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let CaptionError::MissingFiles { missing, .. } = &error else {
        panic!("{error}");
    };
    assert_eq!(
        missing,
        &["config.json", "model.safetensors or coco_weights.pt", "tokenizer.json"]
    );
    assert!(error.to_string().contains("tokenizer.json"));
    let error = load_error("no-tokenizer", |d| {
        std::fs::remove_file(d.join("tokenizer.json")).unwrap()
    });
    assert!(matches!(&error, CaptionError::MissingFiles { missing, .. } if missing == &["tokenizer.json"]));
}

#[test]
fn malformed_decoder_files_give_typed_errors() {
    let error = load_error("config", |d| {
        std::fs::write(d.join("config.json"), "{\"n_layer\": 2").unwrap()
    });
    assert!(matches!(error, CaptionError::Config { .. }), "{error}");

    let error = load_error("weights", |d| {
        std::fs::write(d.join("model.safetensors"), b"not safetensors").unwrap()
    });
    assert!(matches!(error, CaptionError::Weights { .. }), "{error}");

    let error = load_error("tokenizer", |d| std::fs::write(d.join("tokenizer.json"), "{}").unwrap());
    assert!(matches!(error, CaptionError::Tokenizer { .. }), "{error}");

    let error = load_error("shape", |d| {
        let text = std::fs::read_to_string(d.join("config.json")).unwrap();
        std::fs::write(
            d.join("config.json"),
            text.replace("\"prefix_dim\": 32", "\"prefix_dim\": 33"),
        )
        .unwrap();
    });
    assert!(
        matches!(&error, CaptionError::TensorShape { name, .. } if name == "clip_project.model.0.weight"),
        "{error}"
    );

    let error = load_error("tensor", |d| {
        let path = d.join("model.safetensors");
        let mut tensors = candle_core::safetensors::load(&path, &device()).unwrap();
        tensors.remove("gpt.transformer.h.1.mlp.c_fc.bias");
        candle_core::safetensors::save(&tensors, &path).unwrap();
    });
    assert!(
        matches!(&error, CaptionError::MissingTensor { name } if name == "gpt.transformer.h.1.mlp.c_fc.bias"),
        "{error}"
    );

    let error = load_error("vocab", |d| {
        let text = std::fs::read_to_string(d.join("config.json")).unwrap();
        std::fs::write(
            d.join("config.json"),
            text.replace("\"vocab_size\": 300", "\"vocab_size\": 200"),
        )
        .unwrap();
    });
    assert!(matches!(error, CaptionError::Tokenizer { .. }), "{error}");
}
