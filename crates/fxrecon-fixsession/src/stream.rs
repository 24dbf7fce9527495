//! Several FIX sessions feeding one stream (contract 6: "one or more FIX sessions" per
//! stream; D63): one [`MessageSource`] merging its sessions by arrival. Each session's next
//! message is held (copied out of its ring); the earliest held one is handed on. A session with
//! nothing waiting can only bring a message received later, so no wait is needed.
//!
//! Owns: the held messages and the choice among them, and ending when every session ended.
//! Must never reorder a session's own messages (each is read in order) nor decode them.

use std::io;

use fxrecon_core::time::Micros;
use fxrecon_engine::ingest::source::{MessageSource, Poll, SourceMessage};

use crate::source::FixSource;

/// One session of the stream and its next message.
struct Member {
    source: FixSource,
    /// Its next message, copied out of its ring, if `held`, and its receive stamp.
    buf: Vec<u8>,
    held: bool,
    stamp: Option<Micros>,
    ended: bool,
}

/// The sessions of one stream, as one input.
pub struct FixStream {
    members: Vec<Member>,
}

impl FixStream {
    /// One input of `sessions` (at least one).
    pub fn new(sessions: Vec<FixSource>) -> Self {
        assert!(!sessions.is_empty(), "a FIX stream has at least one session");
        let members = sessions
            .into_iter()
            .map(|source| Member { source, buf: Vec::with_capacity(64 << 10), held: false, stamp: None, ended: false })
            .collect();
        Self { members }
    }
}

impl MessageSource for FixStream {
    fn describe(&self) -> String {
        self.members.iter().map(|m| m.source.describe()).collect::<Vec<_>>().join(", ")
    }

    /// Connected while every session of the stream is logged on.
    fn connected(&self) -> bool {
        self.members.iter().all(|m| m.source.connected())
    }

    /// Nothing to skip (see [`FixSource`]'s).
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        Ok(n)
    }

    fn poll(&mut self) -> io::Result<Poll<'_>> {
        for m in self.members.iter_mut().filter(|m| !m.held && !m.ended) {
            match m.source.poll()? {
                Poll::Message(SourceMessage::Whole { bytes, received }) => {
                    m.buf.clear();
                    m.buf.extend_from_slice(bytes);
                    (m.held, m.stamp) = (true, received);
                }
                Poll::Message(other) => return Err(io::Error::other(format!("a FIX session handed on {other:?}"))),
                Poll::Pending => {}
                Poll::End => m.ended = true,
            }
        }
        // Every session message carries its stamp; one without would go first.
        let earliest = (self.members.iter().enumerate())
            .filter(|(_, m)| m.held)
            .min_by_key(|(_, m)| m.stamp.map_or(i64::MIN, |t| t.0))
            .map(|(i, _)| i);
        match earliest {
            Some(i) => {
                let m = &mut self.members[i];
                m.held = false;
                Ok(Poll::Message(SourceMessage::Whole { bytes: &m.buf, received: m.stamp }))
            }
            None if self.members.iter().all(|m| m.ended) => Ok(Poll::End),
            None => Ok(Poll::Pending),
        }
    }
}
