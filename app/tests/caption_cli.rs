//! `cortexlens caption` end to end on the tiny fixture models of the inference crate: a voxel list,
//! a mask and a surface region give one TSV row per voxel with the same caption the library gives.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::AtomicBool;

use cortexlens_data::Volume;
use cortexlens_data::formats::save_nifti;
use cortexlens_inference::Device;
use cortexlens_inference::brainscuba::caption_voxels;
use cortexlens_inference::caption::{Captioner, DecodeConfig};
use cortexlens_inference::encoder::Encoder;
use cortexlens_inference::encoder::file::save_encoder;
use cortexlens_inference::projection::{EmbeddingPool, ProjectionConfig};
use glam::{DMat4, DVec3};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../inference/tests/fixtures")
}

fn cortexlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cortexlens"))
        .args(args)
        .output()
        .expect("run cortexlens")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Four voxels of a 4×4×4 grid whose weights are pool entries 1, 5, 9 and 13.
fn encoder(pool: &EmbeddingPool) -> Encoder {
    let weight: Vec<f32> = [1, 5, 9, 13].iter().flat_map(|&i| pool.embedding(i).unwrap()).collect();
    Encoder::new(
        weight,
        vec![0.0; 4],
        pool.dim(),
        vec![[0, 0, 0], [1, 2, 3], [3, 3, 3], [2, 0, 1]],
        DMat4::from_translation(DVec3::new(-4.0, -4.0, -4.0)) * DMat4::from_scale(DVec3::splat(2.0)),
        [4, 4, 4],
        "tiny",
        true,
    )
    .unwrap()
}

#[test]
fn captions_voxels_and_masked_regions_into_a_table() {
    let dir = std::env::temp_dir().join(format!("cortexlens-caption-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pool_path = fixtures().join("clip_tiny/pool.safetensors");
    let decoder = fixtures().join("clipcap_tiny");
    let pool = EmbeddingPool::open(&pool_path).unwrap();
    let encoder = encoder(&pool);
    let encoder_path = dir.join("encoder.safetensors");
    save_encoder(&encoder_path, &encoder).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let base = [
        "caption".to_owned(),
        "--encoder".into(),
        s(&encoder_path),
        "--pool".into(),
        s(&pool_path),
        "--decoder".into(),
        s(&decoder),
        "--max-tokens".into(),
        "10".into(),
    ];
    let run = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().map(String::as_str).chain(extra.iter().copied()).collect();
        cortexlens(&args)
    };

    let table = dir.join("voxels.tsv");
    let out = run(&[
        "--voxel",
        "1,2,3",
        "--voxel",
        "2,0,1",
        "--top",
        "3",
        "--out",
        &s(&table),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&table).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        rows[0],
        ["voxel", "i", "j", "k", "x_mm", "y_mm", "z_mm", "caption", "top_images"]
    );
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[1][..7], ["1", "1", "2", "3", "-2.00", "0.00", "2.00"]);
    assert_eq!(rows[2][0], "3");
    assert_eq!(rows[1][8].split(',').next(), Some("5"), "its own pool entry first");
    let library = caption_voxels(
        &encoder,
        &[1, 3],
        &pool,
        &Captioner::load(&decoder, &Device::Cpu).unwrap(),
        &ProjectionConfig::default(),
        &DecodeConfig {
            max_tokens: 10,
            ..DecodeConfig::default()
        },
        &AtomicBool::new(false),
        &mut |_, _, _| {},
    )
    .unwrap();
    assert_eq!(rows[1][7], library[0].caption.trim());
    assert_eq!(rows[2][7], library[1].caption.trim());

    // A mask on the encoder's grid: label 2 covers voxels 0 and 2, a threshold of 1.5 also voxel 3.
    let mut values = vec![0.0f32; 64];
    values[0] = 2.0;
    let index = |[i, j, k]: [usize; 3]| i + 4 * (j + 4 * k);
    values[index([3, 3, 3])] = 2.0;
    values[index([2, 0, 1])] = -1.5;
    let mask = Volume::from_f32("mask", [4, 4, 4, 1], encoder.grid_affine(), values);
    let mask_path = dir.join("mask.nii");
    save_nifti(&mask_path, &mask).unwrap();
    let region = dir.join("region.tsv");
    let out = run(&["--mask", &s(&mask_path), "--label", "2", "--out", &s(&region)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let voxels: Vec<String> = std::fs::read_to_string(&region)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap().to_owned())
        .collect();
    assert_eq!(voxels, ["0", "2"]);
    let out = run(&["--mask", &s(&mask_path), "--threshold", "1.5", "--out", &s(&region)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&region).unwrap().lines().count(), 4);

    // Bad input: exit code 2 and a one-line message.
    let out = run(&["--voxel", "3,0,0", "--out", &s(&table)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not one of the encoder's 4 voxels"),
        "{}",
        stderr(&out)
    );
    let out = cortexlens(&[
        "caption",
        "--encoder",
        &s(&encoder_path),
        "--pool",
        &s(&pool_path),
        "--decoder",
        &s(&dir),
        "--voxel",
        "0,0,0",
        "--out",
        &s(&table),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("config.json"),
        "names the missing file: {}",
        stderr(&out)
    );
}

#[test]
fn captions_the_encoder_voxels_at_a_labels_vertices() {
    let dir = std::env::temp_dir().join(format!("cortexlens-caption-region-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pool_path = fixtures().join("clip_tiny/pool.safetensors");
    let decoder = fixtures().join("clipcap_tiny");
    let pool = EmbeddingPool::open(&pool_path).unwrap();
    // The grid of tests/data/generated/labels: vertex i + 4j at (−6 + 3i, −6 + 3j, 0), the centre of
    // cell (i, j, 2) of this 3 mm grid. Rows: vertex 5, vertex 10, vertex 15 (not in the label), a
    // cell below the grid's plane.
    let affine = DMat4::from_translation(DVec3::new(-6.0, -6.0, -6.0)) * DMat4::from_scale(DVec3::splat(3.0));
    let weight: Vec<f32> = [2, 4, 6, 8].iter().flat_map(|&i| pool.embedding(i).unwrap()).collect();
    let voxels = vec![[1, 1, 2], [2, 2, 2], [3, 3, 2], [0, 0, 0]];
    let on_grid = Encoder::new(
        weight,
        vec![0.0; 4],
        pool.dim(),
        voxels,
        affine,
        [4, 4, 4],
        "tiny",
        true,
    )
    .unwrap();
    let encoder_path = dir.join("encoder.safetensors");
    save_encoder(&encoder_path, &on_grid).unwrap();
    let labels = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/generated/labels");
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let table = dir.join("region.tsv");
    let run = |encoder: &Path, label: &Path| {
        cortexlens(&[
            "caption",
            "--encoder",
            &s(encoder),
            "--pool",
            &s(&pool_path),
            "--decoder",
            &s(&decoder),
            "--max-tokens",
            "10",
            "--region",
            &s(label),
            "--surface",
            &s(&labels.join("lh.grid_uint32.gii")),
            "--out",
            &s(&table),
        ])
    };
    let out = run(&encoder_path, &labels.join("lh.square.label"));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&table).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split('\t').collect()).collect();
    let voxels: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(voxels, ["0", "1"], "the voxels under vertices 5 and 10, once each");
    assert_eq!(&rows[0][1..7], ["1", "1", "2", "-3.00", "-3.00", "0.00"]);

    // An encoder with no voxel under the label, and a file that is not a label: bad input.
    let elsewhere = dir.join("elsewhere.safetensors");
    // (The other test's encoder: its voxels lie off the grid's plane, k = 2.)
    save_encoder(&elsewhere, &encoder(&pool)).unwrap();
    let out = run(&elsewhere, &labels.join("lh.square.label"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("lh.square.label holds none of the encoder's"),
        "{}",
        stderr(&out)
    );
    let out = run(&encoder_path, &labels.join("lh.grid_uint32.gii"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--region takes a FreeSurfer .label file"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(dir);
}
