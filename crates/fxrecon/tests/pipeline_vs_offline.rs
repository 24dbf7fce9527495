//! The threaded pipeline and the offline reconciler give the same output on the same
//! generated day (event-time clock), for several seeds and ring sizes.

use std::io::Cursor;

use fxrecon_core::Stream;
use fxrecon_engine::config::Config;
use fxrecon_engine::idle::IdleStrategy;
use fxrecon_engine::pipeline::{self, PipelineOptions};
use fxrecon_engine::summary::JsonlSink;

type Rejects = Vec<(Stream, u64, String)>;

#[test]
fn pipeline_equals_offline_on_generated_days() {
    for (seed, ring, idle) in
        [(1u64, 1 << 14, IdleStrategy::default()), (2, 64, IdleStrategy::Yield), (3, 8, IdleStrategy::default())]
    {
        let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders: 3_000, seed, ..Default::default() });
        let mut offline = Vec::new();
        let mut sink = JsonlSink::new(&mut offline);
        let mut rejects = Rejects::new();
        fxrecon_engine::offline::reconcile(
            &day.primary[..],
            &day.dropcopy[..],
            &Config::default(),
            &mut sink,
            &mut rejects,
        )
        .unwrap();
        sink.finish().unwrap();

        let opts = PipelineOptions { ring_capacity: ring, idle, ..PipelineOptions::default() };
        let (stats, threaded, threaded_rejects) = pipeline::run(
            Cursor::new(day.primary.clone()),
            Cursor::new(day.dropcopy.clone()),
            Config::default().recon(),
            &opts,
            Vec::new(),
            Rejects::new(),
        )
        .unwrap();
        assert!(!offline.is_empty());
        assert_eq!(String::from_utf8(threaded).unwrap(), String::from_utf8(offline).unwrap(), "seed {seed}");
        assert_eq!(threaded_rejects, rejects);
        assert_eq!(stats.reconciler.events as usize, day.primary_messages + day.dropcopy_messages);
    }
}

#[test]
fn pipeline_rejects_like_offline_and_reports_an_empty_input() {
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders: 200, seed: 4, ..Default::default() });
    let mut bad = day.primary.clone();
    bad.extend_from_slice(b"garbage line\n8=FIX.4.4|35=8|11=X|150=0|39=0\n");
    bad.extend(std::iter::repeat_n(b'z', 100_000));
    bad.push(b'\n');
    let mut offline = Vec::new();
    let mut rejects = Rejects::new();
    fxrecon_engine::offline::reconcile(&bad[..], &b""[..], &Config::default(), &mut offline, &mut rejects).unwrap();
    let (_, _, threaded_rejects) = pipeline::run(
        Cursor::new(bad),
        Cursor::new(Vec::new()),
        Config::default().recon(),
        &PipelineOptions::default(),
        std::io::sink(),
        Rejects::new(),
    )
    .unwrap();
    let mut sorted = threaded_rejects.clone();
    sorted.sort();
    let mut want = rejects.clone();
    want.sort();
    assert_eq!(sorted, want);
    assert_eq!(want.len(), 4, "{want:?}"); // garbage, missing ExecID, over-long line, empty drop copy
}
