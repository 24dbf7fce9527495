//! Errors of the session crate: bad settings (found before anything starts) and I/O.
//!
//! Owns: the error type. Must never carry a secret (a password is never put in a message).

/// What can go wrong starting or running a session.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// A setting that cannot work.
    #[error("FIX session {session}: {what}")]
    Config {
        /// The session (`SENDER->TARGET`).
        session: String,
        /// What is wrong.
        what: String,
    },
    /// Socket or state-directory I/O.
    #[error("FIX session {session}: {what}: {source}")]
    Io {
        /// The session.
        session: String,
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The session gave up (logon refused more often than the policy allows).
    #[error("FIX session {session}: {what}")]
    GaveUp {
        /// The session.
        session: String,
        /// Why.
        what: String,
    },
}

impl From<SessionError> for std::io::Error {
    fn from(e: SessionError) -> Self {
        std::io::Error::other(e.to_string())
    }
}
