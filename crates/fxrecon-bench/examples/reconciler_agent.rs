//! What the pipeline's agents add around the reconciler, and what the end-of-run state digest
//! costs: `cargo run --release -p fxrecon-bench --example reconciler_agent -- [ORDERS] [RUNS]`.
//!
//! The old form of this probe fed pre-decoded events straight into the threaded reconciler
//! agent (`run_ordered`); the rebuilt pipeline has no such entry (every run comes through
//! sources and ingest agents), so it now compares, per run and in ns per message of the same
//! day (store sized as `reconcile` sizes it, mapped before any timing):
//! - `alone`: the reconciler on pre-decoded events (the bench's `reconcile_msgs_per_s`);
//! - `decode`: our decoder alone over the same lines (the bench's `decode_msgs_per_s`);
//! - `stepped`: the whole pipeline on this one thread (both ingest agents, the merge, the
//!   reconciler agent and the output, stepped in turn: the bench's decode + reconcile), until
//!   the reconciler has drained; and `agents`, what is left of it after `decode` and `alone`:
//!   rings, merge, admission and stamping, the agents' duty cycles and the output;
//! - `threaded`: the pipeline in the default threading until the reconciler has drained
//!   (decode then runs beside the reconciler, so this is bound by the slower of the two), and
//!   `whole`, the same run's wall time (thread start-up, the final state digest, joins).
//!
//! Each column's median over the runs follows (`agents` is then the median of the per-run
//! differences, not the difference of the medians). Then the time the end-of-run state digest
//! takes on its own (BENCHMARKS.md, 2026-12-06).

// An example is a command-line tool: it prints its figures (the crate's clippy.toml bans printing
// in library code).
#![allow(clippy::disallowed_macros)]

use fxrecon_bench::bench;
use fxrecon_engine::config::Config;
use fxrecon_engine::pipeline::options::PipelineOptions;

fn main() {
    let mut args = std::env::args().skip(1);
    let orders = args.next().map_or(125_000, |a| a.parse().expect("ORDERS: a number"));
    let runs: usize = args.next().map_or(5, |a| a.parse().expect("RUNS: a number"));
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders, seed: 11, ..Default::default() });
    let (primary, dropcopy): (&'static [u8], &'static [u8]) = (day.primary.leak(), day.dropcopy.leak());
    let cfg = Config::default();
    let sized = cfg.sized_for_inputs(&[primary, dropcopy]);
    let events = bench::decoded_events(primary, dropcopy);
    let mut lines = bench::lines_of(primary);
    lines.extend(bench::lines_of(dropcopy));
    let threaded_opts = PipelineOptions { prefault: true, ..PipelineOptions::default() };
    let ns = |rate: f64| 1e9 / rate;
    // Per column, every run's figure (a busy host moves single runs a lot: see the medians).
    let mut columns: [Vec<f64>; 6] = Default::default();
    for _ in 0..runs {
        let alone = ns(bench::reconcile_throughput(&events, sized.recon(), 1));
        let decode = ns(bench::decode_throughput(&lines, 1));
        let stepped = ns(bench::decode_reconcile_throughput(primary, dropcopy, &cfg, 1).0);
        let run = bench::pipeline_in_memory(primary, dropcopy, &cfg, &threaded_opts, None);
        let n = run.messages() as f64;
        let threaded = run.drained_us as f64 * 1e3 / n;
        let whole = run.elapsed.as_secs_f64() * 1e9 / n;
        println!(
            "ns/msg: alone {alone:.0}, decode {decode:.0}, stepped {stepped:.0} (agents {:.0}), threaded {threaded:.0}, whole threaded run {whole:.0}",
            stepped - decode - alone
        );
        for (column, v) in columns.iter_mut().zip([alone, decode, stepped, stepped - decode - alone, threaded, whole]) {
            column.push(v);
        }
    }
    let [alone, decode, stepped, agents, threaded, whole] = columns.map(|mut c| {
        c.sort_by(f64::total_cmp);
        c[c.len() / 2]
    });
    println!(
        "medians of {runs}: alone {alone:.0}, decode {decode:.0}, stepped {stepped:.0} (agents {agents:.0}), threaded {threaded:.0}, whole threaded run {whole:.0}"
    );
    let mut recon = fxrecon_core::Reconciler::new(sized.recon());
    let mut records = Vec::new();
    for e in &events {
        recon.apply(e, &mut records);
    }
    recon.finish(&mut records);
    let t = std::time::Instant::now();
    let digest = recon.state_digest();
    println!("state digest {digest:016x} of the day's end state: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
}
