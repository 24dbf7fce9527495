//! fxrecon-core: the pure core of the reconciler.
//!
//! FIX decoding into [`event::ExecEvent`], per-session sequencing, the FIX 4.4 order state
//! machine for each stream's view, the order store, grace timers and divergence
//! classification. No I/O, no threads, no clock: time arrives with each event.

pub mod decimal;
pub mod digest;
pub mod divergence;
pub mod event;
pub mod fix;
pub mod memhint;
pub mod order_store;
pub mod order_table;
pub mod order_view;
pub mod reconciler;
pub mod ring_queue;
pub mod sequencer;
pub mod snapshot;
pub mod text;
pub mod time;
pub mod timers;

pub use divergence::{Divergence, DivergenceKind, Record, Sink};
pub use event::{ExecEvent, Stream};
pub use reconciler::{ReconConfig, Reconciler};
