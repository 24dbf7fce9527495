//! FIX 4.4 sessions, written by us (issue 26, D80–D84): the drop copy as an initiator, the
//! primary as an acceptor, each a [`fxrecon_engine::ingest::source::MessageSource`].
//!
//! A table of contents: `message` (tag=value fields, framing a byte stream, building
//! messages), `session` (the pure session state machine: bytes and time in, actions out),
//! `store` (sequence numbers persisted in the state directory), `resume` (where a session
//! resumes from a journal), `counters`, `config`,
//! `connection` (the socket I/O thread: initiator and acceptor loops), `source` (the
//! `MessageSource` over the byte ring), `stream` (several sessions as one input), `error`. Must never decode business fields or touch
//! the reconciler: whole messages go to the engine's one decode path.

#![forbid(unsafe_code)]

pub mod config;
pub mod connection;
pub mod counters;
pub mod error;
pub mod message;
pub mod resume;
pub mod schedule;
pub mod session;
pub mod source;
pub mod store;
pub mod stream;
pub mod timefmt;
