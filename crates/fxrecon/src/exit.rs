//! Exit statuses (contract section 6): 0 ran, 2 a usage, config or I/O error at start, 1 a
//! fatal error while running (logged first).
//!
//! Owns: telling the two kinds of error apart. Everything is a start error unless a command
//! marks it [`fatal`].

use std::fmt;

/// An error that happened while the run was going on.
#[derive(Debug)]
pub struct Fatal(pub String);

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Fatal {}

/// Marks `e` as an error while running (exit status 1).
pub fn fatal(e: impl fmt::Display) -> anyhow::Error {
    anyhow::Error::new(Fatal(e.to_string()))
}

/// The exit status for `e`.
pub fn status_of(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<Fatal>().is_some() { 1 } else { 2 }
}
