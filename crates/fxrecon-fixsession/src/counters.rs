//! What a session counts: one writer (its I/O thread), any number of readers (status lines,
//! the later /metrics), no lock.
//!
//! Owns: the counters and the mapping from a session [`Event`] to them. Must never be written
//! from more than the one I/O thread.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::session::Event;

/// Counters of one session.
#[derive(Debug, Default)]
pub struct SessionCounters {
    /// Whether the session is logged on now.
    pub logged_on: AtomicBool,
    /// Logons completed.
    pub logons: AtomicU64,
    /// Logons refused (by either side): wrong CompID, credentials, numbers too low.
    pub logons_refused: AtomicU64,
    /// Logouts.
    pub logouts: AtomicU64,
    /// Connections made (initiator) or accepted (acceptor).
    pub connections: AtomicU64,
    /// Connections lost or closed.
    pub disconnects: AtomicU64,
    /// Connect attempts that failed (initiator).
    pub connect_failures: AtomicU64,
    /// Inbound gaps detected.
    pub gaps_detected: AtomicU64,
    /// ResendRequests sent (retries included).
    pub resend_requests: AtomicU64,
    /// Times every open gap was filled.
    pub gaps_filled: AtomicU64,
    /// ResendRequests abandoned after the bounded retries.
    pub resends_abandoned: AtomicU64,
    /// Sequence resets (SequenceReset-Reset, Logon 141=Y).
    pub resets: AtomicU64,
    /// Resends already had, discarded.
    pub duplicates_discarded: AtomicU64,
    /// The peer's ResendRequests answered with a GapFill.
    pub resends_answered: AtomicU64,
    /// Session-level Rejects we sent.
    pub rejects_sent: AtomicU64,
    /// Session-level Rejects the peer sent.
    pub rejects_received: AtomicU64,
    /// TestRequests sent.
    pub test_requests: AtomicU64,
    /// Messages handed to the ingest path.
    pub delivered: AtomicU64,
    /// Application messages among them.
    pub application: AtomicU64,
}

impl SessionCounters {
    /// Counts one session event.
    pub fn count(&self, e: &Event) {
        let c = match e {
            Event::LoggedOn { .. } => &self.logons,
            Event::LogonRefused(_) => &self.logons_refused,
            Event::LoggedOut { .. } => &self.logouts,
            Event::GapDetected { .. } => &self.gaps_detected,
            Event::ResendRequested { .. } => &self.resend_requests,
            Event::GapFilled => &self.gaps_filled,
            Event::ResendAbandoned => &self.resends_abandoned,
            Event::Reset { .. } => &self.resets,
            Event::DuplicateDiscarded(_) => &self.duplicates_discarded,
            Event::ResendAnswered { .. } => &self.resends_answered,
            Event::Rejected(_) => &self.rejects_sent,
            Event::PeerReject(_) => &self.rejects_received,
            Event::TestRequestSent => &self.test_requests,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// A counter's value.
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}
