//! Domain types and file formats of cortexlens.
//!
//! `data` knows nothing of GPUs or the UI: it reads volumes (NIfTI-1/2, MGH/MGZ), CIFTI-2 files
//! ([`cifti`]), surfaces (GIFTI, FreeSurfer; OBJ, STL and glTF meshes through `three-d-asset`) and
//! FreeSurfer labels (regions of a mesh: [`mesh::region_vertices`], [`mesh::Mesh::region_outline`]) and atlases
//! (FSL's XML descriptors, labelled and 4D probabilistic volumes: [`atlas`]), computes their
//! statistics and display ranges ([`stats`]), and defines what the renderer and the app share —
//! colormaps, layer styles and slice geometry — so that the GPU renderer and its CPU reference
//! implement exactly the same mapping.

pub mod atlas;
pub mod camera;
pub mod cifti;
pub mod clusters;
pub mod colormap;
pub mod drawing;
pub mod error;
pub mod field;
pub mod formats;
pub mod geometry;
pub mod isosurface;
pub mod mesh;
pub mod projection;
pub mod splats;
pub mod stats;
pub mod style;
pub mod surface;
pub mod transfer;
pub mod vertex_colors;
pub mod volume;

pub use colormap::Colormap;
pub use error::LoadError;
pub use formats::{FreeSurferLabel, Loaded, load_path};
pub use geometry::{Plane, SliceGeometry};
pub use stats::VolumeStats;
pub use style::{Interpolation, LayerStyle};
pub use surface::{ArrayData, DataArray, Label, SurfaceFile};
pub use volume::Volume;
