//! Regions of a mesh: a FreeSurfer label's vertices checked against a mesh ([`region_vertices`])
//! and the region's outline ([`Mesh::region_outline`]).

use super::{Mesh, MeshError};
use crate::formats::FreeSurferLabel;

/// The vertices of `label` on `mesh` (named `mesh_name` in errors), ascending and each once.
///
/// A label with volume points (vertex −1), without rows, or with a vertex number the mesh does
/// not have is an error naming the label and, for the last, the mesh and both numbers.
pub fn region_vertices(label: &FreeSurferLabel, mesh_name: &str, mesh: &Mesh) -> Result<Vec<u32>, MeshError> {
    let what = || label.name.clone();
    if label.has_volume_points() {
        return Err(MeshError::VolumeLabel { what: what() });
    }
    let Some((_, largest)) = label.vertex_range() else {
        return Err(MeshError::EmptyRegion { what: what() });
    };
    let vertices = mesh.vertices.len();
    if largest >= vertices as i64 {
        return Err(MeshError::RegionBeyondMesh {
            what: what(),
            vertex: largest,
            mesh: mesh_name.to_owned(),
            vertices,
        });
    }
    let mut region: Vec<u32> = label.vertices.iter().map(|&v| v as u32).collect();
    region.sort_unstable();
    region.dedup();
    Ok(region)
}

impl Mesh {
    /// The outline of a region (`region`: vertex indices, any order, repeats allowed): its
    /// vertices that share a triangle with a vertex outside it, ascending. A vertex only on the
    /// mesh's own border (a flat patch's cut) is not on the outline. Indices past the mesh are
    /// ignored.
    pub fn region_outline(&self, region: &[u32]) -> Vec<u32> {
        let n = self.vertices.len();
        let mut inside = vec![false; n];
        for &v in region {
            if let Some(slot) = inside.get_mut(v as usize) {
                *slot = true;
            }
        }
        let mut outline = vec![false; n];
        for tri in &self.triangles {
            let [a, b, c] = tri.map(|v| inside[v as usize]);
            if (a || b || c) && !(a && b && c) {
                for &v in tri {
                    if inside[v as usize] {
                        outline[v as usize] = true;
                    }
                }
            }
        }
        (0..n as u32).filter(|&v| outline[v as usize]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4×4 grid of vertices (v = i + 4j), two triangles per cell.
    fn grid() -> Mesh {
        let vertices = (0..16).map(|v| [(v % 4) as f32, (v / 4) as f32, 0.0]).collect();
        let mut triangles = Vec::new();
        for j in 0..3u32 {
            for i in 0..3u32 {
                let v = i + 4 * j;
                triangles.push([v, v + 1, v + 5]);
                triangles.push([v, v + 5, v + 4]);
            }
        }
        Mesh { vertices, triangles }
    }

    fn label(vertices: Vec<i64>) -> FreeSurferLabel {
        FreeSurferLabel {
            name: "lh.test.label".into(),
            coords: vec![[0.0; 3]; vertices.len()],
            values: vec![0.0; vertices.len()],
            vertices,
            ..FreeSurferLabel::default()
        }
    }

    #[test]
    fn outline_is_the_region_vertices_next_to_outside_ones() {
        let mesh = grid();
        // The 3×3 corner: 0, 1 and 4 lie on the mesh's border, with no neighbour outside the
        // region, and 5 is inside.
        let square = [10, 0, 1, 2, 4, 5, 6, 8, 9, 5];
        assert_eq!(mesh.region_outline(&square), [2, 6, 8, 9, 10]);
        let middle = [5, 6, 9, 10];
        assert_eq!(mesh.region_outline(&middle), middle);
        // The whole mesh has no outline (its border is the mesh's own); one vertex is its outline.
        let all: Vec<u32> = (0..16).collect();
        assert!(mesh.region_outline(&all).is_empty());
        assert_eq!(mesh.region_outline(&[5, 99]), [5]);
    }

    #[test]
    fn label_vertices_are_checked_against_the_mesh() {
        let mesh = grid();
        assert_eq!(
            region_vertices(&label(vec![5, 1, 5, 0]), "lh.grid", &mesh).unwrap(),
            [0, 1, 5]
        );
        let e = region_vertices(&label(vec![3, 16]), "lh.grid", &mesh).unwrap_err();
        assert_eq!(
            e.to_string(),
            "lh.test.label: vertex 16 but mesh lh.grid has 16 vertices (is the label of another surface?)"
        );
        assert!(matches!(
            region_vertices(&label(vec![-1, 2]), "m", &mesh),
            Err(MeshError::VolumeLabel { .. })
        ));
        assert!(matches!(
            region_vertices(&label(vec![]), "m", &mesh),
            Err(MeshError::EmptyRegion { .. })
        ));
    }
}
