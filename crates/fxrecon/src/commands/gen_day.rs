//! `fxrecon gen`: a synthetic FX day with injected faults and its ground truth.

use std::path::PathBuf;

use anyhow::{Context, Result};

/// Arguments of `gen`.
#[derive(clap::Args)]
pub struct Args {
    /// Number of orders.
    #[arg(long, default_value_t = 1000)]
    orders: usize,
    /// Random seed (same seed, same bytes).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Directory for primary.fix, dropcopy.fix and expected.jsonl.
    #[arg(long)]
    out_dir: PathBuf,
    /// Fault scenario: a classic fault, `mixed` (every classic fault), an issue 22 situation
    /// (`refused_replace`, `late_after_retirement`, `gap_exposure`, …) or `hard` (every situation
    /// and every classic fault, mixed with normal flow).
    #[arg(long, default_value = "mixed")]
    scenario: fxrecon_gen::Scenario,
    /// The hard mix: the same as `--scenario hard`.
    #[arg(long, conflicts_with = "scenario")]
    hard: bool,
    /// Fraction of orders that get a fault.
    #[arg(long, default_value_t = 0.02)]
    fault_rate: f64,
}

/// Runs `gen`.
pub fn run(a: Args) -> Result<()> {
    if !(0.0..=1.0).contains(&a.fault_rate) {
        anyhow::bail!("--fault-rate must be between 0 and 1");
    }
    check_orders(a.orders)?;
    let cfg = fxrecon_gen::GenConfig {
        orders: a.orders,
        seed: a.seed,
        scenario: if a.hard { fxrecon_gen::Scenario::Hard } else { a.scenario },
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

/// Refuses a day too large to generate in memory (exit 2, before anything is made).
pub fn check_orders(orders: usize) -> Result<()> {
    if orders == 0 || orders > fxrecon_gen::MAX_ORDERS {
        anyhow::bail!(
            "--orders must be between 1 and {} (a day is generated in memory, about 2.7 KB per order)",
            fxrecon_gen::MAX_ORDERS
        );
    }
    Ok(())
}
