//! Recovery of a journaled run, and replay of a journal: both are pipelines built by the one
//! builder with the journal as their intake.
//!
//! Owns: the order of a recovery (check the rules, set outputs aside when salvaging, resume
//! the output files, pick the newest usable snapshot, replay what follows it into the
//! resumed outputs, reopen the journal for appending), where a journal's starting state comes
//! from (the state carried from a rolled day, else an empty one) and what it reports. Never applies
//! anything the journal does not hold.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fxrecon_core::reconciler::Reconciler;
use fxrecon_core::snapshot::SnapReader;
use fxrecon_journal::recovery::{self as journal_recovery, HEADER_RECORDS, HeaderError};
use fxrecon_journal::segment::{FsyncPolicy, JournalError};
use fxrecon_journal::snapshot_file::{self, SnapshotHeader};
use fxrecon_runtime::shutdown::Shutdown;
use serde::{Deserialize, Serialize};

use crate::config::{Config, Rules};
use crate::ingest::journal_intake::Window;
use crate::output::agent::AlreadyWritten;
use crate::output::resume::{ResumeCounters, ResumeRecords, ResumeRejects, ResumedFile};
use crate::output::sink::OutputSink;
use crate::pipeline::builder::{Intake, JournalReplay, JournalSetup, PipelineBuilder, RunError, RunOutcome};
use crate::pipeline::inputs::InputIdentity;
use crate::pipeline::options::PipelineOptions;
use crate::reconciler_agent::RunState;

/// The state a journal begins with when an earlier day was rolled into another directory.
pub const CARRIED_FILE: &str = "carried.snap";

/// The state the journal in `dir` began with: the carried state of a rolled day, if there is
/// one, else an empty reconciler with `cfg`'s rules.
pub fn base_state(dir: &Path, cfg: &Config) -> Result<RunState, RecoveryError> {
    Ok(carried_state(dir, cfg)?.unwrap_or_else(|| RunState::fresh(Reconciler::new(cfg.recon()))))
}

/// The carried state in `dir`, if a roll left one.
pub fn carried_state(dir: &Path, cfg: &Config) -> Result<Option<RunState>, RecoveryError> {
    let path = dir.join(CARRIED_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let bad = |why: String| RecoveryError::Io(std::io::Error::other(format!("{}: {why}", path.display())));
    let payload = snapshot_file::read(&path).map_err(|why| bad(why.to_string()))?;
    let mut r = SnapReader::new(&payload);
    let h = SnapshotHeader::load(&mut r).map_err(|e| bad(e.to_string()))?;
    let reconciler = Reconciler::restore(cfg.recon(), &mut r).map_err(|e| bad(e.to_string()))?;
    r.finish().map_err(|e| bad(e.to_string()))?;
    Ok(Some(RunState::restored(&h, reconciler)))
}

/// Why a journal could not be opened, replayed or resumed.
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    /// The journal itself is unreadable or corrupt.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The journal's run header is missing or unreadable.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// The run's rules differ from those the journal was written with.
    #[error("journal {dir} was written with different rules ({field}); resume with the same config")]
    ConfigMismatch {
        /// The journal directory.
        dir: PathBuf,
        /// The first setting that differs.
        field: &'static str,
    },
    /// A file could not be read, written or moved.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The replay failed (a record that does not decode, an output that disagrees).
    #[error("recovery: {0}")]
    Replay(#[from] RunError),
    /// A restart's input is not the one the journal was made from (contract 6).
    #[error("{stream} input {}: {why}; a restart must read the inputs its journal {} was made from (a grown file is fine)", .path.display(), .dir.display())]
    DifferentInput {
        /// `primary` or `dropcopy`.
        stream: &'static str,
        /// The input given now.
        path: PathBuf,
        /// What differs.
        why: String,
        /// The journal directory.
        dir: PathBuf,
    },
}

/// What a run journal's header holds: the rules it reconciles by, and the identity of the
/// inputs it was made from.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct JournalHeader {
    /// The rules (replay and recovery use them).
    pub rules: Rules,
    /// The inputs (primary, drop copy) when it was made, for restarts to check; None for a
    /// journal whose inputs were not named (benchmarks, in-memory runs).
    pub inputs: Option<[InputIdentity; 2]>,
}

/// What a recovery found and did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RecoveryReport {
    /// Messages covered by the snapshot recovery started from (None: replayed from the start).
    pub snapshot: Option<u64>,
    /// Events replayed from the journal.
    pub events_replayed: u64,
    /// Rejected messages replayed from the journal.
    pub rejects_replayed: u64,
    /// Output lines already present and checked against the replay.
    pub output_lines_checked: u64,
    /// Output lines the replay appended (written before the crash but lost, or never written).
    pub output_lines_appended: u64,
    /// Rejects lines appended.
    pub rejects_lines_appended: u64,
    /// Damaged regions skipped with `--salvage`.
    pub salvaged_regions: u64,
}

/// A recovered run, ready to continue.
pub struct Recovered {
    /// The state the journal rebuilt.
    pub state: RunState,
    /// The journal, reopened for appending.
    pub journal: JournalSetup,
    /// What the outputs already hold (the continuing run skips it).
    pub already: AlreadyWritten,
    /// What recovery did.
    pub report: RecoveryReport,
}

/// The header a journal was written with.
pub fn journal_header(dir: &Path) -> Result<JournalHeader, RecoveryError> {
    Ok(journal_recovery::journal_rules::<JournalHeader>(dir)?)
}

/// Where a replay of `dir` whose window starts at `from` begins: the newest usable snapshot
/// taken at or before `from` (both streams' clocks), else the start. When retention let the
/// first segments go, only a snapshot their records after are kept from can start it, and
/// without a window the oldest such one does. Returns the state and the first journal record
/// to replay.
pub fn replay_start(
    dir: &Path,
    cfg: &Config,
    from: Option<fxrecon_core::time::Micros>,
) -> Result<(RunState, u64), RecoveryError> {
    use fxrecon_journal::segment::{list_segments, segment_first_record, segment_name};
    let retained_from = list_segments(dir)
        .ok()
        .and_then(|s| s.first().and_then(|&i| segment_first_record(&dir.join(segment_name(i)), i)))
        .filter(|&f| f > 0);
    if from.is_none() && retained_from.is_none() {
        return Ok((base_state(dir, cfg)?, 0));
    }
    let accept = |h: &fxrecon_journal::snapshot_file::SnapshotHeader| {
        if retained_from.is_some_and(|f| h.consumed + HEADER_RECORDS < f) {
            Err("its records were let go by retention".to_string())
        } else if from.is_some_and(|t| h.streams.iter().any(|s| s.clock > t)) {
            Err("taken after the window starts".to_string())
        } else {
            Ok(())
        }
    };
    let oldest_first = from.is_none();
    Ok(match journal_recovery::usable_snapshot_in(dir, cfg.recon(), accept, oldest_first) {
        Some((h, reconciler)) => {
            let state = RunState::restored(&h, reconciler);
            (state, h.consumed + HEADER_RECORDS)
        }
        // Nothing to start from: the intake reports what is missing.
        None => (base_state(dir, cfg)?, 0),
    })
}

/// `<path>.before-salvage`, or the first `<path>.before-salvage.N` not taken: an earlier
/// salvage's backup is never overwritten.
fn free_backup_name(path: &Path) -> PathBuf {
    let base = format!("{}.before-salvage", path.display());
    (0..)
        .map(|n| if n == 0 { PathBuf::from(&base) } else { PathBuf::from(format!("{base}.{n}")) })
        .find(|p| !p.exists())
        .expect("some name is free")
}

/// The rules a journal was written with.
pub fn journal_rules(dir: &Path) -> Result<Rules, RecoveryError> {
    Ok(journal_header(dir)?.rules)
}

/// Starts a new journal in `dir` for a run with `cfg`, made from the inputs at `inputs`
/// (primary, drop copy; None when they have no paths).
pub fn create(
    dir: &Path,
    cfg: &Config,
    fsync: FsyncPolicy,
    inputs: Option<[&Path; 2]>,
) -> Result<JournalSetup, RecoveryError> {
    let inputs = match inputs {
        Some([p, d]) => Some([InputIdentity::of(p)?, InputIdentity::of(d)?]),
        None => None,
    };
    create_with(dir, cfg, fsync, inputs)
}

/// [`create`] for inputs known by their identities (a transport's stream has no path).
pub fn create_with(
    dir: &Path,
    cfg: &Config,
    fsync: FsyncPolicy,
    inputs: Option<[InputIdentity; 2]>,
) -> Result<JournalSetup, RecoveryError> {
    let header = JournalHeader { rules: cfg.rules(), inputs };
    // The state a rolled day left for this one (read before anything is written).
    let start = carried_state(dir, cfg)?;
    let writer = journal_recovery::create(dir, &header, fsync, cfg.journal_direct_io, cfg.journal.segment_bytes)?;
    Ok(JournalSetup { start, ..setup(writer, dir, cfg) })
}

/// Checks that the inputs at `inputs` are the ones the journal in `dir` was made from.
pub fn check_inputs(dir: &Path, header: &JournalHeader, inputs: [&Path; 2]) -> Result<(), RecoveryError> {
    let Some(recorded) = &header.inputs else { return Ok(()) };
    for ((stream, was), now) in ["primary", "dropcopy"].into_iter().zip(recorded).zip(inputs) {
        if let Some(why) = was.differs_from(now) {
            return Err(RecoveryError::DifferentInput { stream, path: now.to_path_buf(), why, dir: dir.to_path_buf() });
        }
    }
    Ok(())
}

/// Checks that the inputs `now` (as [`create_with`] took them) are the ones the journal in
/// `dir` was made from.
pub fn check_identities(dir: &Path, now: &[InputIdentity; 2]) -> Result<(), RecoveryError> {
    let header = journal_header(dir)?;
    let Some(recorded) = &header.inputs else { return Ok(()) };
    for ((stream, was), now) in ["primary", "dropcopy"].into_iter().zip(recorded).zip(now) {
        if let Some(why) = was.differs_from_input(now) {
            return Err(RecoveryError::DifferentInput { stream, path: now.path.clone(), why, dir: dir.to_path_buf() });
        }
    }
    Ok(())
}

fn setup(writer: fxrecon_journal::segment::JournalWriter, dir: &Path, cfg: &Config) -> JournalSetup {
    JournalSetup {
        writer,
        snapshot_every: cfg.snapshot_every,
        snapshots_kept: cfg.snapshots_kept,
        retention: cfg.journal.retention(),
        dir: dir.to_path_buf(),
        start: None,
    }
}

/// Recovers a run from the journal in `dir`: checks that `inputs` are the ones it was made
/// from, replays it with `cfg` (which must have the rules it was written with) into the output
/// files `out` and `rejects` (when rejects go to a file), and returns where the run continues.
#[allow(clippy::too_many_arguments)]
pub fn recover(
    dir: &Path,
    cfg: &Config,
    fsync: FsyncPolicy,
    out: &Path,
    rejects: Option<&Path>,
    salvage: bool,
    opts: &PipelineOptions,
    shutdown: Shutdown,
    inputs: Option<[&Path; 2]>,
) -> Result<Recovered, RecoveryError> {
    let header = journal_header(dir)?;
    if let Some(field) = cfg.rule_difference(&header.rules) {
        return Err(RecoveryError::ConfigMismatch { dir: dir.to_path_buf(), field });
    }
    if let Some(inputs) = inputs {
        check_inputs(dir, &header, inputs)?;
    }
    if salvage {
        // What the outputs hold came partly from records that may now be lost: keep them for
        // inspection and write outputs consistent with what is replayed.
        for p in std::iter::once(out).chain(rejects).filter(|p| p.exists()) {
            let aside = free_backup_name(p);
            std::fs::rename(p, &aside)
                .map_err(|e| std::io::Error::new(e.kind(), format!("cannot move {} aside: {e}", p.display())))?;
            tracing::warn!(file = %p.display(), kept_as = %aside.display(), "salvage: the output before salvage is kept");
        }
    }
    let mut out_file = ResumedFile::open(out)?;
    let mut rejects_file = rejects.map(ResumedFile::open).transpose()?;
    let kept_rejects = rejects_file.as_ref().map(|r| r.kept_lines());
    let out_kept = out_file.kept_lines();
    let snapshot = journal_recovery::usable_snapshot(dir, cfg.recon(), |h| {
        if h.records_emitted > out_kept || kept_rejects.is_some_and(|n| h.rejects > n) {
            Err("the outputs do not hold all its records yet".to_string())
        } else {
            Ok(())
        }
    });
    let (state, from) = match snapshot {
        Some((h, reconciler)) => {
            out_file.assume_reproduced(h.records_emitted);
            if let Some(r) = rejects_file.as_mut() {
                r.assume_reproduced(h.rejects);
            }
            let state = RunState::restored(&h, reconciler);
            (state, h.consumed)
        }
        None => (base_state(dir, cfg)?, 0),
    };
    let rejects_before = state.rejects;
    let out_counters = out_file.counters();
    let rejects_counters: Option<Arc<ResumeCounters>> = rejects_file.as_ref().map(|r| r.counters());
    let mut sinks: Vec<Box<dyn OutputSink>> = vec![Box::new(ResumeRecords(out_file))];
    if let Some(r) = rejects_file {
        sinks.push(Box::new(ResumeRejects(r)));
    }
    let salvage = salvage || journal_recovery::was_salvaged(dir);
    let replay = JournalReplay {
        dir: dir.to_path_buf(),
        from_record: from + HEADER_RECORDS,
        salvage,
        window: Window::default(),
    };
    let mut builder =
        PipelineBuilder::new(cfg, opts.clone(), Intake::Journal(replay)).start_from(state).shutdown(shutdown);
    for s in sinks {
        builder = builder.sink(s);
    }
    let outcome: RunOutcome = builder.build()?.run()?;
    let replayed = outcome.replay.as_deref().expect("a journal intake counts its replay");
    if replayed.done.get_acquire() == 0 {
        return Err(RecoveryError::Io(std::io::Error::other("recovery interrupted before the journal was replayed")));
    }
    let salvaged = replayed.salvaged_regions.get();
    if salvaged > 0 {
        // Accepted once: later restarts and replays skip the same damage without --salvage.
        journal_recovery::mark_salvaged(dir, salvaged)?;
    }
    let state = outcome.state;
    let writer = journal_recovery::reopen(
        dir,
        fsync,
        cfg.journal_direct_io,
        salvaged > 0,
        state.consumed + HEADER_RECORDS,
        cfg.journal.segment_bytes,
    )?;
    let report = RecoveryReport {
        snapshot: (from > 0).then_some(from),
        events_replayed: replayed.events.get(),
        rejects_replayed: state.rejects - rejects_before,
        output_lines_checked: out_counters.checked.get(),
        output_lines_appended: out_counters.appended.get(),
        rejects_lines_appended: rejects_counters.as_ref().map_or(0, |c| c.appended.get()),
        salvaged_regions: salvaged,
    };
    tracing::warn!(
        from_snapshot = from,
        events = report.events_replayed,
        output_lines_appended = report.output_lines_appended,
        "recovered from journal {}",
        dir.display()
    );
    let already = AlreadyWritten {
        through_id: out_counters.kept.get(),
        rejects: rejects_counters.map_or(0, |c| c.kept.get().saturating_sub(c.checked.get())),
    };
    Ok(Recovered { state, journal: setup(writer, dir, cfg), already, report })
}
