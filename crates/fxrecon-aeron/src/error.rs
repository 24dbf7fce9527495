//! The errors of the Aeron transport.
//!
//! Owns: [`AeronError`], what a caller is told when a driver, a subscription or a publication
//! cannot be had. Must never carry Aeron handles (errors cross threads).

use std::path::PathBuf;

/// Why the Aeron transport could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum AeronError {
    /// The Aeron C library reported an error.
    #[error("aeron: {what}: {message}")]
    Aeron {
        /// What was being done.
        what: &'static str,
        /// Aeron's own message.
        message: String,
    },
    /// A channel or directory could not be handed to the C library (an interior NUL).
    #[error("invalid {what}: {value:?}")]
    Invalid {
        /// Which setting.
        what: &'static str,
        /// Its value.
        value: String,
    },
    /// No media driver is running in the directory to attach to.
    #[error("no active Aeron media driver in {0} (start one, or let fxrecon embed one)")]
    NoDriver(PathBuf),
    /// Another media driver is active in the directory an embedded one would use.
    #[error("an Aeron media driver is already active in {0}")]
    DriverActive(PathBuf),
    /// A subscription or publication was not ready in time.
    #[error("timed out after {ms} ms waiting for {what}")]
    TimedOut {
        /// What was awaited.
        what: String,
        /// How long.
        ms: u64,
    },
    /// A file-system error (the driver's directory).
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A thread of the transport could not be started or died.
    #[error("aeron thread: {0}")]
    Thread(String),
}

impl AeronError {
    /// Wraps an error of the C library (either crate's error type) with what was being done.
    pub fn aeron(what: &'static str, e: impl std::fmt::Display) -> Self {
        AeronError::Aeron { what, message: e.to_string() }
    }
}

impl From<AeronError> for std::io::Error {
    fn from(e: AeronError) -> Self {
        std::io::Error::other(e)
    }
}
