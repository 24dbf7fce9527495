//! A plain publisher of one stream, for tools that feed Aeron from the thread that made it
//! (`fxrecon publish`, tests): connect, wait for a subscriber, offer with a deadline.
//!
//! Owns: [`Publisher`] (a client and a publication, used by the thread that created them).
//! Must never be used from the reconciler's threads: it waits on backpressure (the daemon's
//! output uses [`crate::sink::AeronSink`], which never does).

use std::path::Path;
use std::time::{Duration, Instant};

use rusteron_client::{Aeron, AeronPublication};

use crate::endpoint::Endpoint;
use crate::error::AeronError;
use crate::sink::connect_publication;

/// A publication with its own client.
pub struct Publisher {
    endpoint: Endpoint,
    // Field order is drop order: the publication before its client.
    publication: AeronPublication,
    _client: Aeron,
}

impl Publisher {
    /// Adds a publication on `endpoint` through the driver in `aeron_dir`.
    pub fn connect(aeron_dir: &Path, endpoint: Endpoint, timeout: Duration) -> Result<Self, AeronError> {
        let (client, publication) = connect_publication(aeron_dir, &endpoint, timeout)?;
        Ok(Self { endpoint, publication, _client: client })
    }

    /// Waits up to `timeout` for a subscriber to connect.
    pub fn wait_connected(&self, timeout: Duration) -> Result<(), AeronError> {
        let deadline = Instant::now() + timeout;
        while !self.publication.is_connected() {
            if Instant::now() > deadline {
                return Err(AeronError::TimedOut {
                    what: format!("a subscriber on {}", self.endpoint),
                    ms: timeout.as_millis() as u64,
                });
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    /// Offers `msg`, waiting out backpressure (and a subscriber's absence) up to `timeout`.
    pub fn offer(&self, msg: &[u8], timeout: Duration) -> Result<(), AeronError> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.publication.offer(msg) {
                Ok(_) => return Ok(()),
                Err(e) if e.is_retryable() && Instant::now() < deadline => std::thread::yield_now(),
                Err(e) => return Err(AeronError::aeron("publishing", format!("{}: {e}", self.endpoint))),
            }
        }
    }

    /// The stream it publishes.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
}
