//! Choosing encoder voxels: the one under a world point (a crosshair), those under a set of world
//! points (the vertices of a surface region), those where a volume passes a test (a layer as it
//! is drawn, a mask, a thresholded map), or a list of grid indices.
//!
//! An encoder voxel is a cell of the encoder's reference grid ([`Encoder::grid_affine`],
//! [`Encoder::grid_shape`]); only the grid cells the encoder has weights for
//! ([`Encoder::voxels`]) can be chosen. Results are voxel rows of the encoder, in row order for
//! the point, volume and mask selections and in the order asked for a list of indices.

use cortexlens_data::Volume;
use glam::DVec3;

use super::Encoder;

/// Why a selection of encoder voxels failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SelectError {
    /// A grid index asked for is not one of the encoder's voxels (outside the grid, or a cell
    /// without weights).
    #[error("voxel {},{},{} is not one of the encoder's {voxels} voxels", ijk[0], ijk[1], ijk[2])]
    NotAnEncoderVoxel {
        /// The index asked for.
        ijk: [i64; 3],
        /// How many voxels the encoder has.
        voxels: usize,
    },
    /// A mask whose grid is not the encoder's.
    #[error("{mask}: shape {shape:?} but the encoder's grid is {grid:?}")]
    MaskShape {
        /// The mask's name.
        mask: String,
        /// Its `[nx, ny, nz]`.
        shape: [usize; 3],
        /// The encoder's `[nx, ny, nz]`.
        grid: [usize; 3],
    },
    /// A mask that selects none of the encoder's voxels.
    #[error("{mask}: no encoder voxel is selected by the mask")]
    EmptyMask {
        /// The mask's name.
        mask: String,
    },
    /// An empty list of voxels.
    #[error("no voxel was asked for")]
    NoVoxels,
}

/// Which values of a mask select a voxel, as `cortexlens caption --mask` offers them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MaskRule {
    /// Finite values other than 0 (a binary mask).
    NonZero,
    /// `|value| ≥` this (a thresholded statistical map).
    AbsAtLeast(f32),
    /// Values equal to this label (an atlas region).
    Label(f32),
}

impl MaskRule {
    /// The rule of the CLI's options: `--label` first, else `--threshold`, else non-zero.
    pub fn from_options(label: Option<f32>, threshold: Option<f32>) -> MaskRule {
        match (label, threshold) {
            (Some(label), _) => MaskRule::Label(label),
            (None, Some(threshold)) => MaskRule::AbsAtLeast(threshold),
            (None, None) => MaskRule::NonZero,
        }
    }

    /// Whether `value` selects its voxel.
    pub fn keeps(self, value: f32) -> bool {
        match self {
            MaskRule::NonZero => value != 0.0 && value.is_finite(),
            MaskRule::AbsAtLeast(threshold) => value.abs() >= threshold,
            MaskRule::Label(label) => value == label,
        }
    }
}

impl Encoder {
    /// The encoder voxel whose grid cell holds world point `world` (the cell of the nearest grid
    /// point, halves rounding up); `None` outside the grid, in a cell without weights, or for a
    /// non-finite point.
    pub fn voxel_at_world(&self, world: DVec3) -> Option<usize> {
        let ijk = self.grid_affine().inverse().transform_point3(world);
        let ijk = [ijk.x, ijk.y, ijk.z].map(|c| (c + 0.5).floor());
        let shape = self.grid_shape();
        let inside = ijk.iter().zip(shape).all(|(&c, n)| c >= 0.0 && c < n as f64);
        inside.then(|| self.find_voxel(ijk.map(|c| c as u32))).flatten()
    }

    /// The encoder voxels whose cells hold any of the world points `points` (each found as
    /// [`Self::voxel_at_world`] finds it), each once, in row order: the voxels of a surface region
    /// given its vertices' positions. Points on no encoder voxel are skipped; none on any gives
    /// an empty list.
    pub fn voxels_at_points(&self, points: &[DVec3]) -> Vec<usize> {
        let mut voxels: Vec<usize> = points.iter().filter_map(|&p| self.voxel_at_world(p)).collect();
        voxels.sort_unstable();
        voxels.dedup();
        voxels
    }

    /// The encoder voxels where `volume` passes `keep`: each voxel centre is placed in the world
    /// by the encoder's grid affine and `volume` is sampled there at its nearest voxel, in frame
    /// `frame` (no voxel passes where that lies outside `volume`, or for a frame it lacks). Rows
    /// in order. To take the voxels where a layer is drawn:
    /// `encoder.voxels_where(volume, frame, |v| style.shade(v).is_some_and(|c| c[3] > 0.0))`.
    pub fn voxels_where(&self, volume: &Volume, frame: usize, keep: impl Fn(f32) -> bool) -> Vec<usize> {
        let affine = self.grid_affine();
        self.voxels()
            .iter()
            .enumerate()
            .filter(|(_, ijk)| {
                let world = affine.transform_point3(DVec3::from_array(ijk.map(f64::from)));
                volume.value_at(volume.nearest_voxel(world), frame).is_some_and(&keep)
            })
            .map(|(v, _)| v)
            .collect()
    }

    /// The rows of the encoder voxels at grid indices `ijk`, in the order given (repeats kept).
    /// An index that is not one of the encoder's voxels is [`SelectError::NotAnEncoderVoxel`]; an
    /// empty list is [`SelectError::NoVoxels`].
    pub fn voxels_at_indices(&self, ijk: &[[i64; 3]]) -> Result<Vec<usize>, SelectError> {
        if ijk.is_empty() {
            return Err(SelectError::NoVoxels);
        }
        ijk.iter()
            .map(|&ijk| {
                ijk.iter()
                    .all(|&c| (0..=i64::from(u32::MAX)).contains(&c))
                    .then(|| self.find_voxel(ijk.map(|c| c as u32)))
                    .flatten()
                    .ok_or(SelectError::NotAnEncoderVoxel {
                        ijk,
                        voxels: self.voxel_count(),
                    })
            })
            .collect()
    }

    /// The encoder voxels whose value in frame 0 of `mask` passes `keep` (e.g.
    /// `|v| rule.keeps(v)` with a [`MaskRule`]). The mask must be on the encoder's grid: the same
    /// `[nx, ny, nz]` ([`SelectError::MaskShape`] names both), read index for index without
    /// looking at its affine. Selecting nothing is [`SelectError::EmptyMask`]. Rows in order.
    pub fn voxels_in_mask(&self, mask: &Volume, keep: impl Fn(f32) -> bool) -> Result<Vec<usize>, SelectError> {
        let grid = self.grid_shape();
        let shape = [mask.shape[0], mask.shape[1], mask.shape[2]];
        if shape != grid {
            return Err(SelectError::MaskShape {
                mask: mask.name.clone(),
                shape,
                grid,
            });
        }
        let voxels: Vec<usize> = self
            .voxels()
            .iter()
            .enumerate()
            .filter(|(_, ijk)| mask.value_at(ijk.map(i64::from), 0).is_some_and(&keep))
            .map(|(v, _)| v)
            .collect();
        if voxels.is_empty() {
            return Err(SelectError::EmptyMask {
                mask: mask.name.clone(),
            });
        }
        Ok(voxels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cortexlens_data::{Colormap, LayerStyle};
    use glam::{DMat4, DVec3};

    /// Voxels of a 4×3×2 grid of 2 mm voxels with its corner at (−10, 20, 0): rows 0..4 are
    /// (0,0,0), (3,2,1), (1,0,0), (2,1,1).
    fn encoder() -> Encoder {
        let voxels = vec![[0, 0, 0], [3, 2, 1], [1, 0, 0], [2, 1, 1]];
        let n = voxels.len();
        let affine = DMat4::from_cols_array(&[
            2., 0., 0., 0., //
            0., 2., 0., 0., //
            0., 0., 2., 0., //
            -10., 20., 0., 1.,
        ]);
        Encoder::new(vec![0.0; n], vec![0.0; n], 1, voxels, affine, [4, 3, 2], "test", false).unwrap()
    }

    /// World point of grid index (i, j, k) of [`encoder`].
    fn world(i: f64, j: f64, k: f64) -> DVec3 {
        DVec3::new(-10.0 + 2.0 * i, 20.0 + 2.0 * j, 2.0 * k)
    }

    #[test]
    fn voxel_at_world_rounds_to_the_nearest_centre() {
        let e = encoder();
        assert_eq!(e.voxel_at_world(world(3., 2., 1.)), Some(1));
        assert_eq!(e.voxel_at_world(world(2.51, 1.6, 0.5)), Some(1), "halves round up");
        assert_eq!(e.voxel_at_world(world(1.49, 0.2, -0.3)), Some(2));
        assert_eq!(e.voxel_at_world(world(-0.5, 0.0, 0.0)), Some(0));
        // A cell without weights, outside the grid, not finite.
        assert_eq!(e.voxel_at_world(world(1., 1., 0.)), None);
        assert_eq!(e.voxel_at_world(world(-0.51, 0., 0.)), None);
        assert_eq!(e.voxel_at_world(world(3.5, 2., 1.)), None);
        assert_eq!(e.voxel_at_world(DVec3::new(f64::NAN, 20., 0.)), None);
    }

    #[test]
    fn voxels_at_points_are_deduplicated_in_row_order() {
        let e = encoder();
        let points = [
            world(2., 1., 1.),
            world(0.1, 0., 0.),
            world(2.2, 0.9, 1.),
            world(1., 1., 0.), // a cell without weights
            world(9., 9., 9.), // outside the grid
            world(0., 0., 0.),
        ];
        assert_eq!(e.voxels_at_points(&points), [0, 3]);
        assert!(e.voxels_at_points(&points[3..5]).is_empty());
    }

    #[test]
    fn voxels_where_samples_the_volume_at_voxel_centres() {
        let e = encoder();
        // A 1 mm volume over the same space, 2 frames: frame 0 holds x (mm), frame 1 holds −x.
        let affine = DMat4::from_translation(DVec3::new(-12.0, 18.0, -1.0));
        let shape = [12usize, 10, 6, 2];
        let n = shape[0] * shape[1] * shape[2];
        let mut data = vec![0.0f32; n * 2];
        for k in 0..shape[2] {
            for j in 0..shape[1] {
                for i in 0..shape[0] {
                    let x = -12.0 + i as f32;
                    data[i + shape[0] * (j + shape[1] * k)] = x;
                    data[n + i + shape[0] * (j + shape[1] * k)] = -x;
                }
            }
        }
        let volume = Volume::from_f32("x.nii", shape, affine, data);
        // Voxel x: rows 0 → −10, 1 → −4, 2 → −8, 3 → −6.
        assert_eq!(e.voxels_where(&volume, 0, |v| v <= -8.0), vec![0, 2]);
        assert_eq!(e.voxels_where(&volume, 1, |v| v <= 6.0), vec![1, 3]);
        assert_eq!(e.voxels_where(&volume, 2, |_| true), Vec::<usize>::new(), "no frame 2");
        // Where a layer is drawn: a hot overlay thresholded at 7 (|x| ≥ 7 on frame 1).
        let mut style = LayerStyle::base((0.0, 10.0));
        style.set_colormap(Colormap::Hot);
        style.threshold = Some(7.0);
        let shown = e.voxels_where(&volume, 1, |v| style.shade(v).is_some_and(|c| c[3] > 0.0));
        assert_eq!(shown, vec![0, 2]);
        // Voxel centres outside the volume pass nothing.
        let small = Volume::from_f32("small.nii", [1, 1, 1, 1], DMat4::IDENTITY, vec![1.0]);
        assert!(e.voxels_where(&small, 0, |_| true).is_empty());
    }

    #[test]
    fn voxels_at_indices_in_order() {
        let e = encoder();
        assert_eq!(
            e.voxels_at_indices(&[[2, 1, 1], [0, 0, 0], [2, 1, 1]]),
            Ok(vec![3, 0, 3])
        );
        for bad in [[1, 1, 0], [-1, 0, 0], [0, 0, 1 << 33]] {
            assert_eq!(
                e.voxels_at_indices(&[[0, 0, 0], bad]),
                Err(SelectError::NotAnEncoderVoxel { ijk: bad, voxels: 4 })
            );
        }
        assert_eq!(
            e.voxels_at_indices(&[[-1, 0, 5]]).unwrap_err().to_string(),
            "voxel -1,0,5 is not one of the encoder's 4 voxels"
        );
        assert_eq!(e.voxels_at_indices(&[]), Err(SelectError::NoVoxels));
    }

    #[test]
    fn voxels_in_mask_by_rule() {
        let e = encoder();
        // Values on the encoder's grid (frame 0), another frame that must be ignored.
        let mut data = vec![0.0f32; 4 * 3 * 2 * 2];
        let at = |i: usize, j: usize, k: usize| i + 4 * (j + 3 * k);
        data[at(0, 0, 0)] = 3.0;
        data[at(3, 2, 1)] = -5.0;
        data[at(1, 0, 0)] = f32::NAN;
        data[at(2, 1, 1)] = 2.0;
        data[24 + at(1, 0, 0)] = 9.0;
        let mask = Volume::from_f32("mask.nii.gz", [4, 3, 2, 2], DMat4::IDENTITY, data);
        let rows = |rule: MaskRule| e.voxels_in_mask(&mask, |v| rule.keeps(v));
        assert_eq!(rows(MaskRule::NonZero), Ok(vec![0, 1, 3]), "NaN is not selected");
        assert_eq!(rows(MaskRule::from_options(None, Some(3.0))), Ok(vec![0, 1]));
        assert_eq!(rows(MaskRule::from_options(Some(2.0), Some(3.0))), Ok(vec![3]));
        let e7 = rows(MaskRule::Label(7.0)).unwrap_err();
        assert_eq!(
            e7,
            SelectError::EmptyMask {
                mask: "mask.nii.gz".into()
            }
        );
        assert_eq!(e7.to_string(), "mask.nii.gz: no encoder voxel is selected by the mask");
        // Another grid.
        let other = Volume::from_f32("other.nii", [4, 3, 3, 1], DMat4::IDENTITY, vec![1.0; 36]);
        let shape = e.voxels_in_mask(&other, |_| true).unwrap_err();
        assert_eq!(
            shape.to_string(),
            "other.nii: shape [4, 3, 3] but the encoder's grid is [4, 3, 2]"
        );
    }
}
