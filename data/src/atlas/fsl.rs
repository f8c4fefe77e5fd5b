//! FSL atlases on disk: the XML descriptor (parsed by [`parse_fsl_atlas_xml`]), its images found
//! beside it as fslpy finds them, and the finest resolution read into an [`Atlas`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use glam::DVec3;

use super::maps::SparseFrames;
use super::{Atlas, AtlasKind, Region};
use crate::error::LoadError;
use crate::formats::{FslAtlasXml, ImageGrid, load_volume, parse_fsl_atlas_xml, read_grid};

/// File-name endings of atlas descriptors, for file dialogs.
pub const ATLAS_EXTENSIONS: &[&str] = &["xml"];

/// The largest descriptor read (FSL's largest, Talairach's, is about 100 kB).
const MAX_XML_BYTES: u64 = 16 << 20;

/// Endings tried after an image path, which FSL's descriptors give without one (fslpy's order).
const IMAGE_ENDINGS: &[&str] = &[".nii.gz", ".nii", ".img", ".hdr", ".img.gz", ".hdr.gz"];

/// Whether `path` names an atlas descriptor (`.xml`).
pub fn is_atlas_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ATLAS_EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// An FSL atlas descriptor with its images found and their headers read (no voxels).
#[derive(Clone, Debug, PartialEq)]
pub struct FslAtlas {
    /// What the XML says.
    pub xml: FslAtlasXml,
    /// Each `<images>` element's files, in the XML's order.
    pub resolutions: Vec<FslImages>,
}

/// The image files of one resolution.
#[derive(Clone, Debug, PartialEq)]
pub struct FslImages {
    /// The 4D image (probabilistic, statistic) or the label image.
    pub image: PathBuf,
    /// Its grid.
    pub image_grid: ImageGrid,
    /// The 3D summary image (the label image again for a label atlas without one).
    pub summary: PathBuf,
    /// Its grid.
    pub summary_grid: ImageGrid,
}

impl FslAtlas {
    /// The resolution with the smallest voxel edge (the first of equals), which fslpy loads
    /// when nothing asks for another.
    pub fn finest(&self) -> usize {
        let edge = |r: &FslImages| r.image_grid.zooms.iter().take(3).copied().fold(f64::INFINITY, f64::min);
        (0..self.resolutions.len())
            .min_by(|&a, &b| edge(&self.resolutions[a]).total_cmp(&edge(&self.resolutions[b])))
            .unwrap_or(0)
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Read an FSL atlas descriptor and the headers of its images: every image must exist beside it
/// (paths relative to the XML's folder, extension added as fslpy adds it), a summary or label
/// image must be 3D, and a probabilistic or statistic atlas's 4D image must hold a frame for
/// every label index. Errors name the XML, or the image they are about.
pub fn read_fsl_atlas(path: &Path) -> Result<FslAtlas, LoadError> {
    read_descriptor(path).map_err(|e| e.in_file(&file_name(path)))
}

fn read_descriptor(path: &Path) -> Result<FslAtlas, LoadError> {
    let size = std::fs::metadata(path).map_err(LoadError::io)?.len();
    if size > MAX_XML_BYTES {
        return Err(LoadError::too_large(format!(
            "{size} bytes for an atlas descriptor (at most {MAX_XML_BYTES})"
        )));
    }
    let bytes = std::fs::read(path).map_err(LoadError::io)?;
    // FSL's descriptors declare ISO-8859-1; most are ASCII. Bytes that are not UTF-8 are Latin-1.
    let text = String::from_utf8(bytes).unwrap_or_else(|e| e.into_bytes().iter().map(|&b| char::from(b)).collect());
    let xml = parse_fsl_atlas_xml(text.trim_start_matches('\u{feff}'))?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let resolutions = xml
        .images
        .iter()
        .map(|images| {
            let image = find_image(dir, &images.image)?;
            let summary = match &images.summary {
                Some(summary) => find_image(dir, summary)?,
                None => image.clone(),
            };
            let image_grid = read_grid(&image)?;
            let summary_grid = if summary == image {
                image_grid.clone()
            } else {
                read_grid(&summary)?
            };
            let resolution = FslImages {
                image,
                image_grid,
                summary,
                summary_grid,
            };
            check_images(&xml, &resolution)?;
            Ok(resolution)
        })
        .collect::<Result<_, LoadError>>()?;
    Ok(FslAtlas { xml, resolutions })
}

/// The file an `<imagefile>` names: as written if it exists, else with the first of
/// [`IMAGE_ENDINGS`] that does.
fn find_image(dir: &Path, written: &str) -> Result<PathBuf, LoadError> {
    let base = dir.join(written.trim_start_matches(['/', '\\']));
    if base.is_file() {
        return Ok(base);
    }
    let with = |ending: &str| {
        let mut name = OsString::from(base.as_os_str());
        name.push(ending);
        PathBuf::from(name)
    };
    IMAGE_ENDINGS
        .iter()
        .map(|e| with(e))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            LoadError::atlas(format!(
                "image {written}: none of {}{} exists",
                base.display(),
                IMAGE_ENDINGS.join(", ")
            ))
        })
}

fn check_images(xml: &FslAtlasXml, images: &FslImages) -> Result<(), LoadError> {
    let three_d = |path: &Path, grid: &ImageGrid, what: &str| {
        if grid.shape[3] == 1 {
            Ok(())
        } else {
            Err(LoadError::atlas(format!(
                "{what} {} has {} frames, a 3D image was expected",
                file_name(path),
                grid.shape[3]
            )))
        }
    };
    three_d(&images.summary, &images.summary_grid, "the summary image")?;
    if xml.kind == AtlasKind::Label {
        return three_d(&images.image, &images.image_grid, "the label image");
    }
    let frames = images.image_grid.shape[3] as i64;
    match xml.labels.iter().find(|l| l.index >= frames) {
        Some(label) => Err(LoadError::atlas(format!(
            "label index {} ({}) but {} has {frames} frames",
            label.index,
            label.name,
            file_name(&images.image)
        ))),
        None => Ok(()),
    }
}

/// Load an FSL atlas: its descriptor ([`read_fsl_atlas`]) and the images of its finest
/// resolution ([`FslAtlas::finest`]); its [`Atlas::image`] is named as the XML file. A label's `x, y, z` are voxel coordinates of the first
/// resolution's image, as in FSL. `progress` gets the fraction read so far.
pub fn load_atlas(path: &Path, progress: &mut dyn FnMut(f32)) -> Result<Atlas, LoadError> {
    let fsl = read_fsl_atlas(path)?;
    let images = &fsl.resolutions[fsl.finest()];
    let maps = match fsl.xml.kind {
        AtlasKind::Label => None,
        _ => {
            let volume = load_volume(&images.image, &mut |f| progress(0.8 * f))?;
            Some(SparseFrames::of(&volume).map_err(|e| e.in_file(&file_name(&images.image)))?)
        }
    };
    let start = if maps.is_some() { 0.8 } else { 0.0 };
    let mut labels = load_volume(&images.summary, &mut |f| progress(start + (1.0 - start) * f))?;
    // The image is what the user sees of the atlas: called as the file they opened.
    labels.name = file_name(path);
    let reference = fsl.resolutions[0].image_grid.affine;
    let regions = fsl
        .xml
        .labels
        .iter()
        .map(|label| {
            let (value, frame) = match fsl.xml.kind {
                AtlasKind::Label => (label.index, None),
                _ => (label.index + 1, Some(label.index as usize)),
            };
            Region {
                name: label.name.clone(),
                value,
                frame,
                reference: label.voxel.map(|v| reference.transform_point3(DVec3::from_array(v))),
            }
        })
        .collect();
    let xml = fsl.xml;
    Ok(Atlas::new(xml.name, xml.kind, regions, Arc::new(labels), maps))
}
