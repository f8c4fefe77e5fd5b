//! What a surface file is: a mesh of a hemisphere and a geometry, or per-vertex maps — told
//! from GIFTI metadata first and the file name second.

use super::INTENT_POINTSET;
use crate::surface::SurfaceFile;

/// A cerebral hemisphere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hemisphere {
    /// Left hemisphere.
    Left,
    /// Right hemisphere.
    Right,
}

impl Hemisphere {
    /// `"left"` or `"right"`.
    pub fn name(self) -> &'static str {
        match self {
            Hemisphere::Left => "left",
            Hemisphere::Right => "right",
        }
    }

    /// The hemisphere a GIFTI `AnatomicalStructurePrimary` value names (`CortexLeft`,
    /// `CortexRight`, or any value containing `Left`/`Right`, case-insensitively).
    pub fn from_structure(value: &str) -> Option<Hemisphere> {
        let v = value.to_ascii_lowercase();
        match (v.contains("left"), v.contains("right")) {
            (true, false) => Some(Hemisphere::Left),
            (false, true) => Some(Hemisphere::Right),
            _ => None,
        }
    }

    /// The hemisphere a file name names: FreeSurfer's `lh.`/`rh.`, `left`/`right` words
    /// (`fsaverage5_pial_left.gii.gz`), HCP's `.L.`/`.R.` and BIDS' `hemi-L`/`hemi-R`. Names
    /// with both or neither give `None`.
    pub fn from_file_name(name: &str) -> Option<Hemisphere> {
        let (mut left, mut right) = (false, false);
        for token in tokens(name) {
            let lower = token.to_ascii_lowercase();
            left |= matches!(lower.as_str(), "lh" | "left") || token == "L";
            right |= matches!(lower.as_str(), "rh" | "right") || token == "R";
        }
        let lower = name.to_ascii_lowercase();
        left |= lower.contains("hemi-l");
        right |= lower.contains("hemi-r");
        match (left, right) {
            (true, false) => Some(Hemisphere::Left),
            (false, true) => Some(Hemisphere::Right),
            _ => None,
        }
    }
}

/// The geometry of a cortical mesh. Meshes of one hemisphere share their vertices, so a map
/// shown on one geometry can be shown on any other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum GeometryKind {
    /// The outer (grey matter / CSF) surface.
    Pial,
    /// The grey / white matter boundary.
    White,
    /// The inflated surface.
    Inflated,
    /// The registration sphere.
    Sphere,
    /// A flattened patch (usually fewer triangles: cuts are removed).
    Flat,
    /// Any other mesh (mid-thickness, `orig`, an isosurface, …).
    Other,
}

impl GeometryKind {
    /// Every kind, in menu order.
    pub const ALL: [GeometryKind; 6] = [
        GeometryKind::Pial,
        GeometryKind::White,
        GeometryKind::Inflated,
        GeometryKind::Sphere,
        GeometryKind::Flat,
        GeometryKind::Other,
    ];

    /// `"pial"`, `"white"`, `"inflated"`, `"sphere"`, `"flat"` or `"other"`.
    pub fn name(self) -> &'static str {
        match self {
            GeometryKind::Pial => "pial",
            GeometryKind::White => "white",
            GeometryKind::Inflated => "inflated",
            GeometryKind::Sphere => "sphere",
            GeometryKind::Flat => "flat",
            GeometryKind::Other => "other",
        }
    }

    /// The geometry GIFTI metadata states: `AnatomicalStructureSecondary` `Pial` or
    /// `GrayWhite`, else `GeometricType` `Inflated`/`VeryInflated`, `Sphere`/`Spherical` or
    /// `Flat`. `None` when neither decides (e.g. `GeometricType` `Anatomical` alone).
    pub fn from_metadata(secondary: Option<&str>, geometric_type: Option<&str>) -> Option<Self> {
        let secondary = secondary.map(|s| s.trim().to_ascii_lowercase());
        match secondary.as_deref() {
            Some("pial") => return Some(GeometryKind::Pial),
            Some("graywhite" | "greywhite" | "white") => return Some(GeometryKind::White),
            _ => {}
        }
        let kind = geometric_type.map(|s| s.trim().to_ascii_lowercase());
        match kind.as_deref() {
            Some("inflated" | "veryinflated") => Some(GeometryKind::Inflated),
            Some("sphere" | "spherical") => Some(GeometryKind::Sphere),
            Some("flat") => Some(GeometryKind::Flat),
            _ => None,
        }
    }

    /// The geometry a file name names: the first of its words (split at `.`, `_`, `-`, spaces)
    /// that is `pial`, `white`, `infl`/`inflated`/`veryinflated`, `sphere` or `flat`.
    pub fn from_file_name(name: &str) -> Option<Self> {
        tokens(name).find_map(|t| match t.to_ascii_lowercase().as_str() {
            "pial" => Some(GeometryKind::Pial),
            "white" => Some(GeometryKind::White),
            "infl" | "inflated" | "veryinflated" => Some(GeometryKind::Inflated),
            "sphere" => Some(GeometryKind::Sphere),
            "flat" => Some(GeometryKind::Flat),
            _ => None,
        })
    }
}

/// What a surface file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SurfaceRole {
    /// A mesh (it has vertex coordinates); [`crate::mesh::Mesh::from_surface`] builds it.
    Mesh {
        /// The hemisphere, if the metadata or the name tells.
        hemisphere: Option<Hemisphere>,
        /// The geometry ([`GeometryKind::Other`] when nothing tells).
        geometry: GeometryKind,
    },
    /// Per-vertex values only (shape, functional, time series, labels); see
    /// [`crate::mesh::vertex_maps`].
    Maps {
        /// The hemisphere, if the metadata or the name tells.
        hemisphere: Option<Hemisphere>,
    },
}

/// Tells what a surface file is. A file with a `NIFTI_INTENT_POINTSET` array is a mesh (any
/// per-vertex arrays it also holds can still be read with [`crate::mesh::vertex_maps`]);
/// any other file holds maps.
///
/// The hemisphere comes from `AnatomicalStructurePrimary` (of the coordinates array, then of
/// any array, then of the file), else from `name` ([`Hemisphere::from_file_name`]). The
/// geometry comes from the coordinates array's metadata ([`GeometryKind::from_metadata`]),
/// else from `name`, else is [`GeometryKind::Other`].
pub fn classify(name: &str, file: &SurfaceFile) -> SurfaceRole {
    let points = file.arrays.iter().find(|a| a.intent == INTENT_POINTSET);
    let structure = points
        .and_then(|a| a.meta_value("AnatomicalStructurePrimary"))
        .and_then(Hemisphere::from_structure)
        .or_else(|| {
            file.arrays
                .iter()
                .filter_map(|a| a.meta_value("AnatomicalStructurePrimary"))
                .chain(file.meta_value("AnatomicalStructurePrimary"))
                .find_map(Hemisphere::from_structure)
        });
    let hemisphere = structure.or_else(|| Hemisphere::from_file_name(name));
    match points {
        Some(points) => {
            let geometry = GeometryKind::from_metadata(
                points.meta_value("AnatomicalStructureSecondary"),
                points.meta_value("GeometricType"),
            )
            .or_else(|| GeometryKind::from_file_name(name))
            .unwrap_or(GeometryKind::Other);
            SurfaceRole::Mesh { hemisphere, geometry }
        }
        None => SurfaceRole::Maps { hemisphere },
    }
}

/// The words of a file name: split at `.`, `_`, `-` and spaces, path separators included.
fn tokens(name: &str) -> impl Iterator<Item = &str> {
    name.split(['.', '_', '-', ' ', '/', '\\']).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surface::{ArrayData, DataArray};

    #[test]
    fn hemisphere_from_names() {
        use Hemisphere::*;
        for (name, want) in [
            ("lh.pial", Some(Left)),
            ("rh.thickness", Some(Right)),
            ("fsaverage5_pial_left.gii.gz", Some(Left)),
            ("fsaverage5_sulc_right.gii.gz", Some(Right)),
            ("100307.L.midthickness.32k_fs_LR.surf.gii", Some(Left)),
            ("100307.R.sphere.32k_fs_LR.surf.gii", Some(Right)),
            ("sub-01_hemi-L_pial.surf.gii", Some(Left)),
            ("sub-01_hemi-R_white.surf.gii", Some(Right)),
            ("nibabel_rh.aparc.annot.gii", Some(Right)),
            ("lh_and_rh.gii", None),
            ("brain.gii", None),
            ("helmet.gii", None),
            ("large.l.gii", None),
        ] {
            assert_eq!(Hemisphere::from_file_name(name), want, "{name}");
        }
        assert_eq!(Hemisphere::from_structure("CortexLeft"), Some(Left));
        assert_eq!(Hemisphere::from_structure("CortexRight"), Some(Right));
        assert_eq!(Hemisphere::from_structure("Cerebellum"), None);
        assert_eq!(Left.name(), "left");
    }

    #[test]
    fn geometry_from_names_and_metadata() {
        use GeometryKind::*;
        for (name, want) in [
            ("lh.pial", Some(Pial)),
            ("rh.white", Some(White)),
            ("fsaverage5_infl_left.gii.gz", Some(Inflated)),
            ("lh.inflated", Some(Inflated)),
            ("rh.sphere.reg", Some(Sphere)),
            ("fsaverage5_flat_right.gii.gz", Some(Flat)),
            ("lh.smoothwm", None),
            ("whitematter.gii", None),
        ] {
            assert_eq!(GeometryKind::from_file_name(name), want, "{name}");
        }
        assert_eq!(
            GeometryKind::from_metadata(Some("GrayWhite"), Some("Anatomical")),
            Some(White)
        );
        assert_eq!(GeometryKind::from_metadata(None, Some("Spherical")), Some(Sphere));
        assert_eq!(GeometryKind::from_metadata(None, Some("Anatomical")), None);
        assert_eq!(GeometryKind::ALL.map(GeometryKind::name).len(), 6);
    }

    #[test]
    fn classify_prefers_metadata() {
        let points = DataArray {
            intent: INTENT_POINTSET.into(),
            dims: vec![1, 3],
            data: ArrayData::F32(vec![0.0; 3]),
            meta: vec![
                ("AnatomicalStructurePrimary".into(), "CortexRight".into()),
                ("GeometricType".into(), "Inflated".into()),
            ],
        };
        let file = SurfaceFile {
            name: "lh.pial.gii".into(),
            arrays: vec![points],
            ..SurfaceFile::default()
        };
        assert_eq!(
            classify(&file.name, &file),
            SurfaceRole::Mesh {
                hemisphere: Some(Hemisphere::Right),
                geometry: GeometryKind::Inflated
            }
        );
        let maps = SurfaceFile {
            name: "lh.curv".into(),
            meta: vec![("AnatomicalStructurePrimary".into(), "CortexLeft".into())],
            ..SurfaceFile::default()
        };
        assert_eq!(
            classify("whatever", &maps),
            SurfaceRole::Maps {
                hemisphere: Some(Hemisphere::Left)
            }
        );
        assert_eq!(
            classify("brain.gii", &SurfaceFile::default()),
            SurfaceRole::Maps { hemisphere: None }
        );
    }
}
