//! Saving meshes and per-vertex values: GIFTI round trips through our reader (and nibabel when
//! it is installed), OBJ and PLY parsed back.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use cortexlens_data::formats::{
    GiftiEncoding, MeshFormat, WriteError, save_mesh, save_mesh_as, save_vertex_values_gifti,
};
use cortexlens_data::mesh::{Mesh, vertex_maps};

fn fsaverage_pial() -> Mesh {
    let s = load_surf(&data_dir().join("surfaces/fsaverage5_pial_left.gii.gz"));
    Mesh::from_surface(&s).unwrap()
}

fn reload(path: &Path) -> Mesh {
    Mesh::from_surface(&load_surf(path)).unwrap()
}

#[test]
fn gifti_round_trip() {
    let dir = scratch("gifti_round_trip");
    let mesh = fsaverage_pial();
    for (file, format) in [
        ("zlib.gii", None),
        ("plain.gii", Some(MeshFormat::Gifti(GiftiEncoding::Base64))),
    ] {
        let path = dir.join(file);
        match format {
            None => save_mesh(&path, &mesh).unwrap(),
            Some(f) => save_mesh_as(&path, &mesh, f).unwrap(),
        }
        assert_eq!(reload(&path), mesh, "{file}");
        nibabel_check(&path, mesh.vertices.len(), mesh.triangles.len());
    }
    // Compressed is smaller.
    let size = |f: &str| std::fs::metadata(dir.join(f)).unwrap().len();
    assert!(size("zlib.gii") < size("plain.gii"));
    // An empty mesh round-trips too.
    let empty = dir.join("empty.gii");
    save_mesh(&empty, &Mesh::default()).unwrap();
    assert_eq!(reload(&empty), Mesh::default());
}

#[test]
fn vertex_values_round_trip() {
    let dir = scratch("vertex_values");
    let values: Vec<f32> = (0..10242).map(|i| (i as f32).sin() * 7.5).collect();
    let path = dir.join("values.gii");
    save_vertex_values_gifti(&path, &values).unwrap();
    let file = load_surf(&path);
    assert_eq!(file.arrays.len(), 1);
    assert_eq!(file.arrays[0].intent, "NIFTI_INTENT_SHAPE");
    assert_eq!(file.arrays[0].dims, vec![10242]);
    let maps = vertex_maps(&file);
    assert_eq!(maps.len(), 1);
    assert_eq!(maps[0].frames, vec![values]);
}

#[test]
fn obj_parses_back() {
    let dir = scratch("obj");
    let mesh = fsaverage_pial();
    let path = dir.join("pial.obj");
    save_mesh(&path, &mesh).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut parsed = Mesh::default();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("v") => {
                let v: Vec<f32> = words.map(|w| w.parse().unwrap()).collect();
                parsed.vertices.push([v[0], v[1], v[2]]);
            }
            Some("f") => {
                let f: Vec<u32> = words.map(|w| w.parse::<u32>().unwrap() - 1).collect();
                parsed.triangles.push([f[0], f[1], f[2]]);
            }
            Some("#") | None => {}
            Some(other) => panic!("unexpected OBJ line {other}"),
        }
    }
    assert_eq!(parsed, mesh, "f32 written in shortest round-trip form");
}

#[test]
fn ply_parses_back() {
    let dir = scratch("ply");
    let mesh = fsaverage_pial();
    let binary = dir.join("pial.ply");
    save_mesh(&binary, &mesh).unwrap();
    let bytes = std::fs::read(&binary).unwrap();
    let end = b"end_header\n";
    let body = bytes.windows(end.len()).position(|w| w == end).unwrap() + end.len();
    let header = std::str::from_utf8(&bytes[..body]).unwrap();
    assert!(header.contains("format binary_little_endian 1.0\n"));
    assert!(header.contains(&format!("element vertex {}\n", mesh.vertices.len())));
    assert!(header.contains(&format!("element face {}\n", mesh.triangles.len())));
    let data = &bytes[body..];
    assert_eq!(data.len(), mesh.vertices.len() * 12 + mesh.triangles.len() * 13);
    let f32_at = |o: usize| f32::from_le_bytes(data[o..o + 4].try_into().unwrap());
    let i32_at = |o: usize| i32::from_le_bytes(data[o..o + 4].try_into().unwrap());
    for (i, v) in mesh.vertices.iter().enumerate() {
        assert_eq!([f32_at(i * 12), f32_at(i * 12 + 4), f32_at(i * 12 + 8)], *v);
    }
    let faces = mesh.vertices.len() * 12;
    for (t, tri) in mesh.triangles.iter().enumerate() {
        let o = faces + t * 13;
        assert_eq!(data[o], 3);
        assert_eq!([i32_at(o + 1), i32_at(o + 5), i32_at(o + 9)], tri.map(|i| i as i32));
    }

    let ascii = dir.join("pial_ascii.ply");
    save_mesh_as(&ascii, &mesh, MeshFormat::PlyAscii).unwrap();
    let text = std::fs::read_to_string(&ascii).unwrap();
    let (_, body) = text.split_once("end_header\n").unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), mesh.vertices.len() + mesh.triangles.len());
    assert_eq!(lines[mesh.vertices.len()], {
        let [a, b, c] = mesh.triangles[0];
        format!("3 {a} {b} {c}")
    });
}

#[test]
fn write_errors_name_the_file() {
    let dir = scratch("write_errors");
    let e = save_mesh(&dir.join("mesh.stl"), &Mesh::default()).unwrap_err();
    assert!(matches!(e, WriteError::UnknownFormat { .. }));
    let missing = dir.join("no/such/folder/mesh.gii");
    let e = save_mesh(&missing, &Mesh::default()).unwrap_err();
    assert!(e.to_string().starts_with(&missing.display().to_string()), "{e}");
}

/// Reads the file with nibabel when `python3` has it; otherwise says so and checks nothing.
fn nibabel_check(path: &Path, vertices: usize, triangles: usize) {
    let script = "import sys, nibabel as nib\n\
        g = nib.load(sys.argv[1])\n\
        p, t = g.darrays\n\
        assert p.intent == 1008 and t.intent == 1009\n\
        assert t.data.max() < p.data.shape[0]\n\
        print(p.data.shape[0], t.data.shape[0])";
    let out = Command::new("python3").arg("-c").arg(script).arg(path).output();
    match out {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                text.trim(),
                format!("{vertices} {triangles}"),
                "nibabel read {}",
                path.display()
            );
        }
        Ok(out) if String::from_utf8_lossy(&out.stderr).contains("No module named 'nibabel'") => {
            println!("note: nibabel is not installed; {} not checked with it", path.display());
        }
        Ok(out) => panic!(
            "nibabel failed on {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => println!(
            "note: python3 not available ({e}); {} not checked with nibabel",
            path.display()
        ),
    }
}
