//! The one pipeline builder: every command (`reconcile`, `run`, `replay`, recovery, `demo`,
//! the benchmarks) assembles its run here, from an intake, a starting state, sinks and an
//! optional journal, and runs it in any threading mode.
//!
//! Owns: the rings between the agents and their sizes, which agent sits in which lane, the
//! journal's wiring (byte rings, mark ring, snapshot buffers, the output gate), resuming
//! sources after what a journal holds, the supervisor (shutdown deadline, status lines) and
//! handing the final state back. Never holds business rules.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fxrecon_core::event::Stream;
use fxrecon_core::reconciler::Reconciler;
use fxrecon_journal::record::HEAD;
use fxrecon_journal::replay::RecordFeed;
use fxrecon_journal::segment::{JournalReader, JournalWriter};
use fxrecon_journal::writer_agent::{JournalAgent, JournalCounters, SnapshotRings, journal_feed};
use fxrecon_runtime::agent::AgentError;
use fxrecon_runtime::rings::{Consumer, RingBuffer};
use fxrecon_runtime::shutdown::{Shutdown, ShutdownWatch};
use fxrecon_runtime::threading::{Lane, Supervisor, Team, Threading};

use crate::command::CommandServer;
use crate::config::Config;
use crate::counters::{CountersSnapshot, InputState, PipelineCounters};
use crate::ingest::clock::IngestClock;
use crate::ingest::ingestor::{EventClock, IngestAgent, IngestSettings};
use crate::ingest::journal_intake::{JournalIntake, ReplayCounters, Window};
use crate::ingest::message::{IngestMsg, Watermark};
use crate::ingest::source::MessageSource;
use crate::merge::Merge;
use crate::output::agent::{AlreadyWritten, OutputAgent};
use crate::output::sink::OutputSink;
use crate::pipeline::options::PipelineOptions;
use crate::reconciler_agent::{ReconcilerAgent, RecordTap, RunState, SnapshotPlan};

/// Ring slots at most in the one-thread (stepped) mode.
const STEPPED_RING_SLOTS: usize = 512;

/// Where a run's messages come from.
pub enum Intake {
    /// Two sources, primary and drop copy, each read by its ingest agent.
    Sources([Box<dyn MessageSource>; 2]),
    /// A journal's records, replayed in the order they were consumed.
    Journal(JournalReplay),
}

/// Which part of a journal a replay reads.
#[derive(Clone, Debug)]
pub struct JournalReplay {
    /// The journal directory.
    pub dir: PathBuf,
    /// First record replayed (0: the run header; after a snapshot, the record after it).
    pub from_record: u64,
    /// Skip damaged regions instead of stopping.
    pub salvage: bool,
    /// Which events are applied.
    pub window: Window,
}

/// The journal a run appends to.
pub struct JournalSetup {
    /// The journal, opened for appending (its run header already written).
    pub writer: JournalWriter,
    /// Snapshot every this many consumed messages (0: never).
    pub snapshot_every: u64,
    /// Snapshots kept.
    pub snapshots_kept: usize,
    /// Which segments go once no restart needs them.
    pub retention: fxrecon_journal::retention::Retention,
    /// The journal directory (snapshots live beside the segments).
    pub dir: PathBuf,
    /// The state a new journal starts from: the one a rolled day carried over (`journal
    /// roll`), when there is one and the run was given none.
    pub start: Option<RunState>,
}

/// Prints (or otherwise shows) the live counters every so often while a run goes on.
pub type StatusFn = Box<dyn FnMut(&CountersSnapshot) + Send>;

/// Why a run failed while it ran.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
pub struct RunError(pub Vec<AgentError>);

/// What a finished run hands back.
pub struct RunOutcome {
    /// Where the run stands (the reconciler and its bookkeeping), to continue from.
    pub state: RunState,
    /// The live counters, read at the end.
    pub counters: CountersSnapshot,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Shutdown was requested while it ran (its inputs stopped early).
    pub interrupted: bool,
    /// An input ended by an error (logged).
    pub input_failed: bool,
    /// A replay's counters, for a journal intake.
    pub replay: Option<Arc<ReplayCounters>>,
}

/// Assembles a run.
pub struct PipelineBuilder {
    cfg: Config,
    opts: PipelineOptions,
    intake: Intake,
    state: Option<RunState>,
    journal: Option<JournalSetup>,
    sinks: Vec<Box<dyn OutputSink>>,
    skip: AlreadyWritten,
    shutdown: Shutdown,
    tap: Option<Box<dyn RecordTap>>,
    commands: Option<CommandServer>,
    status: Option<(Duration, StatusFn)>,
    clock: Option<IngestClock>,
}

impl PipelineBuilder {
    /// A run of `intake` with the rules of `cfg`, set up by `opts`.
    pub fn new(cfg: &Config, opts: PipelineOptions, intake: Intake) -> Self {
        Self {
            cfg: cfg.clone(),
            opts,
            intake,
            state: None,
            journal: None,
            sinks: Vec::new(),
            skip: AlreadyWritten::default(),
            shutdown: Shutdown::new(),
            tap: None,
            commands: None,
            status: None,
            clock: None,
        }
    }

    /// Starts from `state` (a recovered run) instead of an empty reconciler.
    pub fn start_from(mut self, state: RunState) -> Self {
        self.state = Some(state);
        self
    }

    /// Journals every consumed message (and snapshots) to `setup`.
    pub fn journal(mut self, setup: JournalSetup) -> Self {
        self.journal = Some(setup);
        self
    }

    /// Adds an output sink.
    pub fn sink(mut self, sink: Box<dyn OutputSink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// Skips what a recovered output already holds.
    pub fn skipping(mut self, skip: AlreadyWritten) -> Self {
        self.skip = skip;
        self
    }

    /// Stops intake when `shutdown` is raised.
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Shows every record to `tap` as it is emitted.
    pub fn tap(mut self, tap: Box<dyn RecordTap>) -> Self {
        self.tap = Some(tap);
        self
    }

    /// Answers commands from `server` between batches.
    pub fn commands(mut self, server: CommandServer) -> Self {
        self.commands = Some(server);
        self
    }

    /// Calls `status` with the live counters every `every` while the run goes on.
    pub fn status(mut self, every: Duration, status: StatusFn) -> Self {
        self.status = Some((every, status));
        self
    }

    /// Stamps and paces with `clock` (benchmarks share one clock with their latency tap).
    pub fn clock(mut self, clock: IngestClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Builds the agents and rings. Sources of a resumed run are read past what the journal
    /// holds first; an input shorter than that is an error.
    pub fn build(self) -> std::io::Result<Pipeline> {
        let Self { cfg, opts, intake, state, mut journal, sinks, skip, shutdown, tap, commands, status, clock } = self;
        let carried = journal.as_mut().and_then(|j| j.start.take());
        let mut state = state.or(carried).unwrap_or_else(|| RunState::fresh(Reconciler::new(cfg.recon())));
        if opts.prefault {
            state.reconciler.prefault();
        }
        let clock = clock.unwrap_or_else(IngestClock::start);
        let mut slots = opts.ring_capacity.next_power_of_two().max(2);
        if opts.threading == Threading::Stepped {
            // One thread fills a ring and drains it in turns: a small ring keeps the events it
            // holds in cache between the two (BENCHMARKS.md, D46).
            slots = slots.min(STEPPED_RING_SLOTS);
        }
        let (p_tx, p_rx) = RingBuffer::new(slots);
        let (mut d_tx, d_rx) = RingBuffer::new(slots);
        let (o_tx, o_rx) = RingBuffer::new(slots);
        let (h_tx, handback) = RingBuffer::new(1);
        let watermarks = [Arc::new(Watermark::default()), Arc::new(Watermark::default())];
        let journal_counters = journal.as_ref().map(|_| JournalCounters::new(state.consumed));
        let counters = Arc::new(PipelineCounters::new(journal_counters.clone(), cfg.max_sessions));
        let mut team = Team::new(opts.idle, opts.pin);

        // The journal writer: marks from the reconciler, raw bytes from each ingest agent.
        let mut raw = [None, None];
        let mut journal_parts = None;
        if let Some(setup) = journal {
            // Room for as many raw messages as the event ring holds, and for the longest line.
            let raw_bytes = (slots * 512).max(4 * (cfg.max_message_bytes + 4));
            let (rp_tx, rp_rx) = RingBuffer::new(raw_bytes);
            let (rd_tx, rd_rx) = RingBuffer::new(raw_bytes);
            raw = [Some(rp_tx), Some(rd_tx)];
            let (feed, receiver) = journal_feed(slots);
            let jc = journal_counters.clone().expect("made with the journal");
            let mut agent = JournalAgent::new(
                receiver,
                [rp_rx, rd_rx],
                setup.writer,
                fxrecon_journal::recovery::HEADER_RECORDS,
                jc,
            );
            let mut plan = None;
            if setup.snapshot_every > 0 {
                let (full_tx, full_rx) = RingBuffer::new(1);
                let (mut empty_tx, empty_rx) = RingBuffer::new(1);
                let _ = empty_tx.push(Vec::new());
                plan = Some(SnapshotPlan::new(setup.snapshot_every, state.consumed, full_tx, empty_rx));
                agent = agent.with_snapshots(SnapshotRings {
                    full: full_rx,
                    empty: empty_tx,
                    dir: setup.dir.clone(),
                    keep: setup.snapshots_kept,
                    retention: setup.retention.clone(),
                });
            }
            journal_parts = Some((feed, plan, agent));
        }

        // Intake.
        let mut replay = None;
        let live = matches!(intake, Intake::Sources(_));
        match intake {
            Intake::Sources(sources) => {
                let [rp, rd] = raw;
                let [sp, sd] = sources;
                for ((stream, mut source, ring), raw) in
                    [(Stream::Primary, sp, p_tx), (Stream::DropCopy, sd, d_tx)].into_iter().zip([rp, rd])
                {
                    let at = state.positions[stream.index()];
                    let skipped = source.skip(at.lines)?;
                    if skipped < at.lines {
                        return Err(std::io::Error::other(format!(
                            "{} input ({}) has {skipped} lines but the journal consumed up to line {}: not the input it was written from",
                            stream.name(),
                            source.describe(),
                            at.lines
                        )));
                    }
                    let settings = IngestSettings {
                        clock: opts.clock,
                        pace: opts.pace_of(stream.index()),
                        max_message_bytes: cfg.max_message_bytes,
                    };
                    let agent = IngestAgent::new(
                        stream,
                        source,
                        ring,
                        watermarks[stream.index()].clone(),
                        at,
                        settings,
                        clock,
                        shutdown.clone(),
                        counters.ingest[stream.index()].clone(),
                    );
                    let agent = match raw {
                        Some(r) => agent.journaling(r),
                        None => agent,
                    };
                    team.add(Lane::Intake, Box::new(agent));
                }
            }
            Intake::Journal(j) => {
                if journal_parts.is_some() {
                    return Err(std::io::Error::other("a replay is not journaled"));
                }
                let reader = JournalReader::new(&j.dir, j.salvage).from_record(j.from_record);
                let max_payload = (cfg.max_message_bytes + HEAD).max(64 << 10);
                let feed = RecordFeed::start(reader, 8 << 20, max_payload);
                let rc = Arc::new(ReplayCounters::default());
                replay = Some(rc.clone());
                let agent = JournalIntake::new(feed, p_tx, state.positions, j.window, shutdown.clone(), rc)
                    .starting_at(j.from_record);
                team.add(Lane::Intake, Box::new(agent));
                // Everything comes through the first ring; the second is over before it starts.
                let _ = d_tx.push(IngestMsg::End);
                watermarks[1].publish(i64::MAX);
            }
        }

        // The reconciler, then the background agents.
        let merge = Merge::new([p_rx, d_rx], watermarks);
        let mut recon = ReconcilerAgent::new(merge, state, o_tx, counters.reconciler.clone())
            .handing_back(h_tx)
            .started_at(clock.started());
        if let Some(t) = tap {
            recon = recon.tapped(t);
        }
        // Live stamps only: a replay's event times are the journal's, long past.
        if opts.clock == EventClock::Ingest && live {
            recon = recon.timing_detection(clock);
        }
        if let Some(c) = commands {
            recon = recon.serving(c);
        }
        let mut output = OutputAgent::new(o_rx, sinks, counters.output.clone()).skipping(skip);
        if let Some((feed, plan, agent)) = journal_parts {
            recon = recon.journaled(feed, plan);
            output = output.gated(journal_counters.clone().expect("made with the journal"));
            team.add(Lane::Core, Box::new(recon));
            // The journal writer and the output share a thread in every mode: both mostly wait.
            team.add(Lane::Background, Box::new(agent));
        } else {
            team.add(Lane::Core, Box::new(recon));
        }
        team.add(Lane::Background, Box::new(output));
        Ok(Pipeline {
            team,
            threading: opts.threading,
            counters,
            handback,
            replay,
            shutdown: shutdown.clone(),
            watch: ShutdownWatch::new(shutdown, opts.shutdown_timeout),
            status,
        })
    }
}

/// A built run, ready to start.
pub struct Pipeline {
    team: Team,
    threading: Threading,
    counters: Arc<PipelineCounters>,
    handback: Consumer<RunState>,
    replay: Option<Arc<ReplayCounters>>,
    shutdown: Shutdown,
    watch: ShutdownWatch,
    status: Option<(Duration, StatusFn)>,
}

/// The calling thread's part while a run goes on: the shutdown deadline and status lines.
struct RunSupervisor<'a> {
    watch: &'a mut ShutdownWatch,
    status: Option<(Duration, &'a mut StatusFn)>,
    next_status: Instant,
    counters: &'a PipelineCounters,
}

impl Supervisor for RunSupervisor<'_> {
    fn tick(&mut self) {
        self.watch.check();
        if let Some((every, f)) = self.status.as_mut() {
            let now = Instant::now();
            if now >= self.next_status {
                self.next_status = now + *every;
                f(&self.counters.snapshot());
            }
        }
    }
}

impl Pipeline {
    /// The run's live counters (readable from any thread while it runs).
    pub fn counters(&self) -> Arc<PipelineCounters> {
        self.counters.clone()
    }

    /// Runs to the end of its inputs (or until shutdown has drained it).
    pub fn run(self) -> Result<RunOutcome, RunError> {
        let Self { team, threading, counters, mut handback, replay, shutdown, mut watch, mut status } = self;
        let started = Instant::now();
        let mut supervisor = RunSupervisor {
            watch: &mut watch,
            next_status: started + status.as_ref().map_or(Duration::ZERO, |(e, _)| *e),
            status: status.as_mut().map(|(e, f)| (*e, f)),
            counters: &counters,
        };
        let result = team.run(threading, &mut supervisor);
        let elapsed = started.elapsed();
        let snapshot = counters.snapshot();
        let input_failed = [&snapshot.primary, &snapshot.dropcopy].iter().any(|s| s.state == InputState::Failed);
        result.map_err(RunError)?;
        let state =
            handback.pop().map_err(|_| RunError(vec![AgentError::new("reconciler", "did not hand its state back")]))?;
        Ok(RunOutcome {
            state,
            counters: snapshot,
            elapsed,
            interrupted: shutdown.is_requested(),
            input_failed,
            replay,
        })
    }
}
