//! The error type of fitting and of loading fields into candle.

/// Why a fit or a model conversion failed.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    /// The cancel flag was raised; the partial field is dropped.
    #[error("fitting was cancelled")]
    Cancelled,
    /// The [`FitConfig`](crate::FitConfig) cannot be trained (the message says which field).
    #[error("invalid fit configuration: {0}")]
    Config(String),
    /// The requested frame is not in the volume.
    #[error("frame {frame} does not exist: the volume has {frames} frame(s)")]
    Frame {
        /// The frame asked for.
        frame: usize,
        /// Frames in the volume.
        frames: usize,
    },
    /// The frame has no finite voxel value to fit.
    #[error("the volume has no finite voxel values to fit")]
    NoData,
    /// A [`NeuralField`](cortexlens_data::field::NeuralField) whose arrays do not match its declared sizes.
    #[error("invalid neural field: {0}")]
    InvalidField(String),
    /// The training diverged (the loss became NaN or infinite).
    #[error("training diverged at step {step}: the loss is {loss}")]
    Diverged {
        /// The step whose loss was not finite.
        step: usize,
        /// That loss.
        loss: f32,
    },
    /// An error from candle (device, allocation or shape).
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
}
