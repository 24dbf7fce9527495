//! fxrecon-engine: the shell around the pure core — the one pipeline every command runs.
//!
//! Data flows one way: sources ([`ingest::source::MessageSource`]) → the ingest agents, which
//! decode, stamp and quarantine through the one admission path ([`ingest::admit`]) into a
//! ring per stream → the reconciler agent ([`reconciler_agent`]), which merges the rings by
//! event time ([`merge`]) and applies them to the core's reconciler → the output agent and
//! its sinks ([`output`]), with the journal writer beside it. Every command builds its run
//! with [`pipeline::builder::PipelineBuilder`]. Business rules live in `fxrecon-core`; how
//! agents run, in `fxrecon-runtime`; the journal's formats, in `fxrecon-journal`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod command;
pub mod config;
pub mod counters;
pub mod ground_truth;
pub mod ingest;
pub mod merge;
pub mod output;
pub mod pipeline;
pub mod reconciler_agent;
