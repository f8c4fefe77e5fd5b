//! Saving volumes as NIfTI-1 single files (`.nii`, or gzip-compressed `.nii.gz`): f32 voxels, or
//! uint8/int16 labels (a drawn region).
//!
//! A volume read from NIfTI keeps its header's spatial fields ([`Volume::nifti_space`]: qform and
//! sform with their codes, qfac, voxel sizes, units), so that nibabel reads the same affine and
//! codes back. Any other volume gets its affine as the sform (`sform_code` 2, aligned; stored as
//! f32 like every NIfTI-1 field) with no qform, the voxel sizes as the affine's column norms, and
//! units of mm and seconds. Frames are written one after another, `i` fastest, as
//! [`Volume::data`] holds them.

use std::io::{self, Write};
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;

use super::mesh_writer::WriteError;
use crate::volume::{NiftiSpace, Volume};

const HEADER_SIZE: usize = 348;
const VOX_OFFSET: usize = 352;
const DT_UINT8: i16 = 2;
const DT_INT16: i16 = 4;
const DT_FLOAT32: i16 = 16;
const SFORM_ALIGNED: i16 = 2;
const UNITS_MM_SEC: u8 = 2 | 8;

/// How voxel values are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoredAs {
    /// `float32`, exactly.
    Float32,
    /// `uint8`: labels 0–255 (values are rounded; others are refused).
    Uint8,
    /// `int16`: labels −32768–32767 (values are rounded; others are refused).
    Int16,
}

/// Writes `volume` to `path` as NIfTI-1 f32; gzip-compressed when the name ends in `.gz`.
pub fn save_nifti(path: &Path, volume: &Volume) -> Result<(), WriteError> {
    save_nifti_as(path, volume, StoredAs::Float32)
}

/// Writes `volume` to `path` as NIfTI-1 with voxels stored `as_type`; gzip-compressed when the
/// name ends in `.gz`.
pub fn save_nifti_as(path: &Path, volume: &Volume, as_type: StoredAs) -> Result<(), WriteError> {
    let error = |source| WriteError::Io {
        file: path.display().to_string(),
        source,
    };
    let bytes = nifti1_bytes(volume, as_type).map_err(error)?;
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
fn nifti1_bytes(volume: &Volume, as_type: StoredAs) -> io::Result<Vec<u8>> {
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
    let (datatype, bitpix) = match as_type {
        StoredAs::Float32 => (DT_FLOAT32, 32),
        StoredAs::Uint8 => (DT_UINT8, 8),
        StoredAs::Int16 => (DT_INT16, 16),
    };
    put_i16(&mut h, 70, datatype);
    put_i16(&mut h, 72, bitpix);
    let a = volume.affine;
    let space = volume.nifti_space.as_deref().copied().unwrap_or_else(|| NiftiSpace {
        qform_code: 0,
        sform_code: SFORM_ALIGNED.into(),
        quatern: [0.0; 3],
        qoffset: [0.0; 3],
        pixdim: [
            1.0,
            a.x_axis.truncate().length(),
            a.y_axis.truncate().length(),
            a.z_axis.truncate().length(),
        ],
        srow: [0, 1, 2].map(|row| [0, 1, 2, 3].map(|col| a.col(col)[row])),
        xyzt_units: UNITS_MM_SEC.into(),
    });
    let [qfac, dx, dy, dz] = space.pixdim;
    for (i, p) in [qfac, dx, dy, dz, 1.0, 1.0, 1.0, 1.0].into_iter().enumerate() {
        put_f32(&mut h, 76 + 4 * i, p as f32);
    }
    put_f32(&mut h, 108, VOX_OFFSET as f32);
    put_f32(&mut h, 112, 1.0);
    h[123] = u8::try_from(space.xyzt_units).unwrap_or(UNITS_MM_SEC);
    let description = b"cortexlens";
    h[148..148 + description.len()].copy_from_slice(description);
    put_i16(&mut h, 252, i16::try_from(space.qform_code).unwrap_or(0));
    put_i16(&mut h, 254, i16::try_from(space.sform_code).unwrap_or(0));
    for (i, q) in space.quatern.iter().chain(&space.qoffset).enumerate() {
        put_f32(&mut h, 256 + 4 * i, *q as f32);
    }
    for (row, values) in space.srow.iter().enumerate() {
        for (col, v) in values.iter().enumerate() {
            put_f32(&mut h, 280 + 16 * row + 4 * col, *v as f32);
        }
    }
    h[344..348].copy_from_slice(b"n+1\0");
    h.reserve(volume.data.len() * usize::from(bitpix as u16 / 8));
    let out_of_range = |v: f32| invalid(format!("value {v} does not fit {as_type:?}"));
    for &v in &volume.data {
        match as_type {
            StoredAs::Float32 => h.extend_from_slice(&v.to_le_bytes()),
            StoredAs::Uint8 => {
                let r = v.round();
                if !(0.0..=255.0).contains(&r) {
                    return Err(out_of_range(v));
                }
                h.push(r as u8);
            }
            StoredAs::Int16 => {
                let r = v.round();
                if !(f32::from(i16::MIN)..=f32::from(i16::MAX)).contains(&r) {
                    return Err(out_of_range(v));
                }
                h.extend_from_slice(&(r as i16).to_le_bytes());
            }
        }
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
            nifti_space: None,
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
    fn labels_keep_the_header_s_spatial_fields() {
        use crate::formats::nifti::parse_header;
        let space = NiftiSpace {
            qform_code: 1,
            sform_code: 4,
            quatern: [0.0, 0.6, 0.8],
            qoffset: [-90.0, 126.0, -72.0],
            pixdim: [-1.0, 2.0, 3.0, 0.5],
            srow: [[-2.0, 0.0, 0.0, 90.0], [0.0, 3.0, 0.0, -126.0], [0.0, 0.0, 0.5, -72.0]],
            xyzt_units: 10,
        };
        let mut labels = volume([3, 4, 2, 1]);
        labels.data = (0..24).map(|i| (i % 5) as f32).collect();
        labels.affine = DMat4::from_cols_array_2d(&[
            [-2.0, 0.0, 0.0, 0.0],
            [0.0, 3.0, 0.0, 0.0],
            [0.0, 0.0, 0.5, 0.0],
            [90.0, -126.0, -72.0, 1.0],
        ]);
        labels.nifti_space = Some(Box::new(space));
        for (as_type, name) in [(StoredAs::Uint8, "uint8"), (StoredAs::Int16, "int16")] {
            let bytes = nifti1_bytes(&labels, as_type).unwrap();
            let header = parse_header(&bytes[..HEADER_SIZE], 1).unwrap();
            assert_eq!((header.qform_code, header.sform_code, header.xyzt_units), (1, 4, 10));
            assert_eq!(header.quatern, space.quatern.map(|q| f64::from(q as f32)));
            assert_eq!(header.qoffset, space.qoffset);
            assert_eq!(header.srow, space.srow);
            assert_eq!(header.pixdim[..4], space.pixdim);
            let dir = std::env::temp_dir().join(format!("cortexlens-labels-{}-{name}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("labels.nii.gz");
            save_nifti_as(&path, &labels, as_type).unwrap();
            let Loaded::Volume(back) = load_path(&path, &mut |_| {}).unwrap() else {
                panic!("not a volume");
            };
            assert_eq!(back.datatype, name);
            assert_eq!(back.data, labels.data);
            assert_eq!(back.affine, labels.affine);
            assert_eq!(
                back.nifti_space,
                Some(Box::new(NiftiSpace {
                    quatern: header.quatern,
                    ..space
                }))
            );
            std::fs::remove_dir_all(dir).ok();
        }
        labels.data[0] = 256.0;
        assert!(nifti1_bytes(&labels, StoredAs::Uint8).is_err());
        assert!(nifti1_bytes(&labels, StoredAs::Int16).is_ok());
    }

    #[test]
    fn rejects_volumes_nifti1_cannot_hold() {
        let mut v = volume([2, 2, 2, 1]);
        v.data.pop();
        assert!(nifti1_bytes(&v, StoredAs::Float32).is_err());
        let big = Volume {
            shape: [40000, 1, 1, 1],
            data: vec![0.0; 40000],
            ..volume([1, 1, 1, 1])
        };
        let err = save_nifti(Path::new("/nonexistent/x.nii"), &big).unwrap_err();
        assert!(err.to_string().contains("16-bit"), "{err}");
    }
}
