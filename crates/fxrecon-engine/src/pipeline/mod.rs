//! The pipeline: how a run is assembled and run.
//!
//! [`builder`] is the one builder every command uses; [`options`] its settings; [`paths`] checks output paths before anything is written; [`inputs`]
//! opens the sources a command names; [`memory`] runs it on bytes in memory; [`recovery`] resumes a journaled run and replays a
//! journal, as pipelines of the same builder.

pub mod builder;
pub mod day_roll;
pub mod inputs;
pub mod memory;
pub mod options;
pub mod paths;
pub mod recovery;
