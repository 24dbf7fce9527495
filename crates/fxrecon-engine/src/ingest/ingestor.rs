//! The ingest agent: polls one stream's source, admits each message through the one decode /
//! stamp / quarantine path, and pushes the result into the stream's ring (and, when
//! journaling, the message's raw bytes into the journal's byte ring).
//!
//! Owns: line numbering, pacing (a paced run releases messages at its share of the rate),
//! the stream's watermark, backpressure (a full ring keeps the message pending: nothing is
//! dropped), how its input ends (end, stop on shutdown, failure) and its live counters.
//! Never classifies: it knows nothing of orders.

use std::sync::Arc;

use fxrecon_core::event::Stream;
use fxrecon_journal::position::StreamPosition;
use fxrecon_runtime::agent::Agent;
use fxrecon_runtime::rings::{self, Producer, PushError};
use fxrecon_runtime::shutdown::Shutdown;

use crate::counters::{IngestCounters, InputState};
use crate::ingest::admit::{Admission, Admitted, Stamp};
use crate::ingest::clock::IngestClock;
use crate::ingest::message::{IngestMsg, Watermark};
use crate::ingest::source::{MessageSource, Poll, SourceMessage};

/// Messages an ingest agent takes per duty cycle at most.
const BATCH: usize = 64;

/// Where an ingest agent's event time comes from (contract 1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventClock {
    /// The input's own times: arrival prefix, else SendingTime (files; output equals
    /// `reconcile`'s whatever the pace).
    File,
    /// Stamped on arrival (live); the stamps are journaled, so a replay sees them too.
    Ingest,
}

impl std::str::FromStr for EventClock {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "file" => Ok(EventClock::File),
            "ingest" => Ok(EventClock::Ingest),
            _ => Err(format!("unknown clock {s:?} (file, ingest)")),
        }
    }
}

/// How an ingest agent is set up.
#[derive(Clone, Copy, Debug)]
pub struct IngestSettings {
    /// Where event time comes from.
    pub clock: EventClock,
    /// Release this many messages per second (None: as fast as they come).
    pub pace: Option<f64>,
    /// Longest message kept whole (sizes the raw-bytes buffer when journaling).
    pub max_message_bytes: usize,
}

/// How far an ingest agent has got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Reading,
    /// The input is over: `IngestMsg::End` or `Stop` goes next (`sent` once it was offered
    /// to the ring), then the agent is done.
    Closing {
        how: InputState,
        sent: bool,
    },
    Done,
}

/// Reads one source into its stream's ring.
pub struct IngestAgent {
    stream: Stream,
    source: Box<dyn MessageSource>,
    ring: Producer<IngestMsg>,
    watermark: Arc<Watermark>,
    admission: Admission,
    settings: IngestSettings,
    clock: IngestClock,
    shutdown: Shutdown,
    /// Lines read (the next is number `lines + 1`).
    lines: u64,
    /// A message the full ring did not take yet (retried before reading more input).
    pending: Option<IngestMsg>,
    /// Watermark to publish once the pending event is in the ring.
    pending_time: Option<i64>,
    /// With a journal: the byte ring carrying each event's raw bytes to the journal writer.
    raw: Option<Producer<u8>>,
    /// The raw bytes of the pending event, when the byte ring did not take them yet.
    raw_buf: Vec<u8>,
    raw_pending: bool,
    phase: Phase,
    /// What the `caught_up` counter says (written only when it changes).
    caught_up: bool,
    counters: Arc<IngestCounters>,
}

impl IngestAgent {
    /// An agent reading `source` as `stream` into `ring`, resuming at `at` (the source is
    /// already past its lines), publishing its clock to `watermark`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        stream: Stream,
        source: Box<dyn MessageSource>,
        ring: Producer<IngestMsg>,
        watermark: Arc<Watermark>,
        at: StreamPosition,
        settings: IngestSettings,
        clock: IngestClock,
        shutdown: Shutdown,
        counters: Arc<IngestCounters>,
    ) -> Self {
        counters.lines.set(at.lines);
        Self {
            stream,
            source,
            ring,
            watermark,
            admission: Admission::new(stream, at.clock),
            settings,
            clock,
            shutdown,
            lines: at.lines,
            pending: None,
            pending_time: None,
            raw: None,
            raw_buf: Vec::new(),
            raw_pending: false,
            phase: Phase::Reading,
            caught_up: false,
            counters,
        }
    }

    /// Also sends every event's raw bytes to the journal writer through `raw`.
    pub fn journaling(mut self, raw: Producer<u8>) -> Self {
        self.raw = Some(raw);
        // Sized for the longest accepted line, so holding one back never allocates.
        self.raw_buf = Vec::with_capacity(self.settings.max_message_bytes);
        self
    }

    /// Offers `msg` to the ring; a full ring keeps it pending (backpressure, never a drop).
    fn push(&mut self, msg: IngestMsg) {
        debug_assert!(self.pending.is_none());
        if let Err(PushError::Full(back)) = self.ring.push(msg) {
            self.counters.ring_full_waits.incr();
            self.pending = Some(back);
        }
    }

    /// Retries the pending raw bytes, then the pending message; true when the rings took them
    /// (or nothing was pending).
    fn flush_pending(&mut self) -> bool {
        if self.raw_pending {
            let raw = self.raw.as_mut().expect("raw bytes are pending only when journaling");
            if !rings::push_frame(raw, &self.raw_buf) {
                self.counters.ring_full_waits.incr();
                return false;
            }
            self.raw_pending = false;
        }
        match self.pending.take() {
            None => true,
            Some(msg) => match self.ring.push(msg) {
                Ok(()) => true,
                Err(PushError::Full(back)) => {
                    self.counters.ring_full_waits.incr();
                    self.pending = Some(back);
                    false
                }
            },
        }
    }

    /// Ends the input: `End` for an input that is over, `Stop` for one stopped early.
    fn close(&mut self, how: InputState) {
        self.phase = Phase::Closing { how, sent: false };
    }

    /// Reads and pushes one message; false when there was nothing to do.
    fn step(&mut self) -> bool {
        if self.shutdown.is_requested() {
            self.close(InputState::Stopped);
            return true;
        }
        let stamp = match self.settings.clock {
            EventClock::File => None,
            EventClock::Ingest => Some(self.clock.now()),
        };
        if let Some(rate) = self.settings.pace {
            let now = stamp.unwrap_or_else(|| self.clock.now());
            let due = self.clock.base().0 + (self.counters.messages.get() as f64 * 1e6 / rate) as i64;
            if now.0 < due {
                if stamp.is_some() {
                    // Nothing stamped before `now` will come from this stream.
                    self.watermark.publish(now.0);
                }
                return false;
            }
        }
        // The message is decoded straight into a ring slot (an event is ~0.5 KB: decoding it
        // aside and copying it in was two copies per message, measured at about 150
        // instructions each). No slot, no read: backpressure reaches the source.
        let Ok(mut chunk) = self.ring.write_chunk(1) else {
            self.counters.ring_full_waits.incr();
            return false;
        };
        let polled = match self.source.poll() {
            Ok(p) => p,
            Err(e) => {
                drop(chunk);
                tracing::error!(stream = self.stream.name(), source = self.source.describe(), error = %e, "input failed; this stream ends here");
                self.close(InputState::Failed);
                return true;
            }
        };
        let (slot, _) = chunk.as_mut_slices();
        let slot = &mut slot[0];
        let (bytes, received) = match polled {
            Poll::Pending => {
                note_caught_up(&mut self.caught_up, &self.counters, true);
                if let Some(now) = stamp {
                    self.watermark.publish(now.0);
                }
                return false;
            }
            Poll::End => {
                note_caught_up(&mut self.caught_up, &self.counters, true);
                if self.lines == 0 {
                    // Not a message that could not be used: a warning, not a reject.
                    tracing::warn!(
                        stream = self.stream.name(),
                        source = self.source.describe(),
                        "input is empty: no messages"
                    );
                }
                self.phase = Phase::Closing { how: InputState::Ended, sent: false };
                return true;
            }
            Poll::Message(SourceMessage::TooLong { head, len }) => {
                note_caught_up(&mut self.caught_up, &self.counters, false);
                self.lines += 1;
                self.counters.lines.incr();
                *slot = IngestMsg::Reject(self.admission.too_long(self.lines, head, len));
                chunk.commit_all();
                self.counters.rejected.incr();
                self.counters.pushed.incr();
                return true;
            }
            Poll::Message(SourceMessage::Whole { bytes, received }) => (bytes, received),
        };
        note_caught_up(&mut self.caught_up, &self.counters, false);
        self.lines += 1;
        self.counters.lines.incr();
        let stamp = match (self.settings.clock, received, stamp) {
            (EventClock::File, _, _) => Stamp::File,
            (EventClock::Ingest, Some(t), _) => Stamp::At(t),
            (EventClock::Ingest, None, Some(now)) => Stamp::At(now),
            (EventClock::Ingest, None, None) => unreachable!("the ingest clock was read above"),
        };
        let IngestMsg::Event(ev) = slot else { unreachable!("a fresh slot holds an empty event") };
        match self.admission.admit(self.lines, bytes, stamp, ev) {
            Admitted::Event => {}
            Admitted::Blank => return true,
            Admitted::Reject(note) => {
                *slot = IngestMsg::Reject(note);
                chunk.commit_all();
                self.counters.rejected.incr();
                self.counters.pushed.incr();
                return true;
            }
        }
        let time = ev.event_time.0;
        self.counters.messages.incr();
        self.counters.pushed.incr();
        if let Some(raw) = self.raw.as_mut()
            && !rings::push_frame(raw, bytes)
        {
            // The journal's byte ring is full: keep both until it drains (the event may enter
            // its ring only after its raw bytes: the journal writer reads them by its mark).
            self.counters.ring_full_waits.incr();
            self.raw_buf.clear();
            self.raw_buf.extend_from_slice(bytes);
            self.raw_pending = true;
            self.pending = Some(IngestMsg::Event(*ev));
            self.pending_time = Some(time);
            return true;
        }
        chunk.commit_all();
        self.watermark.publish(time);
        true
    }
}

/// Notes whether the source's last poll found it drained (a store only on a change).
#[inline]
fn note_caught_up(mirror: &mut bool, counters: &IngestCounters, yes: bool) {
    if *mirror != yes {
        *mirror = yes;
        counters.caught_up.set(u64::from(yes));
    }
}

impl Agent for IngestAgent {
    fn name(&self) -> &'static str {
        match self.stream {
            Stream::Primary => "ingest-primary",
            Stream::DropCopy => "ingest-dropcopy",
        }
    }

    fn do_work(&mut self) -> usize {
        let mut work = 0;
        let lines_before = self.lines;
        while work < BATCH {
            if self.phase == Phase::Done {
                break;
            }
            if !self.flush_pending() {
                break; // Ring full: let the idle strategy back off instead of spinning here.
            }
            if let Some(t) = self.pending_time.take() {
                self.watermark.publish(t);
            }
            match self.phase {
                Phase::Closing { how, sent: false } => {
                    self.phase = Phase::Closing { how, sent: true };
                    self.push(if how == InputState::Stopped { IngestMsg::Stop } else { IngestMsg::End });
                    work += 1;
                    continue;
                }
                Phase::Closing { how, sent: true } => {
                    self.watermark.publish(i64::MAX);
                    self.counters.ended_us.set(self.clock.started().elapsed().as_micros() as u64);
                    self.counters.state.set_release(how.code());
                    self.phase = Phase::Done;
                    work += 1;
                    break;
                }
                Phase::Reading | Phase::Done => {}
            }
            if !self.step() {
                break;
            }
            work += 1;
        }
        // Once per duty cycle, not per message: when the last message came, and whether the
        // transport is connected.
        if self.lines != lines_before {
            self.counters.last_message_us.set(self.clock.now().0.max(0) as u64);
        }
        self.counters.connected.set(u64::from(self.source.connected()));
        work
    }

    fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }
}
