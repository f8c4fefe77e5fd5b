//! Named tensors from a safetensors file or a PyTorch state_dict, checked against expected shapes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::pickle::PthTensors;
use candle_core::{DType, Device, Tensor};

use super::error::CaptionError;

enum Source {
    Map(HashMap<String, Tensor>),
    Pth(Box<PthTensors>),
}

/// The tensors of one weights file, handed out as f32 on one device.
pub struct Weights {
    source: Source,
    path: PathBuf,
    device: Device,
}

impl Weights {
    /// Reads a safetensors file.
    pub fn from_safetensors(path: &Path, device: &Device) -> Result<Self, CaptionError> {
        let map = candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| CaptionError::Weights {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Ok(Self::from_map(map, path, device))
    }

    /// Opens a PyTorch checkpoint that holds a plain state_dict (as ClipCap's `coco_weights.pt`);
    /// tensors are read when asked for, so unused buffers (the attention masks) are never loaded.
    pub fn from_pytorch(path: &Path, device: &Device) -> Result<Self, CaptionError> {
        let pth = PthTensors::new(path, None).map_err(|e| CaptionError::Weights {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Ok(Self {
            source: Source::Pth(Box::new(pth)),
            path: path.to_owned(),
            device: device.clone(),
        })
    }

    /// Tensors already in memory; `path` only names them in errors.
    pub fn from_map(map: HashMap<String, Tensor>, path: &Path, device: &Device) -> Self {
        Self {
            source: Source::Map(map),
            path: path.to_owned(),
            device: device.clone(),
        }
    }

    /// The tensor `name` as f32 on the device, checked to have shape `shape`.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<Tensor, CaptionError> {
        let tensor = match &self.source {
            Source::Map(map) => map.get(name).cloned(),
            Source::Pth(pth) => pth.get(name).map_err(|e| CaptionError::Weights {
                path: self.path.clone(),
                message: format!("{name}: {e}"),
            })?,
        }
        .ok_or_else(|| CaptionError::MissingTensor { name: name.to_owned() })?;
        if tensor.dims() != shape {
            return Err(CaptionError::TensorShape {
                name: name.to_owned(),
                expected: shape.to_vec(),
                found: tensor.dims().to_vec(),
            });
        }
        if !matches!(tensor.dtype(), DType::F32 | DType::F16 | DType::BF16 | DType::F64) {
            return Err(CaptionError::Weights {
                path: self.path.clone(),
                message: format!("{name} has dtype {:?}, expected a float type", tensor.dtype()),
            });
        }
        Ok(tensor.to_dtype(DType::F32)?.to_device(&self.device)?)
    }
}
