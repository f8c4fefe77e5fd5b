//! Replaying the inputs kept from the fuzzers' runs (`tests/data/fuzz/<target>/`, see
//! `docs/robustness.md`): shared by the `fuzz_regressions` tests of the data crate and (by path)
//! of the inference crate.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The kept inputs of `target`, sorted; panics when there are none.
pub fn inputs(target: &str) -> Vec<PathBuf> {
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

/// Run `open` on every input of `target`: the inputs that panicked or took over 2 s.
pub fn replay(target: &str, open: impl Fn(&[u8])) -> Vec<String> {
    let mut failures = Vec::new();
    for file in inputs(target) {
        let data = std::fs::read(&file).unwrap();
        let start = Instant::now();
        if catch_unwind(AssertUnwindSafe(|| open(&data))).is_err() {
            failures.push(format!("{target}: {} panicked", file.display()));
        }
        if start.elapsed() > Duration::from_secs(2) {
            failures.push(format!("{target}: {} took {:?}", file.display(), start.elapsed()));
        }
    }
    failures
}
