//! The frames of a 4D probabilistic (or statistic) atlas kept sparse: for each voxel, the frames
//! whose value there is non-zero. FSL's atlases are mostly zeros (Harvard-Oxford cortical at 1 mm
//! is 48 frames of 7 M voxels, a few non-zero at each voxel), so this is a small part of the dense
//! volume.

use glam::{DMat4, DVec3};

use crate::error::LoadError;
use crate::volume::Volume;

/// Non-zero values of a 4D volume by voxel.
#[derive(Clone, Debug)]
pub(crate) struct SparseFrames {
    shape: [usize; 3],
    affine: DMat4,
    /// World millimetres → voxel.
    inverse: DMat4,
    /// Where each voxel's entries start (one more than voxels: the end of the last).
    offsets: Vec<u32>,
    /// The frame of each entry, ascending within a voxel.
    frames: Vec<u32>,
    /// The value of each entry.
    values: Vec<f32>,
}

impl SparseFrames {
    /// The finite non-zero values of every frame of `volume` (read frame by frame, in order).
    pub fn of(volume: &Volume) -> Result<SparseFrames, LoadError> {
        let n = volume.frame_len();
        let keep = |v: f32| v != 0.0 && v.is_finite();
        let mut counts = vec![0u32; n];
        for t in 0..volume.frames() {
            for (count, &v) in counts.iter_mut().zip(volume.frame(t)) {
                *count += u32::from(keep(v));
            }
        }
        let mut offsets = Vec::with_capacity(n + 1);
        let mut total = 0u64;
        offsets.push(0);
        for count in counts {
            total += u64::from(count);
            offsets.push(
                u32::try_from(total)
                    .map_err(|_| LoadError::too_large(format!("{} has more than 2³² non-zero values", volume.name)))?,
            );
        }
        let mut cursor = offsets[..n].to_vec();
        let mut frames = vec![0u32; total as usize];
        let mut values = vec![0f32; total as usize];
        for t in 0..volume.frames() {
            for (at, &v) in cursor.iter_mut().zip(volume.frame(t)) {
                if keep(v) {
                    frames[*at as usize] = t as u32;
                    values[*at as usize] = v;
                    *at += 1;
                }
            }
        }
        Ok(SparseFrames {
            shape: [volume.shape[0], volume.shape[1], volume.shape[2]],
            affine: volume.affine,
            inverse: volume.affine.inverse(),
            offsets,
            frames,
            values,
        })
    }

    /// `(frame, value)` of the non-zero frames at the voxel nearest `world` (none outside the grid).
    pub fn at(&self, world: DVec3) -> impl Iterator<Item = (usize, f32)> + '_ {
        let v = self.inverse.transform_point3(world);
        let ijk = [v.x, v.y, v.z].map(|c| (c + 0.5).floor());
        let inside = (0..3).all(|a| ijk[a] >= 0.0 && ijk[a] < self.shape[a] as f64);
        let range = if inside {
            let [i, j, k] = ijk.map(|c| c as usize);
            let voxel = i + self.shape[0] * (j + self.shape[1] * k);
            self.offsets[voxel] as usize..self.offsets[voxel + 1] as usize
        } else {
            0..0
        };
        self.frames[range.clone()]
            .iter()
            .zip(&self.values[range])
            .map(|(&t, &v)| (t as usize, v))
    }

    /// The largest value of any frame (0 when all are zero).
    pub fn max(&self) -> f32 {
        self.values.iter().copied().fold(0.0, f32::max)
    }

    /// Each of the first `frames` frames' centre of mass in world millimetres, weighted by the
    /// absolute values (`None` for a frame of zeros).
    pub fn centres(&self, frames: usize) -> Vec<Option<DVec3>> {
        let mut sums = vec![(DVec3::ZERO, 0.0f64); frames];
        let [nx, ny, _] = self.shape;
        for (voxel, window) in self.offsets.windows(2).enumerate() {
            let ijk = DVec3::new(
                (voxel % nx) as f64,
                ((voxel / nx) % ny) as f64,
                (voxel / (nx * ny)) as f64,
            );
            let range = window[0] as usize..window[1] as usize;
            for (&t, &v) in self.frames[range.clone()].iter().zip(&self.values[range]) {
                if let Some((sum, weight)) = sums.get_mut(t as usize) {
                    let w = f64::from(v.abs());
                    *sum += ijk * w;
                    *weight += w;
                }
            }
        }
        sums.into_iter()
            .map(|(sum, weight)| (weight > 0.0).then(|| self.affine.transform_point3(sum / weight)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_non_zero_values_of_each_voxel() {
        // 2×1×1 voxels, 3 frames; voxel 1 at x = 10 mm.
        let affine = DMat4::from_scale(DVec3::splat(10.0));
        let data = vec![0.0, 5.0, 7.0, 0.0, f32::NAN, 2.0];
        let volume = Volume::from_f32("m", [2, 1, 1, 3], affine, data);
        let maps = SparseFrames::of(&volume).unwrap();
        assert_eq!(maps.at(DVec3::ZERO).collect::<Vec<_>>(), [(1, 7.0)]);
        assert_eq!(
            maps.at(DVec3::new(12.0, 0.0, 0.0)).collect::<Vec<_>>(),
            [(0, 5.0), (2, 2.0)]
        );
        assert_eq!(maps.at(DVec3::new(-6.0, 0.0, 0.0)).count(), 0, "outside");
        assert_eq!(maps.max(), 7.0);
        let centres = maps.centres(4);
        assert_eq!(centres[0], Some(DVec3::new(10.0, 0.0, 0.0)));
        assert_eq!(centres[1], Some(DVec3::ZERO));
        assert_eq!(centres[3], None, "a frame past the volume's");
    }
}
