//! Position breaks (`GET /v1/positions`, `fxrecon query positions`, the end-of-day report):
//! the reconciler's position table, asked through the command ring, filtered, ordered largest
//! break first and rendered as JSON.
//!
//! Owns: the positions' JSON shape and their order. Never computes a position: the reconciler
//! keeps them (fxrecon-core `reconciler::positions`); this only copies what it answered.

use fxrecon_core::reconciler::positions::Position;
use fxrecon_engine::command::{Command, PositionTable, Reply};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::orders::OrderDesk;

/// Filters of `GET /v1/positions` (both optional, exact matches).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionFilter {
    /// 1 Account.
    pub account: Option<String>,
    /// 55 Symbol.
    pub symbol: Option<String>,
}

impl PositionFilter {
    fn admits(&self, p: &Position) -> bool {
        self.account.as_deref().is_none_or(|a| a == p.account.as_str())
            && self.symbol.as_deref().is_none_or(|s| s == p.symbol.as_str())
    }
}

impl OrderDesk {
    /// The reconciler's position table now, or a 503.
    pub async fn positions(&mut self) -> Result<PositionTable, ApiError> {
        match self.ask(Command::Positions).await? {
            Reply::Positions(t) => Ok(*t),
            _ => Err(ApiError::Unavailable("the reconciler answered something else".into())),
        }
    }
}

/// The positions `f` admits, largest break first: by the base-quantity break's size, then the
/// counter-notional break's, then account and symbol (docs/decisions.md D72).
pub fn ordered<'a>(t: &'a PositionTable, f: &PositionFilter) -> Vec<&'a Position> {
    let mut rows: Vec<&Position> = t.positions.iter().filter(|p| f.admits(p)).collect();
    rows.sort_by(|a, b| {
        (b.base_break().abs(), b.counter_break().abs())
            .cmp(&(a.base_break().abs(), a.counter_break().abs()))
            .then_with(|| (a.account, a.symbol).cmp(&(b.account, b.symbol)))
    });
    rows
}

/// One position as JSON: both streams' net amounts and the break (primary minus drop copy).
pub fn position_json(p: &Position) -> Value {
    let side = |s: usize| {
        json!({
            "base_qty": p.base[s].to_string(),
            "counter_notional": p.counter[s].to_string(),
            "fills": p.fills[s],
        })
    };
    json!({
        "account": p.account.as_str(),
        "symbol": p.symbol.as_str(),
        "primary": side(0),
        "dropcopy": side(1),
        "break": {
            "base_qty": p.base_break().to_string(),
            "counter_notional": p.counter_break().to_string(),
        },
    })
}

/// The answer of `GET /v1/positions`: the rows, how many break, what the table left out.
pub fn positions_json(t: &PositionTable, f: &PositionFilter) -> Value {
    let rows = ordered(t, f);
    let breaks = rows.iter().filter(|p| !p.is_flat_break()).count();
    json!({
        "count": rows.len(),
        "breaks": breaks,
        "positions": rows.into_iter().map(position_json).collect::<Vec<_>>(),
        "capacity": t.capacity,
        "left_out": {
            "table_full": t.stats.full,
            "unsided_fills": t.stats.unsided,
            "unpriced_fills": t.stats.unpriced,
        },
    })
}
