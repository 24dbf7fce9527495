//! What an ingest agent hands the reconciler: the items of one stream's ring, and the
//! stream's watermark.
//!
//! Owns: the ring item type (events, quarantined messages, and how an input ends) and the
//! watermark (no later event of the stream will be earlier than it), which lets the merge
//! apply the other stream without waiting for an idle one. Plain data.

use std::sync::atomic::{AtomicI64, Ordering};

use fxrecon_core::event::ExecEvent;
use fxrecon_core::quarantine::RejectNote;

/// One item of a stream's ring.
// Ring slots are fixed-size and pre-allocated: boxing the large variant would allocate per
// message.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug)]
pub enum IngestMsg {
    /// A decoded message with its event time set.
    Event(ExecEvent),
    /// A message that could not be used.
    Reject(RejectNote),
    /// Both inputs ended here in the run being replayed: every pending check fires now (the
    /// end-of-day flush), as it did in that run.
    EndOfInput,
    /// The input is over for good (end of file, end of stream, a failed input).
    End,
    /// The input stopped before its end (shutdown, or a replay that reached the end of its
    /// journal): what is pending stays pending, nothing is flushed.
    Stop,
}

impl Default for IngestMsg {
    /// An empty event: what a fresh ring slot holds before a message is decoded into it.
    fn default() -> Self {
        IngestMsg::Event(ExecEvent::default())
    }
}

/// A stream's watermark: event time (µs) below which no later event of the stream will come.
/// Written by its ingest agent only, read by the merge; alone on its cache line.
#[derive(Debug)]
#[repr(align(128))]
pub struct Watermark(AtomicI64);

impl Default for Watermark {
    fn default() -> Self {
        Self(AtomicI64::new(i64::MIN))
    }
}

impl Watermark {
    /// A watermark at `t`.
    pub fn at(t: i64) -> Self {
        Self(AtomicI64::new(t))
    }

    /// Publishes `t`; every item pushed before is visible to a reader that sees it.
    #[inline]
    pub fn publish(&self, t: i64) {
        self.0.store(t, Ordering::Release);
    }

    /// The last published time.
    #[inline]
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Acquire)
    }
}
