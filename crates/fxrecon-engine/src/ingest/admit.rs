//! The one decode / stamp / quarantine path: what turns a message's bytes into an event with
//! its event time, or into a reject with its reason. Every input goes through it: live
//! sources (through the ingest agent) and the journal on replay (with the times it recorded).
//!
//! Owns: the contract's clock rules for one stream (the arrival prefix, else SendingTime, for
//! file time; the receive stamp for live time; a time that goes backwards is clamped to the
//! stream's clock) and which messages are rejected and why. Never allocates.

use fxrecon_core::event::{ExecEvent, Stream};
use fxrecon_core::fix::{DecodeError, decode};
use fxrecon_core::quarantine::{RejectNote, RejectReason};
use fxrecon_core::time::Micros;

/// Where an admitted message's event time comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// The message's own time: its arrival prefix, else its SendingTime (file inputs).
    File,
    /// A time given with it: the ingest clock on arrival (live) or the time a journal holds.
    At(Micros),
}

/// What one message turned out to be (a return value, never stored: its size does not matter).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, PartialEq, Eq)]
pub enum Admitted {
    /// A usable message: the event was written, with stream, line and event time.
    Event,
    /// A blank line: skipped, neither event nor reject.
    Blank,
    /// Not usable: quarantined with this note.
    Reject(RejectNote),
}

/// One stream's admission: its clock and the rules above.
#[derive(Clone, Copy, Debug)]
pub struct Admission {
    stream: Stream,
    clock: Micros,
}

impl Admission {
    /// Admission for `stream`, whose clock is at `clock` (`Micros(i64::MIN)` at the start).
    pub fn new(stream: Stream, clock: Micros) -> Self {
        Self { stream, clock }
    }

    /// The stream's clock: the event time of the last event admitted.
    pub fn clock(&self) -> Micros {
        self.clock
    }

    /// Decodes message `line` of this stream into `ev` and stamps it.
    #[inline]
    pub fn admit(&mut self, line: u64, bytes: &[u8], stamp: Stamp, ev: &mut ExecEvent) -> Admitted {
        ev.stream = self.stream;
        ev.line = line;
        let reject = |reason| Admitted::Reject(RejectNote::new(self.stream, line, reason, bytes));
        match decode(bytes, ev) {
            Ok(()) => {}
            Err(DecodeError::Empty) => return Admitted::Blank,
            Err(e) => return reject(RejectReason::Decode(e)),
        }
        let t = match stamp {
            Stamp::At(t) => t.max(self.clock),
            Stamp::File => match ev.file_time(self.clock) {
                Ok(t) => t,
                Err(e) => return reject(RejectReason::Decode(e)),
            },
        };
        self.clock = t;
        ev.event_time = t;
        Admitted::Event
    }

    /// The note of a message too long to keep (`head`: its first bytes, `len`: its length).
    pub fn too_long(&self, line: u64, head: &[u8], len: usize) -> RejectNote {
        RejectNote::new(self.stream, line, RejectReason::TooLong(len), head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_come_from_the_prefix_or_the_stamp_and_never_go_backwards() {
        let mut a = Admission::new(Stream::DropCopy, Micros(i64::MIN));
        let mut ev = ExecEvent::default();
        let er = |t: &str| format!("{t} : 8=FIX.4.4|35=8|34=1|49=V|56=F|11=A|17=E|150=0|39=0");
        assert_eq!(a.admit(1, er("20261125-13:33:20.000").as_bytes(), Stamp::File, &mut ev), Admitted::Event);
        let t1 = ev.event_time;
        assert_eq!((ev.stream, ev.line), (Stream::DropCopy, 1));
        // An earlier prefix is clamped to the stream's clock.
        assert_eq!(a.admit(2, er("20261125-13:33:19.000").as_bytes(), Stamp::File, &mut ev), Admitted::Event);
        assert_eq!(ev.event_time, t1);
        // A given stamp wins over the prefix, and is clamped too.
        assert_eq!(
            a.admit(3, er("20261125-13:33:21.000").as_bytes(), Stamp::At(Micros(t1.0 + 5)), &mut ev),
            Admitted::Event
        );
        assert_eq!(ev.event_time, Micros(t1.0 + 5));
        assert_eq!(a.clock(), Micros(t1.0 + 5));
    }

    #[test]
    fn blank_lines_are_skipped_and_bad_ones_quarantined_with_their_reason() {
        let mut a = Admission::new(Stream::Primary, Micros(i64::MIN));
        let mut ev = ExecEvent::default();
        assert_eq!(a.admit(1, b"   ", Stamp::File, &mut ev), Admitted::Blank);
        let Admitted::Reject(note) = a.admit(2, b"garbage", Stamp::File, &mut ev) else { panic!() };
        assert_eq!((note.stream, note.line), (Stream::Primary, 2));
        assert_eq!(note.reason.to_string(), "no BeginString (8=FIX...) found");
        assert_eq!(note.excerpt.as_str(), "garbage");
        // No prefix and no SendingTime: no event time.
        let Admitted::Reject(note) = a.admit(3, b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0", Stamp::File, &mut ev) else {
            panic!()
        };
        assert_eq!(note.reason, RejectReason::Decode(DecodeError::NoTime));
        assert_eq!(
            a.too_long(4, b"8=FIX", 70_000).reason.to_string(),
            "message is 70000 bytes, longer than max_message_bytes"
        );
    }
}
