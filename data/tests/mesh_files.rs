//! Meshes of other tools (OBJ, STL, glTF) built in the test: vertex positions and triangles read
//! exactly, Slicer's `SPACE=LPS` converted, several meshes merged, glTF node transforms applied,
//! and malformed files refused with typed errors naming the file.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use cortexlens_data::formats::{load_surface, save_mesh};
use cortexlens_data::mesh::{GeometryKind, Hemisphere, Mesh, SurfaceRole, classify};
use cortexlens_data::{LoadError, Loaded, SurfaceFile};
use serde_json::{Value, json};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The file as a surface and as a mesh.
#[track_caller]
fn mesh_of(path: &Path) -> (SurfaceFile, Mesh) {
    let file = load_surf(path);
    let mesh = Mesh::from_surface(&file).unwrap_or_else(|e| panic!("{e}"));
    (file, mesh)
}

fn v(x: f32, y: f32, z: f32) -> [f32; 3] {
    [x, y, z]
}

// ---------------------------------------------------------------------------------------------
// OBJ

/// A unit cube of 12 outward triangles. wavefront_obj turns a face `f a b c` into the triangle
/// `(c, a, b)` (same winding).
const CUBE_OBJ: &str = "\
# a unit cube
mtllib cube_materials_that_do_not_exist.mtl
o cube
v 0 0 0 1 0 0
v 1 1 0
v 1 0 0
v 0 1 0
v 0 0 1
v 1 0 1
v 1 1 1
v 0 1 1
usemtl grey
s off
f 2 3 1
f 4 2 1
f 6 7 5
f 7 8 5
f 3 6 1
f 6 5 1
f 8 7 4
f 7 2 4
f 5 8 1
f 8 4 1
f 2 7 3
f 7 6 3
";

#[test]
fn obj_cube_exactly() {
    let dir = scratch("obj-cube");
    let (file, mesh) = mesh_of(&write(&dir, "cube.obj", CUBE_OBJ.as_bytes()));
    assert_eq!(
        mesh.vertices,
        vec![
            v(0., 0., 0.),
            v(1., 1., 0.),
            v(1., 0., 0.),
            v(0., 1., 0.),
            v(0., 0., 1.),
            v(1., 0., 1.),
            v(1., 1., 1.),
            v(0., 1., 1.)
        ]
    );
    assert_eq!(
        mesh.triangles,
        vec![
            [0, 1, 2],
            [0, 3, 1],
            [4, 5, 6],
            [4, 6, 7],
            [0, 2, 5],
            [0, 5, 4],
            [3, 7, 6],
            [3, 6, 1],
            [0, 4, 7],
            [0, 7, 3],
            [2, 1, 6],
            [2, 6, 5]
        ]
    );
    assert!((mesh.signed_volume() - 1.0).abs() < 1e-12, "wound outwards");
    assert!((mesh.area() - 6.0).abs() < 1e-12);
    // The same shape as a GIFTI mesh: one POINTSET, one TRIANGLE array.
    assert_eq!(file.arrays.len(), 2);
    assert_eq!(file.arrays[0].dims, vec![8, 3]);
    assert_eq!(file.arrays[1].dims, vec![12, 3]);
    assert_eq!(file.meta_value("SourceFormat"), Some("OBJ"));
    assert_eq!(file.meta_value("SourceSpace"), Some("not stated (taken as RAS)"));
    assert_eq!(
        classify(&file.name, &file),
        SurfaceRole::Mesh {
            hemisphere: None,
            geometry: GeometryKind::Other
        }
    );
    // gzip is undone on the way, as for every format.
    let (_, gz) = mesh_of(&write(&dir, "cube.obj.gz", &gzip(CUBE_OBJ.as_bytes())));
    assert_eq!(gz, mesh);
}

/// Vertices keep the file's order — an unused one included, faces that use them in another order,
/// normals that differ per corner — so a per-vertex map written for the file lines up.
#[test]
fn obj_keeps_the_files_vertex_order() {
    let obj = "v 0 0 0\nv 5 5 5\nv 1 0 0\nv 0 1 0\nvn 0 0 1\nvn 0 0 -1\nf 4//1 3//2 1//1\n";
    let dir = scratch("obj-order");
    let (_, mesh) = mesh_of(&write(&dir, "order.obj", obj.as_bytes()));
    assert_eq!(
        mesh.vertices,
        vec![v(0., 0., 0.), v(5., 5., 5.), v(1., 0., 0.), v(0., 1., 0.)]
    );
    assert_eq!(mesh.triangles, vec![[0, 3, 2]]);
}

#[test]
fn obj_from_slicer_in_lps_merges_materials() {
    // As 3D Slicer's OBJ exporter writes it (comment, mtllib, vertices, a group per part), with
    // two materials, normals, a vertex no face uses and a quad.
    let obj = "\
#  3D Slicer output. SPACE=LPS

mtllib lh_electrode.mtl

v 1 2 3
v 9 9 9
v 4 5 6
v 7 8 9
v -1 -2 -3
vn 0 0 1

g grp1
usemtl mtl1
f 3 1 4
usemtl mtl2
f 1//1 5//1 3//1 4//1
";
    let dir = scratch("obj-slicer");
    let (file, mesh) = mesh_of(&write(&dir, "lh_electrode.obj", obj.as_bytes()));
    // Vertices in the file's order, the unused (9, 9, 9) kept; the face 3 1 4 is the triangle
    // 4 3 1, the quad 1 5 3 4 the fan 4 1 5, 4 5 3. LPS → RAS negates x and y.
    assert_eq!(
        mesh.vertices,
        vec![
            v(-1., -2., 3.),
            v(-9., -9., 9.),
            v(-4., -5., 6.),
            v(-7., -8., 9.),
            v(1., 2., -3.),
        ]
    );
    assert_eq!(mesh.triangles, vec![[3, 2, 0], [3, 0, 4], [3, 4, 2]]);
    assert_eq!(file.meta_value("SourceSpace"), Some("LPS (converted to RAS)"));
    assert_eq!(
        classify(&file.name, &file),
        SurfaceRole::Mesh {
            hemisphere: Some(Hemisphere::Left),
            geometry: GeometryKind::Other
        }
    );
    // SPACE=RAS wins over SPACE=LPS (Slicer's rule), and only the comments before the first
    // vertex count.
    let ras = "# SPACE=LPS SPACE=RAS\nv 1 2 3\nv 4 5 6\nv 7 8 9\n# SPACE=LPS\nf 1 2 3\n";
    let (file, mesh) = mesh_of(&write(&dir, "ras.obj", ras.as_bytes()));
    assert_eq!(mesh.vertices, vec![v(1., 2., 3.), v(4., 5., 6.), v(7., 8., 9.)]);
    assert_eq!(file.meta_value("SourceSpace"), Some("RAS"));
}

#[test]
fn obj_export_reads_back() {
    // cortexlens' own OBJ export (no space stated: RAS) reads back as the same vertices and the
    // same triangles, each starting at another corner (see CUBE_OBJ).
    let mesh = Mesh {
        vertices: vec![v(-1.5, 2.25, 3.), v(10., 0., -4.), v(0., 7.5, 1.), v(3., 3., 3.)],
        triangles: vec![[3, 1, 2], [0, 2, 1], [0, 1, 3]],
    };
    let dir = scratch("obj-export");
    let path = dir.join("iso.obj");
    save_mesh(&path, &mesh).unwrap();
    let (_, back) = mesh_of(&path);
    let corners = |m: &Mesh| -> Vec<[[f32; 3]; 3]> {
        m.triangles
            .iter()
            .map(|t| {
                let mut c = t.map(|i| m.vertices[i as usize]);
                // The same triangle with the same winding, whatever corner it starts at.
                let first = (0..3).min_by(|&a, &b| c[a].partial_cmp(&c[b]).unwrap()).unwrap();
                c.rotate_left(first);
                c
            })
            .collect()
    };
    assert_eq!(corners(&back), corners(&mesh));
    assert_eq!(back.vertices, mesh.vertices, "the same vertices in the same order");
}

// ---------------------------------------------------------------------------------------------
// STL

/// A tetrahedron wound outwards, offset from the origin.
const TETRA: [[f32; 3]; 4] = [[10., 20., 30.], [14., 20., 30.], [10., 24., 30.], [10., 20., 34.]];
const TETRA_TRIANGLES: [[usize; 3]; 4] = [[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]];

/// stl_io numbers the vertices of an STL in the order the triangles first use them.
fn tetra_as_read(flip: bool) -> (Vec<[f32; 3]>, Vec<[u32; 3]>) {
    let s = |p: [f32; 3]| if flip { [-p[0], -p[1], p[2]] } else { p };
    (
        vec![s(TETRA[0]), s(TETRA[2]), s(TETRA[1]), s(TETRA[3])],
        vec![[0, 1, 2], [0, 2, 3], [0, 3, 1], [2, 1, 3]],
    )
}

fn stl_binary(header: &str, triangles: &[[[f32; 3]; 3]]) -> Vec<u8> {
    let mut out = vec![b' '; 80];
    out[..header.len()].copy_from_slice(header.as_bytes());
    out.extend_from_slice(&(triangles.len() as u32).to_le_bytes());
    for t in triangles {
        out.extend_from_slice(&[0u8; 12]);
        for p in t {
            for c in p {
                out.extend_from_slice(&c.to_le_bytes());
            }
        }
        out.extend_from_slice(&[0, 0]);
    }
    out
}

fn stl_ascii(first_line: &str, triangles: &[[[f32; 3]; 3]]) -> String {
    let mut s = format!("{first_line}\n");
    for t in triangles {
        s.push_str("  facet normal 0 0 0\n    outer loop\n");
        for p in t {
            s.push_str(&format!("      vertex {} {} {}\n", p[0], p[1], p[2]));
        }
        s.push_str("    endloop\n  endfacet\n");
    }
    s.push_str("endsolid\n");
    s
}

fn tetra_triangles(offset: f32) -> Vec<[[f32; 3]; 3]> {
    TETRA_TRIANGLES
        .iter()
        .map(|t| t.map(|i| TETRA[i].map(|c| c + offset)))
        .collect()
}

#[test]
fn stl_binary_and_ascii_tetrahedra() {
    let dir = scratch("stl");
    let tris = tetra_triangles(0.0);
    for (name, bytes, flip, source) in [
        (
            "plain.stl",
            stl_binary("exported by a CAD tool", &tris),
            false,
            "STL (binary)",
        ),
        // A binary file whose header starts like an ASCII one: told apart by its length.
        ("solid.stl", stl_binary("solid part-1", &tris), false, "STL (binary)"),
        (
            "slicer.stl",
            stl_binary("3D Slicer output. SPACE=LPS", &tris),
            true,
            "STL (binary)",
        ),
        (
            "ascii.stl",
            stl_ascii("solid tetra", &tris).into_bytes(),
            false,
            "STL (ASCII)",
        ),
        ("bare.stl", stl_ascii("solid", &tris).into_bytes(), false, "STL (ASCII)"),
        (
            "slicer_ascii.stl",
            stl_ascii("solid 3D Slicer output. SPACE=LPS", &tris).into_bytes(),
            true,
            "STL (ASCII)",
        ),
        (
            "ras.stl",
            stl_binary("SPACE=LPS but also SPACE=RAS", &tris),
            false,
            "STL (binary)",
        ),
    ] {
        let (file, mesh) = mesh_of(&write(&dir, name, &bytes));
        let (vertices, triangles) = tetra_as_read(flip);
        assert_eq!(mesh.vertices, vertices, "{name}");
        assert_eq!(mesh.triangles, triangles, "{name}");
        assert!(
            (mesh.signed_volume() - 64.0 / 6.0).abs() < 1e-9,
            "{name}: wound outwards"
        );
        assert_eq!(file.meta_value("SourceFormat"), Some(source), "{name}");
        let space = if flip { "LPS (converted to RAS)" } else { "RAS" };
        if name.contains("slicer") || name == "ras.stl" {
            assert_eq!(file.meta_value("SourceSpace"), Some(space), "{name}");
        }
    }
}

#[test]
fn stl_ascii_solids_merge() {
    let dir = scratch("stl-solids");
    let two = format!(
        "{}{}",
        stl_ascii("solid first", &tetra_triangles(0.0)),
        stl_ascii("solid second", &tetra_triangles(100.0))
    );
    let (_, mesh) = mesh_of(&write(&dir, "two.stl", two.as_bytes()));
    let (first, triangles) = tetra_as_read(false);
    let second: Vec<[f32; 3]> = first.iter().map(|p| p.map(|c| c + 100.0)).collect();
    assert_eq!(mesh.vertices, [first, second].concat());
    let shifted: Vec<[u32; 3]> = triangles.iter().map(|t| t.map(|i| i + 4)).collect();
    assert_eq!(mesh.triangles, [triangles, shifted].concat());
}

// ---------------------------------------------------------------------------------------------
// glTF

const TETRA_GLTF: [[f32; 3]; 4] = [[0., 0., 0.], [4., 0., 0.], [0., 4., 0.], [0., 0., 4.]];

fn f32_bytes(values: &[[f32; 3]]) -> Vec<u8> {
    values.iter().flatten().flat_map(|c| c.to_le_bytes()).collect()
}

/// The tetrahedron's buffer: 4 positions (48 bytes), then 12 u16 indices (24 bytes), then a
/// lone triangle's 3 positions (36 bytes).
fn tetra_buffer() -> Vec<u8> {
    let mut b = f32_bytes(&TETRA_GLTF);
    for i in TETRA_TRIANGLES.iter().flatten() {
        b.extend_from_slice(&(*i as u16).to_le_bytes());
    }
    b.extend(f32_bytes(&[[0., 0., 50.], [1., 0., 50.], [0., 1., 50.]]));
    b
}

/// A glTF document over [`tetra_buffer`]: mesh 0 is the indexed tetrahedron (with a material whose
/// texture does not exist), mesh 1 a non-indexed triangle plus a line primitive.
fn tetra_doc(buffer: Value, nodes: Value, scenes: Option<Value>) -> Value {
    let mut doc = json!({
        "asset": {"version": "2.0"},
        "buffers": [buffer],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": 48},
            {"buffer": 0, "byteOffset": 48, "byteLength": 24},
            {"buffer": 0, "byteOffset": 72, "byteLength": 36}
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3", "min": [0, 0, 0], "max": [4, 4, 4]},
            {"bufferView": 1, "componentType": 5123, "count": 12, "type": "SCALAR"},
            {"bufferView": 2, "componentType": 5126, "count": 3, "type": "VEC3"}
        ],
        "materials": [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}],
        "textures": [{"source": 0}],
        "images": [{"uri": "no_such_texture.png"}],
        "meshes": [
            {"primitives": [{"attributes": {"POSITION": 0, "NORMAL": 0}, "indices": 1, "material": 0}]},
            {"primitives": [
                {"attributes": {"POSITION": 2}},
                {"attributes": {"POSITION": 2}, "mode": 1}
            ]}
        ],
        "nodes": nodes
    });
    if let Some(scenes) = scenes {
        doc["scenes"] = scenes;
        doc["scene"] = json!(0);
    }
    doc
}

fn glb(doc: &Value, bin: &[u8]) -> Vec<u8> {
    let mut json = serde_json::to_vec(doc).unwrap();
    while !json.len().is_multiple_of(4) {
        json.push(b' ');
    }
    let mut bin = bin.to_vec();
    while !bin.len().is_multiple_of(4) {
        bin.push(0);
    }
    let total = 12 + 8 + json.len() + 8 + bin.len();
    let mut out = b"glTF".to_vec();
    for n in [2, total as u32, json.len() as u32, 0x4E4F_534A] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    out.extend_from_slice(&json);
    out.extend_from_slice(&(bin.len() as u32).to_le_bytes());
    out.extend_from_slice(&0x004E_4942u32.to_le_bytes());
    out.extend_from_slice(&bin);
    out
}

fn translated(points: &[[f32; 3]], t: [f32; 3]) -> Vec<[f32; 3]> {
    points.iter().map(|p| [p[0] + t[0], p[1] + t[1], p[2] + t[2]]).collect()
}

#[test]
fn glb_with_a_node_translation() {
    let dir = scratch("glb");
    let nodes = json!([{"mesh": 0, "translation": [10, -20, 30.5]}]);
    let doc = tetra_doc(json!({"byteLength": 108}), nodes, Some(json!([{"nodes": [0]}])));
    let (file, mesh) = mesh_of(&write(&dir, "implant.glb", &glb(&doc, &tetra_buffer())));
    assert_eq!(mesh.vertices, translated(&TETRA_GLTF, [10., -20., 30.5]));
    assert_eq!(mesh.triangles, TETRA_TRIANGLES.map(|t| t.map(|i| i as u32)).to_vec());
    assert!((mesh.signed_volume() - 64.0 / 6.0).abs() < 1e-9);
    assert_eq!(file.meta_value("SourceFormat"), Some("GLB"));
    assert_eq!(file.meta_value("SourceSpace"), Some("not stated (taken as RAS)"));
    // A GLB is recognised by its magic whatever its name.
    let (_, renamed) = mesh_of(&write(&dir, "implant.model", &glb(&doc, &tetra_buffer())));
    assert_eq!(renamed, mesh);
}

#[test]
fn gltf_with_buffer_file_hierarchy_and_several_meshes() {
    let dir = scratch("gltf");
    write(&dir, "tetra data.bin", &tetra_buffer());
    // Node 0 translates, its child node 1 scales and holds the tetrahedron; node 2 holds mesh 1,
    // whose line primitive is skipped. The scene is the default one (1), not the first.
    let nodes = json!([
        {"translation": [1, 0, 0], "children": [1]},
        {"scale": [2, 2, 2], "mesh": 0},
        {"mesh": 1}
    ]);
    let scenes = json!([{"nodes": [2]}, {"nodes": [0, 2]}]);
    let mut doc = tetra_doc(
        json!({"byteLength": 108, "uri": "tetra%20data.bin"}),
        nodes.clone(),
        Some(scenes),
    );
    doc["scene"] = json!(1);
    let (file, mesh) = mesh_of(&write(&dir, "parts.gltf", &serde_json::to_vec(&doc).unwrap()));
    let tetra: Vec<[f32; 3]> = TETRA_GLTF
        .iter()
        .map(|p| [2. * p[0] + 1., 2. * p[1], 2. * p[2]])
        .collect();
    let lone = vec![v(0., 0., 50.), v(1., 0., 50.), v(0., 1., 50.)];
    assert_eq!(mesh.vertices, [tetra, lone.clone()].concat());
    let mut triangles = TETRA_TRIANGLES.map(|t| t.map(|i| i as u32)).to_vec();
    triangles.push([4, 5, 6]);
    assert_eq!(mesh.triangles, triangles);
    assert_eq!(file.meta_value("SourceFormat"), Some("glTF"));

    // The same buffer in a data URI; without scenes every root node (0 and 2) is drawn.
    use base64::Engine;
    let uri = format!(
        "data:application/octet-stream;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(tetra_buffer())
    );
    let doc = tetra_doc(json!({"byteLength": 108, "uri": uri}), nodes, None);
    let (_, embedded) = mesh_of(&write(&dir, "embedded.gltf", &serde_json::to_vec(&doc).unwrap()));
    assert_eq!(embedded, mesh);

    // Only the lone triangle: the POSITION accessor without min/max (which some exporters omit).
    let mut doc = tetra_doc(json!({"byteLength": 108, "uri": uri}), json!([{"mesh": 1}]), None);
    doc["accessors"][2].as_object_mut().unwrap().remove("min");
    let (_, lone_mesh) = mesh_of(&write(&dir, "lone.gltf", &serde_json::to_vec(&doc).unwrap()));
    assert_eq!(lone_mesh.vertices, lone);
    assert_eq!(lone_mesh.triangles, vec![[0, 1, 2]]);
}

// ---------------------------------------------------------------------------------------------
// Malformed files

#[test]
fn truncated_binary_stl_does_not_allocate_the_claim() {
    let dir = scratch("stl-truncated");
    let mut bytes = stl_binary("big", &tetra_triangles(0.0));
    bytes[80..84].copy_from_slice(&u32::MAX.to_le_bytes());
    let e = load_err(&write(&dir, "claims.stl", &bytes));
    assert!(matches!(e, LoadError::Truncated { .. }), "{e}");
    assert!(e.to_string().contains("4294967295 triangles"), "{e}");
    // Cut inside the triangles, and inside the header.
    let whole = stl_binary("cut", &tetra_triangles(0.0));
    for cut in [whole.len() - 1, 100, 83, 10] {
        let e = load_err(&write(&dir, "cut.stl", &whole[..cut]));
        assert!(matches!(e, LoadError::Truncated { .. }), "cut at {cut}: {e}");
    }
}

#[test]
fn no_triangles_is_an_error_naming_the_file() {
    let dir = scratch("no-triangles");
    for (name, bytes) in [
        ("lines.obj", b"v 0 0 0\nv 1 0 0\nl 1 2\n".to_vec()),
        ("points.obj", b"# nothing but a vertex\nv 0 0 0\n".to_vec()),
        ("zero.stl", stl_binary("no facets", &[])),
        ("empty_solid.stl", b"solid nothing\nendsolid nothing\n".to_vec()),
    ] {
        let e = load_err(&write(&dir, name, &bytes));
        assert!(matches!(e, LoadError::NoTriangles { .. }), "{name}: {e}");
        assert!(e.to_string().starts_with(name), "{e}");
    }
    let lines_only = tetra_doc(json!({"byteLength": 108}), json!([{"mesh": 1}]), None);
    let mut doc = lines_only;
    doc["meshes"][1]["primitives"] = json!([{"attributes": {"POSITION": 2}, "mode": 0}]);
    let e = load_err(&write(&dir, "points.glb", &glb(&doc, &tetra_buffer())));
    assert!(matches!(e, LoadError::NoTriangles { .. }), "{e}");
}

#[test]
fn bad_indices_and_coordinates_are_typed_errors() {
    let dir = scratch("bad-mesh");
    // OBJ: wavefront_obj refuses an index out of range, with its line.
    let e = load_err(&write(&dir, "index.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n"));
    assert!(matches!(e, LoadError::Mesh { format: "OBJ", .. }), "{e}");
    assert!(e.to_string().contains("line 4"), "{e}");
    // glTF: index 7 of a 4-vertex mesh.
    let mut buffer = tetra_buffer();
    buffer[48 + 2 * 5..48 + 2 * 6].copy_from_slice(&7u16.to_le_bytes());
    let doc = tetra_doc(json!({"byteLength": 108}), json!([{"mesh": 0}]), None);
    let e = load_err(&write(&dir, "index.glb", &glb(&doc, &buffer)));
    assert!(
        matches!(
            e,
            LoadError::VertexIndex {
                triangle: 1,
                index: 7,
                vertices: 4,
                ..
            }
        ),
        "{e}"
    );
    // Non-finite vertices: NaN, and values beyond float32 once read or once transformed.
    let mut tris = tetra_triangles(0.0);
    tris[2][1][0] = f32::NAN;
    let e = load_err(&write(&dir, "nan.stl", &stl_binary("nan", &tris)));
    assert!(matches!(e, LoadError::NonFiniteVertex { .. }), "{e}");
    // (Vertices count in reading order: the face 2 3 1 is the triangle 1 2 3.)
    let e = load_err(&write(&dir, "nan.obj", b"v 0 0 0\nv nan 0 0\nv 0 1 0\nf 2 3 1\n"));
    assert!(matches!(e, LoadError::NonFiniteVertex { vertex: 1, .. }), "{e}");
    let e = load_err(&write(&dir, "huge.obj", b"v 0 0 0\nv 1e39 0 0\nv 0 1 0\nf 2 3 1\n"));
    assert!(matches!(e, LoadError::NonFiniteVertex { vertex: 1, .. }), "{e}");
    let doc = tetra_doc(
        json!({"byteLength": 108}),
        json!([{"mesh": 0, "scale": [1e38, 1, 1]}]),
        None,
    );
    let e = load_err(&write(&dir, "scaled.glb", &glb(&doc, &tetra_buffer())));
    assert!(matches!(e, LoadError::NonFiniteVertex { vertex: 1, .. }), "{e}");
}

#[test]
fn malformed_gltf() {
    let dir = scratch("bad-gltf");
    let nodes = json!([{"mesh": 0}]);
    let good = tetra_doc(json!({"byteLength": 108}), nodes.clone(), None);
    let check = |name: &str, doc: &Value, bin: &[u8], ok: &dyn Fn(&LoadError) -> bool| {
        let e = load_err(&write(&dir, name, &glb(doc, bin)));
        assert!(ok(&e), "{name}: {e}");
    };
    // An accessor that claims a billion vertices is refused before anything is read.
    let mut doc = good.clone();
    doc["accessors"][0]["count"] = json!(1_000_000_000u64);
    check("count.glb", &doc, &tetra_buffer(), &|e| {
        matches!(e, LoadError::Mesh { .. })
    });
    // A buffer shorter than it says, a view beyond its buffer.
    check("short.glb", &good, &tetra_buffer()[..60], &|e| {
        matches!(e, LoadError::Truncated { .. })
    });
    let mut doc = good.clone();
    doc["bufferViews"][1]["byteOffset"] = json!(100);
    check("view.glb", &doc, &tetra_buffer(), &|e| {
        matches!(e, LoadError::Truncated { .. })
    });
    // Wrong accessor types, sparse accessors, strips, compression, a missing scene.
    let mut doc = good.clone();
    doc["accessors"][0]["componentType"] = json!(5123);
    check("type.glb", &doc, &tetra_buffer(), &|e| {
        matches!(e, LoadError::Mesh { .. })
    });
    let mut doc = good.clone();
    doc["accessors"][1]["sparse"] = json!({"count": 1});
    check("sparse.glb", &doc, &tetra_buffer(), &|e| {
        matches!(e, LoadError::UnsupportedDatatype { .. })
    });
    let mut doc = good.clone();
    doc["meshes"][0]["primitives"][0]["mode"] = json!(5);
    check("strip.glb", &doc, &tetra_buffer(), &|e| {
        matches!(e, LoadError::UnsupportedDatatype { .. })
    });
    let mut doc = good.clone();
    doc["extensionsRequired"] = json!(["KHR_draco_mesh_compression"]);
    check("draco.glb", &doc, &tetra_buffer(), &|e| {
        matches!(e, LoadError::UnsupportedDatatype { .. })
    });
    let mut doc = good.clone();
    doc["scenes"] = json!([{"nodes": [0]}]);
    doc["scene"] = json!(3);
    check("scene.glb", &doc, &tetra_buffer(), &|e| {
        matches!(e, LoadError::Mesh { .. })
    });
    // A cycle and a chain deeper than three-d-asset should walk.
    let mut doc = good.clone();
    doc["nodes"] = json!([{"mesh": 0, "children": [1]}, {"children": [0]}]);
    doc["scenes"] = json!([{"nodes": [0]}]);
    check("cycle.glb", &doc, &tetra_buffer(), &|e| {
        matches!(e, LoadError::Mesh { .. })
    });
    let mut doc = good.clone();
    let chain: Vec<Value> = (0..1000)
        .map(|i| json!({"children": [i + 1]}))
        .chain([json!({"mesh": 0})])
        .collect();
    doc["nodes"] = Value::Array(chain);
    doc["scenes"] = json!([{"nodes": [0]}]);
    check("deep.glb", &doc, &tetra_buffer(), &|e| {
        matches!(e, LoadError::Mesh { .. })
    });
    // Not JSON; a GLB whose header claims more than the file holds.
    let e = load_err(&write(&dir, "junk.gltf", b"{ not json"));
    assert!(matches!(e, LoadError::Mesh { .. }), "{e}");
    let mut bytes = glb(&good, &tetra_buffer());
    bytes.truncate(bytes.len() - 8);
    let e = load_err(&write(&dir, "cut.glb", &bytes));
    assert!(matches!(e, LoadError::Truncated { .. }), "{e}");
    // A missing buffer file is an error about that file; a web address is not fetched.
    let doc = tetra_doc(json!({"byteLength": 108, "uri": "missing.bin"}), nodes.clone(), None);
    let e = load_err(&write(&dir, "missing.gltf", &serde_json::to_vec(&doc).unwrap()));
    assert!(matches!(e, LoadError::Io { .. }) && e.file() == "missing.bin", "{e}");
    let doc = tetra_doc(
        json!({"byteLength": 108, "uri": "https://example.org/b.bin"}),
        nodes,
        None,
    );
    let e = load_err(&write(&dir, "web.gltf", &serde_json::to_vec(&doc).unwrap()));
    assert!(matches!(e, LoadError::Mesh { .. }), "{e}");
}

/// Cuts and flipped bytes of every generated file: an error or a mesh, never a panic or a hang.
#[test]
fn corrupted_mesh_files_never_panic() {
    let dir = scratch("mesh-fuzz");
    let doc = tetra_doc(json!({"byteLength": 108}), json!([{"mesh": 0}]), None);
    let tris = tetra_triangles(0.0);
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("cube.obj", CUBE_OBJ.as_bytes().to_vec()),
        ("tetra.stl", stl_binary("3D Slicer output. SPACE=LPS", &tris)),
        ("ascii.stl", stl_ascii("solid t", &tris).into_bytes()),
        ("tetra.glb", glb(&doc, &tetra_buffer())),
        ("tetra.gltf", {
            use base64::Engine;
            let uri = format!(
                "data:application/octet-stream;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(tetra_buffer())
            );
            let doc = tetra_doc(json!({"byteLength": 108, "uri": uri}), json!([{"mesh": 0}]), None);
            serde_json::to_vec(&doc).unwrap()
        }),
    ];
    for (name, bytes) in &files {
        let path = dir.join(name);
        for cut in (0..bytes.len()).step_by((bytes.len() / 60).max(1)) {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let _ = load_without_hang(&path);
        }
        for i in (0..bytes.len()).step_by((bytes.len() / 120).max(1)) {
            for flip in [0x01, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[i] ^= flip;
                std::fs::write(&path, &b).unwrap();
                if let Ok(Loaded::Surface(s)) = load_without_hang(&path) {
                    // Whatever loads is a valid mesh.
                    Mesh::from_surface(&s).unwrap_or_else(|e| panic!("{name} byte {i}: {e}"));
                }
            }
        }
    }
    // And the untouched files still load as surfaces.
    for (name, bytes) in &files {
        assert!(load_surface(&write(&dir, name, bytes), &mut |_| {}).is_ok(), "{name}");
    }
}
