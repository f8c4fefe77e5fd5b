//! [`SynthesisError`]: why models could not be loaded or an image could not be made.

use std::path::PathBuf;

/// Why synthesis models could not be loaded, or an image could not be synthesised or scored.
#[derive(Debug, thiserror::Error)]
pub enum SynthesisError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A model file is missing from its folder.
    #[error("{}: missing ({expected})", path.display())]
    Missing {
        /// Where it was looked for.
        path: PathBuf,
        /// What should be there.
        expected: String,
    },
    /// A configuration file is malformed or describes a model this code does not implement.
    #[error("{}: {message}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Weights that do not fit their configuration (missing or mis-shaped tensors).
    #[error("{}: {message}", path.display())]
    Weights {
        /// The weights file (or folder).
        path: PathBuf,
        /// candle's message.
        message: String,
    },
    /// The encoder's feature width differs from the guidance CLIP's projection width.
    #[error(
        "the encoder reads {encoder}-d features but the CLIP model projects to {clip} dimensions: \
         use the CLIP the encoder was fitted on"
    )]
    DimensionMismatch {
        /// The encoder's feature dimension.
        encoder: usize,
        /// The CLIP projection dimension.
        clip: usize,
    },
    /// The diffusion model's text conditioning does not fit its UNet.
    #[error("the text conditioning is {got}-d, the UNet expects {expected}-d")]
    ConditioningMismatch {
        /// The conditioning's width.
        got: usize,
        /// The UNet's `cross_attention_dim`.
        expected: usize,
    },
    /// No voxels were given.
    #[error("the region is empty: choose at least one of the encoder's {encoder_voxels} voxels")]
    EmptyRegion {
        /// How many voxels the encoder holds.
        encoder_voxels: usize,
    },
    /// A voxel index past the encoder's voxels.
    #[error("voxel {voxel} is not one of the encoder's {encoder_voxels} voxels")]
    VoxelOutOfRange {
        /// The index given.
        voxel: usize,
        /// How many voxels the encoder holds.
        encoder_voxels: usize,
    },
    /// Settings that cannot be run (the message says which and why).
    #[error("synthesis settings: {0}")]
    Settings(String),
    /// The cancel flag was raised.
    #[error("synthesis was cancelled")]
    Cancelled,
    /// An error from candle while running the models.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
}
