//! Where an input stands after what was consumed from it: the position a recovered run
//! resumes at and a snapshot records.
//!
//! Owns: only the two numbers (lines consumed, the stream's clock). Plain data.

use fxrecon_core::time::Micros;

/// Where one input stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamPosition {
    /// Lines (messages) consumed: the next one read is number `lines + 1`.
    pub lines: u64,
    /// The stream's event clock so far (times going backwards are clamped to it).
    pub clock: Micros,
}

impl Default for StreamPosition {
    /// The start of an input: nothing consumed, no time seen.
    fn default() -> Self {
        Self { lines: 0, clock: Micros(i64::MIN) }
    }
}
