//! Loading benchmark: cortexlens against `gzip -dc > /dev/null` and nibabel's `get_fdata()` on the same
//! files in the same run, reported as ratios (see BENCHMARKS.md).
//!
//! `cargo bench -p cortexlens-data --bench load` — generates a 4D int16 `.nii.gz` of about 550 MB
//! decompressed in the temp folder on first use.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use cortexlens_data::load_path;

const RUNS: usize = 3;

fn main() {
    let mni = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/mni152_t1_1mm.nii.gz");
    let big = generated_4d();
    println!(
        "{:<28} {:>10} {:>10} {:>10} {:>10} {:>12} {:>14}",
        "file", "MB (raw)", "cortexlens", "gzip -dc", "nibabel", "gzip/ours", "nibabel/ours"
    );
    for path in [mni, big] {
        let ours = best_of(|| {
            let loaded = load_path(&path, &mut |_| {}).expect("load");
            std::hint::black_box(loaded);
        });
        let gzip = best_of(|| {
            let status = Command::new("gzip")
                .arg("-dc")
                .arg(&path)
                .stdout(Stdio::null())
                .status()
                .expect("gzip");
            assert!(status.success());
        });
        let nibabel = nibabel_seconds(&path);
        let raw_mb = raw_size(&path) as f64 / 1e6;
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let nib = nibabel.map_or("n/a".to_owned(), |s| format!("{s:.3} s"));
        let nib_ratio = nibabel.map_or("n/a".to_owned(), |s| format!("{:.2}×", s / ours));
        println!(
            "{name:<28} {raw_mb:>10.1} {:>8.3} s {:>8.3} s {nib:>10} {:>11.2}× {nib_ratio:>14}",
            ours,
            gzip,
            gzip / ours
        );
    }
}

/// Best wall time of [`RUNS`] runs, in seconds.
fn best_of(mut f: impl FnMut()) -> f64 {
    (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// nibabel's best-of-3 `nib.load(path).get_fdata()` time, measured inside Python; `None` without nibabel.
fn nibabel_seconds(path: &Path) -> Option<f64> {
    let script = format!(
        "import time, nibabel as nib\nbest = 1e9\nfor _ in range({RUNS}):\n    t = time.perf_counter(); nib.load({:?}).get_fdata(); best = min(best, time.perf_counter() - t)\nprint(best)",
        path.to_string_lossy()
    );
    let out = Command::new("python3").arg("-c").arg(script).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// Decompressed size from the gzip trailer (mod 4 GiB; the files here are smaller).
fn raw_size(path: &Path) -> u64 {
    let bytes = std::fs::read(path).expect("read");
    let n = bytes.len();
    u32::from_le_bytes([bytes[n - 4], bytes[n - 3], bytes[n - 2], bytes[n - 1]]) as u64
}

/// A 4D int16 NIfTI-1 volume, 96×96×60×500 (553 MB decompressed): a smooth pattern plus noise,
/// gzip-compressed at level 6 like nibabel writes. Cached in the temp folder.
fn generated_4d() -> PathBuf {
    let path = std::env::temp_dir().join("cortexlens-bench-4d.nii.gz");
    if path.exists() {
        return path;
    }
    let (nx, ny, nz, nt) = (96usize, 96usize, 60usize, 500usize);
    let file = std::fs::File::create(&path).expect("create");
    let mut gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::new(6));
    gz.write_all(&nifti1_header([nx, ny, nz, nt])).unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut frame = Vec::with_capacity(nx * ny * nz * 2);
    for t in 0..nt {
        frame.clear();
        for k in 0..nz {
            for j in 0..ny {
                for i in 0..nx {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let base = 1000.0
                        + 400.0
                            * ((i as f32 * 0.1).sin() * (j as f32 * 0.07).cos()
                                + (k as f32 * 0.05 + t as f32 * 0.02).sin());
                    let v = base as i16 + (seed % 64) as i16;
                    frame.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        gz.write_all(&frame).unwrap();
    }
    gz.finish().unwrap().flush().unwrap();
    path
}

/// A minimal little-endian NIfTI-1 header (348 bytes + 4 bytes of extension flag) for int16 data.
fn nifti1_header(dims: [usize; 4]) -> Vec<u8> {
    let mut h = vec![0u8; 352];
    h[0..4].copy_from_slice(&348i32.to_le_bytes());
    let dim: [i16; 8] = [
        4,
        dims[0] as i16,
        dims[1] as i16,
        dims[2] as i16,
        dims[3] as i16,
        1,
        1,
        1,
    ];
    for (i, d) in dim.iter().enumerate() {
        h[40 + 2 * i..42 + 2 * i].copy_from_slice(&d.to_le_bytes());
    }
    h[70..72].copy_from_slice(&4i16.to_le_bytes()); // datatype int16
    h[72..74].copy_from_slice(&16i16.to_le_bytes()); // bitpix
    let pixdim: [f32; 8] = [1.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0];
    for (i, p) in pixdim.iter().enumerate() {
        h[76 + 4 * i..80 + 4 * i].copy_from_slice(&p.to_le_bytes());
    }
    h[108..112].copy_from_slice(&352f32.to_le_bytes()); // vox_offset
    h[112..116].copy_from_slice(&1f32.to_le_bytes()); // scl_slope
    h[254..256].copy_from_slice(&1i16.to_le_bytes()); // sform_code
    let srow = [
        [2.0f32, 0.0, 0.0, -96.0],
        [0.0, 2.0, 0.0, -96.0],
        [0.0, 0.0, 2.0, -60.0],
    ];
    for (r, row) in srow.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let at = 280 + 16 * r + 4 * c;
            h[at..at + 4].copy_from_slice(&v.to_le_bytes());
        }
    }
    h[344..348].copy_from_slice(b"n+1\0");
    h
}
