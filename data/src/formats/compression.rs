//! gzip and zlib: detection by magic bytes and bounded decompression.
//!
//! Nothing here trusts a size that a header merely claims: output buffers grow as data actually
//! arrives, and reservations are capped by what the compressed input could possibly expand to.

use std::io::{BufRead, Read};

use flate2::bufread::{MultiGzDecoder, ZlibDecoder};

use crate::error::LoadError;

/// The two bytes every gzip member starts with.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Deflate cannot expand data by more than about 1032:1; reservations never exceed this ratio.
pub(crate) const MAX_DEFLATE_RATIO: u64 = 1032;

/// Whether `head` (the first bytes of a file) starts like gzip.
pub(crate) fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&GZIP_MAGIC)
}

/// A reader of the decompressed bytes of all gzip members in `input` (`gzip -dc` semantics).
pub(crate) fn gzip_reader<R: BufRead>(input: R) -> MultiGzDecoder<R> {
    MultiGzDecoder::new(input)
}

/// Decompresses a whole single-member gzip file in one call with libdeflate (about twice as fast
/// as streaming zlib). Returns `None` when this fast path does not apply — several members, or a
/// trailer size (ISIZE) that is implausible, over `budget`, or wrong — so the caller streams instead.
/// The output buffer is sized from the trailer only after checking it against the deflate bound.
pub(crate) fn gunzip_single_member(compressed: &[u8], budget: u64) -> Option<Vec<u8>> {
    let n = compressed.len();
    if n < 18 || !is_gzip(compressed) {
        return None;
    }
    let isize = u32::from_le_bytes([
        compressed[n - 4],
        compressed[n - 3],
        compressed[n - 2],
        compressed[n - 1],
    ]) as u64;
    if isize == 0 || isize > max_inflated_len(n as u64) || isize > budget {
        return None;
    }
    let mut out = vec![0u8; usize::try_from(isize).ok()?];
    inflate_whole_member(compressed, &mut out).then_some(out)
}

/// libdeflate: inflate one gzip member that must span all of `compressed` and fill all of `out`.
fn inflate_whole_member(compressed: &[u8], out: &mut [u8]) -> bool {
    use libdeflate_sys::*;
    let mut used_in = 0usize;
    let mut used_out = 0usize;
    // SAFETY: the decompressor is checked for null and freed on every path; the pointers and
    // lengths come from live slices that outlive the call, and libdeflate writes at most
    // `out.len()` bytes into `out` and one usize into each result pointer.
    let result = unsafe {
        let decompressor = libdeflate_alloc_decompressor();
        if decompressor.is_null() {
            return false;
        }
        let result = libdeflate_gzip_decompress_ex(
            decompressor,
            compressed.as_ptr().cast(),
            compressed.len(),
            out.as_mut_ptr().cast(),
            out.len(),
            &mut used_in,
            &mut used_out,
        );
        libdeflate_free_decompressor(decompressor);
        result
    };
    result == libdeflate_result_LIBDEFLATE_SUCCESS && used_in == compressed.len() && used_out == out.len()
}

/// Upper bound on what `compressed_len` bytes of deflate data can expand to.
pub(crate) fn max_inflated_len(compressed_len: u64) -> u64 {
    compressed_len.saturating_mul(MAX_DEFLATE_RATIO)
}

/// Decompresses an in-memory zlib stream (or gzip, recognised by its magic bytes), reading at most
/// `expected + 1` bytes so that the caller can tell short, exact and overlong data apart.
pub(crate) fn inflate_bounded(data: &[u8], expected: usize) -> Result<Vec<u8>, LoadError> {
    let cap = (expected as u64).min(max_inflated_len(data.len() as u64));
    let mut out = Vec::with_capacity(usize::try_from(cap).unwrap_or(0));
    let limit = expected as u64 + 1;
    let result = if is_gzip(data) {
        gzip_reader(data).take(limit).read_to_end(&mut out)
    } else {
        ZlibDecoder::new(data).take(limit).read_to_end(&mut out)
    };
    match result {
        Ok(_) => Ok(out),
        // A stream that simply stops: hand back what arrived, the caller reports the shortfall.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(out),
        Err(e) => Err(LoadError::BadGzip {
            file: String::new(),
            detail: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::{GzEncoder, ZlibEncoder};
    use std::io::Write;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn detects_gzip() {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(b"hello").unwrap();
        let gz = e.finish().unwrap();
        assert!(is_gzip(&gz));
        assert!(!is_gzip(b"\x1f"));
        assert!(!is_gzip(b""));
        assert_eq!(inflate_bounded(&gz, 5).unwrap(), b"hello");
    }

    #[test]
    fn bounded_inflate() {
        let data = vec![7u8; 10_000];
        let z = zlib(&data);
        assert_eq!(inflate_bounded(&z, 10_000).unwrap().len(), 10_000);
        // Never more than expected + 1, however much the stream holds.
        assert_eq!(inflate_bounded(&z, 100).unwrap().len(), 101);
        // A cut stream yields what arrived, not an allocation of the claim.
        let short = inflate_bounded(&z[..z.len() / 2], 1 << 40).unwrap();
        assert!(short.len() < 10_000);
        assert!(matches!(
            inflate_bounded(b"not zlib at all", 10),
            Err(LoadError::BadGzip { .. })
        ));
    }
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn single_member_inflates_in_one_call() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(gunzip_single_member(&gz(&data), u64::MAX).unwrap(), data);
    }

    #[test]
    fn falls_back_on_several_members_lies_and_budget() {
        let mut two = gz(b"first member ");
        two.extend(gz(b"second member"));
        assert_eq!(
            gunzip_single_member(&two, u64::MAX),
            None,
            "multi-member: stream instead"
        );
        let mut lie = gz(&[5u8; 1000]);
        let n = lie.len();
        lie[n - 4..].copy_from_slice(&999u32.to_le_bytes());
        assert_eq!(gunzip_single_member(&lie, u64::MAX), None, "trailer size disagrees");
        lie[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            gunzip_single_member(&lie, u64::MAX),
            None,
            "beyond the deflate bound: nothing allocated"
        );
        assert_eq!(gunzip_single_member(&gz(&[1u8; 1000]), 999), None, "over budget");
        assert_eq!(gunzip_single_member(b"not gzip", u64::MAX), None);
    }
}
