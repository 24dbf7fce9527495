//! One execution record: an execution report applied to an order on one stream, and the
//! summary kept beside each of an order's lists of them.
//!
//! Owns: `ExecRecord`, `ExecKind`, the `ExecIdx` links and their `NONE` marker, the list
//! summary and the ExecID bit it is built from, and a record's snapshot form. Plain `Copy`
//! data: never allocates and never links records itself (the pool and the lists are
//! `exec_lists`).

use crate::decimal::{Price, Qty};
use crate::event::Stream;
use crate::snapshot::{SnapReader, SnapWriter, SnapshotError, load_enum, save_enum};
use crate::text::Id;
use crate::time::Micros;

/// Index of an execution record.
pub type ExecIdx = u32;
/// "No record" marker for [`ExecIdx`] links.
pub const NONE: u32 = u32::MAX;
/// The scaled value of a fill's LastQty or LastPx that its report did not carry: unknown,
/// never compared (contract 1.1); equals `Fixed::unknown().0`.
pub const UNKNOWN: i64 = crate::decimal::Qty::unknown().0;

/// What an execution record stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecKind {
    /// A fill (ExecType F, or 1/2 in FIX 4.2).
    Fill,
    /// A trade cancel or correct.
    Adjustment,
    /// Any other report (New, Canceled, Replaced …).
    Status,
}

impl ExecKind {
    /// Every kind (for snapshots).
    pub const ALL: [ExecKind; 3] = [ExecKind::Fill, ExecKind::Adjustment, ExecKind::Status];
}

/// One execution report applied to an order on one stream.
#[derive(Clone, Copy, Debug)]
pub struct ExecRecord {
    /// Stream it arrived on.
    pub stream: Stream,
    /// ExecID (17).
    pub exec_id: Id,
    /// Fill, adjustment or status report.
    pub kind: ExecKind,
    /// CumQty the fill left (fills only).
    pub cum_after: Qty,
    /// LastQty (fills; updated by a trade correct; [`UNKNOWN`] when not reported).
    pub last_qty: Qty,
    /// LastPx (fills; updated by a trade correct; [`UNKNOWN`] when not reported).
    pub last_px: Price,
    /// Event time of its first arrival.
    pub arrival: Micros,
    /// The matching fill on the other stream, or [`NONE`].
    pub matched: ExecIdx,
    /// True once a trade cancel busted it.
    pub busted: bool,
    /// Id of the MissingFill emitted for it (0: none).
    pub missing_id: u64,
    /// Its MissingFill check was skipped while the order was one-sided.
    pub deferred: bool,
    /// Next record of the same order and stream.
    pub next: ExecIdx,
}

/// A summary of one execution list, kept beside the list so that most lookups need not walk
/// it (every record visited is a likely cache miss). Derived from the list: never written to
/// a snapshot, rebuilt when one is loaded. It may over-report (a lookup then walks), never
/// under-report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct ListSummary {
    /// The [`exec_bit`]s of the records' ExecIDs.
    pub(super) exec_bits: u64,
    /// Fill records not yet matched to a fill of the other stream.
    pub(super) unmatched_fills: u32,
}

impl ListSummary {
    pub(super) fn add(&mut self, rec: &ExecRecord) {
        self.exec_bits |= exec_bit(&rec.exec_id);
        if rec.kind == ExecKind::Fill && rec.matched == NONE {
            self.unmatched_fills += 1;
        }
    }
}

/// One bit of 64 standing for an ExecID: from its last eight bytes and its length (the ExecIDs
/// of one order mostly differ in their last characters). Reads only the value's bytes.
#[inline]
pub(super) fn exec_bit(id: &Id) -> u64 {
    let b = id.as_bytes();
    let mut w = [0u8; 8];
    let tail = &b[b.len().saturating_sub(8)..];
    w[..tail.len()].copy_from_slice(tail);
    let h = (u64::from_le_bytes(w) ^ b.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    1 << (h >> 58)
}

impl ExecRecord {
    pub(super) fn save(&self, w: &mut SnapWriter<'_>) {
        w.put(&self.stream).put(&self.exec_id);
        save_enum(w, self.kind, &ExecKind::ALL);
        w.put(&self.cum_after).put(&self.last_qty).put(&self.last_px).put(&self.arrival).put(&self.matched);
        w.put(&self.busted).put(&self.missing_id).put(&self.deferred).put(&self.next);
    }

    pub(super) fn load(r: &mut SnapReader<'_>) -> Result<Self, SnapshotError> {
        Ok(Self {
            stream: r.get()?,
            exec_id: r.get()?,
            kind: load_enum(r, &ExecKind::ALL)?,
            cum_after: r.get()?,
            last_qty: r.get()?,
            last_px: r.get()?,
            arrival: r.get()?,
            matched: r.get()?,
            busted: r.get()?,
            missing_id: r.get()?,
            deferred: r.get()?,
            next: r.get()?,
        })
    }
}
