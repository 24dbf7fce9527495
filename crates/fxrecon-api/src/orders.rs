//! Orders by any of their ids, asked of the reconciler through the command ring: the agent
//! answers between batches with a copy of the order, rendered here on the API's thread.
//!
//! Owns: the API's end of the command ring (one question in flight at a time, a late answer
//! told apart from the next one, woken by the reconciler's doorbell rather than polling) and
//! the JSON of an order, live or retired. Never waits inside the reconciler: an unanswered
//! question times out here.

use std::io::Write;
use std::time::Duration;

use fxrecon_core::divergence::ViewSnapshot;
use fxrecon_core::order::store::order_record::Order;
use fxrecon_core::order::store::retired_memory::RetiredOrder;
use fxrecon_core::order::view::OrderView;
use fxrecon_core::text::Id;
use fxrecon_engine::command::{Command, CommandClient, Doorbell, Reply};
use serde_json::{Value, json};
use tokio::net::UnixStream;

use crate::error::ApiError;
use crate::records::RecordBook;

/// How long a question waits for the reconciler's answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// The API's end of the command ring.
pub struct OrderDesk {
    client: CommandClient,
    /// Rung by the reconciler once it answered (a byte on a socket pair: no lock, no spin).
    doorbell: UnixStream,
    /// Replies still to come for questions that timed out (dropped when they arrive).
    late: usize,
    /// The reconciler's end of the doorbell is gone: its run is over.
    closed: bool,
}

/// What the reconciler knows of an order.
#[derive(Debug)]
pub enum Found {
    /// The order as held now.
    Live(Box<Order>),
    /// Retired: what its retired record says.
    Retired(Box<RetiredOrder>),
}

/// A doorbell pair: the reconciler's end (rung after it answered, never blocking: a full
/// socket already holds a wake-up) and the desk's.
pub fn doorbell() -> std::io::Result<(Doorbell, std::os::unix::net::UnixStream)> {
    let (ring, listen) = std::os::unix::net::UnixStream::pair()?;
    ring.set_nonblocking(true)?;
    listen.set_nonblocking(true)?;
    let mut ring = ring;
    let bell: Doorbell = Box::new(move || {
        // WouldBlock: the desk has unread wake-ups already; any other error: the API is gone.
        let _ = ring.write(&[1]);
    });
    Ok((bell, listen))
}

impl OrderDesk {
    /// A desk asking through `client`, woken through `doorbell` (the listening end of
    /// [`doorbell`]); on the API's runtime.
    pub fn new(client: CommandClient, doorbell: std::os::unix::net::UnixStream) -> std::io::Result<Self> {
        Ok(Self { client, doorbell: UnixStream::from_std(doorbell)?, late: 0, closed: false })
    }

    /// The order any of whose ClOrdIDs or whose OrderID is `key`, or a 404 / 503.
    pub async fn order(&mut self, key: &str) -> Result<Found, ApiError> {
        let id = Id::from_bytes(key.as_bytes())
            .map_err(|_| ApiError::NotFound(format!("no order {key:?} (ids are at most 40 bytes)")))?;
        if key.is_empty() {
            return Err(ApiError::NotFound("no order with an empty id".into()));
        }
        match self.ask(Command::Order(id)).await? {
            Reply::Order(o) => Ok(Found::Live(o)),
            Reply::Retired(r) => Ok(Found::Retired(r)),
            _ => Err(ApiError::NotFound(format!("no order {key:?}"))),
        }
    }

    /// Reads every wake-up waiting on the doorbell; false once the reconciler's end is gone
    /// (its run is over: nothing will answer again).
    fn drain_doorbell(&mut self) -> bool {
        let mut buf = [0u8; 64];
        loop {
            match self.doorbell.try_read(&mut buf) {
                Ok(0) => return false,
                Ok(_) => {}
                // WouldBlock (nothing more waiting; readiness is cleared) or an error.
                Err(e) => return e.kind() == std::io::ErrorKind::WouldBlock,
            }
        }
    }

    /// Asks the reconciler `cmd` and waits (never inside the reconciler) for its answer.
    pub(crate) async fn ask(&mut self, cmd: Command) -> Result<Reply, ApiError> {
        let busy = || ApiError::Unavailable("the reconciler did not answer (busy, or its run is over)".into());
        if self.closed || !self.drain_doorbell() {
            self.closed = true;
            return Err(ApiError::Unavailable("the reconciler's run is over".into()));
        }
        self.client.commands.push(cmd).map_err(|_| busy())?;
        let deadline = tokio::time::Instant::now() + ANSWER_WITHIN;
        loop {
            // Wake-ups first, then the ring: an answer that lands after this look rings again.
            let open = self.drain_doorbell();
            while let Ok(reply) = self.client.replies.pop() {
                if self.late > 0 {
                    self.late -= 1;
                    continue;
                }
                return Ok(reply);
            }
            if !open {
                // The agent is gone (its last answers were read above): never wait on it.
                self.closed = true;
                self.late += 1;
                return Err(ApiError::Unavailable("the reconciler's run is over".into()));
            }
            if tokio::time::timeout_at(deadline, self.doorbell.readable()).await.is_err() {
                self.late += 1;
                return Err(busy());
            }
        }
    }
}

/// The answer of `GET /v1/orders/{key}`: the order found by `key` with its divergences from
/// `book` (online and offline alike).
pub fn order_answer(found: Found, key: &str, book: &RecordBook) -> Value {
    match found {
        Found::Live(o) => order_json(&o, book.of_orders(&[o.key.as_str(), key])),
        Found::Retired(r) => retired_json(&r, book.of_orders(&[r.key.as_str(), key])),
    }
}

/// One stream's view as JSON (`null` when the stream never reported the order).
pub fn view_json(v: &OrderView) -> Value {
    match ViewSnapshot::of(v) {
        None => Value::Null,
        Some(s) => json!({
            "status": s.status.name(),
            "order_qty": v.order_qty.to_string(),
            "cum_qty": s.cum_qty.to_string(),
            "leaves_qty": s.leaves_qty.map(|q| q.to_string()),
            "avg_px": s.avg_px.map(|p| p.to_string()),
            "chain_depth": v.chain_depth,
        }),
    }
}

/// An order as JSON: its key, both views, its flags and the divergences given.
pub fn order_json(o: &Order, divergences: Vec<Value>) -> Value {
    json!({
        "order_id": o.key.as_str(),
        "symbol": o.symbol.as_str(),
        "venue": o.venue.as_str(),
        "retired": false,
        "flags": {
            "views_differ_since": o.differ_since.map(|t| t.rfc3339().to_string()),
            "retiring": o.retiring,
            "open_phantom": o.open_phantom,
            "open_quantity_mismatch": o.open_quantity,
            "open_state_mismatch": o.open_state,
            "last_activity": o.last_activity.rfc3339().to_string(),
        },
        "primary": view_json(&o.views[0]),
        "dropcopy": view_json(&o.views[1]),
        "divergences": divergences,
    })
}

/// A retired order as JSON: the same shape as a live one, from its retired record, with
/// `"retired": true` and when it retired.
pub fn retired_json(r: &RetiredOrder, divergences: Vec<Value>) -> Value {
    json!({
        "order_id": r.key.as_str(),
        "symbol": r.symbol.as_str(),
        "venue": r.venue.as_str(),
        "retired": true,
        "retired_at": r.retired_at.rfc3339().to_string(),
        "flags": {
            "views_differ_since": r.differ_since.map(|t| t.rfc3339().to_string()),
            "retiring": false,
            "open_phantom": r.open[0],
            "open_quantity_mismatch": r.open[1],
            "open_state_mismatch": r.open[2],
            "last_activity": r.last_activity.rfc3339().to_string(),
        },
        "primary": view_json(&r.views[0]),
        "dropcopy": view_json(&r.views[1]),
        "divergences": divergences,
    })
}
