//! The replay reader: a journal's records, in order, handed over one at a time to whoever
//! replays them (the engine's journal intake agent), while a thread of its own reads and
//! checks the segments ahead.
//!
//! Owns: that reading thread, the byte ring it fills (each record framed as kind, sequence
//! number and payload) and the reader's outcome (records, torn tail, salvaged regions, or the
//! error that stopped it). Knows nothing of what a payload means and never decodes FIX.

use std::thread::JoinHandle;

use fxrecon_runtime::rings::{self, Consumer, Producer, RingBuffer};

use crate::segment::{JournalError, JournalReader, MAX_PAYLOAD, ReadOutcome};

/// Bytes of a record's frame in the feed before its payload: kind u8, sequence number u64.
const FEED_HEAD: usize = 1 + 8;

/// One record of the feed.
#[derive(Debug)]
pub struct FeedRecord<'a> {
    /// Position of the record in the whole journal (0 = the first record ever written).
    pub seq: u64,
    /// Record kind.
    pub kind: u8,
    /// Payload bytes.
    pub payload: &'a [u8],
}

/// What the feed has for its reader.
#[derive(Debug)]
pub enum Feed<T> {
    /// A record, and what the caller's function made of it.
    Record(T),
    /// Nothing yet: the reading thread is behind.
    Empty,
    /// Every record was delivered; the reader's outcome.
    Done(Result<ReadOutcome, JournalError>),
}

/// A journal read ahead on its own thread, delivered record by record.
pub struct RecordFeed {
    ring: Consumer<u8>,
    thread: Option<JoinHandle<Result<ReadOutcome, JournalError>>>,
    /// A record cut by the end of the ring, made whole (sized for the largest payload once).
    scratch: Vec<u8>,
}

impl RecordFeed {
    /// Starts reading `reader`'s records into a ring of `ring_bytes` bytes (made at least twice
    /// the largest record, `max_payload` bytes; a larger record stops the feed with an error).
    pub fn start(reader: JournalReader, ring_bytes: usize, max_payload: usize) -> Self {
        let max_payload = max_payload.min(MAX_PAYLOAD);
        let (tx, ring) = RingBuffer::new(ring_bytes.max(2 * (rings::FRAME_PREFIX + FEED_HEAD + max_payload)));
        let thread = std::thread::Builder::new()
            .name("journal-read".into())
            .spawn(move || {
                let _abort_on_panic = fxrecon_runtime::runner::AbortOnPanic("journal-read");
                feed(reader, tx, max_payload)
            })
            .expect("spawning the journal reader");
        Self { ring, thread: Some(thread), scratch: Vec::new() }
    }

    /// Hands the next record to `f` (its payload in place, or made whole when the ring cuts it).
    /// After [`Feed::Done`] it must not be called again.
    pub fn next<T>(&mut self, f: impl FnOnce(FeedRecord<'_>) -> T) -> Feed<T> {
        let scratch = &mut self.scratch;
        let got = rings::with_frame(&mut self.ring, |a, b| {
            let whole: &[u8] = if b.is_empty() {
                a
            } else {
                scratch.clear();
                scratch.extend_from_slice(a);
                scratch.extend_from_slice(b);
                scratch
            };
            let seq = u64::from_le_bytes(whole[1..FEED_HEAD].try_into().expect("8 bytes"));
            Ok::<_, std::convert::Infallible>(f(FeedRecord { seq, kind: whole[0], payload: &whole[FEED_HEAD..] }))
        });
        match got {
            Some(Ok(t)) => Feed::Record(t),
            Some(Err(never)) => match never {},
            None => {
                // The thread finishes only after its last push: a ring still empty once it has
                // finished holds nothing more.
                if self.thread.as_ref().is_some_and(|t| t.is_finished()) && self.ring.is_empty() {
                    let outcome = self.thread.take().expect("checked").join().expect("the reader aborts on panic");
                    return Feed::Done(outcome);
                }
                Feed::Empty
            }
        }
    }
}

/// The reading thread: every record of `reader` into `tx`, waiting while the ring is full;
/// stops early (the outcome is then of no use) when the feed was dropped.
fn feed(reader: JournalReader, mut tx: Producer<u8>, max_payload: usize) -> Result<ReadOutcome, JournalError> {
    let mut frame = Vec::with_capacity(FEED_HEAD + 4096);
    let mut too_large = None;
    let outcome = reader.read(|r| {
        if tx.is_abandoned() || too_large.is_some() {
            return;
        }
        if r.payload.len() > max_payload {
            too_large = Some(JournalError::RecordTooLarge { seq: r.seq, len: r.payload.len(), max: max_payload });
            return;
        }
        frame.clear();
        frame.push(r.kind);
        frame.extend_from_slice(&r.seq.to_le_bytes());
        frame.extend_from_slice(r.payload);
        let mut waits = 0u32;
        while !rings::push_frame(&mut tx, &frame) {
            if tx.is_abandoned() {
                return;
            }
            waits += 1;
            if waits < 64 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
        }
    });
    match too_large {
        Some(e) => Err(e),
        None => outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::{FsyncPolicy, JournalWriter};

    #[test]
    fn a_feed_delivers_every_record_in_order_then_the_outcome() {
        let tmp = tempfile::Builder::new().prefix("fxrecon-feed-").tempdir().unwrap();
        let dir = tmp.path();
        {
            let mut w = JournalWriter::open(dir, 1 << 20, FsyncPolicy::Never).unwrap();
            for i in 0..2000u32 {
                w.append((i % 3) as u8 + 1, format!("record {i} {}", "x".repeat(i as usize % 300)).as_bytes()).unwrap();
            }
            w.sync().unwrap();
        }
        // A small ring: records wrap around its end and the reader waits for room.
        let mut feed = RecordFeed::start(JournalReader::new(dir, false), 0, 400);
        let mut seen = 0u64;
        let outcome = loop {
            match feed.next(|r| (r.seq, r.kind, String::from_utf8(r.payload.to_vec()).unwrap())) {
                Feed::Record((seq, kind, text)) => {
                    assert_eq!(seq, seen);
                    assert_eq!(kind, (seen % 3) as u8 + 1);
                    assert!(text.starts_with(&format!("record {seen} ")), "{text}");
                    seen += 1;
                }
                Feed::Empty => std::thread::yield_now(),
                Feed::Done(outcome) => break outcome.unwrap(),
            }
        };
        assert_eq!((seen, outcome.records), (2000, 2000));
    }
}
