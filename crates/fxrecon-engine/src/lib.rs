//! fxrecon-engine: the shell around the pure core.
//!
//! Reading inputs (bounded line reader), merging the two streams by event time, rendering
//! records as JSON Lines, rejects and the run summary. Business rules live in `fxrecon-core`.

pub mod config;
pub mod line_reader;
pub mod offline;
pub mod render;
pub mod summary;
pub mod truth;
