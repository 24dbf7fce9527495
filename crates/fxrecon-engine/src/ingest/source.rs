//! The seam every transport implements: a source of whole messages for one stream.
//!
//! Owns: the [`MessageSource`] trait and what it hands over (a message's bytes, or the head
//! of one too long to keep, with the time it was received when the transport knows it). A
//! source never decodes, stamps or classifies: that is the one ingest path's job
//! ([`crate::ingest::admit`]).

use std::io;

use fxrecon_core::time::Micros;

/// One message handed over by a source.
#[derive(Debug, PartialEq, Eq)]
pub enum SourceMessage<'a> {
    /// A whole message (a line of a file without its line end, a frame of a transport).
    Whole {
        /// Its bytes, borrowed until the next poll.
        bytes: &'a [u8],
        /// When the transport received it, if it knows (live transports); file sources leave
        /// it to the event clock.
        received: Option<Micros>,
    },
    /// A message longer than `max_message_bytes`: only its first bytes were kept.
    TooLong {
        /// Its first bytes (for the reject's excerpt).
        head: &'a [u8],
        /// Its whole length.
        len: usize,
    },
}

/// What a poll of a source found.
#[derive(Debug, PartialEq, Eq)]
pub enum Poll<'a> {
    /// The next message.
    Message(SourceMessage<'a>),
    /// Nothing now; more may come (a followed file, a pipe, a session). Poll again later.
    Pending,
    /// The input is over for good.
    End,
}

/// A source of one stream's messages, polled by its ingest agent.
///
/// Implementations: [`crate::ingest::file::FileSource`] (a file read to its end or followed as
/// it grows), [`crate::ingest::pipe::PipeSource`] (standard input, a pipe, a FIFO),
/// [`crate::ingest::memory::MemorySource`] (bytes in memory); transports in their own crates.
pub trait MessageSource: Send {
    /// What it reads, for logs (`file primary.fix`, `stdin`).
    fn describe(&self) -> String;

    /// The next message, [`Poll::Pending`] or [`Poll::End`]. An error ends the input: the
    /// ingest agent logs it and reports the input as failed.
    fn poll(&mut self) -> io::Result<Poll<'_>>;

    /// True while the transport is connected (a publisher's image joined, a session logged
    /// on); files and pipes always are. Asked once per duty cycle, for `/readyz` and metrics.
    fn connected(&self) -> bool {
        true
    }

    /// Skips the next `n` messages (a recovered run resumes after what its journal holds).
    /// Returns how many there were, fewer if the input ended first.
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let mut skipped = 0;
        while skipped < n {
            match self.poll()? {
                Poll::Message(_) => skipped += 1,
                Poll::Pending => std::thread::sleep(std::time::Duration::from_millis(1)),
                Poll::End => break,
            }
        }
        Ok(skipped)
    }
}
