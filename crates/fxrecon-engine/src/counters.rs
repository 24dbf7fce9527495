//! The pipeline's live counters: what each agent has done so far, readable from any thread
//! while the run goes on (status lines, the summary at the end, later the metrics endpoint),
//! without a lock and without the agents ever waiting for a reader.
//!
//! Owns: which counters exist, who writes each (one agent per counter), and the plain
//! snapshot they are read into. Never holds business logic: the reconciler's own numbers are
//! copied in by its agent between batches.

use std::sync::{Arc, OnceLock};

use fxrecon_core::divergence::DivergenceKind;
use fxrecon_core::event::Stream;
use fxrecon_core::sequencer::SessionId;
use fxrecon_journal::writer_agent::JournalCounters;
use fxrecon_runtime::counters::{Counter, PaddedCounter};
use serde::Serialize;

/// How an input stands (the `state` counter of [`IngestCounters`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputState {
    /// Being read.
    Reading,
    /// Read to its end.
    Ended,
    /// Stopped before its end (shutdown).
    Stopped,
    /// Ended by an error (logged): unreadable, truncated or replaced under the reader.
    Failed,
}

impl InputState {
    fn of(v: u64) -> Self {
        match v {
            1 => InputState::Ended,
            2 => InputState::Stopped,
            3 => InputState::Failed,
            _ => InputState::Reading,
        }
    }

    /// The counter value of this state.
    pub fn code(self) -> u64 {
        self as u64
    }
}

/// Counters of one ingest agent (its only writer).
#[derive(Debug, Default)]
pub struct IngestCounters {
    /// Messages (lines) read from the source, blank ones included.
    pub lines: PaddedCounter,
    /// Messages decoded and pushed.
    pub messages: Counter,
    /// Messages rejected.
    pub rejected: Counter,
    /// Pushes that found a ring full (backpressure waits).
    pub ring_full_waits: Counter,
    /// Items pushed into the stream's ring (events and rejects).
    pub pushed: Counter,
    /// [`InputState`] code.
    pub state: Counter,
    /// Microseconds from the pipeline's start until the input was over.
    pub ended_us: Counter,
    /// 1 while the source says it is connected (a file or pipe always is; an Aeron
    /// subscription while a publisher's image is joined), published once per duty cycle.
    pub connected: Counter,
    /// 1 when the source's last poll found nothing waiting (or it ended): caught up with it.
    pub caught_up: Counter,
    /// Wall-clock microseconds since the epoch when the last message was read (0: none yet),
    /// taken once per duty cycle that read one (no clock read per message).
    pub last_message_us: Counter,
}

/// One session direction's counters (a slot of [`SessionCounters`]).
#[derive(Debug, Default)]
pub struct SessionSlot {
    /// Which session it is: set once, when the session is first published.
    pub id: OnceLock<SessionId>,
    /// Messages sequenced on it (this process).
    pub messages: Counter,
    /// The next MsgSeqNum it expects.
    pub expected: Counter,
    /// Gaps still open.
    pub open_gaps: Counter,
}

/// Per-session counters: a slot per session direction, in the order first seen, sized for
/// `max_sessions` up front (publishing a new session never allocates).
#[derive(Debug, Default)]
pub struct SessionCounters {
    /// The slots.
    pub slots: Box<[SessionSlot]>,
    /// Slots in use.
    pub used: Counter,
}

impl SessionCounters {
    /// Room for `n` sessions.
    pub fn with_capacity(n: usize) -> Self {
        Self { slots: (0..n).map(|_| SessionSlot::default()).collect(), used: Counter::new(0) }
    }
}

/// Upper bounds (µs, inclusive) of the detection-latency histogram's buckets; one more bucket
/// above the last holds the rest (Prometheus `+Inf`).
pub const LATENCY_BOUNDS_US: [u64; 16] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000, 10_000_000,
];

/// Detection latency as a fixed-bucket histogram (contract 3: from the moment a divergence
/// became decidable to its emission), written by the reconciler agent only: recording one is
/// three single-writer stores, no allocation.
#[derive(Debug, Default)]
pub struct LatencyCounters {
    /// Records per bucket (not cumulative; index `LATENCY_BOUNDS_US.len()` is above the last).
    pub buckets: [Counter; LATENCY_BOUNDS_US.len() + 1],
    /// Records measured.
    pub count: Counter,
    /// Sum of their latencies, µs.
    pub sum_us: Counter,
}

impl LatencyCounters {
    /// Records one latency of `us` microseconds (single writer).
    #[inline]
    pub fn record(&self, us: u64) {
        let at = LATENCY_BOUNDS_US.partition_point(|&b| b < us);
        self.buckets[at].incr();
        self.count.incr();
        self.sum_us.add(us);
    }

    /// The histogram now: cumulative counts per bound (the last is `+Inf`), count and sum.
    pub fn snapshot(&self) -> LatencySnapshot {
        let mut running = 0;
        let cumulative = self
            .buckets
            .iter()
            .map(|b| {
                running += b.get();
                running
            })
            .collect();
        LatencySnapshot { cumulative, count: self.count.get(), sum_us: self.sum_us.get() }
    }
}

/// The detection-latency histogram, read.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct LatencySnapshot {
    /// Records at or below each of [`LATENCY_BOUNDS_US`], then all of them (`+Inf`).
    pub cumulative: Vec<u64>,
    /// Records measured (at most one update ahead of or behind `cumulative`).
    pub count: u64,
    /// Sum of their latencies, µs.
    pub sum_us: u64,
}

/// Counters of the reconciler agent (its only writer).
#[derive(Debug, Default)]
pub struct ReconcilerCounters {
    /// Items (events and rejects) taken from each stream's ring.
    pub consumed: [PaddedCounter; 2],
    /// Events applied.
    pub events: Counter,
    /// Records emitted per divergence type (index: [`DivergenceKind`] precedence order).
    pub divergences: [Counter; DivergenceKind::ALL.len()],
    /// SequenceGap records emitted.
    pub gaps: Counter,
    /// Resolved records emitted.
    pub resolved: Counter,
    /// CapacityExhausted records emitted.
    pub capacity_exhausted: Counter,
    /// Stale reports (would have moved a view backwards).
    pub stale_reports: Counter,
    /// Reports whose ExecID was already applied (idempotent resends).
    pub repeated_exec_ids: Counter,
    /// Orders held now (live and awaiting retirement).
    pub orders_live: Counter,
    /// Orders created so far.
    pub orders: Counter,
    /// Orders retired so far.
    pub orders_retired: Counter,
    /// Orders evicted from a full store.
    pub orders_evicted: Counter,
    /// Most orders held at once.
    pub orders_high_water: Counter,
    /// Open orders retired after going quiet (D29).
    pub orders_stale_retired: Counter,
    /// Retired orders a late report reopened (contract 2.2).
    pub orders_reopened: Counter,
    /// Retired orders remembered now.
    pub retired_held: Counter,
    /// Retired orders forgotten early because the retired memory was full.
    pub retired_forgotten_early: Counter,
    /// ExecutionReports applied (repeats included).
    pub execution_reports: Counter,
    /// Trade cancels/corrects whose ExecRefID named no known fill.
    pub unknown_exec_refs: Counter,
    /// OrderCancelRejects for orders never seen.
    pub unknown_cancel_rejects: Counter,
    /// Execution records not kept (record pool exhausted).
    pub exec_records_dropped: Counter,
    /// Grace checks not scheduled (timer queue full).
    pub timers_dropped: Counter,
    /// Output-ring pushes that found it full.
    pub output_full_waits: Counter,
    /// Duty cycles that paused because the journal's mark ring was full.
    pub journal_full_waits: Counter,
    /// Consumed messages including those recovered (the journal's count, for its lag).
    pub consumed_total: Counter,
    /// Snapshots taken.
    pub snapshots: Counter,
    /// Digest of the final state (set once the agent is done).
    pub state_digest: Counter,
    /// 1 once the agent has finished.
    pub done: Counter,
    /// Microseconds from the pipeline's start until every message was applied and the
    /// end-of-input records sent (before the final state digest).
    pub drained_us: Counter,
    /// Per session direction.
    pub sessions: SessionCounters,
    /// Detection latency of the records emitted (runs with the ingest clock only: with the
    /// file clock, event time is not wall-clock time).
    pub detection_latency: LatencyCounters,
    /// Commands answered between batches (the query API's questions that reached the agent).
    pub commands: Counter,
}

/// Counters of the output agent (its only writer).
#[derive(Debug, Default)]
pub struct OutputCounters {
    /// Records handed to the sinks.
    pub records: Counter,
    /// Rejects handed to the sinks.
    pub rejects: Counter,
    /// Records skipped because a recovered output already held them.
    pub skipped: Counter,
}

/// Every counter of one pipeline.
#[derive(Debug)]
pub struct PipelineCounters {
    /// Per input (primary, drop copy).
    pub ingest: [Arc<IngestCounters>; 2],
    /// The reconciler agent's.
    pub reconciler: Arc<ReconcilerCounters>,
    /// The output agent's.
    pub output: Arc<OutputCounters>,
    /// The journal writer's, when journaling.
    pub journal: Option<Arc<JournalCounters>>,
}

impl PipelineCounters {
    /// Fresh counters for up to `max_sessions` session directions; `journal` when the run
    /// is journaled.
    pub fn new(journal: Option<Arc<JournalCounters>>, max_sessions: usize) -> Self {
        let reconciler = ReconcilerCounters {
            sessions: SessionCounters::with_capacity(max_sessions),
            ..ReconcilerCounters::default()
        };
        Self {
            ingest: [Arc::default(), Arc::default()],
            reconciler: Arc::new(reconciler),
            output: Arc::default(),
            journal,
        }
    }

    /// The counters now.
    pub fn snapshot(&self) -> CountersSnapshot {
        let r = &self.reconciler;
        let stream = |s: Stream| {
            let i = &self.ingest[s.index()];
            let consumed = r.consumed[s.index()].get();
            StreamSnapshot {
                lines: i.lines.get(),
                messages: i.messages.get(),
                rejected: i.rejected.get(),
                ring_depth: i.pushed.get().saturating_sub(consumed),
                ring_full_waits: i.ring_full_waits.get(),
                state: InputState::of(i.state.get()),
                connected: i.connected.get() != 0,
                caught_up: i.caught_up.get() != 0,
                last_message_us: i.last_message_us.get(),
            }
        };
        let by_type = DivergenceKind::ALL
            .iter()
            .map(|k| (k.name(), r.divergences[*k as usize].get()))
            .chain([("SequenceGap", r.gaps.get()), ("Resolved", r.resolved.get())])
            .chain([("CapacityExhausted", r.capacity_exhausted.get())])
            .filter(|(_, n)| *n > 0)
            .collect();
        let used = (r.sessions.used.get() as usize).min(r.sessions.slots.len());
        let sessions = r.sessions.slots[..used]
            .iter()
            .filter_map(|s| {
                let id = s.id.get()?;
                Some(SessionSnapshot {
                    stream: id.stream.name(),
                    session: format!("{}->{}", id.sender, id.target),
                    messages: s.messages.get(),
                    expected: s.expected.get(),
                    open_gaps: s.open_gaps.get(),
                })
            })
            .collect();
        CountersSnapshot {
            primary: stream(Stream::Primary),
            dropcopy: stream(Stream::DropCopy),
            events: r.events.get(),
            records_by_type: by_type,
            stale_reports: r.stale_reports.get(),
            repeated_exec_ids: r.repeated_exec_ids.get(),
            orders: r.orders.get(),
            orders_live: r.orders_live.get(),
            orders_retired: r.orders_retired.get(),
            orders_evicted: r.orders_evicted.get(),
            orders_high_water: r.orders_high_water.get(),
            orders_stale_retired: r.orders_stale_retired.get(),
            orders_reopened: r.orders_reopened.get(),
            retired_held: r.retired_held.get(),
            retired_forgotten_early: r.retired_forgotten_early.get(),
            execution_reports: r.execution_reports.get(),
            unknown_exec_refs: r.unknown_exec_refs.get(),
            unknown_cancel_rejects: r.unknown_cancel_rejects.get(),
            exec_records_dropped: r.exec_records_dropped.get(),
            timers_dropped: r.timers_dropped.get(),
            capacity_exhausted: r.capacity_exhausted.get(),
            state_digest: r.state_digest.get(),
            output_full_waits: r.output_full_waits.get(),
            journal_full_waits: r.journal_full_waits.get(),
            records_written: self.output.records.get(),
            detection_latency: r.detection_latency.snapshot(),
            commands: r.commands.get(),
            sessions,
            journal: self.journal.as_ref().map(|j| JournalSnapshot {
                records: j.records.get(),
                batches: j.batches.get(),
                write_failures: j.write_failures.get(),
                snapshots: j.snapshots.get(),
                lag: r.consumed_total.get().saturating_sub(j.written.get()),
                bytes: j.bytes.get(),
                alarm: j.alarm.get() != 0,
            }),
        }
    }
}

/// One input's counters, read.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StreamSnapshot {
    /// Lines read.
    pub lines: u64,
    /// Messages decoded.
    pub messages: u64,
    /// Messages rejected.
    pub rejected: u64,
    /// Items in the ring, not yet taken by the reconciler.
    pub ring_depth: u64,
    /// Pushes that found the ring full.
    pub ring_full_waits: u64,
    /// How the input stands.
    pub state: InputState,
    /// The source says it is connected.
    pub connected: bool,
    /// The source's last poll found nothing waiting (or it ended).
    pub caught_up: bool,
    /// Wall-clock µs since the epoch of the last message read (0: none yet).
    pub last_message_us: u64,
}

/// One session direction's counters, read.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SessionSnapshot {
    /// `primary` or `dropcopy`.
    pub stream: &'static str,
    /// `SENDER->TARGET`.
    pub session: String,
    /// Messages sequenced on it (this process).
    pub messages: u64,
    /// The next MsgSeqNum it expects.
    pub expected: u64,
    /// Gaps still open.
    pub open_gaps: u64,
}

/// The journal's counters, read.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct JournalSnapshot {
    /// Records appended this run.
    pub records: u64,
    /// Group commits.
    pub batches: u64,
    /// Failed writes (each retried).
    pub write_failures: u64,
    /// Snapshots written.
    pub snapshots: u64,
    /// Consumed messages not yet written to the journal.
    pub lag: u64,
    /// Bytes appended to the journal this run (frames and payloads).
    pub bytes: u64,
    /// Writes are failing now (intake paused).
    pub alarm: bool,
}

/// Every counter of a pipeline, read at one moment (each value at most one update old).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CountersSnapshot {
    /// The primary input.
    pub primary: StreamSnapshot,
    /// The drop-copy input.
    pub dropcopy: StreamSnapshot,
    /// Events applied.
    pub events: u64,
    /// Records emitted per type (types with none left out).
    pub records_by_type: std::collections::BTreeMap<&'static str, u64>,
    /// Stale reports.
    pub stale_reports: u64,
    /// Repeated ExecIDs (idempotent resends).
    pub repeated_exec_ids: u64,
    /// Orders created.
    pub orders: u64,
    /// Orders held now.
    pub orders_live: u64,
    /// Orders retired.
    pub orders_retired: u64,
    /// Orders evicted from a full store.
    pub orders_evicted: u64,
    /// Most orders held at once.
    pub orders_high_water: u64,
    /// Open orders retired after going quiet.
    pub orders_stale_retired: u64,
    /// Retired orders reopened by a late report.
    pub orders_reopened: u64,
    /// Retired orders remembered now.
    pub retired_held: u64,
    /// Retired orders forgotten early (the retired memory was full).
    pub retired_forgotten_early: u64,
    /// ExecutionReports applied.
    pub execution_reports: u64,
    /// Unknown ExecRefIDs.
    pub unknown_exec_refs: u64,
    /// OrderCancelRejects for unknown orders.
    pub unknown_cancel_rejects: u64,
    /// Execution records not kept.
    pub exec_records_dropped: u64,
    /// Grace checks not scheduled.
    pub timers_dropped: u64,
    /// CapacityExhausted records.
    pub capacity_exhausted: u64,
    /// Digest of the final state (0 until the reconciler is done).
    pub state_digest: u64,
    /// Output-ring full waits.
    pub output_full_waits: u64,
    /// Journal mark-ring full waits.
    pub journal_full_waits: u64,
    /// Records written by the output.
    pub records_written: u64,
    /// Detection latency of the records emitted (empty with the file clock).
    pub detection_latency: LatencySnapshot,
    /// Commands the reconciler answered.
    pub commands: u64,
    /// Per session direction, in the order first seen.
    pub sessions: Vec<SessionSnapshot>,
    /// The journal, when journaling.
    pub journal: Option<JournalSnapshot>,
}

impl CountersSnapshot {
    /// One line for `--status-every`.
    pub fn status_line(&self) -> String {
        let s = |n: &str, x: &StreamSnapshot| {
            format!("{n} {} msgs {} rejected ring {} ({:?})", x.messages, x.rejected, x.ring_depth, x.state)
        };
        let mut line = format!(
            "status: {}; {}; {} sessions; {} events; records {}; orders live {} retired {}; stale {}",
            s("primary", &self.primary),
            s("dropcopy", &self.dropcopy),
            self.sessions.len(),
            self.events,
            self.records_by_type.values().sum::<u64>(),
            self.orders_live,
            self.orders_retired,
            self.stale_reports,
        );
        if !self.records_by_type.is_empty() {
            let types: Vec<String> = self.records_by_type.iter().map(|(k, v)| format!("{k} {v}")).collect();
            line.push_str(&format!(" ({})", types.join(", ")));
        }
        if let Some(j) = &self.journal {
            line.push_str(&format!(
                "; journal {} records lag {}{}",
                j.records,
                j.lag,
                if j.alarm { " ALARM" } else { "" }
            ));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_land_in_the_bucket_whose_bound_they_do_not_exceed() {
        let h = LatencyCounters::default();
        for us in [0, 100, 101, 2_500, 10_000_000, 10_000_001, u64::MAX / 4] {
            h.record(us);
        }
        let s = h.snapshot();
        assert_eq!(s.cumulative.len(), LATENCY_BOUNDS_US.len() + 1);
        // <= 100 µs: 0 and 100; <= 250: and 101; <= 2.5 ms: and 2 500; <= 10 s: and 10 s.
        assert_eq!(&s.cumulative[..2], &[2, 3]);
        assert_eq!(s.cumulative[4], 4);
        assert_eq!(s.cumulative[LATENCY_BOUNDS_US.len() - 1], 5);
        assert_eq!(*s.cumulative.last().unwrap(), 7);
        assert_eq!(s.count, 7);
        assert_eq!(s.sum_us, [0u64, 100, 101, 2_500, 10_000_000, 10_000_001, u64::MAX / 4].iter().sum::<u64>());
    }
}
