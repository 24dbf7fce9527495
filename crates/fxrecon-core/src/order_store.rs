//! The canonical state of every order: both views, its executions, and identity lookups.
//!
//! Owns: the order arena, the ClOrdID alias table (every ClOrdID of a replace chain maps to
//! the root order), the OrderID table, and each order's execution records per stream.
//! Knows nothing of divergences: that is the reconciler's business.

use std::collections::HashMap;

use foldhash::fast::FixedState;

use crate::decimal::{Price, Qty};
use crate::event::Stream;
use crate::order_view::OrderView;
use crate::text::{Id, Name};
use crate::time::Micros;

/// Index of an order in the arena.
pub type OrderIdx = u32;
/// Index of an execution record.
pub type ExecIdx = u32;
/// "No record" marker for [`ExecIdx`] links.
pub const NONE: ExecIdx = u32::MAX;

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
}

impl Order {
    fn new(key: Id) -> Self {
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
        }
    }

    /// The view of `stream`.
    pub fn view(&self, stream: Stream) -> &OrderView {
        &self.views[stream.index()]
    }

    /// True when both streams have reported the order.
    pub fn both_seen(&self) -> bool {
        self.views[0].seen && self.views[1].seen
    }
}

type Map<V> = HashMap<Id, V, FixedState>;

/// Arena of orders with their identity tables and execution records.
#[derive(Debug)]
pub struct OrderStore {
    orders: Vec<Order>,
    aliases: Map<(OrderIdx, u16)>,
    by_order_id: Map<OrderIdx>,
    execs: Vec<ExecRecord>,
}

impl OrderStore {
    /// A store pre-sized for `orders` orders.
    pub fn with_capacity(orders: usize) -> Self {
        Self {
            orders: Vec::with_capacity(orders),
            aliases: HashMap::with_capacity_and_hasher(orders * 2, FixedState::with_seed(0)),
            by_order_id: HashMap::with_capacity_and_hasher(orders, FixedState::with_seed(0)),
            execs: Vec::with_capacity(orders * 8),
        }
    }

    /// Number of orders held.
    pub fn len(&self) -> usize {
        self.orders.len()
    }

    /// True when no order is held.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
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
    /// report's ClOrdID. `cl_ord_id`, `orig` and `order_id` may be empty.
    pub fn resolve(&mut self, cl_ord_id: &Id, orig: &Id, order_id: &Id) -> (OrderIdx, u16) {
        let found = if !cl_ord_id.is_empty() {
            if !orig.is_empty() {
                let root = self.aliases.get(orig).copied();
                match (root, self.aliases.get(cl_ord_id).copied()) {
                    (_, Some(known)) => known,
                    (Some((idx, depth)), None) => {
                        self.aliases.insert(*cl_ord_id, (idx, depth + 1));
                        (idx, depth + 1)
                    }
                    (None, None) => {
                        let idx = self.create(*orig);
                        self.aliases.insert(*cl_ord_id, (idx, 1));
                        (idx, 1)
                    }
                }
            } else if let Some(known) = self.aliases.get(cl_ord_id).copied() {
                known
            } else {
                (self.create(*cl_ord_id), 0)
            }
        } else if let Some(&idx) = self.by_order_id.get(order_id) {
            (idx, 0)
        } else {
            (self.create(*order_id), 0)
        };
        if !order_id.is_empty() {
            self.by_order_id.entry(*order_id).or_insert(found.0);
        }
        found
    }

    /// Looks up the order a ClOrdID (or, failing that, an OrderID) belongs to, without creating.
    pub fn lookup(&self, cl_ord_id: &Id, orig: &Id, order_id: &Id) -> Option<OrderIdx> {
        [orig, cl_ord_id]
            .into_iter()
            .filter(|id| !id.is_empty())
            .find_map(|id| self.aliases.get(id).map(|&(idx, _)| idx))
            .or_else(|| self.by_order_id.get(order_id).copied())
    }

    fn create(&mut self, key: Id) -> OrderIdx {
        let idx = self.orders.len() as OrderIdx;
        self.orders.push(Order::new(key));
        self.aliases.insert(key, (idx, 0));
        idx
    }

    /// Finds the record with `exec_id` among the order's records on `stream`.
    pub fn find_exec(&self, order: OrderIdx, stream: Stream, exec_id: &Id) -> Option<ExecIdx> {
        self.execs_of(order, stream)
            .find(|&i| self.execs[i as usize].exec_id == *exec_id)
    }

    /// Appends a record to the order's list on `stream`.
    pub fn push_exec(&mut self, order: OrderIdx, stream: Stream, rec: ExecRecord) -> ExecIdx {
        let idx = self.execs.len() as ExecIdx;
        self.execs.push(ExecRecord { next: NONE, ..rec });
        let o = &mut self.orders[order as usize];
        let s = stream.index();
        match o.execs_tail[s] {
            NONE => o.execs[s] = idx,
            tail => self.execs[tail as usize].next = idx,
        }
        self.orders[order as usize].execs_tail[s] = idx;
        idx
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

    fn id(s: &str) -> Id {
        Id::from_bytes(s.as_bytes()).unwrap()
    }

    #[test]
    fn replace_chain_maps_every_clordid_to_the_root() {
        let mut s = OrderStore::with_capacity(4);
        let e = Id::new();
        let (a, d0) = s.resolve(&id("C1"), &e, &id("V1"));
        let (b, d1) = s.resolve(&id("C1.R1"), &id("C1"), &e);
        let (c, d2) = s.resolve(&id("C1.R2"), &id("C1.R1"), &e);
        assert_eq!((a, b, c), (0, 0, 0));
        assert_eq!((d0, d1, d2), (0, 1, 2));
        assert_eq!(s.order(0).key, id("C1"));
        // Missing ClOrdID: OrderID learned earlier maps to the same order.
        assert_eq!(s.resolve(&e, &e, &id("V1")).0, 0);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn replace_seen_before_its_original_uses_origclordid_as_root() {
        let mut s = OrderStore::with_capacity(4);
        let e = Id::new();
        let (a, _) = s.resolve(&id("C2.R1"), &id("C2"), &e);
        let (b, d) = s.resolve(&id("C2"), &e, &e);
        assert_eq!((a, b, d), (0, 0, 0));
        assert_eq!(s.order(0).key, id("C2"));
    }

    #[test]
    fn exec_lists_keep_arrival_order_per_stream() {
        let mut s = OrderStore::with_capacity(4);
        let (o, _) = s.resolve(&id("C3"), &Id::new(), &Id::new());
        let rec = |x: &str| ExecRecord {
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
        };
        s.push_exec(o, Stream::Primary, rec("E1"));
        s.push_exec(o, Stream::DropCopy, rec("X1"));
        s.push_exec(o, Stream::Primary, rec("E2"));
        let ids: Vec<_> = s.execs_of(o, Stream::Primary).map(|i| s.exec(i).exec_id).collect();
        assert_eq!(ids, vec![id("E1"), id("E2")]);
        assert_eq!(s.find_exec(o, Stream::DropCopy, &id("X1")), Some(1));
        assert_eq!(s.find_exec(o, Stream::DropCopy, &id("E1")), None);
    }
}
