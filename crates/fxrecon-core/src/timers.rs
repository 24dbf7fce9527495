//! Grace-window timers of the reconciler.
//!
//! Owns: what a pending check is about (phantom, missing fill, view comparison) and for which
//! order slot generation. Scheduling and firing order are the [`TimerWheel`]'s. Timers are
//! never cancelled: each re-checks its condition when it fires.

use crate::order_store::{ExecIdx, OrderIdx};
use crate::time::Micros;
use crate::timer_wheel::{TimerWheel, WheelFull};

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

/// A pending check.
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

/// The reconciler's pending checks.
#[derive(Debug)]
pub struct GraceTimers {
    wheel: TimerWheel<(OrderIdx, u32, TimerKind)>,
}

impl GraceTimers {
    /// Room for `capacity` pending checks.
    pub fn with_capacity(capacity: usize) -> Self {
        Self { wheel: TimerWheel::with_capacity(capacity) }
    }

    /// Schedules a check.
    pub fn push(
        &mut self,
        deadline: Micros,
        order: OrderIdx,
        generation: u32,
        kind: TimerKind,
    ) -> Result<(), WheelFull> {
        self.wheel.push(deadline, (order, generation, kind))
    }

    /// The next check due strictly before `now` (`None`: everything, at end of input).
    pub fn pop_due(&mut self, now: Option<Micros>) -> Option<Timer> {
        self.wheel.pop_due(now).map(|(deadline, (order, generation, kind))| Timer { deadline, order, generation, kind })
    }

    /// Pending checks.
    pub fn len(&self) -> usize {
        self.wheel.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.wheel.is_empty()
    }
}
