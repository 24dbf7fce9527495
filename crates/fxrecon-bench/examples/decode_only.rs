//! The bench's single-thread decode alone, for profiling (callgrind counts instructions per
//! message): `cargo run --release -p fxrecon-bench --example decode_only -- [ORDERS] [RUNS]`.
//! Prints the median messages/s.

// An example is a command-line tool: it prints its figures (the crate's clippy.toml bans printing
// in library code).
#![allow(clippy::disallowed_macros)]

fn main() {
    let mut args = std::env::args().skip(1);
    let orders = args.next().map_or(15_000, |a| a.parse().expect("ORDERS: a number"));
    let runs = args.next().map_or(5, |a| a.parse().expect("RUNS: a number"));
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders, seed: 11, ..Default::default() });
    let mut lines = fxrecon_bench::bench::lines_of(&day.primary);
    lines.extend(fxrecon_bench::bench::lines_of(&day.dropcopy));
    let rate = fxrecon_bench::bench::decode_throughput(&lines, runs);
    println!("decode median {rate:.0} msgs/s over {runs} runs, {} lines", lines.len());
}
