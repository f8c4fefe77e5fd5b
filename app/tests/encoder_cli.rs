//! `cortexlens encoder import|fit` end to end on the tiny CLIP and checkpoint fixtures of the
//! inference crate, with generated PNG stimuli.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cortexlens_data::formats::{load_volume, save_nifti};
use cortexlens_inference::encoder::file::load_encoder;
use cortexlens_inference::hub::mirror::{COMMIT, LocalMirror};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../inference/tests/fixtures/clip_tiny")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cortexlens-encoder-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn cortexlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cortexlens"))
        .args(args)
        .output()
        .expect("run cortexlens")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn import_checkpoint_with_both_voxel_orders() {
    let dir = temp_dir("import");
    let mask = fixtures().join("mask.nii");
    let ckpt = fixtures().join("brainscuba_linear.chkpt");
    let out_c = dir.join("c.safetensors");
    let out = cortexlens(&[
        "encoder",
        "import",
        path(&ckpt),
        "--mask",
        path(&mask),
        "--out",
        path(&out_c),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let c = load_encoder(&out_c).unwrap();
    assert_eq!((c.dim(), c.grid_shape()), (32, [4, 3, 5]));
    assert_eq!(c.backbone(), "openai/clip-vit-base-patch32");
    // C order: k fastest, so consecutive voxels in a row of i are sorted by (i, j, k).
    assert!(c.voxels().windows(2).all(|w| w[0] < w[1]));

    let out_f = dir.join("f.safetensors");
    let braindive = fixtures().join("braindive_higher.chkpt");
    let args = [
        "encoder",
        "import",
        path(&braindive),
        "--mask",
        path(&mask),
        "--out",
        path(&out_f),
    ];
    let out = cortexlens(&[&args[..], &["--order", "f", "--backbone", "tiny"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let f = load_encoder(&out_f).unwrap();
    assert_eq!(f.weight(), c.weight());
    assert_eq!(f.backbone(), "tiny");
    let key = |v: &[u32; 3]| (v[2], v[1], v[0]);
    assert!(f.voxels().windows(2).all(|w| key(&w[0]) < key(&w[1])));

    // Bad input: exit code 2 with a one-line message.
    for bad in [
        vec![
            "encoder",
            "import",
            path(&ckpt),
            "--mask",
            "/nonexistent.nii",
            "--out",
            path(&out_c),
        ],
        vec![
            "encoder",
            "import",
            path(&mask),
            "--mask",
            path(&mask),
            "--out",
            path(&out_c),
        ],
        vec![
            "encoder",
            "import",
            path(&ckpt),
            "--mask",
            path(&mask),
            "--out",
            path(&out_c),
            "--key",
            "x",
        ],
        vec![
            "encoder",
            "import",
            path(&ckpt),
            "--mask",
            path(&mask),
            "--out",
            path(&out_c),
            "--order",
            "z",
        ],
    ] {
        let out = cortexlens(&bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
    }
    std::fs::remove_dir_all(dir).ok();
}

/// Writes `count` PNG stimuli and their list; returns the list.
fn stimuli(dir: &Path, count: usize) -> PathBuf {
    let mut list = String::new();
    for s in 0..count as u32 {
        let image = image::RgbImage::from_fn(36 + s % 5, 33, |x, y| {
            image::Rgb([
                (x * 7 + s * 13) as u8,
                (y * 5 + s * 29) as u8,
                ((x * y) % 251 + s * 3) as u8,
            ])
        });
        let name = format!("s{s}.png");
        image.save(dir.join(&name)).unwrap();
        list += &format!("{name}\n");
    }
    let path = dir.join("stimuli.tsv");
    std::fs::write(&path, list).unwrap();
    path
}

#[test]
fn fit_from_a_4d_nifti_and_a_tsv() {
    let dir = temp_dir("fit");
    let s = 30;
    let list = stimuli(&dir, s);
    let mask_path = fixtures().join("mask.nii");
    let mask = load_volume(&mask_path, &mut |_| {}).unwrap();
    let frame = mask.frame_len();
    let mut responses = mask.clone();
    responses.shape[3] = s;
    responses.ndim = 4;
    responses.data = (0..s * frame).map(|i| ((i * 37 % 101) as f32 * 0.1).sin()).collect();
    let resp_path = dir.join("responses.nii.gz");
    save_nifti(&resp_path, &responses).unwrap();

    let (enc, r2, pearson) = (dir.join("enc.safetensors"), dir.join("r2.nii.gz"), dir.join("r.nii"));
    let clip = fixtures();
    let out = cortexlens(&[
        "encoder",
        "fit",
        "--responses",
        path(&resp_path),
        "--stimuli",
        path(&list),
        "--clip",
        path(&clip),
        "--mask",
        path(&mask_path),
        "--out",
        path(&enc),
        "--r2",
        path(&r2),
        "--pearson",
        path(&pearson),
        "--folds",
        "3",
        "--batch",
        "8",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let encoder = load_encoder(&enc).unwrap();
    let n = encoder.voxel_count();
    assert_eq!(n, mask.data.iter().filter(|v| **v != 0.0).count());
    assert!(encoder.unit_normalized());
    for map in [&r2, &pearson] {
        let volume = load_volume(map, &mut |_| {}).unwrap();
        assert_eq!(volume.shape, [4, 3, 5, 1]);
        assert_eq!(volume.affine, mask.affine);
        let finite = volume.data.iter().filter(|v| v.is_finite()).count();
        assert_eq!(finite, n, "{}: values only at the mask's voxels", map.display());
    }

    // The same responses as a TSV without a mask: all voxels, a [N, 1, 1] grid.
    let tsv = dir.join("responses.tsv");
    let rows: Vec<String> = responses
        .data
        .chunks(frame)
        .map(|row| row.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("\t"))
        .collect();
    std::fs::write(&tsv, rows.join("\n")).unwrap();
    let enc_tsv = dir.join("enc_tsv.safetensors");
    let args = [
        "encoder",
        "fit",
        "--responses",
        path(&tsv),
        "--stimuli",
        path(&list),
        "--clip",
        path(&clip),
    ];
    let out = cortexlens(&[&args[..], &["--out", path(&enc_tsv), "--folds", "3"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(load_encoder(&enc_tsv).unwrap().grid_shape(), [frame, 1, 1]);

    // A repository id resolves through the Hugging Face cache (HF_HOME) without downloading; one
    // that is not cached names the missing files.
    let hf_home = dir.join("hf");
    let repo = hf_home.join("hub/models--tiny--clip");
    std::fs::create_dir_all(repo.join("snapshots/abc123")).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), "abc123").unwrap();
    for file in ["config.json", "model.safetensors"] {
        std::fs::copy(clip.join(file), repo.join("snapshots/abc123").join(file)).unwrap();
    }
    let from_cache = |id: &str| {
        Command::new(env!("CARGO_BIN_EXE_cortexlens"))
            .env("HF_HOME", &hf_home)
            .args(["encoder", "fit", "--responses", path(&tsv), "--stimuli", path(&list)])
            .args(["--clip", id, "--out", path(&enc_tsv), "--folds", "3"])
            .output()
            .expect("run cortexlens")
    };
    let out = from_cache("tiny/clip");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = from_cache("tiny/other-clip");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("config.json, model.safetensors not in the Hugging Face cache"),
        "{}",
        stderr(&out)
    );

    // `--download` fetches a missing repository into the cache from the hub at HF_ENDPOINT (here a
    // local stand-in); one the hub lacks fails with exit code 1, naming the file.
    let served = |file: &str| std::fs::read(clip.join(file)).unwrap();
    let mirror = LocalMirror::serve(vec![
        ("tiny/remote-clip", "config.json", served("config.json")),
        ("tiny/remote-clip", "model.safetensors", served("model.safetensors")),
    ])
    .unwrap();
    let download = |id: &str| {
        Command::new(env!("CARGO_BIN_EXE_cortexlens"))
            .env("HF_HOME", &hf_home)
            .env("HF_ENDPOINT", mirror.endpoint())
            .args(["encoder", "fit", "--responses", path(&tsv), "--stimuli", path(&list)])
            .args(["--clip", id, "--download", "--out", path(&enc_tsv), "--folds", "3"])
            .output()
            .expect("run cortexlens")
    };
    let out = download("tiny/remote-clip");
    assert!(out.status.success(), "{}", stderr(&out));
    let fetched = hf_home.join("hub/models--tiny--remote-clip/snapshots").join(COMMIT);
    assert_eq!(
        std::fs::read(fetched.join("model.safetensors")).unwrap(),
        served("model.safetensors")
    );
    let out = download("tiny/absent-clip");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("downloading config.json from tiny/absent-clip"),
        "{}",
        stderr(&out)
    );

    // Fewer stimuli than responses, and a folder without a CLIP model: exit code 2.
    std::fs::write(dir.join("short.tsv"), "s0.png\ns1.png\n").unwrap();
    let short = dir.join("short.tsv");
    let out = cortexlens(&[
        "encoder",
        "fit",
        "--responses",
        path(&tsv),
        "--stimuli",
        path(&short),
        "--clip",
        path(&clip),
        "--out",
        path(&enc_tsv),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("stimuli"), "{}", stderr(&out));
    let out = cortexlens(&[
        "encoder",
        "fit",
        "--responses",
        path(&tsv),
        "--stimuli",
        path(&list),
        "--clip",
        path(&dir),
        "--out",
        path(&enc_tsv),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    std::fs::remove_dir_all(dir).ok();
}
