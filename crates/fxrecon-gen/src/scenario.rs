//! Scenarios: which kind of fault a generated day injects.
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
    Scenario::ALL.iter().map(Scenario::name).collect::<Vec<_>>().join(", ")
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
        Scenario::ALL.iter().copied().find(|sc| sc.name() == wanted).ok_or_else(|| ParseScenarioError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for sc in Scenario::ALL {
            assert_eq!(sc.name().parse::<Scenario>(), Ok(sc));
            assert_eq!(sc.to_string(), sc.name());
        }
        assert_eq!("Gap-Resend".parse::<Scenario>(), Ok(Scenario::GapResend));
        let err = "nope".parse::<Scenario>().unwrap_err().to_string();
        assert!(err.contains("nope") && err.contains("missing_fill") && err.contains("mixed"), "{err}");
    }
}
