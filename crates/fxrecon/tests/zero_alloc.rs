//! After warm-up, the ingest and reconciler threads make zero heap allocations over more than
//! 1,000,000 mixed events (a counting global allocator measures each thread on its own), with
//! and without the journal (whose writer thread is measured too).

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use allocation_counter::{AllocationInfo, measure};
use fxrecon_core::{ReconConfig, Reconciler, Stream};
use fxrecon_engine::agent::{Agent, run_to_completion};
use fxrecon_engine::idle::IdleStrategy;
use fxrecon_engine::journal::{FsyncPolicy, JournalWriter};
use fxrecon_engine::journal_agent::{JournalAgent, JournalShared};
use fxrecon_engine::line_reader::SliceLines;
use fxrecon_engine::pipeline::{IngestAgent, IngestClock, OutputAgent, PipelineOptions, ReconcilerAgent};
use rtrb::RingBuffer;

const WARM_UP_EVENTS: u64 = 40_000;

/// Runs `agent` until `warm(agent)` holds, then measures the rest of its run.
fn measured<A: Agent>(agent: &mut A, warm: impl Fn(&A) -> bool) -> AllocationInfo {
    let idle = IdleStrategy::Yield;
    while !agent.is_done() && !warm(agent) {
        if agent.do_work() == 0 {
            std::thread::yield_now();
        }
    }
    measure(|| run_to_completion(agent, idle))
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

    let opts = PipelineOptions::default();
    let clock = IngestClock::start();
    let (p_tx, p_rx) = RingBuffer::new(1 << 14);
    let (d_tx, d_rx) = RingBuffer::new(1 << 14);
    let (o_tx, o_rx) = RingBuffer::new(1 << 14);
    let wm = [Arc::new(AtomicI64::new(i64::MIN)), Arc::new(AtomicI64::new(i64::MIN))];

    let (mut raw, mut journal) = ([None, None], None);
    let mut recon = ReconcilerAgent::new(Reconciler::new(ReconConfig::default()), [p_rx, d_rx], wm.clone(), o_tx);
    let mut output = OutputAgent::new(o_rx, std::io::sink(), Vec::<(Stream, u64, String)>::new());
    let dir = std::env::temp_dir().join(format!("fxrecon-zero-alloc-journal-{}", std::process::id()));
    if journaled {
        let _ = std::fs::remove_dir_all(&dir);
        let (rp_tx, rp_rx) = RingBuffer::new(1 << 23);
        let (rd_tx, rd_rx) = RingBuffer::new(1 << 23);
        let (m_tx, m_rx) = fxrecon_engine::journal_agent::journal_feed(1 << 14);
        raw = [Some(rp_tx), Some(rd_tx)];
        let shared = JournalShared::new(0);
        // One segment: rolling over (once per segment) builds a file path, the only allocation.
        let writer = JournalWriter::open(&dir, 1 << 30, FsyncPolicy::Never).unwrap();
        journal = Some(JournalAgent::new(m_rx, [rp_rx, rd_rx], writer, 0, shared.clone()));
        recon = recon.journaled(m_tx, 0);
        output = output.gated(shared.written, 0, 0);
    }
    let [raw_p, raw_d] = raw;
    let ingest = |stream, data, ring, wm, raw: Option<_>| {
        let a = IngestAgent::new(stream, SliceLines::new(data, 1 << 16), ring, wm, &opts, clock);
        match raw {
            Some(r) => a.journaling(r, 1 << 16),
            None => a,
        }
    };
    let mut ingest_p = ingest(Stream::Primary, primary, p_tx, wm[0].clone(), raw_p);
    let mut ingest_d = ingest(Stream::DropCopy, dropcopy, d_tx, wm[1].clone(), raw_d);

    let (p_info, d_info, r_info, events, records) = std::thread::scope(|s| {
        if let Some(j) = journal.as_mut() {
            s.spawn(move || {
                let info = measured(j, |a| a.stats.records >= WARM_UP_EVENTS);
                assert_eq!(info.count_total, 0, "journal writer allocated: {info:?}");
                assert_eq!(j.stats.records, total, "every event was journaled");
            });
        }
        let p = s.spawn(|| measured(&mut ingest_p, |a| a.stats.messages >= WARM_UP_EVENTS / 2));
        let d = s.spawn(|| measured(&mut ingest_d, |a| a.stats.messages >= WARM_UP_EVENTS / 2));
        let r = s.spawn(|| {
            let info = measured(&mut recon, |a| a.stats.events >= WARM_UP_EVENTS);
            (info, recon.stats.events)
        });
        let o = s.spawn(|| {
            run_to_completion(&mut output, IdleStrategy::Yield);
            output.counts.by_type.values().sum::<u64>()
        });
        let (r_info, events) = r.join().unwrap();
        (p.join().unwrap(), d.join().unwrap(), r_info, events, o.join().unwrap())
    });

    assert_eq!(events, total, "every event reached the reconciler");
    assert!(records > 0, "the mixed day has divergences to emit");
    assert_eq!(p_info.count_total, 0, "ingest-primary allocated: {p_info:?}");
    assert_eq!(d_info.count_total, 0, "ingest-dropcopy allocated: {d_info:?}");
    assert_eq!(r_info.count_total, 0, "reconciler allocated: {r_info:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_counting_allocator_is_installed_and_counts_per_thread() {
    // Guards the test above against passing vacuously.
    let info = std::thread::spawn(|| measure(|| drop(std::hint::black_box(vec![1u8; 64])))).join().unwrap();
    assert_eq!(info.count_total, 1);
}
