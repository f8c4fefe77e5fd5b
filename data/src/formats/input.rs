//! A file opened as a stream of (decompressed) bytes, with the raw bytes counted for progress.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use super::MEMORY_BUDGET;
use super::compression::{gunzip_single_member, gzip_reader, is_gzip, max_inflated_len};
use crate::error::LoadError;

/// Size of the buffer between the disk and the decompressor, and of decoding chunks.
pub(crate) const CHUNK: usize = 1 << 20;

/// Counts the bytes that pass from the source into the reader above it.
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Where an [`Input`]'s bytes come from.
enum Source {
    /// Read as they are needed (a plain file, or gzip decompressed on the fly).
    Stream(Box<dyn Read>),
    /// Already in memory (a gzip file inflated in one call); `at` is the next byte.
    Memory { bytes: Vec<u8>, at: usize },
}

/// A whole compressed file: memory-mapped where the OS allows, else read into memory.
enum WholeFile {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl AsRef<[u8]> for WholeFile {
    fn as_ref(&self) -> &[u8] {
        match self {
            WholeFile::Mapped(map) => map,
            WholeFile::Read(bytes) => bytes,
        }
    }
}

impl WholeFile {
    /// Maps `file`, or reads the rest of `buffered` (the same file) when mapping fails.
    fn load(buffered: &mut BufReader<Counting<File>>, raw_len: u64) -> Result<WholeFile, LoadError> {
        // SAFETY: the map is read-only and lives only while this file is decoded; cortexlens never
        // writes to a file it is reading. Another process truncating the file meanwhile could fault
        // the read, the same trade-off ripgrep and other readers of large files make for speed.
        if let Ok(map) = unsafe { memmap2::Mmap::map(&buffered.get_ref().inner) }
            && map.len() as u64 == raw_len
        {
            return Ok(WholeFile::Mapped(map));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(raw_len).unwrap_or(0));
        buffered.read_to_end(&mut bytes).map_err(LoadError::io)?;
        Ok(WholeFile::Read(bytes))
    }
}

/// A compressed file shared by the stream that inflates it and the one-shot inflate that may take
/// over once the decompressed size needed is known ([`Input::expect`]).
#[derive(Clone)]
struct Shared(Rc<WholeFile>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        self.0.as_ref().as_ref()
    }
}

/// Decompressed bytes beyond what [`Input::expect`] was told that a one-shot inflate may still
/// allocate (trailing MGH tags, NIfTI padding); a stream longer than that is read no further.
const EXPECT_SLACK: u64 = 1 << 20;

/// A file's content as a byte stream: gzip (detected by its magic bytes) is decompressed on the fly.
///
/// A gzip stream is inflated no further than its reader asks for: a format whose header says how
/// much data follows tells it with [`Input::expect`], after which a single-member file whose
/// trailer agrees is inflated in one call (about twice as fast) and anything longer is streamed
/// up to that size and no further — so a small file whose trailer or stream claims gigabytes of
/// zeros after a tiny volume (a decompression bomb) costs what the volume needs.
pub(crate) struct Input {
    source: Source,
    raw_read: Rc<Cell<u64>>,
    raw_len: u64,
    gzip: bool,
    /// The compressed bytes of a gzip file still streamed, for [`Input::expect`].
    compressed: Option<Shared>,
    /// Decompressed bytes the stream may yield (set by [`Input::expect`]).
    limit: Option<u64>,
    /// Decompressed bytes the stream has yielded.
    streamed: u64,
    /// Total decompressed length, when the whole file was inflated up front.
    inflated_len: Option<u64>,
    /// Decompressed bytes handed out so far.
    pos: u64,
    /// Bytes read ahead by [`Input::peek`], served before the reader.
    lookahead: Vec<u8>,
    lookahead_pos: usize,
}

impl Input {
    /// Opens `path`. A name ending in `.gz` whose content is not gzip is an error ([`LoadError::NotGzip`]);
    /// gzip content is decompressed whatever the name.
    pub(crate) fn open(path: &Path) -> Result<Input, LoadError> {
        let file = File::open(path).map_err(LoadError::io)?;
        let raw_len = file.metadata().map_err(LoadError::io)?.len();
        let raw_read = Rc::new(Cell::new(0));
        let mut buffered = BufReader::with_capacity(
            CHUNK,
            Counting {
                inner: file,
                count: raw_read.clone(),
            },
        );
        let gzip = is_gzip(buffered.fill_buf().map_err(LoadError::io)?);
        let named_gz = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().to_ascii_lowercase().ends_with(".gz"));
        if named_gz && !gzip {
            return Err(LoadError::NotGzip { file: String::new() });
        }
        if !gzip {
            return Ok(Input::new(
                Source::Stream(Box::new(buffered)),
                raw_read,
                raw_len,
                false,
                None,
            ));
        }
        // gzip: take the whole compressed file (its real length, not a claim) and stream it until
        // the reader says how much it needs (`expect`).
        let compressed = Shared(Rc::new(WholeFile::load(&mut buffered, raw_len)?));
        let count = Rc::new(Cell::new(0));
        let reader = Counting {
            inner: io::Cursor::new(compressed.clone()),
            count: count.clone(),
        };
        let stream = gzip_reader(BufReader::with_capacity(CHUNK, reader));
        let mut input = Input::new(Source::Stream(Box::new(stream)), count, raw_len, true, None);
        input.compressed = Some(compressed);
        Ok(input)
    }

    /// Says that the decompressed data is `total` bytes long, from its start (header, extensions
    /// and data). Of a gzip file no more is inflated: a single member whose trailer size (ISIZE)
    /// is at most `total` plus a little is inflated in one call from here on; anything else is
    /// streamed and ends at `total` (what follows, like nibabel, is not read). Plain files are
    /// unaffected.
    pub(crate) fn expect(&mut self, total: u64) {
        let Some(compressed) = self.compressed.take() else {
            return;
        };
        let budget = total.saturating_add(EXPECT_SLACK).min(MEMORY_BUDGET);
        if let Some(inflated) = gunzip_single_member(compressed.as_ref(), budget) {
            // Everything consumed so far came from the start of the same bytes.
            let at = usize::try_from(self.pos).unwrap_or(usize::MAX).min(inflated.len());
            self.raw_len = inflated.len() as u64;
            self.raw_read.set(at as u64);
            self.inflated_len = Some(inflated.len() as u64);
            self.source = Source::Memory { bytes: inflated, at };
            self.lookahead.clear();
            self.lookahead_pos = 0;
            return;
        }
        self.limit = Some(total);
    }

    fn new(source: Source, raw_read: Rc<Cell<u64>>, raw_len: u64, gzip: bool, inflated_len: Option<u64>) -> Input {
        Input {
            source,
            raw_read,
            raw_len,
            gzip,
            compressed: None,
            limit: None,
            streamed: 0,
            inflated_len,
            pos: 0,
            lookahead: Vec::new(),
            lookahead_pos: 0,
        }
    }

    /// Length of what progress counts: the file on disk, or the inflated data when the whole file
    /// was inflated up front.
    pub(crate) fn raw_len(&self) -> u64 {
        self.raw_len
    }

    /// Decompressed bytes consumed so far.
    pub(crate) fn position(&self) -> u64 {
        self.pos
    }

    /// Fraction read so far (what a progress bar shows): of the file on disk, or of the inflated
    /// data when the whole file was inflated up front.
    pub(crate) fn fraction(&self) -> f64 {
        if self.raw_len == 0 {
            1.0
        } else {
            self.raw_read.get() as f64 / self.raw_len as f64
        }
    }

    /// Bytes left after the current position: exact when uncompressed or inflated up front, `None`
    /// for streamed gzip.
    pub(crate) fn exact_remaining(&self) -> Option<u64> {
        match (self.gzip, self.inflated_len) {
            (false, _) => Some(self.raw_len.saturating_sub(self.pos)),
            (true, Some(len)) => Some(len.saturating_sub(self.pos)),
            (true, None) => None,
        }
    }

    /// At most how many bytes can still follow: exact when uncompressed, the deflate bound (or the
    /// expected size) for gzip.
    pub(crate) fn max_remaining(&self) -> u64 {
        self.exact_remaining().unwrap_or_else(|| {
            let bound = max_inflated_len(self.raw_len).saturating_sub(self.pos);
            self.limit
                .map_or(bound, |limit| bound.min(limit.saturating_sub(self.pos)))
        })
    }

    /// One read from the underlying stream; an early end of a gzip stream reads as the end of data.
    fn read_some(&mut self, buf: &mut [u8]) -> Result<usize, LoadError> {
        let reader = match &mut self.source {
            Source::Stream(reader) => reader,
            Source::Memory { bytes, at } => {
                let n = buf.len().min(bytes.len() - *at);
                buf[..n].copy_from_slice(&bytes[*at..*at + n]);
                *at += n;
                self.raw_read.set(*at as u64);
                return Ok(n);
            }
        };
        let room = self
            .limit
            .map_or(buf.len() as u64, |limit| limit.saturating_sub(self.streamed));
        let end = usize::try_from(room).unwrap_or(usize::MAX).min(buf.len());
        let buf = &mut buf[..end];
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match reader.read(buf) {
                Ok(n) => {
                    self.streamed += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) if self.gzip && matches!(e.kind(), io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData) => {
                    return Err(LoadError::BadGzip {
                        file: String::new(),
                        detail: e.to_string(),
                    });
                }
                Err(e) => return Err(LoadError::io(e)),
            }
        }
    }

    /// The next `n` bytes without consuming them (fewer at the end of the data).
    pub(crate) fn peek(&mut self, n: usize) -> Result<&[u8], LoadError> {
        if self.lookahead_pos > 0 {
            self.lookahead.drain(..self.lookahead_pos);
            self.lookahead_pos = 0;
        }
        while self.lookahead.len() < n {
            let mut tmp = vec![0; n - self.lookahead.len()];
            let got = self.read_some(&mut tmp)?;
            if got == 0 {
                break;
            }
            self.lookahead.extend_from_slice(&tmp[..got]);
        }
        Ok(&self.lookahead[..n.min(self.lookahead.len())])
    }

    /// Fills `buf` as far as the data goes; returns how many bytes were filled.
    pub(crate) fn read_full(&mut self, buf: &mut [u8]) -> Result<usize, LoadError> {
        let mut filled = 0;
        let ahead = self.lookahead.len() - self.lookahead_pos;
        if ahead > 0 {
            let k = ahead.min(buf.len());
            buf[..k].copy_from_slice(&self.lookahead[self.lookahead_pos..self.lookahead_pos + k]);
            self.lookahead_pos += k;
            filled = k;
        }
        while filled < buf.len() {
            match self.read_some(&mut buf[filled..])? {
                0 => break,
                k => filled += k,
            }
        }
        self.pos += filled as u64;
        Ok(filled)
    }

    /// The next `n` bytes without copying, when the data is in memory and holds them; consumed.
    pub(crate) fn borrow_in_memory(&mut self, n: usize) -> Option<&[u8]> {
        let Source::Memory { bytes, at } = &mut self.source else {
            return None;
        };
        // Bytes peeked ahead came from `bytes` just before `at`: hand them back to the buffer.
        let ahead = self.lookahead.len() - self.lookahead_pos;
        if bytes.len() - (*at - ahead) < n {
            return None;
        }
        *at -= ahead;
        self.lookahead.clear();
        self.lookahead_pos = 0;
        let start = *at;
        *at += n;
        self.raw_read.set(*at as u64);
        self.pos += n as u64;
        Some(&bytes[start..start + n])
    }

    /// Reads exactly `n` bytes of a header; fewer is [`LoadError::Truncated`] naming `what`.
    pub(crate) fn read_header(&mut self, n: usize, what: &str) -> Result<Vec<u8>, LoadError> {
        let mut buf = vec![0; n];
        let start = self.pos;
        let got = self.read_full(&mut buf)?;
        if got < n {
            return Err(LoadError::truncated(format!(
                "a {what} needs {n} bytes, the {} has {}",
                self.data_noun(),
                start + got as u64
            )));
        }
        Ok(buf)
    }

    /// Skips `n` bytes; returns how many could be skipped before the data ended.
    pub(crate) fn skip(&mut self, n: u64) -> Result<u64, LoadError> {
        let mut buf = vec![0; CHUNK.min(usize::try_from(n).unwrap_or(CHUNK))];
        let mut left = n;
        while left > 0 {
            let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let got = self.read_full(&mut buf[..want])?;
            left -= got as u64;
            if got < want {
                break;
            }
        }
        Ok(n - left)
    }

    /// Reads everything that is left, failing with [`LoadError::TooLarge`] beyond `limit` bytes.
    /// The buffer grows as data arrives; `on_chunk` sees the fraction of the file read.
    pub(crate) fn read_to_end(&mut self, limit: u64, on_chunk: &mut dyn FnMut(f64)) -> Result<Vec<u8>, LoadError> {
        if let Some(left) = self.exact_remaining()
            && left > limit
        {
            return Err(LoadError::too_large(format!(
                "{left} bytes exceed the memory budget of {limit} bytes"
            )));
        }
        let reserve = match self.exact_remaining() {
            Some(left) => left,
            None => self.raw_len.saturating_mul(4).min(limit),
        };
        let mut out = Vec::with_capacity(usize::try_from(reserve).unwrap_or(0));
        let mut buf = vec![0; CHUNK];
        loop {
            let got = self.read_full(&mut buf)?;
            if (out.len() + got) as u64 > limit {
                return Err(LoadError::too_large(format!(
                    "the {} exceeds the memory budget of {limit} bytes",
                    self.data_noun()
                )));
            }
            out.extend_from_slice(&buf[..got]);
            on_chunk(self.fraction());
            if got < buf.len() {
                return Ok(out);
            }
        }
    }

    /// Reads an XML document up to and including its `closing` tag (what follows, like trailing
    /// bytes of a decompression bomb, is not read), failing on a NUL byte (which XML cannot hold)
    /// and beyond `limit` bytes. `on_chunk` sees the fraction of the file read.
    pub(crate) fn read_xml(
        &mut self,
        closing: &[u8],
        limit: u64,
        on_chunk: &mut dyn FnMut(f64),
    ) -> Result<Vec<u8>, LoadError> {
        let mut out =
            Vec::with_capacity(usize::try_from(self.max_remaining().min(limit).min(CHUNK as u64 * 16)).unwrap_or(0));
        let mut buf = vec![0; CHUNK];
        loop {
            let got = self.read_full(&mut buf)?;
            if (out.len() + got) as u64 > limit {
                return Err(LoadError::too_large(format!(
                    "the {} exceeds the memory budget of {limit} bytes",
                    self.data_noun()
                )));
            }
            // The closing tag may straddle the previous chunk.
            let (start, search_from) = (out.len(), out.len().saturating_sub(closing.len()));
            out.extend_from_slice(&buf[..got]);
            on_chunk(self.fraction());
            let end = out[search_from..]
                .windows(closing.len())
                .position(|w| w == closing)
                .map(|at| search_from + at + closing.len());
            if let Some(end) = end {
                out.truncate(end);
            }
            if let Some(at) = out[start..].iter().position(|&b| b == 0) {
                return Err(LoadError::Xml {
                    file: String::new(),
                    detail: format!("a NUL byte at offset {}, which XML cannot hold", start + at),
                });
            }
            if end.is_some() || got < buf.len() {
                return Ok(out);
            }
        }
    }

    /// Whether the file is gzip (its bytes are decompressed on the way).
    pub(crate) fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// How messages call the data: the file, or its decompressed content.
    pub(crate) fn data_noun(&self) -> &'static str {
        if self.gzip { "decompressed data" } else { "file" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("cortexlens-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn peek_then_read() {
        let p = temp("plain.bin", b"0123456789");
        let mut i = Input::open(&p).unwrap();
        assert_eq!(i.peek(4).unwrap(), b"0123");
        assert_eq!(i.peek(20).unwrap(), b"0123456789");
        let mut b = [0u8; 3];
        assert_eq!(i.read_full(&mut b).unwrap(), 3);
        assert_eq!(&b, b"012");
        assert_eq!(i.peek(2).unwrap(), b"34");
        assert_eq!(i.skip(2).unwrap(), 2);
        assert_eq!(i.exact_remaining(), Some(5));
        assert_eq!(i.read_to_end(100, &mut |_| {}).unwrap(), b"56789");
        assert!(matches!(i.read_header(1, "thing"), Err(LoadError::Truncated { .. })));
    }

    #[test]
    fn borrowing_inflated_bytes_hands_back_what_was_peeked() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i % 253) as u8).collect();
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&data).unwrap();
        let mut i = Input::open(&temp("borrow.gz", &e.finish().unwrap())).unwrap();
        assert_eq!(i.peek(100).unwrap(), &data[..100]);
        i.expect(5000);
        assert_eq!(i.read_header(10, "thing").unwrap(), &data[..10]);
        assert_eq!(i.borrow_in_memory(4991), None, "more than is left");
        assert_eq!(i.borrow_in_memory(4000).unwrap(), &data[10..4010]);
        assert_eq!(i.position(), 4010);
        assert_eq!(i.read_to_end(5000, &mut |_| {}).unwrap(), &data[4010..]);
        let mut plain = Input::open(&temp("plain-borrow.bin", &data)).unwrap();
        assert_eq!(
            plain.borrow_in_memory(10),
            None,
            "streamed files are read, not borrowed"
        );
    }

    #[test]
    fn gzip_by_content_and_name() {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b"hello world").unwrap();
        let gz = e.finish().unwrap();
        let p = temp("data.bin", &gz);
        let mut i = Input::open(&p).unwrap();
        assert_eq!(i.exact_remaining(), None, "streamed until the size is known");
        i.expect(11);
        assert_eq!(
            i.exact_remaining(),
            Some(11),
            "then a single member is inflated in one call"
        );
        assert_eq!(i.read_to_end(100, &mut |_| {}).unwrap(), b"hello world");
        let mut two = gz.clone();
        two.extend_from_slice(&gz);
        let mut i = Input::open(&temp("two.gz", &two)).unwrap();
        assert_eq!(i.exact_remaining(), None, "several members are streamed");
        assert_eq!(i.read_to_end(100, &mut |_| {}).unwrap(), b"hello worldhello world");
        let p = temp("fake.nii.gz", b"not gzip");
        assert!(matches!(Input::open(&p), Err(LoadError::NotGzip { .. })));
        let p = temp("cut.gz", &gz[..gz.len() - 12]);
        let mut i = Input::open(&p).unwrap();
        let got = i.read_to_end(100, &mut |_| {}).unwrap();
        assert!(got.len() < 11);
        let p = temp("limit.bin", &[0; 100]);
        let mut i = Input::open(&p).unwrap();
        assert!(matches!(
            i.read_to_end(10, &mut |_| {}),
            Err(LoadError::TooLarge { .. })
        ));
    }
}
