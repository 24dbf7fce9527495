//! The operator interface of `fxrecon run` (contract section 6): the query API and `/metrics`,
//! served on a thread of their own by a small current-thread tokio runtime.
//!
//! Owns: the HTTP surface, its authentication and error shape, and the API's own copy of what
//! the output wrote. Never touches the reconciler's memory: orders and positions come through
//! the command ring (answered between batches), divergences and gaps from the output agent's records
//! ([`records::RecordFeed`]), health and metrics from the live counters.

pub mod client;
pub mod eod;
pub mod error;
pub mod metrics;
pub mod offline;
pub mod orders;
pub mod positions;
pub mod records;
pub mod server;
pub mod table;
pub mod time_range;
