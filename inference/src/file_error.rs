//! [`FileError`]: a model or data file that could not be read or written, or that does not hold
//! what it should — shared by the encoder and projection errors.

use std::path::{Path, PathBuf};

/// A file that could not be read or written, or whose contents are not what they should be.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The contents are not valid (the message says why).
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl FileError {
    /// An I/O error about `path`, for `map_err`.
    pub fn io(path: &Path) -> impl Fn(std::io::Error) -> FileError + Copy + '_ {
        move |source| FileError::Io {
            path: path.to_owned(),
            source,
        }
    }

    /// A contents error about `path`.
    pub fn format(path: &Path, message: impl Into<String>) -> FileError {
        FileError::Format {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}
