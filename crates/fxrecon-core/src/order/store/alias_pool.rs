//! The identity pool: the ClOrdIDs of an order beyond those it keeps inline and the OrderIDs
//! beyond its first, and the index from every ClOrdID to its order or pool entry.
//!
//! Owns: the pool entries (each a ClOrdID or an OrderID, by `order_id`) and their free list,
//! the ClOrdID index, and the hash every identity table is keyed by. Sized at construction and
//! never grows; holds no order (its values are slot numbers, which the store confirms against
//! the order they name).

use std::hash::BuildHasher;

use foldhash::fast::FixedState;

use super::index::OrderTable;
use super::order_record::OrderIdx;
use crate::text::Id;

/// A ClOrdID of an order beyond its inline ones, or an OrderID beyond its first.
#[derive(Clone, Copy, Debug)]
pub(super) struct Alias {
    pub(super) id: Id,
    pub(super) order: OrderIdx,
    /// Replace-chain depth: of the ClOrdID, or of the link whose report first carried the
    /// OrderID.
    pub(super) depth: u16,
    /// True for an OrderID (indexed in the store's OrderID table), false for a ClOrdID
    /// (indexed here).
    pub(super) order_id: bool,
    /// Next entry of the same order (for removal on retirement, and for moving them all when
    /// two parts of an order are joined).
    pub(super) next: u32,
}

pub(super) fn id_hash(id: &Id) -> u64 {
    bytes_hash(id.as_bytes())
}

/// The hash of an identifier's bytes ([`id_hash`] of the `Id` holding them).
pub(super) fn bytes_hash(b: &[u8]) -> u64 {
    FixedState::with_seed(0x5eed_f00d).hash_one(b)
}

/// Where the ClOrdID index (and the store's OrderID table) points: values below the order
/// capacity are an order (the key is one of its inline ClOrdIDs, or its inline OrderID), values
/// from it on are pool entries.
#[derive(Debug)]
pub(super) struct AliasIndex {
    /// Order capacity: the first pool value.
    pub(super) orders: u32,
    /// Most pool entries.
    pub(super) pool: usize,
    pub(super) entries: Vec<Alias>,
    pub(super) free: Vec<u32>,
    pub(super) index: OrderTable,
}

impl AliasIndex {
    pub(super) fn with_capacity(orders: usize, n: usize) -> Self {
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

    pub(super) fn is_full(&self) -> bool {
        self.index.len() >= self.index.capacity()
    }

    /// Takes a free pool entry for `alias`; None when the pool is exhausted.
    pub(super) fn take(&mut self, alias: Alias) -> Option<u32> {
        match self.free.pop() {
            Some(e) => {
                self.entries[e as usize] = alias;
                Some(e)
            }
            None if self.entries.len() < self.pool => {
                self.entries.push(alias);
                Some((self.entries.len() - 1) as u32)
            }
            None => None,
        }
    }
}
