//! The reconciler: applies events from both streams to the order store and classifies where
//! the two views disagree, per the contract's sections 2 and 3.
//!
//! Its parts own the event clock and the event loop (`engine`), the grace timers
//! (`grace_timers`), adjustments that came before their fill (`held_adjustments`), the matching of fills across streams (`matcher`), the net positions per account × symbol
//! and stream (`positions`), and divergence
//! precedence, resolution and output ids (`classifier`), and what carries over from one trading
//! day to the next (`day_boundary`). Never reads a clock and never does
//! I/O: records go to a [`Sink`](crate::divergence::Sink).
//!
//! A table of contents only: it declares the reconciler's parts and re-exports its public
//! types, and defines nothing.

pub mod day_boundary;
pub mod engine;
pub mod grace_timers;
pub mod held_adjustments;
pub mod positions;

// The engine's methods that classify and match, by concept.
mod classifier;
mod matcher;

#[cfg(test)]
mod tests;

pub use engine::{ReconConfig, ReconStats, Reconciler};
