//! The bench's single-thread decode + reconcile alone, for profiling (`perf record`,
//! callgrind) without the rest of `fxrecon bench`: the pipeline builder in stepped threading
//! (both ingest agents, the reconciler and the output stepped in turn on this thread) over the
//! day in memory, records counted and discarded:
//! `cargo run --release -p fxrecon-bench --example decode_reconcile -- [ORDERS] [RUNS] [MAX_ORDERS]`
//! (`MAX_ORDERS` caps the store, which is otherwise sized as `reconcile` sizes it: D14,
//! `Config::sized_for_inputs`). Prints each run's messages/s and the median.

// An example is a command-line tool: it prints its figures (the crate's clippy.toml bans printing
// in library code).
#![allow(clippy::disallowed_macros)]

fn main() {
    let mut args = std::env::args().skip(1);
    let orders = args.next().map_or(125_000, |a| a.parse().expect("ORDERS: a number"));
    let runs = args.next().map_or(5, |a| a.parse().expect("RUNS: a number"));
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders, seed: 11, ..Default::default() });
    let (primary, dropcopy): (&'static [u8], &'static [u8]) = (day.primary.leak(), day.dropcopy.leak());
    let mut cfg = fxrecon_engine::config::Config::default();
    if let Some(cap) = args.next() {
        cfg.max_orders = cap.parse().expect("MAX_ORDERS: a number");
    }
    let mut rates = Vec::new();
    for _ in 0..runs {
        let (rate, _) = fxrecon_bench::bench::decode_reconcile_throughput(primary, dropcopy, &cfg, 1);
        eprintln!("{rate:.0} msgs/s");
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    println!("median {:.0} msgs/s over {runs} runs", rates[runs / 2]);
}
