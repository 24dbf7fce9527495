//! The journal writer agent: appends what the reconciler consumed, in consumption order, on a
//! thread of its own, so the hot path never waits on disk.
//!
//! Owns: turning consumption marks (from the reconciler agent) and raw message bytes (from each
//! ingest agent, through a byte ring per stream) into journal records; group commit once per
//! duty cycle; the fsync policy; and publishing how many consumed messages are written — the
//! output agent's gate, so no divergence is ever written before the message that caused it is
//! in the journal. A failed write (disk full) raises an alarm and is retried; meanwhile intake
//! stalls behind it through ring backpressure and nothing already accepted is lost.
//! Never decodes or reconciles.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fxrecon_core::event::Stream;
use fxrecon_core::quarantine::RejectNote;
use fxrecon_core::time::Micros;
use fxrecon_runtime::agent::Agent;
use fxrecon_runtime::counters::{Counter, PaddedCounter};
use fxrecon_runtime::rings::{self, Consumer, Producer, RingBuffer};

use crate::record::{self, KIND_END_OF_INPUT, KIND_EVENT, KIND_REJECT};
use crate::segment::{JournalError, JournalWriter};

/// What the reconciler tells the journal writer, in the order it consumed messages. Kept
/// small (a reject's note travels on a ring of its own): one is copied per consumed message.
#[derive(Clone, Copy, Debug)]
pub enum JournalMark {
    /// The next raw message of `stream` (waiting in that stream's byte ring) was applied.
    Event {
        /// Stream it came from.
        stream: Stream,
        /// Its line (ingest sequence) number.
        line: u64,
        /// The event time it was applied at.
        event_time: Micros,
    },
    /// A rejected line was passed on to the rejects output; its note is the next one in the
    /// feed's note ring.
    Reject,
    /// Both inputs ended and the reconciler flushed every pending check (a record of its own,
    /// counted as a consumed message).
    EndOfInput,
    /// A snapshot of the state after every message marked so far waits in the snapshot ring.
    Snapshot,
    /// Nothing more will come: sync and stop.
    Close,
}

/// The reconciler's end of the journal feed: marks, and the notes of the rejects among them.
pub struct JournalFeed {
    marks: Producer<JournalMark>,
    notes: Producer<RejectNote>,
}

/// The journal writer's end of the feed.
pub struct FeedReceiver {
    marks: Consumer<JournalMark>,
    notes: Consumer<RejectNote>,
}

/// A feed of `slots` marks. The note ring is as large, so it has room whenever the mark ring
/// has (every note has its mark, and the writer takes both together).
pub fn journal_feed(slots: usize) -> (JournalFeed, FeedReceiver) {
    let (marks, marks_rx) = RingBuffer::new(slots);
    let (notes, notes_rx) = RingBuffer::new(slots);
    (JournalFeed { marks, notes }, FeedReceiver { marks: marks_rx, notes: notes_rx })
}

impl JournalFeed {
    /// True when no mark fits (the writer is behind): consume nothing until it drains.
    pub fn is_full(&self) -> bool {
        self.marks.is_full()
    }

    /// Sends `mark`; the caller checked there is room.
    pub fn push(&mut self, mark: JournalMark) {
        debug_assert!(!matches!(mark, JournalMark::Reject), "rejects go through push_reject");
        self.marks.push(mark).expect("space was checked before consuming");
    }

    /// Sends a reject's note and its mark; the caller checked there is room.
    pub fn push_reject(&mut self, note: RejectNote) {
        self.notes.push(note).expect("the note ring has room whenever the mark ring has");
        self.marks.push(JournalMark::Reject).expect("space was checked before consuming");
    }

    /// Sends the closing mark, waiting for room; returns the waits.
    pub fn push_close(&mut self) -> u64 {
        rings::push_blocking(&mut self.marks, JournalMark::Close)
    }
}

/// Live counters of the journal writer, readable from any thread while it runs.
#[derive(Debug, Default)]
pub struct JournalCounters {
    /// Consumed messages (events, rejects, end of input) whose records are written: the output
    /// gate (published with release ordering).
    pub written: PaddedCounter,
    /// Records appended this run.
    pub records: Counter,
    /// Record bytes (frames and payloads) appended this run.
    pub bytes: Counter,
    /// Batches handed over for writing (group commits; a retry of a failed one is not counted).
    pub batches: Counter,
    /// Write or sync attempts that failed (each retried).
    pub write_failures: Counter,
    /// Snapshots written.
    pub snapshots: Counter,
    /// 1 while writes are failing (intake is paused behind it), else 0.
    pub alarm: Counter,
    /// 1 once everything was written and synced and the agent stopped.
    pub closed: Counter,
    /// Microseconds from the agent's construction until everything was written and synced.
    pub done_us: Counter,
}

impl JournalCounters {
    /// Counters of a journal that already holds `written` consumed messages.
    pub fn new(written: u64) -> Arc<Self> {
        let c = Self::default();
        c.written.set(written);
        Arc::new(c)
    }
}

/// How long to wait before retrying a failed write.
const RETRY: Duration = Duration::from_millis(50);
/// Marks handled per duty cycle.
const BATCH: usize = 4096;
/// Group commit: a batch is written once it holds this much…
const COMMIT_BYTES: usize = 256 * 1024;
/// …or its oldest record has waited this long. What a journal adds to output latency is this
/// plus the write (and sync) of the batch in flight ahead of it.
const COMMIT_DELAY: Duration = Duration::from_micros(200);

/// The mark ring is drained at most this often. Each look at it reads a position the
/// reconciler's core has just written (a cache miss); draining every duty cycle had it read
/// that position for every two or three marks, half of this agent's time (D35).
const DRAIN_EVERY: Duration = Duration::from_micros(20);

/// Snapshot buffers on their way from the reconciler to disk and back, and where they go.
pub struct SnapshotRings {
    /// Filled snapshots from the reconciler.
    pub full: Consumer<Vec<u8>>,
    /// Written buffers back to the reconciler, for reuse.
    pub empty: Producer<Vec<u8>>,
    /// The journal directory (snapshots live beside the segments).
    pub dir: std::path::PathBuf,
    /// Snapshots kept; older ones are removed.
    pub keep: usize,
    /// Which segments go once no restart needs them (checked after each snapshot).
    pub retention: crate::retention::Retention,
}

/// Drains consumption marks and raw bytes into the journal.
pub struct JournalAgent {
    marks: Consumer<JournalMark>,
    notes: Consumer<RejectNote>,
    raw: [Consumer<u8>; 2],
    writer: JournalWriter,
    counters: Arc<JournalCounters>,
    /// Records in the journal that are not consumed messages (the run header).
    header_records: u64,
    snapshots: Option<SnapshotRings>,
    /// A mark taken from its ring whose record could not be appended yet.
    pending: Option<JournalMark>,
    payload: Vec<u8>,
    retry_at: Option<Instant>,
    /// When the oldest record not yet handed over for writing was appended.
    oldest_unwritten: Option<Instant>,
    failing_since: Option<Instant>,
    /// No look at the mark ring before this (see [`DRAIN_EVERY`]).
    next_drain: Instant,
    /// The segment being written when retention last looked.
    retained_at_segment: u64,
    done: bool,
    started: Instant,
}

impl JournalAgent {
    /// An agent appending to `writer`, whose first `header_records` records are not consumed
    /// messages.
    pub fn new(
        intake: FeedReceiver,
        raw: [Consumer<u8>; 2],
        writer: JournalWriter,
        header_records: u64,
        counters: Arc<JournalCounters>,
    ) -> Self {
        Self {
            marks: intake.marks,
            notes: intake.notes,
            raw,
            writer,
            counters,
            header_records,
            snapshots: None,
            pending: None,
            payload: Vec::with_capacity(1024),
            retry_at: None,
            oldest_unwritten: None,
            failing_since: None,
            next_drain: Instant::now(),
            retained_at_segment: 0,
            done: false,
            started: Instant::now(),
        }
    }

    /// Also writes the snapshots the reconciler takes.
    pub fn with_snapshots(mut self, rings: SnapshotRings) -> Self {
        self.snapshots = Some(rings);
        self
    }

    /// Writes the waiting snapshot, once every record before it is in the journal (synced).
    fn write_snapshot(&mut self) -> Result<(), JournalError> {
        self.writer.sync()?;
        let Some(rings) = self.snapshots.as_mut() else { return Ok(()) };
        let Ok(buf) = rings.full.pop() else { return Ok(()) };
        let consumed = self.writer.written_records().saturating_sub(self.header_records);
        let dir = rings.dir.clone();
        let io = |source| JournalError::Io { path: dir.clone(), source };
        let written = crate::snapshot_file::write(&rings.dir, consumed, &buf)
            .and_then(|_| crate::snapshot_file::prune(&rings.dir, rings.keep));
        // The buffer goes back whatever happened: a lost snapshot only means a longer replay.
        let _ = rings.empty.push(buf);
        if written.is_ok() {
            self.retain();
        }
        match written {
            Ok(()) => {
                self.counters.snapshots.incr();
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %io(e), "snapshot not written; recovery will replay from an older one");
                Ok(())
            }
        }
    }

    /// Lets go of the segments no restart needs, if retention asks for it: after each snapshot
    /// (what a restart needs moves on) and each roll-over (the journal grew by a segment).
    /// A restart replays from the oldest snapshot kept at the earliest: what lies wholly before
    /// it is needed by nobody. Room is kept under the budget for the segment being written and
    /// the next snapshot, so the directory stays under it, not just returns under it.
    fn retain(&mut self) {
        let Some(rings) = self.snapshots.as_ref() else { return };
        if rings.retention.keeps_everything() {
            return;
        }
        self.retained_at_segment = self.writer.segment_index();
        let snapshots = crate::snapshot_file::list(&rings.dir).unwrap_or_default();
        let Some(oldest) = snapshots.iter().map(|(c, _)| *c).min() else { return };
        let largest = snapshots.iter().filter_map(|(_, p)| std::fs::metadata(p).ok()).map(|m| m.len()).max();
        let headroom = self.writer.segment_bytes() + largest.unwrap_or(0);
        let needed_from = oldest + self.header_records;
        if let Err(e) = crate::retention::apply(&rings.dir, needed_from, &rings.retention, headroom) {
            tracing::error!(error = %e, "journal retention failed; the segments stay");
        }
    }

    /// Appends the record of one mark; the raw bytes are consumed only once it is appended.
    fn append(&mut self, mark: &JournalMark) -> Result<(), JournalError> {
        match *mark {
            JournalMark::Event { stream, line, event_time } => {
                let head = record::event_head(stream, line, event_time);
                let writer = &mut self.writer;
                rings::with_frame(&mut self.raw[stream.index()], |a, b| {
                    writer.append_parts(KIND_EVENT, &[&head, a, b])
                })
                .expect("raw bytes precede their event")?;
            }
            JournalMark::Reject => {
                // Read in place; taken off its ring only once its record is appended.
                let note = self.notes.peek().expect("a reject's note precedes its mark");
                record::encode_reject(
                    note.stream,
                    note.line,
                    &note.reason.to_string(),
                    note.excerpt.as_bytes(),
                    &mut self.payload,
                );
                self.writer.append(KIND_REJECT, &self.payload)?;
                let _ = self.notes.pop();
            }
            JournalMark::Snapshot => {
                self.write_snapshot()?;
                return Ok(());
            }
            JournalMark::EndOfInput => self.writer.append(KIND_END_OF_INPUT, &[])?,
            JournalMark::Close => return Ok(()),
        }
        self.counters.records.incr();
        Ok(())
    }

    fn publish(&self) {
        let written = self.writer.written_records().saturating_sub(self.header_records);
        self.counters.bytes.set(self.writer.appended_bytes());
        self.counters.written.set_release(written);
    }

    fn failed(&mut self, e: &JournalError) {
        self.counters.write_failures.incr();
        let now = Instant::now();
        self.retry_at = Some(now + RETRY);
        match self.failing_since {
            None => {
                self.failing_since = Some(now);
                self.counters.alarm.set(1);
                tracing::error!(error = %e, "ALARM journal write failed: intake paused until the journal can be written");
            }
            Some(since) if self.counters.write_failures.get().is_multiple_of(200) => {
                tracing::error!(error = %e, failing_for_s = since.elapsed().as_secs(), "ALARM journal still failing; intake paused");
            }
            Some(_) => {}
        }
    }

    fn recovered(&mut self) {
        if let Some(since) = self.failing_since.take() {
            self.counters.alarm.set(0);
            tracing::warn!(paused_ms = since.elapsed().as_millis() as u64, "journal writes resumed; intake continues");
        }
    }
}

impl Agent for JournalAgent {
    fn name(&self) -> &'static str {
        "journal"
    }

    fn do_work(&mut self) -> usize {
        if self.done {
            return 0;
        }
        let now = Instant::now();
        if self.retry_at.is_some_and(|t| now < t) || now < self.next_drain {
            return 0;
        }
        self.retry_at = None;
        self.next_drain = now + DRAIN_EVERY;
        let mut work = 0;
        let mut end = false;
        while work < BATCH {
            let Some(mark) = self.pending.take().or_else(|| self.marks.pop().ok()) else { break };
            if let Err(e) = self.append(&mark) {
                self.pending = Some(mark);
                self.failed(&e);
                return work;
            }
            work += 1;
            if matches!(mark, JournalMark::Close) {
                end = true;
                break;
            }
            if matches!(mark, JournalMark::Snapshot) {
                // Let the output (next on this thread) catch up with the snapshot at once:
                // recovery can start from a snapshot only once the output holds its records.
                break;
            }
        }
        if work > 0 && self.oldest_unwritten.is_none() {
            self.oldest_unwritten = Some(now);
        }
        // Group commit: one write for many records, but never holding one back for long.
        let due = self.writer.batched_bytes() >= COMMIT_BYTES
            || self.oldest_unwritten.is_some_and(|t| now.duration_since(t) >= COMMIT_DELAY);
        let committed = if end {
            self.writer.sync()
        } else if due || (self.writer.batched_bytes() == 0 && self.writer.needs_sync()) {
            self.writer.end_batch()
        } else {
            self.writer.poll(false) // a batch written meanwhile opens the output gate further
        };
        if let Err(e) = committed {
            if end {
                self.pending = Some(JournalMark::Close);
            }
            self.failed(&e);
            return work;
        }
        // Writes resumed only once the failed batch is on file (a retry handed over may fail).
        if !self.writer.is_failing() {
            self.recovered();
        }
        if self.writer.batched_bytes() == 0 && self.oldest_unwritten.take().is_some() {
            self.counters.batches.incr();
        }
        if self.writer.segment_index() != self.retained_at_segment {
            self.retain();
        }
        self.publish();
        self.done = end;
        if end {
            self.counters.done_us.set(self.started.elapsed().as_micros() as u64);
            self.counters.closed.set_release(1);
        }
        work
    }

    fn is_done(&self) -> bool {
        self.done
    }
}
