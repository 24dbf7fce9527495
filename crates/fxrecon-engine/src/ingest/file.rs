//! A file input: read to its end, or followed as it grows (`follow = true`).
//!
//! Owns: reading a regular file in large chunks into the line buffer (plain reads, not a
//! memory map: a file cut shorter under a map kills the reader with SIGBUS, a read just
//! returns less), and noticing a file truncated or replaced under the reader: that input then
//! stops with an error naming the file, and the process goes on. Never decodes.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::ingest::lines::{Fill, LineBuffer, NextLine};
use crate::ingest::source::{MessageSource, Poll};

/// Bytes per read: large enough that the syscalls cost nothing next to the lines.
const CHUNK_BYTES: usize = 1 << 20;
/// How often a followed file at its end is looked at again.
const FOLLOW_POLL: Duration = Duration::from_millis(2);
/// How often a followed file's path is checked for a replacement (rotation).
const REPLACED_POLL: Duration = Duration::from_millis(200);

/// A file read in chunks; each line one message.
pub struct FileSource {
    path: PathBuf,
    file: File,
    follow: bool,
    lines: LineBuffer,
    /// Bytes read from the file so far.
    pos: u64,
    /// The file's size when it was opened (a plain read must reach it).
    size_at_open: u64,
    /// (device, inode) of the file opened.
    identity: (u64, u64),
    next_look: Instant,
    next_identity_check: Instant,
}

impl FileSource {
    /// Opens `path` for reading; with `follow`, its end is not the end of the input (lines
    /// appended later are read, until shutdown). Lines over `max` bytes are rejected.
    pub fn open(path: &Path, follow: bool, max: usize) -> io::Result<Self> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "is a directory, not a file"));
        }
        let now = Instant::now();
        Ok(Self {
            path: path.to_path_buf(),
            file,
            follow,
            lines: LineBuffer::new(CHUNK_BYTES, max),
            pos: 0,
            size_at_open: meta.len(),
            identity: (meta.dev(), meta.ino()),
            next_look: now,
            next_identity_check: now + REPLACED_POLL,
        })
    }
}

/// An error when `file` became shorter than the `pos` bytes read from it (truncated).
fn check_not_truncated(file: &File, path: &Path, pos: u64) -> io::Result<()> {
    let len = file.metadata()?.len();
    if len < pos {
        return Err(io::Error::other(format!(
            "{} was truncated while being read (now {len} bytes, {pos} already read): input stopped",
            path.display()
        )));
    }
    Ok(())
}

/// An error when `path` now names another file than the one being read (rotation).
fn check_not_replaced(path: &Path, identity: (u64, u64)) -> io::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if (m.dev(), m.ino()) == identity => Ok(()),
        Ok(_) => Err(io::Error::other(format!(
            "{} was replaced by another file while being followed: input stopped",
            path.display()
        ))),
        Err(e) => {
            Err(io::Error::other(format!("{} went away while being followed ({e}): input stopped", path.display())))
        }
    }
}

impl MessageSource for FileSource {
    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn poll(&mut self) -> io::Result<Poll<'_>> {
        let Self { path, file, follow, lines, pos, size_at_open, identity, next_look, next_identity_check } = self;
        let got = lines.next_line(|dst| {
            if *follow && Instant::now() < *next_look {
                return Ok(Fill::Pending);
            }
            loop {
                match file.read(dst) {
                    Ok(0) if *follow => {
                        // At the end for now: more may be appended, unless the file was cut
                        // or replaced under the reader.
                        check_not_truncated(file, path, *pos)?;
                        let now = Instant::now();
                        if now >= *next_identity_check {
                            *next_identity_check = now + REPLACED_POLL;
                            check_not_replaced(path, *identity)?;
                        }
                        *next_look = now + FOLLOW_POLL;
                        return Ok(Fill::Pending);
                    }
                    Ok(0) if *pos < *size_at_open => {
                        return Err(io::Error::other(format!(
                            "{} was truncated while being read (ended at byte {pos} of {size_at_open}): input stopped",
                            path.display()
                        )));
                    }
                    Ok(0) => return Ok(Fill::End),
                    Ok(n) => {
                        *pos += n as u64;
                        return Ok(Fill::Bytes(n));
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        })?;
        Ok(match got {
            NextLine::Line(m) => Poll::Message(m),
            NextLine::End => Poll::End,
            NextLine::Pending => Poll::Pending,
        })
    }

    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let mut skipped = 0;
        while skipped < n {
            match self.poll()? {
                Poll::Message(_) => skipped += 1,
                // A followed file at its end holds no more lines yet: it has fewer than `n`.
                Poll::Pending | Poll::End => break,
            }
        }
        Ok(skipped)
    }
}
