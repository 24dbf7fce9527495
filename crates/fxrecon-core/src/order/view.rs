//! One stream's view of one order, and the FIX 4.4 state-machine rules that move it.
//!
//! Owns: status and quantities as a stream reports them, which of them the stream has reported
//! at all (a value never reported is unknown, never zero, and never compared: contract 1.1),
//! and the rule that a late report never moves a view backwards (docs/decisions.md D2). Pure
//! data, never allocates.

use crate::decimal::{Price, Qty};
use crate::event::{ExecEvent, OrdStatus, has};
use crate::snapshot::{SnapReader, SnapWriter, SnapshotError};
use crate::text::Id;
use crate::time::Micros;

const NEVER: Micros = Micros(i64::MIN);

/// The 32-bit hash kept of a refused request's ClOrdID (never 0, which means none). Only ever
/// compared with the ClOrdIDs of one order's reports on one stream.
fn request_hash(cl_ord_id: &Id) -> u32 {
    use core::hash::BuildHasher;
    let h = foldhash::fast::FixedState::with_seed(0x7265_6675_7365_6421).hash_one(cl_ord_id.as_bytes());
    (h as u32) | 1
}

/// What one stream says about an order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrderView {
    /// True once any report of the order arrived on this stream.
    pub seen: bool,
    /// Current OrdStatus.
    pub status: OrdStatus,
    /// Current OrderQty.
    pub order_qty: Qty,
    /// Current CumQty.
    pub cum_qty: Qty,
    /// Current LeavesQty.
    pub leaves_qty: Qty,
    /// Current AvgPx.
    pub avg_px: Price,
    /// Current limit price.
    pub price: Price,
    /// Depth in the replace chain of the newest ClOrdID applied (root = 0).
    pub chain_depth: u16,
    /// True while the stream showed nothing but PendingNew / Rejected with no fills.
    pub only_rejected: bool,
    /// Which of OrderQty, Price, AvgPx and LeavesQty the stream has given a value for
    /// (`has::` bits); the others are unknown.
    pub known: u16,
    /// Event time of the first non-fill report carrying each OrdStatus (for timing checks).
    status_first: [Micros; OrdStatus::COUNT],
    /// A 32-bit hash (never 0) of the ClOrdID of the last replace or cancel request this
    /// stream saw refused, or 0: a copy of that request arriving after its refusal (resent
    /// after a gap, or a late original) is history and changes nothing (contract 2.1).
    refused_request: u32,
}

impl Default for OrderView {
    fn default() -> Self {
        Self {
            seen: false,
            status: OrdStatus::PendingNew,
            order_qty: Qty::ZERO,
            cum_qty: Qty::ZERO,
            leaves_qty: Qty::ZERO,
            avg_px: Price::ZERO,
            price: Price::ZERO,
            chain_depth: 0,
            only_rejected: true,
            known: 0,
            status_first: [NEVER; OrdStatus::COUNT],
            refused_request: 0,
        }
    }
}

/// Result of applying a report to a view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Status and quantities taken as reported.
    Updated,
    /// Partly or wholly ignored because it would move the view backwards.
    Stale,
}

/// True when moving from `cur` to `new` would go backwards in the order's lifecycle.
pub fn is_backwards(cur: OrdStatus, new: OrdStatus) -> bool {
    (cur.is_terminal() && !new.is_terminal())
        || (new == OrdStatus::PendingNew && cur != OrdStatus::PendingNew)
        || (new == OrdStatus::New && cur == OrdStatus::PartiallyFilled)
}

impl OrderView {
    /// Marks the first sighting.
    pub fn mark_seen(&mut self) {
        self.seen = true;
    }

    /// Applies an ordinary ExecutionReport (not a trade cancel/correct) under the stale rules.
    /// `depth` is the replace-chain depth of its ClOrdID.
    pub fn apply_report(&mut self, ev: &ExecEvent, depth: u16) -> Applied {
        let status = ev.normalized_status();
        let cum = if ev.has(has::CUM_QTY) {
            ev.cum_qty
        } else if ev.exec_type.is_fill() {
            self.cum_qty.plus(ev.last_qty)
        } else {
            self.cum_qty
        };
        if cum < self.cum_qty || self.is_late_request(status, depth) {
            return Applied::Stale;
        }
        if status == OrdStatus::Canceled && depth < self.chain_depth && !self.status.is_terminal() {
            // A venue that replaces by cancel + new cancels the old leg: that cancels the leg,
            // not the order, whose newest accepted link lives on (contract 2.1).
            return Applied::Updated;
        }
        // A newer leg after the cancel of an older one (cancel + new, the cancel first):
        // the order lives on in the new leg.
        let revived = depth > self.chain_depth && self.status == OrdStatus::Canceled && !status.is_terminal();
        let backwards = is_backwards(self.status, status) && !revived;
        // A report that is late in the lifecycle carries the order as it was then (a resent
        // PendingReplace quotes the quantity from before the replace): it never moves OrderQty
        // or Price back, even on the newest ClOrdID.
        if depth >= self.chain_depth && !backwards {
            self.chain_depth = depth;
            if ev.has(has::ORDER_QTY) {
                self.order_qty = ev.order_qty;
                self.known |= has::ORDER_QTY;
            }
            if ev.has(has::PRICE) {
                self.price = ev.price;
                self.known |= has::PRICE;
            }
        }
        if cum > self.cum_qty || !backwards {
            self.set_quantities(ev, cum, if backwards { self.status } else { status });
        }
        if !backwards {
            self.status = status;
        }
        self.only_rejected &=
            matches!(self.status, OrdStatus::PendingNew | OrdStatus::Rejected) && self.cum_qty.is_zero();
        if backwards { Applied::Stale } else { Applied::Updated }
    }

    /// Applies a trade cancel or correct: the report's status and quantities are taken as they
    /// are, even when they go backwards.
    pub fn apply_trade_adjustment(&mut self, ev: &ExecEvent) {
        if ev.has(has::ORD_STATUS) {
            self.status = ev.normalized_status();
        }
        let cum = if ev.has(has::CUM_QTY) { ev.cum_qty } else { self.cum_qty };
        self.set_quantities(ev, cum, self.status);
    }

    /// True for a pending report (PendingReplace / PendingCancel) of a request whose link this
    /// stream already accepted: its link is older than the newest, or it is the newest and a
    /// report of it other than pending was applied (a PendingReplace resent after its
    /// Replaced, or delivered late). It is history and changes nothing (contract 2.1; a
    /// pending report names the request's own ClOrdID, so one on the root, depth 0, is news).
    #[inline]
    fn is_late_request(&self, status: OrdStatus, depth: u16) -> bool {
        let pending = |s: OrdStatus| matches!(s, OrdStatus::PendingReplace | OrdStatus::PendingCancel);
        pending(status)
            && (depth < self.chain_depth || (depth == self.chain_depth && depth > 0 && !pending(self.status)))
    }

    /// Applies the OrdStatus of an OrderCancelReject: a pending cancel/replace falls back.
    pub fn apply_cancel_reject(&mut self, ev: &ExecEvent) {
        if ev.has(has::ORD_STATUS) && matches!(self.status, OrdStatus::PendingCancel | OrdStatus::PendingReplace) {
            self.status = ev.normalized_status();
        }
    }

    /// A replace or cancel request at chain depth `refused` was refused: it never becomes
    /// part of the chain, which stays at the last accepted link (depth `accepted`), so the
    /// reports of that link keep setting OrderQty and Price (contract 2.1).
    pub fn refuse_link(&mut self, refused: u16, accepted: u16) {
        if self.chain_depth >= refused && refused > accepted {
            self.chain_depth = accepted;
        }
    }

    /// Notes that this stream saw the request with ClOrdID `cl_ord_id` refused: a pending
    /// report of it that arrives later is [`Self::is_refused_request`].
    pub fn note_refused_request(&mut self, cl_ord_id: &Id) {
        self.refused_request = request_hash(cl_ord_id);
    }

    /// True when `cl_ord_id` is the request this stream last saw refused.
    #[inline]
    pub fn is_refused_request(&self, cl_ord_id: &Id) -> bool {
        self.refused_request != 0 && self.refused_request == request_hash(cl_ord_id)
    }

    /// Takes in the view the same stream had of another part of the order (a provisional part
    /// joined to it, contract 2.1; its `chain_depth` already in this order's chain). A view
    /// only one part had is taken whole. When both had one: OrderQty and Price come from the
    /// newest link either saw (a tie keeps this one's), CumQty with LeavesQty and AvgPx from
    /// the one further filled, the status that is furthest in the lifecycle (when neither is
    /// later than the other, the one further filled, a tie keeping this one's), the first
    /// report of each status at the earlier of the two, and "only rejected" only when both were.
    pub fn join(&mut self, other: &OrderView) {
        if !other.seen {
            return;
        }
        if !self.seen {
            *self = *other;
            return;
        }
        let mine = *self;
        let (newest, older) = if other.chain_depth > mine.chain_depth { (other, &mine) } else { (&mine, other) };
        let fuller = if other.cum_qty > mine.cum_qty { other } else { &mine };
        self.chain_depth = newest.chain_depth;
        let mut known = 0;
        for (field, from) in [(has::ORDER_QTY, newest), (has::PRICE, newest)] {
            let from = if from.knows(field) { from } else { older };
            if field == has::ORDER_QTY {
                self.order_qty = from.order_qty;
            } else {
                self.price = from.price;
            }
            known |= from.known & field;
        }
        self.cum_qty = fuller.cum_qty;
        self.leaves_qty = fuller.leaves_qty;
        self.avg_px = fuller.avg_px;
        known |= fuller.known & (has::LEAVES_QTY | has::AVG_PX);
        self.known = known;
        self.status = if is_backwards(mine.status, other.status) {
            mine.status
        } else if is_backwards(other.status, mine.status) {
            other.status
        } else {
            fuller.status
        };
        self.only_rejected = mine.only_rejected && other.only_rejected;
        for (t, o) in self.status_first.iter_mut().zip(&other.status_first) {
            if *t == NEVER || (*o != NEVER && *o < *t) {
                *t = *o;
            }
        }
    }

    fn set_quantities(&mut self, ev: &ExecEvent, cum: Qty, status: OrdStatus) {
        self.cum_qty = cum;
        let leaves = if ev.has(has::LEAVES_QTY) {
            Some(ev.leaves_qty)
        } else if status.is_terminal() {
            Some(Qty::ZERO)
        } else if self.knows(has::ORDER_QTY) {
            Some(self.order_qty.minus(cum))
        } else {
            None // neither reported nor derivable: unknown
        };
        match leaves {
            Some(l) => {
                self.leaves_qty = l;
                self.known |= has::LEAVES_QTY;
            }
            None => {
                self.leaves_qty = Qty::ZERO;
                self.known &= !has::LEAVES_QTY;
            }
        }
        if ev.has(has::AVG_PX) {
            self.avg_px = ev.avg_px;
            self.known |= has::AVG_PX;
        }
    }

    /// True when the stream has given a value for the field of `has` bit `field`.
    #[inline]
    pub fn knows(&self, field: u16) -> bool {
        self.known & field == field
    }

    /// Records the first non-fill report of `status`; returns true if it was the first.
    pub fn note_status_report(&mut self, status: OrdStatus, now: Micros) -> bool {
        let slot = &mut self.status_first[status.index()];
        if *slot == NEVER {
            *slot = now;
            true
        } else {
            false
        }
    }

    /// Feeds the view to a state digest.
    pub fn digest_into(&self, d: &mut crate::digest::Digest) {
        d.u64(self.seen as u64).u64(self.status as u64).i64(self.order_qty.0).i64(self.cum_qty.0);
        d.i64(self.leaves_qty.0).i64(self.avg_px.0).i64(self.price.0).u64(self.chain_depth as u64);
        d.u64(self.only_rejected as u64).u64(self.known as u64);
        for t in &self.status_first {
            d.i64(t.0);
        }
        d.u64(u64::from(self.refused_request));
    }

    /// Writes the view into a snapshot.
    pub fn save(&self, w: &mut SnapWriter<'_>) {
        w.put(&self.seen).put(&self.status).put(&self.order_qty).put(&self.cum_qty).put(&self.leaves_qty);
        w.put(&self.avg_px).put(&self.price).put(&self.chain_depth).put(&self.only_rejected).put(&self.known);
        w.put(&self.status_first).put(&self.refused_request);
    }

    /// Reads a view written by [`OrderView::save`].
    pub fn load(r: &mut SnapReader<'_>) -> Result<Self, SnapshotError> {
        Ok(Self {
            seen: r.get()?,
            status: r.get()?,
            order_qty: r.get()?,
            cum_qty: r.get()?,
            leaves_qty: r.get()?,
            avg_px: r.get()?,
            price: r.get()?,
            chain_depth: r.get()?,
            only_rejected: r.get()?,
            known: r.get()?,
            status_first: r.get()?,
            refused_request: r.get()?,
        })
    }

    /// When this stream first reported `status` in a non-fill report, if it has.
    pub fn status_first_seen(&self, status: OrdStatus) -> Option<Micros> {
        let t = self.status_first[status.index()];
        (t != NEVER).then_some(t)
    }

    /// The statuses this stream has reported in a non-fill report, one bit per
    /// [`OrdStatus::index`] (a retired order's compact record keeps this).
    pub fn status_mask(&self) -> u16 {
        self.status_first.iter().enumerate().filter(|(_, t)| **t != NEVER).fold(0, |m, (i, _)| m | 1 << i)
    }

    /// Sets when this stream first reported `status` (a retired order reopened with its record).
    pub fn set_status_first(&mut self, status: OrdStatus, at: Micros) {
        self.status_first[status.index()] = at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ExecType;

    fn er(exec_type: ExecType, status: OrdStatus, cum: i64, qty: i64) -> ExecEvent {
        ExecEvent {
            exec_type,
            ord_status: status,
            cum_qty: Qty::from_int(cum),
            order_qty: Qty::from_int(qty),
            last_qty: Qty::from_int(0),
            present: has::CUM_QTY | has::ORDER_QTY | has::ORD_STATUS,
            ..ExecEvent::default()
        }
    }

    #[test]
    fn late_new_after_partial_fill_is_stale() {
        let mut v = OrderView::default();
        assert_eq!(v.apply_report(&er(ExecType::Trade, OrdStatus::PartiallyFilled, 5, 10), 0), Applied::Updated);
        assert_eq!(v.apply_report(&er(ExecType::New, OrdStatus::New, 0, 10), 0), Applied::Stale);
        assert_eq!(v.status, OrdStatus::PartiallyFilled);
        assert_eq!(v.cum_qty, Qty::from_int(5));
        assert_eq!(v.leaves_qty, Qty::from_int(5));
    }

    #[test]
    fn fill_racing_a_cancel_raises_cum_but_keeps_canceled() {
        let mut v = OrderView::default();
        v.apply_report(&er(ExecType::New, OrdStatus::New, 0, 10), 0);
        v.apply_report(&er(ExecType::Canceled, OrdStatus::Canceled, 0, 10), 0);
        assert_eq!(v.apply_report(&er(ExecType::Trade, OrdStatus::PartiallyFilled, 4, 10), 0), Applied::Stale);
        assert_eq!(v.status, OrdStatus::Canceled);
        assert_eq!(v.cum_qty, Qty::from_int(4));
        assert_eq!(v.leaves_qty, Qty::ZERO);
    }

    #[test]
    fn older_chain_link_cannot_undo_a_replace() {
        let mut v = OrderView::default();
        v.apply_report(&er(ExecType::Replaced, OrdStatus::New, 0, 20), 1);
        v.apply_report(&er(ExecType::New, OrdStatus::New, 0, 10), 0);
        assert_eq!(v.order_qty, Qty::from_int(20));
    }

    /// Soak finding: a PendingReplace resent (PossDup) after the replaced order filled quotes
    /// the pre-replace OrderQty on the newest ClOrdID; it must not take the quantity back.
    #[test]
    fn late_pending_replace_does_not_undo_the_replaced_quantity() {
        let mut v = OrderView::default();
        v.apply_report(&er(ExecType::New, OrdStatus::New, 0, 20), 0);
        v.apply_report(&er(ExecType::Replaced, OrdStatus::New, 0, 45), 2);
        v.apply_report(&er(ExecType::Trade, OrdStatus::Filled, 45, 45), 2);
        assert_eq!(v.apply_report(&er(ExecType::PendingReplace, OrdStatus::PendingReplace, 0, 40), 2), Applied::Stale);
        assert_eq!((v.status, v.order_qty, v.cum_qty), (OrdStatus::Filled, Qty::from_int(45), Qty::from_int(45)));
    }

    #[test]
    fn a_pending_replace_of_a_link_already_accepted_is_history() {
        // Replaced (depth 1) then its PendingReplace resent: nothing changes, the order is New
        // at its new quantity. A PendingReplace of an older link changes nothing either.
        let mut v = OrderView::default();
        v.apply_report(&er(ExecType::New, OrdStatus::New, 0, 20), 0);
        v.apply_report(&er(ExecType::Replaced, OrdStatus::New, 0, 30), 1);
        assert_eq!(v.apply_report(&er(ExecType::PendingReplace, OrdStatus::PendingReplace, 0, 20), 1), Applied::Stale);
        assert_eq!((v.status, v.order_qty), (OrdStatus::New, Qty::from_int(30)));
        assert_eq!(v.apply_report(&er(ExecType::PendingCancel, OrdStatus::PendingCancel, 0, 20), 0), Applied::Stale);
        // The next request (depth 2) is news, and so is a second pending report of it.
        assert_eq!(
            v.apply_report(&er(ExecType::PendingReplace, OrdStatus::PendingReplace, 0, 30), 2),
            Applied::Updated
        );
        assert_eq!(
            v.apply_report(&er(ExecType::PendingReplace, OrdStatus::PendingReplace, 0, 30), 2),
            Applied::Updated
        );
        assert_eq!(v.status, OrdStatus::PendingReplace);
        // A pending report on the root (a venue that does not give requests their own
        // ClOrdID) is news.
        let mut w = OrderView::default();
        w.apply_report(&er(ExecType::New, OrdStatus::New, 0, 20), 0);
        assert_eq!(w.apply_report(&er(ExecType::PendingCancel, OrdStatus::PendingCancel, 0, 20), 0), Applied::Updated);
    }

    #[test]
    fn bust_takes_filled_back() {
        let mut v = OrderView::default();
        v.apply_report(&er(ExecType::Trade, OrdStatus::Filled, 10, 10), 0);
        v.apply_trade_adjustment(&er(ExecType::TradeCancel, OrdStatus::PartiallyFilled, 6, 10));
        assert_eq!(
            (v.status, v.cum_qty, v.leaves_qty),
            (OrdStatus::PartiallyFilled, Qty::from_int(6), Qty::from_int(4))
        );
    }

    #[test]
    fn only_rejected_tracks_internal_rejects() {
        let mut v = OrderView::default();
        v.apply_report(&er(ExecType::PendingNew, OrdStatus::PendingNew, 0, 10), 0);
        v.apply_report(&er(ExecType::Rejected, OrdStatus::Rejected, 0, 10), 0);
        assert!(v.only_rejected);
        let mut w = OrderView::default();
        w.apply_report(&er(ExecType::New, OrdStatus::New, 0, 10), 0);
        w.apply_report(&er(ExecType::Rejected, OrdStatus::Rejected, 0, 10), 0);
        assert!(!w.only_rejected);
    }
}
