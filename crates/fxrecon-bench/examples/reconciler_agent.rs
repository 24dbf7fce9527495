//! The reconciler agent fed by a thread of its own, as replay feeds it (`run_ordered`), against
//! the reconciler alone on the same pre-decoded events:
//! `cargo run --release -p fxrecon-engine --example reconciler_agent -- [ORDERS] [RUNS]`.
//! Shows what the threaded agent adds per event and what the end-of-run state digest costs
//! (BENCHMARKS.md, 2026-12-06). Prints, per run, ns per event: alone, the agent until drained,
//! and the whole threaded run (its digest, thread joins and output included); then the time
//! the end-of-run state digest takes on its own.

// An example is a command-line tool: it prints its figures (the crate's clippy.toml bans printing
// in library code).
#![allow(clippy::disallowed_macros)]

fn main() {
    let mut args = std::env::args().skip(1);
    let orders = args.next().map_or(125_000, |a| a.parse().expect("ORDERS: a number"));
    let runs: usize = args.next().map_or(5, |a| a.parse().expect("RUNS: a number"));
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders, seed: 11, ..Default::default() });
    let cfg = fxrecon_engine::offline::sized_for_inputs(
        &fxrecon_engine::config::Config::default(),
        &[&day.primary, &day.dropcopy],
    );
    let events: &'static [fxrecon_core::ExecEvent] =
        fxrecon_engine::bench::decoded_events(&day.primary, &day.dropcopy).leak();
    let opts = fxrecon_engine::pipeline::PipelineOptions::default();
    for _ in 0..runs {
        let alone = fxrecon_engine::bench::reconcile_throughput(events, cfg.recon(), 1);
        let mut recon = fxrecon_core::Reconciler::new(cfg.recon());
        recon.prefault(); // as the bench's reconcile-alone run does
        let t = std::time::Instant::now();
        let (stats, _, _, ()) = fxrecon_engine::pipeline::run_ordered(recon, &opts, std::io::sink(), move |push| {
            events.iter().for_each(push)
        })
        .expect("in-memory run");
        let whole = t.elapsed().as_secs_f64() * 1e9 / stats.events as f64;
        let drained = stats.drained_us as f64 * 1e3 / stats.events as f64;
        println!("ns/event: alone {:.0}, agent drained {drained:.0}, whole threaded run {whole:.0}", 1e9 / alone);
    }
    let mut recon = fxrecon_core::Reconciler::new(cfg.recon());
    let mut records = Vec::new();
    for e in events {
        recon.apply(e, &mut records);
    }
    recon.finish(&mut records);
    let t = std::time::Instant::now();
    let digest = recon.state_digest();
    println!("state digest {digest:016x} of the day's end state: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
}
