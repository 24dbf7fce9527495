//! Resuming an output file after a crash: what the file already holds must be exactly what
//! the journal's replay reproduces (a torn final line is cut off first); what it lacks is
//! appended.
//!
//! Owns: reading an existing output, checking replayed lines against it line by line, and
//! appending past it. Because no output is written before its cause is journaled, a file is
//! never ahead of its journal; a file that disagrees was not written by this journal's run,
//! and the recovery stops with the first line that differs.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fxrecon_core::divergence::Record;
use fxrecon_core::quarantine::RejectNote;
use fxrecon_runtime::counters::Counter;

use crate::output::render::{write_record, write_reject_note};
use crate::output::sink::OutputSink;

/// How a resumed file went (its sink is the only writer).
#[derive(Debug, Default)]
pub struct ResumeCounters {
    /// Complete lines the file held when it was opened.
    pub kept: Counter,
    /// Lines checked against the replay.
    pub checked: Counter,
    /// Lines appended by the replay.
    pub appended: Counter,
}

/// An output file being resumed.
pub struct ResumedFile {
    path: PathBuf,
    existing: Vec<u8>,
    /// Byte offset of each kept line's start, plus the end.
    starts: Vec<usize>,
    out: BufWriter<File>,
    checked: u64,
    scratch: Vec<u8>,
    counters: Arc<ResumeCounters>,
}

impl ResumedFile {
    /// Opens `path` (created if missing), cutting off a torn final line.
    pub fn open(path: &Path) -> io::Result<Self> {
        let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        let mut existing = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(named(e)),
        };
        let keep = existing.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if keep < existing.len() {
            tracing::warn!(path = %path.display(), bytes = existing.len() - keep, "output: torn final line cut off");
            existing.truncate(keep);
        }
        let file = OpenOptions::new().create(true).write(true).truncate(false).open(path).map_err(named)?;
        file.set_len(keep as u64).map_err(named)?;
        let mut starts = vec![0];
        starts.extend(existing.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1));
        let mut out = BufWriter::with_capacity(1 << 16, file);
        out.seek(io::SeekFrom::End(0)).map_err(named)?;
        let counters = Arc::new(ResumeCounters::default());
        counters.kept.set(starts.len() as u64 - 1);
        Ok(Self { path: path.to_path_buf(), existing, starts, out, checked: 0, scratch: Vec::new(), counters })
    }

    /// Complete lines the file held when it was opened.
    pub fn kept_lines(&self) -> u64 {
        self.starts.len() as u64 - 1
    }

    /// Its counters (readable once the replay is over).
    pub fn counters(&self) -> Arc<ResumeCounters> {
        self.counters.clone()
    }

    /// Takes the first `n` kept lines as reproduced already (by a snapshot covering them).
    pub fn assume_reproduced(&mut self, n: u64) {
        self.checked = n.min(self.kept_lines());
        self.counters.checked.set(self.checked);
    }

    /// Takes the next line the replay reproduces (rendered by `render`): checks it against the
    /// kept line at that place, or appends it past them.
    fn next(&mut self, render: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> io::Result<()> {
        self.scratch.clear();
        render(&mut self.scratch)?;
        let n = self.checked as usize;
        if n + 1 < self.starts.len() {
            if self.existing[self.starts[n]..self.starts[n + 1]] != self.scratch[..] {
                return Err(io::Error::other(format!(
                    "{} line {} differs from what the journal reproduces: it was not written by this journal's run",
                    self.path.display(),
                    n + 1
                )));
            }
            self.checked += 1;
            self.counters.checked.set(self.checked);
        } else {
            self.out.write_all(&self.scratch)?;
            self.counters.appended.incr();
        }
        Ok(())
    }
}

/// Records replayed into a resumed records file.
pub struct ResumeRecords(pub ResumedFile);

impl OutputSink for ResumeRecords {
    fn record(&mut self, record: &Record) -> io::Result<()> {
        self.0.next(|buf| write_record(buf, record))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.out.flush()
    }
}

/// Rejects replayed into a resumed rejects file.
pub struct ResumeRejects(pub ResumedFile);

impl OutputSink for ResumeRejects {
    fn record(&mut self, _: &Record) -> io::Result<()> {
        Ok(())
    }
    fn reject(&mut self, note: &RejectNote) -> io::Result<()> {
        self.0.next(|buf| write_reject_note(buf, note))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.out.flush()
    }
}
