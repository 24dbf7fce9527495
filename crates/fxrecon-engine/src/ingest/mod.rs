//! Ingest: everything between a transport and the stream's ring.
//!
//! A [`source::MessageSource`] hands whole messages over ([`file`], [`pipe`], [`memory`];
//! transports in their own crates); the ingest agent ([`ingestor`]) admits each through the
//! one decode / stamp / quarantine path ([`admit`]) and pushes [`message::IngestMsg`]s; on
//! replay, the journal intake ([`journal_intake`]) does the same from a journal's records.

pub mod admit;
pub mod clock;
pub mod file;
pub mod ingestor;
pub mod journal_intake;
pub mod lines;
pub mod memory;
pub mod message;
pub mod pipe;
pub mod source;
