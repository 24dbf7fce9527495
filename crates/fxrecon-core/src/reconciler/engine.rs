//! The reconciler: applies events from both streams to the order store and classifies where
//! the two views disagree, per the contract's sections 2 and 3.
//!
//! Owns: the event clock ("now" is the time of the event being applied), grace timers,
//! matching of fills across streams, divergence precedence and resolution, and output ids.
//! Never reads a clock and never does I/O: records go to a [`Sink`].

use super::grace_timers::{GraceTimers, TimerKind};
use crate::divergence::{
    CapacityRecord, Divergence, DivergenceKind, GapRecord, QtyField, Reason, Record, Resolution, Severity, Sink,
    ViewSnapshot,
};
use crate::event::{ExecEvent, ExecType, MsgKind, OrdStatus, Stream, has};
use crate::order::store::order_store::{
    ExecIdx, ExecKind, ExecRecord, NONE, OrderIdx, OrderStore, StoreCapacity, StoreStats,
};
use crate::order::view::Applied;
use crate::sequencer::Sequencer;
use crate::snapshot::{SnapReader, SnapWriter, SnapshotError};
use crate::text::Id;
use crate::time::Micros;

/// First bytes of a reconciler snapshot (format version 1).
const SNAPSHOT_MAGIC: &[u8; 8] = b"FXRSTAT1";

/// Tunables of the reconciliation rules and the store's sizing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReconConfig {
    /// Grace window in milliseconds of event time (contract default 2000).
    pub grace_ms: i64,
    /// TimingAnomaly threshold in milliseconds (contract default 250).
    pub timing_threshold_ms: i64,
    /// Orders held at once (live + retiring); the store never grows beyond it.
    pub max_orders: usize,
    /// Execution records held at once.
    pub max_execs: usize,
    /// How long a finished order is kept for late reports before it is retired (ms, >= grace).
    pub retention_ms: i64,
    /// Session directions tracked by the sequencer.
    pub max_sessions: usize,
    /// An order still open but without a report for this long (ms of event time) is retired
    /// (0: never; docs/decisions.md D29).
    pub open_retention_ms: i64,
}

impl Default for ReconConfig {
    fn default() -> Self {
        Self {
            grace_ms: 2000,
            timing_threshold_ms: 250,
            max_orders: 1 << 22,
            max_execs: 1 << 24,
            retention_ms: 60_000,
            max_sessions: 256,
            open_retention_ms: 0,
        }
    }
}

/// Counters of what the reconciler did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReconStats {
    /// Messages applied, per stream index.
    pub messages: [u64; 2],
    /// ExecutionReports applied (including ignored repeats).
    pub execution_reports: u64,
    /// Reports whose ExecID had already been applied on that stream (idempotent resends).
    pub repeated_exec_ids: u64,
    /// Reports that were (partly) stale: they would have moved a view backwards.
    pub stale_reports: u64,
    /// Trade cancels/corrects whose ExecRefID named no known fill.
    pub unknown_exec_refs: u64,
    /// OrderCancelRejects for orders never seen.
    pub unknown_cancel_rejects: u64,
    /// Execution records not kept because the record pool was exhausted.
    pub exec_records_dropped: u64,
    /// Grace checks not scheduled because the timer queue was full.
    pub timers_dropped: u64,
    /// Orders created.
    pub orders: u64,
    /// Records emitted per [`DivergenceKind`] (index = precedence order).
    pub divergences: [u64; 5],
    /// SequenceGap records emitted.
    pub gaps: u64,
    /// Resolved records emitted.
    pub resolved: u64,
}

/// How far ahead in the timer queue the order of a check is prefetched.
const TIMER_PREFETCH: usize = 4;

/// Per-event bookkeeping for the "a resolving late message is also a TimingAnomaly" rule.
struct EventCtx {
    /// Stream of the message being applied.
    stream: Stream,
    timing_emitted: bool,
    resolved: bool,
}

impl EventCtx {
    fn new(stream: Stream) -> Self {
        Self { stream, timing_emitted: false, resolved: false }
    }
}

/// The reconciliation engine. Feed it events in merged order with [`Reconciler::apply`], then
/// call [`Reconciler::finish`] at end of input.
#[derive(Debug)]
pub struct Reconciler {
    cfg: ReconConfig,
    grace_us: i64,
    threshold_us: i64,
    store: OrderStore,
    sequencer: Sequencer,
    timers: GraceTimers,
    next_id: u64,
    now: Micros,
    stats: ReconStats,
}

impl Reconciler {
    /// A reconciler with empty state.
    pub fn new(cfg: ReconConfig) -> Self {
        Self {
            cfg,
            grace_us: cfg.grace_ms * Micros::PER_MS,
            threshold_us: cfg.timing_threshold_ms * Micros::PER_MS,
            store: OrderStore::with_capacity(StoreCapacity { orders: cfg.max_orders, execs: cfg.max_execs }),
            sequencer: Sequencer::with_capacity(cfg.max_sessions),
            // A phantom check per order, one per unmatched fill, one per view difference.
            timers: GraceTimers::with_capacity(cfg.max_orders.saturating_mul(4)),
            next_id: 1,
            now: Micros(i64::MIN),
            stats: ReconStats::default(),
        }
    }

    /// Maps all pre-sized state memory now (store and timers), so the first touches of fresh
    /// pages happen before the run rather than as latency spikes in it; state is unchanged.
    pub fn prefault(&mut self) {
        self.store.prefault();
        self.timers.prefault();
    }

    /// Counters so far.
    pub fn stats(&self) -> ReconStats {
        self.stats
    }

    /// Order store counters so far (retired, evicted, capacity exhausted, high water).
    pub fn store_stats(&self) -> StoreStats {
        self.store.stats()
    }

    /// A stable digest of the canonical state (orders, executions, sessions, clock, id
    /// counter): equal digests mean a replay or recovery rebuilt the same state.
    pub fn state_digest(&self) -> u64 {
        let mut d = crate::digest::Digest::default();
        d.i64(self.now.0).u64(self.next_id);
        self.store.digest_into(&mut d);
        self.sequencer.digest_into(&mut d);
        self.timers.digest_into(&mut d);
        d.finish()
    }

    /// Records emitted so far (the id of the last one).
    pub fn records_emitted(&self) -> u64 {
        self.next_id - 1
    }

    /// Appends a snapshot of the whole state to `out`: restoring it with
    /// [`Reconciler::restore`] gives a reconciler that behaves exactly like this one from here
    /// on (same records, same digest). Costs as much as the state is large.
    pub fn save(&self, out: &mut Vec<u8>) {
        let mut w = SnapWriter::new(out);
        w.bytes(SNAPSHOT_MAGIC);
        let c = &self.cfg;
        w.put(&c.grace_ms).put(&c.timing_threshold_ms).put(&c.max_orders).put(&c.max_execs);
        w.put(&c.retention_ms).put(&c.max_sessions).put(&c.open_retention_ms);
        w.put(&self.next_id).put(&self.now);
        let s = &self.stats;
        w.put(&s.messages).put(&s.execution_reports).put(&s.repeated_exec_ids).put(&s.stale_reports);
        w.put(&s.unknown_exec_refs).put(&s.unknown_cancel_rejects).put(&s.exec_records_dropped);
        w.put(&s.timers_dropped).put(&s.orders).put(&s.divergences).put(&s.gaps).put(&s.resolved);
        self.store.save(&mut w);
        self.sequencer.save(&mut w);
        self.timers.save(&mut w);
    }

    /// A reconciler with `cfg` and the state a snapshot holds; the snapshot must have been
    /// taken with the same configuration.
    pub fn restore(cfg: ReconConfig, r: &mut SnapReader<'_>) -> Result<Reconciler, SnapshotError> {
        if r.bytes(SNAPSHOT_MAGIC.len())? != SNAPSHOT_MAGIC {
            return Err(SnapshotError::Invalid("not a reconciler snapshot"));
        }
        let saved = ReconConfig {
            grace_ms: r.get()?,
            timing_threshold_ms: r.get()?,
            max_orders: r.get()?,
            max_execs: r.get()?,
            retention_ms: r.get()?,
            max_sessions: r.get()?,
            open_retention_ms: r.get()?,
        };
        if saved != cfg {
            return Err(SnapshotError::ConfigMismatch);
        }
        let mut rec = Reconciler::new(cfg);
        rec.next_id = r.get()?;
        rec.now = r.get()?;
        rec.stats = ReconStats {
            messages: r.get()?,
            execution_reports: r.get()?,
            repeated_exec_ids: r.get()?,
            stale_reports: r.get()?,
            unknown_exec_refs: r.get()?,
            unknown_cancel_rejects: r.get()?,
            exec_records_dropped: r.get()?,
            timers_dropped: r.get()?,
            orders: r.get()?,
            divergences: r.get()?,
            gaps: r.get()?,
            resolved: r.get()?,
        };
        if rec.next_id == 0 {
            return Err(SnapshotError::Invalid("record id"));
        }
        rec.store.load(r)?;
        rec.sequencer.load(r)?;
        rec.timers.load(r)?;
        // A check names a slot and, for a fill, a record: both must exist (a reused slot's
        // generation voids the check, a missing one would panic).
        let in_store = |t: &super::grace_timers::Timer| {
            rec.store.holds_order(t.order) && !matches!(t.kind, TimerKind::Fill(f) if !rec.store.holds_exec(f))
        };
        if !(0..rec.timers.len()).filter_map(|i| rec.timers.peek(i)).all(in_store) {
            return Err(SnapshotError::Invalid("timer for a missing order or record"));
        }
        Ok(rec)
    }

    /// The order store (read-only), for queries and tests.
    pub fn store(&self) -> &OrderStore {
        &self.store
    }

    /// Applies one event. Timers whose deadline is before its event time fire first.
    pub fn apply(&mut self, ev: &ExecEvent, sink: &mut impl Sink) {
        let now = self.now.max(ev.event_time);
        self.now = now;
        self.fire_timers(Some(now), sink);
        self.store.retire_idle(now, self.cfg.retention_ms * Micros::PER_MS);
        if self.cfg.open_retention_ms > 0 {
            // Two slots per event: the clock hand goes round the arena every few live-order
            // counts of events, at O(1) per event.
            self.store.sweep_stale(now, self.cfg.open_retention_ms * Micros::PER_MS, 2);
        }
        self.stats.messages[ev.stream.index()] += 1;

        let Self { sequencer, next_id, stats, .. } = self;
        sequencer.observe(ev, now, &mut |event| {
            let id = *next_id;
            *next_id += 1;
            stats.gaps += 1;
            sink.emit(&Record::Gap(GapRecord { id, event }));
        });

        match ev.kind {
            MsgKind::ExecutionReport => self.apply_report(ev, now, sink),
            MsgKind::OrderCancelReject => self.apply_cancel_reject(ev, now, sink),
            _ => {}
        }
    }

    /// Hints the cache lines the next event will need (its identity-table slot), so they load
    /// while the current one is applied. Changes nothing but timing.
    #[inline]
    pub fn prefetch(&self, next: &ExecEvent) {
        if matches!(next.kind, MsgKind::ExecutionReport | MsgKind::OrderCancelReject) {
            self.store.prefetch_ids(&next.cl_ord_id, &next.order_id);
        }
    }

    /// Hints the cache lines of the order the next event belongs to; worth it once its
    /// identity-table slot has had time to load after [`Self::prefetch`].
    #[inline]
    pub fn prefetch_order(&self, next: &ExecEvent) {
        if matches!(next.kind, MsgKind::ExecutionReport | MsgKind::OrderCancelReject) {
            self.store.prefetch_order_of(&next.cl_ord_id, &next.order_id);
        }
    }

    /// End of input: every pending timer fires (end-of-day flush).
    pub fn finish(&mut self, sink: &mut impl Sink) {
        self.fire_timers(None, sink);
    }

    fn fire_timers(&mut self, now: Option<Micros>, sink: &mut impl Sink) {
        // Checks fire in queue order: start loading the orders of the next ones.
        self.prefetch_timer();
        while let Some(t) = self.timers.pop_due(now) {
            self.prefetch_timer();
            if self.store.order(t.order).generation != t.generation {
                continue; // The order was retired; its checks went with it.
            }
            match t.kind {
                TimerKind::Phantom => self.phantom_check(t.order, t.deadline, sink),
                TimerKind::Fill(f) => self.missing_fill_check(t.order, f, t.deadline, sink),
                TimerKind::Views => {
                    let o = self.store.order(t.order);
                    if o.differ_since.is_some_and(|since| since.0 + self.grace_us <= t.deadline.0) {
                        self.classify_expired(t.order, t.deadline, sink);
                    }
                }
            }
        }
    }

    /// Hints the order (and record) of the check [`TIMER_PREFETCH`] places ahead in the queue.
    #[inline]
    fn prefetch_timer(&self) {
        if let Some(t) = self.timers.peek(TIMER_PREFETCH) {
            self.store.prefetch_order(t.order);
            if let TimerKind::Fill(f) = t.kind {
                self.store.prefetch_exec(f);
            }
        }
    }

    fn apply_report(&mut self, ev: &ExecEvent, now: Micros, sink: &mut impl Sink) {
        self.stats.execution_reports += 1;
        let s = ev.stream;
        let Ok((idx, depth)) = self.store.resolve(&ev.cl_ord_id, &ev.orig_cl_ord_id, &ev.order_id) else {
            self.capacity_exhausted(ev, now, sink);
            return;
        };
        self.store.order_mut(idx).last_activity = now;
        if self.store.find_exec(idx, s, &ev.exec_id).is_some() {
            self.stats.repeated_exec_ids += 1;
            return;
        }
        let mut ctx = EventCtx::new(ev.stream);
        self.note_sighting(idx, ev, now, &mut ctx, sink);

        let record = ExecRecord {
            stream: s,
            exec_id: ev.exec_id,
            kind: ExecKind::Status,
            cum_after: ev.cum_qty,
            last_qty: ev.last_qty,
            last_px: ev.last_px,
            arrival: now,
            matched: NONE,
            busted: false,
            missing_id: 0,
            deferred: false,
            next: NONE,
        };
        match ev.exec_type {
            ExecType::TradeCancel | ExecType::TradeCorrect => {
                match self.store.find_exec(idx, s, &ev.exec_ref_id) {
                    Some(r) => {
                        if ev.exec_type == ExecType::TradeCorrect {
                            self.store.note_corrected(idx);
                        }
                        let rec = self.store.exec_mut(r);
                        if ev.exec_type == ExecType::TradeCancel {
                            rec.busted = true;
                        } else {
                            if ev.has(has::LAST_QTY) {
                                rec.last_qty = ev.last_qty;
                            }
                            if ev.has(has::LAST_PX) {
                                rec.last_px = ev.last_px;
                            }
                        }
                    }
                    None => self.stats.unknown_exec_refs += 1,
                }
                self.record_exec(idx, ExecRecord { kind: ExecKind::Adjustment, ..record });
                self.store.order_mut(idx).views[s.index()].apply_trade_adjustment(ev);
            }
            t if t.is_fill() => {
                let view = &self.store.order(idx).views[s.index()];
                let cum_after = if ev.has(has::CUM_QTY) { ev.cum_qty } else { view.cum_qty.plus(ev.last_qty) };
                let f = self.record_exec(idx, ExecRecord { kind: ExecKind::Fill, cum_after, ..record });
                if self.store.order_mut(idx).views[s.index()].apply_report(ev, depth) == Applied::Stale {
                    self.stats.stale_reports += 1;
                }
                if let Some(f) = f {
                    self.match_fill(idx, f, now, &mut ctx, sink);
                }
            }
            _ => {
                self.record_exec(idx, record);
                let status = ev.normalized_status();
                let order = self.store.order_mut(idx);
                if order.views[s.index()].apply_report(ev, depth) == Applied::Stale {
                    self.stats.stale_reports += 1;
                }
                let first = order.views[s.index()].note_status_report(status, now);
                let other_first = order.views[s.other().index()].status_first_seen(status);
                if let (true, Some(t)) = (first, other_first) {
                    let lag_us = now.0 - t.0;
                    if lag_us > self.threshold_us {
                        let reason = Reason::LateStatus { status, late_on: s, lag_us };
                        self.emit(idx, DivergenceKind::TimingAnomaly, now, None, None, reason, sink);
                        ctx.timing_emitted = true;
                    }
                }
            }
        }
        self.finish_report(idx, now, &mut ctx, sink);
    }

    /// What every applied report ends with: compare the views, give a resolving message its
    /// TimingAnomaly, queue a finished order for retirement.
    fn finish_report(&mut self, idx: OrderIdx, now: Micros, ctx: &mut EventCtx, sink: &mut impl Sink) {
        self.evaluate(idx, now, ctx, sink);
        if ctx.resolved && !ctx.timing_emitted {
            let reason = Reason::LateResolution { late_on: ctx.stream };
            self.emit(idx, DivergenceKind::TimingAnomaly, now, None, None, reason, sink);
        }
        if self.store.order(idx).is_finished() {
            self.store.mark_retiring(idx);
        }
    }

    /// Schedules a grace check; a full timer queue is counted (the check is lost, never the event).
    fn schedule(&mut self, now: Micros, idx: OrderIdx, generation: u32, kind: TimerKind) {
        if self.timers.push(Micros(now.0.saturating_add(self.grace_us)), idx, generation, kind).is_err() {
            self.stats.timers_dropped += 1;
        }
    }

    /// Stores an execution record; a full pool is counted and the report still applies.
    fn record_exec(&mut self, idx: OrderIdx, rec: ExecRecord) -> Option<ExecIdx> {
        let r = self.store.push_exec(idx, rec.stream, rec);
        if r.is_none() {
            self.stats.exec_records_dropped += 1;
        }
        r
    }

    fn capacity_exhausted(&mut self, ev: &ExecEvent, now: Micros, sink: &mut impl Sink) {
        let id = self.next_id();
        let order_id = [ev.orig_cl_ord_id, ev.cl_ord_id, ev.order_id].into_iter().find(|i| !i.is_empty());
        sink.emit(&Record::CapacityExhausted(CapacityRecord {
            id,
            order_id: order_id.unwrap_or_default(),
            stream: ev.stream,
            detected_at: now,
        }));
    }

    fn apply_cancel_reject(&mut self, ev: &ExecEvent, now: Micros, sink: &mut impl Sink) {
        let Some(idx) = self.store.lookup(&ev.cl_ord_id, &ev.orig_cl_ord_id, &ev.order_id) else {
            self.stats.unknown_cancel_rejects += 1;
            return;
        };
        let order = self.store.order_mut(idx);
        if !order.views[ev.stream.index()].seen {
            return;
        }
        order.last_activity = now;
        order.views[ev.stream.index()].apply_cancel_reject(ev);
        let mut ctx = EventCtx::new(ev.stream);
        self.finish_report(idx, now, &mut ctx, sink);
    }

    /// First sighting bookkeeping: order attributes, the phantom timer, phantom resolution.
    fn note_sighting(&mut self, idx: OrderIdx, ev: &ExecEvent, now: Micros, ctx: &mut EventCtx, sink: &mut impl Sink) {
        let s = ev.stream;
        let order = self.store.order_mut(idx);
        if order.symbol.is_empty() {
            order.symbol = ev.symbol;
        }
        if !ev.venue.is_empty() {
            order.venue = ev.venue;
        } else if order.venue.is_empty() && s == Stream::DropCopy {
            order.venue = ev.sender;
        }
        let first_anywhere = !order.views[0].seen && !order.views[1].seen;
        let first_here = !order.views[s.index()].seen;
        order.views[s.index()].mark_seen();
        if first_anywhere {
            let generation = order.generation;
            self.stats.orders += 1;
            self.schedule(now, idx, generation, TimerKind::Phantom);
        } else if first_here && order.open_phantom != 0 {
            let phantom = order.open_phantom;
            order.open_phantom = 0;
            self.resolve(idx, phantom, DivergenceKind::PhantomOrder, now, s, sink);
            ctx.resolved = true;
            // Fills whose MissingFill check was skipped while one-sided get a fresh window.
            let generation = self.store.order(idx).generation;
            let mut cur = self.store.order(idx).execs[s.other().index()];
            while cur != NONE {
                let rec = self.store.exec_mut(cur);
                let next = rec.next;
                if rec.deferred && rec.matched == NONE {
                    rec.deferred = false;
                    self.schedule(now, idx, generation, TimerKind::Fill(cur));
                }
                cur = next;
            }
        }
    }

    fn match_fill(&mut self, idx: OrderIdx, f: ExecIdx, now: Micros, ctx: &mut EventCtx, sink: &mut impl Sink) {
        let rec = *self.store.exec(f);
        let other = rec.stream.other();
        let unmatched = |i: &ExecIdx| self.store.exec(*i).matched == NONE;
        // By ExecID among all fills (a fill busted on one side still matches its twin, so the
        // bust shows as a quantity difference); by CumQty only among live ones. Each walk
        // visits records that are likely cache misses: the store's list summary skips the
        // walks that cannot find anything.
        let partner = if self.store.unmatched_fills(idx, other) == 0 {
            None // nothing on the other stream is left to match (the list summary says so)
        } else {
            let by_exec_id = if self.store.may_hold_exec(idx, other, &rec.exec_id) {
                self.store
                    .execs_of(idx, other)
                    .filter(|&i| self.store.exec(i).kind == ExecKind::Fill)
                    .filter(unmatched)
                    .find(|&i| self.store.exec(i).exec_id == rec.exec_id)
            } else {
                None
            };
            by_exec_id.or_else(|| {
                self.store
                    .live_fills(idx, other)
                    .filter(unmatched)
                    .find(|&i| self.store.exec(i).cum_after == rec.cum_after)
            })
        };
        let Some(p) = partner else {
            let generation = self.store.order(idx).generation;
            self.schedule(now, idx, generation, TimerKind::Fill(f));
            return;
        };
        let prec = *self.store.exec(p);
        self.store.pair_fills(idx, f, p);
        if prec.missing_id != 0 {
            self.resolve(idx, prec.missing_id, DivergenceKind::MissingFill, now, rec.stream, sink);
            ctx.resolved = true;
        }
        let lag_us = now.0 - prec.arrival.0;
        if lag_us > self.threshold_us {
            let reason = Reason::LateFill { late_on: rec.stream, lag_us };
            self.emit(idx, DivergenceKind::TimingAnomaly, now, None, Some(rec.exec_id), reason, sink);
            ctx.timing_emitted = true;
        }
        let field = if rec.last_qty != prec.last_qty {
            Some(QtyField::LastQty)
        } else if rec.last_px != prec.last_px {
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

    /// Compares the views after an event: resolutions, at-once decisions, grace tracking.
    fn evaluate(&mut self, idx: OrderIdx, now: Micros, ctx: &mut EventCtx, sink: &mut impl Sink) {
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
    fn classify_expired(&mut self, idx: OrderIdx, at: Micros, sink: &mut impl Sink) {
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

    fn phantom_check(&mut self, idx: OrderIdx, at: Micros, sink: &mut impl Sink) {
        let order = self.store.order(idx);
        if order.both_seen() {
            return;
        }
        let seen_on = if order.views[0].seen { Stream::Primary } else { Stream::DropCopy };
        let primary = &order.views[0];
        if seen_on == Stream::Primary && primary.only_rejected && primary.status == OrdStatus::Rejected {
            return; // An internal reject never reached the venue.
        }
        let id =
            self.emit(idx, DivergenceKind::PhantomOrder, at, Some(seen_on), None, Reason::Phantom { seen_on }, sink);
        self.store.order_mut(idx).open_phantom = id;
    }

    fn missing_fill_check(&mut self, idx: OrderIdx, f: ExecIdx, at: Micros, sink: &mut impl Sink) {
        let rec = *self.store.exec(f);
        if rec.matched != NONE || rec.busted || rec.missing_id != 0 {
            return;
        }
        let missing_on = rec.stream.other();
        if !self.store.order(idx).view(missing_on).seen {
            self.store.exec_mut(f).deferred = true; // PhantomOrder covers it while one-sided.
            return;
        }
        let reason = Reason::MissingFill { missing_on };
        let id = self.emit(idx, DivergenceKind::MissingFill, at, Some(missing_on), Some(rec.exec_id), reason, sink);
        self.store.exec_mut(f).missing_id = id;
    }

    /// The first quantity on which the views differ; matched fills that no longer agree (a
    /// trade correct seen on one side) count too.
    fn quantity_difference(&self, idx: OrderIdx) -> Option<QtyField> {
        let [p, d] = &self.store.order(idx).views;
        if p.order_qty != d.order_qty {
            Some(QtyField::OrderQty)
        } else if p.cum_qty != d.cum_qty {
            Some(QtyField::CumQty)
        } else if p.avg_px != d.avg_px {
            Some(QtyField::AvgPx)
        } else if !self.matched_fills_agree(idx) {
            Some(QtyField::LastPx)
        } else {
            None
        }
    }

    fn has_unmatched_fill(&self, idx: OrderIdx) -> bool {
        Stream::BOTH.iter().any(|&s| {
            self.store.unmatched_fills(idx, s) > 0
                && self.store.live_fills(idx, s).any(|i| self.store.exec(i).matched == NONE)
        })
    }

    fn matched_fills_agree(&self, idx: OrderIdx) -> bool {
        if !self.store.fills_may_disagree(idx) {
            return true;
        }
        self.store.live_fills(idx, Stream::Primary).all(|i| {
            let a = self.store.exec(i);
            if a.matched == NONE {
                return true;
            }
            let b = self.store.exec(a.matched);
            b.busted || (a.last_qty == b.last_qty && a.last_px == b.last_px)
        })
    }

    fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
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
            DivergenceKind::PhantomOrder if side == Some(Stream::DropCopy) => Severity::High,
            DivergenceKind::PhantomOrder | DivergenceKind::StateMismatch => Severity::Medium,
            DivergenceKind::TimingAnomaly => Severity::Low,
        };
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
        }));
        id
    }

    fn resolve(
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{OrdStatus, has};
    use crate::text::Name;

    fn er(stream: Stream, t: i64, clordid: &str, exec_id: &str, et: ExecType, st: OrdStatus) -> ExecEvent {
        ExecEvent {
            stream,
            kind: MsgKind::ExecutionReport,
            event_time: Micros(t),
            cl_ord_id: Id::from_bytes(clordid.as_bytes()).unwrap(),
            exec_id: Id::from_bytes(exec_id.as_bytes()).unwrap(),
            exec_type: et,
            ord_status: st,
            symbol: Name::from_bytes(b"EUR/USD").unwrap(),
            present: has::ORD_STATUS | has::EXEC_TYPE,
            ..ExecEvent::default()
        }
    }

    /// A store full of live orders: the next new order is reported as CapacityExhausted, every
    /// known order keeps reconciling, and once an order finishes its slot is reused.
    #[test]
    fn full_store_reports_capacity_exhausted_and_loses_nothing_else() {
        let cfg = ReconConfig { max_orders: 2, max_execs: 64, retention_ms: 2000, ..ReconConfig::default() };
        let mut r = Reconciler::new(cfg);
        let mut out: Vec<Record> = Vec::new();
        let (p, d) = (Stream::Primary, Stream::DropCopy);
        r.apply(&er(p, 0, "A", "E1", ExecType::New, OrdStatus::New), &mut out);
        r.apply(&er(p, 1, "B", "E2", ExecType::New, OrdStatus::New), &mut out);
        r.apply(&er(p, 2, "C", "E3", ExecType::New, OrdStatus::New), &mut out);
        assert!(matches!(out.last(), Some(Record::CapacityExhausted(c)) if c.order_id.as_str() == "C"));
        // Known orders still reconcile.
        r.apply(&er(d, 3, "A", "E1", ExecType::New, OrdStatus::New), &mut out);
        r.apply(&er(d, 4, "B", "E2", ExecType::New, OrdStatus::New), &mut out);
        for s in [p, d] {
            r.apply(&er(s, 10, "A", "E9", ExecType::Canceled, OrdStatus::Canceled), &mut out);
        }
        // A is finished: the next new order evicts it instead of being refused.
        r.apply(&er(p, 20, "D", "E4", ExecType::New, OrdStatus::New), &mut out);
        r.apply(&er(d, 21, "D", "E4", ExecType::New, OrdStatus::New), &mut out);
        r.finish(&mut out);
        let capacity = out.iter().filter(|x| matches!(x, Record::CapacityExhausted(_))).count();
        assert_eq!(capacity, 1);
        assert_eq!(r.store_stats().evicted, 1);
        assert!(!out.iter().any(|x| matches!(x, Record::Divergence(_))), "{out:?}");
    }

    fn kinds(out: &[Record]) -> Vec<DivergenceKind> {
        out.iter()
            .filter_map(|r| match r {
                Record::Divergence(d) => Some(d.kind),
                _ => None,
            })
            .collect()
    }

    fn fill(stream: Stream, t: i64, exec_id: &str, cum: i64, last: i64, px: i64, status: OrdStatus) -> ExecEvent {
        let mut e = er(stream, t, "F", exec_id, ExecType::Trade, status);
        e.cum_qty = crate::decimal::Qty::from_int(cum);
        e.last_qty = crate::decimal::Qty::from_int(last);
        e.last_px = crate::decimal::Price::from_int(px);
        e.order_qty = crate::decimal::Qty::from_int(100);
        e.present |= has::CUM_QTY | has::LAST_QTY | has::LAST_PX | has::ORDER_QTY;
        e
    }

    /// Review finding: a primary order seen only as PendingNew is a phantom (only Rejected is
    /// exempt).
    #[test]
    fn primary_pending_new_only_is_a_phantom_but_rejected_only_is_not() {
        let mut r = Reconciler::new(ReconConfig { max_orders: 8, max_execs: 64, ..ReconConfig::default() });
        let mut out = Vec::new();
        r.apply(&er(Stream::Primary, 0, "PN", "E1", ExecType::PendingNew, OrdStatus::PendingNew), &mut out);
        r.apply(&er(Stream::Primary, 0, "RJ", "E2", ExecType::PendingNew, OrdStatus::PendingNew), &mut out);
        r.apply(&er(Stream::Primary, 1, "RJ", "E3", ExecType::Rejected, OrdStatus::Rejected), &mut out);
        r.finish(&mut out);
        assert_eq!(kinds(&out), vec![DivergenceKind::PhantomOrder]);
        assert!(matches!(&out[0], Record::Divergence(d) if d.order_id.as_str() == "PN"));
    }

    /// Review finding: a bust on one side is a QuantityMismatch whether the other side's copy
    /// of the fill arrives before or after the bust.
    #[test]
    fn one_sided_bust_is_a_quantity_mismatch_whatever_the_arrival_order() {
        for other_fill_at in [150_000, 300_000] {
            let mut r = Reconciler::new(ReconConfig { max_orders: 8, max_execs: 64, ..ReconConfig::default() });
            let mut out = Vec::new();
            let mut evs = vec![
                er(Stream::Primary, 0, "F", "N", ExecType::New, OrdStatus::New),
                er(Stream::DropCopy, 10, "F", "N", ExecType::New, OrdStatus::New),
                fill(Stream::Primary, 100_000, "F1", 100, 100, 1, OrdStatus::Filled),
                fill(Stream::DropCopy, other_fill_at, "F1", 100, 100, 1, OrdStatus::Filled),
            ];
            let mut bust = fill(Stream::Primary, 200_000, "B1", 0, 100, 1, OrdStatus::New);
            bust.exec_type = ExecType::TradeCancel;
            bust.exec_ref_id = Id::from_bytes(b"F1").unwrap();
            evs.push(bust);
            evs.sort_by_key(|e| e.event_time);
            for e in &evs {
                r.apply(e, &mut out);
            }
            r.finish(&mut out);
            assert_eq!(kinds(&out), vec![DivergenceKind::QuantityMismatch], "other fill at {other_fill_at}");
        }
    }

    /// Review finding: a trade correct on one side that changes only LastPx (no AvgPx sent)
    /// still surfaces as a QuantityMismatch after grace.
    #[test]
    fn one_sided_correction_without_avgpx_is_reported() {
        let mut r = Reconciler::new(ReconConfig { max_orders: 8, max_execs: 64, ..ReconConfig::default() });
        let mut out = Vec::new();
        r.apply(&er(Stream::Primary, 0, "F", "N", ExecType::New, OrdStatus::New), &mut out);
        r.apply(&er(Stream::DropCopy, 10, "F", "N", ExecType::New, OrdStatus::New), &mut out);
        r.apply(&fill(Stream::Primary, 100, "F1", 100, 100, 1, OrdStatus::Filled), &mut out);
        r.apply(&fill(Stream::DropCopy, 200, "F1", 100, 100, 1, OrdStatus::Filled), &mut out);
        let mut correct = fill(Stream::Primary, 300, "C1", 100, 100, 2, OrdStatus::Filled);
        correct.exec_type = ExecType::TradeCorrect;
        correct.exec_ref_id = Id::from_bytes(b"F1").unwrap();
        correct.present &= !has::AVG_PX;
        r.apply(&correct, &mut out);
        r.finish(&mut out);
        assert_eq!(kinds(&out), vec![DivergenceKind::QuantityMismatch]);
    }
}
