//! Comparison keys for ground truth versus detected output.
//!
//! Owns: what "the same finding" means when checking a run against `gen`'s ground truth:
//! (order_id, type) for order divergences, (stream, session, kind, expected, seen) for gaps.
//! Resolved records are not findings.

use std::collections::BTreeSet;

use fxrecon_core::divergence::Record;
use serde_json::Value;

use crate::output::render::session_name;

/// One finding, as compared between ground truth and output.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Finding {
    /// An order-level divergence.
    Order {
        /// Root ClOrdID.
        order_id: String,
        /// Divergence type name.
        kind: String,
    },
    /// A sequence record.
    Gap {
        /// `primary` or `dropcopy`.
        stream: String,
        /// `SENDER->TARGET`.
        session: String,
        /// `gap`, `gap_filled`, `duplicate`, `reset`.
        kind: String,
        /// Expected number.
        expected: u64,
        /// Seen number.
        seen: u64,
    },
}

impl Finding {
    /// The divergence type (`SequenceGap` for gaps).
    pub fn type_name(&self) -> &str {
        match self {
            Finding::Order { kind, .. } => kind,
            Finding::Gap { .. } => "SequenceGap",
        }
    }

    /// The finding a record stands for (None for `Resolved`).
    pub fn of_record(r: &Record) -> Option<Finding> {
        match r {
            Record::Divergence(d) => {
                Some(Finding::Order { order_id: d.order_id.as_str().into(), kind: d.kind.name().into() })
            }
            Record::Gap(g) => Some(Finding::Gap {
                stream: g.event.session.stream.name().into(),
                session: session_name(g),
                kind: g.event.kind.name().into(),
                expected: g.event.expected,
                seen: g.event.seen,
            }),
            Record::Resolved(_) | Record::CapacityExhausted(_) => None,
        }
    }

    /// The finding a JSON line (output or ground truth) stands for.
    pub fn of_json_line(line: &str) -> Result<Option<Finding>, String> {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("bad JSON line: {e}"))?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let n = |k: &str| v.get(k).and_then(Value::as_u64);
        let ty = s("type").ok_or("line has no \"type\"")?;
        Ok(match ty.as_str() {
            "Resolved" | "CapacityExhausted" => None,
            "SequenceGap" => Some(Finding::Gap {
                stream: s("stream").ok_or("gap without stream")?,
                session: s("session").ok_or("gap without session")?,
                kind: s("kind").ok_or("gap without kind")?,
                expected: n("expected").ok_or("gap without expected")?,
                seen: n("seen").ok_or("gap without seen")?,
            }),
            _ => Some(Finding::Order { order_id: s("order_id").ok_or("divergence without order_id")?, kind: ty }),
        })
    }
}

/// Findings of a set of records.
pub fn findings(records: &[Record]) -> BTreeSet<Finding> {
    records.iter().filter_map(Finding::of_record).collect()
}
