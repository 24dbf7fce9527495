//! A counting global allocator: every allocation is delegated to the system allocator and
//! counted per thread, so `fxrecon bench` can report allocations after warm-up on the thread
//! it measures. Counting is one thread-local increment; it never allocates itself.
//!
//! The crate's one unsafe module (the workspace denies `unsafe_code`; the only other unsafe
//! call is the `libc::sync` in `bench::settle_disk`): implementing `GlobalAlloc` is unsafe by
//! definition; every block says why it is sound.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

#[inline]
fn count() {
    // `try_with`: during thread teardown the slot may be gone; such late frees are not counted.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

/// Install with `#[global_allocator] static A: CountingAlloc = CountingAlloc;`.
pub struct CountingAlloc;

// SAFETY: every method forwards the caller's arguments unchanged to `System`, which upholds
// the `GlobalAlloc` contract; the only addition is a thread-local counter that does not
// allocate (const-initialised `Cell<u64>`, no destructor).
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same layout the caller gave us (non-zero size is the caller's obligation).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` through this wrapper with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: `ptr`/`layout` come from this wrapper (i.e. from `System`); size rules are
        // the caller's obligation, passed through unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations (including reallocations) made by the calling thread so far; 0 when the
/// counting allocator is not installed.
pub fn allocations_on_this_thread() -> u64 {
    ALLOCATIONS.try_with(Cell::get).unwrap_or(0)
}
