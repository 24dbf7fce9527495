//! A run over inputs held in memory, collected in memory: the builder with two
//! [`MemorySource`]s and a [`MemorySink`], for tests, `demo` and benchmarks.
//!
//! Owns: only that wiring; the run is the same pipeline every command runs.

use std::borrow::Cow;

use fxrecon_core::divergence::Record;
use fxrecon_core::quarantine::RejectNote;

use crate::config::Config;
use crate::ingest::memory::MemorySource;
use crate::output::sink::MemorySink;
use crate::pipeline::builder::{Intake, PipelineBuilder, RunError, RunOutcome};
use crate::pipeline::options::PipelineOptions;

/// What an in-memory run emitted.
pub struct MemoryRun {
    /// Every record, in output order.
    pub records: Vec<Record>,
    /// Every reject, in output order.
    pub rejects: Vec<RejectNote>,
    /// How the run went (counters, final state).
    pub outcome: RunOutcome,
}

/// Reconciles `primary` against `dropcopy` with `cfg`, laid out by `opts`.
pub fn reconcile_in_memory(
    primary: impl Into<Cow<'static, [u8]>>,
    dropcopy: impl Into<Cow<'static, [u8]>>,
    cfg: &Config,
    opts: PipelineOptions,
) -> Result<MemoryRun, RunError> {
    let max = cfg.max_message_bytes;
    let sources = [MemorySource::new(primary, max), MemorySource::new(dropcopy, max)];
    let (sink, collected) = MemorySink::new();
    let [p, d] = sources;
    let outcome = PipelineBuilder::new(cfg, opts, Intake::Sources([Box::new(p), Box::new(d)]))
        .sink(Box::new(sink))
        .build()
        .map_err(|e| RunError(vec![fxrecon_runtime::agent::AgentError::new("pipeline", e)]))?
        .run()?;
    let got = collected.take();
    Ok(MemoryRun { records: got.records, rejects: got.rejects, outcome })
}
