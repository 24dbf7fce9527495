//! Single-producer single-consumer rings between agents (the `rtrb` crate) and the ways of
//! pushing into them.
//!
//! Owns: backpressure (a full ring makes its producer wait or retry, counted by the caller;
//! nothing is ever dropped), producers that write in runs, length-prefixed byte frames in a
//! byte ring, and the stamped message frame the transports' threads hand their source over
//! (an arrival stamp, a length, the bytes; or the end of the input). Never allocates after a
//! ring is made.

pub use rtrb::{Consumer, Producer, PushError, RingBuffer};

/// Pushes `msg`, waiting while the ring is full (spin, then yield); returns the waits.
pub fn push_blocking<T>(p: &mut Producer<T>, msg: T) -> u64 {
    retry_push(msg, |m| p.push(m).map_err(|PushError::Full(back)| back))
}

/// Calls `try_push` until it takes `msg` (it gives the message back when it cannot): spins
/// for the first 128 refusals, then yields between tries. Returns the refusals.
fn retry_push<T>(mut msg: T, mut try_push: impl FnMut(T) -> Result<(), T>) -> u64 {
    let mut waits = 0u64;
    while let Err(back) = try_push(msg) {
        msg = back;
        waits += 1;
        if waits < 128 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
    waits
}

/// A producer for a source that is always ahead of its consumer (a journal replay): once it
/// finds the ring full it waits until an eighth is free again, so it writes in runs instead of
/// taking every slot the moment the consumer frees it (a cache-line handover per message).
pub struct RunProducer<T> {
    ring: Producer<T>,
    refilling: bool,
}

impl<T> RunProducer<T> {
    /// Wraps `ring`.
    pub fn new(ring: Producer<T>) -> Self {
        Self { ring, refilling: false }
    }

    /// Pushes `msg` unless the ring is full or still refilling; gives it back then.
    pub fn try_push(&mut self, msg: T) -> Result<(), T> {
        if self.refilling {
            if self.ring.slots() < (self.ring.buffer().capacity() / 8).max(1) {
                return Err(msg);
            }
            self.refilling = false;
        }
        self.ring.push(msg).map_err(|PushError::Full(back)| {
            self.refilling = true;
            back
        })
    }

    /// Pushes `msg`, spinning and then yielding while the ring refills; returns the waits.
    pub fn push(&mut self, msg: T) -> u64 {
        retry_push(msg, |m| self.try_push(m))
    }
}

/// Bytes of the length prefix of each frame in a byte ring.
pub const FRAME_PREFIX: usize = 4;

/// Writes one frame (length-prefixed bytes) into a byte ring; false when it does not fit (the
/// caller keeps it and retries: backpressure).
pub fn push_frame(ring: &mut Producer<u8>, frame: &[u8]) -> bool {
    if ring.slots() < FRAME_PREFIX + frame.len() {
        return false;
    }
    let pushed =
        ring.push_entire_slice(&(frame.len() as u32).to_le_bytes()).and_then(|()| ring.push_entire_slice(frame));
    debug_assert!(pushed.is_ok(), "space was checked");
    pushed.is_ok()
}

/// Hands the oldest frame of a byte ring to `f` in place, as up to two slices (the ring may
/// wrap inside it); the frame leaves the ring only when `f` returns `Ok`. None when no whole
/// frame is there.
pub fn with_frame<R, E>(ring: &mut Consumer<u8>, f: impl FnOnce(&[u8], &[u8]) -> Result<R, E>) -> Option<Result<R, E>> {
    let n = {
        let mut len = [0u8; FRAME_PREFIX];
        let chunk = ring.read_chunk(FRAME_PREFIX).ok()?;
        let (a, b) = chunk.as_slices();
        len[..a.len()].copy_from_slice(a);
        len[a.len()..].copy_from_slice(b);
        u32::from_le_bytes(len) as usize
    };
    let chunk = ring.read_chunk(FRAME_PREFIX + n).ok()?;
    let (a, b) = chunk.as_slices();
    // Drop the length prefix, which may straddle the two slices.
    let (a, b) =
        if a.len() >= FRAME_PREFIX { (&a[FRAME_PREFIX..], b) } else { (&[][..], &b[FRAME_PREFIX - a.len()..]) };
    let r = f(a, b);
    if r.is_ok() {
        chunk.commit_all();
    }
    Some(r)
}

/// Bytes before a message in a stamped frame: its arrival stamp (i64) and its length (u64).
pub const STAMP_HEADER: usize = 16;
/// The length of a stamped frame that says "the input ended".
const END_OF_INPUT: u64 = u64::MAX;

/// A stamped frame, as [`take_stamped`] found it (its bytes stay in the caller's buffer, after
/// [`STAMP_HEADER`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamped {
    /// A message: when it arrived and its whole length (more than the bytes kept when a
    /// message too long was cut).
    Message {
        /// Arrival stamp (µs).
        received: i64,
        /// The message's whole length.
        len: u64,
    },
    /// The input ended.
    End,
}

/// Writes a stamped frame of `body` (whose whole length is `len`) into `buf` (cleared), for
/// [`push_frame`].
pub fn stamp_frame(buf: &mut Vec<u8>, received: i64, len: u64, body: &[u8]) {
    buf.clear();
    buf.extend_from_slice(&received.to_le_bytes());
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(body);
}

/// Writes the stamped frame that ends the input into `buf` (cleared).
pub fn end_frame(buf: &mut Vec<u8>) {
    stamp_frame(buf, 0, END_OF_INPUT, &[]);
}

/// Takes the oldest stamped frame of `ring` into `buf` (the message's bytes at
/// `buf[STAMP_HEADER..]`); None when no whole frame is there.
pub fn take_stamped(ring: &mut Consumer<u8>, buf: &mut Vec<u8>) -> Option<Stamped> {
    with_frame(ring, |a, b| {
        buf.clear();
        buf.extend_from_slice(a);
        buf.extend_from_slice(b);
        Ok::<(), ()>(())
    })?
    .ok()?;
    let received = i64::from_le_bytes(buf[..8].try_into().expect("8 bytes"));
    let len = u64::from_le_bytes(buf[8..STAMP_HEADER].try_into().expect("8 bytes"));
    Some(if len == END_OF_INPUT { Stamped::End } else { Stamped::Message { received, len } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_producer_in_runs_waits_for_an_eighth_of_the_ring_once_it_is_full() {
        let (tx, mut rx) = RingBuffer::<u32>::new(16);
        let mut tx = RunProducer::new(tx);
        for i in 0..16 {
            assert_eq!(tx.try_push(i), Ok(()));
        }
        assert_eq!(tx.try_push(16), Err(16));
        assert_eq!(rx.pop(), Ok(0));
        // One free slot is less than an eighth (two): still refilling.
        assert_eq!(tx.try_push(16), Err(16));
        assert_eq!(rx.pop(), Ok(1));
        assert_eq!(tx.try_push(16), Ok(()));
        assert_eq!(tx.try_push(17), Ok(()));
        let rest: Vec<u32> = std::iter::from_fn(|| rx.pop().ok()).collect();
        assert_eq!(rest, (2..=17).collect::<Vec<_>>());
    }

    #[test]
    fn frames_cross_the_ring_whole_even_where_it_wraps() {
        let (mut tx, mut rx) = RingBuffer::<u8>::new(16);
        let joined = |rx: &mut Consumer<u8>| {
            with_frame(rx, |a, b| Ok::<_, ()>([a, b].concat())).map(|r| String::from_utf8(r.unwrap()).unwrap())
        };
        assert!(push_frame(&mut tx, b"hello"));
        assert!(!push_frame(&mut tx, b"much too long"), "9 + 17 bytes do not fit in 16");
        assert_eq!(joined(&mut rx).as_deref(), Some("hello"));
        // The next frames wrap around the end of the ring, prefix and body.
        assert!(push_frame(&mut tx, b"abcdefgh"));
        assert_eq!(joined(&mut rx).as_deref(), Some("abcdefgh"));
        assert!(push_frame(&mut tx, b"xy"));
        // A refused frame stays in the ring.
        assert_eq!(with_frame(&mut rx, |_, _| Err::<(), _>("not yet")), Some(Err("not yet")));
        assert_eq!(joined(&mut rx).as_deref(), Some("xy"));
        assert_eq!(joined(&mut rx), None);
        assert_eq!(push_blocking(&mut RingBuffer::<u8>::new(1).0, 7), 0);
    }

    #[test]
    fn stamped_frames_come_back_with_their_stamp_length_and_bytes_and_the_end() {
        let (mut tx, mut rx) = RingBuffer::<u8>::new(80);
        let mut buf = Vec::new();
        assert_eq!(take_stamped(&mut rx, &mut buf), None);
        for (t, body) in [(7i64, &b"8=FIX.4.4"[..]), (-3, b"")] {
            stamp_frame(&mut buf, t, body.len() as u64 + 5, body);
            assert!(push_frame(&mut tx, &buf));
        }
        end_frame(&mut buf);
        assert!(push_frame(&mut tx, &buf));
        let mut out = Vec::new();
        assert_eq!(take_stamped(&mut rx, &mut out), Some(Stamped::Message { received: 7, len: 14 }));
        assert_eq!(&out[STAMP_HEADER..], b"8=FIX.4.4");
        assert_eq!(take_stamped(&mut rx, &mut out), Some(Stamped::Message { received: -3, len: 5 }));
        assert_eq!(take_stamped(&mut rx, &mut out), Some(Stamped::End));
        assert_eq!(take_stamped(&mut rx, &mut out), None);
    }
}
