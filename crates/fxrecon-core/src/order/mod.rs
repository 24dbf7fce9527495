//! Orders: what each stream says about an order ([`view`]) and the store that holds every
//! order with its executions and identities ([`store`]).
//!
//! A table of contents only: it declares and re-exports, and defines nothing.

pub mod store;
pub mod view;

pub use store::OrderStore;
pub use view::OrderView;
