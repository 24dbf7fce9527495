//! Open-addressed hash index from a 64-bit key hash to a `u32` slot number.
//!
//! Owns: only (32-bit) hash tags and slot numbers. The full key lives with the caller (in an arena), and
//! every lookup confirms it through a callback, so a hash collision can never alias two
//! orders. Linear probing with backward-shift deletion: no tombstones, so lookups stay short
//! under insert/delete churn and iteration order is a pure function of the operations applied
//! (deterministic across runs). Never allocates after construction; a full table is an error
//! the caller handles, never growth.

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

/// Hash index with a fixed capacity.
#[derive(Debug)]
pub struct OrderTable {
    slots: Box<[u64]>,
    mask: usize,
    len: usize,
    max_len: usize,
}

impl OrderTable {
    /// A table for up to `max_entries` entries (load factor kept at or below 1/2).
    pub fn with_capacity(max_entries: usize) -> Self {
        let size = (max_entries.max(1) * 2).next_power_of_two();
        let slots = vec![EMPTY; size].into_boxed_slice();
        // Probes land anywhere in the table: huge pages spare a TLB miss on most of them.
        crate::memhint::advise_huge_pages(slots.as_ptr(), slots.len());
        Self { slots, mask: size - 1, len: 0, max_len: max_entries.max(1) }
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

    /// Writes the table into a snapshot: its occupied slots exactly where they are (a rebuilt
    /// table could probe equal keys in another order).
    pub fn save(&self, w: &mut SnapWriter<'_>) {
        w.put(&self.slots.len()).put(&self.len);
        for (i, &s) in self.slots.iter().enumerate().filter(|(_, s)| **s != EMPTY) {
            w.put(&(i as u64)).put(&s);
        }
    }

    /// Replaces this (empty, same-sized) table's contents with a saved one's.
    pub fn load(&mut self, r: &mut SnapReader<'_>) -> Result<(), SnapshotError> {
        if r.get::<usize>()? != self.slots.len() {
            return Err(SnapshotError::ConfigMismatch);
        }
        let len = r.count(self.max_len)?;
        self.slots.fill(EMPTY);
        for _ in 0..len {
            let i = r.get::<u64>()? as usize;
            let s = r.get::<u64>()?;
            if i >= self.slots.len() || s == EMPTY || self.slots[i] != EMPTY {
                return Err(SnapshotError::Invalid("table slot"));
            }
            self.slots[i] = s;
        }
        self.len = len;
        Ok(())
    }

    /// Inserts `value` under `hash`. The caller has checked the key is not present.
    pub fn insert(&mut self, hash: u64, value: u32) -> Result<(), TableFull> {
        debug_assert_ne!(value, u32::MAX);
        if self.len >= self.max_len {
            return Err(TableFull);
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
