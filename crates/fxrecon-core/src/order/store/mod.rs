//! The order store: the canonical state of every order (both views, its executions, its
//! identities), in storage sized at construction.
//!
//! A table of contents only: it declares the store's parts and re-exports its public types
//! (the old `order_store` path), and defines nothing.

pub mod index;
pub mod order_store;
pub mod ring_queue;

pub use order_store::{
    CapacityExhausted, ExecIdx, ExecKind, ExecRecord, NONE, Order, OrderIdx, OrderStore, StoreCapacity, StoreStats,
};
