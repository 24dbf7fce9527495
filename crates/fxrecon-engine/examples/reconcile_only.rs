//! The bench's single-thread reconcile alone (events decoded beforehand), by day size:
//! `cargo run --release -p fxrecon-engine --example reconcile_only -- [ORDERS] [RUNS]`.
//! A small day keeps the store in cache, so it shows what the reconciler costs without memory
//! stalls (BENCHMARKS.md, 2026-12-06). Prints the median events/s and ns per event.

// An example is a command-line tool: it prints its figures (the crate's clippy.toml bans printing
// in library code).
#![allow(clippy::disallowed_macros)]

fn main() {
    let mut args = std::env::args().skip(1);
    let orders = args.next().map_or(125_000, |a| a.parse().expect("ORDERS: a number"));
    let runs = args.next().map_or(5, |a| a.parse().expect("RUNS: a number"));
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders, seed: 11, ..Default::default() });
    let events = fxrecon_engine::bench::decoded_events(&day.primary, &day.dropcopy);
    // Sized as `reconcile` sizes the store for its inputs (D14).
    let cfg = fxrecon_engine::offline::sized_for_inputs(
        &fxrecon_engine::config::Config::default(),
        &[&day.primary, &day.dropcopy],
    );
    let rate = fxrecon_engine::bench::reconcile_throughput(&events, cfg.recon(), runs);
    println!(
        "reconcile median {rate:.0} events/s ({:.0} ns/event) over {runs} runs, {} events of {orders} orders",
        1e9 / rate,
        events.len()
    );
}
