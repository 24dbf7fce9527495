//! Identity: which order a report belongs to, by its ClOrdID (every ClOrdID of a replace chain
//! maps to the root order), its OrigClOrdID or its OrderID.
//!
//! Owns: resolving a report to its order (creating it when new) and looking one up without
//! creating, remembering and forgetting an order's ClOrdIDs and OrderID, and the hints that
//! prefetch the identity-table slot and the order of a coming report. Never joins two orders
//! by an OrderID that repeats (`NONE`), and never takes a hash match for a key match.

use super::alias_pool::{Alias, id_hash};
use super::exec_record::NONE;
use super::order_record::{INLINE_IDS, OrderIdx};
use super::order_store::{CapacityExhausted, OrderStore};
use crate::text::Id;

impl OrderStore {
    /// Finds or creates the order a report belongs to; returns it with the chain depth of the
    /// report's ClOrdID. `cl_ord_id`, `orig` and `order_id` may be empty (not all three).
    pub fn resolve(&mut self, cl_ord_id: &Id, orig: &Id, order_id: &Id) -> Result<(OrderIdx, u16), CapacityExhausted> {
        let found = if !cl_ord_id.is_empty() {
            if let Some(known) = self.get_alias(cl_ord_id) {
                known
            } else if !orig.is_empty() {
                match self.get_alias(orig) {
                    Some((idx, depth)) => {
                        let depth = depth.saturating_add(1);
                        self.add_alias(*cl_ord_id, idx, depth);
                        (idx, depth)
                    }
                    None => {
                        let idx = self.create(*orig)?;
                        self.add_alias(*cl_ord_id, idx, 1);
                        (idx, 1)
                    }
                }
            } else if let Some(idx) = self.get_order_id(order_id).filter(|&i| self.orders[i as usize].key == *order_id)
            {
                // The order was first seen without a ClOrdID (and so is keyed by its OrderID):
                // this is its ClOrdID, which becomes an alias and the order's key. Orders that
                // already have a ClOrdID are never joined by OrderID: OrderIDs repeat (`NONE`).
                self.orders[idx as usize].key = *cl_ord_id;
                self.add_alias(*cl_ord_id, idx, 0);
                (idx, 0)
            } else {
                (self.create(*cl_ord_id)?, 0)
            }
        } else if let Some(idx) = self.get_order_id(order_id) {
            (idx, 0)
        } else {
            (self.create(*order_id)?, 0)
        };
        // One OrderID per order is enough to route reports that lack a ClOrdID; checking the
        // order first keeps the table lookup off the per-message path.
        if !order_id.is_empty()
            && order_id.as_bytes() != b"NONE"
            && self.orders[found.0 as usize].order_id.is_empty()
            && self.get_order_id(order_id).is_none()
        {
            match self.order_ids.insert(id_hash(order_id), found.0) {
                Ok(()) => self.orders[found.0 as usize].order_id = *order_id,
                Err(_) => self.stats.capacity_exhausted += 1,
            }
        }
        Ok(found)
    }

    /// Hints the cache line of the identity-table slot a report with these ids will probe first
    /// (called for the next event while the current one is applied).
    #[inline]
    pub fn prefetch_ids(&self, cl_ord_id: &Id, order_id: &Id) {
        let (table, id) =
            if cl_ord_id.is_empty() { (&self.order_ids, order_id) } else { (&self.aliases.index, cl_ord_id) };
        let h = id_hash(id);
        crate::memhint::prefetch(table.slot_ref(table.home(h)));
    }

    /// Hints the cache lines of the order a report with these ids belongs to, when the first
    /// identity-table slot it probes (prefetched earlier by [`Self::prefetch_ids`]) names one.
    #[inline]
    pub fn prefetch_order_of(&self, cl_ord_id: &Id, order_id: &Id) {
        let (table, id) =
            if cl_ord_id.is_empty() { (&self.order_ids, order_id) } else { (&self.aliases.index, cl_ord_id) };
        let h = id_hash(id);
        if let Some(v) = table.first_probe(h)
            && v < self.aliases.orders
        {
            self.prefetch_order(v);
        }
    }

    /// The order a ClOrdID belongs to, with its chain depth.
    #[inline]
    fn get_alias(&self, id: &Id) -> Option<(OrderIdx, u16)> {
        let (orders, pool) = (&self.orders, &self.aliases);
        let mut depth = 0;
        let v = pool.index.get(id_hash(id), |v| match v.checked_sub(pool.orders) {
            None => {
                let o = &orders[v as usize];
                o.inline_slot(id).map(|k| depth = o.id_depth[k]).is_some()
            }
            Some(e) => pool.entries[e as usize].id == *id,
        })?;
        Some(match v.checked_sub(pool.orders) {
            None => (v, depth),
            Some(e) => (pool.entries[e as usize].order, pool.entries[e as usize].depth),
        })
    }

    /// The order indexed under an OrderID.
    #[inline]
    fn get_order_id(&self, id: &Id) -> Option<OrderIdx> {
        let orders = &self.orders;
        self.order_ids.get(id_hash(id), |v| orders[v as usize].order_id == *id)
    }

    /// Remembers a ClOrdID of order `idx`: inline while there is room, else in the pool.
    pub(super) fn add_alias(&mut self, id: Id, idx: OrderIdx, depth: u16) {
        if self.aliases.is_full() {
            // The report still applies to the order; only this ClOrdID is not remembered.
            self.stats.capacity_exhausted += 1;
            return;
        }
        let o = &mut self.orders[idx as usize];
        let a = &mut self.aliases;
        let value = if (o.n_ids as usize) < INLINE_IDS {
            let k = o.n_ids as usize;
            o.ids[k] = id;
            o.id_depth[k] = depth;
            o.n_ids += 1;
            idx
        } else {
            let alias = Alias { id, order: idx, depth, next: o.aliases };
            let slot = match a.free.pop() {
                Some(e) => {
                    a.entries[e as usize] = alias;
                    e
                }
                None if a.entries.len() < a.pool => {
                    a.entries.push(alias);
                    (a.entries.len() - 1) as u32
                }
                None => {
                    self.stats.capacity_exhausted += 1;
                    return;
                }
            };
            o.aliases = slot;
            a.orders + slot
        };
        // Cannot fail: fullness was checked above.
        let _ = a.index.insert(id_hash(&id), value);
    }

    /// Drops every ClOrdID and the OrderID of order `idx` from the indexes.
    pub(super) fn remove_ids(&mut self, idx: OrderIdx) {
        let o = &self.orders[idx as usize];
        let a = &mut self.aliases;
        for id in &o.ids[..o.n_ids as usize] {
            a.index.remove(id_hash(id), |v| v == idx);
        }
        let mut head = o.aliases;
        while head != NONE {
            let e = a.entries[head as usize];
            a.index.remove(id_hash(&e.id), |v| v == a.orders + head);
            a.free.push(head);
            head = e.next;
        }
        if !o.order_id.is_empty() {
            self.order_ids.remove(id_hash(&o.order_id), |v| v == idx);
        }
    }

    /// The replace-chain depth of a ClOrdID the store knows (root = 0).
    pub fn chain_depth_of(&self, cl_ord_id: &Id) -> Option<u16> {
        if cl_ord_id.is_empty() {
            return None;
        }
        self.get_alias(cl_ord_id).map(|(_, depth)| depth)
    }

    /// Looks up the order a ClOrdID (or, failing that, an OrderID) belongs to, without creating.
    pub fn lookup(&self, cl_ord_id: &Id, orig: &Id, order_id: &Id) -> Option<OrderIdx> {
        [orig, cl_ord_id]
            .into_iter()
            .filter(|id| !id.is_empty())
            .find_map(|id| self.get_alias(id).map(|(idx, _)| idx))
            .or_else(|| self.get_order_id(order_id))
    }
}
