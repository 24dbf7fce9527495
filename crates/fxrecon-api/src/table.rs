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
