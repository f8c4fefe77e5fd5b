//! The one error type of every loader: what went wrong, in which file.
//!
//! Every variant carries the display name of the file (`file`) so that its message reads like
//! `motor.nii.gz: truncated: header claims 1234 bytes of voxels, file has 99`. Parsers deep inside
//! `formats` build errors with an empty `file`; [`LoadError::in_file`] fills it in at the top.

use std::io;

/// Why a file could not be loaded. The message names the file and the problem.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The operating system could not open or read the file.
    #[error("{file}: {source}")]
    Io {
        /// File name.
        file: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The name ends in `.gz` but the content does not start with the gzip magic bytes.
    #[error("{file}: not gzip: the name ends in .gz but the data does not start with the gzip magic bytes 1f 8b")]
    NotGzip {
        /// File name.
        file: String,
    },
    /// The gzip (or zlib) stream is corrupt.
    #[error("{file}: corrupt compressed data: {detail}")]
    BadGzip {
        /// File name.
        file: String,
        /// What the decompressor reported.
        detail: String,
    },
    /// The file does not start like the format its name or content suggests.
    #[error("{file}: not a {format} file: {detail}")]
    BadMagic {
        /// File name.
        file: String,
        /// The expected format.
        format: &'static str,
        /// What was found instead.
        detail: String,
    },
    /// The file ends before the data its header announces.
    #[error("{file}: truncated: {detail}")]
    Truncated {
        /// File name.
        file: String,
        /// What was claimed and what is there.
        detail: String,
    },
    /// The header claims more data than the memory budget ([`crate::formats::MEMORY_BUDGET`]) allows.
    #[error("{file}: too large: {detail}")]
    TooLarge {
        /// File name.
        file: String,
        /// The claimed size.
        detail: String,
    },
    /// A header field is invalid: zero or negative dimensions, more than 4 dimensions, bad offsets, …
    #[error("{file}: bad header: {detail}")]
    BadHeader {
        /// File name.
        file: String,
        /// Which field and why.
        detail: String,
    },
    /// The voxel or array datatype is one cortexlens does not read.
    #[error("{file}: unsupported datatype: {detail}")]
    UnsupportedDatatype {
        /// File name.
        file: String,
        /// The datatype code or name.
        detail: String,
    },
    /// The XML of a GIFTI file is not well formed.
    #[error("{file}: malformed XML: {detail}")]
    Xml {
        /// File name.
        file: String,
        /// The XML parser's message and position.
        detail: String,
    },
    /// A GIFTI data array holds invalid base64.
    #[error("{file}: invalid base64 in data array {array}: {detail}")]
    Base64 {
        /// File name.
        file: String,
        /// Index of the data array in the file.
        array: usize,
        /// The decoder's message.
        detail: String,
    },
    /// A GIFTI file is well-formed XML but not valid GIFTI.
    #[error("{file}: invalid GIFTI: {detail}")]
    Gifti {
        /// File name.
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// A CIFTI-2 file whose XML is well formed but whose index maps are invalid or disagree with
    /// the matrix (counts, vertex or voxel indices out of range, a missing extension).
    #[error("{file}: invalid CIFTI-2: {detail}")]
    Cifti {
        /// File name.
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// An FSL atlas descriptor (XML) that is well formed but not a usable atlas: a missing element,
    /// an image that does not exist or does not fit its labels.
    #[error("{file}: invalid FSL atlas: {detail}")]
    Atlas {
        /// File name.
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// A FreeSurfer binary file (surface, curv, annot) is inconsistent.
    #[error("{file}: invalid FreeSurfer file: {detail}")]
    FreeSurfer {
        /// File name.
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// A FreeSurfer `.label` file whose text is not a label: a bad row, or a header count that
    /// disagrees with the rows that follow.
    #[error("{file}: invalid FreeSurfer label, line {line}: {detail}")]
    Label {
        /// File name.
        file: String,
        /// The line (1-based).
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// A mesh file (OBJ, STL, glTF) that its reader rejects: bad syntax, a glTF whose accessors or
    /// buffers do not fit together, a feature cortexlens does not read.
    #[error("{file}: invalid {format} file: {detail}")]
    Mesh {
        /// File name.
        file: String,
        /// The format: `OBJ`, `STL`, `glTF`.
        format: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A mesh file that holds no triangle (only points or lines, or nothing at all).
    #[error("{file}: no triangles: the {format} file holds no triangle to draw")]
    NoTriangles {
        /// File name.
        file: String,
        /// The format: `OBJ`, `STL`, `glTF`.
        format: &'static str,
    },
    /// A triangle of a mesh file refers to a vertex its mesh does not have.
    #[error("{file}: triangle {triangle} refers to vertex {index} but its mesh has {vertices} vertices")]
    VertexIndex {
        /// File name.
        file: String,
        /// The triangle, counted over every mesh of the file in reading order.
        triangle: usize,
        /// The vertex index it holds (within its mesh).
        index: u64,
        /// The number of vertices of that mesh.
        vertices: usize,
    },
    /// A vertex of a mesh file is NaN or infinite (as read, or after its glTF node transform).
    #[error("{file}: vertex {vertex} is not finite: ({x}, {y}, {z})")]
    NonFiniteVertex {
        /// File name.
        file: String,
        /// The vertex, counted over every mesh of the file in reading order.
        vertex: usize,
        /// Its coordinates.
        x: f64,
        /// Its coordinates.
        y: f64,
        /// Its coordinates.
        z: f64,
    },
    /// A PLY file whose header or body does not follow the PLY grammar: a bad `format` line, an
    /// unknown property type, a number that does not parse, a list longer than the file.
    #[error("{file}: invalid PLY: {detail}")]
    Ply {
        /// File name.
        file: String,
        /// What is wrong, with the line or element.
        detail: String,
    },
    /// A file that lacks properties its kind needs (a 3DGS `.ply` without `opacity`, a compressed
    /// `.ply` without `packed_color`).
    #[error("{file}: missing properties: element `{element}` has no {}", names.join(", "))]
    MissingProperties {
        /// File name.
        file: String,
        /// The PLY element (`vertex`, `chunk`).
        element: String,
        /// The missing property names.
        names: Vec<String>,
    },
    /// A value that must be finite is NaN or infinite (as stored, or once activated: `exp` of a
    /// log-scale that overflows).
    #[error("{file}: not finite: {what} is {value}")]
    NonFinite {
        /// File name.
        file: String,
        /// Which value (`splat 17: opacity`).
        what: String,
        /// The value.
        value: f64,
    },
    /// A Gaussian-splat scene (3DGS `.ply`, compressed `.ply`, `.spz`) whose content is invalid:
    /// a rotation quaternion of length zero, an SH coefficient count of no degree, streams or
    /// chunks that disagree with the splat count.
    #[error("{file}: invalid splat scene: {detail}")]
    Splats {
        /// File name.
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// Neither the name nor the content tells which format the file is in.
    #[error("{file}: unknown format: {detail}")]
    UnknownFormat {
        /// File name.
        file: String,
        /// What was looked at.
        detail: String,
    },
    /// The file was read fine but holds the other kind of data (a surface where a volume was asked for).
    #[error("{file}: expected a {expected}, the file holds a {found}")]
    WrongKind {
        /// File name.
        file: String,
        /// What the caller asked for (`volume` or `surface`).
        expected: &'static str,
        /// What the file holds.
        found: &'static str,
    },
}

/// Implements `file()` and `in_file()` for an error enum whose listed variants (all of them) have a
/// `file: String` field naming the file the error is about.
macro_rules! impl_file_name {
    ($error:ident: $($variant:ident),+ $(,)?) => {
        impl $error {
            /// The file name the error is about (empty while a parser has not been told it yet).
            pub fn file(&self) -> &str {
                match self {
                    $($error::$variant { file, .. })|+ => file,
                }
            }

            /// Sets the file name if none is set yet (errors about a side file, such as a GIFTI's
            /// external data file, keep the name they were given).
            pub fn in_file(mut self, name: &str) -> Self {
                let slot = match &mut self {
                    $($error::$variant { file, .. })|+ => file,
                };
                if slot.is_empty() {
                    *slot = name.to_owned();
                }
                self
            }
        }
    };
}
pub(crate) use impl_file_name;

impl_file_name!(LoadError:
    Io, NotGzip, BadGzip, BadMagic, Truncated, TooLarge, BadHeader, UnsupportedDatatype, Xml, Base64, Gifti,
    Cifti, Atlas, FreeSurfer, Label, Mesh, NoTriangles, VertexIndex, NonFiniteVertex, Ply, MissingProperties, NonFinite,
    Splats, UnknownFormat, WrongKind,
);

impl LoadError {
    pub(crate) fn io(source: io::Error) -> Self {
        LoadError::Io {
            file: String::new(),
            source,
        }
    }

    pub(crate) fn truncated(detail: impl Into<String>) -> Self {
        LoadError::Truncated {
            file: String::new(),
            detail: detail.into(),
        }
    }

    pub(crate) fn too_large(detail: impl Into<String>) -> Self {
        LoadError::TooLarge {
            file: String::new(),
            detail: detail.into(),
        }
    }

    pub(crate) fn bad_header(detail: impl Into<String>) -> Self {
        LoadError::BadHeader {
            file: String::new(),
            detail: detail.into(),
        }
    }

    pub(crate) fn bad_magic(format: &'static str, detail: impl Into<String>) -> Self {
        LoadError::BadMagic {
            file: String::new(),
            format,
            detail: detail.into(),
        }
    }

    pub(crate) fn unsupported(detail: impl Into<String>) -> Self {
        LoadError::UnsupportedDatatype {
            file: String::new(),
            detail: detail.into(),
        }
    }

    pub(crate) fn gifti(detail: impl Into<String>) -> Self {
        LoadError::Gifti {
            file: String::new(),
            detail: detail.into(),
        }
    }

    pub(crate) fn cifti(detail: impl Into<String>) -> Self {
        LoadError::Cifti {
            file: String::new(),
            detail: detail.into(),
        }
    }

    pub(crate) fn atlas(detail: impl Into<String>) -> Self {
        LoadError::Atlas {
            file: String::new(),
            detail: detail.into(),
        }
    }

    pub(crate) fn freesurfer(detail: impl Into<String>) -> Self {
        LoadError::FreeSurfer {
            file: String::new(),
            detail: detail.into(),
        }
    }

    pub(crate) fn mesh(format: &'static str, detail: impl Into<String>) -> Self {
        LoadError::Mesh {
            file: String::new(),
            format,
            detail: detail.into(),
        }
    }

    pub(crate) fn ply(detail: impl Into<String>) -> Self {
        LoadError::Ply {
            file: String::new(),
            detail: detail.into(),
        }
    }

    pub(crate) fn splats(detail: impl Into<String>) -> Self {
        LoadError::Splats {
            file: String::new(),
            detail: detail.into(),
        }
    }

    pub(crate) fn missing(element: &str, names: Vec<String>) -> Self {
        LoadError::MissingProperties {
            file: String::new(),
            element: element.to_owned(),
            names,
        }
    }

    pub(crate) fn non_finite(what: impl Into<String>, value: f64) -> Self {
        LoadError::NonFinite {
            file: String::new(),
            what: what.into(),
            value,
        }
    }

    pub(crate) fn unknown(detail: impl Into<String>) -> Self {
        LoadError::UnknownFormat {
            file: String::new(),
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usable_across_threads_and_named() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<LoadError>();
        send_sync::<crate::formats::Loaded>();
        let e = LoadError::truncated("header claims 1234 bytes of voxels, file has 99").in_file("motor.nii.gz");
        assert_eq!(
            e.to_string(),
            "motor.nii.gz: truncated: header claims 1234 bytes of voxels, file has 99"
        );
        // A name already set (an external file) is kept.
        assert_eq!(e.in_file("other.gii").file(), "motor.nii.gz");
    }
}
