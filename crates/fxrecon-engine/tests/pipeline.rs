//! The threaded pipeline gives byte-identical output to the offline reconciler on file input
//! (event-time clock), under any ring size, including rings so small they are always full.

use std::io::Cursor;
use std::path::PathBuf;

use fxrecon_core::Stream;
use fxrecon_engine::config::Config;
use fxrecon_engine::idle::IdleStrategy;
use fxrecon_engine::pipeline::{self, PipelineOptions, Threading};
use fxrecon_engine::summary::JsonlSink;

fn offline(primary: &[u8], dropcopy: &[u8]) -> (Vec<u8>, Vec<(Stream, u64, String)>) {
    let mut out = Vec::new();
    let mut sink = JsonlSink::new(&mut out);
    let mut rejects = Vec::new();
    fxrecon_engine::offline::reconcile(primary, dropcopy, &Config::default(), &mut sink, &mut rejects).unwrap();
    sink.finish().unwrap();
    (out, rejects)
}

fn threaded(
    primary: &[u8],
    dropcopy: &[u8],
    ring: usize,
    idle: IdleStrategy,
    threading: Threading,
) -> (Vec<u8>, Vec<(Stream, u64, String)>, pipeline::PipelineStats) {
    let opts = PipelineOptions { ring_capacity: ring, idle, threading, ..PipelineOptions::default() };
    let (stats, out, rejects) = pipeline::run(
        Cursor::new(primary.to_vec()),
        Cursor::new(dropcopy.to_vec()),
        Config::default().recon(),
        &opts,
        Vec::new(),
        Vec::<(Stream, u64, String)>::new(),
    )
    .unwrap();
    (out, rejects, stats)
}

fn sample() -> (Vec<u8>, Vec<u8>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples/quickfix-day");
    (std::fs::read(dir.join("primary.fix")).unwrap(), std::fs::read(dir.join("dropcopy.fix")).unwrap())
}

#[test]
fn threaded_pipeline_equals_offline_on_the_quickfix_day() {
    let (p, d) = sample();
    let (want, want_rejects) = offline(&p, &d);
    for (idle, threading) in [
        (IdleStrategy::default(), Threading::Dedicated),
        (IdleStrategy::Yield, Threading::Dedicated),
        (IdleStrategy::default(), Threading::Shared),
        (IdleStrategy::BusySpin, Threading::Shared),
    ] {
        let (got, rejects, stats) = threaded(&p, &d, 1 << 10, idle, threading);
        assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(want.clone()).unwrap());
        assert_eq!(rejects, want_rejects);
        assert_eq!(stats.ingest[0].messages + stats.ingest[1].messages, 251);
        assert_eq!(stats.reconciler.events, 251);
    }
}

#[test]
fn a_two_slot_ring_is_always_full_and_still_loses_nothing() {
    let (p, d) = sample();
    let (want, _) = offline(&p, &d);
    for threading in [Threading::Dedicated, Threading::Shared] {
        let (got, _, stats) = threaded(&p, &d, 2, IdleStrategy::Yield, threading);
        assert_eq!(got, want, "{threading:?}");
        assert_eq!(stats.reconciler.events, 251);
        let waits: u64 = stats.ingest.iter().map(|s| s.ring_full_waits).sum();
        assert!(waits > 0, "a 2-slot ring must have applied backpressure ({threading:?})");
    }
}
