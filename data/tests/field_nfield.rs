//! `.nfield` files: round trips, f16/bf16 tensors, and malformed files.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::scratch;
use cortexlens_data::field::{
    Activation, Cam, CamGrid, DenseGrid, DenseLayer, Encoding, FieldError, FieldOutput, HashGrid, NeuralField,
    OccupancyGrid, is_field_path, load_field, load_nfield, save_field,
};
use safetensors::tensor::{Dtype, TensorView};

/// Deterministic values in `[-1, 1)`.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    fn vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.next()).collect()
    }
}

fn mlp(rng: &mut Lcg, widths: &[usize], last: Activation) -> Vec<DenseLayer> {
    (0..widths.len() - 1)
        .map(|i| DenseLayer {
            inputs: widths[i],
            outputs: widths[i + 1],
            weight: rng.vec(widths[i] * widths[i + 1]),
            bias: rng.vec(widths[i + 1]),
            activation: if i + 2 == widths.len() { last } else { Activation::Relu },
        })
        .collect()
}

fn cam(rng: &mut Lcg, n: usize) -> Cam {
    let grids = (0..n)
        .map(|i| {
            let resolution = [2 + i as u32, 3, 2];
            let cells = (resolution[0] * 3 * 2) as usize;
            CamGrid {
                resolution,
                scale: rng.vec(cells).iter().map(|v| 1.0 + 0.5 * v).collect(),
                shift: rng.vec(cells),
            }
        })
        .collect();
    Cam { grids, normalize: true }
}

fn occupancy(rng: &mut Lcg) -> OccupancyGrid {
    OccupancyGrid {
        resolution: [4, 3, 2],
        occupied: (0..24).map(|_| (rng.next() > 0.0) as u8).collect(),
    }
}

fn hash_field(with_cam: bool, with_occupancy: bool) -> NeuralField {
    let mut rng = Lcg(7);
    let (levels, features, log2) = (4u32, 2u32, 8u32);
    NeuralField {
        bounds_min: [-90.0, -126.0, -72.0],
        bounds_max: [91.0, 91.0, 109.0],
        encoding: Encoding::HashGrid(HashGrid {
            levels,
            features,
            log2_table_size: log2,
            base_resolution: 4,
            per_level_scale: 1.5,
            params: rng.vec(((levels * features) as usize) << log2),
        }),
        layers: mlp(&mut rng, &[8, 16, 16, 4], Activation::Exp),
        cam: with_cam.then(|| cam(&mut rng, 2)),
        output: FieldOutput::DensityRgb,
        occupancy: with_occupancy.then(|| occupancy(&mut rng)),
    }
}

fn dense_field(with_cam: bool, with_occupancy: bool) -> NeuralField {
    let mut rng = Lcg(11);
    NeuralField {
        bounds_min: [0.0, 0.0, 0.0],
        bounds_max: [1.0, 2.0, 3.0],
        encoding: Encoding::Dense(DenseGrid {
            resolution: [5, 4, 3],
            features: 3,
            values: rng.vec(5 * 4 * 3 * 3),
        }),
        layers: mlp(&mut rng, &[3, 8, 1], Activation::None),
        cam: with_cam.then(|| cam(&mut rng, 1)),
        output: FieldOutput::Intensity {
            scale: 1234.5,
            offset: -17.25,
        },
        occupancy: with_occupancy.then(|| occupancy(&mut rng)),
    }
}

fn probe_points() -> Vec<[f32; 3]> {
    (0..64)
        .map(|n| {
            let t = n as f32 / 64.0;
            [
                t * 200.0 - 100.0,
                (t * 3.7).fract() * 3.0,
                (t * 5.3).fract() * 200.0 - 80.0,
            ]
        })
        .collect()
}

#[test]
fn round_trips() {
    let dir = scratch("nfield-round-trip");
    for with_cam in [false, true] {
        for with_occupancy in [false, true] {
            for field in [
                hash_field(with_cam, with_occupancy),
                dense_field(with_cam, with_occupancy),
            ] {
                field.validate().unwrap();
                let path = dir.join(format!("f-{with_cam}-{with_occupancy}.nfield"));
                save_field(&path, &field).unwrap();
                let back = load_field(&path).unwrap();
                assert_eq!(back, field);
                let points = probe_points();
                assert_eq!(back.eval_batch(&points), field.eval_batch(&points));
                // The same file under another name is recognised by its content.
                let other = dir.join("renamed.bin");
                std::fs::copy(&path, &other).unwrap();
                assert_eq!(load_field(&other).unwrap(), field);
                assert_eq!(load_nfield(&other).unwrap(), field);
            }
        }
    }
    assert!(is_field_path(Path::new("x.nfield")));
    // CAM without normalisation is kept; a header without the key (files written before it
    // existed) normalises.
    let mut field = hash_field(true, false);
    field.cam.as_mut().unwrap().normalize = false;
    let path = dir.join("unnormalised.nfield");
    save_field(&path, &field).unwrap();
    assert_eq!(load_field(&path).unwrap(), field);
    // The key as it stands in the safetensors header (the nfield JSON is a string there).
    let key = br#",\"normalize\":false"#;
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes
        .windows(key.len())
        .position(|w| w == key)
        .expect("the header says so");
    // Blank it out (spaces keep the header's length and the JSON valid).
    bytes[at..at + key.len()].fill(b' ');
    let old_path = dir.join("old.nfield");
    std::fs::write(&old_path, bytes).unwrap();
    let read = load_field(&old_path).unwrap();
    assert!(read.cam.unwrap().normalize);
}

#[test]
fn header_is_as_documented() {
    let dir = scratch("nfield-header");
    let path = dir.join("h.nfield");
    save_field(&path, &dense_field(true, true)).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let text = &meta.metadata().as_ref().unwrap()["nfield"];
    let h: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(h["version"], 1);
    assert_eq!(h["encoding"]["type"], "dense");
    assert_eq!(h["encoding"]["resolution"], serde_json::json!([5, 4, 3]));
    assert_eq!(h["layers"][0]["activation"], "relu");
    assert_eq!(h["layers"][1]["activation"], "none");
    assert_eq!(h["cam"]["resolutions"], serde_json::json!([[2, 3, 2]]));
    assert_eq!(
        h["output"],
        serde_json::json!({"type": "intensity", "scale": 1234.5, "offset": -17.25})
    );
    assert_eq!(h["occupancy"]["resolution"], serde_json::json!([4, 3, 2]));
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(tensors.tensor("encoding.values").unwrap().shape(), [3, 4, 5, 3]);
    assert_eq!(tensors.tensor("layers.0.weight").unwrap().shape(), [8, 3]);
    assert_eq!(tensors.tensor("layers.1.bias").unwrap().shape(), [1]);
    assert_eq!(tensors.tensor("cam.0.scale").unwrap().shape(), [2, 3, 2]);
    let occ = tensors.tensor("occupancy").unwrap();
    assert_eq!((occ.shape(), occ.dtype()), (&[2usize, 3, 4][..], Dtype::U8));
    assert_eq!(tensors.len(), 8);
    let h = save_and_header(&hash_field(false, false));
    assert_eq!(h["encoding"]["type"], "hash_grid");
    assert_eq!(h["encoding"]["log2_table_size"], 8);
    assert_eq!(h["cam"], serde_json::Value::Null);
    assert_eq!(h["output"], serde_json::json!({"type": "density_rgb"}));
}

fn save_and_header(field: &NeuralField) -> serde_json::Value {
    let dir = scratch("nfield-header-2");
    let path = dir.join("h.nfield");
    save_field(&path, field).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    serde_json::from_str(&meta.metadata().as_ref().unwrap()["nfield"]).unwrap()
}

/// One tensor of a hand-written file.
struct Raw {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

fn raw_f32(name: &str, shape: &[usize], values: &[f32]) -> Raw {
    Raw {
        name: name.into(),
        dtype: Dtype::F32,
        shape: shape.to_vec(),
        bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

fn write_raw(path: &Path, header: Option<&str>, tensors: &[Raw]) {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                TensorView::new(t.dtype, t.shape.clone(), &t.bytes).unwrap(),
            )
        })
        .collect();
    let meta = header.map(|h| HashMap::from([("nfield".to_owned(), h.to_owned())]));
    std::fs::write(path, safetensors::serialize(views, meta).unwrap()).unwrap();
}

/// The dense field of [`small_header`]: 2³ × 1 values `v`, layer 1 → 1.
const SMALL_HEADER: &str = r#"{"version":1,"bounds_min":[0,0,0],"bounds_max":[1,1,1],
  "encoding":{"type":"dense","resolution":[2,2,2],"features":1},
  "layers":[{"inputs":1,"outputs":1,"activation":"none"}],
  "cam":null,"output":{"type":"intensity","scale":1,"offset":0},"occupancy":null}"#;

fn small_tensors() -> Vec<Raw> {
    vec![
        raw_f32(
            "encoding.values",
            &[2, 2, 2, 1],
            &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        ),
        raw_f32("layers.0.weight", &[1, 1], &[2.0]),
        raw_f32("layers.0.bias", &[1], &[0.5]),
    ]
}

#[test]
fn hand_written_file_with_half_tensors() {
    let dir = scratch("nfield-half");
    let path = dir.join("small.nfield");
    write_raw(&path, Some(SMALL_HEADER), &small_tensors());
    let f = load_field(&path).unwrap();
    assert_eq!(f.eval([1.0, 1.0, 1.0])[0], 14.5);
    assert_eq!(f.eval([0.5, 0.5, 0.5])[0], 7.5);

    // Missing `cam` and `occupancy` keys mean null.
    let header = SMALL_HEADER
        .replace("\"cam\":null,", "")
        .replace(",\"occupancy\":null", "");
    write_raw(&path, Some(&header), &small_tensors());
    assert_eq!(load_field(&path).unwrap(), f);

    for (dtype, convert) in [
        (
            Dtype::F16,
            (|v: f32| half::f16::from_f32(v).to_le_bytes()) as fn(f32) -> [u8; 2],
        ),
        (Dtype::BF16, |v: f32| half::bf16::from_f32(v).to_le_bytes()),
    ] {
        let tensors: Vec<Raw> = small_tensors()
            .into_iter()
            .map(|t| {
                let values: Vec<f32> = t
                    .bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect();
                Raw {
                    dtype,
                    bytes: values.iter().flat_map(|&v| convert(v)).collect(),
                    ..t
                }
            })
            .collect();
        write_raw(&path, Some(SMALL_HEADER), &tensors);
        assert_eq!(load_field(&path).unwrap(), f, "{dtype:?}");
    }

    // Occupancy may be BOOL.
    let header = SMALL_HEADER.replace("\"occupancy\":null", "\"occupancy\":{\"resolution\":[1,1,2]}");
    let mut tensors = small_tensors();
    tensors.push(Raw {
        name: "occupancy".into(),
        dtype: Dtype::BOOL,
        shape: vec![2, 1, 1],
        bytes: vec![0, 1],
    });
    write_raw(&path, Some(&header), &tensors);
    let f = load_field(&path).unwrap();
    assert!(!f.occupied([0.5, 0.5, 0.25]));
    assert!(f.occupied([0.5, 0.5, 0.75]));
}

#[track_caller]
fn load_err(path: &Path) -> FieldError {
    let e = load_field(path).expect_err("the file must not load");
    let name = path.file_name().unwrap().to_string_lossy();
    assert_eq!(e.file(), name, "{e}");
    assert!(e.to_string().starts_with(&format!("{name}: ")), "{e}");
    e
}

#[test]
fn malformed_files() {
    let dir = scratch("nfield-malformed");
    let path = dir.join("bad.nfield");

    // Truncated anywhere: in the length, in the header, in the data.
    let good = dir.join("good.nfield");
    save_field(&good, &hash_field(true, true)).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    for cut in [0, 4, 8, 8 + header_len / 2, 8 + header_len + 10, bytes.len() - 1] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let e = load_err(&path);
        assert!(matches!(e, FieldError::Truncated { .. }), "cut at {cut}: {e}");
    }
    // Trailing garbage.
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"junk");
    std::fs::write(&path, &longer).unwrap();
    assert!(matches!(load_err(&path), FieldError::NotFormat { .. }));

    // Not safetensors at all.
    std::fs::write(&path, b"this is a text file, not a neural field at all").unwrap();
    assert!(matches!(load_err(&path), FieldError::NotFormat { .. }));

    // Bad or missing JSON header.
    write_raw(&path, Some("{\"version\": 1, "), &small_tensors());
    let e = load_err(&path);
    assert!(
        matches!(e, FieldError::BadHeader { .. }) && e.to_string().contains("not JSON"),
        "{e}"
    );
    write_raw(&path, None, &small_tensors());
    let e = load_err(&path);
    assert!(
        matches!(e, FieldError::BadHeader { .. }) && e.to_string().contains("`nfield`"),
        "{e}"
    );
    write_raw(
        &path,
        Some(&SMALL_HEADER.replace("\"none\"", "\"tanh\"")),
        &small_tensors(),
    );
    assert!(matches!(load_err(&path), FieldError::BadHeader { .. }));
    write_raw(
        &path,
        Some(&SMALL_HEADER.replace("\"bounds_max\"", "\"bounds_maxx\"")),
        &small_tensors(),
    );
    assert!(matches!(load_err(&path), FieldError::BadHeader { .. }));
    write_raw(
        &path,
        Some(&SMALL_HEADER.replace("\"version\":1", "\"version\":9")),
        &small_tensors(),
    );
    assert!(matches!(load_err(&path), FieldError::Unsupported { .. }));

    // Wrong shape.
    let mut tensors = small_tensors();
    tensors[0] = raw_f32("encoding.values", &[2, 2, 1, 2], &[0.0; 8]);
    write_raw(&path, Some(SMALL_HEADER), &tensors);
    let e = load_err(&path);
    assert!(
        matches!(&e, FieldError::TensorMismatch { name, .. } if name == "encoding.values")
            && e.to_string()
                .contains("shape [2, 2, 1, 2], the header implies [2, 2, 2, 1]"),
        "{e}"
    );

    // Wrong dtype.
    let mut tensors = small_tensors();
    tensors[2] = Raw {
        name: "layers.0.bias".into(),
        dtype: Dtype::I32,
        shape: vec![1],
        bytes: vec![0; 4],
    };
    write_raw(&path, Some(SMALL_HEADER), &tensors);
    let e = load_err(&path);
    assert!(
        matches!(&e, FieldError::TensorMismatch { name, .. } if name == "layers.0.bias"),
        "{e}"
    );
    assert!(e.to_string().contains("dtype I32"), "{e}");

    // Missing and unexpected tensors.
    let mut tensors = small_tensors();
    tensors.remove(1);
    write_raw(&path, Some(SMALL_HEADER), &tensors);
    let e = load_err(&path);
    assert!(
        matches!(&e, FieldError::MissingTensor { name, .. } if name == "layers.0.weight"),
        "{e}"
    );
    let mut tensors = small_tensors();
    tensors.push(raw_f32("layers.1.weight", &[1], &[1.0]));
    write_raw(&path, Some(SMALL_HEADER), &tensors);
    let e = load_err(&path);
    assert!(
        matches!(&e, FieldError::UnexpectedTensor { name, .. } if name == "layers.1.weight"),
        "{e}"
    );

    // A consistent file of an inconsistent field: the layer chain does not fit the encoding.
    let header = SMALL_HEADER.replace("\"inputs\":1", "\"inputs\":2");
    let mut tensors = small_tensors();
    tensors[1] = raw_f32("layers.0.weight", &[1, 2], &[1.0, 1.0]);
    write_raw(&path, Some(&header), &tensors);
    let e = load_err(&path);
    assert!(
        matches!(e, FieldError::Invalid { .. }) && e.to_string().contains("layer 0 takes 2 inputs"),
        "{e}"
    );

    // CAM grid count differs from the hidden layer count.
    let header = SMALL_HEADER.replace("\"cam\":null", "\"cam\":{\"resolutions\":[[2,2,2]]}");
    let mut tensors = small_tensors();
    tensors.push(raw_f32("cam.0.scale", &[2, 2, 2], &[1.0; 8]));
    tensors.push(raw_f32("cam.0.shift", &[2, 2, 2], &[0.0; 8]));
    write_raw(&path, Some(&header), &tensors);
    let e = load_err(&path);
    assert!(
        matches!(e, FieldError::Invalid { .. }) && e.to_string().contains("cam has 1 grids"),
        "{e}"
    );

    // A header that claims far more than the memory budget, with no data behind it: refused before
    // anything is allocated.
    let header = SMALL_HEADER.replace(
        "{\"type\":\"dense\",\"resolution\":[2,2,2],\"features\":1}",
        "{\"type\":\"hash_grid\",\"levels\":64,\"features\":8,\"log2_table_size\":30,\"base_resolution\":16,\"per_level_scale\":2}",
    );
    write_raw(&path, Some(&header), &small_tensors());
    assert!(matches!(load_err(&path), FieldError::TooLarge { .. }));
    let header = SMALL_HEADER.replace(
        "[2,2,2],\"features\":1",
        "[4000000000,4000000000,4000000000],\"features\":1",
    );
    write_raw(&path, Some(&header), &small_tensors());
    assert!(matches!(load_err(&path), FieldError::TooLarge { .. }));

    // A missing file.
    let e = load_err(&dir.join("nowhere.nfield"));
    assert!(matches!(e, FieldError::Io { .. }));
}

#[test]
fn invalid_fields_are_not_written() {
    let dir = scratch("nfield-save-invalid");
    let mut f = dense_field(false, false);
    f.layers[1].inputs = 7;
    let path = dir.join("x.nfield");
    let e = save_field(&path, &f).unwrap_err();
    assert!(matches!(e, FieldError::Invalid { .. }) && e.file() == "x.nfield", "{e}");
    assert!(!path.exists());
}
