//! Shared helpers of the data crate's integration tests: fixture paths, reference JSON, tolerances.
#![allow(dead_code)]

pub mod fuzz_replay;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use cortexlens_data::{LoadError, Loaded, SurfaceFile, Volume, load_path};
use serde_json::Value;

/// `tests/data` of the workspace.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data")
}

/// `assets` of the workspace (the demo scene).
pub fn assets_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets")
}

/// A reference volume by file name: in `tests/data/volumes`, or in `assets`.
pub fn volume_path(file: &str) -> PathBuf {
    let p = data_dir().join("volumes").join(file);
    if p.exists() { p } else { assets_dir().join(file) }
}

/// A parsed `tests/data/<rel>` JSON file.
pub fn json(rel: &str) -> Value {
    let text = std::fs::read_to_string(data_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

pub fn fs(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(f)
        .collect()
}

pub fn us(v: &Value) -> Vec<usize> {
    fs(v).into_iter().map(|x| x as usize).collect()
}

/// `|a - b| <= abs` or relatively within `rel`.
pub fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    (a - b).abs() <= abs.max(rel * a.abs().max(b.abs()))
}

#[track_caller]
pub fn assert_close(what: &str, got: f64, want: f64, rel: f64, abs: f64) {
    assert!(
        close(got, want, rel, abs),
        "{what}: got {got}, want {want} (rel {rel}, abs {abs})"
    );
}

/// numpy's dtype string (`>i2`, `<f4`, `uint8`) as a plain name (`int16`, `float32`, `uint8`).
pub fn numpy_name(dtype: &str) -> String {
    let s = dtype.trim_start_matches(['<', '>', '|', '=']);
    let (kind, size) = s.split_at(1);
    match (kind, size.parse::<usize>()) {
        ("i", Ok(n)) => format!("int{}", n * 8),
        ("u", Ok(n)) => format!("uint{}", n * 8),
        ("f", Ok(n)) => format!("float{}", n * 8),
        _ => dtype.to_owned(),
    }
}

fn no_progress() -> impl FnMut(f32) {
    |_| {}
}

/// Loads a file, also checking that progress is monotonic and ends at 1.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let mut seen: Vec<f32> = Vec::new();
    let result = load_path(path, &mut |p| seen.push(p));
    if result.is_ok() {
        assert!(
            seen.windows(2).all(|w| w[0] <= w[1]),
            "{}: progress went backwards: {seen:?}",
            path.display()
        );
        assert_eq!(seen.last(), Some(&1.0), "{}: progress did not reach 1", path.display());
        assert!(seen.iter().all(|p| (0.0..=1.0).contains(p)));
    }
    result
}

pub fn load_vol(path: &Path) -> Volume {
    match load(path) {
        Ok(Loaded::Volume(v)) => v,
        Ok(other) => panic!("{}: loaded as a {}", path.display(), other.kind()),
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

pub fn load_surf(path: &Path) -> SurfaceFile {
    match load(path) {
        Ok(Loaded::Surface(s)) => s,
        Ok(other) => panic!("{}: loaded as a {}", path.display(), other.kind()),
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

/// How long the "never hangs" checks wait for a load to answer. Loads of the small and malformed
/// test files take milliseconds, but a limit near that (these tests once allowed 0.5–1 s) fails
/// now and then on a busy 2-core debug build; this bound is one that only a hang exceeds.
pub const HANG_BOUND: Duration = Duration::from_secs(60);

/// Runs `f` on a thread of its own and returns its result; fails the test when no result comes
/// within [`HANG_BOUND`] (a hang: the watchdog fails instead of blocking the suite) or when `f`
/// panics.
#[track_caller]
pub fn without_hang<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, answer) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(f());
    });
    match answer.recv_timeout(HANG_BOUND) {
        Ok(value) => value,
        Err(RecvTimeoutError::Timeout) => panic!("{what}: no answer within {HANG_BOUND:?}, it hangs"),
        Err(RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

/// [`load_path`] of a file under the [`without_hang`] watchdog.
#[track_caller]
pub fn load_without_hang(path: &Path) -> Result<Loaded, LoadError> {
    let owned = path.to_path_buf();
    without_hang(&path.display().to_string(), move || {
        load_path(&owned, &mut no_progress())
    })
}

/// Loads a file that must fail (and not hang, see [`HANG_BOUND`]) and returns the error, checking
/// that its message starts with the file name.
#[track_caller]
pub fn load_err(path: &Path) -> LoadError {
    let e = match load_without_hang(path) {
        Ok(l) => panic!("{}: loaded a {} but should have failed", path.display(), l.kind()),
        Err(e) => e,
    };
    let msg = e.to_string();
    assert!(!e.file().is_empty(), "error without a file name: {msg}");
    assert!(
        msg.starts_with(e.file()),
        "message does not start with the file name: {msg}"
    );
    e
}

/// A fresh scratch folder for one test.
pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cortexlens-data-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// gzip of `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The decompressed content of a file (the file itself when not gzip).
pub fn raw_bytes(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let bytes = std::fs::read(path).unwrap();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        bytes
    }
}
