//! Meshes of other tools — Wavefront OBJ, STL (binary and ASCII) and glTF 2.0 (`.gltf` with its
//! buffers, `.glb`), as 3D Slicer, electrode and implant models come — read with the
//! `three-d-asset` crate (OBJ with its parser, `wavefront_obj`; see below) into the shape of a
//! GIFTI mesh: one `NIFTI_INTENT_POINTSET` array `[n, 3]` (float32, world millimetres, RAS+) and
//! one `NIFTI_INTENT_TRIANGLE` array `[m, 3]` (int32), so that [`crate::mesh::classify`] sees a mesh and everything downstream treats the
//! file like any other surface.
//!
//! # What is read
//!
//! - Every mesh of a file is merged into one: the objects and groups of an OBJ, the solids of an
//!   ASCII STL, the triangle primitives of every node of a glTF scene (the default scene, else the
//!   first; in a file without scenes, every root node) with the node transforms, parents' included,
//!   applied. Points and lines are skipped; a file left without a triangle is
//!   [`LoadError::NoTriangles`].
//! - Only geometry is read. Materials, textures, normals, colours, animations and skins are not,
//!   and need not be present: an OBJ's missing `.mtl` or a glTF's missing texture does not matter
//!   (a glTF's buffers must all be there, as three-d-asset reads them all).
//! - OBJ vertices keep the file's order (objects one after the other), so per-vertex maps written for
//!   the file line up with it: OBJ is parsed with `wavefront_obj` (the parser three-d-asset uses)
//!   directly, because three-d-asset renumbers an OBJ's vertices in the order its faces first use
//!   them, splitting vertices used with two normals and dropping unused ones. STL vertices are shared
//!   where their coordinates are bit-identical (stl_io); glTF vertices keep their order within each
//!   primitive.
//! - Refused with a typed error naming the file: syntax errors, a triangle that refers to a vertex
//!   its mesh lacks ([`LoadError::VertexIndex`]), a vertex that is NaN or infinite once placed and
//!   stored as float32 ([`LoadError::NonFiniteVertex`]), glTF accessors that reach outside their
//!   buffers, Draco/meshopt-compressed, quantized or GPU-instanced glTF, triangle strips and fans.
//!
//! No size a file merely claims is allocated: a binary STL's triangle count is checked against the
//! file length first, and glTF accessors and buffer views against the bytes their buffers hold.
//!
//! # Coordinates
//!
//! Coordinates are millimetres as written, converted by one rule — 3D Slicer's (which since 4.11
//! writes models in LPS and marks them `SPACE=LPS`, in the header of an STL and in the comment of an
//! OBJ):
//!
//! - a file that states `SPACE=LPS` — an STL in its 80-byte binary header or on its `solid` line,
//!   an OBJ in a comment line before its first vertex — is converted to RAS by negating x and y
//!   (a rotation about z, so the triangles keep their winding);
//! - a file that states `SPACE=RAS`, or nothing, is kept as written (RAS+, as GIFTI, FreeSurfer
//!   and cortexlens' own OBJ export store meshes). `SPACE=RAS` wins when both appear, as in Slicer.
//!
//! Slicer itself takes an unmarked file as LPS; cortexlens does not, because unmarked meshes in
//! neuroimaging (nibabel and FreeSurfer exports, cortexlens' isosurfaces) are RAS. glTF states no
//! anatomical space: its coordinates, with the node transforms, are taken as written (glTF's nominal
//! metres and +Y up are not applied; medical exports write millimetres in the scanner's frame).
//! A Slicer `SCALE=` entry (a size factor chosen at export) is not applied.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use glam::{DMat4, DVec3};
use serde_json::{Map, Value};
use three_d_asset::io::RawAssets;
use three_d_asset::{Geometry, Indices, Node, Positions, Scene, TriMesh};

use super::MEMORY_BUDGET;
use super::input::Input;
use crate::error::LoadError;
use crate::mesh::{INTENT_POINTSET, INTENT_TRIANGLE};
use crate::surface::{ArrayData, DataArray, SurfaceFile};

/// The mesh formats read here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MeshFile {
    /// Wavefront `.obj`.
    Obj,
    /// `.stl`, binary or ASCII.
    Stl,
    /// `.gltf`: JSON, with buffers in files beside it or in `data:` URIs.
    Gltf,
    /// `.glb`: binary glTF.
    Glb,
}

impl MeshFile {
    /// The format a (lower-case, `.gz`-stripped) file name ends in.
    pub(crate) fn by_name(base: &str) -> Option<MeshFile> {
        [
            (".obj", MeshFile::Obj),
            (".stl", MeshFile::Stl),
            (".gltf", MeshFile::Gltf),
            (".glb", MeshFile::Glb),
        ]
        .into_iter()
        .find_map(|(end, kind)| base.ends_with(end).then_some(kind))
    }

    /// A GLB by its magic bytes (OBJ and STL have none to rely on).
    pub(crate) fn by_content(head: &[u8]) -> Option<MeshFile> {
        head.starts_with(GLB_MAGIC).then_some(MeshFile::Glb)
    }

    fn format(self) -> &'static str {
        match self {
            MeshFile::Obj => "OBJ",
            MeshFile::Stl => "STL",
            MeshFile::Gltf | MeshFile::Glb => "glTF",
        }
    }
}

/// The coordinate system a file states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Space {
    Ras,
    Lps,
    Unstated,
}

impl Space {
    /// Slicer's rule: `SPACE=RAS` anywhere in the header, else `SPACE=LPS`, else nothing stated.
    fn stated_in(header: &[u8]) -> Space {
        let has = |needle: &[u8]| header.windows(needle.len()).any(|w| w == needle);
        if has(b"SPACE=RAS") {
            Space::Ras
        } else if has(b"SPACE=LPS") {
            Space::Lps
        } else {
            Space::Unstated
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Space::Ras => "RAS",
            Space::Lps => "LPS (converted to RAS)",
            Space::Unstated => "not stated (taken as RAS)",
        }
    }
}

/// One mesh as three-d-asset gives it, and the transform that places it (glTF nodes).
struct Part {
    /// Vertex positions as read.
    positions: Vec<DVec3>,
    /// Three vertex indices per triangle; `None`: every three consecutive vertices are one.
    indices: Option<Vec<u32>>,
    /// The node transform to apply, if any.
    transform: Option<DMat4>,
}

impl Part {
    /// A three-d-asset triangle mesh's positions and indices.
    fn of_mesh(mesh: TriMesh, transform: Option<DMat4>) -> Part {
        let positions = match mesh.positions {
            Positions::F32(p) => p
                .iter()
                .map(|v| DVec3::new(v.x.into(), v.y.into(), v.z.into()))
                .collect(),
            Positions::F64(p) => p.iter().map(|v| DVec3::new(v.x, v.y, v.z)).collect(),
        };
        let indices = match mesh.indices {
            Indices::None => None,
            Indices::U8(v) => Some(v.into_iter().map(u32::from).collect()),
            Indices::U16(v) => Some(v.into_iter().map(u32::from).collect()),
            Indices::U32(v) => Some(v),
        };
        Part {
            positions,
            indices,
            transform,
        }
    }
}

/// What a file's reader hands to [`merge`].
struct Parts {
    parts: Vec<Part>,
    space: Space,
    /// `SourceFormat` metadata, e.g. `STL (binary)`.
    source: &'static str,
}

/// Reads the mesh file `bytes` (its whole, decompressed content); `path` locates a `.gltf`'s
/// buffer files, `name` names the result.
pub(crate) fn read(kind: MeshFile, bytes: Vec<u8>, path: &Path, name: &str) -> Result<SurfaceFile, LoadError> {
    let format = kind.format();
    if bytes.is_empty() {
        return Err(LoadError::truncated("the file is empty"));
    }
    let parts = match kind {
        MeshFile::Obj => obj_parts(&bytes)?,
        MeshFile::Stl => stl_parts(bytes)?,
        MeshFile::Gltf | MeshFile::Glb => gltf_parts(&bytes, kind, path)?,
    };
    let (coords, faces) = merge(parts.parts, parts.space, format)?;
    let (nv, nf) = (coords.len() / 3, faces.len() / 3);
    Ok(SurfaceFile {
        name: name.to_owned(),
        arrays: vec![
            DataArray {
                intent: INTENT_POINTSET.into(),
                dims: vec![nv, 3],
                data: ArrayData::F32(coords),
                ..DataArray::default()
            },
            DataArray {
                intent: INTENT_TRIANGLE.into(),
                dims: vec![nf, 3],
                data: ArrayData::I32(faces),
                ..DataArray::default()
            },
        ],
        labels: Vec::new(),
        meta: vec![
            ("SourceFormat".into(), parts.source.into()),
            ("SourceSpace".into(), parts.space.describe().into()),
        ],
    })
}

/// Runs three-d-asset on `assets`, reading the file stored under `key`. A panic inside it (a
/// case of malformed input its checks miss) becomes an error, as every bad file must.
fn deserialize(mut assets: RawAssets, key: &str, format: &'static str) -> Result<Scene, LoadError> {
    match catch_unwind(AssertUnwindSafe(|| assets.deserialize::<Scene>(key))) {
        Ok(Ok(scene)) => Ok(scene),
        Ok(Err(e)) => Err(LoadError::mesh(format, error_chain(&e))),
        Err(_) => Err(LoadError::mesh(format, "the reader failed on malformed data")),
    }
}

/// An error's message followed by those of its sources.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// The triangle meshes of a scene's nodes (children after their parent), each with its node's
/// transform composed with its parents'.
fn scene_parts(scene: Scene) -> Vec<Part> {
    fn walk(node: Node, parent: DMat4, out: &mut Vec<Part>) {
        let cols: [[f32; 4]; 4] = node.transformation.into();
        let transform = parent * DMat4::from_cols_array_2d(&cols.map(|c| c.map(f64::from)));
        if let Some(Geometry::Triangles(mesh)) = node.geometry {
            out.push(Part::of_mesh(mesh, (transform != DMat4::IDENTITY).then_some(transform)));
        }
        for child in node.children {
            walk(child, transform, out);
        }
    }
    let mut out = Vec::new();
    for node in scene.children {
        walk(node, DMat4::IDENTITY, &mut out);
    }
    out
}

/// Merges the parts into one vertex and one triangle array, placing and converting every vertex.
fn merge(parts: Vec<Part>, space: Space, format: &'static str) -> Result<(Vec<f32>, Vec<i32>), LoadError> {
    let mut coords: Vec<f32> = Vec::new();
    let mut faces: Vec<i32> = Vec::new();
    for part in parts {
        let base = coords.len() / 3;
        let n = part.positions.len();
        if base + n > i32::MAX as usize {
            return Err(LoadError::too_large(format!(
                "more than {} vertices (triangles are stored as int32 indices)",
                i32::MAX
            )));
        }
        coords.reserve(n * 3);
        for (i, p) in part.positions.into_iter().enumerate() {
            let p = part.transform.map_or(p, |m| m.transform_point3(p));
            let p = if space == Space::Lps {
                DVec3::new(-p.x, -p.y, p.z)
            } else {
                p
            };
            let stored = [p.x as f32, p.y as f32, p.z as f32];
            if !stored.iter().all(|c| c.is_finite()) {
                return Err(LoadError::NonFiniteVertex {
                    file: String::new(),
                    vertex: base + i,
                    x: p.x,
                    y: p.y,
                    z: p.z,
                });
            }
            coords.extend_from_slice(&stored);
        }
        let indices: Vec<u32> = match part.indices {
            None => {
                if !n.is_multiple_of(3) {
                    return Err(LoadError::mesh(
                        format,
                        format!("a mesh without indices has {n} vertices, not a multiple of 3"),
                    ));
                }
                (0..n as u32).collect()
            }
            Some(indices) => indices,
        };
        if !indices.len().is_multiple_of(3) {
            return Err(LoadError::mesh(
                format,
                format!("a mesh has {} indices, not a multiple of 3", indices.len()),
            ));
        }
        faces.reserve(indices.len());
        let first_triangle = faces.len() / 3;
        for (t, triangle) in indices.chunks_exact(3).enumerate() {
            for &index in triangle {
                if index as usize >= n {
                    return Err(LoadError::VertexIndex {
                        file: String::new(),
                        triangle: first_triangle + t,
                        index: index.into(),
                        vertices: n,
                    });
                }
            }
            // In range of this part, whose vertices end below i32::MAX (checked above).
            faces.extend(triangle.iter().map(|&index| (base + index as usize) as i32));
        }
    }
    if faces.is_empty() {
        return Err(LoadError::NoTriangles {
            file: String::new(),
            format,
        });
    }
    Ok((coords, faces))
}

// ---------------------------------------------------------------------------------------------
// OBJ

/// An OBJ, after two edits that keep its line numbers (for error messages): `mtllib` lines are
/// blanked (materials are not read, whatever their file names), and
/// `v` lines keep their first three values (`v x y z w` and the vertex colours `v x y z r g b` that
/// MeshLab and others write are otherwise rejected by wavefront_obj).
/// Text that is not UTF-8 (a Latin-1 comment) is read with replacement characters.
fn obj_parts(bytes: &[u8]) -> Result<Parts, LoadError> {
    let text = String::from_utf8_lossy(bytes);
    let mut header = String::new();
    let mut in_header = true;
    let mut clean = String::with_capacity(text.len() + 1);
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let mut words = trimmed.split_ascii_whitespace();
        let first = words.next();
        if in_header {
            if trimmed.starts_with('#') {
                header.push_str(trimmed);
            } else if first == Some("v") {
                in_header = false;
            }
        }
        match first {
            Some("mtllib") => clean.push('\n'),
            Some("v") => {
                clean.push('v');
                for value in words.take(3) {
                    clean.push(' ');
                    clean.push_str(value);
                }
                clean.push('\n');
            }
            _ => clean.push_str(line),
        }
    }
    let parsed = catch_unwind(AssertUnwindSafe(|| wavefront_obj::obj::parse(&clean)))
        .map_err(|_| LoadError::mesh("OBJ", "the reader failed on malformed data"))?
        .map_err(|e| LoadError::mesh("OBJ", format!("line {}: {}", e.line_number, e.message)))?;
    let parts = parsed.objects.into_iter().map(obj_part).collect::<Result<_, _>>()?;
    Ok(Parts {
        parts,
        space: Space::stated_in(header.as_bytes()),
        source: "OBJ",
    })
}

/// One OBJ object: its vertices in the file's order (so per-vertex maps written for the file line
/// up), its faces as triangles (a polygon as a fan from its last corner, as wavefront_obj splits it).
fn obj_part(object: wavefront_obj::obj::Object) -> Result<Part, LoadError> {
    let positions = object.vertices.iter().map(|v| DVec3::new(v.x, v.y, v.z)).collect();
    let mut indices = Vec::new();
    for shape in object.geometry.iter().flat_map(|g| &g.shapes) {
        if let wavefront_obj::obj::Primitive::Triangle(a, b, c) = shape.primitive {
            for (index, ..) in [a, b, c] {
                let index = u32::try_from(index).map_err(|_| LoadError::too_large("a vertex index above 2^32"))?;
                indices.push(index);
            }
        }
    }
    Ok(Part {
        positions,
        indices: Some(indices),
        transform: None,
    })
}

// ---------------------------------------------------------------------------------------------
// STL (three-d-asset reads it with stl_io)

/// Bytes of a binary STL's header and triangle count.
const STL_HEAD: usize = 84;
/// Bytes of one binary STL triangle: normal, three vertices, attribute count.
const STL_TRIANGLE: u64 = 50;

/// A binary STL is told from an ASCII one by its length (`84 + 50 × count` bytes exactly), else by
/// not starting with `solid`: binary files whose header starts with `solid` (some CAD exporters
/// write one) are common, and stl_io alone would take them for ASCII.
fn stl_parts(mut bytes: Vec<u8>) -> Result<Parts, LoadError> {
    let len = bytes.len() as u64;
    let claimed = bytes
        .get(80..STL_HEAD)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let exact_binary = claimed.is_some_and(|n| STL_HEAD as u64 + STL_TRIANGLE * u64::from(n) == len);
    if bytes.starts_with(b"solid") && !exact_binary {
        return stl_ascii(&bytes);
    }
    let Some(n) = claimed else {
        return Err(LoadError::truncated(format!(
            "a binary STL starts with an 80-byte header and a triangle count, the file has {len} bytes"
        )));
    };
    let need = STL_HEAD as u64 + STL_TRIANGLE * u64::from(n);
    if need > len {
        return Err(LoadError::truncated(format!(
            "the header claims {n} triangles ({need} bytes), the file has {len} bytes"
        )));
    }
    let space = Space::stated_in(&bytes[..80]);
    if bytes.starts_with(b"solid") {
        // Only the header's text changes: stl_io probes for "solid " to choose ASCII.
        bytes[..5].copy_from_slice(b"SOLID");
    }
    bytes.truncate(need as usize);
    let mut assets = RawAssets::new();
    assets.insert("mesh.stl", bytes);
    let scene = deserialize(assets, "mesh.stl", "STL")?;
    Ok(Parts {
        parts: scene_parts(scene),
        space,
        source: "STL (binary)",
    })
}

/// An ASCII STL: each `solid … endsolid` block is read on its own (stl_io stops at the first
/// `endsolid`), the space comes from the first `solid` line.
fn stl_ascii(bytes: &[u8]) -> Result<Parts, LoadError> {
    let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or(bytes);
    let space = Space::stated_in(first_line);
    let mut starts = Vec::new();
    let mut at = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let text = line.trim_ascii_start();
        let keyword = text.split(|b| b.is_ascii_whitespace()).next().unwrap_or(text);
        if keyword == b"solid" {
            starts.push(at + (line.len() - text.len()));
        }
        at += line.len();
    }
    let mut parts = Vec::new();
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(bytes.len());
        let solid = &bytes[start..end];
        // stl_io wants "solid " with a space, a bare "solid" line is as valid.
        let mut owned = b"solid ".to_vec();
        owned.extend_from_slice(&solid[5..]);
        let mut assets = RawAssets::new();
        assets.insert("mesh.stl", owned);
        parts.extend(scene_parts(deserialize(assets, "mesh.stl", "STL")?));
    }
    Ok(Parts {
        parts,
        space,
        source: "STL (ASCII)",
    })
}

// ---------------------------------------------------------------------------------------------
// glTF

const GLB_MAGIC: &[u8; 4] = b"glTF";
const GLB_JSON: u32 = 0x4E4F_534A;
const GLB_BIN: u32 = 0x004E_4942;
/// Deepest node hierarchy read (three-d-asset walks it recursively).
const MAX_NODE_DEPTH: usize = 256;
/// Extensions that store geometry in a way three-d-asset does not read, when a file requires them
/// (without them, Draco and meshopt files fall back to plain accessors, which are read).
const REQUIRED_UNREAD: [&str; 3] = [
    "KHR_draco_mesh_compression",
    "EXT_meshopt_compression",
    "KHR_mesh_quantization",
];
/// Extensions whose mere use changes the geometry (instances of a node), which three-d-asset ignores.
const USED_UNREAD: [&str; 1] = ["EXT_mesh_gpu_instancing"];

fn bad(detail: impl Into<String>) -> LoadError {
    LoadError::mesh("glTF", detail)
}

/// Before three-d-asset sees a glTF, cortexlens reduces it to its geometry and checks what
/// three-d-asset and the gltf crate would otherwise trust: the JSON keeps only the default scene,
/// its nodes and meshes, triangle primitives with their `POSITION` attribute and indices, and the
/// accessors, buffer views and buffers; materials, textures, animations, skins, cameras and
/// extensions go. Every buffer is resolved here (GLB binary chunk, `data:` URI or a file beside the
/// `.gltf`) and handed over under a made-up name, so three-d-asset touches no file itself.
fn gltf_parts(bytes: &[u8], kind: MeshFile, path: &Path) -> Result<Parts, LoadError> {
    let (json, bin) = if kind == MeshFile::Glb || bytes.starts_with(GLB_MAGIC) {
        split_glb(bytes)?
    } else {
        (bytes, None)
    };
    let mut doc: Value = serde_json::from_slice(json).map_err(|e| bad(format!("JSON: {e}")))?;
    let root = doc.as_object_mut().ok_or_else(|| bad("the JSON is not an object"))?;
    for (list, unread) in [
        ("extensionsRequired", &REQUIRED_UNREAD[..]),
        ("extensionsUsed", &USED_UNREAD[..]),
    ] {
        let names = root.get(list).and_then(Value::as_array).into_iter().flatten();
        if let Some(name) = names.filter_map(Value::as_str).find(|n| unread.contains(n)) {
            return Err(LoadError::unsupported(format!(
                "the glTF uses {name}, which cortexlens does not read"
            )));
        }
    }
    for key in [
        "materials",
        "textures",
        "images",
        "samplers",
        "animations",
        "skins",
        "cameras",
        "extensions",
        "extensionsUsed",
        "extensionsRequired",
    ] {
        root.remove(key);
    }
    let buffers = load_buffers(root, bin, path)?;
    let stripped = strip_meshes(root)?;
    for accessor in &stripped.positions {
        check_accessor(root, accessor, "POSITION", &[(FLOAT, 4)], "VEC3", 3, &buffers)?;
    }
    for accessor in &stripped.indices {
        check_accessor(
            root,
            accessor,
            "index",
            &[(UNSIGNED_BYTE, 1), (UNSIGNED_SHORT, 2), (UNSIGNED_INT, 4)],
            "SCALAR",
            1,
            &buffers,
        )?;
    }
    fill_position_bounds(root, &stripped.all_positions);
    choose_scene(root)?;
    let json = serde_json::to_vec(&doc).map_err(|e| bad(format!("JSON: {e}")))?;
    let mut assets = RawAssets::new();
    assets.insert("mesh.gltf", json);
    for (i, data) in buffers.into_iter().enumerate() {
        assets.insert(buffer_key(i), data);
    }
    let scene = deserialize(assets, "mesh.gltf", "glTF")?;
    Ok(Parts {
        parts: scene_parts(scene),
        space: Space::Unstated,
        source: if kind == MeshFile::Glb { "GLB" } else { "glTF" },
    })
}

fn buffer_key(i: usize) -> String {
    format!("buffer{i}.bin")
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The JSON chunk and the binary chunk (if any) of a GLB.
fn split_glb(bytes: &[u8]) -> Result<(&[u8], Option<&[u8]>), LoadError> {
    let (Some(version), Some(length)) = (u32_at(bytes, 4), u32_at(bytes, 8)) else {
        return Err(LoadError::truncated(format!(
            "a GLB starts with a 12-byte header, the file has {} bytes",
            bytes.len()
        )));
    };
    if version != 2 {
        return Err(bad(format!("GLB version {version}; only glTF 2.0 is read")));
    }
    let length = length as usize;
    if length > bytes.len() {
        return Err(LoadError::truncated(format!(
            "the GLB header claims {length} bytes, the file has {}",
            bytes.len()
        )));
    }
    let body = &bytes[..length];
    let (mut json, mut bin) = (None, None);
    let mut at = 12;
    while at < body.len() {
        let (Some(chunk_len), Some(chunk_type)) = (u32_at(body, at), u32_at(body, at + 4)) else {
            return Err(LoadError::truncated(format!(
                "GLB chunk header at byte {at} is cut short"
            )));
        };
        let start = at + 8;
        let end = start + chunk_len as usize;
        if end > body.len() {
            return Err(LoadError::truncated(format!(
                "GLB chunk at byte {at} claims {chunk_len} bytes, {} are left",
                body.len() - start
            )));
        }
        match chunk_type {
            GLB_JSON if json.is_none() => json = Some(&body[start..end]),
            GLB_BIN if bin.is_none() && json.is_some() => bin = Some(&body[start..end]),
            _ => {}
        }
        at = end;
    }
    let json = json.ok_or_else(|| bad("the GLB has no JSON chunk"))?;
    Ok((json, bin))
}

/// The bytes of every buffer, each checked to hold its `byteLength`; each buffer's `uri` is
/// rewritten to the name its bytes are handed to three-d-asset under.
fn load_buffers(
    root: &mut Map<String, Value>,
    bin: Option<&[u8]>,
    gltf_path: &Path,
) -> Result<Vec<Vec<u8>>, LoadError> {
    let Some(buffers) = root.get_mut("buffers").and_then(Value::as_array_mut) else {
        return Ok(Vec::new());
    };
    let dir = gltf_path.parent().unwrap_or(Path::new(""));
    let mut out = Vec::with_capacity(buffers.len().min(1024));
    let mut total = 0u64;
    for (i, buffer) in buffers.iter_mut().enumerate() {
        let buffer = buffer
            .as_object_mut()
            .ok_or_else(|| bad(format!("buffer {i} is not an object")))?;
        let declared = buffer
            .get("byteLength")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad(format!("buffer {i} has no byteLength")))?;
        let data = match buffer.get("uri").and_then(Value::as_str) {
            None => match bin {
                Some(bin) if i == 0 => bin.to_vec(),
                _ => return Err(bad(format!("buffer {i} has no uri and no GLB binary chunk holds it"))),
            },
            Some(uri) if uri.starts_with("data:") => {
                decode_data_uri(uri).map_err(|e| bad(format!("buffer {i}: {e}")))?
            }
            Some(uri) => read_buffer_file(dir, uri, MEMORY_BUDGET.saturating_sub(total))?,
        };
        if (data.len() as u64) < declared {
            return Err(LoadError::truncated(format!(
                "buffer {i} declares {declared} bytes, it holds {}",
                data.len()
            )));
        }
        total += data.len() as u64;
        buffer.insert("uri".into(), Value::String(buffer_key(i)));
        out.push(data);
    }
    Ok(out)
}

/// The payload of a base64 `data:` URI.
fn decode_data_uri(uri: &str) -> Result<Vec<u8>, String> {
    let (meta, payload) = uri
        .split_once(',')
        .ok_or_else(|| "a data URI without a comma".to_owned())?;
    if !meta.ends_with(";base64") {
        return Err("only base64 data URIs are read".into());
    }
    STANDARD
        .decode(payload.trim())
        .map_err(|e| format!("invalid base64 in its data URI: {e}"))
}

/// A buffer file named by a relative URI (percent-decoded) beside the `.gltf`; errors name it.
fn read_buffer_file(dir: &Path, uri: &str, budget: u64) -> Result<Vec<u8>, LoadError> {
    if let Some((scheme, _)) = uri.split_once("://") {
        return Err(bad(format!(
            "buffer URI {uri:?} is a {scheme} address; only files beside the glTF are read"
        )));
    }
    let relative = percent_decode(uri).ok_or_else(|| bad(format!("buffer URI {uri:?} is not valid")))?;
    let path = dir.join(&relative);
    let shown = path
        .file_name()
        .map_or_else(|| relative.clone(), |n| n.to_string_lossy().into_owned());
    let mut input = Input::open(&path).map_err(|e| e.in_file(&shown))?;
    input.read_to_end(budget, &mut |_| {}).map_err(|e| e.in_file(&shown))
}

/// `%XX` escapes decoded; `None` for a broken escape or a result that is not UTF-8.
fn percent_decode(uri: &str) -> Option<String> {
    let bytes = uri.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// glTF primitive modes.
const MODE_TRIANGLES: u64 = 4;
const MODE_TRIANGLE_STRIP: u64 = 5;
const MODE_TRIANGLE_FAN: u64 = 6;

/// The accessors [`strip_meshes`] leaves in use.
struct Stripped {
    /// `POSITION` accessors of the triangle primitives (which three-d-asset reads).
    positions: Vec<Value>,
    /// Index accessors of the triangle primitives.
    indices: Vec<Value>,
    /// Every `POSITION` accessor still named by a primitive (the gltf crate checks their bounds).
    all_positions: Vec<Value>,
}

/// Reduces nodes and meshes to geometry: each mesh keeps its triangle primitives with only their
/// `POSITION` attribute and indices (points and lines are dropped; a mesh left with none keeps them
/// but is unlinked from its nodes, so that nothing reads it).
fn strip_meshes(root: &mut Map<String, Value>) -> Result<Stripped, LoadError> {
    let mut all_positions = Vec::new();
    let mut positions = Vec::new();
    let mut indices = Vec::new();
    let mut unlinked = Vec::new();
    if let Some(meshes) = root.get_mut("meshes").and_then(Value::as_array_mut) {
        for (m, mesh) in meshes.iter_mut().enumerate() {
            let mesh = mesh
                .as_object_mut()
                .ok_or_else(|| bad(format!("mesh {m} is not an object")))?;
            for key in ["weights", "extensions"] {
                mesh.remove(key);
            }
            let primitives = mesh
                .get_mut("primitives")
                .and_then(Value::as_array_mut)
                .ok_or_else(|| bad(format!("mesh {m} has no primitives")))?;
            let mut kept = Vec::new();
            for (p, primitive) in primitives.iter_mut().enumerate() {
                let primitive = primitive
                    .as_object_mut()
                    .ok_or_else(|| bad(format!("mesh {m} primitive {p} is not an object")))?;
                for key in ["material", "targets", "extensions"] {
                    primitive.remove(key);
                }
                let position = primitive
                    .get("attributes")
                    .and_then(|a| a.get("POSITION"))
                    .cloned()
                    .ok_or_else(|| bad(format!("mesh {m} primitive {p} has no POSITION attribute")))?;
                let mut attributes = Map::new();
                attributes.insert("POSITION".into(), position.clone());
                all_positions.push(position.clone());
                primitive.insert("attributes".into(), Value::Object(attributes));
                let mode = match primitive.get("mode") {
                    None => MODE_TRIANGLES,
                    Some(v) => v
                        .as_u64()
                        .ok_or_else(|| bad(format!("mesh {m} primitive {p} has mode {v}")))?,
                };
                match mode {
                    MODE_TRIANGLES => {
                        positions.push(position);
                        indices.extend(primitive.get("indices").cloned());
                        kept.push(Value::Object(primitive.clone()));
                    }
                    0..=3 => {}
                    MODE_TRIANGLE_STRIP | MODE_TRIANGLE_FAN => {
                        return Err(LoadError::unsupported(format!(
                            "mesh {m} primitive {p} is a triangle {}; cortexlens reads triangle lists",
                            if mode == MODE_TRIANGLE_STRIP { "strip" } else { "fan" }
                        )));
                    }
                    other => return Err(bad(format!("mesh {m} primitive {p} has mode {other}"))),
                }
            }
            if kept.is_empty() {
                unlinked.push(m as u64);
            } else {
                *primitives = kept;
            }
        }
    }
    if let Some(nodes) = root.get_mut("nodes").and_then(Value::as_array_mut) {
        for node in nodes.iter_mut().filter_map(Value::as_object_mut) {
            for key in ["skin", "camera", "weights", "extensions"] {
                node.remove(key);
            }
            if node
                .get("mesh")
                .and_then(Value::as_u64)
                .is_some_and(|m| unlinked.contains(&m))
            {
                node.remove("mesh");
            }
        }
    }
    Ok(Stripped {
        positions,
        indices,
        all_positions,
    })
}

/// glTF component types.
const UNSIGNED_BYTE: u64 = 5121;
const UNSIGNED_SHORT: u64 = 5123;
const UNSIGNED_INT: u64 = 5125;
const FLOAT: u64 = 5126;

fn element<'a>(root: &'a Map<String, Value>, list: &str, index: u64) -> Option<&'a Map<String, Value>> {
    root.get(list)?
        .as_array()?
        .get(usize::try_from(index).ok()?)?
        .as_object()
}

fn field(object: &Map<String, Value>, key: &str) -> Option<u64> {
    object.get(key).and_then(Value::as_u64)
}

/// Checks that an accessor is of one of `types` (component type, bytes) and of type `kind` with
/// `components` values, dense, non-empty, and that every byte it reads lies inside its buffer view
/// and the view inside its buffer's bytes.
fn check_accessor(
    root: &Map<String, Value>,
    index: &Value,
    what: &str,
    types: &[(u64, u64)],
    kind: &str,
    components: u64,
    buffers: &[Vec<u8>],
) -> Result<(), LoadError> {
    let a = index
        .as_u64()
        .ok_or_else(|| bad(format!("{what} accessor index {index} is not an index")))?;
    let accessor = element(root, "accessors", a).ok_or_else(|| bad(format!("{what} accessor {a} does not exist")))?;
    if accessor.contains_key("sparse") {
        return Err(LoadError::unsupported(format!(
            "{what} accessor {a} is sparse, which cortexlens does not read"
        )));
    }
    let component = field(accessor, "componentType");
    let Some(&(_, size)) = types.iter().find(|(t, _)| Some(*t) == component) else {
        return Err(bad(format!(
            "{what} accessor {a} has component type {component:?}, expected one of {:?}",
            types.iter().map(|t| t.0).collect::<Vec<_>>()
        )));
    };
    if accessor.get("type").and_then(Value::as_str) != Some(kind) {
        return Err(bad(format!("{what} accessor {a} is not of type {kind}")));
    }
    let count = field(accessor, "count").unwrap_or(0);
    if count == 0 {
        return Err(bad(format!("{what} accessor {a} has no elements")));
    }
    let v = field(accessor, "bufferView").ok_or_else(|| bad(format!("{what} accessor {a} has no bufferView")))?;
    let view = element(root, "bufferViews", v).ok_or_else(|| bad(format!("bufferView {v} does not exist")))?;
    let b = field(view, "buffer").ok_or_else(|| bad(format!("bufferView {v} names no buffer")))?;
    let view_offset = u128::from(field(view, "byteOffset").unwrap_or(0));
    let view_length =
        u128::from(field(view, "byteLength").ok_or_else(|| bad(format!("bufferView {v} has no byteLength")))?);
    let elem = u128::from(size * components);
    let stride = field(view, "byteStride").map_or(elem, u128::from);
    if stride < elem {
        return Err(bad(format!(
            "bufferView {v} has a stride of {stride} bytes, smaller than the {elem}-byte elements of {what} accessor {a}"
        )));
    }
    let end = u128::from(field(accessor, "byteOffset").unwrap_or(0)) + stride * u128::from(count - 1) + elem;
    if end > view_length {
        return Err(bad(format!(
            "{what} accessor {a} ({count} elements) reaches byte {end} of bufferView {v}, which has {view_length}"
        )));
    }
    let buffer = usize::try_from(b)
        .ok()
        .and_then(|b| buffers.get(b))
        .ok_or_else(|| bad(format!("bufferView {v} names buffer {b}, which does not exist")))?;
    let declared = element(root, "buffers", b)
        .and_then(|buffer| field(buffer, "byteLength"))
        .unwrap_or(0);
    let held = u128::from(declared).min(buffer.len() as u128);
    if view_offset + view_length > held {
        return Err(LoadError::truncated(format!(
            "bufferView {v} reaches byte {} of buffer {b}, which holds {held}",
            view_offset + view_length
        )));
    }
    Ok(())
}

/// The gltf crate insists that `POSITION` accessors state `min` and `max`; some exporters omit
/// them. Nothing reads them (the vertices are), so missing ones are filled with zeros.
fn fill_position_bounds(root: &mut Map<String, Value>, positions: &[Value]) {
    let Some(accessors) = root.get_mut("accessors").and_then(Value::as_array_mut) else {
        return;
    };
    for index in positions.iter().filter_map(Value::as_u64) {
        if let Some(accessor) = usize::try_from(index)
            .ok()
            .and_then(|i| accessors.get_mut(i))
            .and_then(Value::as_object_mut)
        {
            for key in ["min", "max"] {
                accessor
                    .entry(key)
                    .or_insert_with(|| Value::Array(vec![0.into(), 0.into(), 0.into()]));
            }
        }
    }
}

/// Leaves one scene, at index 0: the default one (`scene`), else the first; a file without scenes
/// gets one of its root nodes. Node references must exist, the hierarchy must be a tree (no node
/// reached twice, so no cycle) at most [`MAX_NODE_DEPTH`] deep.
fn choose_scene(root: &mut Map<String, Value>) -> Result<(), LoadError> {
    let node_count = root.get("nodes").and_then(Value::as_array).map_or(0, Vec::len);
    let children = |n: usize| -> Vec<u64> {
        element(root, "nodes", n as u64)
            .and_then(|node| node.get("children"))
            .and_then(Value::as_array)
            .map(|c| c.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default()
    };
    let scenes = root.get("scenes").and_then(Value::as_array);
    let scene = match scenes {
        Some(scenes) if !scenes.is_empty() => {
            let i = root.get("scene").and_then(Value::as_u64).unwrap_or(0);
            usize::try_from(i)
                .ok()
                .and_then(|i| scenes.get(i))
                .cloned()
                .ok_or_else(|| bad(format!("the default scene {i} does not exist")))?
        }
        _ => {
            let mut is_child = vec![false; node_count];
            for n in 0..node_count {
                for c in children(n) {
                    if let Some(flag) = usize::try_from(c).ok().and_then(|c| is_child.get_mut(c)) {
                        *flag = true;
                    }
                }
            }
            let roots: Vec<Value> = (0..node_count).filter(|&n| !is_child[n]).map(Value::from).collect();
            let mut scene = Map::new();
            scene.insert("nodes".into(), Value::Array(roots));
            Value::Object(scene)
        }
    };
    // Depth-first over the scene's nodes.
    let mut seen = vec![false; node_count];
    let mut stack: Vec<(u64, usize)> = scene
        .get("nodes")
        .and_then(Value::as_array)
        .map(|n| n.iter().filter_map(Value::as_u64).map(|n| (n, 1)).collect())
        .unwrap_or_default();
    while let Some((n, depth)) = stack.pop() {
        let i = usize::try_from(n)
            .ok()
            .filter(|&i| i < node_count)
            .ok_or_else(|| bad(format!("node {n} does not exist")))?;
        if depth > MAX_NODE_DEPTH {
            return Err(bad(format!("the node hierarchy is deeper than {MAX_NODE_DEPTH}")));
        }
        if std::mem::replace(&mut seen[i], true) {
            return Err(bad(format!(
                "node {n} is reached twice in the scene (the nodes must form trees)"
            )));
        }
        stack.extend(children(i).into_iter().map(|c| (c, depth + 1)));
    }
    root.insert("scenes".into(), Value::Array(vec![scene]));
    root.insert("scene".into(), Value::from(0));
    Ok(())
}
