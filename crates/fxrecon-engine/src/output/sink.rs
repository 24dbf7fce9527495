//! Output sinks: where records and rejects go once the reconciler has emitted them.
//!
//! Owns: the [`OutputSink`] trait (the seam a new output implements: a file, a publication,
//! a test's memory) and the sinks every run can use: JSON Lines of records, JSON Lines of
//! rejects, memory (tests, `demo`) and the summary's tallies. A sink sees every record and
//! every reject in output order and keeps what it wants; it never reaches back into the
//! reconciler.

use std::io::{self, Write};

use fxrecon_core::divergence::Record;
use fxrecon_core::quarantine::RejectNote;
use fxrecon_runtime::rings::{Consumer, Producer, RingBuffer};

use crate::output::render::{write_record, write_reject_note};
use crate::output::summary::RecordCounts;

/// A destination of the output agent.
pub trait OutputSink: Send {
    /// One record (divergence, gap, resolution), in output order.
    fn record(&mut self, record: &Record) -> io::Result<()>;
    /// One rejected message, in output order.
    fn reject(&mut self, note: &RejectNote) -> io::Result<()> {
        let _ = note;
        Ok(())
    }
    /// Hands what was buffered to its destination (called shortly after writes, and at the end).
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// The output is over: last chance to flush and report.
    fn close(&mut self) -> io::Result<()> {
        self.flush()
    }
}

/// Records as JSON Lines (contract section 4) to a writer: a file, stdout, a pipe.
pub struct JsonLines<W: Write + Send> {
    out: W,
}

impl<W: Write + Send> JsonLines<W> {
    /// Records to `out`.
    pub fn new(out: W) -> Self {
        Self { out }
    }
}

impl<W: Write + Send> OutputSink for JsonLines<W> {
    fn record(&mut self, record: &Record) -> io::Result<()> {
        write_record(&mut self.out, record)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Rejected messages as JSON Lines (stream, line, reason, excerpt) to a writer.
pub struct RejectLines<W: Write + Send> {
    out: W,
}

impl<W: Write + Send> RejectLines<W> {
    /// Rejects to `out`.
    pub fn new(out: W) -> Self {
        Self { out }
    }
}

impl<W: Write + Send> OutputSink for RejectLines<W> {
    fn record(&mut self, _: &Record) -> io::Result<()> {
        Ok(())
    }
    fn reject(&mut self, note: &RejectNote) -> io::Result<()> {
        write_reject_note(&mut self.out, note)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// What a [`MemorySink`] collected, handed over when the output closes.
#[derive(Debug, Default)]
pub struct Collected {
    /// Every record, in output order.
    pub records: Vec<Record>,
    /// Every reject, in output order.
    pub rejects: Vec<RejectNote>,
}

/// Keeps records and rejects in memory and hands them over at the end (tests, `demo`).
pub struct MemorySink {
    got: Collected,
    handover: Producer<Collected>,
}

/// The receiving end of a [`MemorySink`]: holds what it collected once the run is over.
pub struct MemoryReceiver(Consumer<Collected>);

impl MemoryReceiver {
    /// What was collected (empty if the output never closed).
    pub fn take(mut self) -> Collected {
        self.0.pop().unwrap_or_default()
    }
}

impl MemorySink {
    /// A sink and the receiver that gets its contents when the output closes.
    pub fn new() -> (Self, MemoryReceiver) {
        let (tx, rx) = RingBuffer::new(1);
        (Self { got: Collected::default(), handover: tx }, MemoryReceiver(rx))
    }
}

impl OutputSink for MemorySink {
    fn record(&mut self, record: &Record) -> io::Result<()> {
        self.got.records.push(*record);
        Ok(())
    }
    fn reject(&mut self, note: &RejectNote) -> io::Result<()> {
        self.got.rejects.push(*note);
        Ok(())
    }
    fn close(&mut self) -> io::Result<()> {
        let _ = self.handover.push(std::mem::take(&mut self.got));
        Ok(())
    }
}

/// Tallies records per type, venue and session for the run summary; hands them over at the end.
pub struct CountingSink {
    counts: RecordCounts,
    handover: Producer<RecordCounts>,
}

/// The receiving end of a [`CountingSink`].
pub struct CountsReceiver(Consumer<RecordCounts>);

impl CountsReceiver {
    /// The tallies (empty if the output never closed).
    pub fn take(mut self) -> RecordCounts {
        self.0.pop().unwrap_or_default()
    }
}

impl CountingSink {
    /// A sink and the receiver of its tallies.
    pub fn new() -> (Self, CountsReceiver) {
        let (tx, rx) = RingBuffer::new(1);
        (Self { counts: RecordCounts::default(), handover: tx }, CountsReceiver(rx))
    }
}

impl OutputSink for CountingSink {
    fn record(&mut self, record: &Record) -> io::Result<()> {
        self.counts.count(record);
        Ok(())
    }
    fn close(&mut self) -> io::Result<()> {
        let _ = self.handover.push(std::mem::take(&mut self.counts));
        Ok(())
    }
}

/// Passes on only the records detected within `[from, to]` of event time (a replay's window);
/// rejects pass as they are.
pub struct WindowFilter {
    inner: Box<dyn OutputSink>,
    from: Option<fxrecon_core::time::Micros>,
    to: Option<fxrecon_core::time::Micros>,
    /// Records left out.
    pub left_out: std::sync::Arc<fxrecon_runtime::counters::Counter>,
}

impl WindowFilter {
    /// `inner`, given only the records detected within `[from, to]`.
    pub fn new(
        inner: Box<dyn OutputSink>,
        from: Option<fxrecon_core::time::Micros>,
        to: Option<fxrecon_core::time::Micros>,
    ) -> Self {
        Self { inner, from, to, left_out: Default::default() }
    }
}

impl OutputSink for WindowFilter {
    fn record(&mut self, record: &Record) -> io::Result<()> {
        let t = record.detected_at();
        if self.from.is_some_and(|f| t < f) || self.to.is_some_and(|x| t > x) {
            self.left_out.incr();
            return Ok(());
        }
        self.inner.record(record)
    }
    fn reject(&mut self, note: &RejectNote) -> io::Result<()> {
        self.inner.reject(note)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
    fn close(&mut self) -> io::Result<()> {
        self.inner.close()
    }
}
