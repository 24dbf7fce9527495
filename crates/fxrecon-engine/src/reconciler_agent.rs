//! The reconciler agent: the one event-apply loop. It takes the next item of the merged
//! streams, journals that it consumed it, applies it to the reconciler and hands what the
//! reconciler emits to the output; between batches it answers commands and publishes its
//! counters.
//!
//! Owns: consumption order and counting (every consumed message has a number; a record
//! carries the number of its cause, for the output's journal gate), where each input stands
//! (for snapshots and recovery), when snapshots are taken, how a run ends (both inputs over:
//! the end-of-day flush; an input stopped: no flush, a final snapshot), and the handback of
//! the state when it is done. Never blocks: a full output ring holds records in an overflow
//! queue and intake pauses until it drains, a full journal ring pauses intake.

use std::collections::VecDeque;
use std::sync::Arc;

use fxrecon_core::divergence::{DivergenceKind, Record, Sink};
use fxrecon_core::event::Stream;
use fxrecon_core::reconciler::Reconciler;
use fxrecon_core::snapshot::SnapWriter;
use fxrecon_core::text::Id;
use fxrecon_journal::position::StreamPosition;
use fxrecon_journal::snapshot_file::SnapshotHeader;
use fxrecon_journal::writer_agent::{JournalFeed, JournalMark};
use fxrecon_runtime::agent::Agent;
use fxrecon_runtime::rings::{Consumer, Producer, PushError};

use crate::command::{Command, CommandServer, Reply};
use crate::counters::ReconcilerCounters;
use crate::ingest::clock::IngestClock;
use crate::ingest::message::IngestMsg;
use crate::merge::Merge;
use crate::output::message::OutputMsg;

/// Items applied per duty cycle at most.
const BATCH: usize = 256;
/// Records held back while the output ring is full, before anything grows.
const OVERFLOW_RESERVED: usize = 4096;

/// Watches every record as it is emitted (benchmarks time detection latency with it).
pub trait RecordTap: Send {
    /// Called for each record, on the reconciler's thread, before it reaches the output.
    fn on_record(&mut self, record: &Record);
}

/// Where a run stands: the reconciler's state and the bookkeeping a run continues from.
pub struct RunState {
    /// The reconciler.
    pub reconciler: Reconciler,
    /// Messages consumed (events, rejects, ends of input), including those recovered.
    pub consumed: u64,
    /// Rejects among them.
    pub rejects: u64,
    /// Where each input stands.
    pub positions: [StreamPosition; 2],
    /// Records emitted before this journal began (a day carried over by `journal roll`):
    /// output ids go on from there, while this journal's output file starts empty.
    pub records_base: u64,
}

impl RunState {
    /// An empty reconciler at the start of both inputs.
    pub fn fresh(reconciler: Reconciler) -> Self {
        Self { reconciler, consumed: 0, rejects: 0, positions: [StreamPosition::default(); 2], records_base: 0 }
    }

    /// The state a snapshot with header `h` restored to `reconciler`.
    pub fn restored(h: &SnapshotHeader, reconciler: Reconciler) -> Self {
        let records_base = reconciler.records_emitted().saturating_sub(h.records_emitted);
        Self { reconciler, consumed: h.consumed, rejects: h.rejects, positions: h.streams, records_base }
    }

    /// Records this journal's output holds: those emitted since it began.
    pub fn records_written(&self) -> u64 {
        self.reconciler.records_emitted() - self.records_base
    }

    /// The header of a snapshot of this state.
    pub fn snapshot_header(&self) -> SnapshotHeader {
        SnapshotHeader {
            consumed: self.consumed,
            rejects: self.rejects,
            records_emitted: self.records_written(),
            streams: self.positions,
        }
    }
}

/// When snapshots are taken, and the buffers they are filled into.
pub struct SnapshotPlan {
    every: u64,
    next_at: u64,
    full: Producer<Vec<u8>>,
    empty: Consumer<Vec<u8>>,
}

impl SnapshotPlan {
    /// A snapshot every `every` consumed messages (at multiples of it, whatever the restarts
    /// in between), filled into the buffers that come back on `empty` and handed to the
    /// journal writer on `full`.
    pub fn new(every: u64, consumed: u64, full: Producer<Vec<u8>>, empty: Consumer<Vec<u8>>) -> Self {
        Self { every, next_at: (consumed / every + 1) * every, full, empty }
    }
}

/// How the agent is ending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// Still consuming.
    No,
    /// Both inputs are over: journal the end of input, then flush every pending check.
    Flush,
    /// An input stopped early: take a final snapshot (when snapshotting), flush nothing.
    Snapshot,
    /// Tell the journal and the output that nothing more comes.
    Close,
    /// Done.
    Done,
}

/// The output ring and the records held back while it is full.
struct OutputPort {
    ring: Producer<OutputMsg>,
    overflow: VecDeque<OutputMsg>,
    /// The ingest clock, when event time is arrival time: detection latency is measured
    /// against it (with the file clock event time is not wall-clock time, and it is not).
    latency_clock: Option<IngestClock>,
}

impl OutputPort {
    /// A sink into this port for what consumed message `seq` caused, shown to `tap`.
    fn sink<'a>(
        &'a mut self,
        tap: Option<&'a mut (dyn RecordTap + 'static)>,
        counters: &'a ReconcilerCounters,
        seq: u64,
    ) -> RingSink<'a> {
        RingSink { ring: &mut self.ring, overflow: &mut self.overflow, tap, counters, seq, clock: self.latency_clock }
    }
}

/// Sink of the reconciler into the output ring (or its overflow while the ring is full).
struct RingSink<'a> {
    ring: &'a mut Producer<OutputMsg>,
    overflow: &'a mut VecDeque<OutputMsg>,
    tap: Option<&'a mut (dyn RecordTap + 'static)>,
    counters: &'a ReconcilerCounters,
    seq: u64,
    clock: Option<IngestClock>,
}

impl RingSink<'_> {
    fn send(&mut self, msg: OutputMsg) {
        if !self.overflow.is_empty() {
            self.overflow.push_back(msg);
        } else if let Err(PushError::Full(back)) = self.ring.push(msg) {
            self.counters.output_full_waits.incr();
            self.overflow.push_back(back);
        }
    }
}

impl Sink for RingSink<'_> {
    fn emit(&mut self, record: &Record) {
        if let Some(t) = self.tap.as_deref_mut() {
            t.on_record(record);
        }
        // Findings only (not resolutions or capacity notes); one clock read per record. A
        // record decided before its time (the end-of-input flush) has no latency.
        if let (Some(clock), Record::Divergence(_) | Record::Gap(_)) = (self.clock, record) {
            let lat = clock.now().0 - record.detected_at().0;
            if lat >= 0 {
                self.counters.detection_latency.record(lat as u64);
            }
        }
        self.send(OutputMsg::Record { record: *record, seq: self.seq });
    }
}

/// Applies the merged streams to the reconciler.
pub struct ReconcilerAgent {
    merge: Merge,
    state: RunState,
    output: OutputPort,
    journal: Option<JournalFeed>,
    snapshots: Option<SnapshotPlan>,
    commands: Option<CommandServer>,
    tap: Option<Box<dyn RecordTap>>,
    handback: Option<Producer<RunState>>,
    ending: Ending,
    /// Some input stopped before its end (no end-of-day flush).
    stopped: bool,
    counters: Arc<ReconcilerCounters>,
    /// When the pipeline started (for `drained_us`).
    started: std::time::Instant,
    /// Batches that did work (sessions are published every 16th).
    batches: u32,
    /// Batches since the sessions were last published (published once the agent is idle).
    sessions_stale: bool,
}

impl ReconcilerAgent {
    /// An agent applying `merge` to `state` and writing `output`.
    pub fn new(merge: Merge, state: RunState, output: Producer<OutputMsg>, counters: Arc<ReconcilerCounters>) -> Self {
        counters.consumed_total.set(state.consumed);
        Self {
            merge,
            state,
            output: OutputPort {
                ring: output,
                overflow: VecDeque::with_capacity(OVERFLOW_RESERVED),
                latency_clock: None,
            },
            journal: None,
            snapshots: None,
            commands: None,
            tap: None,
            handback: None,
            ending: Ending::No,
            stopped: false,
            counters,
            started: std::time::Instant::now(),
            batches: 0,
            sessions_stale: false,
        }
    }

    /// Measures `drained_us` from `started` (the pipeline's start) instead of construction.
    pub fn started_at(mut self, started: std::time::Instant) -> Self {
        self.started = started;
        self
    }

    /// Journals every consumed message to `feed`; snapshots with `plan` when given.
    pub fn journaled(mut self, feed: JournalFeed, plan: Option<SnapshotPlan>) -> Self {
        self.journal = Some(feed);
        self.snapshots = plan;
        self
    }

    /// Answers commands from `server` between batches.
    pub fn serving(mut self, server: CommandServer) -> Self {
        self.commands = Some(server);
        self
    }

    /// Measures detection latency against `clock` (the ingest clock stamping event times).
    pub fn timing_detection(mut self, clock: IngestClock) -> Self {
        self.output.latency_clock = Some(clock);
        self
    }

    /// Shows every record to `tap` as it is emitted.
    pub fn tapped(mut self, tap: Box<dyn RecordTap>) -> Self {
        self.tap = Some(tap);
        self
    }

    /// Hands the state back through `ring` when done (the caller continues from it).
    pub fn handing_back(mut self, ring: Producer<RunState>) -> Self {
        self.handback = Some(ring);
        self
    }

    /// Moves held-back records into the output ring; true once none is held back.
    fn drain_overflow(&mut self) -> bool {
        let out = &mut self.output;
        while let Some(msg) = out.overflow.pop_front() {
            if let Err(PushError::Full(back)) = out.ring.push(msg) {
                out.overflow.push_front(back);
                self.counters.output_full_waits.incr();
                return false;
            }
        }
        true
    }

    /// Takes a snapshot when one is due (or `now`) and a buffer and a mark slot are free;
    /// true when one was taken.
    fn snapshot(&mut self, now: bool) -> bool {
        let Some(plan) = self.snapshots.as_mut() else { return false };
        let Some(journal) = self.journal.as_mut() else { return false };
        if (!now && self.state.consumed < plan.next_at) || journal.is_full() {
            return false;
        }
        let Ok(mut buf) = plan.empty.pop() else { return false };
        buf.clear();
        let header = self.state.snapshot_header();
        header.save(&mut SnapWriter::new(&mut buf));
        // On the hot path: it costs as much as the state is large (BENCHMARKS.md), and reuses
        // its buffer, so it allocates only when the state outgrows every earlier one.
        self.state.reconciler.save(&mut buf);
        plan.full.push(buf).expect("only one buffer circulates");
        journal.push(JournalMark::Snapshot);
        plan.next_at = (self.state.consumed / plan.every + 1) * plan.every;
        self.counters.snapshots.incr();
        true
    }

    /// Applies one item from ring `s` (the item is still at the ring's head).
    fn apply(&mut self, s: Stream) {
        let ring = self.merge.ring(s);
        // Apply the message where it lies in the ring (an ExecEvent is ~0.5 KB: copying it
        // out was measured at 5% of the reconciler thread), with the one behind it in view
        // when it has arrived, to hint its identity-table slot (D23). (Two only when two are
        // known to be there: `slots()` would read the producer's position, a line the other
        // core keeps writing, for every message.)
        let chunk = match ring.read_chunk(2) {
            Ok(chunk) => chunk,
            Err(_) => ring.read_chunk(1).expect("the merge saw an item at this head"),
        };
        let (head, tail) = chunk.as_slices();
        let msg = &head[0];
        if let Some(IngestMsg::Event(next)) = head.get(1).or(tail.first()) {
            self.state.reconciler.prefetch(next);
        }
        let st = &mut self.state;
        let mut closes = None;
        match msg {
            IngestMsg::Event(ev) => {
                let p = &mut st.positions[ev.stream.index()];
                // The merge's one promise: event time never goes backwards (also across a
                // recovery, whose positions continue the merge that was interrupted).
                debug_assert!(ev.event_time >= p.clock, "merge went back in time at {s:?} line {}", ev.line);
                *p = StreamPosition { lines: ev.line, clock: ev.event_time };
                if let Some(j) = self.journal.as_mut() {
                    j.push(JournalMark::Event { stream: ev.stream, line: ev.line, event_time: ev.event_time });
                }
                st.consumed += 1;
                self.counters.events.incr();
                let mut sink = self.output.sink(self.tap.as_deref_mut(), &self.counters, st.consumed);
                st.reconciler.apply(ev, &mut sink);
            }
            IngestMsg::Reject(note) => {
                let p = &mut st.positions[note.stream.index()];
                p.lines = p.lines.max(note.line);
                if let Some(j) = self.journal.as_mut() {
                    j.push_reject(*note);
                }
                st.consumed += 1;
                st.rejects += 1;
                let mut sink = self.output.sink(None, &self.counters, st.consumed);
                sink.send(OutputMsg::Reject { note: *note, seq: st.consumed });
            }
            IngestMsg::EndOfInput => {
                // The replayed run flushed here: so does this one (replays are not journaled).
                st.consumed += 1;
                let mut sink = self.output.sink(self.tap.as_deref_mut(), &self.counters, st.consumed);
                st.reconciler.finish(&mut sink);
            }
            IngestMsg::End => closes = Some(false),
            IngestMsg::Stop => closes = Some(true),
        }
        chunk.commit(1);
        self.counters.consumed[s.index()].incr();
        if let Some(stopped) = closes {
            self.stopped |= stopped;
            self.merge.close(s);
        }
    }

    /// Answers waiting commands (as many as there is room for replies).
    fn serve(&mut self) {
        let Some(server) = self.commands.as_mut() else { return };
        let mut answered = false;
        while !server.replies.is_full() {
            let Ok(cmd) = server.commands.pop() else { break };
            let reply = match cmd {
                Command::StateDigest => {
                    Reply::StateDigest { digest: self.state.reconciler.state_digest(), consumed: self.state.consumed }
                }
                Command::Sizes => Reply::Sizes {
                    orders: self.state.reconciler.store().len() as u64,
                    records: self.state.reconciler.records_emitted(),
                },
                Command::Order(id) => {
                    let store = self.state.reconciler.store();
                    match store.lookup(&id, &Id::new(), &id) {
                        // The one allocation of a query: on this thread, between batches.
                        Some(idx) => Reply::Order(Box::new(*store.order(idx))),
                        None => match store.retired_order(&id) {
                            Some(r) => Reply::Retired(Box::new(r)),
                            None => Reply::NoOrder,
                        },
                    }
                }
                Command::Positions => {
                    Reply::Positions(Box::new(crate::command::PositionTable::of(self.state.reconciler.positions())))
                }
            };
            self.counters.commands.incr();
            let _ = server.replies.push(reply);
            answered = true;
        }
        if answered && let Some(ring) = server.doorbell.as_mut() {
            ring();
        }
    }

    /// Copies the sessions' numbers into their counters (each new session once, in order).
    fn publish_sessions(&self) {
        let table = &self.counters.sessions;
        let mut used = 0;
        for (slot, v) in table.slots.iter().zip(self.state.reconciler.sessions()) {
            let _ = slot.id.set(v.id);
            slot.messages.set(v.messages);
            slot.expected.set(v.expected);
            slot.open_gaps.set(v.open_gaps as u64);
            used += 1;
        }
        table.used.set_release(used);
    }

    /// Copies the reconciler's own numbers into the live counters.
    fn publish(&self) {
        let c = &self.counters;
        let r = &self.state.reconciler;
        let stats = r.stats();
        let store = r.store_stats();
        for k in DivergenceKind::ALL {
            c.divergences[k as usize].set(stats.divergences[k as usize]);
        }
        c.gaps.set(stats.gaps);
        c.resolved.set(stats.resolved);
        c.capacity_exhausted.set(store.capacity_exhausted);
        c.stale_reports.set(stats.stale_reports);
        c.repeated_exec_ids.set(stats.repeated_exec_ids);
        c.orders.set(stats.orders);
        c.orders_live.set(r.store().len() as u64);
        c.orders_retired.set(store.retired);
        c.orders_evicted.set(store.evicted);
        c.orders_high_water.set(store.high_water);
        c.orders_stale_retired.set(store.stale_retired);
        c.orders_reopened.set(store.reopened);
        c.retired_held.set(r.store().retired().len() as u64);
        c.retired_forgotten_early.set(store.forgotten_early);
        c.execution_reports.set(stats.execution_reports);
        c.unknown_exec_refs.set(stats.unknown_exec_refs);
        c.unknown_cancel_rejects.set(stats.unknown_cancel_rejects);
        c.exec_records_dropped.set(stats.exec_records_dropped);
        c.timers_dropped.set(stats.timers_dropped);
        c.consumed_total.set(self.state.consumed);
    }

    /// Publishes the counters after a batch that did work: every batch for the cheap ones,
    /// every 16th for the sessions (and at the first idle step after, so readers of a quiet
    /// run see its last numbers).
    fn publish_batch(&mut self) {
        self.publish();
        self.batches = self.batches.wrapping_add(1);
        self.sessions_stale = true;
        if self.batches.is_multiple_of(16) || self.ending == Ending::Done {
            self.publish_sessions();
            self.sessions_stale = false;
        }
    }

    /// One step of the ending; false when it must wait for room.
    fn end_step(&mut self) -> bool {
        match self.ending {
            Ending::No | Ending::Done => true,
            Ending::Flush => {
                if let Some(j) = self.journal.as_mut() {
                    if j.is_full() {
                        self.counters.journal_full_waits.incr();
                        return false;
                    }
                    j.push(JournalMark::EndOfInput);
                }
                self.state.consumed += 1;
                let mut sink = self.output.sink(self.tap.as_deref_mut(), &self.counters, self.state.consumed);
                self.state.reconciler.finish(&mut sink);
                self.ending = Ending::Close;
                true
            }
            Ending::Snapshot => {
                let want = self.snapshots.is_some() && self.journal.is_some();
                if want && !self.snapshot(true) {
                    return false; // the buffer or a mark slot is not free yet
                }
                self.ending = Ending::Close;
                true
            }
            Ending::Close => {
                if !self.drain_overflow() {
                    return false;
                }
                if let Some(j) = self.journal.as_mut() {
                    if j.is_full() {
                        return false;
                    }
                    j.push(JournalMark::Close);
                }
                if let Err(PushError::Full(_)) = self.output.ring.push(OutputMsg::End { seq: self.state.consumed }) {
                    self.counters.output_full_waits.incr();
                    return false;
                }
                self.publish();
                self.publish_sessions();
                self.counters.drained_us.set(self.started.elapsed().as_micros() as u64);
                self.counters.state_digest.set(self.state.reconciler.state_digest());
                self.ending = Ending::Done;
                self.counters.done.set_release(1);
                true
            }
        }
    }
}

impl Agent for ReconcilerAgent {
    fn name(&self) -> &'static str {
        "reconciler"
    }

    fn do_work(&mut self) -> usize {
        if self.ending == Ending::Done {
            return 0;
        }
        // Records held back come first: no input is consumed while the output is behind.
        if !self.drain_overflow() {
            return 0;
        }
        let mut work = 0;
        if self.ending == Ending::No {
            while work < BATCH {
                // Consume only what can be journaled: a full mark ring (the journal writer is
                // behind, or the disk is failing) pauses intake here, without spinning.
                if self.journal.as_ref().is_some_and(|j| j.is_full()) {
                    self.counters.journal_full_waits.incr();
                    break;
                }
                let Some(s) = self.merge.next(&self.state.reconciler) else { break };
                self.apply(s);
                work += 1;
                self.snapshot(false);
                if !self.output.overflow.is_empty() {
                    break;
                }
            }
            if self.merge.all_closed() {
                self.ending = if self.stopped { Ending::Snapshot } else { Ending::Flush };
            }
        }
        while self.ending != Ending::No && self.ending != Ending::Done {
            if !self.end_step() {
                break;
            }
            work += 1;
        }
        self.serve();
        if work > 0 {
            self.publish_batch();
        } else if self.sessions_stale {
            self.publish_sessions();
            self.sessions_stale = false;
        }
        work
    }

    fn is_done(&self) -> bool {
        self.ending == Ending::Done
    }

    fn on_close(&mut self) -> Result<(), fxrecon_runtime::agent::AgentError> {
        // Nothing is answered any more: dropping the server's end (and its doorbell) tells a
        // waiting reader at once.
        self.commands = None;
        if let Some(mut ring) = self.handback.take() {
            // The state moves out; what stays behind is an empty reconciler of no size.
            let state = std::mem::replace(&mut self.state, RunState::fresh(Reconciler::new(tiny_config())));
            let _ = ring.push(state);
        }
        Ok(())
    }
}

/// The smallest configuration: what an agent keeps after handing its state back. Every
/// table at its least: the defaults' retired memory (ten million orders: 2.5 GB reserved) and
/// positions table (a 512 KB index written at construction) would be built at the end of
/// every run only to be dropped (D130).
fn tiny_config() -> fxrecon_core::reconciler::ReconConfig {
    fxrecon_core::reconciler::ReconConfig {
        max_orders: 1,
        max_execs: 1,
        max_sessions: 1,
        retired_memory_ms: 0,
        max_retired_orders: 0,
        max_positions: 1,
        ..Default::default()
    }
}
