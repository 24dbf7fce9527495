//! The output agent: drains the output ring into every sink.
//!
//! Owns: output order (the ring's), the journal gate (with a journal, nothing is written
//! before the message that caused it is journaled), skipping what a recovered output already
//! holds, flushing soon after a write (records reach readers and survive a crash without
//! waiting for a full buffer), and the first error of each sink (it keeps draining, so the
//! reconciler never waits on a broken output; the error ends the run).

use std::sync::Arc;
use std::time::{Duration, Instant};

use fxrecon_journal::writer_agent::JournalCounters;
use fxrecon_runtime::agent::{Agent, AgentError};
use fxrecon_runtime::rings::Consumer;

use crate::counters::OutputCounters;
use crate::output::message::OutputMsg;
use crate::output::sink::OutputSink;

/// Items handled per duty cycle at most.
const BATCH: usize = 256;
/// Longest a written record waits in a sink's buffer while more keep coming.
const FLUSH_DELAY: Duration = Duration::from_micros(200);

/// What a recovered run's outputs already hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlreadyWritten {
    /// Records with ids up to this one are in the output.
    pub through_id: u64,
    /// Rejects the rejects output holds beyond those the recovery accounted for.
    pub rejects: u64,
}

/// A sink and the first error it gave.
struct Slot {
    sink: Box<dyn OutputSink>,
    error: Option<std::io::Error>,
}

impl Slot {
    fn run(&mut self, f: impl FnOnce(&mut dyn OutputSink) -> std::io::Result<()>) {
        if self.error.is_none()
            && let Err(e) = f(self.sink.as_mut())
        {
            tracing::error!(error = %e, "output failed: the rest of the run is not written to it");
            self.error = Some(e);
        }
    }
}

/// Writes what the reconciler emits to every sink.
pub struct OutputAgent {
    ring: Consumer<OutputMsg>,
    sinks: Vec<Slot>,
    gate: Option<Arc<JournalCounters>>,
    skip: AlreadyWritten,
    unflushed_since: Option<Instant>,
    done: bool,
    counters: Arc<OutputCounters>,
}

impl OutputAgent {
    /// An output agent draining `ring` into `sinks`.
    pub fn new(ring: Consumer<OutputMsg>, sinks: Vec<Box<dyn OutputSink>>, counters: Arc<OutputCounters>) -> Self {
        Self {
            ring,
            sinks: sinks.into_iter().map(|sink| Slot { sink, error: None }).collect(),
            gate: None,
            skip: AlreadyWritten::default(),
            unflushed_since: None,
            done: false,
            counters,
        }
    }

    /// Writes nothing before the journal holds the message it came from.
    pub fn gated(mut self, journal: Arc<JournalCounters>) -> Self {
        self.gate = Some(journal);
        self
    }

    /// Skips what a recovered output already holds.
    pub fn skipping(mut self, skip: AlreadyWritten) -> Self {
        self.skip = skip;
        self
    }

    fn flush(&mut self) {
        for s in &mut self.sinks {
            s.run(|k| k.flush());
        }
    }
}

impl Agent for OutputAgent {
    fn name(&self) -> &'static str {
        "output"
    }

    fn do_work(&mut self) -> usize {
        let mut work = 0;
        let journaled = self.gate.as_ref().map(|g| g.written.get_acquire());
        while work < BATCH {
            let Ok(&msg) = self.ring.peek() else { break };
            if journaled.is_some_and(|j| msg.seq() > j) {
                break; // Not journaled yet: written once it is.
            }
            let _ = self.ring.pop();
            work += 1;
            match msg {
                OutputMsg::Record { record, .. } => {
                    if record.id() <= self.skip.through_id {
                        self.counters.skipped.incr();
                        continue;
                    }
                    for s in &mut self.sinks {
                        s.run(|k| k.record(&record));
                    }
                    self.counters.records.incr();
                }
                OutputMsg::Reject { note, .. } => {
                    if self.skip.rejects > 0 {
                        self.skip.rejects -= 1;
                        continue;
                    }
                    for s in &mut self.sinks {
                        s.run(|k| k.reject(&note));
                    }
                    self.counters.rejects.incr();
                }
                OutputMsg::End { .. } => {
                    self.done = true;
                    break;
                }
            }
            self.unflushed_since.get_or_insert_with(Instant::now);
        }
        // Hand what was written to the sinks' destinations FLUSH_DELAY after the oldest
        // unflushed item (and at the end): records reach readers and survive a crash without
        // waiting for a full buffer, the output keeps up with the snapshots recovery starts
        // from, and a trickle of records costs one write per FLUSH_DELAY, not one per record.
        if self.unflushed_since.is_some_and(|t| self.done || t.elapsed() >= FLUSH_DELAY) {
            self.unflushed_since = None;
            self.flush();
        }
        work
    }

    fn is_done(&self) -> bool {
        self.done
    }

    /// Closes every sink; the first error of any sink is the agent's.
    fn on_close(&mut self) -> Result<(), AgentError> {
        for s in &mut self.sinks {
            s.run(|k| k.close());
        }
        match self.sinks.iter_mut().find_map(|s| s.error.take()) {
            Some(e) => Err(AgentError::new("output", format!("writing output: {e}"))),
            None => Ok(()),
        }
    }
}
