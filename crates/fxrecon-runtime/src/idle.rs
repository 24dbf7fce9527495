//! Idle strategies for agents with nothing to do (after Aeron's `IdleStrategy`).
//!
//! Owns: what a thread does between duty cycles that found no work. Busy-spin burns a core
//! for the lowest latency; yield gives the core to others; backoff spins briefly, then yields,
//! then parks with growing sleeps — the safe default on a small shared machine.

use std::time::Duration;

/// How an agent waits when a duty cycle did no work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdleStrategy {
    /// Spin on the CPU (lowest latency, one core per agent).
    BusySpin,
    /// `thread::yield_now` each idle cycle.
    Yield,
    /// Spin, then yield, then park for up to `max_park_us` microseconds.
    Backoff {
        /// Longest sleep when idle for a long time.
        max_park_us: u64,
    },
}

impl Default for IdleStrategy {
    /// Backoff parking for at most 100 µs: a millisecond (Aeron's default) left the two-core
    /// pipeline's threads asleep while work queued up (D30: a journaled day in shared
    /// threading, median 1.02 s at 1 ms against 0.87 s at 100 µs); shorter parks cost more
    /// wake-ups when idle.
    fn default() -> Self {
        IdleStrategy::Backoff { max_park_us: 100 }
    }
}

impl std::str::FromStr for IdleStrategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "busy-spin" | "spin" => Ok(IdleStrategy::BusySpin),
            "yield" => Ok(IdleStrategy::Yield),
            "park" | "backoff" => Ok(IdleStrategy::default()),
            _ => Err(format!("unknown idle strategy {s:?} (busy-spin, yield, park)")),
        }
    }
}

const SPINS: u32 = 64;
const YIELDS: u32 = 64;

/// Per-thread state of an idle strategy.
#[derive(Debug)]
pub struct Idler {
    strategy: IdleStrategy,
    idle_cycles: u32,
    park_us: u64,
}

impl Idler {
    /// A fresh idler.
    pub fn new(strategy: IdleStrategy) -> Self {
        Self { strategy, idle_cycles: 0, park_us: 1 }
    }

    /// Called after every duty cycle with the work it did.
    #[inline]
    pub fn idle(&mut self, work: usize) {
        if work > 0 {
            self.idle_cycles = 0;
            self.park_us = 1;
            return;
        }
        match self.strategy {
            IdleStrategy::BusySpin => std::hint::spin_loop(),
            IdleStrategy::Yield => std::thread::yield_now(),
            IdleStrategy::Backoff { max_park_us } => {
                self.idle_cycles = self.idle_cycles.saturating_add(1);
                if self.idle_cycles <= SPINS {
                    std::hint::spin_loop();
                } else if self.idle_cycles <= SPINS + YIELDS {
                    std::thread::yield_now();
                } else {
                    std::thread::sleep(Duration::from_micros(self.park_us));
                    self.park_us = (self.park_us * 2).min(max_park_us.max(1));
                }
            }
        }
    }
}
