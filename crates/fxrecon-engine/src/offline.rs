//! Offline reconciliation of two files: decode, stamp event time, merge, reconcile.
//!
//! Owns: the contract's clock rules for file inputs (arrival prefix, else SendingTime; clamped
//! per stream) and the deterministic merge (event time, primary first on ties, line order
//! within a stream). Rejected lines go to a [`RejectSink`]; nothing else is lost.

use std::fmt::Display;
use std::io::{self, BufRead};

use fxrecon_core::Sink;
use fxrecon_core::event::{ExecEvent, Stream};
use fxrecon_core::fix::{DecodeError, decode};
use fxrecon_core::reconciler::{ReconStats, Reconciler};
use fxrecon_core::time::Micros;

use crate::config::Config;
use crate::journal::FsyncPolicy;
use crate::line_reader::{Line, LineReader, LineSource, SliceLines};
use crate::mapped_input::{MappedInput, MappedLines};
use crate::pipeline::{self, PipelineOptions, Start};
use crate::summary::RecordCounts;

/// Why an input line was rejected, in a form that can cross a ring without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// The decoder's reason.
    Decode(DecodeError),
    /// Longer than `max_message_bytes` (its length).
    TooLong(usize),
    /// The input had no lines at all.
    EmptyInput,
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RejectReason::Decode(e) => e.fmt(f),
            RejectReason::TooLong(n) => write!(f, "message is {n} bytes, longer than max_message_bytes"),
            RejectReason::EmptyInput => f.write_str("input is empty: no messages"),
        }
    }
}

/// Receives messages that could not be used.
pub trait RejectSink {
    /// One rejected message: its stream, line number (0 for the file as a whole), reason and
    /// the first bytes of the line.
    fn reject(&mut self, stream: Stream, line: u64, reason: &dyn Display, excerpt: &[u8]);

    /// Hands what was buffered to its destination (the live pipeline calls it after every
    /// batch that wrote rejects).
    fn flush(&mut self) {}
}

impl RejectSink for Vec<(Stream, u64, String)> {
    fn reject(&mut self, stream: Stream, line: u64, reason: &dyn Display, _excerpt: &[u8]) {
        self.push((stream, line, reason.to_string()));
    }
}

/// What an offline run read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OfflineStats {
    /// Lines read per stream (blank lines included).
    pub lines: [u64; 2],
    /// Messages decoded and applied per stream.
    pub messages: [u64; 2],
    /// Messages rejected per stream.
    pub rejected: [u64; 2],
    /// The reconciler's counters.
    pub recon: ReconStats,
    /// Digest of the final state (see `Reconciler::state_digest`).
    pub state_digest: u64,
    /// The order store's counters.
    pub store: fxrecon_core::order_store::StoreStats,
}

/// One input being read ahead by one message.
struct StreamInput<S> {
    stream: Stream,
    reader: S,
    clock: Micros,
    event: ExecEvent,
    ready: bool,
    lines: u64,
    messages: u64,
    rejected: u64,
}

impl<S: LineSource> StreamInput<S> {
    fn new(stream: Stream, reader: S) -> Self {
        Self {
            stream,
            reader,
            clock: Micros(i64::MIN),
            event: ExecEvent::default(),
            ready: false,
            lines: 0,
            messages: 0,
            rejected: 0,
        }
    }

    /// Reads up to the next usable message; rejects what it skips on the way.
    fn advance(&mut self, rejects: &mut impl RejectSink) -> io::Result<()> {
        self.ready = false;
        loop {
            let line = match self.reader.next_line()? {
                None => {
                    if self.lines == 0 {
                        self.rejected += 1;
                        rejects.reject(self.stream, 0, &RejectReason::EmptyInput, b"");
                    }
                    return Ok(());
                }
                Some(l) => l,
            };
            self.lines += 1;
            let line_no = self.lines;
            let text = match line {
                Line::TooLong { head, len } => {
                    self.rejected += 1;
                    let reason = RejectReason::TooLong(len);
                    rejects.reject(self.stream, line_no, &reason, head);
                    continue;
                }
                Line::Text(t) => t,
            };
            self.event.stream = self.stream;
            self.event.line = line_no;
            match decode(text, &mut self.event) {
                Ok(()) => {
                    match self.event.file_time(self.clock) {
                        Ok(t) => self.clock = t,
                        Err(e) => {
                            self.rejected += 1;
                            rejects.reject(self.stream, line_no, &e, &text[..text.len().min(120)]);
                            continue;
                        }
                    }
                    self.event.event_time = self.clock;
                    self.messages += 1;
                    self.ready = true;
                    return Ok(());
                }
                Err(DecodeError::Empty) => continue,
                Err(e) => {
                    self.rejected += 1;
                    rejects.reject(self.stream, line_no, &e, &text[..text.len().min(120)]);
                }
            }
        }
    }
}

/// Reconciles a primary and a drop-copy input; records go to `sink`, rejects to `rejects`.
pub fn reconcile<P: BufRead, D: BufRead>(
    primary: P,
    dropcopy: D,
    cfg: &Config,
    sink: &mut impl Sink,
    rejects: &mut impl RejectSink,
) -> io::Result<OfflineStats> {
    let p = LineReader::new(primary, cfg.max_message_bytes);
    let d = LineReader::new(dropcopy, cfg.max_message_bytes);
    reconcile_sources(p, d, cfg, sink, rejects)
}

/// Reconciles two inputs already in memory (e.g. memory-mapped files) on one thread, without
/// copying lines.
pub fn reconcile_bytes(
    primary: &[u8],
    dropcopy: &[u8],
    cfg: &Config,
    sink: &mut impl Sink,
    rejects: &mut impl RejectSink,
) -> io::Result<OfflineStats> {
    let sized = sized_for_inputs(cfg, &[primary, dropcopy]);
    let p = SliceLines::new(primary, cfg.max_message_bytes);
    let d = SliceLines::new(dropcopy, cfg.max_message_bytes);
    reconcile_sources(p, d, &sized, sink, rejects)
}

/// The configuration with the store capped at what these inputs can possibly need.
///
/// Every line creates at most one order and one execution record, so a store sized to the
/// line count can never fill up: results are identical to the configured size, while the
/// tables stay small enough to be cache- and TLB-friendly (docs/decisions.md D14).
pub fn sized_for_inputs(cfg: &Config, inputs: &[&[u8]]) -> Config {
    let lines: usize = inputs.iter().map(|b| memchr::memchr_iter(b'\n', b).count() + 1).sum();
    Config {
        max_orders: cfg.max_orders.min(lines.max(1024)),
        max_execs: cfg.max_execs.min(lines.max(1024)),
        ..cfg.clone()
    }
}

/// Reconciles two mapped files on the threaded pipeline (ingest threads decode while the
/// reconciler applies); output is byte-identical to [`reconcile_bytes`]. With `journal`, every
/// consumed message is journaled to a new journal in that directory (it must not hold one).
pub fn reconcile_files_threaded<W, J>(
    primary: MappedInput,
    dropcopy: MappedInput,
    cfg: &Config,
    opts: &PipelineOptions,
    out: W,
    rejects: J,
    journal: Option<(&std::path::Path, FsyncPolicy)>,
) -> io::Result<(OfflineStats, RecordCounts, W, J)>
where
    W: std::io::Write + Send + 'static,
    J: RejectSink + Send + 'static,
{
    let sized = sized_for_inputs(cfg, &[primary.bytes(), dropcopy.bytes()]);
    let opts = PipelineOptions { max_message_bytes: cfg.max_message_bytes, ..opts.clone() };
    let p = MappedLines::new(primary, cfg.max_message_bytes);
    let d = MappedLines::new(dropcopy, cfg.max_message_bytes);
    let (start, journal) = match journal {
        Some((dir, fsync)) => {
            let (start, setup) = crate::recovery::create(dir, &sized, fsync).map_err(io::Error::other)?;
            (start, Some(setup))
        }
        None => (Start::fresh(sized.recon()), None),
    };
    let (stats, out, rejects) = pipeline::run_durable(p, d, start, journal, &opts, out, rejects)?;
    let offline = OfflineStats {
        lines: [stats.ingest[0].lines, stats.ingest[1].lines],
        messages: [stats.ingest[0].messages, stats.ingest[1].messages],
        rejected: [stats.ingest[0].rejected, stats.ingest[1].rejected],
        recon: stats.reconciler.recon,
        state_digest: stats.reconciler.state_digest,
        store: stats.reconciler.store,
    };
    Ok((offline, stats.counts, out, rejects))
}

/// Reconciles two line sources on one thread.
pub fn reconcile_sources(
    p: impl LineSource,
    d: impl LineSource,
    cfg: &Config,
    sink: &mut impl Sink,
    rejects: &mut impl RejectSink,
) -> io::Result<OfflineStats> {
    let mut recon = Reconciler::new(cfg.recon());
    let counts = merge_into(&mut recon, p, d, sink, rejects)?;
    Ok(OfflineStats {
        lines: counts.lines,
        messages: counts.messages,
        rejected: counts.rejected,
        recon: recon.stats(),
        state_digest: recon.state_digest(),
        store: recon.store_stats(),
    })
}

/// Per-stream line counts of one [`merge_into`].
#[derive(Debug, Clone, Copy)]
pub struct MergeCounts {
    /// Lines read per stream (blank lines included).
    pub lines: [u64; 2],
    /// Messages decoded and applied per stream.
    pub messages: [u64; 2],
    /// Messages rejected per stream.
    pub rejected: [u64; 2],
}

/// Decodes both sources and applies their messages to `recon` in event-time order, then
/// fires every pending check (end of input). Leaves the final state digest to the caller.
pub fn merge_into(
    recon: &mut Reconciler,
    p: impl LineSource,
    d: impl LineSource,
    sink: &mut impl Sink,
    rejects: &mut impl RejectSink,
) -> io::Result<MergeCounts> {
    let mut p = StreamInput::new(Stream::Primary, p);
    let mut d = StreamInput::new(Stream::DropCopy, d);
    p.advance(rejects)?;
    d.advance(rejects)?;
    // Whether the order of each stream's pending event was already prefetched.
    let mut hinted = [false; 2];
    loop {
        let take_primary = match (p.ready, d.ready) {
            (true, true) => p.event.event_time <= d.event.event_time,
            (true, false) => true,
            (false, true) => false,
            (false, false) => break,
        };
        // The other stream's next event was decoded (and its table slot prefetched) earlier:
        // start loading its order too.
        if take_primary {
            consume(&mut p, recon, sink, rejects)?;
            hinted[0] = false;
            if d.ready && !hinted[1] {
                recon.prefetch_order(&d.event);
                hinted[1] = true;
            }
        } else {
            consume(&mut d, recon, sink, rejects)?;
            hinted[1] = false;
            if p.ready && !hinted[0] {
                recon.prefetch_order(&p.event);
                hinted[0] = true;
            }
        }
    }
    recon.finish(sink);
    Ok(MergeCounts {
        lines: [p.lines, d.lines],
        messages: [p.messages, d.messages],
        rejected: [p.rejected, d.rejected],
    })
}

/// Applies the event of the input that goes next, then reads that input ahead.
fn consume<S: LineSource>(
    input: &mut StreamInput<S>,
    recon: &mut Reconciler,
    sink: &mut impl Sink,
    rejects: &mut impl RejectSink,
) -> io::Result<()> {
    recon.apply(&input.event, sink);
    input.advance(rejects)?;
    if input.ready {
        recon.prefetch(&input.event);
    }
    Ok(())
}
