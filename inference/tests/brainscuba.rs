//! The BrainSCUBA pipeline end to end on the tiny fixture models: encoder voxels → projection onto
//! an embedding pool → ClipCap + GPT-2 captions.
//!
//! Runs on `cortexlens_inference::device()`: the CPU, or CUDA in a `cuda` build on a machine with a
//! GPU (`tools/gpu/check.sh`).

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use cortexlens_inference::brainscuba::{BrainScubaError, Stage, caption_voxels};
use cortexlens_inference::caption::{Captioner, DecodeConfig};
use cortexlens_inference::encoder::Encoder;
use cortexlens_inference::projection::{EmbeddingPool, ProjectionConfig, project};
use cortexlens_inference::{Tensor, device};
use glam::{DMat4, DVec3};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Three voxels whose weights are pool entries 3, 10 and 20 (so each projects near that entry).
fn encoder(pool: &EmbeddingPool) -> Encoder {
    let dim = pool.dim();
    let weight: Vec<f32> = [3, 10, 20].iter().flat_map(|&i| pool.embedding(i).unwrap()).collect();
    let affine = DMat4::from_translation(DVec3::new(-10.0, -20.0, -30.0)) * DMat4::from_scale(DVec3::splat(2.0));
    Encoder::new(
        weight,
        vec![0.0; 3],
        dim,
        vec![[1, 2, 3], [4, 5, 6], [0, 0, 7]],
        affine,
        [8, 8, 8],
        "tiny",
        true,
    )
    .unwrap()
}

#[test]
fn captions_equal_projecting_then_decoding() {
    let pool = EmbeddingPool::open(&fixtures().join("clip_tiny/pool.safetensors")).unwrap();
    let captioner = Captioner::load(&fixtures().join("clipcap_tiny"), &device()).unwrap();
    let encoder = encoder(&pool);
    let projection = ProjectionConfig {
        top_k: 2,
        block: 7,
        ..ProjectionConfig::default()
    };
    let decode = DecodeConfig {
        max_tokens: 12,
        ..DecodeConfig::default()
    };
    let never = AtomicBool::new(false);
    let mut stages = Vec::new();
    let captions = caption_voxels(
        &encoder,
        &[2, 0],
        &pool,
        &captioner,
        &projection,
        &decode,
        &never,
        &mut |stage, done, total| stages.push((stage, done, total)),
    )
    .unwrap();
    assert_eq!(captions.len(), 2);
    assert_eq!((captions[0].voxel, captions[0].ijk), (2, [0, 0, 7]));
    assert_eq!(captions[0].world_mm, [-10.0, -20.0, -16.0]);
    assert_eq!(captions[1].ijk, [1, 2, 3]);
    assert_eq!(
        captions[0].top[0].0, 20,
        "the voxel's own pool entry is the most similar"
    );
    assert_eq!(captions[1].top[0].0, 3);
    assert!(
        (captions[1].top[0].1 - 1.0).abs() < 1e-3,
        "cosine of an entry with itself"
    );
    assert!(stages.iter().any(|s| s.0 == Stage::Projecting) && stages.last().unwrap().0 == Stage::Captioning);

    let weights: Vec<f32> = [2, 0].iter().flat_map(|&v| encoder.voxel_weight(v).to_vec()).collect();
    let projected = project(&weights, &pool, &projection, &device(), &never, &mut |_, _| {}).unwrap();
    let prefixes = Tensor::from_slice(&projected.projected, (2, pool.dim()), &device()).unwrap();
    let direct = captioner.caption(&prefixes, &decode, &never, &mut |_| {}).unwrap();
    assert_eq!(captions.iter().map(|c| c.caption.clone()).collect::<Vec<_>>(), direct);
    assert!(direct.iter().all(|c| !c.is_empty()), "{direct:?}");
}

#[test]
fn mismatches_and_cancel_are_errors() {
    let pool = EmbeddingPool::open(&fixtures().join("clip_tiny/pool.safetensors")).unwrap();
    let captioner = Captioner::load(&fixtures().join("clipcap_tiny"), &device()).unwrap();
    let encoder = encoder(&pool);
    let run = |voxels: &[usize], cancel: bool| {
        caption_voxels(
            &encoder,
            voxels,
            &pool,
            &captioner,
            &ProjectionConfig::default(),
            &DecodeConfig::default(),
            &AtomicBool::new(cancel),
            &mut |_, _, _| {},
        )
    };
    assert!(matches!(run(&[], false), Err(BrainScubaError::Mismatch(_))));
    assert!(matches!(run(&[3], false), Err(BrainScubaError::Mismatch(m)) if m.contains("voxel 3")));
    assert!(run(&[0], true).is_err(), "cancelled");
    let wide = Encoder::new(
        vec![0.5; 64],
        vec![0.0],
        64,
        vec![[0, 0, 0]],
        DMat4::IDENTITY,
        [1, 1, 1],
        "wide",
        true,
    )
    .unwrap();
    let err = caption_voxels(
        &wide,
        &[0],
        &pool,
        &captioner,
        &ProjectionConfig::default(),
        &DecodeConfig::default(),
        &AtomicBool::new(false),
        &mut |_, _, _| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("64"), "{err}");
}
