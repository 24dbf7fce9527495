//! Shared data model of a generated day: venues, session directions, symbols, execution
//! reports and the log messages that carry them.
//!
//! Types, constants and lookups only: this module must never draw random numbers, inject
//! faults or depend on the configuration or on any pipeline step.

use crate::expected::Expected;

/// Salt of the session-layer random stream.
pub(crate) const SESSION_SALT: u64 = 0x7365_7373_0000_0003;

/// Stream index of the primary (OMS/gateway) stream.
pub(crate) const PRIMARY: u8 = 0;
/// Stream index of the drop-copy (venue) stream.
pub(crate) const DROPCOPY: u8 = 1;
/// Stream names as written in ground-truth records, indexed by stream.
pub(crate) const STREAM_NAMES: [&str; 2] = ["primary", "dropcopy"];

/// One execution venue and its drop-copy session.
pub(crate) struct VenueDef {
    /// Venue name (LastMkt, ExDestination, OrderID prefix).
    pub name: &'static str,
    /// SenderCompID of the venue's drop-copy session.
    pub dc_sender: &'static str,
    /// Whether the drop copy reuses the primary's ExecIDs.
    pub shares_exec_ids: bool,
}

/// The venues, indexed by venue number.
pub(crate) const VENUES: [VenueDef; 4] = [
    VenueDef { name: "EBS", dc_sender: "EBSDC", shares_exec_ids: true },
    VenueDef { name: "HOTSPOT", dc_sender: "HSDC", shares_exec_ids: false },
    VenueDef { name: "FXALL", dc_sender: "FXADC", shares_exec_ids: true },
    VenueDef { name: "CURNX", dc_sender: "CNXDC", shares_exec_ids: true },
];
/// Venue number of FXALL (FIX 4.2 drop copy).
pub(crate) const VENUE_FXALL: u8 = 2;

/// One direction (SenderCompID -> TargetCompID) of a logged session.
pub(crate) struct DirDef {
    /// Stream whose file holds this direction.
    pub stream: u8,
    /// SenderCompID.
    pub sender: &'static str,
    /// TargetCompID.
    pub target: &'static str,
    /// BeginString of the session.
    pub begin: &'static str,
    /// Whether this is the firm's own outgoing direction (logged at send time).
    pub firm_side: bool,
}

const fn dir(stream: u8, sender: &'static str, target: &'static str, fix42: bool, firm_side: bool) -> DirDef {
    DirDef { stream, sender, target, begin: if fix42 { "FIX.4.2" } else { "FIX.4.4" }, firm_side }
}

/// All session directions. Even indices carry ExecutionReports (counterparty -> firm); the
/// odd index after each is the firm's direction of the same session.
pub(crate) const DIRS: [DirDef; 12] = [
    dir(PRIMARY, "FXGW1", "FIRM", false, false),
    dir(PRIMARY, "FIRM", "FXGW1", false, true),
    dir(PRIMARY, "FXGW2", "FIRM", false, false),
    dir(PRIMARY, "FIRM", "FXGW2", false, true),
    dir(DROPCOPY, "EBSDC", "FIRMDC", false, false),
    dir(DROPCOPY, "FIRMDC", "EBSDC", false, true),
    dir(DROPCOPY, "HSDC", "FIRMDC", false, false),
    dir(DROPCOPY, "FIRMDC", "HSDC", false, true),
    dir(DROPCOPY, "FXADC", "FIRMDC", true, false),
    dir(DROPCOPY, "FIRMDC", "FXADC", true, true),
    dir(DROPCOPY, "CNXDC", "FIRMDC", false, false),
    dir(DROPCOPY, "FIRMDC", "CNXDC", false, true),
];

/// Direction carrying the primary ExecutionReports of gateway `gw`.
pub(crate) fn primary_dir(gw: u8) -> u8 {
    gw * 2
}

/// Direction carrying the drop-copy ExecutionReports of venue `venue`.
pub(crate) fn dropcopy_dir(venue: u8) -> u8 {
    4 + venue * 2
}

/// The opposite direction of the same session.
pub(crate) fn reverse(dir: u8) -> u8 {
    dir ^ 1
}

/// `"SENDER->TARGET"` name of a direction.
pub(crate) fn session_name(dir: u8) -> String {
    let d = &DIRS[usize::from(dir)];
    format!("{}->{}", d.sender, d.target)
}

/// One traded currency pair.
pub(crate) struct SymbolDef {
    /// FIX Symbol.
    pub name: &'static str,
    /// Typical price in points (units of 10^-decimals).
    pub mid: i64,
    /// Price decimals (5, or 3 for JPY pairs).
    pub decimals: u32,
}

/// The traded pairs.
pub(crate) const SYMBOLS: [SymbolDef; 6] = [
    SymbolDef { name: "EUR/USD", mid: 108_450, decimals: 5 },
    SymbolDef { name: "USD/JPY", mid: 151_230, decimals: 3 },
    SymbolDef { name: "GBP/USD", mid: 126_800, decimals: 5 },
    SymbolDef { name: "AUD/USD", mid: 65_400, decimals: 5 },
    SymbolDef { name: "USD/CHF", mid: 88_500, decimals: 5 },
    SymbolDef { name: "EUR/GBP", mid: 85_500, decimals: 5 },
];
/// Points in one pip (4th decimal, or 2nd for JPY pairs).
pub(crate) const PIP_POINTS: i64 = 10;

/// FIX 4.4 ExecType / OrdStatus codes used by the generator.
pub(crate) mod code {
    /// New (ExecType and OrdStatus).
    pub const NEW: u8 = b'0';
    /// PartiallyFilled (OrdStatus).
    pub const PARTIAL: u8 = b'1';
    /// Filled (OrdStatus).
    pub const FILLED: u8 = b'2';
    /// Canceled (ExecType and OrdStatus).
    pub const CANCELED: u8 = b'4';
    /// Replaced (ExecType; FIX 4.2 OrdStatus).
    pub const REPLACED: u8 = b'5';
    /// PendingCancel (ExecType and OrdStatus).
    pub const PENDING_CANCEL: u8 = b'6';
    /// Rejected (ExecType and OrdStatus).
    pub const REJECTED: u8 = b'8';
    /// PendingNew (ExecType and OrdStatus).
    pub const PENDING_NEW: u8 = b'A';
    /// Expired (ExecType and OrdStatus).
    pub const EXPIRED: u8 = b'C';
    /// PendingReplace (ExecType and OrdStatus).
    pub const PENDING_REPLACE: u8 = b'E';
    /// Trade (fill) ExecType.
    pub const TRADE: u8 = b'F';
    /// Trade correct ExecType.
    pub const TRADE_CORRECT: u8 = b'G';
    /// Trade cancel (bust) ExecType.
    pub const TRADE_CANCEL: u8 = b'H';
    /// Restated ExecType.
    pub const RESTATED: u8 = b'D';
    /// Not a FIX code: the report is an OrderCancelReject (35=9), not an ExecutionReport.
    pub const CANCEL_REJECT: u8 = b'!';
}

/// How one report is written (bits of [`Er::flags`]); 0 is the classic form.
pub(crate) mod er_flags {
    /// No ClOrdID (11) or OrigClOrdID (41): a drop copy keyed only by OrderID.
    pub const NO_CL_ORD_ID: u16 = 1 << 0;
    /// No OrderQty (38).
    pub const NO_ORDER_QTY: u16 = 1 << 1;
    /// No LastPx (31).
    pub const NO_LAST_PX: u16 = 1 << 2;
    /// No LastQty (32).
    pub const NO_LAST_QTY: u16 = 1 << 3;
    /// No AvgPx (6).
    pub const NO_AVG_PX: u16 = 1 << 4;
    /// No LeavesQty (151).
    pub const NO_LEAVES_QTY: u16 = 1 << 5;
    /// Length-prefixed data fields (90/91, 95/96, 212/213, 354/355, 93/89) whose values hold
    /// SOH, `=` and `10=`.
    pub const DATA_FIELDS: u16 = 1 << 6;
}

/// ClOrdID link: no OrigClOrdID.
pub(crate) const LINK_NONE: u8 = u8::MAX;
/// ClOrdID link of the cancel request (`.X`).
pub(crate) const LINK_CANCEL: u8 = u8::MAX - 1;
/// `fill_id` of a report that is not a fill.
pub(crate) const NO_FILL: u32 = u32::MAX;

/// An ExecID: `E%09d` (shared) or `HS%09d` (HOTSPOT drop copy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ExecId {
    /// HOTSPOT drop-copy numbering.
    pub hs: bool,
    /// Serial number.
    pub n: u32,
}

impl ExecId {
    /// Text form of the id.
    pub fn text(self) -> String {
        if self.hs { format!("HS{:09}", self.n) } else { format!("E{:09}", self.n) }
    }
}

/// Static facts of one order.
pub(crate) struct OrderInfo {
    /// Venue number.
    pub venue: u8,
    /// Primary gateway number (0 or 1).
    pub gw: u8,
    /// Symbol number.
    pub symbol: u8,
    /// Side: 1 buy, 2 sell.
    pub side: u8,
    /// Account number 1..=6.
    pub account: u8,
    /// Tenor: 0 spot, 1 one week, 2 one month.
    pub tenor: u8,
    /// Never reached the venue (OrderID `NONE`).
    pub internal: bool,
    /// First report of this order in `Day::ers`.
    pub er_start: u32,
    /// One past the last report of this order in `Day::ers`.
    pub er_end: u32,
    /// Whether the reconciler's venue label is the drop-copy SenderCompID (no 30/100 seen).
    pub label_is_sender: bool,
    /// What it carries: the scenario name of its order-level fault or situation, or `"normal"`.
    pub label: &'static str,
}

/// One ExecutionReport as delivered on one stream (FIX 4.4 semantics; FIX 4.2 encodings are
/// applied when writing).
#[derive(Clone, Copy)]
pub(crate) struct Er {
    /// Order number.
    pub order: u32,
    /// Logical fill number shared by both streams' reports of the same fill, or `NO_FILL`.
    pub fill_id: u32,
    /// ExecID.
    pub exec_id: ExecId,
    /// ExecRefID of a trade cancel/correct.
    pub exec_ref: Option<ExecId>,
    /// Stream.
    pub stream: u8,
    /// ExecType (4.4).
    pub exec_type: u8,
    /// OrdStatus (4.4).
    pub status: u8,
    /// ClOrdID link (0 root, n = `.Rn`, `LINK_CANCEL`).
    pub link: u8,
    /// OrigClOrdID link or `LINK_NONE`.
    pub orig: u8,
    /// OrderQty.
    pub order_qty: i64,
    /// CumQty.
    pub cum: i64,
    /// AvgPx in units of 10^-8.
    pub avg: i64,
    /// Limit price in points.
    pub price: i64,
    /// LastQty (0 when not a trade report).
    pub last_qty: i64,
    /// LastPx in points.
    pub last_px: i64,
    /// TransactTime (event time), µs.
    pub transact: i64,
    /// OrderID variant: 0 the order's first OrderID, n its n-th new one (a venue that assigns
    /// a new OrderID on each replace).
    pub oid: u8,
    /// How it is written ([`er_flags`]; 0: the classic form).
    pub flags: u16,
}

/// What a log line carries.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// ExecutionReport (index into `Day::ers`).
    Er(u32),
    /// Logon.
    Logon,
    /// Heartbeat.
    Heartbeat,
    /// Logout.
    Logout,
    /// ResendRequest; BeginSeqNo = seq of message `of` minus `minus`.
    ResendRequest { of: u32, minus: u64 },
    /// SequenceReset-GapFill; NewSeqNo = seq of message `of`.
    GapFill { of: u32 },
    /// SequenceReset-Reset; NewSeqNo = own seq + `jump`.
    Reset { jump: u64 },
    /// SequenceReset-GapFill; NewSeqNo = seq of message `of` plus `plus`.
    GapFillTo { of: u32, plus: u64 },
    /// ResendRequest for the whole session: BeginSeqNo 2, EndSeqNo 0 (infinity).
    ResendAll,
}

/// How a message takes its MsgSeqNum when its direction is numbered.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// Next number.
    Normal,
    /// Skip `k` numbers, then take the next.
    Skip(u64),
    /// Take the next number but never reach the file (withheld, re-sent later).
    Withheld,
    /// Same number as message `of` (duplicate or PossDup resend).
    CopyOf(u32),
    /// GapFill answering the skip at message `of`: seq = seq(of) - k.
    GapFillOf { of: u32, k: u64 },
    /// Take the next number, then continue from it plus the jump.
    Reset(u64),
    /// The number just below message `of`'s (an original delivered after its successor).
    Before(u32),
}

/// One log line (or withheld placeholder) of one direction.
#[derive(Clone, Copy)]
pub(crate) struct Msg {
    /// Arrival (file prefix) time, µs.
    pub arrival: i64,
    /// SendingTime, µs.
    pub sending: i64,
    /// OrigSendingTime for PossDup messages, µs.
    pub orig_sending: i64,
    /// MsgSeqNum (set by numbering).
    pub seq: u64,
    /// Direction index into `DIRS`.
    pub dir: u8,
    /// PossDupFlag=Y.
    pub poss_dup: bool,
    /// Whether the line is written to the file.
    pub written: bool,
    /// Content.
    pub kind: Kind,
    /// Numbering rule.
    pub rule: Rule,
}

impl Msg {
    /// A normally numbered, written message.
    pub fn new(dir: u8, kind: Kind, arrival: i64, sending: i64) -> Msg {
        Msg { arrival, sending, orig_sending: 0, seq: 0, dir, poss_dup: false, written: true, kind, rule: Rule::Normal }
    }
}

/// Everything generated so far for one day.
pub(crate) struct Day {
    /// Orders by number.
    pub orders: Vec<OrderInfo>,
    /// All execution reports of both streams.
    pub ers: Vec<Er>,
    /// All messages of all directions, in creation order (the index breaks arrival ties).
    pub msgs: Vec<Msg>,
    /// Ground truth of the order-level faults injected so far.
    pub expected: Vec<Expected>,
    /// Settlement dates `[spot, W1, M1]` as `YYYYMMDD`.
    pub settl_dates: [[u8; 8]; 3],
    /// Number of the day's first order (see `GenConfig::first_order`).
    pub first_order: u64,
}

impl Day {
    /// An empty day.
    pub fn new(capacity: usize, settl_dates: [[u8; 8]; 3], first_order: u64) -> Day {
        Day {
            orders: Vec::with_capacity(capacity),
            ers: Vec::with_capacity(capacity.saturating_mul(8)),
            msgs: Vec::with_capacity(capacity.saturating_mul(9)),
            expected: Vec::new(),
            settl_dates,
            first_order,
        }
    }

    /// The order number of root ClOrdID `root` (`C%07d`), if it is one of this day's.
    pub fn order_of_root(&self, root: &str) -> Option<u32> {
        let n: u64 = root.strip_prefix('C')?.parse().ok()?;
        let i = n.checked_sub(self.first_order + 1)?;
        u32::try_from(i).ok().filter(|&i| (i as usize) < self.orders.len())
    }

    /// Earliest arrival of each report among the written messages (`i64::MAX`: never written).
    pub fn first_arrivals(&self) -> Vec<i64> {
        let mut first = vec![i64::MAX; self.ers.len()];
        for m in self.msgs.iter().filter(|m| m.written) {
            if let Kind::Er(e) = m.kind {
                let slot = &mut first[e as usize];
                *slot = (*slot).min(m.arrival);
            }
        }
        first
    }

    /// The venue label of order `order` as the reconciler derives it.
    pub fn venue_label(&self, order: u32) -> &'static str {
        let o = &self.orders[order as usize];
        let v = &VENUES[usize::from(o.venue)];
        if o.label_is_sender { v.dc_sender } else { v.name }
    }
}

/// Root ClOrdID of order `order` of a day whose order numbers start at `first_order`.
pub(crate) fn root_cl_ord_id(first_order: u64, order: u32) -> String {
    format!("C{:07}", first_order + u64::from(order) + 1)
}
