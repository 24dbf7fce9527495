//! `fxrecon bench`: the benchmark suite run inside the product (figures for BENCHMARKS.md),
//! the memory day and the soak test. Only in builds with the `bench` feature (the default).

use std::path::PathBuf;

use anyhow::{Context, Result};
use fxrecon_engine::config::Config;
use fxrecon_runtime::threading::Threading;

/// Arguments of `bench`.
#[derive(clap::Args)]
pub struct Args {
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
    /// Measure the retired-order memory (issue 22 item 5): a 24-hour day of N agreeing orders
    /// (one in 10 replaced twice with three fills), all retired and remembered, run with the
    /// memory off and then on; prints bytes per order, the address space reserved, resident
    /// memory and the apply rate of both runs as JSON. Without --config the live store is
    /// sized for the day's live set and `max_retired_orders` is N.
    #[arg(long, value_name = "ORDERS", conflicts_with_all = ["memory_day", "soak", "paced"])]
    retired_memory: Option<u64>,
    /// TOML config file (store sizing, retention).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Soak test: stream an endless generated day through the live pipeline with the journal
    /// on for this many minutes (journal, output and ground truth go to --out-dir/soak).
    #[arg(long, value_name = "MINUTES")]
    soak: Option<f64>,
    /// Offered rate of the soak test, combined msgs/s.
    #[arg(long, default_value_t = 200_000)]
    soak_rate: u64,
    /// Agents to threads in the pipeline runs: shared, dedicated or auto (as `run`).
    #[arg(long, default_value = "auto")]
    threading: Threading,
    /// Only one paced latency run at this combined rate (msgs/s): prints its percentiles, the
    /// rate achieved and whether it saturated, as JSON.
    #[arg(long, value_name = "RATE")]
    paced: Option<u64>,
    /// With --paced: journal the run (`interval_ms:100` fsync) into a directory under
    /// --out-dir, removed afterwards.
    #[arg(long, requires = "paced")]
    journaled: bool,
    /// Detection latency over Aeron IPC at this combined rate (msgs/s): `demo`'s live path (an
    /// embedded media driver, two publisher threads) on a mixed day of --orders orders, each
    /// round after the host's floor is probed on every core; prints one JSON object per round
    /// and their medians.
    #[arg(long, value_name = "RATE", conflicts_with_all = ["memory_day", "soak", "paced", "retired_memory"])]
    aeron_latency: Option<u64>,
    /// With --aeron-latency: how many rounds.
    #[arg(long, default_value_t = 3, requires = "aeron_latency", value_parser = clap::value_parser!(u64).range(1..=50))]
    rounds: u64,
    /// Only the decode + reconcile one-thread figure, on the day in this directory
    /// (`primary.fix` and `dropcopy.fix`, e.g. written by `gen`), so that the same day can be
    /// timed against other implementations: prints the median, min and max msgs/s of --runs.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["memory_day", "soak", "paced", "retired_memory", "orders", "quick"])]
    files: Option<PathBuf>,
    /// Repetitions of the --files figure.
    #[arg(long, default_value_t = 7, requires = "files")]
    runs: usize,
}

/// Runs `bench`.
pub fn run(a: Args, cfg: Config) -> Result<()> {
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
        let report = fxrecon_bench::soak::soak(minutes, a.soak_rate, &cfg, &dir, |s| eprintln!("{s}"))?;
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(dir.join("soak-report.json"), &json).context("writing soak-report.json")?;
        println!("{json}");
        let ok = report.missed == 0
            && report.false_alarms == 0
            && report.consumed == report.generated
            && report.rss_growth <= 1.05
            // With retention on: the directory stayed under its budget, and retention changed
            // nothing in the output.
            && (report.journal_retention_bytes == 0 || report.journal_dir_max_bytes <= report.journal_retention_bytes)
            && report.identical_to_unretained_run != Some(false);
        if !ok {
            anyhow::bail!("soak failed its checks (see the report above)");
        }
        return Ok(());
    }
    if let Some(rate) = a.aeron_latency {
        return aeron_latency(rate, a.rounds, a.orders.unwrap_or(125_000), a.config.is_some(), cfg);
    }
    if let Some(orders) = a.retired_memory {
        return retired_memory(orders, a.config.is_some(), cfg);
    }
    if let Some(dir) = &a.files {
        return files(dir, a.runs, a.json, &cfg);
    }
    let Some(orders) = a.memory_day else {
        return bench_suite(a, cfg);
    };
    println!(
        "memory day: {orders} orders over 24 h, retention {} ms, store capacity {} orders",
        cfg.retention_ms, cfg.max_orders
    );
    println!("{:>12} {:>10} {:>12} {:>9}", "orders", "rss_MiB", "live_orders", "secs");
    let records = fxrecon_bench::bench::memory_day(orders, cfg.recon(), 20, |s| {
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

/// The design brief's detection-latency target: p99 and p99.9, µs.
const LATENCY_TARGET_US: [u64; 2] = [5_000, 20_000];

/// `bench --aeron-latency RATE`: `rounds` rounds of the demo's live path, each after a 2 s
/// probe of the host's floor on every core (D38: the window just before the run).
fn aeron_latency(rate: u64, rounds: u64, orders: usize, configured: bool, cfg: Config) -> Result<()> {
    if rate == 0 {
        anyhow::bail!("--aeron-latency must be > 0");
    }
    super::gen_day::check_orders(orders)?;
    let gen_cfg = fxrecon_gen::GenConfig {
        orders,
        seed: 7,
        scenario: fxrecon_gen::Scenario::Mixed,
        ..fxrecon_gen::GenConfig::default()
    };
    let day = fxrecon_gen::generate(&gen_cfg);
    let cfg = if configured { cfg } else { cfg.sized_for_inputs(&[&day.primary, &day.dropcopy]) };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut rows = Vec::new();
    for round in 1..=rounds {
        eprintln!("bench: round {round} of {rounds}: host floor ...");
        let host = fxrecon_bench::host_jitter::probe(cores, std::time::Duration::from_secs(2), false);
        eprintln!("bench: round {round} of {rounds}: {rate} msgs/s over Aeron IPC ...");
        let got = super::demo::over_aeron(&day.primary, &day.dropcopy, &cfg, rate)?;
        let Some([n, p50, p99, p999, max]) = got.latency_us.and_then(super::demo::percentiles) else {
            anyhow::bail!("round {round}: no record was decided before the end of input");
        };
        let row = serde_json::json!({
            "round": round, "offered": rate, "records": n,
            "p50_us": p50, "p99_us": p99, "p999_us": p999, "max_us": max,
            "host_p99_us": fxrecon_bench::host_jitter::floor_us(&host, 0.99),
            "host_p999_us": fxrecon_bench::host_jitter::floor_us(&host, 0.999),
            "meets_target": p99 < LATENCY_TARGET_US[0] && p999 < LATENCY_TARGET_US[1],
        });
        println!("{row}");
        rows.push(row);
    }
    // Every field is a whole number of microseconds, so the median is one.
    let median = |key: &str| fxrecon_bench::bench::median(rows.iter().filter_map(|r| r[key].as_f64()).collect()) as u64;
    let met = rows.iter().filter(|r| r["meets_target"] == true).count();
    let summary = serde_json::json!({
        "median_of": rounds, "offered": rate, "orders": orders,
        "p50_us": median("p50_us"), "p99_us": median("p99_us"), "p999_us": median("p999_us"),
        "host_p99_us": median("host_p99_us"), "host_p999_us": median("host_p999_us"),
        "target_us": {"p99": LATENCY_TARGET_US[0], "p999": LATENCY_TARGET_US[1]},
        "rounds_meeting_target": met,
    });
    println!("{summary}");
    Ok(())
}

/// `bench --files DIR`: the decode + reconcile one-thread figure on a given day.
fn files(dir: &std::path::Path, runs: usize, json: bool, cfg: &Config) -> Result<()> {
    if runs == 0 {
        anyhow::bail!("--runs must be at least 1");
    }
    let read = |name: &str| -> Result<&'static [u8]> {
        let path = dir.join(name);
        let data = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(data.leak())
    };
    let (primary, dropcopy) = (read("primary.fix")?, read("dropcopy.fix")?);
    let mut rates: Vec<f64> =
        (0..runs).map(|_| fxrecon_bench::bench::decode_reconcile_throughput(primary, dropcopy, cfg, 1).0).collect();
    rates.sort_by(f64::total_cmp);
    let messages = [primary, dropcopy].map(fxrecon_engine::pipeline::options::line_count).iter().sum::<u64>();
    let (median, min, max) = (rates[runs / 2], rates[0], rates[runs - 1]);
    if json {
        let report = serde_json::json!({
            "messages": messages, "runs": runs,
            "decode_reconcile_1t": { "median": median.round(), "min": min.round(), "max": max.round() },
        });
        println!("{report}");
    } else {
        println!(
            "decode + reconcile (1 thread), {messages} messages in {}: median {median:.0} msgs/s over {runs} runs (min {min:.0}, max {max:.0})",
            dir.display()
        );
    }
    Ok(())
}

/// `bench --retired-memory ORDERS`.
fn retired_memory(orders: u64, configured: bool, cfg: Config) -> Result<()> {
    if orders == 0 {
        anyhow::bail!("--retired-memory needs at least one order");
    }
    let mut recon = cfg.recon();
    if recon.retired_memory_ms <= 0 {
        anyhow::bail!("--retired-memory needs retired_memory_ms > 0");
    }
    if !configured {
        // The live set of a day that retires after 60 s is a few thousand orders: a store for
        // it keeps its own pages out of the figures (as the soak's), and the memory holds the
        // whole day.
        recon = fxrecon_core::ReconConfig {
            max_orders: 1 << 18,
            max_execs: 1 << 21,
            max_retired_orders: usize::try_from(orders)?,
            ..recon
        };
    }
    let report = fxrecon_bench::retired_memory::retired_memory(
        orders,
        fxrecon_bench::retired_memory::MIXED_EVERY,
        recon,
        |step| eprintln!("bench: {step} ..."),
    );
    println!("{}", serde_json::to_string_pretty(&report)?);
    if report.on.records != 0 || report.off.records != 0 || report.on.live_orders != 0 {
        anyhow::bail!("the agreeing day reported records or left live orders (see the report above)");
    }
    Ok(())
}

fn bench_suite(a: Args, cfg: Config) -> Result<()> {
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
        let lines = [primary, dropcopy].map(fxrecon_engine::pipeline::options::line_count);
        let host = fxrecon_bench::bench::host_probe(a.threading, lines.iter().sum(), rate);
        let (h, saturated, achieved) =
            fxrecon_bench::bench::paced_run(primary, dropcopy, lines, &cfg, a.threading, rate, journal.as_deref());
        if let Some(dir) = &journal {
            std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        let summary = fxrecon_bench::bench::LatencySummary {
            host_p99: fxrecon_bench::host_jitter::floor_us(&host, 0.99),
            host_p999: fxrecon_bench::host_jitter::floor_us(&host, 0.999),
            ..fxrecon_bench::bench::LatencySummary::of(&h, saturated)
        };
        let report = serde_json::json!({
            "offered": rate, "achieved": achieved.round(), "journaled": a.journaled, "latency_us": summary,
        });
        println!("{report}");
        return Ok(());
    }
    let quiet = a.json;
    let (report, series) = fxrecon_bench::bench::suite(primary, dropcopy, &cfg, a.threading, a.quick, |step| {
        if !quiet {
            eprintln!("bench: {step} ...");
        }
    });
    std::fs::create_dir_all(&a.out_dir).with_context(|| format!("cannot create {}", a.out_dir.display()))?;
    let svg = a.out_dir.join("latency-cdf.svg");
    fxrecon_bench::bench::write_latency_cdf_svg(&svg, &series)
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
    for rate in fxrecon_bench::bench::LATENCY_RATES.map(|r| r.to_string()) {
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
