//! The API's own copy of the records the output wrote: fed by an output sink on the output
//! agent's thread (behind the journal gate, in output order), kept and filtered on the API's
//! thread.
//!
//! Owns: the record feed, the book of records, which divergences are still open and the
//! divergence filters. Never runs on the reconciler's thread and never makes the output wait:
//! the feed's channel is unbounded and sending never blocks.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::mpsc::{Receiver, Sender, channel};

use fxrecon_core::divergence::Record;
use fxrecon_engine::output::render::write_record;
use fxrecon_engine::output::sink::OutputSink;
use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::time_range::parse_instant;

/// The output sink that hands every record, rendered as the JSON Lines output has it, to the API.
pub struct RecordFeed {
    tx: Sender<Vec<u8>>,
}

impl OutputSink for RecordFeed {
    fn record(&mut self, record: &Record) -> std::io::Result<()> {
        let mut line = Vec::with_capacity(512);
        write_record(&mut line, record)?;
        // The API gone (its thread ended) is no reason to stop the output.
        let _ = self.tx.send(line);
        Ok(())
    }
}

/// A feed and the book it fills.
pub fn record_feed() -> (RecordFeed, RecordBook) {
    let (tx, rx) = channel();
    (RecordFeed { tx }, RecordBook::new(rx))
}

/// Divergence filters of `GET /v1/divergences` (all optional; given ones must all hold).
#[derive(Debug, Default, Deserialize)]
pub struct DivergenceFilter {
    /// Any ClOrdID/OrderID the record names as its order.
    pub order: Option<String>,
    /// Divergence type (`MissingFill`, …).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Venue.
    pub venue: Option<String>,
    /// Detected at or after (RFC 3339 UTC).
    pub from: Option<String>,
    /// Detected before (RFC 3339 UTC).
    pub to: Option<String>,
    /// Only open ones (`true`) or only resolved ones (`false`).
    pub open: Option<String>,
}

/// Record types that are not divergences of an order.
const NOT_DIVERGENCES: [&str; 3] = ["SequenceGap", "Resolved", "CapacityExhausted"];

/// One record as the output wrote it, with the fields the filters read taken out once.
struct Entry {
    /// The JSON line, without its line end.
    line: Box<str>,
    /// Output id.
    id: u64,
    /// `type`.
    kind: Box<str>,
    /// `venue` (empty when it has none).
    venue: Box<str>,
    /// `detected_at`, as written (RFC 3339 UTC, µs: compares as text).
    detected_at: Box<str>,
    /// A divergence of an order (not a gap, a resolution or a capacity note).
    divergence: bool,
}

/// Divergences written and still open, per type and venue (kept as records arrive).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Written.
    pub written: u64,
    /// Not resolved.
    pub open: u64,
}

/// Every record the output wrote so far: its JSON line and the fields filters read, indexed
/// by order and by type, with running tallies for `/metrics`. Answers are written from the
/// lines as they stand (no parse, no copy into JSON values per request).
pub struct RecordBook {
    rx: Receiver<Vec<u8>>,
    entries: Vec<Entry>,
    by_order: HashMap<String, Vec<usize>>,
    by_kind: HashMap<Box<str>, Vec<usize>>,
    by_id: HashMap<u64, usize>,
    resolved: HashSet<u64>,
    tallies: BTreeMap<(Box<str>, Box<str>), Tally>,
}

impl RecordBook {
    fn new(rx: Receiver<Vec<u8>>) -> Self {
        Self {
            rx,
            entries: Vec::new(),
            by_order: HashMap::new(),
            by_kind: HashMap::new(),
            by_id: HashMap::new(),
            resolved: HashSet::new(),
            tallies: BTreeMap::new(),
        }
    }

    /// Takes in what the feed sent since the last call.
    pub fn catch_up(&mut self) {
        while let Ok(line) = self.rx.try_recv() {
            self.add(&line);
        }
    }

    /// Adds records already written before this process (a recovered run's output file).
    pub fn preload(&mut self, jsonl: &[u8]) {
        for line in jsonl.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            self.add(line);
        }
    }

    fn add(&mut self, line: &[u8]) {
        let Ok(v) = serde_json::from_slice::<Value>(line) else { return };
        let Ok(text) = std::str::from_utf8(line) else { return };
        let text = text.trim_end();
        if !text.ends_with('}') {
            return;
        }
        let at = self.entries.len();
        let field = |k: &str| -> Box<str> { v[k].as_str().unwrap_or("").into() };
        let kind = field("type");
        let id = v["id"].as_u64().unwrap_or(u64::MAX);
        let divergence = !kind.is_empty() && !NOT_DIVERGENCES.contains(&&*kind);
        if &*kind == "Resolved"
            && let Some(r) = v["resolves"].as_u64()
            && self.resolved.insert(r)
            && let Some(&e) = self.by_id.get(&r)
            && self.entries[e].divergence
        {
            let e = &self.entries[e];
            if let Some(t) = self.tallies.get_mut(&(e.kind.clone(), e.venue.clone())) {
                t.open = t.open.saturating_sub(1);
            }
        }
        if let Some(o) = v["order_id"].as_str() {
            self.by_order.entry(o.to_string()).or_default().push(at);
        }
        let entry =
            Entry { line: text.into(), id, kind, venue: field("venue"), detected_at: field("detected_at"), divergence };
        if divergence {
            let t = self.tallies.entry((entry.kind.clone(), entry.venue.clone())).or_default();
            t.written += 1;
            t.open += u64::from(!self.resolved.contains(&id));
        }
        self.by_kind.entry(entry.kind.clone()).or_default().push(at);
        self.by_id.insert(id, at);
        self.entries.push(entry);
    }

    /// Divergences written and open per (type, venue), kept as records arrive.
    pub fn tallies(&self) -> impl Iterator<Item = (&str, &str, Tally)> + '_ {
        self.tallies.iter().map(|((k, v), t)| (&**k, &**v, *t))
    }

    /// True when the divergence with output id `id` has not been resolved.
    pub fn is_open(&self, id: u64) -> bool {
        !self.resolved.contains(&id)
    }

    /// Every record so far, in output order, parsed (for reports; the API's answers do not
    /// parse).
    pub fn all(&self) -> Vec<Value> {
        self.entries.iter().filter_map(|e| serde_json::from_str(&e.line).ok()).collect()
    }

    /// Positions of the records naming `order_ids` as their order, in output order.
    fn at_orders(&self, order_ids: &[&str]) -> Vec<usize> {
        let mut at: Vec<usize> = order_ids.iter().filter_map(|o| self.by_order.get(*o)).flatten().copied().collect();
        at.sort_unstable();
        at.dedup();
        at
    }

    /// The records naming `order_ids` as their order, in output order, parsed.
    pub fn of_orders(&self, order_ids: &[&str]) -> Vec<Value> {
        self.at_orders(order_ids).into_iter().filter_map(|i| serde_json::from_str(&self.entries[i].line).ok()).collect()
    }

    /// The divergences `f` selects, in output order, as the body
    /// `{"count":N,"divergences":[...]}` (each record as the output wrote it, with `"open"`
    /// added); a malformed filter is a 400.
    pub fn divergences(&self, f: &DivergenceFilter) -> Result<String, ApiError> {
        let from = f.from.as_deref().map(|s| parse_instant("from", s)).transpose()?;
        let to = f.to.as_deref().map(|s| parse_instant("to", s)).transpose()?;
        if let (Some(a), Some(b)) = (&from, &to)
            && a > b
        {
            return Err(ApiError::BadRequest(format!("from ({a}) is after to ({b})")));
        }
        let open = match f.open.as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(o) => return Err(ApiError::BadRequest(format!("open: {o:?} is neither true nor false"))),
        };
        // The narrowest index that applies: the order's records, the type's, or all.
        let candidates: Box<dyn Iterator<Item = usize> + '_> = match (&f.order, &f.kind) {
            (Some(o), _) => Box::new(self.at_orders(&[o.as_str()]).into_iter()),
            (None, Some(k)) => {
                Box::new(self.by_kind.get(k.as_str()).map(|v| v.as_slice()).unwrap_or_default().iter().copied())
            }
            (None, None) => Box::new(0..self.entries.len()),
        };
        let mut body = String::with_capacity(4096);
        let mut count = 0usize;
        body.push_str("{\"divergences\":[");
        for e in candidates.map(|i| &self.entries[i]) {
            let keep = e.divergence
                && f.kind.as_ref().is_none_or(|k| *e.kind == **k)
                && f.venue.as_ref().is_none_or(|v| *e.venue == **v)
                && from.as_ref().is_none_or(|a| *e.detected_at >= **a)
                && to.as_ref().is_none_or(|b| *e.detected_at < **b);
            let is_open = self.is_open(e.id);
            if !keep || open.is_some_and(|o| o != is_open) {
                continue;
            }
            if count > 0 {
                body.push(',');
            }
            // The line is one JSON object: `"open"` goes in before its closing brace.
            body.push_str(&e.line[..e.line.len() - 1]);
            body.push_str(if is_open { ",\"open\":true}" } else { ",\"open\":false}" });
            count += 1;
        }
        body.push_str(&format!("],\"count\":{count}}}"));
        Ok(body)
    }

    /// The SequenceGap records, in output order, parsed.
    pub fn gaps(&self) -> Vec<Value> {
        self.by_kind
            .get("SequenceGap")
            .map(|v| v.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|&i| serde_json::from_str(&self.entries[i].line).ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINES: &str = concat!(
        r#"{"id":1,"type":"MissingFill","order_id":"A","venue":"EBS","detected_at":"2026-11-25T10:00:01.000000Z"}"#,
        "\n",
        r#"{"id":2,"type":"SequenceGap","stream":"dropcopy","detected_at":"2026-11-25T10:00:02.000000Z"}"#,
        "\n",
        r#"{"id":3,"type":"MissingFill","order_id":"B","venue":"EBS","detected_at":"2026-11-25T10:00:03.000000Z"}"#,
        "\n",
        r#"{"id":4,"type":"Resolved","resolves":1,"order_id":"A","detected_at":"2026-11-25T10:00:04.000000Z"}"#,
        "\n",
    );

    fn book() -> RecordBook {
        let (_feed, mut book) = record_feed();
        book.preload(LINES.as_bytes());
        book
    }

    #[test]
    fn a_resolution_moves_its_divergence_out_of_the_open_tally() {
        let b = book();
        let t: Vec<_> = b.tallies().collect();
        assert_eq!(t, vec![("MissingFill", "EBS", Tally { written: 2, open: 1 })]);
    }

    #[test]
    fn answers_are_the_written_lines_with_open_spliced_in() {
        let b = book();
        let all: Value = serde_json::from_str(&b.divergences(&DivergenceFilter::default()).unwrap()).unwrap();
        assert_eq!(all["count"], 2);
        assert_eq!(all["divergences"][0]["id"], 1);
        assert_eq!(all["divergences"][0]["open"], false);
        assert_eq!(all["divergences"][1]["open"], true);
        let f = DivergenceFilter { kind: Some("MissingFill".into()), open: Some("true".into()), ..Default::default() };
        let open: Value = serde_json::from_str(&b.divergences(&f).unwrap()).unwrap();
        assert_eq!(open["count"], 1);
        assert_eq!(open["divergences"][0]["order_id"], "B");
        let f = DivergenceFilter { kind: Some("Nothing".into()), ..Default::default() };
        assert_eq!(b.divergences(&f).unwrap(), r#"{"divergences":[],"count":0}"#);
        assert_eq!(b.gaps().len(), 1);
        assert_eq!(b.of_orders(&["A"]).len(), 2);
    }
}
