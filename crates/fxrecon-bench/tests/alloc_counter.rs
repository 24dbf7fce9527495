//! The counting allocator counts each thread's own allocations and nothing else.

use fxrecon_engine::alloc_counter::{CountingAlloc, allocations_on_this_thread};

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
