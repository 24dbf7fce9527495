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
    session::assign_seqs(&mut day);

    let mut expected = std::mem::take(&mut day.expected);
    expected.extend(session::gap_expectations(&day, &placed));
    expected.extend(timing::timing_expectations(&day, cfg));
    expected::normalize(&mut expected);

    let (primary, primary_messages) = fix::write_stream(&day, PRIMARY);
    let (dropcopy, dropcopy_messages) = fix::write_stream(&day, DROPCOPY);
    GeneratedDay { primary, dropcopy, expected, primary_messages, dropcopy_messages }
}
