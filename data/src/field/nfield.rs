//! The `.nfield` scene format: a safetensors file whose `__metadata__` holds one key, `"nfield"`,
//! with a JSON header that describes the field; the tensors hold its parameters. `docs/nfield.md`
//! is the reference for writers.
//!
//! Reading checks, before converting anything: the file length against the memory budget, the
//! safetensors container (its own header, offsets and length), the JSON header, the sizes that the
//! header implies (checked arithmetic, against the budget), then every tensor's presence, shape and
//! dtype. `f16` and `bf16` tensors are converted to `f32`.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Read;
use std::path::Path;

use safetensors::tensor::{Dtype, Metadata, TensorView};
use safetensors::{SafeTensorError, SafeTensors};
use serde::{Deserialize, Serialize};

use super::error::display_name;
use super::validate::{MAX_LOG2_TABLE_SIZE, checked_product};
use super::{
    Activation, Cam, CamGrid, DenseGrid, DenseLayer, Encoding, FieldError, FieldOutput, HashGrid, NeuralField,
    OccupancyGrid,
};
use crate::formats::MEMORY_BUDGET;

/// The `__metadata__` key that holds the JSON header.
pub const NFIELD_METADATA_KEY: &str = "nfield";

/// The header version this build reads and writes.
pub const NFIELD_VERSION: u32 = 1;

/// Bytes read per chunk (progress granularity).
const CHUNK: usize = 1 << 20;

/// The JSON header.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    version: u32,
    bounds_min: [f32; 3],
    bounds_max: [f32; 3],
    encoding: EncodingHeader,
    layers: Vec<LayerHeader>,
    #[serde(default)]
    cam: Option<CamHeader>,
    output: OutputHeader,
    #[serde(default)]
    occupancy: Option<OccupancyHeader>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum EncodingHeader {
    HashGrid {
        levels: u32,
        features: u32,
        log2_table_size: u32,
        base_resolution: u32,
        per_level_scale: f32,
    },
    Dense {
        resolution: [u32; 3],
        features: u32,
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LayerHeader {
    inputs: usize,
    outputs: usize,
    activation: ActivationName,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ActivationName {
    None,
    Relu,
    Sigmoid,
    Exp,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CamHeader {
    resolutions: Vec<[u32; 3]>,
    /// Whether the modulation normalises first ([`Cam::normalize`]); files written before
    /// the option existed always did.
    #[serde(default = "normalized_by_default")]
    normalize: bool,
}

fn normalized_by_default() -> bool {
    true
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum OutputHeader {
    Intensity { scale: f32, offset: f32 },
    DensityRgb {},
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OccupancyHeader {
    resolution: [u32; 3],
}

impl From<ActivationName> for Activation {
    fn from(a: ActivationName) -> Self {
        match a {
            ActivationName::None => Activation::None,
            ActivationName::Relu => Activation::Relu,
            ActivationName::Sigmoid => Activation::Sigmoid,
            ActivationName::Exp => Activation::Exp,
        }
    }
}

impl From<Activation> for ActivationName {
    fn from(a: Activation) -> Self {
        match a {
            Activation::None => ActivationName::None,
            Activation::Relu => ActivationName::Relu,
            Activation::Sigmoid => ActivationName::Sigmoid,
            Activation::Exp => ActivationName::Exp,
        }
    }
}

/// What a tensor holds: parameters (`f32`, `f16` or `bf16` in the file) or occupancy bytes
/// (`u8` or `bool`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Float,
    Byte,
}

/// A tensor that the header implies.
struct Expected {
    name: String,
    shape: Vec<usize>,
    kind: Kind,
}

/// `[rx, ry, rz]` → the tensor shape `[rz, ry, rx]`.
fn zyx(resolution: [u32; 3]) -> Vec<u64> {
    vec![resolution[2] as u64, resolution[1] as u64, resolution[0] as u64]
}

/// The tensors the header implies, in file-independent order, after checking their sizes.
fn expected_tensors(h: &Header) -> Result<Vec<Expected>, FieldError> {
    let mut list: Vec<(String, Vec<u64>, Kind)> = Vec::new();
    match &h.encoding {
        EncodingHeader::HashGrid {
            levels,
            features,
            log2_table_size,
            ..
        } => {
            if *log2_table_size > MAX_LOG2_TABLE_SIZE {
                return Err(FieldError::bad_header(format!(
                    "encoding.log2_table_size {log2_table_size} is over {MAX_LOG2_TABLE_SIZE}"
                )));
            }
            list.push((
                "encoding.params".into(),
                vec![*levels as u64, 1u64 << log2_table_size, *features as u64],
                Kind::Float,
            ));
        }
        EncodingHeader::Dense { resolution, features } => {
            let mut shape = zyx(*resolution);
            shape.push(*features as u64);
            list.push(("encoding.values".into(), shape, Kind::Float));
        }
    }
    for (i, l) in h.layers.iter().enumerate() {
        list.push((
            format!("layers.{i}.weight"),
            vec![l.outputs as u64, l.inputs as u64],
            Kind::Float,
        ));
        list.push((format!("layers.{i}.bias"), vec![l.outputs as u64], Kind::Float));
    }
    if let Some(cam) = &h.cam {
        for (i, r) in cam.resolutions.iter().enumerate() {
            list.push((format!("cam.{i}.scale"), zyx(*r), Kind::Float));
            list.push((format!("cam.{i}.shift"), zyx(*r), Kind::Float));
        }
    }
    if let Some(occ) = &h.occupancy {
        list.push(("occupancy".into(), zyx(occ.resolution), Kind::Byte));
    }

    let mut total: u64 = 0;
    let mut out = Vec::with_capacity(list.len());
    for (name, shape, kind) in list {
        let bytes = checked_product(&shape)
            .and_then(|n| n.checked_mul(if kind == Kind::Float { 4 } else { 1 }))
            .and_then(|b| total.checked_add(b));
        match bytes {
            Some(t) if t <= MEMORY_BUDGET => total = t,
            _ => {
                return Err(FieldError::too_large(format!(
                    "the header implies tensor `{name}` of shape {shape:?}, which takes the decoded field \
                     over the memory budget of {} GiB",
                    MEMORY_BUDGET >> 30
                )));
            }
        }
        let shape = shape
            .into_iter()
            .map(|d| usize::try_from(d).map_err(|_| FieldError::too_large(format!("tensor `{name}` dimension {d}"))))
            .collect::<Result<Vec<_>, _>>()?;
        out.push(Expected { name, shape, kind });
    }
    Ok(out)
}

/// Parses and checks the JSON header text.
fn parse_header(text: &str) -> Result<Header, FieldError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| FieldError::bad_header(format!("the `nfield` metadata is not JSON: {e}")))?;
    match value.get("version").and_then(serde_json::Value::as_u64) {
        Some(v) if v == NFIELD_VERSION as u64 => {}
        Some(v) => {
            return Err(FieldError::unsupported(format!(
                "nfield header version {v}; this build reads version {NFIELD_VERSION}"
            )));
        }
        None => return Err(FieldError::bad_header("the `nfield` header has no integer `version`")),
    }
    serde_json::from_value(value).map_err(|e| FieldError::bad_header(format!("`nfield` header: {e}")))
}

/// The first `n` bytes of a file (fewer if it is shorter).
pub(crate) fn read_head(path: &Path, n: usize) -> Result<Vec<u8>, FieldError> {
    let file = File::open(path).map_err(FieldError::io)?;
    let mut head = Vec::with_capacity(n);
    file.take(n as u64).read_to_end(&mut head).map_err(FieldError::io)?;
    Ok(head)
}

/// Whether `head` starts like a safetensors file: a little-endian header length under 100 MB, then `{`.
pub(crate) fn looks_like_safetensors(head: &[u8]) -> bool {
    head.len() >= 9 && u64::from_le_bytes(head[..8].try_into().expect("8 bytes")) < 100_000_000 && head[8] == b'{'
}

/// Reads a whole file whose length is under the memory budget, reporting `0..=share` of progress.
pub(crate) fn read_file(path: &Path, share: f32, progress: &mut dyn FnMut(f32)) -> Result<Vec<u8>, FieldError> {
    let mut file = File::open(path).map_err(FieldError::io)?;
    let len = file.metadata().map_err(FieldError::io)?.len();
    if len > MEMORY_BUDGET {
        return Err(FieldError::too_large(format!(
            "the file is {len} bytes, over the memory budget of {} GiB",
            MEMORY_BUDGET >> 30
        )));
    }
    let mut data = Vec::with_capacity(len as usize);
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let n = file.read(&mut chunk).map_err(FieldError::io)?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&chunk[..n]);
        if data.len() as u64 > MEMORY_BUDGET {
            return Err(FieldError::too_large(
                "the file grew past the memory budget while it was read",
            ));
        }
        progress(share * (data.len() as f64 / len.max(1) as f64).min(1.0) as f32);
    }
    Ok(data)
}

/// Loads a `.nfield` file, whatever its name.
pub fn load_nfield(path: &Path) -> Result<NeuralField, FieldError> {
    load_nfield_with_progress(path, &mut |_| {})
}

pub(crate) fn load_nfield_with_progress(path: &Path, progress: &mut dyn FnMut(f32)) -> Result<NeuralField, FieldError> {
    let name = display_name(path);
    let result = read_file(path, 0.7, progress).and_then(|bytes| decode(&bytes));
    progress(1.0);
    result.map_err(|e| e.in_file(&name))
}

/// Explains a safetensors container error; `bytes` is the whole file.
fn container_error(e: SafeTensorError, bytes: &[u8]) -> FieldError {
    const FORMAT: &str = "a safetensors file";
    match e {
        SafeTensorError::HeaderTooSmall => FieldError::truncated(format!(
            "{} bytes: a safetensors file starts with an 8-byte header length",
            bytes.len()
        )),
        SafeTensorError::InvalidHeaderLength => {
            let n = u64::from_le_bytes(bytes[..8].try_into().expect("checked by safetensors"));
            FieldError::truncated(format!(
                "the safetensors header claims {n} bytes, the file has {} after the length",
                bytes.len() - 8
            ))
        }
        SafeTensorError::HeaderTooLarge => FieldError::not_format(FORMAT, "the header length is over 100 MB"),
        SafeTensorError::MetadataIncompleteBuffer => match data_end(bytes) {
            Some(end) if end > bytes.len() as u64 => FieldError::truncated(format!(
                "the tensors end at byte {end}, the file has {} bytes",
                bytes.len()
            )),
            Some(end) => FieldError::not_format(
                FORMAT,
                format!("the tensors end at byte {end} but the file has {} bytes", bytes.len()),
            ),
            None => FieldError::not_format(FORMAT, "the tensor offsets do not cover the data"),
        },
        other => FieldError::not_format(FORMAT, other.to_string()),
    }
}

/// Where the tensor data ends according to the safetensors header (`8 + n + max end offset`).
fn data_end(bytes: &[u8]) -> Option<u64> {
    let n = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    let header = bytes.get(8..8 + usize::try_from(n).ok()?)?;
    let value: serde_json::Value = serde_json::from_slice(header).ok()?;
    let mut end = 0u64;
    for (key, info) in value.as_object()? {
        if key == "__metadata__" {
            continue;
        }
        end = end.max(info.get("data_offsets")?.get(1)?.as_u64()?);
    }
    8u64.checked_add(n)?.checked_add(end)
}

/// Little-endian `f16` values as `f32`, through a table of all 65536 values (several times faster
/// than converting each value, and exact).
pub(crate) fn f16_to_f32(data: &[u8]) -> Vec<f32> {
    if data.len() < 1 << 18 {
        return data
            .chunks_exact(2)
            .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect();
    }
    let table: Vec<f32> = (0..=u16::MAX).map(|bits| half::f16::from_bits(bits).to_f32()).collect();
    data.chunks_exact(2)
        .map(|c| table[u16::from_le_bytes([c[0], c[1]]) as usize])
        .collect()
}

/// `f32` values of a floating-point tensor.
fn floats(view: &TensorView<'_>) -> Vec<f32> {
    let data = view.data();
    match view.dtype() {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect(),
        Dtype::F16 => f16_to_f32(data),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        other => unreachable!("dtype {other:?} was checked"),
    }
}

/// Decodes the bytes of a `.nfield` file (errors without a file name).
fn decode(bytes: &[u8]) -> Result<NeuralField, FieldError> {
    let (_, metadata): (usize, Metadata) = SafeTensors::read_metadata(bytes).map_err(|e| container_error(e, bytes))?;
    let text = metadata
        .metadata()
        .as_ref()
        .and_then(|m| m.get(NFIELD_METADATA_KEY))
        .ok_or_else(|| {
            FieldError::bad_header(format!(
                "no `{NFIELD_METADATA_KEY}` key in the safetensors __metadata__: not a cortexlens neural field"
            ))
        })?;
    let header = parse_header(text)?;
    let expected = expected_tensors(&header)?;

    let tensors = SafeTensors::deserialize(bytes).map_err(|e| container_error(e, bytes))?;
    let mut by_name: BTreeMap<&str, TensorView<'_>> = tensors.iter().collect();
    let mut views: HashMap<String, TensorView<'_>> = HashMap::with_capacity(expected.len());
    for e in &expected {
        let view = by_name
            .remove(e.name.as_str())
            .ok_or_else(|| FieldError::MissingTensor {
                file: String::new(),
                name: e.name.clone(),
            })?;
        if view.shape() != e.shape.as_slice() {
            return Err(FieldError::mismatch(
                &e.name,
                format!("shape {:?}, the header implies {:?}", view.shape(), e.shape),
            ));
        }
        let dtype_ok = match e.kind {
            Kind::Float => matches!(view.dtype(), Dtype::F32 | Dtype::F16 | Dtype::BF16),
            Kind::Byte => matches!(view.dtype(), Dtype::U8 | Dtype::BOOL),
        };
        if !dtype_ok {
            let want = if e.kind == Kind::Float {
                "F32, F16 or BF16"
            } else {
                "U8 or BOOL"
            };
            return Err(FieldError::mismatch(
                &e.name,
                format!("dtype {:?}, expected {want}", view.dtype()),
            ));
        }
        views.insert(e.name.clone(), view);
    }
    if let Some(extra) = by_name.keys().next() {
        return Err(FieldError::UnexpectedTensor {
            file: String::new(),
            name: (*extra).to_owned(),
        });
    }

    let take = |name: &str| floats(&views[name]);
    let encoding = match header.encoding {
        EncodingHeader::HashGrid {
            levels,
            features,
            log2_table_size,
            base_resolution,
            per_level_scale,
        } => Encoding::HashGrid(HashGrid {
            levels,
            features,
            log2_table_size,
            base_resolution,
            per_level_scale,
            params: take("encoding.params"),
        }),
        EncodingHeader::Dense { resolution, features } => Encoding::Dense(DenseGrid {
            resolution,
            features,
            values: take("encoding.values"),
        }),
    };
    let layers = header
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| DenseLayer {
            inputs: l.inputs,
            outputs: l.outputs,
            weight: take(&format!("layers.{i}.weight")),
            bias: take(&format!("layers.{i}.bias")),
            activation: l.activation.into(),
        })
        .collect();
    let cam = header.cam.map(|cam| Cam {
        grids: cam
            .resolutions
            .iter()
            .enumerate()
            .map(|(i, &resolution)| CamGrid {
                resolution,
                scale: take(&format!("cam.{i}.scale")),
                shift: take(&format!("cam.{i}.shift")),
            })
            .collect(),
        normalize: cam.normalize,
    });
    let output = match header.output {
        OutputHeader::Intensity { scale, offset } => FieldOutput::Intensity { scale, offset },
        OutputHeader::DensityRgb {} => FieldOutput::DensityRgb,
    };
    let occupancy = header.occupancy.map(|o| OccupancyGrid {
        resolution: o.resolution,
        occupied: views["occupancy"].data().to_vec(),
    });
    let field = NeuralField {
        bounds_min: header.bounds_min,
        bounds_max: header.bounds_max,
        encoding,
        layers,
        cam,
        output,
        occupancy,
    };
    field.validate()?;
    Ok(field)
}

/// The JSON header of a field (the value of the `nfield` metadata key).
fn header_of(field: &NeuralField) -> Header {
    Header {
        version: NFIELD_VERSION,
        bounds_min: field.bounds_min,
        bounds_max: field.bounds_max,
        encoding: match &field.encoding {
            Encoding::HashGrid(g) => EncodingHeader::HashGrid {
                levels: g.levels,
                features: g.features,
                log2_table_size: g.log2_table_size,
                base_resolution: g.base_resolution,
                per_level_scale: g.per_level_scale,
            },
            Encoding::Dense(g) => EncodingHeader::Dense {
                resolution: g.resolution,
                features: g.features,
            },
        },
        layers: field
            .layers
            .iter()
            .map(|l| LayerHeader {
                inputs: l.inputs,
                outputs: l.outputs,
                activation: l.activation.into(),
            })
            .collect(),
        cam: field.cam.as_ref().map(|cam| CamHeader {
            resolutions: cam.grids.iter().map(|c| c.resolution).collect(),
            normalize: cam.normalize,
        }),
        output: match field.output {
            FieldOutput::Intensity { scale, offset } => OutputHeader::Intensity { scale, offset },
            FieldOutput::DensityRgb => OutputHeader::DensityRgb {},
        },
        occupancy: field.occupancy.as_ref().map(|o| OccupancyHeader {
            resolution: o.resolution,
        }),
    }
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Writes `field` as a `.nfield` file (all parameters `f32`, occupancy `u8`), replacing `path`
/// atomically. The field is validated first: an invalid field is not written.
pub fn save_field(path: &Path, field: &NeuralField) -> Result<(), FieldError> {
    let name = display_name(path);
    save_inner(path, field).map_err(|e| e.in_file(&name))
}

fn save_inner(path: &Path, field: &NeuralField) -> Result<(), FieldError> {
    field.validate()?;
    let header = header_of(field);
    let expected = expected_tensors(&header)?;
    let text = serde_json::to_string(&header).expect("the header serialises");

    let mut data: HashMap<String, Vec<u8>> = HashMap::with_capacity(expected.len());
    match &field.encoding {
        Encoding::HashGrid(g) => data.insert("encoding.params".into(), le_bytes(&g.params)),
        Encoding::Dense(g) => data.insert("encoding.values".into(), le_bytes(&g.values)),
    };
    for (i, l) in field.layers.iter().enumerate() {
        data.insert(format!("layers.{i}.weight"), le_bytes(&l.weight));
        data.insert(format!("layers.{i}.bias"), le_bytes(&l.bias));
    }
    for (i, c) in field.cam.iter().flat_map(|cam| &cam.grids).enumerate() {
        data.insert(format!("cam.{i}.scale"), le_bytes(&c.scale));
        data.insert(format!("cam.{i}.shift"), le_bytes(&c.shift));
    }
    if let Some(o) = &field.occupancy {
        data.insert("occupancy".into(), o.occupied.clone());
    }

    let mut views = Vec::with_capacity(expected.len());
    for e in &expected {
        let dtype = if e.kind == Kind::Float { Dtype::F32 } else { Dtype::U8 };
        let view = TensorView::new(dtype, e.shape.clone(), &data[&e.name])
            .map_err(|err| FieldError::invalid(format!("tensor `{}`: {err}", e.name)))?;
        views.push((e.name.clone(), view));
    }
    let metadata = HashMap::from([(NFIELD_METADATA_KEY.to_owned(), text)]);
    safetensors::serialize_to_file(views, Some(metadata), path).map_err(|e| match e {
        SafeTensorError::IoError(io) => FieldError::io(io),
        other => FieldError::invalid(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_json_shape() {
        let h = Header {
            version: 1,
            bounds_min: [0.0; 3],
            bounds_max: [1.0; 3],
            encoding: EncodingHeader::Dense {
                resolution: [2, 3, 4],
                features: 2,
            },
            layers: vec![LayerHeader {
                inputs: 2,
                outputs: 4,
                activation: ActivationName::Exp,
            }],
            cam: None,
            output: OutputHeader::DensityRgb {},
            occupancy: None,
        };
        let text = serde_json::to_string(&h).unwrap();
        assert_eq!(
            text,
            r#"{"version":1,"bounds_min":[0.0,0.0,0.0],"bounds_max":[1.0,1.0,1.0],"encoding":{"type":"dense","resolution":[2,3,4],"features":2},"layers":[{"inputs":2,"outputs":4,"activation":"exp"}],"cam":null,"output":{"type":"density_rgb"},"occupancy":null}"#
        );
        let back = parse_header(&text).unwrap();
        assert_eq!(expected_tensors(&back).unwrap()[0].shape, [4, 3, 2, 2]);
        // Unknown keys, in the header or a tagged object, are rejected.
        let typo = text.replace("\"occupancy\"", "\"occupency\"");
        assert!(matches!(parse_header(&typo), Err(FieldError::BadHeader { .. })));
        let typo = text.replace("\"features\":2}", "\"features\":2,\"extra\":1}");
        assert!(matches!(parse_header(&typo), Err(FieldError::BadHeader { .. })));
        let typo = text.replace("{\"type\":\"density_rgb\"}", "{\"type\":\"density_rgb\",\"gamma\":2}");
        assert!(matches!(parse_header(&typo), Err(FieldError::BadHeader { .. })));
        let v2 = text.replace("\"version\":1", "\"version\":2");
        assert!(matches!(parse_header(&v2), Err(FieldError::Unsupported { .. })));
    }
}
