//! The encoder file: safetensors with `weight` `[N, D]` f32, `bias` `[N]` f32, `voxel_ijk` `[N, 3]`
//! i64 (i32 accepted), `grid_affine` `[4, 4]` f64 (row-major, voxel → world mm), `grid_shape` `[3]`
//! i64, and the metadata `format = cortexlens-encoder`, `version = 1`, `backbone`,
//! `unit_normalized = true|false`.

use std::collections::HashMap;
use std::path::Path;

use glam::DMat4;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::{Encoder, EncoderError};
use crate::FileError;

/// The `format` metadata value.
pub const FORMAT: &str = "cortexlens-encoder";
/// The `version` metadata value this code writes and reads.
pub const VERSION: &str = "1";

fn bytes_of<T: Copy, const B: usize>(values: &[T], to_le: impl Fn(T) -> [u8; B]) -> Vec<u8> {
    values.iter().flat_map(|&v| to_le(v)).collect()
}

/// Serialises `encoder` to the bytes of an encoder file.
pub fn to_bytes(encoder: &Encoder) -> Result<Vec<u8>, EncoderError> {
    let n = encoder.voxel_count();
    let weight = bytes_of(encoder.weight(), f32::to_le_bytes);
    let bias = bytes_of(encoder.bias(), f32::to_le_bytes);
    let ijk: Vec<i64> = encoder.voxels().iter().flat_map(|v| v.map(i64::from)).collect();
    let ijk = bytes_of(&ijk, i64::to_le_bytes);
    let affine: Vec<f64> = encoder.grid_affine().transpose().to_cols_array().to_vec();
    let affine = bytes_of(&affine, f64::to_le_bytes);
    let shape: Vec<i64> = encoder.grid_shape().iter().map(|&s| s as i64).collect();
    let shape = bytes_of(&shape, i64::to_le_bytes);
    let tensors = vec![
        ("weight", view(Dtype::F32, vec![n, encoder.dim()], &weight)?),
        ("bias", view(Dtype::F32, vec![n], &bias)?),
        ("voxel_ijk", view(Dtype::I64, vec![n, 3], &ijk)?),
        ("grid_affine", view(Dtype::F64, vec![4, 4], &affine)?),
        ("grid_shape", view(Dtype::I64, vec![3], &shape)?),
    ];
    let metadata = HashMap::from([
        ("format".to_owned(), FORMAT.to_owned()),
        ("version".to_owned(), VERSION.to_owned()),
        ("backbone".to_owned(), encoder.backbone().to_owned()),
        ("unit_normalized".to_owned(), encoder.unit_normalized().to_string()),
    ]);
    safetensors::serialize(tensors, Some(metadata)).map_err(|e| EncoderError::Invalid(e.to_string()))
}

/// Writes `encoder` to `path`.
pub fn save_encoder(path: &Path, encoder: &Encoder) -> Result<(), EncoderError> {
    let bytes = to_bytes(encoder)?;
    Ok(std::fs::write(path, bytes).map_err(FileError::io(path))?)
}

/// Reads an encoder file, validating every array (see [`Encoder::new`]).
pub fn load_encoder(path: &Path) -> Result<Encoder, EncoderError> {
    let bytes = std::fs::read(path).map_err(FileError::io(path))?;
    from_bytes(&bytes).map_err(|e| match e {
        EncoderError::Invalid(message) => FileError::format(path, message).into(),
        other => other,
    })
}

/// The `backbone` metadata of an encoder file (the CLIP it was fitted on), read from the header
/// alone: the file is memory-mapped, so its weights are not read.
pub fn read_backbone(path: &Path) -> Result<String, EncoderError> {
    let file = std::fs::File::open(path).map_err(FileError::io(path))?;
    // SAFETY: the map is read once, here; a file truncated meanwhile fails the header's checks.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(FileError::io(path))?;
    let (_, header) =
        SafeTensors::read_metadata(&map).map_err(|e| FileError::format(path, format!("not safetensors: {e}")))?;
    let meta = header.metadata().clone().unwrap_or_default();
    if meta.get("format").map(String::as_str) != Some(FORMAT) {
        return Err(FileError::format(path, format!("not an encoder file (format {:?})", meta.get("format"))).into());
    }
    Ok(meta.get("backbone").cloned().unwrap_or_default())
}

/// Parses the bytes of an encoder file; every problem is [`EncoderError::Invalid`].
pub fn from_bytes(bytes: &[u8]) -> Result<Encoder, EncoderError> {
    let invalid = |m: String| EncoderError::Invalid(m);
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| invalid(format!("not safetensors: {e}")))?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| invalid(format!("not safetensors: {e}")))?;
    let meta = header.metadata().clone().unwrap_or_default();
    let get = |key: &str| meta.get(key).map(String::as_str);
    if get("format") != Some(FORMAT) {
        return Err(invalid(format!(
            "metadata format is {:?}, expected {FORMAT:?}",
            get("format")
        )));
    }
    if get("version") != Some(VERSION) {
        return Err(invalid(format!("unsupported version {:?}", get("version"))));
    }
    let unit_normalized = match get("unit_normalized") {
        Some("true") => true,
        Some("false") => false,
        other => return Err(invalid(format!("unit_normalized is {other:?}, expected true or false"))),
    };
    let backbone = get("backbone").unwrap_or("").to_owned();

    let weight = tensor(&st, "weight")?;
    let [n, d] = dims::<2>(&weight, "weight")?;
    let weight = f32s(&weight, "weight")?;
    let bias_view = tensor(&st, "bias")?;
    if dims::<1>(&bias_view, "bias")? != [n] {
        return Err(invalid(format!(
            "bias has shape {:?}, expected [{n}]",
            bias_view.shape()
        )));
    }
    let bias = f32s(&bias_view, "bias")?;
    let ijk_view = tensor(&st, "voxel_ijk")?;
    if dims::<2>(&ijk_view, "voxel_ijk")? != [n, 3] {
        return Err(invalid(format!(
            "voxel_ijk has shape {:?}, expected [{n}, 3]",
            ijk_view.shape()
        )));
    }
    let ijk = ints(&ijk_view, "voxel_ijk")?;
    let affine_view = tensor(&st, "grid_affine")?;
    if dims::<2>(&affine_view, "grid_affine")? != [4, 4] || affine_view.dtype() != Dtype::F64 {
        return Err(invalid("grid_affine must be [4, 4] f64".into()));
    }
    let rows: Vec<f64> = affine_view
        .data()
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("chunks of 8")))
        .collect();
    let affine = DMat4::from_cols_slice(&rows).transpose();
    let shape_view = tensor(&st, "grid_shape")?;
    if dims::<1>(&shape_view, "grid_shape")? != [3] {
        return Err(invalid("grid_shape must have 3 values".into()));
    }
    let shape = ints(&shape_view, "grid_shape")?;
    if shape.iter().any(|&s| s <= 0 || s > u32::MAX as i64) {
        return Err(invalid(format!("grid_shape {shape:?} is not positive")));
    }
    let grid_shape = [shape[0] as usize, shape[1] as usize, shape[2] as usize];
    let mut voxels = Vec::with_capacity(n);
    for v in ijk.chunks_exact(3) {
        if v.iter().any(|&x| x < 0 || x > u32::MAX as i64) {
            return Err(invalid(format!("voxel {v:?} outside the grid {grid_shape:?}")));
        }
        voxels.push([v[0] as u32, v[1] as u32, v[2] as u32]);
    }
    Encoder::new(weight, bias, d, voxels, affine, grid_shape, backbone, unit_normalized)
}

fn view(dtype: Dtype, dims: Vec<usize>, data: &[u8]) -> Result<TensorView<'_>, EncoderError> {
    TensorView::new(dtype, dims, data).map_err(|e| EncoderError::Invalid(e.to_string()))
}

fn tensor<'a>(st: &SafeTensors<'a>, name: &str) -> Result<TensorView<'a>, EncoderError> {
    st.tensor(name)
        .map_err(|_| EncoderError::Invalid(format!("no tensor {name:?}")))
}

fn dims<const R: usize>(view: &TensorView, name: &str) -> Result<[usize; R], EncoderError> {
    view.shape()
        .try_into()
        .map_err(|_| EncoderError::Invalid(format!("{name} has shape {:?}, expected {R} dimensions", view.shape())))
}

fn f32s(view: &TensorView, name: &str) -> Result<Vec<f32>, EncoderError> {
    if view.dtype() != Dtype::F32 {
        return Err(EncoderError::Invalid(format!(
            "{name} is {:?}, expected F32",
            view.dtype()
        )));
    }
    Ok(view
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("chunks of 4")))
        .collect())
}

fn ints(view: &TensorView, name: &str) -> Result<Vec<i64>, EncoderError> {
    match view.dtype() {
        Dtype::I64 => Ok(view
            .data()
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().expect("chunks of 8")))
            .collect()),
        Dtype::I32 => Ok(view
            .data()
            .chunks_exact(4)
            .map(|c| i64::from(i32::from_le_bytes(c.try_into().expect("chunks of 4"))))
            .collect()),
        other => Err(EncoderError::Invalid(format!(
            "{name} is {other:?}, expected I64 or I32"
        ))),
    }
}
