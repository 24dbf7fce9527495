//! Recovery's journal side: opening a journal for a run (a new one gets its run header, an
//! existing one is reopened for appending after what it holds), reading back the rules it
//! was written with, and choosing the snapshot a recovery starts from.
//!
//! Owns: the segment size of run journals, the run header's place (the first record), and
//! the rule that a snapshot is used only if it restores and the caller accepts its position
//! (the outputs must already hold its records). Never decodes FIX and never writes outputs:
//! replaying the records after the snapshot is the engine's pipeline, fed by
//! [`crate::replay::RecordFeed`].

use std::path::Path;

use fxrecon_core::reconciler::{ReconConfig, Reconciler};
use fxrecon_core::snapshot::SnapReader;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::record::{self, EventRecordError, KIND_HEADER};
use crate::segment::{FsyncPolicy, JournalError, JournalReader, JournalWriter, list_segments};
use crate::snapshot_file::{self, SnapshotHeader};

/// Segment size of journals written by runs.
pub const SEGMENT_BYTES: u64 = 256 << 20;

/// Records at the start of a run journal that are not consumed messages (the run header).
pub const HEADER_RECORDS: u64 = 1;

/// Why a journal's run header could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    /// The journal itself is unreadable or corrupt.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The first record is not a run header.
    #[error("journal {0} has no run header: not a journal this build can resume")]
    Missing(String),
    /// The run header does not decode.
    #[error("journal {dir}: {source}")]
    Unreadable {
        /// The journal directory.
        dir: String,
        /// Why.
        source: EventRecordError,
    },
}

/// True when `dir` already holds a journal (a run with it recovers instead of starting).
///
/// A run killed while creating its journal (its first segment made, the run header not yet
/// whole) leaves segments with no record in them and no header copy: that is not a journal yet
/// (nothing in it to resume or lose), so a run with it starts afresh instead of being refused
/// for a missing header (D67). The segments are read only in that case.
pub fn journal_exists(dir: &Path) -> Result<bool, JournalError> {
    if !dir.exists() || list_segments(dir)?.is_empty() {
        return Ok(false);
    }
    if dir.join(HEADER_FILE).exists() {
        return Ok(true);
    }
    Ok(JournalReader::new(dir, false).read(|_| {})?.records > 0)
}

/// Name of the run header's copy beside the segments: the header stays readable after
/// retention removed the first segment.
pub const HEADER_FILE: &str = "run-header.json";

/// The rules a journal was written with (its run header: the first record, or its copy once
/// retention removed the first segment).
pub fn journal_rules<T: DeserializeOwned>(dir: &Path) -> Result<T, HeaderError> {
    let unreadable = |source| HeaderError::Unreadable { dir: dir.display().to_string(), source };
    if list_segments(dir)?.first().is_some_and(|&first| first > 0) {
        return match std::fs::read(dir.join(HEADER_FILE)) {
            Ok(payload) => record::decode_header(&payload).map_err(unreadable),
            Err(_) => Err(HeaderError::Missing(dir.display().to_string())),
        };
    }
    match JournalReader::new(dir, false).first_record()? {
        Some((KIND_HEADER, payload)) => record::decode_header(&payload).map_err(unreadable),
        _ => Err(HeaderError::Missing(dir.display().to_string())),
    }
}

/// Starts a new journal in `dir` for a run with `rules`: writes and syncs its run header.
pub fn create<T: Serialize>(
    dir: &Path,
    rules: &T,
    fsync: FsyncPolicy,
    direct_io: bool,
    segment_bytes: u64,
) -> Result<JournalWriter, JournalError> {
    let mut writer = JournalWriter::open(dir, segment_bytes, fsync)?.direct_io(direct_io)?;
    let header = record::encode_header(rules);
    writer.append(KIND_HEADER, &header)?;
    writer.sync()?;
    // Its copy, for when retention has let the first segment go.
    let io = |source| JournalError::Io { path: dir.join(HEADER_FILE), source };
    let tmp = dir.join(format!("{HEADER_FILE}.tmp"));
    std::fs::write(&tmp, &header).and_then(|()| std::fs::rename(&tmp, dir.join(HEADER_FILE))).map_err(io)?;
    Ok(writer)
}

/// Reopens the journal in `dir` for appending after a recovery replayed `records` of its
/// records; after salvage, appending starts in a new segment (the damaged one stays as it is).
pub fn reopen(
    dir: &Path,
    fsync: FsyncPolicy,
    direct_io: bool,
    salvaged: bool,
    records: u64,
    segment_bytes: u64,
) -> Result<JournalWriter, JournalError> {
    // A snapshot whose writing a kill cut short leaves its temporary file behind.
    let _ = crate::snapshot_file::remove_temporaries(dir);
    let writer = if salvaged {
        JournalWriter::open_new_segment(dir, segment_bytes, fsync, records)?
    } else {
        JournalWriter::open(dir, segment_bytes, fsync)?
    };
    writer.direct_io(direct_io)
}

/// The newest snapshot in `dir` that restores with `cfg` and whose header `accept` takes (the
/// caller's check that the outputs already hold its records); an unusable one is logged and
/// an older one tried. None: replay from the start.
pub fn usable_snapshot(
    dir: &Path,
    cfg: ReconConfig,
    accept: impl Fn(&SnapshotHeader) -> Result<(), String>,
) -> Option<(SnapshotHeader, Reconciler)> {
    usable_snapshot_in(dir, cfg, accept, false)
}

/// As [`usable_snapshot`], the oldest usable one first when `oldest_first`.
pub fn usable_snapshot_in(
    dir: &Path,
    cfg: ReconConfig,
    accept: impl Fn(&SnapshotHeader) -> Result<(), String>,
    oldest_first: bool,
) -> Option<(SnapshotHeader, Reconciler)> {
    let mut snapshots = snapshot_file::list(dir).ok()?;
    if oldest_first {
        snapshots.reverse();
    }
    for (consumed, path) in snapshots {
        let restored = snapshot_file::read(&path).map_err(|e| e.to_string()).and_then(|payload| {
            let mut r = SnapReader::new(&payload);
            let h = SnapshotHeader::load(&mut r).map_err(|e| e.to_string())?;
            accept(&h)?;
            let rec = Reconciler::restore(cfg, &mut r).map_err(|e| e.to_string())?;
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

/// Name of the marker a salvaged journal carries: its damage was accepted once (`--salvage`),
/// so every later read skips it the same way, without being asked again.
pub const SALVAGED_FILE: &str = "SALVAGED";

/// True when the journal in `dir` was salvaged: reads skip its damaged regions.
pub fn was_salvaged(dir: &Path) -> bool {
    dir.join(SALVAGED_FILE).exists()
}

/// Marks the journal in `dir` salvaged (`regions` damaged regions skipped this time).
pub fn mark_salvaged(dir: &Path, regions: u64) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(SALVAGED_FILE))?;
    writeln!(f, "salvaged: {regions} damaged region(s) skipped; reads of this journal skip them from now on")?;
    f.sync_all()
}

/// Name of the lock file in a journal directory.
pub const LOCK_FILE: &str = "LOCK";

/// The journal directory is locked by this process for as long as this lives (contract 6:
/// one instance per journal). The kernel drops the lock when the process dies, however it
/// dies, so a stale lock never blocks a restart.
#[derive(Debug)]
pub struct JournalLock {
    _file: std::fs::File,
}

/// Why a journal could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error("journal {dir} is in use by another fxrecon process{} (lock file {lock}); one instance per journal", .holder.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    InUse {
        /// The journal directory.
        dir: String,
        /// The lock file.
        lock: String,
        /// The holder's process id, as it wrote it.
        holder: Option<u32>,
    },
    /// The directory or its lock file could not be made.
    #[error("cannot lock journal {dir}: {source}")]
    Io {
        /// The journal directory.
        dir: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Locks journal directory `dir` (created if missing) for this process.
pub fn lock(dir: &Path) -> Result<JournalLock, LockError> {
    use std::io::{Read, Seek, Write};
    let io = |source| LockError::Io { dir: dir.display().to_string(), source };
    std::fs::create_dir_all(dir).map_err(io)?;
    let path = dir.join(LOCK_FILE);
    let mut file =
        std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(LockError::InUse {
                dir: dir.display().to_string(),
                lock: path.display().to_string(),
                holder: text.trim().parse().ok(),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    // Who holds it, for the message a second process gets.
    file.set_len(0).and_then(|()| file.rewind()).and_then(|()| writeln!(file, "{}", std::process::id())).map_err(io)?;
    Ok(JournalLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_killed_before_its_run_header_was_whole_is_not_a_journal_and_starts_afresh() {
        let tmp = tempfile::Builder::new().prefix("fxrecon-unborn-").tempdir().unwrap();
        let dir = tmp.path();
        assert!(!journal_exists(dir).unwrap(), "an empty directory");
        // The first segment made, no record in it yet (the kill came before the header).
        drop(JournalWriter::open(dir, 1 << 20, FsyncPolicy::Never).unwrap());
        assert_eq!(list_segments(dir).unwrap(), vec![0]);
        assert!(!journal_exists(dir).unwrap(), "a segment with no record is not a journal");
        // Creating it there writes the header as the first record, and then it is one.
        let w = create(dir, &serde_json::json!({"rules": 1}), FsyncPolicy::Never, false, 1 << 20).unwrap();
        drop(w);
        assert!(journal_exists(dir).unwrap());
        let rules: serde_json::Value = journal_rules(dir).unwrap();
        assert_eq!(rules["rules"], 1);
        // With its header copy gone (as if the kill came between the record and the copy), the
        // header record alone still makes it a journal.
        std::fs::remove_file(dir.join(HEADER_FILE)).unwrap();
        assert!(journal_exists(dir).unwrap());
    }

    #[test]
    fn a_second_lock_of_a_journal_is_refused_naming_the_holder_and_released_with_the_first() {
        let tmp = tempfile::Builder::new().prefix("fxrecon-lock-").tempdir().unwrap();
        let dir = tmp.path();
        let first = lock(dir).unwrap();
        let err = lock(dir).unwrap_err();
        assert!(matches!(err, LockError::InUse { holder: Some(p), .. } if p == std::process::id()), "{err}");
        assert!(err.to_string().contains("in use by another fxrecon process"), "{err}");
        drop(first);
        let again = lock(dir).unwrap();
        drop(again);
    }
}
