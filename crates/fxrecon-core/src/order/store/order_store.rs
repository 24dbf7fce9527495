//! The canonical state of every order: both views, its executions, and identity lookups.
//!
//! Owns: the order arena, the ClOrdID alias table (every ClOrdID of a replace chain maps to the
//! root order), the OrderID table, each order's execution records per stream, and retirement
//! of finished orders. All storage is sized at construction: slots are reused through free
//! lists and nothing grows after start-up. A full store evicts the oldest finished order
//! queued for retirement; if none is queued, the caller gets [`CapacityExhausted`]. Knows nothing of divergences.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;

use crate::decimal::{Price, Qty};
use crate::event::Stream;
use crate::order::store::index::OrderTable;
use crate::order::store::ring_queue::RingQueue;
use crate::order::view::OrderView;
use crate::snapshot::{SnapReader, SnapWriter, SnapshotError, load_enum, load_into, save_enum, save_slice};
use crate::text::{Id, Name};
use crate::time::Micros;

/// Index of an order slot in the arena.
pub type OrderIdx = u32;
/// Index of an execution record.
pub type ExecIdx = u32;
/// "No record" marker for [`ExecIdx`] links.
pub const NONE: u32 = u32::MAX;

/// The store is full of live orders and none is retired: the new order cannot be tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapacityExhausted;

/// What an execution record stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecKind {
    /// A fill (ExecType F, or 1/2 in FIX 4.2).
    Fill,
    /// A trade cancel or correct.
    Adjustment,
    /// Any other report (New, Canceled, Replaced …).
    Status,
}

impl ExecKind {
    /// Every kind (for snapshots).
    pub const ALL: [ExecKind; 3] = [ExecKind::Fill, ExecKind::Adjustment, ExecKind::Status];
}

/// One execution report applied to an order on one stream.
#[derive(Clone, Copy, Debug)]
pub struct ExecRecord {
    /// Stream it arrived on.
    pub stream: Stream,
    /// ExecID (17).
    pub exec_id: Id,
    /// Fill, adjustment or status report.
    pub kind: ExecKind,
    /// CumQty the fill left (fills only).
    pub cum_after: Qty,
    /// LastQty (fills; updated by a trade correct).
    pub last_qty: Qty,
    /// LastPx (fills; updated by a trade correct).
    pub last_px: Price,
    /// Event time of its first arrival.
    pub arrival: Micros,
    /// The matching fill on the other stream, or [`NONE`].
    pub matched: ExecIdx,
    /// True once a trade cancel busted it.
    pub busted: bool,
    /// Id of the MissingFill emitted for it (0: none).
    pub missing_id: u64,
    /// Its MissingFill check was skipped while the order was one-sided.
    pub deferred: bool,
    /// Next record of the same order and stream.
    pub next: ExecIdx,
}

/// A summary of one execution list, kept beside the list so that most lookups need not walk
/// it (every record visited is a likely cache miss). Derived from the list: never written to
/// a snapshot, rebuilt when one is loaded. It may over-report (a lookup then walks), never
/// under-report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct ListSummary {
    /// The [`exec_bit`]s of the records' ExecIDs.
    exec_bits: u64,
    /// Fill records not yet matched to a fill of the other stream.
    unmatched_fills: u32,
}

impl ListSummary {
    fn add(&mut self, rec: &ExecRecord) {
        self.exec_bits |= exec_bit(&rec.exec_id);
        if rec.kind == ExecKind::Fill && rec.matched == NONE {
            self.unmatched_fills += 1;
        }
    }
}

/// One bit of 64 standing for an ExecID: from its last eight bytes and its length (the ExecIDs
/// of one order mostly differ in their last characters). Reads only the value's bytes.
#[inline]
fn exec_bit(id: &Id) -> u64 {
    let b = id.as_bytes();
    let mut w = [0u8; 8];
    let tail = &b[b.len().saturating_sub(8)..];
    w[..tail.len()].copy_from_slice(tail);
    let h = (u64::from_le_bytes(w) ^ b.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    1 << (h >> 58)
}

/// Everything known about one order.
#[derive(Clone, Copy, Debug)]
pub struct Order {
    /// Root ClOrdID (or OrderID when no ClOrdID was ever seen).
    pub key: Id,
    /// Symbol (55).
    pub symbol: Name,
    /// Venue (see docs/decisions.md D11).
    pub venue: Name,
    /// Views indexed by [`Stream::index`].
    pub views: [OrderView; 2],
    /// Head of each stream's execution list.
    pub execs: [ExecIdx; 2],
    /// Tail of each stream's execution list (appends keep arrival order).
    pub execs_tail: [ExecIdx; 2],
    /// Since when the two views have differed (None while they agree).
    pub differ_since: Option<Micros>,
    /// Open PhantomOrder id (0: none).
    pub open_phantom: u64,
    /// Open QuantityMismatch id (0: none).
    pub open_quantity: u64,
    /// Open StateMismatch id (0: none).
    pub open_state: u64,
    /// Bumped every time the slot is reused, so stale handles can be recognised.
    pub generation: u32,
    /// Event time of the last report applied.
    pub last_activity: Micros,
    /// True while the order sits in the retirement queue.
    pub retiring: bool,
    /// False once the slot was released (free for reuse).
    pub live: bool,
    /// The first ClOrdIDs of the order (its identity index points here: a lookup confirms the
    /// key on the order it is about to touch anyway, without a miss on a separate entry).
    ids: [Id; INLINE_IDS],
    /// Replace-chain depth of each inline ClOrdID.
    id_depth: [u16; INLINE_IDS],
    /// Inline ClOrdIDs in use.
    n_ids: u8,
    /// Head of the order's further ClOrdIDs in the alias pool.
    aliases: u32,
    /// The OrderID the order is indexed under (empty: none).
    order_id: Id,
    /// Summaries of the two execution lists (derived; see [`ListSummary`]).
    lists: [ListSummary; 2],
    /// False while every matched pair of fills agrees in LastQty and LastPx (derived: set when
    /// a pair is matched that differs, or a trade correct changes a record).
    fills_may_disagree: bool,
}

/// ClOrdIDs kept inline in each order: the root and the first replace (or the ClOrdID learned
/// after an OrderID-only sighting); longer replace chains continue in the alias pool.
const INLINE_IDS: usize = 2;

impl Order {
    fn new(key: Id, generation: u32) -> Self {
        Self {
            key,
            symbol: Name::new(),
            venue: Name::new(),
            views: [OrderView::default(); 2],
            execs: [NONE; 2],
            execs_tail: [NONE; 2],
            differ_since: None,
            open_phantom: 0,
            open_quantity: 0,
            open_state: 0,
            generation,
            last_activity: Micros(i64::MIN),
            retiring: false,
            live: true,
            ids: [Id::new(); INLINE_IDS],
            id_depth: [0; INLINE_IDS],
            n_ids: 0,
            aliases: NONE,
            order_id: Id::new(),
            lists: [ListSummary::default(); 2],
            fills_may_disagree: false,
        }
    }

    /// Which inline ClOrdID slot holds `id`.
    #[inline]
    fn inline_slot(&self, id: &Id) -> Option<usize> {
        self.ids[..self.n_ids as usize].iter().position(|x| x == id)
    }

    /// The view of `stream`.
    pub fn view(&self, stream: Stream) -> &OrderView {
        &self.views[stream.index()]
    }

    /// True when both streams have reported the order.
    pub fn both_seen(&self) -> bool {
        self.views[0].seen && self.views[1].seen
    }

    /// True when every stream that saw the order shows it terminal: it can only change again
    /// through a late report.
    pub fn is_finished(&self) -> bool {
        self.views.iter().all(|v| !v.seen || v.status.is_terminal())
    }
}

impl ExecRecord {
    fn save(&self, w: &mut SnapWriter<'_>) {
        w.put(&self.stream).put(&self.exec_id);
        save_enum(w, self.kind, &ExecKind::ALL);
        w.put(&self.cum_after).put(&self.last_qty).put(&self.last_px).put(&self.arrival).put(&self.matched);
        w.put(&self.busted).put(&self.missing_id).put(&self.deferred).put(&self.next);
    }

    fn load(r: &mut SnapReader<'_>) -> Result<Self, SnapshotError> {
        Ok(Self {
            stream: r.get()?,
            exec_id: r.get()?,
            kind: load_enum(r, &ExecKind::ALL)?,
            cum_after: r.get()?,
            last_qty: r.get()?,
            last_px: r.get()?,
            arrival: r.get()?,
            matched: r.get()?,
            busted: r.get()?,
            missing_id: r.get()?,
            deferred: r.get()?,
            next: r.get()?,
        })
    }
}

impl Order {
    fn save(&self, w: &mut SnapWriter<'_>) {
        w.put(&self.key).put(&self.symbol).put(&self.venue);
        for v in &self.views {
            v.save(w);
        }
        w.put(&self.execs).put(&self.execs_tail).put(&self.differ_since);
        w.put(&self.open_phantom).put(&self.open_quantity).put(&self.open_state).put(&self.generation);
        w.put(&self.last_activity).put(&self.retiring).put(&self.live);
        w.put(&self.ids).put(&self.id_depth).put(&self.n_ids).put(&self.aliases).put(&self.order_id);
    }

    fn load(r: &mut SnapReader<'_>) -> Result<Self, SnapshotError> {
        Ok(Self {
            key: r.get()?,
            symbol: r.get()?,
            venue: r.get()?,
            views: [OrderView::load(r)?, OrderView::load(r)?],
            execs: r.get()?,
            execs_tail: r.get()?,
            differ_since: r.get()?,
            open_phantom: r.get()?,
            open_quantity: r.get()?,
            open_state: r.get()?,
            generation: r.get()?,
            last_activity: r.get()?,
            retiring: r.get()?,
            live: r.get()?,
            ids: r.get()?,
            id_depth: r.get()?,
            n_ids: r.get()?,
            aliases: r.get()?,
            order_id: r.get()?,
            // Rebuilt from the lists once the records are loaded (OrderStore::load).
            lists: [ListSummary::default(); 2],
            fills_may_disagree: false,
        })
    }
}

/// A ClOrdID of an order beyond its inline ones.
#[derive(Clone, Copy, Debug)]
struct Alias {
    id: Id,
    order: OrderIdx,
    depth: u16,
    /// Next alias of the same order (for removal on retirement).
    next: u32,
}

fn id_hash(id: &Id) -> u64 {
    FixedState::with_seed(0x5eed_f00d).hash_one(id.as_bytes())
}

/// Where the ClOrdID index points: values below the order capacity are an order (the key is
/// one of its inline ClOrdIDs), values from it on are alias-pool entries.
#[derive(Debug)]
struct AliasIndex {
    /// Order capacity: the first pool value.
    orders: u32,
    /// Most pool entries.
    pool: usize,
    entries: Vec<Alias>,
    free: Vec<u32>,
    index: OrderTable,
}

impl AliasIndex {
    fn with_capacity(orders: usize, n: usize) -> Self {
        // Values stay below u32::MAX (the table keeps value + 1).
        let pool = n.min((u32::MAX as usize - 2).saturating_sub(orders));
        Self {
            orders: orders as u32,
            pool,
            entries: Vec::with_capacity(pool),
            free: Vec::with_capacity(pool),
            index: OrderTable::with_capacity(n),
        }
    }

    fn is_full(&self) -> bool {
        self.index.len() >= self.index.capacity()
    }
}

/// Sizing of the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreCapacity {
    /// Orders held at once (live + retiring).
    pub orders: usize,
    /// Execution records held at once.
    pub execs: usize,
}

/// Counters of the store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Orders retired after their retention.
    pub retired: u64,
    /// Retiring orders evicted early because the store was full.
    pub evicted: u64,
    /// Orders (or execution records) that could not be stored: capacity exhausted.
    pub capacity_exhausted: u64,
    /// Most orders held at once.
    pub high_water: u64,
    /// Open orders retired after `open_retention_ms` without a report.
    pub stale_retired: u64,
}

/// Arena of orders with their identity tables, execution records and retirement queue.
#[derive(Debug)]
pub struct OrderStore {
    orders: Vec<Order>,
    free_orders: Vec<OrderIdx>,
    live: usize,
    aliases: AliasIndex,
    /// OrderID -> order (at most one OrderID per order, kept in the order).
    order_ids: OrderTable,
    execs: Vec<ExecRecord>,
    /// Head of the free execution records, linked through their `next` (a released order's
    /// lists are spliced on whole: releasing never walks them).
    free_execs: ExecIdx,
    /// Finished orders in the order they finished: (slot, generation, last activity then).
    retiring: RingQueue<(OrderIdx, u32, Micros)>,
    capacity: StoreCapacity,
    stats: StoreStats,
    /// Next slot [`OrderStore::sweep_stale`] looks at.
    sweep: usize,
}

impl OrderStore {
    /// A store holding at most `capacity` orders and execution records; allocates it all now.
    pub fn with_capacity(capacity: StoreCapacity) -> Self {
        let n = capacity.orders.max(1);
        // The arenas are not advised huge pages (the identity tables are, D23): they fill in
        // gradually from a high-water mark, and a huge-page fault there can stall for
        // compaction in the middle of a run.
        let orders = Vec::with_capacity(n);
        let execs = Vec::with_capacity(capacity.execs.max(1));
        Self {
            orders,
            free_orders: Vec::with_capacity(n),
            live: 0,
            // Replace chains add ClOrdIDs: room for two per order on average.
            aliases: AliasIndex::with_capacity(n, n * 2),
            order_ids: OrderTable::with_capacity(n),
            execs,
            free_execs: NONE,
            retiring: RingQueue::with_capacity(n),
            capacity: StoreCapacity { orders: n, execs: capacity.execs.max(1) },
            stats: StoreStats::default(),
            sweep: 0,
        }
    }

    /// Maps every page of the store's pre-sized arenas and tables now, so that no first touch
    /// of fresh memory (a page fault, slow on a VM) stalls an event later; state is unchanged.
    pub fn prefault(&mut self) {
        use crate::memhint::prefault_spare;
        prefault_spare(&mut self.orders);
        prefault_spare(&mut self.free_orders);
        prefault_spare(&mut self.execs);
        prefault_spare(&mut self.aliases.entries);
        prefault_spare(&mut self.aliases.free);
        self.aliases.index.prefault();
        self.order_ids.prefault();
        self.retiring.prefault();
    }

    /// Orders held.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when no order is held.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Counters.
    pub fn stats(&self) -> StoreStats {
        self.stats
    }

    /// True when slot `idx` exists (has been used: it may be live or free).
    pub fn holds_order(&self, idx: OrderIdx) -> bool {
        (idx as usize) < self.orders.len()
    }

    /// True when execution record `idx` exists.
    pub fn holds_exec(&self, idx: ExecIdx) -> bool {
        (idx as usize) < self.execs.len()
    }

    /// The order at `idx`.
    pub fn order(&self, idx: OrderIdx) -> &Order {
        &self.orders[idx as usize]
    }

    /// The order at `idx`, mutably.
    pub fn order_mut(&mut self, idx: OrderIdx) -> &mut Order {
        &mut self.orders[idx as usize]
    }

    /// The execution record at `idx`.
    pub fn exec(&self, idx: ExecIdx) -> &ExecRecord {
        &self.execs[idx as usize]
    }

    /// The execution record at `idx`, mutably.
    pub fn exec_mut(&mut self, idx: ExecIdx) -> &mut ExecRecord {
        &mut self.execs[idx as usize]
    }

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
    fn prefetch_free_link(&self) {
        if let Some(r) = self.execs.get(self.free_execs as usize) {
            crate::memhint::prefetch(&r.next);
        }
    }

    /// Hints the cache lines of order `idx` that a timer check reads first.
    #[inline]
    pub fn prefetch_order(&self, idx: OrderIdx) {
        if let Some(o) = self.orders.get(idx as usize) {
            crate::memhint::prefetch(&o.generation);
            crate::memhint::prefetch(&o.ids);
            crate::memhint::prefetch(&o.views[0].seen);
            crate::memhint::prefetch(&o.views[1].seen);
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
    fn add_alias(&mut self, id: Id, idx: OrderIdx, depth: u16) {
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
    fn remove_ids(&mut self, idx: OrderIdx) {
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

    /// Looks up the order a ClOrdID (or, failing that, an OrderID) belongs to, without creating.
    pub fn lookup(&self, cl_ord_id: &Id, orig: &Id, order_id: &Id) -> Option<OrderIdx> {
        [orig, cl_ord_id]
            .into_iter()
            .filter(|id| !id.is_empty())
            .find_map(|id| self.get_alias(id).map(|(idx, _)| idx))
            .or_else(|| self.get_order_id(order_id))
    }

    fn create(&mut self, key: Id) -> Result<OrderIdx, CapacityExhausted> {
        if self.live >= self.capacity.orders || self.aliases.is_full() {
            self.evict_oldest_retiring(None)?;
        }
        let idx = match self.free_orders.pop() {
            Some(i) => {
                let generation = self.orders[i as usize].generation.wrapping_add(1);
                self.orders[i as usize] = Order::new(key, generation);
                i
            }
            None => {
                self.orders.push(Order::new(key, 0));
                (self.orders.len() - 1) as OrderIdx
            }
        };
        self.live += 1;
        self.stats.high_water = self.stats.high_water.max(self.live as u64);
        self.add_alias(key, idx, 0);
        Ok(idx)
    }

    /// Releases the oldest order still waiting for retirement, except `keep` (the order an
    /// append is for: freeing it would leave its caller holding a released slot).
    fn evict_oldest_retiring(&mut self, keep: Option<OrderIdx>) -> Result<(), CapacityExhausted> {
        let mut kept = None;
        let mut evicted = false;
        while let Some(entry) = self.retiring.pop_front() {
            let (idx, generation, _) = entry;
            let o = &self.orders[idx as usize];
            if o.generation != generation || !o.retiring {
                continue; // stale: the order left the queue or its slot was reused
            }
            if Some(idx) == keep {
                kept = Some(entry);
                continue;
            }
            self.release(idx);
            self.stats.evicted += 1;
            evicted = true;
            break;
        }
        if let Some(entry) = kept {
            self.retiring.push_front(entry); // back where it was: still the oldest
        }
        if evicted {
            return Ok(());
        }
        self.stats.capacity_exhausted += 1;
        Err(CapacityExhausted)
    }

    /// Queues a finished order for retirement (idempotent).
    pub fn mark_retiring(&mut self, idx: OrderIdx) {
        let o = &mut self.orders[idx as usize];
        if !o.retiring {
            o.retiring = true;
            self.retiring.push_back((idx, o.generation, o.last_activity));
        }
    }

    /// Retires queued orders that are still finished and idle for `retention_us` at `now`;
    /// returns how many. Orders that became active again leave the queue (and re-enter when
    /// they finish again).
    pub fn retire_idle(&mut self, now: Micros, retention_us: i64) -> usize {
        let mut n = 0;
        while let Some(&(idx, generation, queued_at)) = self.retiring.front() {
            let o = &self.orders[idx as usize];
            if o.generation != generation || !o.retiring {
                self.retiring.pop_front();
                continue;
            }
            if !o.is_finished() {
                self.orders[idx as usize].retiring = false;
                self.retiring.pop_front();
                continue;
            }
            if o.last_activity > queued_at {
                // A late report touched it after it finished: it goes to the back, so one
                // busy order cannot hold the queue (the queue stays ordered by activity).
                self.retiring.pop_front();
                self.retiring.push_back((idx, generation, o.last_activity));
                continue;
            }
            if o.last_activity.0.saturating_add(retention_us) > now.0 {
                // Still inside retention, and so is everything queued after it.
                break;
            }
            self.retiring.pop_front();
            self.release(idx);
            self.stats.retired += 1;
            n += 1;
        }
        n
    }

    /// Looks at the next `slots` order slots (a clock hand going round the arena) and retires
    /// those still open but idle for `after_us` at `now`: orders one stream never finished
    /// (a cancel confirmed on one side only …), whose divergence has long been reported, so an
    /// endless run does not fill up with them. Finished orders are left to [`Self::retire_idle`].
    /// Returns how many it retired.
    pub fn sweep_stale(&mut self, now: Micros, after_us: i64, slots: usize) -> usize {
        let mut n = 0;
        for _ in 0..slots.min(self.orders.len()) {
            if self.sweep >= self.orders.len() {
                self.sweep = 0;
            }
            let idx = self.sweep as OrderIdx;
            self.sweep += 1;
            let o = &self.orders[idx as usize];
            if o.live && !o.retiring && o.last_activity.0.saturating_add(after_us) <= now.0 {
                self.release(idx);
                self.stats.stale_retired += 1;
                n += 1;
            }
        }
        n
    }

    /// Frees an order's slot, identifiers and execution records.
    fn release(&mut self, idx: OrderIdx) {
        self.remove_ids(idx);
        // Each list goes onto the free list whole: its tail links to the old head (one
        // record touched per list, where walking it missed the cache once per record).
        let (heads, tails) = (self.orders[idx as usize].execs, self.orders[idx as usize].execs_tail);
        for s in Stream::BOTH {
            let (head, tail) = (heads[s.index()], tails[s.index()]);
            if head != NONE {
                self.execs[tail as usize].next = self.free_execs;
                self.free_execs = head;
            }
        }
        self.prefetch_free_link();
        let slot = &mut self.orders[idx as usize];
        slot.retiring = false;
        slot.live = false;
        slot.generation = slot.generation.wrapping_add(1);
        slot.n_ids = 0;
        slot.aliases = NONE;
        slot.order_id = Id::new();
        slot.execs = [NONE; 2];
        slot.execs_tail = [NONE; 2];
        self.free_orders.push(idx);
        self.live -= 1;
    }

    /// Writes the whole store into a snapshot: every slot ever used (a free slot keeps its
    /// generation), the free lists in their order, the identity tables exactly as laid out,
    /// the execution records and the retirement queue.
    pub fn save(&self, w: &mut SnapWriter<'_>) {
        w.put(&self.capacity.orders).put(&self.capacity.execs).put(&self.live);
        w.put(&self.orders.len());
        for o in &self.orders {
            o.save(w);
        }
        save_slice(w, &self.free_orders);
        w.put(&self.aliases.entries.len());
        for a in &self.aliases.entries {
            w.put(&a.id).put(&a.order).put(&a.depth).put(&a.next);
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
        w.put(&self.sweep);
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
        load_into(r, &mut self.free_orders)?;
        let n = r.count(self.aliases.pool)?;
        self.aliases.entries.clear();
        for _ in 0..n {
            self.aliases.entries.push(Alias { id: r.get()?, order: r.get()?, depth: r.get()?, next: r.get()? });
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
        };
        self.sweep = r.get()?;
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
        // Identity tables: ClOrdID values below the order capacity are orders, the rest pool
        // entries; OrderID values are orders.
        let first_pool = self.aliases.orders as usize;
        let alias_ok = |v: u32| {
            let v = v as usize;
            if v < first_pool { v < no && self.orders[v].live } else { v - first_pool < na && used[v - first_pool] }
        };
        if !self.aliases.index.values().all(alias_ok)
            || !self.order_ids.values().all(|v| (v as usize) < no && self.orders[v as usize].live)
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
    fn derive_summaries(&self, idx: OrderIdx) -> Result<([ListSummary; 2], bool), SnapshotError> {
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
        d.u64(self.live as u64).u64(self.sweep as u64);
        for (idx, o) in self.orders.iter().enumerate().filter(|(_, o)| o.live) {
            d.u64(idx as u64).text(o.key.as_bytes()).text(o.symbol.as_bytes()).text(o.venue.as_bytes());
            for v in &o.views {
                v.digest_into(d);
            }
            d.i64(o.differ_since.map_or(i64::MIN, |t| t.0)).u64(o.open_phantom).u64(o.open_quantity).u64(o.open_state);
            d.i64(o.last_activity.0).u64(o.retiring as u64);
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

    /// Finds the record with `exec_id` among the order's records on `stream`.
    pub fn find_exec(&self, order: OrderIdx, stream: Stream, exec_id: &Id) -> Option<ExecIdx> {
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
    pub fn pair_fills(&mut self, order: OrderIdx, f: ExecIdx, p: ExecIdx) {
        let (a, b) = (self.execs[f as usize], self.execs[p as usize]);
        debug_assert!(a.matched == NONE && b.matched == NONE && a.kind == ExecKind::Fill && b.kind == ExecKind::Fill);
        self.execs[f as usize].matched = p;
        self.execs[p as usize].matched = f;
        let o = &mut self.orders[order as usize];
        o.lists[a.stream.index()].unmatched_fills -= 1;
        o.lists[b.stream.index()].unmatched_fills -= 1;
        o.fills_may_disagree |= a.last_qty != b.last_qty || a.last_px != b.last_px;
    }

    /// Notes that a trade correct changed one of the order's records (its matched pair, if
    /// any, may no longer agree).
    pub fn note_corrected(&mut self, order: OrderIdx) {
        self.orders[order as usize].fills_may_disagree = true;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decimal::Fixed;
    use crate::event::OrdStatus;

    fn id(s: &str) -> Id {
        Id::from_bytes(s.as_bytes()).unwrap()
    }

    fn store(orders: usize) -> OrderStore {
        OrderStore::with_capacity(StoreCapacity { orders, execs: orders * 4 })
    }

    fn rec(x: &str) -> ExecRecord {
        ExecRecord {
            stream: Stream::Primary,
            exec_id: id(x),
            kind: ExecKind::Fill,
            cum_after: Qty::ZERO,
            last_qty: Qty::ZERO,
            last_px: Price::ZERO,
            arrival: Micros(0),
            matched: NONE,
            busted: false,
            missing_id: 0,
            deferred: false,
            next: NONE,
        }
    }

    #[test]
    fn replace_chain_maps_every_clordid_to_the_root() {
        let mut s = store(4);
        let e = Id::new();
        let (a, d0) = s.resolve(&id("C1"), &e, &id("V1")).unwrap();
        let (b, d1) = s.resolve(&id("C1.R1"), &id("C1"), &e).unwrap();
        let (c, d2) = s.resolve(&id("C1.R2"), &id("C1.R1"), &e).unwrap();
        assert_eq!((a, b, c), (0, 0, 0));
        assert_eq!((d0, d1, d2), (0, 1, 2));
        assert_eq!(s.order(0).key, id("C1"));
        // Missing ClOrdID: OrderID learned earlier maps to the same order.
        assert_eq!(s.resolve(&e, &e, &id("V1")).unwrap().0, 0);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn an_order_first_seen_by_orderid_only_takes_its_clordid_later() {
        let mut s = store(4);
        let e = Id::new();
        let (a, _) = s.resolve(&e, &e, &id("V9")).unwrap();
        assert_eq!(s.order(a).key, id("V9"));
        let (b, _) = s.resolve(&id("C9"), &e, &id("V9")).unwrap();
        assert_eq!(a, b, "one order, not two");
        assert_eq!(s.order(a).key, id("C9"), "keyed by its root ClOrdID once known");
        assert_eq!(s.resolve(&id("C9.R1"), &id("C9"), &e).unwrap().0, a);
    }

    #[test]
    fn replace_seen_before_its_original_uses_origclordid_as_root() {
        let mut s = store(4);
        let e = Id::new();
        let (a, _) = s.resolve(&id("C2.R1"), &id("C2"), &e).unwrap();
        let (b, d) = s.resolve(&id("C2"), &e, &e).unwrap();
        assert_eq!((a, b, d), (0, 0, 0));
        assert_eq!(s.order(0).key, id("C2"));
    }

    #[test]
    fn exec_lists_keep_arrival_order_per_stream() {
        let mut s = store(4);
        let (o, _) = s.resolve(&id("C3"), &Id::new(), &Id::new()).unwrap();
        s.push_exec(o, Stream::Primary, rec("E1")).unwrap();
        s.push_exec(o, Stream::DropCopy, rec("X1")).unwrap();
        s.push_exec(o, Stream::Primary, rec("E2")).unwrap();
        let ids: Vec<_> = s.execs_of(o, Stream::Primary).map(|i| s.exec(i).exec_id).collect();
        assert_eq!(ids, vec![id("E1"), id("E2")]);
        assert_eq!(s.find_exec(o, Stream::DropCopy, &id("X1")), Some(1));
        assert_eq!(s.find_exec(o, Stream::DropCopy, &id("E1")), None);
    }

    fn finish(s: &mut OrderStore, idx: OrderIdx, at: i64) {
        let o = s.order_mut(idx);
        o.views[0].seen = true;
        o.views[0].status = OrdStatus::Filled;
        o.last_activity = Micros(at);
        s.mark_retiring(idx);
    }

    #[test]
    fn orderid_none_never_joins_orders_and_a_busy_finished_order_does_not_block_retirement() {
        let mut s = store(8);
        let e = Id::new();
        let (a, _) = s.resolve(&id("R1"), &e, &id("NONE")).unwrap();
        let (b, _) = s.resolve(&id("R2"), &e, &id("NONE")).unwrap();
        assert_ne!(a, b, "internal rejects share OrderID NONE but are different orders");
        finish(&mut s, a, 0);
        finish(&mut s, b, 1);
        s.order_mut(a).last_activity = Micros(50); // a late report after it finished
        s.retire_idle(Micros(20), 10);
        assert_eq!(s.lookup(&id("R2"), &e, &e), None, "B retires although A, ahead of it, is still busy");
        assert_eq!(s.lookup(&id("R1"), &e, &e), Some(a));
        s.retire_idle(Micros(61), 10);
        assert_eq!(s.lookup(&id("R1"), &e, &e), None);
    }

    #[test]
    fn the_sweep_retires_open_orders_idle_too_long_and_nothing_else() {
        let mut s = store(8);
        let e = Id::new();
        let (open, _) = s.resolve(&id("OPEN"), &e, &e).unwrap();
        let (busy, _) = s.resolve(&id("BUSY"), &e, &e).unwrap();
        let (done, _) = s.resolve(&id("DONE"), &e, &e).unwrap();
        s.order_mut(open).last_activity = Micros(0);
        s.order_mut(busy).last_activity = Micros(90);
        finish(&mut s, done, 0); // finished: left to retire_idle
        assert_eq!(s.sweep_stale(Micros(100), 50, 8), 1);
        assert_eq!(s.lookup(&id("OPEN"), &e, &e), None, "idle open order retired");
        assert_eq!(s.lookup(&id("BUSY"), &e, &e), Some(busy));
        assert_eq!(s.lookup(&id("DONE"), &e, &e), Some(done));
        assert_eq!(s.stats().stale_retired, 1);
        // The hand moves on a few slots per call and comes round again.
        s.order_mut(busy).last_activity = Micros(100);
        let mut n = 0;
        for _ in 0..4 {
            n += s.sweep_stale(Micros(200), 50, 1);
        }
        assert_eq!(n, 1, "BUSY retired once the hand reached it");
    }

    #[test]
    fn full_store_evicts_oldest_retiring_else_reports_exhaustion() {
        let mut s = store(2);
        let e = Id::new();
        let (a, _) = s.resolve(&id("A"), &e, &e).unwrap();
        let (b, _) = s.resolve(&id("B"), &e, &e).unwrap();
        assert_eq!(s.resolve(&id("C"), &e, &e), Err(CapacityExhausted));
        assert_eq!(s.stats().capacity_exhausted, 1);
        finish(&mut s, b, 10);
        finish(&mut s, a, 20);
        let (c, _) = s.resolve(&id("C"), &e, &e).unwrap();
        assert_eq!(c, b, "the oldest retiring order (B) is evicted and its slot reused");
        assert_eq!(s.stats().evicted, 1);
        assert_eq!(s.lookup(&id("B"), &e, &e), None);
        assert_eq!(s.lookup(&id("A"), &e, &e), Some(a));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn retirement_after_retention_frees_everything_for_reuse() {
        let mut s = store(3);
        let e = Id::new();
        for round in 0..100 {
            let name = format!("O{round}");
            let (o, _) = s.resolve(&id(&name), &e, &id(&format!("V{round}"))).unwrap();
            s.push_exec(o, Stream::Primary, rec("E1")).unwrap();
            s.push_exec(o, Stream::Primary, rec("E2")).unwrap();
            finish(&mut s, o, round * 10);
            s.retire_idle(Micros(round * 10), 15);
            assert!(s.len() <= 3);
        }
        assert!(s.stats().retired >= 97);
        assert_eq!(s.stats().evicted + s.stats().capacity_exhausted, 0);
        assert!(s.execs.len() <= 12, "exec records are reused, not grown");
    }

    #[test]
    fn an_exec_bit_depends_on_the_value_only() {
        let mut reused = id("EXEC-0000000000000001-LONG");
        reused.set(b"E1").unwrap(); // the bytes past the value are left over, never read
        assert_eq!(exec_bit(&reused), exec_bit(&id("E1")));
        assert_eq!(exec_bit(&id("E1")).count_ones(), 1);
        // Mostly different bits for ids that differ in their last characters.
        let bits: u64 = (0..16).map(|n| exec_bit(&id(&format!("EXEC-{n:04}")))).fold(0, |a, b| a | b);
        assert!(bits.count_ones() >= 8, "{bits:064b}");
    }

    proptest::proptest! {
        /// The summaries kept beside the lists are the ones the records imply (and those a
        /// snapshot load rebuilds), so a lookup they let skip a walk would have found nothing.
        #[test]
        fn list_summaries_always_match_their_lists(
            ops in proptest::collection::vec((0u8..4, 0u8..3, 0u8..2, 0u8..12, 0i64..3), 1..120)
        ) {
            let mut s = OrderStore::with_capacity(StoreCapacity { orders: 4, execs: 24 });
            let e = Id::new();
            for (op, o, st, x, q) in ops {
                let stream = Stream::BOTH[st as usize];
                let key = id(&format!("O{o}"));
                match op {
                    // Append a fill or a status report (a small id alphabet: repeats happen).
                    0 | 1 => {
                        let Ok((idx, _)) = s.resolve(&key, &e, &e) else { continue };
                        let kind = if op == 0 { ExecKind::Fill } else { ExecKind::Status };
                        let r = ExecRecord { kind, last_qty: Fixed(q), stream, ..rec(&format!("X{x}")) };
                        s.push_exec(idx, stream, r);
                    }
                    // Pair the first unmatched fill on each stream.
                    2 => {
                        let Some(idx) = s.lookup(&key, &e, &e) else { continue };
                        let first = |st| s.execs_of(idx, st).find(|&i| {
                            let r = s.exec(i);
                            r.kind == ExecKind::Fill && r.matched == NONE
                        });
                        if let (Some(f), Some(p)) = (first(Stream::Primary), first(Stream::DropCopy)) {
                            s.pair_fills(idx, f, p);
                        }
                    }
                    // Finish and retire (its slot and records are reused later).
                    _ => {
                        let Some(idx) = s.lookup(&key, &e, &e) else { continue };
                        finish(&mut s, idx, 0);
                        s.retire_idle(Micros(100), 1);
                    }
                }
                for idx in 0..s.orders.len() as OrderIdx {
                    if !s.order(idx).live {
                        continue;
                    }
                    let (lists, disagree) = s.derive_summaries(idx).unwrap();
                    proptest::prop_assert_eq!(s.order(idx).lists, lists);
                    proptest::prop_assert!(s.fills_may_disagree(idx) || !disagree);
                    for x in 0..12 {
                        let x = id(&format!("X{x}"));
                        for st in Stream::BOTH {
                            let walked = s.execs_of(idx, st).find(|&i| s.exec(i).exec_id == x);
                            proptest::prop_assert_eq!(s.find_exec(idx, st, &x), walked);
                        }
                    }
                }
            }
            let mut buf = Vec::new();
            s.save(&mut SnapWriter::new(&mut buf));
            let mut t = OrderStore::with_capacity(StoreCapacity { orders: 4, execs: 24 });
            t.load(&mut SnapReader::new(&buf)).unwrap();
            for idx in 0..s.orders.len() as OrderIdx {
                if s.order(idx).live {
                    proptest::prop_assert_eq!(t.order(idx).lists, s.order(idx).lists);
                    proptest::prop_assert!(s.fills_may_disagree(idx) || !t.fills_may_disagree(idx));
                }
            }
        }
    }

    #[test]
    fn a_released_orders_records_on_both_streams_are_reused_whole_and_survive_a_snapshot() {
        // A pool of exactly four records: order A takes them all, two per stream.
        let mut s = OrderStore::with_capacity(StoreCapacity { orders: 2, execs: 4 });
        let e = Id::new();
        let names = |s: &OrderStore, o, st| -> Vec<String> {
            s.execs_of(o, st).map(|i| s.exec(i).exec_id.to_string()).collect()
        };
        let (a, _) = s.resolve(&id("A"), &e, &e).unwrap();
        for (st, x) in
            [(Stream::Primary, "P1"), (Stream::DropCopy, "D1"), (Stream::Primary, "P2"), (Stream::DropCopy, "D2")]
        {
            s.push_exec(a, st, rec(x)).unwrap();
        }
        finish(&mut s, a, 10);
        s.retire_idle(Micros(100), 15);
        assert_eq!(s.stats().retired, 1);
        // B reuses all four records (the pool cannot grow), with nothing evicted.
        let (b, _) = s.resolve(&id("B"), &e, &e).unwrap();
        s.push_exec(b, Stream::Primary, rec("B1")).unwrap();
        s.push_exec(b, Stream::DropCopy, rec("B2")).unwrap();
        // A snapshot taken with half the free list left restores the same free list.
        let mut buf = Vec::new();
        s.save(&mut SnapWriter::new(&mut buf));
        let mut t = OrderStore::with_capacity(StoreCapacity { orders: 2, execs: 4 });
        t.load(&mut SnapReader::new(&buf)).unwrap();
        for st in [&mut s, &mut t] {
            st.push_exec(b, Stream::Primary, rec("B3")).unwrap();
            st.push_exec(b, Stream::Primary, rec("B4")).unwrap();
            assert_eq!(st.execs.len(), 4, "records are reused, not grown");
            assert_eq!(names(st, b, Stream::Primary), ["B1", "B3", "B4"]);
            assert_eq!(names(st, b, Stream::DropCopy), ["B2"]);
            assert_eq!(st.stats().evicted + st.stats().capacity_exhausted, 0);
            // The pool is now exhausted: with nothing retiring, the next record is refused.
            assert_eq!(st.push_exec(b, Stream::DropCopy, rec("B5")), None);
            assert_eq!(names(st, b, Stream::DropCopy), ["B2"]);
        }
    }

    #[test]
    fn an_append_to_a_full_pool_never_evicts_the_order_it_is_for() {
        // One record in all. A finished order holds it and is the only one retiring, so a late
        // report for it has nothing to evict but itself: refused, and the order stays whole.
        let mut s = OrderStore::with_capacity(StoreCapacity { orders: 2, execs: 1 });
        let e = Id::new();
        let (a, _) = s.resolve(&id("A"), &e, &e).unwrap();
        s.push_exec(a, Stream::Primary, rec("E1")).unwrap();
        finish(&mut s, a, 10);
        let generation = s.order(a).generation;
        assert_eq!(s.push_exec(a, Stream::DropCopy, rec("E2")), None);
        assert_eq!(s.stats().capacity_exhausted, 1);
        assert_eq!(s.stats().evicted, 0);
        assert_eq!((s.len(), s.order(a).generation), (1, generation), "A is still live, same slot");
        assert_eq!(s.lookup(&id("A"), &e, &e), Some(a));
        assert_eq!(s.execs_of(a, Stream::Primary).count(), 1);
        // A is still first in the queue: another order's append evicts it, once.
        let (b, _) = s.resolve(&id("B"), &e, &e).unwrap();
        s.push_exec(b, Stream::Primary, rec("F1")).unwrap();
        assert_eq!(s.stats().evicted, 1);
        assert_eq!(s.lookup(&id("A"), &e, &e), None);
        assert_eq!(s.len(), 1);
        s.retire_idle(Micros(1_000_000), 15);
        assert_eq!(s.len(), 1, "nothing is released twice");
    }
}
