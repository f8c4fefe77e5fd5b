//! nilearn's default `vol_to_surf` sampling: 10 points per vertex along the normal (±3 mm)
//! or between an outer and an inner surface, averaged (see the module documentation of
//! [`crate::projection`]).

use rayon::prelude::*;

use super::sampler::{Sampler, WorldToVoxel};
use super::{NILEARN_RADIUS_MM, NILEARN_SAMPLES};
use crate::mesh::{Mesh, normalized};

/// Where a vertex's samples lie.
pub(crate) enum Lines<'a> {
    /// On the vertex normal, from `+radius` (outside) to `−radius` (inside).
    Normal {
        /// nilearn's vertex normals ([`vertex_normals`]).
        normals: Vec<[f32; 3]>,
    },
    /// On the segment from the outer vertex (fraction 0) to the inner one (fraction 1).
    Depth {
        /// The inner mesh, with the outer mesh's vertices.
        inner: &'a Mesh,
    },
}

/// `np.linspace(start, stop, NILEARN_SAMPLES)[i]`, computed as numpy does.
fn linspace(start: f64, stop: f64, i: usize) -> f64 {
    let n = NILEARN_SAMPLES;
    if i == n - 1 {
        return stop;
    }
    let step = (stop - start) / (n - 1) as f64;
    start + i as f64 * step
}

/// nilearn's `_vertex_outer_normals`: per vertex, the normalised sum of the **unit** normals
/// (right-hand rule) of its triangles; zero where that sum is zero. Like nilearn, the unit
/// triangle normals are computed in `f32` and summed in `f64`.
///
/// In parallel without a vertex→triangle table: the vertices are split into one range per
/// thread, and each thread scans the triangles for those touching its range.
pub(crate) fn vertex_normals(mesh: &Mesh) -> Vec<[f32; 3]> {
    let n = mesh.vertices.len();
    let per = n.div_ceil(rayon::current_num_threads().max(1)).max(1);
    let mut normals = vec![[0f32; 3]; n];
    normals.par_chunks_mut(per).enumerate().for_each(|(r, out)| {
        let lo = r * per;
        let hi = lo + out.len();
        let mut sums = vec![[0f64; 3]; out.len()];
        for tri in &mesh.triangles {
            let mine = tri.map(|v| (lo..hi).contains(&(v as usize)));
            if mine == [false; 3] {
                continue;
            }
            let f = unit_normal_f32(mesh, tri).map(f64::from);
            for (&v, m) in tri.iter().zip(mine) {
                if m {
                    let s = &mut sums[v as usize - lo];
                    s[0] += f[0];
                    s[1] += f[1];
                    s[2] += f[2];
                }
            }
        }
        for (o, s) in out.iter_mut().zip(&sums) {
            *o = normalized(*s);
        }
    });
    normals
}

/// `sklearn.preprocessing.normalize(np.cross(b − a, c − a))` in `f32`: the unit normal of a
/// triangle, zero for a degenerate one.
fn unit_normal_f32(mesh: &Mesh, tri: &[u32; 3]) -> [f32; 3] {
    let [a, b, c] = tri.map(|i| mesh.vertices[i as usize]);
    let u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    let v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
    let n = [
        u[1] * v[2] - u[2] * v[1],
        u[2] * v[0] - u[0] * v[2],
        u[0] * v[1] - u[1] * v[0],
    ];
    let l = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
    if l > 0.0 { n.map(|x| x / l) } else { [0.0; 3] }
}

/// The nilearn value at vertex `i`: the mean of its kept, non-NaN samples, 0 if none.
pub(crate) fn sample_vertex(
    sampler: &Sampler,
    to_voxel: &WorldToVoxel,
    surface: &Mesh,
    lines: &Lines,
    i: usize,
) -> f64 {
    let p = surface.vertices[i].map(f64::from);
    // Samples at p + d·direction for d in linspace(start, stop), mapped to voxels as
    // base + d·step (the affine is linear).
    let (direction, start, stop) = match lines {
        Lines::Normal { normals } => (normals[i].map(f64::from), NILEARN_RADIUS_MM, -NILEARN_RADIUS_MM),
        Lines::Depth { inner } => {
            let q = inner.vertices[i].map(f64::from);
            ([q[0] - p[0], q[1] - p[1], q[2] - p[2]], 0.0, 1.0)
        }
    };
    let base = to_voxel.apply(p);
    let step = to_voxel.apply_vector(direction);
    let (mut sum, mut count) = (0.0, 0u32);
    for s in 0..NILEARN_SAMPLES {
        let d = linspace(start, stop, s);
        let c = [base[0] + d * step[0], base[1] + d * step[1], base[2] + d * step[2]];
        if !sampler.within_grid(c) {
            continue;
        }
        let v = sampler.extrapolating(c);
        if !v.is_nan() {
            sum += v;
            count += 1;
        }
    }
    if count == 0 { 0.0 } else { sum / f64::from(count) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linspace_like_numpy() {
        assert_eq!(linspace(3.0, -3.0, 0), 3.0);
        assert_eq!(linspace(3.0, -3.0, 9), -3.0);
        assert!((linspace(3.0, -3.0, 3) - 1.0).abs() < 1e-15);
        assert!((linspace(0.0, 1.0, 1) - 1.0 / 9.0).abs() < 1e-15);
    }

    #[test]
    fn normals_weight_triangles_equally() {
        // A big triangle facing +z and a tiny one facing +x share vertex 0: nilearn's normal is
        // their unit normals' bisector, whatever the areas.
        let mesh = Mesh {
            vertices: vec![
                [0.0, 0.0, 0.0],
                [10.0, 0.0, 0.0],
                [0.0, 10.0, 0.0],
                [0.0, 0.1, 0.0],
                [0.0, 0.0, 0.1],
            ],
            triangles: vec![[0, 1, 2], [0, 3, 4]],
        };
        let n = vertex_normals(&mesh)[0];
        let h = std::f32::consts::FRAC_1_SQRT_2;
        assert!(
            (n[0] - h).abs() < 1e-6 && n[1].abs() < 1e-6 && (n[2] - h).abs() < 1e-6,
            "{n:?}"
        );
        let area_weighted = mesh.vertex_normals()[0];
        assert!(area_weighted[2] > 0.99);
    }
}
