//! Commands to the reconciler agent and its replies: how readers ask about the live state
//! without touching the reconciler's memory. A command waits in its ring until the agent
//! drains it between batches, on its own thread; the reply goes back through another ring.
//!
//! Owns: the command and reply types and the two rings' ends. Never blocks the agent: a reply
//! that does not fit waits for the next batch.

use fxrecon_core::order::store::order_record::Order;
use fxrecon_core::order::store::retired_memory::RetiredOrder;
use fxrecon_core::reconciler::positions::{Position, PositionStats, Positions};
use fxrecon_core::text::Id;
use fxrecon_runtime::rings::{Consumer, Producer, RingBuffer};

/// A question for the reconciler agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// The digest of the state now (as `state_digest` at the end of a run).
    StateDigest,
    /// Orders held now and records emitted so far.
    Sizes,
    /// The order any of its ClOrdIDs or its OrderID names (the query API).
    Order(Id),
    /// Every account × symbol position and what the table left out (the query API).
    Positions,
}

/// The agent's answer to a [`Command`].
#[derive(Clone, Debug)]
pub enum Reply {
    /// Digest of the state after the messages consumed so far.
    StateDigest {
        /// The digest.
        digest: u64,
        /// Messages consumed when it was taken.
        consumed: u64,
    },
    /// How large the state is.
    Sizes {
        /// Orders held (live and awaiting retirement).
        orders: u64,
        /// Records emitted so far.
        records: u64,
    },
    /// The order asked for, as the store holds it now (both views, flags).
    Order(Box<Order>),
    /// The order asked for is retired: what its retired record says (contract 2.2).
    Retired(Box<RetiredOrder>),
    /// No order is known by that id.
    NoOrder,
    /// The position table as it is now.
    Positions(Box<PositionTable>),
}

/// A copy of the reconciler's positions, taken between batches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PositionTable {
    /// Every position, in the order first seen.
    pub positions: Vec<Position>,
    /// What the table could not count.
    pub stats: PositionStats,
    /// Its capacity.
    pub capacity: usize,
}

impl PositionTable {
    /// A copy of `p`.
    pub fn of(p: &Positions) -> Self {
        Self { positions: p.iter().copied().collect(), stats: p.stats(), capacity: p.capacity() }
    }
}

/// The reader's end: sends commands, receives replies.
pub struct CommandClient {
    /// Commands to the agent.
    pub commands: Producer<Command>,
    /// Replies from the agent, in command order.
    pub replies: Consumer<Reply>,
}

/// Rung by the agent after a pass that answered something: wakes a reader waiting for its
/// reply instead of having it poll (it must never block: the API's is a non-blocking socket).
pub type Doorbell = Box<dyn FnMut() + Send>;

/// The agent's end.
pub struct CommandServer {
    /// Commands waiting.
    pub commands: Consumer<Command>,
    /// Replies sent.
    pub replies: Producer<Reply>,
    /// Rung after answering, when the reader gave one.
    pub doorbell: Option<Doorbell>,
}

/// Rings for up to `slots` commands in flight.
pub fn command_rings(slots: usize) -> (CommandClient, CommandServer) {
    let (ctx, crx) = RingBuffer::new(slots);
    let (rtx, rrx) = RingBuffer::new(slots);
    (CommandClient { commands: ctx, replies: rrx }, CommandServer { commands: crx, replies: rtx, doorbell: None })
}
