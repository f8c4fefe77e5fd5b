//! FreeSurfer binary surfaces (`lh.pial`, `rh.white`, …) and curv/morph files (`lh.curv`,
//! `lh.sulc`, `lh.thickness`), read as nibabel's `read_geometry` and `read_morph_data` do.

use super::bytes::Cursor;
use crate::error::LoadError;
use crate::surface::{ArrayData, DataArray, SurfaceFile};

/// Magic of a triangle surface.
pub(crate) const TRIANGLE_MAGIC: u32 = 0xFF_FFFE;
/// Magic of an old quad surface (coordinates as `i16` hundredths) and of a new curv file.
pub(crate) const QUAD_MAGIC: u32 = 0xFF_FFFF;
/// Magic of a new quad surface (coordinates as `f32`).
pub(crate) const NEW_QUAD_MAGIC: u32 = 0xFF_FFFD;

/// What a FreeSurfer binary file holds, judged from its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Content {
    /// A triangle or quad surface.
    Surface,
    /// A new-format curv file (`0xFFFFFF`, then vertex count, face count, 1 value per vertex).
    Morph,
}

/// Tells surfaces from new-format curv files by their first bytes and the file length
/// (`QUAD_MAGIC` is shared: a curv file is exactly `15 + 4 × vertices` bytes with one value per vertex).
pub(crate) fn sniff(head: &[u8], len: u64) -> Option<Content> {
    let magic = Cursor::new(head).u24("magic").ok()?;
    match magic {
        TRIANGLE_MAGIC | NEW_QUAD_MAGIC => Some(Content::Surface),
        QUAD_MAGIC => {
            let mut c = Cursor::new(head.get(3..)?);
            let vnum = c.i32("vertex count").ok()?;
            let _faces = c.i32("face count").ok()?;
            let per_vertex = c.i32("values per vertex").ok()?;
            let curv = vnum >= 0 && per_vertex == 1 && len == 15 + 4 * vnum as u64;
            Some(if curv { Content::Morph } else { Content::Surface })
        }
        _ => None,
    }
}

fn count(v: i32, what: &str) -> Result<usize, LoadError> {
    usize::try_from(v).map_err(|_| LoadError::freesurfer(format!("{what} is negative ({v})")))
}

fn surface_file(name: &str, coords: Vec<f32>, faces: Vec<i32>) -> SurfaceFile {
    let (nv, nf) = (coords.len() / 3, faces.len() / 3);
    SurfaceFile {
        name: name.to_owned(),
        arrays: vec![
            DataArray {
                intent: "NIFTI_INTENT_POINTSET".into(),
                dims: vec![nv, 3],
                data: ArrayData::F32(coords),
                ..DataArray::default()
            },
            DataArray {
                intent: "NIFTI_INTENT_TRIANGLE".into(),
                dims: vec![nf, 3],
                data: ArrayData::I32(faces),
                ..DataArray::default()
            },
        ],
        labels: Vec::new(),
        meta: Vec::new(),
    }
}

/// Reads a triangle or quad surface into a POINTSET `[n, 3]` float32 and a TRIANGLE `[m, 3]` int32 array.
pub(crate) fn read_surface(bytes: &[u8], name: &str) -> Result<SurfaceFile, LoadError> {
    let mut c = Cursor::new(bytes);
    let magic = c.u24("surface magic")?;
    match magic {
        TRIANGLE_MAGIC => {
            c.line("creation stamp")?;
            c.line("blank line after the creation stamp")?;
            let nv = count(c.i32("vertex count")?, "vertex count")?;
            let nf = count(c.i32("face count")?, "face count")?;
            let need = (nv as u128 * 12) + (nf as u128 * 12);
            if need > c.remaining() as u128 {
                return Err(LoadError::truncated(format!(
                    "header claims {nv} vertices and {nf} triangles ({need} bytes), the file has {} bytes after the header",
                    c.remaining()
                )));
            }
            let coords = c.many::<4, f32>(nv * 3, "vertex coordinates", f32::from_be_bytes)?;
            let faces = c.many::<4, i32>(nf * 3, "triangles", i32::from_be_bytes)?;
            Ok(surface_file(name, coords, faces))
        }
        QUAD_MAGIC | NEW_QUAD_MAGIC => {
            let nv = c.u24("vertex count")? as usize;
            let nq = c.u24("quad count")? as usize;
            let coords = if magic == QUAD_MAGIC {
                c.many::<2, f32>(nv * 3, "vertex coordinates", |b| {
                    (f64::from(i16::from_be_bytes(b)) / 100.0) as f32
                })?
            } else {
                c.many::<4, f32>(nv * 3, "vertex coordinates", f32::from_be_bytes)?
            };
            let quads = c.many::<3, i32>(nq * 4, "quads", |[a, b, d]| {
                i32::from(a) << 16 | i32::from(b) << 8 | i32::from(d)
            })?;
            // nibabel's split of each quad into two triangles.
            let mut faces = Vec::with_capacity(nq * 6);
            for q in quads.chunks_exact(4) {
                if q[0] % 2 == 0 {
                    faces.extend_from_slice(&[q[0], q[1], q[3], q[2], q[3], q[1]]);
                } else {
                    faces.extend_from_slice(&[q[0], q[1], q[2], q[0], q[2], q[3]]);
                }
            }
            Ok(surface_file(name, coords, faces))
        }
        other => Err(LoadError::bad_magic(
            "FreeSurfer surface",
            format!("magic is 0x{other:06X}, expected 0xFFFFFE (triangles) or 0xFFFFFF/0xFFFFFD (quads)"),
        )),
    }
}

/// Reads a curv/morph file (new format, or old with `i16` hundredths) into one SHAPE float32 `[n]` array.
pub(crate) fn read_morph(bytes: &[u8], name: &str) -> Result<SurfaceFile, LoadError> {
    let mut c = Cursor::new(bytes);
    let magic = c.u24("curv magic")?;
    let values = if magic == QUAD_MAGIC {
        let nv = count(c.i32("vertex count")?, "vertex count")?;
        let _faces = c.i32("face count")?;
        let per_vertex = c.i32("values per vertex")?;
        if per_vertex != 1 {
            return Err(LoadError::freesurfer(format!(
                "{per_vertex} values per vertex; only 1 is supported"
            )));
        }
        c.many::<4, f32>(nv, "curvature values", f32::from_be_bytes)?
    } else {
        // Old format: the 3-byte "magic" is the vertex count, then a 3-byte face count.
        let nv = magic as usize;
        c.u24("face count")?;
        c.many::<2, f32>(nv, "curvature values", |b| {
            (f64::from(i16::from_be_bytes(b)) / 100.0) as f32
        })?
    };
    Ok(SurfaceFile {
        name: name.to_owned(),
        arrays: vec![DataArray {
            intent: "NIFTI_INTENT_SHAPE".into(),
            dims: vec![values.len()],
            data: ArrayData::F32(values),
            ..DataArray::default()
        }],
        labels: Vec::new(),
        meta: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triangle_file(nv: i32, nf: i32, coords: &[f32], faces: &[i32]) -> Vec<u8> {
        let mut b = vec![0xff, 0xff, 0xfe];
        b.extend_from_slice(b"created by test\n\n");
        b.extend_from_slice(&nv.to_be_bytes());
        b.extend_from_slice(&nf.to_be_bytes());
        coords.iter().for_each(|v| b.extend_from_slice(&v.to_be_bytes()));
        faces.iter().for_each(|v| b.extend_from_slice(&v.to_be_bytes()));
        b
    }

    #[test]
    fn triangles() {
        let b = triangle_file(3, 1, &[0., 1., 2., 3., 4., 5., 6., 7., 8.], &[0, 1, 2]);
        assert_eq!(sniff(&b, b.len() as u64), Some(Content::Surface));
        let s = read_surface(&b, "t").unwrap();
        assert_eq!(s.arrays[0].dims, [3, 3]);
        assert_eq!(s.arrays[1].data, ArrayData::I32(vec![0, 1, 2]));
        // A huge claim is refused before any allocation.
        let b = triangle_file(i32::MAX, i32::MAX, &[], &[]);
        assert!(matches!(read_surface(&b, "t"), Err(LoadError::Truncated { .. })));
        let b = triangle_file(-1, 0, &[], &[]);
        assert!(matches!(read_surface(&b, "t"), Err(LoadError::FreeSurfer { .. })));
    }

    #[test]
    fn quads_split_like_nibabel() {
        let mut b = vec![0xff, 0xff, 0xfd, 0, 0, 4, 0, 0, 1];
        for v in 0..12 {
            b.extend_from_slice(&(v as f32).to_be_bytes());
        }
        for q in [0u8, 1, 2, 3] {
            b.extend_from_slice(&[0, 0, q]);
        }
        let s = read_surface(&b, "q").unwrap();
        assert_eq!(s.arrays[1].data, ArrayData::I32(vec![0, 1, 3, 2, 3, 1]));
    }

    #[test]
    fn morph_new_and_old() {
        let mut b = vec![0xff, 0xff, 0xff];
        for v in [2i32, 0, 1] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend_from_slice(&1.5f32.to_be_bytes());
        b.extend_from_slice(&(-2f32).to_be_bytes());
        assert_eq!(sniff(&b, b.len() as u64), Some(Content::Morph));
        assert_eq!(
            read_morph(&b, "c").unwrap().arrays[0].data,
            ArrayData::F32(vec![1.5, -2.0])
        );
        let old = [0, 0, 2, 0, 0, 0, 0, 150, 0xff, 0x38];
        assert_eq!(
            read_morph(&old, "c").unwrap().arrays[0].data,
            ArrayData::F32(vec![1.5, -2.0])
        );
        assert!(matches!(read_morph(&b[..20], "c"), Err(LoadError::Truncated { .. })));
    }
}
