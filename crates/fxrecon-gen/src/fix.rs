//! FIX tag=value encoding in QuickFIX FileLog form: one line per message,
//! `YYYYMMDD-HH:MM:SS.nnnnnnnnn : 8=...<SOH>9=...<SOH>...10=nnn<SOH>`, with real BodyLength
//! and CheckSum; header fields after 35 in tag order (34, 43, 49, 52, 56, 122), body fields in
//! tag order.
//!
//! A report's [`Er::flags`] (issue 22 situations) leave tags out or add length-prefixed data
//! fields: 90/91, 95/96 in the header, 212/213 after OrigSendingTime, 354/355 at the end of the
//! body, 93/89 before the CheckSum; an OrderCancelReject is written as 35=9.
//!
//! Encoding only: this module must never draw random numbers, change arrival times, message
//! order or sequence numbers, or touch the ground truth — it writes exactly what it is given.

use crate::calendar::{US_PER_DAY, ymd_bytes};
use crate::model::{
    DIRS, Day, Er, ExecId, Kind, LINK_CANCEL, LINK_NONE, Msg, PRIMARY, SYMBOLS, VENUES, code, er_flags,
};

/// Field delimiter.
const SOH: u8 = 0x01;

/// Appends the decimal digits of `v`.
fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `v` zero-padded to `width` digits.
fn push_padded(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut v = v;
    let mut start = 20;
    while v > 0 || 20 - start < width {
        start -= 1;
        buf[start] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    // Wider values keep every digit (order numbers past 9,999,999 in long runs).
    out.extend_from_slice(&buf[start..]);
}

/// Appends a fixed-point value with `scale` decimals as FIX prints it: no trailing zeros, no
/// decimal point for whole values.
fn push_decimal(out: &mut Vec<u8>, v: i64, scale: u32) {
    if v < 0 {
        out.push(b'-');
    }
    let v = v.unsigned_abs();
    let unit = 10u64.pow(scale);
    push_u64(out, v / unit);
    let mut frac = v % unit;
    if frac != 0 {
        let mut digits = scale as usize;
        while frac.is_multiple_of(10) {
            frac /= 10;
            digits -= 1;
        }
        out.push(b'.');
        push_padded(out, frac, digits);
    }
}

/// Formats UTC timestamps, caching the date part.
struct Clock {
    day: i64,
    ymd: [u8; 8],
}

impl Clock {
    /// Appends `YYYYMMDD-HH:MM:SS.` and the fraction: milliseconds, or (with `nanos`)
    /// nine digits holding whole microseconds.
    fn push(&mut self, out: &mut Vec<u8>, us: i64, nanos: bool) {
        let day = us.div_euclid(US_PER_DAY);
        if day != self.day {
            self.day = day;
            self.ymd = ymd_bytes(day);
        }
        let in_day = us.rem_euclid(US_PER_DAY) as u64;
        let secs = in_day / 1_000_000;
        out.extend_from_slice(&self.ymd);
        out.push(b'-');
        push_padded(out, secs / 3600, 2);
        out.push(b':');
        push_padded(out, secs / 60 % 60, 2);
        out.push(b':');
        push_padded(out, secs % 60, 2);
        out.push(b'.');
        if nanos {
            push_padded(out, in_day % 1_000_000, 6);
            out.extend_from_slice(b"000");
        } else {
            push_padded(out, in_day % 1_000_000 / 1000, 3);
        }
    }
}

/// Writes the lines of one stream.
struct Writer<'a> {
    day: &'a Day,
    clock: Clock,
    body: Vec<u8>,
}

/// Appends `tag=` .
fn tag(out: &mut Vec<u8>, tag: &[u8]) {
    out.extend_from_slice(tag);
    out.push(b'=');
}

/// Appends `tag=value<SOH>`.
fn field(out: &mut Vec<u8>, t: &[u8], value: &[u8]) {
    tag(out, t);
    out.extend_from_slice(value);
    out.push(SOH);
}

/// Appends `tag=<integer><SOH>`.
fn field_u64(out: &mut Vec<u8>, t: &[u8], value: u64) {
    tag(out, t);
    push_u64(out, value);
    out.push(SOH);
}

/// Appends `tag=<decimal><SOH>`.
fn field_dec(out: &mut Vec<u8>, t: &[u8], value: i64, scale: u32) {
    tag(out, t);
    push_decimal(out, value, scale);
    out.push(SOH);
}

/// Appends a ClOrdID for a chain link of the order numbered `number` (1-based, run-wide).
fn push_cl_ord_id(out: &mut Vec<u8>, number: u64, link: u8) {
    out.push(b'C');
    push_padded(out, number, 7);
    match link {
        0 => {}
        LINK_CANCEL => out.extend_from_slice(b".X"),
        n => {
            out.extend_from_slice(b".R");
            push_u64(out, u64::from(n));
        }
    }
}

/// Appends `length=<n><SOH>data=<value><SOH>` for a length-prefixed data field.
fn data_field(out: &mut Vec<u8>, length: &[u8], data: &[u8], value: &[u8]) {
    field_u64(out, length, value.len() as u64);
    field(out, data, value);
}

/// The values of the data fields of a report whose ExecID number is `n` (issue 22 situation
/// 6): each holds SOH, `=`, `|` and `10=` (a delimiter scan would cut them and take a `10=`
/// for the CheckSum), never a line break.
fn data_values(n: u32) -> [(&'static [u8], &'static [u8], String); 5] {
    [
        (b"90", b"91", format!("key{n}=v\u{1}10={:03}\u{1}|", n % 1000)),
        (b"95", b"96", format!("\u{1}10=000\u{1}35=8\u{1}17=X{n}\u{1}=|=")),
        (b"212", b"213", format!("<m id=\"{n}\">\u{1}a=b\u{1}10=255</m>")),
        (b"354", b"355", format!("=\u{1}=\u{1}10=1 \u{fc}{n}")),
        (b"93", b"89", format!("sig{n}=\u{1}10=")),
    ]
}

/// Appends a data field of [`data_values`] by its length tag.
fn push_data(out: &mut Vec<u8>, values: &[(&'static [u8], &'static [u8], String); 5], length: &[u8]) {
    if let Some((l, d, v)) = values.iter().find(|(l, _, _)| *l == length) {
        data_field(out, l, d, v.as_bytes());
    }
}

/// Appends an OrderID: `VENUE-%06d`, and `-n` for the n-th new OrderID of the order.
fn push_order_id(out: &mut Vec<u8>, venue: &str, number: u64, oid: u8) {
    out.extend_from_slice(venue.as_bytes());
    out.push(b'-');
    push_padded(out, number, 6);
    if oid > 0 {
        out.push(b'-');
        push_u64(out, u64::from(oid));
    }
}

/// Appends an ExecID (`E%09d` or `HS%09d`).
fn push_exec_id(out: &mut Vec<u8>, id: ExecId) {
    out.extend_from_slice(if id.hs { b"HS" } else { b"E" });
    push_padded(out, u64::from(id.n), 9);
}

impl Writer<'_> {
    /// Appends one message line to `out`.
    fn write(&mut self, out: &mut Vec<u8>, m: &Msg) {
        let dir = &DIRS[usize::from(m.dir)];
        self.clock.push(out, m.arrival, true);
        out.extend_from_slice(b" : ");

        let body = &mut self.body;
        body.clear();
        let er = match m.kind {
            Kind::Er(e) => self.day.ers.get(e as usize),
            _ => None,
        };
        let data = er.filter(|er| er.flags & er_flags::DATA_FIELDS != 0).map(|er| data_values(er.exec_id.n));
        let msg_type: &[u8] = match m.kind {
            Kind::Er(_) if er.is_some_and(|er| er.exec_type == code::CANCEL_REJECT) => b"9",
            Kind::Er(_) => b"8",
            Kind::Logon => b"A",
            Kind::Heartbeat => b"0",
            Kind::Logout => b"5",
            Kind::ResendRequest { .. } | Kind::ResendAll => b"2",
            Kind::GapFill { .. } | Kind::GapFillTo { .. } | Kind::Reset { .. } => b"4",
        };
        field(body, b"35", msg_type);
        field_u64(body, b"34", m.seq);
        if m.poss_dup {
            field(body, b"43", b"Y");
        }
        field(body, b"49", dir.sender.as_bytes());
        tag(body, b"52");
        self.clock.push(body, m.sending, false);
        body.push(SOH);
        field(body, b"56", dir.target.as_bytes());
        if let Some(values) = &data {
            push_data(body, values, b"90");
            push_data(body, values, b"95");
        }
        if m.poss_dup {
            tag(body, b"122");
            self.clock.push(body, m.orig_sending, false);
            body.push(SOH);
        }
        if let Some(values) = &data {
            push_data(body, values, b"212");
        }
        match m.kind {
            Kind::Er(_) => {
                if let Some(er) = er {
                    let fix42 = dir.begin == "FIX.4.2";
                    if er.exec_type == code::CANCEL_REJECT {
                        write_cancel_reject(body, &mut self.clock, self.day, er);
                    } else {
                        write_er(body, &mut self.clock, self.day, er, fix42);
                    }
                }
            }
            Kind::Logon => {
                field(body, b"98", b"0");
                field(body, b"108", b"30");
            }
            Kind::Heartbeat | Kind::Logout => {}
            Kind::ResendRequest { of, minus } => {
                let begin = self.day.msgs.get(of as usize).map_or(0, |t| t.seq.saturating_sub(minus));
                field_u64(body, b"7", begin);
                field(body, b"16", b"0");
            }
            Kind::GapFill { of } => {
                field_u64(body, b"36", self.day.msgs.get(of as usize).map_or(0, |t| t.seq));
                field(body, b"123", b"Y");
            }
            Kind::Reset { jump } => {
                field_u64(body, b"36", m.seq + jump);
                field(body, b"123", b"N");
            }
            Kind::GapFillTo { of, plus } => {
                field_u64(body, b"36", self.day.msgs.get(of as usize).map_or(0, |t| t.seq + plus));
                field(body, b"123", b"Y");
            }
            Kind::ResendAll => {
                field(body, b"7", b"2");
                field(body, b"16", b"0");
            }
        }
        if let Some(values) = &data {
            push_data(body, values, b"354");
            push_data(body, values, b"93");
        }

        let start = out.len();
        field(out, b"8", dir.begin.as_bytes());
        field_u64(out, b"9", body.len() as u64);
        out.extend_from_slice(body);
        let sum = out[start..].iter().fold(0u32, |acc, &b| acc + u32::from(b)) % 256;
        tag(out, b"10");
        push_padded(out, u64::from(sum), 3);
        out.push(SOH);
        out.push(b'\n');
    }
}

/// Appends the body fields of an ExecutionReport, in tag order.
fn write_er(body: &mut Vec<u8>, clock: &mut Clock, day: &Day, er: &Er, fix42: bool) {
    let Some(o) = day.orders.get(er.order as usize) else { return };
    let venue = &VENUES[usize::from(o.venue)];
    let sym = &SYMBOLS[usize::from(o.symbol)];
    let trade = matches!(er.exec_type, code::TRADE | code::TRADE_CANCEL | code::TRADE_CORRECT);
    let terminal = matches!(er.status, code::FILLED | code::CANCELED | code::REJECTED | code::EXPIRED);
    let leaves = if terminal { 0 } else { er.order_qty - er.cum };
    let writes = |left_out: u16| er.flags & left_out == 0;
    let cl_ord_ids = writes(er_flags::NO_CL_ORD_ID);
    let number = day.first_order + u64::from(er.order) + 1;

    tag(body, b"1");
    body.extend_from_slice(b"ACC-");
    push_u64(body, u64::from(o.account));
    body.push(SOH);
    if writes(er_flags::NO_AVG_PX) {
        field_dec(body, b"6", er.avg, 8);
    }
    if cl_ord_ids {
        tag(body, b"11");
        push_cl_ord_id(body, number, er.link);
        body.push(SOH);
    }
    field_dec(body, b"14", er.cum, 0);
    tag(body, b"17");
    push_exec_id(body, er.exec_id);
    body.push(SOH);
    if let Some(r) = er.exec_ref {
        tag(body, b"19");
        push_exec_id(body, r);
        body.push(SOH);
    }
    if fix42 {
        field(body, b"20", b"0");
    }
    if trade {
        field(body, b"30", venue.name.as_bytes());
        if writes(er_flags::NO_LAST_PX) {
            field_dec(body, b"31", er.last_px, sym.decimals);
        }
        if writes(er_flags::NO_LAST_QTY) {
            field_dec(body, b"32", er.last_qty, 0);
        }
    }
    tag(body, b"37");
    if o.internal {
        body.extend_from_slice(b"NONE");
    } else {
        push_order_id(body, venue.name, number, er.oid);
    }
    body.push(SOH);
    if writes(er_flags::NO_ORDER_QTY) {
        field_dec(body, b"38", er.order_qty, 0);
    }
    let status = if fix42 && er.exec_type == code::REPLACED { code::REPLACED } else { er.status };
    field(body, b"39", &[status]);
    field(body, b"40", b"2");
    if er.orig != LINK_NONE && cl_ord_ids {
        tag(body, b"41");
        push_cl_ord_id(body, number, er.orig);
        body.push(SOH);
    }
    field_dec(body, b"44", er.price, sym.decimals);
    field(body, b"54", &[b'0' + o.side]);
    field(body, b"55", sym.name.as_bytes());
    tag(body, b"60");
    clock.push(body, er.transact, false);
    body.push(SOH);
    let (settl_type, date): (&[u8], usize) = match o.tenor {
        0 => (b"0", 0),
        1 => (b"W1", 1),
        _ => (b"M1", 2),
    };
    field(body, b"63", settl_type);
    field(body, b"64", &day.settl_dates[date]);
    if er.stream == PRIMARY {
        field(body, b"100", venue.name.as_bytes());
    }
    let exec_type = match er.exec_type {
        code::TRADE if fix42 && er.status == code::FILLED => b'2',
        code::TRADE if fix42 => b'1',
        t => t,
    };
    field(body, b"150", &[exec_type]);
    if writes(er_flags::NO_LEAVES_QTY) {
        field_dec(body, b"151", leaves, 0);
    }
    field(body, b"167", if o.tenor == 0 { b"FXSPOT" } else { b"FXFWD" });
}

/// Appends the body fields of an OrderCancelReject (35=9) refusing the replace request whose
/// ClOrdID is the report's link (41: the last accepted ClOrdID), in tag order.
fn write_cancel_reject(body: &mut Vec<u8>, clock: &mut Clock, day: &Day, er: &Er) {
    let Some(o) = day.orders.get(er.order as usize) else { return };
    let number = day.first_order + u64::from(er.order) + 1;
    tag(body, b"11");
    push_cl_ord_id(body, number, er.link);
    body.push(SOH);
    tag(body, b"37");
    push_order_id(body, VENUES[usize::from(o.venue)].name, number, er.oid);
    body.push(SOH);
    field(body, b"39", &[er.status]);
    tag(body, b"41");
    push_cl_ord_id(body, number, er.orig);
    body.push(SOH);
    field(body, b"58", b"Replace refused by venue");
    tag(body, b"60");
    clock.push(body, er.transact, false);
    body.push(SOH);
    field(body, b"102", b"2");
    field(body, b"434", b"2");
}

/// Writes every written message of `stream`, sorted by arrival; returns the bytes and the
/// number of lines.
pub(crate) fn write_stream(day: &Day, stream: u8) -> (Vec<u8>, usize) {
    let mut order: Vec<(i64, u32)> = day
        .msgs
        .iter()
        .enumerate()
        .filter(|(_, m)| m.written && DIRS[usize::from(m.dir)].stream == stream)
        .map(|(i, m)| (m.arrival, i as u32))
        .collect();
    order.sort_unstable();
    let mut out = Vec::with_capacity(order.len() * 330);
    let mut w = Writer { day, clock: Clock { day: i64::MIN, ymd: [b'0'; 8] }, body: Vec::with_capacity(512) };
    for &(_, i) in &order {
        w.write(&mut out, &day.msgs[i as usize]);
    }
    (out, order.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_print_like_fix() {
        let cases = [
            (108_450, 5, "1.0845"),
            (151_230, 3, "151.23"),
            (151_000, 3, "151"),
            (0, 8, "0"),
            (108_451_667, 8, "1.08451667"),
            (2_500_000, 0, "2500000"),
            (65_401, 5, "0.65401"),
        ];
        for (v, scale, want) in cases {
            let mut out = Vec::new();
            push_decimal(&mut out, v, scale);
            assert_eq!(String::from_utf8_lossy(&out), want);
        }
    }

    #[test]
    fn padded_numbers_never_lose_digits() {
        for (v, width, want) in [(7, 7, "0000007"), (10_000_268, 7, "10000268"), (0, 3, "000"), (123, 2, "123")] {
            let mut out = Vec::new();
            push_padded(&mut out, v, width);
            assert_eq!(String::from_utf8_lossy(&out), want);
        }
    }

    #[test]
    fn timestamps() {
        let mut c = Clock { day: i64::MIN, ymd: [b'0'; 8] };
        let us = crate::config::DEFAULT_START_TIME_US + 3_723_456_789; // +1h 2m 3.456789s
        let mut out = Vec::new();
        c.push(&mut out, us, true);
        out.push(b' ');
        c.push(&mut out, us, false);
        assert_eq!(String::from_utf8_lossy(&out), "20261125-09:02:03.456789000 20261125-09:02:03.456");
    }
}
