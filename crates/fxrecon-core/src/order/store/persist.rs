//! The store's snapshot form and state digest: saving it, loading it, and the structural
//! checks a loaded store must pass.
//!
//! Owns: the order in which the store's parts are written and read. A load refuses a snapshot
//! whose links, lists or tables do not hold together, so no later event can panic on it, and
//! rebuilds the list summaries from the records: derived state is never read from a snapshot.

use super::alias_pool::Alias;
use super::exec_record::{ExecRecord, ListSummary, NONE};
use super::order_record::{INLINE_IDS, Order, OrderIdx};
use super::order_store::{OrderStore, StoreStats};
use crate::event::Stream;
use crate::snapshot::{SnapReader, SnapWriter, SnapshotError, load_into, save_slice};

impl OrderStore {
    /// Writes the whole store into a snapshot: every slot ever used (a free slot keeps its
    /// generation), the free lists in their order, the identity tables exactly as laid out,
    /// the execution records, the retirement queue and the retired-order memory.
    pub fn save(&self, w: &mut SnapWriter<'_>) {
        w.put(&self.capacity.orders).put(&self.capacity.execs).put(&self.live);
        w.put(&self.orders.len());
        for o in &self.orders {
            o.save(w);
        }
        save_slice(w, &self.free_orders);
        w.put(&self.aliases.entries.len());
        for a in &self.aliases.entries {
            w.put(&a.id).put(&a.order).put(&a.depth).put(&a.order_id).put(&a.next);
        }
        save_slice(w, &self.aliases.free);
        self.aliases.index.save(w);
        self.order_ids.save(w);
        w.put(&self.execs.len());
        for e in &self.execs {
            e.save(w);
        }
        w.put(&self.free_execs);
        w.put(&self.retiring.len());
        for (idx, generation, at) in self.retiring.iter() {
            w.put(idx).put(generation).put(at);
        }
        let s = &self.stats;
        w.put(&s.retired).put(&s.evicted).put(&s.capacity_exhausted).put(&s.high_water).put(&s.stale_retired);
        w.put(&s.joined).put(&s.reopened);
        w.put(&self.sweep).put(&self.clock);
        self.retired.save(w);
    }

    /// Replaces this (empty, same-sized) store's contents with a saved one's.
    pub fn load(&mut self, r: &mut SnapReader<'_>) -> Result<(), SnapshotError> {
        if r.get::<usize>()? != self.capacity.orders || r.get::<usize>()? != self.capacity.execs {
            return Err(SnapshotError::ConfigMismatch);
        }
        self.live = r.get()?;
        let n = r.count(self.capacity.orders)?;
        self.orders.clear();
        for _ in 0..n {
            self.orders.push(Order::load(r)?);
        }
        self.staging.clear(); // the orders loaded have staged nothing
        load_into(r, &mut self.free_orders)?;
        let n = r.count(self.aliases.pool)?;
        self.aliases.entries.clear();
        for _ in 0..n {
            self.aliases.entries.push(Alias {
                id: r.get()?,
                order: r.get()?,
                depth: r.get()?,
                order_id: r.get()?,
                next: r.get()?,
            });
        }
        load_into(r, &mut self.aliases.free)?;
        self.aliases.index.load(r)?;
        self.order_ids.load(r)?;
        let n = r.count(self.capacity.execs)?;
        self.execs.clear();
        for _ in 0..n {
            self.execs.push(ExecRecord::load(r)?);
        }
        self.free_execs = r.get()?;
        let n = r.count(self.capacity.orders)?;
        self.retiring.clear();
        for _ in 0..n {
            self.retiring.push_back((r.get()?, r.get()?, r.get()?));
        }
        self.stats = StoreStats {
            retired: r.get()?,
            evicted: r.get()?,
            capacity_exhausted: r.get()?,
            high_water: r.get()?,
            stale_retired: r.get()?,
            joined: r.get()?,
            reopened: r.get()?,
            // The retired memory's own counters (StoreStats shows them).
            ..StoreStats::default()
        };
        self.sweep = r.get()?;
        self.clock = r.get()?;
        self.retired.load(r)?;
        self.check_structure()?;
        self.rebuild_summaries()
    }

    /// Checks, after a load, everything the store follows without checking at run time: each
    /// index points inside its arena, every execution record and alias entry is on exactly one
    /// list (an order's or the free one) that ends where its tail says, free and live slots
    /// partition the arena, and every identity-table value names an existing entry. A snapshot
    /// that fails is refused, so no later event can panic on it.
    fn check_structure(&self) -> Result<(), SnapshotError> {
        fn bad<T>(what: &'static str) -> Result<T, SnapshotError> {
            Err(SnapshotError::Invalid(what))
        }
        let (no, ne, na) = (self.orders.len(), self.execs.len(), self.aliases.entries.len());
        let link_ok = |v: u32, n: usize| v == NONE || (v as usize) < n;
        // Orders: free slots are released ones, each listed once; the rest are live.
        let mut free = vec![false; no];
        for &i in &self.free_orders {
            let Some(seen) = free.get_mut(i as usize) else { return bad("free order out of range") };
            if std::mem::replace(seen, true) || self.orders[i as usize].live {
                return bad("free order list");
            }
        }
        if self.live != no - self.free_orders.len() || self.orders.iter().filter(|o| o.live).count() != self.live {
            return bad("live order count");
        }
        // Execution records: each on exactly one list, walked from its head to its tail.
        let mut on_list = vec![false; ne];
        let mut walk = |head: u32, stream: Option<Stream>| -> Result<u32, SnapshotError> {
            let (mut at, mut last) = (head, NONE);
            while at != NONE {
                let Some(seen) = on_list.get_mut(at as usize) else { return bad("execution link out of range") };
                let rec = &self.execs[at as usize];
                if std::mem::replace(seen, true) || stream.is_some_and(|s| rec.stream != s) {
                    return bad("execution lists overlap");
                }
                (last, at) = (at, rec.next);
            }
            Ok(last)
        };
        for o in &self.orders {
            if !o.live {
                if o.execs != [NONE; 2] || o.execs_tail != [NONE; 2] || o.aliases != NONE || o.retiring {
                    return bad("released order holds state");
                }
                continue;
            }
            for s in Stream::BOTH {
                if walk(o.execs[s.index()], Some(s))? != o.execs_tail[s.index()] {
                    return bad("execution list tail");
                }
            }
            if o.n_ids as usize > INLINE_IDS || !link_ok(o.aliases, na) {
                return bad("order identity");
            }
        }
        walk(self.free_execs, None)?;
        if on_list.iter().any(|&b| !b) || self.execs.iter().any(|e| !link_ok(e.matched, ne)) {
            return bad("execution record on no list");
        }
        // Alias entries: each on its order's chain or on the free list, once.
        let mut used = vec![false; na];
        for (idx, o) in self.orders.iter().enumerate().filter(|(_, o)| o.live) {
            let mut at = o.aliases;
            while at != NONE {
                let Some(seen) = used.get_mut(at as usize) else { return bad("alias link out of range") };
                let a = &self.aliases.entries[at as usize];
                if std::mem::replace(seen, true) || a.order as usize != idx {
                    return bad("alias chains overlap");
                }
                at = a.next;
            }
        }
        // Identity tables: values below the order capacity are orders (holding a ClOrdID, or an
        // OrderID, inline), the rest pool entries of the table's kind.
        let first_pool = self.aliases.orders as usize;
        let value_ok = |v: u32, order_id: bool| {
            let v = v as usize;
            if v < first_pool {
                v < no
                    && self.orders[v].live
                    && if order_id { !self.orders[v].order_id.is_empty() } else { self.orders[v].n_ids > 0 }
            } else {
                v - first_pool < na && used[v - first_pool] && self.aliases.entries[v - first_pool].order_id == order_id
            }
        };
        if !self.aliases.index.values().all(|v| value_ok(v, false))
            || !self.order_ids.values().all(|v| value_ok(v, true))
        {
            return bad("identity table value");
        }
        for &i in &self.aliases.free {
            let Some(seen) = used.get_mut(i as usize) else { return bad("free alias out of range") };
            if std::mem::replace(seen, true) {
                return bad("free alias list");
            }
        }
        if used.iter().any(|&b| !b) {
            return bad("alias entry on no list");
        }
        if self.retiring.iter().any(|&(i, _, _)| i as usize >= no) {
            return bad("retiring order out of range");
        }
        Ok(())
    }

    /// Derives every live order's list summaries and its `fills_may_disagree` from its records
    /// (after a load).
    fn rebuild_summaries(&mut self) -> Result<(), SnapshotError> {
        for idx in 0..self.orders.len() {
            if self.orders[idx].live {
                let (lists, disagree) = self.derive_summaries(idx as OrderIdx)?;
                let o = &mut self.orders[idx];
                o.lists = lists;
                o.fills_may_disagree = disagree;
            }
        }
        Ok(())
    }

    /// The list summaries and `fills_may_disagree` an order's records imply. A list longer
    /// than the pool has a cycle: the snapshot it came from is invalid.
    pub(super) fn derive_summaries(&self, idx: OrderIdx) -> Result<([ListSummary; 2], bool), SnapshotError> {
        let mut lists = [ListSummary::default(); 2];
        let mut disagree = false;
        for s in Stream::BOTH {
            for (step, i) in self.execs_of(idx, s).enumerate() {
                if step >= self.execs.len() {
                    return Err(SnapshotError::Invalid("execution list has a cycle"));
                }
                let r = &self.execs[i as usize];
                lists[s.index()].add(r);
                if r.matched != NONE {
                    let m = &self.execs[r.matched as usize];
                    disagree |= r.last_qty != m.last_qty || r.last_px != m.last_px;
                }
            }
        }
        Ok((lists, disagree))
    }

    /// Feeds every live order (slot order, which is a pure function of the input) and its
    /// execution records to `d`.
    pub fn digest_into(&self, d: &mut crate::digest::Digest) {
        d.u64(self.live as u64).u64(self.sweep as u64).i64(self.clock.0).u64(self.stats.reopened);
        self.retired.digest_into(d);
        for (idx, o) in self.orders.iter().enumerate().filter(|(_, o)| o.live) {
            d.u64(idx as u64).text(o.key.as_bytes()).text(o.symbol.as_bytes()).text(o.venue.as_bytes());
            for v in &o.views {
                v.digest_into(d);
            }
            d.i64(o.differ_since.map_or(i64::MIN, |t| t.0)).u64(o.open_phantom).u64(o.open_quantity).u64(o.open_state);
            d.i64(o.last_activity.0).u64(o.retiring as u64).u64(o.reopened as u64);
            // What it knows of its chain's root, and the depth of its first OrderID and every
            // further one (ClOrdIDs and the first OrderID were never part of the digest).
            d.u64(o.standing as u64).u64(o.order_id_depth as u64);
            for e in self.pool_chain(idx as OrderIdx) {
                let a = &self.aliases.entries[e as usize];
                if a.order_id {
                    d.text(a.id.as_bytes()).u64(a.depth as u64);
                }
            }
            for s in Stream::BOTH {
                for i in self.execs_of(idx as OrderIdx, s) {
                    let r = &self.execs[i as usize];
                    d.text(r.exec_id.as_bytes())
                        .u64(r.kind as u64)
                        .i64(r.cum_after.0)
                        .i64(r.last_qty.0)
                        .i64(r.last_px.0);
                    d.i64(r.arrival.0)
                        .u64(r.matched as u64)
                        .u64(r.busted as u64)
                        .u64(r.missing_id)
                        .u64(r.deferred as u64);
                }
            }
        }
    }
}
