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
