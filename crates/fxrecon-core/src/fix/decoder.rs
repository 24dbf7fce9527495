//! Decoder of one FIX tag=value message (one log line) into an `ExecEvent`.
//!
//! Owns: framing (SOH or `|`), the optional timestamp prefix, BodyLength and CheckSum checks,
//! length-prefixed data fields (read by their length, [`DATA_FIELDS`]), the mapping of the tags
//! fxrecon reads, and the time a message read from a file takes on the event clock
//! ([`ExecEvent::file_time`]). Works over a borrowed slice and never allocates; tags it does not
//! read are skipped.

use crate::decimal::{DecimalError, Fixed};
use crate::event::{ExecEvent, ExecType, MsgKind, OrdStatus, has};
use crate::text::InlineStr;
use crate::time::Micros;

const SOH: u8 = 0x01;

/// A length-prefixed field pair: the value of `data` is exactly as many bytes as the value of
/// `length`, the field right before it, says; it may hold SOH, `|`, `=` or `10=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataField {
    /// The length field (e.g. 95 RawDataLength).
    pub length: u32,
    /// The data field it announces (e.g. 96 RawData).
    pub data: u32,
    /// FIX name of the data field.
    pub name: &'static str,
}

/// Every length/data pair the decoder reads by length (contract 1.1): every field of type
/// `data` of FIX 4.4 (FIX44.xml) and of the FIXT.1.1 session layer (FIXT11.xml: the Logon
/// passwords), and those of FIX 5.0SP2 (FIX50SP2.xml) numbered below 5000. The EP-era 5.0SP2
/// pairs numbered 40000 and above are left out: in FIX 4.4 those numbers are user-defined, and
/// a counterparty's plain-text custom tag of the same number must not be taken for a data
/// field. The length field need not be the lower number (2372 announces 2371), nor the data
/// tag minus one (1525 announces 1527). Every tag here is at least [`DATA_TAGS_FROM`] and
/// below 2880 (checked when [`DATA_TAG_BITS`] is built).
pub const DATA_FIELDS: &[DataField] = &[
    // FIX 4.4 (also 4.2, which has all of these but 619 and 622) and FIXT.1.1.
    DataField { length: 93, data: 89, name: "Signature" },
    DataField { length: 90, data: 91, name: "SecureData" },
    DataField { length: 95, data: 96, name: "RawData" },
    DataField { length: 212, data: 213, name: "XmlData" },
    DataField { length: 348, data: 349, name: "EncodedIssuer" },
    DataField { length: 350, data: 351, name: "EncodedSecurityDesc" },
    DataField { length: 352, data: 353, name: "EncodedListExecInst" },
    DataField { length: 354, data: 355, name: "EncodedText" },
    DataField { length: 356, data: 357, name: "EncodedSubject" },
    DataField { length: 358, data: 359, name: "EncodedHeadline" },
    DataField { length: 360, data: 361, name: "EncodedAllocText" },
    DataField { length: 362, data: 363, name: "EncodedUnderlyingIssuer" },
    DataField { length: 364, data: 365, name: "EncodedUnderlyingSecurityDesc" },
    DataField { length: 445, data: 446, name: "EncodedListStatusText" },
    DataField { length: 618, data: 619, name: "EncodedLegIssuer" },
    DataField { length: 621, data: 622, name: "EncodedLegSecurityDesc" },
    // FIXT.1.1 Logon.
    DataField { length: 1401, data: 1402, name: "EncryptedPassword" },
    DataField { length: 1403, data: 1404, name: "EncryptedNewPassword" },
    // FIX 5.0SP2, below 5000.
    DataField { length: 1184, data: 1185, name: "SecurityXML" },
    DataField { length: 1277, data: 1278, name: "DerivativeEncodedIssuer" },
    DataField { length: 1280, data: 1281, name: "DerivativeEncodedSecurityDesc" },
    DataField { length: 1282, data: 1283, name: "DerivativeSecurityXML" },
    DataField { length: 1397, data: 1398, name: "EncodedMktSegmDesc" },
    DataField { length: 1468, data: 1469, name: "EncodedSecurityListDesc" },
    DataField { length: 1525, data: 1527, name: "EncodedDocumentationText" },
    DataField { length: 1578, data: 1579, name: "EncodedEventText" },
    DataField { length: 1620, data: 1621, name: "InstrumentScopeEncodedSecurityDesc" },
    DataField { length: 1664, data: 1665, name: "EncodedRejectText" },
    DataField { length: 1678, data: 1697, name: "EncodedOptionExpirationDesc" },
    DataField { length: 1733, data: 1734, name: "EncodedFirmAllocText" },
    DataField { length: 1871, data: 1872, name: "LegSecurityXML" },
    DataField { length: 1874, data: 1875, name: "UnderlyingSecurityXML" },
    DataField { length: 2072, data: 2073, name: "EncodedUnderlyingEventText" },
    DataField { length: 2074, data: 2075, name: "EncodedLegEventText" },
    DataField { length: 2111, data: 2112, name: "EncodedAttachment" },
    DataField { length: 2179, data: 2180, name: "EncodedLegOptionExpirationDesc" },
    DataField { length: 2287, data: 2288, name: "EncodedUnderlyingOptionExpirationDesc" },
    DataField { length: 2351, data: 2352, name: "EncodedComplianceText" },
    DataField { length: 2372, data: 2371, name: "EncodedTradeContinuationText" },
    DataField { length: 2481, data: 2482, name: "EncodedMDStatisticDesc" },
    DataField { length: 2494, data: 2493, name: "EncodedLegDocumentationText" },
    DataField { length: 2522, data: 2521, name: "EncodedWarningText" },
    DataField { length: 2637, data: 2638, name: "EncodedMiscFeeSubTypeDesc" },
    DataField { length: 2651, data: 2652, name: "EncodedCommissionDesc" },
    DataField { length: 2665, data: 2666, name: "EncodedAllocCommissionDesc" },
    DataField { length: 2715, data: 2716, name: "EncodedFinancialInstrumentFullName" },
    DataField { length: 2718, data: 2719, name: "EncodedLegFinancialInstrumentFullName" },
    DataField { length: 2721, data: 2722, name: "EncodedUnderlyingFinancialInstrumentFullName" },
    DataField { length: 2797, data: 2798, name: "EncodedMatchExceptionText" },
    DataField { length: 2802, data: 2801, name: "EncodedReplaceText" },
    DataField { length: 2809, data: 2808, name: "EncodedCancelText" },
    DataField { length: 2815, data: 2814, name: "EncodedPostTradePaymentDesc" },
];

/// Tags below this are neither length nor data fields (the test on the tags the decoder does
/// not read starts with it: most of those are below it).
const DATA_TAGS_FROM: u32 = 89;
/// Bit `t`: tag `t` is a length or a data field of [`DATA_FIELDS`].
const DATA_TAG_BITS: [u64; 45] = {
    let mut bits = [0u64; 45];
    let mut i = 0;
    while i < DATA_FIELDS.len() {
        let f = DATA_FIELDS[i];
        assert!(f.length >= DATA_TAGS_FROM && f.data >= DATA_TAGS_FROM);
        assert!((f.length as usize) < 45 * 64 && (f.data as usize) < 45 * 64);
        bits[f.length as usize / 64] |= 1 << (f.length % 64);
        bits[f.data as usize / 64] |= 1 << (f.data % 64);
        i += 1;
    }
    bits
};

/// True when `tag` is a length or a data field of [`DATA_FIELDS`].
#[inline(always)]
fn is_data_pair_tag(tag: u32) -> bool {
    tag >= DATA_TAGS_FROM && DATA_TAG_BITS.get(tag as usize / 64).is_some_and(|w| w >> (tag % 64) & 1 != 0)
}

/// A length or data field (`tag`, value `v`; the next field starts at `at`): reads the data
/// field a length field announces ([`skip_data_field`]); a data field met on its own is an
/// error.
#[cold]
#[inline(never)]
fn data_pair_field(msg: &[u8], at: usize, delim: u8, tag: u32, v: &[u8]) -> Result<(usize, u32), DecodeError> {
    match data_field_of_data(tag) {
        Some(f) => Err(DecodeError::DataWithoutLength { data: f.data, length: f.length }),
        None => skip_data_field(msg, at, delim, tag, v),
    }
}

/// The pair whose length field is `tag`.
fn data_field_of_length(tag: u32) -> Option<&'static DataField> {
    DATA_FIELDS.iter().find(|f| f.length == tag)
}

/// The pair whose data field is `tag`.
fn data_field_of_data(tag: u32) -> Option<&'static DataField> {
    DATA_FIELDS.iter().find(|f| f.data == tag)
}

/// Why a message was rejected. `Display` is the reason written to the rejects output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Nothing but whitespace.
    #[error("empty message")]
    Empty,
    /// No `8=FIX` on the line.
    #[error("no BeginString (8=FIX...) found")]
    NoBeginString,
    /// A field without `=` or with a non-numeric tag.
    #[error("malformed field at byte {0}")]
    MalformedField(usize),
    /// BodyLength present but the message does not end with a CheckSum.
    #[error("truncated message: BodyLength (9) present but no CheckSum (10) at the end")]
    Truncated,
    /// BodyLength value differs from the bytes present.
    #[error("BodyLength (9) says {declared} but the body is {actual} bytes")]
    BodyLength {
        /// Value of tag 9.
        declared: u64,
        /// Bytes actually between tag 9 and tag 10.
        actual: u64,
    },
    /// CheckSum value differs from the computed one.
    #[error("CheckSum (10) says {declared} but the message sums to {actual:03}")]
    CheckSum {
        /// Value of tag 10.
        declared: u32,
        /// Computed value.
        actual: u32,
    },
    /// A required tag is absent.
    #[error("missing required tag {0}")]
    MissingTag(u32),
    /// ExecutionReport with neither ClOrdID (11) nor OrderID (37).
    #[error("ExecutionReport has neither ClOrdID (11) nor OrderID (37)")]
    NoOrderIdentity,
    /// A numeric field that does not parse.
    #[error("bad number in tag {0}")]
    BadNumber(u32),
    /// A decimal with more precision than fxrecon keeps exactly.
    #[error("too many decimal places in tag {0}")]
    TooPrecise(u32),
    /// A timestamp that is not a FIX UTCTimestamp.
    #[error("bad timestamp in tag {0}")]
    BadTimestamp(u32),
    /// A value longer than its inline capacity.
    #[error("value of tag {0} is too long")]
    TooLong(u32),
    /// An OrdStatus code fxrecon does not know.
    #[error("unknown OrdStatus (39) value")]
    UnknownOrdStatus,
    /// A file line with neither an arrival-time prefix nor a SendingTime: it has no place on
    /// the event clock.
    #[error("no arrival time prefix and no SendingTime (52)")]
    NoTime,
    /// A quantity below zero.
    #[error("negative quantity in tag {0}")]
    NegativeQuantity(u32),
    /// A data field (e.g. 96 RawData) that does not come right after its length field.
    #[error("data field {data} without its length field {length} right before it")]
    DataWithoutLength {
        /// The data field.
        data: u32,
        /// Its length field.
        length: u32,
    },
    /// A length field (e.g. 95 RawDataLength) whose next field is not its data field.
    #[error("length field {length} is not followed by its data field {data}")]
    LengthWithoutData {
        /// The length field.
        length: u32,
        /// The data field that must follow it.
        data: u32,
    },
    /// A length field whose value runs past the end of the message.
    #[error("data field {data} is {declared} bytes long by its length field {length}, past the end of the message")]
    DataPastEnd {
        /// The data field.
        data: u32,
        /// Its length field.
        length: u32,
        /// The length it declares.
        declared: u64,
    },
    /// The byte right after a data field's value (as long as its length field says) is not
    /// the delimiter.
    #[error("no delimiter after the {declared} bytes of data field {data} (length in field {length})")]
    DataNotDelimited {
        /// The data field.
        data: u32,
        /// Its length field.
        length: u32,
        /// The length it declares.
        declared: u64,
    },
}

impl ExecEvent {
    /// Event time of a message read from a file (contract 1.3): its arrival prefix, else its
    /// SendingTime, never before the stream's `clock` (a time going backwards is clamped).
    pub fn file_time(&self, clock: Micros) -> Result<Micros, DecodeError> {
        if self.has(has::ARRIVAL | has::SENDING_TIME) { Ok(self.time.max(clock)) } else { Err(DecodeError::NoTime) }
    }
}

/// Decodes `line` (one message, with or without a log prefix, no trailing newline) into `out`.
///
/// `out` is overwritten except for `stream`, `line` and `event_time`, which belong to ingest.
pub fn decode(line: &[u8], out: &mut ExecEvent) -> Result<(), DecodeError> {
    let mut has_data = false;
    let r = decode_as::<false>(line, out, &mut has_data);
    if has_data { decode_with_data_fields(line, out) } else { r }
}

/// The decoding of a message that has a length or data field ([`DATA_FIELDS`]): again from
/// the start, this time reading data fields by their length.
///
/// Why a second pass rather than one loop for all: reading a data field (a jump of the field
/// scan past its value) in the field loop made the loop keep its state on the stack, about 560
/// instructions per message more (callgrind, +15%) on messages that have none. The common
/// loop only notices such a field and stops (one test on the tags it does not read), and the
/// rare message pays for two passes.
#[cold]
#[inline(never)]
fn decode_with_data_fields(line: &[u8], out: &mut ExecEvent) -> Result<(), DecodeError> {
    decode_as::<true>(line, out, &mut false)
}

/// The decoder. `DATA`: read length-prefixed data fields; without it, the first length or data
/// field sets `has_data` and ends the decoding (with `out` half written) for the caller to
/// decode again with it.
#[inline(always)]
fn decode_as<const DATA: bool>(line: &[u8], out: &mut ExecEvent, has_data: &mut bool) -> Result<(), DecodeError> {
    let line = trim_end(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Err(DecodeError::Empty);
    }
    let start = find_begin(line).ok_or(DecodeError::NoBeginString)?;
    let msg = &line[start..];
    let prefix = &line[..start];

    reset_decoded(out, parse_prefix(prefix));

    // The first SOH or `|` after "8=" decides the delimiter (SOH when there is neither).
    let first_delim = first_delimiter(msg);
    let delim = first_delim.map_or(SOH, |i| msg[i]);

    if declares_body_length(msg, first_delim) && !ends_with_checksum(msg, delim) {
        return Err(DecodeError::Truncated);
    }

    let mut body_len: Option<(u64, usize)> = None; // (declared, body start offset)
    let mut checksum: Option<(u32, usize)> = None; // (declared, offset of "10=")
    let mut exec_trans_type = 0u8;
    let mut ord_status_raw: Option<&[u8]> = None;
    let mut seen_35 = false;
    // `|` bytes inside data values: data, not delimiters, for the CheckSum of a `|` line.
    let mut data_pipes = 0u32;

    let mut delims = Delims::new(msg, delim);
    let mut field_start = 0usize;
    while field_start < msg.len() {
        // The first delimiter at or after `field_start` (tags hold none): this field's end.
        let field_end = delims.next();
        let (tag, vs) = match tag_fast(msg, field_start) {
            Some(t) => t,
            None => {
                // General form (long or odd tags, the end of the message): digits up to 9, then '='.
                let field = &msg[field_start..field_end];
                let mut tag: u32 = 0;
                let mut i = 0;
                while i < field.len().min(9) {
                    let d = field[i].wrapping_sub(b'0');
                    if d > 9 {
                        break;
                    }
                    tag = tag * 10 + d as u32;
                    i += 1;
                }
                if i == 0 || i >= field.len() || field[i] != b'=' {
                    return Err(DecodeError::MalformedField(start + field_start));
                }
                (tag, field_start + i + 1)
            }
        };
        let v = &msg[vs..field_end];
        let vlen = field_end - vs;
        let pos = field_end + 1;
        if checksum.is_some() {
            // Anything after CheckSum is not part of the message.
            return Err(DecodeError::MalformedField(start + field_start));
        }
        let this_field = field_start;
        field_start = pos;
        // Values are read in place from `msg` (fixed-size copies and loads where it has room).
        let rest = &msg[vs..];

        match tag {
            // BeginString: its family is not used (FIX 4.2 forms are told by their own tags).
            8 => {}
            9 => body_len = Some((uint(v, 9)?, pos.min(msg.len()))),
            10 => {
                if v.len() != 3 {
                    return Err(DecodeError::BadNumber(10));
                }
                checksum = Some((uint(v, 10)? as u32, this_field));
            }
            35 => {
                seen_35 = true;
                out.kind = msg_kind(v);
            }
            34 => {
                out.seq = uint(v, 34)?;
                out.present |= has::SEQ;
            }
            43 => out.poss_dup = v == b"Y",
            141 => out.reset_seq_num = v == b"Y",
            123 => out.gap_fill = v == b"Y",
            36 => {
                out.new_seq_no = uint(v, 36)?;
                out.present |= has::NEW_SEQ_NO;
            }
            49 => set_text(&mut out.sender, rest, vlen, 49)?,
            56 => set_text(&mut out.target, rest, vlen, 56)?,
            // SendingTime is only the clock of lines without an arrival prefix: parse it there.
            52 if !out.has(has::ARRIVAL) => {
                out.time = Micros::parse_fix(v).ok_or(DecodeError::BadTimestamp(52))?;
                out.present |= has::SENDING_TIME;
            }
            11 => set_text(&mut out.cl_ord_id, rest, vlen, 11)?,
            41 => set_text(&mut out.orig_cl_ord_id, rest, vlen, 41)?,
            37 => set_text(&mut out.order_id, rest, vlen, 37)?,
            17 => set_text(&mut out.exec_id, rest, vlen, 17)?,
            19 => set_text(&mut out.exec_ref_id, rest, vlen, 19)?,
            150 => {
                out.exec_type = ExecType::from_code(v);
                out.present |= has::EXEC_TYPE;
            }
            20 => exec_trans_type = v.first().copied().unwrap_or(b'0'),
            39 => ord_status_raw = Some(v),
            54 => out.side = v.first().copied().unwrap_or(0),
            55 => set_text(&mut out.symbol, rest, vlen, 55)?,
            1 => set_text(&mut out.account, rest, vlen, 1)?,
            30 => set_text(&mut out.venue, rest, vlen, 30)?,
            100 if out.venue.is_empty() => set_text(&mut out.venue, rest, vlen, 100)?,
            38 => set_dec(&mut out.order_qty, msg, vs, vlen, 38, &mut out.present, has::ORDER_QTY)?,
            44 => set_dec(&mut out.price, msg, vs, vlen, 44, &mut out.present, has::PRICE)?,
            32 => set_dec(&mut out.last_qty, msg, vs, vlen, 32, &mut out.present, has::LAST_QTY)?,
            31 => set_dec(&mut out.last_px, msg, vs, vlen, 31, &mut out.present, has::LAST_PX)?,
            14 => set_dec(&mut out.cum_qty, msg, vs, vlen, 14, &mut out.present, has::CUM_QTY)?,
            151 => set_dec(&mut out.leaves_qty, msg, vs, vlen, 151, &mut out.present, has::LEAVES_QTY)?,
            6 => set_dec(&mut out.avg_px, msg, vs, vlen, 6, &mut out.present, has::AVG_PX)?,
            _ => {
                if is_data_pair_tag(tag) {
                    if !DATA {
                        *has_data = true;
                        return Ok(());
                    }
                    // A length field: the next field is its data field, read by length (its
                    // value is not used), and the field scan goes on after it. A data field
                    // met here has no length field right before it.
                    let (next, pipes) = data_pair_field(msg, pos, delim, tag, v)?;
                    data_pipes += pipes;
                    field_start = next;
                    delims.skip_to(next);
                }
            }
        }
    }

    verify_framing(msg, delim, body_len, checksum, data_pipes)?;

    if !seen_35 {
        return Err(DecodeError::MissingTag(35));
    }
    if let Some(v) = ord_status_raw {
        out.ord_status = OrdStatus::from_code(v).ok_or(DecodeError::UnknownOrdStatus)?;
        out.present |= has::ORD_STATUS;
    }
    if matches!(out.kind, MsgKind::ExecutionReport) {
        if out.exec_id.is_empty() {
            return Err(DecodeError::MissingTag(17));
        }
        if !out.has(has::EXEC_TYPE) {
            return Err(DecodeError::MissingTag(150));
        }
        if !out.has(has::ORD_STATUS) {
            return Err(DecodeError::MissingTag(39));
        }
        // Judged on the final values: a repeated tag may have emptied an earlier one.
        if out.cl_ord_id.is_empty() && out.order_id.is_empty() {
            return Err(DecodeError::NoOrderIdentity);
        }
        // FIX 4.2 trade bust/correct: ExecTransType 1/2 refer to the report in ExecRefID.
        match exec_trans_type {
            b'1' => out.exec_type = ExecType::TradeCancel,
            b'2' => out.exec_type = ExecType::TradeCorrect,
            b'3' => out.exec_type = ExecType::OrderStatus,
            _ => {}
        }
    }
    Ok(())
}

/// Resets every field the decoder owns to its default, keeping ingest's (`stream`, `line`,
/// `event_time`): the same value as `ExecEvent { stream, line, event_time, time, present,
/// ..Default::default() }` (`time` and `present` holding the arrival prefix, if any), but a text field is only emptied (its length byte), not its whole
/// capacity rewritten (330 of the event's 440 bytes; unused capacity is never read). The
/// pattern names every field, so a field added to the event cannot be left out.
#[inline(always)]
fn reset_decoded(out: &mut ExecEvent, arrival_prefix: Option<Micros>) {
    let ExecEvent {
        stream: _,
        line: _,
        event_time: _,
        time,
        kind,
        present,
        seq,
        poss_dup,
        reset_seq_num,
        gap_fill,
        new_seq_no,
        sender,
        target,
        cl_ord_id,
        orig_cl_ord_id,
        order_id,
        exec_id,
        exec_ref_id,
        exec_type,
        ord_status,
        side,
        symbol,
        account,
        venue,
        order_qty,
        price,
        last_qty,
        last_px,
        cum_qty,
        leaves_qty,
        avg_px,
    } = out;
    (*time, *present) = match arrival_prefix {
        Some(t) => (t, has::ARRIVAL),
        None => (Micros::default(), 0),
    };
    *kind = MsgKind::default();
    *seq = 0;
    *poss_dup = false;
    *reset_seq_num = false;
    *gap_fill = false;
    *new_seq_no = 0;
    for id in [cl_ord_id, orig_cl_ord_id, order_id, exec_id, exec_ref_id] {
        id.clear();
    }
    for name in [sender, target, symbol, account, venue] {
        name.clear();
    }
    *exec_type = ExecType::default();
    *ord_status = OrdStatus::default();
    *side = 0;
    for q in [order_qty, last_qty, cum_qty, leaves_qty] {
        *q = Default::default();
    }
    for p in [price, last_px, avg_px] {
        *p = Default::default();
    }
}

/// The delimiters of a message in order, found 64 bytes at a time (four 16-byte comparisons
/// per block, into one bit mask).
///
/// Why not a search per field: each field's search started where the last value ended, so
/// every field waited for the previous one's load and compare (a chain of about 20 cycles per
/// field, which was most of the decoder's time). Here the next field's start comes from
/// clearing the lowest bit of a mask, so the work of consecutive fields overlaps.
struct Delims<'a> {
    hay: &'a [u8],
    delim: u8,
    /// Offset of the block `mask` covers.
    base: usize,
    /// Bit `i`: a delimiter at `base + i` not yet handed out.
    mask: u64,
}

impl<'a> Delims<'a> {
    fn new(hay: &'a [u8], delim: u8) -> Self {
        Self { hay, delim, base: 0, mask: super::simd::eq_mask64(hay, 0, delim) }
    }

    /// Position of the next delimiter not yet handed out (or `hay.len()` when there is none).
    /// Positions come in increasing order, each once.
    #[inline(always)]
    fn next(&mut self) -> usize {
        while self.mask == 0 {
            let next = self.base + 64;
            if next >= self.hay.len() {
                return self.hay.len();
            }
            self.base = next;
            self.mask = super::simd::eq_mask64(self.hay, next, self.delim);
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        at
    }

    /// Drops the delimiters before `pos` not yet handed out (they lay inside a data value):
    /// the next one handed out is the first at or after `pos`. `pos` is past every position
    /// handed out so far.
    fn skip_to(&mut self, pos: usize) {
        if pos >= self.base + 64 {
            self.base = pos;
            self.mask = super::simd::eq_mask64(self.hay, pos, self.delim);
        } else if pos > self.base {
            self.mask &= u64::MAX << (pos - self.base);
        }
    }
}

/// Reads the data field that must follow length field `length` (value `v`) at `at`: its value
/// is taken as exactly that many bytes, and the delimiter must come right after it (or the end
/// of the line). Returns where the field after it starts, and the `|` bytes in the value (for
/// the CheckSum of a `|` line; 0 on a SOH line).
fn skip_data_field(msg: &[u8], at: usize, delim: u8, length: u32, v: &[u8]) -> Result<(usize, u32), DecodeError> {
    // Only tags of the table reach here.
    let data = data_field_of_length(length).map_or(0, |f| f.data);
    let declared = uint(v, length)?;
    let field = msg.get(at..).unwrap_or_default();
    let digits = field.iter().take(9).take_while(|b| b.is_ascii_digit()).count();
    let tag = field[..digits].iter().fold(0u32, |t, &d| t * 10 + (d - b'0') as u32);
    if digits == 0 || field.get(digits) != Some(&b'=') || tag != data {
        return Err(DecodeError::LengthWithoutData { length, data });
    }
    let vs = at + digits + 1;
    let room = (msg.len() - vs) as u64;
    if declared > room {
        return Err(DecodeError::DataPastEnd { data, length, declared });
    }
    let end = vs + declared as usize;
    if end < msg.len() && msg[end] != delim {
        return Err(DecodeError::DataNotDelimited { data, length, declared });
    }
    let pipes = if delim == b'|' { msg[vs..end].iter().filter(|&&b| b == b'|').count() as u32 } else { 0 };
    Ok((end + 1, pipes))
}

fn verify_framing(
    msg: &[u8],
    delim: u8,
    body_len: Option<(u64, usize)>,
    checksum: Option<(u32, usize)>,
    data_pipes: u32,
) -> Result<(), DecodeError> {
    if let Some((declared, at)) = checksum {
        let covered = &msg[..at];
        // Messages are at most 64 KiB (max_message_bytes), so the sum fits in a u32.
        let mut sum = super::simd::byte_sum(covered) as u32;
        if delim == b'|' {
            // Summed as if each delimiter were SOH; a `|` inside a data value is data and
            // counts as itself.
            let pipes = covered.iter().filter(|&&b| b == b'|').count() as u32 - data_pipes;
            sum -= pipes * (b'|' - SOH) as u32;
        }
        let actual = sum % 256;
        if let Some((declared_len, body_start)) = body_len {
            let actual_len = at.saturating_sub(body_start) as u64;
            if declared_len != actual_len {
                return Err(DecodeError::BodyLength { declared: declared_len, actual: actual_len });
            }
        }
        if declared != actual {
            return Err(DecodeError::CheckSum { declared, actual });
        }
    } else if body_len.is_some() {
        return Err(DecodeError::Truncated);
    }
    Ok(())
}

/// Position of the first SOH or `|` from byte 2 on (bytes 0 and 1 are "8="), 16 bytes at a
/// time: it is the end of BeginString, a few bytes in.
fn first_delimiter(msg: &[u8]) -> Option<usize> {
    let mut at = 2;
    while let (Some(soh), Some(pipe)) = (super::simd::eq_mask16(msg, at, SOH), super::simd::eq_mask16(msg, at, b'|')) {
        if soh | pipe != 0 {
            return Some(at + (soh | pipe).trailing_zeros() as usize);
        }
        at += 16;
    }
    (at..msg.len()).find(|&i| msg[i] == SOH || msg[i] == b'|')
}

/// True when the second field is BodyLength (9), i.e. the message claims to be framed
/// (`first_delim`: where the first field ends).
fn declares_body_length(msg: &[u8], first_delim: Option<usize>) -> bool {
    first_delim.is_some_and(|i| msg[i + 1..].starts_with(b"9="))
}

/// True when the message ends with a `10=` field (optionally followed by the delimiter).
fn ends_with_checksum(msg: &[u8], delim: u8) -> bool {
    let m = msg.strip_suffix(&[delim]).unwrap_or(msg);
    m.len() >= 7 && m[m.len() - 7] == delim && &m[m.len() - 6..m.len() - 3] == b"10="
}

fn find_begin(line: &[u8]) -> Option<usize> {
    // The prefix is short (none, or a ~30-byte timestamp): test each '8' of 16 bytes at a time
    // in line (a memchr call per candidate, or a memmem searcher per message, costs more).
    let mut at = 0;
    while let Some(mut eights) = super::simd::eq_mask16(line, at, b'8') {
        while eights != 0 {
            let i = at + eights.trailing_zeros() as usize;
            if line[i..].starts_with(b"8=FIX") {
                return Some(i);
            }
            eights &= eights - 1;
        }
        at += 16;
    }
    (at..line.len()).find(|&i| line[i..].starts_with(b"8=FIX"))
}

fn trim_end(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &line[..end]
}

/// The arrival time in a QuickFIX-style prefix (`20261125-13:33:20.297035000 : `), if any.
fn parse_prefix(prefix: &[u8]) -> Option<Micros> {
    let p = prefix.trim_ascii();
    let p = p.strip_suffix(b":").unwrap_or(p).trim_ascii_end();
    if p.is_empty() {
        return None;
    }
    Micros::parse_fix(p)
}

fn msg_kind(v: &[u8]) -> MsgKind {
    match v {
        b"8" => MsgKind::ExecutionReport,
        b"9" => MsgKind::OrderCancelReject,
        b"A" => MsgKind::Logon,
        b"0" => MsgKind::Heartbeat,
        b"1" => MsgKind::TestRequest,
        b"2" => MsgKind::ResendRequest,
        b"4" => MsgKind::SequenceReset,
        b"5" => MsgKind::Logout,
        b"3" => MsgKind::Reject,
        _ => MsgKind::Other,
    }
}

fn uint(v: &[u8], tag: u32) -> Result<u64, DecodeError> {
    if v.is_empty() || v.len() > 19 {
        return Err(DecodeError::BadNumber(tag));
    }
    let mut n = 0u64;
    for &b in v {
        if !b.is_ascii_digit() {
            return Err(DecodeError::BadNumber(tag));
        }
        n = n * 10 + (b - b'0') as u64;
    }
    Ok(n)
}

/// The tag of the field at `at` and where its value starts, for tags of 1 to 3 digits read from
/// one 4-byte load (`None`: anything else, decided by the general loop).
#[inline]
fn tag_fast(msg: &[u8], at: usize) -> Option<(u32, usize)> {
    let w = u32::from_le_bytes(msg.get(at..at + 4)?.try_into().ok()?);
    let d = w.wrapping_sub(0x3030_3030).to_le_bytes();
    let b = w.to_le_bytes();
    if d[0] > 9 {
        return None;
    }
    if b[1] == b'=' {
        Some((d[0] as u32, at + 2))
    } else if d[1] > 9 {
        None
    } else if b[2] == b'=' {
        Some((d[0] as u32 * 10 + d[1] as u32, at + 3))
    } else if d[2] <= 9 && b[3] == b'=' {
        Some((d[0] as u32 * 100 + d[1] as u32 * 10 + d[2] as u32, at + 4))
    } else {
        None
    }
}

/// Sets a text field from the value at the start of `rest`, `len` bytes long.
#[inline]
fn set_text<const N: usize>(slot: &mut InlineStr<N>, rest: &[u8], len: usize, tag: u32) -> Result<(), DecodeError> {
    slot.set_from(rest, len).map_err(|_| DecodeError::TooLong(tag))
}

/// Sets a decimal field from `msg[vs..vs + len]`.
#[inline(always)]
fn set_dec<const S: u32>(
    slot: &mut Fixed<S>,
    msg: &[u8],
    vs: usize,
    len: usize,
    tag: u32,
    present: &mut u16,
    bit: u16,
) -> Result<(), DecodeError> {
    *slot = Fixed::parse_in(msg, vs, len).map_err(|e| match e {
        DecimalError::TooPrecise => DecodeError::TooPrecise(tag),
        DecimalError::NotANumber | DecimalError::Overflow => DecodeError::BadNumber(tag),
    })?;
    // Quantities (scale 4) are never negative; prices may be.
    if S == 4 && slot.0 < 0 {
        return Err(DecodeError::NegativeQuantity(tag));
    }
    *present |= bit;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a framed SOH message with correct BodyLength and CheckSum from `|` text.
    pub(crate) fn framed(body: &str) -> Vec<u8> {
        let body = body.replace('|', "\x01");
        let head = format!("8=FIX.4.4\x019={}\x01", body.len());
        let mut m = format!("{head}{body}").into_bytes();
        let sum: u32 = m.iter().map(|&b| b as u32).sum::<u32>() % 256;
        m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
        m
    }

    fn dec(line: &[u8]) -> Result<ExecEvent, DecodeError> {
        let mut e = ExecEvent::default();
        decode(line, &mut e).map(|_| e)
    }

    const ER: &str = "35=8|34=2|49=FXGW|52=20261125-13:47:53.557|56=FIRM|1=ACC-Q|6=1.0801|11=Q0001|14=1000000|17=QX000002|31=1.0801|32=1000000|37=V-1|38=2000000|39=1|44=1.0801|54=1|55=EUR/USD|150=F|151=1000000|";

    #[test]
    fn decodes_quickfix_line_with_prefix() {
        let mut line = b"20261125-13:47:53.561269000 : ".to_vec();
        line.extend(framed(ER));
        let e = dec(&line).unwrap();
        assert_eq!(e.kind, MsgKind::ExecutionReport);
        assert_eq!(e.arrival().unwrap().rfc3339().to_string(), "2026-11-25T13:47:53.561269Z");
        assert_eq!(e.seq, 2);
        assert_eq!(e.sender.as_str(), "FXGW");
        assert_eq!(e.cl_ord_id.as_str(), "Q0001");
        assert_eq!(e.exec_type, ExecType::Trade);
        assert_eq!(e.ord_status, OrdStatus::PartiallyFilled);
        assert_eq!(e.cum_qty.to_string(), "1000000");
        assert_eq!(e.last_px.to_string(), "1.0801");
        assert!(e.has(has::LEAVES_QTY));
    }

    /// Decoding into an event that held another message (a reused ring slot) gives the same
    /// event as decoding into a fresh one, ingest's fields kept: the reset empties every field
    /// the decoder owns, whatever the earlier message set.
    #[test]
    fn decoding_into_a_used_event_equals_decoding_into_a_fresh_one() {
        let mut prefixed = b"20261125-13:47:53.561269000 : ".to_vec();
        prefixed.extend(framed(ER));
        let lines: Vec<Vec<u8>> = vec![
            prefixed,
            framed(ER),
            b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|38=100".to_vec(),
            b"8=FIX.4.2|35=8|11=A|17=E2|19=E1|20=1|150=2|39=1|41=Z|30=XNAS|1=ACC|55=X|31=1.5|32=7".to_vec(),
            b"8=FIX.4.4|35=4|34=9|43=Y|97=Y|123=Y|36=20|49=S|56=T|52=20261125-13:47:53.557".to_vec(),
            b"8=FIX.4.4|35=A|34=1|141=Y|49=S|56=T|52=20261125-13:47:53".to_vec(),
            b"8=FIX.4.4|35=8|11=BAD|17=E|150=0|39=0|38=1O0".to_vec(),
        ];
        for earlier in &lines {
            for line in &lines {
                let mut used = ExecEvent::default();
                let _ = decode(earlier, &mut used);
                (used.stream, used.line, used.event_time) = (crate::event::Stream::DropCopy, 42, Micros(7));
                let mut fresh = ExecEvent {
                    stream: crate::event::Stream::DropCopy,
                    line: 42,
                    event_time: Micros(7),
                    ..Default::default()
                };
                assert_eq!(decode(line, &mut used), decode(line, &mut fresh));
                assert_eq!(
                    used,
                    fresh,
                    "{:?} after {:?}",
                    String::from_utf8_lossy(line),
                    String::from_utf8_lossy(earlier)
                );
            }
        }
    }

    #[test]
    fn pipe_delimited_checksum_is_computed_as_soh() {
        let soh = framed(ER);
        let pipe: Vec<u8> = soh.iter().map(|&b| if b == SOH { b'|' } else { b }).collect();
        assert!(dec(&pipe).is_ok());
    }

    #[test]
    fn hand_written_pipe_line_without_framing_is_accepted() {
        let e = dec(b"8=FIX.4.4|35=8|11=A|17=E1|150=0|39=0|38=100").unwrap();
        assert_eq!(e.order_qty.to_string(), "100");
        assert!(!e.has(has::SEQ));
    }

    #[test]
    fn rejects_each_bad_input_with_its_reason() {
        let good = framed(ER);
        let mut bad_sum = good.clone();
        let n = bad_sum.len();
        bad_sum[n - 2] = if bad_sum[n - 2] == b'0' { b'1' } else { b'0' };
        assert!(matches!(dec(&bad_sum), Err(DecodeError::CheckSum { .. })));

        let bad_len = String::from_utf8(good.clone()).unwrap().replacen("9=", "9=1", 1);
        assert!(matches!(dec(bad_len.as_bytes()), Err(DecodeError::BodyLength { .. })));

        assert_eq!(dec(&good[..60]), Err(DecodeError::Truncated));
        assert_eq!(dec(b"   "), Err(DecodeError::Empty));
        assert_eq!(dec(b"\xff\xfe\x00garbage"), Err(DecodeError::NoBeginString));
        assert_eq!(dec(b"8=FIX.4.4|34=1|49=A"), Err(DecodeError::MissingTag(35)));
        assert_eq!(dec(b"8=FIX.4.4|35=8|17=E|150=0|39=0"), Err(DecodeError::NoOrderIdentity));
        // Found by the decode fuzz target: a repeated, empty ClOrdID erases the identity.
        assert_eq!(dec(b"8=FIX.4.4|35=8|11=R1|17=E|150=0|39=0|11=|37="), Err(DecodeError::NoOrderIdentity));
        assert_eq!(dec(b"8=FIX.4.4|35=8|11=A|150=0|39=0"), Err(DecodeError::MissingTag(17)));
        assert_eq!(dec(b"8=FIX.4.4|35=8|11=A|17=E|39=0"), Err(DecodeError::MissingTag(150)));
        assert_eq!(dec(b"8=FIX.4.4|35=8|11=A|17=E|150=0"), Err(DecodeError::MissingTag(39)));
        assert_eq!(dec(b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|38=1O0"), Err(DecodeError::BadNumber(38)));
        assert_eq!(dec(b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|44=1.123456789"), Err(DecodeError::TooPrecise(44)));
        assert_eq!(dec(b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=Z"), Err(DecodeError::UnknownOrdStatus));
        assert_eq!(dec(b"8=FIX.4.4|35=8|52=2026|11=A"), Err(DecodeError::BadTimestamp(52)));
        assert!(matches!(dec(b"8=FIX.4.4|35=8|garbage|11=A"), Err(DecodeError::MalformedField(_))));
        assert_eq!(dec(b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|14=-100"), Err(DecodeError::NegativeQuantity(14)));
        assert!(matches!(
            dec(b"8=FIX.4.4|9=4294967396|35=0|10=000"),
            Err(DecodeError::BodyLength { declared: 4294967396, .. })
        ));
        let long_id = format!("8=FIX.4.4|35=8|11={}|17=E|150=0|39=0", "X".repeat(41));
        assert_eq!(dec(long_id.as_bytes()), Err(DecodeError::TooLong(11)));
    }

    #[test]
    fn the_message_time_is_the_prefix_else_the_last_sending_time() {
        let body = "8=FIX.4.4|35=0|52=20261125-13:00:00.000|52=20261125-13:00:01.000|";
        let t = |s: &[u8]| Micros::parse_fix(s).unwrap();
        // A prefix wins over SendingTime, which is then not read.
        let e = dec(format!("20261125-12:00:00.000 : {body}").as_bytes()).unwrap();
        assert_eq!((e.arrival(), e.sending_time()), (Some(t(b"20261125-12:00:00.000")), None));
        assert_eq!(e.file_time(Micros(i64::MIN)), Ok(t(b"20261125-12:00:00.000")));
        // Without one, the last SendingTime, clamped to the stream's clock.
        let e = dec(body.as_bytes()).unwrap();
        assert_eq!((e.arrival(), e.sending_time()), (None, Some(t(b"20261125-13:00:01.000"))));
        let later = t(b"20261125-14:00:00.000");
        assert_eq!(e.file_time(later), Ok(later));
        // Neither: no event time; and a used event keeps none of its old time.
        let mut used = e;
        decode(b"8=FIX.4.4|35=0|", &mut used).unwrap();
        assert_eq!((used.arrival(), used.sending_time()), (None, None));
        assert_eq!(used.file_time(Micros(i64::MIN)), Err(DecodeError::NoTime));
    }

    #[test]
    fn fix42_exec_trans_type_maps_to_trade_cancel() {
        let e = dec(b"8=FIX.4.2|35=8|11=A|17=E2|19=E1|20=1|150=2|39=1").unwrap();
        assert_eq!(e.exec_type, ExecType::TradeCancel);
        let r = dec(b"8=FIX.4.2|35=8|11=A|17=E3|150=5|39=5|14=0").unwrap();
        assert_eq!(r.normalized_status(), OrdStatus::New);
    }

    #[test]
    fn every_real_quickfix_sample_line_decodes() {
        for f in ["primary.fix", "dropcopy.fix"] {
            let path = format!("{}/../../../shared/samples/quickfix-day/{f}", env!("CARGO_MANIFEST_DIR"));
            let Ok(data) = std::fs::read(&path) else { continue };
            for (i, line) in data.split(|&b| b == b'\n').enumerate() {
                if line.is_empty() {
                    continue;
                }
                let e = dec(line).unwrap_or_else(|err| panic!("{f}:{}: {err}", i + 1));
                assert!(e.arrival().is_some());
            }
        }
    }

    /// The 16-at-a-time scans for BeginString and the first delimiter agree with plain
    /// byte-by-byte scans, wherever the '8's and delimiters fall and however long the line.
    #[test]
    fn begin_and_first_delimiter_scans_agree_with_plain_scans() {
        let plain_begin = |l: &[u8]| (0..l.len()).find(|&i| l[i..].starts_with(b"8=FIX"));
        let plain_delim = |m: &[u8]| (2..m.len()).find(|&i| m[i] == SOH || m[i] == b'|');
        let mut seed = 5u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = (next() % 70) as usize;
            // Mostly '8', '=', 'F', 'I', 'X', delimiters and digits, so near-misses are common.
            let alphabet = b"8=FIX.4|\x01 0:";
            let mut line: Vec<u8> = (0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
            if next() % 2 == 0 {
                let at = (next() % (len as u64 + 1)) as usize;
                line.splice(at..at, b"8=FIX.4.4".iter().copied());
            }
            assert_eq!(find_begin(&line), plain_begin(&line), "{line:?}");
            if let Some(b) = find_begin(&line) {
                assert_eq!(first_delimiter(&line[b..]), plain_delim(&line[b..]), "{line:?}");
            }
        }
    }

    /// A message of `fields` (tag, raw value) after `8=FIX.4.4`, with BodyLength and CheckSum,
    /// joined by `delim`; the CheckSum counts each delimiter as SOH and every value byte as
    /// itself (a `|` or SOH inside a data value is data).
    fn message(fields: &[(u32, &[u8])], delim: u8) -> Vec<u8> {
        let mut body = Vec::new();
        let mut delims_in_body = 0u32;
        for (tag, value) in fields {
            body.extend_from_slice(format!("{tag}=").as_bytes());
            body.extend_from_slice(value);
            body.push(delim);
            delims_in_body += 1;
        }
        let mut m = format!("8=FIX.4.4{}9={}{}", delim as char, body.len(), delim as char).into_bytes();
        m.extend_from_slice(&body);
        let as_soh = |sum: u32, delims: u32| sum - delims * (delim as u32 - SOH as u32);
        let sum = as_soh(m.iter().map(|&b| b as u32).sum(), delims_in_body + 2);
        m.extend_from_slice(format!("10={:03}", sum % 256).as_bytes());
        m.push(delim);
        m
    }

    const ER_FIELDS: &[(u32, &[u8])] = &[
        (35, b"8"),
        (34, b"7"),
        (49, b"VENUE"),
        (56, b"FIRMDC"),
        (11, b"Q0001"),
        (17, b"QX000002"),
        (150, b"F"),
        (39, b"1"),
        (32, b"1000000"),
        (31, b"1.0801"),
        (14, b"1000000"),
        (55, b"EUR/USD"),
    ];

    /// `ER_FIELDS` with `extra` inserted after the first `at` fields.
    fn er_with(at: usize, extra: &[(u32, &[u8])]) -> Vec<(u32, &'static [u8])> {
        let extra: Vec<(u32, &'static [u8])> =
            extra.iter().map(|&(t, v)| (t, &*Box::leak(v.to_vec().into_boxed_slice()))).collect();
        let mut f = ER_FIELDS.to_vec();
        f.splice(at..at, extra);
        f
    }

    #[test]
    fn data_fields_are_read_by_length_never_by_scanning_for_a_delimiter() {
        let plain = dec(&message(ER_FIELDS, SOH)).unwrap();
        // Values holding SOH, `|`, `=`, `10=` and what looks like whole fields, at the start,
        // in the middle and at the end of the body, on SOH and `|` lines.
        let values: [&[u8]; 6] =
            [b"\x0110=123\x01", b"a|b=c|10=000|", b"=", b"", b"39=2\x01150=4\x0111=OTHER\x01", b"\x01\x01||=="];
        for delim in [SOH, b'|'] {
            for value in values {
                for at in [0, 5, ER_FIELDS.len()] {
                    let len = value.len().to_string();
                    for (l, d) in [(95, 96), (212, 213), (354, 355), (93, 89), (90, 91), (1401, 1402)] {
                        let m = message(&er_with(at, &[(l, len.as_bytes()), (d, value)]), delim);
                        let e = dec(&m).unwrap_or_else(|err| panic!("{err}: {:?}", String::from_utf8_lossy(&m)));
                        assert_eq!(e, plain, "{:?}", String::from_utf8_lossy(&m));
                    }
                }
            }
        }
    }

    #[test]
    fn checksum_of_a_pipe_line_counts_a_pipe_inside_data_as_itself() {
        // Summed as if SOH, the `|` of the value would make this CheckSum wrong by 3 * 123.
        let m = message(&er_with(4, &[(95, b"5"), (96, b"|||ab")]), b'|');
        assert!(dec(&m).is_ok());
        // And a `|` line whose data value is changed by one byte fails its CheckSum.
        let mut bad = m.clone();
        let at = bad.windows(6).position(|w| w == b"96=|||").unwrap() + 3;
        bad[at] = b'}';
        assert!(matches!(dec(&bad), Err(DecodeError::CheckSum { .. })));
    }

    #[test]
    fn body_length_counts_every_byte_of_a_data_value() {
        let m = message(&er_with(4, &[(95, b"4"), (96, b"\x01\x01\x01\x01")]), SOH);
        assert!(dec(&m).is_ok());
        // One byte less in the value: the length field now swallows the delimiter and ends in
        // the next field's tag.
        let text = m.clone();
        let at = text.windows(4).position(|w| w == b"96=\x01").unwrap() + 3;
        let mut short = text.clone();
        short.remove(at);
        assert!(matches!(dec(&short), Err(DecodeError::DataNotDelimited { data: 96, length: 95, declared: 4 })));
    }

    #[test]
    fn data_field_without_its_length_field_right_before_it_is_rejected() {
        assert_eq!(
            dec(&message(&er_with(4, &[(96, b"abc")]), SOH)),
            Err(DecodeError::DataWithoutLength { data: 96, length: 95 })
        );
        // Its length field two fields earlier is not right before it.
        assert_eq!(
            dec(b"8=FIX.4.4|35=8|95=3|11=A|96=abc|17=E|150=0|39=0"),
            Err(DecodeError::LengthWithoutData { length: 95, data: 96 })
        );
        // A second data field after one read by length.
        assert_eq!(
            dec(b"8=FIX.4.4|35=8|95=3|96=abc|96=abc|11=A|17=E|150=0|39=0"),
            Err(DecodeError::DataWithoutLength { data: 96, length: 95 })
        );
        assert_eq!(
            DecodeError::DataWithoutLength { data: 96, length: 95 }.to_string(),
            "data field 96 without its length field 95 right before it"
        );
    }

    #[test]
    fn length_field_not_followed_by_its_data_field_is_rejected() {
        for line in [
            &b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|95=3|213=abc"[..],
            b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|95=3",
            b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|95=3|",
            b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|95=3|96",
            b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|95=3|0000000096=abc",
        ] {
            assert_eq!(dec(line), Err(DecodeError::LengthWithoutData { length: 95, data: 96 }), "{line:?}");
        }
        // Leading zeros name the same tag.
        assert!(dec(b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|095=3|096=abc").is_ok());
        assert_eq!(dec(b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|95=x3|96=abc"), Err(DecodeError::BadNumber(95)));
        assert_eq!(dec(b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|95=|96="), Err(DecodeError::BadNumber(95)));
        assert_eq!(
            DecodeError::LengthWithoutData { length: 95, data: 96 }.to_string(),
            "length field 95 is not followed by its data field 96"
        );
    }

    #[test]
    fn data_length_that_runs_past_the_message_is_rejected() {
        // In a framed message, a length that runs on ends past the end (or inside a later
        // field, below), before BodyLength and CheckSum are judged.
        let m = message(&er_with(12, &[(95, b"5"), (96, b"abcde")]), SOH);
        let long = String::from_utf8(m.clone()).unwrap().replacen("95=5", "95=90", 1);
        assert_eq!(dec(long.as_bytes()), Err(DecodeError::DataPastEnd { data: 96, length: 95, declared: 90 }));
        let longer = String::from_utf8(m).unwrap().replacen("95=5", "95=9", 1);
        assert!(matches!(dec(longer.as_bytes()), Err(DecodeError::DataNotDelimited { declared: 9, .. })));
        let huge = b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|95=9999999999999999999|96=ab";
        assert_eq!(
            dec(huge),
            Err(DecodeError::DataPastEnd { data: 96, length: 95, declared: 9_999_999_999_999_999_999 })
        );
        assert_eq!(
            dec(b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|95=3|96=ab"),
            Err(DecodeError::DataPastEnd { data: 96, length: 95, declared: 3 })
        );
        // Exactly to the end of an unframed line: the last field needs no delimiter.
        assert!(dec(b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|95=3|96=a|b").is_ok());
        assert_eq!(
            DecodeError::DataPastEnd { data: 96, length: 95, declared: 3 }.to_string(),
            "data field 96 is 3 bytes long by its length field 95, past the end of the message"
        );
    }

    #[test]
    fn data_value_not_followed_by_the_delimiter_is_rejected() {
        assert_eq!(
            dec(b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|95=2|96=abc|"),
            Err(DecodeError::DataNotDelimited { data: 96, length: 95, declared: 2 })
        );
        // The other delimiter is data on this line, not a delimiter.
        assert_eq!(
            dec(b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|95=2|96=ab\x0155=X"),
            Err(DecodeError::DataNotDelimited { data: 96, length: 95, declared: 2 })
        );
        assert_eq!(
            DecodeError::DataNotDelimited { data: 96, length: 95, declared: 2 }.to_string(),
            "no delimiter after the 2 bytes of data field 96 (length in field 95)"
        );
    }

    #[test]
    fn a_checksum_inside_a_data_value_is_not_the_end_of_the_message() {
        // Scanning by delimiter, the value's `10=000` would be the CheckSum and what follows it
        // "after the CheckSum".
        let m = message(&er_with(12, &[(95, b"8"), (96, b"10=000\x01X")]), SOH);
        assert_eq!(dec(&m).unwrap(), dec(&message(ER_FIELDS, SOH)).unwrap());
    }

    #[test]
    fn every_pair_of_the_data_field_table_is_read_by_length() {
        let plain = dec(&message(ER_FIELDS, b'|')).unwrap();
        let mut tags = std::collections::BTreeSet::new();
        for f in DATA_FIELDS {
            assert!(tags.insert(f.length) && tags.insert(f.data), "{f:?}: a tag in two pairs");
            assert!(f.length < 5000 && f.data < 5000, "{f:?}: user-defined range in FIX 4.4");
            let (l, d) = (f.length.to_string(), f.data.to_string());
            let m = message(&er_with(3, &[(f.length, b"3"), (f.data, b"|\x01=")]), b'|');
            assert_eq!(dec(&m).unwrap(), plain, "{}", f.name);
            let alone = format!("8=FIX.4.4|35=8|11=A|{d}=x|17=E|150=0|39=0");
            assert_eq!(
                dec(alone.as_bytes()),
                Err(DecodeError::DataWithoutLength { data: f.data, length: f.length }),
                "{}",
                f.name
            );
            let no_data = format!("8=FIX.4.4|35=8|11=A|{l}=1|17=E|150=0|39=0");
            assert_eq!(
                dec(no_data.as_bytes()),
                Err(DecodeError::LengthWithoutData { length: f.length, data: f.data }),
                "{}",
                f.name
            );
        }
        // The FIX 4.4 pairs (FIX44.xml, every field of type DATA and its LENGTH field).
        for (l, d) in [
            (93, 89),
            (90, 91),
            (95, 96),
            (212, 213),
            (348, 349),
            (350, 351),
            (352, 353),
            (354, 355),
            (356, 357),
            (358, 359),
            (360, 361),
            (362, 363),
            (364, 365),
            (445, 446),
            (618, 619),
            (621, 622),
        ] {
            assert!(DATA_FIELDS.iter().any(|f| (f.length, f.data) == (l, d)), "{l}/{d}");
        }
        // No other tag is taken for one: BodyLength (9), MaxMessageSize (383, type LENGTH) and
        // the rest are plain fields.
        for tag in 1..6000u32 {
            assert_eq!(is_data_pair_tag(tag), tags.contains(&tag), "{tag}");
        }
        assert!(!is_data_pair_tag(u32::MAX));
    }

    /// `Delims::skip_to` drops exactly the delimiters before its position, wherever it falls
    /// relative to the 64-byte blocks.
    #[test]
    fn delimiter_scan_skips_to_any_position() {
        let hay: Vec<u8> = (0..300u32).map(|i| if i % 3 == 0 || i % 7 == 0 { b'|' } else { b'a' }).collect();
        for len in [0usize, 5, 63, 64, 65, 127, 128, 129, 200, 300] {
            let hay = &hay[..len];
            let plain: Vec<usize> = (0..len).filter(|&i| hay[i] == b'|').collect();
            for taken in 0..plain.len().min(40) {
                for skip in 1..140 {
                    let mut d = Delims::new(hay, b'|');
                    for _ in 0..taken {
                        d.next();
                    }
                    let from = if taken == 0 { 0 } else { plain[taken - 1] + 1 };
                    let to = from + skip;
                    d.skip_to(to);
                    let want: Vec<usize> = plain.iter().copied().filter(|&p| p >= to).collect();
                    let got: Vec<usize> = (0..want.len()).map(|_| d.next()).collect();
                    assert_eq!(got, want, "len {len} taken {taken} to {to}");
                    assert_eq!(d.next(), len, "len {len} taken {taken} to {to}: end");
                }
            }
        }
    }
}
