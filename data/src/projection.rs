//! Volume → surface projection: a volume sampled at the vertices of a mesh through the
//! volume's voxel→world affine (the mesh is in world millimetres).
//!
//! Three methods ([`ProjectionMethod`]), each computed in parallel over the vertices (rayon):
//!
//! - **`Nearest`** — the value of the nearest voxel: the voxel coordinate
//!   `ijk = affine⁻¹ · vertex` rounded with halves to even (numpy's `np.round`, as nilearn's
//!   nearest sampling and `reference/projection.json` do), 0 when that voxel is outside the
//!   grid. scipy's `map_coordinates(order=0, mode='constant')` differs in two corner cases
//!   only: it rounds exact halves up, and it returns 0 in the half-voxel band beyond the edge
//!   voxels' centres.
//! - **`Linear`** — trilinear interpolation at the vertex, exactly as
//!   `map_coordinates(…, order=1, mode='constant', cval=0)`: inside `[0, n − 1]` on every axis
//!   the eight surrounding voxels are blended (no neighbour outside the grid is ever needed
//!   there, since a coordinate of exactly `n − 1` gives the outer neighbour weight 0); outside
//!   it the value is 0. Computed in `f64`.
//! - **`Nilearn`** — nilearn 0.14's `vol_to_surf(img, mesh)` with its defaults (`kind='auto'`,
//!   `radius=3`, `n_samples=None` → 10, `interpolation='linear'`, no mask, `depth=None`), which
//!   averages 10 samples per vertex:
//!   - *without an inner mesh* (`kind='line'`): the samples lie on the vertex normal at
//!     signed distances `linspace(3, −3, 10)` mm (from 3 mm outside to 3 mm inside). The
//!     normal is nilearn's: the sum of the **unit** normals (right-hand rule) of the triangles
//!     around the vertex, normalised — every triangle counts the same, whatever its area
//!     (unlike [`Mesh::vertex_normals`]); a vertex whose sum is zero samples 10 times at itself;
//!   - *with an inner mesh* (`kind='depth'`, e.g. white inside pial): the samples lie on the
//!     segment from the outer vertex to the matching inner vertex, at fractions
//!     `linspace(0, 1, 10)`;
//!   - each sample's voxel coordinate `c = affine⁻¹ · p` is kept only if `0 ≤ c < n` on every
//!     axis (`_masked_indices`: so a sample in `[n − 1, n)` is kept) and then interpolated as
//!     scipy's `RegularGridInterpolator(method='linear', fill_value=None)` does: the cell is
//!     clamped to the grid's last one, so such a sample is linearly *extrapolated* from the
//!     last two voxels;
//!   - the value is the mean of the kept samples that are not NaN (`np.nanmean`). Where no
//!     sample is kept nilearn returns NaN; here the value is 0, as everywhere outside the
//!     volume.
//!
//!   The only differences from nilearn are floating-point ones (nilearn computes the normals in
//!   `float32`, here in `f64`). On the reference data (`tests/data/reference/projection.json`)
//!   the result matches nilearn's to about 1e-6.
//!
//! Where the volume holds NaN, `Nearest` and `Linear` return NaN (as scipy does) and
//! `Nilearn` ignores those samples (as `nanmean` does).

mod nilearn;
mod sampler;

use rayon::prelude::*;

use crate::mesh::Mesh;
use crate::volume::Volume;
use sampler::{Sampler, WorldToVoxel};

/// Half-length (mm) of nilearn's sampling segment along the normal (`radius`).
pub const NILEARN_RADIUS_MM: f64 = 3.0;
/// Samples per vertex of nilearn's default (`n_samples=None` for `line` and `depth`).
pub const NILEARN_SAMPLES: usize = 10;

/// Vertices per parallel work item.
const CHUNK: usize = 2048;

/// How a volume is sampled at a vertex; see the [module documentation](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ProjectionMethod {
    /// The nearest voxel (halves rounded to even, outside the grid = 0).
    Nearest,
    /// Trilinear at the vertex (scipy `map_coordinates`, order 1, outside = 0).
    Linear,
    /// nilearn's `vol_to_surf` default: the mean of 10 trilinear samples along the normal
    /// (±3 mm), or between the outer and inner surface when an inner mesh is given.
    Nilearn,
}

impl ProjectionMethod {
    /// Every method, the default first.
    pub const ALL: [ProjectionMethod; 3] = [
        ProjectionMethod::Nilearn,
        ProjectionMethod::Linear,
        ProjectionMethod::Nearest,
    ];

    /// `"nearest"`, `"linear"` or `"nilearn"`.
    pub fn name(self) -> &'static str {
        match self {
            ProjectionMethod::Nearest => "nearest",
            ProjectionMethod::Linear => "linear",
            ProjectionMethod::Nilearn => "nilearn",
        }
    }

    /// The method of a name as [`ProjectionMethod::name`] spells it (case-insensitive).
    pub fn from_name(name: &str) -> Option<ProjectionMethod> {
        Self::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// Samples frame `frame` of `volume` at every vertex of `surface`, in vertex order.
///
/// `inner` (a white-matter mesh with the same vertices as `surface`) is used by
/// [`ProjectionMethod::Nilearn`] only; the other methods sample at `surface`'s vertices.
/// Values outside the volume are 0. See the [module documentation](self) for exactly what each
/// method computes.
///
/// # Panics
///
/// If `frame >= volume.frames()`, or if `inner` has another vertex count than `surface`
/// (check with [`crate::mesh::check_same_vertices`] first).
pub fn project(
    volume: &Volume,
    frame: usize,
    surface: &Mesh,
    inner: Option<&Mesh>,
    method: ProjectionMethod,
) -> Vec<f32> {
    assert!(
        frame < volume.frames(),
        "frame {frame} of {} which has {} frames",
        volume.name,
        volume.frames()
    );
    if let Some(inner) = inner {
        assert_eq!(
            inner.vertices.len(),
            surface.vertices.len(),
            "the inner mesh must have the outer mesh's vertices"
        );
    }
    let sampler = Sampler::new(volume, frame);
    let to_voxel = WorldToVoxel::new(volume);
    let mut out = vec![0f32; surface.vertices.len()];
    match method {
        ProjectionMethod::Nearest | ProjectionMethod::Linear => {
            out.par_chunks_mut(CHUNK)
                .zip(surface.vertices.par_chunks(CHUNK))
                .for_each(|(out, vertices)| {
                    for (o, v) in out.iter_mut().zip(vertices) {
                        let c = to_voxel.apply(v.map(f64::from));
                        *o = match method {
                            ProjectionMethod::Nearest => sampler.nearest(c),
                            _ => sampler.linear(c) as f32,
                        };
                    }
                });
        }
        ProjectionMethod::Nilearn => {
            let lines = match inner {
                Some(inner) => nilearn::Lines::Depth { inner },
                None => nilearn::Lines::Normal {
                    normals: nilearn::vertex_normals(surface),
                },
            };
            out.par_chunks_mut(CHUNK).enumerate().for_each(|(chunk, out)| {
                let first = chunk * CHUNK;
                for (k, o) in out.iter_mut().enumerate() {
                    let i = first + k;
                    *o = nilearn::sample_vertex(&sampler, &to_voxel, surface, &lines, i) as f32;
                }
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::DMat4;

    /// A 4×3×2 volume whose value is `i + 10 j + 100 k`, with a 2 mm grid shifted by (−1, 0, 5).
    fn ramp() -> Volume {
        let shape = [4, 3, 2, 1];
        let mut data = Vec::new();
        for k in 0..2 {
            for j in 0..3 {
                for i in 0..4 {
                    data.push((i + 10 * j + 100 * k) as f32);
                }
            }
        }
        let mut affine = DMat4::from_diagonal(glam::DVec4::new(2.0, 2.0, 2.0, 1.0));
        affine.w_axis = glam::DVec4::new(-1.0, 0.0, 5.0, 1.0);
        Volume {
            name: "ramp".into(),
            shape,
            ndim: 3,
            zooms: vec![2.0; 3],
            affine,
            datatype: "float32".into(),
            scl_slope: 1.0,
            scl_inter: 0.0,
            data,
            nifti_space: None,
        }
    }

    fn points(world: &[[f32; 3]]) -> Mesh {
        Mesh {
            vertices: world.to_vec(),
            triangles: Vec::new(),
        }
    }

    /// World position of a voxel coordinate of [`ramp`].
    fn w(i: f32, j: f32, k: f32) -> [f32; 3] {
        [2.0 * i - 1.0, 2.0 * j, 2.0 * k + 5.0]
    }

    #[test]
    fn linear_and_nearest_follow_scipy() {
        let v = ramp();
        let m = points(&[
            w(0.0, 0.0, 0.0),
            w(1.25, 0.5, 0.5),
            w(3.0, 2.0, 1.0),
            w(3.01, 1.0, 0.0),
            w(-0.01, 1.0, 0.0),
            w(1.5, 1.5, 0.5),
        ]);
        let lin = project(&v, 0, &m, None, ProjectionMethod::Linear);
        let want = [0.0, 1.25 + 5.0 + 50.0, 3.0 + 20.0 + 100.0, 0.0, 0.0, 1.5 + 15.0 + 50.0];
        for (g, w) in lin.iter().zip(want) {
            assert!((g - w).abs() < 1e-4, "{lin:?}");
        }
        let near = project(&v, 0, &m, None, ProjectionMethod::Nearest);
        // Halves go to even: (1.25, 0.5, 0.5) → (1, 0, 0); (1.5, 1.5, 0.5) → (2, 2, 0); the
        // half-voxel band beyond the edge centres (3.01, −0.01) still finds the edge voxel.
        assert_eq!(near, vec![0.0, 1.0, 123.0, 13.0, 10.0, 22.0]);
    }

    #[test]
    fn names_round_trip() {
        for m in ProjectionMethod::ALL {
            assert_eq!(ProjectionMethod::from_name(m.name()), Some(m));
        }
        assert_eq!(ProjectionMethod::from_name(" Linear "), Some(ProjectionMethod::Linear));
        assert_eq!(ProjectionMethod::from_name("cubic"), None);
    }

    #[test]
    fn nilearn_depth_averages_between_surfaces() {
        let v = ramp();
        let outer = points(&[w(0.0, 1.0, 0.0), w(10.0, 1.0, 0.0)]);
        let inner = points(&[w(3.0, 1.0, 1.0), w(11.0, 1.0, 0.0)]);
        let got = project(&v, 0, &outer, Some(&inner), ProjectionMethod::Nilearn);
        // Linear along the segment: the mean is the midpoint's value.
        assert!((got[0] - (1.5 + 10.0 + 50.0)).abs() < 1e-4, "{got:?}");
        assert_eq!(got[1], 0.0, "all samples outside");
    }

    #[test]
    fn nilearn_extrapolates_in_the_last_half_voxel() {
        let v = ramp();
        // Depth samples all at i = 3.5 (kept: < 4) → extrapolated value 3.5 + 10 + 0.
        let outer = points(&[w(3.5, 1.0, 0.0)]);
        let got = project(&v, 0, &outer, Some(&outer), ProjectionMethod::Nilearn);
        assert!((got[0] - 13.5).abs() < 1e-5, "{got:?}");
    }

    #[test]
    #[should_panic(expected = "frame 1 of ramp")]
    fn frame_out_of_range_panics() {
        project(&ramp(), 1, &points(&[[0.0; 3]]), None, ProjectionMethod::Linear);
    }
}
