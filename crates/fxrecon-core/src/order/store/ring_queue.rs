//! A FIFO (with a push at the front for putting an item back) in storage reserved at
//! construction.
//!
//! Owns: the order of its items. A `VecDeque` with a reserved capacity runs its ring over the
//! whole reservation as items come and go, so a queue that never holds more than a few
//! thousand items still touches every page of a reservation sized for millions (fresh pages
//! are slow on a VM: docs/decisions.md D43). This ring spans only as many slots as the most
//! items it has held, doubling within the reservation. Never allocates while it stays within
//! the capacity it was built with; beyond it, it grows as a `VecDeque` would.

/// Slots the ring spans at its first push (unless the reservation is smaller).
const FIRST_SPAN: usize = 1 << 10;

/// FIFO of `Copy` items in reserved storage.
#[derive(Debug, Clone)]
pub struct RingQueue<T> {
    /// The ring: `buf.len()` slots in use, within `buf.capacity()` reserved.
    buf: Vec<T>,
    /// Slot of the front item.
    head: usize,
    len: usize,
}

impl<T: Copy + Default> RingQueue<T> {
    /// A queue with room reserved for `capacity` items (none of it touched yet).
    pub fn with_capacity(capacity: usize) -> Self {
        Self { buf: Vec::with_capacity(capacity), head: 0, len: 0 }
    }

    /// Items held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Slot of the `i`-th item (0: the front); `i < len`.
    #[inline]
    fn slot(&self, i: usize) -> usize {
        let p = self.head + i;
        if p >= self.buf.len() { p - self.buf.len() } else { p }
    }

    /// The front item.
    #[inline]
    pub fn front(&self) -> Option<&T> {
        (self.len > 0).then(|| &self.buf[self.head])
    }

    /// Takes the front item.
    #[inline]
    pub fn pop_front(&mut self) -> Option<T> {
        let item = *self.front()?;
        self.head = self.slot(1);
        self.len -= 1;
        Some(item)
    }

    /// Adds `item` at the back.
    #[inline]
    pub fn push_back(&mut self, item: T) {
        if self.len == self.buf.len() {
            self.grow();
        }
        let at = self.slot(self.len);
        self.buf[at] = item;
        self.len += 1;
    }

    /// Puts `item` back at the front.
    pub fn push_front(&mut self, item: T) {
        if self.len == self.buf.len() {
            self.grow();
        }
        self.head = if self.head == 0 { self.buf.len() - 1 } else { self.head - 1 };
        self.buf[self.head] = item;
        self.len += 1;
    }

    /// Empties the queue (the slots it spans stay for reuse).
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// The items, front first.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        (0..self.len).map(|i| &self.buf[self.slot(i)])
    }

    /// Maps every page of the reservation now (see `OrderStore::prefault`); items unchanged.
    pub fn prefault(&mut self) {
        crate::memhint::prefault_spare(&mut self.buf);
    }

    /// Doubles the slots the (full) ring spans, within the reservation while it lasts.
    #[cold]
    fn grow(&mut self) {
        let old = self.buf.len();
        let reserved = self.buf.capacity();
        let new = if old < reserved { (old * 2).clamp(FIRST_SPAN.min(reserved), reserved) } else { (old * 2).max(4) };
        self.buf.resize(new, T::default());
        if self.head > 0 {
            // The ring was full: items [head, old) then [0, head). The first run moves to the
            // end, so the ring reads on from `new - run` through the end and round to `head`.
            let run = old - self.head;
            self.buf.copy_within(self.head..old, new - run);
            self.head = new - run;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RingQueue;
    use std::collections::VecDeque;

    #[test]
    fn behaves_like_a_vecdeque_through_growth_wraps_and_put_backs() {
        let mut q = RingQueue::with_capacity(5_000);
        let mut model = VecDeque::new();
        let mut seed = 3u64;
        for step in 0..200_000u32 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Phases of growth and of draining, so the ring wraps at every span.
            let fill = (step / 20_000) % 2 == 0;
            match seed % 8 {
                0..=3 if fill || seed.is_multiple_of(3) => {
                    q.push_back(step);
                    model.push_back(step);
                }
                4 => {
                    if let Some(x) = q.pop_front() {
                        q.push_front(x);
                    }
                    if let Some(x) = model.pop_front() {
                        model.push_front(x);
                    }
                    q.push_front(step);
                    model.push_front(step);
                }
                _ => assert_eq!(q.pop_front(), model.pop_front(), "step {step}"),
            }
            assert_eq!(q.len(), model.len());
            assert_eq!(q.front(), model.front());
            if step % 4_999 == 0 {
                assert!(q.iter().eq(model.iter()), "step {step}");
            }
        }
        assert!(q.iter().eq(model.iter()));
        q.clear();
        assert!(q.is_empty() && q.pop_front().is_none());
    }

    #[test]
    fn spans_only_the_most_items_held_and_grows_past_the_reservation_if_it_must() {
        let mut q = RingQueue::with_capacity(1 << 20);
        for round in 0..10_000u32 {
            for i in 0..700 {
                q.push_back(round * 1_000 + i);
            }
            for i in 0..700 {
                assert_eq!(q.pop_front(), Some(round * 1_000 + i));
            }
        }
        assert_eq!(q.buf.len(), 1 << 10, "700 at a time fit the first span: not 2^20 slots");

        let mut small = RingQueue::with_capacity(3);
        for i in 0..10u8 {
            small.push_back(i);
        }
        assert!(small.iter().copied().eq(0..10u8));
    }
}
