//! Cluster tables of statistical maps, as nilearn's `get_clusters_table` makes them (nilearn
//! 0.14): voxels beyond a threshold (and, two-sided, below its negative) grouped into connected
//! clusters, each with its size, peak, up to three sub-peaks more than `min_distance` apart, and
//! centre of mass. Written by hand: no Rust crate labels 3D components with these rules.
//!
//! What nilearn does, and so what this does:
//! - a voxel is in when `value > threshold` (positive side) or `−value > threshold` (negative
//!   side, two-sided only); clusters smaller than `min_size` voxels are dropped;
//! - clusters are connected through faces by default (scipy's `generate_binary_structure(3, 1)`);
//!   edges (18 neighbours) and vertices (26, FSL `cluster`'s choice) are offered;
//! - clusters are ordered by their peak, highest first, positive side before negative;
//! - the size in mm³ is the voxel count times the product of the header's voxel sizes, truncated
//!   to an integer as nilearn reports it (the exact product is kept too);
//! - peaks are local maxima over the 3×3×3 box (plateaus merged through faces and placed at
//!   their value-weighted centre of mass, rounded half to even, or at the plateau voxel nearest
//!   that rounded voxel when it falls outside the plateau); a flat cluster (all values equal) counts its plateaus as maxima;
//!   peaks are sorted by value and kept greedily when farther than `min_distance` mm from every
//!   kept one; the first is the cluster's peak, the next three its sub-peaks.
//!
//! Beyond nilearn's table: each cluster's size in voxels and its centre of mass, the
//! `|value|`-weighted mean of its voxel positions in world millimetres.

use std::collections::VecDeque;

use glam::{DMat4, DVec3};

use crate::volume::Volume;

/// Which neighbours join a cluster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Connectivity {
    /// 6 neighbours sharing a face (nilearn's `get_clusters_table`, AFNI's NN1).
    #[default]
    Faces,
    /// 18 neighbours sharing a face or an edge (AFNI's NN2).
    Edges,
    /// 26 neighbours sharing a face, an edge or a corner (FSL's `cluster`, AFNI's NN3).
    Vertices,
}

impl Connectivity {
    /// The choices, for menus.
    pub const ALL: [Connectivity; 3] = [Connectivity::Faces, Connectivity::Edges, Connectivity::Vertices];

    /// Its name: `faces`, `edges` or `vertices`.
    pub fn name(self) -> &'static str {
        match self {
            Connectivity::Faces => "faces",
            Connectivity::Edges => "edges",
            Connectivity::Vertices => "vertices",
        }
    }

    /// The neighbour offsets.
    fn offsets(self) -> Vec<[i64; 3]> {
        let most = match self {
            Connectivity::Faces => 1,
            Connectivity::Edges => 2,
            Connectivity::Vertices => 3,
        };
        let mut out = Vec::new();
        for k in -1..=1i64 {
            for j in -1..=1i64 {
                for i in -1..=1i64 {
                    let away = i.abs() + j.abs() + k.abs();
                    if away > 0 && away <= most {
                        out.push([i, j, k]);
                    }
                }
            }
        }
        out
    }
}

/// How clusters are formed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClusterOptions {
    /// Voxels whose value (or, two-sided, whose negated value) is above this are in.
    pub threshold: f32,
    /// Also the negative side.
    pub two_sided: bool,
    /// Clusters of fewer voxels are dropped.
    pub min_size: usize,
    /// Which neighbours join a cluster.
    pub connectivity: Connectivity,
    /// Sub-peaks closer than this (mm) to a higher peak are not reported (nilearn: 8).
    pub min_distance: f64,
}

impl ClusterOptions {
    /// nilearn's defaults at `threshold`: one-sided, no minimum size, faces, 8 mm between peaks.
    pub fn at(threshold: f32) -> ClusterOptions {
        ClusterOptions {
            threshold,
            two_sided: false,
            min_size: 0,
            connectivity: Connectivity::Faces,
            min_distance: 8.0,
        }
    }
}

/// A peak: its voxel, world position and value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Peak {
    /// Voxel index.
    pub ijk: [i64; 3],
    /// World position in millimetres.
    pub mm: DVec3,
    /// The map's value there (negative on the negative side).
    pub value: f32,
}

/// One cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    /// 1-based, in table order.
    pub id: usize,
    /// +1 for the positive side, −1 for the negative.
    pub sign: i8,
    /// Voxels in it.
    pub voxels: usize,
    /// Its volume: voxels × the product of the voxel sizes.
    pub volume_mm3: f64,
    /// The highest local maximum (lowest minimum on the negative side).
    pub peak: Peak,
    /// Up to three further peaks, each more than `min_distance` from the ones before.
    pub subpeaks: Vec<Peak>,
    /// The `|value|`-weighted mean position of its voxels, in millimetres.
    pub centre_of_mass: DVec3,
}

/// The clusters of frame `frame` of `volume`, in table order.
pub fn clusters(volume: &Volume, frame: usize, options: &ClusterOptions) -> Vec<Cluster> {
    let grid = Grid::of(volume);
    let values: Vec<f32> = volume
        .frame(frame)
        .iter()
        .map(|v| if v.is_finite() { *v } else { 0.0 })
        .collect();
    let voxel_mm3: f64 = volume.zooms.iter().take(3).product();
    let signs: &[i8] = if options.two_sided { &[1, -1] } else { &[1] };
    let mut table = Vec::new();
    for &sign in signs {
        let signed: Vec<f32> = values.iter().map(|v| v * f32::from(sign)).collect();
        let inside: Vec<bool> = signed.iter().map(|v| *v > options.threshold).collect();
        let mut found: Vec<Vec<usize>> = components(&grid, &inside, options.connectivity)
            .into_iter()
            .filter(|c| c.len() >= options.min_size)
            .collect();
        let peak_of = |c: &Vec<usize>| c.iter().map(|&v| signed[v]).fold(f32::NEG_INFINITY, f32::max);
        // Highest peak first; equal peaks keep scipy's label order.
        found.sort_by(|a, b| peak_of(b).total_cmp(&peak_of(a)));
        for members in found {
            let peaks = local_maxima(&grid, &signed, &members, volume.affine, options.min_distance);
            let mut peaks = peaks.into_iter().map(|mut p| {
                p.value *= f32::from(sign);
                p
            });
            let Some(peak) = peaks.next() else {
                continue;
            };
            table.push(Cluster {
                id: table.len() + 1,
                sign,
                voxels: members.len(),
                volume_mm3: members.len() as f64 * voxel_mm3,
                peak,
                subpeaks: peaks.take(3).collect(),
                centre_of_mass: centre_of_mass(&grid, &values, &members, volume.affine),
            });
        }
    }
    table
}

/// The voxel grid of a volume's frames.
struct Grid {
    shape: [usize; 3],
}

impl Grid {
    fn of(volume: &Volume) -> Grid {
        Grid {
            shape: [volume.shape[0], volume.shape[1], volume.shape[2]],
        }
    }

    fn len(&self) -> usize {
        self.shape.iter().product()
    }

    fn ijk(&self, index: usize) -> [i64; 3] {
        let [nx, ny, _] = self.shape;
        [
            (index % nx) as i64,
            (index / nx % ny) as i64,
            (index / (nx * ny)) as i64,
        ]
    }

    /// The order of NumPy's C-ordered `[i, j, k]` arrays (`k` fastest), which nilearn's ties follow.
    fn c_order(&self, index: usize) -> [i64; 3] {
        self.ijk(index)
    }

    fn index(&self, ijk: [i64; 3]) -> Option<usize> {
        let inside = ijk.iter().zip(self.shape).all(|(&c, n)| c >= 0 && (c as usize) < n);
        inside.then(|| {
            let [nx, ny, _] = self.shape;
            ijk[0] as usize + nx * (ijk[1] as usize + ny * ijk[2] as usize)
        })
    }

    /// In-grid neighbours of `index` at `offsets`.
    fn neighbours<'a>(&'a self, index: usize, offsets: &'a [[i64; 3]]) -> impl Iterator<Item = usize> + 'a {
        let [i, j, k] = self.ijk(index);
        offsets
            .iter()
            .filter_map(move |[di, dj, dk]| self.index([i + di, j + dj, k + dk]))
    }
}

/// Connected components of the `inside` voxels, ordered as scipy's `label` numbers them (by their
/// first voxel in C order); each component's voxels sorted by index.
fn components(grid: &Grid, inside: &[bool], connectivity: Connectivity) -> Vec<Vec<usize>> {
    let offsets = connectivity.offsets();
    let mut seen = vec![false; grid.len()];
    let mut out = Vec::new();
    let mut queue = VecDeque::new();
    for start in 0..grid.len() {
        if !inside[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        queue.push_back(start);
        let mut members = Vec::new();
        while let Some(v) = queue.pop_front() {
            members.push(v);
            for n in grid.neighbours(v, &offsets) {
                if inside[n] && !seen[n] {
                    seen[n] = true;
                    queue.push_back(n);
                }
            }
        }
        members.sort_unstable();
        out.push(members);
    }
    let first = |c: &Vec<usize>| c.iter().map(|&v| grid.c_order(v)).min().unwrap_or_default();
    out.sort_by_cached_key(first);
    out
}

/// nilearn's `_local_max` on the cluster `members` of `signed` (zero elsewhere): peaks sorted by
/// value, pared to `min_distance`.
fn local_maxima(grid: &Grid, signed: &[f32], members: &[usize], affine: DMat4, min_distance: f64) -> Vec<Peak> {
    let member = |v: usize| members.binary_search(&v).is_ok();
    let data = |v: usize| if member(v) { signed[v] } else { 0.0 };
    let box_offsets = Connectivity::Vertices.offsets();
    let (lo, hi) = members
        .iter()
        .map(|&v| signed[v])
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let constant = ((hi - lo).abs() as f64) <= 1e-8 + 1e-5 * (lo.abs() as f64);
    // A voxel is a maximum when it equals the largest value of its 3×3×3 box (in-grid voxels only,
    // as scipy's 'reflect' filters see them) and, unless the cluster is flat, the box is not flat.
    let maxima: Vec<usize> = members
        .iter()
        .copied()
        .filter(|&v| data(v) != 0.0)
        .filter(|&v| {
            let here = data(v);
            let (box_min, box_max) = grid
                .neighbours(v, &box_offsets)
                .map(data)
                .fold((here, here), |(lo, hi), x| (lo.min(x), hi.max(x)));
            here == box_max && (constant || box_max - box_min > 0.0)
        })
        .collect();
    // Plateaus of maxima, joined through faces (scipy's `label` default).
    let is_maximum: Vec<bool> = {
        let mut flags = vec![false; grid.len()];
        maxima.iter().for_each(|&v| flags[v] = true);
        flags
    };
    let mut peaks: Vec<Peak> = components(grid, &is_maximum, Connectivity::Faces)
        .into_iter()
        .map(|plateau| {
            let weight: f64 = plateau.iter().map(|&v| f64::from(data(v))).sum();
            let com = plateau.iter().fold(DVec3::ZERO, |sum, &v| {
                let [i, j, k] = grid.ijk(v);
                sum + DVec3::new(i as f64, j as f64, k as f64) * f64::from(data(v))
            }) / weight;
            let rounded = [com.x, com.y, com.z].map(|c| c.round_ties_even() as i64);
            let ijk = match grid.index(rounded).filter(|v| plateau.contains(v)) {
                Some(_) => rounded,
                None => nearest(grid, &plateau, rounded),
            };
            let value = grid.index(ijk).map_or(0.0, data);
            Peak {
                ijk,
                mm: affine.transform_point3(DVec3::new(ijk[0] as f64, ijk[1] as f64, ijk[2] as f64)),
                value,
            }
        })
        .collect();
    peaks.sort_by(|a, b| b.value.total_cmp(&a.value));
    let mut kept: Vec<Peak> = Vec::new();
    for peak in peaks {
        if kept.iter().all(|k| k.mm.distance(peak.mm) > min_distance) {
            kept.push(peak);
        }
    }
    kept
}

/// The voxel of `plateau` nearest voxel `point` (the first in C order on ties, as NumPy's `argmin`
/// over `nonzero()` finds it).
fn nearest(grid: &Grid, plateau: &[usize], point: [i64; 3]) -> [i64; 3] {
    let distance = |c: &[i64; 3]| (0..3).map(|a| (c[a] - point[a]).pow(2)).sum::<i64>();
    let mut voxels: Vec<[i64; 3]> = plateau.iter().map(|&v| grid.c_order(v)).collect();
    voxels.sort_unstable();
    voxels
        .into_iter()
        .reduce(|best, c| if distance(&c) < distance(&best) { c } else { best })
        .unwrap_or([0; 3])
}

/// The `|value|`-weighted mean position of `members`, in millimetres.
fn centre_of_mass(grid: &Grid, values: &[f32], members: &[usize], affine: DMat4) -> DVec3 {
    let (sum, weight) = members.iter().fold((DVec3::ZERO, 0.0), |(sum, weight), &v| {
        let w = f64::from(values[v].abs());
        let [i, j, k] = grid.ijk(v);
        (sum + DVec3::new(i as f64, j as f64, k as f64) * w, weight + w)
    });
    affine.transform_point3(if weight > 0.0 { sum / weight } else { sum })
}

/// The table as tab-separated values: a header, then one row per cluster and one per sub-peak
/// (`2a`, `2b`, … as nilearn names them, with empty size columns), labelled by `label_at` (e.g. an
/// atlas's region at the peak; empty when it has none).
pub fn clusters_tsv(table: &[Cluster], label_at: &dyn Fn(DVec3) -> Option<String>) -> String {
    let mut out =
        String::from("cluster\tx_mm\ty_mm\tz_mm\tpeak\tvoxels\tvolume_mm3\tcom_x_mm\tcom_y_mm\tcom_z_mm\tlabel\n");
    for c in table {
        let row = |id: String, p: &Peak, sizes: String| {
            let label = label_at(p.mm).unwrap_or_default();
            format!(
                "{id}\t{:.2}\t{:.2}\t{:.2}\t{:.6}\t{sizes}\t{label}\n",
                p.mm.x, p.mm.y, p.mm.z, p.value
            )
        };
        let sizes = format!(
            "{}\t{:.3}\t{:.2}\t{:.2}\t{:.2}",
            c.voxels, c.volume_mm3, c.centre_of_mass.x, c.centre_of_mass.y, c.centre_of_mass.z
        );
        out.push_str(&row(c.id.to_string(), &c.peak, sizes));
        for (n, sub) in c.subpeaks.iter().enumerate() {
            let letter = char::from(b'a' + n as u8);
            out.push_str(&row(format!("{}{letter}", c.id), sub, "\t\t\t\t".into()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(shape: [usize; 3], data: Vec<f32>) -> Volume {
        Volume::from_f32("map", [shape[0], shape[1], shape[2], 1], DMat4::IDENTITY, data)
    }

    #[test]
    fn connectivity_decides_what_touches() {
        // Two voxels touching only at a corner: two clusters through faces or edges, one through vertices.
        let mut data = vec![0.0; 27];
        data[0] = 5.0;
        data[13] = 4.0;
        let v = volume([3, 3, 3], data);
        for (connectivity, count) in [
            (Connectivity::Faces, 2),
            (Connectivity::Edges, 2),
            (Connectivity::Vertices, 1),
        ] {
            let options = ClusterOptions {
                connectivity,
                ..ClusterOptions::at(1.0)
            };
            assert_eq!(clusters(&v, 0, &options).len(), count, "{connectivity:?}");
        }
    }

    #[test]
    fn sides_sizes_order_and_peaks() {
        // A 1-D map: a positive cluster of 3 peaking at 6, one of 1 at 9, a negative one at −7.
        let data = vec![0.0, 2.0, 6.0, 3.0, 0.0, 9.0, 0.0, -7.0, -4.0, 0.0];
        let v = volume([10, 1, 1], data);
        let one_sided = clusters(&v, 0, &ClusterOptions::at(1.0));
        assert_eq!(one_sided.iter().map(|c| c.peak.value).collect::<Vec<_>>(), [9.0, 6.0]);
        assert_eq!(one_sided[1].voxels, 3);
        assert_eq!(one_sided[1].peak.ijk, [2, 0, 0]);
        let two_sided = ClusterOptions {
            two_sided: true,
            min_size: 2,
            ..ClusterOptions::at(1.0)
        };
        let table = clusters(&v, 0, &two_sided);
        assert_eq!(table.len(), 2, "the single voxel is dropped");
        assert_eq!((table[1].id, table[1].sign, table[1].peak.value), (2, -1, -7.0));
        let com = table[0].centre_of_mass.x;
        assert!((com - (1.0 * 2.0 + 2.0 * 6.0 + 3.0 * 3.0) / 11.0).abs() < 1e-12);
        let tsv = clusters_tsv(&table, &|_| Some("Somewhere".into()));
        assert!(tsv.starts_with("cluster\tx_mm"));
        assert!(tsv.contains("\n2\t7.00\t0.00\t0.00\t-7.000000\t2\t2.000\t"), "{tsv}");
    }
}
