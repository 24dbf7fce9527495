//! The same answers as the query API, from a journal directory instead of a running daemon
//! (`fxrecon query … --journal DIR`, `fxrecon eod --journal DIR`): the journal is replayed to
//! its end through the one pipeline builder, with the API's record feed as the sink, and the
//! questions are asked of the state it ends in.
//!
//! Owns: the offline replay's wiring and the answers' JSON (the online handlers' own shapes).
//! Never writes into the journal directory and never takes its lock: the segments are only
//! read, so a daemon writing the journal goes on undisturbed (docs/decisions.md D74).

use std::path::Path;

use fxrecon_core::text::Id;
use fxrecon_engine::config::Config;
use fxrecon_engine::counters::SessionSnapshot;
use fxrecon_engine::ingest::journal_intake::Window;
use fxrecon_engine::pipeline::builder::{Intake, JournalReplay, PipelineBuilder};
use fxrecon_engine::pipeline::options::PipelineOptions;
use fxrecon_engine::pipeline::recovery::{journal_rules, replay_start};
use fxrecon_engine::reconciler_agent::RunState;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::orders::{Found, order_answer};
use crate::positions::{PositionFilter, positions_json};
use crate::records::{DivergenceFilter, RecordBook, record_feed};
use fxrecon_engine::command::PositionTable;

/// Why a journal could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    /// The journal cannot be opened or has no usable start.
    #[error("{0}")]
    Recovery(#[from] fxrecon_engine::pipeline::recovery::RecoveryError),
    /// The pipeline could not be built.
    #[error("cannot replay the journal: {0}")]
    Io(#[from] std::io::Error),
    /// The replay failed while it ran.
    #[error("the journal's replay failed: {0}")]
    Run(#[from] fxrecon_engine::pipeline::builder::RunError),
}

/// A journal replayed to its end: the records it produced and the state it ends in.
pub struct OfflineDay {
    book: RecordBook,
    state: RunState,
    sessions: Vec<SessionSnapshot>,
}

impl OfflineDay {
    /// Replays journal `dir` from its start (with the rules it was written with) to its end.
    pub fn replay(dir: &Path) -> Result<Self, OfflineError> {
        let cfg = Config::default().with_rules(journal_rules(dir)?);
        let (state, from_record) = replay_start(dir, &cfg, None)?;
        let replay = JournalReplay {
            dir: dir.to_path_buf(),
            from_record,
            salvage: fxrecon_journal::recovery::was_salvaged(dir),
            window: Window { from: None, to: None },
        };
        let (feed, mut book) = record_feed();
        let outcome = PipelineBuilder::new(&cfg, PipelineOptions::default(), Intake::Journal(replay))
            .start_from(state)
            .sink(Box::new(feed))
            .build()?
            .run()?;
        book.catch_up();
        Ok(Self { book, state: outcome.state, sessions: outcome.counters.sessions })
    }

    /// `GET /v1/orders/{key}`.
    pub fn order(&self, key: &str) -> Result<Value, ApiError> {
        let id = Id::from_bytes(key.as_bytes())
            .map_err(|_| ApiError::NotFound(format!("no order {key:?} (ids are at most 40 bytes)")))?;
        if key.is_empty() {
            return Err(ApiError::NotFound("no order with an empty id".into()));
        }
        let store = self.state.reconciler.store();
        let found = match store.lookup(&id, &Id::new(), &id) {
            Some(idx) => Found::Live(Box::new(*store.order(idx))),
            None => match store.retired_order(&id) {
                Some(r) => Found::Retired(Box::new(r)),
                None => return Err(ApiError::NotFound(format!("no order {key:?}"))),
            },
        };
        Ok(order_answer(found, key, &self.book))
    }

    /// `GET /v1/divergences?…`.
    pub fn divergences(&self, f: &DivergenceFilter) -> Result<Value, ApiError> {
        let body = self.book.divergences(f)?;
        serde_json::from_str(&body).map_err(|e| ApiError::Unavailable(format!("divergences: {e}")))
    }

    /// `GET /v1/gaps`.
    pub fn gaps(&self) -> Value {
        json!({ "gaps": self.book.gaps(), "sessions": self.sessions })
    }

    /// `GET /v1/positions?…`.
    pub fn positions(&self, f: &PositionFilter) -> Value {
        positions_json(&PositionTable::of(self.state.reconciler.positions()), f)
    }
}
