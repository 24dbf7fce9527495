//! Open-addressed hash index from a 64-bit key hash to a `u32` slot number.
//!
//! Owns: only (32-bit) hash tags and slot numbers. The full key lives with the caller (in an arena), and
//! every lookup confirms it through a callback, so a hash collision can never alias two
//! orders. Linear probing with backward-shift deletion: no tombstones, so lookups stay short
//! under insert/delete churn and iteration order is a pure function of the operations applied
//! (deterministic across runs). Never allocates after construction; a full table is an error
//! the caller handles. Within the memory reserved at construction the table starts small and
//! doubles (a rehash of its entries) as entries arrive, so the pages it touches follow the most
//! entries it has held, not its capacity (docs/decisions.md D43).

use crate::snapshot::{SnapReader, SnapWriter, SnapshotError};

/// The table holds its maximum number of entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableFull;

/// Empty slots are all-zero so a fresh table is zeroed memory the OS maps lazily (`vec![0; n]`
/// of integers is a zeroed allocation); stored values are kept off by one.
const EMPTY: u64 = 0;

/// One slot: the low 32 bits of the key hash (which also give its home slot: the table never
/// has more than 2^32 slots) above the value + 1. Hash and value share one word, so a probe
/// touches one cache line, and eight slots share it.
#[inline]
fn pack(hash: u64, value: u32) -> u64 {
    (hash << 32) | (value as u64 + 1)
}

#[inline]
fn tag(hash: u64) -> u64 {
    hash & 0xffff_ffff
}

/// Slots a table starts with (32 KiB), unless its full size is smaller.
const FIRST_SIZE: usize = 1 << 12;

/// Hash index with a fixed capacity.
#[derive(Debug)]
pub struct OrderTable {
    /// The table at its full size, then room for the entries of one doubling step (`full / 4`
    /// words). Only the first `mask + 1` slots are in use; every table slot after them is `EMPTY`
    /// (the scratch words keep stale copies after a doubling: never read as slots).
    slots: Box<[u64]>,
    /// Slots of the table at its capacity (a power of two).
    full: usize,
    /// Slots in use minus one (a power of two minus one).
    mask: usize,
    len: usize,
    max_len: usize,
}

impl OrderTable {
    /// A table for up to `max_entries` entries (load factor kept at or below 1/2).
    pub fn with_capacity(max_entries: usize) -> Self {
        let full = (max_entries.max(1) * 2).next_power_of_two();
        // Zeroed memory the OS maps on first touch: reserving all of it costs nothing until used.
        let slots = vec![EMPTY; full + full / 4].into_boxed_slice();
        // Probes land anywhere in the table: huge pages spare a TLB miss on most of them.
        crate::memhint::advise_huge_pages(slots.as_ptr(), slots.len());
        Self { slots, full, mask: full.min(FIRST_SIZE) - 1, len: 0, max_len: max_entries.max(1) }
    }

    /// Slots in use now (grows by doubling up to the full size).
    pub fn size(&self) -> usize {
        self.mask + 1
    }

    /// Doubles the slots in use and re-inserts every entry, through the scratch words after
    /// the full table (a rehash in place could leave probe runs with holes). Entries are taken
    /// in slot order, so the new layout is a pure function of the old one.
    #[cold]
    fn grow(&mut self) {
        let size = self.mask + 1;
        let (table, scratch) = self.slots.split_at_mut(self.full);
        // At most size / 2 <= full / 4 entries: they fit the scratch words.
        let mut n = 0;
        for s in &mut table[..size] {
            if *s != EMPTY {
                scratch[n] = core::mem::replace(s, EMPTY);
                n += 1;
            }
        }
        let mask = size * 2 - 1;
        for &s in &scratch[..n] {
            let mut i = (s >> 32) as usize & mask;
            while table[i] != EMPTY {
                i = (i + 1) & mask;
            }
            table[i] = s;
        }
        self.mask = mask;
    }

    /// Touches every page of the table so the OS maps it now, not on a first probe mid-run;
    /// entries are unchanged.
    pub fn prefault(&mut self) {
        const SLOTS_PER_PAGE: usize = 4096 / core::mem::size_of::<u64>();
        for i in (0..self.slots.len()).step_by(SLOTS_PER_PAGE) {
            // Rewrites the slot with itself; `black_box` keeps the write (and the fault).
            self.slots[i] = std::hint::black_box(self.slots[i]);
        }
    }

    /// The values of the entries held, in slot order (to check a loaded table).
    pub fn values(&self) -> impl Iterator<Item = u32> + '_ {
        self.slots[..self.size()].iter().filter(|&&s| s != EMPTY).map(|&s| (s as u32).wrapping_sub(1))
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Maximum entries.
    pub fn capacity(&self) -> usize {
        self.max_len
    }

    /// The home slot of `hash` (where its probe starts).
    #[inline]
    pub fn home(&self, hash: u64) -> usize {
        tag(hash) as usize & self.mask
    }

    /// The slot word at `i` (for prefetching the line a lookup of `hash` will read first:
    /// `slot_ref(home(hash))`).
    #[inline]
    pub fn slot_ref(&self, i: usize) -> &u64 {
        &self.slots[i & self.mask]
    }

    /// The value in the home slot of `hash` when its tag matches (unconfirmed: a hint only).
    #[inline]
    pub fn first_probe(&self, hash: u64) -> Option<u32> {
        let s = self.slots[self.home(hash)];
        (s != EMPTY && s >> 32 == tag(hash)).then(|| (s as u32).wrapping_sub(1))
    }

    /// Slot of the entry under `hash` whose key `is_key` confirms (one probe loop for get and
    /// remove).
    #[inline]
    fn find(&self, hash: u64, mut is_key: impl FnMut(u32) -> bool) -> Option<usize> {
        let mut i = self.home(hash);
        let t = tag(hash);
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                return None;
            }
            if s >> 32 == t && is_key((s as u32).wrapping_sub(1)) {
                return Some(i);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The value stored under `hash` whose key `is_key` confirms.
    #[inline]
    pub fn get(&self, hash: u64, is_key: impl FnMut(u32) -> bool) -> Option<u32> {
        self.find(hash, is_key).map(|i| (self.slots[i] as u32).wrapping_sub(1))
    }

    /// Writes the table into a snapshot: the slots in use and its occupied slots exactly where
    /// they are (a rebuilt table could probe equal keys in another order).
    pub fn save(&self, w: &mut SnapWriter<'_>) {
        w.put(&self.size()).put(&self.len);
        for (i, &s) in self.slots[..self.size()].iter().enumerate().filter(|(_, s)| **s != EMPTY) {
            w.put(&(i as u64)).put(&s);
        }
    }

    /// Replaces this table's contents with a saved one's (of a table of the same capacity, at
    /// any size it had grown to; a snapshot from before tables grew holds the full size).
    pub fn load(&mut self, r: &mut SnapReader<'_>) -> Result<(), SnapshotError> {
        let size = r.get::<usize>()?;
        let small = self.full.min(FIRST_SIZE);
        if size > self.full || (size < self.full && (!size.is_power_of_two() || size < small)) {
            return Err(SnapshotError::ConfigMismatch);
        }
        // Below the full size the table keeps a load of at most 1/2.
        let len = r.count(if size < self.full { size / 2 } else { self.max_len })?;
        // Only the slots in use can hold anything: the rest stays untouched.
        let in_use = self.size();
        self.slots[..in_use].fill(EMPTY);
        for _ in 0..len {
            let i = r.get::<u64>()? as usize;
            let s = r.get::<u64>()?;
            if i >= size || s == EMPTY || self.slots[i] != EMPTY {
                return Err(SnapshotError::Invalid("table slot"));
            }
            self.slots[i] = s;
        }
        self.mask = size - 1;
        self.len = len;
        Ok(())
    }

    /// Inserts `value` under `hash`. The caller has checked the key is not present.
    pub fn insert(&mut self, hash: u64, value: u32) -> Result<(), TableFull> {
        debug_assert_ne!(value, u32::MAX);
        if self.len >= self.max_len {
            return Err(TableFull);
        }
        if (self.len + 1) * 2 > self.size() && self.size() < self.full {
            self.grow();
        }
        let mut i = self.home(hash);
        while self.slots[i] != EMPTY {
            i = (i + 1) & self.mask;
        }
        self.slots[i] = pack(tag(hash), value);
        self.len += 1;
        Ok(())
    }

    /// Removes the entry under `hash` whose key `is_key` confirms; returns its value.
    pub fn remove(&mut self, hash: u64, is_key: impl FnMut(u32) -> bool) -> Option<u32> {
        let i = self.find(hash, is_key)?;
        let removed = (self.slots[i] as u32).wrapping_sub(1);
        // Backward-shift: pull later members of the probe run into the hole.
        let mut hole = i;
        let mut j = (i + 1) & self.mask;
        loop {
            let s = self.slots[j];
            if s == EMPTY {
                break;
            }
            let home = (s >> 32) as usize & self.mask;
            // Move s into the hole if its home is not cyclically within (hole, j].
            let dist_home = j.wrapping_sub(home) & self.mask;
            let dist_hole = j.wrapping_sub(hole) & self.mask;
            if dist_home >= dist_hole {
                self.slots[hole] = s;
                hole = j;
            }
            j = (j + 1) & self.mask;
        }
        self.slots[hole] = EMPTY;
        self.len -= 1;
        Some(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{SnapReader, SnapWriter};
    use std::collections::HashMap;

    /// A tiny deterministic generator for the churn test.
    fn xorshift(s: &mut u64) -> u64 {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    }

    #[test]
    fn behaves_like_a_map_under_churn_with_colliding_hashes() {
        let mut t = OrderTable::with_capacity(64);
        let mut model: HashMap<u32, u64> = HashMap::new();
        let mut seed = 42u64;
        for step in 0..20_000u32 {
            let r = xorshift(&mut seed);
            let value = (r % 200) as u32;
            // Few distinct hashes so probe runs collide and wrap.
            let hash = (xorshift(&mut seed) % 16) | ((r >> 60) << 60);
            if let std::collections::hash_map::Entry::Vacant(e) = model.entry(value) {
                if t.len() < 64 {
                    t.insert(hash, value).unwrap();
                    e.insert(hash);
                }
            } else {
                let h = model.remove(&value).unwrap();
                assert_eq!(t.remove(h, |v| v == value), Some(value), "step {step}");
            }
            for (&v, &h) in &model {
                assert_eq!(t.get(h, |x| x == v), Some(v), "step {step}");
            }
            assert_eq!(t.len(), model.len());
        }
    }

    /// Every slot of `t` in use, in order (its layout).
    fn layout(t: &OrderTable) -> Vec<u64> {
        t.slots[..t.size()].to_vec()
    }

    #[test]
    fn grows_by_doubling_as_entries_arrive_and_stays_a_map_through_each_step() {
        // Full size 65,536 slots; it starts at 4,096. Hashes crowd into few home slots near the
        // top of each size, so probe runs are long and wrap when the table doubles.
        let cap = 20_000;
        let mut t = OrderTable::with_capacity(cap);
        assert_eq!(t.size(), FIRST_SIZE);
        let mut model: HashMap<u32, u64> = HashMap::new();
        let mut seed = 7u64;
        let mut sizes = vec![t.size()];
        for step in 0..60_000u32 {
            let r = xorshift(&mut seed);
            let value = (r % 30_000) as u32;
            let home = [0u64, 1, 4095, 4094, 8191, 16_383, 32_767, 65_535][(r >> 40) as usize % 8];
            let hash = ((xorshift(&mut seed) % 3_000) * 64 + home) | (r >> 48 << 48);
            // Mostly inserts, so the table fills past each doubling point.
            let insert = r >> 62 != 0;
            match model.entry(value) {
                std::collections::hash_map::Entry::Vacant(e) if insert && t.len() < cap => {
                    t.insert(hash, value).unwrap();
                    e.insert(hash);
                }
                std::collections::hash_map::Entry::Occupied(e) if !insert => {
                    let h = e.remove();
                    assert_eq!(t.remove(h, |v| v == value), Some(value), "step {step}");
                }
                _ => {}
            }
            assert!(t.len() * 2 <= t.size(), "load at most 1/2 at step {step}");
            if *sizes.last().unwrap() != t.size() {
                sizes.push(t.size());
                for (&v, &h) in &model {
                    assert_eq!(t.get(h, |x| x == v), Some(v), "after growing to {}", t.size());
                }
            }
            if step % 997 == 0 {
                for (&v, &h) in &model {
                    assert_eq!(t.get(h, |x| x == v), Some(v), "step {step}");
                }
            }
        }
        assert_eq!(sizes, vec![4_096, 8_192, 16_384, 32_768, 65_536], "each step doubles, up to the full size");
        assert_eq!(t.len(), model.len());
        for (&v, &h) in &model {
            assert_eq!(t.get(h, |x| x == v), Some(v));
        }
        assert!(t.slots[t.size()..t.full].iter().all(|&s| s == EMPTY));
    }

    #[test]
    fn touches_slots_in_proportion_to_the_entries_held_not_the_capacity() {
        let mut t = OrderTable::with_capacity(1 << 20);
        for v in 0..3_000u32 {
            t.insert(u64::from(v).wrapping_mul(0x9e37_79b9_7f4a_7c15), v).unwrap();
        }
        assert_eq!(t.size(), 8_192, "3,000 entries need 8,192 slots at load 1/2, not the full 2^21");
        assert!(t.slots[t.size()..t.full].iter().all(|&s| s == EMPTY));
    }

    #[test]
    fn a_snapshot_keeps_the_size_and_layout_and_refuses_impossible_ones() {
        let mut t = OrderTable::with_capacity(10_000);
        for v in 0..5_000u32 {
            t.insert(u64::from(v % 700) * 0x1_0000_0001, v).unwrap();
        }
        for v in (0..5_000u32).step_by(3) {
            assert_eq!(t.remove(u64::from(v % 700) * 0x1_0000_0001, |x| x == v), Some(v));
        }
        let mut buf = Vec::new();
        t.save(&mut SnapWriter::new(&mut buf));
        let mut u = OrderTable::with_capacity(10_000);
        u.load(&mut SnapReader::new(&buf)).unwrap();
        assert_eq!((u.size(), u.len()), (t.size(), t.len()));
        assert_eq!(layout(&u), layout(&t));
        // Both go on the same way: the same inserts give the same layout, growth included.
        for v in 5_000..9_000u32 {
            t.insert(u64::from(v) * 0x2_0000_0003, v).unwrap();
            u.insert(u64::from(v) * 0x2_0000_0003, v).unwrap();
        }
        assert_eq!(layout(&u), layout(&t));

        // A snapshot of a table at its full size (as every table was before tables grew).
        let mut full = OrderTable::with_capacity(100);
        full.insert(5, 1).unwrap();
        let mut buf = Vec::new();
        full.save(&mut SnapWriter::new(&mut buf));
        let mut again = OrderTable::with_capacity(100);
        again.load(&mut SnapReader::new(&buf)).unwrap();
        assert_eq!(again.get(5, |v| v == 1), Some(1));

        // A size that is not a power of two, above the full size, or too small for its entries.
        for (size, len) in [(6_000usize, 0u64), (1 << 20, 0), (4_096, 2_049)] {
            let mut bad = Vec::new();
            let mut w = SnapWriter::new(&mut bad);
            w.put(&size).put(&len);
            let mut v = OrderTable::with_capacity(10_000);
            assert!(v.load(&mut SnapReader::new(&bad)).is_err(), "size {size} len {len}");
        }
    }

    #[test]
    fn full_table_is_an_error_not_growth() {
        let mut t = OrderTable::with_capacity(2);
        t.insert(1, 1).unwrap();
        t.insert(2, 2).unwrap();
        assert_eq!(t.insert(3, 3), Err(TableFull));
        assert_eq!(t.remove(1, |v| v == 1), Some(1));
        t.insert(3, 3).unwrap();
        assert_eq!(t.get(3, |v| v == 3), Some(3));
        assert_eq!(t.get(1, |v| v == 1), None);
    }
}
