//! Generated meshes for tests and benchmarks.

use std::collections::HashMap;

use cortexlens_data::mesh::Mesh;
use glam::Vec3;

/// A geodesic sphere: the icosahedron with each triangle split in four `subdivisions` times,
/// vertices pushed onto the sphere of `radius` around `centre`. It has `10 · 4^s + 2` vertices
/// and `20 · 4^s` triangles (s = 5: 10,242, fsaverage5's count; s = 7: 163,842, fsaverage's),
/// wound counter-clockwise seen from outside.
pub fn icosphere(subdivisions: u32, radius: f32, centre: Vec3) -> Mesh {
    let t = (1.0 + 5.0f32.sqrt()) / 2.0;
    let mut vertices: Vec<Vec3> = [
        [-1.0, t, 0.0],
        [1.0, t, 0.0],
        [-1.0, -t, 0.0],
        [1.0, -t, 0.0],
        [0.0, -1.0, t],
        [0.0, 1.0, t],
        [0.0, -1.0, -t],
        [0.0, 1.0, -t],
        [t, 0.0, -1.0],
        [t, 0.0, 1.0],
        [-t, 0.0, -1.0],
        [-t, 0.0, 1.0],
    ]
    .into_iter()
    .map(|v| Vec3::from_array(v).normalize())
    .collect();
    let mut triangles: Vec<[u32; 3]> = vec![
        [0, 11, 5],
        [0, 5, 1],
        [0, 1, 7],
        [0, 7, 10],
        [0, 10, 11],
        [1, 5, 9],
        [5, 11, 4],
        [11, 10, 2],
        [10, 7, 6],
        [7, 1, 8],
        [3, 9, 4],
        [3, 4, 2],
        [3, 2, 6],
        [3, 6, 8],
        [3, 8, 9],
        [4, 9, 5],
        [2, 4, 11],
        [6, 2, 10],
        [8, 6, 7],
        [9, 8, 1],
    ];
    for _ in 0..subdivisions {
        let mut midpoints: HashMap<(u32, u32), u32> = HashMap::new();
        let mut midpoint = |a: u32, b: u32, vertices: &mut Vec<Vec3>| {
            *midpoints.entry((a.min(b), a.max(b))).or_insert_with(|| {
                let m = ((vertices[a as usize] + vertices[b as usize]) * 0.5).normalize();
                vertices.push(m);
                vertices.len() as u32 - 1
            })
        };
        let mut next = Vec::with_capacity(triangles.len() * 4);
        for [a, b, c] in triangles {
            let ab = midpoint(a, b, &mut vertices);
            let bc = midpoint(b, c, &mut vertices);
            let ca = midpoint(c, a, &mut vertices);
            next.extend([[a, ab, ca], [b, bc, ab], [c, ca, bc], [ab, bc, ca]]);
        }
        triangles = next;
    }
    Mesh {
        vertices: vertices.into_iter().map(|v| (centre + v * radius).to_array()).collect(),
        triangles,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_outward_winding() {
        for s in 0..4 {
            let m = icosphere(s, 2.0, Vec3::new(1.0, 2.0, 3.0));
            assert_eq!(m.vertices.len(), 10 * 4usize.pow(s) + 2);
            assert_eq!(m.triangles.len(), 20 * 4usize.pow(s));
            for t in &m.triangles {
                let [a, b, c] = t.map(|i| Vec3::from_array(m.vertices[i as usize]));
                let outward = ((a + b + c) / 3.0 - Vec3::new(1.0, 2.0, 3.0)).normalize();
                assert!((b - a).cross(c - a).normalize().dot(outward) > 0.9);
                assert!(((a - Vec3::new(1.0, 2.0, 3.0)).length() - 2.0).abs() < 1e-5);
            }
        }
    }
}
