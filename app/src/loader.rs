//! Reading a file, and nothing else: what it holds comes back as [`FileContents`], which
//! [`crate::open`] turns into what the views show. The window runs this as a job; the CLI calls it
//! directly.

use std::path::Path;
use std::sync::Arc;

use glam::DMat4;

use cortexlens_data::atlas::{Atlas, is_atlas_path, load_atlas};
use cortexlens_data::cifti::CiftiFile;
use cortexlens_data::field::{NeuralField, is_field_path, load_field_with_progress};
use cortexlens_data::formats::{LabelNames, sidecar_label_names};
use cortexlens_data::splats::Splats;
use cortexlens_data::splats::placement::{TransformFileError, read_transform, sidecar_path};
use cortexlens_data::{FreeSurferLabel, LoadError, Loaded, SurfaceFile, Volume, load_path};

/// What a file held.
#[derive(Debug)]
pub enum FileContents {
    /// A volume, with the label names of its BIDS sidecar (`NAME.tsv`) when it has one (or why they
    /// could not be read).
    Volume {
        /// The volume.
        volume: Volume,
        /// The sidecar's label names, if there is a sidecar.
        label_names: Option<Result<LabelNames, LoadError>>,
    },
    /// A surface file: a mesh or per-vertex maps.
    Surface(SurfaceFile),
    /// A FreeSurfer `.label` file: a region of a hemisphere.
    Label(FreeSurferLabel),
    /// A `.nfield` scene or an instant-ngp snapshot.
    Field(NeuralField),
    /// A CIFTI-2 file (dense or parcel maps, series, labels, connectivity).
    Cifti(Arc<CiftiFile>),
    /// An FSL atlas (its descriptor and the images of its finest resolution).
    Atlas(Box<Atlas>),
    /// A Gaussian-splat scene, with its placement from the sidecar `NAME.transform.json` when
    /// there is one (or why it could not be read).
    Splats {
        /// The scene.
        splats: Splats,
        /// The sidecar's scene-to-world transform, if there is a sidecar.
        transform: Option<Result<DMat4, TransformFileError>>,
    },
}

/// Read `path`; `progress` gets the fraction read so far.
pub fn read_file(path: &Path, progress: &mut dyn FnMut(f32)) -> Result<FileContents, LoadError> {
    if is_atlas_path(path) {
        return load_atlas(path, progress).map(|atlas| FileContents::Atlas(Box::new(atlas)));
    }
    if is_field_path(path) {
        return load_field_with_progress(path, progress)
            .map(FileContents::Field)
            .map_err(LoadError::from);
    }
    Ok(match load_path(path, progress)? {
        Loaded::Volume(volume) => FileContents::Volume {
            volume,
            label_names: sidecar_label_names(path),
        },
        Loaded::Surface(surface) => FileContents::Surface(surface),
        Loaded::Cifti(cifti) => FileContents::Cifti(Arc::new(cifti)),
        Loaded::Label(label) => FileContents::Label(label),
        Loaded::Splats(splats) => {
            let sidecar = sidecar_path(path);
            FileContents::Splats {
                splats,
                transform: sidecar.is_file().then(|| read_transform(&sidecar)),
            }
        }
    })
}
