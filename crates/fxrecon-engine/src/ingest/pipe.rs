//! A streamed input: standard input (`-`), a pipe or a FIFO, read to its end.
//!
//! Owns: a reading thread that blocks in `read` (so the agent thread, which may be shared with
//! other agents, never does), the byte ring it fills, and the line buffer the ingest agent
//! cuts lines from. Opening a FIFO waits for its writer, so that too happens on the reading
//! thread. Never decodes.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use fxrecon_runtime::rings::{Consumer, Producer, RingBuffer};

use crate::ingest::lines::{Fill, LineBuffer, NextLine};
use crate::ingest::source::{MessageSource, Poll};

/// Bytes of the ring between the reading thread and the agent.
const RING_BYTES: usize = 4 << 20;
/// Bytes per read of the reading thread.
const READ_BYTES: usize = 64 << 10;

/// Where a streamed input comes from.
#[derive(Clone, Debug)]
pub enum PipeOrigin {
    /// The process's standard input.
    Stdin,
    /// A FIFO (or any file that must be read as a stream) at this path.
    Path(PathBuf),
}

/// An input read as a stream by a thread of its own; each line one message.
pub struct PipeSource {
    origin: PipeOrigin,
    ring: Consumer<u8>,
    lines: LineBuffer,
    reader: Option<JoinHandle<io::Result<()>>>,
}

impl PipeSource {
    /// Starts reading `origin`; lines over `max` bytes are rejected.
    pub fn start(origin: PipeOrigin, max: usize) -> Self {
        let (tx, ring) = RingBuffer::new(RING_BYTES);
        let from = origin.clone();
        let reader = std::thread::Builder::new()
            .name("input-reader".into())
            .spawn(move || match from {
                PipeOrigin::Stdin => pump(io::stdin().lock(), tx),
                PipeOrigin::Path(p) => pump(open_fifo(&p)?, tx),
            })
            .expect("spawning an input reader");
        Self { origin, ring, lines: LineBuffer::new(RING_BYTES / 4, max), reader: Some(reader) }
    }
}

fn open_fifo(path: &Path) -> io::Result<File> {
    File::open(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// Copies `input` into `tx` until the input ends (or the agent is gone).
fn pump(mut input: impl Read, mut tx: Producer<u8>) -> io::Result<()> {
    let mut buf = vec![0u8; READ_BYTES];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            if tx.is_abandoned() {
                return Ok(());
            }
            match tx.write(rest) {
                Ok(k) => rest = &rest[k..],
                // Full: the agent is behind; wait for it (backpressure reaches the writer).
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_micros(100))
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl MessageSource for PipeSource {
    fn describe(&self) -> String {
        match &self.origin {
            PipeOrigin::Stdin => "stdin".to_string(),
            PipeOrigin::Path(p) => format!("stream {}", p.display()),
        }
    }

    fn poll(&mut self) -> io::Result<Poll<'_>> {
        let Self { ring, lines, reader, .. } = self;
        let got = lines.next_line(|dst| match ring.read(dst) {
            Ok(n) => Ok(Fill::Bytes(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                // Empty: over only once the reading thread has finished (after its last write).
                if !reader.as_ref().is_some_and(|r| r.is_finished()) {
                    return Ok(Fill::Pending);
                }
                if !ring.is_empty() {
                    return Ok(Fill::Bytes(ring.read(dst)?));
                }
                let result = reader
                    .take()
                    .map_or(Ok(()), |r| r.join().unwrap_or_else(|_| Err(io::Error::other("input reader panicked"))));
                result.map(|()| Fill::End)
            }
            Err(e) => Err(e),
        })?;
        Ok(match got {
            NextLine::Line(m) => Poll::Message(m),
            NextLine::End => Poll::End,
            NextLine::Pending => Poll::Pending,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::source::SourceMessage;

    #[test]
    fn a_fifo_is_streamed_line_by_line_until_its_writer_closes_it() {
        let dir = tempfile::Builder::new().prefix("fxrecon-fifo-").tempdir().unwrap();
        let fifo = dir.path().join("in.fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let mut src = PipeSource::start(PipeOrigin::Path(fifo.clone()), 100);
        let writer = std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            for i in 0..1000 {
                writeln!(f, "line {i}").unwrap();
            }
        });
        let mut got = Vec::new();
        loop {
            match src.poll().unwrap() {
                Poll::Message(SourceMessage::Whole { bytes, .. }) => {
                    got.push(String::from_utf8(bytes.to_vec()).unwrap())
                }
                Poll::Message(other) => panic!("{other:?}"),
                Poll::Pending => std::thread::yield_now(),
                Poll::End => break,
            }
        }
        writer.join().unwrap();
        assert_eq!(got.len(), 1000);
        assert_eq!(got[999], "line 999");
    }
}
