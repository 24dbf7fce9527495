//! Grace-window timers.
//!
//! Owns: pending deadlines (phantom checks, missing-fill checks, view comparisons). Every timer
//! has the same delay and the event clock never goes backwards, so deadlines arrive in
//! insertion order and a FIFO ring is an exact, O(1) timer queue. Timers are never cancelled:
//! each re-checks its condition when it fires.

use std::collections::VecDeque;

use crate::order_store::{ExecIdx, OrderIdx};
use crate::time::Micros;

/// What a timer checks when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    /// Is the order still seen on one stream only?
    Phantom,
    /// Is this fill still unmatched?
    Fill(ExecIdx),
    /// Have the views differed for a whole grace window?
    Views,
}

/// A pending deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timer {
    /// When it fires (event time).
    pub deadline: Micros,
    /// The order it concerns.
    pub order: OrderIdx,
    /// Generation of the order slot when scheduled (a reused slot makes the timer void).
    pub generation: u32,
    /// What it checks.
    pub kind: TimerKind,
}

/// FIFO of grace timers.
#[derive(Debug, Default)]
pub struct GraceTimers {
    queue: VecDeque<Timer>,
}

impl GraceTimers {
    /// A queue pre-sized for `capacity` pending timers.
    pub fn with_capacity(capacity: usize) -> Self {
        Self { queue: VecDeque::with_capacity(capacity) }
    }

    /// Schedules a check. Deadlines must not decrease (same delay, monotone clock).
    pub fn push(&mut self, deadline: Micros, order: OrderIdx, generation: u32, kind: TimerKind) {
        debug_assert!(self.queue.back().is_none_or(|t| t.deadline <= deadline));
        self.queue.push_back(Timer { deadline, order, generation, kind });
    }

    /// Removes and returns the earliest timer if `due(deadline)` holds for it.
    pub fn pop_if(&mut self, due: impl Fn(Micros) -> bool) -> Option<Timer> {
        match self.queue.front() {
            Some(t) if due(t.deadline) => self.queue.pop_front(),
            _ => None,
        }
    }

    /// Pending timers.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}
