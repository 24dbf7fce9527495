//! The end-of-day report (`fxrecon eod`, contract 6): `breaks.csv`, `breaks.json` and a
//! self-contained `report.html` (inline CSS and SVG, no script, no external asset) made from
//! the query API's own answers — divergences, gaps, positions — so a report from a journal and
//! one from the running daemon are the same bytes when the answers are.
//!
//! Owns: what the report holds (breaks per venue × type, open vs resolved, gaps per session,
//! the largest exposures by notional, the position table), its three renderings and the exact
//! decimal arithmetic of exposures. Never fetches anything and never writes a file: the caller
//! hands it the answers and writes what it returns.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

/// Exposures listed at most.
pub const TOP_EXPOSURES: usize = 20;

/// The three files of a report, in memory.
pub struct ReportFiles {
    /// `breaks.csv`: one line per divergence.
    pub csv: String,
    /// `breaks.json`: the divergences and every table of the report.
    pub json: String,
    /// `report.html`.
    pub html: String,
}

/// The answers a report is made from (as `GET /v1/divergences`, `/v1/gaps`, `/v1/positions`
/// give them, unfiltered) and the day it covers (`YYYY-MM-DD`; `None`: everything).
pub struct Answers<'a> {
    /// `{"divergences": [...]}`, each with `open`.
    pub divergences: &'a Value,
    /// `{"gaps": [...], "sessions": [...]}`.
    pub gaps: &'a Value,
    /// `{"positions": [...], ...}`.
    pub positions: &'a Value,
    /// The day: records detected on it (UTC) only.
    pub date: Option<&'a str>,
}

/// An exact decimal as a scaled integer (`SCALE` fractional digits); `None` when it is not one.
fn scaled(text: &str, scale: u32) -> Option<i128> {
    let (neg, body) = text.strip_prefix('-').map_or((false, text), |b| (true, b));
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() || frac.len() > scale as usize || !(int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())) {
        return None;
    }
    let v: i128 = format!("{int}{frac:0<width$}", width = scale as usize).parse().ok()?;
    Some(if neg { -v } else { v })
}

/// A scaled integer printed as a decimal (trailing zeros dropped).
fn decimal(v: i128, scale: u32) -> String {
    let one = 10u128.pow(scale);
    let a = v.unsigned_abs();
    let mut s = format!("{}{}", if v < 0 { "-" } else { "" }, a / one);
    let frac = a % one;
    if frac != 0 {
        let f = format!("{frac:0width$}", width = scale as usize);
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s
}

/// A view's filled notional, CumQty × AvgPx (4 + 8 decimals); 0 for no view.
fn filled_notional(view: &Value) -> i128 {
    let q = view["cum_qty"].as_str().and_then(|q| scaled(q, 4)).unwrap_or(0);
    let p = view["avg_px"].as_str().and_then(|p| scaled(p, 8)).unwrap_or(0);
    q * p
}

/// A divergence's exposure: how far apart the two views' filled notionals are (counter
/// currency, 12 decimals; docs/decisions.md D73).
fn exposure(d: &Value) -> i128 {
    (filled_notional(&d["primary"]) - filled_notional(&d["dropcopy"])).abs()
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or("")
}

fn on_day(v: &Value, date: Option<&str>) -> bool {
    date.is_none_or(|d| text(v, "detected_at").starts_with(d))
}

/// A CSV field, quoted when it must be (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// Text made safe inside HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The CSV columns of a break.
const CSV_COLUMNS: [&str; 10] =
    ["id", "type", "severity", "order_id", "symbol", "venue", "detected_at", "open", "exposure", "detail"];

/// Makes the report.
pub fn build(a: &Answers<'_>) -> ReportFiles {
    let empty = Vec::new();
    let divs: Vec<&Value> =
        a.divergences["divergences"].as_array().unwrap_or(&empty).iter().filter(|d| on_day(d, a.date)).collect();
    let gaps: Vec<&Value> = a.gaps["gaps"].as_array().unwrap_or(&empty).iter().filter(|g| on_day(g, a.date)).collect();
    let positions = a.positions["positions"].as_array().unwrap_or(&empty);

    // Breaks per venue × type, open and resolved.
    let mut grid: BTreeMap<(String, String), [u64; 2]> = BTreeMap::new();
    for d in &divs {
        let cell = grid.entry((text(d, "venue").to_string(), text(d, "type").to_string())).or_default();
        cell[usize::from(d["open"] != true)] += 1;
    }
    // Gaps per session.
    let mut sessions: BTreeMap<(String, String), u64> = BTreeMap::new();
    for g in &gaps {
        *sessions.entry((text(g, "stream").to_string(), text(g, "session").to_string())).or_default() += 1;
    }
    // Largest exposures.
    let mut exposed: Vec<(&Value, i128)> = divs.iter().map(|d| (*d, exposure(d))).filter(|(_, e)| *e > 0).collect();
    exposed.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0["id"].as_u64().cmp(&y.0["id"].as_u64())));
    exposed.truncate(TOP_EXPOSURES);

    let open = divs.iter().filter(|d| d["open"] == true).count();
    let summary = json!({
        "date": a.date,
        "breaks": divs.len(),
        "open": open,
        "resolved": divs.len() - open,
        "sequence_gaps": gaps.len(),
        "position_breaks": a.positions["breaks"],
    });

    // breaks.csv
    let mut csv = CSV_COLUMNS.join(",") + "\n";
    for d in &divs {
        let cells: Vec<String> = CSV_COLUMNS
            .iter()
            .map(|k| match *k {
                "exposure" => decimal(exposure(d), 12),
                "id" | "open" => d[*k].to_string(),
                k => csv_field(text(d, k)),
            })
            .collect();
        csv += &(cells.join(",") + "\n");
    }

    // breaks.json
    let by_venue_type: Vec<Value> = grid
        .iter()
        .map(|((venue, kind), [o, r])| json!({ "venue": venue, "type": kind, "open": o, "resolved": r }))
        .collect();
    let gaps_per_session: Vec<Value> = sessions
        .iter()
        .map(|((stream, session), n)| json!({ "stream": stream, "session": session, "gaps": n }))
        .collect();
    let exposures: Vec<Value> = exposed
        .iter()
        .map(|(d, e)| {
            json!({ "id": d["id"], "type": d["type"], "order_id": d["order_id"], "symbol": d["symbol"],
                    "venue": d["venue"], "open": d["open"], "exposure": decimal(*e, 12) })
        })
        .collect();
    let report = json!({
        "summary": summary,
        "breaks_by_venue_and_type": by_venue_type,
        "gaps_per_session": gaps_per_session,
        "largest_exposures": exposures,
        "positions": positions,
        "divergences": divs,
        "gaps": gaps,
    });
    let json = serde_json::to_string_pretty(&report).unwrap_or_default() + "\n";
    let html = html(&report, &grid);
    ReportFiles { csv, json, html }
}

/// The chart: one group of bars per venue × type, open (red) over resolved (green).
fn chart(grid: &BTreeMap<(String, String), [u64; 2]>) -> String {
    let (bar, gap, height, label) = (18usize, 10usize, 160usize, 120usize);
    let most = grid.values().map(|[o, r]| o + r).max().unwrap_or(0).max(1);
    // Room on the right for the last label, rotated below the axis.
    let width = grid.len() * (bar + gap) + gap + 140;
    let mut svg = format!(
        "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{}\" role=\"img\" \
         aria-label=\"breaks per venue and type, open and resolved\">",
        height + label + 20
    );
    let _ = write!(svg, "<line x1=\"30\" y1=\"{height}\" x2=\"{width}\" y2=\"{height}\" stroke=\"#444\"/>");
    let _ = write!(svg, "<text x=\"0\" y=\"12\" font-size=\"11\">{most}</text>");
    let _ = write!(
        svg,
        "<g class=\"legend\" font-size=\"11\"><rect x=\"{a}\" y=\"2\" width=\"10\" height=\"10\" fill=\"#c8423b\"/>\
         <text x=\"{b}\" y=\"11\">open</text><rect x=\"{a}\" y=\"18\" width=\"10\" height=\"10\" fill=\"#4a9d5b\"/>\
         <text x=\"{b}\" y=\"27\">resolved</text></g>",
        a = width - 80,
        b = width - 66
    );
    for (i, ((venue, kind), [o, r])) in grid.iter().enumerate() {
        let x = 30 + gap + i * (bar + gap);
        let h_open = (*o as usize * (height - 10)).div_ceil(most as usize);
        let h_res = (*r as usize * (height - 10)).div_ceil(most as usize);
        let title = format!("{venue} {kind}: {o} open, {r} resolved");
        let _ = write!(
            svg,
            "<g class=\"bar\" data-venue=\"{v}\" data-type=\"{k}\" data-open=\"{o}\" data-resolved=\"{r}\"><title>{t}</title>\
             <rect class=\"resolved\" x=\"{x}\" y=\"{yr}\" width=\"{bar}\" height=\"{h_res}\" fill=\"#4a9d5b\"/>\
             <rect class=\"open\" x=\"{x}\" y=\"{yo}\" width=\"{bar}\" height=\"{h_open}\" fill=\"#c8423b\"/>\
             <text x=\"{tx}\" y=\"{ty}\" font-size=\"10\" transform=\"rotate(60 {tx} {ty})\">{v} {k}</text></g>",
            v = esc(venue),
            k = esc(kind),
            t = esc(&title),
            yr = height - h_res,
            yo = height - h_res - h_open,
            tx = x + 4,
            ty = height + 8,
        );
    }
    svg + "</svg>"
}

/// An HTML table of `rows` under `header`, with id `id`.
fn table(id: &str, header: &[&str], rows: &[Vec<String>]) -> String {
    let mut t = format!("<table id=\"{id}\"><thead><tr>");
    for h in header {
        let _ = write!(t, "<th>{}</th>", esc(h));
    }
    t += "</tr></thead><tbody>";
    for r in rows {
        t += "<tr>";
        for c in r {
            let _ = write!(t, "<td>{}</td>", esc(c));
        }
        t += "</tr>";
    }
    t + "</tbody></table>"
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

fn html(report: &Value, grid: &BTreeMap<(String, String), [u64; 2]>) -> String {
    let s = &report["summary"];
    let rows = |k: &str, cols: &[&str]| -> Vec<Vec<String>> {
        report[k]
            .as_array()
            .map_or(Vec::new(), |a| a.iter().map(|r| cols.iter().map(|c| cell(&r[*c])).collect()).collect())
    };
    let positions: Vec<Vec<String>> = report["positions"].as_array().map_or(Vec::new(), |a| {
        a.iter()
            .map(|p| {
                let mut r = vec![cell(&p["account"]), cell(&p["symbol"])];
                for k in ["base_qty", "counter_notional"] {
                    r.extend(["primary", "dropcopy", "break"].iter().map(|side| cell(&p[*side][k])));
                }
                r
            })
            .collect()
    });
    let day = s["date"].as_str().unwrap_or("all days");
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>fxrecon end of day: {day}</title>\
         <style>body{{font:14px system-ui,sans-serif;margin:1.5em;color:#222}}table{{border-collapse:collapse;margin:0.5em 0 1.5em}}\
         th,td{{border:1px solid #ccc;padding:2px 8px;text-align:left}}th{{background:#eee}}h2{{margin-top:1.2em}}\
         .k{{display:inline-block;margin-right:2em}}.k b{{font-size:1.4em;display:block}}</style></head><body>\
         <h1>End of day: {day}</h1><div id=\"summary\">\
         <span class=\"k\">breaks<b id=\"n-breaks\">{b}</b></span><span class=\"k\">open<b id=\"n-open\">{o}</b></span>\
         <span class=\"k\">resolved<b id=\"n-resolved\">{r}</b></span><span class=\"k\">sequence gaps<b id=\"n-gaps\">{g}</b></span>\
         <span class=\"k\">position breaks<b id=\"n-position-breaks\">{pb}</b></span></div>",
        day = esc(day),
        b = s["breaks"],
        o = s["open"],
        r = s["resolved"],
        g = s["sequence_gaps"],
        pb = cell(&s["position_breaks"]),
    );
    h += "<h2>Breaks per venue and type</h2>";
    h += &chart(grid);
    h += &table(
        "by-venue-type",
        &["VENUE", "TYPE", "OPEN", "RESOLVED"],
        &rows("breaks_by_venue_and_type", &["venue", "type", "open", "resolved"]),
    );
    h += "<h2>Sequence gaps per session</h2>";
    h += &table("gaps", &["STREAM", "SESSION", "GAPS"], &rows("gaps_per_session", &["stream", "session", "gaps"]));
    h += "<h2>Largest exposures by notional</h2><p>|CumQty × AvgPx primary − drop copy|, in the symbol's counter currency.</p>";
    h += &table(
        "exposures",
        &["ID", "TYPE", "ORDER", "SYMBOL", "VENUE", "OPEN", "EXPOSURE"],
        &rows("largest_exposures", &["id", "type", "order_id", "symbol", "venue", "open", "exposure"]),
    );
    h += "<h2>Positions</h2><p>Net base quantity and counter notional from each stream's live fills, largest break first.</p>";
    h += &table(
        "positions",
        &[
            "ACCOUNT",
            "SYMBOL",
            "PRIMARY BASE",
            "DROPCOPY BASE",
            "BREAK BASE",
            "PRIMARY COUNTER",
            "DROPCOPY COUNTER",
            "BREAK COUNTER",
        ],
        &positions,
    );
    h + "</body></html>\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposures_are_exact_and_the_day_filter_keeps_only_that_day() {
        let divs = json!({"divergences": [
            {"id": 1, "type": "MissingFill", "venue": "EBS", "detected_at": "2026-11-25T08:00:00Z", "open": true,
             "primary": {"cum_qty": "1000000", "avg_px": "1.08451"}, "dropcopy": {"cum_qty": "0", "avg_px": "0"},
             "detail": "a, \"quoted\" detail"},
            {"id": 2, "type": "PhantomOrder", "venue": "EBS", "detected_at": "2026-11-26T08:00:00Z", "open": false,
             "primary": {"cum_qty": "5", "avg_px": "2"}, "dropcopy": null},
        ]});
        let (gaps, positions) = (json!({"gaps": []}), json!({"positions": [], "breaks": 0}));
        let all = build(&Answers { divergences: &divs, gaps: &gaps, positions: &positions, date: None });
        assert_eq!(all.csv.lines().count(), 3);
        assert!(all.csv.contains(",1084510,\"a, \"\"quoted\"\" detail\""), "{}", all.csv);
        let day = build(&Answers { divergences: &divs, gaps: &gaps, positions: &positions, date: Some("2026-11-26") });
        assert_eq!(day.csv.lines().count(), 2);
        let v: Value = serde_json::from_str(&day.json).unwrap();
        assert_eq!(v["summary"]["resolved"], 1);
        assert_eq!(v["largest_exposures"][0]["exposure"], "10");
        for external in ["<script", "src=", "<link", "url("] {
            assert!(!all.html.contains(external), "self-contained: {external}");
        }
    }
}
