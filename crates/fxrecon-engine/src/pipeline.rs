//! The live pipeline: ingest agents → SPSC rings → reconciler agent → output agent.
//!
//! Owns: the threads and rings of `fxrecon run`, the deterministic merge of two rings by
//! event time (with per-stream watermarks so an idle stream cannot stall or reorder the
//! other), and backpressure (a full ring makes the producer wait and is counted; nothing is
//! ever dropped). Data flows one way; nothing reaches back.

use std::io::{self, BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use fxrecon_core::divergence::Record;
use fxrecon_core::event::{ExecEvent, Stream};
use fxrecon_core::fix::{DecodeError, decode};
use fxrecon_core::reconciler::{ReconStats, Reconciler};
use fxrecon_core::text::InlineStr;
use fxrecon_core::time::Micros;
use fxrecon_core::{ReconConfig, Sink};
use rtrb::{Consumer, Producer, RingBuffer};

use crate::agent::{self, Agent};
use crate::idle::IdleStrategy;
use crate::journal::JournalWriter;
use crate::journal_agent::{JournalAgent, JournalFeed, JournalMark, JournalShared, journal_feed, push_raw};
use crate::line_reader::{Line, LineReader, LineSource};
use crate::offline::{RejectReason, RejectSink};
use crate::render::write_record;

/// A rejected line on its way to the rejects output.
#[derive(Clone, Copy, Debug)]
pub struct RejectNote {
    /// Stream of the input.
    pub stream: Stream,
    /// Line number (0: the input as a whole).
    pub line: u64,
    /// Why.
    pub reason: RejectReason,
    /// First bytes of the line.
    pub excerpt: InlineStr<120>,
}

/// What an ingest agent sends to the reconciler.
// Ring slots are fixed-size and pre-allocated: boxing the large variant would allocate per message.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug)]
pub enum IngestMsg {
    /// A decoded message with its event time set.
    Event(ExecEvent),
    /// A line that could not be used.
    Reject(RejectNote),
    /// The input is exhausted.
    End,
}

/// What the reconciler sends to the output agent. `seq` is the number of messages the
/// reconciler had consumed when it sent it: with a journal, the output agent writes it only
/// once that many consumed messages are journaled.
#[allow(clippy::large_enum_variant)] // see IngestMsg
#[derive(Clone, Copy, Debug)]
pub enum OutputMsg {
    /// A divergence, gap or resolution.
    Record {
        /// The record.
        record: Record,
        /// Consumed messages when it was emitted.
        seq: u64,
    },
    /// A rejected line.
    Reject {
        /// The rejected line.
        note: RejectNote,
        /// Consumed messages including this reject.
        seq: u64,
    },
    /// Nothing more will come.
    End {
        /// Consumed messages in all.
        seq: u64,
    },
}

impl OutputMsg {
    fn seq(&self) -> u64 {
        match *self {
            OutputMsg::Record { seq, .. } | OutputMsg::Reject { seq, .. } | OutputMsg::End { seq } => seq,
        }
    }
}

/// Pushes `msg`, waiting while the ring is full (spin, then yield); returns the waits.
pub(crate) fn push_blocking<T>(p: &mut Producer<T>, msg: T) -> u64 {
    retry_push(msg, |m| p.push(m).map_err(|rtrb::PushError::Full(back)| back))
}

/// Calls `try_push` until it takes `msg` (it gives the message back when it cannot): spins
/// for the first 128 refusals, then yields between tries. Returns the refusals.
fn retry_push<T>(mut msg: T, mut try_push: impl FnMut(T) -> Result<(), T>) -> u64 {
    let mut waits = 0u64;
    while let Err(back) = try_push(msg) {
        msg = back;
        waits += 1;
        if waits < 128 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
    waits
}

/// A producer for a source that is always ahead of its consumer (a journal replay): once it
/// finds the ring full it waits until an eighth is free again, so it writes in runs instead of
/// taking every slot the moment the consumer frees it (a cache-line handover per event).
struct RunProducer<T> {
    ring: Producer<T>,
    refilling: bool,
}

impl<T> RunProducer<T> {
    fn new(ring: Producer<T>) -> Self {
        Self { ring, refilling: false }
    }

    /// Pushes `msg` unless the ring is full or still refilling; gives it back then.
    fn try_push(&mut self, msg: T) -> Result<(), T> {
        if self.refilling {
            if self.ring.slots() < (self.ring.buffer().capacity() / 8).max(1) {
                return Err(msg);
            }
            self.refilling = false;
        }
        self.ring.push(msg).map_err(|rtrb::PushError::Full(back)| {
            self.refilling = true;
            back
        })
    }

    /// Pushes `msg`, spinning and then yielding while the ring refills.
    fn push(&mut self, msg: T) {
        retry_push(msg, |m| self.try_push(m));
    }
}

/// How a pipeline run is set up.
#[derive(Clone, Debug)]
pub struct PipelineOptions {
    /// Slots of each ring (rounded up to a power of two).
    pub ring_capacity: usize,
    /// Idle strategy of every agent.
    pub idle: IdleStrategy,
    /// Pin the hot threads (ingest, reconciler) to cores 0.. (off by default: pinning more
    /// threads than cores stalls them; see [`Threading`]).
    pub pin: bool,
    /// Release messages at this combined rate (None: as fast as they come).
    pub pace_msgs_per_s: Option<u64>,
    /// Share of the paced rate each stream gets, primary first (halves by default). A stream
    /// paced faster than its share of the input drifts ahead of the other in time, and the
    /// reconciler reports the drift as missing fills and timing anomalies (D40).
    pub pace_shares: [f64; 2],
    /// Where event time comes from.
    pub clock: EventClock,
    /// Longest accepted line.
    pub max_message_bytes: usize,
    /// Record detection latency (ingest clock to emission) in a histogram.
    pub measure_latency: bool,
    /// How agents map to threads.
    pub threading: Threading,
    /// Map the reconciler's pre-sized state memory before the run starts (no page faults on
    /// the hot path later; costs start-up time and resident memory up front).
    pub prefault: bool,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        Self {
            ring_capacity: 1 << 14,
            idle: IdleStrategy::default(),
            pin: false,
            pace_msgs_per_s: None,
            pace_shares: [0.5, 0.5],
            clock: EventClock::File,
            max_message_bytes: 64 * 1024,
            measure_latency: false,
            threading: Threading::default(),
            prefault: false,
        }
    }
}

/// Lines (newline-terminated) in an in-memory or mapped input.
pub fn line_count(input: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', input).count() as u64
}

/// Each input's share of the lines of both (`lines`: from [`line_count`]), for
/// [`PipelineOptions::pace_shares`]: the pace that keeps two file streams level in time, so
/// both end together (D40).
pub fn pace_shares(lines: [u64; 2]) -> [f64; 2] {
    let [p, d] = lines.map(|n| n as f64);
    if p + d == 0.0 { [0.5, 0.5] } else { [p / (p + d), d / (p + d)] }
}

/// How the pipeline's agents map to threads (after Aeron's threading modes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threading {
    /// A thread per agent: ingest primary, ingest drop copy, reconciler, and a background
    /// thread for the journal writer and the output (never busy-spinning: with the busy-spin
    /// idle strategy it parks). Disk and pipe writes never delay ingest. For four cores or more.
    Dedicated,
    /// Two threads, each with a core of its own on a two-core machine: the reconciler alone on
    /// one; both ingest agents, the journal writer and the output on the other ("edge"). The
    /// reconciler never waits on disk; a slow disk or output consumer pauses ingest
    /// (backpressure: nothing is lost).
    Shared,
}

impl Default for Threading {
    /// Dedicated with at least four cores, shared below.
    fn default() -> Self {
        match std::thread::available_parallelism() {
            Ok(n) if n.get() >= 4 => Threading::Dedicated,
            _ => Threading::Shared,
        }
    }
}

impl Threading {
    /// Threads the pipeline runs on in this mode (dedicated: three hot ones and the background
    /// one, which must not share a core with a busy-spinning thread either: D30).
    pub fn threads(self) -> usize {
        match self {
            Threading::Dedicated => 4,
            Threading::Shared => 2,
        }
    }

    /// True when each of this mode's threads can have a core of its own on this machine.
    pub fn fits_cores(self) -> bool {
        self.threads() <= std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

impl std::str::FromStr for Threading {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "dedicated" => Ok(Threading::Dedicated),
            "shared" => Ok(Threading::Shared),
            "auto" => Ok(Threading::default()),
            _ => Err(format!("unknown threading mode {s:?} (dedicated, shared, auto)")),
        }
    }
}

/// Where a pipeline's event clock comes from (contract 1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventClock {
    /// The input's own times: arrival prefix, else SendingTime (files; output equals
    /// `reconcile`'s whatever the pace).
    File,
    /// Stamped on ingest (live mode); the stamps are journaled, so a replay sees them too.
    Ingest,
}

impl std::str::FromStr for EventClock {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "file" => Ok(EventClock::File),
            "ingest" => Ok(EventClock::Ingest),
            _ => Err(format!("unknown clock {s:?} (file, ingest)")),
        }
    }
}

/// Counters of one ingest agent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// Lines read.
    pub lines: u64,
    /// Messages decoded and pushed.
    pub messages: u64,
    /// Lines rejected.
    pub rejected: u64,
    /// Push attempts that found the ring full (backpressure waits).
    pub ring_full_waits: u64,
    /// Microseconds from the pipeline's start until this input was exhausted.
    pub read_us: u64,
}

/// Wall-clock microseconds for stamping arrivals in paced/live mode.
#[derive(Clone, Copy, Debug)]
pub struct IngestClock {
    base: Micros,
    start: Instant,
}

impl IngestClock {
    /// A clock reading the system time once and a monotonic counter after.
    pub fn start() -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        Self { base: Micros(now), start: Instant::now() }
    }

    /// Now, in microseconds since the epoch (monotone).
    #[inline]
    pub fn now(&self) -> Micros {
        Micros(self.base.0 + self.start.elapsed().as_micros() as i64)
    }
}

/// Reads one input, decodes it and pushes events into its ring.
pub struct IngestAgent<S> {
    stream: Stream,
    reader: S,
    ring: Producer<IngestMsg>,
    watermark: Arc<AtomicI64>,
    clock: Micros,
    pace: Option<(IngestClock, f64)>,
    /// Stamps arrivals when the event clock is the ingest clock.
    stamp: Option<IngestClock>,
    event: ExecEvent,
    /// A message the full ring did not take yet (retried before reading more input).
    pending: Option<IngestMsg>,
    /// With a journal: the byte ring carrying each event's raw bytes to the journal writer.
    raw: Option<Producer<u8>>,
    /// The raw bytes of the pending event, when the byte ring did not take them yet.
    raw_buf: Vec<u8>,
    raw_pending: bool,
    /// Watermark to publish once the pending event is in the ring.
    last_pushed_time: Option<i64>,
    /// End of input reached (the End marker may still be pending).
    exhausted: bool,
    /// The empty-input reject was sent.
    reported_empty: bool,
    done: bool,
    /// When the pipeline started.
    started: Instant,
    /// Counters.
    pub stats: IngestStats,
}

impl<S: LineSource + Send> IngestAgent<S> {
    /// An ingest agent for `stream` reading `input` into `ring`, publishing its clock to
    /// `watermark`.
    pub fn new(
        stream: Stream,
        reader: S,
        ring: Producer<IngestMsg>,
        watermark: Arc<AtomicI64>,
        opts: &PipelineOptions,
        clock: IngestClock,
    ) -> Self {
        Self {
            stream,
            reader,
            ring,
            watermark,
            clock: Micros(i64::MIN),
            pace: opts.pace_msgs_per_s.map(|r| (clock, (r.max(2) as f64 * opts.pace_shares[stream.index()]).max(1.0))),
            stamp: (opts.clock == EventClock::Ingest).then_some(clock),
            event: ExecEvent::default(),
            pending: None,
            raw: None,
            raw_buf: Vec::new(),
            raw_pending: false,
            last_pushed_time: None,
            exhausted: false,
            reported_empty: false,
            done: false,
            started: clock.start,
            stats: IngestStats::default(),
        }
    }

    /// Resumes after `start.lines` lines (the reader is already past them) with the stream's
    /// clock where it was.
    pub fn resuming(mut self, start: StreamStart) -> Self {
        self.clock = start.clock;
        self.stats.lines = start.lines;
        self
    }

    /// Sends every event's raw bytes to the journal writer through `raw`; `max_message_bytes`
    /// sizes the buffer that holds them while that ring is full.
    pub fn journaling(mut self, raw: Producer<u8>, max_message_bytes: usize) -> Self {
        self.raw = Some(raw);
        self.raw_buf = Vec::with_capacity(max_message_bytes);
        self
    }

    /// Offers `msg` to the ring; a full ring keeps it pending (backpressure, never a drop).
    fn push(&mut self, msg: IngestMsg) {
        debug_assert!(self.pending.is_none());
        if let Err(rtrb::PushError::Full(back)) = self.ring.push(msg) {
            self.stats.ring_full_waits += 1;
            self.pending = Some(back);
        }
    }

    /// Retries the pending raw bytes, then the pending message; true when the rings took them
    /// (or nothing was pending).
    fn flush_pending(&mut self) -> bool {
        if self.raw_pending {
            let raw = self.raw.as_mut().expect("raw bytes are pending only when journaling");
            if !push_raw(raw, &self.raw_buf) {
                self.stats.ring_full_waits += 1;
                return false;
            }
            self.raw_pending = false;
        }
        match self.pending.take() {
            None => true,
            Some(msg) => match self.ring.push(msg) {
                Ok(()) => true,
                Err(rtrb::PushError::Full(back)) => {
                    self.stats.ring_full_waits += 1;
                    self.pending = Some(back);
                    false
                }
            },
        }
    }

    fn reject(&mut self, line: u64, reason: RejectReason, excerpt: &[u8]) {
        self.stats.rejected += 1;
        let note = RejectNote { stream: self.stream, line, reason, excerpt: InlineStr::from_bytes_lossy(excerpt) };
        self.push(IngestMsg::Reject(note));
    }
}

impl<S: LineSource + Send> Agent for IngestAgent<S> {
    fn name(&self) -> &'static str {
        match self.stream {
            Stream::Primary => "ingest-primary",
            Stream::DropCopy => "ingest-dropcopy",
        }
    }

    fn do_work(&mut self) -> usize {
        if self.done {
            return 0;
        }
        if !self.flush_pending() {
            return 0; // Ring full: let the idle strategy back off instead of spinning here.
        }
        if let Some(ev) = self.last_pushed_time.take() {
            self.watermark.store(ev, Ordering::Release);
        }
        if self.exhausted {
            self.watermark.store(i64::MAX, Ordering::Release);
            self.done = true;
            return 1;
        }
        if let Some((clock, rate)) = &self.pace {
            let now = clock.now();
            let due = clock.base.0 + (self.stats.messages as f64 * 1e6 / rate) as i64;
            if now.0 < due {
                if self.stamp.is_some() {
                    // Nothing stamped before `now` will come from this stream.
                    self.watermark.store(now.0, Ordering::Release);
                }
                return 0;
            }
        }
        let line = match self.reader.next_line() {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(stream = self.stream.name(), error = %e, "input read failed; ending stream");
                None
            }
        };
        let Some(line) = line else {
            if self.stats.lines == 0 && !self.reported_empty {
                self.reported_empty = true;
                self.reject(0, RejectReason::EmptyInput, b"");
                return 1;
            }
            self.push(IngestMsg::End);
            self.stats.read_us = self.started.elapsed().as_micros() as u64;
            self.exhausted = true;
            return 1;
        };
        self.stats.lines += 1;
        let line_no = self.stats.lines;
        let text = match line {
            Line::TooLong { head, len } => {
                let head: InlineStr<120> = InlineStr::from_bytes_lossy(head);
                self.reject(line_no, RejectReason::TooLong(len), head.as_bytes());
                return 1;
            }
            Line::Text(t) => t,
        };
        self.event.stream = self.stream;
        self.event.line = line_no;
        match decode(text, &mut self.event) {
            Ok(()) => {
                let t = match &self.stamp {
                    Some(clock) => Ok(clock.now().max(self.clock)),
                    None => self.event.file_time(self.clock),
                };
                match t {
                    Ok(t) => self.clock = t,
                    Err(e) => {
                        let head: InlineStr<120> = InlineStr::from_bytes_lossy(text);
                        self.reject(line_no, RejectReason::Decode(e), head.as_bytes());
                        return 1;
                    }
                }
                self.event.event_time = self.clock;
                self.stats.messages += 1;
                if let Some(raw) = self.raw.as_mut()
                    && !push_raw(raw, text)
                {
                    // The journal's byte ring is full: keep both until it drains (the buffer
                    // was sized for the longest accepted line, so this never allocates).
                    self.stats.ring_full_waits += 1;
                    self.raw_buf.clear();
                    self.raw_buf.extend_from_slice(text);
                    self.raw_pending = true;
                    self.pending = Some(IngestMsg::Event(self.event));
                    self.last_pushed_time = Some(self.clock.0);
                    return 1;
                }
                let ev = self.event;
                self.push(IngestMsg::Event(ev));
                if self.pending.is_none() {
                    self.watermark.store(self.clock.0, Ordering::Release);
                } else {
                    // Publish the watermark only once the event is really in the ring.
                    self.last_pushed_time = Some(self.clock.0);
                }
            }
            Err(DecodeError::Empty) => {}
            Err(e) => {
                let head: InlineStr<120> = InlineStr::from_bytes_lossy(text);
                self.reject(line_no, RejectReason::Decode(e), head.as_bytes());
            }
        }
        1
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

/// Detection latency recorder: emission time minus the moment the record became decidable.
///
/// In paced mode the event clock is the ingest clock, so a record's `detected_at` (the arrival
/// of the deciding message, or the grace deadline) and "now" are on one time line.
pub struct LatencyRecorder {
    clock: IngestClock,
    /// Microseconds from decidable to emitted.
    pub histogram: hdrhistogram::Histogram<u64>,
}

impl LatencyRecorder {
    /// A recorder on `clock`, pre-sized for 1 µs .. 60 s (recording never allocates).
    pub fn new(clock: IngestClock) -> Self {
        let histogram = hdrhistogram::Histogram::new_with_bounds(1, 60_000_000, 3).expect("static histogram bounds");
        Self { clock, histogram }
    }

    #[inline]
    fn record(&mut self, r: &Record) {
        let lat = (self.clock.now().0 - r.detected_at().0).max(1) as u64;
        self.histogram.saturating_record(lat);
    }
}

/// Sink that pushes records into the output ring, waiting while it is full.
struct RingSink<'a> {
    ring: &'a mut Producer<OutputMsg>,
    waits: &'a mut u64,
    latency: Option<&'a mut LatencyRecorder>,
    /// Consumed messages so far (tags every record).
    seq: u64,
}

impl Sink for RingSink<'_> {
    fn emit(&mut self, record: &Record) {
        if let Some(l) = self.latency.as_deref_mut() {
            l.record(record);
        }
        *self.waits += push_blocking(self.ring, OutputMsg::Record { record: *record, seq: self.seq });
    }
}

/// Counters of the reconciler agent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReconcilerAgentStats {
    /// Events applied.
    pub events: u64,
    /// Output-ring pushes that found it full.
    pub output_full_waits: u64,
    /// Duty cycles that stopped because the journal's mark ring was full.
    pub journal_full_waits: u64,
    /// Snapshots taken.
    pub snapshots: u64,
    /// The reconciler's own counters.
    pub recon: ReconStats,
    /// The order store's counters (retired, evicted, capacity exhausted, high water).
    pub store: fxrecon_core::order_store::StoreStats,
    /// Digest of the final state.
    pub state_digest: u64,
    /// Microseconds from the agent's start until it had applied every message and sent the
    /// end-of-day records (before the state digest is taken).
    pub drained_us: u64,
}

/// When the reconciler agent takes snapshots, and the buffers it fills.
struct SnapshotPlan {
    every: u64,
    next_at: u64,
    full: Producer<Vec<u8>>,
    empty: Consumer<Vec<u8>>,
}

/// Drains both ingest rings in event-time order and applies them to the reconciler.
pub struct ReconcilerAgent {
    rings: [Consumer<IngestMsg>; 2],
    /// Line of each ring's head whose order was last hinted (so each is hinted once, by
    /// [`Self::next_stream`]).
    hinted: [u64; 2],
    watermarks: [Arc<AtomicI64>; 2],
    ended: [bool; 2],
    reconciler: Reconciler,
    output: Producer<OutputMsg>,
    /// With a journal: what was consumed, in order, for the journal writer.
    journal: Option<JournalFeed>,
    /// Messages (events and rejects) consumed, including those recovered from a journal.
    consumed: u64,
    /// Where each input stands after what was consumed (for snapshots).
    positions: [StreamStart; 2],
    /// Rejects consumed (for snapshots).
    rejects_consumed: u64,
    snapshot: Option<SnapshotPlan>,
    done: bool,
    started: Instant,
    /// Detection latency, when measured (benchmarks).
    pub latency: Option<LatencyRecorder>,
    /// Counters.
    pub stats: ReconcilerAgentStats,
}

const BATCH: usize = 256;

impl ReconcilerAgent {
    /// A reconciler agent applying `rings` (primary, drop copy) to `reconciler` and writing
    /// `output`.
    pub fn new(
        reconciler: Reconciler,
        rings: [Consumer<IngestMsg>; 2],
        watermarks: [Arc<AtomicI64>; 2],
        output: Producer<OutputMsg>,
    ) -> Self {
        Self {
            rings,
            hinted: [u64::MAX; 2],
            watermarks,
            ended: [false; 2],
            reconciler,
            output,
            journal: None,
            consumed: 0,
            positions: [StreamStart::default(); 2],
            rejects_consumed: 0,
            snapshot: None,
            done: false,
            started: Instant::now(),
            latency: None,
            stats: ReconcilerAgentStats::default(),
        }
    }

    /// Journals every consumed message to `marks`; `consumed` messages are already journaled
    /// (and applied to the reconciler, when it was recovered).
    pub fn journaled(mut self, feed: JournalFeed, consumed: u64) -> Self {
        self.journal = Some(feed);
        self.consumed = consumed;
        self
    }

    /// Resumes the position bookkeeping of a recovered run.
    pub fn resuming(mut self, positions: [StreamStart; 2], rejects_consumed: u64) -> Self {
        self.positions = positions;
        self.rejects_consumed = rejects_consumed;
        self
    }

    /// Takes a snapshot every `every` consumed messages (journaled runs only), filling the
    /// buffers that come back on `empty` and handing them to the journal writer on `full`.
    pub fn snapshotting(mut self, every: u64, full: Producer<Vec<u8>>, empty: Consumer<Vec<u8>>) -> Self {
        // At fixed positions (multiples of `every`), whatever the restarts in between.
        let next_at = (self.consumed / every + 1) * every;
        self.snapshot = Some(SnapshotPlan { every, next_at, full, empty });
        self
    }

    /// Takes a snapshot if one is due and a buffer and a mark slot are free (else later).
    fn maybe_snapshot(&mut self) {
        let Some(plan) = self.snapshot.as_mut() else { return };
        let Some(journal) = self.journal.as_mut() else { return };
        if self.consumed < plan.next_at || journal.is_full() {
            return;
        }
        let Ok(mut buf) = plan.empty.pop() else { return };
        buf.clear();
        let header = crate::journal::snapshot_file::SnapshotHeader {
            consumed: self.consumed,
            rejects: self.rejects_consumed,
            records_emitted: self.reconciler.records_emitted(),
            streams: self.positions,
        };
        header.save(&mut fxrecon_core::snapshot::SnapWriter::new(&mut buf));
        // On the hot path: it costs as much as the state is large (BENCHMARKS.md), and
        // reuses its buffer, so it allocates only when the state outgrows every earlier one.
        self.reconciler.save(&mut buf);
        plan.full.push(buf).expect("only one buffer circulates");
        journal.push(JournalMark::Snapshot);
        plan.next_at = (self.consumed / plan.every + 1) * plan.every;
        self.stats.snapshots += 1;
    }

    /// Which stream's head may be applied next, if any (same order as the offline merge).
    fn next_stream(&mut self) -> Option<Stream> {
        // Rejects and end markers carry no time: take them as soon as they are at the head.
        // An event at a head had its identity slot hinted when it was behind the one applied
        // (D23): the first look at it hints its order too.
        let (rings, reconciler, hinted) = (&self.rings, &self.reconciler, &mut self.hinted);
        let mut time_of = |s: usize| match rings[s].peek() {
            Ok(IngestMsg::Event(e)) => {
                if e.line != hinted[s] {
                    reconciler.prefetch_order(e);
                    hinted[s] = e.line;
                }
                Some(Some(e.event_time))
            }
            Ok(_) => Some(None),
            Err(_) => None,
        };
        let heads = [time_of(0), time_of(1)];
        for s in Stream::BOTH {
            if let Some(None) = heads[s.index()] {
                return Some(s);
            }
        }
        // An empty ring's watermark must be read *before* the ring is looked at again: a
        // watermark read after an empty peek could already cover an event pushed in between
        // (the ingest agent pushes, then publishes), which would then be overtaken.
        let bound = |s: Stream| -> i64 {
            if self.ended[s.index()] { i64::MAX } else { self.watermarks[s.index()].load(Ordering::Acquire) }
        };
        let pick = |p: Micros, d: Micros| if p <= d { Stream::Primary } else { Stream::DropCopy };
        match (heads[0], heads[1]) {
            (Some(Some(p)), Some(Some(d))) => Some(pick(p, d)),
            (Some(Some(p)), None) => {
                let w = bound(Stream::DropCopy);
                match time_of(1) {
                    Some(Some(d)) => Some(pick(p, d)),
                    Some(None) => Some(Stream::DropCopy),
                    // A later drop-copy event has time >= its watermark; ties go to the primary.
                    None => (p.0 <= w).then_some(Stream::Primary),
                }
            }
            (None, Some(Some(d))) => {
                let w = bound(Stream::Primary);
                match time_of(0) {
                    Some(Some(p)) => Some(pick(p, d)),
                    Some(None) => Some(Stream::Primary),
                    // The primary wins ties, so the drop copy must be strictly earlier.
                    None => (d.0 < w).then_some(Stream::DropCopy),
                }
            }
            _ => None,
        }
    }
}

impl Agent for ReconcilerAgent {
    fn name(&self) -> &'static str {
        "reconciler"
    }

    fn do_work(&mut self) -> usize {
        if self.done {
            return 0;
        }
        let mut work = 0;
        while work < BATCH {
            // Consume only what can be journaled: a full mark ring (the journal writer is
            // behind, or the disk is failing) pauses intake here, without spinning.
            if self.journal.as_ref().is_some_and(|j| j.is_full()) {
                self.stats.journal_full_waits += 1;
                break;
            }
            let Some(s) = self.next_stream() else { break };
            // Apply the message where it lies in the ring (an ExecEvent is ~0.5 KB: copying
            // it out was measured at 5% of the reconciler thread), with the one behind it in
            // view when it has arrived, to hint its identity-table slot (D23).
            // (Two only when two are known to be there: `slots()` would read the producer's
            // position, a line the other core keeps writing, for every message.)
            let ring = &mut self.rings[s.index()];
            let chunk = match ring.read_chunk(2) {
                Ok(chunk) => chunk,
                Err(_) => match ring.read_chunk(1) {
                    Ok(chunk) => chunk,
                    Err(_) => break,
                },
            };
            work += 1;
            let (head, tail) = chunk.as_slices();
            let msg = &head[0];
            if let Some(IngestMsg::Event(next)) = head.get(1).or(tail.first()) {
                self.reconciler.prefetch(next);
            }
            // One message: where its stream now stands, its journal mark, then its effect.
            let journal = self.journal.as_mut();
            let consumed = match msg {
                IngestMsg::Event(ev) => {
                    // The merge's one promise: event time never goes backwards (also across a
                    // recovery, whose positions continue the merge that was interrupted).
                    debug_assert!(
                        self.positions.iter().all(|p| ev.event_time >= p.clock),
                        "merge went back in time at {s:?} line {}",
                        ev.line
                    );
                    self.positions[s.index()] = StreamStart { lines: ev.line, clock: ev.event_time };
                    if let Some(j) = journal {
                        j.push(JournalMark::Event { stream: s, line: ev.line, event_time: ev.event_time });
                    }
                    true
                }
                IngestMsg::Reject(note) => {
                    let p = &mut self.positions[s.index()];
                    p.lines = p.lines.max(note.line);
                    self.rejects_consumed += 1;
                    if let Some(j) = journal {
                        j.push_reject(*note);
                    }
                    true
                }
                IngestMsg::End => false,
            };
            if consumed {
                self.consumed += 1;
            }
            let mut sink = RingSink {
                ring: &mut self.output,
                waits: &mut self.stats.output_full_waits,
                latency: self.latency.as_mut(),
                seq: self.consumed,
            };
            match msg {
                IngestMsg::Event(ev) => {
                    self.stats.events += 1;
                    self.reconciler.apply(ev, &mut sink);
                }
                IngestMsg::Reject(note) => {
                    *sink.waits += push_blocking(sink.ring, OutputMsg::Reject { note: *note, seq: sink.seq });
                }
                IngestMsg::End => self.ended[s.index()] = true,
            }
            chunk.commit(1);
            self.maybe_snapshot();
        }
        if self.ended == [true, true] {
            if let Some(j) = self.journal.as_mut() {
                self.stats.journal_full_waits += j.push_end();
            }
            let seq = self.consumed;
            let mut sink =
                RingSink { ring: &mut self.output, waits: &mut self.stats.output_full_waits, latency: None, seq };
            self.reconciler.finish(&mut sink);
            self.stats.output_full_waits += push_blocking(&mut self.output, OutputMsg::End { seq });
            self.stats.drained_us = self.started.elapsed().as_micros() as u64;
            self.stats.recon = self.reconciler.stats();
            self.stats.store = self.reconciler.store_stats();
            self.stats.state_digest = self.reconciler.state_digest();
            self.done = true;
            work += 1;
        }
        work
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

/// Longest a written record waits in the output's buffer while more keep coming.
const FLUSH_DELAY: std::time::Duration = std::time::Duration::from_micros(200);

/// Writes records as JSON Lines and rejects to the rejects sink.
pub struct OutputAgent<W, J> {
    ring: Consumer<OutputMsg>,
    out: W,
    rejects: J,
    error: Option<io::Error>,
    done: bool,
    /// With a journal: consumed messages journaled so far (nothing later is written).
    gate: Option<Arc<AtomicU64>>,
    /// Records with ids up to this one are already in the output (a recovered run).
    skip_through_id: u64,
    /// Rejects still to skip because the rejects output already holds them.
    skip_rejects: u64,
    /// When the oldest record not yet handed to the file was written to the buffer (None:
    /// nothing written since the last flush).
    unflushed_since: Option<Instant>,
    /// Counts of what was written.
    pub counts: crate::summary::RecordCounts,
}

impl<W: Write + Send, J: RejectSink + Send> OutputAgent<W, J> {
    /// An output agent draining `ring`.
    pub fn new(ring: Consumer<OutputMsg>, out: W, rejects: J) -> Self {
        Self {
            ring,
            out,
            rejects,
            error: None,
            done: false,
            gate: None,
            skip_through_id: 0,
            skip_rejects: 0,
            unflushed_since: None,
            counts: Default::default(),
        }
    }

    /// Writes nothing before the journal holds the message it came from; skips what a
    /// recovered output already holds (records up to `skip_through_id`, the first
    /// `skip_rejects` rejects).
    pub fn gated(mut self, journaled: Arc<AtomicU64>, skip_through_id: u64, skip_rejects: u64) -> Self {
        self.gate = Some(journaled);
        self.skip_through_id = skip_through_id;
        self.skip_rejects = skip_rejects;
        self
    }

    /// The writers back, with the first write error if any.
    pub fn finish(mut self) -> (io::Result<()>, W, J) {
        let r = match self.error.take() {
            Some(e) => Err(e),
            None => self.out.flush(),
        };
        (r, self.out, self.rejects)
    }
}

impl<W: Write + Send, J: RejectSink + Send> Agent for OutputAgent<W, J> {
    fn name(&self) -> &'static str {
        "output"
    }

    fn do_work(&mut self) -> usize {
        let mut work = 0;
        let journaled = self.gate.as_ref().map(|g| g.load(Ordering::Acquire));
        while work < BATCH {
            let Ok(&msg) = self.ring.peek() else { break };
            if journaled.is_some_and(|j| msg.seq() > j) {
                break; // Not journaled yet: written once it is.
            }
            let _ = self.ring.pop();
            work += 1;
            match msg {
                OutputMsg::Record { record: r, .. } => {
                    if r.id() <= self.skip_through_id {
                        continue;
                    }
                    self.counts.count(&r);
                    self.unflushed_since.get_or_insert_with(Instant::now);
                    if self.error.is_none()
                        && let Err(e) = write_record(&mut self.out, &r)
                    {
                        self.error = Some(e);
                    }
                }
                OutputMsg::Reject { note: n, .. } => {
                    if self.skip_rejects > 0 {
                        self.skip_rejects -= 1;
                        continue;
                    }
                    self.rejects.reject(n.stream, n.line, &n.reason, n.excerpt.as_bytes());
                    self.unflushed_since.get_or_insert_with(Instant::now);
                }
                OutputMsg::End { .. } => {
                    self.done = true;
                    break;
                }
            }
        }
        // Hand what was written to the file FLUSH_DELAY after the oldest unflushed record (and
        // at the end): records reach readers and survive a crash of this process without
        // waiting for a full buffer, the output keeps up with the snapshots recovery starts
        // from, and a trickle of records (one per cycle, as on a shared edge thread) costs one
        // write per FLUSH_DELAY instead of one per record.
        if self.unflushed_since.is_some_and(|t| self.done || t.elapsed() >= FLUSH_DELAY) {
            self.unflushed_since = None;
            self.rejects.flush();
            if self.error.is_none()
                && let Err(e) = self.out.flush()
            {
                self.error = Some(e);
            }
        }
        work
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

/// What a pipeline run did.
#[derive(Clone, Debug, Default)]
pub struct PipelineStats {
    /// Per-stream ingest counters (primary, drop copy).
    pub ingest: [IngestStats; 2],
    /// Reconciler agent counters.
    pub reconciler: ReconcilerAgentStats,
    /// Counts of records written.
    pub counts: crate::summary::RecordCounts,
    /// Wall time of the run.
    pub elapsed: std::time::Duration,
    /// Detection latency in µs, when `measure_latency` was set.
    pub latency: Option<hdrhistogram::Histogram<u64>>,
    /// Journal writer counters, when journaling.
    pub journal: Option<crate::journal_agent::JournalStats>,
}

/// Runs the threaded pipeline over two buffered inputs until both end; records go to `out`.
pub fn run<P, D, W, J>(
    primary: P,
    dropcopy: D,
    cfg: ReconConfig,
    opts: &PipelineOptions,
    out: W,
    rejects: J,
) -> io::Result<(PipelineStats, W, J)>
where
    P: BufRead + Send + 'static,
    D: BufRead + Send + 'static,
    W: Write + Send + 'static,
    J: RejectSink + Send + 'static,
{
    let p = LineReader::new(primary, opts.max_message_bytes);
    let d = LineReader::new(dropcopy, opts.max_message_bytes);
    run_sources(p, d, cfg, opts, out, rejects)
}

/// Runs the threaded pipeline over two line sources (e.g. mapped files).
pub fn run_sources<P, D, W, J>(
    primary: P,
    dropcopy: D,
    cfg: ReconConfig,
    opts: &PipelineOptions,
    out: W,
    rejects: J,
) -> io::Result<(PipelineStats, W, J)>
where
    P: LineSource + Send + 'static,
    D: LineSource + Send + 'static,
    W: Write + Send + 'static,
    J: RejectSink + Send + 'static,
{
    run_durable(primary, dropcopy, Start::fresh(cfg), None, opts, out, rejects)
}

/// Where one input resumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamStart {
    /// Lines already consumed (the next line read is number `lines + 1`).
    pub lines: u64,
    /// The stream's event clock so far (times going backwards are clamped to it).
    pub clock: Micros,
}

impl Default for StreamStart {
    fn default() -> Self {
        Self { lines: 0, clock: Micros(i64::MIN) }
    }
}

/// Where a pipeline run begins: fresh, or where a recovered journal left off.
pub struct Start {
    /// The reconciler, with whatever state recovery rebuilt.
    pub reconciler: Reconciler,
    /// Messages (events and rejects) already consumed and journaled.
    pub consumed: u64,
    /// Rejects among them.
    pub rejects: u64,
    /// Where each input resumes (primary, drop copy).
    pub streams: [StreamStart; 2],
    /// Records with ids up to this one are already in the output.
    pub skip_through_id: u64,
    /// Rejects the rejects output already holds beyond those recovery accounted for.
    pub skip_rejects: u64,
}

impl Start {
    /// An empty reconciler at the start of both inputs.
    pub fn fresh(cfg: ReconConfig) -> Self {
        Self {
            reconciler: Reconciler::new(cfg),
            consumed: 0,
            rejects: 0,
            streams: [StreamStart::default(); 2],
            skip_through_id: 0,
            skip_rejects: 0,
        }
    }
}

/// The journal a run appends to.
pub struct JournalSetup {
    /// The journal, opened for appending.
    pub writer: JournalWriter,
    /// Its records that are not consumed messages (the run header).
    pub header_records: u64,
    /// Snapshot every this many consumed messages (0: never), keeping this many.
    pub snapshots: (u64, usize),
    /// The journal directory.
    pub dir: std::path::PathBuf,
}

/// Reads past the first `n` lines of an input that resumes after a recovery.
fn skip_lines(src: &mut impl LineSource, n: u64, stream: Stream) -> io::Result<()> {
    for i in 0..n {
        if src.next_line()?.is_none() {
            return Err(io::Error::other(format!(
                "{} input has {i} lines but the journal consumed up to line {n}: not the input it was written from",
                stream.name()
            )));
        }
    }
    Ok(())
}

/// Runs the threaded pipeline from `start`; with a journal, every consumed message is
/// journaled by a writer thread and no output is written before its cause is journaled.
pub fn run_durable<P, D, W, J>(
    mut primary: P,
    mut dropcopy: D,
    mut start: Start,
    journal: Option<JournalSetup>,
    opts: &PipelineOptions,
    out: W,
    rejects: J,
) -> io::Result<(PipelineStats, W, J)>
where
    P: LineSource + Send + 'static,
    D: LineSource + Send + 'static,
    W: Write + Send + 'static,
    J: RejectSink + Send + 'static,
{
    skip_lines(&mut primary, start.streams[0].lines, Stream::Primary)?;
    skip_lines(&mut dropcopy, start.streams[1].lines, Stream::DropCopy)?;
    if opts.prefault {
        start.reconciler.prefault();
    }
    let started = Instant::now();
    let clock = IngestClock::start();
    let slots = opts.ring_capacity.next_power_of_two();
    let (p_tx, p_rx) = RingBuffer::new(slots);
    let (d_tx, d_rx) = RingBuffer::new(slots);
    let (o_tx, o_rx) = RingBuffer::new(slots);
    let wm = [Arc::new(AtomicI64::new(i64::MIN)), Arc::new(AtomicI64::new(i64::MIN))];
    let core = |i: usize| opts.pin.then_some(i);
    if opts.pin && !opts.threading.fits_cores() {
        tracing::warn!(
            threads = opts.threading.threads(),
            cores = std::thread::available_parallelism().map_or(1, |n| n.get()),
            "--pin with more threads than cores: pinned threads will share cores"
        );
    }

    let mut output = OutputAgent::new(o_rx, out, rejects);
    let mut reconciler = ReconcilerAgent::new(start.reconciler, [p_rx, d_rx], wm.clone(), o_tx);
    let mut raw = [None, None];
    let mut journal_agent = None;
    if let Some(setup) = journal {
        // Room for as many raw messages as the event ring holds, and for the longest line.
        let raw_bytes = (slots * 512).max(4 * (opts.max_message_bytes + 4));
        let (rp_tx, rp_rx) = RingBuffer::new(raw_bytes);
        let (rd_tx, rd_rx) = RingBuffer::new(raw_bytes);
        let (m_tx, m_rx) = journal_feed(slots);
        raw = [Some(rp_tx), Some(rd_tx)];
        let shared = JournalShared::new(start.consumed);
        output = output.gated(shared.written.clone(), start.skip_through_id, start.skip_rejects);
        reconciler = reconciler.journaled(m_tx, start.consumed).resuming(start.streams, start.rejects);
        let mut agent = JournalAgent::new(m_rx, [rp_rx, rd_rx], setup.writer, setup.header_records, shared);
        let (every, keep) = setup.snapshots;
        if every > 0 {
            let (full_tx, full_rx) = RingBuffer::new(1);
            let (mut empty_tx, empty_rx) = RingBuffer::new(1);
            let _ = empty_tx.push(Vec::new());
            reconciler = reconciler.snapshotting(every, full_tx, empty_rx);
            agent = agent.with_snapshots(crate::journal_agent::SnapshotRings {
                full: full_rx,
                empty: empty_tx,
                dir: setup.dir.clone(),
                keep,
            });
        }
        journal_agent = Some(agent);
    }
    if opts.measure_latency {
        reconciler.latency = Some(LatencyRecorder::new(clock));
    }
    let [raw_p, raw_d] = raw;
    fn prepared<S: LineSource + Send>(
        agent: IngestAgent<S>,
        raw: Option<Producer<u8>>,
        start: StreamStart,
        max_message_bytes: usize,
    ) -> IngestAgent<S> {
        let agent = agent.resuming(start);
        match raw {
            Some(r) => agent.journaling(r, max_message_bytes),
            None => agent,
        }
    }
    let ip = IngestAgent::new(Stream::Primary, primary, p_tx, wm[0].clone(), opts, clock);
    let ip = prepared(ip, raw_p, start.streams[0], opts.max_message_bytes);
    let id = IngestAgent::new(Stream::DropCopy, dropcopy, d_tx, wm[1].clone(), opts, clock);
    let id = prepared(id, raw_d, start.streams[1], opts.max_message_bytes);
    // The journal writer and the output always share a thread: both mostly wait, and on a
    // two-core machine another spinning thread takes time from the reconciler (BENCHMARKS.md).
    let tail = agent::Composite { name: "output", first: journal_agent, second: output };

    let join_err = |name: &str| io::Error::other(format!("{name} thread panicked"));
    let (ip, id, tail, mut recon) = match opts.threading {
        Threading::Dedicated => {
            let tail_idle = match opts.idle {
                IdleStrategy::BusySpin => IdleStrategy::default(),
                other => other,
            };
            let tail = agent::spawn(tail, tail_idle, None);
            let recon = agent::spawn(reconciler, opts.idle, core(2));
            let ip = agent::spawn(ip, opts.idle, core(0));
            let id = agent::spawn(id, opts.idle, core(1));
            let ip = ip.join().map_err(|_| join_err("ingest-primary"))?;
            let id = id.join().map_err(|_| join_err("ingest-dropcopy"))?;
            let recon = recon.join().map_err(|_| join_err("reconciler"))?;
            (ip, id, tail.join().map_err(|_| join_err("output"))?, recon)
        }
        Threading::Shared => {
            let recon = agent::spawn(reconciler, opts.idle, core(1));
            let ingest = agent::Composite { name: "ingest", first: ip, second: id };
            let edge = agent::Composite { name: "edge", first: ingest, second: tail };
            let edge = agent::spawn(edge, opts.idle, core(0)).join().map_err(|_| join_err("edge"))?;
            let recon = recon.join().map_err(|_| join_err("reconciler"))?;
            (edge.first.first, edge.first.second, edge.second, recon)
        }
    };

    let journal = tail.first.map(|j| j.stats);
    let output = tail.second;
    let counts = output.counts.clone();
    let (result, out, rejects) = output.finish();
    result?;
    let stats = PipelineStats {
        ingest: [ip.stats, id.stats],
        reconciler: recon.stats,
        counts,
        elapsed: started.elapsed(),
        latency: recon.latency.take().map(|l| l.histogram),
        journal,
    };
    Ok((stats, out, rejects))
}

/// Runs the reconciler and output agents over events already in consumption order (a journal
/// replay): `produce` runs on a thread of its own and hands each event to the push function it
/// is given, so decoding overlaps reconciling. Returns the reconciler's counters, the counts of
/// records written, the writer, and what `produce` returned.
pub fn run_ordered<W, R>(
    reconciler: Reconciler,
    opts: &PipelineOptions,
    out: W,
    produce: impl FnOnce(&mut dyn FnMut(&ExecEvent)) -> R + Send + 'static,
) -> io::Result<(ReconcilerAgentStats, crate::summary::RecordCounts, W, R)>
where
    W: Write + Send + 'static,
    R: Send + 'static,
{
    let slots = opts.ring_capacity.next_power_of_two();
    let (e_tx, e_rx) = RingBuffer::new(slots);
    let mut e_tx = RunProducer::new(e_tx);
    // Everything comes through one ring; the other input is over before it starts.
    let (mut none_tx, none_rx) = RingBuffer::new(2);
    let _ = none_tx.push(IngestMsg::End);
    let (o_tx, o_rx) = RingBuffer::new(slots);
    let wm = [Arc::new(AtomicI64::new(i64::MIN)), Arc::new(AtomicI64::new(i64::MAX))];
    let output = OutputAgent::new(o_rx, out, Vec::<(Stream, u64, String)>::new());
    let output = agent::spawn(output, opts.idle, None);
    let recon = agent::spawn(ReconcilerAgent::new(reconciler, [e_rx, none_rx], wm, o_tx), opts.idle, None);
    let producer = std::thread::Builder::new()
        .name("replay-source".into())
        .spawn(move || {
            let r = produce(&mut |ev| {
                e_tx.push(IngestMsg::Event(*ev));
            });
            e_tx.push(IngestMsg::End);
            r
        })
        .expect("spawning the replay source");
    let join_err = |name: &str| io::Error::other(format!("{name} thread panicked"));
    let produced = producer.join().map_err(|_| join_err("replay-source"))?;
    let recon = recon.join().map_err(|_| join_err("reconciler"))?;
    let output = output.join().map_err(|_| join_err("output"))?;
    let counts = output.counts.clone();
    let (result, out, _) = output.finish();
    result?;
    Ok((recon.stats, counts, out, produced))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stream_is_paced_at_its_share_of_the_lines() {
        let shares = |p: &[u8], d: &[u8]| pace_shares([line_count(p), line_count(d)]);
        assert_eq!(shares(b"a\nb\nc\n", b"d\n"), [0.75, 0.25]);
        assert_eq!(shares(b"", b""), [0.5, 0.5], "nothing to share: halves");
        assert_eq!(shares(b"", b"x\n"), [0.0, 1.0]);
    }

    #[test]
    fn a_producer_in_runs_waits_for_an_eighth_of_the_ring_once_it_is_full() {
        let (tx, mut rx) = RingBuffer::<u32>::new(16);
        let mut tx = RunProducer::new(tx);
        for i in 0..16 {
            assert_eq!(tx.try_push(i), Ok(()));
        }
        assert_eq!(tx.try_push(16), Err(16));
        assert_eq!(rx.pop(), Ok(0));
        // One free slot is less than an eighth (two): still refilling.
        assert_eq!(tx.try_push(16), Err(16));
        assert_eq!(rx.pop(), Ok(1));
        assert_eq!(tx.try_push(16), Ok(()));
        assert_eq!(tx.try_push(17), Ok(()));
        let rest: Vec<u32> = std::iter::from_fn(|| rx.pop().ok()).collect();
        assert_eq!(rest, (2..=17).collect::<Vec<_>>());
    }
}
