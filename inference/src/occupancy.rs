//! The occupancy grid saved with a fitted field: which cells of the box hold signal in the volume
//! the field was fitted to, so that renderers can skip the rest (empty-space skipping).

use cortexlens_data::field::OccupancyGrid;

use crate::sample::TrainingData;

/// Most cells per axis of a fitted field's occupancy grid.
pub const OCCUPANCY_MAX_CELLS: usize = 64;

/// A voxel holds signal when its value exceeds the smallest value by this fraction of the range.
pub const SIGNAL_FRACTION: f32 = 0.01;

/// The occupancy grid of `data`'s box: a cell is occupied when a voxel centre inside it, or in one
/// of its 26 neighbours, holds signal (a value above `lo + SIGNAL_FRACTION · range`). The ring of
/// neighbours covers the field's interpolation between voxels, so skipping changes only samples
/// the fit drives to the background.
pub(crate) fn occupancy_of(data: &TrainingData) -> OccupancyGrid {
    let resolution = data.shape().map(|n| n.clamp(1, OCCUPANCY_MAX_CELLS));
    let [rx, ry, rz] = resolution;
    let mut signal = vec![false; rx * ry * rz];
    let threshold = SIGNAL_FRACTION;
    data.for_each_voxel(|x, normalised_value| {
        if normalised_value > threshold {
            let cell = [0, 1, 2].map(|a| ((x[a] * resolution[a] as f32) as usize).min(resolution[a] - 1));
            signal[(cell[2] * ry + cell[1]) * rx + cell[0]] = true;
        }
    });
    let mut occupied = vec![0u8; signal.len()];
    for k in 0..rz {
        for j in 0..ry {
            for i in 0..rx {
                let near = |c: usize, r: usize| c.saturating_sub(1)..=(c + 1).min(r - 1);
                let any =
                    near(k, rz).any(|kk| near(j, ry).any(|jj| near(i, rx).any(|ii| signal[(kk * ry + jj) * rx + ii])));
                occupied[(k * ry + j) * rx + i] = u8::from(any);
            }
        }
    }
    OccupancyGrid {
        resolution: resolution.map(|r| r as u32),
        occupied,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cortexlens_data::Volume;
    use glam::DMat4;

    fn volume(shape: [usize; 3], data: Vec<f32>) -> Volume {
        Volume::from_f32("v", [shape[0], shape[1], shape[2], 1], DMat4::IDENTITY, data)
    }

    #[test]
    fn one_bright_voxel_occupies_its_cell_and_the_ring() {
        let mut data = vec![0.0; 8 * 8 * 8];
        data[3 + 8 * (4 + 8 * 5)] = 10.0;
        let v = volume([8, 8, 8], data);
        let grid = occupancy_of(&TrainingData::new(&v, 0).unwrap());
        assert_eq!(grid.resolution, [8, 8, 8]);
        let at = |i: usize, j: usize, k: usize| grid.occupied[(k * 8 + j) * 8 + i];
        assert_eq!(at(3, 4, 5), 1);
        assert_eq!(at(2, 3, 4), 1, "the ring of neighbours");
        assert_eq!(at(4, 5, 6), 1);
        assert_eq!(at(1, 4, 5), 0, "two cells away");
        assert_eq!(grid.occupied.iter().map(|&b| b as usize).sum::<usize>(), 27);
    }

    #[test]
    fn large_volumes_get_at_most_64_cells_per_axis_and_flat_ones_nothing() {
        let v = volume([130, 3, 2], (0..130 * 6).map(|i| i as f32).collect());
        let grid = occupancy_of(&TrainingData::new(&v, 0).unwrap());
        assert_eq!(grid.resolution, [64, 3, 2]);
        assert!(
            grid.occupied.iter().all(|&b| b == 1),
            "a ramp has signal nearly everywhere"
        );
        let flat = volume([4, 4, 4], vec![5.0; 64]);
        let grid = occupancy_of(&TrainingData::new(&flat, 0).unwrap());
        assert!(grid.occupied.iter().all(|&b| b == 0));
    }
}
