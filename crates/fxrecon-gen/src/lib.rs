//! Synthetic FX trading days for fxrecon.
//!
//! [`generate`] builds one day of traffic as two QuickFIX FileLog files — the primary stream
//! (two gateway sessions `FXGW1`/`FXGW2` -> `FIRM`) and the drop-copy stream (one session per
//! venue -> `FIRMDC`) — with the faults of a [`Scenario`] injected, plus the ground truth of the
//! divergences those faults must produce ([`Expected`]). The ground truth comes from what was
//! injected, never from a reconciler. Output is deterministic: the same [`GenConfig`] always
//! gives byte-identical files.
//!
//! Conventions of the generated logs:
//! - every line is `YYYYMMDD-HH:MM:SS.nnnnnnnnn : 8=...`, the prefix being the arrival time
//!   (whole microseconds); files are sorted by arrival and each direction is numbered from 1 in
//!   file order, so latency alone never creates a sequence gap;
//! - header fields follow 35 in tag order as QuickFIX writes them (34, 43, 49, 52, 56, 122),
//!   body fields are in tag order; FIX 4.2 ExecutionReports (the FXALL drop copy) also carry
//!   ExecTransType `20=0`;
//! - a receiver that sees a gap sends a ResendRequest, also for gaps that are never filled;
//! - TimingAnomaly ground truth is computed from the final arrival times for every order.

#![warn(missing_docs)]

mod calendar;
mod expected;
mod fix;
mod model;
mod orders;
mod plan;
mod scenario;
mod session;
mod timing;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use expected::Expected;
pub use scenario::{ParseScenarioError, Scenario};

use model::{DROPCOPY, PRIMARY};

/// 2026-11-25T08:00:00Z in microseconds since the Unix epoch (the default start of the day).
pub const DEFAULT_START_TIME_US: i64 =
    calendar::days_from_civil(2026, 11, 25) * calendar::US_PER_DAY + 8 * 3_600_000_000;

/// Salt of the session-layer random stream.
const SESSION_SALT: u64 = 0x7365_7373_0000_0003;

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

/// One generated day: both stream logs and the ground truth of the injected divergences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedDay {
    /// Primary stream log (QuickFIX FileLog lines, SOH-delimited).
    pub primary: Vec<u8>,
    /// Drop-copy stream log.
    pub dropcopy: Vec<u8>,
    /// Expected divergences, sorted and de-duplicated on (order_id, kind).
    pub expected: Vec<Expected>,
    /// Lines in `primary`.
    pub primary_messages: usize,
    /// Lines in `dropcopy`.
    pub dropcopy_messages: usize,
    /// The next MsgSeqNum of each session direction after this day (for [`GenConfig::first_seqs`]).
    pub next_seqs: Vec<u64>,
    /// Latest arrival time of any message, µs.
    pub end_time_us: i64,
}

/// Generates a synthetic trading day from `cfg` (deterministic: same config, same bytes).
pub fn generate(cfg: &GenConfig) -> GeneratedDay {
    // Keep every timestamp inside years 1970..=9998 so time arithmetic cannot overflow.
    let latest_start = calendar::days_from_civil(9998, 1, 1) * calendar::US_PER_DAY;
    let cfg = &GenConfig { start_time_us: cfg.start_time_us.clamp(0, latest_start), ..cfg.clone() };
    let plan = plan::make_plan(cfg);
    let mut day = orders::build_orders(cfg, &plan.order_faults);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ SESSION_SALT);
    session::add_admin(&mut day, cfg, &mut rng);
    let placed = session::inject(&mut day, &plan.session_faults, &mut rng);
    let next_seqs = session::assign_seqs(&mut day, cfg.first_seqs.as_deref());
    let end_time_us = day.msgs.iter().filter(|m| m.written).map(|m| m.arrival).max().unwrap_or(cfg.start_time_us);

    let mut expected = std::mem::take(&mut day.expected);
    expected.extend(session::gap_expectations(&day, &placed));
    expected.extend(timing::timing_expectations(&day, cfg));
    expected::normalize(&mut expected);

    let (primary, primary_messages) = fix::write_stream(&day, PRIMARY);
    let (dropcopy, dropcopy_messages) = fix::write_stream(&day, DROPCOPY);
    GeneratedDay { primary, dropcopy, expected, primary_messages, dropcopy_messages, next_seqs, end_time_us }
}

/// Consecutive parts of one long run (a soak test's endless day): each part is a day of
/// `cfg.orders` orders with its own seed, starting a little after the previous part ends, with
/// order numbers that do not repeat and sequence numbers that continue — so the parts, joined
/// stream by stream, are one valid run whose ground truth is the union of the parts'.
#[derive(Debug, Clone)]
pub struct Parts {
    cfg: GenConfig,
    part: u64,
    next_start: i64,
    next_seqs: Option<Vec<u64>>,
}

/// The parts of a long run built from `cfg` (its seed seeds part 0; part k uses seed + k).
pub fn parts(cfg: &GenConfig) -> Parts {
    Parts { cfg: cfg.clone(), part: 0, next_start: cfg.start_time_us, next_seqs: cfg.first_seqs.clone() }
}

impl Iterator for Parts {
    type Item = GeneratedDay;

    fn next(&mut self) -> Option<GeneratedDay> {
        let cfg = GenConfig {
            seed: self.cfg.seed.wrapping_add(self.part),
            start_time_us: self.next_start,
            first_order: self.cfg.first_order + self.part * self.cfg.orders as u64,
            first_seqs: self.next_seqs.take(),
            ..self.cfg.clone()
        };
        let day = generate(&cfg);
        self.part += 1;
        // Two grace windows apart: nothing of one part is still pending when the next begins.
        self.next_start = day.end_time_us + 2 * cfg.grace_ms * 1000 + 1_000_000;
        self.next_seqs = Some(day.next_seqs.clone());
        Some(day)
    }
}
