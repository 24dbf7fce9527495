//! Bounded line reader for file inputs.
//!
//! Owns: splitting a byte stream into lines with a hard cap on the bytes kept per line. A line
//! longer than the cap is skipped to its end without being stored, so memory never depends on
//! the size of a bad line. Reuses one buffer: no allocation per line after warm-up.

use std::io::{self, BufRead};

/// One line read.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A line within the cap (newline and CR stripped).
    Text(&'a [u8]),
    /// A line longer than the cap; only its first bytes are kept (for an excerpt).
    TooLong {
        /// The first bytes of the line.
        head: &'a [u8],
        /// Its full length in bytes.
        len: usize,
    },
}

/// Anything that yields lines with a per-line cap: a buffered stream or a mapped file.
pub trait LineSource {
    /// The next line, or None at end of input.
    fn next_line(&mut self) -> io::Result<Option<Line<'_>>>;
}

/// Lines of a byte slice already in memory (a memory-mapped file): zero-copy.
pub struct SliceLines<'a> {
    data: &'a [u8],
    pos: usize,
    max: usize,
}

impl<'a> SliceLines<'a> {
    /// Lines of `data`, each capped at `max` bytes.
    pub fn new(data: &'a [u8], max: usize) -> Self {
        Self { data, pos: 0, max }
    }
}

/// Cuts the line that starts at `pos` of `data`; returns it with the position after it.
pub fn cut_line(data: &[u8], pos: usize, max: usize) -> Option<(Line<'_>, usize)> {
    if pos >= data.len() {
        return None;
    }
    let rest = &data[pos..];
    let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    let next = pos + (end + 1).min(rest.len());
    let mut line = &rest[..end];
    if line.len() > max {
        return Some((Line::TooLong { head: &line[..max.min(120)], len: line.len() }, next));
    }
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    Some((Line::Text(line), next))
}

impl LineSource for SliceLines<'_> {
    fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        Ok(cut_line(self.data, self.pos, self.max).map(|(line, next)| {
            self.pos = next;
            line
        }))
    }
}

impl<R: BufRead> LineSource for LineReader<R> {
    fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        LineReader::next_line(self)
    }
}

/// Reads lines from a `BufRead` with a per-line byte cap.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    max: usize,
    line_no: u64,
}

impl<R: BufRead> LineReader<R> {
    /// A reader keeping at most `max` bytes of any line.
    pub fn new(inner: R, max: usize) -> Self {
        Self { inner, buf: Vec::with_capacity(max.min(1 << 16)), max, line_no: 0 }
    }

    /// The next line, or None at end of input.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let mut total = 0usize;
        let mut any = false;
        loop {
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (part, done) = match memchr_nl(chunk) {
                Some(i) => (&chunk[..i], Some(i + 1)),
                None => (chunk, None),
            };
            let room = (self.max + 1).saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&part[..part.len().min(room)]);
            total += part.len();
            let used = done.unwrap_or(chunk.len());
            self.inner.consume(used);
            if done.is_some() {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.line_no += 1;
        if total > self.max {
            let head = &self.buf[..self.buf.len().min(self.max).min(120)];
            return Ok(Some(Line::TooLong { head, len: total }));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(Some(Line::Text(&self.buf)))
    }
}

fn memchr_nl(b: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_and_caps_long_ones() {
        let mut data = b"a\r\nbb\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 1 << 20));
        data.extend(b"\nlast");
        let mut r = LineReader::new(io::BufReader::with_capacity(64, &data[..]), 100);
        assert_eq!(r.next_line().unwrap(), Some(Line::Text(b"a")));
        assert_eq!(r.next_line().unwrap(), Some(Line::Text(b"bb")));
        match r.next_line().unwrap() {
            Some(Line::TooLong { head, len }) => {
                assert_eq!(len, 1 << 20);
                assert_eq!(head.len(), 100);
            }
            other => panic!("{other:?}"),
        }
        assert!(r.buf.capacity() < 4096, "a long line must not grow the buffer");
        assert_eq!(r.next_line().unwrap(), Some(Line::Text(b"last")));
        assert_eq!(r.line_no, 4);
        assert_eq!(r.next_line().unwrap(), None);
    }

    #[test]
    fn slice_lines_agree_with_the_stream_reader() {
        let mut data = b"a\r\n\nbb\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 5000));
        data.extend(b"\nlast");
        let mut a = LineReader::new(io::BufReader::with_capacity(7, &data[..]), 100);
        let mut b = SliceLines::new(&data, 100);
        loop {
            let x = a.next_line().unwrap().map(|l| format!("{l:?}"));
            let y = LineSource::next_line(&mut b).unwrap().map(|l| format!("{l:?}"));
            assert_eq!(x, y);
            if x.is_none() {
                break;
            }
        }
    }
}
