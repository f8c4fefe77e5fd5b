//! Bounds-checked reading of fixed-layout binary data: numbers at offsets, and a cursor.

use crate::error::LoadError;

/// Byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endian {
    /// Least significant byte first.
    Little,
    /// Most significant byte first.
    Big,
}

fn array<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    b.get(off..off.checked_add(N)?)?.try_into().ok()
}

macro_rules! getter {
    ($name:ident, $t:ty, $n:literal) => {
        #[doc = concat!("The `", stringify!($t), "` at `off`, `None` past the end.")]
        pub(crate) fn $name(self, b: &[u8], off: usize) -> Option<$t> {
            let a = array::<$n>(b, off)?;
            Some(match self {
                Endian::Little => <$t>::from_le_bytes(a),
                Endian::Big => <$t>::from_be_bytes(a),
            })
        }
    };
}

impl Endian {
    getter!(i16, i16, 2);
    getter!(i32, i32, 4);
    getter!(i64, i64, 8);
    getter!(f32, f32, 4);
    getter!(f64, f64, 8);
}

/// Reads big-endian fields one after another, failing with [`LoadError::Truncated`] at the end.
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Cursor { data, pos: 0 }
    }

    /// Bytes left.
    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// The next `n` bytes, for `what`.
    pub(crate) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], LoadError> {
        if n > self.remaining() {
            return Err(LoadError::truncated(format!(
                "{what} needs {n} bytes at offset {}, the file has {} left",
                self.pos,
                self.remaining()
            )));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], LoadError> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// A 3-byte big-endian unsigned integer (FreeSurfer's magic numbers and counts).
    pub(crate) fn u24(&mut self, what: &str) -> Result<u32, LoadError> {
        let [a, b, c] = self.array::<3>(what)?;
        Ok(u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c))
    }

    /// A big-endian `i32`.
    pub(crate) fn i32(&mut self, what: &str) -> Result<i32, LoadError> {
        self.array::<4>(what).map(i32::from_be_bytes)
    }

    /// The bytes up to the next `\n` (which is consumed but not returned).
    pub(crate) fn line(&mut self, what: &str) -> Result<&'a [u8], LoadError> {
        let rest = &self.data[self.pos..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| LoadError::truncated(format!("{what}: no end of line after offset {}", self.pos)))?;
        self.pos += end + 1;
        Ok(&rest[..end])
    }

    /// `count` big-endian values of `N` bytes each, converted by `f`; the length is checked
    /// against the data before anything is allocated.
    pub(crate) fn many<const N: usize, T>(
        &mut self,
        count: usize,
        what: &str,
        f: impl Fn([u8; N]) -> T,
    ) -> Result<Vec<T>, LoadError> {
        let bytes = count.checked_mul(N).filter(|&b| b <= self.remaining()).ok_or_else(|| {
            LoadError::truncated(format!(
                "{what}: {count} values of {N} bytes claimed at offset {}, the file has {} bytes left",
                self.pos,
                self.remaining()
            ))
        })?;
        let s = self.take(bytes, what)?;
        let (chunks, _) = s.as_chunks::<N>();
        Ok(chunks.iter().map(|c| f(*c)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endian_getters() {
        let b = [0x01, 0x02, 0x03, 0x04];
        assert_eq!(Endian::Big.i16(&b, 0), Some(0x0102));
        assert_eq!(Endian::Little.i16(&b, 2), Some(0x0403));
        assert_eq!(Endian::Big.i32(&b, 1), None);
        assert_eq!(Endian::Big.i64(&b, usize::MAX), None);
    }

    #[test]
    fn cursor() {
        let data = b"\xff\xff\xfehello\n\n\x00\x00\x00\x02\x3f\x80\x00\x00";
        let mut c = Cursor::new(data);
        assert_eq!(c.u24("magic").unwrap(), 0xfffffe);
        assert_eq!(c.line("stamp").unwrap(), b"hello");
        assert_eq!(c.line("blank").unwrap(), b"");
        assert_eq!(c.i32("n").unwrap(), 2);
        assert_eq!(c.many::<4, f32>(1, "values", f32::from_be_bytes).unwrap(), [1.0]);
        assert!(matches!(c.i32("past end"), Err(LoadError::Truncated { .. })));
        let mut c = Cursor::new(data);
        assert!(c.many::<4, f32>(usize::MAX, "huge", f32::from_be_bytes).is_err());
        assert!(c.many::<4, f32>(1 << 40, "huge", f32::from_be_bytes).is_err());
    }
}
