//! fxrecon-bench: everything that measures fxrecon rather than runs it.
//!
//! Owns: the benchmark suite behind `fxrecon bench` ([`bench`](mod@bench): decode, reconcile,
//! decode + reconcile on the one-thread pipeline, the threaded pipeline unjournaled, journaled
//! and replayed, the raw-ring and fix-codec-rs baselines, paced latency runs with the host's
//! floor beside them, the sustained rate, the memory day and the latency plot), the cost of
//! the retired-order memory ([`retired_memory`]), the soak test ([`soak`]), the host-jitter probe ([`host_jitter`]), synthetic agreeing days for load
//! ([`synthetic`]) and the counting global allocator ([`alloc_counter`], the crate's one
//! unsafe module). Definitions of every figure: docs/decisions.md D19.
//!
//! No product crate depends on it: the binary pulls it in behind its `bench` feature only.
//! Every run here is built with the product's one pipeline builder
//! (`fxrecon_engine::pipeline::builder`), so what is measured is what ships.

pub mod alloc_counter;
pub mod bench;
pub mod host_jitter;
pub mod retired_memory;
pub mod soak;
pub mod synthetic;
