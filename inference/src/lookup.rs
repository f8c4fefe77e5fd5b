//! Trilinear lookups computed on the host: for every point and every grid, the rows of the 8 corner
//! vertices and their weights, exactly as [`cortexlens_data::field`] specifies them (in `f32`).
//!
//! Neither depends on learned values, so computing them outside the autograd graph loses no
//! gradient: the model gathers the rows with `index_select` (whose backward is `index_add`) and
//! weights them with tensor products.

use cortexlens_data::field::{DenseGrid, HashGrid, HashLevel};

/// Corner rows and weights of a batch: entry `(p · grids + g) · 8 + c` is point `p`, grid (or
/// level) `g`, corner `c` (bit 0: +x, bit 1: +y, bit 2: +z).
#[derive(Clone, Debug, Default)]
pub(crate) struct Lookups {
    /// Row of each corner in the flattened table (levels are offset by `level · table_size`).
    pub indices: Vec<u32>,
    /// Trilinear weight of each corner.
    pub weights: Vec<f32>,
}

/// Corner `(i0, j0, k0)` and fractional weights of one point on a lattice: `pos = x · scale + offset`.
#[inline]
fn cell(x: &[f32; 3], scale: [f32; 3], offset: f32, max_corner: Option<[u32; 3]>) -> ([u32; 3], [f32; 3]) {
    let mut corner = [0u32; 3];
    let mut frac = [0f32; 3];
    for a in 0..3 {
        let pos = x[a] * scale[a] + offset;
        let mut c = pos.floor().max(0.0);
        if let Some(max) = max_corner {
            c = c.min(max[a] as f32);
        }
        corner[a] = c as u32;
        frac[a] = pos - c;
    }
    (corner, frac)
}

/// The 8 corner weights of a cell, corner `c` having bit 0 for +x, bit 1 for +y, bit 2 for +z.
#[inline]
fn corner_weights(frac: [f32; 3]) -> [f32; 8] {
    let mut w = [0f32; 8];
    for (c, weight) in w.iter_mut().enumerate() {
        let wx = if c & 1 == 0 { 1.0 - frac[0] } else { frac[0] };
        let wy = if c & 2 == 0 { 1.0 - frac[1] } else { frac[1] };
        let wz = if c & 4 == 0 { 1.0 - frac[2] } else { frac[2] };
        *weight = wx * wy * wz;
    }
    w
}

/// Corner offsets `(di, dj, dk)` of corner `c`.
#[inline]
fn corner_offset(c: usize) -> [u32; 3] {
    [(c & 1) as u32, ((c >> 1) & 1) as u32, ((c >> 2) & 1) as u32]
}

/// Lookups of every level of a hash grid; rows index the `levels · table_size` table.
pub(crate) fn hash_lookups(grid: &HashGrid, x: &[[f32; 3]]) -> Lookups {
    let levels: Vec<HashLevel> = (0..grid.levels).map(|l| grid.level(l)).collect();
    let table_size = grid.table_size() as u32;
    let count = x.len() * levels.len() * 8;
    let mut lookups = Lookups {
        indices: Vec::with_capacity(count),
        weights: Vec::with_capacity(count),
    };
    for p in x {
        for (l, level) in levels.iter().enumerate() {
            let (corner, frac) = cell(p, [level.scale; 3], 0.5, None);
            let base = l as u32 * table_size;
            lookups.weights.extend_from_slice(&corner_weights(frac));
            for c in 0..8 {
                let d = corner_offset(c);
                let v = [corner[0] + d[0], corner[1] + d[1], corner[2] + d[2]];
                lookups.indices.push(base + grid.corner_index(level, v) as u32);
            }
        }
    }
    lookups
}

/// Lookups of a dense vertex grid (`vertex (i, j, k)` at `x = i / (r − 1)`; row `i + rx·(j + ry·k)`).
pub(crate) fn dense_lookups(resolution: [u32; 3], x: &[[f32; 3]]) -> Lookups {
    let scale = resolution.map(|r| (r - 1) as f32);
    let max_corner = resolution.map(|r| r - 2);
    let [rx, ry, _] = resolution;
    let count = x.len() * 8;
    let mut lookups = Lookups {
        indices: Vec::with_capacity(count),
        weights: Vec::with_capacity(count),
    };
    for p in x {
        let (corner, frac) = cell(p, scale, 0.0, Some(max_corner));
        lookups.weights.extend_from_slice(&corner_weights(frac));
        for c in 0..8 {
            let d = corner_offset(c);
            let (i, j, k) = (corner[0] + d[0], corner[1] + d[1], corner[2] + d[2]);
            lookups.indices.push(i + rx * (j + ry * k));
        }
    }
    lookups
}

/// Lookups of a [`DenseGrid`] encoding.
pub(crate) fn dense_grid_lookups(grid: &DenseGrid, x: &[[f32; 3]]) -> Lookups {
    dense_lookups(grid.resolution, x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(levels: u32, log2: u32) -> HashGrid {
        HashGrid {
            levels,
            features: 2,
            log2_table_size: log2,
            base_resolution: 4,
            per_level_scale: 2.0,
            params: vec![],
        }
    }

    #[test]
    fn weights_sum_to_one_and_indices_stay_in_their_level() {
        let g = grid(3, 6);
        let x = [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.3, 0.7, 0.123], [0.999, 0.5, 0.01]];
        let l = hash_lookups(&g, &x);
        assert_eq!(l.indices.len(), x.len() * 3 * 8);
        for (chunk, (w, idx)) in l.weights.chunks(8).zip(l.indices.chunks(8)).enumerate() {
            let level = (chunk % 3) as u32;
            assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-6);
            assert!(idx.iter().all(|&i| i / 64 == level), "{idx:?} not in level {level}");
        }
    }

    #[test]
    fn dense_lookups_hit_vertices_exactly() {
        let res = [3, 4, 5];
        // Vertex (2, 1, 4) sits at x = (1, 1/3, 1).
        let l = dense_lookups(res, &[[1.0, 1.0 / 3.0, 1.0]]);
        let row = 2 + 3 * (1 + 4 * 4);
        let weight: f32 = l
            .indices
            .iter()
            .zip(&l.weights)
            .filter(|(i, _)| **i == row)
            .map(|(_, w)| w)
            .sum();
        assert!((weight - 1.0).abs() < 1e-6, "{l:?}");
        assert!(l.indices.iter().all(|&i| i < 3 * 4 * 5));
    }
}
