//! The `OrderStore` that ties the order arena, the identity tables, the execution-record pool
//! and the retirement queue together.
//!
//! Owns: the store's fields, its sizing and counters, construction (every arena and table is
//! allocated here, once, the retired-order memory included) and read access to orders and
//! records by index. Its operations live with their concept (`arena`, `identity`,
//! `exec_lists`, `persist`, `retired_record`). Never grows after construction, and knows
//! nothing of divergences.

use super::alias_pool::AliasIndex;
use super::exec_record::{ExecIdx, ExecRecord, NONE};
use super::index::OrderTable;
use super::joins::Joins;
use super::order_record::{Order, OrderIdx};
use super::retired_memory::{BYTES_PER_ORDER, RetiredMemory, RetiredRef};
use super::ring_queue::RingQueue;
use super::staging::{self, Staging};
use crate::event::Stream;
use crate::time::Micros;

/// The store is full of live orders and none is retired: the new order cannot be tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapacityExhausted;

/// Why [`OrderStore::resolve`] gave no live order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unresolved {
    /// The report is of a new order and the store is full ([`CapacityExhausted`]).
    CapacityExhausted,
    /// The report is of a retired order the store remembers (contract 2.2): nothing was
    /// changed; the caller checks the record for its ExecID and [`OrderStore::reopen`]s it.
    Retired(RetiredRef),
}

impl From<CapacityExhausted> for Unresolved {
    fn from(_: CapacityExhausted) -> Self {
        Unresolved::CapacityExhausted
    }
}

/// How long retired orders are remembered, and how many at most (contract 2.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetiredCapacity {
    /// Records held at once (0: the memory is off).
    pub orders: usize,
    /// How long each is kept after it retired, µs of event time (0: off).
    pub keep_us: i64,
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
    /// Provisional parts joined to the order a later report tied them to (contract 2.1).
    pub joined: u64,
    /// Retired orders remembered (contract 2.2).
    pub remembered: u64,
    /// Retired orders a late report reopened.
    pub reopened: u64,
    /// Remembered orders forgotten once their `retired_memory` was up.
    pub forgotten: u64,
    /// Remembered orders forgotten early, oldest first, because the retired memory was full
    /// (and orders too large to remember at all).
    pub forgotten_early: u64,
}

/// Arena of orders with their identity tables, execution records and retirement queue.
#[derive(Debug)]
pub struct OrderStore {
    pub(super) orders: Vec<Order>,
    pub(super) free_orders: Vec<OrderIdx>,
    pub(super) live: usize,
    pub(super) aliases: AliasIndex,
    /// OrderID -> order: the order's first OrderID is kept in the order (the value is its slot),
    /// further ones in the alias pool (the value is the pool entry, as in the ClOrdID index).
    pub(super) order_ids: OrderTable,
    pub(super) execs: Vec<ExecRecord>,
    /// Head of the free execution records, linked through their `next` (a released order's
    /// lists are spliced on whole: releasing never walks them).
    pub(super) free_execs: ExecIdx,
    /// Finished orders in the order they finished: (slot, generation, last activity then).
    pub(super) retiring: RingQueue<(OrderIdx, u32, Micros)>,
    pub(super) capacity: StoreCapacity,
    pub(super) stats: StoreStats,
    /// Next slot [`OrderStore::sweep_stale`] looks at.
    pub(super) sweep: usize,
    /// The joins the last `resolve` did, until the reconciler takes them (never in a snapshot:
    /// always empty between two reports).
    pub(super) joins: Joins,
    /// The compact records of retired orders (contract 2.2).
    pub(super) retired: RetiredMemory,
    /// The event time of the latest [`OrderStore::retire_idle`]: an order evicted from a full
    /// store is remembered as retired then.
    pub(super) clock: Micros,
    /// How far the next order due to retire has been brought into cache (a hint only: never
    /// in a snapshot or the digest; see [`OrderStore::warm_next_retiring`]).
    pub(super) warm: WarmCursor,
    /// Retired records written ahead when orders finish (a cache only: never in a snapshot or
    /// the digest; D110).
    pub(super) staging: Staging,
    /// The retention of the latest [`OrderStore::retire_idle`] (a record staged now is
    /// encoded as retired this long after the order's last activity).
    pub(super) retention_us: i64,
    /// Orders remembered from their staged record (tests only: proves the path is taken).
    #[cfg(test)]
    pub(super) staged_hits: u64,
}

/// The next retiring order whose execution records are being prefetched, one record per
/// [`OrderStore::retire_idle`] call, so that remembering it later does not wait on memory.
#[derive(Clone, Copy, Debug)]
pub(super) struct WarmCursor {
    /// The order (slot and generation); `NONE` slot: nothing under way.
    pub(super) order: (OrderIdx, u32),
    /// The stream whose list is being walked.
    pub(super) stream: Stream,
    /// The record prefetched last (its `next` is read on the following call), or `NONE`.
    pub(super) at: ExecIdx,
}

impl Default for WarmCursor {
    fn default() -> Self {
        Self { order: (NONE, 0), stream: Stream::Primary, at: NONE }
    }
}

impl OrderStore {
    /// A store holding at most `capacity` orders and execution records, with no retired-order
    /// memory; allocates it all now.
    pub fn with_capacity(capacity: StoreCapacity) -> Self {
        Self::with_memory(capacity, RetiredCapacity::default())
    }

    /// A store holding at most `capacity` orders and execution records, remembering retired
    /// orders as `retired` says; allocates it all now.
    pub fn with_memory(capacity: StoreCapacity, retired: RetiredCapacity) -> Self {
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
            // Replace chains add ClOrdIDs (and, at venues that re-key on replace, OrderIDs): room
            // for two per order on average.
            aliases: AliasIndex::with_capacity(n, n * 2),
            order_ids: OrderTable::with_capacity(n),
            execs,
            free_execs: NONE,
            retiring: RingQueue::with_capacity(n),
            capacity: StoreCapacity { orders: n, execs: capacity.execs.max(1) },
            stats: StoreStats::default(),
            sweep: 0,
            joins: Joins::default(),
            retired: RetiredMemory::with_capacity(retired.orders, retired.keep_us),
            clock: Micros(i64::MIN),
            warm: WarmCursor::default(),
            staging: Staging::with_capacity(if retired.orders > 0 && retired.keep_us > 0 {
                n.min(retired.orders).saturating_mul(BYTES_PER_ORDER).min(staging::MAX_BYTES)
            } else {
                0
            }),
            retention_us: 0,
            #[cfg(test)]
            staged_hits: 0,
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
        self.retired.prefault();
        self.staging.prefault();
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
        let r = self.retired.stats();
        StoreStats {
            remembered: r.remembered,
            forgotten: r.forgotten,
            forgotten_early: r.forgotten_early,
            ..self.stats
        }
    }

    /// The retired-order memory (read-only: its size, for figures and tests).
    pub fn retired(&self) -> &RetiredMemory {
        &self.retired
    }

    /// Forgets the retired orders whose `retired_memory` is up at `now`; returns how many.
    pub fn forget_retired(&mut self, now: Micros) -> usize {
        self.retired.forget_expired(now)
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

    /// The order at `idx`, mutably (its staged retired record, if any, is dropped: the caller
    /// may change it).
    pub fn order_mut(&mut self, idx: OrderIdx) -> &mut Order {
        let o = &mut self.orders[idx as usize];
        o.unstage();
        o
    }

    /// The execution record at `idx`.
    pub fn exec(&self, idx: ExecIdx) -> &ExecRecord {
        &self.execs[idx as usize]
    }

    /// The execution record at `idx` of order `order`, mutably (the order's staged retired
    /// record, if any, is dropped: the caller may change the record).
    pub fn exec_mut(&mut self, order: OrderIdx, idx: ExecIdx) -> &mut ExecRecord {
        self.orders[order as usize].unstage();
        &mut self.execs[idx as usize]
    }
}
