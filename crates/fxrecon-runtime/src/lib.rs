//! fxrecon-runtime: how the daemon's agents run, knowing nothing of what they do.
//!
//! Agents and their life cycle ([`agent`]), the runner that owns a thread, a close flag and
//! the agent's error ([`runner`]), what a thread does when idle ([`idle`]), the threading
//! modes that map a team of agents to threads ([`threading`]), the SPSC rings between agents
//! ([`rings`]), shutdown on signals ([`shutdown`]) and live counters readable from any
//! thread ([`counters`]). After Aeron/Agrona's `Agent`, `AgentRunner` and `IdleStrategy`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod agent;
pub mod counters;
pub mod idle;
pub mod rings;
pub mod runner;
pub mod shutdown;
pub mod threading;
