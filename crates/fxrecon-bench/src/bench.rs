//! Benchmarks that run inside the product (`fxrecon bench`), whose figures go to BENCHMARKS.md.
//!
//! Owns: the measurement suite (decode, reconcile, decode+reconcile, pipeline, the raw-ring and
//! fix-codec-rs baselines, paced latency runs, the latency plot), the detection-latency
//! recorder (a [`RecordTap`] on the reconciler) and the memory-bounded day (millions of orders
//! through the reconciler with retention, resident memory sampled).
//! Definitions: docs/decisions.md D19.
//!
//! Every pipeline run here is built by the product's one builder
//! ([`fxrecon_engine::pipeline::builder::PipelineBuilder`]) over [`MemorySource`]s of the
//! leaked corpus. Each run maps its pre-sized state memory (`prefault`) before the pipeline's
//! clock starts, so no figure includes it: the reconciler is prefaulted here and handed to the
//! builder with [`PipelineBuilder::start_from`], and the clock the builder is given
//! ([`PipelineBuilder::clock`]) starts only after that.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fxrecon_core::divergence::Record;
use fxrecon_core::time::Micros;
use fxrecon_core::{ReconConfig, Reconciler, Sink};
use fxrecon_engine::config::Config;
use fxrecon_engine::counters::CountersSnapshot;
use fxrecon_engine::ingest::clock::IngestClock;
use fxrecon_engine::ingest::ingestor::EventClock;
use fxrecon_engine::ingest::journal_intake::Window;
use fxrecon_engine::ingest::memory::MemorySource;
use fxrecon_engine::ingest::source::{MessageSource, Poll};
use fxrecon_engine::output::sink::{JsonLines, OutputSink};
use fxrecon_engine::pipeline::builder::{Intake, JournalReplay, JournalSetup, PipelineBuilder};
use fxrecon_engine::pipeline::options::{PipelineOptions, line_count, pace_shares};
use fxrecon_engine::reconciler_agent::{RecordTap, RunState};
use fxrecon_journal::segment::FsyncPolicy;
use fxrecon_runtime::idle::IdleStrategy;
use fxrecon_runtime::rings::{Consumer, Producer, RingBuffer};
use fxrecon_runtime::threading::Threading;

use crate::synthetic::SyntheticDay;

/// One sample of a memory run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemorySample {
    /// Orders applied so far.
    pub orders: u64,
    /// Resident set size in bytes (0 where /proc is unavailable).
    pub rss_bytes: u64,
    /// Orders held by the store.
    pub live_orders: u64,
    /// Seconds since the run started.
    pub elapsed_s: f64,
}

/// Resident set size of this process, from /proc/self/statm.
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4096)
}

struct CountSink(u64);

impl Sink for CountSink {
    fn emit(&mut self, _: &Record) {
        self.0 += 1;
    }
}

/// Runs `orders` synthetic orders spread over a 24-hour day through a reconciler with `cfg`;
/// calls `sample` `samples` times along the way. Returns the records emitted (0 expected).
pub fn memory_day(orders: u64, cfg: ReconConfig, samples: u64, mut sample: impl FnMut(MemorySample)) -> u64 {
    let start = Micros(1_795_000_000_000_000);
    let day = SyntheticDay::new(orders, start, 86_400_000_000);
    let mut r = Reconciler::new(cfg);
    let mut sink = CountSink(0);
    let every = (orders / samples.max(1)).max(1) * 4;
    let t0 = Instant::now();
    for (i, ev) in day.enumerate() {
        r.apply(&ev, &mut sink);
        if (i as u64 + 1).is_multiple_of(every) {
            sample(MemorySample {
                orders: (i as u64 + 1) / 4,
                rss_bytes: resident_bytes(),
                live_orders: r.store().len() as u64,
                elapsed_s: t0.elapsed().as_secs_f64(),
            });
        }
    }
    r.finish(&mut sink);
    sink.0
}

/// Figures of `fxrecon bench` (the `--json` keys).
#[derive(Clone, Debug, serde::Serialize)]
pub struct BenchReport {
    /// Messages in the corpus.
    pub messages: u64,
    /// Our decoder, one thread, messages/s (median).
    pub decode_msgs_per_s: f64,
    /// Reconciler on pre-decoded events, one thread, messages/s (median).
    pub reconcile_msgs_per_s: f64,
    /// Decode + reconcile on one thread, messages/s (median): the product's one-thread path,
    /// every agent of the pipeline (ingest, reconciler, output) stepped on the calling thread
    /// ([`decode_reconcile_throughput`]).
    pub decode_reconcile_msgs_per_s: f64,
    /// Threaded pipeline, unpaced (backpressure only), messages/s (median).
    pub pipeline_msgs_per_s: f64,
    /// The same pipeline journaling every message (`interval_ms:100` fsync, the configured
    /// writes: O_DIRECT by default, D34), messages/s (median; runs interleaved with the
    /// unjournaled ones).
    pub pipeline_journaled_msgs_per_s: f64,
    /// The same with buffered (page-cache) journal writes, `journal_direct_io = false`,
    /// messages/s (median).
    pub pipeline_journaled_buffered_msgs_per_s: f64,
    /// Replay of that journal (the builder with the journal as intake: read, decode,
    /// reconcile on threads), events/s (median).
    pub replay_msgs_per_s: f64,
    /// Journal bytes written per message (framing and raw FIX bytes included).
    pub journal_bytes_per_msg: f64,
    /// The disk's synced write bandwidth in the journal's directory, MB/s (median): as many
    /// bytes as the journal, written in 256 KiB pieces with an fdatasync every 100 ms and at
    /// the end, timed to the last sync; runs interleaved with the journaled ones.
    pub disk_sync_mb_per_s: f64,
    /// What the disk allows the journaled pipeline: `disk_sync_mb_per_s` over
    /// `journal_bytes_per_msg`, messages/s.
    pub journal_disk_ceiling_msgs_per_s: f64,
    /// Size of a snapshot of the state half-way through the corpus, bytes.
    pub snapshot_bytes: u64,
    /// Time to take it on the reconciler thread, ms (median).
    pub snapshot_save_ms: f64,
    /// Time to restore it, ms (median).
    pub snapshot_restore_ms: f64,
    /// Raw SPSC ring moving the same message type between two threads, messages/s (median).
    pub ring_baseline_msgs_per_s: f64,
    /// Name of the baseline decoder.
    pub baseline_decoder: String,
    /// Baseline decoder on the same corpus into the same fields, messages/s (median).
    pub baseline_decoder_msgs_per_s: f64,
    /// Allocations on the one-thread path's thread after warm-up (10% of the corpus) until its
    /// output's end: every agent of the run, not decode and reconcile alone.
    pub allocations_after_warmup: u64,
    /// Highest offered rate (of the ladder tried) that neither saturated a ring nor fell
    /// behind by more than 5%.
    pub max_sustainable_msgs_per_s: f64,
    /// That rate confirmed on a run of at least 10 s (full mode), stepping down the ladder
    /// until one keeps its pace for the whole run (D39).
    pub sustained: SustainedSummary,
    /// Detection latency per offered rate (`"100000"` …), microseconds.
    pub latency_us: std::collections::BTreeMap<String, LatencySummary>,
    /// The host's own latency floor over all the probes run before the latency runs (see
    /// [`crate::host_jitter`]), microseconds: the latency baseline of the same run.
    pub host_jitter_us: HostJitterSummary,
}

/// The host floor of all the jitter probes of one bench, per percentile, microseconds.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct HostJitterSummary {
    /// Floor of the 99th percentile (the worst probe thread's, over all its probes).
    pub p99: u64,
    /// Floor of the 99.9th percentile.
    pub p999: u64,
    /// Longest single gap seen, µs.
    pub max: u64,
    /// Threads probed at once (the pipeline's thread count, pinned as its paced runs are).
    pub threads: usize,
    /// Seconds probed per thread, all probes together.
    pub probed_s: f64,
}

impl HostJitterSummary {
    /// Summarises one trace per probed thread.
    pub fn of(traces: &[crate::host_jitter::JitterTrace]) -> Self {
        Self {
            p99: crate::host_jitter::floor_us(traces, 0.99),
            p999: crate::host_jitter::floor_us(traces, 0.999),
            max: traces.iter().map(|t| t.max_us()).max().unwrap_or(0),
            threads: traces.len(),
            probed_s: traces.iter().map(|t| t.span_us).max().unwrap_or(0) as f64 / 1e6,
        }
    }
}

/// Percentiles of one latency histogram, in microseconds.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LatencySummary {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Maximum.
    pub max: u64,
    /// Records measured.
    pub count: u64,
    /// Offered rate was not sustained (ring full or more than 5% behind).
    pub saturated: bool,
    /// With repeated runs at this rate (the figures above are the run with the median p99.9):
    /// every run's p99 and p99.9, in run order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runs_p99: Vec<u64>,
    /// See `runs_p99`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runs_p999: Vec<u64>,
    /// The host's p99 floor from the jitter probe just before the run reported here: what
    /// threads doing nothing would have seen ([`crate::host_jitter`]).
    pub host_p99: u64,
    /// The host's p99.9 floor from the same probe.
    pub host_p999: u64,
    /// The p99.9 floor before every run, in run order (with repeated runs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runs_host_p999: Vec<u64>,
}

impl LatencySummary {
    /// Summarises a histogram.
    pub fn of(h: &hdrhistogram::Histogram<u64>, saturated: bool) -> Self {
        Self {
            p50: h.value_at_quantile(0.5),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            count: h.len(),
            saturated,
            runs_p99: Vec::new(),
            runs_p999: Vec::new(),
            host_p99: 0,
            host_p999: 0,
            runs_host_p999: Vec::new(),
        }
    }
}

/// The median of `v` (the upper one of an even count); `v` must not be empty.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The non-empty lines of an in-memory input (the corpus the decoder benchmarks run over).
pub fn lines_of(data: &[u8]) -> Vec<&[u8]> {
    data.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect()
}

/// Runs `decode_one` over every line, `runs` times; median messages/s. Every line must be
/// accepted (the corpus is valid), so both decoders do the whole job.
fn decoder_rate(lines: &[&[u8]], runs: usize, mut decode_one: impl FnMut(&[u8]) -> bool) -> f64 {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                let ok = lines.iter().filter(|l| decode_one(std::hint::black_box(l))).count();
                assert_eq!(ok, lines.len(), "every line of the corpus must decode");
                lines.len() as f64 / t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// Our decoder over every line, `runs` times; median messages/s.
pub fn decode_throughput(lines: &[&[u8]], runs: usize) -> f64 {
    let mut ev = fxrecon_core::ExecEvent::default();
    decoder_rate(lines, runs, |l| fxrecon_core::fix::decode(l, &mut ev).is_ok())
}

/// fix-codec-rs (0.3) over the same lines into the same fields: framing checks (BodyLength,
/// CheckSum) and every tag our decoder reads, converted the same way; median messages/s.
pub fn baseline_decode_throughput(lines: &[&[u8]], runs: usize) -> f64 {
    use fxrecon_core::decimal::{Price, Qty};
    let mut decoder = fix_codec_rs::decoder::Decoder::new();
    let mut ev = fxrecon_core::ExecEvent::default();
    decoder_rate(lines, runs, |l| {
        let start = memchr::memmem::find(l, b"8=FIX").unwrap_or(0);
        let Ok(msg) = decoder.decode(std::hint::black_box(&l[start..])) else { return false };
        if msg.validate_body_length().is_err() || msg.validate_checksum().is_err() {
            return false;
        }
        for f in msg.fields() {
            let v = f.value;
            match f.tag {
                11 => drop(ev.cl_ord_id.set(v)),
                41 => drop(ev.orig_cl_ord_id.set(v)),
                37 => drop(ev.order_id.set(v)),
                17 => drop(ev.exec_id.set(v)),
                19 => drop(ev.exec_ref_id.set(v)),
                49 => drop(ev.sender.set(v)),
                56 => drop(ev.target.set(v)),
                55 => drop(ev.symbol.set(v)),
                1 => drop(ev.account.set(v)),
                30 | 100 => drop(ev.venue.set(v)),
                150 => ev.exec_type = fxrecon_core::event::ExecType::from_code(v),
                39 => ev.ord_status = fxrecon_core::event::OrdStatus::from_code(v).unwrap_or_default(),
                38 => ev.order_qty = Qty::parse(v).unwrap_or_default(),
                14 => ev.cum_qty = Qty::parse(v).unwrap_or_default(),
                151 => ev.leaves_qty = Qty::parse(v).unwrap_or_default(),
                32 => ev.last_qty = Qty::parse(v).unwrap_or_default(),
                31 => ev.last_px = Price::parse(v).unwrap_or_default(),
                6 => ev.avg_px = Price::parse(v).unwrap_or_default(),
                44 => ev.price = Price::parse(v).unwrap_or_default(),
                34 => ev.seq = std::str::from_utf8(v).ok().and_then(|s| s.parse().ok()).unwrap_or(0),
                _ => {}
            }
        }
        if let Some(t) = fxrecon_core::time::Micros::parse_fix(
            l[..start].trim_ascii().strip_suffix(b":").unwrap_or(b"").trim_ascii(),
        ) {
            (ev.time, ev.present) = (t, ev.present | fxrecon_core::event::has::ARRIVAL);
        }
        std::hint::black_box(&ev);
        true
    })
}

/// Decodes and merges a day as the pipeline does with the file clock (event-time order, ties
/// primary first: `fxrecon_engine::merge`), for the reconciler-alone figures.
pub fn decoded_events(primary: &[u8], dropcopy: &[u8]) -> Vec<fxrecon_core::ExecEvent> {
    use fxrecon_core::Stream;
    let per_stream = |stream: Stream, data: &[u8]| {
        let mut clock = Micros(i64::MIN);
        let mut out = Vec::new();
        for l in lines_of(data) {
            let mut e = fxrecon_core::ExecEvent { stream, ..Default::default() };
            if fxrecon_core::fix::decode(l, &mut e).is_ok()
                && let Ok(t) = e.file_time(clock)
            {
                clock = t;
                e.event_time = clock;
                out.push(e);
            }
        }
        out
    };
    let (p, d) = (per_stream(Stream::Primary, primary), per_stream(Stream::DropCopy, dropcopy));
    let mut merged = Vec::with_capacity(p.len() + d.len());
    let (mut i, mut j) = (0, 0);
    while i < p.len() || j < d.len() {
        if j >= d.len() || (i < p.len() && p[i].event_time <= d[j].event_time) {
            merged.push(p[i]);
            i += 1;
        } else {
            merged.push(d[j]);
            j += 1;
        }
    }
    merged
}

/// The reconciler alone on pre-decoded events; median messages/s.
pub fn reconcile_throughput(events: &[fxrecon_core::ExecEvent], cfg: ReconConfig, runs: usize) -> f64 {
    median(
        (0..runs)
            .map(|_| {
                let mut r = Reconciler::new(cfg);
                r.prefault(); // steady state: no first touches of fresh memory in the timing
                let mut sink = CountSink(0);
                let t = Instant::now();
                for e in events {
                    r.apply(e, &mut sink);
                }
                r.finish(&mut sink);
                events.len() as f64 / t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// A snapshot of the state half-way through `events`: its size, and the median times to save
/// it (what the reconciler thread pauses for) and to restore it, in ms.
pub fn snapshot_cost(events: &[fxrecon_core::ExecEvent], cfg: ReconConfig, runs: usize) -> (u64, f64, f64) {
    let mut r = Reconciler::new(cfg);
    let mut sink = CountSink(0);
    for e in &events[..events.len() / 2] {
        r.apply(e, &mut sink);
    }
    let mut buf = Vec::new();
    r.save(&mut buf); // first save sizes the buffer, as a live run's first snapshot does
    let (mut save, mut restore) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        buf.clear();
        let t = Instant::now();
        r.save(&mut buf);
        save.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let back = Reconciler::restore(cfg, &mut fxrecon_core::snapshot::SnapReader::new(&buf)).expect("own snapshot");
        restore.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(back.state_digest(), r.state_digest(), "a restored snapshot has the same state");
    }
    (buf.len() as u64, median(save), median(restore))
}

/// Decode + reconcile on one thread, as the product runs it offline: the pipeline builder in
/// [`Threading::Stepped`] (every agent — both ingest agents, the reconciler, the output —
/// stepped in turn on the calling thread) over two [`MemorySource`]s, records counted and
/// discarded, the store sized with [`Config::sized_for_inputs`] and mapped before the
/// clock starts. Returns the median messages/s, timed from the pipeline's start until the
/// reconciler has applied everything and fired its last check (the end-of-run state digest is
/// not per-message work, as in the pipeline's rate, D30), and the allocations the calling
/// thread made in the last run between the first 10% of the lines and the end of the output
/// (its last record, or its last flush; 0 unless the counting allocator is installed, as it is
/// in the `fxrecon` binary). Building the run, the threads' teardown and the handback of the
/// state at close lie outside that window; no journal, so there is no write-behind thread.
pub fn decode_reconcile_throughput(
    primary: &'static [u8],
    dropcopy: &'static [u8],
    cfg: &Config,
    runs: usize,
) -> (f64, u64) {
    let sized = cfg.sized_for_inputs(&[primary, dropcopy]);
    let total = line_count(primary) + line_count(dropcopy);
    let opts = PipelineOptions { threading: Threading::Stepped, prefault: true, ..PipelineOptions::default() };
    let mut allocations = 0;
    let rates = (0..runs)
        .map(|_| {
            let window = Arc::new(AllocWindow::after(total / 10));
            let source = |data: &'static [u8]| -> Box<dyn MessageSource> {
                Box::new(WarmSource { inner: MemorySource::new(data, sized.max_message_bytes), window: window.clone() })
            };
            let sink = DiscardSink { window: window.clone(), records: 0 };
            let run = run_sources([source(primary), source(dropcopy)], &sized, &opts, None, Box::new(sink), false);
            allocations = window.allocations();
            run.messages() as f64 / (run.drained_us.max(1) as f64 / 1e6)
        })
        .collect();
    (median(rates), allocations)
}

/// Where the allocation count of [`decode_reconcile_throughput`] is read: once `warm_after`
/// lines (of both inputs together) have been polled, and again at every later sign of life of
/// the run's tail (an input's end, each record and flush of the output). Every reader runs on
/// the one stepped thread, so each field has one writer: plain loads and stores, no locked
/// read-modify-write on the decode path.
struct AllocWindow {
    warm_after: u64,
    lines: AtomicU64,
    /// Count at the warm mark (`u64::MAX`: not reached yet).
    start: AtomicU64,
    /// Count at the latest sign of life after it.
    last: AtomicU64,
}

impl AllocWindow {
    fn after(warm_after: u64) -> Self {
        Self { warm_after, lines: AtomicU64::new(0), start: AtomicU64::new(u64::MAX), last: AtomicU64::new(0) }
    }

    #[inline]
    fn line(&self) {
        let n = self.lines.load(Ordering::Relaxed) + 1;
        self.lines.store(n, Ordering::Relaxed);
        if n == self.warm_after {
            let now = crate::alloc_counter::allocations_on_this_thread();
            self.start.store(now, Ordering::Relaxed);
            self.last.store(now, Ordering::Relaxed);
        }
    }

    #[inline]
    fn touch(&self) {
        if self.start.load(Ordering::Relaxed) != u64::MAX {
            self.last.store(crate::alloc_counter::allocations_on_this_thread(), Ordering::Relaxed);
        }
    }

    fn allocations(&self) -> u64 {
        match self.start.load(Ordering::Relaxed) {
            u64::MAX => 0,
            start => self.last.load(Ordering::Relaxed).saturating_sub(start),
        }
    }
}

/// An in-memory source that reports its lines and its end to an [`AllocWindow`].
struct WarmSource {
    inner: MemorySource,
    window: Arc<AllocWindow>,
}

impl MessageSource for WarmSource {
    fn describe(&self) -> String {
        format!("{} (allocations counted after warm-up)", self.inner.describe())
    }

    #[inline]
    fn poll(&mut self) -> std::io::Result<Poll<'_>> {
        let polled = self.inner.poll()?;
        match polled {
            Poll::Message(_) => self.window.line(),
            Poll::End => self.window.touch(),
            Poll::Pending => {}
        }
        Ok(polled)
    }
}

/// Counts records and discards them (the bench's decode + reconcile measures no rendering),
/// marking the [`AllocWindow`] as it goes.
struct DiscardSink {
    window: Arc<AllocWindow>,
    records: u64,
}

impl OutputSink for DiscardSink {
    fn record(&mut self, _: &Record) -> std::io::Result<()> {
        self.records += 1;
        self.window.touch();
        Ok(())
    }
    fn reject(&mut self, _: &fxrecon_core::quarantine::RejectNote) -> std::io::Result<()> {
        self.window.touch();
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.window.touch();
        Ok(())
    }
    fn close(&mut self) -> std::io::Result<()> {
        // Not a mark: the agents closed before the output (the reconciler's handback among
        // them) are teardown, not work on the corpus.
        std::hint::black_box(self.records);
        Ok(())
    }
}

/// Medians of [`pipeline_throughput`]'s runs.
#[derive(Clone, Copy, Debug)]
pub struct PipelineFigures {
    /// Unjournaled, messages/s.
    pub plain: f64,
    /// Journaled (`interval_ms:100`, writes as configured), messages/s to the journal's last
    /// sync.
    pub journaled: f64,
    /// The same with buffered writes (`journal_direct_io = false`).
    pub journaled_buffered: f64,
    /// Replay of that journal, events/s.
    pub replay: f64,
    /// Journal bytes per message.
    pub journal_bytes_per_msg: f64,
    /// The disk's synced write bandwidth for as many bytes, MB/s ([`disk_sync_mb_per_s`]).
    pub disk_sync_mb_per_s: f64,
}

/// The threaded pipeline, unpaced, over in-memory inputs, without and with the journal
/// (`interval_ms:100` fsync, in a temporary directory), then the replay of that journal and
/// the disk's own synced write bandwidth for the journal's size: runs interleaved so all see
/// the same machine. The replay is the product's: the builder with the journal as its intake
/// (read, decode and reconcile on the default threading, output rendered as JSON Lines and
/// discarded), timed from reading the journal's rules to the end of the run.
pub fn pipeline_throughput(
    primary: &'static [u8],
    dropcopy: &'static [u8],
    cfg: &Config,
    threading: Threading,
    runs: usize,
) -> PipelineFigures {
    let dir = std::env::temp_dir().join(format!("fxrecon-bench-journal-{}", std::process::id()));
    // Sustained throughput: the state memory is mapped before the clock starts, and the clock
    // stops when the reconciler has applied everything (not after the final state digest).
    let opts = PipelineOptions { threading, prefault: true, ..PipelineOptions::default() };
    let rate = |run: &PipelineRun| run.messages() as f64 / (run_end_us(run).max(1) as f64 / 1e6);
    let (mut plain, mut journaled, mut replayed, mut disk) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut journaled_buffered = Vec::new();
    let buffered_cfg = Config { journal_direct_io: false, ..cfg.clone() };
    let mut journal_bytes = 0;
    let mut messages = 0;
    for _ in 0..runs {
        plain.push(rate(&pipeline_in_memory(primary, dropcopy, cfg, &opts, None)));
        let _ = std::fs::remove_dir_all(&dir);
        let run = pipeline_in_memory(primary, dropcopy, cfg, &opts, Some(&dir));
        journaled.push(rate(&run));
        messages = run.messages();
        journal_bytes = dir_bytes(&dir);
        let t = Instant::now();
        let events = replay_journal(&dir);
        replayed.push(events as f64 / t.elapsed().as_secs_f64());
        disk.push(disk_sync_mb_per_s(&dir, journal_bytes).expect("writing the disk baseline file"));
        let _ = std::fs::remove_dir_all(&dir);
        journaled_buffered.push(rate(&pipeline_in_memory(primary, dropcopy, &buffered_cfg, &opts, Some(&dir))));
    }
    let _ = std::fs::remove_dir_all(&dir);
    PipelineFigures {
        plain: median(plain),
        journaled: median(journaled),
        journaled_buffered: median(journaled_buffered),
        replay: median(replayed),
        journal_bytes_per_msg: journal_bytes as f64 / messages.max(1) as f64,
        disk_sync_mb_per_s: median(disk),
    }
}

/// Replays the journal in `dir` with the rules it was written with, output rendered and
/// discarded; returns the events replayed.
fn replay_journal(dir: &std::path::Path) -> u64 {
    let rules = fxrecon_engine::pipeline::recovery::journal_rules(dir).expect("reading the bench journal's rules");
    let cfg = Config::default().with_rules(rules);
    let intake = Intake::Journal(JournalReplay {
        dir: dir.to_path_buf(),
        from_record: 0,
        salvage: false,
        window: Window::default(),
    });
    let outcome = PipelineBuilder::new(&cfg, PipelineOptions::default(), intake)
        .sink(Box::new(JsonLines::new(std::io::sink())))
        .build()
        .expect("building the replay")
        .run()
        .expect("replaying the journal");
    outcome.replay.expect("a journal intake counts its replay").events.get()
}

/// Lets the disk work of the journaled runs finish before the latency runs: writes back what
/// is dirty and waits a moment for the file system's own background work (the removal of
/// gigabytes of journal), so kernel threads do not preempt the paced runs' pinned threads.
#[allow(unsafe_code)]
fn settle_disk() {
    // SAFETY: `sync` takes no arguments and only asks the kernel to write back dirty data.
    unsafe { libc::sync() };
    std::thread::sleep(Duration::from_secs(2));
}

/// When an unpaced run is done, µs from its start: the reconciler has applied everything and,
/// with a journal, the journal holds (and has synced) everything.
pub fn run_end_us(run: &PipelineRun) -> u64 {
    run.drained_us.max(run.journal_done_us.unwrap_or(0))
}

/// Total bytes of the files in `dir`.
fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum())
        .unwrap_or(0)
}

/// The disk's synced write bandwidth in `dir`, MB/s: `bytes` written to a new file there in
/// 256 KiB pieces (the journal's group-commit size) with an fdatasync every 100 ms (the journaled
/// run's `interval_ms:100`) and at the end, timed to the last sync; the file is removed.
/// The journaled pipeline cannot durably journal faster than this.
pub fn disk_sync_mb_per_s(dir: &std::path::Path, bytes: u64) -> std::io::Result<f64> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let path = dir.join("disk-baseline.bin");
    let mut file = std::fs::File::create(&path)?;
    // Not zeros, in case the file system or device treats zero pages specially.
    let piece: Vec<u8> = (0..256 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let interval = std::time::Duration::from_millis(100);
    let t = Instant::now();
    let mut last_sync = t;
    let mut written = 0u64;
    while written < bytes {
        let n = piece.len().min((bytes - written) as usize);
        file.write_all(&piece[..n])?;
        written += n as u64;
        if last_sync.elapsed() >= interval {
            file.sync_data()?;
            last_sync = Instant::now();
        }
    }
    file.sync_data()?;
    let secs = t.elapsed().as_secs_f64();
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(written as f64 / 1e6 / secs.max(1e-9))
}

/// The raw ring: `n` ingest messages (full ExecEvent size) from one thread to another.
pub fn ring_baseline(n: u64, runs: usize) -> f64 {
    use fxrecon_engine::ingest::message::IngestMsg;
    use fxrecon_runtime::rings::PushError;
    median(
        (0..runs)
            .map(|_| {
                let (mut tx, mut rx) = RingBuffer::<IngestMsg>::new(1 << 14);
                let t = Instant::now();
                let consumer = std::thread::spawn(move || {
                    let mut got = 0u64;
                    while got < n {
                        match rx.read_chunk(1) {
                            Ok(c) => {
                                std::hint::black_box(&c.as_slices().0[0]);
                                c.commit_all();
                                got += 1;
                            }
                            Err(_) => std::hint::spin_loop(),
                        }
                    }
                });
                let ev = IngestMsg::Event(fxrecon_core::ExecEvent::default());
                for _ in 0..n {
                    let mut m = ev;
                    while let Err(PushError::Full(back)) = tx.push(m) {
                        m = back;
                        std::hint::spin_loop();
                    }
                }
                consumer.join().expect("ring consumer");
                n as f64 / t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// What one pipeline run of the bench did: the counters it ended with, and the timings read
/// from its live counters after the run (all in µs from the pipeline's start, which is after
/// the state memory was mapped).
#[derive(Clone, Debug)]
pub struct PipelineRun {
    /// The live counters, read at the end of the run.
    pub counters: CountersSnapshot,
    /// Per input (primary, drop copy): when it was exhausted.
    pub ended_us: [u64; 2],
    /// When the reconciler had applied everything and sent its end-of-input records (before
    /// the final state digest).
    pub drained_us: u64,
    /// With a journal: when the journal held and had synced everything (µs from the journal
    /// writer's construction, which is when the run is built).
    pub journal_done_us: Option<u64>,
    /// Detection latency (µs), when the run was timed with a [`LatencyRecorder`].
    pub latency: Option<hdrhistogram::Histogram<u64>>,
    /// Wall time of the whole run (thread start-up, final state digest and joins included).
    pub elapsed: Duration,
}

impl PipelineRun {
    /// Messages decoded, both inputs together.
    pub fn messages(&self) -> u64 {
        self.counters.primary.messages + self.counters.dropcopy.messages
    }
}

/// One pipeline run over in-memory inputs, store sized to them
/// ([`Config::sized_for_inputs`]), output rendered as JSON Lines and discarded; with
/// `journal`, into a new journal there (`interval_ms:100` fsync; the directory must not hold a
/// journal yet).
pub fn pipeline_in_memory(
    primary: &'static [u8],
    dropcopy: &'static [u8],
    cfg: &Config,
    opts: &PipelineOptions,
    journal: Option<&std::path::Path>,
) -> PipelineRun {
    run_in_memory(primary, dropcopy, cfg, opts, journal, false)
}

/// [`pipeline_in_memory`], with detection latency recorded when `measure_latency`.
fn run_in_memory(
    primary: &'static [u8],
    dropcopy: &'static [u8],
    cfg: &Config,
    opts: &PipelineOptions,
    journal: Option<&std::path::Path>,
    measure_latency: bool,
) -> PipelineRun {
    let sized = cfg.sized_for_inputs(&[primary, dropcopy]);
    let journal = journal.map(|dir| {
        fxrecon_engine::pipeline::recovery::create(dir, &sized, FsyncPolicy::IntervalMs(100), None)
            .expect("creating the bench journal")
    });
    let max = sized.max_message_bytes;
    let sources: [Box<dyn MessageSource>; 2] =
        [Box::new(MemorySource::new(primary, max)), Box::new(MemorySource::new(dropcopy, max))];
    let sink = Box::new(JsonLines::new(std::io::sink()));
    run_sources(sources, &sized, opts, journal, sink, measure_latency)
}

/// Builds and runs one pipeline over `sources` with `cfg` (already sized), the state memory
/// mapped first when `opts.prefault`, then the clock started and handed to the builder (and to
/// the latency recorder, when `measure_latency`), so stamps, pacing, emission times and every
/// `*_us` counter share one time line that starts after the prefault.
fn run_sources(
    sources: [Box<dyn MessageSource>; 2],
    cfg: &Config,
    opts: &PipelineOptions,
    journal: Option<JournalSetup>,
    sink: Box<dyn OutputSink>,
    measure_latency: bool,
) -> PipelineRun {
    let mut reconciler = Reconciler::new(cfg.recon());
    if opts.prefault {
        reconciler.prefault();
    }
    // Prefaulted here, not by the builder: it would do it after this clock started.
    let opts = PipelineOptions { prefault: false, ..opts.clone() };
    let clock = IngestClock::start();
    let mut builder = PipelineBuilder::new(cfg, opts, Intake::Sources(sources))
        .start_from(RunState::fresh(reconciler))
        .clock(clock)
        .sink(sink);
    let mut latency = None;
    if measure_latency {
        let (recorder, histogram) = LatencyRecorder::new(clock);
        builder = builder.tap(Box::new(recorder));
        latency = Some(histogram);
    }
    if let Some(setup) = journal {
        builder = builder.journal(setup);
    }
    let pipeline = builder.build().expect("building an in-memory pipeline");
    let live = pipeline.counters();
    let outcome = pipeline.run().expect("an in-memory run cannot fail to read");
    PipelineRun {
        counters: outcome.counters,
        ended_us: [0, 1].map(|i| live.ingest[i].ended_us.get()),
        drained_us: live.reconciler.drained_us.get(),
        journal_done_us: live.journal.as_ref().map(|j| j.done_us.get()),
        latency: latency.and_then(LatencyHistogram::take),
        elapsed: outcome.elapsed,
    }
}

/// Detection latency recorder (D19): emission time minus the moment the record became
/// decidable, in a histogram, recorded on the reconciler's thread as each record is emitted.
///
/// In paced mode the event clock is the ingest clock, so a record's `detected_at` (the arrival
/// of the deciding message, or the grace deadline) and "now" are on one time line: give the
/// pipeline the same [`IngestClock`] ([`PipelineBuilder::clock`]). The end-of-input flush is
/// not measured: it fires pending checks before their deadlines, so its records are decided
/// "in the future" and are left out by that sign alone (the reconciler shows every record to
/// its tap, flush included; a check already overdue at the end of input is still counted, at
/// its real lateness). The histogram is handed over when the recorder is dropped, with the
/// reconciler agent at the end of the run.
pub struct LatencyRecorder {
    clock: IngestClock,
    histogram: Option<hdrhistogram::Histogram<u64>>,
    handover: Producer<hdrhistogram::Histogram<u64>>,
}

/// The receiving end of a [`LatencyRecorder`]: holds its histogram once the run is over.
pub struct LatencyHistogram(Consumer<hdrhistogram::Histogram<u64>>);

impl LatencyHistogram {
    /// The histogram (None while the recorder is still alive).
    pub fn take(mut self) -> Option<hdrhistogram::Histogram<u64>> {
        self.0.pop().ok()
    }
}

impl LatencyRecorder {
    /// A recorder on `clock`, pre-sized for 1 µs .. 60 s (recording never allocates), and the
    /// receiver of its histogram.
    pub fn new(clock: IngestClock) -> (Self, LatencyHistogram) {
        let histogram = hdrhistogram::Histogram::new_with_bounds(1, 60_000_000, 3).expect("static histogram bounds");
        let (handover, rx) = RingBuffer::new(1);
        (Self { clock, histogram: Some(histogram), handover }, LatencyHistogram(rx))
    }
}

impl RecordTap for LatencyRecorder {
    #[inline]
    fn on_record(&mut self, record: &Record) {
        let lat = self.clock.now().0 - record.detected_at().0;
        if lat < 0 {
            return; // decided before it was due: the end-of-input flush (see above)
        }
        if let Some(h) = self.histogram.as_mut() {
            h.saturating_record(lat.max(1) as u64);
        }
    }
}

impl Drop for LatencyRecorder {
    fn drop(&mut self) {
        if let Some(h) = self.histogram.take() {
            let _ = self.handover.push(h);
        }
    }
}

/// One paced run, journaled into `journal` when given (`interval_ms:100` fsync; the directory
/// must not hold a journal yet): returns the latency histogram, whether it saturated, and the
/// achieved rate. `lines`: each input's [`line_count`], for the pace shares.
pub fn paced_run(
    primary: &'static [u8],
    dropcopy: &'static [u8],
    lines: [u64; 2],
    cfg: &Config,
    threading: Threading,
    rate: u64,
    journal: Option<&std::path::Path>,
) -> (hdrhistogram::Histogram<u64>, bool, f64) {
    let opts = paced_options(threading, rate, lines);
    let run = run_in_memory(primary, dropcopy, cfg, &opts, journal, true);
    let v = PaceVerdict::of(&run);
    let h = run.latency.unwrap_or_else(|| hdrhistogram::Histogram::new(3).expect("histogram"));
    (h, v.saturated(rate), v.achieved)
}

/// Options of a paced run: set up as a latency-sensitive deployment is (D30). When the agents'
/// threads fit the cores, each is pinned to a core of its own and busy-spins; otherwise they
/// yield (parking, the default, adds up to 100 µs of wake-up delay and holds back
/// watermarks). The state memory is mapped before the clock starts either way.
fn paced_options(threading: Threading, rate: u64, lines: [u64; 2]) -> PipelineOptions {
    let fits = threading.fits_cores();
    PipelineOptions {
        pace_msgs_per_s: Some(rate),
        pace_shares: pace_shares(lines),
        clock: EventClock::Ingest,
        idle: if fits { IdleStrategy::BusySpin } else { IdleStrategy::Yield },
        pin: fits,
        threading,
        prefault: true,
        ..PipelineOptions::default()
    }
}

/// The host's floor before a paced run of `messages` at `rate` (D38): the pipeline's threads,
/// pinned as the paced run pins them, doing nothing but reading the clock for as long as the
/// run takes (at most 2 s). One trace per thread.
pub fn host_probe(threading: Threading, messages: u64, rate: u64) -> Vec<crate::host_jitter::JitterTrace> {
    let span = Duration::from_secs_f64((messages as f64 / rate.max(1) as f64).min(2.0));
    crate::host_jitter::probe(threading.threads(), span, threading.fits_cores())
}

/// How a paced run kept its pace.
#[derive(Clone, Copy, Debug)]
struct PaceVerdict {
    /// Combined rate read, msgs/s.
    achieved: f64,
    /// The reconciler finished more than 5% after the reading did.
    lagged: bool,
    /// Times ingest found its event ring full.
    ring_full_waits: u64,
    /// Seconds the reading took.
    read_s: f64,
}

impl PaceVerdict {
    fn of(run: &PipelineRun) -> Self {
        // Each stream is paced at its share of the rate (D40): its rate is its messages over
        // the time it took to read them (the run's elapsed time also holds the state digest).
        // The reconciler kept up when it had applied everything within 5% of the time the
        // reading took (a ring holds 16k messages, so a reconciler falling behind shows there
        // before any ring fills).
        let streams = [&run.counters.primary, &run.counters.dropcopy];
        let achieved: f64 =
            streams.iter().zip(run.ended_us).map(|(s, us)| s.messages as f64 / (us.max(1) as f64 / 1e6)).sum();
        let read_us = run.ended_us.into_iter().max().unwrap_or(0);
        Self {
            achieved,
            lagged: run.drained_us as f64 > 1.05 * read_us as f64,
            ring_full_waits: streams.iter().map(|s| s.ring_full_waits).sum(),
            read_s: read_us as f64 / 1e6,
        }
    }

    /// The short runs' test (D19): a ring was ever full, the reconciler lagged, or the rate
    /// fell more than 5% short.
    fn saturated(&self, rate: u64) -> bool {
        self.ring_full_waits > 0 || !self.kept_pace(rate)
    }

    /// The long run's test (D39): over the whole run the rate held within 5% and the
    /// reconciler finished within 5% of the reading; a ring that filled during a host stall
    /// and drained again is backpressure absorbed, reported but not failing.
    fn kept_pace(&self, rate: u64) -> bool {
        !self.lagged && self.achieved >= 0.95 * rate as f64
    }
}

/// One try of [`sustained_rate`]: an offered rate held (or not) for a run's length.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SustainedTry {
    /// Offered rate, msgs/s.
    pub offered: f64,
    /// Whether it kept pace for the whole run.
    pub held: bool,
    /// Seconds the run read for.
    pub run_s: f64,
    /// Rate read, msgs/s.
    pub achieved: f64,
    /// Times ingest found its event ring full (host stalls show here).
    pub ring_full_waits: u64,
}

/// The highest ladder rate that kept its pace for a whole run of at least `target_s`.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct SustainedSummary {
    /// Shortest run asked for, seconds (10 in full mode; 0 in quick mode: the corpus as is).
    pub target_s: f64,
    /// The highest rate that held, msgs/s (0: none of the tries held).
    pub msgs_per_s: f64,
    /// Messages in the corpus the tries ran over.
    pub messages: u64,
    /// Every try, highest rate first.
    pub tries: Vec<SustainedTry>,
}

/// Confirms the short ladder's result on a run of at least `target_s`: from `from` down the
/// ladder (at most three rungs), each rate paced over a corpus long enough for the first
/// (the mixed day's consecutive parts, `fxrecon_gen::parts`; the base corpus when it is long
/// enough already), until one keeps its pace.
pub fn sustained_rate(
    base: (&'static [u8], &'static [u8]),
    cfg: &Config,
    threading: Threading,
    from: u64,
    target_s: f64,
) -> SustainedSummary {
    let mut summary = SustainedSummary { target_s, ..SustainedSummary::default() };
    if from == 0 {
        return summary;
    }
    let count = |(p, d): (&[u8], &[u8])| [p, d].map(line_count);
    let wanted = (from as f64 * target_s).ceil() as u64;
    let (mut corpus, mut lines) = (base, count(base));
    if lines.iter().sum::<u64>() < wanted {
        corpus = long_corpus(wanted, 125_000);
        lines = count(corpus);
    }
    let (primary, dropcopy) = corpus;
    summary.messages = lines.iter().sum();
    for rate in LADDER.iter().rev().copied().filter(|&r| r <= from).take(3) {
        let opts = paced_options(threading, rate, lines);
        let v = PaceVerdict::of(&pipeline_in_memory(primary, dropcopy, cfg, &opts, None));
        let held = v.kept_pace(rate);
        summary.tries.push(SustainedTry {
            offered: rate as f64,
            held,
            run_s: v.read_s,
            achieved: v.achieved.round(),
            ring_full_waits: v.ring_full_waits,
        });
        if held {
            summary.msgs_per_s = rate as f64;
            break;
        }
    }
    summary
}

/// A corpus of at least `messages` messages: consecutive parts of the bench's mixed day
/// (seed 11, `orders` each, sequence numbers and clock carried on), leaked like the base
/// corpus (the bench ends soon after).
fn long_corpus(messages: u64, orders: usize) -> (&'static [u8], &'static [u8]) {
    let cfg = fxrecon_gen::GenConfig { orders, seed: 11, ..Default::default() };
    let (mut primary, mut dropcopy, mut n) = (Vec::new(), Vec::new(), 0u64);
    for part in fxrecon_gen::parts(&cfg) {
        primary.extend_from_slice(&part.primary);
        dropcopy.extend_from_slice(&part.dropcopy);
        n += (part.primary_messages + part.dropcopy_messages) as u64;
        if n >= messages {
            break;
        }
    }
    (primary.leak(), dropcopy.leak())
}

/// Writes an SVG plot of latency CDFs (one line per offered rate).
pub fn write_latency_cdf_svg(
    path: &std::path::Path,
    series: &[(String, hdrhistogram::Histogram<u64>)],
) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let max_us = series.iter().map(|(_, h)| h.max()).max().unwrap_or(1).max(10) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption("fxrecon detection latency (CDF)", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d((1f64..max_us * 1.5).log_scale(), 0f64..100f64)?;
    chart.configure_mesh().x_desc("latency (µs, log)").y_desc("percentile").draw()?;
    let colors = [BLUE, RED, GREEN, MAGENTA, BLACK];
    for (i, (name, h)) in series.iter().enumerate() {
        let color = colors[i % colors.len()];
        let points: Vec<(f64, f64)> = h
            .iter_quantiles(1)
            .map(|v| ((v.value_iterated_to().max(1)) as f64, v.quantile_iterated_to() * 100.0))
            .collect();
        chart
            .draw_series(LineSeries::new(points, &color))?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}

/// Offered rates of the latency runs (the 100k, 500k and 1M msgs/s).
pub const LATENCY_RATES: [u64; 3] = [100_000, 500_000, 1_000_000];
/// Runs per reported latency rate (full mode).
pub const LATENCY_RUNS: usize = 3;
/// Shortest run that confirms a sustained rate in full mode, seconds (the 10 s).
pub const SUSTAINED_S: f64 = 10.0;
/// Ladder of offered rates for the max-sustainable search.
pub const LADDER: [u64; 9] = [100_000, 200_000, 300_000, 500_000, 750_000, 1_000_000, 1_500_000, 2_000_000, 3_000_000];

/// Runs every measurement on a corpus; returns the report and the latency histograms.
pub fn suite(
    primary: &'static [u8],
    dropcopy: &'static [u8],
    cfg: &Config,
    threading: Threading,
    quick: bool,
    mut progress: impl FnMut(&str),
) -> (BenchReport, Vec<(String, hdrhistogram::Histogram<u64>)>) {
    let runs = if quick { 3 } else { 5 };
    let mut lines = lines_of(primary);
    lines.extend(lines_of(dropcopy));
    let messages = lines.len() as u64;
    let sized = cfg.sized_for_inputs(&[primary, dropcopy]);

    progress("decode");
    let decode = decode_throughput(&lines, runs);
    progress("baseline decoder (fix-codec-rs 0.3)");
    let baseline = baseline_decode_throughput(&lines, runs);
    progress("reconcile");
    let events = decoded_events(primary, dropcopy);
    let reconcile = reconcile_throughput(&events, sized.recon(), runs);
    progress("snapshot save and restore");
    let snapshot = snapshot_cost(&events, sized.recon(), runs);
    drop(events);
    progress("decode + reconcile");
    let (decode_reconcile, allocations) = decode_reconcile_throughput(primary, dropcopy, cfg, runs);
    progress("pipeline");
    let piped = pipeline_throughput(primary, dropcopy, cfg, threading, runs);
    progress("ring baseline");
    let ring = ring_baseline(messages, runs);
    settle_disk();

    let day_lines = [primary, dropcopy].map(line_count);
    // Before each reported latency run, the host floor (`host_probe`).
    let mut host = vec![crate::host_jitter::JitterTrace::default(); threading.threads()];

    let mut latency = std::collections::BTreeMap::new();
    let mut series = Vec::new();
    let mut max_sustainable = 0.0;
    let mut sustained = true;
    for rate in LADDER {
        let wanted = LATENCY_RATES.contains(&rate);
        if !sustained && !wanted {
            continue;
        }
        progress(&format!("paced {rate} msgs/s"));
        // The rates reported are run several times (one host hiccup of a few ms moves a run's
        // p99.9): the run with the median p99.9 stands for the rate, and all runs are listed.
        let reps = if wanted && !quick { LATENCY_RUNS } else { 1 };
        let mut tries: Vec<_> = (0..reps)
            .map(|_| {
                let floors = if wanted {
                    let traces = host_probe(threading, messages, rate);
                    host.iter_mut().zip(&traces).for_each(|(all, t)| all.extend(t));
                    (crate::host_jitter::floor_us(&traces, 0.99), crate::host_jitter::floor_us(&traces, 0.999))
                } else {
                    (0, 0)
                };
                let (h, saturated, _) = paced_run(primary, dropcopy, day_lines, cfg, threading, rate, None);
                (h, saturated, floors)
            })
            .collect();
        let runs_p99 = tries.iter().map(|t| t.0.value_at_quantile(0.99)).collect();
        let runs_p999: Vec<u64> = tries.iter().map(|t| t.0.value_at_quantile(0.999)).collect();
        let runs_host_p999 = tries.iter().map(|t| t.2.1).collect();
        // A rate is sustained only if every run sustained it.
        let saturated = tries.iter().any(|t| t.1);
        tries.sort_by_key(|t| t.0.value_at_quantile(0.999));
        let (h, _, (host_p99, host_p999)) = tries.swap_remove(reps / 2);
        if sustained && !saturated {
            max_sustainable = rate as f64;
        } else {
            sustained = false;
        }
        if wanted {
            let mut summary = LatencySummary { host_p99, host_p999, ..LatencySummary::of(&h, saturated) };
            if reps > 1 {
                summary.runs_p99 = runs_p99;
                summary.runs_p999 = runs_p999;
                summary.runs_host_p999 = runs_host_p999;
            }
            latency.insert(rate.to_string(), summary);
            series.push((format!("{} k msgs/s{}", rate / 1000, if saturated { " (saturated)" } else { "" }), h));
        }
    }
    progress("sustained rate, 10 s runs");
    let target_s = if quick { 0.0 } else { SUSTAINED_S };
    let sustained = sustained_rate((primary, dropcopy), cfg, threading, max_sustainable as u64, target_s);
    let report = BenchReport {
        messages,
        decode_msgs_per_s: decode.round(),
        reconcile_msgs_per_s: reconcile.round(),
        decode_reconcile_msgs_per_s: decode_reconcile.round(),
        pipeline_msgs_per_s: piped.plain.round(),
        pipeline_journaled_msgs_per_s: piped.journaled.round(),
        pipeline_journaled_buffered_msgs_per_s: piped.journaled_buffered.round(),
        replay_msgs_per_s: piped.replay.round(),
        journal_bytes_per_msg: (piped.journal_bytes_per_msg * 10.0).round() / 10.0,
        disk_sync_mb_per_s: piped.disk_sync_mb_per_s.round(),
        journal_disk_ceiling_msgs_per_s: (piped.disk_sync_mb_per_s * 1e6 / piped.journal_bytes_per_msg.max(1.0))
            .round(),
        snapshot_bytes: snapshot.0,
        snapshot_save_ms: snapshot.1,
        snapshot_restore_ms: snapshot.2,
        ring_baseline_msgs_per_s: ring.round(),
        baseline_decoder: "fix-codec-rs 0.3".into(),
        baseline_decoder_msgs_per_s: baseline.round(),
        allocations_after_warmup: allocations,
        max_sustainable_msgs_per_s: max_sustainable,
        sustained,
        latency_us: latency,
        host_jitter_us: HostJitterSummary::of(&host),
    };
    (report, series)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(achieved: f64, lagged: bool, ring_full_waits: u64) -> PaceVerdict {
        PaceVerdict { achieved, lagged, ring_full_waits, read_s: 10.0 }
    }

    #[test]
    fn a_ring_that_filled_once_fails_the_short_test_but_not_the_long_one() {
        let stalled = verdict(1_000_000.0, false, 3);
        assert!(stalled.saturated(1_000_000), "short runs: any full ring saturates (D19)");
        assert!(stalled.kept_pace(1_000_000), "long runs: backpressure absorbed is not saturation (D39)");
        assert!(!verdict(1_000_000.0, false, 0).saturated(1_000_000));
    }

    #[test]
    fn falling_behind_or_short_of_the_rate_fails_both_tests() {
        let lagged = verdict(1_000_000.0, true, 0);
        assert!(!lagged.kept_pace(1_000_000) && lagged.saturated(1_000_000));
        let short = verdict(940_000.0, false, 0);
        assert!(!short.kept_pace(1_000_000) && short.saturated(1_000_000));
        assert!(verdict(950_000.0, false, 0).kept_pace(1_000_000), "within 5% holds");
    }

    #[test]
    fn a_long_corpus_is_consecutive_parts_that_all_decode() {
        let (p, d) = long_corpus(5_000, 300);
        let n = line_count(p) + line_count(d);
        assert!(n >= 5_000, "{n}");
        // More than one part, and every message of every part is read and consumed.
        let one = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders: 300, seed: 11, ..Default::default() });
        assert!(n > (one.primary_messages + one.dropcopy_messages) as u64);
        let run = pipeline_in_memory(p, d, &Config::default(), &PipelineOptions::default(), None);
        assert_eq!(run.counters.primary.rejected + run.counters.dropcopy.rejected, 0);
        assert_eq!(run.counters.events, n);
        assert_eq!(run.messages(), n);
        // The timings come from the live counters, on the pipeline's one time line.
        assert!(run.ended_us.iter().all(|&us| us > 0 && us <= run.drained_us), "{run:?}");
        assert_eq!(run.journal_done_us, None);
    }

    #[test]
    fn the_one_thread_path_reconciles_the_whole_day_and_counts_its_allocations() {
        let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders: 300, seed: 11, ..Default::default() });
        let (p, d): (&'static [u8], &'static [u8]) = (day.primary.leak(), day.dropcopy.leak());
        let (rate, allocations) = decode_reconcile_throughput(p, d, &Config::default(), 1);
        assert!(rate > 0.0, "{rate}");
        // The counting allocator is not installed in unit tests: nothing is counted.
        assert_eq!(allocations, 0);
    }

    #[test]
    fn a_paced_run_times_its_records_and_a_journaled_one_reports_its_journal() {
        let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders: 300, seed: 11, ..Default::default() });
        let (p, d): (&'static [u8], &'static [u8]) = (day.primary.leak(), day.dropcopy.leak());
        let lines = [line_count(p), line_count(d)];
        let tmp = tempfile::Builder::new().prefix("fxrecon-bench-unit-journal-").tempdir().unwrap();
        let paced = tmp.path().join("paced");
        let (h, _, achieved) = paced_run(p, d, lines, &Config::default(), Threading::Shared, 200_000, Some(&paced));
        assert!(!h.is_empty(), "the mixed day's divergences were timed");
        assert!(achieved > 0.0);
        let run = pipeline_in_memory(p, d, &Config::default(), &PipelineOptions::default(), None);
        let dir = tmp.path().join("journal");
        let journaled = pipeline_in_memory(p, d, &Config::default(), &PipelineOptions::default(), Some(&dir));
        assert!(journaled.journal_done_us.is_some_and(|us| us > 0), "{journaled:?}");
        let journal_records = journaled.counters.journal.as_ref().map_or(0, |j| j.records);
        assert!(journal_records > journaled.counters.events, "every event journaled, and the end of input");
        assert_eq!(replay_journal(&dir), run.counters.events, "the replay applies every journaled event");
        assert_eq!(journaled.counters.state_digest, run.counters.state_digest);
    }

    #[test]
    fn the_latency_recorder_leaves_out_what_was_decided_ahead_of_its_deadline() {
        let clock = IngestClock::start();
        let (mut recorder, histogram) = LatencyRecorder::new(clock);
        let at = |t: Micros| {
            Record::CapacityExhausted(fxrecon_core::divergence::CapacityRecord {
                id: 1,
                order_id: Default::default(),
                stream: Default::default(),
                detected_at: t,
            })
        };
        recorder.on_record(&at(Micros(clock.now().0 - 50)));
        recorder.on_record(&at(Micros(clock.now().0 + 60_000_000)));
        drop(recorder);
        let h = histogram.take().expect("handed over on drop");
        assert_eq!(h.len(), 1);
        assert!(h.max() >= 50);
    }
}
