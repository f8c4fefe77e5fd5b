//! The PLY container (Turk 1994, as the `plyfile` Python package and Paul Bourke's description
//! define it): a text header naming elements, their counts and typed properties, then the
//! elements' rows in ASCII or binary (little- or big-endian).
//!
//! This module reads the header and gives the readers above it ([`super::splat_ply`]) what they
//! need to decode rows without allocating per row: each element's property layout (byte offsets
//! for fixed-size rows), the byte length of the elements before the one wanted, and number
//! parsing for every PLY scalar type. Written here rather than taken from a crate:
//!
//! - `ply-rs`/`ply-rs-bw` build a map of property name to value per row (an allocation per
//!   property per vertex: minutes for a 6 M-splat scene);
//! - `serde-ply` 0.2 (Apache-2.0, well kept) is fast only for rows deserialised into one fixed
//!   struct whose fields match the file's properties densely. 3DGS files differ in their SH
//!   properties (0, 9, 24 or 45 `f_rest_*`), carry extras (`nx`, `ny`, `nz`, anything) and may be
//!   any scalar type, so it would fall back to matching property names as strings per row; it
//!   reads through `io::Read` row by row on one thread, and its errors would still have to be
//!   mapped to typed [`LoadError`]s naming the missing properties.
//!
//! The header is limited to [`MAX_HEADER`] bytes; counts are checked against the data before
//! anything is allocated by the readers.

use crate::error::LoadError;

/// The longest header read (a 3DGS header with 62 properties is about 1.5 KB).
pub(crate) const MAX_HEADER: usize = 256 << 10;

/// How the rows are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// Whitespace-separated numbers, one row per line.
    Ascii,
    /// Binary, least significant byte first.
    Little,
    /// Binary, most significant byte first.
    Big,
}

/// A PLY scalar type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scalar {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    F32,
    F64,
}

impl Scalar {
    /// The type named `name` (`char`/`int8`, `uchar`/`uint8`, …, `float`/`float32`, `double`/`float64`).
    fn parse(name: &str) -> Option<Scalar> {
        Some(match name {
            "char" | "int8" => Scalar::I8,
            "uchar" | "uint8" => Scalar::U8,
            "short" | "int16" => Scalar::I16,
            "ushort" | "uint16" => Scalar::U16,
            "int" | "int32" => Scalar::I32,
            "uint" | "uint32" => Scalar::U32,
            "float" | "float32" => Scalar::F32,
            "double" | "float64" => Scalar::F64,
            _ => return None,
        })
    }

    /// Bytes of one binary value.
    pub(crate) fn size(self) -> usize {
        match self {
            Scalar::I8 | Scalar::U8 => 1,
            Scalar::I16 | Scalar::U16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::F64 => 8,
        }
    }

    /// The binary value at the start of `b` (at least [`Scalar::size`] bytes) as `f64`.
    #[inline(always)]
    pub(crate) fn read(self, b: &[u8], big: bool) -> f64 {
        macro_rules! num {
            ($t:ty, $n:literal) => {{
                let a: [u8; $n] = b[..$n].try_into().unwrap();
                (if big {
                    <$t>::from_be_bytes(a)
                } else {
                    <$t>::from_le_bytes(a)
                }) as f64
            }};
        }
        match self {
            Scalar::I8 => f64::from(b[0] as i8),
            Scalar::U8 => f64::from(b[0]),
            Scalar::I16 => num!(i16, 2),
            Scalar::U16 => num!(u16, 2),
            Scalar::I32 => num!(i32, 4),
            Scalar::U32 => num!(u32, 4),
            Scalar::F32 => num!(f32, 4),
            Scalar::F64 => num!(f64, 8),
        }
    }

    /// The binary value at the start of `b` as `f32` (exact for `float`, rounded for `double`
    /// and 32-bit integers).
    #[inline(always)]
    pub(crate) fn read_f32(self, b: &[u8], big: bool) -> f32 {
        if self == Scalar::F32 {
            let a: [u8; 4] = b[..4].try_into().unwrap();
            if big {
                f32::from_be_bytes(a)
            } else {
                f32::from_le_bytes(a)
            }
        } else {
            self.read(b, big) as f32
        }
    }

    /// An unsigned integer value (`uint`, `uchar`, …) of `b`; `None` for a float type.
    #[inline(always)]
    pub(crate) fn read_u32(self, b: &[u8], big: bool) -> Option<u32> {
        match self {
            Scalar::U8 => Some(u32::from(b[0])),
            Scalar::U16 => Some(self.read(b, big) as u32),
            Scalar::U32 => {
                let a: [u8; 4] = b[..4].try_into().unwrap();
                Some(if big {
                    u32::from_be_bytes(a)
                } else {
                    u32::from_le_bytes(a)
                })
            }
            Scalar::I8 | Scalar::I16 | Scalar::I32 => {
                let v = self.read(b, big);
                (v >= 0.0).then_some(v as u32)
            }
            Scalar::F32 | Scalar::F64 => None,
        }
    }

    /// Whether the type holds integers.
    pub(crate) fn is_integer(self) -> bool {
        !matches!(self, Scalar::F32 | Scalar::F64)
    }

    /// The name PLY writers use (`float`, `uchar`, …).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Scalar::I8 => "char",
            Scalar::U8 => "uchar",
            Scalar::I16 => "short",
            Scalar::U16 => "ushort",
            Scalar::I32 => "int",
            Scalar::U32 => "uint",
            Scalar::F32 => "float",
            Scalar::F64 => "double",
        }
    }
}

/// A property's type: one value, or a list of values preceded by its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Scalar(Scalar),
    List { count: Scalar, item: Scalar },
}

/// A named property of an element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Property {
    pub name: String,
    pub kind: Kind,
}

/// An element: a name, a row count and the properties of each row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Element {
    pub name: String,
    pub count: u64,
    pub properties: Vec<Property>,
}

impl Element {
    /// Bytes of one binary row, `None` when a property is a list (rows vary).
    pub(crate) fn row_size(&self) -> Option<usize> {
        self.properties.iter().try_fold(0usize, |sum, p| match p.kind {
            Kind::Scalar(s) => Some(sum + s.size()),
            Kind::List { .. } => None,
        })
    }

    /// Index of the property `name` among the row's properties.
    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.properties.iter().position(|p| p.name == name)
    }

    /// Byte offset within a binary row (of scalars only) and type of the scalar property `name`.
    pub(crate) fn scalar(&self, name: &str) -> Option<(usize, Scalar)> {
        let mut offset = 0;
        for p in &self.properties {
            match p.kind {
                Kind::Scalar(s) if p.name == name => return Some((offset, s)),
                Kind::Scalar(s) => offset += s.size(),
                Kind::List { .. } => return None,
            }
        }
        None
    }

    /// Whether the element has a property `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.index_of(name).is_some()
    }
}

/// A parsed header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub encoding: Encoding,
    pub elements: Vec<Element>,
    /// Bytes from the start of the file to the first byte of data (after `end_header` and its
    /// line end).
    pub len: usize,
}

impl Header {
    /// The element called `name`, with its position among the elements.
    pub(crate) fn element(&self, name: &str) -> Option<(usize, &Element)> {
        self.elements.iter().enumerate().find(|(_, e)| e.name == name)
    }
}

/// Whether `head` starts like a PLY file (`ply` alone on the first line).
pub(crate) fn sniff(head: &[u8]) -> bool {
    head.starts_with(b"ply\n") || head.starts_with(b"ply\r\n")
}

/// Parses the header at the start of `bytes` (which may hold more data after it).
pub(crate) fn parse_header(bytes: &[u8]) -> Result<Header, LoadError> {
    if !sniff(bytes) {
        return Err(LoadError::bad_magic("PLY", "the first line is not `ply`"));
    }
    let mut pos = 0;
    let mut encoding = None;
    let mut elements: Vec<Element> = Vec::new();
    let mut line_no = 0;
    loop {
        let rest = &bytes[pos..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Err(if bytes.len() >= MAX_HEADER {
                LoadError::ply(format!("no end_header in the first {MAX_HEADER} bytes"))
            } else {
                LoadError::truncated("the PLY header ends before end_header")
            });
        };
        pos += end + 1;
        line_no += 1;
        let raw = &rest[..end];
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line =
            std::str::from_utf8(raw).map_err(|_| LoadError::ply(format!("header line {line_no} is not text")))?;
        let words: Vec<&str> = line.split_ascii_whitespace().collect();
        let bad = |what: &str| LoadError::ply(format!("header line {line_no} `{line}`: {what}"));
        match words.as_slice() {
            ["ply"] if line_no == 1 => {}
            [] | ["comment", ..] | ["obj_info", ..] => {}
            ["format", kind, version] => {
                if encoding.is_some() {
                    return Err(bad("a second format line"));
                }
                if !version.starts_with('1') {
                    return Err(bad("only PLY version 1.0 is read"));
                }
                encoding = Some(match *kind {
                    "ascii" => Encoding::Ascii,
                    "binary_little_endian" => Encoding::Little,
                    "binary_big_endian" => Encoding::Big,
                    _ => return Err(bad("the format is ascii, binary_little_endian or binary_big_endian")),
                });
            }
            ["element", name, count] => {
                let count = count
                    .parse::<u64>()
                    .map_err(|_| bad("the count is not a non-negative integer"))?;
                if elements.iter().any(|e| e.name == *name) {
                    return Err(bad("a second element of this name"));
                }
                elements.push(Element {
                    name: (*name).to_owned(),
                    count,
                    properties: Vec::new(),
                });
            }
            ["property", "list", count, item, name] => {
                let count = Scalar::parse(count).ok_or_else(|| bad("unknown list count type"))?;
                let item = Scalar::parse(item).ok_or_else(|| bad("unknown list item type"))?;
                if !count.is_integer() {
                    return Err(bad("a list count must be an integer type"));
                }
                add_property(&mut elements, name, Kind::List { count, item }).map_err(&bad)?;
            }
            ["property", ty, name] => {
                let ty = Scalar::parse(ty).ok_or_else(|| bad("unknown property type"))?;
                add_property(&mut elements, name, Kind::Scalar(ty)).map_err(&bad)?;
            }
            ["end_header"] => break,
            _ => return Err(bad("not a PLY header line")),
        }
    }
    let encoding = encoding.ok_or_else(|| LoadError::ply("the header has no format line"))?;
    Ok(Header {
        encoding,
        elements,
        len: pos,
    })
}

fn add_property(elements: &mut [Element], name: &str, kind: Kind) -> Result<(), &'static str> {
    let element = elements.last_mut().ok_or("a property before any element")?;
    if element.has(name) {
        return Err("a second property of this name in the element");
    }
    element.properties.push(Property {
        name: name.to_owned(),
        kind,
    });
    Ok(())
}

/// The least number of bytes the rows of `element` can take: exact for binary rows of scalars; for
/// lists their count alone (binary) or one digit and a separator per value (ASCII).
pub(crate) fn min_bytes(element: &Element, encoding: Encoding) -> u64 {
    let per_row: u64 = element
        .properties
        .iter()
        .map(|p| match (encoding, p.kind) {
            (Encoding::Ascii, _) => 2,
            (_, Kind::Scalar(s)) => s.size() as u64,
            (_, Kind::List { count, .. }) => count.size() as u64,
        })
        .sum();
    element.count.saturating_mul(per_row)
}

/// Bytes of the binary rows of `element` at the start of `data`, walking lists; `None` when
/// `data` ends first.
pub(crate) fn binary_len(element: &Element, data: &[u8], big: bool) -> Option<usize> {
    if let Some(row) = element.row_size() {
        let len = usize::try_from(element.count).ok()?.checked_mul(row)?;
        return (len <= data.len()).then_some(len);
    }
    let mut at = 0usize;
    for _ in 0..element.count {
        for p in &element.properties {
            match p.kind {
                Kind::Scalar(s) => at = at.checked_add(s.size())?,
                Kind::List { count, item } => {
                    let n = count.read_u32(data.get(at..at + count.size())?, big)?;
                    at = at
                        .checked_add(count.size())?
                        .checked_add((n as usize).checked_mul(item.size())?)?;
                }
            }
            if at > data.len() {
                return None;
            }
        }
    }
    Some(at)
}

/// ASCII rows: the whitespace-separated numbers of each line, line by line.
pub(crate) struct AsciiRows<'a> {
    text: &'a [u8],
    at: usize,
    /// Line number in the file of the next row (for messages).
    pub line: usize,
}

impl<'a> AsciiRows<'a> {
    /// Rows of `text`, the data after a header of `header_lines` lines.
    pub(crate) fn new(text: &'a [u8], header_lines: usize) -> Self {
        AsciiRows {
            text,
            at: 0,
            line: header_lines + 1,
        }
    }

    /// The next non-empty line, split into words; `None` at the end of the text.
    pub(crate) fn next_row(&mut self, words: &mut Vec<&'a str>) -> Result<bool, LoadError> {
        loop {
            if self.at >= self.text.len() {
                return Ok(false);
            }
            let rest = &self.text[self.at..];
            let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            self.at += end + 1;
            let line = std::str::from_utf8(&rest[..end])
                .map_err(|_| LoadError::ply(format!("line {} is not text", self.line)))?;
            self.line += 1;
            words.clear();
            words.extend(line.split_ascii_whitespace());
            if !words.is_empty() {
                return Ok(true);
            }
        }
    }
}

/// Parses an ASCII value of type `ty` (integers must be integers, floats may be `nan`/`inf`).
pub(crate) fn parse_ascii(word: &str, ty: Scalar) -> Option<f64> {
    if ty.is_integer() {
        word.parse::<i64>().ok().map(|v| v as f64)
    } else {
        word.parse::<f64>().ok()
    }
}

/// The number of header lines (for line numbers of ASCII rows).
pub(crate) fn header_lines(bytes: &[u8], header: &Header) -> usize {
    bytes[..header.len].iter().filter(|&&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_layout() {
        let text = b"ply\r\nformat binary_big_endian 1.0\r\ncomment hi\r\nelement vertex 2\r\nproperty float x\r\n\
property double y\r\nproperty uchar c\r\nelement face 1\r\nproperty list uchar int vertex_indices\r\nend_header\r\nDATA";
        let h = parse_header(text).unwrap();
        assert_eq!(h.encoding, Encoding::Big);
        assert_eq!(&text[h.len..], b"DATA");
        let (i, v) = h.element("vertex").unwrap();
        assert_eq!(i, 0);
        assert_eq!(v.row_size(), Some(13));
        assert_eq!(v.scalar("c"), Some((12, Scalar::U8)));
        assert_eq!(h.elements[1].row_size(), None);
        assert_eq!(min_bytes(v, Encoding::Big), 26);
        let face = &h.elements[1];
        let data = [3u8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 9];
        assert_eq!(binary_len(face, &data, true), Some(13));
        assert_eq!(binary_len(face, &data[..12], true), None);
    }

    #[test]
    fn bad_headers_are_errors() {
        for (text, want) in [
            (&b"ply\nformat binary 1.0\nend_header\n"[..], "format"),
            (
                b"ply\nformat ascii 1.0\nproperty float x\nend_header\n",
                "before any element",
            ),
            (b"ply\nformat ascii 1.0\nelement v -1\nend_header\n", "count"),
            (
                b"ply\nformat ascii 1.0\nelement v 1\nproperty float16 x\nend_header\n",
                "unknown property type",
            ),
            (b"ply\nelement v 1\nend_header\n", "no format"),
            (
                b"ply\nformat ascii 1.0\nelement v 1\nbogus\nend_header\n",
                "not a PLY header line",
            ),
            (
                b"ply\nformat ascii 1.0\nelement v 1\nproperty list float int a\nend_header\n",
                "integer",
            ),
        ] {
            let e = parse_header(text).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
        assert!(matches!(
            parse_header(b"ply\nformat ascii 1.0\n"),
            Err(LoadError::Truncated { .. })
        ));
        assert!(matches!(parse_header(b"PLY\n"), Err(LoadError::BadMagic { .. })));
    }

    #[test]
    fn scalars() {
        let b = (-2.5f64).to_le_bytes();
        assert_eq!(Scalar::F64.read(&b, false), -2.5);
        assert_eq!(Scalar::I16.read(&[0xff, 0xfe], true), -2.0);
        assert_eq!(Scalar::U32.read_u32(&[0, 0, 1, 0], true), Some(256));
        assert_eq!(Scalar::I8.read_u32(&[0xff], false), None);
        assert_eq!(parse_ascii("3", Scalar::U8), Some(3.0));
        assert_eq!(parse_ascii("3.5", Scalar::U8), None);
        assert!(parse_ascii("nan", Scalar::F32).unwrap().is_nan());
    }
}
