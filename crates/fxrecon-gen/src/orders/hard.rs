//! The order-level situations of issue 22 (contract 1.1, 2.1, 2.2, 3): the lifecycle each one
//! builds; what it changes in how a stream writes the order's reports is [`super::hard_mods`].
//!
//! Each situation is traffic a real venue produces. Most are correct — the reconciler must
//! report nothing — and their ground truth is what the caller records for the fault (see
//! `Gen::order`): situation 4 with a missing fill (MissingFill), 5 (QuantityMismatch),
//! 7 with an AvgPx that is no rounding (QuantityMismatch), 8 (QuantityMismatch) and 11
//! (PhantomOrder, severity low). It must never emit messages or record ground truth itself.

use rand::RngExt;

use super::hard_mods::HardMods;
use super::{BOTH, Builder, D, LOT, Lifecycle, P, pick_acked_lifecycle};
use crate::model::{DROPCOPY, LINK_NONE, PIP_POINTS, PRIMARY, code, er_flags};
use crate::plan::OrderFault;

impl Builder<'_> {
    /// Builds the lifecycle of a situation whose fault is `fault` (`s`: the stream the
    /// situation's one-sided part is on) and returns what it changes in the written reports.
    pub(super) fn hard(&mut self, fault: OrderFault, s: u8) -> HardMods {
        let mut m = HardMods::default();
        let other = 1 - s;
        match fault {
            OrderFault::RefusedReplace => self.refused_replace(),
            OrderFault::Fix42ReplaceToFilled => self.replace_down_to_filled(),
            OrderFault::NewOrderIdPerReplace => {
                self.new_order_id_per_replace();
                m.flags[usize::from(DROPCOPY)] |= er_flags::NO_CL_ORD_ID;
            }
            OrderFault::ChainOutOfOrder | OrderFault::ChainOutOfOrderMissingFill => {
                self.oid_per_replace = self.rng.random_bool(0.5);
                m.swap_dc = self.chain_of_three_replaces();
                m.root_fills_on = Some(other);
            }
            OrderFault::LateBust | OrderFault::BustBeforeFill => self.normal(Lifecycle::Fill),
            OrderFault::DataFields => {
                let lc = pick_acked_lifecycle(self.rng);
                self.normal(lc);
                let on = match self.rng.random_range(0..3) {
                    0 => P,
                    1 => D,
                    _ => BOTH,
                };
                for stream in [PRIMARY, DROPCOPY] {
                    if on & (1 << stream) != 0 {
                        m.flags[usize::from(stream)] |= er_flags::DATA_FIELDS;
                    }
                }
            }
            OrderFault::AvgPxRounded | OrderFault::AvgPxOff => {
                self.normal(Lifecycle::Fill);
                m.round7_on = Some(s);
            }
            OrderFault::PriceAmend => self.price_amend(s),
            OrderFault::CancelNewReplace => self.cancel_new_replace(),
            OrderFault::VenueOnlyRejected => self.push(D, code::REJECTED, code::REJECTED, LINK_NONE, 0, 0),
            OrderFault::AbsentTags => {
                let lc = pick_acked_lifecycle(self.rng);
                self.normal(lc);
                const OMIT: [u16; 5] = [
                    er_flags::NO_ORDER_QTY,
                    er_flags::NO_LAST_PX,
                    er_flags::NO_LAST_QTY,
                    er_flags::NO_AVG_PX,
                    er_flags::NO_LEAVES_QTY,
                ];
                let pick = self.rng.random_range(1..32u32);
                for (bit, flag) in OMIT.iter().enumerate() {
                    if pick & (1 << bit) != 0 {
                        m.flags[usize::from(s)] |= flag;
                    }
                }
            }
            // The classic faults are built by the caller.
            _ => self.normal(Lifecycle::Fill),
        }
        m
    }

    /// Situation 1: New; maybe a partial fill; a replace request that the venue refuses (the
    /// primary's PendingReplace on the new ClOrdID, quoting the order as it stands, then an
    /// OrderCancelReject); 0.3–1.5 s later the venue restates a smaller OrderQty on the last
    /// accepted ClOrdID on both streams (ExecType D); then fills to the new quantity.
    fn refused_replace(&mut self) {
        self.open(BOTH);
        let open = self.open_lots();
        if open >= 4 && self.rng.random_bool(0.4) {
            let lots = self.rng.random_range(1..=open / 2);
            self.fill(lots);
        }
        self.gap();
        let accepted = self.link;
        self.link = accepted.saturating_add(1);
        self.push(P, code::PENDING_REPLACE, code::PENDING_REPLACE, accepted, 0, 0);
        self.short_gap();
        let status = self.live_status();
        self.push(P, code::CANCEL_REJECT, status, accepted, 0, 0);
        self.link = accepted;
        self.t += self.rng.random_range(300_000..=1_500_000);
        let open = self.open_lots();
        if open >= 2 {
            self.qty -= self.rng.random_range(1..open) * LOT;
        }
        let status = self.live_status();
        self.push(BOTH, code::RESTATED, status, LINK_NONE, 0, 0);
        let n = self.rng.random_range(1..=3);
        let lots = self.open_lots();
        self.fills(lots, n);
    }

    /// Situation 2 (FXALL, whose drop copy is FIX 4.2): New, partial fills, then a replace down
    /// to the filled quantity: the FIX 4.4 primary reports it Filled, the FIX 4.2 drop copy
    /// Replaced (39=5) with LeavesQty 0.
    fn replace_down_to_filled(&mut self) {
        self.open(BOTH);
        let open = self.open_lots();
        let lots = self.rng.random_range(1..open.max(2));
        let n = self.rng.random_range(1..=2);
        self.fills(lots, n);
        self.gap();
        let orig = self.link;
        self.link = self.link.saturating_add(1);
        self.push(P, code::PENDING_REPLACE, code::PENDING_REPLACE, orig, 0, 0);
        self.short_gap();
        self.qty = self.cum;
        self.push(BOTH, code::REPLACED, code::FILLED, orig, 0, 0);
    }

    /// Situation 3: one or two replaces, each with a new OrderID, then fills (or a partial
    /// fill and a cancel); the drop copy's reports carry no ClOrdID (the caller's flags).
    fn new_order_id_per_replace(&mut self) {
        self.oid_per_replace = true;
        self.open(BOTH);
        if self.rng.random_bool(0.3) {
            self.partial_fills(1);
        }
        for _ in 0..self.rng.random_range(1..=2) {
            match self.replace_qty() {
                Some(q) => self.replace(P, BOTH, q),
                None => break,
            }
        }
        if self.rng.random_bool(0.8) {
            let n = self.rng.random_range(1..=3);
            let lots = self.open_lots();
            self.fills(lots, n);
        } else {
            self.partial_fills(1);
            self.cancel(P, BOTH, false);
        }
    }

    /// Situation 4: three replaces A→B→C→D (the last 2–20 ms after the one before), then
    /// fills. Returns the steps of links C and D, whose drop-copy reports the caller swaps.
    fn chain_of_three_replaces(&mut self) -> Option<(usize, usize)> {
        self.open(BOTH);
        let mut replaced = Vec::with_capacity(3);
        for r in 0..3 {
            let Some(q) = self.replace_qty() else { break };
            if r == 2 {
                self.quick_replace(q);
            } else {
                self.replace(P, BOTH, q);
            }
            replaced.push(self.steps.len() - 1);
        }
        self.t += self.rng.random_range(50_000..=300_000);
        let n = self.rng.random_range(1..=3);
        let lots = self.open_lots();
        self.fills(lots, n);
        (replaced.len() == 3).then(|| (replaced[1], replaced[2]))
    }

    /// A replace (PendingReplace on the primary, Replaced on both) 1–10 ms after the last
    /// report, confirmed 1–10 ms later, to quantity `new_qty`.
    fn quick_replace(&mut self, new_qty: i64) {
        self.t += self.rng.random_range(1_000..=10_000);
        let orig = self.link;
        self.link = self.link.saturating_add(1);
        self.push(P, code::PENDING_REPLACE, code::PENDING_REPLACE, orig, 0, 0);
        self.t += self.rng.random_range(1_000..=10_000);
        self.qty = new_qty;
        if self.oid_per_replace {
            self.oid = self.oid.saturating_add(1);
        }
        let status = self.live_status();
        self.push(BOTH, code::REPLACED, status, orig, 0, 0);
    }

    /// Situation 8: New, maybe a partial fill, then a replace on stream `s` only that moves the
    /// limit price by 1–5 pips and keeps the quantity; the order then works for the rest of
    /// the day (no further report).
    fn price_amend(&mut self, s: u8) {
        self.open(BOTH);
        if self.rng.random_bool(0.5) {
            self.partial_fills(1);
        }
        self.gap();
        let orig = self.link;
        self.link = self.link.saturating_add(1);
        if s == PRIMARY {
            self.push(P, code::PENDING_REPLACE, code::PENDING_REPLACE, orig, 0, 0);
            self.short_gap();
        }
        let pips = self.rng.random_range(1..=5) * PIP_POINTS;
        self.price += if self.rng.random_bool(0.5) { pips } else { -pips };
        let status = self.live_status();
        self.push(1 << s, code::REPLACED, status, orig, 0, 0);
    }

    /// Situation 9: New, then a replace the venue carries out as cancel + new: the old leg
    /// Canceled (its own ClOrdID and OrderID) and a new leg (New, a new OrderID, naming the old
    /// ClOrdID in 41), in either order 1–20 ms apart, on the drop copy (and on the primary half
    /// the time; otherwise the primary shows an ordinary PendingReplace and Replaced); then
    /// fills on the new leg. Nothing is filled before the replace: a new leg starts empty.
    fn cancel_new_replace(&mut self) {
        self.open(BOTH);
        self.gap();
        let (old_link, old_oid, old_qty) = (self.link, self.oid, self.qty);
        let new_qty = self.replace_qty().unwrap_or(old_qty);
        let primary_too = self.rng.random_bool(0.5);
        let cancel_first = self.rng.random_bool(0.5);
        let venue_on = if primary_too { BOTH } else { D };
        let new_link = old_link.saturating_add(1);
        if !primary_too {
            self.link = new_link;
            self.push(P, code::PENDING_REPLACE, code::PENDING_REPLACE, old_link, 0, 0);
            self.short_gap();
        }
        let cancel_old_leg = |b: &mut Self| {
            (b.link, b.oid, b.qty) = (old_link, old_oid, old_qty);
            b.push(venue_on, code::CANCELED, code::CANCELED, LINK_NONE, 0, 0);
        };
        let open_new_leg = |b: &mut Self| {
            (b.link, b.oid, b.qty) = (new_link, old_oid.saturating_add(1), new_qty);
            b.push(venue_on, code::NEW, code::NEW, old_link, 0, 0);
            if !primary_too {
                b.push(P, code::REPLACED, code::NEW, old_link, 0, 0);
            }
        };
        if cancel_first {
            cancel_old_leg(self);
            self.t += self.rng.random_range(1_000..=20_000);
            open_new_leg(self);
        } else {
            open_new_leg(self);
            self.t += self.rng.random_range(1_000..=20_000);
            cancel_old_leg(self);
        }
        (self.link, self.oid, self.qty) = (new_link, old_oid.saturating_add(1), new_qty);
        let n = self.rng.random_range(1..=3);
        let lots = self.open_lots();
        self.fills(lots, n);
    }
}
