//! `cortexlens synthesize` end to end on the tiny random-weight models of
//! inference/tests/fixtures/synthesis_tiny (a diffusers SD and SD-Turbo layout, a CLIP folder, an
//! encoder and a region): the files and table it writes, guided images scoring above unguided
//! ones of the same seeds, shards of a seed range, and bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../inference/tests/fixtures/synthesis_tiny")
}

fn synthesize(args: &[&str], out: &Path) -> Output {
    let f = fixtures();
    let (encoder, roi, clip) = (f.join("encoder.safetensors"), f.join("roi.nii.gz"), f.join("clip"));
    Command::new(env!("CARGO_BIN_EXE_cortexlens"))
        .arg("synthesize")
        .args(["--encoder", encoder.to_str().unwrap(), "--roi", roi.to_str().unwrap()])
        .args(["--clip", clip.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .args(args)
        .output()
        .expect("run cortexlens")
}

/// `images.tsv`'s rows as (seed, file, roi_mean), after checking its header.
fn table(out: &Path) -> Vec<(u64, String, f32)> {
    let text = std::fs::read_to_string(out.join("images.tsv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("seed\tfile\troi_mean"));
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            (
                cells[0].parse().unwrap(),
                cells[1].to_owned(),
                cells[2].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn guided_images_score_above_unguided_ones_in_each_mode() {
    let dir = std::env::temp_dir().join(format!("cortexlens-synthesize-{}", std::process::id()));
    let f = fixtures();
    let (sd, turbo) = (f.join("sd"), f.join("sd_turbo"));
    for (mode, diffusion, steps) in [("braindive", &sd, "3"), ("fast", &turbo, "2"), ("rerank", &turbo, "2")] {
        let run = |scale: Option<&str>, name: &str| {
            let out = dir.join(format!("{mode}-{name}"));
            let mut args = vec!["--mode", mode, "--diffusion", diffusion.to_str().unwrap()];
            args.extend(["--steps", steps, "--seeds", "0-1"]);
            if let Some(scale) = scale {
                args.extend(["--scale", scale]);
            }
            let output = synthesize(&args, &out);
            assert!(
                output.status.success(),
                "{mode}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let rows = table(&out);
            assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [0, 1], "{mode}");
            for (seed, file, _) in &rows {
                assert_eq!(file, &format!("seed_{seed:05}.png"));
                let image = image::open(out.join(file)).unwrap();
                assert!(image.width() > 0, "{mode}: {file} is an image");
            }
            rows
        };
        let guided = run(None, "guided");
        if mode == "rerank" {
            // Rerank has no scale: it keeps the best of its unguided candidates.
            continue;
        }
        let unguided = run(Some("0"), "unguided");
        for (g, u) in guided.iter().zip(&unguided) {
            assert!(g.2 > u.2, "{mode}, seed {}: guided {} ≤ unguided {}", g.0, g.2, u.2);
        }
    }

    // A shard of a seed range: every second seed from the second.
    let out = dir.join("shard");
    let args = ["--diffusion", turbo.to_str().unwrap(), "--mode", "fast", "--steps", "1"];
    let output = synthesize(&[&args[..], &["--seeds", "0-3", "--shard", "1/2"]].concat(), &out);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(table(&out).iter().map(|r| r.0).collect::<Vec<_>>(), [1, 3]);

    // A region that holds no encoder voxel, and bad seeds and shards: bad input.
    let output = synthesize(&[&args[..], &["--threshold", "1e9"]].concat(), &dir.join("empty"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("roi.nii.gz holds none of the encoder's"), "{stderr}");
    for bad in [["--seeds", "3-1"], ["--shard", "2/2"]] {
        let output = synthesize(&[&args[..], &bad[..]].concat(), &dir.join("bad"));
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
    }
    std::fs::remove_dir_all(dir).ok();
}
