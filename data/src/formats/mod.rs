//! Reading volumes (NIfTI-1/2 single files and pairs, MGH/MGZ), CIFTI-2 matrices and surfaces (GIFTI, FreeSurfer
//! surfaces, curv/morph files, `.annot` parcellations and `.label` regions; OBJ, STL and glTF meshes through
//! `three-d-asset`, see `mesh_reader.rs`) and Gaussian splats (3DGS and compressed `.ply`, `.spz`) from disk; writing meshes (GIFTI, OBJ, PLY), per-vertex
//! values (GIFTI) and volumes (NIfTI-1).
//!
//! [`load_path`] tells the format from the file name and content, decompresses gzip on the fly
//! (recognised by its magic bytes), and reports progress. No size a header merely claims is
//! allocated: claims are checked against the file length and against [`MEMORY_BUDGET`], and
//! compressed data is read into buffers that grow as the data actually arrives.

mod annot;
mod bytes;
mod cifti;
mod compression;
mod freesurfer;
mod fs_label;
mod fsl_atlas;
mod gifti;
mod gifti_data;
mod gifti_writer;
mod input;
mod label_table;
mod mesh_reader;
mod mesh_writer;
mod mgh;
mod nifti;
mod nifti1;
mod nifti2;
mod nifti_pair;
mod nifti_writer;
mod ply;
mod progress;
mod splat_ply;
mod splat_ply_writer;
mod spz;
mod voxels;

use std::path::Path;

use glam::DMat4;

pub use self::fs_label::FreeSurferLabel;
pub use self::fsl_atlas::{AtlasImagesXml, FslAtlasXml, XmlLabel, parse_fsl_atlas_xml};
pub use self::gifti_writer::GiftiEncoding;
pub use self::label_table::{LabelNames, label_number, load_label_names, sidecar_label_names};
pub use self::mesh_writer::{MeshFormat, WriteError, save_mesh, save_mesh_as, save_vertex_values_gifti};
pub use self::nifti_writer::{StoredAs, save_nifti, save_nifti_as};
pub use self::splat_ply_writer::save_splats_ply;

use self::input::Input;
use self::mesh_reader::MeshFile;
use self::progress::Progress;
use crate::cifti::CiftiFile;
use crate::error::LoadError;
use crate::splats::Splats;
use crate::surface::SurfaceFile;
use crate::volume::Volume;

/// The most memory one file may claim: 16 GiB of decoded data (`f32` voxels, array values, or
/// the bytes of a whole GIFTI/FreeSurfer file). Larger claims fail with [`LoadError::TooLarge`]
/// before anything is allocated.
pub const MEMORY_BUDGET: u64 = 16 << 30;

/// File-name endings that [`load_path`] recognises, for file dialogs (FreeSurfer files such as
/// `lh.pial` are also recognised by content, whatever their name).
pub const EXTENSIONS: &[&str] = &[
    "nii",
    "nii.gz",
    "hdr",
    "img",
    "img.gz",
    "mgh",
    "mgz",
    "gii",
    "gii.gz",
    "annot",
    "curv",
    "sulc",
    "thickness",
    "area",
    "pial",
    "white",
    "inflated",
    "sphere",
    "orig",
    "smoothwm",
    "label",
    "obj",
    "stl",
    "gltf",
    "glb",
    "ply",
    "spz",
];

/// What a file held.
// One value per loaded file: the size difference of the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Loaded {
    /// A 3D or 4D volume.
    Volume(Volume),
    /// A surface file: meshes, per-vertex data, labels.
    Surface(SurfaceFile),
    /// A CIFTI-2 matrix with the index maps of its rows and columns.
    Cifti(CiftiFile),
    /// A FreeSurfer `.label` file: a region as vertex numbers (with positions and values).
    Label(FreeSurferLabel),
    /// A Gaussian-splat scene (3DGS `.ply`, SuperSplat `.compressed.ply`, `.spz`).
    Splats(Splats),
}

impl Loaded {
    /// The display name (the file name).
    pub fn name(&self) -> &str {
        match self {
            Loaded::Volume(v) => &v.name,
            Loaded::Surface(s) => &s.name,
            Loaded::Cifti(c) => &c.name,
            Loaded::Label(l) => &l.name,
            Loaded::Splats(s) => &s.name,
        }
    }

    /// `"volume"`, `"surface"`, `"cifti"`, `"label"` or `"splats"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Loaded::Volume(_) => "volume",
            Loaded::Surface(_) => "surface",
            Loaded::Cifti(_) => "cifti",
            Loaded::Label(_) => "label",
            Loaded::Splats(_) => "splats",
        }
    }
}

/// A volume's grid as its header states it, without its voxels.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageGrid {
    /// `[nx, ny, nz, nt]`; `nt` is 1 for a 3D volume.
    pub shape: [usize; 4],
    /// Voxel sizes, as [`Volume::zooms`].
    pub zooms: Vec<f64>,
    /// Voxel index → world millimetres, as [`Volume::affine`].
    pub affine: DMat4,
}

/// The grid of the volume at `path`: from the header alone for NIfTI (single files and pairs),
/// any other volume is read whole.
pub fn read_grid(path: &Path) -> Result<ImageGrid, LoadError> {
    let name = |p: &Path| {
        p.file_name()
            .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
    };
    let lower = name(path).to_ascii_lowercase();
    let base = lower.strip_suffix(".gz").unwrap_or(&lower);
    let header_file = if base.ends_with(".nii") {
        path.to_path_buf()
    } else if base.ends_with(".hdr") || base.ends_with(".img") {
        nifti_pair::pair_paths(path).map_err(|e| e.in_file(&name(path)))?.0
    } else {
        let volume = load_volume(path, &mut |_| {})?;
        return Ok(ImageGrid {
            shape: volume.shape,
            zooms: volume.zooms,
            affine: volume.affine,
        });
    };
    let read = || {
        let (header, shape) = nifti::read_header(&mut Input::open(&header_file)?)?;
        Ok(ImageGrid {
            shape: shape.dims,
            zooms: header.zooms(&shape),
            affine: header.affine(&shape),
        })
    };
    read().map_err(|e: LoadError| e.in_file(&name(&header_file)))
}

/// Formats told apart by [`load_path`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Nifti,
    Mgh,
    Gifti,
    FreeSurferBinary,
    FreeSurferMorph,
    Annot,
    Label,
    Mesh(MeshFile),
    Ply,
    Spz,
}

/// Endings of FreeSurfer per-vertex files, whose old format has no magic number.
const MORPH_ENDINGS: &[&str] = &[
    ".curv",
    ".sulc",
    ".thickness",
    ".area",
    ".volume",
    ".jacobian_white",
    ".avg_curv",
    ".h",
    ".k",
];

fn by_name(base: &str) -> Option<Format> {
    if base.ends_with(".nii") {
        Some(Format::Nifti)
    } else if base.ends_with(".mgh") || base.ends_with(".mgz") {
        Some(Format::Mgh)
    } else if base.ends_with(".gii") {
        Some(Format::Gifti)
    } else if base.ends_with(".annot") {
        Some(Format::Annot)
    } else if base.ends_with(".label") {
        Some(Format::Label)
    } else if base.ends_with(".ply") {
        Some(Format::Ply)
    } else if base.ends_with(".spz") {
        Some(Format::Spz)
    } else {
        MeshFile::by_name(base).map(Format::Mesh)
    }
}

fn by_content(head: &[u8]) -> Option<Format> {
    if nifti::sniff_version(head).is_some() {
        return Some(Format::Nifti);
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(text.len());
    if text[start..].starts_with(b"<?xml") || text[start..].starts_with(b"<GIFTI") {
        return Some(Format::Gifti);
    }
    if fs_label::sniff(&text[start..]) {
        return Some(Format::Label);
    }
    if ply::sniff(head) {
        return Some(Format::Ply);
    }
    if head.starts_with(spz::MAGIC) {
        return Some(Format::Spz);
    }
    let magic = head.get(..3)?;
    if matches!(magic, [0xff, 0xff, 0xfd..=0xff]) {
        return Some(Format::FreeSurferBinary);
    }
    MeshFile::by_content(head).map(Format::Mesh)
}

/// Loads a volume or surface file, reporting progress in `0..=1` as bytes are read and decoded.
///
/// Recognised: `.nii`, `.nii.gz` (a NIfTI-2 file with a CIFTI intent code, such as `.dscalar.nii`,
/// `.dtseries.nii`, `.dlabel.nii` or `.dconn.nii`, is read as CIFTI-2: [`Loaded::Cifti`]), `.hdr`/`.img` pairs (given either; each part may be gzipped),
/// `.mgh`, `.mgz`, `.gii`, `.gii.gz`, FreeSurfer surfaces (`lh.pial`, `rh.white`, …), curv/morph
/// files (`lh.curv`, `lh.sulc`, `lh.thickness`, `*.curv`, …), `.annot` files, `.label` files
/// (also recognised by their `#!ascii label` first line), and meshes of other
/// tools — `.obj`, `.stl` (binary or ASCII), `.gltf` (with its buffers) and `.glb` — read with
/// `three-d-asset` into the same [`SurfaceFile`] shape as a GIFTI mesh (vertices in world
/// millimetres, RAS+: a file marked `SPACE=LPS` by 3D Slicer is converted; every mesh and
/// primitive of a file merged into one), and Gaussian splats ([`Loaded::Splats`]): `.ply` in the
/// INRIA 3DGS layout (binary either endianness or ASCII) or SuperSplat's `.compressed.ply`
/// (`splat_ply.rs`), `.spz` versions 1–4 (`spz.rs`; also recognised by its `NGSP` magic). Every
/// failure is a [`LoadError`] whose message names the file.
pub fn load_path(path: &Path, progress: &mut dyn FnMut(f32)) -> Result<Loaded, LoadError> {
    let name = path
        .file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let mut progress = Progress::new(progress);
    let loaded = load_inner(path, &name, &mut progress).map_err(|e| e.in_file(&name))?;
    progress.finish();
    Ok(loaded)
}

/// [`load_path`] for a file that must hold a volume.
pub fn load_volume(path: &Path, progress: &mut dyn FnMut(f32)) -> Result<Volume, LoadError> {
    match load_path(path, progress)? {
        Loaded::Volume(v) => Ok(v),
        other => Err(LoadError::WrongKind {
            file: other.name().to_owned(),
            expected: "volume",
            found: other.kind(),
        }),
    }
}

/// [`load_path`] for a file that must hold a surface (mesh, per-vertex data or labels).
pub fn load_surface(path: &Path, progress: &mut dyn FnMut(f32)) -> Result<SurfaceFile, LoadError> {
    match load_path(path, progress)? {
        Loaded::Surface(s) => Ok(s),
        other => Err(LoadError::WrongKind {
            file: other.name().to_owned(),
            expected: "surface",
            found: other.kind(),
        }),
    }
}

fn load_inner(path: &Path, name: &str, progress: &mut Progress) -> Result<Loaded, LoadError> {
    let lower = name.to_ascii_lowercase();
    let base = lower.strip_suffix(".gz").unwrap_or(&lower);
    if base.ends_with(".hdr") || base.ends_with(".img") {
        return nifti_pair::load(path, name, progress).map(Loaded::Volume);
    }
    let mut input = Input::open(path)?;
    let head = input.peek(nifti2::HEADER_LEN)?.to_vec();
    let format = by_name(base).or_else(|| by_content(&head)).or_else(|| {
        MORPH_ENDINGS
            .iter()
            .any(|e| base.ends_with(e))
            .then_some(Format::FreeSurferMorph)
    });
    let Some(format) = format else {
        return Err(if head.is_empty() {
            LoadError::unknown("the file is empty")
        } else {
            LoadError::unknown(
                "neither the name nor the content is that of NIfTI, MGH, GIFTI, a FreeSurfer surface, curv, annot or label file, an OBJ, STL or glTF mesh, or Gaussian splats (.ply, .spz)",
            )
        });
    };
    match format {
        Format::Nifti if cifti::is_cifti(&head) => cifti::load(&mut input, name, progress).map(Loaded::Cifti),
        Format::Nifti => nifti::load_single(&mut input, name, progress).map(Loaded::Volume),
        Format::Mgh => mgh::load(&mut input, name, progress).map(Loaded::Volume),
        Format::Gifti => {
            progress.range(0.0, 0.5);
            let xml = input.read_xml(b"</GIFTI>", MEMORY_BUDGET, &mut |f| progress.set(f))?;
            progress.range(0.5, 1.0);
            gifti::parse(&xml, path, name, progress).map(Loaded::Surface)
        }
        Format::Label => {
            progress.range(0.0, 0.9);
            let bytes = input.read_to_end(MEMORY_BUDGET, &mut |f| progress.set(f))?;
            fs_label::read_label(&bytes, name).map(Loaded::Label)
        }
        Format::Mesh(kind) => {
            progress.range(0.0, 0.6);
            let bytes = input.read_to_end(MEMORY_BUDGET, &mut |f| progress.set(f))?;
            progress.range(0.6, 1.0);
            mesh_reader::read(kind, bytes, path, name).map(Loaded::Surface)
        }
        Format::Ply => {
            let (header, lines) = splat_ply::read_header(&mut input)?;
            match splat_ply::classify(&header) {
                splat_ply::PlyKind::Other => Err(LoadError::unknown(
                    "a PLY file whose vertex element has none of the 3DGS properties (f_dc_0, opacity, scale_0, rot_0) \
                     and is not a SuperSplat compressed PLY: PLY meshes and point clouds are not read",
                )),
                kind => splat_ply::load(&mut input, &header, lines, kind, name, progress).map(Loaded::Splats),
            }
        }
        Format::Spz => spz::load(&mut input, name, progress).map(Loaded::Splats),
        Format::FreeSurferBinary | Format::FreeSurferMorph | Format::Annot => {
            progress.range(0.0, 0.9);
            let bytes = input.read_to_end(MEMORY_BUDGET, &mut |f| progress.set(f))?;
            if bytes.is_empty() {
                return Err(LoadError::truncated("the file is empty"));
            }
            let surface = match format {
                Format::Annot => annot::read_annot(&bytes, name)?,
                Format::FreeSurferBinary => match freesurfer::sniff(&bytes, bytes.len() as u64) {
                    Some(freesurfer::Content::Morph) => freesurfer::read_morph(&bytes, name)?,
                    _ => freesurfer::read_surface(&bytes, name)?,
                },
                _ => freesurfer::read_morph(&bytes, name)?,
            };
            Ok(Loaded::Surface(surface))
        }
    }
}
