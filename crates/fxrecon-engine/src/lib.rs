//! fxrecon-engine: the shell around the pure core.
//!
//! Reading inputs (bounded line reader), merging the two streams by event time, rendering
//! records as JSON Lines, rejects and the run summary. Business rules live in `fxrecon-core`.

pub mod agent;
pub mod alloc_counter;
pub mod bench;
pub mod config;
pub mod host_jitter;
pub mod idle;
pub mod journal;
pub mod journal_agent;
pub mod line_reader;
pub mod mapped_input;
pub mod offline;
pub mod pipeline;
pub mod recovery;
pub mod render;
pub mod soak;
pub mod summary;
pub mod synthetic;
pub mod truth;
