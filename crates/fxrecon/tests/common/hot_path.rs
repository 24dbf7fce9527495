//! The hot path's agents assembled by hand for the zero-allocation tests (each agent run on a
//! thread of the test's own, so the counting allocator can measure it alone): two ingest
//! agents on the given sources, the merge and reconciler agent, the output agent to a JSON
//! Lines sink that discards, and optionally the journal writer agent.
//!
//! Included by `zero_alloc.rs` and `zero_alloc_aeron.rs` (`#[path]`), not by `common`: the
//! other tests do not link the allocation counter's harness.
#![allow(dead_code)] // each including test uses a different part of it

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use allocation_counter::{AllocationInfo, measure};
use fxrecon_core::event::Stream;
use fxrecon_core::reconciler::{ReconConfig, Reconciler};
use fxrecon_engine::counters::PipelineCounters;
use fxrecon_engine::ingest::clock::IngestClock;
use fxrecon_engine::ingest::ingestor::{EventClock, IngestAgent, IngestSettings};
use fxrecon_engine::ingest::message::Watermark;
use fxrecon_engine::ingest::source::MessageSource;
use fxrecon_engine::merge::Merge;
use fxrecon_engine::output::agent::OutputAgent;
use fxrecon_engine::output::sink::JsonLines;
use fxrecon_engine::reconciler_agent::{ReconcilerAgent, RunState};
use fxrecon_journal::position::StreamPosition;
use fxrecon_journal::segment::{FsyncPolicy, JournalWriter};
use fxrecon_journal::writer_agent::{JournalAgent, JournalCounters, journal_feed};
use fxrecon_runtime::agent::Agent;
use fxrecon_runtime::idle::IdleStrategy;
use fxrecon_runtime::rings::RingBuffer;
use fxrecon_runtime::runner::run_here;

/// Runs `agent` until `warm()` holds, then measures the rest of its run.
pub fn measured(agent: &mut dyn Agent, warm: impl Fn() -> bool) -> AllocationInfo {
    while !agent.is_done() && !warm() {
        if agent.do_work() == 0 {
            std::thread::yield_now();
        }
    }
    measure(|| run_here(agent, IdleStrategy::Yield, &AtomicBool::new(false)).unwrap())
}

/// Runs `agent` to its end without measuring it.
pub fn unmeasured(agent: &mut dyn Agent) {
    run_here(agent, IdleStrategy::Yield, &AtomicBool::new(false)).unwrap();
}

/// The hot path's agents, each to be run on a thread of its own.
pub struct HotPath {
    /// The primary and drop-copy ingest agents.
    pub ingest: [IngestAgent; 2],
    /// The merge and reconciler.
    pub recon: ReconcilerAgent,
    /// The output agent.
    pub output: OutputAgent,
    /// The journal writer, when journaled.
    pub journal: Option<JournalAgent>,
    /// The pipeline's live counters.
    pub counters: PipelineCounters,
    /// The journal's counters, when journaled.
    pub journal_counters: Option<Arc<JournalCounters>>,
}

impl HotPath {
    /// The agents over `sources` (primary, drop copy) with the file clock; journaled into
    /// `journal_dir` (one segment, never synced) when given.
    pub fn new(sources: [Box<dyn MessageSource>; 2], journal_dir: Option<&Path>) -> Self {
        let clock = IngestClock::start();
        let (p_tx, p_rx) = RingBuffer::new(1 << 14);
        let (d_tx, d_rx) = RingBuffer::new(1 << 14);
        let (o_tx, o_rx) = RingBuffer::new(1 << 14);
        let wm = [Arc::new(Watermark::default()), Arc::new(Watermark::default())];
        let journal_counters = journal_dir.map(|_| JournalCounters::new(0));
        let counters = PipelineCounters::new(journal_counters.clone(), ReconConfig::default().max_sessions);
        let merge = Merge::new([p_rx, d_rx], wm.clone());
        let state = RunState::fresh(Reconciler::new(ReconConfig::default()));
        let mut recon = ReconcilerAgent::new(merge, state, o_tx, counters.reconciler.clone());
        let sink = JsonLines::new(std::io::sink());
        let mut output = OutputAgent::new(o_rx, vec![Box::new(sink)], counters.output.clone());
        let (mut raw, mut journal) = ([None, None], None);
        if let (Some(dir), Some(jc)) = (journal_dir, &journal_counters) {
            let (rp_tx, rp_rx) = RingBuffer::new(1 << 23);
            let (rd_tx, rd_rx) = RingBuffer::new(1 << 23);
            let (feed, receiver) = journal_feed(1 << 14);
            raw = [Some(rp_tx), Some(rd_tx)];
            // One segment: rolling over (once per segment) builds a file path, the only
            // allocation.
            let writer = JournalWriter::open(dir, 1 << 30, FsyncPolicy::Never).unwrap();
            journal = Some(JournalAgent::new(receiver, [rp_rx, rd_rx], writer, 0, jc.clone()));
            recon = recon.journaled(feed, None);
            output = output.gated(jc.clone());
        }
        let settings = IngestSettings { clock: EventClock::File, pace: None, max_message_bytes: 1 << 16 };
        let [primary, dropcopy] = sources;
        let [raw_p, raw_d] = raw;
        let ingest = |stream: Stream, source: Box<dyn MessageSource>, ring, raw: Option<_>| {
            let a = IngestAgent::new(
                stream,
                source,
                ring,
                wm[stream.index()].clone(),
                StreamPosition::default(),
                settings,
                clock,
                fxrecon_runtime::shutdown::Shutdown::new(),
                counters.ingest[stream.index()].clone(),
            );
            match raw {
                Some(r) => a.journaling(r),
                None => a,
            }
        };
        let ingest = [ingest(Stream::Primary, primary, p_tx, raw_p), ingest(Stream::DropCopy, dropcopy, d_tx, raw_d)];
        HotPath { ingest, recon, output, journal, counters, journal_counters }
    }
}
