//! Every threading mode of the one pipeline gives byte-identical output on file input (the
//! files' clock), under any ring size, including rings so small they are always full.

use std::path::PathBuf;

use fxrecon_engine::config::Config;
use fxrecon_engine::output::render::{records_to_jsonl, rejects_to_jsonl};
use fxrecon_engine::pipeline::memory::{MemoryRun, reconcile_in_memory};
use fxrecon_engine::pipeline::options::PipelineOptions;
use fxrecon_runtime::idle::IdleStrategy;
use fxrecon_runtime::threading::Threading;

fn run(primary: &[u8], dropcopy: &[u8], ring: usize, idle: IdleStrategy, threading: Threading) -> MemoryRun {
    let opts = PipelineOptions { ring_capacity: ring, idle, threading, ..PipelineOptions::default() };
    reconcile_in_memory(primary.to_vec(), dropcopy.to_vec(), &Config::default(), opts).unwrap()
}

fn sample() -> (Vec<u8>, Vec<u8>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples/quickfix-day");
    (std::fs::read(dir.join("primary.fix")).unwrap(), std::fs::read(dir.join("dropcopy.fix")).unwrap())
}

#[test]
fn every_threading_mode_gives_the_stepped_output_on_the_quickfix_day() {
    let (p, d) = sample();
    let want = run(&p, &d, 1 << 10, IdleStrategy::default(), Threading::Stepped);
    let want_out = records_to_jsonl(&want.records);
    assert!(!want_out.is_empty());
    for (idle, threading) in [
        (IdleStrategy::default(), Threading::Dedicated),
        (IdleStrategy::Yield, Threading::Dedicated),
        (IdleStrategy::default(), Threading::Shared),
        (IdleStrategy::BusySpin, Threading::Shared),
    ] {
        let got = run(&p, &d, 1 << 10, idle, threading);
        assert_eq!(
            String::from_utf8(records_to_jsonl(&got.records)).unwrap(),
            String::from_utf8(want_out.clone()).unwrap()
        );
        assert_eq!(rejects_to_jsonl(&got.rejects), rejects_to_jsonl(&want.rejects));
        let c = &got.outcome.counters;
        assert_eq!(c.primary.messages + c.dropcopy.messages, 251);
        assert_eq!(c.events, 251);
        assert_eq!(c.state_digest, want.outcome.counters.state_digest, "{threading:?}");
    }
}

#[test]
fn a_two_slot_ring_is_always_full_and_still_loses_nothing() {
    let (p, d) = sample();
    let want = records_to_jsonl(&run(&p, &d, 1 << 10, IdleStrategy::default(), Threading::Stepped).records);
    for threading in [Threading::Dedicated, Threading::Shared, Threading::Stepped] {
        let got = run(&p, &d, 2, IdleStrategy::Yield, threading);
        assert_eq!(records_to_jsonl(&got.records), want, "{threading:?}");
        assert_eq!(got.outcome.counters.events, 251);
        let waits = got.outcome.counters.primary.ring_full_waits + got.outcome.counters.dropcopy.ring_full_waits;
        assert!(waits > 0, "a 2-slot ring must have applied backpressure ({threading:?})");
    }
}
