//! `fxrecon demo`: the end-to-end demo (issue 24 item 5) — an embedded Aeron media driver, the
//! daemon's pipeline subscribed to two IPC streams, and two publishers replaying a generated
//! mixed day onto them at a fixed rate; it prints injected vs detected per divergence type and
//! the ingest-to-detection latency percentiles. `--in-memory` reconciles the same day in memory
//! on one thread instead (no media driver).
//!
//! Owns: only that wiring and the figures it prints (the run is the pipeline every command
//! runs; the comparison is `ground_truth`'s). Needs no external server.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fxrecon_aeron::endpoint::{DEFAULT_CHANNEL, DROPCOPY_STREAM_ID, Endpoint, PRIMARY_STREAM_ID};
use fxrecon_aeron::publisher::Publisher;
use fxrecon_core::divergence::Record;
use fxrecon_engine::config::Config;
use fxrecon_engine::ground_truth::{Finding, findings};
use fxrecon_engine::output::sink::MemorySink;
use fxrecon_engine::pipeline::builder::{Intake, PipelineBuilder, RunOutcome};
use fxrecon_engine::pipeline::memory::reconcile_in_memory;
use fxrecon_engine::pipeline::options::PipelineOptions;
use fxrecon_engine::reconciler_agent::RecordTap;
use fxrecon_runtime::threading::Threading;

/// Arguments of `demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Number of orders in the generated day.
    #[arg(long, default_value_t = 50_000)]
    orders: usize,
    /// Random seed.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Messages per second the two publishers send together (shared by their line counts, so
    /// both streams end together).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    rate: u64,
    /// Reconcile the day in memory on one thread instead of over Aeron.
    #[arg(long)]
    in_memory: bool,
}

/// What a run gave the demo's report.
pub(crate) struct Detected {
    records: Vec<Record>,
    rejects: usize,
    outcome: RunOutcome,
    /// Ingest-to-detection latencies (µs), over Aeron only.
    pub(crate) latency_us: Option<Vec<u64>>,
}

/// Generates, reconciles (over Aeron unless `--in-memory`) and prints injected vs detected.
pub fn run(a: Args) -> Result<()> {
    let (orders, seed) = (a.orders, a.seed);
    super::gen_day::check_orders(orders)?;
    let gen_cfg = fxrecon_gen::GenConfig {
        orders,
        seed,
        scenario: fxrecon_gen::Scenario::Mixed,
        ..fxrecon_gen::GenConfig::default()
    };
    let t0 = Instant::now();
    let day = fxrecon_gen::generate(&gen_cfg);
    let gen_s = t0.elapsed().as_secs_f64();
    let expected: BTreeSet<Finding> =
        day.expected.iter().filter_map(|e| Finding::of_json_line(&e.to_json_line(0)).ok().flatten()).collect();

    let cfg = Config::default().sized_for_inputs(&[&day.primary, &day.dropcopy]);
    let t1 = Instant::now();
    let how = if a.in_memory { "in memory on one thread" } else { "over Aeron IPC" };
    let got = match a.in_memory {
        true => {
            let opts = PipelineOptions { threading: Threading::Stepped, ..PipelineOptions::default() };
            let run = reconcile_in_memory(day.primary, day.dropcopy, &cfg, opts)?;
            Detected { records: run.records, rejects: run.rejects.len(), outcome: run.outcome, latency_us: None }
        }
        false => over_aeron(&day.primary, &day.dropcopy, &cfg, a.rate)?,
    };
    let recon_s = t1.elapsed().as_secs_f64();
    let c = &got.outcome.counters;

    let detected = findings(&got.records);
    let mut table: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    for f in &expected {
        let row = table.entry(f.type_name().to_string()).or_default();
        row[0] += 1;
        row[2] += usize::from(detected.contains(f));
    }
    for f in &detected {
        let row = table.entry(f.type_name().to_string()).or_default();
        row[1] += 1;
        row[3] += usize::from(!expected.contains(f));
    }

    let messages = c.primary.messages + c.dropcopy.messages;
    println!("fxrecon demo: mixed day, {orders} orders, seed {seed}, reconciled {how}");
    println!(
        "  {} messages ({} primary, {} dropcopy), {} rejected, generated in {:.2} s",
        messages, c.primary.messages, c.dropcopy.messages, got.rejects, gen_s
    );
    println!();
    println!("  {:<18} {:>9} {:>9} {:>9} {:>12}", "type", "injected", "detected", "matched", "false alarm");
    for (ty, [inj, det, hit, extra]) in &table {
        println!("  {ty:<18} {inj:>9} {det:>9} {hit:>9} {extra:>12}");
    }
    let missed = expected.difference(&detected).count();
    let false_alarms = detected.difference(&expected).count();
    println!();
    println!(
        "  reconciled in {:.3} s: {:.0} messages/s; missed {missed}, false alarms {false_alarms}",
        recon_s,
        messages as f64 / recon_s.max(1e-9)
    );
    if let Some(lat) = got.latency_us {
        match percentiles(lat) {
            Some([n, p50, p99, p999, max]) => println!(
                "  ingest-to-detection latency over {n} records (publish at {} msgs/s): p50 {} µs, p99 {} µs, p99.9 {} µs, max {} µs",
                a.rate, p50, p99, p999, max
            ),
            None => println!("  ingest-to-detection latency: no record decided before the end of input"),
        }
    }
    if missed + false_alarms > 0 {
        bail!("detected findings differ from the injected ground truth");
    }
    Ok(())
}

/// Count, p50, p99, p99.9 and max of `v` (None when empty).
pub(crate) fn percentiles(mut v: Vec<u64>) -> Option<[u64; 5]> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    Some([v.len() as u64, at(0.5), at(0.99), at(0.999), v[v.len() - 1]])
}

/// When each line of one stream was handed to Aeron: (its arrival-time prefix, µs, running
/// maximum; the moment it was offered), and when the end marker was.
struct SendLog {
    sent: Vec<(i64, Instant)>,
    ended: Instant,
}

impl SendLog {
    /// When this stream had published everything up to event time `t`: the first line at or
    /// after `t` was offered (or the stream ended).
    fn passed(&self, t: i64) -> Instant {
        let k = self.sent.partition_point(|&(at, _)| at < t);
        self.sent.get(k).map_or(self.ended, |&(_, when)| when)
    }
}

/// Notes when each record left the reconciler, on its thread; hands them over when dropped.
struct EmitTap {
    emitted: Vec<(i64, Instant)>,
    handover: mpsc::Sender<Vec<(i64, Instant)>>,
}

impl RecordTap for EmitTap {
    fn on_record(&mut self, record: &Record) {
        self.emitted.push((record.detected_at().0, Instant::now()));
    }
}

impl Drop for EmitTap {
    fn drop(&mut self) {
        let _ = self.handover.send(std::mem::take(&mut self.emitted));
    }
}

/// Removes the demo's state directory (the embedded driver's) when the demo ends.
struct StateDir(PathBuf);

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The day through the live path: an embedded media driver, the pipeline subscribed to the
/// IPC streams 1001/1002 with the file clock (so the findings are exactly `reconcile`'s), and
/// two publisher threads sending the lines as they stand at `rate` messages/s together.
/// A record's latency is the moment it left the reconciler minus the moment both streams had
/// been published past its `detected_at` (before then it could not be decided); the records
/// of the end-of-input flush (decided past the last line) are not counted.
pub(crate) fn over_aeron(primary: &[u8], dropcopy: &[u8], cfg: &Config, rate: u64) -> Result<Detected> {
    let state = StateDir(std::env::temp_dir().join(format!("fxrecon-demo-{}", std::process::id())));
    std::fs::create_dir_all(&state.0).with_context(|| format!("cannot create {}", state.0.display()))?;
    let driver = crate::transport::driver(None, Some(&state.0), &cfg.aeron)?;
    let channel = Path::new(DEFAULT_CHANNEL);
    let max = cfg.max_message_bytes;
    let sources = [
        crate::transport::open_source(&driver, channel, PRIMARY_STREAM_ID, max)?,
        crate::transport::open_source(&driver, channel, DROPCOPY_STREAM_ID, max)?,
    ];
    let lines = [super::publish::split_lines(primary), super::publish::split_lines(dropcopy)];
    let total = (lines[0].len() + lines[1].len()).max(1) as f64;
    let (tap_tx, tap_rx) = mpsc::channel();
    let tap = EmitTap { emitted: Vec::with_capacity(1 << 16), handover: tap_tx };
    let (sink, collected) = MemorySink::new();
    let builder = PipelineBuilder::new(cfg, PipelineOptions::default(), Intake::Sources(sources))
        .sink(Box::new(sink))
        .tap(Box::new(tap));
    let (outcome, logs) = std::thread::scope(|scope| -> Result<(RunOutcome, [SendLog; 2])> {
        let publishers = [(PRIMARY_STREAM_ID, &lines[0]), (DROPCOPY_STREAM_ID, &lines[1])].map(|(id, l)| {
            let stream_rate = rate as f64 * l.len() as f64 / total;
            let dir = driver.dir();
            scope.spawn(move || publish(dir, Endpoint::new(DEFAULT_CHANNEL, id), l, stream_rate))
        });
        let outcome = builder.build().context("cannot build the pipeline")?.run();
        let [p, d] = publishers.map(|p| p.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a publisher panicked"))));
        Ok((outcome?, [p?, d?]))
    })?;
    let got = collected.take();
    let emitted = tap_rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
    let last = logs.iter().filter_map(|l| l.sent.last().map(|s| s.0)).max().unwrap_or(i64::MIN);
    let latency_us = emitted
        .iter()
        .filter(|&&(t, _)| t <= last)
        .map(|&(t, when)| {
            let due = logs[0].passed(t).max(logs[1].passed(t));
            when.saturating_duration_since(due).as_micros() as u64
        })
        .collect();
    Ok(Detected { records: got.records, rejects: got.rejects.len(), outcome, latency_us: Some(latency_us) })
}

/// Offers `lines` on `endpoint` at `rate` messages/s, then the end marker; returns when each
/// was offered.
fn publish(aeron_dir: &Path, endpoint: Endpoint, lines: &[&[u8]], rate: f64) -> Result<SendLog> {
    let wait = Duration::from_secs(30);
    let publisher = Publisher::connect(aeron_dir, endpoint.clone(), wait)
        .with_context(|| format!("cannot publish on {endpoint}"))?;
    publisher.wait_connected(wait)?;
    let mut sent = Vec::with_capacity(lines.len());
    let mut high = i64::MIN;
    super::publish::send_lines(&publisher, lines, super::publish::Pace::Rate(rate), wait, |line| {
        if let Some(t) = super::publish::arrival(line) {
            high = high.max(t);
            sent.push((high, Instant::now()));
        }
    })?;
    Ok(SendLog { sent, ended: Instant::now() })
}
