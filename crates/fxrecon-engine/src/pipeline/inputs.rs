//! Opening the inputs a command names: a path becomes the right [`MessageSource`].
//!
//! Owns: the mapping from what a path is to how it is read — `-` is standard input, a FIFO
//! (or other stream: a character device, a socket) is streamed, a regular file is read in
//! chunks (followed as it grows with `follow`), a directory is refused with a clear error.

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

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
