//! Benchmarks that run inside the product (`fxrecon bench`): long runs whose figures go to
//! BENCHMARKS.md.
//!
//! Owns: the memory-bounded-day run (millions of orders through the reconciler with
//! retention, resident memory sampled as it goes).

use std::time::Instant;

use fxrecon_core::divergence::Record;
use fxrecon_core::time::Micros;
use fxrecon_core::{ReconConfig, Reconciler, Sink};

use crate::synthetic::SyntheticDay;

/// One sample of a memory run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemorySample {
    /// Orders applied so far.
    pub orders: u64,
    /// Resident set size in bytes (0 where /proc is unavailable).
    pub rss_bytes: u64,
    /// Orders held by the store.
    pub live_orders: u64,
    /// Seconds since the run started.
    pub elapsed_s: f64,
}

/// Resident set size of this process, from /proc/self/statm.
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4096)
}

struct CountSink(u64);

impl Sink for CountSink {
    fn emit(&mut self, _: &Record) {
        self.0 += 1;
    }
}

/// Runs `orders` synthetic orders spread over a 24-hour day through a reconciler with `cfg`;
/// calls `sample` `samples` times along the way. Returns the records emitted (0 expected).
pub fn memory_day(orders: u64, cfg: ReconConfig, samples: u64, mut sample: impl FnMut(MemorySample)) -> u64 {
    let start = Micros(1_795_000_000_000_000);
    let day = SyntheticDay::new(orders, start, 86_400_000_000);
    let mut r = Reconciler::new(cfg);
    let mut sink = CountSink(0);
    let every = (orders / samples.max(1)).max(1) * 4;
    let t0 = Instant::now();
    for (i, ev) in day.enumerate() {
        r.apply(&ev, &mut sink);
        if (i as u64 + 1).is_multiple_of(every) {
            sample(MemorySample {
                orders: (i as u64 + 1) / 4,
                rss_bytes: resident_bytes(),
                live_orders: r.store_stats().high_water.min(r.store().len() as u64),
                elapsed_s: t0.elapsed().as_secs_f64(),
            });
        }
    }
    r.finish(&mut sink);
    sink.0
}
