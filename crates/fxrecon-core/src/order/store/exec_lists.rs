//! The execution-record pool and each order's lists of records per stream: appending in
//! arrival order, finding a record by ExecID, pairing fills across streams, iterating.
//!
//! Owns: the free list of records and the list summaries, kept in step with the lists so a
//! lookup they let skip would have found nothing. Never grows the pool past its capacity: a
//! full pool evicts a retiring order other than the one appended to, else refuses the record.

use super::exec_record::{ExecIdx, ExecKind, ExecRecord, NONE, exec_bit};
use super::order_record::OrderIdx;
use super::order_store::OrderStore;
use super::retired_record::{exec_hash, hashed_exec_id};
use crate::event::Stream;
use crate::text::Id;

impl OrderStore {
    /// Hints the cache lines of execution record `idx` (nothing for [`NONE`]).
    #[inline]
    pub fn prefetch_exec(&self, idx: ExecIdx) {
        if let Some(r) = self.execs.get(idx as usize) {
            crate::memhint::prefetch_all(r);
        }
    }

    /// Hints the cache line of the link of the next free execution record (the record's
    /// first line may not hold it: records straddle lines).
    #[inline]
    pub(super) fn prefetch_free_link(&self) {
        if let Some(r) = self.execs.get(self.free_execs as usize) {
            crate::memhint::prefetch(&r.next);
        }
    }

    /// Finds the record with `exec_id` among the order's records on `stream` (for an order
    /// reopened from the retired memory, also among the records put back from the hash of
    /// their ExecID).
    #[inline]
    pub fn find_exec(&self, order: OrderIdx, stream: Stream, exec_id: &Id) -> Option<ExecIdx> {
        let found = self.find_exact(order, stream, exec_id);
        if found.is_none() && self.orders[order as usize].reopened {
            return self.find_exact(order, stream, &hashed_exec_id(exec_hash(exec_id)));
        }
        found
    }

    #[inline]
    fn find_exact(&self, order: OrderIdx, stream: Stream, exec_id: &Id) -> Option<ExecIdx> {
        if !self.may_hold_exec(order, stream, exec_id) {
            return None;
        }
        self.execs_of(order, stream).find(|&i| self.execs[i as usize].exec_id == *exec_id)
    }

    /// False when no record of the order on `stream` has `exec_id` (true: it may have one).
    #[inline]
    pub fn may_hold_exec(&self, order: OrderIdx, stream: Stream, exec_id: &Id) -> bool {
        self.orders[order as usize].lists[stream.index()].exec_bits & exec_bit(exec_id) != 0
    }

    /// Fill records of the order on `stream` not yet matched to a fill of the other stream.
    #[inline]
    pub fn unmatched_fills(&self, order: OrderIdx, stream: Stream) -> u32 {
        self.orders[order as usize].lists[stream.index()].unmatched_fills
    }

    /// Matches fill `f` with fill `p` of the other stream (both of `order`, both unmatched).
    #[inline]
    pub fn pair_fills(&mut self, order: OrderIdx, f: ExecIdx, p: ExecIdx) {
        let (a, b) = (self.execs[f as usize], self.execs[p as usize]);
        debug_assert!(a.matched == NONE && b.matched == NONE && a.kind == ExecKind::Fill && b.kind == ExecKind::Fill);
        self.execs[f as usize].matched = p;
        self.execs[p as usize].matched = f;
        let o = &mut self.orders[order as usize];
        o.unstage();
        o.lists[a.stream.index()].unmatched_fills -= 1;
        o.lists[b.stream.index()].unmatched_fills -= 1;
        o.fills_may_disagree |= a.last_qty != b.last_qty || a.last_px != b.last_px;
    }

    /// Notes that a trade correct changed one of the order's records (its matched pair, if
    /// any, may no longer agree).
    pub fn note_corrected(&mut self, order: OrderIdx) {
        let o = &mut self.orders[order as usize];
        o.fills_may_disagree = true;
        o.unstage();
    }

    /// False while every matched pair of the order's fills agrees in LastQty and LastPx.
    #[inline]
    pub fn fills_may_disagree(&self, order: OrderIdx) -> bool {
        self.orders[order as usize].fills_may_disagree
    }

    /// Appends a record to the order's list on `stream`; None when the pool is exhausted and
    /// no retiring order can be evicted (the caller counts it).
    pub fn push_exec(&mut self, order: OrderIdx, stream: Stream, rec: ExecRecord) -> Option<ExecIdx> {
        let rec = ExecRecord { next: NONE, stream, ..rec };
        let idx = match self.free_execs {
            i if i != NONE => {
                self.free_execs = self.execs[i as usize].next;
                // The next record to reuse is probably cold (released with its order a while
                // ago): start loading its link now, for the next append.
                self.prefetch_free_link();
                self.execs[i as usize] = rec;
                i
            }
            _ if self.execs.len() < self.capacity.execs => {
                self.execs.push(rec);
                (self.execs.len() - 1) as ExecIdx
            }
            _ => {
                // Evicting must not free the order we are appending to.
                let gen_before = self.orders[order as usize].generation;
                self.evict_oldest_retiring(Some(order)).ok()?;
                debug_assert_eq!(self.orders[order as usize].generation, gen_before, "evicted the order appended to");
                return self.push_exec(order, stream, rec);
            }
        };
        let o = &mut self.orders[order as usize];
        o.unstage();
        let s = stream.index();
        o.lists[s].add(&rec);
        let tail = o.execs_tail[s];
        o.execs_tail[s] = idx;
        if tail == NONE {
            o.execs[s] = idx;
        } else {
            self.execs[tail as usize].next = idx;
        }
        Some(idx)
    }

    /// Iterates over the order's records on `stream` in arrival order.
    pub fn execs_of(&self, order: OrderIdx, stream: Stream) -> impl Iterator<Item = ExecIdx> + '_ {
        let mut cur = self.orders[order as usize].execs[stream.index()];
        core::iter::from_fn(move || {
            (cur != NONE).then(|| {
                let i = cur;
                cur = self.execs[i as usize].next;
                i
            })
        })
    }

    /// Fills on `stream` of the order that are live (not busted).
    pub fn live_fills(&self, order: OrderIdx, stream: Stream) -> impl Iterator<Item = ExecIdx> + '_ {
        self.execs_of(order, stream).filter(|&i| {
            let r = &self.execs[i as usize];
            r.kind == ExecKind::Fill && !r.busted
        })
    }
}
