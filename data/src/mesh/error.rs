//! Why a mesh or a per-vertex map cannot be used: every message names the files involved.

/// A mesh that cannot be built from a file, or a map or mesh that does not fit another mesh.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MeshError {
    /// The file has no vertex coordinates.
    #[error("{file}: no NIFTI_INTENT_POINTSET array (vertex coordinates): not a mesh")]
    NoPoints {
        /// File name.
        file: String,
    },
    /// The file has vertex coordinates but no triangles.
    #[error("{file}: no NIFTI_INTENT_TRIANGLE array: a point set without triangles is not a mesh")]
    NoTriangles {
        /// File name.
        file: String,
    },
    /// The coordinates or triangles are not an `[n, 3]` array.
    #[error("{file}: the {what} array has dimensions {dims:?}, expected [n, 3]")]
    BadShape {
        /// File name.
        file: String,
        /// Which array (`POINTSET`, `TRIANGLE`).
        what: &'static str,
        /// Its dimensions.
        dims: Vec<usize>,
    },
    /// A triangle refers to a vertex that does not exist.
    #[error("{file}: triangle {triangle} refers to vertex {index} but the mesh has {vertices} vertices")]
    BadIndex {
        /// File name.
        file: String,
        /// Index of the triangle.
        triangle: usize,
        /// The offending vertex index (as stored: any integer datatype).
        index: i128,
        /// Number of vertices.
        vertices: usize,
    },
    /// A per-vertex map has another number of values than the mesh has vertices.
    #[error("{what}: {count} values but mesh {mesh} has {expected} vertices")]
    VertexCountMismatch {
        /// The map (its name).
        what: String,
        /// Its number of values (per frame).
        count: usize,
        /// The mesh (its name).
        mesh: String,
        /// The mesh's number of vertices.
        expected: usize,
    },
    /// Two meshes meant to share vertices (geometries of one hemisphere, or the outer and inner
    /// surface of a projection) have different vertex counts.
    #[error(
        "{what}: {count} vertices but mesh {mesh} has {expected} (meshes of one surface must have the same vertices)"
    )]
    DifferentMeshes {
        /// The mesh being added (its name).
        what: String,
        /// Its number of vertices.
        count: usize,
        /// The mesh it must match (its name).
        mesh: String,
        /// That mesh's number of vertices.
        expected: usize,
    },
    /// A label has a vertex number its mesh does not have.
    #[error("{what}: vertex {vertex} but mesh {mesh} has {vertices} vertices (is the label of another surface?)")]
    RegionBeyondMesh {
        /// The label (its name).
        what: String,
        /// Its largest vertex number.
        vertex: i64,
        /// The mesh (its name).
        mesh: String,
        /// The mesh's number of vertices.
        vertices: usize,
    },
    /// A label names a hemisphere (`lh.`/`rh.`) of which no mesh is open.
    #[error("{what}: a {hemisphere} hemisphere label, but no {hemisphere} hemisphere mesh is open")]
    NoHemisphereMesh {
        /// The label (its name).
        what: String,
        /// `left` or `right`.
        hemisphere: &'static str,
    },
    /// A volume label (vertex numbers −1) has no vertices to show on a surface.
    #[error("{what}: a volume label (vertex numbers -1), not a region of a surface")]
    VolumeLabel {
        /// The label (its name).
        what: String,
    },
    /// A label without rows.
    #[error("{what}: the label holds no vertices")]
    EmptyRegion {
        /// The label (its name).
        what: String,
    },
    /// Per-vertex values were loaded but no mesh is there to show them on.
    #[error("{what}: per-vertex values, but no mesh is loaded to show them on (open a mesh first)")]
    NoMesh {
        /// The file or map (its name).
        what: String,
    },
}
