//! fxrecon-core: the pure core of the reconciler.
//!
//! FIX decoding into [`event::ExecEvent`], per-session sequencing, the FIX 4.4 order state
//! machine for each stream's view, the order store, grace timers and divergence
//! classification. No I/O, no threads, no clock: time arrives with each event.
#![deny(missing_docs)]

pub mod decimal;
pub mod digest;
pub mod divergence;
pub mod event;
pub mod fix;
pub mod memhint;
pub mod order;
pub mod quarantine;
pub mod reconciler;
pub mod sequencer;
pub mod snapshot;
pub mod text;
pub mod time;

pub use divergence::{Divergence, DivergenceKind, Record, Sink};
pub use event::{ExecEvent, Stream};
pub use reconciler::{ReconConfig, Reconciler};
