//! Pre-allocated hierarchical timer wheel for grace and timing deadlines.
//!
//! Owns: pending deadlines and the order in which they fire: every timer whose deadline is
//! strictly before "now", earliest deadline first, ties in insertion order. Four levels of 64
//! slots (1 ms ticks: level 0 spans 64 ms, level 3 about 4.6 hours) plus an overflow list;
//! occupancy bitmaps let time jump over empty stretches in a few steps. Nodes come from a pool
//! sized at construction: never allocates after that (a full pool is reported, not grown).

use std::collections::VecDeque;

use crate::time::Micros;

const LEVELS: usize = 4;
const SLOTS: usize = 64;
const BITS: u32 = 6;
const NIL: u32 = u32::MAX;

/// The wheel's node pool is exhausted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WheelFull;

#[derive(Clone, Copy, Debug)]
struct Node<T> {
    deadline: Micros,
    seq: u64,
    item: T,
    next: u32,
}

#[derive(Clone, Copy, Debug)]
struct List {
    head: u32,
    tail: u32,
}

impl List {
    const EMPTY: List = List { head: NIL, tail: NIL };
}

/// Hierarchical timer wheel carrying a `Copy` payload per timer.
#[derive(Debug)]
pub struct TimerWheel<T: Copy> {
    tick_us: i64,
    /// Every timer with a tick below `cur` has been moved to `ready` or fired.
    cur: i64,
    slots: [[List; SLOTS]; LEVELS],
    occupied: [u64; LEVELS],
    overflow: List,
    nodes: Vec<Node<T>>,
    free: Vec<u32>,
    capacity: usize,
    /// Due timers of the tick being fired, sorted by (deadline, seq).
    ready: VecDeque<u32>,
    scratch: Vec<u32>,
    seq: u64,
    len: usize,
}

impl<T: Copy> TimerWheel<T> {
    /// A wheel for at most `capacity` pending timers with 1 ms ticks.
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_tick(capacity, 1_000)
    }

    /// A wheel with ticks of `tick_us` microseconds.
    pub fn with_tick(capacity: usize, tick_us: i64) -> Self {
        Self {
            tick_us: tick_us.max(1),
            cur: 0,
            slots: [[List::EMPTY; SLOTS]; LEVELS],
            occupied: [0; LEVELS],
            overflow: List::EMPTY,
            nodes: Vec::with_capacity(capacity),
            free: Vec::with_capacity(capacity),
            capacity,
            ready: VecDeque::with_capacity(capacity.min(1 << 16)),
            scratch: Vec::with_capacity(capacity.min(1 << 16)),
            seq: 0,
            len: 0,
        }
    }

    /// Pending timers.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn tick_of(&self, t: Micros) -> i64 {
        t.0.div_euclid(self.tick_us)
    }

    /// Schedules `item` at `deadline`.
    pub fn push(&mut self, deadline: Micros, item: T) -> Result<(), WheelFull> {
        let node = Node { deadline, seq: self.seq, item, next: NIL };
        let idx = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None if self.nodes.len() < self.capacity => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
            None => return Err(WheelFull),
        };
        self.seq += 1;
        self.len += 1;
        self.place(idx);
        Ok(())
    }

    fn place(&mut self, idx: u32) {
        let tick = self.tick_of(self.nodes[idx as usize].deadline).max(self.cur);
        let diff = (tick ^ self.cur) as u64;
        let level = if diff == 0 { 0 } else { ((63 - diff.leading_zeros()) / BITS) as usize };
        if level >= LEVELS {
            Self::append(&mut self.nodes, &mut self.overflow, idx);
            return;
        }
        let slot = ((tick >> (BITS as usize * level)) & (SLOTS as i64 - 1)) as usize;
        Self::append(&mut self.nodes, &mut self.slots[level][slot], idx);
        self.occupied[level] |= 1 << slot;
    }

    fn append(nodes: &mut [Node<T>], list: &mut List, idx: u32) {
        nodes[idx as usize].next = NIL;
        if list.tail == NIL {
            list.head = idx;
        } else {
            nodes[list.tail as usize].next = idx;
        }
        list.tail = idx;
    }

    /// The earliest tick at which some level's next occupied slot starts, with that slot.
    fn next_slot(&self) -> Option<(i64, usize, usize)> {
        (0..LEVELS).find_map(|level| {
            let shift = BITS as usize * level;
            let cur_slot = ((self.cur >> shift) & (SLOTS as i64 - 1)) as u32;
            // Level 0 includes the current slot; higher levels hold only later slots.
            let from = if level == 0 { cur_slot } else { cur_slot + 1 };
            if from as usize >= SLOTS {
                return None;
            }
            let mask = self.occupied[level] & (u64::MAX << from);
            if mask == 0 {
                return None;
            }
            let slot = mask.trailing_zeros() as usize;
            let base = self.cur & !((1i64 << (shift + BITS as usize)) - 1);
            Some((base + ((slot as i64) << shift), level, slot))
        })
    }

    /// Removes and returns the next timer whose deadline is strictly before `now`
    /// (`None`: fire everything, end of day).
    pub fn pop_due(&mut self, now: Option<Micros>) -> Option<(Micros, T)> {
        loop {
            if let Some(&idx) = self.ready.front() {
                let n = self.nodes[idx as usize];
                if now.is_some_and(|t| n.deadline >= t) {
                    return None;
                }
                self.ready.pop_front();
                self.free.push(idx);
                self.len -= 1;
                return Some((n.deadline, n.item));
            }
            let target = now.map_or(i64::MAX, |t| self.tick_of(Micros(t.0 - 1)));
            if self.len == 0 {
                // Nothing pending: time can simply move on.
                if target != i64::MAX {
                    self.cur = self.cur.max(target);
                }
                return None;
            }
            match self.next_slot() {
                Some((tick, level, slot)) if tick <= target => {
                    self.cur = self.cur.max(tick);
                    let list = std::mem::replace(&mut self.slots[level][slot], List::EMPTY);
                    self.occupied[level] &= !(1 << slot);
                    if level == 0 {
                        self.make_ready(list);
                    } else {
                        self.cascade(list);
                    }
                }
                Some(_) => return None,
                None => {
                    // Only the overflow list is left: bring its earliest tick into range.
                    if self.overflow.head == NIL {
                        return None;
                    }
                    let mut min_tick = i64::MAX;
                    let mut i = self.overflow.head;
                    while i != NIL {
                        min_tick = min_tick.min(self.tick_of(self.nodes[i as usize].deadline));
                        i = self.nodes[i as usize].next;
                    }
                    if min_tick > target {
                        return None;
                    }
                    self.cur = self.cur.max(min_tick);
                    let list = std::mem::replace(&mut self.overflow, List::EMPTY);
                    self.cascade(list);
                }
            }
        }
    }

    fn cascade(&mut self, list: List) {
        let mut i = list.head;
        while i != NIL {
            let next = self.nodes[i as usize].next;
            self.place(i);
            i = next;
        }
    }

    fn make_ready(&mut self, list: List) {
        self.scratch.clear();
        let mut i = list.head;
        while i != NIL {
            self.scratch.push(i);
            i = self.nodes[i as usize].next;
        }
        let nodes = &self.nodes;
        self.scratch.sort_unstable_by_key(|&i| (nodes[i as usize].deadline, nodes[i as usize].seq));
        self.ready.extend(self.scratch.iter().copied());
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

    /// Random pushes and advances against a binary-heap model: same timers, same order.
    #[test]
    fn fires_exactly_like_a_sorted_reference() {
        for seed in 1..=20u64 {
            let mut s = seed * 0x9E37_79B9;
            let mut wheel: TimerWheel<u64> = TimerWheel::with_capacity(10_000);
            let mut model: BinaryHeap<Reverse<(i64, u64)>> = BinaryHeap::new();
            let mut now = 1_700_000_000_000_000i64;
            let mut id = 0u64;
            for _ in 0..3_000 {
                let r = xorshift(&mut s);
                if !r.is_multiple_of(3) {
                    // Delays from 0 µs to ~6 hours, mostly around a grace window.
                    let delay = match r % 7 {
                        0 => (r >> 8) % 1_000,
                        1..=4 => 2_000_000,
                        5 => (r >> 8) % 5_000_000,
                        _ => (r >> 8) % 21_600_000_000,
                    } as i64;
                    wheel.push(Micros(now + delay), id).unwrap();
                    model.push(Reverse((now + delay, id)));
                    id += 1;
                } else {
                    now += ((r >> 16) % 3_000_000) as i64;
                    let mut got = Vec::new();
                    while let Some((d, x)) = wheel.pop_due(Some(Micros(now))) {
                        got.push((d.0, x));
                    }
                    let mut want = Vec::new();
                    while model.peek().is_some_and(|Reverse((d, _))| *d < now) {
                        want.push(model.pop().unwrap().0);
                    }
                    assert_eq!(got, want, "seed {seed} now {now}");
                }
            }
            let mut rest = Vec::new();
            while let Some((d, x)) = wheel.pop_due(None) {
                rest.push((d.0, x));
            }
            let want: Vec<_> = std::iter::from_fn(|| model.pop().map(|r| r.0)).collect();
            assert_eq!(rest, want, "seed {seed} end of day");
            assert!(wheel.is_empty());
        }
    }

    #[test]
    fn deadline_equal_to_now_waits_and_full_pool_is_reported() {
        let mut w: TimerWheel<u8> = TimerWheel::with_capacity(2);
        w.push(Micros(5_000), 1).unwrap();
        w.push(Micros(5_000), 2).unwrap();
        assert_eq!(w.push(Micros(6_000), 3), Err(WheelFull));
        assert_eq!(w.pop_due(Some(Micros(5_000))), None);
        assert_eq!(w.pop_due(Some(Micros(5_001))), Some((Micros(5_000), 1)));
        assert_eq!(w.pop_due(Some(Micros(5_001))), Some((Micros(5_000), 2)));
        w.push(Micros(7_000), 3).unwrap();
        assert_eq!(w.len(), 1);
    }
}
