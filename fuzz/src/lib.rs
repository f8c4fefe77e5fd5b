//! What every fuzz target does with its input: write it where a parser expects a file of its kind
//! (a scratch folder in memory-backed `/dev/shm` when there is one) and parse it, ignoring the
//! result. A panic, a hang past libFuzzer's `-timeout` or an allocation past `-rss_limit_mb` is
//! a finding. `data/tests/fuzz_regressions.rs` replays the findings kept in `tests/data/fuzz/`
//! through the same calls.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A folder of this process's own for the inputs.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_owned()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("cortexlens-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        dir
    })
}

fn write(name: &str, data: &[u8]) -> PathBuf {
    let path = scratch().join(name);
    std::fs::write(&path, data).expect("scratch file");
    path
}

/// Parse `data` as a file called `name` (the extension picks the parser), as the app opens files.
pub fn load_as(name: &str, data: &[u8]) {
    let path = write(name, data);
    let _ = cortexlens_data::load_path(&path, &mut |_| {});
}

/// A NIfTI pair: the first 348 bytes (or fewer) as the `.hdr`, the rest as the `.img`.
pub fn load_pair(data: &[u8]) {
    let split = data.len().min(348);
    write("fuzz.img", &data[split..]);
    load_as("fuzz.hdr", &data[..split]);
}

/// A neural field (`.nfield`, or an instant-ngp snapshot).
pub fn load_field_as(name: &str, data: &[u8]) {
    let path = write(name, data);
    let _ = cortexlens_data::field::load_field(&path);
}

/// A label table (BIDS TSV, FreeSurfer colour table, ITK-SNAP label file).
pub fn label_table(data: &[u8]) {
    let path = write("fuzz.tsv", data);
    let _ = cortexlens_data::formats::load_label_names(&path);
}

/// An encoder file (safetensors with the encoder's arrays and metadata).
pub fn encoder(data: &[u8]) {
    let _ = cortexlens_inference::encoder::file::from_bytes(data);
}

/// An image-embedding pool (safetensors, memory-mapped), and its first and last embedding.
pub fn pool(data: &[u8]) {
    let path = write("fuzz_pool.safetensors", data);
    if let Ok(pool) = cortexlens_inference::projection::EmbeddingPool::open(&path) {
        let _ = pool.embedding(0);
        let _ = pool.embedding(pool.len().saturating_sub(1));
    }
}
