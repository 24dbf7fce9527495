//! A plain publisher of one stream, for tools that feed Aeron from the thread that made it
//! (`fxrecon publish`, tests): connect, wait for a subscriber, offer with a deadline.
//!
//! Owns: [`Publisher`] (a client and an exclusive publication, used by the thread that created
//! them: each publisher is a session of its own, so a publisher that is restarted shows as a
//! new image and the one it replaced as lost).
//! Must never be used from the reconciler's threads: it waits on backpressure (the daemon's
//! output uses [`crate::sink::AeronSink`], which never does).

use std::path::Path;
use std::time::{Duration, Instant};

use rusteron_client::{Aeron, AeronContext, AeronExclusivePublication};

use crate::endpoint::Endpoint;
use crate::error::AeronError;

/// A publication with its own client.
pub struct Publisher {
    endpoint: Endpoint,
    // Field order is drop order: the publication before its client.
    publication: AeronExclusivePublication,
    _client: Aeron,
}

impl Publisher {
    /// Adds a publication on `endpoint` through the driver in `aeron_dir`.
    pub fn connect(aeron_dir: &Path, endpoint: Endpoint, timeout: Duration) -> Result<Self, AeronError> {
        let dir = std::ffi::CString::new(aeron_dir.as_os_str().as_encoded_bytes())
            .map_err(|_| AeronError::Invalid { what: "aeron dir", value: aeron_dir.display().to_string() })?;
        let channel = endpoint.channel_c()?;
        let ctx = AeronContext::new().map_err(|e| AeronError::aeron("client context", e))?;
        ctx.set_dir(&dir).map_err(|e| AeronError::aeron("aeron.dir", e))?;
        let client = Aeron::new(&ctx).map_err(|e| AeronError::aeron("connecting to the media driver", e))?;
        client.start().map_err(|e| AeronError::aeron("starting the client", e))?;
        let publication = client
            .async_add_exclusive_publication(&channel, endpoint.stream_id)
            .map_err(|e| AeronError::aeron("adding the publication", e))?
            .poll_blocking(timeout)
            .map_err(|e| AeronError::aeron("adding the publication", e))?;
        Ok(Self { endpoint, publication, _client: client })
    }

    /// Whether a subscriber is connected now.
    pub fn is_connected(&self) -> bool {
        self.publication.is_connected()
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
