//! Byte-level reading and writing. The reader never indexes past its slice:
//! every accessor returns `InvalidMessage::Truncated` instead.

use crate::error::{Error, InvalidMessage};

/// A cursor over borrowed bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn any_left(&self) -> bool {
        self.left() > 0
    }

    pub fn rest(&mut self) -> &'a [u8] {
        let rest = &self.buf[self.pos..];
        self.pos = self.buf.len();
        rest
    }

    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], InvalidMessage> {
        if self.left() < n {
            return Err(InvalidMessage::Truncated(what));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8, InvalidMessage> {
        Ok(self.take(1, what)?[0])
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16, InvalidMessage> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u24(&mut self, what: &'static str) -> Result<usize, InvalidMessage> {
        let b = self.take(3, what)?;
        Ok((usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]))
    }

    /// A vector with a one-byte length prefix.
    pub fn vec8(&mut self, what: &'static str) -> Result<&'a [u8], InvalidMessage> {
        let n = usize::from(self.u8(what)?);
        self.take(n, what)
    }

    /// A vector with a two-byte length prefix.
    pub fn vec16(&mut self, what: &'static str) -> Result<&'a [u8], InvalidMessage> {
        let n = usize::from(self.u16(what)?);
        self.take(n, what)
    }

    /// A vector with a three-byte length prefix.
    pub fn vec24(&mut self, what: &'static str) -> Result<&'a [u8], InvalidMessage> {
        let n = self.u24(what)?;
        self.take(n, what)
    }

    /// Fails unless the whole input was consumed: a length that disagrees
    /// with its contents is a malformed message, not something to guess about.
    pub fn finish(&self, what: &'static str) -> Result<(), InvalidMessage> {
        if self.any_left() {
            Err(InvalidMessage::TrailingData(what))
        } else {
            Ok(())
        }
    }

    /// Reads a list of big-endian u16 values that must fill `bytes` exactly.
    pub fn u16_list(bytes: &'a [u8], what: &'static str) -> Result<Vec<u16>, InvalidMessage> {
        if !bytes.len().is_multiple_of(2) {
            return Err(InvalidMessage::Illegal(what));
        }
        Ok(bytes
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect())
    }
}

pub(crate) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends `body` behind a big-endian length prefix of `width` bytes,
/// refusing (rather than truncating) a body that does not fit.
pub(crate) fn put_prefixed(out: &mut Vec<u8>, width: usize, body: &[u8]) -> Result<(), Error> {
    let max = (1usize << (8 * width)) - 1;
    if body.len() > max {
        return Err(Error::Encode("field longer than its length prefix allows"));
    }
    let len = body.len().to_be_bytes();
    out.extend_from_slice(&len[len.len() - width..]);
    out.extend_from_slice(body);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_reports_truncation_not_panic() {
        let mut r = Reader::new(&[0x00, 0x05, 1, 2]);
        assert_eq!(r.vec16("x"), Err(InvalidMessage::Truncated("x")));
        let mut r = Reader::new(&[]);
        assert!(r.u24("y").is_err());
    }

    #[test]
    fn prefixed_refuses_overflow() {
        let mut out = Vec::new();
        assert!(put_prefixed(&mut out, 1, &[0u8; 256]).is_err());
        put_prefixed(&mut out, 3, &[7u8; 3]).unwrap();
        assert_eq!(out, [0, 0, 3, 7, 7, 7]);
    }
}
