//! Trade cancels and corrects that arrived before the fill they name (contract 2.1, "a bust
//! before its fill"): held, bounded, until that fill arrives on their stream, then applied to
//! it; one whose order retires first is dropped and counted as an unknown ExecRefID.
//!
//! Owns: the held entries (what of the adjustment report is needed to apply it later), their
//! bound, and their snapshot and digest form. Never applies anything itself: the engine takes
//! an entry when its fill arrives. Never allocates after construction.

use crate::decimal::{Price, Qty};
use crate::event::{ExecEvent, ExecType, OrdStatus, Stream};
use crate::order::store::order_record::OrderIdx;
use crate::snapshot::{SnapReader, SnapWriter, SnapshotError};
use crate::text::Id;

/// Adjustments held at most at once (beyond it an early adjustment is applied as it comes,
/// as an unknown ExecRefID).
pub const HELD_MAX: usize = 1024;

/// One adjustment waiting for its fill.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Held {
    /// The order, and its slot generation when the adjustment arrived.
    pub order: OrderIdx,
    /// Slot generation (a retired order's entries are void).
    pub generation: u32,
    /// Stream of the adjustment (and of the fill it waits for).
    pub stream: Stream,
    /// ExecRefID: the fill it adjusts.
    pub exec_ref_id: Id,
    /// True for a trade correct, false for a trade cancel.
    pub correct: bool,
    /// The report's `has::` bits.
    pub present: u16,
    /// Its OrdStatus.
    pub ord_status: OrdStatus,
    /// Its CumQty.
    pub cum_qty: Qty,
    /// Its LeavesQty.
    pub leaves_qty: Qty,
    /// Its AvgPx.
    pub avg_px: Price,
    /// Its LastQty (a correct's new value).
    pub last_qty: Qty,
    /// Its LastPx (a correct's new value).
    pub last_px: Price,
}

impl Held {
    /// What to hold of adjustment report `ev` of order `order`.
    pub fn of(ev: &ExecEvent, order: OrderIdx, generation: u32) -> Self {
        Self {
            order,
            generation,
            stream: ev.stream,
            exec_ref_id: ev.exec_ref_id,
            correct: ev.exec_type == ExecType::TradeCorrect,
            present: ev.present,
            ord_status: ev.ord_status,
            cum_qty: ev.cum_qty,
            leaves_qty: ev.leaves_qty,
            avg_px: ev.avg_px,
            last_qty: ev.last_qty,
            last_px: ev.last_px,
        }
    }

    /// The adjustment report again, with what the view and the record need of it.
    pub fn report(&self) -> ExecEvent {
        ExecEvent {
            stream: self.stream,
            exec_type: if self.correct { ExecType::TradeCorrect } else { ExecType::TradeCancel },
            exec_ref_id: self.exec_ref_id,
            present: self.present,
            ord_status: self.ord_status,
            cum_qty: self.cum_qty,
            leaves_qty: self.leaves_qty,
            avg_px: self.avg_px,
            last_qty: self.last_qty,
            last_px: self.last_px,
            ..ExecEvent::default()
        }
    }
}

/// The held adjustments.
#[derive(Debug)]
pub struct HeldAdjustments {
    entries: Vec<Held>,
}

impl Default for HeldAdjustments {
    fn default() -> Self {
        Self { entries: Vec::with_capacity(HELD_MAX) }
    }
}

impl HeldAdjustments {
    /// True when nothing is held (the per-fill check is then one comparison).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Holds `h`; false when the bound is reached.
    pub fn hold(&mut self, h: Held) -> bool {
        if self.entries.len() >= HELD_MAX {
            return false;
        }
        self.entries.push(h);
        true
    }

    /// Takes the adjustments of order `order` (generation `generation`) on `stream` waiting
    /// for fill `exec_id`, in arrival order, into `out` (at most its length); returns how many.
    pub fn take_for(
        &mut self,
        order: OrderIdx,
        generation: u32,
        stream: Stream,
        exec_id: &Id,
        out: &mut [Held],
    ) -> usize {
        let mut n = 0;
        let mut i = 0;
        while i < self.entries.len() && n < out.len() {
            let h = &self.entries[i];
            if h.order == order && h.generation == generation && h.stream == stream && h.exec_ref_id == *exec_id {
                out[n] = self.entries.remove(i);
                n += 1;
            } else {
                i += 1;
            }
        }
        n
    }

    /// Hands the entries of order `from` (generation `from_generation`) to order `to`
    /// (`to_generation`): a provisional part joined to its order (contract 2.1).
    pub fn retarget(&mut self, from: OrderIdx, from_generation: u32, to: OrderIdx, to_generation: u32) {
        for h in &mut self.entries {
            if h.order == from && h.generation == from_generation {
                h.order = to;
                h.generation = to_generation;
            }
        }
    }

    /// Drops the entries whose order is gone (`live(order, generation)` false); returns how many.
    pub fn expire(&mut self, live: impl Fn(OrderIdx, u32) -> bool) -> u64 {
        let before = self.entries.len();
        self.entries.retain(|h| live(h.order, h.generation));
        (before - self.entries.len()) as u64
    }

    /// Drops every entry (end of input); returns how many.
    pub fn clear(&mut self) -> u64 {
        let n = self.entries.len() as u64;
        self.entries.clear();
        n
    }

    /// Writes the entries into a snapshot.
    pub fn save(&self, w: &mut SnapWriter<'_>) {
        w.put(&self.entries.len());
        for h in &self.entries {
            w.put(&h.order).put(&h.generation).put(&h.stream).put(&h.exec_ref_id).put(&h.correct).put(&h.present);
            w.put(&h.ord_status).put(&h.cum_qty).put(&h.leaves_qty).put(&h.avg_px).put(&h.last_qty).put(&h.last_px);
        }
    }

    /// Reads entries written by [`HeldAdjustments::save`] (into an empty set).
    pub fn load(&mut self, r: &mut SnapReader<'_>) -> Result<(), SnapshotError> {
        let n = r.count(HELD_MAX)?;
        self.entries.clear();
        for _ in 0..n {
            self.entries.push(Held {
                order: r.get()?,
                generation: r.get()?,
                stream: r.get()?,
                exec_ref_id: r.get()?,
                correct: r.get()?,
                present: r.get()?,
                ord_status: r.get()?,
                cum_qty: r.get()?,
                leaves_qty: r.get()?,
                avg_px: r.get()?,
                last_qty: r.get()?,
                last_px: r.get()?,
            });
        }
        Ok(())
    }

    /// Every entry's order and generation (restore checks they name existing slots).
    pub fn orders(&self) -> impl Iterator<Item = (OrderIdx, u32)> + '_ {
        self.entries.iter().map(|h| (h.order, h.generation))
    }

    /// Feeds the entries to a state digest.
    pub fn digest_into(&self, d: &mut crate::digest::Digest) {
        d.u64(self.entries.len() as u64);
        for h in &self.entries {
            d.u64(h.order as u64).u64(h.generation as u64).u64(h.stream as u64).text(h.exec_ref_id.as_bytes());
            d.u64(h.correct as u64).u64(h.present as u64).u64(h.ord_status as u64).i64(h.cum_qty.0);
            d.i64(h.leaves_qty.0).i64(h.avg_px.0).i64(h.last_qty.0).i64(h.last_px.0);
        }
    }
}
