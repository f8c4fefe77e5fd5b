//! NIfTI-1 headers (`.nii`, `.nii.gz`, `.hdr`), parsed by the `nifti` crate.

use nifti::{Endianness, NiftiError, NiftiHeader};

use super::nifti::Header;
use crate::error::LoadError;

/// Size of the NIfTI-1 header.
pub(crate) const HEADER_LEN: usize = 348;

/// Parses the 348 bytes of a NIfTI-1 header (either byte order).
pub(crate) fn parse(bytes: &[u8]) -> Result<Header, LoadError> {
    let bytes = bytes.get(..HEADER_LEN).ok_or_else(|| {
        LoadError::truncated(format!(
            "a NIfTI-1 header needs {HEADER_LEN} bytes, got {}",
            bytes.len()
        ))
    })?;
    let h = NiftiHeader::from_reader(bytes).map_err(|e| match e {
        NiftiError::InvalidFormat => {
            let magic = bytes.get(344..348).unwrap_or_default();
            LoadError::bad_magic(
                "NIfTI-1",
                format!(
                    "magic is {:?}, expected \"n+1\" or \"ni1\" (plain Analyze 7.5 is not supported)",
                    String::from_utf8_lossy(magic).trim_end_matches('\0')
                ),
            )
        }
        NiftiError::Io(io) => LoadError::io(io),
        other => LoadError::bad_header(other.to_string()),
    })?;
    let mut dim = [0i64; 8];
    for (d, &v) in dim.iter_mut().zip(&h.dim) {
        // NIfTI-1 dims are signed 16-bit; the crate stores their bits as u16.
        *d = i64::from(v as i16);
    }
    Ok(Header {
        version: 1,
        big_endian: h.endianness == Endianness::Big,
        dim,
        pixdim: h.pixdim.map(f64::from),
        datatype: i32::from(h.datatype),
        vox_offset: f64::from(h.vox_offset),
        scl_slope: f64::from(h.scl_slope),
        scl_inter: f64::from(h.scl_inter),
        qform_code: i32::from(h.qform_code),
        sform_code: i32::from(h.sform_code),
        quatern: [h.quatern_b, h.quatern_c, h.quatern_d].map(f64::from),
        qoffset: [h.quatern_x, h.quatern_y, h.quatern_z].map(f64::from),
        srow: [
            h.srow_x.map(f64::from),
            h.srow_y.map(f64::from),
            h.srow_z.map(f64::from),
        ],
        glmin: i64::from(h.glmin),
        xyzt_units: i32::from(h.xyzt_units),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal little-endian header: 2×3×4 uint8.
    pub(crate) fn minimal() -> Vec<u8> {
        let mut b = vec![0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&348i32.to_le_bytes());
        for (i, d) in [3i16, 2, 3, 4, 1, 1, 1, 1].iter().enumerate() {
            b[40 + 2 * i..42 + 2 * i].copy_from_slice(&d.to_le_bytes());
        }
        b[70..72].copy_from_slice(&2i16.to_le_bytes());
        b[72..74].copy_from_slice(&8i16.to_le_bytes());
        for i in 0..8 {
            b[76 + 4 * i..80 + 4 * i].copy_from_slice(&1f32.to_le_bytes());
        }
        b[108..112].copy_from_slice(&352f32.to_le_bytes());
        b[344..348].copy_from_slice(b"n+1\0");
        b
    }

    #[test]
    fn parses_minimal() {
        let h = parse(&minimal()).unwrap();
        assert_eq!(h.dim[..4], [3, 2, 3, 4]);
        assert_eq!(h.datatype, 2);
        assert_eq!(h.vox_offset, 352.0);
        assert!(!h.big_endian);
    }

    #[test]
    fn bad_magic_and_short() {
        let mut b = minimal();
        b[344..348].copy_from_slice(b"xyz\0");
        let e = parse(&b).unwrap_err();
        assert!(matches!(e, LoadError::BadMagic { .. }), "{e}");
        assert!(matches!(parse(&b[..100]), Err(LoadError::Truncated { .. })));
    }

    #[test]
    fn negative_dims_stay_negative() {
        let mut b = minimal();
        b[42..44].copy_from_slice(&(-5i16).to_le_bytes());
        assert_eq!(parse(&b).unwrap().dim[1], -5);
    }
}
