//! `GET /metrics`: the live counters and the record book in Prometheus text format
//! (prometheus-client), built afresh for every scrape.
//!
//! Owns: the metric names, their help texts and labels. Never writes a counter: it only reads
//! the pipeline's snapshot and the API's own record book.

use std::sync::atomic::AtomicU64;

use fxrecon_engine::counters::{CountersSnapshot, LATENCY_BOUNDS_US, LatencySnapshot, StreamSnapshot};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;
use prometheus_client::registry::Unit;

use crate::records::{RecordBook, Tally};

/// A metric's labels: (name, value) pairs.
pub type Labels = Vec<(String, String)>;

/// Whether an external family only counts up or goes up and down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A monotonic counter (`_total`).
    Counter,
    /// A gauge.
    Gauge,
}

/// One metric family from outside the pipeline's counters (the FIX sessions'), read afresh at
/// every scrape.
#[derive(Clone, Debug)]
pub struct ExternalFamily {
    /// The name after the `fxrecon_` prefix.
    pub name: &'static str,
    /// The help text.
    pub help: &'static str,
    /// Counter or gauge.
    pub kind: Kind,
    /// One value per label set.
    pub rows: Vec<(Labels, u64)>,
}

/// What reads the external families at a scrape (it must only read atomics: it runs on the
/// API's thread).
pub type ExternalMetrics = std::sync::Arc<dyn Fn() -> Vec<ExternalFamily> + Send + Sync>;

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

/// The text exposition of `c` and `book`; `now_us` (wall-clock µs since the epoch) dates the
/// inputs' last messages.
pub fn render(c: &CountersSnapshot, book: &RecordBook, now_us: u64, external: &[ExternalFamily]) -> String {
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
    gauge(
        &mut reg,
        "input_connected",
        "1 while the input's transport is connected",
        per_stream(c, |s| u64::from(s.connected)),
    );
    gauge(
        &mut reg,
        "input_caught_up",
        "1 when the input's last poll found nothing waiting",
        per_stream(c, |s| u64::from(s.caught_up)),
    );
    let ages = Family::<Labels, Gauge<f64, AtomicU64>>::default();
    for (n, x) in [("primary", &c.primary), ("dropcopy", &c.dropcopy)] {
        if x.last_message_us > 0 {
            let age = now_us.saturating_sub(x.last_message_us) as f64 / 1e6;
            ages.get_or_create(&vec![("stream".to_string(), n.to_string())]).set(age);
        }
    }
    reg.register_with_unit(
        "input_last_message_age",
        "Time since the input's last message (absent before its first)",
        Unit::Seconds,
        ages,
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
    counter1(&mut reg, "commands", "Questions the reconciler answered between batches", c.commands);
    let records = c.records_by_type.iter().map(|(t, n)| (vec![("type".to_string(), t.to_string())], *n));
    counter(&mut reg, "records", "Records written by the output, per type", records.collect::<Vec<_>>());
    let tallies: Vec<_> = book.tallies().collect();
    let tv = |f: fn(&Tally) -> u64| {
        tallies
            .iter()
            .map(|(t, v, n)| (vec![("type".to_string(), t.to_string()), ("venue".to_string(), v.to_string())], f(n)))
            .collect::<Vec<_>>()
    };
    counter(&mut reg, "divergences", "Divergences written, per type and venue", tv(|t| t.written));
    gauge(&mut reg, "divergences_open", "Divergences not resolved, per type and venue", tv(|t| t.open));
    reg.register_with_unit(
        "detection_latency",
        "From the moment a divergence or gap became decidable to its emission (ingest clock only)",
        Unit::Seconds,
        LatencyHistogram(c.detection_latency.clone()),
    );
    gauge1(&mut reg, "orders_live", "Orders held now", c.orders_live);
    counter1(&mut reg, "orders_retired", "Orders retired", c.orders_retired);
    counter1(&mut reg, "orders_reopened", "Retired orders reopened by a late report", c.orders_reopened);
    counter1(&mut reg, "orders_evicted", "Orders evicted", c.orders_evicted);
    gauge1(&mut reg, "orders_retired_held", "Retired orders remembered now", c.retired_held);
    counter1(&mut reg, "output_full_waits", "Times the output ring was full", c.output_full_waits);
    counter1(&mut reg, "journal_full_waits", "Times the journal ring was full", c.journal_full_waits);
    if let Some(j) = &c.journal {
        counter1(&mut reg, "journal_records", "Records written to the journal", j.records);
        reg.register_with_unit("journal", "Record bytes appended to the journal", Unit::Bytes, {
            let b = Counter::<u64>::default();
            b.inc_by(j.bytes);
            b
        });
        gauge1(&mut reg, "journal_lag", "Journal marks not yet written", j.lag);
        counter1(&mut reg, "journal_write_failures", "Journal writes that failed", j.write_failures);
    }
    for f in external {
        match f.kind {
            Kind::Counter => counter(&mut reg, f.name, f.help, f.rows.iter().cloned()),
            Kind::Gauge => gauge(&mut reg, f.name, f.help, f.rows.iter().cloned()),
        }
    }
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut out, &reg);
    out
}

/// The detection-latency histogram as the pipeline counted it (fixed buckets, µs), encoded in
/// seconds.
#[derive(Debug)]
struct LatencyHistogram(LatencySnapshot);

impl TypedMetric for LatencyHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for LatencyHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let h = &self.0;
        // The encoder takes per-bucket counts and accumulates them itself.
        let mut below = 0;
        let buckets: Vec<(f64, u64)> = h
            .cumulative
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let bound = LATENCY_BOUNDS_US.get(i).map_or(f64::MAX, |&b| b as f64 / 1e6);
                let here = n.saturating_sub(below);
                below = n;
                (bound, here)
            })
            .collect();
        // The count is the buckets' total (the live counters may be one update apart).
        encoder.encode_histogram::<NoLabelSet>(h.sum_us as f64 / 1e6, below, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}
