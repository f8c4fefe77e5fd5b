//! Decoding one GIFTI data array: ASCII, Base64Binary, GZipBase64Binary or ExternalFileBinary,
//! either byte order, row- or column-major (always stored row-major).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

use super::MEMORY_BUDGET;
use super::compression::inflate_bounded;
use crate::error::LoadError;
use crate::surface::ArrayData;

/// Standard base64 that accepts missing padding (some writers omit it).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The element type of a data array: every NIfTI datatype nibabel reads into numbers.
///
/// GIFTI itself allows `NIFTI_TYPE_UINT8`, `NIFTI_TYPE_INT32` and `NIFTI_TYPE_FLOAT32`, but nibabel
/// reads any real NIfTI datatype (its parser maps the `DataType` through `data_type_codes`), and
/// files use them: pycortex writes triangles as `NIFTI_TYPE_UINT32`. Refused, by [`Kind::parse`]
/// and [`Kind::check_intent`]:
/// - complex types (`COMPLEX64/128/256`): no array of a surface file means complex values —
///   coordinates, triangle indices and per-vertex maps are real;
/// - `FLOAT128` and `COMPLEX256`: nibabel itself reads them as raw bytes where the platform has no
///   IEEE binary128 (x86-64, arm64 Linux);
/// - `RGB24`/`RGBA32` except under `NIFTI_INTENT_RGB_VECTOR`/`NIFTI_INTENT_RGBA_VECTOR`: colours
///   are not coordinates, triangles or scalar maps (under those intents they are read as `uint8`
///   components, see [`crate::DataArray::dims`]; cortexlens lists but does not draw them);
/// - `none`, `binary`, `all` and anything else: no numbers to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `NIFTI_TYPE_UINT8`.
    U8,
    /// `NIFTI_TYPE_INT8`.
    I8,
    /// `NIFTI_TYPE_INT16`.
    I16,
    /// `NIFTI_TYPE_UINT16`.
    U16,
    /// `NIFTI_TYPE_INT32`.
    I32,
    /// `NIFTI_TYPE_UINT32`.
    U32,
    /// `NIFTI_TYPE_INT64`.
    I64,
    /// `NIFTI_TYPE_UINT64`.
    U64,
    /// `NIFTI_TYPE_FLOAT32`.
    F32,
    /// `NIFTI_TYPE_FLOAT64`.
    F64,
    /// `NIFTI_TYPE_RGB24`: three `uint8` components per element.
    Rgb24,
    /// `NIFTI_TYPE_RGBA32`: four `uint8` components per element.
    Rgba32,
}

impl Kind {
    /// The type named by a `DataType` attribute: the `NIFTI_TYPE_*` name or numpy's name, the two
    /// spellings nibabel's `data_type_codes` knows.
    pub(crate) fn parse(name: &str) -> Result<Kind, LoadError> {
        Ok(match name.trim() {
            "NIFTI_TYPE_UINT8" | "uint8" => Kind::U8,
            "NIFTI_TYPE_INT8" | "int8" => Kind::I8,
            "NIFTI_TYPE_INT16" | "int16" => Kind::I16,
            "NIFTI_TYPE_UINT16" | "uint16" => Kind::U16,
            "NIFTI_TYPE_INT32" | "int32" => Kind::I32,
            "NIFTI_TYPE_UINT32" | "uint32" => Kind::U32,
            "NIFTI_TYPE_INT64" | "int64" => Kind::I64,
            "NIFTI_TYPE_UINT64" | "uint64" => Kind::U64,
            "NIFTI_TYPE_FLOAT32" | "float32" => Kind::F32,
            "NIFTI_TYPE_FLOAT64" | "float64" => Kind::F64,
            "NIFTI_TYPE_RGB24" | "RGB" => Kind::Rgb24,
            "NIFTI_TYPE_RGBA32" | "RGBA" => Kind::Rgba32,
            other @ ("NIFTI_TYPE_COMPLEX64" | "complex64" | "NIFTI_TYPE_COMPLEX128" | "complex128") => {
                return Err(LoadError::unsupported(format!(
                    "GIFTI DataType {other:?}: complex values are not coordinates, triangle indices or per-vertex values"
                )));
            }
            other @ ("NIFTI_TYPE_FLOAT128" | "float128" | "NIFTI_TYPE_COMPLEX256" | "complex256") => {
                return Err(LoadError::unsupported(format!(
                    "GIFTI DataType {other:?}: 128-bit floats (nibabel reads them as raw bytes on most platforms)"
                )));
            }
            other => {
                return Err(LoadError::unsupported(format!(
                    "GIFTI DataType {other:?} (cortexlens reads NIFTI_TYPE_UINT8, INT8, INT16, UINT16, INT32, UINT32, \
                     INT64, UINT64, FLOAT32, FLOAT64, and RGB24/RGBA32 colour vectors)"
                )));
            }
        })
    }

    /// Refuses colour types under any intent but the colour vectors (see [`Kind`]).
    pub(crate) fn check_intent(self, intent: &str, index: usize) -> Result<(), LoadError> {
        let colour_intent = matches!(intent, "NIFTI_INTENT_RGB_VECTOR" | "NIFTI_INTENT_RGBA_VECTOR");
        if matches!(self, Kind::Rgb24 | Kind::Rgba32) && !colour_intent {
            return Err(LoadError::unsupported(format!(
                "GIFTI data array {index}: {} colours under {intent} (colours are read only as \
                 NIFTI_INTENT_RGB_VECTOR or NIFTI_INTENT_RGBA_VECTOR)",
                self.name()
            )));
        }
        Ok(())
    }

    /// Bytes per element.
    fn size(self) -> usize {
        match self {
            Kind::U8 | Kind::I8 => 1,
            Kind::I16 | Kind::U16 => 2,
            Kind::I32 | Kind::U32 | Kind::F32 => 4,
            Kind::I64 | Kind::U64 | Kind::F64 => 8,
            Kind::Rgb24 => 3,
            Kind::Rgba32 => 4,
        }
    }

    /// Values per element: the colour components, else 1.
    fn components(self) -> usize {
        match self {
            Kind::Rgb24 => 3,
            Kind::Rgba32 => 4,
            _ => 1,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::U8 => "uint8",
            Kind::I8 => "int8",
            Kind::I16 => "int16",
            Kind::U16 => "uint16",
            Kind::I32 => "int32",
            Kind::U32 => "uint32",
            Kind::I64 => "int64",
            Kind::U64 => "uint64",
            Kind::F32 => "float32",
            Kind::F64 => "float64",
            Kind::Rgb24 => "RGB24",
            Kind::Rgba32 => "RGBA32",
        }
    }
}

/// How the values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// Whitespace-separated numbers.
    Ascii,
    /// Base64 of the raw bytes.
    Base64,
    /// Base64 of a zlib stream of the raw bytes.
    GzipBase64,
    /// Raw bytes in another file.
    External,
}

impl Encoding {
    /// The encoding named by an `Encoding` attribute (both spellings nibabel knows).
    pub(crate) fn parse(name: &str) -> Result<Encoding, LoadError> {
        match name.trim() {
            "ASCII" | "GIFTI_ENCODING_ASCII" => Ok(Encoding::Ascii),
            "Base64Binary" | "GIFTI_ENCODING_B64BIN" => Ok(Encoding::Base64),
            "GZipBase64Binary" | "GIFTI_ENCODING_B64GZ" => Ok(Encoding::GzipBase64),
            "ExternalFileBinary" | "GIFTI_ENCODING_EXTBIN" => Ok(Encoding::External),
            other => Err(LoadError::gifti(format!("unknown Encoding {other:?}"))),
        }
    }
}

/// Everything a `DataArray` element's attributes say about its data.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ArraySpec {
    /// Position of the array in the file (for messages).
    pub index: usize,
    /// Element type.
    pub kind: Kind,
    /// `Dim0..DimN`.
    pub dims: Vec<usize>,
    /// Encoding.
    pub encoding: Encoding,
    /// Byte order of binary encodings.
    pub big_endian: bool,
    /// `ArrayIndexingOrder="ColumnMajorOrder"`.
    pub column_major: bool,
    /// `ExternalFileName`.
    pub external_name: String,
    /// `ExternalFileOffset`.
    pub external_offset: u64,
}

impl ArraySpec {
    /// Number of elements the dimensions call for (checked against the memory budget).
    pub(crate) fn count(&self) -> Result<usize, LoadError> {
        let n = self.dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        match n {
            Some(n) if (n as u64).saturating_mul(self.kind.size().max(4) as u64) <= MEMORY_BUDGET => Ok(n),
            _ => Err(LoadError::too_large(format!(
                "data array {} claims dimensions {:?}, over the memory budget of {} GiB",
                self.index,
                self.dims,
                MEMORY_BUDGET >> 30
            ))),
        }
    }

    /// The dimensions of the decoded values: the file's, with the colour components appended
    /// for RGB24/RGBA32.
    pub(crate) fn value_dims(&self) -> Vec<usize> {
        let mut dims = self.dims.clone();
        if self.kind.components() > 1 {
            dims.push(self.kind.components());
        }
        dims
    }

    fn short(&self, need: usize, have: usize, source: &str) -> LoadError {
        LoadError::truncated(format!(
            "data array {}: dimensions {:?} need {need} bytes of {}, the {source} holds {have}",
            self.index,
            self.dims,
            self.kind.name()
        ))
    }

    /// Decodes the array from the text of its `<Data>` element (or from its external file, found
    /// next to `gii_path`).
    pub(crate) fn decode(&self, text: &str, gii_path: &Path) -> Result<ArrayData, LoadError> {
        let n = self.count()?;
        let need = n * self.kind.size();
        let data = match self.encoding {
            Encoding::Ascii => parse_ascii(text, self.kind, n * self.kind.components(), self.index)?,
            Encoding::Base64 | Encoding::GzipBase64 => {
                let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
                let raw = BASE64.decode(&compact).map_err(|e| LoadError::Base64 {
                    file: String::new(),
                    array: self.index,
                    detail: e.to_string(),
                })?;
                let (bytes, source) = if self.encoding == Encoding::GzipBase64 {
                    (inflate_bounded(&raw, need)?, "decompressed data")
                } else {
                    (raw, "base64 data")
                };
                if bytes.len() < need {
                    return Err(self.short(need, bytes.len(), source));
                }
                if bytes.len() > need {
                    return Err(LoadError::gifti(format!(
                        "data array {}: the {source} holds more than the {need} bytes its dimensions {:?} call for",
                        self.index, self.dims
                    )));
                }
                from_bytes(&bytes, self.kind, self.big_endian)
            }
            Encoding::External => {
                let bytes = self.read_external(gii_path, need)?;
                from_bytes(&bytes, self.kind, self.big_endian)
            }
        };
        Ok(if self.column_major && self.dims.len() > 1 {
            to_row_major(data, &self.dims, self.kind.components())
        } else {
            data
        })
    }

    fn read_external(&self, gii_path: &Path, need: usize) -> Result<Vec<u8>, LoadError> {
        if self.external_name.trim().is_empty() {
            return Err(LoadError::gifti(format!(
                "data array {} is ExternalFileBinary but names no ExternalFileName",
                self.index
            )));
        }
        let path = gii_path
            .parent()
            .unwrap_or(Path::new(""))
            .join(self.external_name.trim());
        let ext_name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let in_ext = |e: LoadError| e.in_file(&ext_name);
        let mut f = File::open(&path).map_err(|e| in_ext(LoadError::io(e)))?;
        let len = f.metadata().map_err(|e| in_ext(LoadError::io(e)))?.len();
        let end = self.external_offset.saturating_add(need as u64);
        if end > len {
            return Err(in_ext(LoadError::truncated(format!(
                "data array {} of the GIFTI needs bytes {}..{end}, the file has {len}",
                self.index, self.external_offset
            ))));
        }
        let mut bytes = vec![0u8; need];
        f.seek(SeekFrom::Start(self.external_offset))
            .map_err(|e| in_ext(LoadError::io(e)))?;
        f.read_exact(&mut bytes).map_err(|e| in_ext(LoadError::io(e)))?;
        Ok(bytes)
    }
}

fn parse_ascii(text: &str, kind: Kind, n: usize, index: usize) -> Result<ArrayData, LoadError> {
    let mut tokens = text.split_ascii_whitespace();
    let bad = |t: &str| LoadError::gifti(format!("data array {index}: {t:?} is not a valid {}", kind.name()));
    fn take<T>(
        tokens: &mut std::str::SplitAsciiWhitespace,
        n: usize,
        index: usize,
        parse: impl Fn(&str) -> Option<T>,
        bad: impl Fn(&str) -> LoadError,
    ) -> Result<Vec<T>, LoadError> {
        let mut out = Vec::new();
        for t in tokens.by_ref() {
            if out.len() == n {
                return Err(LoadError::gifti(format!(
                    "data array {index}: more than the {n} ASCII values its dimensions call for"
                )));
            }
            out.push(parse(t).ok_or_else(|| bad(t))?);
        }
        if out.len() < n {
            return Err(LoadError::truncated(format!(
                "data array {index}: its dimensions call for {n} ASCII values, the data holds {}",
                out.len()
            )));
        }
        Ok(out)
    }
    macro_rules! ints {
        ($variant:ident, $t:ty) => {
            ArrayData::$variant(take(&mut tokens, n, index, |t| t.parse::<$t>().ok(), bad)?)
        };
    }
    Ok(match kind {
        Kind::F32 => ArrayData::F32(take(
            &mut tokens,
            n,
            index,
            |t| t.parse::<f64>().ok().map(|v| v as f32),
            bad,
        )?),
        Kind::F64 => ArrayData::F64(take(&mut tokens, n, index, |t| t.parse::<f64>().ok(), bad)?),
        Kind::I32 => ints!(I32, i32),
        Kind::U8 | Kind::Rgb24 | Kind::Rgba32 => ints!(U8, u8),
        Kind::I8 => ints!(I8, i8),
        Kind::I16 => ints!(I16, i16),
        Kind::U16 => ints!(U16, u16),
        Kind::U32 => ints!(U32, u32),
        Kind::I64 => ints!(I64, i64),
        Kind::U64 => ints!(U64, u64),
    })
}

fn from_bytes(bytes: &[u8], kind: Kind, big: bool) -> ArrayData {
    macro_rules! conv {
        ($variant:ident, $t:ty) => {{
            const N: usize = std::mem::size_of::<$t>();
            let (chunks, _) = bytes.as_chunks::<N>();
            ArrayData::$variant(if big {
                chunks.iter().map(|c| <$t>::from_be_bytes(*c)).collect()
            } else {
                chunks.iter().map(|c| <$t>::from_le_bytes(*c)).collect()
            })
        }};
    }
    match kind {
        Kind::F32 => conv!(F32, f32),
        Kind::F64 => conv!(F64, f64),
        Kind::I32 => conv!(I32, i32),
        Kind::U32 => conv!(U32, u32),
        Kind::I8 => conv!(I8, i8),
        Kind::I16 => conv!(I16, i16),
        Kind::U16 => conv!(U16, u16),
        Kind::I64 => conv!(I64, i64),
        Kind::U64 => conv!(U64, u64),
        // Colour components are bytes in either byte order.
        Kind::U8 | Kind::Rgb24 | Kind::Rgba32 => ArrayData::U8(bytes.to_vec()),
    }
}

/// Reorders column-major (first index fastest) values of `dims` into row-major order.
fn transpose<T: Copy>(src: &[T], dims: &[usize]) -> Vec<T> {
    let n = src.len();
    // Column-major stride of each axis.
    let mut stride = vec![1usize; dims.len()];
    for k in 1..dims.len() {
        stride[k] = stride[k - 1] * dims[k - 1];
    }
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; dims.len()];
    let mut offset = 0usize;
    for _ in 0..n {
        out.push(src[offset]);
        // Advance the row-major multi-index (last axis fastest), keeping `offset` in step.
        for k in (0..dims.len()).rev() {
            idx[k] += 1;
            offset += stride[k];
            if idx[k] < dims[k] {
                break;
            }
            offset -= stride[k] * dims[k];
            idx[k] = 0;
        }
    }
    out
}

/// Reorders column-major elements of `dims` (each `components` values long) into row-major order.
fn to_row_major(data: ArrayData, dims: &[usize], components: usize) -> ArrayData {
    fn reorder<T: Copy>(v: &[T], dims: &[usize], components: usize) -> Vec<T> {
        if components == 1 {
            return transpose(v, dims);
        }
        let elements: Vec<usize> = (0..v.len() / components).collect();
        transpose(&elements, dims)
            .into_iter()
            .flat_map(|e| v[e * components..(e + 1) * components].iter().copied())
            .collect()
    }
    macro_rules! each {
        ($($variant:ident),+) => {
            match data {
                $(ArrayData::$variant(v) => ArrayData::$variant(reorder(&v, dims, components)),)+
            }
        };
    }
    each!(F32, I32, U8, I8, I16, U16, U32, I64, U64, F64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: Kind, dims: &[usize], encoding: Encoding) -> ArraySpec {
        ArraySpec {
            index: 0,
            kind,
            dims: dims.to_vec(),
            encoding,
            big_endian: false,
            column_major: false,
            external_name: String::new(),
            external_offset: 0,
        }
    }

    #[test]
    fn transposes_any_rank() {
        // 2×3 column-major [a00 a10 a01 a11 a02 a12] → row-major [a00 a01 a02 a10 a11 a12].
        assert_eq!(transpose(&[0, 10, 1, 11, 2, 12], &[2, 3]), [0, 1, 2, 10, 11, 12]);
        let dims = [2, 3, 4];
        let f: Vec<usize> = (0..24).collect();
        let c = transpose(&f, &dims);
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..4 {
                    assert_eq!(c[(i * 3 + j) * 4 + k], i + 2 * (j + 3 * k));
                }
            }
        }
    }

    #[test]
    fn encodings() {
        let p = Path::new("x.gii");
        let s = spec(Kind::I32, &[2, 2], Encoding::Ascii);
        assert_eq!(s.decode(" 1 2\n 3 4 ", p).unwrap(), ArrayData::I32(vec![1, 2, 3, 4]));
        assert!(matches!(s.decode("1 2 3", p), Err(LoadError::Truncated { .. })));
        assert!(matches!(s.decode("1 2 3 4 5", p), Err(LoadError::Gifti { .. })));
        assert!(matches!(s.decode("1 2 x 4", p), Err(LoadError::Gifti { .. })));
        let mut s = spec(Kind::F32, &[2], Encoding::Base64);
        let bytes: Vec<u8> = [1.5f32, -2.0].iter().flat_map(|v| v.to_be_bytes()).collect();
        s.big_endian = true;
        let text = BASE64.encode(&bytes);
        let wrapped = format!("\n  {}\n  {}\n", &text[..5], &text[5..]);
        assert_eq!(s.decode(&wrapped, p).unwrap(), ArrayData::F32(vec![1.5, -2.0]));
        assert!(matches!(s.decode("@@@@", p), Err(LoadError::Base64 { .. })));
        assert!(matches!(
            s.decode(&BASE64.encode(&bytes[..4]), p),
            Err(LoadError::Truncated { .. })
        ));
        s.column_major = true;
        s.dims = vec![1, 2];
        assert_eq!(s.decode(&text, p).unwrap(), ArrayData::F32(vec![1.5, -2.0]));
    }

    #[test]
    fn every_real_datatype_in_both_byte_orders() {
        let p = Path::new("x.gii");
        let cases: [(Kind, ArrayData, Vec<u8>); 6] = [
            (
                Kind::U32,
                ArrayData::U32(vec![1, 4_000_000_000]),
                [1u32.to_be_bytes(), 4_000_000_000u32.to_be_bytes()].concat(),
            ),
            (
                Kind::I16,
                ArrayData::I16(vec![-2, 300]),
                [(-2i16).to_be_bytes(), 300i16.to_be_bytes()].concat(),
            ),
            (
                Kind::U16,
                ArrayData::U16(vec![65535, 0]),
                [65535u16.to_be_bytes(), 0u16.to_be_bytes()].concat(),
            ),
            (Kind::I8, ArrayData::I8(vec![-128, 5]), vec![0x80, 5]),
            (
                Kind::I64,
                ArrayData::I64(vec![-1, 1 << 40]),
                [(-1i64).to_be_bytes(), (1i64 << 40).to_be_bytes()].concat(),
            ),
            (
                Kind::F64,
                ArrayData::F64(vec![0.1, -1e300]),
                [0.1f64.to_be_bytes(), (-1e300f64).to_be_bytes()].concat(),
            ),
        ];
        for (kind, want, be) in cases {
            let mut s = spec(kind, &[2], Encoding::Base64);
            s.big_endian = true;
            assert_eq!(s.decode(&BASE64.encode(&be), p).unwrap(), want, "{kind:?} big-endian");
            let size = kind.size();
            let le: Vec<u8> = be.chunks(size).flat_map(|c| c.iter().rev().copied()).collect();
            s.big_endian = false;
            assert_eq!(
                s.decode(&BASE64.encode(&le), p).unwrap(),
                want,
                "{kind:?} little-endian"
            );
            assert!(matches!(
                s.decode(&BASE64.encode(&le[1..]), p),
                Err(LoadError::Truncated { .. })
            ));
        }
        let s = spec(Kind::U64, &[2], Encoding::Ascii);
        assert_eq!(
            s.decode("18446744073709551615 0", p).unwrap(),
            ArrayData::U64(vec![u64::MAX, 0])
        );
        let s = spec(Kind::U32, &[2], Encoding::Ascii);
        assert!(
            matches!(s.decode("1 -1", p), Err(LoadError::Gifti { .. })),
            "negative uint32"
        );
        // Colours: three components per element, appended as the last axis; column-major
        // elements keep their components together.
        let mut s = spec(Kind::Rgb24, &[2, 2], Encoding::Ascii);
        assert_eq!(s.value_dims(), [2, 2, 3]);
        let text = "1 2 3  4 5 6  7 8 9  10 11 12";
        let row = s.decode(text, p).unwrap();
        assert_eq!(row, ArrayData::U8((1..=12).collect()));
        s.column_major = true;
        // Column-major element order e00 e10 e01 e11 → row-major e00 e01 e10 e11.
        assert_eq!(
            s.decode(text, p).unwrap(),
            ArrayData::U8(vec![1, 2, 3, 7, 8, 9, 4, 5, 6, 10, 11, 12])
        );
    }

    #[test]
    fn kinds() {
        assert_eq!(Kind::parse("NIFTI_TYPE_UINT8").unwrap(), Kind::U8);
        assert_eq!(Kind::parse(" NIFTI_TYPE_UINT32 ").unwrap(), Kind::U32);
        assert_eq!(
            Kind::parse("float64").unwrap(),
            Kind::F64,
            "numpy's name, as nibabel accepts"
        );
        for refused in [
            "NIFTI_TYPE_COMPLEX64",
            "NIFTI_TYPE_FLOAT128",
            "NIFTI_TYPE_COMPLEX256",
            "binary",
            "x",
        ] {
            assert!(
                matches!(Kind::parse(refused), Err(LoadError::UnsupportedDatatype { .. })),
                "{refused}"
            );
        }
        assert!(Kind::Rgb24.check_intent("NIFTI_INTENT_RGB_VECTOR", 0).is_ok());
        let e = Kind::Rgb24.check_intent("NIFTI_INTENT_POINTSET", 2).unwrap_err();
        assert!(e.to_string().contains("data array 2"), "{e}");
        assert!(Kind::U32.check_intent("NIFTI_INTENT_TRIANGLE", 0).is_ok());
        assert!(Encoding::parse("Zip").is_err());
        let s = spec(Kind::F32, &[1 << 40, 1 << 40], Encoding::Ascii);
        assert!(matches!(s.count(), Err(LoadError::TooLarge { .. })));
    }
}
