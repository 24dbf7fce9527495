//! Ground-truth records of injected divergences and their JSON Lines form (contract section 4).

/// One divergence the generator injected, as the reconciler is expected to report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// An order-level divergence.
    Order {
        /// Root ClOrdID of the order.
        order_id: String,
        /// `"MissingFill"`, `"PhantomOrder"`, `"QuantityMismatch"`, `"StateMismatch"` or `"TimingAnomaly"`.
        kind: &'static str,
        /// FIX Symbol.
        symbol: String,
        /// Venue label as the reconciler derives it (LastMkt/ExDestination, else drop-copy SenderCompID).
        venue: String,
        /// `missing_on` (MissingFill) or `seen_on` (PhantomOrder): `"primary"` or `"dropcopy"`.
        side: Option<&'static str>,
        /// ExecID of the missing fill as seen on the other stream (MissingFill only).
        exec_id: Option<String>,
    },
    /// A SequenceGap record of one session direction.
    Gap {
        /// `"primary"` or `"dropcopy"`.
        stream: &'static str,
        /// `"SENDER->TARGET"` of the direction whose numbering is affected.
        session: String,
        /// `"gap"`, `"gap_filled"`, `"duplicate"` or `"reset"`.
        kind: &'static str,
        /// Expected MsgSeqNum.
        expected: u64,
        /// Seen MsgSeqNum (or NewSeqNo, or the number that closed the gap).
        seen: u64,
    },
}

/// Severity of an order-level divergence (contract section 4).
fn severity(kind: &str, side: Option<&str>) -> &'static str {
    match kind {
        "MissingFill" | "QuantityMismatch" => "high",
        "PhantomOrder" if side == Some("dropcopy") => "high",
        "PhantomOrder" | "StateMismatch" => "medium",
        _ => "low",
    }
}

/// Appends `s` as a JSON string literal.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `,"key":"value"`.
fn push_kv(out: &mut String, key: &str, value: &str) {
    out.push(',');
    push_json_str(out, key);
    out.push(':');
    push_json_str(out, value);
}

impl Expected {
    /// Renders this record as one JSON object (no trailing newline) in the contract's key order,
    /// with `"id":id` first. Order records carry a severity; gap records do not (decision D5).
    pub fn to_json_line(&self, id: u64) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("{\"id\":");
        out.push_str(&id.to_string());
        match self {
            Expected::Order { order_id, kind, symbol, venue, side, exec_id } => {
                push_kv(&mut out, "type", kind);
                push_kv(&mut out, "order_id", order_id);
                push_kv(&mut out, "symbol", symbol);
                push_kv(&mut out, "venue", venue);
                push_kv(&mut out, "severity", severity(kind, *side));
                if let Some(side) = side {
                    let key = if *kind == "MissingFill" { "missing_on" } else { "seen_on" };
                    push_kv(&mut out, key, side);
                }
                if let Some(exec_id) = exec_id {
                    push_kv(&mut out, "exec_id", exec_id);
                }
                push_kv(&mut out, "detail", &detail(kind, *side, exec_id.as_deref()));
            }
            Expected::Gap { stream, session, kind, expected, seen } => {
                push_kv(&mut out, "type", "SequenceGap");
                push_kv(&mut out, "stream", stream);
                push_kv(&mut out, "session", session);
                push_kv(&mut out, "kind", kind);
                out.push_str(",\"expected\":");
                out.push_str(&expected.to_string());
                out.push_str(",\"seen\":");
                out.push_str(&seen.to_string());
            }
        }
        out.push('}');
        out
    }

    /// Sort key: order records by (order_id, kind), then gaps by (stream, session, expected, kind, seen).
    fn sort_key(&self) -> (u8, &str, &str, u64, &str, u64) {
        match self {
            Expected::Order { order_id, kind, .. } => (0, order_id, kind, 0, "", 0),
            Expected::Gap { stream, session, kind, expected, seen } => (1, stream, session, *expected, kind, *seen),
        }
    }
}

/// One human sentence describing what was injected.
fn detail(kind: &str, side: Option<&str>, exec_id: Option<&str>) -> String {
    let side = side.unwrap_or("one stream");
    match kind {
        "MissingFill" => format!("fill {} was not sent on {side}", exec_id.unwrap_or("?")),
        "PhantomOrder" => format!("order was sent on {side} only"),
        "QuantityMismatch" => "quantities or prices differ between the streams".to_string(),
        "StateMismatch" => "order status differs between the streams".to_string(),
        _ => "an event reached one stream later than the timing threshold after the other".to_string(),
    }
}

/// Sorts records deterministically and removes repeated (order_id, kind) order records and
/// repeated gap records.
pub(crate) fn normalize(records: &mut Vec<Expected>) {
    records.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    records.dedup_by(|a, b| a.sort_key() == b.sort_key());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shapes() {
        let o = Expected::Order {
            order_id: "C0000001".into(),
            kind: "MissingFill",
            symbol: "EUR/USD".into(),
            venue: "EBS".into(),
            side: Some("primary"),
            exec_id: Some("E000000007".into()),
        };
        assert_eq!(
            o.to_json_line(3),
            "{\"id\":3,\"type\":\"MissingFill\",\"order_id\":\"C0000001\",\"symbol\":\"EUR/USD\",\
             \"venue\":\"EBS\",\"severity\":\"high\",\"missing_on\":\"primary\",\"exec_id\":\"E000000007\",\
             \"detail\":\"fill E000000007 was not sent on primary\"}"
        );
        let g = Expected::Gap {
            stream: "dropcopy",
            session: "EBSDC->FIRMDC".into(),
            kind: "gap",
            expected: 100,
            seen: 103,
        };
        assert_eq!(
            g.to_json_line(1),
            "{\"id\":1,\"type\":\"SequenceGap\",\"stream\":\"dropcopy\",\"session\":\"EBSDC->FIRMDC\",\
             \"kind\":\"gap\",\"expected\":100,\"seen\":103}"
        );
        let mut s = String::new();
        push_json_str(&mut s, "a\"b\\c\u{1}");
        assert_eq!(s, "\"a\\\"b\\\\c\\u0001\"");
    }
}
