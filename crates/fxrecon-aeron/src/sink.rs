//! An Aeron publication as an [`OutputSink`]: each record (divergence, gap, resolution) one
//! Aeron message, the same JSON object as a line of the JSON Lines output (no line end).
//!
//! Owns: the publisher thread of the divergence stream (default 2001: its own Aeron client
//! and publication, created, used and dropped there: without rusteron's `multi-threaded`
//! feature no Aeron handle may cross threads), the byte ring the output agent renders records
//! into, the bounded retry on backpressure and the counters of what was sent and what was
//! given up ([`AeronSinkCounters`]). The output agent never waits: a full ring, no connected
//! subscriber, or backpressure that outlasts the retry budget drop the record and count it.
//! A closed publication is an error (the run exits 1). Closing sends the end-of-stream
//! marker after the last record. Must never render records differently from the JSON Lines
//! output.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fxrecon_core::divergence::Record;
use fxrecon_engine::output::render::write_record;
use fxrecon_engine::output::sink::OutputSink;
use fxrecon_runtime::idle::{IdleStrategy, Idler};
use fxrecon_runtime::rings::{self, Consumer, Producer, RingBuffer};
use rusteron_client::{Aeron, AeronOfferError, AeronPublication};

use crate::endpoint::Endpoint;
use crate::error::AeronError;
use crate::marker::END_OF_STREAM;
use crate::startup::await_ready;

/// Settings of a publication sink.
#[derive(Clone, Debug)]
pub struct SinkConfig {
    /// Offers of one record that met backpressure before it is dropped.
    pub max_retries: u32,
    /// How long to wait for the publication to be registered with the driver.
    pub connect_timeout: Duration,
    /// How long to wait at start for a subscriber (zero: do not wait; records published with
    /// no subscriber are dropped and counted).
    pub wait_for_subscriber: Duration,
    /// Bytes of the ring between the output agent and the publisher thread.
    pub ring_bytes: usize,
    /// What the publisher thread does when there is nothing to send.
    pub idle: IdleStrategy,
}

impl Default for SinkConfig {
    /// 1000 retries (spins, then yields: well under a millisecond), 10 s to register, no wait
    /// for a subscriber, a 4 MiB ring, backoff idling.
    fn default() -> Self {
        Self {
            max_retries: 1000,
            connect_timeout: Duration::from_secs(10),
            wait_for_subscriber: Duration::ZERO,
            ring_bytes: 4 << 20,
            idle: IdleStrategy::default(),
        }
    }
}

/// What a publication sink counts (written by its publisher thread and the output agent).
#[derive(Debug, Default)]
pub struct AeronSinkCounters {
    /// Records published.
    pub sent: AtomicU64,
    /// Offers that met backpressure (or an admin action) and were retried.
    pub retries: AtomicU64,
    /// Records dropped after the retry budget ran out.
    pub dropped_backpressure: AtomicU64,
    /// Records dropped because no subscriber was connected.
    pub dropped_not_connected: AtomicU64,
    /// Records dropped because the ring to the publisher thread was full.
    pub dropped_ring_full: AtomicU64,
}

impl AeronSinkCounters {
    /// All records dropped, for whatever reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_backpressure.load(Ordering::Relaxed)
            + self.dropped_not_connected.load(Ordering::Relaxed)
            + self.dropped_ring_full.load(Ordering::Relaxed)
    }
}

/// The divergence output published on an Aeron stream.
pub struct AeronSink {
    endpoint: Endpoint,
    ring: Producer<u8>,
    buf: Vec<u8>,
    closing: Arc<AtomicBool>,
    publisher: Option<JoinHandle<Result<(), AeronError>>>,
    counters: Arc<AeronSinkCounters>,
}

impl AeronSink {
    /// Starts a publisher thread with a publication on `endpoint` through the driver in
    /// `aeron_dir`; returns once the publication is registered (and, if configured, a
    /// subscriber connected or the wait ran out).
    pub fn publish(aeron_dir: &Path, endpoint: Endpoint, cfg: SinkConfig) -> Result<Self, AeronError> {
        let (tx, ring) = RingBuffer::new(cfg.ring_bytes.max(64 << 10));
        let closing = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(AeronSinkCounters::default());
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let publisher = {
            let (dir, endpoint, cfg) = (aeron_dir.to_path_buf(), endpoint.clone(), cfg.clone());
            let (closing, counters) = (closing.clone(), counters.clone());
            std::thread::Builder::new()
                .name(format!("aeron-pub-{}", endpoint.stream_id))
                .spawn(move || {
                    let (client, publication) = match connect_publication(&dir, &endpoint, cfg.connect_timeout) {
                        Ok(p) => p,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return Ok(());
                        }
                    };
                    let deadline = Instant::now() + cfg.wait_for_subscriber;
                    while !publication.is_connected() && Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    let _ = ready_tx.send(Ok(publication.is_connected()));
                    let result = drain(&publication, ring, &cfg, &closing, &counters, &endpoint);
                    drop(publication);
                    drop(client);
                    result
                })
                .map_err(|e| AeronError::Thread(e.to_string()))?
        };
        let waited = cfg.connect_timeout + cfg.wait_for_subscriber + Duration::from_secs(5);
        let (connected, publisher) =
            await_ready(&ready_rx, publisher, &closing, waited, format!("publication {endpoint}"))?;
        tracing::info!(endpoint = %endpoint, connected, "publishing the divergence stream");
        Ok(Self { endpoint, ring: tx, buf: Vec::with_capacity(4096), closing, publisher: Some(publisher), counters })
    }

    /// What this sink counts.
    pub fn counters(&self) -> Arc<AeronSinkCounters> {
        self.counters.clone()
    }

    /// Hands `msg` to the publisher thread; a full ring drops it (counted).
    fn enqueue(&mut self, msg: &[u8]) -> io::Result<()> {
        if self.publisher.as_ref().is_none_or(|p| p.is_finished()) {
            return self.finish();
        }
        if !rings::push_frame(&mut self.ring, msg) {
            self.counters.dropped_ring_full.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Waits for the publisher thread to end and reports its failure.
    fn finish(&mut self) -> io::Result<()> {
        match self.publisher.take() {
            None => Ok(()),
            Some(p) => match p.join() {
                Ok(r) => r.map_err(io::Error::from),
                Err(_) => Err(io::Error::other(format!("the aeron publisher of {} panicked", self.endpoint))),
            },
        }
    }
}

/// The publisher thread's loop: every frame of the ring offered (bounded retry), until the
/// sink closes and the ring is empty.
fn drain(
    publication: &AeronPublication,
    mut ring: Consumer<u8>,
    cfg: &SinkConfig,
    closing: &AtomicBool,
    counters: &AeronSinkCounters,
    endpoint: &Endpoint,
) -> Result<(), AeronError> {
    let mut idler = Idler::new(cfg.idle);
    // A frame that wraps around the ring's end is copied here first (reused, never shrunk).
    let mut whole = Vec::new();
    loop {
        // Read the flag first: everything pushed before it was set is in the ring then.
        let closed = closing.load(Ordering::Acquire);
        let sent = rings::with_frame(&mut ring, |a, b| {
            if b.is_empty() {
                offer(publication, a, cfg, counters, endpoint)
            } else {
                whole.clear();
                whole.extend_from_slice(a);
                whole.extend_from_slice(b);
                offer(publication, &whole, cfg, counters, endpoint)
            }
        });
        match sent {
            Some(r) => {
                r?;
                idler.idle(1);
            }
            None if closed => return Ok(()),
            None => idler.idle(0),
        }
    }
}

/// Offers `msg`, retrying backpressure up to the budget; a dropped message is counted.
fn offer(
    publication: &AeronPublication,
    msg: &[u8],
    cfg: &SinkConfig,
    counters: &AeronSinkCounters,
    endpoint: &Endpoint,
) -> Result<(), AeronError> {
    let end = msg == END_OF_STREAM;
    let mut tries = 0u32;
    loop {
        match publication.offer(msg) {
            Ok(_) => {
                if !end {
                    counters.sent.fetch_add(1, Ordering::Relaxed);
                }
                return Ok(());
            }
            Err(AeronOfferError::NotConnected) => {
                if !end {
                    counters.dropped_not_connected.fetch_add(1, Ordering::Relaxed);
                }
                return Ok(());
            }
            Err(AeronOfferError::BackPressured | AeronOfferError::AdminAction) => {
                tries += 1;
                if tries > cfg.max_retries {
                    if !end {
                        counters.dropped_backpressure.fetch_add(1, Ordering::Relaxed);
                    }
                    return Ok(());
                }
                counters.retries.fetch_add(1, Ordering::Relaxed);
                if tries < 100 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            Err(e) => return Err(AeronError::aeron("publishing", format!("{endpoint}: {e}"))),
        }
    }
}
/// A client of the driver in `aeron_dir` and a publication on `endpoint` (for the sink and for
/// publishers such as `fxrecon publish`).
pub fn connect_publication(
    aeron_dir: &Path,
    endpoint: &Endpoint,
    timeout: Duration,
) -> Result<(Aeron, AeronPublication), AeronError> {
    let dir = std::ffi::CString::new(aeron_dir.as_os_str().as_encoded_bytes())
        .map_err(|_| AeronError::Invalid { what: "aeron dir", value: aeron_dir.display().to_string() })?;
    let channel = endpoint.channel_c()?;
    let client = crate::client::connect(&dir, endpoint)?;
    let publication = client
        .async_add_publication(&channel, endpoint.stream_id)
        .map_err(|e| AeronError::aeron("adding the publication", e))?
        .poll_blocking(timeout)
        .map_err(|e| AeronError::aeron("adding the publication", e))?;
    Ok((client, publication))
}

impl OutputSink for AeronSink {
    fn record(&mut self, record: &Record) -> io::Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let result =
            write_record(&mut buf, record).and_then(|()| self.enqueue(buf.strip_suffix(b"\n").unwrap_or(&buf)));
        self.buf = buf;
        result
    }

    fn close(&mut self) -> io::Result<()> {
        if self.publisher.is_none() {
            return Ok(());
        }
        // Tell subscribers the output is over (best effort: nobody may be listening).
        self.enqueue(END_OF_STREAM)?;
        self.closing.store(true, Ordering::Release);
        self.finish()?;
        let c = &self.counters;
        if c.dropped() > 0 {
            tracing::warn!(
                endpoint = %self.endpoint,
                sent = c.sent.load(Ordering::Relaxed),
                dropped_backpressure = c.dropped_backpressure.load(Ordering::Relaxed),
                dropped_not_connected = c.dropped_not_connected.load(Ordering::Relaxed),
                dropped_ring_full = c.dropped_ring_full.load(Ordering::Relaxed),
                "aeron output: records were dropped"
            );
        }
        Ok(())
    }
}

impl Drop for AeronSink {
    fn drop(&mut self) {
        self.closing.store(true, Ordering::Release);
        let _ = self.finish();
    }
}
