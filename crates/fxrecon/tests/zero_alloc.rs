//! After warm-up, the ingest and reconciler threads make zero heap allocations over more than
//! 1,000,000 mixed events (a counting global allocator measures each thread on its own), with
//! and without the journal (whose writer thread is measured too).

#[path = "common/hot_path.rs"]
mod hot_path;

use allocation_counter::measure;
use fxrecon_engine::ingest::memory::MemorySource;
use hot_path::{HotPath, measured, unmeasured};

const WARM_UP_EVENTS: u64 = 40_000;

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

    // The journal's directory (unused without one), removed when dropped: after the writer,
    // which is declared after it.
    let dir = tempfile::Builder::new().prefix("fxrecon-zero-alloc-journal-").tempdir().unwrap();
    let sources: [Box<dyn fxrecon_engine::ingest::source::MessageSource>; 2] =
        [Box::new(MemorySource::new(primary, 1 << 16)), Box::new(MemorySource::new(dropcopy, 1 << 16))];
    let HotPath {
        ingest: [mut ingest_p, mut ingest_d],
        mut recon,
        mut output,
        mut journal,
        counters,
        journal_counters,
    } = HotPath::new(sources, journaled.then_some(dir.path()));

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
        let o = s.spawn(|| unmeasured(&mut output));
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
