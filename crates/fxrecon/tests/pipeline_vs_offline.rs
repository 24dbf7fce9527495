//! The threaded pipeline and the one-thread (stepped) run of the same agents give the same
//! output on the same generated day (the files' clock), for several seeds and ring sizes,
//! rejects included.

use fxrecon_engine::config::Config;
use fxrecon_engine::output::render::{records_to_jsonl, rejects_to_jsonl};
use fxrecon_engine::pipeline::memory::{MemoryRun, reconcile_in_memory};
use fxrecon_engine::pipeline::options::PipelineOptions;
use fxrecon_runtime::idle::IdleStrategy;
use fxrecon_runtime::threading::Threading;

fn run(primary: &[u8], dropcopy: &[u8], opts: PipelineOptions) -> MemoryRun {
    reconcile_in_memory(primary.to_vec(), dropcopy.to_vec(), &Config::default(), opts).unwrap()
}

#[test]
fn threaded_equals_stepped_on_generated_days() {
    for (seed, ring, idle, threading) in [
        (1u64, 1 << 14, IdleStrategy::default(), Threading::Shared),
        (2, 64, IdleStrategy::Yield, Threading::Dedicated),
        (3, 8, IdleStrategy::default(), Threading::Shared),
    ] {
        let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders: 3_000, seed, ..Default::default() });
        let stepped =
            run(&day.primary, &day.dropcopy, PipelineOptions { threading: Threading::Stepped, ..Default::default() });
        let threaded = run(
            &day.primary,
            &day.dropcopy,
            PipelineOptions { ring_capacity: ring, idle, threading, ..Default::default() },
        );
        let want = records_to_jsonl(&stepped.records);
        assert!(!want.is_empty());
        assert_eq!(
            String::from_utf8(records_to_jsonl(&threaded.records)).unwrap(),
            String::from_utf8(want).unwrap(),
            "seed {seed}"
        );
        assert_eq!(rejects_to_jsonl(&threaded.rejects), rejects_to_jsonl(&stepped.rejects));
        assert_eq!(threaded.outcome.counters.events as usize, day.primary_messages + day.dropcopy_messages);
        assert_eq!(threaded.outcome.counters.state_digest, stepped.outcome.counters.state_digest);
    }
}

#[test]
fn threaded_rejects_like_stepped_beside_an_empty_input() {
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders: 200, seed: 4, ..Default::default() });
    let mut bad = day.primary.clone();
    bad.extend_from_slice(b"garbage line\n8=FIX.4.4|35=8|11=X|150=0|39=0\n");
    bad.extend(std::iter::repeat_n(b'z', 100_000));
    bad.push(b'\n');
    let stepped = run(&bad, b"", PipelineOptions { threading: Threading::Stepped, ..Default::default() });
    let threaded = run(&bad, b"", PipelineOptions { threading: Threading::Shared, ..Default::default() });
    // Rejects carry no time: across streams their order follows arrival, within one it is kept.
    let sorted = |r: &MemoryRun| {
        let mut v: Vec<String> =
            String::from_utf8(rejects_to_jsonl(&r.rejects)).unwrap().lines().map(String::from).collect();
        v.sort();
        v
    };
    assert_eq!(sorted(&threaded), sorted(&stepped));
    // garbage, missing ExecID, over-long line (the empty drop copy is a warning, not a reject)
    assert_eq!(stepped.rejects.len(), 3, "{:?}", stepped.rejects);
}
