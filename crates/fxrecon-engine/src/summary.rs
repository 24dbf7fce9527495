//! Output sinks that write JSON Lines and count what they wrote for the run summary.
//!
//! Owns: the summary's shape (counts per type, per venue, per session; messages read and
//! rejected). Counting happens as records pass; nothing is kept but counters.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::io::{self, Write};

use fxrecon_core::Sink;
use fxrecon_core::divergence::Record;
use fxrecon_core::event::Stream;
use serde::Serialize;

use crate::offline::{OfflineStats, RejectSink};
use crate::render::{session_name, venue_name, write_record, write_reject};

/// Counts of emitted records.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct RecordCounts {
    /// Per record type (`MissingFill`, `SequenceGap`, `Resolved` …).
    pub by_type: BTreeMap<String, u64>,
    /// Per venue, per divergence type.
    pub by_venue: BTreeMap<String, BTreeMap<String, u64>>,
    /// Per session (`stream SENDER->TARGET`), per gap kind.
    pub by_session: BTreeMap<String, BTreeMap<String, u64>>,
}

impl RecordCounts {
    /// Counts one record.
    pub fn count(&mut self, r: &Record) {
        match r {
            Record::Divergence(d) => {
                *self.by_type.entry(d.kind.name().into()).or_default() += 1;
                let venue = self.by_venue.entry(venue_name(&d.venue).into()).or_default();
                *venue.entry(d.kind.name().into()).or_default() += 1;
            }
            Record::Gap(g) => {
                *self.by_type.entry("SequenceGap".into()).or_default() += 1;
                let key = format!("{} {}", g.event.session.stream.name(), session_name(g));
                *self.by_session.entry(key).or_default().entry(g.event.kind.name().into()).or_default() += 1;
            }
            Record::Resolved(_) => *self.by_type.entry("Resolved".into()).or_default() += 1,
            Record::CapacityExhausted(c) => {
                let n = self.by_type.entry("CapacityExhausted".into()).or_default();
                *n += 1;
                // Logged on the output side, off the hot path; the first and every 1000th.
                if *n == 1 || n.is_multiple_of(1000) {
                    tracing::warn!(
                        count = *n,
                        order_id = c.order_id.as_str(),
                        "order store full and nothing finished to evict: order not tracked"
                    );
                }
            }
        }
    }
}

/// A sink that writes each record as a JSON line and counts it. The first write error is kept
/// and returned by [`JsonlSink::finish`].
pub struct JsonlSink<W: Write> {
    out: W,
    /// Counts so far.
    pub counts: RecordCounts,
    error: Option<io::Error>,
}

impl<W: Write> JsonlSink<W> {
    /// Wraps a writer.
    pub fn new(out: W) -> Self {
        Self { out, counts: RecordCounts::default(), error: None }
    }

    /// Flushes; returns the counts, or the first write error.
    pub fn finish(mut self) -> io::Result<RecordCounts> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.counts)
    }
}

impl<W: Write> Sink for JsonlSink<W> {
    fn emit(&mut self, r: &Record) {
        self.counts.count(r);
        if self.error.is_none()
            && let Err(e) = write_record(&mut self.out, r)
        {
            self.error = Some(e);
        }
    }
}

/// Writes rejects as JSON lines; keeps the first write error.
pub struct RejectWriter<W: Write> {
    out: W,
    error: Option<io::Error>,
}

impl<W: Write> RejectWriter<W> {
    /// Wraps a writer.
    pub fn new(out: W) -> Self {
        Self { out, error: None }
    }

    /// Flushes; returns the first write error if any.
    pub fn finish(mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()
    }
}

impl<W: Write> RejectSink for RejectWriter<W> {
    fn flush(&mut self) {
        if self.error.is_none()
            && let Err(e) = self.out.flush()
        {
            self.error = Some(e);
        }
    }

    fn reject(&mut self, stream: Stream, line: u64, reason: &dyn Display, excerpt: &[u8]) {
        if self.error.is_none()
            && let Err(e) = write_reject(&mut self.out, stream, line, reason, excerpt)
        {
            self.error = Some(e);
        }
    }
}

#[derive(Serialize)]
struct PerStream {
    primary: u64,
    dropcopy: u64,
}

impl From<[u64; 2]> for PerStream {
    fn from(v: [u64; 2]) -> Self {
        Self { primary: v[0], dropcopy: v[1] }
    }
}

/// The run summary as written to `--summary` or stderr.
#[derive(Serialize)]
pub struct Summary<'a> {
    messages_read: PerStream,
    messages_rejected: PerStream,
    orders: u64,
    execution_reports: u64,
    repeated_exec_ids: u64,
    stale_reports: u64,
    unknown_exec_refs: u64,
    unknown_cancel_rejects: u64,
    exec_records_dropped: u64,
    timers_dropped: u64,
    orders_retired: u64,
    orders_evicted: u64,
    capacity_exhausted: u64,
    orders_high_water: u64,
    orders_stale_retired: u64,
    elapsed_ms: u64,
    state_digest: String,
    #[serde(flatten)]
    counts: &'a RecordCounts,
}

impl<'a> Summary<'a> {
    /// Builds the summary of a run.
    pub fn new(stats: &OfflineStats, counts: &'a RecordCounts, elapsed_ms: u64) -> Self {
        Self {
            messages_read: stats.messages.into(),
            messages_rejected: stats.rejected.into(),
            orders: stats.recon.orders,
            execution_reports: stats.recon.execution_reports,
            repeated_exec_ids: stats.recon.repeated_exec_ids,
            stale_reports: stats.recon.stale_reports,
            unknown_exec_refs: stats.recon.unknown_exec_refs,
            unknown_cancel_rejects: stats.recon.unknown_cancel_rejects,
            exec_records_dropped: stats.recon.exec_records_dropped,
            timers_dropped: stats.recon.timers_dropped,
            orders_retired: stats.store.retired,
            orders_evicted: stats.store.evicted,
            capacity_exhausted: stats.store.capacity_exhausted,
            orders_high_water: stats.store.high_water,
            orders_stale_retired: stats.store.stale_retired,
            elapsed_ms,
            state_digest: format!("{:016x}", stats.state_digest),
            counts,
        }
    }

    /// Writes it as pretty JSON.
    pub fn write(&self, w: &mut impl Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *w, self).map_err(io::Error::other)?;
        w.write_all(b"\n")
    }
}
