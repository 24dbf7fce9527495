//! The bench's unpaced pipeline runs alone (without and with the journal, the replay, and the
//! disk's synced write bandwidth), for profiling and A/B runs without the rest of `fxrecon bench`:
//! `cargo run --release -p fxrecon-bench --example pipeline_journaled -- [ORDERS] [RUNS] [shared|dedicated|stepped|auto]`
//! (environment: `DETAIL=plain|journal` for single runs with their counters, `DIRECT=0|1` for
//! the journal's O_DIRECT writes, `RING=slots`).

// An example is a command-line tool: it prints its figures (the crate's clippy.toml bans printing
// in library code).
#![allow(clippy::disallowed_macros)]

use fxrecon_runtime::threading::Threading;

fn main() {
    let mut args = std::env::args().skip(1);
    let orders = args.next().map_or(125_000, |a| a.parse().expect("ORDERS: a number"));
    let runs = args.next().map_or(5, |a| a.parse().expect("RUNS: a number"));
    let threading = args.next().map_or(Ok(Threading::default()), |a| a.parse());
    let threading = threading.expect("threading: shared, dedicated, stepped or auto");
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders, seed: 11, ..Default::default() });
    let (primary, dropcopy): (&'static [u8], &'static [u8]) = (day.primary.leak(), day.dropcopy.leak());
    let mut cfg = fxrecon_engine::config::Config::default();
    // DIRECT=1 / DIRECT=0: journal with or without O_DIRECT writes (else the default).
    if let Ok(v) = std::env::var("DIRECT") {
        cfg.journal_direct_io = v == "1";
    }
    if std::env::var_os("DETAIL").is_some() {
        // Who waited for whom in RUNS journaled runs (DETAIL=plain: without the journal);
        // RING sets the slots per ring.
        let dir = std::env::temp_dir().join(format!("fxrecon-example-journal-{}", std::process::id()));
        let mut opts =
            fxrecon_engine::pipeline::options::PipelineOptions { threading, prefault: true, ..Default::default() };
        if let Ok(slots) = std::env::var("RING") {
            opts.ring_capacity = slots.parse().expect("RING: slots per ring");
        }
        let journal = (std::env::var("DETAIL").as_deref() != Ok("plain")).then_some(dir.as_path());
        let mut ends = Vec::new();
        for _ in 0..runs {
            let _ = std::fs::remove_dir_all(&dir);
            let r = fxrecon_bench::bench::pipeline_in_memory(primary, dropcopy, &cfg, &opts, journal);
            let c = &r.counters;
            eprintln!(
                "read_us {} / {}, ring_full_waits {} / {}, drained_us {}, journal_full_waits {}, journal done_us {}",
                r.ended_us[0],
                r.ended_us[1],
                c.primary.ring_full_waits,
                c.dropcopy.ring_full_waits,
                r.drained_us,
                c.journal_full_waits,
                r.journal_done_us.unwrap_or(0),
            );
            ends.push(fxrecon_bench::bench::run_end_us(&r));
        }
        let _ = std::fs::remove_dir_all(&dir);
        ends.sort_unstable();
        println!("median end {} us over {runs} runs: {:?}", ends[runs / 2], ends);
        return;
    }
    let f = fxrecon_bench::bench::pipeline_throughput(primary, dropcopy, &cfg, threading, runs);
    println!(
        "medians of {runs}: plain {:.0} msgs/s, journaled {:.0} ({:.2}), replay {:.0}; journal {:.0} B/msg, disk {:.0} MB/s",
        f.plain,
        f.journaled,
        f.journaled / f.plain,
        f.replay,
        f.journal_bytes_per_msg,
        f.disk_sync_mb_per_s
    );
}
