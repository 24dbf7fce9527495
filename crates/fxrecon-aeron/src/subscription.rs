//! One Aeron subscription owned whole, with its client, image handlers and fragment
//! assembler, so that a source made on one thread can be polled on another (the ingest
//! agent's; D68): the one `unsafe` of this crate. Also what a subscription counts.
//!
//! Owns: the client context, the client, the subscription, the image join/loss handlers
//! (which log and count) and the assembler that puts messages above the MTU back together.
//! Must never hand out or clone any of those handles: they move between threads only
//! together, and are used from one thread at a time.

use std::ffi::CString;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusteron_client::{
    Aeron, AeronAvailableImageCallback, AeronFragmentAssembler, AeronFragmentHandlerCallback, AeronImage,
    AeronSubscription, AeronUnavailableImageCallback, Handler,
};

use crate::endpoint::Endpoint;
use crate::error::AeronError;

/// What a subscription source counts (written by the thread polling it and the client's
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

/// One subscription with everything Aeron it needs: its own client, the image handlers, and a
/// fragment assembler delivering whole messages to `T`. Owned, and moved, as a whole.
pub(crate) struct Subscribed<T> {
    // Field order is drop order: the assembler (which refers to the handler), the handler,
    // the subscription, its image handlers, the client.
    assembler: Handler<AeronFragmentAssembler>,
    handler: Handler<T>,
    subscription: AeronSubscription,
    _images: Handler<ImageEvents>,
    _client: Aeron,
}

// SAFETY: rusteron's handles here (`Aeron`, `AeronSubscription`, the `Handler`s, the fragment
// assembler) are `!Send` because they are raw pointers into Aeron C objects with non-atomic
// (`Rc`) reference counts shared among them. Every one of those handles and every clone of
// them lives in this struct: the subscription's and the assembler's references to the client
// and the handlers are among these fields, none is handed out, and the struct is used only
// through `&mut self` (one thread at a time). The Aeron C client keeps no thread-bound state
// for a subscription or an assembler: a poll may come from any thread, one at a time (its
// conductor thread runs the image handlers, as before, touching only atomics and a string).
// So moving the whole struct to another thread moves every pointer and every count with it.
#[allow(unsafe_code)]
unsafe impl<T: Send> Send for Subscribed<T> {}

impl<T: AeronFragmentHandlerCallback + 'static> Subscribed<T> {
    /// Connects a client to the driver in `dir` and subscribes to `endpoint` (returns once the
    /// subscription is registered); whole messages go to `handler`.
    pub(crate) fn open(
        dir: &CString,
        channel: &CString,
        endpoint: &Endpoint,
        connect_timeout: Duration,
        counters: Arc<AeronSourceCounters>,
        handler: T,
    ) -> Result<Self, AeronError> {
        let client = crate::client::connect(dir, endpoint)?;
        let images = Handler::new(ImageEvents { endpoint: endpoint.to_string(), counters });
        let subscription = client
            .async_add_subscription(channel, endpoint.stream_id, Some(&images), Some(&images))
            .map_err(|e| AeronError::aeron("adding the subscription", e))?
            .poll_blocking(connect_timeout)
            .map_err(|e| AeronError::aeron("adding the subscription", e))?;
        let (assembler, handler) = Handler::with_fragment_assembler(handler)
            .map_err(|e| AeronError::aeron("creating the fragment assembler", e))?;
        Ok(Self { assembler, handler, subscription, _images: images, _client: client })
    }

    /// Reads at most `limit` fragments into the handler; how many were read.
    pub(crate) fn poll(&mut self, limit: usize) -> Result<usize, AeronError> {
        let n = self.subscription.poll(Some(&self.assembler), limit).map_err(|e| AeronError::aeron("polling", e))?;
        Ok(n.max(0) as usize)
    }

    /// The handler whole messages are delivered to.
    pub(crate) fn handler(&self) -> &T {
        &self.handler
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
