//! How a pipeline run is set up: rings, threads, idling, pacing, the event clock.
//!
//! Owns: the options and their defaults, and the pace arithmetic (each stream paced at its
//! share of the lines, so two file streams stay level in time: D40). Plain data.

use std::time::Duration;

use fxrecon_runtime::idle::IdleStrategy;
use fxrecon_runtime::threading::Threading;

use crate::ingest::ingestor::EventClock;

/// How a pipeline run is set up.
#[derive(Clone, Debug)]
pub struct PipelineOptions {
    /// Slots of each ring (rounded up to a power of two).
    pub ring_capacity: usize,
    /// Idle strategy of every agent.
    pub idle: IdleStrategy,
    /// Pin the hot threads to cores (off by default: pinning more threads than cores stalls
    /// them).
    pub pin: bool,
    /// Release messages at this combined rate (None: as fast as they come).
    pub pace_msgs_per_s: Option<u64>,
    /// Share of the paced rate each stream gets, primary first (halves by default). A stream
    /// paced faster than its share of the input drifts ahead of the other in time, and the
    /// reconciler reports the drift as missing fills and timing anomalies (D40).
    pub pace_shares: [f64; 2],
    /// Where event time comes from.
    pub clock: EventClock,
    /// How agents map to threads.
    pub threading: Threading,
    /// Map the reconciler's pre-sized state memory before the run starts (no page faults on
    /// the hot path later; costs start-up time and resident memory up front).
    pub prefault: bool,
    /// How long a shutdown may take to drain before the process exits anyway.
    pub shutdown_timeout: Duration,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        Self {
            ring_capacity: 1 << 14,
            idle: IdleStrategy::default(),
            pin: false,
            pace_msgs_per_s: None,
            pace_shares: [0.5, 0.5],
            clock: EventClock::File,
            threading: Threading::default(),
            prefault: false,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

impl PipelineOptions {
    /// The paced rate of stream `index` (None: unpaced).
    pub fn pace_of(&self, index: usize) -> Option<f64> {
        self.pace_msgs_per_s.map(|r| (r.max(2) as f64 * self.pace_shares[index]).max(1.0))
    }
}

/// Lines (newline-terminated) in an in-memory input.
pub fn line_count(input: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', input).count() as u64
}

/// Each input's share of the lines of both (`lines`: from [`line_count`]), for
/// [`PipelineOptions::pace_shares`]: the pace that keeps two file streams level in time, so
/// both end together (D40).
pub fn pace_shares(lines: [u64; 2]) -> [f64; 2] {
    let [p, d] = lines.map(|n| n as f64);
    if p + d == 0.0 { [0.5, 0.5] } else { [p / (p + d), d / (p + d)] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stream_is_paced_at_its_share_of_the_lines() {
        let shares = |p: &[u8], d: &[u8]| pace_shares([line_count(p), line_count(d)]);
        assert_eq!(shares(b"a\nb\nc\n", b"d\n"), [0.75, 0.25]);
        assert_eq!(shares(b"", b""), [0.5, 0.5], "nothing to share: halves");
        assert_eq!(shares(b"", b"x\n"), [0.0, 1.0]);
        let o = PipelineOptions { pace_msgs_per_s: Some(1000), pace_shares: [0.75, 0.25], ..Default::default() };
        assert_eq!((o.pace_of(0), o.pace_of(1)), (Some(750.0), Some(250.0)));
    }
}
