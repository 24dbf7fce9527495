//! What the reconciler agent hands the output agent.
//!
//! Owns: the output ring's item type. Each item carries `seq`, the number of messages the
//! reconciler had consumed when it sent it: with a journal, the output agent writes it only
//! once that many consumed messages are journaled. Plain data.

use fxrecon_core::divergence::Record;
use fxrecon_core::quarantine::RejectNote;

/// One item of the output ring.
#[allow(clippy::large_enum_variant)] // ring slots are fixed-size: boxing would allocate per item
#[derive(Clone, Copy, Debug)]
pub enum OutputMsg {
    /// A divergence, gap or resolution.
    Record {
        /// The record.
        record: Record,
        /// Consumed messages when it was emitted.
        seq: u64,
    },
    /// A rejected message.
    Reject {
        /// The rejected message.
        note: RejectNote,
        /// Consumed messages including this reject.
        seq: u64,
    },
    /// Nothing more will come.
    End {
        /// Consumed messages in all.
        seq: u64,
    },
}

impl OutputMsg {
    /// Consumed messages when it was sent.
    pub fn seq(&self) -> u64 {
        match *self {
            OutputMsg::Record { seq, .. } | OutputMsg::Reject { seq, .. } | OutputMsg::End { seq } => seq,
        }
    }
}
