//! Live counters: numbers an agent updates as it works and any thread reads while it runs,
//! without a lock (after Agrona's counters).
//!
//! Owns: the single-writer counter cell. Each counter has exactly one writing thread (its
//! agent), so an update is a plain load and store, never a locked read-modify-write on the
//! hot path; readers see a value at most one update old. A counter sits on its own cache
//! line when its writer updates it per message, so readers and other writers never share it.

use std::sync::atomic::{AtomicU64, Ordering};

/// A counter with one writer and any number of readers.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// A counter at `v`.
    pub const fn new(v: u64) -> Self {
        Self(AtomicU64::new(v))
    }

    /// Adds `n`. Only the counter's one writer may call it (two writers would lose updates).
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.store(self.0.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
    }

    /// Adds one (single writer, as [`Counter::add`]).
    #[inline]
    pub fn incr(&self) {
        self.add(1);
    }

    /// Sets the value (a gauge: ring depth, orders live).
    #[inline]
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed);
    }

    /// Sets the value and orders every earlier write of this thread before it: a reader that
    /// sees it with [`Counter::get_acquire`] sees those too (used for "done" marks).
    #[inline]
    pub fn set_release(&self, v: u64) {
        self.0.store(v, Ordering::Release);
    }

    /// The value now.
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// The value now, with the writes ordered before its [`Counter::set_release`].
    #[inline]
    pub fn get_acquire(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// A counter alone on its cache line (128 bytes: two lines, for the adjacent-line prefetcher).
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct PaddedCounter(pub Counter);

impl std::ops::Deref for PaddedCounter {
    type Target = Counter;
    fn deref(&self) -> &Counter {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn a_reader_on_another_thread_sees_the_writers_updates() {
        let c = Arc::new(PaddedCounter::default());
        let w = c.clone();
        let writer = std::thread::spawn(move || {
            for _ in 0..100_000 {
                w.incr();
            }
            w.add(5);
        });
        let mut last = 0;
        while !writer.is_finished() {
            let v = c.get();
            assert!(v >= last, "a single writer's counter never goes back");
            last = v;
        }
        writer.join().unwrap();
        assert_eq!(c.get(), 100_005);
        c.set(3);
        assert_eq!(c.get_acquire(), 3);
        assert_eq!(std::mem::align_of::<PaddedCounter>(), 128);
    }
}
