//! The normalised event the reconciler consumes, and the FIX enumerations it carries.
//!
//! Owns: `ExecEvent` and its vocabulary (streams, message kinds, ExecType, OrdStatus). Plain
//! `Copy` data: never allocates, never refers to the bytes it was decoded from.

use crate::decimal::{Price, Qty};
use crate::snapshot::{Persist, SnapReader, SnapWriter, SnapshotError, load_enum, save_enum};
use crate::text::{Id, Name};
use crate::time::Micros;

/// Which of the two execution streams a message came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stream {
    /// The firm's own view (OMS / gateway).
    #[default]
    Primary = 0,
    /// The venue's drop copy.
    DropCopy = 1,
}

impl Stream {
    /// Both streams, primary first (the tie-break order).
    pub const BOTH: [Stream; 2] = [Stream::Primary, Stream::DropCopy];

    /// 0 for primary, 1 for drop copy.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The other stream.
    pub const fn other(self) -> Stream {
        match self {
            Stream::Primary => Stream::DropCopy,
            Stream::DropCopy => Stream::Primary,
        }
    }

    /// Name used in output: `primary` or `dropcopy`.
    pub const fn name(self) -> &'static str {
        match self {
            Stream::Primary => "primary",
            Stream::DropCopy => "dropcopy",
        }
    }
}

/// The FIX message types fxrecon distinguishes (35=...).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MsgKind {
    /// 35=8
    ExecutionReport,
    /// 35=9
    OrderCancelReject,
    /// 35=A
    Logon,
    /// 35=0
    Heartbeat,
    /// 35=1
    TestRequest,
    /// 35=2
    ResendRequest,
    /// 35=4
    SequenceReset,
    /// 35=5
    Logout,
    /// 35=3
    Reject,
    /// Anything else: sequence-counted, otherwise ignored.
    #[default]
    Other,
}

/// ExecType (150).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExecType {
    /// 0
    #[default]
    New,
    /// 1 (FIX 4.2 partial fill)
    PartialFill,
    /// 2 (FIX 4.2 fill)
    Fill,
    /// 3
    DoneForDay,
    /// 4
    Canceled,
    /// 5
    Replaced,
    /// 6
    PendingCancel,
    /// 7
    Stopped,
    /// 8
    Rejected,
    /// 9
    Suspended,
    /// A
    PendingNew,
    /// B
    Calculated,
    /// C
    Expired,
    /// D
    Restated,
    /// E
    PendingReplace,
    /// F (FIX 4.4 trade)
    Trade,
    /// G
    TradeCorrect,
    /// H
    TradeCancel,
    /// I
    OrderStatus,
    /// Any other code: a status report without a fill.
    Other,
}

impl ExecType {
    /// Decodes the 150 value; unknown codes map to `Other`.
    pub fn from_code(v: &[u8]) -> ExecType {
        use ExecType::*;
        match v {
            b"0" => New,
            b"1" => PartialFill,
            b"2" => Fill,
            b"3" => DoneForDay,
            b"4" => Canceled,
            b"5" => Replaced,
            b"6" => PendingCancel,
            b"7" => Stopped,
            b"8" => Rejected,
            b"9" => Suspended,
            b"A" => PendingNew,
            b"B" => Calculated,
            b"C" => Expired,
            b"D" => Restated,
            b"E" => PendingReplace,
            b"F" => Trade,
            b"G" => TradeCorrect,
            b"H" => TradeCancel,
            b"I" => OrderStatus,
            _ => Other,
        }
    }

    /// True for an execution that adds quantity (F, or 1/2 in FIX 4.2).
    pub const fn is_fill(self) -> bool {
        matches!(self, ExecType::Trade | ExecType::PartialFill | ExecType::Fill)
    }
}

/// OrdStatus (39), FIX 4.4 names (4.2 `Replaced` kept for normalisation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrdStatus {
    /// 0
    #[default]
    New = 0,
    /// 1
    PartiallyFilled,
    /// 2
    Filled,
    /// 3
    DoneForDay,
    /// 4
    Canceled,
    /// 5 (FIX 4.2 only; normalised away before use)
    Replaced,
    /// 6
    PendingCancel,
    /// 7
    Stopped,
    /// 8
    Rejected,
    /// 9
    Suspended,
    /// A
    PendingNew,
    /// B
    Calculated,
    /// C
    Expired,
    /// D
    AcceptedForBidding,
    /// E
    PendingReplace,
}

impl OrdStatus {
    /// Number of distinct values (for per-status tables).
    pub const COUNT: usize = 15;

    /// Every value, in index order.
    pub const ALL: [OrdStatus; OrdStatus::COUNT] = {
        use OrdStatus::*;
        [
            New,
            PartiallyFilled,
            Filled,
            DoneForDay,
            Canceled,
            Replaced,
            PendingCancel,
            Stopped,
            Rejected,
            Suspended,
            PendingNew,
            Calculated,
            Expired,
            AcceptedForBidding,
            PendingReplace,
        ]
    };

    /// Decodes the 39 value.
    pub fn from_code(v: &[u8]) -> Option<OrdStatus> {
        use OrdStatus::*;
        Some(match v {
            b"0" => New,
            b"1" => PartiallyFilled,
            b"2" => Filled,
            b"3" => DoneForDay,
            b"4" => Canceled,
            b"5" => Replaced,
            b"6" => PendingCancel,
            b"7" => Stopped,
            b"8" => Rejected,
            b"9" => Suspended,
            b"A" => PendingNew,
            b"B" => Calculated,
            b"C" => Expired,
            b"D" => AcceptedForBidding,
            b"E" => PendingReplace,
            _ => return None,
        })
    }

    /// Dense index, `0..COUNT`.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The name printed in output (`"PartiallyFilled"` …).
    pub const fn name(self) -> &'static str {
        use OrdStatus::*;
        match self {
            New => "New",
            PartiallyFilled => "PartiallyFilled",
            Filled => "Filled",
            DoneForDay => "DoneForDay",
            Canceled => "Canceled",
            Replaced => "Replaced",
            PendingCancel => "PendingCancel",
            Stopped => "Stopped",
            Rejected => "Rejected",
            Suspended => "Suspended",
            PendingNew => "PendingNew",
            Calculated => "Calculated",
            Expired => "Expired",
            AcceptedForBidding => "AcceptedForBidding",
            PendingReplace => "PendingReplace",
        }
    }

    /// True when the order can no longer trade (Filled, Canceled, Rejected, Expired, DoneForDay).
    pub const fn is_terminal(self) -> bool {
        use OrdStatus::*;
        matches!(self, Filled | Canceled | Rejected | Expired | DoneForDay)
    }
}

/// Presence bits for the optional numeric fields of an [`ExecEvent`].
pub mod has {
    /// 38 OrderQty
    pub const ORDER_QTY: u16 = 1 << 0;
    /// 44 Price
    pub const PRICE: u16 = 1 << 1;
    /// 32 LastQty
    pub const LAST_QTY: u16 = 1 << 2;
    /// 31 LastPx
    pub const LAST_PX: u16 = 1 << 3;
    /// 14 CumQty
    pub const CUM_QTY: u16 = 1 << 4;
    /// 151 LeavesQty
    pub const LEAVES_QTY: u16 = 1 << 5;
    /// 6 AvgPx
    pub const AVG_PX: u16 = 1 << 6;
    /// 34 MsgSeqNum
    pub const SEQ: u16 = 1 << 7;
    /// 150 ExecType
    pub const EXEC_TYPE: u16 = 1 << 8;
    /// 39 OrdStatus
    pub const ORD_STATUS: u16 = 1 << 9;
    /// 36 NewSeqNo
    pub const NEW_SEQ_NO: u16 = 1 << 10;
    /// The message time (`ExecEvent::time`) is an arrival time from a log-line prefix.
    pub const ARRIVAL: u16 = 1 << 11;
    /// The message time (`ExecEvent::time`) is 52 SendingTime (a line without a prefix).
    pub const SENDING_TIME: u16 = 1 << 12;
}

/// One decoded FIX message in the compact, owned form the reconciler consumes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ExecEvent {
    /// Stream it arrived on (set by ingest, not by the decoder).
    pub stream: Stream,
    /// Line number in a file input, or ingest sequence number live.
    pub line: u64,
    /// The reconciler's clock for this event: arrival, else SendingTime (set by ingest).
    pub event_time: Micros,
    /// The message's own time: its arrival prefix ([`has::ARRIVAL`]), else 52 SendingTime
    /// ([`has::SENDING_TIME`], parsed only for lines without a prefix), else nothing (zero).
    /// One field for both: only the one that gives a file line its event time is read.
    pub time: Micros,
    /// 35 MsgType.
    pub kind: MsgKind,
    /// Which optional fields are present (see [`has`]).
    pub present: u16,
    /// 34 MsgSeqNum.
    pub seq: u64,
    /// 43 PossDupFlag = Y.
    pub poss_dup: bool,
    /// 141 ResetSeqNumFlag = Y (Logon).
    pub reset_seq_num: bool,
    /// 123 GapFillFlag = Y (SequenceReset).
    pub gap_fill: bool,
    /// 36 NewSeqNo (SequenceReset).
    pub new_seq_no: u64,
    /// 49 SenderCompID.
    pub sender: Name,
    /// 56 TargetCompID.
    pub target: Name,
    /// 11 ClOrdID.
    pub cl_ord_id: Id,
    /// 41 OrigClOrdID.
    pub orig_cl_ord_id: Id,
    /// 37 OrderID.
    pub order_id: Id,
    /// 17 ExecID.
    pub exec_id: Id,
    /// 19 ExecRefID.
    pub exec_ref_id: Id,
    /// 150 ExecType (after ExecTransType normalisation).
    pub exec_type: ExecType,
    /// 39 OrdStatus (raw; see `OrdStatus::Replaced`).
    pub ord_status: OrdStatus,
    /// 54 Side (raw byte, 0 when absent).
    pub side: u8,
    /// 55 Symbol.
    pub symbol: Name,
    /// 1 Account.
    pub account: Name,
    /// 30 LastMkt, else 100 ExDestination.
    pub venue: Name,
    /// 38 OrderQty.
    pub order_qty: Qty,
    /// 44 Price.
    pub price: Price,
    /// 32 LastQty.
    pub last_qty: Qty,
    /// 31 LastPx.
    pub last_px: Price,
    /// 14 CumQty.
    pub cum_qty: Qty,
    /// 151 LeavesQty.
    pub leaves_qty: Qty,
    /// 6 AvgPx.
    pub avg_px: Price,
}

impl ExecEvent {
    /// True when the presence bit `bit` (see [`has`]) is set.
    pub const fn has(&self, bit: u16) -> bool {
        self.present & bit != 0
    }

    /// The arrival time from the line's log prefix, when it had one.
    pub const fn arrival(&self) -> Option<Micros> {
        if self.has(has::ARRIVAL) { Some(self.time) } else { None }
    }

    /// 52 SendingTime, when it was read (only for a line without an arrival prefix).
    pub const fn sending_time(&self) -> Option<Micros> {
        if self.has(has::SENDING_TIME) { Some(self.time) } else { None }
    }

    /// OrdStatus with FIX 4.2 `Replaced` mapped to the live state it stands for.
    pub fn normalized_status(&self) -> OrdStatus {
        match self.ord_status {
            // FIX 4.2 Replaced is not a state of its own (contract 2.1): after the replace the
            // state follows from the quantities, so a replace down to the filled quantity
            // leaves the order Filled.
            OrdStatus::Replaced
                if (self.has(has::ORDER_QTY) && self.cum_qty >= self.order_qty && self.cum_qty.0 > 0)
                    || (self.has(has::LEAVES_QTY) && self.leaves_qty.is_zero() && self.cum_qty.0 > 0) =>
            {
                OrdStatus::Filled
            }
            OrdStatus::Replaced if self.cum_qty.0 > 0 => OrdStatus::PartiallyFilled,
            OrdStatus::Replaced => OrdStatus::New,
            s => s,
        }
    }
}

impl Persist for Stream {
    fn save(&self, w: &mut SnapWriter<'_>) {
        save_enum(w, *self, &Stream::BOTH);
    }
    fn load(r: &mut SnapReader<'_>) -> Result<Self, SnapshotError> {
        load_enum(r, &Stream::BOTH)
    }
}

impl Persist for OrdStatus {
    fn save(&self, w: &mut SnapWriter<'_>) {
        save_enum(w, *self, &OrdStatus::ALL);
    }
    fn load(r: &mut SnapReader<'_>) -> Result<Self, SnapshotError> {
        load_enum(r, &OrdStatus::ALL)
    }
}

#[cfg(test)]
mod size_tests {
    #[test]
    fn exec_event_stays_compact() {
        let size = core::mem::size_of::<super::ExecEvent>();
        assert!(size <= 440, "ExecEvent grew to {size} bytes");
    }
}
