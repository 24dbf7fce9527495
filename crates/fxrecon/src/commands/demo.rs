//! `fxrecon demo`: the embedded default run — a generated mixed day, reconciled in memory on
//! one thread (the pipeline's agents stepped in turn), checked against its ground truth.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Result, bail};
use fxrecon_core::divergence::Record;
use fxrecon_engine::config::Config;
use fxrecon_engine::ground_truth::{Finding, findings};
use fxrecon_engine::pipeline::memory::reconcile_in_memory;
use fxrecon_engine::pipeline::options::PipelineOptions;
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
}

/// Generates, reconciles and prints injected vs detected per divergence type.
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

    let t1 = Instant::now();
    let cfg = Config::default().sized_for_inputs(&[&day.primary, &day.dropcopy]);
    let opts = PipelineOptions { threading: Threading::Stepped, ..PipelineOptions::default() };
    let expected_lines: Vec<String> = day.expected.iter().map(|e| e.to_json_line(0)).collect();
    let run = reconcile_in_memory(day.primary, day.dropcopy, &cfg, opts)?;
    let recon_s = t1.elapsed().as_secs_f64();
    let records: Vec<Record> = run.records;
    let rejects = run.rejects;
    let c = &run.outcome.counters;

    let expected: std::collections::BTreeSet<Finding> =
        expected_lines.iter().filter_map(|l| Finding::of_json_line(l).ok().flatten()).collect();
    let detected = findings(&records);
    let mut table: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    for f in &expected {
        let row = table.entry(f.type_name().to_string()).or_default();
        row[0] += 1;
        if detected.contains(f) {
            row[2] += 1;
        }
    }
    for f in &detected {
        let row = table.entry(f.type_name().to_string()).or_default();
        row[1] += 1;
        if !expected.contains(f) {
            row[3] += 1;
        }
    }

    let messages = c.primary.messages + c.dropcopy.messages;
    println!("fxrecon demo: mixed day, {orders} orders, seed {seed}");
    println!(
        "  {} messages ({} primary, {} dropcopy), {} rejected, generated in {:.2} s",
        messages,
        c.primary.messages,
        c.dropcopy.messages,
        rejects.len(),
        gen_s
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
        "  reconciled in {:.3} s on one thread: {:.0} messages/s; missed {missed}, false alarms {false_alarms}",
        recon_s,
        messages as f64 / recon_s.max(1e-9)
    );
    if missed + false_alarms > 0 {
        bail!("detected findings differ from the injected ground truth");
    }
    Ok(())
}
