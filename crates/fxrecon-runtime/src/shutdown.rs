//! Shutdown: the flag every intake agent checks, raised by SIGTERM/SIGINT or by the program.
//!
//! Owns: the shutdown request (a shared flag), the signal hooks (`signal-hook`: the first
//! SIGTERM or SIGINT raises the flag, a second one exits the process at once with status 1)
//! and the shutdown deadline. A pipeline stops by draining, never by killing a thread: intake
//! stops first, then the rings drain, then sinks and journal flush, then `on_close`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Exit status of a process stopped by a second signal, or by a shutdown that overran its
/// deadline (the journal stays recoverable either way).
pub const FORCED_EXIT_STATUS: i32 = 1;

/// A shutdown request shared by everything that must stop: cheap to clone and to check.
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    requested: Arc<AtomicBool>,
}

impl Shutdown {
    /// A flag nobody has raised.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raises the flag (as a signal would).
    pub fn request(&self) {
        self.requested.store(true, Ordering::Release);
    }

    /// True once shutdown was requested.
    #[inline]
    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::Acquire)
    }

    /// Hooks SIGTERM and SIGINT to this flag: the first raises it, a second exits the process
    /// at once with [`FORCED_EXIT_STATUS`]. Call once per process.
    pub fn on_signals(&self) -> std::io::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        for sig in [SIGTERM, SIGINT] {
            // Registered first, so it sees the flag as it was before this signal raised it.
            signal_hook::flag::register_conditional_shutdown(sig, FORCED_EXIT_STATUS, self.requested.clone())?;
            signal_hook::flag::register(sig, self.requested.clone())?;
        }
        Ok(())
    }
}

/// Watches a [`Shutdown`] from a supervisor: logs the request once and enforces the deadline
/// by which the drain must be over.
#[derive(Debug)]
pub struct ShutdownWatch {
    shutdown: Shutdown,
    timeout: Duration,
    deadline: Option<Instant>,
}

impl ShutdownWatch {
    /// Watches `shutdown`; a drain may take `timeout` after the request.
    pub fn new(shutdown: Shutdown, timeout: Duration) -> Self {
        Self { shutdown, timeout, deadline: None }
    }

    /// Called from a supervisor tick: logs the request when first seen; once the deadline has
    /// passed, logs and exits the process with [`FORCED_EXIT_STATUS`].
    pub fn check(&mut self) {
        if !self.shutdown.is_requested() {
            return;
        }
        match self.deadline {
            None => {
                self.deadline = Some(Instant::now() + self.timeout);
                tracing::warn!(
                    timeout_ms = self.timeout.as_millis() as u64,
                    "shutdown requested: stopping intake and draining"
                );
            }
            Some(d) if Instant::now() >= d => {
                tracing::error!(
                    timeout_ms = self.timeout.as_millis() as u64,
                    "shutdown did not finish within shutdown_timeout: exiting now (the journal recovers on restart)"
                );
                std::process::exit(FORCED_EXIT_STATUS);
            }
            Some(_) => {}
        }
    }

    /// True once shutdown was requested.
    pub fn requested(&self) -> bool {
        self.shutdown.is_requested()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_seen_by_every_clone() {
        let s = Shutdown::new();
        let seen_by = s.clone();
        assert!(!seen_by.is_requested());
        s.request();
        assert!(seen_by.is_requested());
        let mut w = ShutdownWatch::new(seen_by, Duration::from_secs(60));
        w.check();
        assert!(w.requested() && w.deadline.is_some());
    }
}
