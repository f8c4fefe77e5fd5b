//! Generated meshes for tests and benchmarks.

use cortexlens_data::mesh::Mesh;
use glam::Vec3;

/// [`Mesh::icosphere`] scaled to `radius` and moved to `centre`: `10 · 4^s + 2` vertices and
/// `20 · 4^s` triangles (s = 5: 10,242, fsaverage5's count; s = 7: 163,842, fsaverage's), wound
/// counter-clockwise seen from outside.
pub fn icosphere(subdivisions: u32, radius: f32, centre: Vec3) -> Mesh {
    let mut mesh = Mesh::icosphere(subdivisions);
    for v in &mut mesh.vertices {
        *v = (centre + Vec3::from_array(*v) * radius).to_array();
    }
    mesh
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
