//! Reading exactly one MessagePack value from a stream, so that a compressed instant-ngp snapshot
//! is inflated only as far as its value goes (bytes after it, like the tail of a decompression
//! bomb, are never inflated) and no claimed length is allocated before its bytes arrive. Markers
//! are decoded with `rmp`; the walk is iterative (no recursion on nesting).

use std::io::Read;

use rmp::Marker;

use super::FieldError;

/// Bytes copied per read while a string, binary or extension value arrives.
const CHUNK: usize = 1 << 16;

/// Reads one value from `reader` and returns its bytes, failing beyond `limit` bytes.
pub(crate) fn read_one_value(reader: &mut impl Read, limit: u64) -> Result<Vec<u8>, FieldError> {
    let mut out = Vec::new();
    // Values still to read: each needs at least one byte, so more than the limit allows is a lie.
    let mut pending: u64 = 1;
    while pending > 0 {
        pending -= 1;
        let marker = Marker::from_u8(copy_array::<1>(reader, &mut out, limit)?[0]);
        let (bytes, values) = match marker {
            Marker::FixPos(_) | Marker::FixNeg(_) | Marker::Null | Marker::True | Marker::False | Marker::Reserved => {
                (0, 0)
            }
            Marker::U8 | Marker::I8 => (1, 0),
            Marker::U16 | Marker::I16 => (2, 0),
            Marker::U32 | Marker::I32 | Marker::F32 => (4, 0),
            Marker::U64 | Marker::I64 | Marker::F64 => (8, 0),
            Marker::FixStr(n) => (u64::from(n), 0),
            Marker::Str8 | Marker::Bin8 => (length(reader, &mut out, limit, 1)?, 0),
            Marker::Str16 | Marker::Bin16 => (length(reader, &mut out, limit, 2)?, 0),
            Marker::Str32 | Marker::Bin32 => (length(reader, &mut out, limit, 4)?, 0),
            Marker::FixExt1 => (2, 0),
            Marker::FixExt2 => (3, 0),
            Marker::FixExt4 => (5, 0),
            Marker::FixExt8 => (9, 0),
            Marker::FixExt16 => (17, 0),
            Marker::Ext8 => (length(reader, &mut out, limit, 1)? + 1, 0),
            Marker::Ext16 => (length(reader, &mut out, limit, 2)? + 1, 0),
            Marker::Ext32 => (length(reader, &mut out, limit, 4)? + 1, 0),
            Marker::FixArray(n) => (0, u64::from(n)),
            Marker::Array16 => (0, length(reader, &mut out, limit, 2)?),
            Marker::Array32 => (0, length(reader, &mut out, limit, 4)?),
            Marker::FixMap(n) => (0, 2 * u64::from(n)),
            Marker::Map16 => (0, 2 * length(reader, &mut out, limit, 2)?),
            Marker::Map32 => (0, 2 * length(reader, &mut out, limit, 4)?),
        };
        pending += values;
        let room = limit.saturating_sub(out.len() as u64);
        if bytes.saturating_add(pending) > room {
            return Err(FieldError::too_large(format!(
                "the snapshot claims more than {} GiB",
                limit >> 30
            )));
        }
        copy(reader, &mut out, bytes)?;
    }
    Ok(out)
}

/// A big-endian length of `width` bytes.
fn length(reader: &mut impl Read, out: &mut Vec<u8>, limit: u64, width: usize) -> Result<u64, FieldError> {
    let be = |bytes: &[u8]| bytes.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b));
    Ok(match width {
        1 => be(&copy_array::<1>(reader, out, limit)?),
        2 => be(&copy_array::<2>(reader, out, limit)?),
        _ => be(&copy_array::<4>(reader, out, limit)?),
    })
}

/// Copies `N` bytes and returns them.
fn copy_array<const N: usize>(reader: &mut impl Read, out: &mut Vec<u8>, limit: u64) -> Result<[u8; N], FieldError> {
    if out.len() as u64 + N as u64 > limit {
        return Err(FieldError::too_large(format!(
            "the snapshot exceeds {} GiB",
            limit >> 30
        )));
    }
    let mut bytes = [0u8; N];
    reader.read_exact(&mut bytes).map_err(read_error)?;
    out.extend_from_slice(&bytes);
    Ok(bytes)
}

/// Copies `n` bytes as they arrive.
fn copy(reader: &mut impl Read, out: &mut Vec<u8>, n: u64) -> Result<(), FieldError> {
    let mut buf = vec![0u8; CHUNK.min(usize::try_from(n).unwrap_or(CHUNK))];
    let mut left = n;
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        reader.read_exact(&mut buf[..want]).map_err(read_error)?;
        out.extend_from_slice(&buf[..want]);
        left -= want as u64;
    }
    Ok(())
}

fn read_error(e: std::io::Error) -> FieldError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        FieldError::truncated("the snapshot ends inside a value")
    } else {
        FieldError::not_format("a gzip stream", e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_and_nothing_after_it() {
        // {"a": [1, -1, 3.5f32], "b": bin8 "xyz"} then junk.
        let mut value = vec![0x82, 0xa1, b'a', 0x93, 0x01, 0xff, 0xca];
        value.extend(3.5f32.to_be_bytes());
        value.extend([0xa1, b'b', 0xc4, 3, b'x', b'y', b'z']);
        let mut stream = value.clone();
        stream.extend([0u8; 1000]);
        assert_eq!(read_one_value(&mut stream.as_slice(), 1 << 20).unwrap(), value);
        // A claimed length beyond the limit is refused before anything is read for it.
        let claim = [0xc6, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(
            read_one_value(&mut claim.as_slice(), 1 << 20),
            Err(FieldError::TooLarge { .. })
        ));
        let claim = [0xdf, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(
            read_one_value(&mut claim.as_slice(), 1 << 20),
            Err(FieldError::TooLarge { .. })
        ));
        // A value cut short.
        assert!(matches!(
            read_one_value(&mut value[..5].as_ref(), 1 << 20),
            Err(FieldError::Truncated { .. })
        ));
    }
}
