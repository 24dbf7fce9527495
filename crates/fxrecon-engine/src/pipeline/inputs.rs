//! Opening the inputs a command names: a path becomes the right [`MessageSource`]; and an
//! input's identity, which a journal records so that a restart can tell a grown input from a
//! different one (contract 6).
//!
//! Owns: the mapping from what a path is to how it is read — `-` is standard input, a FIFO
//! (or other stream: a character device, a socket) is streamed, a regular file is read in
//! chunks (followed as it grows with `follow`), a directory is refused with a clear error —
//! and what identifies a file input: its size and a digest of its first bytes.

use std::io::{self, Read};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ingest::file::FileSource;
use crate::ingest::pipe::{PipeOrigin, PipeSource};
use crate::ingest::source::MessageSource;

/// How a named input will be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// Standard input (`-`).
    Stdin,
    /// A FIFO or other stream.
    Stream,
    /// A regular file.
    File,
}

/// What `path` is as an input, or why it cannot be one.
pub fn input_kind(path: &Path) -> io::Result<InputKind> {
    if path.as_os_str() == "-" {
        return Ok(InputKind::Stdin);
    }
    let meta = std::fs::metadata(path)?;
    let t = meta.file_type();
    if t.is_dir() {
        Err(io::Error::new(io::ErrorKind::InvalidInput, "is a directory, not a file"))
    } else if t.is_fifo() || t.is_char_device() || t.is_socket() {
        Ok(InputKind::Stream)
    } else {
        Ok(InputKind::File)
    }
}

/// Opens `path` as a source of lines of at most `max` bytes; `follow` keeps reading a regular
/// file as it grows (a stream is read to its end either way).
pub fn open_input(path: &Path, follow: bool, max: usize) -> io::Result<Box<dyn MessageSource>> {
    Ok(match input_kind(path)? {
        InputKind::Stdin => Box::new(PipeSource::start(PipeOrigin::Stdin, max)),
        InputKind::Stream => Box::new(PipeSource::start(PipeOrigin::Path(path.to_path_buf()), max)),
        InputKind::File => Box::new(FileSource::open(path, follow, max)?),
    })
}

/// Bytes at the start of a file input whose digest identifies it.
const HEAD_BYTES: u64 = 64 << 10;

/// What a journal records of an input, to recognise it at a restart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputIdentity {
    /// The path as given.
    pub path: PathBuf,
    /// `file`, `stream` (a FIFO, device or socket) or `stdin`.
    pub kind: String,
    /// A file's size when the journal was made.
    pub size: u64,
    /// Bytes of its head the digest covers (its first 64 KiB, or all of it).
    pub head_len: u64,
    /// FNV-1a digest of those bytes, hex.
    pub head_digest: String,
}

fn head_digest(path: &Path, len: u64) -> io::Result<String> {
    let mut buf = vec![0u8; len as usize];
    std::fs::File::open(path)?.read_exact(&mut buf)?;
    let mut d = fxrecon_core::digest::Digest::default();
    d.text(&buf);
    Ok(format!("{:016x}", d.finish()))
}

impl InputIdentity {
    /// The identity of input `path` now.
    pub fn of(path: &Path) -> io::Result<Self> {
        let kind = input_kind(path)?;
        let (kind, size, head_len, head_digest) = match kind {
            InputKind::Stdin => ("stdin", 0, 0, String::new()),
            InputKind::Stream => ("stream", 0, 0, String::new()),
            InputKind::File => {
                let size = std::fs::metadata(path)?.len();
                let head_len = size.min(HEAD_BYTES);
                ("file", size, head_len, head_digest(path, head_len)?)
            }
        };
        Ok(Self { path: path.to_path_buf(), kind: kind.to_string(), size, head_len, head_digest })
    }

    /// A transport's stream (an Aeron channel and stream id, a FIX session), known by its
    /// name only: a restart must name the same stream.
    pub fn transport(name: impl Into<String>) -> Self {
        Self {
            path: PathBuf::from(name.into()),
            kind: "transport".to_string(),
            size: 0,
            head_len: 0,
            head_digest: String::new(),
        }
    }

    /// Why the input `now` (read from `path`) is not this one (None: it is this one, maybe
    /// grown). A transport's stream must have the same name; a file is checked by its contents.
    pub fn differs_from_input(&self, now: &InputIdentity) -> Option<String> {
        if self.kind == "transport" || now.kind == "transport" {
            return (self.kind != now.kind || self.path != now.path).then(|| {
                format!(
                    "is {} {}; the journal was made from {} {}",
                    now.kind,
                    now.path.display(),
                    self.kind,
                    self.path.display()
                )
            });
        }
        self.differs_from(&now.path)
    }

    /// Why the input at `path` is not this one (None: it is this one, maybe grown). Streams and
    /// standard input cannot be checked (a warning says so).
    pub fn differs_from(&self, path: &Path) -> Option<String> {
        if self.kind == "transport" {
            return Some(format!("is a path; the journal was made from the stream {}", self.path.display()));
        }
        if self.kind != "file" {
            tracing::warn!(input = %path.display(), "the journal's input was a stream: a restart cannot check it is the same");
            return None;
        }
        let now = match Self::of(path) {
            Ok(n) => n,
            Err(e) => return Some(format!("cannot be read ({e})")),
        };
        if now.kind != "file" {
            return Some(format!("is a {} now; the journal was made from a file", now.kind));
        }
        if now.size < self.size {
            return Some(format!(
                "has {} bytes; it had {} when the journal was made (a file only grows)",
                now.size, self.size
            ));
        }
        match head_digest(path, self.head_len) {
            Ok(d) if d == self.head_digest => None,
            Ok(_) => {
                Some(format!("differs in its first {} bytes from the input the journal was made from", self.head_len))
            }
            Err(e) => Some(format!("cannot be read ({e})")),
        }
    }
}
