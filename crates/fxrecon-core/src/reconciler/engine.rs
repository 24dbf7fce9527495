//! The reconciler's state and its event loop: `Reconciler` with its configuration and
//! counters, applying one event (clock, due timers, retirement, sequencing, the report on its
//! order's view), end of input, and snapshots of the whole state.
//!
//! Owns: the event clock ("now" is the time of the event being applied), the order in which
//! an event's effects happen (a join of two parts of an order is finished first), and the
//! scheduling of grace checks. Never reads a clock and
//! never does I/O: records go to a [`Sink`].

use super::grace_timers::{GraceTimers, Timer, TimerKind};
use super::held_adjustments::{Held, HeldAdjustments};
use super::positions::{DEFAULT_MAX_POSITIONS, FillKey, Positions};
use crate::decimal::{Price, Qty};
use crate::divergence::{DivergenceKind, GapRecord, Reason, Record, Sink};
use crate::event::{ExecEvent, ExecType, MsgKind, Stream, has};
use crate::order::store::Joins;
use crate::order::store::exec_record::{ExecIdx, ExecKind, ExecRecord, NONE};
use crate::order::store::order_record::OrderIdx;
use crate::order::store::order_store::{OrderStore, RetiredCapacity, StoreCapacity, StoreStats, Unresolved};
use crate::order::view::Applied;
use crate::sequencer::Sequencer;
use crate::snapshot::{SnapReader, SnapWriter, SnapshotError};
use crate::time::Micros;

/// First bytes of a reconciler snapshot (format version 5: the position table and its size
/// in the configuration; version 4: the store holds the retired-order
/// memory and the configuration its size (contract 2.2), views the request they saw refused;
/// version 3: orders hold several
/// OrderIDs and provisional parts (contract 2.1); version 2: views record which values their
/// stream reported, the configuration holds the AvgPx tolerance).
const SNAPSHOT_MAGIC: &[u8; 8] = b"FXRSTAT5";

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
    /// AvgPx values equal as roundings of each other may still differ by this much (contract
    /// 3; default 0).
    pub avg_px_tolerance: Price,
    /// How long a retired order is remembered, ms of event time after it retired (contract
    /// 2.2; default 24 h; 0: not at all).
    pub retired_memory_ms: i64,
    /// Retired orders remembered at most (the oldest are forgotten first beyond it; 0: none).
    pub max_retired_orders: usize,
    /// Account × symbol positions held at most (beyond it new ones are counted, not kept).
    pub max_positions: usize,
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
            avg_px_tolerance: Price::ZERO,
            retired_memory_ms: 24 * 3_600_000,
            max_retired_orders: DEFAULT_MAX_RETIRED_ORDERS,
            max_positions: DEFAULT_MAX_POSITIONS,
        }
    }
}

/// Retired orders remembered at most by default: a day of ten million orders.
pub const DEFAULT_MAX_RETIRED_ORDERS: usize = 10_000_000;

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
    /// Orders seen (two parts of one order joined later count once, contract 2.1).
    pub orders: u64,
    /// Records emitted per [`DivergenceKind`] (index = precedence order).
    pub divergences: [u64; DivergenceKind::ALL.len()],
    /// SequenceGap records emitted.
    pub gaps: u64,
    /// Resolved records emitted.
    pub resolved: u64,
}

/// How far ahead in the timer queue the order of a check is prefetched.
const TIMER_PREFETCH: usize = 4;

/// Per-event bookkeeping for the "a resolving late message is also a TimingAnomaly" rule.
pub(super) struct EventCtx {
    /// Stream of the message being applied.
    pub(super) stream: Stream,
    pub(super) timing_emitted: bool,
    pub(super) resolved: bool,
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
    pub(super) cfg: ReconConfig,
    pub(super) grace_us: i64,
    pub(super) threshold_us: i64,
    pub(super) store: OrderStore,
    pub(super) sequencer: Sequencer,
    pub(super) timers: GraceTimers,
    pub(super) next_id: u64,
    pub(super) now: Micros,
    pub(super) stats: ReconStats,
    /// Trade cancels/corrects waiting for the fill they name.
    pub(super) held: HeldAdjustments,
    /// Net positions per account × symbol and stream, from the live fills.
    pub(super) positions: Positions,
}

impl Reconciler {
    /// A reconciler with empty state.
    pub fn new(cfg: ReconConfig) -> Self {
        Self {
            cfg,
            grace_us: cfg.grace_ms * Micros::PER_MS,
            threshold_us: cfg.timing_threshold_ms * Micros::PER_MS,
            store: OrderStore::with_memory(
                StoreCapacity { orders: cfg.max_orders, execs: cfg.max_execs },
                RetiredCapacity {
                    orders: cfg.max_retired_orders,
                    keep_us: cfg.retired_memory_ms.saturating_mul(Micros::PER_MS),
                },
            ),
            sequencer: Sequencer::with_capacity(cfg.max_sessions),
            // A phantom check per order, one per unmatched fill, one per view difference.
            timers: GraceTimers::with_capacity(cfg.max_orders.saturating_mul(4)),
            next_id: 1,
            now: Micros(i64::MIN),
            stats: ReconStats::default(),
            held: HeldAdjustments::default(),
            positions: Positions::with_capacity(cfg.max_positions),
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
        self.held.digest_into(&mut d);
        self.positions.digest_into(&mut d);
        d.finish()
    }

    /// Every session the sequencer has seen (for live counters; observing them changes
    /// nothing).
    pub fn sessions(&self) -> impl Iterator<Item = crate::sequencer::SessionView> + '_ {
        self.sequencer.sessions()
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
        w.put(&c.retention_ms).put(&c.max_sessions).put(&c.open_retention_ms).put(&c.avg_px_tolerance);
        w.put(&c.retired_memory_ms).put(&c.max_retired_orders).put(&c.max_positions);
        w.put(&self.next_id).put(&self.now);
        let s = &self.stats;
        w.put(&s.messages).put(&s.execution_reports).put(&s.repeated_exec_ids).put(&s.stale_reports);
        w.put(&s.unknown_exec_refs).put(&s.unknown_cancel_rejects).put(&s.exec_records_dropped);
        w.put(&s.timers_dropped).put(&s.orders).put(&s.divergences).put(&s.gaps).put(&s.resolved);
        self.store.save(&mut w);
        self.sequencer.save(&mut w);
        self.timers.save(&mut w);
        self.held.save(&mut w);
        self.positions.save(&mut w);
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
            avg_px_tolerance: r.get()?,
            retired_memory_ms: r.get()?,
            max_retired_orders: r.get()?,
            max_positions: r.get()?,
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
        rec.held.load(r)?;
        rec.positions.load(r)?;
        if !rec.held.orders().all(|(o, _)| rec.store.holds_order(o)) {
            return Err(SnapshotError::Invalid("held adjustment for a missing order"));
        }
        // A check names a slot and, for a fill, a record: both must exist (a reused slot's
        // generation voids the check, a missing one would panic).
        let in_store = |t: &Timer| {
            rec.store.holds_order(t.order) && !matches!(t.kind, TimerKind::Fill(f) if !rec.store.holds_exec(f))
        };
        if !(0..rec.timers.len()).filter_map(|i| rec.timers.peek(i)).all(in_store) {
            return Err(SnapshotError::Invalid("timer for a missing order or record"));
        }
        Ok(rec)
    }

    /// The positions per account × symbol (read-only), for queries and the end-of-day report.
    pub fn positions(&self) -> &Positions {
        &self.positions
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
        self.store.forget_retired(now);
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

    /// End of input: every pending timer fires (end-of-day flush); adjustments still waiting
    /// for their fill never found it.
    pub fn finish(&mut self, sink: &mut impl Sink) {
        self.fire_timers(None, sink);
        self.stats.unknown_exec_refs += self.held.clear();
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
        // A report that opens an order names its chain's root (contract 2.1).
        let opens = ev.orig_cl_ord_id.is_empty()
            && matches!(ev.exec_type, ExecType::New | ExecType::PendingNew | ExecType::Rejected);
        let mut resolved = self.store.resolve(&ev.cl_ord_id, &ev.orig_cl_ord_id, &ev.order_id, opens);
        if let Err(Unresolved::Retired(r)) = resolved {
            // A report of an order retired and remembered (contract 2.2): a resend of what it
            // had applied changes nothing; anything else reopens it, as it was, and applies.
            if self.store.retired_knows_exec(r, s, &ev.exec_id) {
                self.stats.repeated_exec_ids += 1;
                return;
            }
            resolved = match self.store.reopen(r) {
                Ok(()) => self.store.resolve(&ev.cl_ord_id, &ev.orig_cl_ord_id, &ev.order_id, opens),
                Err(e) => Err(e.into()),
            };
        }
        let Ok((idx, depth)) = resolved else {
            let _ = self.store.take_joins(); // none: a refused order is a new one
            self.capacity_exhausted(ev, now, sink);
            return;
        };
        self.store.order_mut(idx).last_activity = now;
        let mut ctx = EventCtx::new(ev.stream);
        let joined = self.store.has_joins();
        if joined {
            let joins = self.store.take_joins();
            self.finish_joins(idx, &joins, now, &mut ctx, sink);
        }
        if self.store.find_exec(idx, s, &ev.exec_id).is_some() {
            self.stats.repeated_exec_ids += 1;
            if joined {
                self.finish_report(idx, now, &mut ctx, sink);
            }
            return;
        }
        self.note_sighting(idx, ev, now, &mut ctx, sink);

        let record = ExecRecord {
            stream: s,
            exec_id: ev.exec_id,
            kind: ExecKind::Status,
            cum_after: ev.cum_qty,
            last_qty: if ev.has(has::LAST_QTY) { ev.last_qty } else { Qty::unknown() },
            last_px: if ev.has(has::LAST_PX) { ev.last_px } else { Price::unknown() },
            arrival: now,
            matched: NONE,
            busted: false,
            missing_id: 0,
            deferred: false,
            next: NONE,
        };
        match ev.exec_type {
            ExecType::TradeCancel | ExecType::TradeCorrect => {
                self.record_exec(idx, ExecRecord { kind: ExecKind::Adjustment, ..record });
                match self.store.find_exec(idx, s, &ev.exec_ref_id) {
                    Some(r) => self.adjust(idx, r, ev, ev),
                    None => {
                        // Its fill may be behind it (reordered): held until it comes.
                        let generation = self.store.order(idx).generation;
                        if !self.held.hold(Held::of(ev, idx, generation)) {
                            self.stats.unknown_exec_refs += 1;
                            self.store.order_mut(idx).views[s.index()].apply_trade_adjustment(ev);
                        }
                    }
                }
            }
            t if t.is_fill() => {
                let view = &self.store.order(idx).views[s.index()];
                let cum_after = if ev.has(has::CUM_QTY) { ev.cum_qty } else { view.cum_qty.plus(ev.last_qty) };
                let f = self.record_exec(idx, ExecRecord { kind: ExecKind::Fill, cum_after, ..record });
                if self.store.order_mut(idx).views[s.index()].apply_report(ev, depth) == Applied::Stale {
                    self.stats.stale_reports += 1;
                }
                if ev.has(has::LAST_QTY) {
                    self.positions.add(fill_key(ev), s, ev.last_qty, record.last_px, 1);
                }
                if let Some(f) = f {
                    self.match_fill(idx, f, now, &mut ctx, sink);
                    if !self.held.is_empty() {
                        self.apply_held(idx, f, ev);
                    }
                }
            }
            ExecType::Rejected if depth > 0 && !ev.orig_cl_ord_id.is_empty() => {
                // A refused replace or cancel request (an ER 150=8 naming the link it wanted
                // to replace): the order lives on at its last accepted link (contract 2.1).
                self.record_exec(idx, record);
                self.refuse_link(idx, ev);
            }
            ExecType::PendingReplace | ExecType::PendingCancel
                if self.store.order(idx).views[s.index()].is_refused_request(&ev.cl_ord_id) =>
            {
                // The request was refused before this copy of it arrived (a PendingReplace
                // resent after a gap, a late original): history, not the order's state now.
                self.record_exec(idx, record);
                self.stats.stale_reports += 1;
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
    pub(super) fn schedule(&mut self, now: Micros, idx: OrderIdx, generation: u32, kind: TimerKind) {
        self.schedule_at(Micros(now.0.saturating_add(self.grace_us)), idx, generation, kind);
    }

    /// Schedules a grace check at `deadline` (earlier than the last one only when a join gives
    /// a fill back its check: the queue places it in order).
    fn schedule_at(&mut self, deadline: Micros, idx: OrderIdx, generation: u32, kind: TimerKind) {
        if self.timers.push(deadline, idx, generation, kind).is_err() {
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

    fn apply_cancel_reject(&mut self, ev: &ExecEvent, now: Micros, sink: &mut impl Sink) {
        let Some(idx) = self.store.lookup(&ev.cl_ord_id, &ev.orig_cl_ord_id, &ev.order_id) else {
            // A refusal for an order retired since and remembered: no unknown order, and it
            // reopens nothing (it has no ExecID to tell a resend from news; docs/decisions.md D59).
            if !self.store.is_retired(&ev.cl_ord_id, &ev.orig_cl_ord_id, &ev.order_id) {
                self.stats.unknown_cancel_rejects += 1;
            }
            return;
        };
        let order = self.store.order_mut(idx);
        if !order.views[ev.stream.index()].seen {
            return;
        }
        order.last_activity = now;
        order.views[ev.stream.index()].apply_cancel_reject(ev);
        self.refuse_link(idx, ev);
        let mut ctx = EventCtx::new(ev.stream);
        self.finish_report(idx, now, &mut ctx, sink);
    }

    /// Applies trade cancel or correct `ev` to fill record `r` of order `idx`, and its status
    /// and quantities to the stream's view; the fill's position (account, symbol and side of
    /// `whose`: the adjustment, or the fill when the adjustment was held) loses what the fill
    /// added and, for a correct, gains the corrected fill.
    fn adjust(&mut self, idx: OrderIdx, r: ExecIdx, ev: &ExecEvent, whose: &ExecEvent) {
        if ev.exec_type == ExecType::TradeCorrect {
            self.store.note_corrected(idx);
        }
        let before = *self.store.exec(r);
        let rec = self.store.exec_mut(idx, r);
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
        let after = *rec;
        if !before.busted && before.last_qty != Qty::unknown() {
            let key = fill_key(whose);
            let key =
                if key.symbol.is_empty() { FillKey { symbol: &self.store.order(idx).symbol, ..key } } else { key };
            self.positions.add(key, ev.stream, before.last_qty, before.last_px, -1);
            if !after.busted {
                self.positions.add(key, ev.stream, after.last_qty, after.last_px, 1);
            }
        }
        self.store.order_mut(idx).views[ev.stream.index()].apply_trade_adjustment(ev);
    }

    /// Applies the adjustments held for fill `ev` (record `f`), now that it has arrived; drops
    /// (and counts) those whose order is gone.
    fn apply_held(&mut self, idx: OrderIdx, f: ExecIdx, ev: &ExecEvent) {
        let generation = self.store.order(idx).generation;
        let mut taken = [Held::of(ev, idx, generation); 4];
        loop {
            let n = self.held.take_for(idx, generation, ev.stream, &ev.exec_id, &mut taken);
            for h in &taken[..n] {
                self.adjust(idx, f, &h.report(), ev);
            }
            if n < taken.len() {
                break;
            }
        }
        let store = &self.store;
        self.stats.unknown_exec_refs +=
            self.held.expire(|o, g| store.holds_order(o) && store.order(o).generation == g && store.order(o).live);
    }

    /// The request `ev` refused (its ClOrdID, naming the link it wanted to replace in 41) is
    /// no link of the chain: the stream's view falls back to the last accepted link, and a copy of
    /// the request that arrives after its refusal changes nothing.
    fn refuse_link(&mut self, idx: OrderIdx, ev: &ExecEvent) {
        let refused = self.store.chain_depth_of(&ev.cl_ord_id);
        let accepted = self.store.chain_depth_of(&ev.orig_cl_ord_id);
        let view = &mut self.store.order_mut(idx).views[ev.stream.index()];
        if let (Some(r), Some(a)) = (refused, accepted) {
            view.refuse_link(r, a);
        }
        if !ev.cl_ord_id.is_empty() {
            view.note_refused_request(&ev.cl_ord_id);
        }
    }

    /// Finishes the joins that resolving a report did (a provisional part absorbed into order
    /// `idx`, contract 2.1), before the report itself applies: the absorbed part's held
    /// adjustments and open divergences now belong to `idx`; an order seen on both streams now
    /// is no phantom (any part's open PhantomOrder is resolved); the absorbed fills are matched
    /// against the other stream's fills of the whole order, and those still unmatched get back
    /// their MissingFill check at its deadline (the absorbed slot's checks died with it); fills
    /// whose check was skipped while one-sided get a fresh window once the other stream is seen.
    #[cold]
    #[inline(never)]
    fn finish_joins(&mut self, idx: OrderIdx, joins: &Joins, now: Micros, ctx: &mut EventCtx, sink: &mut impl Sink) {
        let generation = self.store.order(idx).generation;
        for n in joins.as_slice() {
            self.held.retarget(n.absorbed, n.absorbed_generation, idx, generation);
            if n.both_sighted {
                self.stats.orders = self.stats.orders.saturating_sub(1); // two parts, one order
            }
        }
        if self.store.order(idx).both_seen() {
            let open = core::mem::take(&mut self.store.order_mut(idx).open_phantom);
            let displaced = joins.as_slice().iter().map(|n| n.displaced[0]);
            for phantom in core::iter::once(open).chain(displaced).filter(|&id| id != 0) {
                self.resolve(idx, phantom, DivergenceKind::PhantomOrder, now, ctx.stream, sink);
                ctx.resolved = true;
            }
        }
        for n in joins.as_slice() {
            for s in Stream::BOTH {
                let (mut cur, last) = (n.moved[s.index()], n.moved_last[s.index()]);
                while cur != NONE {
                    let rec = *self.store.exec(cur);
                    if rec.kind == ExecKind::Fill
                        && rec.matched == NONE
                        && !rec.busted
                        && !self.rematch(idx, cur, now, ctx, sink)
                        && rec.missing_id == 0
                        && !rec.deferred
                    {
                        let deadline = Micros(rec.arrival.0.saturating_add(self.grace_us));
                        self.schedule_at(deadline, idx, generation, TimerKind::Fill(cur));
                    }
                    cur = if cur == last { NONE } else { rec.next };
                }
            }
        }
        for s in Stream::BOTH {
            if !self.store.order(idx).view(s.other()).seen {
                continue;
            }
            let mut cur = self.store.order(idx).execs[s.index()];
            while cur != NONE {
                let rec = self.store.exec_mut(idx, cur);
                let next = rec.next;
                if rec.deferred && rec.matched == NONE {
                    rec.deferred = false;
                    self.schedule(now, idx, generation, TimerKind::Fill(cur));
                }
                cur = next;
            }
        }
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
                let rec = self.store.exec_mut(idx, cur);
                let next = rec.next;
                if rec.deferred && rec.matched == NONE {
                    rec.deferred = false;
                    self.schedule(now, idx, generation, TimerKind::Fill(cur));
                }
                cur = next;
            }
        }
    }
}

/// The position a fill report counts in: its account, symbol and side.
fn fill_key(ev: &ExecEvent) -> FillKey<'_> {
    FillKey { account: &ev.account, symbol: &ev.symbol, side: ev.side }
}
