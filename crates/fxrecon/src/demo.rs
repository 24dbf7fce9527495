//! `fxrecon demo`: the embedded default run — a generated mixed day, reconciled in memory.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Result, bail};
use fxrecon_core::divergence::Record;
use fxrecon_engine::config::Config;
use fxrecon_engine::truth::{Finding, findings};

/// Generates, reconciles and prints injected vs detected per divergence type.
pub fn run(orders: usize, seed: u64) -> Result<()> {
    let gen_cfg = fxrecon_gen::GenConfig {
        orders,
        seed,
        scenario: fxrecon_gen::Scenario::Mixed,
        ..fxrecon_gen::GenConfig::default()
    };
    let t0 = Instant::now();
    let day = fxrecon_gen::generate(&gen_cfg);
    let gen_s = t0.elapsed().as_secs_f64();

    let mut records: Vec<Record> = Vec::new();
    let mut rejects: Vec<(fxrecon_core::Stream, u64, String)> = Vec::new();
    let t1 = Instant::now();
    let stats = fxrecon_engine::offline::reconcile_bytes(
        &day.primary,
        &day.dropcopy,
        &Config::default(),
        &mut records,
        &mut rejects,
    )?;
    let recon_s = t1.elapsed().as_secs_f64();

    let expected: std::collections::BTreeSet<Finding> =
        day.expected.iter().filter_map(|e| Finding::of_json_line(&e.to_json_line(0)).ok().flatten()).collect();
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

    let messages = stats.messages[0] + stats.messages[1];
    println!("fxrecon demo: mixed day, {orders} orders, seed {seed}");
    println!(
        "  {} messages ({} primary, {} dropcopy), {} rejected, generated in {:.2} s",
        messages,
        stats.messages[0],
        stats.messages[1],
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
