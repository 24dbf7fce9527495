//! The run summary: what a run read, rejected and found, from the live counters and the
//! output's tallies (counts per type, per venue, per session).
//!
//! Owns: the summary's shape (contract section 5) and the tallies' keys. Counting happens as
//! records pass; nothing is kept but counters.

use std::collections::BTreeMap;
use std::io::{self, Write};

use fxrecon_core::divergence::Record;
use serde::Serialize;

use crate::counters::CountersSnapshot;
use crate::output::render::{session_name, venue_name};

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

#[derive(Serialize)]
struct PerStream {
    primary: u64,
    dropcopy: u64,
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
    orders_reopened: u64,
    retired_held: u64,
    retired_forgotten_early: u64,
    elapsed_ms: u64,
    state_digest: String,
    #[serde(flatten)]
    counts: &'a RecordCounts,
}

impl<'a> Summary<'a> {
    /// The summary of a run whose counters read `c` at its end.
    pub fn new(c: &CountersSnapshot, counts: &'a RecordCounts, elapsed_ms: u64) -> Self {
        Self {
            messages_read: PerStream { primary: c.primary.messages, dropcopy: c.dropcopy.messages },
            messages_rejected: PerStream { primary: c.primary.rejected, dropcopy: c.dropcopy.rejected },
            orders: c.orders,
            execution_reports: c.execution_reports,
            repeated_exec_ids: c.repeated_exec_ids,
            stale_reports: c.stale_reports,
            unknown_exec_refs: c.unknown_exec_refs,
            unknown_cancel_rejects: c.unknown_cancel_rejects,
            exec_records_dropped: c.exec_records_dropped,
            timers_dropped: c.timers_dropped,
            orders_retired: c.orders_retired,
            orders_evicted: c.orders_evicted,
            capacity_exhausted: c.capacity_exhausted,
            orders_high_water: c.orders_high_water,
            orders_stale_retired: c.orders_stale_retired,
            orders_reopened: c.orders_reopened,
            retired_held: c.retired_held,
            retired_forgotten_early: c.retired_forgotten_early,
            elapsed_ms,
            state_digest: format!("{:016x}", c.state_digest),
            counts,
        }
    }

    /// Writes it as pretty JSON.
    pub fn write(&self, w: &mut impl Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *w, self).map_err(io::Error::other)?;
        w.write_all(b"\n")
    }
}
