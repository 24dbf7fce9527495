//! The one merge: which stream's ring head the reconciler applies next, so that the two
//! streams are consumed in event-time order, ties primary first, each stream in its own order
//! (contract 1.3), whatever the threads' timing.
//!
//! Owns: the two rings' consumer ends, the streams' watermarks (an empty ring's stream may
//! still be behind: its watermark says how far it has come) and which rings are closed.
//! Never applies anything itself, and never reorders a stream.

use std::sync::Arc;

use fxrecon_core::event::Stream;
use fxrecon_core::reconciler::Reconciler;
use fxrecon_core::time::Micros;
use fxrecon_runtime::rings::Consumer;

use crate::ingest::message::{IngestMsg, Watermark};

/// Two streams' rings, merged by event time.
pub struct Merge {
    rings: [Consumer<IngestMsg>; 2],
    watermarks: [Arc<Watermark>; 2],
    /// A ring's stream has ended or stopped: nothing more will come through it.
    closed: [bool; 2],
    /// Line of each ring's head whose order was last hinted (so each is hinted once).
    hinted: [u64; 2],
}

impl Merge {
    /// Merges `rings` (primary, drop copy) whose producers publish `watermarks`.
    pub fn new(rings: [Consumer<IngestMsg>; 2], watermarks: [Arc<Watermark>; 2]) -> Self {
        Self { rings, watermarks, closed: [false; 2], hinted: [u64::MAX; 2] }
    }

    /// Marks ring `s` closed (its End or Stop was applied).
    pub fn close(&mut self, s: Stream) {
        self.closed[s.index()] = true;
    }

    /// True once both rings are closed.
    pub fn all_closed(&self) -> bool {
        self.closed == [true, true]
    }

    /// The ring of stream `s`.
    pub fn ring(&mut self, s: Stream) -> &mut Consumer<IngestMsg> {
        &mut self.rings[s.index()]
    }

    /// Which ring's head may be applied next, if any. An event at a head has its order
    /// hinted to the reconciler the first time it is looked at (D23).
    pub fn next(&mut self, reconciler: &Reconciler) -> Option<Stream> {
        // Rejects and end markers carry no time: take them as soon as they are at the head.
        let (rings, hinted) = (&self.rings, &mut self.hinted);
        let mut time_of = |s: usize| match rings[s].peek() {
            Ok(IngestMsg::Event(e)) => {
                if e.line != hinted[s] {
                    reconciler.prefetch_order(e);
                    hinted[s] = e.line;
                }
                Some(Some(e.event_time))
            }
            Ok(_) => Some(None),
            Err(_) => None,
        };
        let heads = [time_of(0), time_of(1)];
        for s in Stream::BOTH {
            if let Some(None) = heads[s.index()] {
                return Some(s);
            }
        }
        // An empty ring's watermark must be read *before* the ring is looked at again: a
        // watermark read after an empty peek could already cover an event pushed in between
        // (the ingest agent pushes, then publishes), which would then be overtaken.
        let bound =
            |s: Stream| -> i64 { if self.closed[s.index()] { i64::MAX } else { self.watermarks[s.index()].get() } };
        let pick = |p: Micros, d: Micros| if p <= d { Stream::Primary } else { Stream::DropCopy };
        match (heads[0], heads[1]) {
            (Some(Some(p)), Some(Some(d))) => Some(pick(p, d)),
            (Some(Some(p)), None) => {
                let w = bound(Stream::DropCopy);
                match time_of(1) {
                    Some(Some(d)) => Some(pick(p, d)),
                    Some(None) => Some(Stream::DropCopy),
                    // A later drop-copy event has time >= its watermark; ties go to the primary.
                    None => (p.0 <= w).then_some(Stream::Primary),
                }
            }
            (None, Some(Some(d))) => {
                let w = bound(Stream::Primary);
                match time_of(0) {
                    Some(Some(p)) => Some(pick(p, d)),
                    Some(None) => Some(Stream::Primary),
                    // The primary wins ties, so the drop copy must be strictly earlier.
                    None => (d.0 < w).then_some(Stream::DropCopy),
                }
            }
            _ => None,
        }
    }
}
