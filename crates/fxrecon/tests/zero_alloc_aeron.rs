//! With an Aeron source (issue 24): after warm-up the ingest agent reading a subscription
//! makes zero heap allocations (a counting global allocator measures its thread alone), over a
//! generated day's primary stream published over IPC through an embedded media driver, while
//! the reconciler applies it against the drop copy. The Aeron C code's own memory is not the
//! Rust allocator's and is not counted; what the poller thread hands over is copied into
//! buffers that were sized at start.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use allocation_counter::{AllocationInfo, measure};
use fxrecon_aeron::driver::{DriverConfig, MediaDriver};
use fxrecon_aeron::endpoint::Endpoint;
use fxrecon_aeron::marker::END_OF_STREAM;
use fxrecon_aeron::publisher::Publisher;
use fxrecon_aeron::source::{AeronSource, SourceConfig};
use fxrecon_core::event::Stream;
use fxrecon_core::reconciler::{ReconConfig, Reconciler};
use fxrecon_engine::counters::PipelineCounters;
use fxrecon_engine::ingest::clock::IngestClock;
use fxrecon_engine::ingest::ingestor::{EventClock, IngestAgent, IngestSettings};
use fxrecon_engine::ingest::memory::MemorySource;
use fxrecon_engine::ingest::message::Watermark;
use fxrecon_engine::ingest::source::MessageSource;
use fxrecon_engine::merge::Merge;
use fxrecon_engine::output::agent::OutputAgent;
use fxrecon_engine::output::sink::JsonLines;
use fxrecon_engine::reconciler_agent::{ReconcilerAgent, RunState};
use fxrecon_journal::position::StreamPosition;
use fxrecon_runtime::agent::Agent;
use fxrecon_runtime::idle::IdleStrategy;
use fxrecon_runtime::rings::RingBuffer;
use fxrecon_runtime::runner::run_here;
use fxrecon_runtime::shutdown::Shutdown;

const WARM_UP: u64 = 20_000;

fn measured(agent: &mut dyn Agent, warm: impl Fn() -> bool) -> AllocationInfo {
    while !agent.is_done() && !warm() {
        if agent.do_work() == 0 {
            std::thread::yield_now();
        }
    }
    measure(|| run_here(agent, IdleStrategy::Yield, &AtomicBool::new(false)).unwrap())
}

#[test]
fn the_ingest_agent_reading_an_aeron_subscription_does_not_allocate_after_warm_up() {
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders: 30_000, seed: 24, ..Default::default() });
    let lines: Vec<Vec<u8>> =
        day.primary.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect();
    let n = lines.len() as u64;
    assert!(n > 5 * WARM_UP, "a day long enough to measure: {n} lines");
    let dropcopy: &'static [u8] = day.dropcopy.leak();

    let dir = tempfile::Builder::new().prefix("fxrecon-zero-alloc-aeron-").tempdir().unwrap();
    let driver = MediaDriver::embedded_at(&dir.path().join("driver"), &DriverConfig::default()).unwrap();
    let endpoint = Endpoint::new("aeron:ipc", 1001);
    let source = AeronSource::subscribe(driver.dir(), endpoint.clone(), SourceConfig::default()).unwrap();
    let aeron_dir = driver.dir().to_path_buf();
    let publisher = std::thread::spawn(move || {
        let wait = Duration::from_secs(30);
        let p = Publisher::connect(&aeron_dir, endpoint, wait).unwrap();
        p.wait_connected(wait).unwrap();
        for l in &lines {
            p.offer(l, wait).unwrap();
        }
        p.offer(END_OF_STREAM, wait).unwrap();
    });

    let clock = IngestClock::start();
    let (p_tx, p_rx) = RingBuffer::new(1 << 14);
    let (d_tx, d_rx) = RingBuffer::new(1 << 14);
    let (o_tx, o_rx) = RingBuffer::new(1 << 14);
    let wm = [Arc::new(Watermark::default()), Arc::new(Watermark::default())];
    let counters = PipelineCounters::new(None, ReconConfig::default().max_sessions);
    let merge = Merge::new([p_rx, d_rx], wm.clone());
    let mut recon = ReconcilerAgent::new(
        merge,
        RunState::fresh(Reconciler::new(ReconConfig::default())),
        o_tx,
        counters.reconciler.clone(),
    );
    let mut output = OutputAgent::new(o_rx, vec![Box::new(JsonLines::new(std::io::sink()))], counters.output.clone());
    let settings = IngestSettings { clock: EventClock::File, pace: None, max_message_bytes: 1 << 16 };
    let ingest = |stream: Stream, source: Box<dyn MessageSource>, ring| {
        IngestAgent::new(
            stream,
            source,
            ring,
            wm[stream.index()].clone(),
            StreamPosition::default(),
            settings,
            clock,
            Shutdown::new(),
            counters.ingest[stream.index()].clone(),
        )
    };
    let mut ingest_p = ingest(Stream::Primary, Box::new(source), p_tx);
    let mut ingest_d = ingest(Stream::DropCopy, Box::new(MemorySource::new(dropcopy, 1 << 16)), d_tx);

    let c = &counters;
    let p_info = std::thread::scope(|s| {
        let p = s.spawn(|| measured(&mut ingest_p, || c.ingest[0].messages.get() >= WARM_UP));
        s.spawn(|| run_here(&mut ingest_d, IdleStrategy::Yield, &AtomicBool::new(false)).unwrap());
        s.spawn(|| run_here(&mut recon, IdleStrategy::Yield, &AtomicBool::new(false)).unwrap());
        s.spawn(|| run_here(&mut output, IdleStrategy::Yield, &AtomicBool::new(false)).unwrap());
        p.join().unwrap()
    });
    publisher.join().unwrap();
    assert_eq!(counters.ingest[0].messages.get() + counters.ingest[0].rejected.get(), n, "every line came over Aeron");
    assert!(counters.output.records.get() > 0, "the day has divergences");
    assert_eq!(p_info.count_total, 0, "the ingest agent on the Aeron source allocated: {p_info:?}");
    drop(driver);
}
