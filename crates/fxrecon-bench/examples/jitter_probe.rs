//! The host's latency floor alone: `cargo run --release -p fxrecon-bench --example jitter_probe -- [SECONDS] [THREADS] [pin|nopin]`.

// An example is a command-line tool: it prints its figures.
#![allow(clippy::disallowed_macros)]

fn main() {
    let mut args = std::env::args().skip(1);
    let secs: f64 = args.next().map_or(2.0, |a| a.parse().expect("SECONDS: a number"));
    let threads: usize = args.next().map_or(2, |a| a.parse().expect("THREADS: a number"));
    let pin = args.next().as_deref() != Some("nopin");
    let traces = fxrecon_bench::host_jitter::probe(threads, std::time::Duration::from_secs_f64(secs), pin);
    for (i, t) in traces.iter().enumerate() {
        let over = |us: u64| t.gaps_us.iter().filter(|&&g| g > us).count();
        println!(
            "thread {i}: {} gaps >= 2 us; p99 floor {} us, p99.9 floor {} us, longest gap {} us; gaps > 100 us: {}, > 1 ms: {}, > 10 ms: {}",
            t.gaps_us.len(),
            t.floor_us(0.99),
            t.floor_us(0.999),
            t.max_us(),
            over(100),
            over(1_000),
            over(10_000)
        );
    }
}
