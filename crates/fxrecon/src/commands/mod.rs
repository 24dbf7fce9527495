//! The subcommands, one file each: arguments and wiring, no logic a test would want to call.

#[cfg(feature = "bench")]
pub mod bench;
pub mod demo;
pub mod eod;
pub mod gen_day;
pub mod journal;
pub mod publish;
pub mod query;
pub mod reconcile;
pub mod replay;
pub mod run;
pub mod run_api;
pub mod tail;
