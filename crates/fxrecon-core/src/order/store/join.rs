//! Joining two parts of one order: a provisional part (a chain link that arrived before the
//! link it names, or an order known only by an OrderID) and the order a later report ties it to
//! (contract 2.1: "an order is one order for its whole life").
//!
//! Owns: what moves from the absorbed part to the survivor (ClOrdIDs and OrderIDs with their
//! depths rebased into the survivor's chain, each stream's view, the execution records, the
//! open divergence ids), the release of the absorbed slot, and the notes the reconciler reads to
//! finish the join (its timers, fills that may match now, held adjustments). Never allocates: a
//! pool too full to keep an identifier counts it as capacity exhausted and goes on.

use super::alias_pool::id_hash;
use super::exec_record::NONE;
use super::joins::{JoinNote, Joins, MAX_JOINS};
use super::order_record::{INLINE_IDS, OrderIdx, Standing, rebase};
use super::order_store::OrderStore;
use crate::event::Stream;
use crate::text::Id;

impl OrderStore {
    /// True when the last [`Self::resolve`] joined parts of an order.
    #[inline]
    pub fn has_joins(&self) -> bool {
        self.joins.n != 0
    }

    /// The joins of the last [`Self::resolve`], cleared.
    pub fn take_joins(&mut self) -> Joins {
        core::mem::take(&mut self.joins)
    }

    /// Moves everything of order `absorbed` into order `survivor` and releases its slot; the
    /// absorbed part's depths move by `offset` into the survivor's chain, and the joined order
    /// has `standing`.
    pub(super) fn join(&mut self, survivor: OrderIdx, absorbed: OrderIdx, offset: i32, standing: Standing) {
        debug_assert_ne!(survivor, absorbed);
        for n in &mut self.joins.notes[..self.joins.n as usize] {
            if n.survivor == absorbed {
                n.survivor = survivor;
                n.moved = [NONE; 2];
            }
        }
        let p = self.orders[absorbed as usize];
        let mut note = JoinNote {
            survivor,
            absorbed,
            absorbed_generation: p.generation,
            moved: p.execs,
            moved_last: p.execs_tail,
            displaced: [0; 3],
            both_sighted: p.sighted() && self.orders[survivor as usize].sighted(),
        };
        self.move_ids(survivor, absorbed, offset);
        self.refresh_key(survivor);

        let s = &mut self.orders[survivor as usize];
        s.unstage();
        s.standing = standing;
        for stream in Stream::BOTH {
            let mut theirs = p.views[stream.index()];
            theirs.chain_depth = rebase(theirs.chain_depth, offset);
            s.views[stream.index()].join(&theirs);
        }
        if s.symbol.is_empty() {
            s.symbol = p.symbol;
        }
        if s.venue.is_empty() {
            s.venue = p.venue;
        }
        s.last_activity = s.last_activity.max(p.last_activity);
        // The views are compared afresh: a difference's grace window restarts at the join.
        s.differ_since = None;
        let theirs = [p.open_phantom, p.open_quantity, p.open_state];
        for (k, mine) in [&mut s.open_phantom, &mut s.open_quantity, &mut s.open_state].into_iter().enumerate() {
            if *mine == 0 {
                *mine = theirs[k];
            } else {
                note.displaced[k] = theirs[k];
            }
        }
        // The absorbed records follow the survivor's on each stream.
        for stream in Stream::BOTH {
            let i = stream.index();
            let (head, tail) = (p.execs[i], p.execs_tail[i]);
            if head == NONE {
                continue;
            }
            let s = &mut self.orders[survivor as usize];
            let before = s.execs_tail[i];
            s.execs_tail[i] = tail;
            s.lists[i].exec_bits |= p.lists[i].exec_bits;
            s.lists[i].unmatched_fills += p.lists[i].unmatched_fills;
            if before == NONE {
                s.execs[i] = head;
            } else {
                self.execs[before as usize].next = head;
            }
        }
        self.orders[survivor as usize].fills_may_disagree |= p.fills_may_disagree;
        // Records put back from the retired memory moved with it: lookups try their hashes.
        self.orders[survivor as usize].reopened |= p.reopened;

        // The absorbed slot holds nothing any more: released like a retired order.
        let q = &mut self.orders[absorbed as usize];
        q.n_ids = 0;
        q.aliases = NONE;
        q.order_id = Id::new();
        q.execs = [NONE; 2];
        q.execs_tail = [NONE; 2];
        self.release(absorbed);
        self.stats.joined += 1;
        let n = self.joins.n as usize;
        if n < MAX_JOINS {
            self.joins.notes[n] = note;
            self.joins.n += 1;
        }
    }

    /// Moves every ClOrdID and OrderID of `absorbed` to `survivor`, rebased by `offset`: the
    /// inline ones are indexed again under the survivor, pool entries change hands in place
    /// (or become inline where the survivor has room).
    fn move_ids(&mut self, survivor: OrderIdx, absorbed: OrderIdx, offset: i32) {
        let p = self.orders[absorbed as usize];
        for k in 0..p.n_ids as usize {
            self.aliases.index.remove(id_hash(&p.ids[k]), |v| v == absorbed);
        }
        if !p.order_id.is_empty() {
            self.order_ids.remove(id_hash(&p.order_id), |v| v == absorbed);
        }
        for k in 0..p.n_ids as usize {
            self.add_alias(p.ids[k], survivor, rebase(p.id_depth[k], offset));
        }
        if !p.order_id.is_empty() {
            self.add_order_id(p.order_id, survivor, rebase(p.order_id_depth, offset));
        }
        let first_pool = self.aliases.orders;
        let mut at = p.aliases;
        while at != NONE {
            let e = self.aliases.entries[at as usize];
            let next = e.next;
            let depth = rebase(e.depth, offset);
            let s = &self.orders[survivor as usize];
            let to_inline = if e.order_id { s.order_id.is_empty() } else { (s.n_ids as usize) < INLINE_IDS };
            if to_inline {
                // Indexed again as the survivor's own (the removal freed the room it needs).
                let table = if e.order_id { &mut self.order_ids } else { &mut self.aliases.index };
                table.remove(id_hash(&e.id), |v| v == first_pool + at);
                self.aliases.free.push(at);
                if e.order_id {
                    self.add_order_id(e.id, survivor, depth);
                } else {
                    self.add_alias(e.id, survivor, depth);
                }
            } else {
                let s = &mut self.orders[survivor as usize];
                let a = &mut self.aliases.entries[at as usize];
                a.order = survivor;
                a.depth = depth;
                a.next = s.aliases;
                s.aliases = at;
            }
            at = next;
        }
    }
}
