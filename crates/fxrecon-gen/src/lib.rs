//! Synthetic FX trading days for fxrecon.
//!
//! [`generate`] builds one day of traffic as two QuickFIX FileLog files — the primary stream
//! (two gateway sessions `FXGW1`/`FXGW2` -> `FIRM`) and the drop-copy stream (one session per
//! venue -> `FIRMDC`) — with the faults of a [`Scenario`] injected, plus the ground truth of the
//! divergences those faults must produce ([`Expected`]). The ground truth comes from what was
//! injected, never from a reconciler. Output is deterministic: the same [`GenConfig`] always
//! gives byte-identical files.
//!
//! Conventions of the generated logs:
//! - every line is `YYYYMMDD-HH:MM:SS.nnnnnnnnn : 8=...`, the prefix being the arrival time
//!   (whole microseconds); files are sorted by arrival and each direction is numbered from 1 in
//!   file order, so latency alone never creates a sequence gap;
//! - header fields follow 35 in tag order as QuickFIX writes them (34, 43, 49, 52, 56, 122),
//!   body fields are in tag order; FIX 4.2 ExecutionReports (the FXALL drop copy) also carry
//!   ExecTransType `20=0`;
//! - a receiver that sees a gap sends a ResendRequest, also for gaps that are never filled;
//! - TimingAnomaly ground truth is computed from the final arrival times for every order;
//! - the hard scenarios ([`Scenario::HARD`], issue 22) add the situations real venues produce
//!   (refused replaces, chains out of order, new OrderIDs, late busts after retirement, a
//!   replayed session, data fields, …), each with its ground truth; their records also say
//!   which MissingFill/PhantomOrder carries `gap_exposure`.

mod calendar;
mod config;
mod day;
mod expected;
mod exposure;
mod fix;
mod model;
mod orders;
mod parts;
mod plan;
mod scenario;
mod session;
mod timing;

pub use config::{DEFAULT_START_TIME_US, GenConfig, MAX_ORDERS};
pub use day::{GeneratedDay, generate};
pub use expected::Expected;
pub use parts::{Parts, parts};
pub use scenario::{ParseScenarioError, Scenario};
