//! The decoder as it was before the v0.3 performance work (commit dfb7744), kept verbatim as
//! the reference the optimised decoder is tested against (tests/decoder_differential.rs), with
//! one later rule added the plain way: length-prefixed data fields (contract 1.1, issue 22),
//! marked "data fields" below. Test-only: never built into the library.
#![allow(dead_code)]

use fxrecon_core::decimal::{DecimalError, Fixed};
use fxrecon_core::event::{ExecEvent, ExecType, MsgKind, OrdStatus, has};
use fxrecon_core::text::InlineStr;
use fxrecon_core::time::Micros;

const SOH: u8 = 0x01;

use fxrecon_core::fix::{DATA_FIELDS, DecodeError};

/// Decodes `line` (one message, with or without a log prefix, no trailing newline) into `out`.
///
/// `out` is overwritten except for `stream`, `line` and `event_time`, which belong to ingest.
pub fn decode(line: &[u8], out: &mut ExecEvent) -> Result<(), DecodeError> {
    let line = trim_end(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Err(DecodeError::Empty);
    }
    let start = find_begin(line).ok_or(DecodeError::NoBeginString)?;
    let msg = &line[start..];
    let prefix = &line[..start];

    // Reset everything the decoder owns, keep ingest's fields.
    *out = ExecEvent { stream: out.stream, line: out.line, event_time: out.event_time, ..ExecEvent::default() };
    if let Some(t) = parse_prefix(prefix) {
        (out.time, out.present) = (t, has::ARRIVAL);
    }

    let delim = msg.iter().skip(2).copied().find(|&b| b == SOH || b == b'|').unwrap_or(SOH);

    if declares_body_length(msg, delim) && !ends_with_checksum(msg, delim) {
        return Err(DecodeError::Truncated);
    }

    let mut body_len: Option<(u64, usize)> = None; // (declared, body start offset)
    let mut checksum: Option<(u32, usize)> = None; // (declared, offset of "10=")
    let mut exec_trans_type = 0u8;
    let mut ord_status_raw: Option<&[u8]> = None;
    let mut seen_35 = false;
    let mut data_pipes = 0u32; // data fields: `|` bytes inside data values

    let mut field_start = 0usize;
    while field_start < msg.len() {
        let field_end = find_delim(msg, field_start, delim);
        let field = &msg[field_start..field_end];
        let mut tag: u32 = 0;
        let mut i = 0;
        // Tags have at most 9 digits here; a longer run is malformed, so no overflow.
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
        let v = &field[i + 1..];
        let pos = field_end + 1;
        if checksum.is_some() {
            // Anything after CheckSum is not part of the message.
            return Err(DecodeError::MalformedField(start + field_start));
        }
        let this_field = field_start;
        field_start = pos;

        match tag {
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
            49 => set_text(&mut out.sender, v, 49)?,
            56 => set_text(&mut out.target, v, 56)?,
            // SendingTime is only the clock of lines without an arrival prefix: parse it there.
            52 if !out.has(has::ARRIVAL) => {
                out.time = Micros::parse_fix(v).ok_or(DecodeError::BadTimestamp(52))?;
                out.present |= has::SENDING_TIME;
            }
            11 => set_text(&mut out.cl_ord_id, v, 11)?,
            41 => set_text(&mut out.orig_cl_ord_id, v, 41)?,
            37 => set_text(&mut out.order_id, v, 37)?,
            17 => set_text(&mut out.exec_id, v, 17)?,
            19 => set_text(&mut out.exec_ref_id, v, 19)?,
            150 => {
                out.exec_type = ExecType::from_code(v);
                out.present |= has::EXEC_TYPE;
            }
            20 => exec_trans_type = v.first().copied().unwrap_or(b'0'),
            39 => ord_status_raw = Some(v),
            54 => out.side = v.first().copied().unwrap_or(0),
            55 => set_text(&mut out.symbol, v, 55)?,
            1 => set_text(&mut out.account, v, 1)?,
            30 => set_text(&mut out.venue, v, 30)?,
            100 if out.venue.is_empty() => set_text(&mut out.venue, v, 100)?,
            38 => set_dec(&mut out.order_qty, v, 38, &mut out.present, has::ORDER_QTY)?,
            44 => set_dec(&mut out.price, v, 44, &mut out.present, has::PRICE)?,
            32 => set_dec(&mut out.last_qty, v, 32, &mut out.present, has::LAST_QTY)?,
            31 => set_dec(&mut out.last_px, v, 31, &mut out.present, has::LAST_PX)?,
            14 => set_dec(&mut out.cum_qty, v, 14, &mut out.present, has::CUM_QTY)?,
            151 => set_dec(&mut out.leaves_qty, v, 151, &mut out.present, has::LEAVES_QTY)?,
            6 => set_dec(&mut out.avg_px, v, 6, &mut out.present, has::AVG_PX)?,
            // Data fields: a length field announces the next field, whose value is that many
            // bytes; a data field anywhere else is an error.
            _ => {
                if let Some(f) = DATA_FIELDS.iter().find(|f| f.data == tag) {
                    return Err(DecodeError::DataWithoutLength { data: f.data, length: f.length });
                }
                if let Some(f) = DATA_FIELDS.iter().find(|f| f.length == tag) {
                    let (data, length) = (f.data, f.length);
                    let declared = uint(v, length)?;
                    let next = &msg[pos.min(msg.len())..];
                    let mut j = 0;
                    let mut next_tag = 0u32;
                    while j < next.len() && j < 9 && next[j].is_ascii_digit() {
                        next_tag = next_tag * 10 + (next[j] - b'0') as u32;
                        j += 1;
                    }
                    if j == 0 || j >= next.len() || next[j] != b'=' || next_tag != data {
                        return Err(DecodeError::LengthWithoutData { length, data });
                    }
                    let value_start = pos + j + 1;
                    if value_start as u64 + declared > msg.len() as u64 {
                        return Err(DecodeError::DataPastEnd { data, length, declared });
                    }
                    let value_end = value_start + declared as usize;
                    if value_end < msg.len() && msg[value_end] != delim {
                        return Err(DecodeError::DataNotDelimited { data, length, declared });
                    }
                    if delim == b'|' {
                        data_pipes += msg[value_start..value_end].iter().filter(|&&b| b == b'|').count() as u32;
                    }
                    field_start = value_end + 1;
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

/// Position of the next `delim` at or after `from` (or `hay.len()`). Fields are short, so a
/// word-at-a-time (SWAR) scan beats a SIMD search that must be set up again for every field.
#[inline]
fn find_delim(hay: &[u8], from: usize, delim: u8) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * delim as u64;
    let mut i = from;
    while i + 8 <= hay.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&hay[i..i + 8]);
        let v = u64::from_le_bytes(word) ^ pattern;
        // High bit set for zero bytes; the lowest one is exact (borrows only run upwards).
        let zero = v.wrapping_sub(LO) & !v & HI;
        if zero != 0 {
            return i + (zero.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < hay.len() && hay[i] != delim {
        i += 1;
    }
    i
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
        let mut sum: u32 = covered.iter().map(|&b| b as u32).sum();
        if delim == b'|' {
            // Data fields: a `|` inside a data value is data, not a delimiter.
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

/// True when the second field is BodyLength (9), i.e. the message claims to be framed.
fn declares_body_length(msg: &[u8], delim: u8) -> bool {
    memchr::memchr(delim, msg).is_some_and(|i| msg[i + 1..].starts_with(b"9="))
}

/// True when the message ends with a `10=` field (optionally followed by the delimiter).
fn ends_with_checksum(msg: &[u8], delim: u8) -> bool {
    let m = msg.strip_suffix(&[delim]).unwrap_or(msg);
    m.len() >= 7 && m[m.len() - 7] == delim && &m[m.len() - 6..m.len() - 3] == b"10="
}

fn find_begin(line: &[u8]) -> Option<usize> {
    // The prefix is short: look for '8' and check the rest (cheaper than building a memmem
    // searcher per message).
    memchr::memchr_iter(b'8', line).find(|&i| line[i..].starts_with(b"8=FIX"))
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

#[inline]
fn set_text<const N: usize>(slot: &mut InlineStr<N>, v: &[u8], tag: u32) -> Result<(), DecodeError> {
    slot.set(v).map_err(|_| DecodeError::TooLong(tag))
}

fn set_dec<const S: u32>(
    slot: &mut Fixed<S>,
    v: &[u8],
    tag: u32,
    present: &mut u16,
    bit: u16,
) -> Result<(), DecodeError> {
    *slot = Fixed::parse(v).map_err(|e| match e {
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
