//! Scenarios: which kind of fault a generated day injects.
//!
//! Two families: the classic faults ([`Scenario::ALL`], `mixed` among them) and the hard-day
//! situations of issue 22 ([`Scenario::HARD`], `hard` among them: each situation a real venue
//! produces, most of them correct traffic that must give no divergence).
//!
//! Names and parsing only: this module must never know how a fault is planned or injected.

use std::fmt;
use std::str::FromStr;

/// The fault kind injected into a generated day (`Mixed` injects every kind, `Clean` none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// No faults.
    Clean,
    /// A fill report missing on one stream.
    MissingFill,
    /// A whole order present on one stream only.
    Phantom,
    /// Extra primary-only internal rejects (not divergences).
    InternalReject,
    /// A cancel confirmed on one stream only.
    CancelOneSide,
    /// A replace (new OrderQty) confirmed on one stream only.
    ReplaceOneSide,
    /// A fill whose LastPx differs by one pip between the streams.
    FillMismatch,
    /// One stream's reports of an order arrive late (but within grace).
    Lag,
    /// Messages withheld and re-sent with PossDupFlag after a ResendRequest.
    GapResend,
    /// Sequence numbers skipped and closed with a SequenceReset-GapFill.
    GapFill,
    /// Sequence numbers skipped and never filled.
    GapUnfilled,
    /// A message written twice with the same MsgSeqNum.
    Duplicate,
    /// A SequenceReset-Reset jumping the sequence forward.
    Reset,
    /// A trade cancel (bust) on one stream only.
    Bust,
    /// A trade correction on one stream only.
    Correct,
    /// Every fault kind.
    Mixed,
    /// Issue 22 situation 1: a replace refused with OrderCancelReject, later a restatement
    /// (ExecType D) of a smaller OrderQty on the original ClOrdID on both streams (no divergence).
    RefusedReplace,
    /// Situation 2: a FIX 4.2 replace down to the filled quantity (OrdStatus Replaced,
    /// LeavesQty 0) against the FIX 4.4 side's Filled (no divergence).
    Fix42ReplaceToFilled,
    /// Situation 3: a new OrderID on each replace, on a drop copy keyed only by OrderID (no
    /// divergence).
    NewOrderIdPerReplace,
    /// Situation 4: replace-chain links out of order on the drop copy (ahead of the primary),
    /// fills quoting the root ClOrdID on one stream; some such orders with a real MissingFill.
    ChainOutOfOrder,
    /// Situation 5: a trade cancel on the primary only 90 s after the fill (after the order
    /// retired: a QuantityMismatch), and a venue replaying its whole session with PossDupFlag=Y
    /// about 80 s later (no divergence).
    LateAfterRetirement,
    /// Situation 6: data fields (95/96, 212/213, 354/355, 93/89, 90/91) holding SOH, `=` and
    /// `10=` (no divergence).
    DataFields,
    /// Situation 7: AvgPx rounded to 7 decimals on one stream (no divergence); some orders with
    /// an AvgPx that is no such rounding (a QuantityMismatch).
    AvgPxRounding,
    /// Situation 8: a price-only amend of a working order on one stream (a QuantityMismatch).
    PriceAmend,
    /// Situation 9: a replace carried out as cancel + new by the venue (no divergence).
    CancelNewReplace,
    /// Situation 10: a trade cancel reaching the drop copy before the fill it cancels (no
    /// divergence).
    BustBeforeFill,
    /// Situation 11: a venue-only order only ever Rejected (a low-severity PhantomOrder).
    VenueOnlyRejected,
    /// Situation 12: an original message delivered out of order (MsgSeqNum n+1 before n, no
    /// PossDupFlag): a gap, then gap_filled.
    LateOriginal,
    /// Situation 13: a fill lost in a sequence gap that stays open past the MissingFill's grace
    /// deadline (MissingFill with `gap_exposure`, gap, gap_filled).
    GapExposure,
    /// Situation 14: tags 38, 31/32, 6 or 151 absent on one stream (no divergence).
    AbsentTags,
    /// Every issue 22 situation and every classic fault kind, mixed with normal flow.
    Hard,
}

impl Scenario {
    /// Every scenario, in declaration order.
    pub const ALL: [Scenario; 16] = [
        Scenario::Clean,
        Scenario::MissingFill,
        Scenario::Phantom,
        Scenario::InternalReject,
        Scenario::CancelOneSide,
        Scenario::ReplaceOneSide,
        Scenario::FillMismatch,
        Scenario::Lag,
        Scenario::GapResend,
        Scenario::GapFill,
        Scenario::GapUnfilled,
        Scenario::Duplicate,
        Scenario::Reset,
        Scenario::Bust,
        Scenario::Correct,
        Scenario::Mixed,
    ];

    /// The issue 22 situations, in situation order, then `Hard` (all of them with the classic
    /// faults).
    pub const HARD: [Scenario; 15] = [
        Scenario::RefusedReplace,
        Scenario::Fix42ReplaceToFilled,
        Scenario::NewOrderIdPerReplace,
        Scenario::ChainOutOfOrder,
        Scenario::LateAfterRetirement,
        Scenario::DataFields,
        Scenario::AvgPxRounding,
        Scenario::PriceAmend,
        Scenario::CancelNewReplace,
        Scenario::BustBeforeFill,
        Scenario::VenueOnlyRejected,
        Scenario::LateOriginal,
        Scenario::GapExposure,
        Scenario::AbsentTags,
        Scenario::Hard,
    ];

    /// True for the issue 22 situations and `Hard` (their ground truth also says which records
    /// carry `gap_exposure`).
    pub fn is_hard(&self) -> bool {
        Scenario::HARD.contains(self)
    }

    /// The snake_case name used on the command line (`"missing_fill"`).
    pub fn name(&self) -> &'static str {
        match self {
            Scenario::Clean => "clean",
            Scenario::MissingFill => "missing_fill",
            Scenario::Phantom => "phantom",
            Scenario::InternalReject => "internal_reject",
            Scenario::CancelOneSide => "cancel_one_side",
            Scenario::ReplaceOneSide => "replace_one_side",
            Scenario::FillMismatch => "fill_mismatch",
            Scenario::Lag => "lag",
            Scenario::GapResend => "gap_resend",
            Scenario::GapFill => "gap_fill",
            Scenario::GapUnfilled => "gap_unfilled",
            Scenario::Duplicate => "duplicate",
            Scenario::Reset => "reset",
            Scenario::Bust => "bust",
            Scenario::Correct => "correct",
            Scenario::Mixed => "mixed",
            Scenario::RefusedReplace => "refused_replace",
            Scenario::Fix42ReplaceToFilled => "fix42_replace_to_filled",
            Scenario::NewOrderIdPerReplace => "new_order_id_per_replace",
            Scenario::ChainOutOfOrder => "chain_out_of_order",
            Scenario::LateAfterRetirement => "late_after_retirement",
            Scenario::DataFields => "data_fields",
            Scenario::AvgPxRounding => "avg_px_rounding",
            Scenario::PriceAmend => "price_amend",
            Scenario::CancelNewReplace => "cancel_new_replace",
            Scenario::BustBeforeFill => "bust_before_fill",
            Scenario::VenueOnlyRejected => "venue_only_rejected",
            Scenario::LateOriginal => "late_original",
            Scenario::GapExposure => "gap_exposure",
            Scenario::AbsentTags => "absent_tags",
            Scenario::Hard => "hard",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Comma-separated list of every scenario name.
fn valid_names() -> String {
    Scenario::ALL.iter().chain(&Scenario::HARD).map(Scenario::name).collect::<Vec<_>>().join(", ")
}

/// Error for a scenario name that is not one of [`Scenario::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scenario `{0}`; valid scenarios: {valid}", valid = valid_names())]
pub struct ParseScenarioError(pub String);

impl FromStr for Scenario {
    type Err = ParseScenarioError;

    /// Parses a scenario name; case and `-`/`_` are not significant.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        Scenario::ALL
            .iter()
            .chain(&Scenario::HARD)
            .copied()
            .find(|sc| sc.name() == wanted)
            .ok_or_else(|| ParseScenarioError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for sc in Scenario::ALL.into_iter().chain(Scenario::HARD) {
            assert_eq!(sc.name().parse::<Scenario>(), Ok(sc));
            assert_eq!(sc.is_hard(), Scenario::HARD.contains(&sc));
            assert_eq!(sc.to_string(), sc.name());
        }
        assert_eq!("Gap-Resend".parse::<Scenario>(), Ok(Scenario::GapResend));
        let err = "nope".parse::<Scenario>().unwrap_err().to_string();
        assert!(err.contains("nope") && err.contains("missing_fill") && err.contains("mixed"), "{err}");
        assert!(err.contains("refused_replace") && err.contains("hard"), "{err}");
        assert!(Scenario::ALL.iter().all(|sc| !sc.is_hard()), "the classic scenarios are not hard");
    }
}
