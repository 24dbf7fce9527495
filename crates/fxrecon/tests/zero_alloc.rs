//! After warm-up, the ingest and reconciler threads make zero heap allocations over more than
//! 1,000,000 mixed events (a counting global allocator measures each thread on its own), with
//! and without the journal (whose writer thread is measured too).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use allocation_counter::{AllocationInfo, measure};
use fxrecon_core::event::Stream;
use fxrecon_core::reconciler::{ReconConfig, Reconciler};
use fxrecon_engine::counters::PipelineCounters;
use fxrecon_engine::ingest::clock::IngestClock;
use fxrecon_engine::ingest::ingestor::{EventClock, IngestAgent, IngestSettings};
use fxrecon_engine::ingest::memory::MemorySource;
use fxrecon_engine::ingest::message::Watermark;
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
use fxrecon_runtime::shutdown::Shutdown;

const WARM_UP_EVENTS: u64 = 40_000;

/// Runs `agent` until `warm()` holds, then measures the rest of its run.
fn measured(agent: &mut dyn Agent, warm: impl Fn() -> bool) -> AllocationInfo {
    while !agent.is_done() && !warm() {
        if agent.do_work() == 0 {
            std::thread::yield_now();
        }
    }
    measure(|| run_here(agent, IdleStrategy::Yield, &AtomicBool::new(false)).unwrap())
}

#[test]
fn ingest_and_reconciler_threads_do_not_allocate_after_warm_up() {
    hot_path_allocations(false);
}

#[test]
fn with_the_journal_on_no_hot_path_thread_allocates_after_warm_up() {
    hot_path_allocations(true);
}

fn hot_path_allocations(journaled: bool) {
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders: 135_000, seed: 21, ..Default::default() });
    let total = (day.primary_messages + day.dropcopy_messages) as u64;
    assert!(total > 1_000_000 + WARM_UP_EVENTS, "need over 1M events after warm-up, have {total}");
    let primary: &'static [u8] = day.primary.leak();
    let dropcopy: &'static [u8] = day.dropcopy.leak();

    let clock = IngestClock::start();
    let (p_tx, p_rx) = RingBuffer::new(1 << 14);
    let (d_tx, d_rx) = RingBuffer::new(1 << 14);
    let (o_tx, o_rx) = RingBuffer::new(1 << 14);
    let wm = [Arc::new(Watermark::default()), Arc::new(Watermark::default())];
    let journal_counters = journaled.then(|| JournalCounters::new(0));
    let counters = PipelineCounters::new(journal_counters.clone(), ReconConfig::default().max_sessions);

    // The journal's directory (unused without one), removed when dropped: after the writer,
    // which is declared after it.
    let dir = tempfile::Builder::new().prefix("fxrecon-zero-alloc-journal-").tempdir().unwrap();
    let (mut raw, mut journal) = ([None, None], None);
    let merge = Merge::new([p_rx, d_rx], wm.clone());
    let state = RunState::fresh(Reconciler::new(ReconConfig::default()));
    let mut recon = ReconcilerAgent::new(merge, state, o_tx, counters.reconciler.clone());
    let sink = JsonLines::new(std::io::sink());
    let mut output = OutputAgent::new(o_rx, vec![Box::new(sink)], counters.output.clone());
    if let Some(jc) = &journal_counters {
        let (rp_tx, rp_rx) = RingBuffer::new(1 << 23);
        let (rd_tx, rd_rx) = RingBuffer::new(1 << 23);
        let (feed, receiver) = journal_feed(1 << 14);
        raw = [Some(rp_tx), Some(rd_tx)];
        // One segment: rolling over (once per segment) builds a file path, the only allocation.
        let writer = JournalWriter::open(dir.path(), 1 << 30, FsyncPolicy::Never).unwrap();
        journal = Some(JournalAgent::new(receiver, [rp_rx, rd_rx], writer, 0, jc.clone()));
        recon = recon.journaled(feed, None);
        output = output.gated(jc.clone());
    }
    let [raw_p, raw_d] = raw;
    let settings = IngestSettings { clock: EventClock::File, pace: None, max_message_bytes: 1 << 16 };
    let ingest = |stream: Stream, data: &'static [u8], ring, raw: Option<_>| {
        let a = IngestAgent::new(
            stream,
            Box::new(MemorySource::new(data, 1 << 16)),
            ring,
            wm[stream.index()].clone(),
            StreamPosition::default(),
            settings,
            clock,
            Shutdown::new(),
            counters.ingest[stream.index()].clone(),
        );
        match raw {
            Some(r) => a.journaling(r),
            None => a,
        }
    };
    let mut ingest_p = ingest(Stream::Primary, primary, p_tx, raw_p);
    let mut ingest_d = ingest(Stream::DropCopy, dropcopy, d_tx, raw_d);

    let c = &counters;
    let (p_info, d_info, r_info) = std::thread::scope(|s| {
        if let Some(j) = journal.as_mut() {
            let jc = journal_counters.clone().unwrap();
            s.spawn(move || {
                let info = measured(j, || jc.records.get() >= WARM_UP_EVENTS);
                assert_eq!(info.count_total, 0, "journal writer allocated: {info:?}");
                assert_eq!(jc.records.get(), total + 1, "every event was journaled, and the end of input");
            });
        }
        let p = s.spawn(|| measured(&mut ingest_p, || c.ingest[0].messages.get() >= WARM_UP_EVENTS / 2));
        let d = s.spawn(|| measured(&mut ingest_d, || c.ingest[1].messages.get() >= WARM_UP_EVENTS / 2));
        let r = s.spawn(|| measured(&mut recon, || c.reconciler.events.get() >= WARM_UP_EVENTS));
        let o = s.spawn(|| run_here(&mut output, IdleStrategy::Yield, &AtomicBool::new(false)).unwrap());
        let r_info = r.join().unwrap();
        o.join().unwrap();
        (p.join().unwrap(), d.join().unwrap(), r_info)
    });

    assert_eq!(counters.reconciler.events.get(), total, "every event reached the reconciler");
    assert!(counters.output.records.get() > 0, "the mixed day has divergences to emit");
    assert_eq!(p_info.count_total, 0, "ingest-primary allocated: {p_info:?}");
    assert_eq!(d_info.count_total, 0, "ingest-dropcopy allocated: {d_info:?}");
    assert_eq!(r_info.count_total, 0, "reconciler allocated: {r_info:?}");
}

#[test]
fn the_counting_allocator_is_installed_and_counts_per_thread() {
    // Guards the test above against passing vacuously.
    let info = std::thread::spawn(|| measure(|| drop(std::hint::black_box(vec![1u8; 64])))).join().unwrap();
    assert_eq!(info.count_total, 1);
}
