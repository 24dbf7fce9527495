//! What the joins of one report leave for the reconciler to finish ([`super::join`] does them).
//!
//! Owns: the notes of the joins done while resolving one report. Plain `Copy` data: never
//! allocates and never looks into the store.

use super::exec_record::ExecIdx;
use super::order_record::OrderIdx;

/// Joins one report can cause at most: one through its OrigClOrdID, one through its OrderID.
pub const MAX_JOINS: usize = 2;

/// One join done while resolving a report, for the reconciler to finish.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JoinNote {
    /// The order that lives on (after every join of the report).
    pub survivor: OrderIdx,
    /// The released slot of the absorbed part.
    pub absorbed: OrderIdx,
    /// The absorbed slot's generation before its release (its checks and held adjustments
    /// carry it).
    pub absorbed_generation: u32,
    /// The first execution record, per stream, that came from the absorbed part; [`NONE`](super::NONE) for
    /// none, or when a later join of the same report absorbed the survivor (its note covers
    /// them).
    pub moved: [ExecIdx; 2],
    /// The last one (the absorbed part's records run from `moved` to it, in list order).
    pub moved_last: [ExecIdx; 2],
    /// Open PhantomOrder, QuantityMismatch and StateMismatch ids of the absorbed part that the
    /// survivor already had one of its own for (0: none).
    pub displaced: [u64; 3],
    /// True when both parts had been reported (two orders counted, now one).
    pub both_sighted: bool,
}

/// The joins done while resolving one report.
#[derive(Clone, Copy, Debug, Default)]
pub struct Joins {
    pub(super) notes: [JoinNote; MAX_JOINS],
    pub(super) n: u8,
}

impl Joins {
    /// The joins, in the order they were done.
    pub fn as_slice(&self) -> &[JoinNote] {
        &self.notes[..self.n as usize]
    }

    /// True when there were none.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
}
