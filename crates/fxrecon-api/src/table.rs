//! Human tables of the API's answers (`fxrecon query` without `--json`).
//!
//! Owns: which columns each answer shows. Never fetches anything.

use serde_json::Value;

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

/// Rows under a header, columns padded to their widest cell.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(&width).map(|(c, w)| format!("{c:<w$}")).collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for r in rows {
        out += &line(r.iter().map(String::as_str).collect());
    }
    out
}

/// `{"divergences": [...]}` as a table.
pub fn divergences(v: &Value) -> String {
    let rows: Vec<Vec<String>> = v["divergences"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|d| {
            ["id", "type", "order_id", "venue", "detected_at", "open", "detail"].iter().map(|k| cell(&d[*k])).collect()
        })
        .collect();
    render(&["ID", "TYPE", "ORDER", "VENUE", "DETECTED", "OPEN", "DETAIL"], &rows)
}

/// `{"gaps": [...]}` as a table.
pub fn gaps(v: &Value) -> String {
    let rows: Vec<Vec<String>> = v["gaps"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|g| {
            ["id", "stream", "session", "kind", "expected", "seen", "detected_at"]
                .iter()
                .map(|k| cell(&g[*k]))
                .collect()
        })
        .collect();
    render(&["ID", "STREAM", "SESSION", "KIND", "EXPECTED", "SEEN", "DETECTED"], &rows)
}

/// An order: its identity, then one row per stream's view, then its divergences.
pub fn order(v: &Value) -> String {
    let mut out =
        format!("order {}  symbol {}  venue {}\n", cell(&v["order_id"]), cell(&v["symbol"]), cell(&v["venue"]));
    let rows: Vec<Vec<String>> = ["primary", "dropcopy"]
        .iter()
        .map(|s| {
            let view = &v[*s];
            let mut r = vec![s.to_string()];
            r.extend(["status", "order_qty", "cum_qty", "leaves_qty", "avg_px"].iter().map(|k| cell(&view[*k])));
            r
        })
        .collect();
    out += &render(&["STREAM", "STATUS", "ORDER_QTY", "CUM_QTY", "LEAVES_QTY", "AVG_PX"], &rows);
    out += &divergences(v);
    out
}

/// `{"positions": [...]}` as a table: both streams' net amounts and the break.
pub fn positions(v: &Value) -> String {
    let rows: Vec<Vec<String>> = v["positions"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let mut r = vec![cell(&p["account"]), cell(&p["symbol"])];
            for (side, k) in
                [("primary", "base_qty"), ("dropcopy", "base_qty"), ("break", "base_qty")].into_iter().chain([
                    ("primary", "counter_notional"),
                    ("dropcopy", "counter_notional"),
                    ("break", "counter_notional"),
                ])
            {
                r.push(cell(&p[side][k]));
            }
            r
        })
        .collect();
    let mut out = render(
        &[
            "ACCOUNT",
            "SYMBOL",
            "PRIMARY_BASE",
            "DROPCOPY_BASE",
            "BREAK_BASE",
            "PRIMARY_COUNTER",
            "DROPCOPY_COUNTER",
            "BREAK_COUNTER",
        ],
        &rows,
    );
    let left = &v["left_out"];
    if ["table_full", "unsided_fills", "unpriced_fills"].iter().any(|k| left[*k].as_u64().unwrap_or(0) > 0) {
        out += &format!(
            "left out: {} fills (table full), {} without a side, {} without a price\n",
            cell(&left["table_full"]),
            cell(&left["unsided_fills"]),
            cell(&left["unpriced_fills"])
        );
    }
    out
}
