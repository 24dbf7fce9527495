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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fxrecon_core::event::Stream;
use fxrecon_core::time::Micros;
use rtrb::{Consumer, Producer};

use crate::agent::Agent;
use crate::journal::event_record::{self, KIND_EVENT, KIND_REJECT};
use crate::journal::{JournalError, JournalWriter};
use crate::pipeline::RejectNote;

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
    /// A snapshot of the state after every message marked so far waits in the snapshot ring.
    Snapshot,
    /// Both inputs ended: sync and stop.
    End,
}

/// The reconciler's end of the journal feed: marks, and the notes of the rejects among them.
pub struct JournalFeed {
    marks: Producer<JournalMark>,
    notes: Producer<RejectNote>,
}

/// The journal writer's end of the feed.
pub struct JournalIntake {
    marks: Consumer<JournalMark>,
    notes: Consumer<RejectNote>,
}

/// A feed of `slots` marks. The note ring is as large, so it has room whenever the mark ring
/// has (every note has its mark, and the writer takes both together).
pub fn journal_feed(slots: usize) -> (JournalFeed, JournalIntake) {
    let (marks, marks_rx) = rtrb::RingBuffer::new(slots);
    let (notes, notes_rx) = rtrb::RingBuffer::new(slots);
    (JournalFeed { marks, notes }, JournalIntake { marks: marks_rx, notes: notes_rx })
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

    /// Sends the end mark, waiting for room; returns the waits.
    pub fn push_end(&mut self) -> u64 {
        crate::pipeline::push_blocking(&mut self.marks, JournalMark::End)
    }
}

/// Bytes of the length prefix of each raw message in a byte ring.
pub const RAW_LEN_PREFIX: usize = 4;

/// Writes one raw message into a stream's byte ring (length-prefixed); false when it does not
/// fit (the caller keeps it and retries: backpressure).
pub fn push_raw(ring: &mut Producer<u8>, raw: &[u8]) -> bool {
    if ring.slots() < RAW_LEN_PREFIX + raw.len() {
        return false;
    }
    let pushed = ring.push_entire_slice(&(raw.len() as u32).to_le_bytes()).and_then(|()| ring.push_entire_slice(raw));
    debug_assert!(pushed.is_ok(), "space was checked");
    pushed.is_ok()
}

/// Counters of the journal agent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JournalStats {
    /// Records appended this run.
    pub records: u64,
    /// Batches handed over for writing (group commits; a retry of a failed one is not counted).
    pub batches: u64,
    /// Write or sync attempts that failed (each retried).
    pub write_failures: u64,
    /// Snapshots written.
    pub snapshots: u64,
    /// Microseconds from the agent's start until everything was written and synced.
    pub done_us: u64,
}

/// What the journal agent shares with the rest of the pipeline.
#[derive(Clone, Debug)]
pub struct JournalShared {
    /// Consumed messages (events and rejects) whose records are written: the output gate.
    pub written: Arc<AtomicU64>,
    /// True while writes are failing (intake is paused behind it).
    pub alarm: Arc<AtomicBool>,
}

impl JournalShared {
    /// Shared state starting at `written` messages already in the journal.
    pub fn new(written: u64) -> Self {
        Self { written: Arc::new(AtomicU64::new(written)), alarm: Arc::new(AtomicBool::new(false)) }
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
}

/// Drains consumption marks and raw bytes into the journal.
pub struct JournalAgent {
    marks: Consumer<JournalMark>,
    notes: Consumer<RejectNote>,
    raw: [Consumer<u8>; 2],
    writer: JournalWriter,
    shared: JournalShared,
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
    done: bool,
    started: Instant,
    /// Counters.
    pub stats: JournalStats,
}

impl JournalAgent {
    /// An agent appending to `writer`, whose first `header_records` records are not consumed
    /// messages.
    pub fn new(
        intake: JournalIntake,
        raw: [Consumer<u8>; 2],
        writer: JournalWriter,
        header_records: u64,
        shared: JournalShared,
    ) -> Self {
        Self {
            marks: intake.marks,
            notes: intake.notes,
            raw,
            writer,
            shared,
            header_records,
            snapshots: None,
            pending: None,
            payload: Vec::with_capacity(1024),
            retry_at: None,
            oldest_unwritten: None,
            failing_since: None,
            next_drain: Instant::now(),
            done: false,
            started: Instant::now(),
            stats: JournalStats::default(),
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
        let written = crate::journal::snapshot_file::write(&rings.dir, consumed, &buf)
            .and_then(|_| crate::journal::snapshot_file::prune(&rings.dir, rings.keep));
        // The buffer goes back whatever happened: a lost snapshot only means a longer replay.
        let _ = rings.empty.push(buf);
        match written {
            Ok(()) => {
                self.stats.snapshots += 1;
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %io(e), "snapshot not written; recovery will replay from an older one");
                Ok(())
            }
        }
    }

    /// Appends the record of one mark; the raw bytes are consumed only once it is appended.
    fn append(&mut self, mark: &JournalMark) -> Result<(), JournalError> {
        match *mark {
            JournalMark::Event { stream, line, event_time } => {
                let ring = &mut self.raw[stream.index()];
                let mut len = [0u8; RAW_LEN_PREFIX];
                let chunk = ring.read_chunk(RAW_LEN_PREFIX).expect("raw bytes precede their event");
                let (a, b) = chunk.as_slices();
                len[..a.len()].copy_from_slice(a);
                len[a.len()..].copy_from_slice(b);
                let n = u32::from_le_bytes(len) as usize;
                let chunk = ring.read_chunk(RAW_LEN_PREFIX + n).expect("raw bytes precede their event");
                let (a, b) = chunk.as_slices();
                // Drop the length prefix, which may straddle the two slices.
                let (a, b) = if a.len() >= RAW_LEN_PREFIX {
                    (&a[RAW_LEN_PREFIX..], b)
                } else {
                    (&[][..], &b[RAW_LEN_PREFIX - a.len()..])
                };
                let head = event_record::event_head(stream, line, event_time);
                self.writer.append_parts(KIND_EVENT, &[&head, a, b])?;
                chunk.commit_all();
            }
            JournalMark::Reject => {
                // Read in place; taken off its ring only once its record is appended.
                let note = self.notes.peek().expect("a reject's note precedes its mark");
                event_record::encode_reject(
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
            JournalMark::End => {}
        }
        if !matches!(mark, JournalMark::End) {
            self.stats.records += 1;
        }
        Ok(())
    }

    fn publish(&self) {
        let written = self.writer.written_records().saturating_sub(self.header_records);
        self.shared.written.store(written, Ordering::Release);
    }

    fn failed(&mut self, e: &JournalError) {
        self.stats.write_failures += 1;
        let now = Instant::now();
        self.retry_at = Some(now + RETRY);
        match self.failing_since {
            None => {
                self.failing_since = Some(now);
                self.shared.alarm.store(true, Ordering::Release);
                tracing::error!(error = %e, "ALARM journal write failed: intake paused until the journal can be written");
            }
            Some(since) if self.stats.write_failures.is_multiple_of(200) => {
                tracing::error!(error = %e, failing_for_s = since.elapsed().as_secs(), "ALARM journal still failing; intake paused");
            }
            Some(_) => {}
        }
    }

    fn recovered(&mut self) {
        if let Some(since) = self.failing_since.take() {
            self.shared.alarm.store(false, Ordering::Release);
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
            if matches!(mark, JournalMark::End) {
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
                self.pending = Some(JournalMark::End);
            }
            self.failed(&e);
            return work;
        }
        // Writes resumed only once the failed batch is on file (a retry handed over may fail).
        if !self.writer.is_failing() {
            self.recovered();
        }
        if self.writer.batched_bytes() == 0 && self.oldest_unwritten.take().is_some() {
            self.stats.batches += 1;
        }
        self.publish();
        self.done = end;
        if end {
            self.stats.done_us = self.started.elapsed().as_micros() as u64;
        }
        work
    }

    fn is_done(&self) -> bool {
        self.done
    }
}
