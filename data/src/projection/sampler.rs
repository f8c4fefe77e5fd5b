//! Sampling one frame of a volume at continuous voxel coordinates, with scipy's and numpy's
//! conventions.
//!
//! Written for speed (this is the inner loop of every projection): no `floor`/`round` calls
//! (they are library calls on baseline x86-64), coordinates already known to be non-negative
//! are truncated instead, and the eight corners of a cell are read from one bounds-checked
//! window of the data.

use crate::volume::Volume;

/// World millimetres → continuous voxel coordinates (the inverse of the volume's affine, `f64`).
pub(crate) struct WorldToVoxel {
    /// Rows of the inverse affine's upper 3×4 block.
    rows: [[f64; 4]; 3],
}

impl WorldToVoxel {
    pub(crate) fn new(volume: &Volume) -> Self {
        let inv = volume.affine.inverse();
        let rows = [0, 1, 2].map(|r| {
            let row = inv.row(r);
            [row.x, row.y, row.z, row.w]
        });
        WorldToVoxel { rows }
    }

    /// The voxel coordinate of a world point.
    #[inline]
    pub(crate) fn apply(&self, p: [f64; 3]) -> [f64; 3] {
        self.rows.map(|r| r[0] * p[0] + r[1] * p[1] + r[2] * p[2] + r[3])
    }

    /// The voxel-space displacement of a world-space one (the linear part only).
    #[inline]
    pub(crate) fn apply_vector(&self, d: [f64; 3]) -> [f64; 3] {
        self.rows.map(|r| r[0] * d[0] + r[1] * d[1] + r[2] * d[2])
    }
}

/// One frame of a volume, sampled at voxel coordinates (voxel centres at integers).
pub(crate) struct Sampler<'a> {
    data: &'a [f32],
    shape: [usize; 3],
    /// Index steps along each axis: 1, `nx`, `nx·ny`.
    stride: [usize; 3],
    /// Index steps to the next voxel along each axis; 0 along an axis of one voxel.
    step: [usize; 3],
    /// `n − 1` per axis, as `f64`.
    last: [f64; 3],
}

impl<'a> Sampler<'a> {
    pub(crate) fn new(volume: &'a Volume, frame: usize) -> Self {
        let shape = [volume.shape[0], volume.shape[1], volume.shape[2]];
        let stride = [1, shape[0], shape[0] * shape[1]];
        Sampler {
            data: volume.frame(frame),
            shape,
            stride,
            step: [0, 1, 2].map(|a| if shape[a] > 1 { stride[a] } else { 0 }),
            last: shape.map(|n| n as f64 - 1.0),
        }
    }

    /// Whether `0 ≤ c ≤ n − 1` on every axis (scipy's `constant` mode test; false for NaN).
    #[inline]
    fn within_centres(&self, c: [f64; 3]) -> bool {
        (c[0] >= 0.0 && c[0] <= self.last[0])
            & (c[1] >= 0.0 && c[1] <= self.last[1])
            & (c[2] >= 0.0 && c[2] <= self.last[2])
    }

    /// Whether `0 ≤ c < n` on every axis (nilearn's `_masked_indices`; false for NaN).
    #[inline]
    pub(crate) fn within_grid(&self, c: [f64; 3]) -> bool {
        (c[0] >= 0.0 && c[0] < self.last[0] + 1.0)
            & (c[1] >= 0.0 && c[1] < self.last[1] + 1.0)
            & (c[2] >= 0.0 && c[2] < self.last[2] + 1.0)
    }

    /// The voxel at `round(c)` with halves rounded to even (numpy's `np.round`), or 0 when that
    /// voxel is outside the grid.
    #[inline]
    pub(crate) fn nearest(&self, c: [f64; 3]) -> f32 {
        let mut index = 0;
        for ((&x, &n), &stride) in c.iter().zip(&self.shape).zip(&self.stride) {
            match round_half_even(x) {
                Some(r) if r < n => index += r * stride,
                _ => return 0.0,
            }
        }
        self.data[index]
    }

    /// `map_coordinates(order=1, mode='constant', cval=0)`: trilinear inside `[0, n − 1]` on
    /// every axis, 0 outside.
    #[inline]
    pub(crate) fn linear(&self, c: [f64; 3]) -> f64 {
        if !self.within_centres(c) {
            return 0.0;
        }
        self.trilinear(c)
    }

    /// `RegularGridInterpolator(method='linear', fill_value=None)` at a coordinate already
    /// known to be within `[0, n)` ([`Sampler::within_grid`]): the cell is clamped to the last
    /// one, so coordinates beyond `n − 1` are extrapolated.
    #[inline]
    pub(crate) fn extrapolating(&self, c: [f64; 3]) -> f64 {
        self.trilinear(c)
    }

    /// Trilinear blend of the cell `[i0, i0 + 1]` with `i0 = min(floor(c), n − 2)` on each axis
    /// (an axis of one voxel uses that voxel alone). `c` must be non-negative and below `n`.
    #[inline(always)]
    fn trilinear(&self, c: [f64; 3]) -> f64 {
        let mut base = 0;
        let mut t = [0f64; 3];
        for a in 0..3 {
            // c ≥ 0, so truncation is floor; the cell is clamped to the last one.
            let i0 = (c[a] as usize).min(self.shape[a].saturating_sub(2));
            t[a] = c[a] - i0 as f64;
            base += i0 * self.stride[a];
        }
        let [sx, sy, sz] = self.step;
        let cell = &self.data[base..=base + sx + sy + sz];
        let v = |o: usize| f64::from(cell[o]);
        let lerp = |a: f64, b: f64, t: f64| a * (1.0 - t) + b * t;
        let y0 = lerp(lerp(v(0), v(sx), t[0]), lerp(v(sy), v(sx + sy), t[0]), t[1]);
        let y1 = lerp(
            lerp(v(sz), v(sx + sz), t[0]),
            lerp(v(sy + sz), v(sx + sy + sz), t[0]),
            t[1],
        );
        lerp(y0, y1, t[2])
    }
}

/// `np.round(x)` (halves to even) as an index, or `None` when it is negative (or `x` is NaN).
#[inline]
fn round_half_even(x: f64) -> Option<usize> {
    if x.is_nan() || x < -0.5 {
        return None;
    }
    if x < 0.0 {
        return Some(0);
    }
    // x ≥ 0: truncation is floor, and x − floor(x) is exact.
    let f = x as usize;
    let frac = x - f as f64;
    // Branch-free: which way a coordinate rounds is unpredictable.
    Some(f + usize::from((frac > 0.5) | ((frac == 0.5) & (f % 2 == 1))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_like_numpy() {
        for x in [
            -0.5,
            -0.3,
            -0.0,
            0.0,
            0.49,
            0.5,
            1.5,
            2.5,
            2.5000001,
            3.49999,
            7.0,
            1e6 + 0.5,
        ] {
            let want = f64::round_ties_even(x);
            assert_eq!(round_half_even(x), Some(want as usize), "{x}");
        }
        assert_eq!(round_half_even(-0.51), None);
        assert_eq!(round_half_even(f64::NAN), None);
    }
}
