//! Filling the slices between drawn slices by interpolating the shapes' signed distances, as
//! ITK-SNAP's and 3D Slicer's "fill between slices" do (those use morphological contour
//! interpolation; a linear blend of signed distance maps is the classic, simpler variant).

use super::Drawing;
use super::fill::in_plane_axes;

impl Drawing {
    /// Fills `label` into the empty voxels of every slice (perpendicular to `axis`) lying between
    /// two slices that hold `label`, blending the two shapes by their signed distance maps.
    /// Returns how many voxels changed; the fill is one undoable edit.
    pub fn fill_between_slices(&mut self, axis: usize, label: i16) -> usize {
        let (u, v) = in_plane_axes(axis);
        let (nu, nv) = (self.shape[u], self.shape[v]);
        let drawn: Vec<usize> = (0..self.shape[axis])
            .filter(|&s| self.slice_mask(axis, s, label).iter().any(|&m| m))
            .collect();
        self.begin_stroke();
        let mut changed = 0;
        for pair in drawn.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if b - a < 2 {
                continue;
            }
            let da = signed_distance(&self.slice_mask(axis, a, label), nu, nv);
            let db = signed_distance(&self.slice_mask(axis, b, label), nu, nv);
            for s in a + 1..b {
                let t = (s - a) as f64 / (b - a) as f64;
                for (n, (&x, &y)) in da.iter().zip(&db).enumerate() {
                    if (1.0 - t) * x + t * y > 0.0 {
                        continue;
                    }
                    let mut at = [0i64; 3];
                    at[axis] = s as i64;
                    at[u] = (n % nu) as i64;
                    at[v] = (n / nu) as i64;
                    let index = self.index(at).expect("inside the grid");
                    if self.labels[index as usize] == 0 {
                        self.set(index, label);
                        changed += 1;
                    }
                }
            }
        }
        self.end_stroke();
        changed
    }

    /// Where slice `s` perpendicular to `axis` holds `label`, the first in-plane axis fastest.
    fn slice_mask(&self, axis: usize, s: usize, label: i16) -> Vec<bool> {
        let (u, v) = in_plane_axes(axis);
        let (nu, nv) = (self.shape[u], self.shape[v]);
        let mut mask = Vec::with_capacity(nu * nv);
        for b in 0..nv {
            for a in 0..nu {
                let mut at = [0i64; 3];
                (at[axis], at[u], at[v]) = (s as i64, a as i64, b as i64);
                mask.push(self.label_at(at) == Some(label));
            }
        }
        mask
    }
}

/// Signed Euclidean distance in voxels: negative inside the mask (to the nearest voxel outside),
/// positive outside (to the nearest voxel inside).
fn signed_distance(mask: &[bool], w: usize, h: usize) -> Vec<f64> {
    let outside: Vec<bool> = mask.iter().map(|&m| !m).collect();
    let to_inside = squared_distance(mask, w, h);
    let to_outside = squared_distance(&outside, w, h);
    to_inside
        .iter()
        .zip(&to_outside)
        .map(|(&a, &b)| a.sqrt() - b.sqrt())
        .collect()
}

/// Squared Euclidean distance of every pixel to the nearest `true` pixel (Felzenszwalb and
/// Huttenlocher's separable transform, exact); a large value where there is none. Written here
/// because no maintained crate offers a 2D EDT on plain slices.
fn squared_distance(mask: &[bool], w: usize, h: usize) -> Vec<f64> {
    let far = ((w + h) * (w + h)) as f64 + 1.0;
    let mut d: Vec<f64> = mask.iter().map(|&m| if m { 0.0 } else { far }).collect();
    let mut line = Vec::new();
    for y in 0..h {
        line.clear();
        line.extend_from_slice(&d[y * w..(y + 1) * w]);
        transform_1d(&line, &mut d[y * w..(y + 1) * w]);
    }
    let mut column = vec![0.0; h];
    let mut out = vec![0.0; h];
    for x in 0..w {
        for y in 0..h {
            column[y] = d[y * w + x];
        }
        transform_1d(&column, &mut out);
        for y in 0..h {
            d[y * w + x] = out[y];
        }
    }
    d
}

/// The lower envelope of parabolas rooted at `f`: `out[q] = min_p (q − p)² + f[p]`.
fn transform_1d(f: &[f64], out: &mut [f64]) {
    let n = f.len();
    if n == 0 {
        return;
    }
    let mut v = vec![0usize; n];
    let mut z = vec![0f64; n + 1];
    let mut k = 0;
    z[0] = f64::NEG_INFINITY;
    z[1] = f64::INFINITY;
    let intersection =
        |q: usize, p: usize| ((f[q] + (q * q) as f64) - (f[p] + (p * p) as f64)) / (2.0 * q as f64 - 2.0 * p as f64);
    for q in 1..n {
        let mut s = intersection(q, v[k]);
        while s <= z[k] {
            k -= 1;
            s = intersection(q, v[k]);
        }
        k += 1;
        v[k] = q;
        z[k] = s;
        z[k + 1] = f64::INFINITY;
    }
    k = 0;
    for (q, o) in out.iter_mut().enumerate() {
        while z[k + 1] < q as f64 {
            k += 1;
        }
        let p = v[k];
        *o = (q as f64 - p as f64).powi(2) + f[p];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force: the squared distance to the nearest `true` pixel.
    fn brute(mask: &[bool], w: usize, h: usize) -> Vec<f64> {
        (0..w * h)
            .map(|q| {
                let (qx, qy) = ((q % w) as f64, (q / w) as f64);
                (0..w * h)
                    .filter(|&p| mask[p])
                    .map(|p| ((p % w) as f64 - qx).powi(2) + ((p / w) as f64 - qy).powi(2))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect()
    }

    #[test]
    fn distance_transform_is_exact() {
        let (w, h) = (13, 9);
        let mut state = 7u32;
        let mask: Vec<bool> = (0..w * h)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (state >> 16).is_multiple_of(11)
            })
            .collect();
        assert!(mask.iter().any(|&m| m));
        assert_eq!(squared_distance(&mask, w, h), brute(&mask, w, h));
    }
}
