//! The boundary between two trading days (`fxrecon journal roll`): what of a finished day's
//! state the next day starts from.
//!
//! Owns: the rule that orders (live, finished awaiting retirement, retired and remembered),
//! held trade adjustments, the event clock and the output ids carry over — a good-till-cancel
//! order and a late bust of yesterday's fill stay known, and a `Resolved` record today can name
//! yesterday's break — while session sequence state, the day's counters and the day's
//! positions start afresh (each day's FIX sessions log on anew; a day's position breaks are
//! signed off with its end-of-day report, D71). Never called on the hot path: it may
//! allocate.

use super::engine::{ReconStats, Reconciler};
use crate::sequencer::Sequencer;

impl Reconciler {
    /// Turns the state at the end of one day into the state the next day starts from. The day
    /// must have been finished first ([`Reconciler::finish`]: every pending timer fired).
    pub fn begin_next_day(&mut self) {
        self.sequencer = Sequencer::with_capacity(self.cfg.max_sessions);
        self.stats = ReconStats::default();
        self.positions.clear();
    }
}
