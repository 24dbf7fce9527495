//! An Aeron subscription as a [`MessageSource`]: one FIX message per Aeron message.
//!
//! Owns: the poller thread of one subscription (its own Aeron client, the subscription, a
//! fragment assembler that puts messages above the MTU back together, image join/loss
//! handlers that log and count), the byte ring it hands whole messages through, stamped with
//! their arrival time, and the counters it keeps ([`AeronSourceCounters`]). The thread backs
//! off when the stream is idle ([`IdleStrategy`]), and stops polling while the ring is full,
//! so backpressure reaches the publisher through Aeron's flow control. The end-of-stream
//! marker ([`crate::marker`]) ends the input. Must never decode or classify (the engine's
//! one ingest path does), and never hand an Aeron handle to another thread: everything Aeron
//! is created, used and dropped on the poller thread.

use std::ffi::CString;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use fxrecon_core::time::Micros;
use fxrecon_engine::ingest::clock::IngestClock;
use fxrecon_engine::ingest::source::{MessageSource, Poll, SourceMessage};
use fxrecon_runtime::idle::{IdleStrategy, Idler};
use fxrecon_runtime::rings::{self, Consumer, Producer, RingBuffer};
use rusteron_client::{
    Aeron, AeronAvailableImageCallback, AeronContext, AeronFragmentHandlerCallback, AeronHeader, AeronImage,
    AeronSubscription, AeronUnavailableImageCallback, Handler,
};

use crate::endpoint::Endpoint;
use crate::error::AeronError;
use crate::marker::is_end_of_stream;
use crate::startup::await_ready;

/// Bytes before a message in a ring frame: its arrival and its length (`rings` stamped frames).
const HEADER: usize = rings::STAMP_HEADER;
/// Bytes kept of a message longer than the limit (for the reject's excerpt).
const TOO_LONG_HEAD: usize = 256;

/// Settings of a subscription source.
#[derive(Clone, Debug)]
pub struct SourceConfig {
    /// Longest message accepted; longer ones are handed over as too long (rejected).
    pub max_message_bytes: usize,
    /// Bytes of the ring between the poller thread and the ingest agent.
    pub ring_bytes: usize,
    /// What the poller thread does when the stream is idle.
    pub idle: IdleStrategy,
    /// Fragments read per poll at most.
    pub fragment_limit: usize,
    /// How long to wait for the subscription to be registered with the driver.
    pub connect_timeout: Duration,
}

impl Default for SourceConfig {
    /// 64 KiB messages, a 4 MiB ring, backoff idling, 64 fragments a poll, 10 s to connect.
    fn default() -> Self {
        Self {
            max_message_bytes: 64 << 10,
            ring_bytes: 4 << 20,
            idle: IdleStrategy::default(),
            fragment_limit: 64,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// What a subscription source counts (written by its poller thread and the client's
/// conductor, read by anyone).
#[derive(Debug, Default)]
pub struct AeronSourceCounters {
    /// Whole messages handed to the ring (the end marker excluded).
    pub messages: AtomicU64,
    /// Bytes of those messages.
    pub bytes: AtomicU64,
    /// Messages longer than the limit.
    pub too_long: AtomicU64,
    /// Images (publishers) that joined.
    pub images_joined: AtomicU64,
    /// Images that were lost (a publisher gone or timed out).
    pub images_lost: AtomicU64,
}

/// A subscription read by a poller thread of its own; each Aeron message one FIX message.
pub struct AeronSource {
    endpoint: Endpoint,
    ring: Consumer<u8>,
    buf: Vec<u8>,
    stop: Arc<AtomicBool>,
    poller: Option<JoinHandle<Result<(), AeronError>>>,
    counters: Arc<AeronSourceCounters>,
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
        let ring_bytes = cfg.ring_bytes.max(2 * (rings::FRAME_PREFIX + HEADER + max));
        let (tx, ring) = RingBuffer::new(ring_bytes);
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(AeronSourceCounters::default());
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let poller = {
            let (stop, counters, endpoint, cfg) = (stop.clone(), counters.clone(), endpoint.clone(), cfg.clone());
            std::thread::Builder::new()
                .name(format!("aeron-sub-{}", endpoint.stream_id))
                .spawn(move || {
                    let started = Subscribed::open(&dir, &channel, &endpoint, &cfg, counters.clone());
                    let sub = match started {
                        Ok(s) => {
                            let _ = ready_tx.send(Ok(()));
                            s
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return Ok(());
                        }
                    };
                    sub.run(tx, max, &cfg, &stop, counters)
                })
                .map_err(|e| AeronError::Thread(e.to_string()))?
        };
        let waited = cfg.connect_timeout + Duration::from_secs(5);
        let ((), poller) = await_ready(&ready_rx, poller, &stop, waited, format!("subscription {endpoint}"))?;
        tracing::info!(endpoint = %endpoint, dir = %aeron_dir.display(), "subscribed");
        Ok(Self {
            endpoint,
            ring,
            buf: Vec::with_capacity(HEADER + max),
            stop,
            poller: Some(poller),
            counters,
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

    /// Joins the poller thread (after it finished), turning its failure into an I/O error.
    fn join_poller(&mut self) -> io::Result<()> {
        match self.poller.take() {
            None => Ok(()),
            Some(p) => match p.join() {
                Ok(r) => r.map_err(io::Error::from),
                Err(_) => Err(io::Error::other("the Aeron poller thread panicked")),
            },
        }
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
        // Frames pushed before the poller finished are still read after it did.
        let finished = self.poller.as_ref().is_none_or(|p| p.is_finished());
        let (received, len) = match rings::take_stamped(&mut self.ring, &mut self.buf) {
            None if !finished => return Ok(Poll::Pending),
            None => {
                self.ended = true;
                self.join_poller()?;
                // The poller stops without an end marker only when told to (shutdown) or failed.
                return Ok(Poll::End);
            }
            Some(rings::Stamped::End) => {
                self.ended = true;
                self.stop.store(true, Ordering::Release);
                self.join_poller()?;
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

impl Drop for AeronSource {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(p) = self.poller.take() {
            let _ = p.join();
        }
    }
}

/// The Aeron side of a source, alive on its poller thread only.
struct Subscribed {
    // Field order is drop order: the subscription before its image handlers and the client.
    subscription: AeronSubscription,
    _images: Handler<ImageEvents>,
    _client: Aeron,
}

impl Subscribed {
    fn open(
        dir: &CString,
        channel: &CString,
        endpoint: &Endpoint,
        cfg: &SourceConfig,
        counters: Arc<AeronSourceCounters>,
    ) -> Result<Self, AeronError> {
        let ctx = AeronContext::new().map_err(|e| AeronError::aeron("client context", e))?;
        ctx.set_dir(dir).map_err(|e| AeronError::aeron("aeron.dir", e))?;
        let stream = endpoint.to_string();
        ctx.set_error_handler(Some(move |code: i32, msg: &str| {
            tracing::warn!(endpoint = %stream, code, message = msg, "aeron client error");
        }))
        .map_err(|e| AeronError::aeron("error handler", e))?;
        let client = Aeron::new(&ctx).map_err(|e| AeronError::aeron("connecting to the media driver", e))?;
        client.start().map_err(|e| AeronError::aeron("starting the client", e))?;
        let images = Handler::new(ImageEvents { endpoint: endpoint.to_string(), counters });
        let subscription = client
            .async_add_subscription(channel, endpoint.stream_id, Some(&images), Some(&images))
            .map_err(|e| AeronError::aeron("adding the subscription", e))?
            .poll_blocking(cfg.connect_timeout)
            .map_err(|e| AeronError::aeron("adding the subscription", e))?;
        Ok(Self { subscription, _images: images, _client: client })
    }

    /// Polls until stopped, the agent is gone, or the end marker came.
    fn run(
        self,
        tx: Producer<u8>,
        max: usize,
        cfg: &SourceConfig,
        stop: &AtomicBool,
        counters: Arc<AeronSourceCounters>,
    ) -> Result<(), AeronError> {
        let collector = Collector {
            tx,
            frame: Vec::with_capacity(HEADER + max),
            max,
            clock: IngestClock::start(),
            counters,
            ended: false,
            dropped: 0,
        };
        let (assembler, collector) = Handler::with_fragment_assembler(collector)
            .map_err(|e| AeronError::aeron("creating the fragment assembler", e))?;
        let per_fragment = rings::FRAME_PREFIX + HEADER + max;
        let mut idler = Idler::new(cfg.idle);
        loop {
            if stop.load(Ordering::Acquire) || collector.ended || collector.tx.is_abandoned() {
                break;
            }
            // At most one whole message completes per fragment: poll only what the ring holds.
            let limit = (collector.tx.slots() / per_fragment).min(cfg.fragment_limit.max(1));
            if limit == 0 {
                idler.idle(0);
                continue;
            }
            let n = self.subscription.poll(Some(&assembler), limit).map_err(|e| AeronError::aeron("polling", e))?;
            idler.idle(n.max(0) as usize);
        }
        if collector.dropped > 0 {
            tracing::error!(dropped = collector.dropped, "aeron messages lost: the ring had no room");
        }
        Ok(())
    }
}

/// Logs and counts images (publishers) joining and leaving; runs on the client's conductor.
struct ImageEvents {
    endpoint: String,
    counters: Arc<AeronSourceCounters>,
}

impl AeronAvailableImageCallback for ImageEvents {
    fn handle_aeron_on_available_image(&mut self, _subscription: AeronSubscription, image: AeronImage) {
        self.counters.images_joined.fetch_add(1, Ordering::Relaxed);
        match image.get_constants() {
            Ok(c) => {
                tracing::info!(endpoint = %self.endpoint, session_id = c.session_id(), source = c.source_identity(), "aeron image available (a publisher joined)")
            }
            Err(_) => tracing::info!(endpoint = %self.endpoint, "aeron image available (a publisher joined)"),
        }
    }
}

impl AeronUnavailableImageCallback for ImageEvents {
    fn handle_aeron_on_unavailable_image(&mut self, _subscription: AeronSubscription, image: AeronImage) {
        self.counters.images_lost.fetch_add(1, Ordering::Relaxed);
        match image.get_constants() {
            Ok(c) => {
                tracing::warn!(endpoint = %self.endpoint, session_id = c.session_id(), source = c.source_identity(), "aeron image lost (a publisher left or timed out)")
            }
            Err(_) => tracing::warn!(endpoint = %self.endpoint, "aeron image lost (a publisher left or timed out)"),
        }
    }
}

/// Receives whole (reassembled) messages on the poller thread and frames them into the ring.
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
