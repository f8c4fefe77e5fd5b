//! Saving volumes as NIfTI-1 single files (`.nii`, or gzip-compressed `.nii.gz`), f32 voxels.
//!
//! The header carries the affine as the sform (`sform_code` 2, aligned; stored as f32 like every
//! NIfTI-1 field) with no qform, the voxel sizes as the affine's column norms, and units of mm and
//! seconds. Frames are written one after another, `i` fastest, as [`Volume::data`] holds them.

use std::io::{self, Write};
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;

use super::mesh_writer::WriteError;
use crate::volume::Volume;

const HEADER_SIZE: usize = 348;
const VOX_OFFSET: usize = 352;
const DT_FLOAT32: i16 = 16;
const SFORM_ALIGNED: i16 = 2;
const UNITS_MM_SEC: u8 = 2 | 8;

/// Writes `volume` to `path` as NIfTI-1 f32; gzip-compressed when the name ends in `.gz`.
pub fn save_nifti(path: &Path, volume: &Volume) -> Result<(), WriteError> {
    let error = |source| WriteError::Io {
        file: path.display().to_string(),
        source,
    };
    let bytes = nifti1_bytes(volume).map_err(error)?;
    let gz = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.to_ascii_lowercase().ends_with(".gz"));
    if gz {
        let file = std::fs::File::create(path).map_err(error)?;
        let mut encoder = GzEncoder::new(io::BufWriter::new(file), Compression::fast());
        encoder.write_all(&bytes).map_err(error)?;
        encoder.finish().and_then(|mut w| w.flush()).map_err(error)
    } else {
        std::fs::write(path, bytes).map_err(error)
    }
}

/// The bytes of a NIfTI-1 single file holding `volume`.
fn nifti1_bytes(volume: &Volume) -> io::Result<Vec<u8>> {
    let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
    let [nx, ny, nz, nt] = volume.shape;
    if volume.shape.iter().any(|&d| d == 0 || d > i16::MAX as usize) {
        return Err(invalid(format!(
            "shape {:?} does not fit NIfTI-1's 16-bit dimensions",
            volume.shape
        )));
    }
    if volume.data.len() != nx * ny * nz * nt {
        return Err(invalid(format!(
            "{} values for shape {:?}",
            volume.data.len(),
            volume.shape
        )));
    }
    let mut h = vec![0u8; VOX_OFFSET];
    let put_i16 = |h: &mut [u8], at: usize, v: i16| h[at..at + 2].copy_from_slice(&v.to_le_bytes());
    let put_f32 = |h: &mut [u8], at: usize, v: f32| h[at..at + 4].copy_from_slice(&v.to_le_bytes());
    h[0..4].copy_from_slice(&(HEADER_SIZE as i32).to_le_bytes());
    h[38] = b'r';
    let ndim: i16 = if nt > 1 { 4 } else { 3 };
    for (i, d) in [ndim, nx as i16, ny as i16, nz as i16, nt as i16, 1, 1, 1]
        .into_iter()
        .enumerate()
    {
        put_i16(&mut h, 40 + 2 * i, d);
    }
    put_i16(&mut h, 70, DT_FLOAT32);
    put_i16(&mut h, 72, 32);
    let a = volume.affine;
    let zooms = [
        a.x_axis.truncate().length(),
        a.y_axis.truncate().length(),
        a.z_axis.truncate().length(),
    ];
    for (i, p) in [1.0, zooms[0], zooms[1], zooms[2], 1.0, 1.0, 1.0, 1.0]
        .into_iter()
        .enumerate()
    {
        put_f32(&mut h, 76 + 4 * i, p as f32);
    }
    put_f32(&mut h, 108, VOX_OFFSET as f32);
    put_f32(&mut h, 112, 1.0);
    h[123] = UNITS_MM_SEC;
    let description = b"cortexlens";
    h[148..148 + description.len()].copy_from_slice(description);
    put_i16(&mut h, 254, SFORM_ALIGNED);
    for row in 0..3 {
        for col in 0..4 {
            put_f32(&mut h, 280 + 16 * row + 4 * col, a.col(col)[row] as f32);
        }
    }
    h[344..348].copy_from_slice(b"n+1\0");
    h.reserve(volume.data.len() * 4);
    for v in &volume.data {
        h.extend_from_slice(&v.to_le_bytes());
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use glam::DMat4;

    use super::*;
    use crate::formats::{Loaded, load_path};

    fn volume(shape: [usize; 4]) -> Volume {
        let n = shape.iter().product::<usize>();
        Volume {
            name: "t".into(),
            shape,
            ndim: if shape[3] > 1 { 4 } else { 3 },
            zooms: vec![2.0, 3.0, 0.5],
            affine: DMat4::from_cols_array(&[
                0.0, 2.0, 0.0, 0.0, -3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 10.5, -20.25, 4.0, 1.0,
            ]),
            datatype: "float32".into(),
            scl_slope: 1.0,
            scl_inter: 0.0,
            data: (0..n)
                .map(|i| if i % 7 == 3 { f32::NAN } else { i as f32 * 0.25 - 3.0 })
                .collect(),
        }
    }

    #[test]
    fn round_trip_plain_and_gzip() {
        let dir = std::env::temp_dir().join(format!("cortexlens-nifti-writer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, shape) in [("a.nii", [3, 4, 2, 1]), ("b.nii.gz", [2, 3, 4, 5])] {
            let original = volume(shape);
            let path = dir.join(name);
            save_nifti(&path, &original).unwrap();
            let Loaded::Volume(back) = load_path(&path, &mut |_| {}).unwrap() else {
                panic!("{name} did not load as a volume");
            };
            assert_eq!(back.shape, original.shape, "{name}");
            assert_eq!(back.affine, original.affine, "{name}");
            assert_eq!(back.datatype, "float32");
            let same = back
                .data
                .iter()
                .zip(&original.data)
                .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
            assert!(same, "{name}: voxel values differ");
            assert_eq!(back.zooms[..3], [2.0, 3.0, 0.5]);
        }
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn rejects_volumes_nifti1_cannot_hold() {
        let mut v = volume([2, 2, 2, 1]);
        v.data.pop();
        assert!(nifti1_bytes(&v).is_err());
        let big = Volume {
            shape: [40000, 1, 1, 1],
            data: vec![0.0; 40000],
            ..volume([1, 1, 1, 1])
        };
        let err = save_nifti(Path::new("/nonexistent/x.nii"), &big).unwrap_err();
        assert!(err.to_string().contains("16-bit"), "{err}");
    }
}
