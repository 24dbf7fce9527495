//! Grace-window timers of the reconciler: a FIFO queue of pending checks (docs/decisions.md D22).
//!
//! Owns: what a pending check is about (phantom, missing fill, view comparison) and for which
//! order slot generation, and the order in which checks fire: every check whose deadline is
//! strictly before "now", earliest deadline first, ties in insertion order. Every grace check is
//! scheduled at `now + grace` and "now" never goes backwards, so deadlines arrive in order and
//! the queue is a plain FIFO: O(1) push and pop. A deadline earlier than the last one pushed
//! (never the case for the reconciler) is still placed in order, by a backwards insertion.
//! Storage is fixed-size blocks from a pool sized at construction; a drained block goes back
//! to the pool (most recently used first, so the queue stays in cache and memory touched stays
//! at the high-water mark). Never allocates after construction: a full queue is reported, not
//! grown. Timers are never cancelled: each re-checks its condition when it fires.

use std::collections::VecDeque;

use crate::order::store::exec_record::ExecIdx;
use crate::order::store::order_record::OrderIdx;
use crate::snapshot::{SnapReader, SnapWriter, SnapshotError};
use crate::time::Micros;

/// What a timer checks when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    /// Is the order still seen on one stream only?
    Phantom,
    /// Is this fill still unmatched?
    Fill(ExecIdx),
    /// Have the views differed for a whole grace window?
    Views,
}

/// A pending check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timer {
    /// When it fires (event time).
    pub deadline: Micros,
    /// The order it concerns.
    pub order: OrderIdx,
    /// Generation of the order slot when scheduled (a reused slot makes the timer void).
    pub generation: u32,
    /// What it checks.
    pub kind: TimerKind,
}

/// The queue already holds its maximum number of pending checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimersFull;

/// Timers per storage block.
const BLOCK: usize = 256;

const VOID: Timer = Timer { deadline: Micros(i64::MIN), order: 0, generation: 0, kind: TimerKind::Phantom };

/// The reconciler's pending checks, in firing order.
#[derive(Debug)]
pub struct GraceTimers {
    /// Block storage: block `b` is `slots[b * BLOCK..(b + 1) * BLOCK]`; grows (within its
    /// reserved capacity) only when a never-used block is first taken.
    slots: Vec<Timer>,
    /// Blocks drained and ready for reuse.
    free: Vec<u32>,
    /// Blocks holding the queue, oldest first.
    blocks: VecDeque<u32>,
    /// Offset of the oldest timer in the front block.
    head: usize,
    /// Index in `slots` where the front block starts (valid while `blocks` is not empty).
    front: usize,
    len: usize,
    capacity: usize,
}

impl GraceTimers {
    /// Room for `capacity` pending checks.
    pub fn with_capacity(capacity: usize) -> Self {
        // A queue of `capacity` timers starting anywhere in a block spans one block more.
        let blocks = capacity.div_ceil(BLOCK) + 1;
        Self {
            slots: Vec::with_capacity(blocks * BLOCK),
            free: Vec::with_capacity(blocks),
            blocks: VecDeque::with_capacity(blocks),
            head: 0,
            front: 0,
            len: 0,
            capacity,
        }
    }

    /// Maps every page of the reserved timer storage now (see `OrderStore::prefault`).
    pub fn prefault(&mut self) {
        crate::memhint::prefault_spare(&mut self.slots);
        crate::memhint::prefault_spare(&mut self.free);
    }

    /// Pending checks.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Index in `slots` of the `i`-th pending timer (0: the next to fire).
    #[inline]
    fn slot(&self, i: usize) -> usize {
        let p = self.head + i;
        if p < BLOCK {
            // In the front block (the common case: pops and near peeks).
            return self.front + p;
        }
        self.blocks[p / BLOCK] as usize * BLOCK + p % BLOCK
    }

    /// The `i`-th pending check in firing order (0: the next), if there are that many.
    #[inline]
    pub fn peek(&self, i: usize) -> Option<&Timer> {
        (i < self.len).then(|| &self.slots[self.slot(i)])
    }

    /// Schedules a check.
    #[inline]
    pub fn push(
        &mut self,
        deadline: Micros,
        order: OrderIdx,
        generation: u32,
        kind: TimerKind,
    ) -> Result<(), TimersFull> {
        if self.len >= self.capacity {
            return Err(TimersFull);
        }
        if (self.head + self.len).is_multiple_of(BLOCK) && (self.head + self.len) / BLOCK == self.blocks.len() {
            let b = match self.free.pop() {
                Some(b) => b,
                None => {
                    let b = self.slots.len() / BLOCK;
                    self.slots.resize(self.slots.len() + BLOCK, VOID);
                    b as u32
                }
            };
            self.blocks.push_back(b);
            if self.blocks.len() == 1 {
                self.front = b as usize * BLOCK;
            }
        }
        let timer = Timer { deadline, order, generation, kind };
        let mut i = self.len;
        self.len += 1;
        // Deadlines normally arrive in order; an earlier one moves back past later ones only.
        while i > 0 {
            let prev = self.slot(i - 1);
            if self.slots[prev].deadline <= deadline {
                break;
            }
            let here = self.slot(i);
            self.slots[here] = self.slots[prev];
            i -= 1;
        }
        let at = self.slot(i);
        self.slots[at] = timer;
        Ok(())
    }

    /// Writes the pending checks, in firing order, into a snapshot.
    pub fn save(&self, w: &mut SnapWriter<'_>) {
        w.put(&self.len);
        for i in 0..self.len {
            let t = &self.slots[self.slot(i)];
            w.put(&t.deadline).put(&t.order).put(&t.generation);
            match t.kind {
                TimerKind::Phantom => w.put(&0u8),
                TimerKind::Fill(f) => w.put(&1u8).put(&f),
                TimerKind::Views => w.put(&2u8),
            };
        }
    }

    /// Replaces this (empty) queue's checks with saved ones, in the same firing order.
    pub fn load(&mut self, r: &mut SnapReader<'_>) -> Result<(), SnapshotError> {
        if !self.is_empty() {
            return Err(SnapshotError::Invalid("timers restored into a used queue"));
        }
        let n = r.count(self.capacity)?;
        for _ in 0..n {
            let (deadline, order, generation) = (r.get()?, r.get()?, r.get()?);
            let kind = match r.get::<u8>()? {
                0 => TimerKind::Phantom,
                1 => TimerKind::Fill(r.get()?),
                2 => TimerKind::Views,
                _ => return Err(SnapshotError::Invalid("timer kind")),
            };
            self.push(deadline, order, generation, kind).map_err(|_| SnapshotError::Invalid("timers"))?;
        }
        Ok(())
    }

    /// Feeds the pending checks, in firing order, to a state digest.
    pub fn digest_into(&self, d: &mut crate::digest::Digest) {
        d.u64(self.len as u64);
        for i in 0..self.len {
            let t = &self.slots[self.slot(i)];
            let (kind, fill) = match t.kind {
                TimerKind::Phantom => (0, 0),
                TimerKind::Fill(f) => (1, f),
                TimerKind::Views => (2, 0),
            };
            d.i64(t.deadline.0).u64(t.order as u64).u64(t.generation as u64).u64(kind).u64(fill as u64);
        }
    }

    /// The next check due strictly before `now` (`None`: everything, at end of input).
    #[inline]
    pub fn pop_due(&mut self, now: Option<Micros>) -> Option<Timer> {
        if self.len == 0 {
            return None;
        }
        let t = self.slots[self.slot(0)];
        if now.is_some_and(|now| t.deadline >= now) {
            return None;
        }
        self.len -= 1;
        self.head += 1;
        if self.head == BLOCK || self.len == 0 {
            // The front block is drained (or the queue is empty: start afresh at offset 0).
            let drained = if self.head == BLOCK { 1 } else { self.blocks.len() };
            for _ in 0..drained {
                if let Some(b) = self.blocks.pop_front() {
                    self.free.push(b);
                }
            }
            self.head = 0;
            self.front = self.blocks.front().map_or(0, |&b| b as usize * BLOCK);
        }
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    fn xorshift(s: &mut u64) -> u64 {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    }

    fn drain(q: &mut GraceTimers, now: Option<Micros>) -> Vec<(i64, u32)> {
        std::iter::from_fn(|| q.pop_due(now)).map(|t| (t.deadline.0, t.order)).collect()
    }

    /// Random pushes and advances against a binary-heap model (the test the hierarchical wheel
    /// was held to): same timers, same order, earliest deadline first, ties in push order. Half
    /// the seeds schedule the way the reconciler does (`now + grace`, so in order), half with
    /// arbitrary delays (out of order).
    #[test]
    fn fires_exactly_like_a_sorted_reference() {
        for seed in 1..=40u64 {
            let in_order = seed % 2 == 0;
            let mut s = seed * 0x9E37_79B9;
            let mut q = GraceTimers::with_capacity(10_000);
            let mut model: BinaryHeap<Reverse<(i64, u32)>> = BinaryHeap::new();
            let mut now = 1_700_000_000_000_000i64;
            let mut id = 0u32;
            for _ in 0..6_000 {
                let r = xorshift(&mut s);
                if !r.is_multiple_of(3) {
                    // Delays from 0 µs to ~6 hours, mostly around a grace window.
                    let delay = if in_order {
                        2_000_000
                    } else {
                        (match r % 7 {
                            0 => (r >> 8) % 1_000,
                            1..=4 => 2_000_000,
                            5 => (r >> 8) % 5_000_000,
                            _ => (r >> 8) % 21_600_000_000,
                        }) as i64
                    };
                    q.push(Micros(now + delay), id, 0, TimerKind::Views).unwrap();
                    model.push(Reverse((now + delay, id)));
                    id += 1;
                } else {
                    now += ((r >> 16) % 3_000_000) as i64;
                    let got = drain(&mut q, Some(Micros(now)));
                    let mut want = Vec::new();
                    while model.peek().is_some_and(|Reverse((d, _))| *d < now) {
                        want.push(model.pop().unwrap().0);
                    }
                    assert_eq!(got, want, "seed {seed} now {now}");
                    assert_eq!(q.len(), model.len());
                }
            }
            let rest = drain(&mut q, None);
            let want: Vec<_> = std::iter::from_fn(|| model.pop().map(|r| r.0)).collect();
            assert_eq!(rest, want, "seed {seed} end of day");
            assert!(q.is_empty());
        }
    }

    #[test]
    fn deadline_equal_to_now_waits_and_full_queue_is_reported() {
        let mut q = GraceTimers::with_capacity(2);
        q.push(Micros(5_000), 1, 0, TimerKind::Phantom).unwrap();
        q.push(Micros(5_000), 2, 0, TimerKind::Views).unwrap();
        assert_eq!(q.push(Micros(6_000), 3, 0, TimerKind::Phantom), Err(TimersFull));
        assert_eq!(q.pop_due(Some(Micros(5_000))), None);
        assert_eq!(q.pop_due(Some(Micros(5_001))).map(|t| (t.order, t.kind)), Some((1, TimerKind::Phantom)));
        assert_eq!(q.pop_due(Some(Micros(5_001))).map(|t| (t.order, t.kind)), Some((2, TimerKind::Views)));
        q.push(Micros(7_000), 3, 0, TimerKind::Fill(9)).unwrap();
        assert_eq!(q.len(), 1);
    }

    /// Blocks are reused: a long run of pushes and pops never takes more storage than its
    /// high-water mark needs, and never reallocates.
    #[test]
    fn drained_blocks_are_reused_and_storage_never_reallocates() {
        let mut q = GraceTimers::with_capacity(4 * BLOCK);
        let reserved = q.slots.capacity();
        let mut t = 0i64;
        for round in 0..10_000 {
            for _ in 0..(round % 3 + 1) {
                t += 1;
                q.push(Micros(t + 1_000), 0, 0, TimerKind::Views).unwrap();
            }
            while q.len() > 2 * BLOCK {
                q.pop_due(None).unwrap();
            }
        }
        assert!(q.slots.len() <= 4 * BLOCK, "high water spans at most 4 blocks, took {}", q.slots.len() / BLOCK);
        assert_eq!(q.slots.capacity(), reserved);
        let all = drain(&mut q, None);
        assert!(all.windows(2).all(|w| w[0].0 <= w[1].0));
        // The queue fills to exactly its capacity from any starting offset.
        for _ in 0..4 * BLOCK {
            t += 1;
            q.push(Micros(t), 0, 0, TimerKind::Views).unwrap();
        }
        assert_eq!(q.push(Micros(t), 0, 0, TimerKind::Views), Err(TimersFull));
        assert_eq!(q.slots.capacity(), reserved);
    }
}
