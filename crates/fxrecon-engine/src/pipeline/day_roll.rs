//! The end-of-day roll (`fxrecon journal roll DIR --into DAYDIR`): a finished day's journal
//! moves to a directory of its own, and the journal directory is left holding only the state
//! the next day starts from (`carried.snap`), which the next run's new journal begins with.
//!
//! Owns: when a day may be rolled (its journal ends with the end-of-input flush, no process
//! holds it, the day directory is new and on the same file system), the order of the moves (a
//! roll cut short by a crash is finished by running it again); where a journal's starting
//! state comes from is recovery's ([`super::recovery::base_state`]). What of the state carries over is
//! the core's rule ([`fxrecon_core::reconciler::Reconciler::begin_next_day`]). Never writes
//! into the day's journal: the day directory is that journal, byte for byte, and replays alone.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use fxrecon_core::snapshot::SnapWriter;
use fxrecon_journal::record::KIND_END_OF_INPUT;
use fxrecon_journal::recovery::{self as journal_recovery, LOCK_FILE, LockError};
use fxrecon_journal::segment::{JournalReader, list_segments, segment_first_record, segment_name};
use fxrecon_journal::snapshot_file::{self, SnapshotHeader};
use fxrecon_runtime::shutdown::Shutdown;

use crate::config::Config;
use crate::ingest::journal_intake::Window;
use crate::pipeline::builder::{Intake, JournalReplay, PipelineBuilder};
use crate::pipeline::options::PipelineOptions;
use crate::pipeline::recovery::{CARRIED_FILE, RecoveryError, journal_rules, replay_start};
use crate::reconciler_agent::RunState;

/// Where a roll stages the next day's state until the day's files are moved.
const STAGING_DIR: &str = ".roll";

/// Why a day could not be rolled.
#[derive(Debug, thiserror::Error)]
pub enum RollError {
    /// Another process holds the journal.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The directory holds no journal.
    #[error("{} holds no journal to roll", .0.display())]
    NoJournal(PathBuf),
    /// The day has not been finished.
    #[error("the day in {} is not finished (its journal does not end with the end-of-input flush): finish it with `fxrecon run` over its inputs without --follow (it recovers, reads to their end and flushes), then roll", .0.display())]
    NotFinished(PathBuf),
    /// The day directory is not a new one.
    #[error("--into {} already holds files: the day goes to a new (or empty) directory", .0.display())]
    IntoNotEmpty(PathBuf),
    /// The day directory is elsewhere than the journal's file system.
    #[error("--into {} is on another file system than the journal: the day's files are moved, not copied", .0.display())]
    OtherFileSystem(PathBuf),
    /// The journal could not be read or replayed.
    #[error(transparent)]
    Recovery(#[from] RecoveryError),
    /// A file could not be written or moved.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What a roll did.
#[derive(Debug, serde::Serialize)]
pub struct RollReport {
    /// Where the day's journal went.
    pub day: PathBuf,
    /// Files moved there.
    pub files_moved: u64,
    /// Orders the next day starts with (live or awaiting retirement).
    pub orders_carried: u64,
    /// Records emitted over the day (the next day's ids go on from here).
    pub records_emitted: u64,
}

/// Rolls the finished day in `dir` into `into` and leaves `dir` ready for the next day.
pub fn roll(dir: &Path, into: &Path) -> Result<RollReport, RollError> {
    if !dir.is_dir() {
        return Err(RollError::NoJournal(dir.to_path_buf()));
    }
    let _lock = journal_recovery::lock(dir)?;
    let staged = dir.join(STAGING_DIR).join(snapshot_file::file_name(0));
    let (orders_carried, records_emitted) = if staged.exists() {
        // A roll cut short after the next day's state was staged: finish the moves.
        (0, 0)
    } else {
        if !journal_recovery::journal_exists(dir).map_err(RecoveryError::from)? {
            return Err(RollError::NoJournal(dir.to_path_buf()));
        }
        check_into(dir, into)?;
        if last_record_kind(dir)? != Some(KIND_END_OF_INPUT) {
            return Err(RollError::NotFinished(dir.to_path_buf()));
        }
        let cfg = Config::default().with_rules(journal_rules(dir)?);
        let mut state = end_of_day(dir, &cfg)?;
        state.reconciler.begin_next_day();
        let orders = state.reconciler.store().len() as u64;
        let records = state.reconciler.records_emitted();
        // The next day reads new inputs from their start; its output starts empty.
        let positions = state.positions.map(|p| fxrecon_journal::position::StreamPosition { lines: 0, ..p });
        let header = SnapshotHeader { consumed: 0, rejects: 0, records_emitted: 0, streams: positions };
        let mut payload = Vec::new();
        header.save(&mut SnapWriter::new(&mut payload));
        state.reconciler.save(&mut payload);
        std::fs::create_dir_all(dir.join(STAGING_DIR))?;
        snapshot_file::write(&dir.join(STAGING_DIR), 0, &payload)?;
        (orders, records)
    };
    std::fs::create_dir_all(into)?;
    let mut files_moved = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == LOCK_FILE || !entry.file_type()?.is_file() {
            continue;
        }
        std::fs::rename(entry.path(), into.join(&name))?;
        files_moved += 1;
    }
    std::fs::File::open(into)?.sync_all()?;
    // The last step: from here on the journal directory holds the next day's start.
    std::fs::rename(&staged, dir.join(CARRIED_FILE))?;
    std::fs::remove_dir(dir.join(STAGING_DIR))?;
    std::fs::File::open(dir)?.sync_all()?;
    tracing::info!(day = %into.display(), files_moved, orders_carried, "journal rolled: the next day starts from the carried state");
    Ok(RollReport { day: into.to_path_buf(), files_moved, orders_carried, records_emitted })
}

/// Checks that `into` can take the day: new or empty, and on the journal's file system.
fn check_into(dir: &Path, into: &Path) -> Result<(), RollError> {
    if into.exists() && std::fs::read_dir(into)?.next().is_some() {
        return Err(RollError::IntoNotEmpty(into.to_path_buf()));
    }
    let parent = match into.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let device = |p: &Path| std::fs::metadata(p).map(|m| m.dev());
    if device(parent)? != device(dir)? {
        return Err(RollError::OtherFileSystem(into.to_path_buf()));
    }
    Ok(())
}

/// The kind of the journal's last record (read from the last segment holding one).
fn last_record_kind(dir: &Path) -> Result<Option<u8>, RollError> {
    let salvage = journal_recovery::was_salvaged(dir);
    let segments = list_segments(dir).map_err(RecoveryError::from)?;
    for &index in segments.iter().rev() {
        let Some(first) = segment_first_record(&dir.join(segment_name(index)), index) else { continue };
        let mut last = None;
        JournalReader::new(dir, salvage)
            .from_record(first)
            .read(|r| last = Some(r.kind))
            .map_err(RecoveryError::from)?;
        if last.is_some() {
            return Ok(last);
        }
    }
    Ok(None)
}

/// The state at the end of the day journaled in `dir`.
fn end_of_day(dir: &Path, cfg: &Config) -> Result<RunState, RollError> {
    let (state, from_record) = replay_start(dir, cfg, None)?;
    let replay = JournalReplay {
        dir: dir.to_path_buf(),
        from_record,
        salvage: journal_recovery::was_salvaged(dir),
        window: Window::default(),
    };
    let outcome = PipelineBuilder::new(cfg, PipelineOptions::default(), Intake::Journal(replay))
        .start_from(state)
        .shutdown(Shutdown::new())
        .build()?
        .run()
        .map_err(RecoveryError::from)?;
    Ok(outcome.state)
}
