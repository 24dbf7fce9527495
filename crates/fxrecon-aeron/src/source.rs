//! An Aeron subscription as a [`MessageSource`]: one FIX message per Aeron message.
//!
//! Owns: one subscription (its own Aeron client, the subscription, a fragment assembler that
//! puts messages above the MTU back together, image join/loss handlers that log and count),
//! polled by the ingest agent itself on its own thread (D68: no poller thread, no hand-over
//! between threads), the frame buffer whole messages are stamped with their arrival time in
//! between the assembler and [`MessageSource::poll`], and the counters it keeps
//! ([`AeronSourceCounters`]). It polls Aeron only when that buffer is empty, so backpressure
//! reaches the publisher through Aeron's flow control; when idle the agent's own idle
//! strategy applies. The end-of-stream marker ([`crate::marker`]) ends the input. Must never
//! decode or classify (the engine's one ingest path does), and never share an Aeron handle
//! between threads: the source is made on one thread and then owned, whole, by the agent's.

use std::ffi::CString;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use fxrecon_core::time::Micros;
use fxrecon_engine::ingest::clock::IngestClock;
use fxrecon_engine::ingest::source::{MessageSource, Poll, SourceMessage};
use fxrecon_runtime::rings::{self, Consumer, Producer, RingBuffer};
use rusteron_client::{AeronFragmentHandlerCallback, AeronHeader};

use crate::endpoint::Endpoint;
use crate::error::AeronError;
use crate::marker::is_end_of_stream;
use crate::subscription::Subscribed;

/// Bytes before a message in a ring frame: its arrival and its length (`rings` stamped frames).
const HEADER: usize = rings::STAMP_HEADER;
/// Bytes kept of a message longer than the limit (for the reject's excerpt).
const TOO_LONG_HEAD: usize = 256;

/// Settings of a subscription source.
#[derive(Clone, Debug)]
pub struct SourceConfig {
    /// Longest message accepted; longer ones are handed over as too long (rejected).
    pub max_message_bytes: usize,
    /// Bytes of the frame buffer between the fragment assembler and the ingest path.
    pub ring_bytes: usize,
    /// Fragments read per poll at most.
    pub fragment_limit: usize,
    /// How long to wait for the subscription to be registered with the driver.
    pub connect_timeout: Duration,
}

impl Default for SourceConfig {
    /// 64 KiB messages, a 4 MiB buffer, 64 fragments a poll, 10 s to connect.
    fn default() -> Self {
        Self {
            max_message_bytes: 64 << 10,
            ring_bytes: 4 << 20,
            fragment_limit: 64,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

pub use crate::subscription::AeronSourceCounters;

/// A subscription polled by whoever polls the source; each Aeron message one FIX message.
pub struct AeronSource {
    endpoint: Endpoint,
    subscribed: Subscribed<Collector>,
    ring: Consumer<u8>,
    buf: Vec<u8>,
    counters: Arc<AeronSourceCounters>,
    /// Largest frame one fragment can complete.
    per_fragment: usize,
    fragment_limit: usize,
    ended: bool,
}

impl AeronSource {
    /// Subscribes to `endpoint` through the driver in `aeron_dir`; returns once the
    /// subscription is registered (messages published before that are not seen).
    pub fn subscribe(aeron_dir: &Path, endpoint: Endpoint, cfg: SourceConfig) -> Result<Self, AeronError> {
        let dir = CString::new(aeron_dir.as_os_str().as_encoded_bytes())
            .map_err(|_| AeronError::Invalid { what: "aeron dir", value: aeron_dir.display().to_string() })?;
        let channel = endpoint.channel_c()?;
        let max = cfg.max_message_bytes.max(TOO_LONG_HEAD);
        let per_fragment = rings::FRAME_PREFIX + HEADER + max;
        let (tx, ring) = RingBuffer::new(cfg.ring_bytes.max(2 * per_fragment));
        let counters = Arc::new(AeronSourceCounters::default());
        let collector = Collector {
            tx,
            frame: Vec::with_capacity(HEADER + max),
            max,
            clock: IngestClock::start(),
            counters: counters.clone(),
            ended: false,
            dropped: 0,
        };
        let subscribed = Subscribed::open(&dir, &channel, &endpoint, cfg.connect_timeout, counters.clone(), collector)?;
        tracing::info!(endpoint = %endpoint, dir = %aeron_dir.display(), "subscribed");
        Ok(Self {
            endpoint,
            subscribed,
            ring,
            buf: Vec::with_capacity(HEADER + max),
            counters,
            per_fragment,
            fragment_limit: cfg.fragment_limit.max(1),
            ended: false,
        })
    }

    /// What this source counts.
    pub fn counters(&self) -> Arc<AeronSourceCounters> {
        self.counters.clone()
    }

    /// The stream it reads.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Polls Aeron for as many fragments as the frame buffer has room for (at most one whole
    /// message completes per fragment).
    fn poll_aeron(&mut self) -> io::Result<()> {
        let collector = self.subscribed.handler();
        if collector.ended {
            return Ok(());
        }
        let limit = (collector.tx.slots() / self.per_fragment).min(self.fragment_limit);
        if limit == 0 {
            return Ok(());
        }
        self.subscribed.poll(limit).map_err(io::Error::from)?;
        let dropped = self.subscribed.handler().dropped;
        if dropped > 0 {
            tracing::error!(dropped, "aeron messages lost: the frame buffer had no room");
        }
        Ok(())
    }
}

impl MessageSource for AeronSource {
    fn describe(&self) -> String {
        format!("aeron {}", self.endpoint)
    }

    fn connected(&self) -> bool {
        // Connected while more publishers' images joined than were lost.
        let c = &self.counters;
        c.images_joined.load(Ordering::Relaxed) > c.images_lost.load(Ordering::Relaxed)
    }

    /// Nothing to skip: a subscription starts at the stream's current position, so what a
    /// journal holds is never delivered again (and what was published while nobody
    /// subscribed is gone: the session sequencer reports it as a gap).
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        Ok(n)
    }

    fn poll(&mut self) -> io::Result<Poll<'_>> {
        if self.ended {
            return Ok(Poll::End);
        }
        if self.ring.is_empty() {
            self.poll_aeron()?;
        }
        let (received, len) = match rings::take_stamped(&mut self.ring, &mut self.buf) {
            None => return Ok(Poll::Pending),
            Some(rings::Stamped::End) => {
                self.ended = true;
                return Ok(Poll::End);
            }
            Some(rings::Stamped::Message { received, len }) => (received, len),
        };
        let body = &self.buf[HEADER..];
        Ok(Poll::Message(if len as usize > body.len() {
            SourceMessage::TooLong { head: body, len: len as usize }
        } else {
            SourceMessage::Whole { bytes: body, received: Some(Micros(received)) }
        }))
    }
}

/// Receives whole (reassembled) messages while the source polls and frames them into its buffer.
struct Collector {
    tx: Producer<u8>,
    frame: Vec<u8>,
    max: usize,
    clock: IngestClock,
    counters: Arc<AeronSourceCounters>,
    ended: bool,
    dropped: u64,
}

impl Collector {
    fn push(&mut self, received: Micros, len: u64, body: &[u8]) {
        rings::stamp_frame(&mut self.frame, received.0, len, body);
        self.push_built();
    }

    /// Pushes the frame built in `self.frame`.
    fn push_built(&mut self) {
        if !rings::push_frame(&mut self.tx, &self.frame) {
            // Cannot happen: the poll limit leaves room for every fragment's message.
            self.dropped += 1;
        }
    }
}

impl AeronFragmentHandlerCallback for Collector {
    fn handle_aeron_fragment_handler(&mut self, buffer: &[u8], _header: AeronHeader) {
        if self.ended {
            return;
        }
        if is_end_of_stream(buffer) {
            self.ended = true;
            rings::end_frame(&mut self.frame);
            self.push_built();
            return;
        }
        let received = self.clock.now();
        if buffer.len() > self.max {
            self.counters.too_long.fetch_add(1, Ordering::Relaxed);
            self.push(received, buffer.len() as u64, &buffer[..TOO_LONG_HEAD]);
            return;
        }
        self.counters.messages.fetch_add(1, Ordering::Relaxed);
        self.counters.bytes.fetch_add(buffer.len() as u64, Ordering::Relaxed);
        self.push(received, buffer.len() as u64, buffer);
    }
}
