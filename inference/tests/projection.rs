//! BrainSCUBA's `softmax_convex` projection against NumPy, and streaming invariance.
//!
//! Runs on `cortexlens_inference::device()`: the CPU, or CUDA in a `cuda` build on a machine with a
//! GPU (`tools/gpu/check.sh`).

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use cortexlens_inference::projection::{EmbeddingPool, ProjectionConfig, ProjectionError, project, write_pool};
use cortexlens_inference::{FileError, Tensor, device};
use half::f16;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clip_tiny")
}

fn reference() -> std::collections::HashMap<String, Tensor> {
    candle_core::safetensors::load(fixtures().join("projection_ref.safetensors"), &device()).unwrap()
}

fn f32s(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// Largest |a − b| relative to the largest |b| of the same row.
fn max_rel_diff(a: &[f32], b: &[f32], dim: usize) -> f32 {
    a.chunks(dim)
        .zip(b.chunks(dim))
        .map(|(ra, rb)| {
            let scale = rb.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            ra.iter()
                .zip(rb)
                .map(|(x, y)| (x - y).abs() / scale)
                .fold(0.0, f32::max)
        })
        .fold(0.0, f32::max)
}

fn run(
    weights: &[f32],
    pool: &EmbeddingPool,
    config: &ProjectionConfig,
) -> cortexlens_inference::projection::Projection {
    project(
        weights,
        pool,
        config,
        &device(),
        &AtomicBool::new(false),
        &mut |_, _| {},
    )
    .unwrap()
}

#[test]
fn matches_numpy_softmax_convex() {
    let r = reference();
    let pool = EmbeddingPool::open(&fixtures().join("pool.safetensors")).unwrap();
    assert_eq!((pool.len(), pool.dim()), (300, 32));
    let weights = f32s(&r["weights"]);
    let config = ProjectionConfig {
        top_k: 5,
        block: 64,
        ..ProjectionConfig::default()
    };
    let out = run(&weights, &pool, &config);
    let diff = max_rel_diff(&out.projected, &f32s(&r["projected"]), 32);
    eprintln!("temperature 150: max relative difference {diff:e}");
    assert!(diff <= 1e-4, "projection differs from NumPy by {diff} (relative)");
    let topk = r["topk"].to_vec2::<i64>().unwrap();
    for (v, want) in topk.iter().enumerate() {
        let got: Vec<i64> = out.top[v].iter().map(|&(i, _)| i as i64).collect();
        assert_eq!(&got, want, "voxel {v}");
    }
    assert_eq!(out.top[3][0].0, 17);
    assert!(
        (out.top[3][0].1 - 1.0).abs() < 1e-5,
        "cosine with itself {}",
        out.top[3][0].1
    );

    let t10 = ProjectionConfig {
        temperature: 10.0,
        ..ProjectionConfig::default()
    };
    let out = run(&weights, &pool, &t10);
    let diff = max_rel_diff(&out.projected, &f32s(&r["projected_t10"]), 32);
    eprintln!("temperature 10: max relative difference {diff:e}");
    assert!(diff <= 1e-4, "temperature 10 differs by {diff}");
    assert!(out.top.iter().all(Vec::is_empty));
}

#[test]
fn block_and_batch_sizes_do_not_change_the_result() {
    let r = reference();
    let pool = EmbeddingPool::open(&fixtures().join("pool.safetensors")).unwrap();
    let weights = f32s(&r["weights"]);
    let whole = run(
        &weights,
        &pool,
        &ProjectionConfig {
            block: 300,
            voxel_batch: 7,
            ..ProjectionConfig::default()
        },
    );
    for (block, voxel_batch) in [(1, 1), (7, 3), (128, 2), (299, 7), (1000, 100)] {
        let config = ProjectionConfig {
            block,
            voxel_batch,
            top_k: 3,
            ..ProjectionConfig::default()
        };
        let out = run(&weights, &pool, &config);
        let diff = max_rel_diff(&out.projected, &whole.projected, 32);
        assert!(diff <= 1e-5, "block {block}, batch {voxel_batch}: {diff}");
    }
}

#[test]
fn written_pools_read_back_and_bad_input_is_an_error() {
    let dir = std::env::temp_dir().join(format!("cortexlens-projection-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pool.safetensors");
    // 70,000 rows: more than one write block.
    write_pool(&path, 70_000, 4, |start, rows| {
        for (i, v) in rows.iter_mut().enumerate() {
            *v = f16::from_f32(((start * 4 + i) % 1000) as f32 * 0.01);
        }
    })
    .unwrap();
    let pool = EmbeddingPool::open(&path).unwrap();
    assert_eq!((pool.len(), pool.dim()), (70_000, 4));
    let row = pool.embedding(69_999).unwrap();
    let want: Vec<f32> = (0..4)
        .map(|c| f16::from_f32(((69_999 * 4 + c) % 1000) as f32 * 0.01).to_f32())
        .collect();
    assert_eq!(row, want);
    assert!(pool.embedding(70_000).is_none());

    let never = AtomicBool::new(false);
    let config = ProjectionConfig::default();
    let err = project(&[1.0; 5], &pool, &config, &device(), &never, &mut |_, _| {});
    assert!(matches!(err, Err(ProjectionError::Invalid(_))));
    let cancelled = project(
        &[1.0; 4],
        &pool,
        &config,
        &device(),
        &AtomicBool::new(true),
        &mut |_, _| {},
    );
    assert!(matches!(cancelled, Err(ProjectionError::Cancelled)));
    let mut seen = Vec::new();
    let small = ProjectionConfig {
        block: 30_000,
        ..ProjectionConfig::default()
    };
    project(&[1.0; 4], &pool, &small, &device(), &never, &mut |d, t| {
        seen.push((d, t))
    })
    .unwrap();
    assert_eq!(seen, vec![(30_000, 70_000), (60_000, 70_000), (70_000, 70_000)]);

    // Files that are not pools.
    std::fs::write(dir.join("junk"), b"junk").unwrap();
    assert!(matches!(
        EmbeddingPool::open(&dir.join("junk")),
        Err(ProjectionError::File(FileError::Format { .. }))
    ));
    assert!(matches!(
        EmbeddingPool::open(&fixtures().join("clip_io.safetensors")),
        Err(ProjectionError::File(FileError::Format { .. }))
    ));
    assert!(matches!(
        EmbeddingPool::open(&dir.join("missing")),
        Err(ProjectionError::File(FileError::Io { .. }))
    ));
    std::fs::remove_dir_all(dir).ok();
}
