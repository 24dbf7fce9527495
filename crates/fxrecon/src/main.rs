//! `fxrecon`: command line of the FX execution reconciler.
//!
//! Wiring only: parse flags, load config, open files, call the engine, map errors to exit
//! codes (0 ran, 2 usage or I/O error). Logic lives in the library crates.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use fxrecon_engine::config::Config;
use fxrecon_engine::mapped_input::{MappedInput, MappedLines};
use fxrecon_engine::pipeline::{self, PipelineOptions};
use fxrecon_engine::summary::{JsonlSink, RejectWriter, Summary};
use fxrecon_engine::{offline, recovery};

mod demo;

/// Counts allocations per thread for `fxrecon bench` (`allocations_after_warmup`); the
/// hot path makes none, so the counter costs nothing where it matters.
#[global_allocator]
static ALLOC: fxrecon_engine::alloc_counter::CountingAlloc = fxrecon_engine::alloc_counter::CountingAlloc;

/// FX execution-state reconciliation: primary vs drop-copy FIX execution reports.
#[derive(Parser)]
#[command(name = "fxrecon", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reconcile a primary and a drop-copy FIX log offline (contract section 5).
    Reconcile(ReconcileArgs),
    /// Generate a synthetic FX trading day with injected faults and its ground truth.
    Gen(GenArgs),
    /// Run the live pipeline (ingest threads, SPSC rings, reconciler, output) over two inputs.
    Run(RunArgs),
    /// Generate a mixed day in memory, reconcile it, and print injected vs detected.
    Demo(DemoArgs),
    /// Benchmarks run inside the product (figures for BENCHMARKS.md).
    Bench(BenchArgs),
    /// Re-run reconciliation from a journal (byte-identical to the run that wrote it).
    Replay(ReplayArgs),
    /// Inspect a journal: `verify DIR` or `dump DIR`.
    #[command(subcommand)]
    Journal(JournalCommand),
}

#[derive(clap::Args)]
struct ReconcileArgs {
    /// Primary (OMS / gateway) FIX log.
    #[arg(long)]
    primary: PathBuf,
    /// Drop-copy FIX log.
    #[arg(long)]
    dropcopy: PathBuf,
    /// TOML config file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Grace window in ms (overrides config).
    #[arg(long)]
    grace_ms: Option<i64>,
    /// TimingAnomaly threshold in ms (overrides config).
    #[arg(long)]
    timing_ms: Option<i64>,
    /// Divergences as JSON Lines (default stdout).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Rejected messages as JSON Lines (default stderr).
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// Run summary as JSON (default stderr).
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Decode and reconcile on one thread instead of the threaded pipeline (same output).
    #[arg(long)]
    single_thread: bool,
    /// Journal every consumed message to this directory (a new one; threaded pipeline only).
    #[arg(long)]
    journal: Option<PathBuf>,
    /// Journal fsync policy: every_batch, interval_ms:N or never.
    #[arg(long, default_value = "interval_ms:100")]
    fsync: fxrecon_engine::journal::FsyncPolicy,
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// Journal directory.
    #[arg(long)]
    journal: PathBuf,
    /// First event time to replay (FIX UTCTimestamp, inclusive).
    #[arg(long, value_parser = parse_time)]
    from: Option<fxrecon_core::time::Micros>,
    /// Last event time to replay (inclusive).
    #[arg(long, value_parser = parse_time)]
    to: Option<fxrecon_core::time::Micros>,
    /// Divergences as JSON Lines (default stdout).
    #[arg(long)]
    out: Option<PathBuf>,
    /// TOML config file (default: the rules the journal was written with).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Skip corrupt records instead of stopping (each skip is reported).
    #[arg(long)]
    salvage: bool,
}

#[derive(Subcommand)]
enum JournalCommand {
    /// Check every record; report segments, records, torn tail and corruption.
    Verify {
        /// Journal directory.
        dir: PathBuf,
        /// Report corruption and go on instead of stopping.
        #[arg(long)]
        salvage: bool,
    },
    /// Print every record: segment, offset, stream, line, event time, raw FIX (`|` for SOH).
    Dump {
        /// Journal directory.
        dir: PathBuf,
    },
}

fn parse_time(s: &str) -> Result<fxrecon_core::time::Micros, String> {
    fxrecon_core::time::Micros::parse_fix(s.as_bytes())
        .ok_or_else(|| format!("not a FIX UTC timestamp (YYYYMMDD-HH:MM:SS[.fff]): {s}"))
}

#[derive(clap::Args)]
struct RunArgs {
    /// Primary (OMS / gateway) FIX log.
    #[arg(long)]
    primary: PathBuf,
    /// Drop-copy FIX log.
    #[arg(long)]
    dropcopy: PathBuf,
    /// Divergences as JSON Lines.
    #[arg(long)]
    out: PathBuf,
    /// Rejected messages as JSON Lines (default stderr).
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// TOML config file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Release messages at this combined rate, each stream at its share of the inputs' lines.
    #[arg(long)]
    pace: Option<u64>,
    /// Event clock: `file` (the inputs' own times; output as `reconcile`) or `ingest` (stamped
    /// on arrival, as live). Default: ingest with --pace, else file.
    #[arg(long)]
    clock: Option<pipeline::EventClock>,
    /// Pin agent threads to cores (off by default: it stalls a small shared machine).
    #[arg(long)]
    pin: bool,
    /// Idle strategy of the agents: busy-spin, yield or park.
    #[arg(long, default_value = "park")]
    idle: fxrecon_engine::idle::IdleStrategy,
    /// Slots per ring (power of two).
    #[arg(long, default_value_t = 1 << 14)]
    ring_capacity: usize,
    /// Agents to threads: `shared` (two threads: the reconciler alone; both ingest agents, the
    /// journal and the output on the other), `dedicated` (a thread per ingest agent, the
    /// reconciler, and a background one for journal and output) or `auto` (dedicated with four
    /// cores or more, else shared).
    #[arg(long, default_value = "auto")]
    threading: pipeline::Threading,
    /// Map all of the pre-sized state memory at start-up, so no page fault of fresh memory
    /// delays an event later (start-up takes longer and the memory is resident from the start).
    #[arg(long)]
    prefault: bool,
    /// Journal every consumed message here; if it already holds a journal, recover from it
    /// first (replay, resume the outputs) and continue where it ended.
    #[arg(long)]
    journal: Option<PathBuf>,
    /// Journal fsync policy: every_batch, interval_ms:N or never.
    #[arg(long, default_value = "interval_ms:100")]
    fsync: fxrecon_engine::journal::FsyncPolicy,
    /// Recover from a damaged journal: skip what cannot be read, set the existing outputs aside
    /// (`<file>.before-salvage`) and write them anew from what could be replayed.
    #[arg(long)]
    salvage: bool,
}

#[derive(clap::Args)]
struct GenArgs {
    /// Number of orders.
    #[arg(long, default_value_t = 1000)]
    orders: usize,
    /// Random seed (same seed, same bytes).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Directory for primary.fix, dropcopy.fix and expected.jsonl.
    #[arg(long)]
    out_dir: PathBuf,
    /// Fault scenario, or `mixed`.
    #[arg(long, default_value = "mixed")]
    scenario: fxrecon_gen::Scenario,
    /// Fraction of orders that get a fault.
    #[arg(long, default_value_t = 0.02)]
    fault_rate: f64,
}

#[derive(clap::Args)]
struct BenchArgs {
    /// Smaller corpus and fewer repetitions (under a minute).
    #[arg(long)]
    quick: bool,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Orders in the generated corpus (default 125000, about 1.07M messages; quick 15000).
    #[arg(long)]
    orders: Option<usize>,
    /// Where the latency CDF plot (latency-cdf.svg) and bench.json go.
    #[arg(long, default_value = "target/bench")]
    out_dir: PathBuf,
    /// Run N synthetic orders over a 24-hour day through the reconciler with retention and
    /// sample resident memory (bounded-memory check).
    #[arg(long, value_name = "ORDERS")]
    memory_day: Option<u64>,
    /// TOML config file (store sizing, retention).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Soak test: stream an endless generated day through the live pipeline with the journal
    /// on for this many minutes (journal, output and ground truth go to --out-dir/soak).
    #[arg(long, value_name = "MINUTES")]
    soak: Option<f64>,
    /// Offered rate of the soak test, combined msgs/s.
    #[arg(long, default_value_t = 200_000)]
    soak_rate: u64,
    /// Agents to threads in the pipeline runs: shared, dedicated or auto (as `run`).
    #[arg(long, default_value = "auto")]
    threading: pipeline::Threading,
    /// Only one paced latency run at this combined rate (msgs/s): prints its percentiles, the
    /// rate achieved and whether it saturated, as JSON.
    #[arg(long, value_name = "RATE")]
    paced: Option<u64>,
    /// With --paced: journal the run (`interval_ms:100` fsync) into a directory under
    /// --out-dir, removed afterwards.
    #[arg(long, requires = "paced")]
    journaled: bool,
}

#[derive(clap::Args)]
struct DemoArgs {
    /// Number of orders in the generated day.
    #[arg(long, default_value_t = 50_000)]
    orders: usize,
    /// Random seed.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

fn main() -> ExitCode {
    // Colour only on a terminal: logs that go to files stay plain text.
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .with_max_level(tracing::Level::WARN)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Reconcile(a) => reconcile(a),
        Command::Gen(a) => gen_day(a),
        Command::Run(a) => run_pipeline(a),
        Command::Demo(a) => demo::run(a.orders, a.seed),
        Command::Bench(a) => bench(a),
        Command::Replay(a) => replay(a),
        Command::Journal(c) => journal(c),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fxrecon: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn open_input(path: &Path, what: &str) -> Result<MappedInput> {
    MappedInput::open(path).with_context(|| format!("cannot open {what} input {}", path.display()))
}

fn create_output(path: &Path) -> Result<BufWriter<File>> {
    let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 16, f))
}

fn boxed_writer(path: &Option<PathBuf>, default: fn() -> Box<dyn Write + Send>) -> Result<Box<dyn Write + Send>> {
    Ok(match path {
        Some(p) => Box::new(create_output(p)?),
        None => default(),
    })
}

fn reconcile(a: ReconcileArgs) -> Result<()> {
    let mut cfg = match &a.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    if let Some(g) = a.grace_ms {
        cfg.grace_ms = g;
    }
    if let Some(t) = a.timing_ms {
        cfg.timing_threshold_ms = t;
    }
    cfg.validate()?;
    let primary = open_input(&a.primary, "primary")?;
    let dropcopy = open_input(&a.dropcopy, "dropcopy")?;
    let out = boxed_writer(&a.out, || Box::new(BufWriter::new(io::stdout())))?;
    let rejects_out = boxed_writer(&a.rejects, || Box::new(BufWriter::new(io::stderr())))?;
    let mut summary_out = boxed_writer(&a.summary, || Box::new(io::stderr()))?;

    let started = Instant::now();
    let rejects = RejectWriter::new(rejects_out);
    if let Some(dir) = &a.journal {
        if a.single_thread {
            anyhow::bail!("--journal runs on the threaded pipeline: drop --single-thread");
        }
        // A journal is one run: appending a second run would make replay mix the two.
        if fxrecon_engine::recovery::journal_exists(dir)? {
            anyhow::bail!("journal directory {} already holds a journal; use an empty directory", dir.display());
        }
    }
    let (stats, counts) = if a.single_thread {
        let mut sink = JsonlSink::new(out);
        let mut rejects = rejects;
        let stats = offline::reconcile_bytes(primary.bytes(), dropcopy.bytes(), &cfg, &mut sink, &mut rejects)
            .context("reading input")?;
        let counts = sink.finish().context("writing output")?;
        rejects.finish().context("writing rejects")?;
        (stats, counts)
    } else {
        let opts = PipelineOptions::default();
        let journal = a.journal.as_deref().map(|d| (d, a.fsync));
        let (stats, counts, mut out, rejects) =
            offline::reconcile_files_threaded(primary, dropcopy, &cfg, &opts, out, rejects, journal)
                .context("reconciling")?;
        out.flush().context("writing output")?;
        rejects.finish().context("writing rejects")?;
        (stats, counts)
    };
    let elapsed_ms = started.elapsed().as_millis() as u64;
    Summary::new(&stats, &counts, elapsed_ms).write(&mut summary_out).context("writing summary")?;
    summary_out.flush().context("writing summary")?;
    Ok(())
}

fn run_pipeline(a: RunArgs) -> Result<()> {
    let cfg = match &a.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    if a.pace == Some(0) {
        anyhow::bail!("--pace must be > 0");
    }
    if !(2..=1 << 24).contains(&a.ring_capacity) {
        anyhow::bail!("--ring-capacity must be between 2 and 16777216");
    }
    let (primary, dropcopy) = (open_input(&a.primary, "primary")?, open_input(&a.dropcopy, "dropcopy")?);
    // Paced: each stream gets its share of the lines, so the two stay level in time (D40).
    let pace_shares = match a.pace {
        Some(_) => pipeline::pace_shares([primary.bytes(), dropcopy.bytes()].map(pipeline::line_count)),
        None => [0.5, 0.5],
    };
    let primary = MappedLines::new(primary, cfg.max_message_bytes);
    let dropcopy = MappedLines::new(dropcopy, cfg.max_message_bytes);
    let opts = PipelineOptions {
        ring_capacity: a.ring_capacity,
        idle: a.idle,
        pin: a.pin,
        pace_msgs_per_s: a.pace,
        pace_shares,
        clock: a.clock.unwrap_or(if a.pace.is_some() {
            pipeline::EventClock::Ingest
        } else {
            pipeline::EventClock::File
        }),
        max_message_bytes: cfg.max_message_bytes,
        measure_latency: false,
        threading: a.threading,
        prefault: a.prefault,
    };
    let mut recovered = None;
    let (start, journal, out, rejects_out): (_, _, BufWriter<File>, Box<dyn Write + Send>) = match &a.journal {
        Some(dir) if recovery::journal_exists(dir)? => {
            if a.salvage {
                // What the outputs hold came partly from records that may now be lost: keep
                // them for inspection and write outputs consistent with what is replayed.
                for p in std::iter::once(&a.out).chain(a.rejects.as_ref()).filter(|p| p.exists()) {
                    let aside = PathBuf::from(format!("{}.before-salvage", p.display()));
                    std::fs::rename(p, &aside).with_context(|| format!("cannot move {} aside", p.display()))?;
                }
            }
            let mut out = recovery::ResumedFile::open(&a.out)?;
            let mut rejects = a.rejects.as_deref().map(recovery::ResumedFile::open).transpose()?;
            let (start, setup, report) = recovery::recover(dir, &cfg, a.fsync, &mut out, rejects.as_mut(), a.salvage)?;
            recovered = Some(report);
            let rejects_out: Box<dyn Write + Send> = match rejects {
                Some(r) => Box::new(r.finish()?),
                None => Box::new(BufWriter::new(io::stderr())),
            };
            (start, Some(setup), out.finish()?, rejects_out)
        }
        journal => {
            let (start, setup) = match journal {
                Some(dir) => {
                    let (start, setup) = recovery::create(dir, &cfg, a.fsync)?;
                    (start, Some(setup))
                }
                None => (pipeline::Start::fresh(cfg.recon()), None),
            };
            let rejects_out = boxed_writer(&a.rejects, || Box::new(BufWriter::new(io::stderr())))?;
            (start, setup, create_output(&a.out)?, rejects_out)
        }
    };
    let rejects = RejectWriter::new(rejects_out);
    let (stats, mut out, rejects) = pipeline::run_durable(primary, dropcopy, start, journal, &opts, out, rejects)
        .context("running the pipeline")?;
    out.flush().context("writing output")?;
    rejects.finish().context("writing rejects")?;
    let messages = stats.ingest[0].messages + stats.ingest[1].messages;
    let secs = stats.elapsed.as_secs_f64().max(1e-9);
    let summary = serde_json::json!({
        "messages_read": { "primary": stats.ingest[0].messages, "dropcopy": stats.ingest[1].messages },
        "messages_rejected": { "primary": stats.ingest[0].rejected, "dropcopy": stats.ingest[1].rejected },
        "ring_full_waits": { "primary": stats.ingest[0].ring_full_waits, "dropcopy": stats.ingest[1].ring_full_waits,
                             "output": stats.reconciler.output_full_waits, "journal": stats.reconciler.journal_full_waits },
        "orders": stats.reconciler.recon.orders,
        "store": {
            "high_water": stats.reconciler.store.high_water,
            "retired": stats.reconciler.store.retired,
            "evicted": stats.reconciler.store.evicted,
            "capacity_exhausted": stats.reconciler.store.capacity_exhausted,
            "stale_retired": stats.reconciler.store.stale_retired,
        },
        "journal": stats.journal.map(|j| serde_json::json!({
            "records": j.records, "batches": j.batches, "write_failures": j.write_failures,
        })),
        "recovered": recovered.map(|r| serde_json::json!({
            "snapshot": r.snapshot,
            "salvaged_regions": r.salvaged_regions,
            "events_replayed": r.events_replayed,
            "rejects_replayed": r.rejects_replayed,
            "output_lines_checked": r.output_lines_checked,
            "output_lines_appended": r.output_lines_appended,
            "rejects_lines_appended": r.rejects_lines_appended,
        })),
        "elapsed_ms": stats.elapsed.as_millis() as u64,
        "messages_per_s": (messages as f64 / secs).round(),
        "state_digest": format!("{:016x}", stats.reconciler.state_digest),
        "by_type": stats.counts.by_type,
    });
    eprintln!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

fn replay(a: ReplayArgs) -> Result<()> {
    let cfg = a.config.as_deref().map(Config::load).transpose()?;
    let out = boxed_writer(&a.out, || Box::new(BufWriter::new(io::stdout())))?;
    let (stats, _, mut out) = recovery::replay(&a.journal, cfg.as_ref(), a.salvage, (a.from, a.to), out)?;
    out.flush().context("writing output")?;
    eprintln!(
        "{}",
        serde_json::json!({
            "events_replayed": stats.events,
            "events_outside_window": stats.skipped,
            "state_digest": format!("{:016x}", stats.state_digest),
        })
    );
    Ok(())
}

fn journal(c: JournalCommand) -> Result<()> {
    use fxrecon_engine::journal::{JournalReader, event_record};
    match c {
        JournalCommand::Verify { dir, salvage } => {
            let out = JournalReader::new(&dir, salvage).read(|_| {})?;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "segments": out.segments,
                    "records": out.records,
                    "end": out.end.map(|(s, o)| format!("{} @ {o}", fxrecon_engine::journal::segment::segment_name(s))),
                    "torn_tail": out.torn_tail.map(|(s, o)| format!("{s} @ {o}")),
                    "salvaged": out.salvaged.iter().map(|(s, o, r)| format!("{s} @ {o}: {r}")).collect::<Vec<_>>(),
                }))?
            );
        }
        JournalCommand::Dump { dir } => {
            let mut stdout = BufWriter::new(io::stdout().lock());
            let mut ev = fxrecon_core::ExecEvent::default();
            let mut err = None;
            JournalReader::new(&dir, false).read(|r| {
                if err.is_some() {
                    return;
                }
                let raw = event_record::raw(r.payload);
                let line = match event_record::decode_event(r.payload, &mut ev) {
                    Ok(()) => format!(
                        "{} {:>10} {:<8} line {:<8} {} {}",
                        fxrecon_engine::journal::segment::segment_name(r.segment),
                        r.offset,
                        ev.stream.name(),
                        ev.line,
                        ev.event_time.rfc3339(),
                        String::from_utf8_lossy(raw).replace('\u{1}', "|")
                    ),
                    Err(e) => format!(
                        "{} {:>10} undecodable record: {e}",
                        fxrecon_engine::journal::segment::segment_name(r.segment),
                        r.offset
                    ),
                };
                if let Err(e) = writeln!(stdout, "{line}") {
                    err = Some(e);
                }
            })?;
            if let Some(e) = err {
                return Err(e).context("writing dump");
            }
            stdout.flush()?;
        }
    }
    Ok(())
}

fn bench(a: BenchArgs) -> Result<()> {
    let cfg = match &a.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    if let Some(minutes) = a.soak {
        if minutes.is_nan() || minutes <= 0.0 || a.soak_rate == 0 {
            anyhow::bail!("--soak needs minutes > 0 and --soak-rate > 0");
        }
        let dir = a.out_dir.join("soak");
        // Without a config, a store sized for the soak's load (ten times its live set, see
        // BENCHMARKS.md) instead of the 4M-order default whose tables fill in for minutes.
        // Open orders idle for 10 minutes of event time are retired (D29): an endless day never
        // closes the orders its faults leave open.
        let cfg = if a.config.is_some() {
            cfg
        } else {
            Config { max_orders: 1 << 18, max_execs: 1 << 21, open_retention_ms: 600_000, ..cfg }
        };
        let report = fxrecon_engine::soak::soak(minutes, a.soak_rate, &cfg, &dir, |s| eprintln!("{s}"))?;
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(dir.join("soak-report.json"), &json).context("writing soak-report.json")?;
        println!("{json}");
        let ok = report.missed == 0
            && report.false_alarms == 0
            && report.consumed == report.generated
            && report.rss_growth <= 1.05;
        if !ok {
            anyhow::bail!("soak failed its checks (see the report above)");
        }
        return Ok(());
    }
    let Some(orders) = a.memory_day else {
        return bench_suite(a, cfg);
    };
    println!(
        "memory day: {orders} orders over 24 h, retention {} ms, store capacity {} orders",
        cfg.retention_ms, cfg.max_orders
    );
    println!("{:>12} {:>10} {:>12} {:>9}", "orders", "rss_MiB", "live_orders", "secs");
    let records = fxrecon_engine::bench::memory_day(orders, cfg.recon(), 20, |s| {
        println!(
            "{:>12} {:>10.1} {:>12} {:>9.1}",
            s.orders,
            s.rss_bytes as f64 / 1048576.0,
            s.live_orders,
            s.elapsed_s
        );
    });
    println!("records emitted: {records} (agreeing streams: 0 expected)");
    Ok(())
}

fn bench_suite(a: BenchArgs, cfg: Config) -> Result<()> {
    let orders = a.orders.unwrap_or(if a.quick { 15_000 } else { 125_000 });
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders, seed: 11, ..fxrecon_gen::GenConfig::default() });
    let primary: &'static [u8] = day.primary.leak();
    let dropcopy: &'static [u8] = day.dropcopy.leak();
    if let Some(rate) = a.paced {
        if rate == 0 {
            anyhow::bail!("--paced must be > 0");
        }
        let journal = a.journaled.then(|| a.out_dir.join(format!("paced-journal-{}", std::process::id())));
        if let Some(dir) = &journal {
            std::fs::create_dir_all(&a.out_dir).with_context(|| format!("cannot create {}", a.out_dir.display()))?;
            let _ = std::fs::remove_dir_all(dir); // this process's own leftover name: never a user's
        }
        // The host's floor first, as the suite measures it.
        let lines = [primary, dropcopy].map(pipeline::line_count);
        let host = fxrecon_engine::bench::host_probe(a.threading, lines.iter().sum(), rate);
        let (h, saturated, achieved) =
            fxrecon_engine::bench::paced_run(primary, dropcopy, lines, &cfg, a.threading, rate, journal.as_deref());
        if let Some(dir) = &journal {
            std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        let summary = fxrecon_engine::bench::LatencySummary {
            host_p99: fxrecon_engine::host_jitter::floor_us(&host, 0.99),
            host_p999: fxrecon_engine::host_jitter::floor_us(&host, 0.999),
            ..fxrecon_engine::bench::LatencySummary::of(&h, saturated)
        };
        let report = serde_json::json!({
            "offered": rate, "achieved": achieved.round(), "journaled": a.journaled, "latency_us": summary,
        });
        println!("{report}");
        return Ok(());
    }
    let quiet = a.json;
    let (report, series) = fxrecon_engine::bench::suite(primary, dropcopy, &cfg, a.threading, a.quick, |step| {
        if !quiet {
            eprintln!("bench: {step} ...");
        }
    });
    std::fs::create_dir_all(&a.out_dir).with_context(|| format!("cannot create {}", a.out_dir.display()))?;
    let svg = a.out_dir.join("latency-cdf.svg");
    fxrecon_engine::bench::write_latency_cdf_svg(&svg, &series)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", svg.display()))?;
    let json = serde_json::to_string_pretty(&report)?;
    std::fs::write(a.out_dir.join("bench.json"), &json).with_context(|| "writing bench.json")?;
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    let r = &report;
    println!(
        "fxrecon bench: {} messages (mixed day, {orders} orders), medians of {} runs",
        r.messages,
        if a.quick { 3 } else { 5 }
    );
    println!("  {:<34} {:>14}", "measurement", "msgs/s");
    for (name, v) in [
        ("decode (1 thread)", r.decode_msgs_per_s),
        ("  baseline: fix-codec-rs 0.3", r.baseline_decoder_msgs_per_s),
        ("reconcile (1 thread)", r.reconcile_msgs_per_s),
        ("decode + reconcile (1 thread)", r.decode_reconcile_msgs_per_s),
        ("pipeline (threads, unpaced)", r.pipeline_msgs_per_s),
        ("pipeline, journaled (interval_ms:100)", r.pipeline_journaled_msgs_per_s),
        ("  ceiling: disk's synced writes", r.journal_disk_ceiling_msgs_per_s),
        ("pipeline, journaled, buffered writes", r.pipeline_journaled_buffered_msgs_per_s),
        ("replay of that journal", r.replay_msgs_per_s),
        ("  baseline: raw SPSC ring", r.ring_baseline_msgs_per_s),
        ("max sustainable (paced ladder)", r.max_sustainable_msgs_per_s),
    ] {
        println!("  {name:<34} {v:>14.0}");
    }
    let held = r.sustained.tries.iter().find(|t| t.held);
    println!(
        "  sustained for a whole run of >= {:.0} s: {:.0} msgs/s{}",
        r.sustained.target_s,
        r.sustained.msgs_per_s,
        held.map_or(String::new(), |t| format!(
            " (run {:.1} s, {} messages, ring-full waits {})",
            t.run_s, r.sustained.messages, t.ring_full_waits
        ))
    );
    println!(
        "  ratios: decoder / fix-codec-rs = {:.2}x, pipeline / raw ring = {:.3}, journaled / unjournaled = {:.2}",
        r.decode_msgs_per_s / r.baseline_decoder_msgs_per_s.max(1.0),
        r.pipeline_msgs_per_s / r.ring_baseline_msgs_per_s.max(1.0),
        r.pipeline_journaled_msgs_per_s / r.pipeline_msgs_per_s.max(1.0)
    );
    println!(
        "  journal: {:.0} bytes/msg; disk's synced writes {:.0} MB/s; journaled / disk ceiling = {:.2}; buffered journaled / unjournaled = {:.2}",
        r.journal_bytes_per_msg,
        r.disk_sync_mb_per_s,
        r.pipeline_journaled_msgs_per_s / r.journal_disk_ceiling_msgs_per_s.max(1.0),
        r.pipeline_journaled_buffered_msgs_per_s / r.pipeline_msgs_per_s.max(1.0)
    );
    println!("  allocations after warm-up (decode+reconcile thread): {}", r.allocations_after_warmup);
    println!(
        "  snapshot half-way: {:.1} MB, save {:.1} ms, restore {:.1} ms",
        r.snapshot_bytes as f64 / 1e6,
        r.snapshot_save_ms,
        r.snapshot_restore_ms
    );
    println!("  detection latency (µs)   p50     p99   p99.9     max  records   host floor p99 / p99.9");
    for rate in fxrecon_engine::bench::LATENCY_RATES.map(|r| r.to_string()) {
        let Some(l) = r.latency_us.get(&rate) else { continue };
        println!(
            "  {:>9} msgs/s {:>7} {:>7} {:>7} {:>7} {:>8}   {:>7} / {}{}",
            rate,
            l.p50,
            l.p99,
            l.p999,
            l.max,
            l.count,
            l.host_p99,
            l.host_p999,
            if l.saturated { "  (saturated)" } else { "" }
        );
    }
    let j = &r.host_jitter_us;
    println!(
        "  host floor over all probes ({} threads doing nothing, {:.1} s each): p99 {} µs, p99.9 {} µs, longest gap {} µs",
        j.threads, j.probed_s, j.p99, j.p999, j.max
    );
    println!("  plot: {}   json: {}", svg.display(), a.out_dir.join("bench.json").display());
    Ok(())
}

fn gen_day(a: GenArgs) -> Result<()> {
    if !(0.0..=1.0).contains(&a.fault_rate) {
        anyhow::bail!("--fault-rate must be between 0 and 1");
    }
    let cfg = fxrecon_gen::GenConfig {
        orders: a.orders,
        seed: a.seed,
        scenario: a.scenario,
        fault_rate: a.fault_rate,
        ..fxrecon_gen::GenConfig::default()
    };
    let day = fxrecon_gen::generate(&cfg);
    std::fs::create_dir_all(&a.out_dir).with_context(|| format!("cannot create {}", a.out_dir.display()))?;
    let write = |name: &str, bytes: &[u8]| -> Result<()> {
        let p = a.out_dir.join(name);
        std::fs::write(&p, bytes).with_context(|| format!("cannot write {}", p.display()))
    };
    write("primary.fix", &day.primary)?;
    write("dropcopy.fix", &day.dropcopy)?;
    let mut expected = String::new();
    for (i, e) in day.expected.iter().enumerate() {
        expected.push_str(&e.to_json_line(i as u64 + 1));
        expected.push('\n');
    }
    write("expected.jsonl", expected.as_bytes())?;
    eprintln!(
        "fxrecon gen: {} orders, {} primary + {} dropcopy messages, {} expected findings -> {}",
        a.orders,
        day.primary_messages,
        day.dropcopy_messages,
        day.expected.len(),
        a.out_dir.display()
    );
    Ok(())
}
