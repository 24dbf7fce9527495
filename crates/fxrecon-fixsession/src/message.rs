//! FIX tag=value on the wire, as much as a session layer needs: finding whole messages in a
//! TCP byte stream ([`Framer`]), reading the session fields of one ([`Fields`]), and building
//! the admin messages we send ([`Builder`]).
//!
//! Owns: BodyLength/CheckSum framing and verification, SOH-delimited field access. Must never
//! read business fields (ExecutionReport tags are the engine decoder's).

/// The field delimiter.
pub const SOH: u8 = 0x01;

/// Why bytes on the wire are not a FIX message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The stream does not start with `8=`.
    #[error("garbled stream: no BeginString (8=) where a message should start")]
    NoBeginString,
    /// BodyLength missing or not a number.
    #[error("garbled message: BodyLength (9) missing or not a number")]
    BadBodyLength,
    /// The message is longer than the limit.
    #[error("message of {0} bytes is longer than the limit")]
    TooLong(usize),
    /// CheckSum missing or wrong.
    #[error("garbled message: CheckSum (10) missing or wrong")]
    BadChecksum,
}

/// Splits a byte stream into whole FIX messages (by BodyLength, checked by CheckSum).
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    start: usize,
    max: usize,
}

impl Framer {
    /// A framer for messages of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        Self { buf: Vec::with_capacity(64 << 10), start: 0, max }
    }

    /// Appends bytes read from the socket.
    pub fn extend(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > (32 << 10) {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Drops everything buffered (a new connection).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
    }

    /// The next whole message, `Ok(None)` when more bytes are needed. After an error the
    /// stream cannot be trusted: the caller disconnects.
    pub fn next_message(&mut self) -> Result<Option<&[u8]>, FrameError> {
        let b = &self.buf[self.start..];
        if b.is_empty() {
            return Ok(None);
        }
        let probe = b.len().min(2);
        if b[..probe] != b"8="[..probe] {
            return Err(FrameError::NoBeginString);
        }
        let Some(soh1) = b.iter().position(|&c| c == SOH) else {
            return if b.len() > 32 { Err(FrameError::NoBeginString) } else { Ok(None) };
        };
        let rest = &b[soh1 + 1..];
        if rest.len() < 2 {
            return Ok(None);
        }
        if &rest[..2] != b"9=" {
            return Err(FrameError::BadBodyLength);
        }
        let Some(soh2) = rest.iter().position(|&c| c == SOH) else {
            return if rest.len() > 12 { Err(FrameError::BadBodyLength) } else { Ok(None) };
        };
        let len: usize =
            std::str::from_utf8(&rest[2..soh2]).ok().and_then(|s| s.parse().ok()).ok_or(FrameError::BadBodyLength)?;
        let body_start = soh1 + 1 + soh2 + 1;
        let total = body_start + len + 7; // "10=NNN\x01"
        if total > self.max {
            return Err(FrameError::TooLong(total));
        }
        if b.len() < total {
            return Ok(None);
        }
        let trailer = &b[body_start + len..total];
        if &trailer[..3] != b"10=" || trailer[6] != SOH {
            return Err(FrameError::BadChecksum);
        }
        let sum = checksum(&b[..body_start + len]);
        if trailer[3..6] != [b'0' + sum / 100, b'0' + sum / 10 % 10, b'0' + sum % 10] {
            return Err(FrameError::BadChecksum);
        }
        let start = self.start;
        self.start += total;
        Ok(Some(&self.buf[start..start + total]))
    }
}

/// FIX CheckSum of `bytes`: their sum modulo 256.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |a, &c| a.wrapping_add(c))
}

/// The session fields of one whole message, read by tag (first occurrence).
#[derive(Clone, Copy, Debug)]
pub struct Fields<'a> {
    bytes: &'a [u8],
}

impl<'a> Fields<'a> {
    /// Fields of a whole SOH-delimited message.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// The whole message.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The value of `tag`, if present.
    pub fn get(&self, tag: u32) -> Option<&'a [u8]> {
        let mut rest = self.bytes;
        while !rest.is_empty() {
            let end = rest.iter().position(|&c| c == SOH).unwrap_or(rest.len());
            let field = &rest[..end];
            if let Some(eq) = field.iter().position(|&c| c == b'=')
                && parse_u64(&field[..eq]) == Some(u64::from(tag))
            {
                return Some(&field[eq + 1..]);
            }
            rest = if end < rest.len() { &rest[end + 1..] } else { &[] };
        }
        None
    }

    /// The value of `tag` as text.
    pub fn str(&self, tag: u32) -> Option<&'a str> {
        self.get(tag).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The value of `tag` as an unsigned number.
    pub fn u64(&self, tag: u32) -> Option<u64> {
        self.get(tag).and_then(parse_u64)
    }

    /// Whether `tag` is `Y`.
    pub fn flag(&self, tag: u32) -> bool {
        self.get(tag) == Some(b"Y")
    }
}

fn parse_u64(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 {
        return None;
    }
    v.iter().try_fold(0u64, |a, &c| c.is_ascii_digit().then(|| a * 10 + u64::from(c - b'0')))
}

/// Builds one outgoing message: header fields first, body, then BodyLength and CheckSum.
#[derive(Debug)]
pub struct Builder {
    begin: &'static str,
    body: Vec<u8>,
}

impl Builder {
    /// A message of type `msg_type` (35).
    pub fn new(begin: &'static str, msg_type: &str) -> Self {
        let mut b = Self { begin, body: Vec::with_capacity(256) };
        b.field(35, msg_type);
        b
    }

    /// Appends `tag=value`.
    pub fn field(&mut self, tag: u32, value: impl std::fmt::Display) -> &mut Self {
        use std::io::Write;
        let _ = write!(self.body, "{tag}={value}\x01");
        self
    }

    /// The finished message bytes.
    pub fn finish(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 32);
        out.extend_from_slice(format!("8={}\x019={}\x01", self.begin, self.body.len()).as_bytes());
        out.extend_from_slice(&self.body);
        let sum = checksum(&out);
        out.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_messages_frame_back_whole_even_when_split_and_bad_ones_are_refused() {
        let mut b = Builder::new("FIX.4.4", "0");
        b.field(49, "A").field(56, "B").field(34, 7);
        let m = b.finish();
        let mut f = Framer::new(1 << 16);
        let two = [m.clone(), m.clone()].concat();
        f.extend(&two[..10]);
        assert_eq!(f.next_message(), Ok(None));
        f.extend(&two[10..]);
        let got = f.next_message().unwrap().unwrap().to_vec();
        assert_eq!(got, m);
        let fields = Fields::new(&got);
        assert_eq!((fields.str(35), fields.u64(34), fields.str(49)), (Some("0"), Some(7), Some("A")));
        assert_eq!(f.next_message().unwrap().unwrap(), &m[..]);
        assert_eq!(f.next_message(), Ok(None));
        let mut bad = m.clone();
        let n = bad.len();
        bad[n - 2] = b'0' + (bad[n - 2] - b'0' + 1) % 10;
        f.extend(&bad);
        assert_eq!(f.next_message(), Err(FrameError::BadChecksum));
        let mut g = Framer::new(1 << 16);
        g.extend(b"garbage\x01");
        assert_eq!(g.next_message(), Err(FrameError::NoBeginString));
    }
}
