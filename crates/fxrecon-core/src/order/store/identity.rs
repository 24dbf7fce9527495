//! Identity: which order a report belongs to, by its ClOrdID (every ClOrdID of a replace chain
//! maps to the root order), its OrigClOrdID or its OrderIDs (contract 2 and 2.1).
//!
//! Owns: resolving a report to its order (creating it when new, attaching a link that arrives
//! before the link it names, joining two parts of one order when a report ties them), the
//! chain depth of every ClOrdID and OrderID, the order's key (its lowest known ClOrdID),
//! remembering and forgetting an order's identifiers, and the hints that prefetch the
//! identity-table slot and the order of a coming report. Never joins anything by an OrderID
//! that repeats (`NONE`, empty), never joins two orders whose roots are both known, and never
//! takes a hash match for a key match. A known ClOrdID costs one table probe, as it always did:
//! the work below happens only for unknown ClOrdIDs and OrderIDs and for provisional orders.

use super::alias_pool::{Alias, id_hash};
use super::exec_record::NONE;
use super::order_record::{INLINE_IDS, OrderIdx, PROVISIONAL_BASE, Standing, rebase};
use super::order_store::{OrderStore, Unresolved};
use super::retired_record::IdKind;
use crate::text::Id;

/// An OrderID that names no order of its own: empty, or `NONE` (an internal reject).
#[inline]
fn repeats(order_id: &Id) -> bool {
    order_id.is_empty() || order_id.as_bytes() == b"NONE"
}

impl OrderStore {
    /// Finds or creates the order a report belongs to; returns it with the chain depth of the
    /// report's ClOrdID (or of its OrderID's link when it has no ClOrdID). `cl_ord_id`, `orig`
    /// and `order_id` may be empty (not all three). `opens` says the report opens an order
    /// (New, PendingNew or Rejected naming no OrigClOrdID): its ClOrdID is a chain's root.
    ///
    /// When the report ties two orders together (its ClOrdID is one's and its OrigClOrdID or
    /// OrderID the other's, and what is known places one in the other's chain) they are joined
    /// into one ([`Self::take_joins`] says which); the order returned is the survivor.
    ///
    /// A report that would start a new order but names a retired order the store remembers
    /// (contract 2.2) changes nothing and gives [`Unresolved::Retired`]: the caller decides
    /// whether it is a resend or reopens the order, then resolves again.
    pub fn resolve(
        &mut self,
        cl_ord_id: &Id,
        orig: &Id,
        order_id: &Id,
        opens: bool,
    ) -> Result<(OrderIdx, u16), Unresolved> {
        let found = if !cl_ord_id.is_empty() {
            match self.get_alias(cl_ord_id) {
                // Only an order whose root, or the place of some links, is unknown can learn
                // something from a known link's report.
                Some((idx, depth))
                    if (opens || !orig.is_empty()) && self.orders[idx as usize].standing != Standing::Rooted =>
                {
                    self.known_link_report(idx, depth, cl_ord_id, orig, opens)
                }
                Some(known) => known,
                None => self.new_link(cl_ord_id, orig, order_id, opens)?,
            }
        } else if let Some(known) = self.get_order_id(order_id) {
            return Ok(known); // the report's only identifier: nothing more to learn
        } else {
            if !self.retired.is_empty()
                && !repeats(order_id)
                && let Some(r) = self.retired.find(IdKind::OrderId, order_id)
            {
                return Err(Unresolved::Retired(r));
            }
            let idx = self.create(*order_id, Standing::Provisional)?;
            (idx, PROVISIONAL_BASE)
        };
        // Every OrderID a report of the order carries maps to it. The order's first OrderID is
        // checked on the order (in cache): the table is probed only for another one.
        if !order_id.is_empty() && self.orders[found.0 as usize].order_id != *order_id {
            return Ok(self.note_order_id(found, order_id));
        }
        Ok(found)
    }

    /// A ClOrdID the store does not know yet: a new order's root, a link naming a known
    /// OrigClOrdID, or a link that arrived before the one it names: attached by OrderID when
    /// that places it in the chain, else a provisional part.
    #[inline(never)]
    fn new_link(
        &mut self,
        cl_ord_id: &Id,
        orig: &Id,
        order_id: &Id,
        opens: bool,
    ) -> Result<(OrderIdx, u16), Unresolved> {
        if !orig.is_empty()
            && let Some((idx, depth)) = self.get_alias(orig)
        {
            let depth = depth.saturating_add(1);
            self.add_alias(*cl_ord_id, idx, depth);
            return Ok((idx, depth));
        }
        let owner = self.get_order_id(order_id);
        if let Some((idx, id_depth)) = owner {
            let o = &self.orders[idx as usize];
            if !o.has_cl_ord_id() {
                // The order was seen only by this OrderID so far (it is keyed by it): the link
                // that carries it is this one, and its ClOrdID is the order's key.
                if !orig.is_empty() {
                    self.add_alias(*orig, idx, id_depth.saturating_sub(1));
                }
                self.add_alias(*cl_ord_id, idx, id_depth);
                self.refresh_key(idx);
                if opens {
                    self.set_standing(idx, Standing::Rooted);
                }
                return Ok((idx, id_depth));
            }
            match (o.standing, opens) {
                (Standing::Rooted, false) => {
                    // A link whose predecessor this stream has not seen (reordered or lost, or
                    // a report naming no OrigClOrdID after a replace it missed) of an order
                    // whose known links all hang off its root: it comes after all of them.
                    let mut depth = self.above_all(idx);
                    if !orig.is_empty() {
                        self.add_alias(*orig, idx, depth);
                        depth = depth.saturating_add(1);
                    }
                    self.add_alias(*cl_ord_id, idx, depth);
                    self.set_standing(idx, Standing::Gapped);
                    return Ok((idx, depth));
                }
                (Standing::Provisional, true) => {
                    // The root of an order known so far only by later links: below them all.
                    self.add_alias(*cl_ord_id, idx, 0);
                    self.set_standing(idx, Standing::Gapped);
                    self.refresh_key(idx);
                    return Ok((idx, 0));
                }
                // Opens, with the OrderID of an order whose root is known: OrderIDs can
                // repeat, so it is an order of its own. Or a link of an order with links of
                // unknown place: nothing says where it goes among them, so it is a provisional
                // part of its own until a report ties its links (its OrderID stays the
                // other's).
                _ => {}
            }
        }
        // Nothing live takes it: a new order, unless it is a retired one the store remembers
        // (by its ClOrdID, the OrigClOrdID it names, or, for a report that opens nothing, an
        // OrderID no live order has).
        if !self.retired.is_empty() {
            let by_order_id = owner.is_none() && !opens && !repeats(order_id);
            let found = self
                .retired
                .find(IdKind::ClOrdId, cl_ord_id)
                .or_else(|| self.retired.find(IdKind::ClOrdId, orig))
                .or_else(|| by_order_id.then(|| self.retired.find(IdKind::OrderId, order_id)).flatten());
            if let Some(r) = found {
                return Err(Unresolved::Retired(r));
            }
        }
        let (idx, depth) = if !orig.is_empty() {
            // A provisional part, keyed by the best root known (the link it names), joined to
            // its chain when a report ties them.
            let idx = self.create(*orig, Standing::Provisional)?;
            self.add_alias(*orig, idx, PROVISIONAL_BASE);
            self.add_alias(*cl_ord_id, idx, PROVISIONAL_BASE + 1);
            (idx, PROVISIONAL_BASE + 1)
        } else if opens {
            let idx = self.create(*cl_ord_id, Standing::Rooted)?;
            self.add_alias(*cl_ord_id, idx, 0);
            (idx, 0)
        } else {
            // A report naming no OrigClOrdID that does not open an order (a fill, a status):
            // the root whose opening report this stream has not delivered, or a link whose
            // replace it did not see. The best key known, provisional until its root is known.
            let idx = self.create(*cl_ord_id, Standing::Provisional)?;
            self.add_alias(*cl_ord_id, idx, PROVISIONAL_BASE);
            (idx, PROVISIONAL_BASE)
        };
        // A new order: its OrderID (looked up above) is its own unless another order has it.
        if owner.is_none() && !repeats(order_id) {
            self.add_order_id(*order_id, idx, depth);
        }
        Ok((idx, depth))
    }

    /// A report of a known link of an order that is not simply rooted, naming an OrigClOrdID
    /// or opening the order: the root becomes known, the chain grows downwards, or two parts
    /// join.
    #[cold]
    fn known_link_report(
        &mut self,
        idx: OrderIdx,
        depth: u16,
        cl_ord_id: &Id,
        orig: &Id,
        opens: bool,
    ) -> (OrderIdx, u16) {
        let standing = self.orders[idx as usize].standing;
        if orig.is_empty() {
            // Its root's own report (New, naming no OrigClOrdID): the root is known now, and
            // every link of the part hangs off it.
            if opens && standing == Standing::Provisional && self.orders[idx as usize].key == *cl_ord_id {
                self.set_standing(idx, Standing::Rooted);
            }
            return (idx, depth);
        }
        match self.get_alias(orig) {
            Some((other, _)) if other == idx => (idx, depth),
            Some((other, orig_depth)) if standing == Standing::Provisional => {
                // The link it names belongs to another part of the order: that part (holding
                // the older links) absorbs this one, which moves to sit just above it.
                let at = orig_depth.saturating_add(1);
                let joined = self.orders[other as usize].standing;
                self.join(other, idx, i32::from(at) - i32::from(depth), joined);
                (other, at)
            }
            Some((other, orig_depth)) => {
                // Gapped: a provisional part holds the link it names, and moves to sit just
                // below it. A part with a root of its own is not the same chain.
                if self.orders[other as usize].provisional() {
                    let below = i32::from(depth) - 1 - i32::from(orig_depth);
                    self.join(idx, other, below, Standing::Gapped);
                }
                (idx, depth)
            }
            None => {
                // An orig learnt as the OrigClOrdID of a known link sits one below it.
                self.add_alias(*orig, idx, depth.saturating_sub(1));
                self.refresh_key(idx);
                (idx, depth)
            }
        }
    }

    /// The report of order `found` carries an OrderID other than the order's first: remember
    /// it, or join the order it already names.
    #[cold]
    fn note_order_id(&mut self, found: (OrderIdx, u16), order_id: &Id) -> (OrderIdx, u16) {
        if repeats(order_id) {
            return found;
        }
        let (idx, depth) = found;
        match self.get_order_id(order_id) {
            Some((other, _)) if other == idx => found,
            Some((other, other_depth)) => self.tie_by_order_id(idx, depth, other, other_depth),
            None => {
                self.add_order_id(*order_id, idx, depth);
                found
            }
        }
    }

    /// A report of order `idx` (at `depth`) carries an OrderID of order `other` (at
    /// `other_depth`): one order, when what is known places one in the other's chain. A part
    /// known only by that OrderID takes the report's link as the OrderID's; a provisional part
    /// goes after the links of an order that all hang off its root. Two orders whose roots are
    /// both known are never joined (an OrderID that repeats), nor a part with links of unknown
    /// place and another (nothing says which goes first: a report that ties their links will
    /// join them).
    fn tie_by_order_id(&mut self, idx: OrderIdx, depth: u16, other: OrderIdx, other_depth: u16) -> (OrderIdx, u16) {
        let (a, b) = (&self.orders[idx as usize], &self.orders[other as usize]);
        let bare = !a.has_cl_ord_id() || !b.has_cl_ord_id();
        let (sa, sb) = (a.standing, b.standing);
        let placed = match (sa, sb) {
            _ if bare => a.provisional() || b.provisional(),
            (Standing::Provisional, Standing::Rooted) | (Standing::Rooted, Standing::Provisional) => true,
            _ => false,
        };
        if !placed {
            return (idx, depth);
        }
        // The survivor holds the root (if it was ever reported), else it is the older part:
        // the one that had the OrderID first.
        let idx_survives = !a.provisional() && a.sighted();
        let (survivor, absorbed) = if idx_survives { (idx, other) } else { (other, idx) };
        let (offset, standing) = if bare {
            // The OrderID belongs to the report's link.
            let offset = i32::from(depth) - i32::from(other_depth);
            let standing = if a.has_cl_ord_id() { sa } else { sb };
            (if idx_survives { offset } else { -offset }, standing)
        } else if self.orders[absorbed as usize].provisional() {
            // Its links come after the links that run from the survivor's root.
            let above = i32::from(self.top_depth(survivor)) + 1 - i32::from(self.low_depth(absorbed));
            (above.max(0), Standing::Gapped)
        } else {
            // A fresh root under a provisional part: a chain from its root counts from 0,
            // below the part's base.
            (0, Standing::Gapped)
        };
        self.join(survivor, absorbed, offset, standing);
        if idx_survives { (idx, depth) } else { (other, rebase(depth, offset)) }
    }

    /// The depth above everything order `idx` knows (at least the provisional base, so the
    /// links in between can still fit below).
    fn above_all(&self, idx: OrderIdx) -> u16 {
        self.top_depth(idx).saturating_add(1).max(PROVISIONAL_BASE)
    }

    /// The highest depth of any identifier of order `idx`.
    pub(super) fn top_depth(&self, idx: OrderIdx) -> u16 {
        self.depths(idx).max().unwrap_or(0)
    }

    /// The lowest depth of any identifier of order `idx`.
    pub(super) fn low_depth(&self, idx: OrderIdx) -> u16 {
        self.depths(idx).min().unwrap_or(0)
    }

    /// The depths of every identifier (ClOrdIDs and OrderIDs) of order `idx`.
    fn depths(&self, idx: OrderIdx) -> impl Iterator<Item = u16> + '_ {
        let o = &self.orders[idx as usize];
        let inline = o.id_depth[..o.n_ids as usize].iter().copied();
        let order_id = (!o.order_id.is_empty()).then_some(o.order_id_depth);
        inline.chain(order_id).chain(self.pool_chain(idx).map(|e| self.aliases.entries[e as usize].depth))
    }

    /// The pool entries of order `idx`, newest first.
    pub(super) fn pool_chain(&self, idx: OrderIdx) -> impl Iterator<Item = u32> + '_ {
        let mut at = self.orders[idx as usize].aliases;
        core::iter::from_fn(move || {
            (at != NONE).then(|| {
                let e = at;
                at = self.aliases.entries[e as usize].next;
                e
            })
        })
    }

    /// Makes the order's key its lowest known ClOrdID (the chain's root once known); an order
    /// without a ClOrdID keeps its OrderID. Ties keep the current key.
    pub(super) fn refresh_key(&mut self, idx: OrderIdx) {
        let o = &self.orders[idx as usize];
        let mut best: Option<(u16, Id)> = None;
        let mut consider = |depth: u16, id: Id| {
            let better = match best {
                None => true,
                Some((d, ref b)) => depth < d || (depth == d && id == o.key && *b != o.key),
            };
            if better {
                best = Some((depth, id));
            }
        };
        for k in 0..o.n_ids as usize {
            consider(o.id_depth[k], o.ids[k]);
        }
        for e in self.pool_chain(idx) {
            let a = &self.aliases.entries[e as usize];
            if !a.order_id {
                consider(a.depth, a.id);
            }
        }
        if let Some((_, key)) = best {
            let o = &mut self.orders[idx as usize];
            if o.key != key {
                o.key = key;
                o.unstage();
            }
        }
    }

    /// Sets what order `idx` knows of its chain's root.
    fn set_standing(&mut self, idx: OrderIdx, standing: Standing) {
        let o = &mut self.orders[idx as usize];
        o.standing = standing;
        o.unstage();
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
    pub(super) fn get_alias(&self, id: &Id) -> Option<(OrderIdx, u16)> {
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

    /// The order an OrderID is indexed under, with the depth of the link that first carried it
    /// (never for an OrderID that repeats).
    #[inline]
    pub(super) fn get_order_id(&self, id: &Id) -> Option<(OrderIdx, u16)> {
        if repeats(id) {
            return None;
        }
        let (orders, pool) = (&self.orders, &self.aliases);
        let v = self.order_ids.get(id_hash(id), |v| match v.checked_sub(pool.orders) {
            None => orders[v as usize].order_id == *id,
            Some(e) => pool.entries[e as usize].id == *id,
        })?;
        Some(match v.checked_sub(pool.orders) {
            None => (v, orders[v as usize].order_id_depth),
            Some(e) => (pool.entries[e as usize].order, pool.entries[e as usize].depth),
        })
    }

    /// Remembers a ClOrdID of order `idx`: inline while there is room, else in the pool. A full
    /// index or pool is counted; the report still applies, only the ClOrdID is not remembered.
    pub(super) fn add_alias(&mut self, id: Id, idx: OrderIdx, depth: u16) {
        if self.aliases.is_full() {
            self.stats.capacity_exhausted += 1;
            return;
        }
        let o = &mut self.orders[idx as usize];
        o.unstage();
        let value = if (o.n_ids as usize) < INLINE_IDS {
            let k = o.n_ids as usize;
            o.ids[k] = id;
            o.id_depth[k] = depth;
            o.n_ids += 1;
            idx
        } else {
            let Some(slot) = self.push_pool(Alias { id, order: idx, depth, order_id: false, next: NONE }) else {
                self.stats.capacity_exhausted += 1;
                return;
            };
            self.aliases.orders + slot
        };
        // Cannot fail: fullness was checked above.
        let _ = self.aliases.index.insert(id_hash(&id), value);
    }

    /// Remembers an OrderID of order `idx` (the link at `depth` carried it): the first one in
    /// the order, the others in the pool. A full table or pool is counted.
    pub(super) fn add_order_id(&mut self, id: Id, idx: OrderIdx, depth: u16) {
        if self.order_ids.len() >= self.order_ids.capacity() {
            self.stats.capacity_exhausted += 1;
            return;
        }
        self.orders[idx as usize].unstage();
        let value = if self.orders[idx as usize].order_id.is_empty() {
            let o = &mut self.orders[idx as usize];
            o.order_id = id;
            o.order_id_depth = depth;
            idx
        } else {
            let Some(slot) = self.push_pool(Alias { id, order: idx, depth, order_id: true, next: NONE }) else {
                self.stats.capacity_exhausted += 1;
                return;
            };
            self.aliases.orders + slot
        };
        // Cannot fail: fullness was checked above.
        let _ = self.order_ids.insert(id_hash(&id), value);
    }

    /// Puts `alias` in the pool at the head of its order's chain.
    fn push_pool(&mut self, alias: Alias) -> Option<u32> {
        let idx = alias.order;
        let slot = self.aliases.take(Alias { next: self.orders[idx as usize].aliases, ..alias })?;
        self.orders[idx as usize].aliases = slot;
        self.orders[idx as usize].unstage();
        Some(slot)
    }

    /// Drops every ClOrdID and OrderID of order `idx` from the indexes, and its pool entries.
    pub(super) fn remove_ids(&mut self, idx: OrderIdx) {
        let o = &self.orders[idx as usize];
        let a = &mut self.aliases;
        for id in &o.ids[..o.n_ids as usize] {
            a.index.remove(id_hash(id), |v| v == idx);
        }
        let first_pool = a.orders;
        let mut head = o.aliases;
        while head != NONE {
            let e = a.entries[head as usize];
            let table = if e.order_id { &mut self.order_ids } else { &mut a.index };
            table.remove(id_hash(&e.id), |v| v == first_pool + head);
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

    /// True when a ClOrdID (or OrigClOrdID, or OrderID) is of a retired order the store
    /// remembers (contract 2.2).
    pub fn is_retired(&self, cl_ord_id: &Id, orig: &Id, order_id: &Id) -> bool {
        !self.retired.is_empty()
            && (self.retired.find(IdKind::ClOrdId, cl_ord_id).is_some()
                || self.retired.find(IdKind::ClOrdId, orig).is_some()
                || (!repeats(order_id) && self.retired.find(IdKind::OrderId, order_id).is_some()))
    }

    /// Looks up the order a ClOrdID (or, failing that, an OrderID) belongs to, without creating.
    pub fn lookup(&self, cl_ord_id: &Id, orig: &Id, order_id: &Id) -> Option<OrderIdx> {
        [orig, cl_ord_id]
            .into_iter()
            .filter(|id| !id.is_empty())
            .find_map(|id| self.get_alias(id).map(|(idx, _)| idx))
            .or_else(|| self.get_order_id(order_id).map(|(idx, _)| idx))
    }
}
