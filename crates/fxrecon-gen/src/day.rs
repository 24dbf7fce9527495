//! One generated day: [`GeneratedDay`], and [`generate`], the entry point that runs the pipeline
//! (plan, orders, session layer, sequence numbers, ground truth, FIX encoding).
//!
//! This module only sequences the steps; it must never inject faults or compute ground truth
//! itself, and must never reorder the steps or the random streams they draw from — the output
//! bytes depend on that order.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::calendar;
use crate::config::GenConfig;
use crate::expected::{self, Expected};
use crate::exposure;
use crate::fix;
use crate::model::{DROPCOPY, PRIMARY, SESSION_SALT, root_cl_ord_id};
use crate::orders;
use crate::plan::{self, SessionFault};
use crate::session;
use crate::timing;

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
    /// Root ClOrdID and situation of every order that carries an order-level fault or takes
    /// part in a session-level issue 22 situation (the scenario name: `"missing_fill"`,
    /// `"refused_replace"`, `"late_after_retirement"` …), sorted; an order may appear more than
    /// once. Orders of normal flow are not listed.
    pub labels: Vec<(String, &'static str)>,
}

/// Generates a synthetic trading day from `cfg` (deterministic: same config, same bytes).
pub fn generate(cfg: &GenConfig) -> GeneratedDay {
    // Keep every timestamp inside years 1970..=9998 so time arithmetic cannot overflow.
    let latest_start = calendar::days_from_civil(9998, 1, 1) * calendar::US_PER_DAY;
    let cfg = &GenConfig { start_time_us: cfg.start_time_us.clamp(0, latest_start), ..cfg.clone() };
    let plan = plan::make_plan(cfg);
    let mut day = orders::build_orders(cfg, &plan.order_faults);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ SESSION_SALT);
    let replay = plan.session_faults.contains(&SessionFault::SessionReplay);
    let extend_us = if replay { session::REPLAY_DAY_EXTENSION_US } else { 0 };
    session::add_admin(&mut day, cfg, extend_us, &mut rng);
    let grace_us = cfg.grace_ms.max(0).saturating_mul(1000);
    let placed = session::inject(&mut day, &plan.session_faults, grace_us, &mut rng);
    let next_seqs = session::assign_seqs(&mut day, cfg.first_seqs.as_deref());
    let end_time_us = day.msgs.iter().filter(|m| m.written).map(|m| m.arrival).max().unwrap_or(cfg.start_time_us);

    let mut expected = std::mem::take(&mut day.expected);
    expected.extend(session::gap_expectations(&day, &placed));
    expected.extend(session::lost_fill_expectations(&day, &placed));
    expected.extend(timing::timing_expectations(&day, cfg));
    if cfg.scenario.is_hard() {
        exposure::mark(&day, &mut expected, grace_us);
    }
    expected::normalize(&mut expected);
    let mut labels: Vec<(String, &'static str)> = day
        .orders
        .iter()
        .enumerate()
        .map(|(i, o)| (i as u32, o.label))
        .chain(session::situation_orders(&day, &placed))
        .filter(|(_, label)| *label != "normal")
        .map(|(i, label)| (root_cl_ord_id(day.first_order, i), label))
        .collect();
    labels.sort_unstable();
    labels.dedup();

    let (primary, primary_messages) = fix::write_stream(&day, PRIMARY);
    let (dropcopy, dropcopy_messages) = fix::write_stream(&day, DROPCOPY);
    GeneratedDay { primary, dropcopy, expected, primary_messages, dropcopy_messages, next_seqs, end_time_us, labels }
}
