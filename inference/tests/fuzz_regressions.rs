//! Inputs the encoder and pool fuzzers made (`tests/data/fuzz/{encoder,pool}/`, picked from the
//! corpora of the runs in `docs/robustness.md`), replayed through the same calls as the fuzz
//! targets: each must be read or refused without a panic, within 2 seconds.

use cortexlens_inference::projection::EmbeddingPool;

#[path = "../../data/tests/common/fuzz_replay.rs"]
mod fuzz_replay;

use fuzz_replay::replay;

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
