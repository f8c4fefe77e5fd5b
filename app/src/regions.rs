//! Regions of a voxel-wise encoder: which of its voxels a request means — the crosshair's, a list,
//! where a layer is shown, inside a mask or region-of-interest volume, or at a surface region's
//! vertices. Captions and preferred-image synthesis both take a [`Region`].

use std::sync::Arc;

use cortexlens_data::{LayerStyle, Volume};
use cortexlens_inference::encoder::Encoder;
use cortexlens_inference::encoder::select::{MaskRule, SelectError};
use glam::DVec3;

/// Encoder voxels chosen by the user.
#[derive(Clone, Debug)]
pub enum Region {
    /// The encoder voxel at this world point (the crosshair).
    At(DVec3),
    /// Encoder voxels by their index on the encoder's grid.
    Voxels(Vec<[i64; 3]>),
    /// The encoder voxels where a layer is drawn.
    Shown {
        /// The layer's volume.
        volume: Arc<Volume>,
        /// Its frame.
        frame: usize,
        /// Its style (threshold, signed sides).
        style: LayerStyle,
        /// Its name, for messages.
        name: String,
    },
    /// The encoder voxels at a surface region's vertices (a FreeSurfer label): those whose cells
    /// hold the vertices' anatomical world positions, each once, in row order.
    Surface {
        /// The region's name (its label file), for messages.
        name: String,
        /// Its vertices' positions on the hemisphere's anatomical mesh (pial, else white), mm.
        points: Vec<DVec3>,
    },
    /// The encoder voxels a mask on the encoder's own grid keeps.
    Mask {
        /// The mask.
        volume: Arc<Volume>,
        /// Which of its voxels count.
        rule: MaskRule,
    },
    /// The encoder voxels whose centres fall in the kept voxels of a region-of-interest volume on
    /// any grid (frame 0, nearest voxel).
    Roi {
        /// The volume.
        volume: Arc<Volume>,
        /// Which of its voxels count.
        rule: MaskRule,
        /// Its name, for messages.
        name: String,
    },
}

/// Why a region names no encoder voxel.
#[derive(Debug, thiserror::Error)]
pub enum RegionError {
    /// A voxel list or mask the encoder cannot take.
    #[error(transparent)]
    Select(#[from] SelectError),
    /// The crosshair is not on an encoder voxel.
    #[error("the crosshair ({:.1}, {:.1}, {:.1}) is not on one of the encoder's {voxels} voxels", .at.x, .at.y, .at.z)]
    NotOnVoxel {
        /// The crosshair.
        at: DVec3,
        /// The encoder's voxel count.
        voxels: usize,
    },
    /// The region holds none of the encoder's voxels.
    #[error("{name} holds none of the encoder's {voxels} voxels")]
    Empty {
        /// The region.
        name: String,
        /// The encoder's voxel count.
        voxels: usize,
    },
}

impl Region {
    /// The encoder voxels the region holds (row indices of `encoder`); none is an error.
    pub fn encoder_voxels(&self, encoder: &Encoder) -> Result<Vec<usize>, RegionError> {
        let count = encoder.voxel_count();
        let nonempty = |voxels: Vec<usize>, name: &str| {
            if voxels.is_empty() {
                Err(RegionError::Empty {
                    name: name.to_owned(),
                    voxels: count,
                })
            } else {
                Ok(voxels)
            }
        };
        match self {
            Region::At(world) => Ok(vec![encoder.voxel_at_world(*world).ok_or(RegionError::NotOnVoxel {
                at: *world,
                voxels: count,
            })?]),
            Region::Voxels(ijk) => Ok(encoder.voxels_at_indices(ijk)?),
            Region::Shown {
                volume,
                frame,
                style,
                name,
            } => nonempty(
                encoder.voxels_where(volume, *frame, |v| style.shade(v).is_some_and(|c| c[3] > 0.0)),
                &format!("the part of {name} shown"),
            ),
            Region::Surface { name, points } => nonempty(encoder.voxels_at_points(points), name),
            Region::Mask { volume, rule } => Ok(encoder.voxels_in_mask(volume, |v| rule.keeps(v))?),
            Region::Roi { volume, rule, name } => nonempty(encoder.voxels_where(volume, 0, |v| rule.keeps(v)), name),
        }
    }

    /// How messages name it.
    pub fn describe(&self) -> String {
        match self {
            Region::At(w) => format!("the voxel at ({:.1}, {:.1}, {:.1})", w.x, w.y, w.z),
            Region::Voxels(ijk) => format!("{} voxels", ijk.len()),
            Region::Shown { name, .. } | Region::Surface { name, .. } | Region::Roi { name, .. } => name.clone(),
            Region::Mask { volume, .. } => volume.name.clone(),
        }
    }
}
