//! The ingest clock: wall-clock microseconds for stamping arrivals and pacing, read as the
//! system time once and a monotonic counter after (so it never goes backwards).
//!
//! Owns: only that. The core never reads a clock; live stamps are journaled, so a replay
//! sees the same times.

use std::time::Instant;

use fxrecon_core::time::Micros;

/// Wall-clock microseconds since the epoch, monotone.
#[derive(Clone, Copy, Debug)]
pub struct IngestClock {
    base: Micros,
    start: Instant,
}

impl IngestClock {
    /// A clock started now.
    pub fn start() -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        Self { base: Micros(now), start: Instant::now() }
    }

    /// Now.
    #[inline]
    pub fn now(&self) -> Micros {
        Micros(self.base.0 + self.start.elapsed().as_micros() as i64)
    }

    /// When the clock started.
    pub fn base(&self) -> Micros {
        self.base
    }

    /// The monotonic instant it started at.
    pub fn started(&self) -> Instant {
        self.start
    }
}
