//! The models of cortexlens, with candle: neural-field fitting and BrainSCUBA's voxel captions,
//! with everything they need (CLIP, voxel-wise encoders, the projection onto an image-embedding
//! pool, the caption decoder, model files and downloads). No GPU code of its own: models run on
//! CUDA through candle when the crate is built with the `cuda` feature and a GPU is present
//! ([`device`]), else on the CPU.
//!
//! # Neural fields
//!
//! [`fit`] trains a field — a hash-grid or dense encoding followed by a small MLP, optionally with
//! coordinate-aware modulation (CAM), configured by [`FitConfig`] and [`EncodingConfig`] — on one
//! frame of a [`Volume`](cortexlens_data::Volume), reporting [`FitProgress`] (PSNR) and stopping
//! on cancel, and returns it as a [`NeuralField`](cortexlens_data::field::NeuralField), the type
//! the renderer draws and `.nfield` files store. [`FieldModel`] is the same field as candle
//! variables: load any `NeuralField` with [`FieldModel::from_field`], evaluate it with
//! [`Module::forward`], and read it back with [`FieldModel::to_field`]. A fitted field carries an
//! occupancy grid of the volume's signal (see [`SIGNAL_FRACTION`]) so that renderers skip the
//! background.
//!
//! # Captions (BrainSCUBA) and what they are made of
//!
//! - [`brainscuba`]: the pipeline — [`caption_voxels`](brainscuba::caption_voxels) projects each
//!   voxel's encoder weights onto the pool and decodes a sentence, with progress and cancel;
//!   [`captions_tsv`](brainscuba::captions_tsv) writes the table.
//! - [`encoder`]: voxel-wise linear encoders on a reference grid — the safetensors file format,
//!   import of BrainSCUBA/BrainDiVE checkpoints, ridge fits with per-voxel cross-validation and
//!   their R²/r maps, and choosing voxels ([`encoder::select`]: at a world point, where a volume
//!   passes a test, in a mask, by grid index).
//! - [`clip`]: CLIP image and text towers (ViT-B/32 layout, Hugging Face safetensors) with
//!   Pillow-exact preprocessing, for encoder fits on stimulus images.
//! - [`projection`]: BrainSCUBA's softmax projection of weight vectors onto a memory-mapped f16
//!   pool of natural-image CLIP embeddings, streamed with an online softmax.
//! - [`caption`]: the decoder — ClipCap's mapper and GPT-2 with a key/value cache, the GPT-2
//!   tokenizer, and ClipCap's beam search (beam 5, at most 67 tokens, stop at '.').
//! - [`hub`]: model files — a local folder or a Hugging Face repository in the standard cache,
//!   downloaded on request with progress, cancel and resume (`hub::mirror`, a local stand-in
//!   for the hub, with the `testing` feature).
//!
//! # Preferred images (BrainDiVE)
//!
//! [`synthesis`]: Stable Diffusion (2.1-base, SD-Turbo; diffusers folders) guided by a voxel-wise
//! encoder towards images that maximise a region's predicted response — BrainDiVE's guidance
//! through the UNet, an interactive few-step mode, and re-ranking — with a differentiable CLIP
//! image tower, UNet and resize of its own where candle's lose gradients.
//!
//! [`FileError`] is a model or data file that cannot be read or written (shared by the encoder and
//! projection errors); [`device`] and [`device_name`] choose and name where models run.

#![warn(missing_docs)]

mod adam;
pub mod brainscuba;
pub mod caption;
pub mod clip;
mod config;
pub mod encoder;
mod error;
mod file_error;
mod fit;
pub mod hub;
mod init;
mod lookup;
mod model;
mod occupancy;
mod ops;
pub mod projection;
mod rng;
mod sample;
pub mod synthesis;

pub use candle_core::{DType, Device, Module, Tensor};

pub use crate::config::{EncodingConfig, FitConfig};
pub use crate::error::FitError;
pub use crate::file_error::FileError;
pub use crate::fit::{CAM_LEARNING_RATE_FACTOR, FitProgress, VALIDATE_EVERY, fit, psnr};
pub use crate::init::initial_field;
pub use crate::model::FieldModel;
pub use crate::occupancy::{OCCUPANCY_MAX_CELLS, SIGNAL_FRACTION};

/// The device models run on: the first CUDA GPU when the crate is built with the `cuda` feature and
/// one can be opened, else the CPU. Every call returns the same device (one CUDA context), so tensors
/// made through separate calls can be combined: candle tells CUDA devices apart by the `Device::new_cuda`
/// call that made them, not by the GPU.
pub fn device() -> Device {
    #[cfg(feature = "cuda")]
    {
        static CUDA: std::sync::OnceLock<Option<Device>> = std::sync::OnceLock::new();
        if let Some(device) = CUDA.get_or_init(|| Device::new_cuda(0).ok()) {
            return device.clone();
        }
    }
    Device::Cpu
}

/// A short name of `device` for the UI: `"CPU"`, `"CUDA 0"`, `"Metal 0"`.
pub fn device_name(device: &Device) -> String {
    match device.location() {
        candle_core::DeviceLocation::Cpu => "CPU".to_owned(),
        candle_core::DeviceLocation::Cuda { gpu_id } => format!("CUDA {gpu_id}"),
        candle_core::DeviceLocation::Metal { gpu_id } => format!("Metal {gpu_id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_device_name() {
        assert_eq!(device_name(&Device::Cpu), "CPU");
        #[cfg(not(feature = "cuda"))]
        assert!(device().is_cpu());
    }
}
