//! Agents: one duty cycle at a time, on a thread of their own or driven by a test.
//!
//! Owns: the run loop (`do_work` until done, idling between empty cycles) and optional core
//! pinning. An agent never blocks inside `do_work` except for ring backpressure.

use std::thread::JoinHandle;

use crate::idle::{IdleStrategy, Idler};

/// A unit of work that runs in duty cycles (after Aeron's `Agent`).
pub trait Agent: Send {
    /// Name of the thread it runs on.
    fn name(&self) -> &'static str;
    /// Does a bounded amount of work; returns how much (0 = nothing to do).
    fn do_work(&mut self) -> usize;
    /// True once the agent has finished for good.
    fn is_done(&self) -> bool;
}

/// Two agents sharing one thread (after Aeron's `CompositeAgent`): each duty cycle runs both.
/// On a small machine, agents that are mostly idle share a core instead of each spinning.
pub struct Composite<A, B> {
    /// Name of the thread they share.
    pub name: &'static str,
    /// The first agent.
    pub first: A,
    /// The second agent.
    pub second: B,
}

impl<A: Agent, B: Agent> Agent for Composite<A, B> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn do_work(&mut self) -> usize {
        let mut work = 0;
        if !self.first.is_done() {
            work += self.first.do_work();
        }
        if !self.second.is_done() {
            work += self.second.do_work();
        }
        work
    }

    fn is_done(&self) -> bool {
        self.first.is_done() && self.second.is_done()
    }
}

/// An agent that may be absent (e.g. the journal writer of an unjournaled run): absent is done.
impl<A: Agent> Agent for Option<A> {
    fn name(&self) -> &'static str {
        self.as_ref().map_or("none", |a| a.name())
    }

    fn do_work(&mut self) -> usize {
        self.as_mut().map_or(0, |a| a.do_work())
    }

    fn is_done(&self) -> bool {
        self.as_ref().is_none_or(|a| a.is_done())
    }
}

/// Runs `agent` until done on the current thread.
pub fn run_to_completion<A: Agent>(agent: &mut A, idle: IdleStrategy) {
    let mut idler = Idler::new(idle);
    while !agent.is_done() {
        let work = agent.do_work();
        idler.idle(work);
    }
}

/// Runs `agent` on a new named thread, optionally pinned to `core`; the handle returns it.
///
/// A panic in an agent aborts the process (after the panic message is printed): the agents
/// wait on each other through rings, so the others would otherwise wait for ever for the one
/// that died. Crash-only: a journaled run recovers where it stopped when started again.
pub fn spawn<A: Agent + 'static>(mut agent: A, idle: IdleStrategy, core: Option<usize>) -> JoinHandle<A> {
    std::thread::Builder::new()
        .name(agent.name().to_string())
        .spawn(move || {
            let _abort_on_panic = AbortOnPanic(agent.name());
            if let Some(c) = core {
                pin_to_core(c);
            }
            run_to_completion(&mut agent, idle);
            agent
        })
        .expect("spawning an agent thread")
}

/// Aborts the process when dropped during a panic (see [`spawn`]); also guards the journal's
/// write-behind thread, which the journal agent waits on.
pub(crate) struct AbortOnPanic(pub(crate) &'static str);

impl Drop for AbortOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            tracing::error!(agent = self.0, "agent thread panicked: aborting (the other agents would wait for it)");
            std::process::abort();
        }
    }
}

/// Pins the calling thread to core `core` (modulo the cores there are); logs when it cannot.
pub(crate) fn pin_to_core(core: usize) {
    let ids = core_affinity::get_core_ids().unwrap_or_default();
    match ids.get(core % ids.len().max(1)) {
        Some(id) if core_affinity::set_for_current(*id) => {}
        _ => tracing::warn!(core, "could not pin thread to core"),
    }
}
