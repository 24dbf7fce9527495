//! An input already in memory (a generated day, a test's bytes): lines cut in place.
//!
//! Owns: the bytes (borrowed for ever, or owned) and the read position. For benchmarks,
//! tests and `demo`; a file is read by [`crate::ingest::file::FileSource`].

use std::borrow::Cow;
use std::io;

use crate::ingest::lines::cut_line;
use crate::ingest::source::{MessageSource, Poll};

/// Bytes in memory; each line one message.
pub struct MemorySource {
    data: Cow<'static, [u8]>,
    pos: usize,
    max: usize,
}

impl MemorySource {
    /// Lines of `data`, each capped at `max` bytes.
    pub fn new(data: impl Into<Cow<'static, [u8]>>, max: usize) -> Self {
        Self { data: data.into(), pos: 0, max }
    }
}

impl MessageSource for MemorySource {
    fn describe(&self) -> String {
        format!("memory ({} bytes)", self.data.len())
    }

    #[inline]
    fn poll(&mut self) -> io::Result<Poll<'_>> {
        Ok(match cut_line(&self.data, self.pos, self.max, true) {
            Some((line, next)) => {
                self.pos = next;
                Poll::Message(line)
            }
            None => Poll::End,
        })
    }
}
