//! What to generate: [`GenConfig`] and its defaults, including the default start of the day.
//!
//! Plain data only: this module must never generate, draw random numbers or validate beyond
//! what `Default` needs — clamping and interpretation belong to the modules that use a field.

use crate::calendar;
use crate::scenario::Scenario;

/// 2026-11-25T08:00:00Z in microseconds since the Unix epoch (the default start of the day).
pub const DEFAULT_START_TIME_US: i64 =
    calendar::days_from_civil(2026, 11, 25) * calendar::US_PER_DAY + 8 * 3_600_000_000;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    /// Number of orders.
    pub orders: usize,
    /// Random seed; the same seed and settings give the same bytes.
    pub seed: u64,
    /// Which faults to inject.
    pub scenario: Scenario,
    /// Faults per order: `max(1, round(fault_rate * orders))` per scenario, divided by 13 per kind for `mixed`.
    pub fault_rate: f64,
    /// Start of the trading day, µs since the Unix epoch.
    pub start_time_us: i64,
    /// Reconciler grace window the faults are sized for, ms.
    pub grace_ms: i64,
    /// TimingAnomaly threshold used for the ground truth, ms.
    pub timing_ms: i64,
    /// Number of the first order (ClOrdIDs `C<n>` and OrderIDs count from it): days generated
    /// to follow one another in one long run use disjoint order numbers.
    pub first_order: u64,
    /// First MsgSeqNum of each session direction (None: 1 everywhere); pass the previous
    /// part's [`GeneratedDay::next_seqs`] to continue its numbering.
    ///
    /// [`GeneratedDay::next_seqs`]: crate::day::GeneratedDay::next_seqs
    pub first_seqs: Option<Vec<u64>>,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            orders: 10_000,
            seed: 42,
            scenario: Scenario::Mixed,
            fault_rate: 0.02,
            start_time_us: DEFAULT_START_TIME_US,
            grace_ms: 2_000,
            timing_ms: 250,
            first_order: 0,
            first_seqs: None,
        }
    }
}

/// The most orders a generated day may have: a day is built in memory (about 2.7 KB of FIX per
/// order, both streams), so 2,000,000 orders take about 5.5 GB before anything is written.
pub const MAX_ORDERS: usize = 2_000_000;
