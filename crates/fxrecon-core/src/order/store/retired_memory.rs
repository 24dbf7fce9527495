//! The retired-order memory (contract 2.2, docs/decisions.md D59): the compact record of every
//! order retired from the live store, for `retired_memory` of event time, so that a late report
//! of it is recognised (a resend: nothing changes) or reopens it (anything new).
//!
//! Owns: where records live — a FIFO of record slots over a ring of bytes, both reserved at
//! construction from the configured number of orders — the index from every ClOrdID and
//! OrderID of a remembered order to its record, and forgetting. Records are forgotten oldest
//! first: when their `retired_memory` is up, or early when the memory is full (slots, bytes or
//! index entries; counted as `forgotten_early`, never silently). Never allocates after
//! construction and never reads what a record means beyond its identifiers
//! (`retired_record` owns the layout).

use super::index::OrderTable;
use super::retired_record::{self, IdKind, key_hash};
use crate::snapshot::{SnapReader, SnapWriter, SnapshotError};
use crate::text::Id;
use crate::time::Micros;

/// Bytes of record storage reserved per remembered order. A plain order (one ClOrdID, one
/// OrderID, New and a fill on each stream) takes about 110 (BENCHMARKS.md, "retired memory");
/// orders with replace chains and many fills take more, and share the reservation.
pub const BYTES_PER_ORDER: usize = 160;

/// Index entries reserved per remembered order (a ClOrdID and an OrderID, and room for
/// replace chains).
pub const IDS_PER_ORDER: usize = 3;

/// A record held in the retired memory (its sequence number; valid until the record is
/// forgotten or reopened).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetiredRef(u64);

/// What a retired order's record says of it, decoded in place (the query API's answer for an
/// order no longer held, contract 2.2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetiredOrder {
    /// Root ClOrdID.
    pub key: Id,
    /// Symbol.
    pub symbol: crate::text::Name,
    /// Venue.
    pub venue: crate::text::Name,
    /// Both streams' final views, primary first.
    pub views: [crate::order::view::OrderView; 2],
    /// Since when the views differed, if they did when it retired.
    pub differ_since: Option<Micros>,
    /// Ids of its open PhantomOrder, QuantityMismatch and StateMismatch divergences (0: none).
    pub open: [u64; 3],
    /// Its last report's event time.
    pub last_activity: Micros,
    /// Event time it retired.
    pub retired_at: Micros,
}

/// Counters of the retired memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetiredStats {
    /// Orders remembered when they retired.
    pub remembered: u64,
    /// Records forgotten once their `retired_memory` was up.
    pub forgotten: u64,
    /// Records forgotten before their time because the memory was full (oldest first), and
    /// orders not remembered at all (a record too large for the memory).
    pub forgotten_early: u64,
}

/// Where one record is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Slot {
    /// Event time it retired (it is forgotten at this + `retired_memory`).
    retired_at: Micros,
    /// Offset of its bytes in the ring.
    start: u64,
    /// Its length.
    len: u32,
    /// False once reopened (its bytes stay until the ring's tail passes them).
    alive: bool,
}

/// The retired-order memory.
#[derive(Debug)]
pub struct RetiredMemory {
    /// How long a record is kept (µs of event time); 0 with `cap`: the memory is off.
    keep_us: i64,
    /// Most records held.
    cap: usize,
    /// Record slots, a ring by sequence number (`seq % cap`); filled up to `cap` as records come.
    slots: Vec<Slot>,
    /// Sequence number of the oldest slot held.
    head: u64,
    /// Sequence number the next record gets.
    tail: u64,
    /// Records held and not reopened.
    alive: usize,
    /// The records' bytes: a ring of `byte_cap` bytes (reserved at construction), filled as
    /// records come; a record is never split, the ring wraps before one that would not fit.
    bytes: Vec<u8>,
    byte_cap: usize,
    /// Where the next record goes (when it fits there).
    write_at: usize,
    /// ClOrdID / OrderID -> slot (`seq % cap`); the newest record holding an identifier owns it.
    index: OrderTable,
    /// The record being reopened (never forgotten meanwhile), or `u64::MAX`.
    pinned: u64,
    stats: RetiredStats,
    /// No record is forgotten for its time before this event time (µs; a lower bound, so that
    /// [`Self::forget_expired`] costs nothing on an event where nothing expires; never in a
    /// snapshot or the digest).
    next_expiry: i64,
}

impl Default for RetiredMemory {
    fn default() -> Self {
        Self::with_capacity(0, 0)
    }
}

impl RetiredMemory {
    /// A memory for `orders` records kept `keep_us` µs of event time each (either 0: off,
    /// nothing reserved); reserves it all now (touched only as records arrive).
    pub fn with_capacity(orders: usize, keep_us: i64) -> Self {
        let cap = if keep_us > 0 { orders } else { 0 };
        let byte_cap = cap.saturating_mul(BYTES_PER_ORDER);
        Self {
            keep_us: if cap > 0 { keep_us } else { 0 },
            cap,
            slots: Vec::with_capacity(cap),
            head: 0,
            tail: 0,
            alive: 0,
            bytes: Vec::with_capacity(byte_cap),
            byte_cap,
            write_at: 0,
            index: OrderTable::with_capacity(if cap > 0 { cap.saturating_mul(IDS_PER_ORDER) } else { 1 }),
            pinned: u64::MAX,
            stats: RetiredStats::default(),
            next_expiry: i64::MIN,
        }
    }

    /// True when the memory keeps anything at all.
    #[inline]
    pub fn is_on(&self) -> bool {
        self.cap > 0
    }

    /// True when no record is held (nothing to look up).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.alive == 0
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.alive
    }

    /// Counters.
    pub fn stats(&self) -> RetiredStats {
        self.stats
    }

    /// Bytes of record storage in use now (between the oldest record held and the newest).
    pub fn bytes_in_use(&self) -> usize {
        (self.head..self.tail).map(|s| self.slot(s).len as usize).sum()
    }

    #[inline]
    fn slot(&self, seq: u64) -> &Slot {
        &self.slots[(seq % self.cap as u64) as usize]
    }

    /// The sequence number of the slot at `slot` (`seq % cap`) among those held.
    #[inline]
    fn seq_of(&self, slot: u32) -> u64 {
        let cap = self.cap as u64;
        self.head + (u64::from(slot) + cap - self.head % cap) % cap
    }

    /// The bytes of record `r` and the time it retired.
    #[inline]
    pub fn record(&self, r: RetiredRef) -> (&[u8], Micros) {
        let s = self.slot(r.0);
        let start = s.start as usize;
        (&self.bytes[start..start + s.len as usize], s.retired_at)
    }

    /// The record holding identifier `id` of `kind`, if one is held.
    #[inline]
    pub(super) fn find(&self, kind: IdKind, id: &Id) -> Option<RetiredRef> {
        if self.alive == 0 || id.is_empty() {
            return None;
        }
        let slot = self.index.get(key_hash(kind, id.as_bytes()), |v| self.holds(v, kind, id.as_bytes()))?;
        Some(RetiredRef(self.seq_of(slot)))
    }

    /// True when the record at slot `v` holds identifier `id` of `kind`.
    fn holds(&self, v: u32, kind: IdKind, id: &[u8]) -> bool {
        let s = &self.slots[v as usize];
        let start = s.start as usize;
        s.alive && retired_record::has_id(&self.bytes[start..start + s.len as usize], kind, id)
    }

    /// Hints the cache line of the index slot a lookup of ClOrdID `id` probes first.
    #[inline]
    pub fn prefetch(&self, id: &Id) {
        if self.alive != 0 {
            self.prefetch_slot(IdKind::ClOrdId, id);
        }
    }

    /// Hints the cache line of the index slot OrderID `id` is probed at first (by a lookup,
    /// or by [`Self::commit`] indexing a record that holds it).
    #[inline]
    pub(super) fn prefetch_order_id(&self, id: &Id) {
        if self.is_on() {
            self.prefetch_slot(IdKind::OrderId, id);
        }
    }

    #[inline]
    fn prefetch_slot(&self, kind: IdKind, id: &Id) {
        let h = key_hash(kind, id.as_bytes());
        crate::memhint::prefetch(self.index.slot_ref(self.index.home(h)));
    }

    /// Keeps record `r` from being forgotten or written over until [`Self::unpin`].
    pub(super) fn pin(&mut self, r: RetiredRef) {
        self.pinned = r.0;
    }

    /// Ends [`Self::pin`].
    pub(super) fn unpin(&mut self) {
        self.pinned = u64::MAX;
    }

    /// Makes room for a record of `len` bytes (forgetting the oldest records while it must,
    /// counted) and returns where it goes: the caller writes it into [`Self::take_bytes`] at
    /// that offset and then [`Self::commit`]s it. None when it is not kept (the memory is off,
    /// the record would take more than half the memory, or making room would forget the record
    /// being reopened).
    pub(super) fn reserve(&mut self, len: usize) -> Option<usize> {
        if !self.is_on() {
            return None;
        }
        let start = if len > self.byte_cap / 2 || len > u32::MAX as usize { None } else { self.make_room(len) };
        let Some(start) = start else {
            self.stats.forgotten_early += 1;
            return None;
        };
        if self.bytes.len() < start + len {
            self.bytes.resize(start + len, 0); // within the reservation: `start + len <= byte_cap`
        }
        Some(start)
    }

    /// Writes record bytes `rec` at `start` (from [`Self::reserve`] for `rec.len()` bytes).
    pub(super) fn put_record(&mut self, start: usize, rec: &[u8]) {
        self.bytes[start..start + rec.len()].copy_from_slice(rec);
    }

    /// The record bytes, taken out while a record is written into them (nothing else of the
    /// memory may be used until [`Self::put_bytes`]).
    pub(super) fn take_bytes(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.bytes)
    }

    /// Puts back what [`Self::take_bytes`] took.
    pub(super) fn put_bytes(&mut self, bytes: Vec<u8>) {
        self.bytes = bytes;
    }

    /// Remembers the record written at `start` (`len` bytes, from [`Self::reserve`]), retired
    /// at `retired_at`: indexes its identifiers (forgetting the oldest records while the index
    /// has no room for them). False when it is not kept.
    pub(super) fn commit(&mut self, retired_at: Micros, start: usize, len: usize) -> bool {
        let ids = retired_record::ids(&self.bytes[start..start + len]).count();
        while self.index.len() + ids > self.index.capacity() {
            if !self.forget_oldest(true) {
                self.stats.forgotten_early += 1;
                return false;
            }
        }
        let slot = Slot { retired_at, start: start as u64, len: len as u32, alive: true };
        let at = (self.tail % self.cap as u64) as u32;
        if self.slots.len() < self.cap {
            self.slots.push(slot);
        } else {
            self.slots[at as usize] = slot;
        }
        self.tail += 1;
        self.alive += 1;
        self.write_at = start + len;
        self.stats.remembered += 1;
        self.next_expiry = self.next_expiry.min(retired_at.0.saturating_add(self.keep_us));
        let Self { bytes, index, slots, .. } = self;
        for (kind, _, id) in retired_record::ids(&bytes[start..start + len]) {
            let h = key_hash(kind, id);
            let holds = |v: u32| {
                let s = &slots[v as usize];
                let b = &bytes[s.start as usize..s.start as usize + s.len as usize];
                s.alive && retired_record::has_id(b, kind, id)
            };
            // The newest record holding an identifier owns it (an OrderID a venue reused).
            if let Some(old) = index.get(h, holds)
                && old != at
            {
                index.remove(h, |v| v == old);
            }
            if index.get(h, |v| v == at).is_none() {
                let _ = index.insert(h, at); // room was made above
            }
        }
        true
    }

    /// Where a record of `len` bytes can go, forgetting the oldest records until it fits and a
    /// slot is free; None when that would forget the pinned record.
    fn make_room(&mut self, len: usize) -> Option<usize> {
        loop {
            if (self.tail - self.head) as usize >= self.cap {
                if !self.forget_oldest(true) {
                    return None;
                }
                continue;
            }
            if self.head == self.tail {
                self.write_at = 0;
                return (len <= self.byte_cap).then_some(0);
            }
            let used_from = self.slot(self.head).start as usize;
            let wrapped = (self.slot(self.tail - 1).start as usize) < used_from;
            if !wrapped {
                if self.write_at + len <= self.byte_cap {
                    return Some(self.write_at);
                }
                if len <= used_from {
                    return Some(0);
                }
            } else if self.write_at + len <= used_from {
                return Some(self.write_at);
            }
            if !self.forget_oldest(true) {
                return None;
            }
        }
    }

    /// Forgets the oldest slot (a reopened one just goes); false when there is none or it is
    /// pinned. `early`: the memory is full (else its time is up).
    fn forget_oldest(&mut self, early: bool) -> bool {
        if self.head == self.tail || self.pinned == self.head {
            return false;
        }
        let seq = self.head;
        self.next_expiry = i64::MIN; // the next head may go at once
        if self.slot(seq).alive {
            self.unindex(seq);
            self.alive -= 1;
            if early {
                self.stats.forgotten_early += 1;
            } else {
                self.stats.forgotten += 1;
            }
        }
        self.head += 1;
        true
    }

    /// Drops the index entries of record `seq` and marks it not alive.
    fn unindex(&mut self, seq: u64) {
        let at = (seq % self.cap as u64) as u32;
        let s = self.slots[at as usize];
        let rec = &self.bytes[s.start as usize..s.start as usize + s.len as usize];
        for (kind, _, id) in retired_record::ids(rec) {
            self.index.remove(key_hash(kind, id), |v| v == at);
        }
        self.slots[at as usize].alive = false;
    }

    /// Forgets record `r` (it was reopened: the live store has it again).
    pub(super) fn remove(&mut self, r: RetiredRef) {
        self.next_expiry = i64::MIN; // if it was the oldest, the next forgetting drops its slot
        if self.slot(r.0).alive {
            self.unindex(r.0);
            self.alive -= 1;
        }
    }

    /// Forgets the records whose `retired_memory` is up at `now`; returns how many.
    pub fn forget_expired(&mut self, now: Micros) -> usize {
        if now.0 < self.next_expiry {
            return 0;
        }
        let mut n = 0;
        while self.head != self.tail {
            let s = *self.slot(self.head);
            if s.alive && s.retired_at.0.saturating_add(self.keep_us) > now.0 {
                break;
            }
            if !self.forget_oldest(false) {
                break;
            }
            n += usize::from(s.alive);
        }
        self.next_expiry = if self.head == self.tail {
            i64::MAX
        } else {
            let s = self.slot(self.head);
            if s.alive { s.retired_at.0.saturating_add(self.keep_us) } else { i64::MIN }
        };
        n
    }

    /// Maps every page of the reserved memory now (see `OrderStore::prefault`); state unchanged.
    pub fn prefault(&mut self) {
        crate::memhint::prefault_pages(&mut self.slots);
        crate::memhint::prefault_pages(&mut self.bytes);
        self.index.prefault();
    }

    /// Writes the memory into a snapshot: its sizes, positions, the slots held, the bytes of
    /// the records alive, the index exactly as laid out, and the counters.
    pub fn save(&self, w: &mut SnapWriter<'_>) {
        w.put(&self.cap).put(&self.byte_cap).put(&self.keep_us);
        w.put(&self.head).put(&self.tail).put(&self.alive).put(&self.write_at).put(&self.bytes.len());
        for seq in self.head..self.tail {
            let s = self.slot(seq);
            w.put(&s.retired_at).put(&s.start).put(&s.len).put(&s.alive);
            if s.alive {
                w.bytes(&self.bytes[s.start as usize..s.start as usize + s.len as usize]);
            }
        }
        self.index.save(w);
        let s = &self.stats;
        w.put(&s.remembered).put(&s.forgotten).put(&s.forgotten_early);
    }

    /// Replaces this (empty, same-sized) memory's contents with a saved one's, refusing one
    /// whose slots, records or index do not hold together.
    pub fn load(&mut self, r: &mut SnapReader<'_>) -> Result<(), SnapshotError> {
        let bad = |what| Err(SnapshotError::Invalid(what));
        if r.get::<usize>()? != self.cap || r.get::<usize>()? != self.byte_cap || r.get::<i64>()? != self.keep_us {
            return Err(SnapshotError::ConfigMismatch);
        }
        let (head, tail): (u64, u64) = (r.get()?, r.get()?);
        let (alive, write_at, len): (usize, usize, usize) = (r.get()?, r.get()?, r.get()?);
        if head > tail || tail - head > self.cap as u64 || write_at > self.byte_cap || len > self.byte_cap {
            return bad("retired memory positions");
        }
        if self.cap == 0 {
            if tail != 0 || alive != 0 {
                return bad("retired memory off but holding records");
            }
        } else {
            self.slots.clear();
            self.slots.resize(tail.min(self.cap as u64) as usize, Slot::default());
        }
        self.bytes.clear();
        self.bytes.resize(len, 0);
        self.head = head;
        self.tail = tail;
        let mut n_alive = 0;
        for seq in head..tail {
            let s = Slot { retired_at: r.get()?, start: r.get()?, len: r.get()?, alive: r.get()? };
            let end = s.start.checked_add(u64::from(s.len)).filter(|&e| e <= len as u64);
            let Some(end) = end else { return bad("retired record out of range") };
            if s.alive {
                self.bytes[s.start as usize..end as usize].copy_from_slice(r.bytes(s.len as usize)?);
                n_alive += 1;
            }
            self.slots[(seq % self.cap as u64) as usize] = s;
        }
        // Every record alive decodes (checked once all are in place: none overwrote another).
        for seq in head..tail {
            let s = *self.slot(seq);
            if s.alive
                && !retired_record::check(
                    &self.bytes[s.start as usize..(s.start + u64::from(s.len)) as usize],
                    s.retired_at,
                )
            {
                return bad("retired record");
            }
        }
        if n_alive != alive {
            return bad("retired record count");
        }
        self.alive = alive;
        self.write_at = write_at;
        self.index.load(r)?;
        let cap = self.cap as u64;
        if !self.index.values().all(|v| u64::from(v) < cap && self.slots.get(v as usize).is_some_and(|s| s.alive))
            || (self.cap > 0 && !self.index.values().all(|v| (head..tail).contains(&self.seq_of(v))))
        {
            return bad("retired index value");
        }
        self.stats = RetiredStats { remembered: r.get()?, forgotten: r.get()?, forgotten_early: r.get()? };
        self.pinned = u64::MAX;
        self.next_expiry = i64::MIN;
        Ok(())
    }

    /// Feeds the records held (their times and bytes) and the counters to a state digest.
    pub fn digest_into(&self, d: &mut crate::digest::Digest) {
        d.u64(self.head).u64(self.tail).u64(self.alive as u64).u64(self.write_at as u64);
        for seq in self.head..self.tail {
            let s = self.slot(seq);
            d.i64(s.retired_at.0).u64(s.start).u64(u64::from(s.alive));
            if s.alive {
                d.text(&self.bytes[s.start as usize..s.start as usize + s.len as usize]);
            }
        }
        let s = &self.stats;
        d.u64(s.remembered).u64(s.forgotten).u64(s.forgotten_early);
    }
}
