//! The journal intake agent: replays a journal's records into the pipeline as a live run's
//! ingest agents would have fed it, through the same admission path, with the stream, line
//! and event time each record holds. Used by `replay` and by recovery.
//!
//! Owns: turning records back into ring items (events, rejects with their recorded reasons,
//! the end-of-input flush where the run had one), where a windowed replay may stop, and how a replay
//! ends (`Stop`: the end of a journal is not the end of the day, unless it says so). A
//! journaled event that no longer decodes is a fatal error (the journal is not what it
//! claims). Never reads files itself: the journal's reading thread does.

use std::sync::Arc;

use fxrecon_core::event::{ExecEvent, Stream};
use fxrecon_core::quarantine::{RejectNote, RejectReason};
use fxrecon_core::text::InlineStr;
use fxrecon_core::time::Micros;
use fxrecon_journal::position::StreamPosition;
use fxrecon_journal::record::{self, KIND_END_OF_INPUT, KIND_EVENT, KIND_REJECT};
use fxrecon_journal::replay::{Feed, RecordFeed};
use fxrecon_runtime::agent::{Agent, AgentError};
use fxrecon_runtime::counters::Counter;
use fxrecon_runtime::rings::{Producer, RunProducer};
use fxrecon_runtime::shutdown::Shutdown;

use crate::ingest::admit::{Admission, Admitted, Stamp};
use crate::ingest::message::IngestMsg;

/// Records taken per duty cycle at most.
const BATCH: usize = 256;

/// Counters of a replay (its agent is the only writer).
#[derive(Debug, Default)]
pub struct ReplayCounters {
    /// Events replayed.
    pub events: Counter,
    /// Rejects replayed.
    pub rejects: Counter,
    /// 1 when the replay stopped at the end of its window (the rest of the journal unread).
    pub stopped_at_window_end: Counter,
    /// Records in the journal up to the end of what was read (header included).
    pub records: Counter,
    /// Damaged regions skipped (salvage).
    pub salvaged_regions: Counter,
    /// 1 once the whole journal was read.
    pub done: Counter,
}

/// A replay's window of event time, `[from, to]` (each bound optional): the records the run
/// detected in it are written; every event before it still applies (from the nearest snapshot
/// at or before `from`), and the replay stops after the first event past `to` (whose arrival
/// fires the checks due before it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// First event time applied.
    pub from: Option<Micros>,
    /// Last event time applied.
    pub to: Option<Micros>,
}

impl Window {
    /// True when event time `t` lies in the window.
    pub fn holds(&self, t: Micros) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|x| t <= x)
    }
}

/// Feeds a journal's records into one ring, in consumption order.
pub struct JournalIntake {
    feed: RecordFeed,
    ring: RunProducer<IngestMsg>,
    admissions: [Admission; 2],
    event: ExecEvent,
    window: Window,
    pending: Option<IngestMsg>,
    shutdown: Shutdown,
    counters: Arc<ReplayCounters>,
    error: Option<AgentError>,
    /// The last item (`Stop`) was offered; done once it is in the ring.
    closing: bool,
    /// The pending item is the last of the window: `Stop` follows it.
    stop_next: bool,
    /// The number the first record must have (the replay's start): a journal whose earlier
    /// segments retention let go cannot replay from before them.
    first_seq: Option<u64>,
    done: bool,
}

impl JournalIntake {
    /// Replays `feed` into `ring`; the streams' clocks start at `at` (a snapshot's positions).
    pub fn new(
        feed: RecordFeed,
        ring: Producer<IngestMsg>,
        at: [StreamPosition; 2],
        window: Window,
        shutdown: Shutdown,
        counters: Arc<ReplayCounters>,
    ) -> Self {
        Self {
            feed,
            ring: RunProducer::new(ring),
            admissions: [Admission::new(Stream::Primary, at[0].clock), Admission::new(Stream::DropCopy, at[1].clock)],
            event: ExecEvent::default(),
            window,
            pending: None,
            shutdown,
            counters,
            error: None,
            closing: false,
            stop_next: false,
            first_seq: None,
            done: false,
        }
    }

    /// Expects the first record to be record `seq` (the replay's start).
    pub fn starting_at(mut self, seq: u64) -> Self {
        self.first_seq = Some(seq);
        self
    }

    /// The ring item of one record (None: nothing to apply), or why the journal is unusable.
    fn item(
        admissions: &mut [Admission; 2],
        ev: &mut ExecEvent,
        window: Window,
        counters: &ReplayCounters,
        seq: u64,
        kind: u8,
        payload: &[u8],
    ) -> Result<(Option<IngestMsg>, bool), String> {
        let bad = |e: &dyn std::fmt::Display| format!("journal record {seq} is not readable: {e}");
        match kind {
            KIND_EVENT => {
                let (stream, line, t) = record::event_position(payload).map_err(|e| bad(&e))?;
                match admissions[stream.index()].admit(line, record::raw(payload), Stamp::At(t), ev) {
                    Admitted::Event => {}
                    Admitted::Blank => return Err(bad(&"a journaled event is blank")),
                    Admitted::Reject(note) => return Err(bad(&note.reason)),
                }
                counters.events.incr();
                // Past the window: applied (it fires the checks due before it), then the end.
                let past = window.to.is_some_and(|to| ev.event_time > to);
                if past {
                    counters.stopped_at_window_end.set(1);
                }
                Ok((Some(IngestMsg::Event(*ev)), past))
            }
            KIND_REJECT => {
                let r = record::decode_reject(payload).map_err(|e| bad(&e))?;
                counters.rejects.incr();
                let reason = RejectReason::Recorded(InlineStr::from_bytes_lossy(r.reason.as_bytes()));
                Ok((Some(IngestMsg::Reject(RejectNote::new(r.stream, r.line, reason, r.excerpt))), false))
            }
            KIND_END_OF_INPUT => Ok((Some(IngestMsg::EndOfInput), false)),
            // The run header and kinds of later versions carry nothing to apply.
            _ => Ok((None, false)),
        }
    }
}

impl Agent for JournalIntake {
    fn name(&self) -> &'static str {
        "journal-intake"
    }

    fn do_work(&mut self) -> usize {
        let mut work = 0;
        while work < BATCH && !self.done {
            if let Some(msg) = self.pending.take() {
                if let Err(back) = self.ring.try_push(msg) {
                    self.pending = Some(back);
                    break;
                }
                if self.stop_next {
                    self.stop_next = false;
                    self.pending = Some(IngestMsg::Stop);
                    self.closing = true;
                    continue;
                }
            }
            if self.closing {
                self.done = true;
                work += 1;
                break;
            }
            if self.shutdown.is_requested() {
                self.pending = Some(IngestMsg::Stop);
                self.closing = true;
                continue;
            }
            let Self { feed, admissions, event, window, counters, first_seq, .. } = self;
            let got = feed.next(|r| {
                if let Some(want) = first_seq.take()
                    && r.seq != want
                {
                    return Err(format!(
                        "the journal holds no record {want} (its first record now is {}: retention let the earlier segments go); replay from a later point",
                        r.seq
                    ));
                }
                Self::item(admissions, event, *window, counters, r.seq, r.kind, r.payload)
            });
            match got {
                Feed::Record(Ok((Some(msg), past))) => {
                    self.pending = Some(msg);
                    // Past the window: this item goes in, then the end (not a flush).
                    self.stop_next = past;
                }
                Feed::Record(Ok((None, _))) => {}
                Feed::Record(Err(message)) => {
                    tracing::error!(error = message, "replay stopped");
                    self.error = Some(AgentError::new("journal-intake", message));
                    self.pending = Some(IngestMsg::Stop);
                    self.closing = true;
                }
                Feed::Empty => break,
                Feed::Done(outcome) => {
                    match outcome {
                        Ok(o) => {
                            for (segment, offset, reason) in &o.salvaged {
                                tracing::error!(
                                    segment,
                                    offset,
                                    reason,
                                    "salvage: the rest of this segment was skipped"
                                );
                            }
                            self.counters.records.set(o.records);
                            self.counters.salvaged_regions.set(o.salvaged.len() as u64);
                            self.counters.done.set_release(1);
                        }
                        Err(e) => self.error = Some(AgentError::new("journal-intake", e)),
                    }
                    // The end of a journal is not the end of the day: that has its own record.
                    self.pending = Some(IngestMsg::Stop);
                    self.closing = true;
                }
            }
            work += 1;
        }
        work
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn on_close(&mut self) -> Result<(), AgentError> {
        self.error.take().map_or(Ok(()), Err)
    }
}
