//! Fill matching across streams: pairing a new fill with its twin on the other stream (by
//! ExecID among all fills, else by CumQty among live ones), and what classification asks of
//! the pairs (is any fill still unmatched? do the matched pairs agree?).
//!
//! Owns: the matching rule and what a pairing reveals at once (a late twin, a quantity or
//! price that differs), also for the fills of a provisional part joined to its order. Never changes a view: it pairs records and reports through the
//! classifier's `emit` and `resolve`.

use super::engine::{EventCtx, Reconciler};
use super::grace_timers::TimerKind;
use crate::divergence::{DivergenceKind, QtyField, Reason, Sink};
use crate::event::Stream;
use crate::order::store::exec_record::{ExecIdx, ExecKind, ExecRecord, NONE, UNKNOWN};
use crate::order::store::order_record::OrderIdx;
use crate::time::Micros;

impl Reconciler {
    pub(super) fn match_fill(
        &mut self,
        idx: OrderIdx,
        f: ExecIdx,
        now: Micros,
        ctx: &mut EventCtx,
        sink: &mut impl Sink,
    ) {
        let rec = *self.store.exec(f);
        let Some(p) = self.find_partner(idx, &rec) else {
            let generation = self.store.order(idx).generation;
            self.schedule(now, idx, generation, TimerKind::Fill(f));
            return;
        };
        self.pair(idx, f, &rec, p, now, ctx, sink);
    }

    /// Matches unmatched fill `f` of a part just joined to order `idx` (contract 2.1) with an
    /// unmatched fill of the other stream, if one is its twin now; true when one was. The pair
    /// is judged as if its later fill had just arrived.
    #[inline(never)]
    pub(super) fn rematch(
        &mut self,
        idx: OrderIdx,
        f: ExecIdx,
        now: Micros,
        ctx: &mut EventCtx,
        sink: &mut impl Sink,
    ) -> bool {
        let rec = *self.store.exec(f);
        let Some(p) = self.find_partner(idx, &rec) else { return false };
        let prec = *self.store.exec(p);
        if prec.arrival > rec.arrival {
            self.pair(idx, p, &prec, f, now, ctx, sink);
        } else {
            self.pair(idx, f, &rec, p, now, ctx, sink);
        }
        true
    }

    /// The unmatched fill of the other stream of order `idx` that fill `rec` matches.
    #[inline(always)]
    fn find_partner(&self, idx: OrderIdx, rec: &ExecRecord) -> Option<ExecIdx> {
        let other = rec.stream.other();
        // By ExecID among all fills (a fill busted on one side still matches its twin, so the
        // bust shows as a quantity difference); by CumQty only among live ones. Each walk
        // visits records that are likely cache misses: the store's list summary skips the
        // walks that cannot find anything.
        if self.store.unmatched_fills(idx, other) == 0 {
            return None; // nothing on the other stream is left to match (the list summary says so)
        }
        let head = self.store.order(idx).execs[other.index()];
        let unmatched_fill = |r: &ExecRecord| r.kind == ExecKind::Fill && r.matched == NONE;
        if self.store.may_hold_exec(idx, other, &rec.exec_id) {
            let mut at = head;
            while at != NONE {
                let r = self.store.exec(at);
                if unmatched_fill(r) && r.exec_id == rec.exec_id {
                    return Some(at);
                }
                at = r.next;
            }
        }
        let mut at = head;
        while at != NONE {
            let r = self.store.exec(at);
            if unmatched_fill(r) && !r.busted && r.cum_after == rec.cum_after {
                return Some(at);
            }
            at = r.next;
        }
        None
    }

    /// Pairs fill `f` (its record `rec`) with its twin `p` (the earlier of the two) and
    /// reports what the pairing reveals at once: the MissingFill either had is resolved, a late
    /// twin is a TimingAnomaly, a LastQty or LastPx that differs a QuantityMismatch.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn pair(
        &mut self,
        idx: OrderIdx,
        f: ExecIdx,
        rec: &ExecRecord,
        p: ExecIdx,
        now: Micros,
        ctx: &mut EventCtx,
        sink: &mut impl Sink,
    ) {
        let prec = *self.store.exec(p);
        self.store.pair_fills(idx, f, p);
        for (missing_id, by) in [(prec.missing_id, rec.stream), (rec.missing_id, prec.stream)] {
            if missing_id != 0 {
                self.resolve(idx, missing_id, DivergenceKind::MissingFill, now, by, sink);
                ctx.resolved = true;
            }
        }
        let lag_us = rec.arrival.0 - prec.arrival.0;
        if lag_us > self.threshold_us {
            let reason = Reason::LateFill { late_on: rec.stream, lag_us };
            self.emit(idx, DivergenceKind::TimingAnomaly, now, None, Some(rec.exec_id), reason, sink);
            ctx.timing_emitted = true;
        }
        let field = if known(rec.last_qty.0) && known(prec.last_qty.0) && rec.last_qty != prec.last_qty {
            Some(QtyField::LastQty)
        } else if known(rec.last_px.0) && known(prec.last_px.0) && rec.last_px != prec.last_px {
            Some(QtyField::LastPx)
        } else {
            None
        };
        if let Some(field) = field
            && self.store.order(idx).open_quantity == 0
        {
            let reason = Reason::Quantity { field, at_once: true };
            let id = self.emit(idx, DivergenceKind::QuantityMismatch, now, None, Some(rec.exec_id), reason, sink);
            self.store.order_mut(idx).open_quantity = id;
        }
    }

    pub(super) fn has_unmatched_fill(&self, idx: OrderIdx) -> bool {
        Stream::BOTH.iter().any(|&s| {
            self.store.unmatched_fills(idx, s) > 0
                && self.store.live_fills(idx, s).any(|i| self.store.exec(i).matched == NONE)
        })
    }

    pub(super) fn matched_fills_agree(&self, idx: OrderIdx) -> bool {
        if !self.store.fills_may_disagree(idx) {
            return true;
        }
        self.store.live_fills(idx, Stream::Primary).all(|i| {
            let a = self.store.exec(i);
            if a.matched == NONE {
                return true;
            }
            let b = self.store.exec(a.matched);
            let agree = |x: i64, y: i64| !known(x) || !known(y) || x == y;
            b.busted || (agree(a.last_qty.0, b.last_qty.0) && agree(a.last_px.0, b.last_px.0))
        })
    }
}

/// False for a fill's LastQty or LastPx that its report did not carry ([`UNKNOWN`]).
#[inline]
fn known(v: i64) -> bool {
    v != UNKNOWN
}
