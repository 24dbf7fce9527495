//! The reconciler: applies events from both streams to the order store and classifies where
//! the two views disagree, per the contract's sections 2 and 3.
//!
//! A table of contents only: it declares the reconciler's parts and re-exports its public
//! types, and defines nothing.

pub mod engine;
pub mod grace_timers;

pub use engine::{ReconConfig, ReconStats, Reconciler};
