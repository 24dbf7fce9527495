//! Orders by any of their ids, asked of the reconciler through the command ring: the agent
//! answers between batches with a copy of the order, rendered here on the API's thread.
//!
//! Owns: the API's end of the command ring (one question in flight at a time, a late answer
//! told apart from the next one) and the JSON of an order. Never waits inside the reconciler:
//! an unanswered question times out here.

use std::time::Duration;

use fxrecon_core::divergence::ViewSnapshot;
use fxrecon_core::order::store::order_record::Order;
use fxrecon_core::order::view::OrderView;
use fxrecon_core::text::Id;
use fxrecon_engine::command::{Command, CommandClient, Reply};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::records::RecordBook;

/// How long a question waits for the reconciler's answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);
/// How long a question spins for its answer before it sleeps between looks.
const SPIN_FOR: Duration = Duration::from_micros(300);

/// The API's end of the command ring.
pub struct OrderDesk {
    client: CommandClient,
    /// Replies still to come for questions that timed out (dropped when they arrive).
    late: usize,
}

/// What the reconciler knows of an order.
#[derive(Debug)]
pub enum Found {
    /// The order as held now.
    Live(Box<Order>),
    /// Retired: remembered, no longer held.
    Retired,
}

impl OrderDesk {
    /// A desk asking through `client`.
    pub fn new(client: CommandClient) -> Self {
        Self { client, late: 0 }
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
            Reply::Retired => Ok(Found::Retired),
            _ => Err(ApiError::NotFound(format!("no order {key:?}"))),
        }
    }

    /// Asks the reconciler `cmd` and waits (never inside the reconciler) for its answer.
    pub(crate) async fn ask(&mut self, cmd: Command) -> Result<Reply, ApiError> {
        let busy = || ApiError::Unavailable("the reconciler did not answer (busy, or its run is over)".into());
        self.client.commands.push(cmd).map_err(|_| busy())?;
        let asked = std::time::Instant::now();
        let deadline = tokio::time::Instant::now() + ANSWER_WITHIN;
        loop {
            while let Ok(reply) = self.client.replies.pop() {
                if self.late > 0 {
                    self.late -= 1;
                    continue;
                }
                return Ok(reply);
            }
            if tokio::time::Instant::now() >= deadline {
                self.late += 1;
                return Err(busy());
            }
            // A busy reconciler answers within a batch (tens of µs): spin briefly (yielding to
            // the API's other tasks) before sleeping, whose timer rounds up to a millisecond.
            if asked.elapsed() < SPIN_FOR {
                std::thread::yield_now();
                tokio::task::yield_now().await;
            } else {
                tokio::time::sleep(Duration::from_micros(500)).await;
            }
        }
    }
}

/// The answer of `GET /v1/orders/{key}`: the order found by `key` with its divergences from
/// `book` (online and offline alike).
pub fn order_answer(found: Found, key: &str, book: &RecordBook) -> Value {
    match found {
        Found::Live(o) => {
            let divs = book.of_orders(&[o.key.as_str(), key]).into_iter().cloned().collect();
            order_json(&o, divs)
        }
        Found::Retired => {
            let divs: Vec<Value> = book.of_orders(&[key]).into_iter().cloned().collect();
            json!({ "order_id": key, "retired": true, "primary": null, "dropcopy": null, "divergences": divs })
        }
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
