//! Quarantined input: a message that could not be used, with its reason, as it travels from
//! the ingest path to the rejects output and the journal.
//!
//! Owns: the reasons a message is rejected and the fixed-size note that carries one through a
//! ring. Plain `Copy` data: never allocates, never refers to the bytes it came from.

use crate::event::Stream;
use crate::fix::decoder::DecodeError;
use crate::text::InlineStr;

/// Bytes of a rejected message kept for its excerpt.
pub const EXCERPT_BYTES: usize = 120;

/// Why an input message was rejected, in a form that can cross a ring without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// The decoder's reason.
    Decode(DecodeError),
    /// Longer than `max_message_bytes` (its length).
    TooLong(usize),
    /// A reason read back from a journal, as it was written.
    Recorded(InlineStr<120>),
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RejectReason::Decode(e) => e.fmt(f),
            RejectReason::TooLong(n) => write!(f, "message is {n} bytes, longer than max_message_bytes"),
            RejectReason::Recorded(s) => f.write_str(s.as_str()),
        }
    }
}

/// A rejected message on its way to the rejects output (and the journal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RejectNote {
    /// Stream of the input.
    pub stream: Stream,
    /// Line (sequence) number in its input; 0: the input as a whole.
    pub line: u64,
    /// Why.
    pub reason: RejectReason,
    /// First bytes of the message.
    pub excerpt: InlineStr<EXCERPT_BYTES>,
}

impl RejectNote {
    /// A note of `stream`'s message `line`, rejected for `reason`; keeps the first bytes of
    /// `message` as its excerpt.
    pub fn new(stream: Stream, line: u64, reason: RejectReason, message: &[u8]) -> Self {
        Self {
            stream,
            line,
            reason,
            excerpt: InlineStr::from_bytes_lossy(&message[..message.len().min(EXCERPT_BYTES)]),
        }
    }
}

#[cfg(test)]
mod size_tests {
    /// A ring slot holds the larger of an event and a reject note: while the event is the
    /// larger, shrinking it shrinks the slot (D120).
    #[test]
    fn the_event_sets_the_ring_slot_size() {
        let ev = core::mem::size_of::<crate::event::ExecEvent>();
        let note = core::mem::size_of::<super::RejectNote>();
        assert!(note < ev, "a reject note ({note} bytes) now sets the ring slot's size, not the event ({ev})");
    }
}
