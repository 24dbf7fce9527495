//! Crash recovery and replay: rebuilds the reconciler from a journal and brings the output
//! files back in line with it.
//!
//! Owns: opening a journal for a run (a new one gets its run header; an existing one is
//! replayed), checking that the journal was written with the same rules, replaying its records
//! into a reconciler, and resuming the outputs: what an output file already holds must be
//! exactly what the replay reproduces (a torn final line is cut off); what it lacks is appended.
//! Because no output is written before its cause is journaled, a file is never ahead of its
//! journal; the output agent still skips records it already holds, in case it is.
//! Never applies anything the journal does not hold.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use fxrecon_core::divergence::Record;
use fxrecon_core::event::ExecEvent;
use fxrecon_core::snapshot::SnapReader;
use fxrecon_core::time::Micros;
use fxrecon_core::{Reconciler, Sink};

use crate::config::Config;
use crate::journal::event_record::{self, KIND_EVENT, KIND_HEADER, KIND_REJECT};
use crate::journal::segment::list_segments;
use crate::journal::snapshot_file::{self, SnapshotHeader};
use crate::journal::{FsyncPolicy, JournalError, JournalReader, JournalWriter};
use crate::pipeline::{JournalSetup, Start, StreamStart};
use crate::render::{write_record, write_reject};

/// Why a journal could not be opened, replayed or resumed.
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    /// The journal itself is unreadable or corrupt.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The journal has no run header (it was not written by `run` or `reconcile --journal`).
    #[error("journal {0} has no run header: not a journal this build can resume")]
    NoHeader(PathBuf),
    /// The run's rules differ from those the journal was written with.
    #[error("journal {dir} was written with different rules ({field}); resume with the same config")]
    ConfigMismatch {
        /// The journal directory.
        dir: PathBuf,
        /// The first setting that differs.
        field: &'static str,
    },
    /// A record does not decode.
    #[error("journal record {seq} does not decode: {source}")]
    BadRecord {
        /// Its position in the journal.
        seq: u64,
        /// Why.
        source: event_record::EventRecordError,
    },
    /// An existing output file is not what the journal reproduces.
    #[error("{path} line {line} differs from what the journal reproduces: it was not written by this journal's run")]
    OutputMismatch {
        /// The output file.
        path: PathBuf,
        /// First line that differs (1-based).
        line: u64,
    },
    /// An output file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// The setting (if any) in which two configurations give different reconciliation results.
pub fn rule_difference(a: &Config, b: &Config) -> Option<&'static str> {
    let (x, y) = (a.recon(), b.recon());
    [
        (x.grace_ms != y.grace_ms, "grace_ms"),
        (x.timing_threshold_ms != y.timing_threshold_ms, "timing_threshold_ms"),
        (x.max_orders != y.max_orders, "max_orders"),
        (x.max_execs != y.max_execs, "max_execs"),
        (x.retention_ms != y.retention_ms, "retention_ms"),
        (x.max_sessions != y.max_sessions, "max_sessions"),
        (x.open_retention_ms != y.open_retention_ms, "open_retention_ms"),
        (a.max_message_bytes != b.max_message_bytes, "max_message_bytes"),
    ]
    .into_iter()
    .find_map(|(differs, name)| differs.then_some(name))
}

/// An output file being resumed: its complete lines are kept (and checked), new lines are
/// appended after them.
pub struct ResumedFile {
    path: PathBuf,
    existing: Vec<u8>,
    /// Byte offset of each kept line's start, plus the end.
    starts: Vec<usize>,
    out: BufWriter<File>,
    /// Lines checked against the replay so far.
    checked: u64,
    /// Lines appended.
    appended: u64,
    error: Option<RecoveryError>,
    scratch: Vec<u8>,
}

impl ResumedFile {
    /// Opens `path` (created if missing), cutting off a torn final line.
    pub fn open(path: &Path) -> Result<Self, RecoveryError> {
        let io = |source| RecoveryError::Io { path: path.to_path_buf(), source };
        let mut existing = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(e)),
        };
        let keep = existing.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if keep < existing.len() {
            tracing::warn!(path = %path.display(), bytes = existing.len() - keep, "output: torn final line cut off");
            existing.truncate(keep);
        }
        let file = OpenOptions::new().create(true).write(true).truncate(false).open(path).map_err(io)?;
        file.set_len(keep as u64).map_err(io)?;
        let mut starts = vec![0];
        starts.extend(existing.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1));
        let mut out = BufWriter::with_capacity(1 << 16, file);
        use std::io::Seek;
        out.seek(io::SeekFrom::End(0)).map_err(io)?;
        Ok(Self {
            path: path.to_path_buf(),
            existing,
            starts,
            out,
            checked: 0,
            appended: 0,
            error: None,
            scratch: Vec::new(),
        })
    }

    /// Complete lines the file held when it was opened.
    pub fn kept_lines(&self) -> u64 {
        self.starts.len() as u64 - 1
    }

    /// Lines appended by the replay.
    pub fn appended(&self) -> u64 {
        self.appended
    }

    /// Takes the first `n` kept lines as reproduced already (by a snapshot covering them).
    fn assume_reproduced(&mut self, n: u64) {
        self.checked = n.min(self.kept_lines());
    }

    /// Takes the next line the replay reproduces (rendered into `scratch` by `render`): checks
    /// it against the kept line at that place, or appends it past them.
    fn next(&mut self, render: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) {
        if self.error.is_some() {
            return;
        }
        self.scratch.clear();
        if let Err(source) = render(&mut self.scratch) {
            self.error = Some(RecoveryError::Io { path: self.path.clone(), source });
            return;
        }
        let n = self.checked as usize;
        if n + 1 < self.starts.len() {
            if self.existing[self.starts[n]..self.starts[n + 1]] != self.scratch[..] {
                self.error = Some(RecoveryError::OutputMismatch { path: self.path.clone(), line: n as u64 + 1 });
            }
            self.checked += 1;
        } else if let Err(source) = self.out.write_all(&self.scratch) {
            self.error = Some(RecoveryError::Io { path: self.path.clone(), source });
        } else {
            self.appended += 1;
        }
    }

    /// Flushes what the replay appended; the file is handed back positioned at its end.
    pub fn finish(mut self) -> Result<BufWriter<File>, RecoveryError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush().map_err(|source| RecoveryError::Io { path: self.path.clone(), source })?;
        Ok(self.out)
    }
}

/// Sink of replayed records into a resumed output.
struct ResumeSink<'a>(&'a mut ResumedFile);

impl Sink for ResumeSink<'_> {
    fn emit(&mut self, r: &Record) {
        self.0.next(|buf| write_record(buf, r));
    }
}

/// What a recovery found and did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Events replayed from the journal.
    pub events_replayed: u64,
    /// Rejected lines replayed from the journal.
    pub rejects_replayed: u64,
    /// Output lines already present and checked against the replay.
    pub output_lines_checked: u64,
    /// Output lines the replay appended (written before the crash but lost, or never written).
    pub output_lines_appended: u64,
    /// Rejects lines appended.
    pub rejects_lines_appended: u64,
    /// Damaged regions skipped with `--salvage`.
    pub salvaged_regions: u64,
    /// Messages covered by the snapshot recovery started from (None: replayed from the start).
    pub snapshot: Option<u64>,
}

/// Replays journal records into a reconciler, tracking where each input stands.
pub struct Replayer {
    /// The reconciler being rebuilt.
    pub reconciler: Reconciler,
    /// Where each input stands after the records replayed so far.
    pub streams: [StreamStart; 2],
    /// Consumed messages (events and rejects) replayed.
    pub consumed: u64,
    /// Events replayed.
    pub events: u64,
    /// Rejects consumed, including those the starting state covers.
    pub rejects: u64,
    event: ExecEvent,
}

impl Replayer {
    /// A replayer applying to `reconciler`, whose state already covers `consumed` messages
    /// (`rejects` of them rejects) with the inputs at `streams`.
    pub fn new(reconciler: Reconciler, consumed: u64, rejects: u64, streams: [StreamStart; 2]) -> Self {
        Self { reconciler, streams, consumed, events: 0, rejects, event: ExecEvent::default() }
    }

    /// Applies one journal record: events to the reconciler (records to `sink`), rejects to
    /// `reject`. The run header is skipped.
    pub fn apply(
        &mut self,
        seq: u64,
        kind: u8,
        payload: &[u8],
        sink: &mut impl Sink,
        reject: &mut impl FnMut(&event_record::RejectEntry<'_>),
    ) -> Result<(), RecoveryError> {
        let bad = |source| RecoveryError::BadRecord { seq, source };
        match kind {
            KIND_EVENT => {
                event_record::decode_event(payload, &mut self.event).map_err(bad)?;
                let s = &mut self.streams[self.event.stream.index()];
                s.lines = self.event.line;
                s.clock = self.event.event_time;
                self.reconciler.apply(&self.event, sink);
                self.events += 1;
                self.consumed += 1;
            }
            KIND_REJECT => {
                let r = event_record::decode_reject(payload).map_err(bad)?;
                let s = &mut self.streams[r.stream.index()];
                s.lines = s.lines.max(r.line);
                reject(&r);
                self.rejects += 1;
                self.consumed += 1;
            }
            _ => {}
        }
        Ok(())
    }
}

/// Segment size of journals written by runs.
pub const SEGMENT_BYTES: u64 = 256 << 20;

/// The configuration a journal was written with (its run header).
pub fn journal_config(dir: &Path) -> Result<Config, RecoveryError> {
    match JournalReader::new(dir, false).first_record()? {
        Some((KIND_HEADER, payload)) => {
            event_record::decode_header(&payload).map_err(|source| RecoveryError::BadRecord { seq: 0, source })
        }
        _ => Err(RecoveryError::NoHeader(dir.to_path_buf())),
    }
}

fn setup(writer: JournalWriter, dir: &Path, cfg: &Config) -> JournalSetup {
    JournalSetup {
        writer,
        header_records: 1,
        snapshots: (cfg.snapshot_every, cfg.snapshots_kept),
        dir: dir.to_path_buf(),
    }
}

/// The newest snapshot in `dir` that restores with `cfg` and whose records and rejects the
/// outputs already hold (`None` for rejects written elsewhere); an unusable one is logged and
/// an older one tried.
fn usable_snapshot(
    dir: &Path,
    cfg: &Config,
    output_lines: u64,
    rejects_lines: Option<u64>,
) -> Option<(SnapshotHeader, Reconciler)> {
    let snapshots = snapshot_file::list(dir).ok()?;
    for (consumed, path) in snapshots {
        let restored = snapshot_file::read(&path).map_err(|e| e.to_string()).and_then(|payload| {
            let mut r = SnapReader::new(&payload);
            let h = SnapshotHeader::load(&mut r).map_err(|e| e.to_string())?;
            if h.records_emitted > output_lines || rejects_lines.is_some_and(|n| h.rejects > n) {
                return Err("the outputs do not hold all its records yet".to_string());
            }
            let rec = Reconciler::restore(cfg.recon(), &mut r).map_err(|e| e.to_string())?;
            r.finish().map_err(|e| e.to_string())?;
            Ok((h, rec))
        });
        match restored {
            Ok(x) => return Some(x),
            Err(why) => tracing::warn!(snapshot = consumed, why, "snapshot not used; trying an older one"),
        }
    }
    None
}

/// True when `dir` already holds a journal (a run with it recovers instead of starting).
pub fn journal_exists(dir: &Path) -> Result<bool, RecoveryError> {
    Ok(dir.exists() && !list_segments(dir)?.is_empty())
}

/// Starts a new journal in `dir` for a run with `cfg`: writes its run header.
pub fn create(dir: &Path, cfg: &Config, fsync: FsyncPolicy) -> Result<(Start, JournalSetup), RecoveryError> {
    let mut writer = JournalWriter::open(dir, SEGMENT_BYTES, fsync)?.direct_io(cfg.journal_direct_io)?;
    writer.append(KIND_HEADER, &event_record::encode_header(cfg))?;
    writer.sync()?;
    Ok((Start::fresh(cfg.recon()), setup(writer, dir, cfg)))
}

/// Recovers a run from the journal in `dir`: replays it with `cfg` (which must have the rules
/// it was written with), resumes `out` and `rejects` (when rejects go to a file), and returns
/// where the run continues.
pub fn recover(
    dir: &Path,
    cfg: &Config,
    fsync: FsyncPolicy,
    out: &mut ResumedFile,
    mut rejects: Option<&mut ResumedFile>,
    salvage: bool,
) -> Result<(Start, JournalSetup, RecoveryReport), RecoveryError> {
    let written = journal_config(dir)?;
    if let Some(field) = rule_difference(&written, cfg) {
        return Err(RecoveryError::ConfigMismatch { dir: dir.to_path_buf(), field });
    }
    let header_records = 1;
    let snapshot = usable_snapshot(dir, cfg, out.kept_lines(), rejects.as_ref().map(|r| r.kept_lines()));
    let mut replay = match snapshot {
        Some((h, reconciler)) => {
            out.assume_reproduced(h.records_emitted);
            if let Some(r) = rejects.as_deref_mut() {
                r.assume_reproduced(h.rejects);
            }
            Replayer::new(reconciler, h.consumed, h.rejects, h.streams)
        }
        None => Replayer::new(Reconciler::new(cfg.recon()), 0, 0, [StreamStart::default(); 2]),
    };
    let (from, rejects_before) = (replay.consumed, replay.rejects);
    let mut failed = None;
    let outcome = JournalReader::new(dir, salvage).from_record(from + header_records).read(|r| {
        if failed.is_some() {
            return;
        }
        let mut sink = ResumeSink(out);
        let mut on_reject = |e: &event_record::RejectEntry<'_>| {
            if let Some(f) = rejects.as_deref_mut() {
                f.next(|buf| write_reject(buf, e.stream, e.line, &e.reason, e.excerpt));
            }
        };
        if let Err(e) = replay.apply(r.seq, r.kind, r.payload, &mut sink, &mut on_reject) {
            failed = Some(e);
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    for (segment, offset, reason) in &outcome.salvaged {
        tracing::error!(segment, offset, reason, "salvage: the rest of this segment was skipped");
    }
    let writer = if outcome.salvaged.is_empty() {
        JournalWriter::open(dir, SEGMENT_BYTES, fsync)?
    } else {
        JournalWriter::open_new_segment(dir, SEGMENT_BYTES, fsync, replay.consumed + header_records)?
    }
    .direct_io(cfg.journal_direct_io)?;
    let report = RecoveryReport {
        salvaged_regions: outcome.salvaged.len() as u64,
        snapshot: (from > 0).then_some(from),
        events_replayed: replay.events,
        rejects_replayed: replay.rejects - rejects_before,
        output_lines_checked: out.checked,
        output_lines_appended: out.appended,
        rejects_lines_appended: rejects.as_ref().map_or(0, |r| r.appended),
    };
    tracing::warn!(
        from_snapshot = from,
        events = replay.events,
        output_lines_appended = out.appended,
        "recovered from journal {}",
        dir.display()
    );
    let start = Start {
        consumed: replay.consumed,
        rejects: replay.rejects,
        streams: replay.streams,
        skip_through_id: out.kept_lines(),
        skip_rejects: rejects.as_ref().map_or(0, |r| r.kept_lines().saturating_sub(r.checked)),
        reconciler: replay.reconciler,
    };
    Ok((start, setup(writer, dir, cfg), report))
}

/// What a replay found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Events replayed.
    pub events: u64,
    /// Events skipped by the time window.
    pub skipped: u64,
    /// Digest of the final state.
    pub state_digest: u64,
}

/// Re-runs reconciliation from a journal with `cfg` (default: the rules it was written with);
/// `from`/`to` (event time, inclusive) select a window. Reading and decoding the journal runs
/// on one thread, reconciling on another, output on a third; records go to `out`.
pub fn replay<W: Write + Send + 'static>(
    dir: &Path,
    cfg: Option<&Config>,
    salvage: bool,
    window: (Option<Micros>, Option<Micros>),
    out: W,
) -> Result<(ReplayStats, crate::summary::RecordCounts, W), RecoveryError> {
    let cfg = match cfg {
        Some(c) => c.clone(),
        None => journal_config(dir)?,
    };
    let (from, to) = window;
    let reader = JournalReader::new(dir, salvage);
    let produce = move |push: &mut dyn FnMut(&ExecEvent)| -> Result<(u64, u64), RecoveryError> {
        let (mut events, mut skipped, mut failed) = (0u64, 0u64, None);
        let mut ev = ExecEvent::default();
        reader.read(|r| {
            if failed.is_some() || r.kind != KIND_EVENT {
                return;
            }
            if let Err(source) = event_record::decode_event(r.payload, &mut ev) {
                failed = Some(RecoveryError::BadRecord { seq: r.seq, source });
                return;
            }
            if from.is_some_and(|f| ev.event_time < f) || to.is_some_and(|x| ev.event_time > x) {
                skipped += 1;
                return;
            }
            push(&ev);
            events += 1;
        })?;
        failed.map_or(Ok((events, skipped)), Err)
    };
    let opts = crate::pipeline::PipelineOptions::default();
    let (stats, counts, out, produced) =
        crate::pipeline::run_ordered(Reconciler::new(cfg.recon()), &opts, out, produce)
            .map_err(|source| RecoveryError::Io { path: dir.to_path_buf(), source })?;
    let (events, skipped) = produced?;
    Ok((ReplayStats { events, skipped, state_digest: stats.state_digest }, counts, out))
}
