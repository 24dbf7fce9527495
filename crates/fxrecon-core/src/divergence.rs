//! What the reconciler emits: divergences, sequence gaps and resolutions.
//!
//! Owns: the record types and their human-readable detail sentences. Records are plain `Copy`
//! data handed to a [`Sink`]; rendering to JSON is the shell's job.

use core::fmt;

use crate::decimal::{Price, Qty};
use crate::event::{OrdStatus, Stream, has};
use crate::order::view::OrderView;
use crate::sequencer::SequenceEvent;
use crate::text::{Id, Name};
use crate::time::Micros;

/// Divergence types of the contract, in precedence order (TimingAnomaly independent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DivergenceKind {
    /// Order seen on one stream only.
    PhantomOrder,
    /// Fill on one stream with no match on the other.
    MissingFill,
    /// Matched fills or order quantities differ.
    QuantityMismatch,
    /// Fills and quantities agree, status differs.
    StateMismatch,
    /// A matched event reached the second stream late.
    TimingAnomaly,
}

impl DivergenceKind {
    /// Every kind, in precedence order.
    pub const ALL: [DivergenceKind; 5] = [
        DivergenceKind::PhantomOrder,
        DivergenceKind::MissingFill,
        DivergenceKind::QuantityMismatch,
        DivergenceKind::StateMismatch,
        DivergenceKind::TimingAnomaly,
    ];

    /// Output name.
    pub const fn name(self) -> &'static str {
        match self {
            DivergenceKind::PhantomOrder => "PhantomOrder",
            DivergenceKind::MissingFill => "MissingFill",
            DivergenceKind::QuantityMismatch => "QuantityMismatch",
            DivergenceKind::StateMismatch => "StateMismatch",
            DivergenceKind::TimingAnomaly => "TimingAnomaly",
        }
    }
}

/// Severity per the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Exposure we did not know of, or wrong quantities.
    High,
    /// State differences, primary-only orders, gaps.
    Medium,
    /// Timing and benign sequence events.
    Low,
}

impl Severity {
    /// Output name.
    pub const fn name(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

/// A view as printed in a divergence record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViewSnapshot {
    /// OrdStatus.
    pub status: OrdStatus,
    /// CumQty.
    pub cum_qty: Qty,
    /// LeavesQty (None: the stream gave none and none can be derived).
    pub leaves_qty: Option<Qty>,
    /// AvgPx (None: the stream never reported one).
    pub avg_px: Option<Price>,
}

impl ViewSnapshot {
    /// The snapshot of a view, or None when the stream never reported the order.
    pub fn of(v: &OrderView) -> Option<Self> {
        v.seen.then_some(Self {
            status: v.status,
            cum_qty: v.cum_qty,
            leaves_qty: v.knows(has::LEAVES_QTY).then_some(v.leaves_qty),
            avg_px: v.knows(has::AVG_PX).then_some(v.avg_px),
        })
    }
}

/// Which order field a quantity difference is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QtyField {
    /// 38
    OrderQty,
    /// 14
    CumQty,
    /// 6
    AvgPx,
    /// 32 of a matched fill
    LastQty,
    /// 31 of a matched fill
    LastPx,
    /// 44, the limit price of a live order
    Price,
}

impl QtyField {
    const fn name(self) -> &'static str {
        match self {
            QtyField::OrderQty => "OrderQty",
            QtyField::CumQty => "CumQty",
            QtyField::AvgPx => "AvgPx",
            QtyField::LastQty => "LastQty",
            QtyField::LastPx => "LastPx",
            QtyField::Price => "Price",
        }
    }
}

/// Why a divergence was raised; renders as the `detail` sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Order only on `seen_on` when grace expired.
    Phantom {
        /// Stream that has it.
        seen_on: Stream,
    },
    /// A fill on the other stream has no match on `missing_on`.
    MissingFill {
        /// Stream that lacks it.
        missing_on: Stream,
    },
    /// Quantity field differs.
    Quantity {
        /// Which field.
        field: QtyField,
        /// True when decided at once (matched fills), false after grace.
        at_once: bool,
    },
    /// Status differs.
    State {
        /// Primary's status.
        primary: OrdStatus,
        /// Drop copy's status.
        dropcopy: OrdStatus,
        /// True when both are terminal (decided at once).
        terminal: bool,
    },
    /// A matched fill reached `late_on` late.
    LateFill {
        /// The stream that got it second.
        late_on: Stream,
        /// Lag in microseconds.
        lag_us: i64,
    },
    /// The first report of `status` reached `late_on` late.
    LateStatus {
        /// The status.
        status: OrdStatus,
        /// The stream that got it second.
        late_on: Stream,
        /// Lag in microseconds.
        lag_us: i64,
    },
    /// A late message on `late_on` resolved an earlier divergence.
    LateResolution {
        /// Stream of the late message.
        late_on: Stream,
    },
}

/// A divergence record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Divergence {
    /// Output id.
    pub id: u64,
    /// Its type.
    pub kind: DivergenceKind,
    /// Root ClOrdID.
    pub order_id: Id,
    /// Symbol.
    pub symbol: Name,
    /// Venue.
    pub venue: Name,
    /// Event time at which it became decidable.
    pub detected_at: Micros,
    /// Severity.
    pub severity: Severity,
    /// `seen_on` (PhantomOrder) or `missing_on` (MissingFill).
    pub side: Option<Stream>,
    /// ExecID concerned (MissingFill, fill-level QuantityMismatch and TimingAnomaly).
    pub exec_id: Option<Id>,
    /// Primary and drop-copy views at detection.
    pub views: [Option<ViewSnapshot>; 2],
    /// Why.
    pub reason: Reason,
    /// A MissingFill or PhantomOrder whose missing side had a session with an open sequence
    /// gap at detection: the missing event may be in the gap (contract 4).
    pub gap_exposure: bool,
}

/// A record closing an earlier divergence that a late message contradicted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Resolution {
    /// Output id.
    pub id: u64,
    /// Id of the divergence it resolves.
    pub resolves: u64,
    /// Type of the divergence it resolves.
    pub resolved_kind: DivergenceKind,
    /// Root ClOrdID.
    pub order_id: Id,
    /// Event time of the resolving message.
    pub detected_at: Micros,
    /// Stream of the resolving message.
    pub by: Stream,
}

/// A sequence record with its output id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GapRecord {
    /// Output id.
    pub id: u64,
    /// The sequence event.
    pub event: SequenceEvent,
}

/// A report the store had no room to track (see docs/decisions.md D13).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapacityRecord {
    /// Output id.
    pub id: u64,
    /// The identifier of the untracked order (OrigClOrdID, else ClOrdID, else OrderID).
    pub order_id: Id,
    /// Stream of the report.
    pub stream: Stream,
    /// Event time of the report.
    pub detected_at: Micros,
}

/// Anything the reconciler emits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Record {
    /// PhantomOrder, MissingFill, QuantityMismatch, StateMismatch or TimingAnomaly.
    Divergence(Divergence),
    /// SequenceGap.
    Gap(GapRecord),
    /// Resolved.
    Resolved(Resolution),
    /// The store was full: an order could not be tracked.
    CapacityExhausted(CapacityRecord),
}

impl Record {
    /// Output id.
    pub fn id(&self) -> u64 {
        match self {
            Record::Divergence(d) => d.id,
            Record::Gap(g) => g.id,
            Record::Resolved(r) => r.id,
            Record::CapacityExhausted(c) => c.id,
        }
    }

    /// Event time it was detected at.
    pub fn detected_at(&self) -> Micros {
        match self {
            Record::Divergence(d) => d.detected_at,
            Record::Gap(g) => g.event.at,
            Record::Resolved(r) => r.detected_at,
            Record::CapacityExhausted(c) => c.detected_at,
        }
    }
}

/// Receives what the reconciler emits, in emission order.
pub trait Sink {
    /// Called once per record.
    fn emit(&mut self, record: &Record);
}

impl Sink for Vec<Record> {
    fn emit(&mut self, record: &Record) {
        self.push(*record);
    }
}

fn ms(us: i64) -> Ms {
    Ms(us)
}

struct Ms(i64);

impl fmt::Display for Ms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03} ms", self.0 / 1000, (self.0 % 1000).abs())
    }
}

impl fmt::Display for Divergence {
    /// The `detail` sentence.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            Reason::Phantom { seen_on } => write!(
                f,
                "order seen on {} only, none on {} within the grace window",
                seen_on.name(),
                seen_on.other().name()
            ),
            Reason::MissingFill { missing_on } => write!(
                f,
                "fill {} on {} has no matching fill on {} within the grace window",
                self.exec_id.unwrap_or_default(),
                missing_on.other().name(),
                missing_on.name()
            ),
            Reason::Quantity { field, at_once: true } => write!(
                f,
                "matched fill {} differs in {} between primary and dropcopy",
                self.exec_id.unwrap_or_default(),
                field.name()
            ),
            Reason::Quantity { field, at_once: false } => {
                write!(f, "{} differs between primary and dropcopy after the grace window", field.name())
            }
            Reason::State { primary, dropcopy, terminal } => write!(
                f,
                "status {} on primary vs {} on dropcopy{}",
                primary.name(),
                dropcopy.name(),
                if terminal { ", both terminal" } else { " after the grace window" }
            ),
            Reason::LateFill { late_on, lag_us } => write!(
                f,
                "fill {} reached {} {} after {}",
                self.exec_id.unwrap_or_default(),
                late_on.name(),
                ms(lag_us),
                late_on.other().name()
            ),
            Reason::LateStatus { status, late_on, lag_us } => write!(
                f,
                "{} reached {} {} after {}",
                status.name(),
                late_on.name(),
                ms(lag_us),
                late_on.other().name()
            ),
            Reason::LateResolution { late_on } => {
                write!(f, "late message on {} resolved an earlier divergence", late_on.name())
            }
        }
    }
}

impl fmt::Display for Resolution {
    /// The `detail` sentence.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} resolved by a later message on {}", self.resolved_kind.name(), self.resolves, self.by.name())
    }
}
