//! The host's own latency floor: how long threads that do nothing but read the clock are kept
//! off their CPU (hypervisor steal, interrupts, the kernel), measured in the same run as the
//! latency benchmarks they bound.
//!
//! Owns: the probe (one pinned, busy-spinning thread per pipeline thread, as the paced
//! benchmark runs its agents) and the floor it implies. A message arriving at a random
//! instant on a thread that is off its CPU waits until the thread runs again; so if the
//! threads are off their CPU for gaps `g_i` in a span `T`, the share of instants that wait
//! longer than `x` is `Σ max(0, g_i − x) / T`, and no pipeline on those threads can have a
//! detection latency percentile below the `x` at which that share falls to `1 − q`.
//! Benchmark-only: it allocates and never runs on the hot path.

use std::time::{Duration, Instant};

/// Gaps shorter than this between two clock reads are the loop itself, not the host.
const MIN_GAP_US: u64 = 2;

/// What one probe thread saw: every gap between consecutive clock reads of at least
/// `MIN_GAP_US` (2 µs), over a span.
#[derive(Clone, Debug, Default)]
pub struct JitterTrace {
    /// Gaps in microseconds, in the order seen.
    pub gaps_us: Vec<u64>,
    /// Microseconds the probe ran.
    pub span_us: u64,
}

impl JitterTrace {
    /// The smallest latency `x` (µs) that a share `q` of random instants on this thread waits
    /// at most: the host's floor for the `q` percentile of anything that runs on it.
    pub fn floor_us(&self, q: f64) -> u64 {
        // Rounded to whole microseconds, as the gaps are (so 1 - 0.9999 lands on 100 µs in a
        // second, not a hair under it).
        let allowed = ((1.0 - q) * self.span_us as f64).round();
        let late = |x: u64| self.gaps_us.iter().map(|&g| g.saturating_sub(x)).sum::<u64>() as f64;
        let (mut lo, mut hi) = (0u64, self.max_us());
        // `late` falls as `x` grows, and is 0 at the longest gap: bisect for the first `x`
        // whose late share fits.
        while lo < hi {
            let x = lo + (hi - lo) / 2;
            if late(x) <= allowed {
                hi = x;
            } else {
                lo = x + 1;
            }
        }
        lo
    }

    /// The longest gap, µs.
    pub fn max_us(&self) -> u64 {
        self.gaps_us.iter().copied().max().unwrap_or(0)
    }

    /// This trace followed by `other` (the same thread probed again later).
    pub fn extend(&mut self, other: &JitterTrace) {
        self.gaps_us.extend_from_slice(&other.gaps_us);
        self.span_us += other.span_us;
    }
}

/// Probes `threads` threads for `span` each, all at once; thread `i` is pinned to core `i`
/// when `pin` (as the paced benchmark pins its agents). One trace per thread.
pub fn probe(threads: usize, span: Duration, pin: bool) -> Vec<JitterTrace> {
    let handles: Vec<_> = (0..threads)
        .map(|core| {
            std::thread::Builder::new()
                .name(format!("jitter-{core}"))
                .spawn(move || {
                    if pin {
                        fxrecon_runtime::runner::pin_to_core(core);
                    }
                    spin(span)
                })
                .expect("spawning a jitter probe thread")
        })
        .collect();
    handles.into_iter().map(|h| h.join().expect("jitter probe thread panicked")).collect()
}

/// Reads the clock in a tight loop for `span`, keeping every gap of at least [`MIN_GAP_US`].
fn spin(span: Duration) -> JitterTrace {
    // Room for far more gaps than a probe sees (1,500 to 2,500 in 2 s here), so the loop does
    // not stop to grow the vector; a growth would itself be a gap, counted against the host.
    let mut gaps_us = Vec::with_capacity(1 << 16);
    let start = Instant::now();
    let mut last = start;
    loop {
        let now = Instant::now();
        let gap = now.duration_since(last).as_micros() as u64;
        if gap >= MIN_GAP_US {
            gaps_us.push(gap);
        }
        last = now;
        if now.duration_since(start) >= span {
            break;
        }
    }
    JitterTrace { gaps_us, span_us: last.duration_since(start).as_micros() as u64 }
}

/// The host floor of a set of threads for percentile `q`: the worst thread's (a message
/// crosses all of them).
pub fn floor_us(traces: &[JitterTrace], q: f64) -> u64 {
    traces.iter().map(|t| t.floor_us(q)).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(gaps_us: &[u64], span_us: u64) -> JitterTrace {
        JitterTrace { gaps_us: gaps_us.to_vec(), span_us }
    }

    #[test]
    fn one_long_gap_sets_the_high_percentiles_only() {
        // One 2 ms gap in 1 s: 0.2% of instants wait, the longest 2 ms.
        let t = trace(&[2_000], 1_000_000);
        assert_eq!(t.floor_us(0.99), 0, "99% of instants never wait");
        // 0.1% of instants (1 ms of the second) wait more than x when 2,000 - x = 1,000.
        assert_eq!(t.floor_us(0.999), 1_000);
        assert_eq!(t.floor_us(0.9999), 1_900);
        assert_eq!(t.floor_us(1.0), 2_000);
    }

    #[test]
    fn many_short_gaps_add_up_like_one_long_one() {
        // 100 gaps of 30 µs (3 ms in all) in 1 s: 0.3% of instants wait, 30 µs at most.
        let t = trace(&[30; 100], 1_000_000);
        assert_eq!(t.floor_us(0.999), 20, "100 * (30 - x) = 1,000");
        assert_eq!(t.floor_us(0.99), 0);
        assert_eq!(t.max_us(), 30);
    }

    #[test]
    fn the_worst_thread_sets_the_floor_and_traces_extend() {
        let quiet = trace(&[], 1_000_000);
        let noisy = trace(&[2_000], 1_000_000);
        assert_eq!(floor_us(&[quiet.clone(), noisy.clone()], 0.999), 1_000);
        let mut both = noisy;
        both.extend(&quiet);
        assert_eq!(both.span_us, 2_000_000);
        assert_eq!(both.floor_us(0.999), 0, "2 ms late in 2 s is 0.1%: the floor is 0");
        assert_eq!(floor_us(&[], 0.999), 0);
    }

    #[test]
    fn a_probe_runs_for_its_span_on_each_thread() {
        let traces = probe(2, Duration::from_millis(50), false);
        assert_eq!(traces.len(), 2);
        for t in &traces {
            assert!(t.span_us >= 50_000, "{}", t.span_us);
            assert!(t.gaps_us.iter().all(|&g| g >= MIN_GAP_US));
            assert!(t.floor_us(0.5) <= t.max_us());
        }
    }
}
