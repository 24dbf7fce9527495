//! Output: what happens to records and rejects once the reconciler has emitted them.
//!
//! The output agent ([`agent`]) drains the output ring ([`message`]) into every sink
//! ([`sink`]: JSON Lines files, memory, the summary's tallies; [`resume`]: a recovered run's
//! files), rendered as the contract says ([`render`]); [`summary`] is the run summary.

pub mod agent;
pub mod message;
pub mod render;
pub mod resume;
pub mod sink;
pub mod summary;
