//! Fault planning: how many faults of which kind a scenario injects, and which order slots
//! carry the order-level ones.
//!
//! It only decides counts and slots; it must never build orders or messages, or record
//! ground truth.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::GenConfig;
use crate::scenario::Scenario;

/// An order-level fault (at most one per order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrderFault {
    /// No fault: a normal lifecycle.
    None,
    /// One fill report never sent on one side.
    MissingFill,
    /// The whole order on one side only.
    Phantom,
    /// A primary-only internal reject.
    InternalReject,
    /// Cancel confirmed on one side only.
    CancelOneSide,
    /// Replace confirmed on one side only.
    ReplaceOneSide,
    /// One fill's LastPx off by a pip on one side.
    FillMismatch,
    /// One side's reports late from some step on.
    Lag,
    /// Trade cancel on one side only.
    Bust,
    /// Trade correction on one side only.
    Correct,
}

/// A session-level fault (placed on a session direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionFault {
    /// Messages withheld, then re-sent with PossDupFlag.
    GapResend,
    /// Numbers skipped, then closed by a GapFill.
    GapFill,
    /// Numbers skipped, never filled.
    GapUnfilled,
    /// A message written twice.
    Duplicate,
    /// A SequenceReset-Reset.
    Reset,
}

/// Salt of the planning random stream.
const PLAN_SALT: u64 = 0x706c_616e_0000_0001;

/// The faults of one day.
pub(crate) struct Plan {
    /// Fault of each order slot.
    pub order_faults: Vec<OrderFault>,
    /// Session faults to place, in placement order.
    pub session_faults: Vec<SessionFault>,
}

/// The order-level and session-level fault kinds a scenario injects.
fn kinds(scenario: Scenario) -> (Vec<OrderFault>, Vec<SessionFault>) {
    use OrderFault as O;
    use SessionFault as S;
    match scenario {
        Scenario::Clean => (vec![], vec![]),
        Scenario::MissingFill => (vec![O::MissingFill], vec![]),
        Scenario::Phantom => (vec![O::Phantom], vec![]),
        Scenario::InternalReject => (vec![O::InternalReject], vec![]),
        Scenario::CancelOneSide => (vec![O::CancelOneSide], vec![]),
        Scenario::ReplaceOneSide => (vec![O::ReplaceOneSide], vec![]),
        Scenario::FillMismatch => (vec![O::FillMismatch], vec![]),
        Scenario::Lag => (vec![O::Lag], vec![]),
        Scenario::GapResend => (vec![], vec![S::GapResend]),
        Scenario::GapFill => (vec![], vec![S::GapFill]),
        Scenario::GapUnfilled => (vec![], vec![S::GapUnfilled]),
        Scenario::Duplicate => (vec![], vec![S::Duplicate]),
        Scenario::Reset => (vec![], vec![S::Reset]),
        Scenario::Bust => (vec![O::Bust], vec![]),
        Scenario::Correct => (vec![O::Correct], vec![]),
        Scenario::Mixed => (
            vec![
                O::MissingFill,
                O::Phantom,
                O::InternalReject,
                O::CancelOneSide,
                O::ReplaceOneSide,
                O::FillMismatch,
                O::Lag,
                O::Bust,
                O::Correct,
            ],
            vec![S::GapResend, S::GapFill, S::GapUnfilled, S::Duplicate, S::Reset],
        ),
    }
}

/// Number of injections per kind: `max(1, round(rate * orders / divisor))`.
fn count_per_kind(cfg: &GenConfig) -> usize {
    let rate = if cfg.fault_rate.is_finite() && cfg.fault_rate > 0.0 { cfg.fault_rate } else { 0.0 };
    let divisor = if cfg.scenario == Scenario::Mixed { 13.0 } else { 1.0 };
    // `as usize` saturates; the cap keeps absurd rates from allocating absurd plans.
    let n = (rate * cfg.orders as f64 / divisor).round() as usize;
    n.clamp(1, cfg.orders.saturating_mul(4).max(16))
}

/// Plans the faults of a day.
pub(crate) fn make_plan(cfg: &GenConfig) -> Plan {
    let (order_kinds, session_kinds) = kinds(cfg.scenario);
    let per_kind = count_per_kind(cfg);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ PLAN_SALT);

    // Round-robin over the kinds so that a shortage of slots or room hits every kind alike.
    let mut order_list = Vec::new();
    if !order_kinds.is_empty() {
        'fill: for _ in 0..per_kind {
            for &k in &order_kinds {
                if order_list.len() == cfg.orders {
                    break 'fill;
                }
                order_list.push(k);
            }
        }
    }
    let mut order_faults = vec![OrderFault::None; cfg.orders];
    let mut slots: Vec<usize> = (0..cfg.orders).collect();
    for (j, &fault) in order_list.iter().enumerate() {
        let r = rng.random_range(j..cfg.orders);
        slots.swap(j, r);
        order_faults[slots[j]] = fault;
    }

    let mut session_faults = Vec::new();
    for _ in 0..per_kind {
        session_faults.extend_from_slice(&session_kinds);
    }
    Plan { order_faults, session_faults }
}
