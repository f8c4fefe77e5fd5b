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

/// A file's content as a byte stream: gzip (detected by its magic bytes) is decompressed on the fly.
pub(crate) struct Input {
    source: Source,
    raw_read: Rc<Cell<u64>>,
    raw_len: u64,
    gzip: bool,
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
        // gzip: take the whole compressed file (its real length, not a claim) and inflate it in one
        // call when it is a single member; otherwise stream it through the multi-member decoder.
        let compressed = WholeFile::load(&mut buffered, raw_len)?;
        let count = Rc::new(Cell::new(0));
        match gunzip_single_member(compressed.as_ref(), MEMORY_BUDGET) {
            Some(inflated) => {
                let len = inflated.len() as u64;
                let source = Source::Memory { bytes: inflated, at: 0 };
                Ok(Input::new(source, count, len, true, Some(len)))
            }
            None => {
                let reader = Counting {
                    inner: io::Cursor::new(compressed),
                    count: count.clone(),
                };
                let stream = gzip_reader(BufReader::with_capacity(CHUNK, reader));
                Ok(Input::new(Source::Stream(Box::new(stream)), count, raw_len, true, None))
            }
        }
    }

    fn new(source: Source, raw_read: Rc<Cell<u64>>, raw_len: u64, gzip: bool, inflated_len: Option<u64>) -> Input {
        Input {
            source,
            raw_read,
            raw_len,
            gzip,
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

    /// At most how many bytes can still follow: exact when uncompressed, the deflate bound for gzip.
    pub(crate) fn max_remaining(&self) -> u64 {
        self.exact_remaining().unwrap_or_else(|| max_inflated_len(self.raw_len))
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
        loop {
            match reader.read(buf) {
                Ok(n) => return Ok(n),
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
        assert_eq!(i.exact_remaining(), Some(11), "a single member is inflated up front");
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
