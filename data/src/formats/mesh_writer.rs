//! Saving meshes (GIFTI, Wavefront OBJ, PLY) and per-vertex values (GIFTI).

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use super::gifti_writer::{Array, GiftiEncoding, document};
use crate::mesh::{INTENT_POINTSET, INTENT_TRIANGLE, Mesh};

/// Why a file could not be written. The message names the file.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The operating system could not write the file.
    #[error("{file}: {source}")]
    Io {
        /// The path.
        file: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file name does not tell which format to write.
    #[error("{file}: unknown mesh format: the name must end in .gii, .obj or .ply")]
    UnknownFormat {
        /// The path.
        file: String,
    },
    /// The mesh has more vertices than 32-bit signed indices (GIFTI, PLY) can address.
    #[error("{file}: {count} vertices is more than the 32-bit indices of the format allow")]
    TooLarge {
        /// The path.
        file: String,
        /// Number of vertices.
        count: usize,
    },
}

/// A mesh file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeshFormat {
    /// GIFTI: a POINTSET `[n, 3]` float32 and a TRIANGLE `[m, 3]` int32 array.
    Gifti(GiftiEncoding),
    /// Wavefront OBJ: `v x y z` and `f a b c` lines (1-based indices).
    Obj,
    /// PLY, binary little-endian: float x, y, z per vertex, `uchar`-counted `int` faces.
    PlyBinary,
    /// PLY, ASCII.
    PlyAscii,
}

impl MeshFormat {
    /// The format a file name asks for: `.gii` (zlib + base64 GIFTI), `.obj`, `.ply` (binary),
    /// case-insensitively.
    pub fn from_path(path: &Path) -> Option<MeshFormat> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        if name.ends_with(".gii") {
            Some(MeshFormat::Gifti(GiftiEncoding::GzipBase64))
        } else if name.ends_with(".obj") {
            Some(MeshFormat::Obj)
        } else if name.ends_with(".ply") {
            Some(MeshFormat::PlyBinary)
        } else {
            None
        }
    }
}

/// Saves a mesh in the format its file name asks for ([`MeshFormat::from_path`]).
pub fn save_mesh(path: &Path, mesh: &Mesh) -> Result<(), WriteError> {
    let format = MeshFormat::from_path(path).ok_or_else(|| WriteError::UnknownFormat {
        file: path.display().to_string(),
    })?;
    save_mesh_as(path, mesh, format)
}

/// Saves a mesh in the given format, whatever the file name.
pub fn save_mesh_as(path: &Path, mesh: &Mesh, format: MeshFormat) -> Result<(), WriteError> {
    if mesh.vertices.len() > i32::MAX as usize {
        return Err(WriteError::TooLarge {
            file: path.display().to_string(),
            count: mesh.vertices.len(),
        });
    }
    let bytes = match format {
        MeshFormat::Gifti(encoding) => gifti_mesh(mesh, encoding).into_bytes(),
        MeshFormat::Obj => obj(mesh).into_bytes(),
        MeshFormat::PlyBinary => ply_binary(mesh),
        MeshFormat::PlyAscii => ply_ascii(mesh).into_bytes(),
    };
    write(path, &bytes)
}

/// Saves per-vertex values as a GIFTI file with one `NIFTI_INTENT_SHAPE` float32 `[n]` array
/// (zlib + base64), as `cortexlens project --out values.gii` writes them.
pub fn save_vertex_values_gifti(path: &Path, values: &[f32]) -> Result<(), WriteError> {
    let xml = document(
        &[Array {
            intent: "NIFTI_INTENT_SHAPE",
            datatype: "NIFTI_TYPE_FLOAT32",
            dims: &[values.len()],
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            coordinates: false,
        }],
        GiftiEncoding::GzipBase64,
    );
    write(path, xml.as_bytes())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    std::fs::write(path, bytes).map_err(|source| WriteError::Io {
        file: path.display().to_string(),
        source,
    })
}

fn gifti_mesh(mesh: &Mesh, encoding: GiftiEncoding) -> String {
    document(
        &[
            Array {
                intent: INTENT_POINTSET,
                datatype: "NIFTI_TYPE_FLOAT32",
                dims: &[mesh.vertices.len(), 3],
                bytes: mesh.vertices.iter().flatten().flat_map(|v| v.to_le_bytes()).collect(),
                coordinates: true,
            },
            Array {
                intent: INTENT_TRIANGLE,
                datatype: "NIFTI_TYPE_INT32",
                dims: &[mesh.triangles.len(), 3],
                bytes: mesh
                    .triangles
                    .iter()
                    .flatten()
                    .flat_map(|&i| (i as i32).to_le_bytes())
                    .collect(),
                coordinates: false,
            },
        ],
        encoding,
    )
}

fn obj(mesh: &Mesh) -> String {
    let mut s = String::with_capacity(mesh.vertices.len() * 32 + mesh.triangles.len() * 24);
    let _ = writeln!(
        s,
        "# cortexlens {}: {} vertices, {} triangles",
        env!("CARGO_PKG_VERSION"),
        mesh.vertices.len(),
        mesh.triangles.len()
    );
    for [x, y, z] in &mesh.vertices {
        let _ = writeln!(s, "v {x} {y} {z}");
    }
    for [a, b, c] in &mesh.triangles {
        let _ = writeln!(s, "f {} {} {}", a + 1, b + 1, c + 1);
    }
    s
}

fn ply_header(mesh: &Mesh, format: &str) -> String {
    format!(
        "ply\nformat {format} 1.0\ncomment cortexlens {}\nelement vertex {}\nproperty float x\nproperty float y\nproperty float z\nelement face {}\nproperty list uchar int vertex_indices\nend_header\n",
        env!("CARGO_PKG_VERSION"),
        mesh.vertices.len(),
        mesh.triangles.len()
    )
}

fn ply_binary(mesh: &Mesh) -> Vec<u8> {
    let mut out = ply_header(mesh, "binary_little_endian").into_bytes();
    out.reserve(mesh.vertices.len() * 12 + mesh.triangles.len() * 13);
    for v in mesh.vertices.iter().flatten() {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for t in &mesh.triangles {
        out.push(3);
        for &i in t {
            out.extend_from_slice(&(i as i32).to_le_bytes());
        }
    }
    out
}

fn ply_ascii(mesh: &Mesh) -> String {
    let mut s = ply_header(mesh, "ascii");
    for [x, y, z] in &mesh.vertices {
        let _ = writeln!(s, "{x} {y} {z}");
    }
    for [a, b, c] in &mesh.triangles {
        let _ = writeln!(s, "3 {a} {b} {c}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triangle() -> Mesh {
        Mesh {
            vertices: vec![[0.0, 0.0, 0.0], [1.5, 0.0, -2.0], [0.0, 1e-3, 3.25]],
            triangles: vec![[0, 1, 2]],
        }
    }

    #[test]
    fn formats_from_names() {
        let f = |n: &str| MeshFormat::from_path(Path::new(n));
        assert_eq!(f("a.GII"), Some(MeshFormat::Gifti(GiftiEncoding::GzipBase64)));
        assert_eq!(f("dir/a.obj"), Some(MeshFormat::Obj));
        assert_eq!(f("a.ply"), Some(MeshFormat::PlyBinary));
        assert_eq!(f("a.stl"), None);
        let e = save_mesh(Path::new("/nonexistent/x.stl"), &triangle()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/nonexistent/x.stl: unknown mesh format: the name must end in .gii, .obj or .ply"
        );
    }

    #[test]
    fn text_formats() {
        let m = triangle();
        assert_eq!(
            obj(&m).lines().skip(1).collect::<Vec<_>>(),
            ["v 0 0 0", "v 1.5 0 -2", "v 0 0.001 3.25", "f 1 2 3"]
        );
        let ply = ply_ascii(&m);
        assert!(ply.starts_with("ply\nformat ascii 1.0\n"));
        assert!(ply.ends_with("end_header\n0 0 0\n1.5 0 -2\n0 0.001 3.25\n3 0 1 2\n"));
        let bin = ply_binary(&m);
        let header = ply_header(&m, "binary_little_endian");
        assert_eq!(bin.len(), header.len() + 3 * 12 + 13);
        assert_eq!(&bin[header.len() + 12..header.len() + 16], &1.5f32.to_le_bytes());
    }
}
