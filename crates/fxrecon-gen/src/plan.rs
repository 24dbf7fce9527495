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
    /// Issue 22 situation 1: a replace refused (OrderCancelReject), then a restatement.
    RefusedReplace,
    /// Situation 2: a FIX 4.2 replace down to the filled quantity.
    Fix42ReplaceToFilled,
    /// Situation 3: a new OrderID per replace, drop copy keyed by OrderID only.
    NewOrderIdPerReplace,
    /// Situation 4: chain links out of order on the drop copy, fills quoting the root.
    ChainOutOfOrder,
    /// Situation 4 with one fill missing on one stream (a real MissingFill, under the root).
    ChainOutOfOrderMissingFill,
    /// Situation 5: a trade cancel on the primary only, 90 s after the fill.
    LateBust,
    /// Situation 6: data fields holding SOH, `=` and `10=`.
    DataFields,
    /// Situation 7: AvgPx rounded to 7 decimals on one stream.
    AvgPxRounded,
    /// Situation 7: an AvgPx that is no rounding of the other stream's (QuantityMismatch).
    AvgPxOff,
    /// Situation 8: a price-only amend of a working order on one stream.
    PriceAmend,
    /// Situation 9: a replace carried out as cancel + new.
    CancelNewReplace,
    /// Situation 10: a trade cancel on both streams, reaching the drop copy before its fill.
    BustBeforeFill,
    /// Situation 11: an order on the drop copy only, only ever Rejected.
    VenueOnlyRejected,
    /// Situation 14: tags absent on one stream.
    AbsentTags,
}

impl OrderFault {
    /// The name an order carrying this fault is labelled with ([`crate::GeneratedDay::labels`]):
    /// the scenario name of its fault or situation.
    pub(crate) fn label(self) -> &'static str {
        match self {
            OrderFault::None => "normal",
            OrderFault::MissingFill => "missing_fill",
            OrderFault::Phantom => "phantom",
            OrderFault::InternalReject => "internal_reject",
            OrderFault::CancelOneSide => "cancel_one_side",
            OrderFault::ReplaceOneSide => "replace_one_side",
            OrderFault::FillMismatch => "fill_mismatch",
            OrderFault::Lag => "lag",
            OrderFault::Bust => "bust",
            OrderFault::Correct => "correct",
            OrderFault::RefusedReplace => "refused_replace",
            OrderFault::Fix42ReplaceToFilled => "fix42_replace_to_filled",
            OrderFault::NewOrderIdPerReplace => "new_order_id_per_replace",
            OrderFault::ChainOutOfOrder | OrderFault::ChainOutOfOrderMissingFill => "chain_out_of_order",
            OrderFault::LateBust => "late_after_retirement",
            OrderFault::DataFields => "data_fields",
            OrderFault::AvgPxRounded | OrderFault::AvgPxOff => "avg_px_rounding",
            OrderFault::PriceAmend => "price_amend",
            OrderFault::CancelNewReplace => "cancel_new_replace",
            OrderFault::BustBeforeFill => "bust_before_fill",
            OrderFault::VenueOnlyRejected => "venue_only_rejected",
            OrderFault::AbsentTags => "absent_tags",
        }
    }
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
    /// Issue 22 situation 12: two messages delivered in swapped order (no PossDupFlag).
    LateOriginal,
    /// Situation 13: a fill lost in a gap that stays open past its MissingFill's deadline.
    GapExposure,
    /// Situation 5: a venue replays its whole session (PossDupFlag=Y) after a ResendRequest
    /// for 2..0, about 80 s after the last report of the day (once per day).
    SessionReplay,
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
        Scenario::Mixed => (MIXED_ORDER_FAULTS.to_vec(), MIXED_SESSION_FAULTS.to_vec()),
        Scenario::RefusedReplace => (vec![O::RefusedReplace], vec![]),
        Scenario::Fix42ReplaceToFilled => (vec![O::Fix42ReplaceToFilled], vec![]),
        Scenario::NewOrderIdPerReplace => (vec![O::NewOrderIdPerReplace], vec![]),
        Scenario::ChainOutOfOrder => (vec![O::ChainOutOfOrder, O::ChainOutOfOrderMissingFill], vec![]),
        Scenario::LateAfterRetirement => (vec![O::LateBust], vec![S::SessionReplay]),
        Scenario::DataFields => (vec![O::DataFields], vec![]),
        Scenario::AvgPxRounding => (vec![O::AvgPxRounded, O::AvgPxOff], vec![]),
        Scenario::PriceAmend => (vec![O::PriceAmend], vec![]),
        Scenario::CancelNewReplace => (vec![O::CancelNewReplace], vec![]),
        Scenario::BustBeforeFill => (vec![O::BustBeforeFill], vec![]),
        Scenario::VenueOnlyRejected => (vec![O::VenueOnlyRejected], vec![]),
        Scenario::LateOriginal => (vec![], vec![S::LateOriginal]),
        Scenario::GapExposure => (vec![], vec![S::GapExposure]),
        Scenario::AbsentTags => (vec![O::AbsentTags], vec![]),
        Scenario::Hard => {
            let mut order = MIXED_ORDER_FAULTS.to_vec();
            order.extend_from_slice(&HARD_ORDER_FAULTS);
            let mut session = MIXED_SESSION_FAULTS.to_vec();
            session.extend_from_slice(&[S::LateOriginal, S::GapExposure, S::SessionReplay]);
            (order, session)
        }
    }
}

/// The order-level fault kinds of `mixed`.
const MIXED_ORDER_FAULTS: [OrderFault; 9] = [
    OrderFault::MissingFill,
    OrderFault::Phantom,
    OrderFault::InternalReject,
    OrderFault::CancelOneSide,
    OrderFault::ReplaceOneSide,
    OrderFault::FillMismatch,
    OrderFault::Lag,
    OrderFault::Bust,
    OrderFault::Correct,
];

/// The session-level fault kinds of `mixed`.
const MIXED_SESSION_FAULTS: [SessionFault; 5] = [
    SessionFault::GapResend,
    SessionFault::GapFill,
    SessionFault::GapUnfilled,
    SessionFault::Duplicate,
    SessionFault::Reset,
];

/// The order-level situations of issue 22 (in `hard` after the mixed kinds).
const HARD_ORDER_FAULTS: [OrderFault; 14] = [
    OrderFault::RefusedReplace,
    OrderFault::Fix42ReplaceToFilled,
    OrderFault::NewOrderIdPerReplace,
    OrderFault::ChainOutOfOrder,
    OrderFault::ChainOutOfOrderMissingFill,
    OrderFault::LateBust,
    OrderFault::DataFields,
    OrderFault::AvgPxRounded,
    OrderFault::AvgPxOff,
    OrderFault::PriceAmend,
    OrderFault::CancelNewReplace,
    OrderFault::BustBeforeFill,
    OrderFault::VenueOnlyRejected,
    OrderFault::AbsentTags,
];

/// Injections per kind are `rate * orders / divisor`: the kinds of a mixed scenario share the
/// fault rate (13 for `mixed`, as it always was; `hard` adds its 14 situations).
fn divisor(scenario: Scenario) -> f64 {
    match scenario {
        Scenario::Mixed => 13.0,
        Scenario::Hard => 27.0,
        _ => 1.0,
    }
}

/// Number of injections per kind: `max(1, round(rate * orders / divisor))`.
fn count_per_kind(cfg: &GenConfig) -> usize {
    let rate = if cfg.fault_rate.is_finite() && cfg.fault_rate > 0.0 { cfg.fault_rate } else { 0.0 };
    // `as usize` saturates; the cap keeps absurd rates from allocating absurd plans.
    let n = (rate * cfg.orders as f64 / divisor(cfg.scenario)).round() as usize;
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

    // A whole-session replay happens once a day, and is placed first (it takes its session
    // for the whole day: no other session fault may change what it replays).
    let replay = session_kinds.contains(&SessionFault::SessionReplay);
    let session_kinds: Vec<SessionFault> =
        session_kinds.into_iter().filter(|&k| k != SessionFault::SessionReplay).collect();
    let mut session_faults = Vec::new();
    if replay {
        session_faults.push(SessionFault::SessionReplay);
    }
    for _ in 0..per_kind {
        session_faults.extend_from_slice(&session_kinds);
    }
    Plan { order_faults, session_faults }
}
