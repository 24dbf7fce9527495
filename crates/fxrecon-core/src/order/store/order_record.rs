//! One slot of the order arena: everything known about one order.
//!
//! Owns: `Order` (both views, the heads and tails of its execution lists, its open
//! divergences, its first ClOrdIDs inline, its slot generation, whether it was reopened from
//! the retired memory) and its snapshot form. Plain
//! `Copy` data: never allocates and never looks outside its own slot; the store decides when
//! a slot is taken, reused or released.

use super::exec_record::{ExecIdx, ListSummary, NONE};
use crate::event::Stream;
use crate::order::view::OrderView;
use crate::snapshot::{SnapReader, SnapWriter, SnapshotError, load_enum, save_enum};
use crate::text::{Id, Name};
use crate::time::Micros;

/// Index of an order slot in the arena.
pub type OrderIdx = u32;

/// Everything known about one order.
#[derive(Clone, Copy, Debug)]
pub struct Order {
    /// Root ClOrdID: the lowest link of the replace chain known so far (or the OrderID when no
    /// ClOrdID was ever seen).
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
    pub(super) ids: [Id; INLINE_IDS],
    /// Replace-chain depth of each inline ClOrdID.
    pub(super) id_depth: [u16; INLINE_IDS],
    /// Inline ClOrdIDs in use.
    pub(super) n_ids: u8,
    /// Head of the order's further ClOrdIDs in the alias pool.
    pub(super) aliases: u32,
    /// The first OrderID the order is indexed under (empty: none); further ones are in the
    /// pool, on the `aliases` chain.
    pub(super) order_id: Id,
    /// Chain depth of the link whose report first carried `order_id`.
    pub(super) order_id_depth: u16,
    /// What the order knows of its chain's root (contract 2.1).
    pub(super) standing: Standing,
    /// Summaries of the two execution lists (derived; see [`ListSummary`]).
    pub(super) lists: [ListSummary; 2],
    /// False while every matched pair of fills agrees in LastQty and LastPx (derived: set when
    /// a pair is matched that differs, or a trade correct changes a record).
    pub(super) fills_may_disagree: bool,
    /// True once the order was put back from the retired memory (contract 2.2): some of its
    /// execution records hold the hash of their ExecID, so a lookup that misses tries it.
    pub(super) reopened: bool,
    /// Where its retired record was written ahead, when it finished (derived: never in a
    /// snapshot or the digest; see `OrderStore::stage_retired`). Every change to the order
    /// clears it ([`Order::unstage`]): a record staged is still true.
    pub(super) staged: Staged,
}

/// Where an order's retired record waits in the store's staging ring (`len` 0: nowhere).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Staged {
    /// Position in the staging ring (counted from its start, never wrapping).
    pub(super) at: u64,
    /// Bytes of the record (0: not staged).
    pub(super) len: u32,
}

/// ClOrdIDs kept inline in each order: the root and the first replace (or the ClOrdID learned
/// after an OrderID-only sighting); longer replace chains continue in the alias pool.
pub(super) const INLINE_IDS: usize = 2;

/// What an order knows of its replace chain's root, which decides how a link of unknown
/// place is attached to it (contract 2.1, "links out of order").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Standing {
    /// Its root is known and every link it knows hangs off it, link by link: a link it does
    /// not know comes after all of them.
    #[default]
    Rooted,
    /// Its root is known, and so are links whose place among the links it does not know is
    /// not (attached by OrderID above the others): a link it does not know may come anywhere.
    Gapped,
    /// Its root is unknown: a provisional part, started by a link whose OrigClOrdID was
    /// unknown, by a report naming no OrigClOrdID that opens nothing, or by an OrderID alone.
    /// Its links hang off each other; its depths count from [`PROVISIONAL_BASE`], so that
    /// earlier links fit below.
    Provisional,
}

impl Standing {
    /// Every value (for snapshots).
    pub const ALL: [Standing; 3] = [Standing::Rooted, Standing::Gapped, Standing::Provisional];
}

/// Chain depth of the first known link of an order whose root is unknown: links learnt later
/// as OrigClOrdIDs sit below it, and a chain with a known root counts from 0 far below.
pub(super) const PROVISIONAL_BASE: u16 = 0x8000;

impl Order {
    pub(super) fn new(key: Id, generation: u32) -> Self {
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
            order_id_depth: 0,
            standing: Standing::Rooted,
            lists: [ListSummary::default(); 2],
            fills_may_disagree: false,
            reopened: false,
            staged: Staged::default(),
        }
    }

    /// Marks the order changed since its retired record was staged (the record is written
    /// again when it retires). Every path that changes an order calls this.
    #[inline]
    pub(super) fn unstage(&mut self) {
        self.staged.len = 0;
    }

    /// Which inline ClOrdID slot holds `id`.
    #[inline]
    pub(super) fn inline_slot(&self, id: &Id) -> Option<usize> {
        self.ids[..self.n_ids as usize].iter().position(|x| x == id)
    }

    /// True when the order has a ClOrdID (else it is known by its OrderIDs only). Pool
    /// ClOrdIDs only ever follow full inline slots.
    #[inline]
    pub(super) fn has_cl_ord_id(&self) -> bool {
        self.n_ids > 0
    }

    /// True while the chain's root is unknown.
    #[inline]
    pub(super) fn provisional(&self) -> bool {
        self.standing == Standing::Provisional
    }

    /// True once any stream reported the order.
    #[inline]
    pub fn sighted(&self) -> bool {
        self.views[0].seen || self.views[1].seen
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

impl Order {
    pub(super) fn save(&self, w: &mut SnapWriter<'_>) {
        w.put(&self.key).put(&self.symbol).put(&self.venue);
        for v in &self.views {
            v.save(w);
        }
        w.put(&self.execs).put(&self.execs_tail).put(&self.differ_since);
        w.put(&self.open_phantom).put(&self.open_quantity).put(&self.open_state).put(&self.generation);
        w.put(&self.last_activity).put(&self.retiring).put(&self.live);
        w.put(&self.ids).put(&self.id_depth).put(&self.n_ids).put(&self.aliases).put(&self.order_id);
        w.put(&self.order_id_depth);
        save_enum(w, self.standing, &Standing::ALL);
        w.put(&self.reopened);
    }

    pub(super) fn load(r: &mut SnapReader<'_>) -> Result<Self, SnapshotError> {
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
            order_id_depth: r.get()?,
            standing: load_enum(r, &Standing::ALL)?,
            reopened: r.get()?,
            // Rebuilt from the lists once the records are loaded (OrderStore::load).
            lists: [ListSummary::default(); 2],
            fills_may_disagree: false,
            staged: Staged::default(),
        })
    }
}

/// `depth` moved by `offset`, kept within the u16 range.
pub(super) fn rebase(depth: u16, offset: i32) -> u16 {
    (i32::from(depth) + offset).clamp(0, i32::from(u16::MAX)) as u16
}
