//! Inputs the encoder and pool fuzzers made (`tests/data/fuzz/{encoder,pool}/`, picked from the
//! corpora of the runs in `docs/robustness.md`), replayed through the same calls as the fuzz
//! targets: each must be read or refused without a panic, within 2 seconds.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cortexlens_inference::projection::EmbeddingPool;

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/fuzz")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no inputs", dir.display());
    files
}

/// Run `open` on every input of `target`; the inputs that panicked or took over 2 s.
fn replay(target: &str, open: impl Fn(&[u8])) -> Vec<String> {
    let mut failures = Vec::new();
    for file in inputs(target) {
        let data = std::fs::read(&file).unwrap();
        let start = Instant::now();
        if catch_unwind(AssertUnwindSafe(|| open(&data))).is_err() {
            failures.push(format!("{} panicked", file.display()));
        }
        if start.elapsed() > Duration::from_secs(2) {
            failures.push(format!("{} took {:?}", file.display(), start.elapsed()));
        }
    }
    failures
}

#[test]
fn fuzzer_encoder_and_pool_inputs_are_read_or_refused_without_panics() {
    let mut failures = replay("encoder", |data| {
        let _ = cortexlens_inference::encoder::file::from_bytes(data);
    });
    let dir = std::env::temp_dir().join(format!("cortexlens-inference-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pool.safetensors");
    failures.extend(replay("pool", |data| {
        std::fs::write(&path, data).unwrap();
        if let Ok(pool) = EmbeddingPool::open(&path) {
            let _ = pool.embedding(0);
            let _ = pool.embedding(pool.len().saturating_sub(1));
        }
    }));
    std::fs::remove_dir_all(&dir).ok();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
