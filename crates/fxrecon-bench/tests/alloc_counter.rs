//! The counting allocator counts each thread's own allocations and nothing else, and the
//! one-thread pipeline the bench measures with it makes none after warm-up.

use fxrecon_bench::alloc_counter::{CountingAlloc, allocations_on_this_thread};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn counts_allocations_and_reallocations_per_thread() {
    let before = allocations_on_this_thread();
    let mut v: Vec<u64> = std::hint::black_box(Vec::with_capacity(1));
    v.push(1);
    v.push(2); // grows: a reallocation
    let boxed = std::hint::black_box(Box::new(7u32));
    assert_eq!(allocations_on_this_thread() - before, 3);
    drop((v, boxed));
    let other = std::thread::spawn(|| {
        let start = allocations_on_this_thread();
        let s = std::hint::black_box(String::from("x"));
        drop(s);
        allocations_on_this_thread() - start
    })
    .join()
    .unwrap();
    assert_eq!(other, 1);
    let mid = allocations_on_this_thread();
    let _x = std::hint::black_box(1 + 1);
    assert_eq!(allocations_on_this_thread(), mid, "arithmetic does not allocate");
}

#[test]
fn the_one_thread_pipeline_makes_no_allocation_after_warm_up() {
    // What `fxrecon bench` reports as `allocations_after_warmup` (0 expected): every agent of
    // the stepped pipeline on this thread, from 10% of the lines to the end of the output.
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders: 3_000, seed: 11, ..Default::default() });
    let (p, d): (&'static [u8], &'static [u8]) = (day.primary.leak(), day.dropcopy.leak());
    let cfg = fxrecon_engine::config::Config::default();
    let before = allocations_on_this_thread();
    let (rate, allocations) = fxrecon_bench::bench::decode_reconcile_throughput(p, d, &cfg, 2);
    assert!(rate > 0.0);
    assert_eq!(allocations, 0, "the stepped pipeline allocated after warm-up");
    // The run as a whole (building it, its rings and store) does allocate: the counter saw it.
    assert!(allocations_on_this_thread() - before > 10);
}
