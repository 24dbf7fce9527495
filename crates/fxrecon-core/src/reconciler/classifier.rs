//! Divergence classification: comparing the views after an event, what an expired grace
//! window reports, the phantom and missing-fill checks, the precedence among kinds (a phantom
//! or an unmatched fill explains a difference before quantities do, quantities before
//! states), and emitting divergences, resolutions and capacity records.
//!
//! Owns: output ids, each kind's severity, and the open divergence ids kept on an order.
//! Never changes a view or what a report said (quantities, prices): it reads the state and
//! records what it finds.

use super::engine::{EventCtx, Reconciler};
use super::grace_timers::TimerKind;
use crate::divergence::{
    CapacityRecord, Divergence, DivergenceKind, QtyField, Reason, Record, Resolution, Severity, Sink, ViewSnapshot,
};
use crate::event::{ExecEvent, OrdStatus, Stream, has};
use crate::order::store::exec_record::{ExecIdx, NONE};
use crate::order::store::order_record::OrderIdx;
use crate::text::Id;
use crate::time::Micros;

impl Reconciler {
    /// Compares the views after an event: resolutions, at-once decisions, grace tracking.
    pub(super) fn evaluate(&mut self, idx: OrderIdx, now: Micros, ctx: &mut EventCtx, sink: &mut impl Sink) {
        let order = self.store.order(idx);
        if !order.both_seen() {
            return;
        }
        let qty = self.quantity_difference(idx);
        let [p, d] = order.views;
        let status_differs = p.status != d.status;
        let (open_q, open_s) = (order.open_quantity, order.open_state);
        if open_q != 0 && qty.is_none() {
            self.store.order_mut(idx).open_quantity = 0;
            self.resolve(idx, open_q, DivergenceKind::QuantityMismatch, now, ctx.stream, sink);
            ctx.resolved = true;
        }
        if open_s != 0 && !status_differs {
            self.store.order_mut(idx).open_state = 0;
            self.resolve(idx, open_s, DivergenceKind::StateMismatch, now, ctx.stream, sink);
            ctx.resolved = true;
        }
        if qty.is_none() && !status_differs {
            self.store.order_mut(idx).differ_since = None;
            return;
        }
        let order = self.store.order(idx);
        if qty.is_none()
            && p.status.is_terminal()
            && d.status.is_terminal()
            && order.open_state == 0
            && order.open_quantity == 0
            && !self.has_unmatched_fill(idx)
        {
            let reason = Reason::State { primary: p.status, dropcopy: d.status, terminal: true };
            let id = self.emit(idx, DivergenceKind::StateMismatch, now, None, None, reason, sink);
            self.store.order_mut(idx).open_state = id;
        }
        match self.store.order(idx).differ_since {
            None => {
                self.store.order_mut(idx).differ_since = Some(now);
                let generation = self.store.order(idx).generation;
                self.schedule(now, idx, generation, TimerKind::Views);
            }
            Some(since) if since.0 + self.grace_us < now.0 => self.classify_expired(idx, now, sink),
            Some(_) => {}
        }
    }

    /// The views have differed for a whole grace window: report what explains it.
    pub(super) fn classify_expired(&mut self, idx: OrderIdx, at: Micros, sink: &mut impl Sink) {
        let order = self.store.order(idx);
        if !order.both_seen() || self.has_unmatched_fill(idx) {
            return; // PhantomOrder / MissingFill explain the difference.
        }
        let [p, d] = order.views;
        if let Some(field) = self.quantity_difference(idx) {
            if order.open_quantity == 0 {
                let reason = Reason::Quantity { field, at_once: false };
                let id = self.emit(idx, DivergenceKind::QuantityMismatch, at, None, None, reason, sink);
                self.store.order_mut(idx).open_quantity = id;
            }
        } else if p.status != d.status && order.open_state == 0 && order.open_quantity == 0 {
            let reason = Reason::State { primary: p.status, dropcopy: d.status, terminal: false };
            let id = self.emit(idx, DivergenceKind::StateMismatch, at, None, None, reason, sink);
            self.store.order_mut(idx).open_state = id;
        }
    }

    pub(super) fn phantom_check(&mut self, idx: OrderIdx, at: Micros, sink: &mut impl Sink) {
        let order = self.store.order(idx);
        // Once per order: a part joined to it may have brought its own.
        if order.both_seen() || order.open_phantom != 0 {
            return;
        }
        let seen_on = if order.views[0].seen { Stream::Primary } else { Stream::DropCopy };
        let view = &order.views[seen_on.index()];
        let only_rejected = view.only_rejected && view.status == OrdStatus::Rejected;
        if seen_on == Stream::Primary && only_rejected {
            return; // An internal reject never reached the venue.
        }
        let id =
            self.emit(idx, DivergenceKind::PhantomOrder, at, Some(seen_on), None, Reason::Phantom { seen_on }, sink);
        self.store.order_mut(idx).open_phantom = id;
    }

    pub(super) fn missing_fill_check(&mut self, idx: OrderIdx, f: ExecIdx, at: Micros, sink: &mut impl Sink) {
        let rec = *self.store.exec(f);
        if rec.matched != NONE || rec.busted || rec.missing_id != 0 {
            return;
        }
        let missing_on = rec.stream.other();
        if !self.store.order(idx).view(missing_on).seen {
            self.store.exec_mut(idx, f).deferred = true; // PhantomOrder covers it while one-sided.
            return;
        }
        let reason = Reason::MissingFill { missing_on };
        let id = self.emit(idx, DivergenceKind::MissingFill, at, Some(missing_on), Some(rec.exec_id), reason, sink);
        self.store.exec_mut(idx, f).missing_id = id;
    }

    /// The first quantity on which the views differ; matched fills that no longer agree (a
    /// trade correct seen on one side) count too. A value one stream never reported is
    /// unknown and never compared (contract 1.1); AvgPx is compared rounding-aware (contract
    /// 3); the limit price only while the order is live on both streams.
    fn quantity_difference(&self, idx: OrderIdx) -> Option<QtyField> {
        let [p, d] = &self.store.order(idx).views;
        let both = |field| p.knows(field) && d.knows(field);
        if both(has::ORDER_QTY) && p.order_qty != d.order_qty {
            Some(QtyField::OrderQty)
        } else if p.cum_qty != d.cum_qty {
            Some(QtyField::CumQty)
        } else if both(has::AVG_PX) && !p.avg_px.equal_as_rounded(d.avg_px, self.cfg.avg_px_tolerance) {
            Some(QtyField::AvgPx)
        } else if !self.matched_fills_agree(idx) {
            Some(QtyField::LastPx)
        } else if both(has::PRICE) && !p.status.is_terminal() && !d.status.is_terminal() && p.price != d.price {
            Some(QtyField::Price)
        } else {
            None
        }
    }

    fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn emit(
        &mut self,
        idx: OrderIdx,
        kind: DivergenceKind,
        at: Micros,
        side: Option<Stream>,
        exec_id: Option<Id>,
        reason: Reason,
        sink: &mut impl Sink,
    ) -> u64 {
        let id = self.next_id();
        let order = self.store.order(idx);
        let severity = match kind {
            DivergenceKind::MissingFill | DivergenceKind::QuantityMismatch => Severity::High,
            DivergenceKind::PhantomOrder if side == Some(Stream::DropCopy) => {
                // A venue-only order that the venue only ever reported as Rejected is no
                // exposure (contract 4).
                let v = &order.views[Stream::DropCopy.index()];
                if v.only_rejected && v.status == OrdStatus::Rejected { Severity::Low } else { Severity::High }
            }
            DivergenceKind::PhantomOrder | DivergenceKind::StateMismatch => Severity::Medium,
            DivergenceKind::TimingAnomaly => Severity::Low,
        };
        // The stream an event is missing on: a MissingFill's `missing_on`, the other stream of
        // a PhantomOrder's `seen_on`.
        let missing_on = match kind {
            DivergenceKind::MissingFill => side,
            DivergenceKind::PhantomOrder => side.map(Stream::other),
            _ => None,
        };
        let gap_exposure = missing_on.is_some_and(|s| self.sequencer.has_open_gap(s));
        self.stats.divergences[kind as usize] += 1;
        sink.emit(&Record::Divergence(Divergence {
            id,
            kind,
            order_id: order.key,
            symbol: order.symbol,
            venue: order.venue,
            detected_at: at,
            severity,
            side,
            exec_id,
            views: [ViewSnapshot::of(&order.views[0]), ViewSnapshot::of(&order.views[1])],
            reason,
            gap_exposure,
        }));
        id
    }

    pub(super) fn resolve(
        &mut self,
        idx: OrderIdx,
        resolves: u64,
        kind: DivergenceKind,
        at: Micros,
        by: Stream,
        sink: &mut impl Sink,
    ) {
        let id = self.next_id();
        self.stats.resolved += 1;
        let order_id = self.store.order(idx).key;
        sink.emit(&Record::Resolved(Resolution { id, resolves, resolved_kind: kind, order_id, detected_at: at, by }));
    }

    pub(super) fn capacity_exhausted(&mut self, ev: &ExecEvent, now: Micros, sink: &mut impl Sink) {
        let id = self.next_id();
        let order_id = [ev.orig_cl_ord_id, ev.cl_ord_id, ev.order_id].into_iter().find(|i| !i.is_empty());
        sink.emit(&Record::CapacityExhausted(CapacityRecord {
            id,
            order_id: order_id.unwrap_or_default(),
            stream: ev.stream,
            detected_at: now,
        }));
    }
}
