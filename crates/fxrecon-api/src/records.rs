//! The API's own copy of the records the output wrote: fed by an output sink on the output
//! agent's thread (behind the journal gate, in output order), kept and filtered on the API's
//! thread.
//!
//! Owns: the record feed, the book of records, which divergences are still open and the
//! divergence filters. Never runs on the reconciler's thread and never makes the output wait:
//! the feed's channel is unbounded and sending never blocks.

use std::collections::{HashMap, HashSet};
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
    (RecordFeed { tx }, RecordBook { rx, records: Vec::new(), by_order: HashMap::new(), resolved: HashSet::new() })
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

/// Every record the output wrote so far, as JSON values.
pub struct RecordBook {
    rx: Receiver<Vec<u8>>,
    records: Vec<Value>,
    by_order: HashMap<String, Vec<usize>>,
    resolved: HashSet<u64>,
}

impl RecordBook {
    /// Takes in what the feed sent since the last call.
    pub fn catch_up(&mut self) {
        while let Ok(line) = self.rx.try_recv() {
            let Ok(v) = serde_json::from_slice::<Value>(&line) else { continue };
            self.add(v);
        }
    }

    /// Adds records already written before this process (a recovered run's output file).
    pub fn preload(&mut self, jsonl: &[u8]) {
        for line in jsonl.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            if let Ok(v) = serde_json::from_slice::<Value>(line) {
                self.add(v);
            }
        }
    }

    fn add(&mut self, v: Value) {
        let at = self.records.len();
        if v["type"] == "Resolved"
            && let Some(id) = v["resolves"].as_u64()
        {
            self.resolved.insert(id);
        }
        if let Some(o) = v["order_id"].as_str() {
            self.by_order.entry(o.to_string()).or_default().push(at);
        }
        self.records.push(v);
    }

    /// True when `v` is a divergence of an order (not a gap, a resolution or a capacity note).
    pub fn is_divergence(v: &Value) -> bool {
        v["type"].as_str().is_some_and(|t| !NOT_DIVERGENCES.contains(&t))
    }

    /// True when divergence `v` has not been resolved.
    pub fn is_open(&self, v: &Value) -> bool {
        v["id"].as_u64().is_some_and(|id| !self.resolved.contains(&id))
    }

    /// Every record so far, in output order.
    pub fn all(&self) -> &[Value] {
        &self.records
    }

    /// The records naming `order_ids` as their order, in output order.
    pub fn of_orders<'a>(&'a self, order_ids: &[&str]) -> Vec<&'a Value> {
        let mut at: Vec<usize> = order_ids.iter().filter_map(|o| self.by_order.get(*o)).flatten().copied().collect();
        at.sort_unstable();
        at.dedup();
        at.into_iter().map(|i| &self.records[i]).collect()
    }

    /// The divergences `f` selects (with `"open"` added to each), in output order; a malformed
    /// filter is a 400.
    pub fn divergences(&self, f: &DivergenceFilter) -> Result<Vec<Value>, ApiError> {
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
        let candidates: Vec<&Value> = match &f.order {
            Some(o) => self.of_orders(&[o.as_str()]),
            None => self.records.iter().collect(),
        };
        let text = |v: &Value, k: &str| v[k].as_str().map(str::to_string).unwrap_or_default();
        Ok(candidates
            .into_iter()
            .filter(|v| Self::is_divergence(v))
            .filter(|v| f.kind.as_ref().is_none_or(|k| v["type"] == k.as_str()))
            .filter(|v| f.venue.as_ref().is_none_or(|k| v["venue"] == k.as_str()))
            .filter(|v| from.as_ref().is_none_or(|a| text(v, "detected_at") >= *a))
            .filter(|v| to.as_ref().is_none_or(|b| text(v, "detected_at") < *b))
            .filter(|v| open.is_none_or(|o| self.is_open(v) == o))
            .map(|v| {
                let mut v = v.clone();
                let is_open = self.is_open(&v);
                v["open"] = Value::Bool(is_open);
                v
            })
            .collect())
    }

    /// The SequenceGap records, in output order.
    pub fn gaps(&self) -> Vec<&Value> {
        self.records.iter().filter(|v| v["type"] == "SequenceGap").collect()
    }
}
