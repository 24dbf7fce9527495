//! The Aeron transport of fxrecon: live FIX input from Aeron subscriptions and the divergence
//! output on an Aeron publication, over the Aeron C client and media driver bundled in the
//! `rusteron` crates (built from source, nothing downloaded).
//!
//! Owns: the media driver a run uses (`driver`: embedded under the state directory, or an
//! external one attached by its directory), the subscription source (`source`: an
//! implementation of the engine's `MessageSource`, one FIX message per Aeron message), the
//! publication sink (`sink`: an `OutputSink`, one JSON object per message), the channel and
//! stream naming (`endpoint`), the end-of-stream marker (`marker`), a plain publisher for
//! tools (`publisher`) and the errors (`error`).
//! Must never: decode FIX, classify, or touch the reconciler (that is the engine's and the
//! core's); block the reconciler (the sink runs on the output agent and gives up after a
//! bounded retry); share an Aeron handle between threads (each source and sink owns its own
//! client; a source's handles move to the ingest agent's thread together, `subscription`).

mod client;
pub mod driver;
pub mod endpoint;
pub mod error;
pub mod marker;
pub mod publisher;
pub mod sink;
pub mod source;
mod startup;
mod subscription;
