//! Several FIX sessions feeding one stream (contract 6: "one or more FIX sessions" per
//! stream; D63): one [`MessageSource`] polling its sessions in turn, so each message is handed
//! on soon after it arrived whichever session it came by.
//!
//! Owns: the turn order, copying the message of the session that had one, and ending when
//! every session ended. Must never reorder a session's own messages (each is read in order)
//! nor decode them.

use std::io;

use fxrecon_core::time::Micros;
use fxrecon_engine::ingest::source::{MessageSource, Poll, SourceMessage};

use crate::source::FixSource;

/// The sessions of one stream, as one input.
pub struct FixStream {
    sessions: Vec<FixSource>,
    ended: Vec<bool>,
    next: usize,
    buf: Vec<u8>,
    received: Option<Micros>,
}

impl FixStream {
    /// One input of `sessions` (at least one).
    pub fn new(sessions: Vec<FixSource>) -> Self {
        assert!(!sessions.is_empty(), "a FIX stream has at least one session");
        let ended = vec![false; sessions.len()];
        Self { sessions, ended, next: 0, buf: Vec::with_capacity(64 << 10), received: None }
    }
}

impl MessageSource for FixStream {
    fn describe(&self) -> String {
        self.sessions.iter().map(FixSource::describe).collect::<Vec<_>>().join(", ")
    }

    /// Nothing to skip (see [`FixSource`]'s).
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        Ok(n)
    }

    fn poll(&mut self) -> io::Result<Poll<'_>> {
        let n = self.sessions.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            if self.ended[i] {
                continue;
            }
            match self.sessions[i].poll()? {
                Poll::Message(SourceMessage::Whole { bytes, received }) => {
                    self.buf.clear();
                    self.buf.extend_from_slice(bytes);
                    self.received = received;
                    self.next = (i + 1) % n;
                    return Ok(Poll::Message(SourceMessage::Whole { bytes: &self.buf, received: self.received }));
                }
                Poll::Message(other) => {
                    return Err(io::Error::other(format!("a FIX session handed on {other:?}")));
                }
                Poll::Pending => {}
                Poll::End => self.ended[i] = true,
            }
        }
        Ok(if self.ended.iter().all(|&e| e) { Poll::End } else { Poll::Pending })
    }
}
