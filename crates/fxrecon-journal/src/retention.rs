//! Journal retention: segments no restart needs any more are removed, or moved to an archive
//! directory, once the journal is over its byte budget or they are older than its age limit.
//!
//! Owns: which segments are removable (every record of the segment lies before the first
//! record the oldest kept snapshot's recovery would replay, and it is not the segment being
//! written) and the order they go in (oldest first). Never removes the run header's
//! sidecar, a snapshot, or anything a restart would read.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::segment::{JournalError, list_segments, segment_first_record, segment_name};

/// How much of a journal is kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    /// Keep the journal directory (segments, snapshots, header) under this many bytes, as far
    /// as what a restart needs allows (0: no byte limit).
    pub max_bytes: u64,
    /// Let segments older than this go (None: no age limit).
    pub max_age: Option<Duration>,
    /// Move removed segments here instead of deleting them (None: delete).
    pub archive: Option<PathBuf>,
}

impl Retention {
    /// True when nothing is ever removed.
    pub fn keeps_everything(&self) -> bool {
        self.max_bytes == 0 && self.max_age.is_none()
    }
}

/// Removes (or archives) the segments of `dir` that no restart needs — all their records lie
/// before record `needed_from` — oldest first, while the directory's files exceed `r.max_bytes`
/// or the segment is older than `r.max_age`. The newest segment always stays. Returns how many went.
pub fn apply(dir: &Path, needed_from: u64, r: &Retention, headroom: u64) -> Result<u64, JournalError> {
    if r.keeps_everything() {
        return Ok(0);
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| JournalError::Io { path, source }
    };
    let segments = list_segments(dir)?;
    let paths: Vec<PathBuf> = segments.iter().map(|&i| dir.join(segment_name(i))).collect();
    let sizes: Vec<u64> = paths.iter().map(|p| std::fs::metadata(p).map_or(0, |m| m.len())).collect();
    // The budget is the directory's: snapshots and the header count too.
    let mut total = directory_bytes(dir);
    let mut removed = 0;
    for n in 0..segments.len().saturating_sub(1) {
        // Segment n ends where segment n + 1 starts.
        let Some(next_first) = segment_first_record(&paths[n + 1], segments[n + 1]) else { break };
        if next_first > needed_from {
            break;
        }
        let over_budget = r.max_bytes > 0 && total + headroom > r.max_bytes;
        let too_old = r.max_age.is_some_and(|age| {
            std::fs::metadata(&paths[n])
                .and_then(|m| m.modified())
                .is_ok_and(|t| SystemTime::now().duration_since(t).is_ok_and(|d| d > age))
        });
        if !over_budget && !too_old {
            break;
        }
        match &r.archive {
            Some(archive) => {
                std::fs::create_dir_all(archive).map_err(io(archive))?;
                std::fs::rename(&paths[n], archive.join(segment_name(segments[n]))).map_err(io(&paths[n]))?;
            }
            None => std::fs::remove_file(&paths[n]).map_err(io(&paths[n]))?,
        }
        tracing::info!(
            segment = segment_name(segments[n]),
            archived = r.archive.is_some(),
            "journal retention: segment no restart needs let go"
        );
        total -= sizes[n];
        removed += 1;
    }
    Ok(removed)
}

/// Bytes of the files directly in `dir` (segments, snapshots, the header's copy).
pub fn directory_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|it| it.filter_map(|e| e.ok()?.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::{FsyncPolicy, JournalReader, JournalWriter};

    /// A fresh directory of its own, removed when dropped (also when the test panics).
    fn scratch(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new().prefix(&format!("fxrecon-retention-{name}-")).tempdir().unwrap()
    }

    /// A journal of `records` records in small segments, in a directory of its own.
    fn journal(name: &str, records: usize) -> tempfile::TempDir {
        let d = scratch(name);
        let mut w = JournalWriter::open(d.path(), 256, FsyncPolicy::Never).unwrap();
        for i in 0..records {
            w.append(1, format!("record {i:04} payload").as_bytes()).unwrap();
            w.end_batch().unwrap();
        }
        w.sync().unwrap();
        d
    }

    fn bytes(d: &Path) -> u64 {
        list_segments(d).unwrap().iter().map(|&i| std::fs::metadata(d.join(segment_name(i))).unwrap().len()).sum()
    }

    #[test]
    fn only_segments_wholly_before_the_needed_record_go_oldest_first_and_the_newest_stays() {
        let tmp = journal("needed", 60);
        let d = tmp.path();
        let before = list_segments(d).unwrap();
        assert!(before.len() > 5);
        let r = Retention { max_bytes: 1, ..Retention::default() };
        // Record 25 is needed: the segment holding it and every later one stay.
        let gone = apply(d, 25, &r, 0).unwrap();
        let after = list_segments(d).unwrap();
        assert_eq!(after.len() as u64, before.len() as u64 - gone);
        let first = segment_first_record(&d.join(segment_name(after[0])), after[0]).unwrap();
        assert!(first <= 25, "the segment holding record 25 stays");
        let next = segment_first_record(&d.join(segment_name(after[1])), after[1]).unwrap();
        assert!(next > 25, "the one before it went");
        // What is left still reads, from where it starts.
        let mut n = 0;
        JournalReader::new(d, false).from_record(first).read(|_| n += 1).unwrap();
        assert_eq!(n, 60 - first);
        // Nothing is needed any more: everything but the newest segment goes.
        apply(d, u64::MAX, &r, 0).unwrap();
        assert_eq!(list_segments(d).unwrap(), vec![*before.last().unwrap()]);
    }

    #[test]
    fn within_budget_nothing_goes_and_archived_segments_are_moved_whole() {
        let tmp = journal("budget", 60);
        let d = tmp.path();
        let total = bytes(d);
        let keep = Retention { max_bytes: total, ..Retention::default() };
        assert_eq!(apply(d, u64::MAX, &keep, 0).unwrap(), 0);
        assert!(Retention::default().keeps_everything());
        let archive_tmp = scratch("archive");
        let archive = archive_tmp.path().join("archive");
        let first = d.join(segment_name(0));
        let original = std::fs::read(&first).unwrap();
        let r = Retention { max_bytes: total / 2, archive: Some(archive.clone()), ..Retention::default() };
        let gone = apply(d, u64::MAX, &r, 0).unwrap();
        assert!(gone > 0 && bytes(d) <= total / 2 + 256);
        assert_eq!(std::fs::read(archive.join(segment_name(0))).unwrap(), original);
        assert_eq!(std::fs::read_dir(&archive).unwrap().count() as u64, gone);
    }

    #[test]
    fn segments_older_than_the_age_limit_go_even_within_budget() {
        let tmp = journal("age", 30);
        let d = tmp.path();
        let n = list_segments(d).unwrap().len() as u64;
        let r = Retention { max_age: Some(Duration::ZERO), ..Retention::default() };
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(apply(d, u64::MAX, &r, 0).unwrap(), n - 1);
        let young = Retention { max_age: Some(Duration::from_secs(3600)), ..Retention::default() };
        let tmp = journal("young", 30);
        let d = tmp.path();
        assert_eq!(apply(d, u64::MAX, &young, 0).unwrap(), 0);
    }
}
