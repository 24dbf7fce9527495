//! Threading modes: how a team of agents maps to threads (after Aeron's threading modes).
//!
//! Owns: the three layouts (a thread per hot agent, two shared threads, one thread stepping
//! every agent in turn), which core each thread is pinned to, and the supervisor loop of the
//! calling thread while a team runs. Knows agents only by their [`Lane`]: what they do is the
//! caller's business.

use std::time::Duration;

use crate::agent::{Agent, AgentError, Composite};
use crate::idle::{IdleStrategy, Idler};
use crate::runner::AgentRunner;

/// Where an agent sits in the flow; the threading mode places it by this alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// Brings messages in (an ingest agent per source): hot, latency-critical.
    Intake,
    /// The one agent every message passes through (the reconciler): hot, always alone when
    /// threads allow it.
    Core,
    /// Mostly waits (output, journal writer): never worth a core of its own.
    Background,
}

/// How a team's agents map to threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threading {
    /// A thread per intake agent and per core agent, and one shared background thread (which
    /// never busy-spins: with the busy-spin idle strategy it backs off instead). For four
    /// cores or more.
    Dedicated,
    /// Two threads, each with a core of its own on a two-core machine: the core agent alone on
    /// one; every intake and background agent on the other ("edge"). A slow disk or output
    /// consumer pauses intake (backpressure: nothing is lost).
    Shared,
    /// Every agent stepped in turn on the calling thread: the offline mode is the same agents,
    /// not a separate code path.
    Stepped,
}

impl Default for Threading {
    /// Dedicated with at least four cores, shared below.
    fn default() -> Self {
        match std::thread::available_parallelism() {
            Ok(n) if n.get() >= 4 => Threading::Dedicated,
            _ => Threading::Shared,
        }
    }
}

impl Threading {
    /// Threads a pipeline of two intake agents and one core agent runs on in this mode
    /// (dedicated: three hot ones and the background one).
    pub fn threads(self) -> usize {
        match self {
            Threading::Dedicated => 4,
            Threading::Shared => 2,
            Threading::Stepped => 1,
        }
    }

    /// True when each of this mode's threads can have a core of its own on this machine.
    pub fn fits_cores(self) -> bool {
        self.threads() <= std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

impl std::str::FromStr for Threading {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "dedicated" => Ok(Threading::Dedicated),
            "shared" => Ok(Threading::Shared),
            "stepped" | "single" => Ok(Threading::Stepped),
            "auto" => Ok(Threading::default()),
            _ => Err(format!("unknown threading mode {s:?} (dedicated, shared, stepped, auto)")),
        }
    }
}

/// What the calling thread does while a threaded team runs, about every `every`.
pub trait Supervisor {
    /// How often to be called.
    fn every(&self) -> Duration {
        Duration::from_millis(20)
    }
    /// Called while the team runs (for status lines, shutdown deadlines).
    fn tick(&mut self);
}

/// A supervisor that does nothing.
pub struct Unsupervised;

impl Supervisor for Unsupervised {
    fn every(&self) -> Duration {
        Duration::from_millis(5)
    }
    fn tick(&mut self) {}
}

/// Agents that run together until every one is done.
pub struct Team {
    members: Vec<(Lane, Box<dyn Agent>)>,
    idle: IdleStrategy,
    pin: bool,
}

impl Team {
    /// An empty team whose threads wait with `idle` and are pinned to cores when `pin`.
    pub fn new(idle: IdleStrategy, pin: bool) -> Self {
        Self { members: Vec::new(), idle, pin }
    }

    /// Adds an agent in `lane`; agents of a lane keep the order they were added in.
    pub fn add(&mut self, lane: Lane, agent: Box<dyn Agent>) {
        self.members.push((lane, agent));
    }

    /// Runs the team in `mode` until every agent is done; `supervisor` ticks on the calling
    /// thread meanwhile (in stepped mode, between duty cycles). Returns every agent error.
    pub fn run(self, mode: Threading, supervisor: &mut dyn Supervisor) -> Result<(), Vec<AgentError>> {
        let Team { members, idle, pin } = self;
        if pin && !mode.fits_cores() {
            tracing::warn!(
                threads = mode.threads(),
                cores = std::thread::available_parallelism().map_or(1, |n| n.get()),
                "--pin with more threads than cores: pinned threads will share cores"
            );
        }
        let take = |members: &mut Vec<(Lane, Box<dyn Agent>)>, lanes: &[Lane]| -> Vec<Box<dyn Agent>> {
            let (these, rest): (Vec<_>, Vec<_>) =
                std::mem::take(members).into_iter().partition(|(l, _)| lanes.contains(l));
            *members = rest;
            these.into_iter().map(|(_, a)| a).collect()
        };
        let mut members = members;
        let core = |i: usize| pin.then_some(i);
        let runners: Vec<AgentRunner> = match mode {
            Threading::Stepped => {
                let all = take(&mut members, &[Lane::Intake, Lane::Core, Lane::Background]);
                return run_stepped(Composite::new("stepped", all), idle, supervisor);
            }
            Threading::Shared => {
                let core_agents = take(&mut members, &[Lane::Core]);
                let edge = take(&mut members, &[Lane::Intake, Lane::Background]);
                let mut runners = Vec::new();
                for (i, a) in core_agents.into_iter().enumerate() {
                    runners.push(AgentRunner::start(a, idle, core(1 + i)));
                }
                if !edge.is_empty() {
                    runners.push(AgentRunner::start(Box::new(Composite::new("edge", edge)), idle, core(0)));
                }
                runners
            }
            Threading::Dedicated => {
                let intake = take(&mut members, &[Lane::Intake]);
                let core_agents = take(&mut members, &[Lane::Core]);
                let background = take(&mut members, &[Lane::Background]);
                let mut runners = Vec::new();
                // The background thread never spins: it would take a core from a hot one.
                let background_idle = match idle {
                    IdleStrategy::BusySpin => IdleStrategy::default(),
                    other => other,
                };
                if !background.is_empty() {
                    runners.push(AgentRunner::start(
                        Box::new(Composite::new("output", background)),
                        background_idle,
                        None,
                    ));
                }
                let hot = intake.len();
                for (i, a) in core_agents.into_iter().enumerate() {
                    runners.push(AgentRunner::start(a, idle, core(hot + i)));
                }
                for (i, a) in intake.into_iter().enumerate() {
                    runners.push(AgentRunner::start(a, idle, core(i)));
                }
                runners
            }
        };
        supervise(runners, supervisor)
    }
}

/// Steps `all` on this thread until done, ticking `supervisor` about every `every()`.
fn run_stepped(mut all: Composite, idle: IdleStrategy, supervisor: &mut dyn Supervisor) -> Result<(), Vec<AgentError>> {
    let mut errors = Vec::new();
    if let Err(e) = all.on_start() {
        errors.push(e);
    } else {
        let mut idler = Idler::new(idle);
        let every = supervisor.every();
        let mut next_tick = std::time::Instant::now() + every;
        let mut cycles = 0u32;
        while !all.is_done() {
            let work = all.do_work();
            idler.idle(work);
            cycles = cycles.wrapping_add(1);
            // The clock is read every 64 cycles only: a cycle is cheap, a clock read is not.
            if cycles.is_multiple_of(64) {
                let now = std::time::Instant::now();
                if now >= next_tick {
                    supervisor.tick();
                    next_tick = now + every;
                }
            }
        }
    }
    if let Err(e) = all.on_close() {
        errors.push(e);
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Waits for every runner, ticking `supervisor` meanwhile; collects their errors. A runner
/// that ends with an error closes the others: they would otherwise wait for ever on rings
/// nobody fills or drains any more.
fn supervise(mut runners: Vec<AgentRunner>, supervisor: &mut dyn Supervisor) -> Result<(), Vec<AgentError>> {
    let every = supervisor.every();
    let mut errors = Vec::new();
    while !runners.is_empty() {
        let (finished, running): (Vec<_>, Vec<_>) = runners.into_iter().partition(|r| r.is_finished());
        runners = running;
        let failed_before = errors.len();
        errors.extend(finished.into_iter().filter_map(|r| r.join().err()));
        if errors.len() > failed_before {
            for r in &runners {
                tracing::error!(runner = r.name(), "a peer failed: closing this runner");
                r.close();
            }
        }
        if runners.is_empty() {
            break;
        }
        std::thread::sleep(every.min(Duration::from_millis(5)));
        supervisor.tick();
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::rings::RingBuffer;

    /// Sends 1..=n through a ring, then 0 as the end marker.
    struct Source {
        next: u64,
        n: u64,
        ring: rtrb::Producer<u64>,
        done: bool,
    }

    impl Agent for Source {
        fn name(&self) -> &'static str {
            "source"
        }
        fn do_work(&mut self) -> usize {
            let v = if self.next > self.n { 0 } else { self.next };
            if self.ring.push(v).is_err() {
                return 0;
            }
            self.next += 1;
            self.done = v == 0;
            1
        }
        fn is_done(&self) -> bool {
            self.done
        }
    }

    /// Sums what arrives until the end marker.
    struct Summer {
        ring: rtrb::Consumer<u64>,
        sum: Arc<AtomicU64>,
        done: bool,
    }

    impl Agent for Summer {
        fn name(&self) -> &'static str {
            "summer"
        }
        fn do_work(&mut self) -> usize {
            match self.ring.pop() {
                Ok(0) => {
                    self.done = true;
                    1
                }
                Ok(v) => {
                    self.sum.fetch_add(v, Ordering::Relaxed);
                    1
                }
                Err(_) => 0,
            }
        }
        fn is_done(&self) -> bool {
            self.done
        }
    }

    struct Ticks(u32);

    impl Supervisor for Ticks {
        fn every(&self) -> Duration {
            Duration::ZERO
        }
        fn tick(&mut self) {
            self.0 += 1;
        }
    }

    #[test]
    fn every_mode_runs_the_same_team_to_the_same_result() {
        for mode in [Threading::Stepped, Threading::Shared, Threading::Dedicated] {
            let (tx, rx) = RingBuffer::new(8);
            let sum = Arc::new(AtomicU64::new(0));
            let mut team = Team::new(IdleStrategy::Yield, false);
            team.add(Lane::Intake, Box::new(Source { next: 1, n: 1000, ring: tx, done: false }));
            team.add(Lane::Core, Box::new(Summer { ring: rx, sum: sum.clone(), done: false }));
            let mut ticks = Ticks(0);
            team.run(mode, &mut ticks).unwrap();
            assert_eq!(sum.load(Ordering::Relaxed), 500_500, "{mode:?}");
            if mode == Threading::Stepped {
                assert!(ticks.0 > 0, "the supervisor ticks between stepped cycles too");
            }
        }
    }

    /// Fails at start, leaving its ring undrained.
    struct Broken(#[allow(dead_code)] rtrb::Consumer<u64>);

    impl Agent for Broken {
        fn name(&self) -> &'static str {
            "broken"
        }
        fn on_start(&mut self) -> Result<(), AgentError> {
            Err(AgentError::new("broken", "cannot start"))
        }
        fn do_work(&mut self) -> usize {
            0
        }
        fn is_done(&self) -> bool {
            false
        }
    }

    #[test]
    fn a_failed_agent_closes_its_peers_instead_of_leaving_them_waiting() {
        for mode in [Threading::Shared, Threading::Dedicated] {
            let (tx, rx) = RingBuffer::new(8);
            let mut team = Team::new(IdleStrategy::Yield, false);
            // Never ends on its own: its ring fills and nobody drains it.
            team.add(Lane::Intake, Box::new(Source { next: 1, n: u64::MAX, ring: tx, done: false }));
            team.add(Lane::Core, Box::new(Broken(rx)));
            let errors = team.run(mode, &mut Ticks(0)).unwrap_err();
            assert_eq!(errors.len(), 1, "{mode:?}");
            assert_eq!(errors[0].message, "cannot start");
        }
    }

    #[test]
    fn modes_parse_by_name() {
        assert_eq!("stepped".parse::<Threading>(), Ok(Threading::Stepped));
        assert_eq!("shared".parse::<Threading>(), Ok(Threading::Shared));
        assert!("fast".parse::<Threading>().is_err());
    }
}
