//! While a run goes on, its counters are readable from another thread without a lock, and
//! the reconciler answers commands between batches; at the end the counters hold what the
//! run did (the summary is built from them).

use std::time::{Duration, Instant};

use fxrecon_engine::command::{Command, Reply, command_rings};
use fxrecon_engine::config::Config;
use fxrecon_engine::ingest::ingestor::EventClock;
use fxrecon_engine::ingest::memory::MemorySource;
use fxrecon_engine::output::sink::MemorySink;
use fxrecon_engine::pipeline::builder::{Intake, PipelineBuilder};
use fxrecon_engine::pipeline::options::PipelineOptions;
use fxrecon_runtime::threading::Threading;

#[test]
fn counters_move_while_the_run_goes_on_and_commands_are_answered_between_batches() {
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders: 1_500, seed: 2, ..Default::default() });
    let total = (day.primary_messages + day.dropcopy_messages) as u64;
    let cfg = Config::default();
    // Paced to last about a second and a half, on the file's clock (same output as unpaced).
    let opts = PipelineOptions {
        pace_msgs_per_s: Some(total * 2 / 3),
        clock: EventClock::File,
        threading: Threading::Shared,
        ..PipelineOptions::default()
    };
    let sources = [MemorySource::new(day.primary, 1 << 16), MemorySource::new(day.dropcopy, 1 << 16)];
    let [p, d] = sources;
    let (sink, collected) = MemorySink::new();
    let (mut client, server) = command_rings(8);
    let pipeline = PipelineBuilder::new(&cfg, opts, Intake::Sources([Box::new(p), Box::new(d)]))
        .sink(Box::new(sink))
        .commands(server)
        .build()
        .unwrap();
    let counters = pipeline.counters();
    let run = std::thread::spawn(move || pipeline.run().unwrap());

    let (mut seen, mut replies, mut last_consumed) = (Vec::new(), 0, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !run.is_finished() && Instant::now() < deadline {
        let c = counters.snapshot();
        seen.push(c.primary.messages + c.dropcopy.messages);
        let _ = client.commands.push(Command::StateDigest);
        while let Ok(r) = client.replies.pop() {
            let Reply::StateDigest { consumed, .. } = r else { panic!("{r:?}") };
            assert!(consumed >= last_consumed, "replies come in consumption order");
            last_consumed = consumed;
            replies += 1;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let outcome = run.join().unwrap();
    let mid: Vec<_> = seen.iter().filter(|&&n| n > 0 && n < total).collect();
    assert!(mid.len() >= 3, "counters were read mid-run: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "counters never go back");
    assert!(replies >= 3, "commands were answered while the run went on ({replies})");
    // At the end the live counters are the run's numbers.
    let end = counters.snapshot();
    assert_eq!(end, outcome.counters);
    assert_eq!(end.events, total);
    assert_eq!(end.primary.ring_depth + end.dropcopy.ring_depth, 0);
    let records = collected.take().records.len() as u64;
    assert_eq!(end.records_written, records);
    assert_eq!(end.records_by_type.values().sum::<u64>(), records);
    assert!(end.sessions.len() >= 2, "{:?}", end.sessions);
    let sequenced: u64 = end.sessions.iter().map(|s| s.messages).sum();
    assert_eq!(sequenced, total, "every message counted on its session");
    assert_eq!(end.state_digest, outcome.state.reconciler.state_digest());
}
