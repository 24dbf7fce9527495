//! Agents: units of work run in duty cycles, on a thread of their own, sharing one, or stepped
//! by a test (after Aeron's `Agent`).
//!
//! Owns: the agent life cycle (`on_start`, `do_work` until done, `on_close`), composing agents
//! that share a thread, and the error an agent ends with. An agent never blocks inside
//! `do_work` except for ring backpressure, and never decides which thread it runs on.

/// Why an agent could not start, or what went wrong while it ran (reported by `on_close`).
#[derive(Debug, thiserror::Error)]
#[error("{agent}: {message}")]
pub struct AgentError {
    /// The agent's name.
    pub agent: &'static str,
    /// What happened, one line.
    pub message: String,
}

impl AgentError {
    /// An error of `agent`.
    pub fn new(agent: &'static str, message: impl std::fmt::Display) -> Self {
        Self { agent, message: message.to_string() }
    }
}

/// A unit of work that runs in duty cycles.
///
/// A runner calls [`Agent::on_start`] once, then [`Agent::do_work`] until [`Agent::is_done`],
/// then [`Agent::on_close`] once. An agent that hits a fatal error keeps it, finishes what
/// its peers wait for (so nobody waits for ever), and returns it from `on_close`.
pub trait Agent: Send {
    /// Name of the agent (and of its thread when it runs alone).
    fn name(&self) -> &'static str;

    /// Called once on the agent's thread before the first duty cycle.
    fn on_start(&mut self) -> Result<(), AgentError> {
        Ok(())
    }

    /// Does a bounded amount of work; returns how much (0 = nothing to do this cycle).
    fn do_work(&mut self) -> usize;

    /// True once the agent has finished for good.
    fn is_done(&self) -> bool;

    /// Called once after the last duty cycle (or when the runner is closed early): flushes
    /// what the agent holds and reports the error it ended with, if any.
    fn on_close(&mut self) -> Result<(), AgentError> {
        Ok(())
    }
}

impl<A: Agent + ?Sized> Agent for Box<A> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn on_start(&mut self) -> Result<(), AgentError> {
        (**self).on_start()
    }
    fn do_work(&mut self) -> usize {
        (**self).do_work()
    }
    fn is_done(&self) -> bool {
        (**self).is_done()
    }
    fn on_close(&mut self) -> Result<(), AgentError> {
        (**self).on_close()
    }
}

/// Agents sharing one thread (after Aeron's `CompositeAgent`): each duty cycle steps every
/// agent that is not done yet, in order. This is also the one-thread mode of a whole
/// pipeline: the same agents, stepped in turn.
pub struct Composite {
    name: &'static str,
    agents: Vec<Box<dyn Agent>>,
}

impl Composite {
    /// A composite named `name` (its thread's name) of `agents`, stepped in this order.
    pub fn new(name: &'static str, agents: Vec<Box<dyn Agent>>) -> Self {
        Self { name, agents }
    }

    /// The agents, in stepping order.
    pub fn agents(&self) -> &[Box<dyn Agent>] {
        &self.agents
    }
}

impl Agent for Composite {
    fn name(&self) -> &'static str {
        self.name
    }

    /// Starts every agent; the first error is returned (the others are still started, so
    /// each can be closed).
    fn on_start(&mut self) -> Result<(), AgentError> {
        let mut first = Ok(());
        for a in &mut self.agents {
            if let Err(e) = a.on_start()
                && first.is_ok()
            {
                first = Err(e);
            }
        }
        first
    }

    fn do_work(&mut self) -> usize {
        let mut work = 0;
        for a in &mut self.agents {
            if !a.is_done() {
                work += a.do_work();
            }
        }
        work
    }

    fn is_done(&self) -> bool {
        self.agents.iter().all(|a| a.is_done())
    }

    /// Closes every agent; the first error is returned, the others are logged.
    fn on_close(&mut self) -> Result<(), AgentError> {
        let mut first = Ok(());
        for a in &mut self.agents {
            if let Err(e) = a.on_close() {
                if first.is_ok() {
                    first = Err(e);
                } else {
                    tracing::error!(error = %e, "agent closed with an error");
                }
            }
        }
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts down from `n`, one per cycle; records its life cycle.
    struct Countdown {
        n: u32,
        started: bool,
        closed: bool,
        fail_on_close: bool,
    }

    impl Agent for Countdown {
        fn name(&self) -> &'static str {
            "countdown"
        }
        fn on_start(&mut self) -> Result<(), AgentError> {
            self.started = true;
            Ok(())
        }
        fn do_work(&mut self) -> usize {
            assert!(self.started && !self.closed);
            self.n -= 1;
            1
        }
        fn is_done(&self) -> bool {
            self.n == 0
        }
        fn on_close(&mut self) -> Result<(), AgentError> {
            self.closed = true;
            if self.fail_on_close { Err(AgentError::new("countdown", "boom")) } else { Ok(()) }
        }
    }

    #[test]
    fn a_composite_steps_each_agent_until_it_is_done_and_reports_the_first_error() {
        let a = Box::new(Countdown { n: 2, started: false, closed: false, fail_on_close: false });
        let b = Box::new(Countdown { n: 4, started: false, closed: false, fail_on_close: true });
        let mut c = Composite::new("both", vec![a, b]);
        c.on_start().unwrap();
        let mut cycles = Vec::new();
        while !c.is_done() {
            cycles.push(c.do_work());
        }
        assert_eq!(cycles, [2, 2, 1, 1], "the first agent stops being stepped once done");
        let err = c.on_close().unwrap_err();
        assert_eq!(err.to_string(), "countdown: boom");
    }
}
