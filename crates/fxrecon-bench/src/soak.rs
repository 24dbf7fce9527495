//! The soak test (`fxrecon bench --soak MINUTES`): an endless generated day streamed through
//! the live pipeline with the journal on, at a paced rate, for minutes on end.
//!
//! Owns: streaming the parts of a long run (`fxrecon_gen::parts`) into the two ingest agents
//! as they are generated, sampling resident memory, and checking the run afterwards: every
//! generated message consumed, divergence output equal to the ground truth of everything
//! generated; with journal retention on, the journal directory's size sampled as it runs and
//! the output compared with an unretained run over the same parts. Output and ground truth go
//! to files, not memory, so resident memory measures the pipeline alone.

use std::collections::BTreeSet;
use std::io::{self, BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fxrecon_engine::config::Config;
use fxrecon_engine::ground_truth::Finding;
use fxrecon_engine::ingest::ingestor::EventClock;
use fxrecon_engine::ingest::lines::cut_line;
use fxrecon_engine::ingest::source::{MessageSource, Poll};
use fxrecon_engine::output::sink::{JsonLines, RejectLines};
use fxrecon_engine::pipeline::builder::{Intake, PipelineBuilder};
use fxrecon_engine::pipeline::options::PipelineOptions;
use fxrecon_journal::segment::FsyncPolicy;
use fxrecon_runtime::rings::{Consumer, PushError, RingBuffer};
use fxrecon_runtime::threading::Threading;

/// The lines of the parts of a long run, handed over part by part by the generator thread: a
/// [`MessageSource`] that never waits (while the generator is behind it returns
/// [`Poll::Pending`]; a soak that waits there shows up as a missed rate).
pub struct PartLines {
    name: &'static str,
    parts: Consumer<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    max: usize,
}

impl PartLines {
    /// Lines of the parts arriving on `parts` (`name`: which stream, for logs), each capped at
    /// `max` bytes; ends when the generator has finished and every part is read.
    pub fn new(name: &'static str, parts: Consumer<Vec<u8>>, max: usize) -> Self {
        Self { name, parts, current: Vec::new(), pos: 0, max }
    }
}

impl MessageSource for PartLines {
    fn describe(&self) -> String {
        format!("generated {} parts", self.name)
    }

    fn poll(&mut self) -> io::Result<Poll<'_>> {
        while self.pos >= self.current.len() {
            match self.parts.pop() {
                Ok(next) => {
                    self.current = next;
                    self.pos = 0;
                }
                Err(_) if self.parts.is_abandoned() && self.parts.is_empty() => return Ok(Poll::End),
                Err(_) => return Ok(Poll::Pending),
            }
        }
        // A part is whole lines: its last line ends the part, not the input.
        Ok(match cut_line(&self.current, self.pos, self.max, true) {
            Some((line, next)) => {
                self.pos = next;
                Poll::Message(line)
            }
            None => {
                self.pos = self.current.len();
                Poll::Pending
            }
        })
    }
}

/// One resident-memory sample.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct RssSample {
    /// Seconds since the start.
    pub at_s: f64,
    /// Resident set size, MiB.
    pub rss_mib: f64,
}

/// What a soak run measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SoakReport {
    /// Minutes asked for.
    pub minutes: f64,
    /// Offered rate (combined, msgs/s).
    pub offered_msgs_per_s: u64,
    /// Messages generated.
    pub generated: u64,
    /// Messages the pipeline consumed (events and rejects).
    pub consumed: u64,
    /// Wall time of the run, s.
    pub elapsed_s: f64,
    /// Consumed messages per second.
    pub achieved_msgs_per_s: f64,
    /// Parts of the long run generated.
    pub parts: u64,
    /// Times an ingest agent found its ring full and waited (backpressure, never a drop).
    pub ring_full_waits: u64,
    /// Journal records written.
    pub journal_records: u64,
    /// Bytes of journal written (deleted after the run).
    pub journal_bytes: u64,
    /// The journal directory's largest size, sampled every second.
    pub journal_dir_max_bytes: u64,
    /// The journal's `retention_bytes` (0: no byte limit).
    pub journal_retention_bytes: u64,
    /// Segments retention let go (the number of the first one left).
    pub journal_segments_let_go: u64,
    /// With retention on: whether the output is byte for byte that of the same input run
    /// unpaced without a journal.
    pub identical_to_unretained_run: Option<bool>,
    /// Most orders held by the store at once, and its capacity.
    pub store_high_water: (u64, u64),
    /// Journal write failures.
    pub journal_write_failures: u64,
    /// Resident memory after warm-up (the first fifth of the run): min and max, MiB.
    pub rss_after_warmup_mib: (f64, f64),
    /// Peak resident memory of the run's later half over the peak of its earlier half (after
    /// warm-up): a leak grows it; the part buffers' swing does not.
    pub rss_growth: f64,
    /// Resident memory samples.
    pub rss: Vec<RssSample>,
    /// Ground-truth findings.
    pub expected_findings: u64,
    /// Findings in the output.
    pub detected_findings: u64,
    /// Expected but not detected.
    pub missed: u64,
    /// Detected but not expected.
    pub false_alarms: u64,
    /// Up to five examples of each difference.
    pub examples: Vec<String>,
}

/// True when the two files hold the same bytes (read in pieces: they can be large).
fn files_equal(a: &Path, b: &Path) -> io::Result<bool> {
    use std::io::Read;
    let (mut a, mut b) = (io::BufReader::new(std::fs::File::open(a)?), io::BufReader::new(std::fs::File::open(b)?));
    let (mut x, mut y) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = a.read(&mut x)?;
        if n == 0 {
            return Ok(b.read(&mut y[..1])? == 0);
        }
        let mut got = 0;
        while got < n {
            let m = b.read(&mut y[got..n])?;
            if m == 0 {
                return Ok(false);
            }
            got += m;
        }
        if x[..n] != y[..n] {
            return Ok(false);
        }
    }
}

fn findings_of(path: &Path) -> io::Result<BTreeSet<Finding>> {
    let mut set = BTreeSet::new();
    for line in io::BufReader::new(std::fs::File::open(path)?).lines() {
        if let Some(f) = Finding::of_json_line(&line?).map_err(io::Error::other)? {
            set.insert(f);
        }
    }
    Ok(set)
}

/// The generator thread of a soak: the parts of a long run (seed 1, `part_orders` orders
/// each) pushed onto one ring per stream until `target` messages are generated, their ground
/// truth written to `truth` when given. Returns (messages, parts). The same `target` gives the
/// same parts, so a second run over them sees the same input.
type Generator = std::thread::JoinHandle<io::Result<(u64, u64)>>;

fn generate_parts(target: u64, truth: Option<std::fs::File>) -> io::Result<(Generator, [Consumer<Vec<u8>>; 2])> {
    // Small parts, one queued per stream: the generator's buffers are part of the resident
    // memory measured, so they are kept few and small (a part is about 14 MB of text).
    let part_orders = 5_000;
    let (mut p_tx, p_rx) = RingBuffer::<Vec<u8>>::new(1);
    let (mut d_tx, d_rx) = RingBuffer::<Vec<u8>>::new(1);
    let generator = std::thread::Builder::new().name("soak-gen".into()).spawn(move || -> io::Result<(u64, u64)> {
        let mut truth = truth.map(BufWriter::new);
        let (mut generated, mut parts, mut n) = (0u64, 0u64, 0u64);
        let gen_cfg = fxrecon_gen::GenConfig { orders: part_orders, seed: 1, ..Default::default() };
        for day in fxrecon_gen::parts(&gen_cfg) {
            if let Some(truth) = truth.as_mut() {
                for e in &day.expected {
                    n += 1;
                    writeln!(truth, "{}", e.to_json_line(n))?;
                }
            }
            generated += (day.primary_messages + day.dropcopy_messages) as u64;
            parts += 1;
            for (ring, bytes) in [(&mut p_tx, day.primary), (&mut d_tx, day.dropcopy)] {
                let mut bytes = bytes;
                loop {
                    match ring.push(bytes) {
                        Ok(()) => break,
                        Err(PushError::Full(back)) => {
                            bytes = back;
                            std::thread::sleep(Duration::from_millis(2));
                        }
                    }
                }
            }
            if generated >= target {
                break;
            }
        }
        if let Some(truth) = truth.as_mut() {
            truth.flush()?;
        }
        Ok((generated, parts))
    })?;
    Ok((generator, [p_rx, d_rx]))
}

/// Samples `f` every second on a thread of its own until `running` is cleared.
fn sampler<T: Send + 'static>(
    name: &str,
    running: &Arc<AtomicBool>,
    mut f: impl FnMut(f64) -> T + Send + 'static,
) -> io::Result<std::thread::JoinHandle<Vec<T>>> {
    let running = running.clone();
    std::thread::Builder::new().name(name.into()).spawn(move || {
        let t0 = Instant::now();
        let mut samples = Vec::new();
        while running.load(Ordering::Acquire) {
            samples.push(f(t0.elapsed().as_secs_f64()));
            std::thread::sleep(Duration::from_secs(1));
        }
        samples
    })
}

/// Runs the soak for `minutes` at `rate` combined msgs/s in `dir` (journal, output and ground
/// truth go there; the journal needs about 330 bytes per message, unless `[journal]`
/// retention bounds it). With retention on, the same parts are then run again unpaced with
/// no journal, and the two outputs compared byte for byte. `progress` gets a line now and then.
pub fn soak(
    minutes: f64,
    rate: u64,
    cfg: &Config,
    dir: &Path,
    mut progress: impl FnMut(&str),
) -> io::Result<SoakReport> {
    std::fs::create_dir_all(dir)?;
    let journal = dir.join("journal");
    if journal.exists() {
        std::fs::remove_dir_all(&journal)?;
    }
    let (out_path, truth_path): (PathBuf, PathBuf) = (dir.join("soak.jsonl"), dir.join("expected.jsonl"));
    let rejects_path = dir.join("soak-rejects.jsonl");
    let target = (minutes * 60.0 * rate as f64) as u64;
    let (generator, [p_rx, d_rx]) = generate_parts(target, Some(std::fs::File::create(&truth_path)?))?;

    // Resident memory and the journal directory's size, sampled every second.
    let running = Arc::new(AtomicBool::new(true));
    let rss_sampler = sampler("soak-rss", &running, |at_s| RssSample {
        at_s,
        rss_mib: crate::bench::resident_bytes() as f64 / 1_048_576.0,
    })?;
    let journal_dir = journal.clone();
    let dir_sampler = sampler("soak-du", &running, move |_| fxrecon_journal::retention::directory_bytes(&journal_dir))?;

    progress(&format!(
        "soak: {minutes} min at {rate} msgs/s offered, about {target} messages, journal in {}",
        journal.display()
    ));
    let opts = PipelineOptions {
        pace_msgs_per_s: Some(rate),
        clock: EventClock::File,
        // A thread per stream, as before the pipeline was rebuilt: the figures stay comparable.
        // (The generated input never waits inside `poll`, so the shared layout would do too.)
        threading: Threading::Dedicated,
        ..PipelineOptions::default()
    };
    let setup = fxrecon_engine::pipeline::recovery::create(&journal, cfg, FsyncPolicy::IntervalMs(100), None)
        .map_err(io::Error::other)?;
    let out = BufWriter::with_capacity(1 << 16, std::fs::File::create(&out_path)?);
    // Rejects go to a file of their own (generated input has none: any fails the soak).
    let rejects = BufWriter::new(std::fs::File::create(&rejects_path)?);
    let max = cfg.max_message_bytes;
    let sources: [Box<dyn MessageSource>; 2] =
        [Box::new(PartLines::new("primary", p_rx, max)), Box::new(PartLines::new("dropcopy", d_rx, max))];
    let outcome = PipelineBuilder::new(cfg, opts, Intake::Sources(sources))
        .journal(setup)
        .sink(Box::new(JsonLines::new(out)))
        .sink(Box::new(RejectLines::new(rejects)))
        .build()?
        .run()
        .map_err(io::Error::other)?;
    running.store(false, Ordering::Release);
    let rss = rss_sampler.join().map_err(|_| io::Error::other("rss sampler panicked"))?;
    let journal_dir_bytes = dir_sampler.join().map_err(|_| io::Error::other("journal sampler panicked"))?;
    let (generated, parts) = generator.join().map_err(|_| io::Error::other("generator panicked"))??;
    let c = &outcome.counters;
    let rejected = c.primary.rejected + c.dropcopy.rejected;
    if rejected > 0 || outcome.input_failed || outcome.interrupted {
        return Err(io::Error::other(format!(
            "generated input was rejected ({rejected} messages, see {}), failed or interrupted",
            rejects_path.display()
        )));
    }
    std::fs::remove_file(&rejects_path)?;

    progress("soak: comparing the output with the ground truth");
    let expected = findings_of(&truth_path)?;
    let detected = findings_of(&out_path)?;
    let missed: Vec<_> = expected.difference(&detected).collect();
    let extra: Vec<_> = detected.difference(&expected).collect();
    let examples = missed
        .iter()
        .take(5)
        .map(|f| format!("missed {f:?}"))
        .chain(extra.iter().take(5).map(|f| format!("false alarm {f:?}")))
        .collect();
    let elapsed = outcome.elapsed.as_secs_f64();
    let warm = elapsed / 5.0;
    let after: Vec<f64> = rss.iter().filter(|s| s.at_s >= warm).map(|s| s.rss_mib).collect();
    let (lo, hi) = after.iter().fold((f64::MAX, 0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    // Growth is a trend, not the swing of the part buffers coming and going (about 16 MB): the
    // peak of the later half against the peak of the earlier half, after warm-up.
    let half = (warm + elapsed) / 2.0;
    let peak = |keep: &dyn Fn(f64) -> bool| rss.iter().filter(|s| keep(s.at_s)).map(|s| s.rss_mib).fold(0f64, f64::max);
    let (early, late) = (peak(&|t| t >= warm && t < half), peak(&|t| t >= half));
    let consumed = c.events + rejected;
    let (journal_records, journal_write_failures) =
        c.journal.as_ref().map_or((0, 0), |j| (j.records, j.write_failures));
    let journal_bytes = fxrecon_journal::retention::directory_bytes(&journal);
    let journal_segments_let_go =
        fxrecon_journal::segment::list_segments(&journal).map_err(io::Error::other)?.first().copied().unwrap_or(0);
    // The journal of a long soak is tens of GB: it was checked while written; drop it.
    std::fs::remove_dir_all(&journal)?;
    let retention = cfg.journal.retention();
    let identical_to_unretained_run = if retention.keeps_everything() {
        None
    } else {
        progress("soak: running the same parts again, unpaced and without a journal");
        let reference = dir.join("soak-reference.jsonl");
        let (generator, [p_rx, d_rx]) = generate_parts(target, None)?;
        let sources: [Box<dyn MessageSource>; 2] =
            [Box::new(PartLines::new("primary", p_rx, max)), Box::new(PartLines::new("dropcopy", d_rx, max))];
        let opts =
            PipelineOptions { clock: EventClock::File, threading: Threading::Dedicated, ..PipelineOptions::default() };
        let out = BufWriter::with_capacity(1 << 16, std::fs::File::create(&reference)?);
        PipelineBuilder::new(cfg, opts, Intake::Sources(sources))
            .sink(Box::new(JsonLines::new(out)))
            .build()?
            .run()
            .map_err(io::Error::other)?;
        generator.join().map_err(|_| io::Error::other("generator panicked"))??;
        let same = files_equal(&out_path, &reference)?;
        if same {
            std::fs::remove_file(&reference)?;
        }
        Some(same)
    };
    Ok(SoakReport {
        minutes,
        offered_msgs_per_s: rate,
        generated,
        consumed,
        elapsed_s: elapsed,
        achieved_msgs_per_s: (consumed as f64 / elapsed).round(),
        parts,
        ring_full_waits: c.primary.ring_full_waits + c.dropcopy.ring_full_waits,
        journal_records,
        journal_bytes,
        journal_dir_max_bytes: journal_dir_bytes.iter().copied().max().unwrap_or(0),
        journal_retention_bytes: retention.max_bytes,
        journal_segments_let_go,
        identical_to_unretained_run,
        store_high_water: (c.orders_high_water, cfg.max_orders as u64),
        journal_write_failures,
        rss_after_warmup_mib: (lo, hi),
        rss_growth: if early > 0.0 { late / early } else { 0.0 },
        rss,
        expected_findings: expected.len() as u64,
        detected_findings: detected.len() as u64,
        missed: missed.len() as u64,
        false_alarms: extra.len() as u64,
        examples,
    })
}
