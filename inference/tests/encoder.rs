//! Encoder files, checkpoint import, ridge fitting (against NumPy and on synthetic data) and the
//! fit driver on the tiny CLIP.
//!
//! Runs on `cortexlens_inference::device()`: the CPU, or CUDA in a `cuda` build on a machine with a
//! GPU (`tools/gpu/check.sh`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use cortexlens_inference::clip::Clip;
use cortexlens_inference::encoder::file::{from_bytes, load_encoder, read_backbone, save_encoder, to_bytes};
use cortexlens_inference::encoder::fit::{EncoderFitConfig, Responses, fit_encoder, read_stimuli};
use cortexlens_inference::encoder::import::import_checkpoint;
use cortexlens_inference::encoder::metrics::{pearson, r2};
use cortexlens_inference::encoder::ridge::{RidgeConfig, fit_ridge, log_space};
use cortexlens_inference::encoder::{Encoder, EncoderError, VoxelOrder};
use cortexlens_inference::{FileError, Tensor, device};
use glam::DMat4;
use safetensors::tensor::{Dtype, TensorView};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clip_tiny")
}

fn load(name: &str) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(fixtures().join(name), &device()).unwrap()
}

fn f32s(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

fn f64s(t: &Tensor) -> Vec<f64> {
    t.flatten_all().unwrap().to_vec1::<f64>().unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cortexlens-encoder-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A small deterministic generator (xorshift64*) and Box–Muller normals.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        (-2.0 * self.unit().ln()).sqrt() * (std::f64::consts::TAU * self.unit()).cos()
    }
}

#[test]
fn ridge_matches_numpy_reference() {
    let r = load("ridge_ref.safetensors");
    let config = RidgeConfig {
        alphas: f64s(&r["alphas"]),
        folds: 5,
        test_fraction: 0.2,
    };
    let fit = fit_ridge(&f32s(&r["x"]), &f32s(&r["y"]), 16, 6, &config, &AtomicBool::new(false)).unwrap();
    assert_eq!(fit.train_count, 120);
    assert_eq!(fit.alpha, f64s(&r["best_alpha"]));
    for (name, ours) in [
        ("weight", &fit.weight),
        ("bias", &fit.bias),
        ("r2", &fit.r2),
        ("pearson", &fit.pearson),
    ] {
        let diff = max_diff(ours, &f32s(&r[name]));
        eprintln!("{name}: max |Δ| vs NumPy {diff:.2e}");
        assert!(diff <= 1e-4, "{name} differs from NumPy by {diff}");
    }
    let truth = f32s(&r["metric_true"]);
    let pred = f32s(&r["metric_pred"]);
    assert!(max_diff(&r2(&truth, &pred, 6).unwrap(), &f32s(&r["r2"])) <= 1e-5);
    assert!(max_diff(&pearson(&truth, &pred, 6).unwrap(), &f32s(&r["pearson"])) <= 1e-5);
}

#[test]
fn ridge_recovers_known_weights_and_shrinks_noise_voxels() {
    let (s, d, n) = (600, 8, 4);
    let mut rng = Rng(7);
    let mut x = Vec::new();
    for _ in 0..s {
        let row: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        x.extend(row.iter().map(|v| (v / norm) as f32));
    }
    // voxels 0-2 linear with noise 1e-4; voxel 3 pure noise
    let w_true: Vec<f32> = (0..n * d)
        .map(|i| if i / d == 3 { 0.0 } else { rng.normal() as f32 })
        .collect();
    let b_true = [0.5f32, -1.0, 2.0, 0.3];
    let mut y = Vec::new();
    for row in x.chunks(d) {
        for v in 0..n {
            let clean: f32 = row.iter().zip(&w_true[v * d..(v + 1) * d]).map(|(a, b)| a * b).sum();
            let noise = if v == 3 { rng.normal() } else { 1e-4 * rng.normal() };
            y.push(clean + b_true[v] + noise as f32);
        }
    }
    let config = RidgeConfig {
        alphas: log_space(-6.0, 3.0, 19),
        folds: 5,
        test_fraction: 0.2,
    };
    let fit = fit_ridge(&x, &y, d, n, &config, &AtomicBool::new(false)).unwrap();
    let err = max_diff(&fit.weight[..3 * d], &w_true[..3 * d]);
    assert!(err < 2e-3, "weights recovered to {err}");
    assert!(max_diff(&fit.bias[..3], &b_true[..3]) < 1e-3);
    for v in 0..3 {
        assert!(
            fit.r2[v] > 0.999_99 && fit.pearson[v] > 0.999_99,
            "voxel {v}: {} {}",
            fit.r2[v],
            fit.pearson[v]
        );
        assert!(fit.alpha[3] > 100.0 * fit.alpha[v], "alphas {:?}", fit.alpha);
    }
    assert!(fit.r2[3] < 0.05, "noise voxel R² {}", fit.r2[3]);
}

fn tiny_encoder() -> Encoder {
    Encoder::new(
        vec![1.0, 2.0, 3.0, -1.0, 0.5, 0.25],
        vec![0.1, -0.2],
        3,
        vec![[0, 1, 2], [3, 0, 1]],
        DMat4::from_cols_array(&[
            2.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 3.0, 0.0, -5.0, 1.0, 2.0, 1.0,
        ]),
        [4, 2, 3],
        "openai/clip-vit-base-patch32",
        true,
    )
    .unwrap()
}

#[test]
fn encoder_file_round_trip_and_predict() {
    let dir = temp_dir("roundtrip");
    let path = dir.join("enc.safetensors");
    let enc = tiny_encoder();
    save_encoder(&path, &enc).unwrap();
    let back = load_encoder(&path).unwrap();
    assert_eq!(back, enc);
    assert_eq!(read_backbone(&path).unwrap(), enc.backbone());
    assert!(!enc.backbone().is_empty());
    let not_an_encoder = dir.join("other.safetensors");
    std::fs::write(&not_an_encoder, b"\x02\0\0\0\0\0\0\0{}").unwrap();
    assert!(read_backbone(&not_an_encoder).is_err());
    // The file is readable by any safetensors reader with the documented names and dtypes.
    let tensors = candle_core::safetensors::load(&path, &device()).unwrap();
    assert_eq!(tensors["voxel_ijk"].dtype(), candle_core::DType::I64);
    assert_eq!(
        tensors["grid_affine"].to_vec2::<f64>().unwrap()[0],
        vec![2.0, 0.0, 0.0, -5.0]
    );
    let features = Tensor::new(&[[1.0f32, 2.0, 2.0], [0.0, 0.0, 5.0]], &device()).unwrap();
    let pred = back.predict(&features).unwrap().to_vec2::<f32>().unwrap();
    let expect = [
        [(1.0 + 4.0 + 6.0) / 3.0 + 0.1, (-1.0 + 1.0 + 0.5) / 3.0 - 0.2],
        [3.1, 0.25 - 0.2],
    ];
    for (row, want) in pred.iter().zip(expect) {
        assert!(max_diff(row, &want) < 1e-6, "{row:?} vs {want:?}");
    }
    std::fs::remove_dir_all(dir).ok();
}

/// Serialises the tiny encoder with one tensor replaced (or removed) and one metadata entry changed.
fn tampered(
    replace: Option<(&str, Dtype, Vec<usize>, Vec<u8>)>,
    drop: Option<&str>,
    meta: Option<(&str, &str)>,
) -> Vec<u8> {
    let good = to_bytes(&tiny_encoder()).unwrap();
    let st = safetensors::SafeTensors::deserialize(&good).unwrap();
    let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .filter(|(name, _)| Some(name.as_str()) != drop)
        .map(|(name, v)| (name, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    if let Some((name, dtype, shape, data)) = replace {
        owned.retain(|t| t.0 != name);
        owned.push((name.to_owned(), dtype, shape, data));
    }
    let mut metadata = HashMap::from([
        ("format".to_owned(), "cortexlens-encoder".to_owned()),
        ("version".to_owned(), "1".to_owned()),
        ("backbone".to_owned(), "x".to_owned()),
        ("unit_normalized".to_owned(), "true".to_owned()),
    ]);
    if let Some((k, v)) = meta {
        metadata.insert(k.to_owned(), v.to_owned());
    }
    let views: Vec<(String, TensorView)> = owned
        .iter()
        .map(|(n, dt, shape, data)| (n.clone(), TensorView::new(*dt, shape.clone(), data).unwrap()))
        .collect();
    safetensors::serialize(views, Some(metadata)).unwrap()
}

#[test]
fn malformed_encoder_files_are_typed_errors() {
    let i64s = |v: &[i64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let i32s = |v: &[i32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    // i32 voxel indices are accepted
    let ok = tampered(
        Some(("voxel_ijk", Dtype::I32, vec![2, 3], i32s(&[0, 1, 2, 3, 0, 1]))),
        None,
        None,
    );
    assert_eq!(from_bytes(&ok).unwrap().voxels(), tiny_encoder().voxels());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"not a safetensors file".to_vec()),
        ("no bias", tampered(None, Some("bias"), None)),
        ("format", tampered(None, None, Some(("format", "something-else")))),
        ("version", tampered(None, None, Some(("version", "7")))),
        ("unit flag", tampered(None, None, Some(("unit_normalized", "yes")))),
        (
            "voxel outside",
            tampered(
                Some(("voxel_ijk", Dtype::I64, vec![2, 3], i64s(&[0, 1, 2, 4, 0, 1]))),
                None,
                None,
            ),
        ),
        (
            "negative voxel",
            tampered(
                Some(("voxel_ijk", Dtype::I64, vec![2, 3], i64s(&[0, -1, 2, 3, 0, 1]))),
                None,
                None,
            ),
        ),
        (
            "voxel count",
            tampered(
                Some(("voxel_ijk", Dtype::I64, vec![1, 3], i64s(&[0, 1, 2]))),
                None,
                None,
            ),
        ),
        (
            "bias shape",
            tampered(Some(("bias", Dtype::F32, vec![3], vec![0; 12])), None, None),
        ),
        (
            "weight dtype",
            tampered(Some(("weight", Dtype::F64, vec![2, 3], vec![0; 48])), None, None),
        ),
        (
            "grid shape",
            tampered(Some(("grid_shape", Dtype::I64, vec![3], i64s(&[4, 0, 3]))), None, None),
        ),
        (
            "affine",
            tampered(Some(("grid_affine", Dtype::F32, vec![4, 4], vec![0; 64])), None, None),
        ),
    ];
    for (what, bytes) in cases {
        assert!(
            matches!(from_bytes(&bytes), Err(EncoderError::Invalid(_))),
            "{what} was accepted"
        );
    }
    let dir = temp_dir("malformed");
    let bad = dir.join("bad.safetensors");
    std::fs::write(&bad, tampered(None, Some("weight"), None)).unwrap();
    let err = load_encoder(&bad).unwrap_err();
    assert!(
        matches!(err, EncoderError::File(FileError::Format { .. })) && err.to_string().contains("weight"),
        "{err}"
    );
    assert!(matches!(
        load_encoder(&dir.join("missing")),
        Err(EncoderError::File(FileError::Io { .. }))
    ));
    std::fs::remove_dir_all(dir).ok();
}

fn i64_rows(t: &Tensor) -> Vec<[u32; 3]> {
    t.to_vec2::<i64>()
        .unwrap()
        .iter()
        .map(|r| [r[0] as u32, r[1] as u32, r[2] as u32])
        .collect()
}

#[test]
fn imports_brainscuba_and_braindive_checkpoints() {
    let reference = load("checkpoint_ref.safetensors");
    let mask = fixtures().join("mask.nii");
    for file in ["brainscuba_linear.chkpt", "braindive_higher.chkpt"] {
        let ckpt = fixtures().join(file);
        let enc = import_checkpoint(&ckpt, Some("network"), &mask, VoxelOrder::C, "b").unwrap();
        assert_eq!(enc.weight(), f32s(&reference["weight"]).as_slice(), "{file}");
        assert_eq!(enc.bias(), f32s(&reference["bias"]).as_slice());
        assert_eq!(enc.voxels(), i64_rows(&reference["voxel_ijk_c"]).as_slice());
        assert_eq!(enc.grid_shape(), [4, 3, 5]);
        assert_eq!(enc.grid_affine().col(3).truncate(), glam::DVec3::new(-4.0, -3.0, -6.0));
        assert!(enc.unit_normalized() && enc.dim() == 32);
        let f = import_checkpoint(&ckpt, Some("network"), &mask, VoxelOrder::F, "b").unwrap();
        assert_eq!(f.voxels(), i64_rows(&reference["voxel_ijk_f"]).as_slice());
    }
    // Wrong key, a mask with another voxel count, a missing file, a file that is no checkpoint.
    let scuba = fixtures().join("brainscuba_linear.chkpt");
    assert!(matches!(
        import_checkpoint(&scuba, Some("nope"), &mask, VoxelOrder::C, "b"),
        Err(EncoderError::File(FileError::Format { .. }))
    ));
    let other_mask = fixtures().join("preprocess_wide.png");
    assert!(import_checkpoint(&scuba, Some("network"), &other_mask, VoxelOrder::C, "b").is_err());
    let dir = temp_dir("import");
    let small_mask = dir.join("mask.nii");
    let mut volume = cortexlens_data::formats::load_volume(&mask, &mut |_| {}).unwrap();
    volume.data.iter_mut().for_each(|v| *v = 0.0);
    volume.data[0] = 1.0;
    cortexlens_data::formats::save_nifti(&small_mask, &volume).unwrap();
    assert!(matches!(
        import_checkpoint(&scuba, Some("network"), &small_mask, VoxelOrder::C, "b"),
        Err(EncoderError::Invalid(_))
    ));
    assert!(matches!(
        import_checkpoint(&dir.join("none.chkpt"), Some("network"), &mask, VoxelOrder::C, "b"),
        Err(EncoderError::File(FileError::Io { .. }))
    ));
    assert!(matches!(
        import_checkpoint(
            &fixtures().join("config.json"),
            Some("network"),
            &mask,
            VoxelOrder::C,
            "b"
        ),
        Err(EncoderError::File(FileError::Format { .. }))
    ));
    std::fs::remove_dir_all(dir).ok();
}

/// Writes `count` small PNGs and a stimulus list naming them; returns the list's path.
fn write_stimuli(dir: &Path, count: usize) -> PathBuf {
    let mut list = String::from("path\tcaption\n");
    for s in 0..count {
        let image = image::RgbImage::from_fn(40 + (s % 3) as u32, 36, |x, y| {
            image::Rgb([
                (x * 5 + s as u32 * 17) as u8,
                (y * 7 + s as u32 * 31) as u8,
                ((x + y) * 3 + s as u32 * 53) as u8,
            ])
        });
        let name = format!("stim_{s:02}.png");
        image.save(dir.join(&name)).unwrap();
        list.push_str(&format!("{name}\tstimulus {s}\n"));
    }
    let path = dir.join("stimuli.tsv");
    std::fs::write(&path, list).unwrap();
    path
}

#[test]
fn fit_driver_from_volume_and_tsv() {
    let dir = temp_dir("fit");
    let stimuli_path = write_stimuli(&dir, 48);
    let stimuli = read_stimuli(&stimuli_path).unwrap();
    assert_eq!(stimuli.len(), 48);
    assert_eq!(stimuli[3], dir.join("stim_03.png"));
    let clip = Clip::load_dir(&fixtures(), &device()).unwrap();

    // Responses that are a linear function of the (unit-normalised) embeddings, so R² is near 1.
    let features =
        cortexlens_inference::encoder::fit::embed_images(&clip, &stimuli, 7, &AtomicBool::new(false), &mut |_, _| {})
            .unwrap();
    let mask_volume = cortexlens_data::formats::load_volume(&fixtures().join("mask.nii"), &mut |_| {}).unwrap();
    let frame = mask_volume.frame_len();
    let mut volume = mask_volume.clone();
    volume.shape[3] = 48;
    volume.ndim = 4;
    volume.data = vec![0.0; frame * 48];
    for s in 0..48 {
        for v in 0..frame {
            let f = &features[s * 32..(s + 1) * 32];
            volume.data[s * frame + v] = f[v % 32] * 3.0 - f[(v + 5) % 32] + v as f32 * 0.01;
        }
    }
    let responses = Responses::from_volume(&volume, Some(&mask_volume)).unwrap();
    let n = responses.voxels.len();
    assert_eq!(responses.stimuli(), 48);
    let config = EncoderFitConfig {
        ridge: RidgeConfig {
            alphas: log_space(-8.0, 2.0, 11),
            folds: 4,
            test_fraction: 0.2,
        },
        batch: 20,
        backbone: "tiny".into(),
    };
    let mut calls = Vec::new();
    let fit = fit_encoder(
        &responses,
        &stimuli,
        &clip,
        &config,
        &AtomicBool::new(false),
        &mut |d, t| calls.push((d, t)),
    )
    .unwrap();
    assert_eq!(calls, vec![(20, 48), (40, 48), (48, 48)]);
    assert_eq!(fit.encoder.voxel_count(), n);
    assert_eq!(fit.r2.shape, [4, 3, 5, 1]);
    let inside: Vec<f32> = fit
        .encoder
        .voxels()
        .iter()
        .map(|&[i, j, k]| fit.r2.data[i as usize + 4 * (j as usize + 3 * k as usize)])
        .collect();
    assert!(inside.iter().all(|&r| r > 0.9), "held-out R² {inside:?}");
    assert_eq!(fit.r2.data.iter().filter(|v| v.is_nan()).count(), 60 - n);
    assert_eq!(fit.pearson.data.iter().filter(|v| v.is_nan()).count(), 60 - n);
    // The prediction of the fitted encoder reproduces the training responses.
    let pred = fit
        .encoder
        .predict(&Tensor::from_slice(&features, (48, 32), &device()).unwrap())
        .unwrap();
    let pred = f32s(&pred);
    assert!(max_diff(&pred[..n], &responses.values[..n]) < 1e-2);

    // The same responses as a TSV (with a header), without a mask: a [N, 1, 1] grid.
    let mut tsv = (0..n).map(|v| format!("v{v}")).collect::<Vec<_>>().join("\t") + "\n";
    for row in responses.values.chunks(n) {
        tsv += &(row.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("\t") + "\n");
    }
    std::fs::write(dir.join("resp.tsv"), &tsv).unwrap();
    let from_tsv = Responses::from_tsv(&dir.join("resp.tsv"), None).unwrap();
    assert_eq!(from_tsv.values, responses.values);
    assert_eq!(from_tsv.grid_shape, [n, 1, 1]);
    let with_mask = Responses::from_tsv(&dir.join("resp.tsv"), Some(&mask_volume)).unwrap();
    assert_eq!(with_mask.voxels, responses.voxels);

    // Mismatches and cancellation.
    assert!(
        fit_encoder(
            &responses,
            &stimuli[..47],
            &clip,
            &config,
            &AtomicBool::new(false),
            &mut |_, _| {}
        )
        .is_err()
    );
    let cancelled = fit_encoder(
        &responses,
        &stimuli,
        &clip,
        &config,
        &AtomicBool::new(true),
        &mut |_, _| {},
    );
    assert!(matches!(cancelled, Err(EncoderError::Cancelled)));
    std::fs::write(dir.join("ragged.tsv"), "1\t2\n3\n").unwrap();
    assert!(matches!(
        Responses::from_tsv(&dir.join("ragged.tsv"), None),
        Err(EncoderError::File(FileError::Format { .. }))
    ));
    std::fs::write(dir.join("empty.tsv"), "# nothing\n").unwrap();
    assert!(read_stimuli(&dir.join("empty.tsv")).is_err());
    std::fs::remove_dir_all(dir).ok();
}
