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

/// A GIFTI element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `NIFTI_TYPE_FLOAT32`.
    F32,
    /// `NIFTI_TYPE_INT32`.
    I32,
    /// `NIFTI_TYPE_UINT8`.
    U8,
}

impl Kind {
    /// The type named by a `DataType` attribute.
    pub(crate) fn parse(name: &str) -> Result<Kind, LoadError> {
        match name.trim() {
            "NIFTI_TYPE_FLOAT32" => Ok(Kind::F32),
            "NIFTI_TYPE_INT32" => Ok(Kind::I32),
            "NIFTI_TYPE_UINT8" => Ok(Kind::U8),
            other => Err(LoadError::unsupported(format!(
                "GIFTI DataType {other:?} (GIFTI allows NIFTI_TYPE_UINT8, NIFTI_TYPE_INT32, NIFTI_TYPE_FLOAT32)"
            ))),
        }
    }

    fn size(self) -> usize {
        match self {
            Kind::F32 | Kind::I32 => 4,
            Kind::U8 => 1,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::F32 => "float32",
            Kind::I32 => "int32",
            Kind::U8 => "uint8",
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
    /// Number of values the dimensions call for (checked against the memory budget).
    pub(crate) fn count(&self) -> Result<usize, LoadError> {
        let n = self.dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        match n {
            Some(n) if (n as u64).saturating_mul(4) <= MEMORY_BUDGET => Ok(n),
            _ => Err(LoadError::too_large(format!(
                "data array {} claims dimensions {:?}, over the memory budget of {} GiB",
                self.index,
                self.dims,
                MEMORY_BUDGET >> 30
            ))),
        }
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
            Encoding::Ascii => parse_ascii(text, self.kind, n, self.index)?,
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
            to_row_major(data, &self.dims)
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
    Ok(match kind {
        Kind::F32 => ArrayData::F32(take(
            &mut tokens,
            n,
            index,
            |t| t.parse::<f64>().ok().map(|v| v as f32),
            bad,
        )?),
        Kind::I32 => ArrayData::I32(take(&mut tokens, n, index, |t| t.parse::<i32>().ok(), bad)?),
        Kind::U8 => ArrayData::U8(take(&mut tokens, n, index, |t| t.parse::<u8>().ok(), bad)?),
    })
}

fn from_bytes(bytes: &[u8], kind: Kind, big: bool) -> ArrayData {
    macro_rules! conv {
        ($t:ty) => {{
            let (chunks, _) = bytes.as_chunks::<4>();
            if big {
                chunks.iter().map(|c| <$t>::from_be_bytes(*c)).collect()
            } else {
                chunks.iter().map(|c| <$t>::from_le_bytes(*c)).collect()
            }
        }};
    }
    match kind {
        Kind::F32 => ArrayData::F32(conv!(f32)),
        Kind::I32 => ArrayData::I32(conv!(i32)),
        Kind::U8 => ArrayData::U8(bytes.to_vec()),
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

fn to_row_major(data: ArrayData, dims: &[usize]) -> ArrayData {
    match data {
        ArrayData::F32(v) => ArrayData::F32(transpose(&v, dims)),
        ArrayData::I32(v) => ArrayData::I32(transpose(&v, dims)),
        ArrayData::U8(v) => ArrayData::U8(transpose(&v, dims)),
    }
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
    fn kinds() {
        assert_eq!(Kind::parse("NIFTI_TYPE_UINT8").unwrap(), Kind::U8);
        assert!(matches!(
            Kind::parse("NIFTI_TYPE_FLOAT64"),
            Err(LoadError::UnsupportedDatatype { .. })
        ));
        assert!(Encoding::parse("Zip").is_err());
        let s = spec(Kind::F32, &[1 << 40, 1 << 40], Encoding::Ascii);
        assert!(matches!(s.count(), Err(LoadError::TooLarge { .. })));
    }
}
