//! Cutting a byte stream into lines with a hard cap on the bytes kept per line.
//!
//! Owns: line ends (`\n`, with a `\r` before it dropped), the cap (a longer line is skipped
//! to its end without being stored: memory never depends on the size of a bad line), and a
//! reusable buffer that reads arrive in. Lines are slices of that buffer: no copy per line, no
//! allocation after construction. Knows nothing of FIX.

use std::io;

use crate::ingest::source::SourceMessage;

/// Bytes of a too-long line kept for its reject's excerpt.
const HEAD_BYTES: usize = 120;

/// Where a line lies in its buffer (ranges, so finding it and borrowing it are apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Span {
    /// `data[start..end]` is the line, its `\r` already dropped.
    Whole(usize, usize),
    /// A line of `len` bytes, over the cap; `data[start..start + head]` is its head.
    TooLong { start: usize, head: usize, len: usize },
}

impl Span {
    fn of(self, data: &[u8]) -> SourceMessage<'_> {
        match self {
            Span::Whole(a, b) => SourceMessage::Whole { bytes: &data[a..b], received: None },
            Span::TooLong { start, head, len } => SourceMessage::TooLong { head: &data[start..start + head], len },
        }
    }
}

/// Finds the line that starts at `pos` of `data` (see [`cut_line`]).
#[inline]
fn find_line(data: &[u8], pos: usize, max: usize, last: bool) -> Option<(Span, usize)> {
    if pos >= data.len() {
        return None;
    }
    let rest = &data[pos..];
    let (len, next) = match memchr::memchr(b'\n', rest) {
        Some(i) => (i, pos + i + 1),
        None if last => (rest.len(), data.len()),
        None => return None,
    };
    if len > max {
        return Some((Span::TooLong { start: pos, head: max.min(HEAD_BYTES), len }, next));
    }
    let end = if len > 0 && rest[len - 1] == b'\r' { pos + len - 1 } else { pos + len };
    Some((Span::Whole(pos, end), next))
}

/// Cuts the line that starts at `pos` of `data`: the line and the position after it. Without
/// a line end in `data`, the rest is a line only when `last` (no more bytes will come), else
/// None (wait for more). A line over `max` bytes (before its `\r` is dropped) is too long.
#[inline]
pub fn cut_line(data: &[u8], pos: usize, max: usize, last: bool) -> Option<(SourceMessage<'_>, usize)> {
    find_line(data, pos, max, last).map(|(span, next)| (span.of(data), next))
}

/// What a fill of the line buffer got from its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// This many bytes were read.
    Bytes(usize),
    /// Nothing now; more may come later.
    Pending,
    /// The input is over.
    End,
}

/// What the next line is.
#[derive(Debug, PartialEq, Eq)]
pub enum NextLine<'a> {
    /// A line (or a too-long line's head).
    Line(SourceMessage<'a>),
    /// No whole line yet; more may come.
    Pending,
    /// The input is over and every line was handed out.
    End,
}

/// Lines of an input that arrives in reads: a buffer of `chunk` bytes plus room for one line
/// of `max` bytes, filled by the caller's read function.
pub struct LineBuffer {
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    max: usize,
    /// The input ended (the bytes left are the last line).
    ended: bool,
    /// Inside a too-long line: its first bytes, and its length so far.
    skipping: Option<(Vec<u8>, usize)>,
    /// The head of the too-long line handed out last (its excerpt lives here).
    head: Vec<u8>,
}

impl LineBuffer {
    /// A buffer that reads `chunk` bytes at a time and keeps lines of up to `max` bytes.
    pub fn new(chunk: usize, max: usize) -> Self {
        Self {
            buf: vec![0; chunk.max(4096) + max + 1],
            start: 0,
            end: 0,
            max,
            ended: false,
            skipping: None,
            head: Vec::with_capacity(HEAD_BYTES),
        }
    }

    /// The next line; `fill` reads more bytes into the slice it is given when no whole line
    /// is buffered.
    pub fn next_line(&mut self, mut fill: impl FnMut(&mut [u8]) -> io::Result<Fill>) -> io::Result<NextLine<'_>> {
        loop {
            if let Some((head, len)) = self.skipping.as_mut() {
                // Inside a line longer than the buffer: drop it up to its end.
                let rest = &self.buf[self.start..self.end];
                let ended_here = match memchr::memchr(b'\n', rest) {
                    Some(i) => {
                        *len += i;
                        self.start += i + 1;
                        true
                    }
                    None => {
                        *len += rest.len();
                        self.start = self.end;
                        self.ended
                    }
                };
                if ended_here {
                    let len = *len;
                    std::mem::swap(&mut self.head, head);
                    self.skipping = None;
                    return Ok(NextLine::Line(SourceMessage::TooLong { head: &self.head, len }));
                }
            } else if let Some((span, next)) = find_line(&self.buf[..self.end], self.start, self.max, self.ended) {
                self.start = next;
                return Ok(NextLine::Line(span.of(&self.buf)));
            } else if self.end - self.start > self.max {
                // No line end within the cap: keep the line's head and skip the rest of it.
                let mut head = std::mem::take(&mut self.head);
                head.clear();
                head.extend_from_slice(&self.buf[self.start..self.start + HEAD_BYTES.min(self.max)]);
                self.skipping = Some((head, 0));
                continue;
            } else if self.ended {
                return Ok(NextLine::End);
            }
            // Make room: move the partial line to the front, then read after it.
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            match fill(&mut self.buf[self.end..])? {
                Fill::Bytes(n) => self.end += n,
                Fill::Pending => return Ok(NextLine::Pending),
                Fill::End => self.ended = true,
            }
        }
    }

    /// Bytes read but not yet handed out as lines (a partial last line while following).
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of `data` read through a buffer fed `step` bytes per fill.
    fn lines(data: &[u8], step: usize, max: usize) -> Vec<String> {
        let mut b = LineBuffer::new(0, max);
        let mut pos = 0;
        let mut out = Vec::new();
        loop {
            let got = b
                .next_line(|dst| {
                    let n = step.min(dst.len()).min(data.len() - pos);
                    dst[..n].copy_from_slice(&data[pos..pos + n]);
                    pos += n;
                    Ok(if n == 0 { Fill::End } else { Fill::Bytes(n) })
                })
                .unwrap();
            match got {
                NextLine::Line(l) => out.push(format!("{l:?}")),
                NextLine::Pending => unreachable!(),
                NextLine::End => return out,
            }
        }
    }

    #[test]
    fn a_buffered_input_cuts_the_same_lines_as_a_whole_one_whatever_the_read_sizes() {
        let mut data = b"a\r\n\nbb\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 10_000));
        data.extend(b"\nlast");
        let mut whole = Vec::new();
        let mut pos = 0;
        while let Some((l, next)) = cut_line(&data, pos, 100, true) {
            whole.push(format!("{l:?}"));
            pos = next;
        }
        assert_eq!(whole.len(), 5);
        assert!(whole[3].starts_with("TooLong") && whole[3].contains("len: 10000"), "{}", whole[3]);
        for step in [1, 7, 100, 4096, 1 << 20] {
            assert_eq!(lines(&data, step, 100), whole, "reads of {step} bytes");
        }
    }

    #[test]
    fn a_long_line_does_not_grow_the_buffer_and_a_partial_line_waits_for_its_end() {
        let mut b = LineBuffer::new(0, 64);
        let cap = b.buf.capacity();
        let mut fed = 0usize;
        let long = 1 << 20;
        let got = b
            .next_line(|dst| {
                if fed >= long {
                    dst[0] = b'\n';
                    fed += 1;
                    return Ok(Fill::Bytes(1));
                }
                let n = dst.len().min(long - fed);
                dst[..n].fill(b'y');
                fed += n;
                Ok(Fill::Bytes(n))
            })
            .unwrap();
        assert!(matches!(got, NextLine::Line(SourceMessage::TooLong { len, .. }) if len == long));
        assert_eq!(b.buf.capacity(), cap);
        // A line without its end yet: pending, and kept for when the rest arrives.
        let mut chunks = vec![Some(&b"tail"[..]), None, Some(b"\n")].into_iter();
        let mut step = |dst: &mut [u8]| -> io::Result<Fill> {
            Ok(match chunks.next().flatten() {
                Some(c) => {
                    dst[..c.len()].copy_from_slice(c);
                    Fill::Bytes(c.len())
                }
                None => Fill::Pending,
            })
        };
        let mut b = LineBuffer::new(0, 64);
        assert_eq!(b.next_line(&mut step).unwrap(), NextLine::Pending);
        assert_eq!(b.buffered(), 4);
        assert_eq!(
            b.next_line(&mut step).unwrap(),
            NextLine::Line(SourceMessage::Whole { bytes: b"tail", received: None })
        );
    }
}
