//! The order store: the canonical state of every order, its two views, its executions and
//! identity lookups.
//!
//! The store holds the order arena, the ClOrdID alias table (every ClOrdID of a replace chain
//! maps to the root order), the OrderID table (every OrderID a report of an order carried), each
//! order's execution records per stream, the joining of an order's provisional parts, and the
//! retirement of finished orders with the compact memory of them kept for the day (contract
//! 2.2). All storage is sized at construction: slots are reused through free lists and nothing
//! grows after start-up. A full store evicts the oldest
//! finished order queued for retirement; if none is queued, the caller gets
//! [`CapacityExhausted`]. Knows nothing of divergences.
//!
//! A table of contents only: it declares the store's parts and re-exports its public types
//! (they are also the old `order_store` path), and defines nothing.

// What the store keeps: the ClOrdID alias pool, execution records, the hash index the
// identity tables use, orders, the notes a join leaves, the retirement queue.
mod alias_pool;
pub mod exec_record;
pub mod index;
mod joins;
pub mod order_record;
pub mod ring_queue;

// The store that ties them together.
pub mod order_store;

// What it does, by concept.
mod arena;
mod exec_lists;
mod identity;
mod join;
mod persist;

// Retired orders remembered for the day (contract 2.2): the memory, and one order's record.
pub mod retired_memory;
mod retired_record;
mod staging;

#[cfg(test)]
mod tests;

pub use exec_record::{ExecIdx, ExecKind, ExecRecord, NONE};
pub use joins::{JoinNote, Joins, MAX_JOINS};
pub use order_record::{Order, OrderIdx};
pub use order_store::{CapacityExhausted, OrderStore, RetiredCapacity, StoreCapacity, StoreStats, Unresolved};
pub use retired_memory::{RetiredMemory, RetiredRef};
