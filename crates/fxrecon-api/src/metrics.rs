//! `GET /metrics`: the live counters and the record book in Prometheus text format
//! (prometheus-client), built afresh for every scrape.
//!
//! Owns: the metric names, their help texts and labels. Never writes a counter: it only reads
//! the pipeline's snapshot and the API's own record book.

use std::collections::BTreeMap;

use fxrecon_engine::counters::{CountersSnapshot, StreamSnapshot};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::records::RecordBook;

type Labels = Vec<(String, String)>;

fn counter(reg: &mut Registry, name: &str, help: &str, rows: impl IntoIterator<Item = (Labels, u64)>) {
    let f = Family::<Labels, Counter>::default();
    for (l, v) in rows {
        f.get_or_create(&l).inc_by(v);
    }
    reg.register(name, help, f);
}

fn gauge(reg: &mut Registry, name: &str, help: &str, rows: impl IntoIterator<Item = (Labels, u64)>) {
    let f = Family::<Labels, Gauge>::default();
    for (l, v) in rows {
        f.get_or_create(&l).set(i64::try_from(v).unwrap_or(i64::MAX));
    }
    reg.register(name, help, f);
}

fn per_stream(c: &CountersSnapshot, f: impl Fn(&StreamSnapshot) -> u64) -> Vec<(Labels, u64)> {
    [("primary", &c.primary), ("dropcopy", &c.dropcopy)]
        .into_iter()
        .map(|(n, s)| (vec![("stream".to_string(), n.to_string())], f(s)))
        .collect()
}

/// An unlabelled counter.
fn counter1(reg: &mut Registry, name: &str, help: &str, v: u64) {
    let c = Counter::<u64>::default();
    c.inc_by(v);
    reg.register(name, help, c);
}

/// An unlabelled gauge.
fn gauge1(reg: &mut Registry, name: &str, help: &str, v: u64) {
    let g = Gauge::<i64>::default();
    g.set(i64::try_from(v).unwrap_or(i64::MAX));
    reg.register(name, help, g);
}

/// The text exposition of `c` and `book`.
pub fn render(c: &CountersSnapshot, book: &RecordBook) -> String {
    let mut reg = Registry::with_prefix("fxrecon");
    counter(&mut reg, "messages", "Messages decoded per input stream", per_stream(c, |s| s.messages));
    counter(&mut reg, "rejects", "Messages rejected per input stream", per_stream(c, |s| s.rejected));
    gauge(&mut reg, "ring_depth", "Items waiting in each input ring", per_stream(c, |s| s.ring_depth));
    counter(&mut reg, "ring_full_waits", "Pushes that found an input ring full", per_stream(c, |s| s.ring_full_waits));
    gauge(
        &mut reg,
        "input_state",
        "Input state code (0 reading, 1 ended, 2 stopped, 3 failed)",
        per_stream(c, |s| s.state.code()),
    );
    let sessions = c.sessions.iter().map(|s| {
        (vec![("stream".to_string(), s.stream.to_string()), ("session".to_string(), s.session.clone())], s.messages)
    });
    counter(&mut reg, "session_messages", "Messages sequenced per session direction", sessions.collect::<Vec<_>>());
    let open_gaps = c.sessions.iter().map(|s| {
        (vec![("stream".to_string(), s.stream.to_string()), ("session".to_string(), s.session.clone())], s.open_gaps)
    });
    gauge(
        &mut reg,
        "session_open_gaps",
        "Sequence gaps still open per session direction",
        open_gaps.collect::<Vec<_>>(),
    );
    counter1(&mut reg, "events", "Events applied by the reconciler", c.events);
    let records = c.records_by_type.iter().map(|(t, n)| (vec![("type".to_string(), t.to_string())], *n));
    counter(&mut reg, "records", "Records written by the output, per type", records.collect::<Vec<_>>());
    let mut by_venue: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut open: BTreeMap<(String, String), u64> = BTreeMap::new();
    for v in book.all().iter().filter(|v| RecordBook::is_divergence(v)) {
        let key = (v["type"].as_str().unwrap_or("").to_string(), v["venue"].as_str().unwrap_or("").to_string());
        *by_venue.entry(key.clone()).or_default() += 1;
        let slot = open.entry(key).or_default();
        *slot += u64::from(book.is_open(v));
    }
    let tv = |m: BTreeMap<(String, String), u64>| {
        m.into_iter()
            .map(|((t, v), n)| (vec![("type".to_string(), t), ("venue".to_string(), v)], n))
            .collect::<Vec<_>>()
    };
    counter(&mut reg, "divergences", "Divergences written, per type and venue", tv(by_venue));
    gauge(&mut reg, "divergences_open", "Divergences not resolved, per type and venue", tv(open));
    gauge1(&mut reg, "orders_live", "Orders held now", c.orders_live);
    counter1(&mut reg, "orders_retired", "Orders retired", c.orders_retired);
    counter1(&mut reg, "orders_reopened", "Retired orders reopened by a late report", c.orders_reopened);
    counter1(&mut reg, "orders_evicted", "Orders evicted", c.orders_evicted);
    counter1(&mut reg, "output_full_waits", "Times the output ring was full", c.output_full_waits);
    counter1(&mut reg, "journal_full_waits", "Times the journal ring was full", c.journal_full_waits);
    if let Some(j) = &c.journal {
        counter1(&mut reg, "journal_records", "Records written to the journal", j.records);
        gauge1(&mut reg, "journal_lag", "Journal marks not yet written", j.lag);
        counter1(&mut reg, "journal_write_failures", "Journal writes that failed", j.write_failures);
    }
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut out, &reg);
    out
}
