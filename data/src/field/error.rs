//! [`FieldError`]: why a neural field could not be loaded, saved or validated.

use std::io;
use std::path::Path;

use crate::error::LoadError;

/// Why a neural field could not be loaded, saved or validated. The message names the file (when
/// there is one) and the problem, e.g. `brain.nfield: tensor `layers.0.weight`: shape [64, 16], the
/// header implies [64, 32]`.
#[derive(Debug, thiserror::Error)]
pub enum FieldError {
    /// The operating system could not open, read or write the file.
    #[error("{}{source}", prefix(.file))]
    Io {
        /// File name.
        file: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The content is not the container the name or caller expects: not safetensors, not
    /// MessagePack, corrupt gzip.
    #[error("{}not {format}: {detail}", prefix(.file))]
    NotFormat {
        /// File name.
        file: String,
        /// What was expected (`"a safetensors file"`, …).
        format: &'static str,
        /// What was found instead.
        detail: String,
    },
    /// The file ends before the data its header announces.
    #[error("{}truncated: {detail}", prefix(.file))]
    Truncated {
        /// File name.
        file: String,
        /// What was claimed and what is there.
        detail: String,
    },
    /// The header claims more data than the memory budget ([`crate::formats::MEMORY_BUDGET`]) allows;
    /// nothing was allocated.
    #[error("{}too large: {detail}", prefix(.file))]
    TooLarge {
        /// File name.
        file: String,
        /// The claimed size.
        detail: String,
    },
    /// The JSON header (of a `.nfield`) or the embedded configuration (of an instant-ngp snapshot) is
    /// malformed: not JSON, a key missing or of the wrong type, an unknown version, inconsistent counts.
    #[error("{}bad header: {detail}", prefix(.file))]
    BadHeader {
        /// File name.
        file: String,
        /// Which key and why.
        detail: String,
    },
    /// A tensor that the header implies is not in the file.
    #[error("{}missing tensor `{name}`", prefix(.file))]
    MissingTensor {
        /// File name.
        file: String,
        /// The tensor's name (`layers.0.weight`, …).
        name: String,
    },
    /// The file holds a tensor that the header does not describe.
    #[error("{}unexpected tensor `{name}`: the header describes no such tensor", prefix(.file))]
    UnexpectedTensor {
        /// File name.
        file: String,
        /// The tensor's name.
        name: String,
    },
    /// A tensor's shape or data type disagrees with the header.
    #[error("{}tensor `{name}`: {detail}", prefix(.file))]
    TensorMismatch {
        /// File name.
        file: String,
        /// The tensor's name.
        name: String,
        /// The shape or dtype found and the one expected.
        detail: String,
    },
    /// The field is inconsistent ([`crate::field::NeuralField::validate`]): a layer's inputs differ
    /// from the previous layer's outputs, the CAM grid count is not the hidden layer count, a
    /// parameter is not finite, …
    #[error("{}invalid field: {detail}", prefix(.file))]
    Invalid {
        /// File name (empty for a field validated in memory).
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// A well-formed file that uses something cortexlens cannot represent (an instant-ngp network
    /// with an unsupported encoding, activation, HDR colour, …).
    #[error("{}unsupported: {detail}", prefix(.file))]
    Unsupported {
        /// File name.
        file: String,
        /// What is not supported.
        detail: String,
    },
}

/// `"name: "`, or nothing for an error about no file.
fn prefix(file: &str) -> String {
    if file.is_empty() {
        String::new()
    } else {
        format!("{file}: ")
    }
}

/// The name shown in messages: the file name, else the whole path.
pub(crate) fn display_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

crate::error::impl_file_name!(FieldError:
    Io, NotFormat, Truncated, TooLarge, BadHeader, MissingTensor, UnexpectedTensor, TensorMismatch, Invalid,
    Unsupported,
);

impl FieldError {
    pub(crate) fn io(source: io::Error) -> Self {
        FieldError::Io {
            file: String::new(),
            source,
        }
    }

    pub(crate) fn not_format(format: &'static str, detail: impl Into<String>) -> Self {
        FieldError::NotFormat {
            file: String::new(),
            format,
            detail: detail.into(),
        }
    }

    pub(crate) fn truncated(detail: impl Into<String>) -> Self {
        FieldError::Truncated {
            file: String::new(),
            detail: detail.into(),
        }
    }

    pub(crate) fn too_large(detail: impl Into<String>) -> Self {
        FieldError::TooLarge {
            file: String::new(),
            detail: detail.into(),
        }
    }

    pub(crate) fn bad_header(detail: impl Into<String>) -> Self {
        FieldError::BadHeader {
            file: String::new(),
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        FieldError::Invalid {
            file: String::new(),
            detail: detail.into(),
        }
    }

    pub(crate) fn unsupported(detail: impl Into<String>) -> Self {
        FieldError::Unsupported {
            file: String::new(),
            detail: detail.into(),
        }
    }

    pub(crate) fn mismatch(name: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError::TensorMismatch {
            file: String::new(),
            name: name.into(),
            detail: detail.into(),
        }
    }
}

/// For callers that report every load failure as a [`LoadError`] (the app's loading workers): the
/// file name and message are kept; I/O, truncation and size errors keep their kind, a wrong container
/// becomes [`LoadError::UnknownFormat`] and everything else [`LoadError::BadHeader`].
impl From<FieldError> for LoadError {
    fn from(e: FieldError) -> Self {
        let file = e.file().to_owned();
        match e {
            FieldError::Io { source, .. } => LoadError::Io { file, source },
            FieldError::Truncated { detail, .. } => LoadError::Truncated { file, detail },
            FieldError::TooLarge { detail, .. } => LoadError::TooLarge { file, detail },
            FieldError::NotFormat { format, detail, .. } => LoadError::UnknownFormat {
                file,
                detail: format!("not {format}: {detail}"),
            },
            FieldError::BadHeader { detail, .. } => LoadError::BadHeader { file, detail },
            other => {
                let message = other.to_string();
                let detail = message.strip_prefix(&prefix(&file)).unwrap_or(&message).to_owned();
                LoadError::BadHeader { file, detail }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<FieldError>();
        let e =
            FieldError::mismatch("layers.0.weight", "shape [64, 16], the header implies [64, 32]").in_file("b.nfield");
        assert_eq!(
            e.to_string(),
            "b.nfield: tensor `layers.0.weight`: shape [64, 16], the header implies [64, 32]"
        );
        assert_eq!(e.in_file("other").file(), "b.nfield");
        let v = FieldError::invalid("layer 1 takes 3 inputs, layer 0 gives 4");
        assert_eq!(v.to_string(), "invalid field: layer 1 takes 3 inputs, layer 0 gives 4");
        let l: LoadError = FieldError::bad_header("no `nfield` key").in_file("x.nfield").into();
        assert_eq!(l.to_string(), "x.nfield: bad header: no `nfield` key");
        let l: LoadError = FieldError::invalid("cam has 2 grids").in_file("x.nfield").into();
        assert_eq!(l.to_string(), "x.nfield: bad header: invalid field: cam has 2 grids");
        let l: LoadError = FieldError::not_format("a safetensors file", "header length over 100 MB")
            .in_file("x.nfield")
            .into();
        assert_eq!(
            l.to_string(),
            "x.nfield: unknown format: not a safetensors file: header length over 100 MB"
        );
    }
}
