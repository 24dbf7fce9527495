//! JSON Lines rendering of records and rejects (contract section 4).
//!
//! Owns: key order and value formatting of the output. Records are rare next to messages, so
//! this favours clarity (serde) over avoiding allocation.

use std::io::{self, Write};

use fxrecon_core::divergence::{Divergence, GapRecord, Record, Resolution, ViewSnapshot};
use fxrecon_core::event::Stream;
use fxrecon_core::text::Name;
use serde::Serialize;

/// A view as printed; a value the stream never reported (and that cannot be derived) is
/// `null`, never a made-up zero (contract 1.1, D53).
#[derive(Serialize)]
struct ViewOut {
    status: &'static str,
    cum_qty: String,
    leaves_qty: Option<String>,
    avg_px: Option<String>,
}

impl From<ViewSnapshot> for ViewOut {
    fn from(v: ViewSnapshot) -> Self {
        Self {
            status: v.status.name(),
            cum_qty: v.cum_qty.to_string(),
            leaves_qty: v.leaves_qty.map(|q| q.to_string()),
            avg_px: v.avg_px.map(|p| p.to_string()),
        }
    }
}

#[derive(Serialize)]
struct DivergenceOut<'a> {
    id: u64,
    #[serde(rename = "type")]
    kind: &'static str,
    order_id: &'a str,
    symbol: &'a str,
    venue: &'a str,
    detected_at: String,
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    seen_on: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    missing_on: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exec_id: Option<&'a str>,
    primary: Option<ViewOut>,
    dropcopy: Option<ViewOut>,
    detail: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    gap_exposure: bool,
}

#[derive(Serialize)]
struct GapOut {
    id: u64,
    #[serde(rename = "type")]
    kind: &'static str,
    stream: &'static str,
    session: String,
    #[serde(rename = "kind")]
    gap_kind: &'static str,
    expected: u64,
    seen: u64,
    detected_at: String,
}

#[derive(Serialize)]
struct ResolvedOut<'a> {
    id: u64,
    #[serde(rename = "type")]
    kind: &'static str,
    resolves: u64,
    order_id: &'a str,
    detected_at: String,
    detail: String,
}

/// The venue as printed: `"unknown"` when no report named one (docs/decisions.md D11).
pub fn venue_name(v: &Name) -> &str {
    if v.is_empty() { "unknown" } else { v.as_str() }
}

/// `SENDER->TARGET`.
pub fn session_name(g: &GapRecord) -> String {
    format!("{}->{}", g.event.session.sender, g.event.session.target)
}

fn divergence(d: &Divergence) -> DivergenceOut<'_> {
    let side = d.side.map(Stream::name);
    let is_phantom = matches!(d.kind, fxrecon_core::DivergenceKind::PhantomOrder);
    DivergenceOut {
        id: d.id,
        kind: d.kind.name(),
        order_id: d.order_id.as_str(),
        symbol: d.symbol.as_str(),
        venue: venue_name(&d.venue),
        detected_at: d.detected_at.rfc3339().to_string(),
        severity: d.severity.name(),
        seen_on: if is_phantom { side } else { None },
        missing_on: if is_phantom { None } else { side },
        exec_id: d.exec_id.as_ref().map(|e| e.as_str()),
        primary: d.views[0].map(ViewOut::from),
        dropcopy: d.views[1].map(ViewOut::from),
        detail: d.to_string(),
        gap_exposure: d.gap_exposure,
    }
}

fn gap(g: &GapRecord) -> GapOut {
    GapOut {
        id: g.id,
        kind: "SequenceGap",
        stream: g.event.session.stream.name(),
        session: session_name(g),
        gap_kind: g.event.kind.name(),
        expected: g.event.expected,
        seen: g.event.seen,
        detected_at: g.event.at.rfc3339().to_string(),
    }
}

fn resolved(r: &Resolution) -> ResolvedOut<'_> {
    ResolvedOut {
        id: r.id,
        kind: "Resolved",
        resolves: r.resolves,
        order_id: r.order_id.as_str(),
        detected_at: r.detected_at.rfc3339().to_string(),
        detail: r.to_string(),
    }
}

#[derive(Serialize)]
struct CapacityOut<'a> {
    id: u64,
    #[serde(rename = "type")]
    kind: &'static str,
    order_id: &'a str,
    stream: &'static str,
    detected_at: String,
    detail: &'static str,
}

/// Writes one record as one JSON line.
pub fn write_record(w: &mut impl Write, r: &Record) -> io::Result<()> {
    match r {
        Record::Divergence(d) => serde_json::to_writer(&mut *w, &divergence(d)),
        Record::Gap(g) => serde_json::to_writer(&mut *w, &gap(g)),
        Record::Resolved(x) => serde_json::to_writer(&mut *w, &resolved(x)),
        Record::CapacityExhausted(c) => serde_json::to_writer(
            &mut *w,
            &CapacityOut {
                id: c.id,
                kind: "CapacityExhausted",
                order_id: c.order_id.as_str(),
                stream: c.stream.name(),
                detected_at: c.detected_at.rfc3339().to_string(),
                detail: "order store full and no finished order to evict: this order is not tracked",
            },
        ),
    }
    .map_err(io::Error::other)?;
    w.write_all(b"\n")
}

#[derive(Serialize)]
struct RejectOut<'a> {
    stream: &'static str,
    line: u64,
    reason: String,
    excerpt: &'a str,
}

/// Writes one rejected message as one JSON line (excerpt lossily decoded).
pub fn write_reject(
    w: &mut impl Write,
    stream: Stream,
    line: u64,
    reason: &dyn std::fmt::Display,
    excerpt: &[u8],
) -> io::Result<()> {
    let text = String::from_utf8_lossy(excerpt).replace('\u{1}', "|");
    let out = RejectOut { stream: stream.name(), line, reason: reason.to_string(), excerpt: &text };
    serde_json::to_writer(&mut *w, &out).map_err(io::Error::other)?;
    w.write_all(b"\n")
}

/// Writes one quarantined message as one JSON line.
pub fn write_reject_note(w: &mut impl Write, n: &fxrecon_core::quarantine::RejectNote) -> io::Result<()> {
    write_reject(w, n.stream, n.line, &n.reason, n.excerpt.as_bytes())
}

/// Records as the JSON Lines bytes the output would hold.
pub fn records_to_jsonl(records: &[Record]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        write_record(&mut out, r).expect("writing to memory cannot fail");
    }
    out
}

/// Rejects as the JSON Lines bytes the rejects output would hold.
pub fn rejects_to_jsonl(rejects: &[fxrecon_core::quarantine::RejectNote]) -> Vec<u8> {
    let mut out = Vec::new();
    for n in rejects {
        write_reject_note(&mut out, n).expect("writing to memory cannot fail");
    }
    out
}
