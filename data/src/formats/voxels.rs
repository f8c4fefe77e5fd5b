//! Voxel decoding shared by NIfTI-1, NIfTI-2 and MGH: on-disk numbers of any width and byte order
//! to scaled `f32`, in one pass over large chunks.

use super::input::{CHUNK, Input};
use super::progress::Progress;
use crate::error::LoadError;

/// An on-disk voxel type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    /// `uint8`.
    U8,
    /// `int8`.
    I8,
    /// `int16`.
    I16,
    /// `uint16`.
    U16,
    /// `int32`.
    I32,
    /// `uint32`.
    U32,
    /// `int64`.
    I64,
    /// `uint64`.
    U64,
    /// `float32`.
    F32,
    /// `float64`.
    F64,
}

impl DType {
    /// Bytes per voxel.
    pub fn size(self) -> usize {
        match self {
            DType::U8 | DType::I8 => 1,
            DType::I16 | DType::U16 => 2,
            DType::I32 | DType::U32 | DType::F32 => 4,
            DType::I64 | DType::U64 | DType::F64 => 8,
        }
    }

    /// numpy's name of the type (`uint8`, `int16`, `float32`, …).
    pub fn numpy_name(self) -> &'static str {
        match self {
            DType::U8 => "uint8",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::U16 => "uint16",
            DType::I32 => "int32",
            DType::U32 => "uint32",
            DType::I64 => "int64",
            DType::U64 => "uint64",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// The type of a NIfTI `datatype` code; complex, RGB and 128-bit types are unsupported.
    pub fn from_nifti(code: i32) -> Result<DType, LoadError> {
        Ok(match code {
            2 => DType::U8,
            4 => DType::I16,
            8 => DType::I32,
            16 => DType::F32,
            64 => DType::F64,
            256 => DType::I8,
            512 => DType::U16,
            768 => DType::U32,
            1024 => DType::I64,
            1280 => DType::U64,
            _ => {
                let name = match code {
                    1 => "binary (1 bit)",
                    32 => "complex64",
                    128 => "RGB24",
                    1536 => "float128",
                    1792 => "complex128",
                    2048 => "complex256",
                    2304 => "RGBA32",
                    _ => "unknown",
                };
                return Err(LoadError::unsupported(format!(
                    "NIfTI datatype code {code} ({name}); cortexlens reads integer and real scalar voxels"
                )));
            }
        })
    }
}

/// Linear scaling `stored * slope + inter`, as nibabel applies it (in `f64`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scaling {
    /// Multiplier.
    pub slope: f64,
    /// Offset.
    pub inter: f64,
}

impl Scaling {
    /// No scaling (slope 1, intercept 0).
    pub const IDENTITY: Scaling = Scaling { slope: 1.0, inter: 0.0 };

    /// nibabel's `Nifti1Header.get_slope_inter`: a slope of 0 or a non-finite slope means no
    /// scaling at all; a valid slope with a non-finite intercept is a header error.
    pub fn nifti(slope: f64, inter: f64) -> Result<Scaling, LoadError> {
        if slope == 0.0 || !slope.is_finite() {
            return Ok(Scaling::IDENTITY);
        }
        if !inter.is_finite() {
            return Err(LoadError::bad_header(format!(
                "valid scl_slope {slope} but invalid scl_inter {inter}"
            )));
        }
        Ok(Scaling { slope, inter })
    }

    fn is_identity(self) -> bool {
        self == Scaling::IDENTITY
    }
}

macro_rules! decode_as {
    ($t:ty, $n:literal, $bytes:expr, $big:expr, $scale:expr, $out:expr) => {{
        let (chunks, _) = $bytes.as_chunks::<$n>();
        let pairs = $out.iter_mut().zip(chunks);
        match ($big, $scale) {
            (false, None) => pairs.for_each(|(o, c)| *o = <$t>::from_le_bytes(*c) as f32),
            (true, None) => pairs.for_each(|(o, c)| *o = <$t>::from_be_bytes(*c) as f32),
            (false, Some(s)) => {
                pairs.for_each(|(o, c)| *o = (<$t>::from_le_bytes(*c) as f64 * s.slope + s.inter) as f32)
            }
            (true, Some(s)) => {
                pairs.for_each(|(o, c)| *o = (<$t>::from_be_bytes(*c) as f64 * s.slope + s.inter) as f32)
            }
        }
    }};
}

/// Appends the scaled values of `bytes` (whole voxels; a trailing partial voxel is ignored).
pub fn decode_into(bytes: &[u8], dtype: DType, big_endian: bool, scaling: Scaling, out: &mut Vec<f32>) {
    let start = out.len();
    out.resize(start + bytes.len() / dtype.size(), 0.0);
    decode_to_slice(bytes, dtype, big_endian, scaling, &mut out[start..]);
}

/// Writes the scaled values of the whole voxels in `bytes` into `out` (as many as both hold).
fn decode_to_slice(bytes: &[u8], dtype: DType, big_endian: bool, scaling: Scaling, out: &mut [f32]) {
    let s = (!scaling.is_identity()).then_some(scaling);
    match dtype {
        DType::U8 => decode_as!(u8, 1, bytes, big_endian, s, out),
        DType::I8 => decode_as!(i8, 1, bytes, big_endian, s, out),
        DType::I16 => decode_as!(i16, 2, bytes, big_endian, s, out),
        DType::U16 => decode_as!(u16, 2, bytes, big_endian, s, out),
        DType::I32 => decode_as!(i32, 4, bytes, big_endian, s, out),
        DType::U32 => decode_as!(u32, 4, bytes, big_endian, s, out),
        DType::I64 => decode_as!(i64, 8, bytes, big_endian, s, out),
        DType::U64 => decode_as!(u64, 8, bytes, big_endian, s, out),
        DType::F32 => decode_as!(f32, 4, bytes, big_endian, s, out),
        DType::F64 => decode_as!(f64, 8, bytes, big_endian, s, out),
    }
}

/// Decodes all whole voxels of `bytes` on all cores, in chunks of [`CHUNK`] bytes.
fn decode_parallel(bytes: &[u8], layout: Layout) -> Vec<f32> {
    use rayon::prelude::*;
    let size = layout.dtype.size();
    let mut out = vec![0.0f32; bytes.len() / size];
    out.par_chunks_mut(CHUNK / size)
        .zip(bytes.par_chunks(CHUNK))
        .for_each(|(out, bytes)| decode_to_slice(bytes, layout.dtype, layout.big_endian, layout.scaling, out));
    out
}

/// How voxels lie on disk.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    /// Number of voxels (all frames).
    pub count: usize,
    /// On-disk type.
    pub dtype: DType,
    /// Byte order.
    pub big_endian: bool,
    /// Scaling to apply.
    pub scaling: Scaling,
}

/// Reads and decodes `layout.count` voxels from the current position of `input`.
///
/// The caller has checked `count` against the memory budget and, for uncompressed files, against
/// the file length. The output grows as data arrives; a stream that ends early is
/// [`LoadError::Truncated`].
pub(crate) fn read_voxels(input: &mut Input, layout: Layout, progress: &mut Progress) -> Result<Vec<f32>, LoadError> {
    let size = layout.dtype.size();
    let total = layout.count as u64 * size as u64;
    if let Some(bytes) = usize::try_from(total).ok().and_then(|n| input.borrow_in_memory(n)) {
        let out = decode_parallel(bytes, layout);
        progress.set(input.fraction());
        return Ok(out);
    }
    let reserve = (layout.count as u64).min(input.max_remaining() / size as u64);
    let mut out = Vec::with_capacity(usize::try_from(reserve).unwrap_or(0));
    // A whole number of voxels per chunk, so no voxel straddles two chunks.
    let mut buf = vec![0u8; (CHUNK / 8) * 8];
    let mut done = 0u64;
    while done < total {
        let want = usize::try_from(total - done).unwrap_or(usize::MAX).min(buf.len());
        let got = input.read_full(&mut buf[..want])?;
        if got < want {
            return Err(LoadError::truncated(format!(
                "header claims {total} bytes of voxels, the {} has {} after the header",
                input.data_noun(),
                done + got as u64
            )));
        }
        decode_into(&buf[..got], layout.dtype, layout.big_endian, layout.scaling, &mut out);
        done += got as u64;
        progress.set(input.fraction());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(bytes: &[u8], t: DType, big: bool, s: Scaling) -> Vec<f32> {
        let mut v = Vec::new();
        decode_into(bytes, t, big, s, &mut v);
        v
    }

    #[test]
    fn every_type_both_orders() {
        let id = Scaling::IDENTITY;
        assert_eq!(dec(&[0, 255], DType::U8, false, id), [0.0, 255.0]);
        assert_eq!(dec(&[0x80, 0x7f], DType::I8, true, id), [-128.0, 127.0]);
        assert_eq!(dec(&(-2i16).to_le_bytes(), DType::I16, false, id), [-2.0]);
        assert_eq!(dec(&(-2i16).to_be_bytes(), DType::I16, true, id), [-2.0]);
        assert_eq!(dec(&65535u16.to_be_bytes(), DType::U16, true, id), [65535.0]);
        assert_eq!(dec(&(-7i32).to_le_bytes(), DType::I32, false, id), [-7.0]);
        assert_eq!(dec(&4_000_000_000u32.to_be_bytes(), DType::U32, true, id), [4e9]);
        assert_eq!(dec(&(-9i64).to_be_bytes(), DType::I64, true, id), [-9.0]);
        assert_eq!(
            dec(&(1u64 << 40).to_le_bytes(), DType::U64, false, id),
            [(1u64 << 40) as f32]
        );
        assert_eq!(dec(&1.5f32.to_be_bytes(), DType::F32, true, id), [1.5]);
        assert_eq!(dec(&(-0.25f64).to_le_bytes(), DType::F64, false, id), [-0.25]);
        // A trailing partial voxel is ignored.
        assert_eq!(dec(&[1, 0, 9], DType::I16, false, id), [1.0]);
    }

    #[test]
    fn parallel_decoding_equals_sequential() {
        let bytes: Vec<u8> = (0..3 * CHUNK + 13).map(|i| (i * 7919 % 256) as u8).collect();
        for (dtype, big) in [(DType::I16, false), (DType::F64, true), (DType::U8, false)] {
            let scaling = Scaling::nifti(0.5, -3.0).unwrap();
            let layout = Layout {
                count: bytes.len() / dtype.size(),
                dtype,
                big_endian: big,
                scaling,
            };
            let parallel = decode_parallel(&bytes, layout);
            let sequential = dec(&bytes, dtype, big, scaling);
            assert_eq!(parallel.len(), layout.count);
            assert!(
                parallel
                    .iter()
                    .zip(&sequential)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
        }
    }

    #[test]
    fn scaling_rules() {
        let s = Scaling::nifti(2.0, 10.0).unwrap();
        assert_eq!(dec(&[3], DType::U8, false, s), [16.0]);
        assert_eq!(dec(&(-3i16).to_be_bytes(), DType::I16, true, s), [4.0]);
        assert_eq!(Scaling::nifti(0.0, 5.0).unwrap(), Scaling::IDENTITY);
        assert_eq!(Scaling::nifti(f64::NAN, 5.0).unwrap(), Scaling::IDENTITY);
        assert_eq!(Scaling::nifti(f64::INFINITY, 5.0).unwrap(), Scaling::IDENTITY);
        assert!(Scaling::nifti(1.0, f64::NAN).is_err());
        assert_eq!(Scaling::nifti(1.0, 0.5).unwrap(), Scaling { slope: 1.0, inter: 0.5 });
    }

    #[test]
    fn codes() {
        assert_eq!(DType::from_nifti(4).unwrap(), DType::I16);
        assert_eq!(DType::from_nifti(1280).unwrap().numpy_name(), "uint64");
        for bad in [0, 1, 32, 128, 1536, 1792, 2048, 2304, 7] {
            assert!(matches!(
                DType::from_nifti(bad),
                Err(LoadError::UnsupportedDatatype { .. })
            ));
        }
    }
}
