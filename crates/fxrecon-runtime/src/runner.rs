//! Agent runners: a thread (or the calling thread) that drives an agent's duty cycles.
//!
//! Owns: the duty-cycle loop (idling between empty cycles), the runner's close flag, the
//! error the agent ended with, core pinning, and the crash-only rule for panics (a panicking
//! agent aborts the process: its peers wait on it through rings and would otherwise wait for
//! ever; a journaled run recovers where it stopped). Never looks inside an agent.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crate::agent::{Agent, AgentError};
use crate::idle::{IdleStrategy, Idler};

/// Runs `agent` on the calling thread: `on_start`, duty cycles until it is done or `close`
/// is raised, `on_close`. Returns the first error.
pub fn run_here(agent: &mut dyn Agent, idle: IdleStrategy, close: &AtomicBool) -> Result<(), AgentError> {
    let started = agent.on_start();
    if started.is_ok() {
        let mut idler = Idler::new(idle);
        while !agent.is_done() && !close.load(Ordering::Acquire) {
            let work = agent.do_work();
            idler.idle(work);
        }
    }
    let closed = agent.on_close();
    started.and(closed)
}

/// A thread running one agent (often a [`crate::agent::Composite`]) until it is done.
pub struct AgentRunner {
    name: &'static str,
    close: Arc<AtomicBool>,
    handle: Option<JoinHandle<Result<(), AgentError>>>,
}

impl AgentRunner {
    /// Starts `agent` on a new thread named after it, pinned to `core` when given.
    pub fn start(mut agent: Box<dyn Agent>, idle: IdleStrategy, core: Option<usize>) -> Self {
        let name = agent.name();
        let close = Arc::new(AtomicBool::new(false));
        let flag = close.clone();
        let handle = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let _abort_on_panic = AbortOnPanic(name);
                if let Some(c) = core {
                    pin_to_core(c);
                }
                run_here(agent.as_mut(), idle, &flag)
            })
            .expect("spawning an agent thread");
        Self { name, close, handle: Some(handle) }
    }

    /// The runner's (thread's) name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// True once the agent has finished (its thread has returned or is about to).
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(|h| h.is_finished())
    }

    /// Asks the runner to stop after the current duty cycle, done or not (its agent is still
    /// closed). For agents that never finish on their own; a pipeline stops by draining.
    pub fn close(&self) {
        self.close.store(true, Ordering::Release);
    }

    /// Waits for the thread; returns the agent's error, if it ended with one.
    pub fn join(mut self) -> Result<(), AgentError> {
        let handle = self.handle.take().expect("joined once");
        match handle.join() {
            Ok(r) => r,
            // Not reached: a panic aborts the process (see `AbortOnPanic`).
            Err(_) => Err(AgentError::new(self.name, "thread panicked")),
        }
    }
}

/// Aborts the process when dropped during a panic; guards every thread a pipeline waits on
/// (agents, and helper threads such as the journal's write-behind).
pub struct AbortOnPanic(pub &'static str);

impl Drop for AbortOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            tracing::error!(agent = self.0, "agent thread panicked: aborting (the other agents would wait for it)");
            std::process::abort();
        }
    }
}

/// Pins the calling thread to core `core` (modulo the cores there are); logs when it cannot.
pub fn pin_to_core(core: usize) {
    let ids = core_affinity::get_core_ids().unwrap_or_default();
    match ids.get(core % ids.len().max(1)) {
        Some(id) if core_affinity::set_for_current(*id) => {}
        _ => tracing::warn!(core, "could not pin thread to core"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Forever(u64);

    impl Agent for Forever {
        fn name(&self) -> &'static str {
            "forever"
        }
        fn do_work(&mut self) -> usize {
            self.0 += 1;
            0
        }
        fn is_done(&self) -> bool {
            false
        }
        fn on_close(&mut self) -> Result<(), AgentError> {
            Err(AgentError::new("forever", format!("closed after {} cycles", self.0.min(1))))
        }
    }

    #[test]
    fn a_runner_closed_early_still_closes_its_agent_and_returns_its_error() {
        let r = AgentRunner::start(Box::new(Forever(0)), IdleStrategy::Yield, None);
        assert_eq!(r.name(), "forever");
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(!r.is_finished());
        r.close();
        let err = r.join().unwrap_err();
        assert_eq!(err.to_string(), "forever: closed after 1 cycles");
    }
}
