//! NIfTI-2 headers (540 bytes, 64-bit fields), read by hand: the `nifti` crate reads NIfTI-1 only.

use super::bytes::Endian;
use super::nifti::Header;
use crate::error::LoadError;

/// Size of the NIfTI-2 header.
pub(crate) const HEADER_LEN: usize = 540;

/// Parses the 540 bytes of a NIfTI-2 header; the byte order comes from `sizeof_hdr`.
pub(crate) fn parse(bytes: &[u8]) -> Result<Header, LoadError> {
    let b = bytes.get(..HEADER_LEN).ok_or_else(|| {
        LoadError::truncated(format!(
            "a NIfTI-2 header needs {HEADER_LEN} bytes, got {}",
            bytes.len()
        ))
    })?;
    let e = if Endian::Little.i32(b, 0) == Some(540) {
        Endian::Little
    } else if Endian::Big.i32(b, 0) == Some(540) {
        Endian::Big
    } else {
        return Err(LoadError::bad_magic(
            "NIfTI-2",
            "sizeof_hdr is not 540 in either byte order",
        ));
    };
    let magic = &b[4..8];
    if magic != b"n+2\0" && magic != b"ni2\0" {
        return Err(LoadError::bad_magic(
            "NIfTI-2",
            format!(
                "magic is {:?}, expected \"n+2\" or \"ni2\"",
                String::from_utf8_lossy(magic)
            ),
        ));
    }
    // Every offset below lies inside the 540 bytes checked above.
    let f64_at = |off: usize| e.f64(b, off).unwrap_or(f64::NAN);
    let i64_at = |off: usize| e.i64(b, off).unwrap_or(0);
    let i32_at = |off: usize| e.i32(b, off).unwrap_or(0);
    let mut dim = [0i64; 8];
    let mut pixdim = [0f64; 8];
    for i in 0..8 {
        dim[i] = i64_at(16 + 8 * i);
        pixdim[i] = f64_at(104 + 8 * i);
    }
    let vox_offset = i64_at(168);
    let row = |off: usize| [f64_at(off), f64_at(off + 8), f64_at(off + 16), f64_at(off + 24)];
    Ok(Header {
        version: 2,
        big_endian: e == Endian::Big,
        dim,
        pixdim,
        datatype: e.i16(b, 12).map_or(0, i32::from),
        vox_offset: vox_offset as f64,
        scl_slope: f64_at(176),
        scl_inter: f64_at(184),
        qform_code: i32_at(344),
        sform_code: i32_at(348),
        quatern: [f64_at(352), f64_at(360), f64_at(368)],
        qoffset: [f64_at(376), f64_at(384), f64_at(392)],
        srow: [row(400), row(432), row(464)],
        glmin: 0,
        xyzt_units: i32_at(500),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(big: bool) -> Vec<u8> {
        let mut b = vec![0u8; HEADER_LEN];
        let put = |b: &mut Vec<u8>, off: usize, bytes: &[u8]| b[off..off + bytes.len()].copy_from_slice(bytes);
        macro_rules! enc {
            ($v:expr) => {
                if big {
                    $v.to_be_bytes().to_vec()
                } else {
                    $v.to_le_bytes().to_vec()
                }
            };
        }
        put(&mut b, 0, &enc!(540i32));
        put(&mut b, 4, b"n+2\0\r\n\x1a\n");
        put(&mut b, 12, &enc!(16i16));
        for (i, d) in [3i64, 2, 3, 4, 1, 1, 1, 1].iter().enumerate() {
            put(&mut b, 16 + 8 * i, &enc!(*d));
        }
        put(&mut b, 104 + 8, &enc!(2.5f64));
        put(&mut b, 168, &enc!(544i64));
        put(&mut b, 176, &enc!(2.0f64));
        put(&mut b, 348, &enc!(1i32));
        put(&mut b, 400 + 24, &enc!(-7.0f64));
        b
    }

    #[test]
    fn both_orders() {
        for big in [false, true] {
            let h = parse(&header(big)).unwrap();
            assert_eq!(h.big_endian, big);
            assert_eq!(h.dim[..4], [3, 2, 3, 4]);
            assert_eq!(h.datatype, 16);
            assert_eq!(h.pixdim[1], 2.5);
            assert_eq!(h.vox_offset, 544.0);
            assert_eq!(h.scl_slope, 2.0);
            assert_eq!(h.sform_code, 1);
            assert_eq!(h.srow[0][3], -7.0);
        }
    }

    #[test]
    fn rejects() {
        let mut b = header(false);
        b[4] = b'x';
        assert!(matches!(parse(&b), Err(LoadError::BadMagic { .. })));
        assert!(matches!(parse(&b[..10]), Err(LoadError::Truncated { .. })));
        let mut b = header(false);
        b[0] = 0;
        assert!(matches!(parse(&b), Err(LoadError::BadMagic { .. })));
    }
}
