//! Generated meshes: the subdivided icosahedron (the topology of FreeSurfer's `ico` spheres
//! and of fsaverage: 10·4ᵏ + 2 vertices).

use std::collections::HashMap;

use super::Mesh;

impl Mesh {
    /// A unit sphere made by subdividing an icosahedron `subdivisions` times, each new vertex
    /// pushed out onto the sphere: `10·4ᵏ + 2` vertices and `20·4ᵏ` triangles, wound outwards
    /// (k = 5 gives fsaverage5's 10,242 vertices, k = 7 fsaverage's 163,842).
    pub fn icosphere(subdivisions: u32) -> Mesh {
        let t = (1.0 + 5f64.sqrt()) / 2.0;
        let mut vertices: Vec<[f64; 3]> = [
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
        .map(unit)
        .to_vec();
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
            let mut midpoints: HashMap<(u32, u32), u32> = HashMap::with_capacity(triangles.len() * 3 / 2);
            let mut midpoint = |a: u32, b: u32, vertices: &mut Vec<[f64; 3]>| {
                *midpoints.entry((a.min(b), a.max(b))).or_insert_with(|| {
                    let (p, q) = (vertices[a as usize], vertices[b as usize]);
                    vertices.push(unit([p[0] + q[0], p[1] + q[1], p[2] + q[2]]));
                    (vertices.len() - 1) as u32
                })
            };
            let mut next = Vec::with_capacity(triangles.len() * 4);
            for &[a, b, c] in &triangles {
                let ab = midpoint(a, b, &mut vertices);
                let bc = midpoint(b, c, &mut vertices);
                let ca = midpoint(c, a, &mut vertices);
                next.extend_from_slice(&[[a, ab, ca], [b, bc, ab], [c, ca, bc], [ab, bc, ca]]);
            }
            triangles = next;
        }
        Mesh {
            vertices: vertices.iter().map(|v| v.map(|c| c as f32)).collect(),
            triangles,
        }
    }
}

fn unit(v: [f64; 3]) -> [f64; 3] {
    let l = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    v.map(|c| c / l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_winding() {
        for k in 0..4 {
            let m = Mesh::icosphere(k);
            let f = 4usize.pow(k);
            assert_eq!(m.vertices.len(), 10 * f + 2);
            assert_eq!(m.triangles.len(), 20 * f);
            assert!(m.signed_volume() > 0.0, "wound outwards");
        }
        let m = Mesh::icosphere(4);
        let exact = 4.0 / 3.0 * std::f64::consts::PI;
        assert!((m.signed_volume() - exact).abs() / exact < 0.01);
    }
}
