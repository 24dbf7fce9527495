//! Payload of an event record: what the reconciler consumed, enough to replay it.
//!
//! Layout (little-endian): kind tag 1; stream u8; line u64; event_time i64 (µs, the ingest
//! stamp in live mode); raw FIX bytes (the rest). Replay decodes the raw bytes again with the
//! same decoder and restores stream, line and event time, so it sees exactly the event the
//! live run applied.

use fxrecon_core::event::{ExecEvent, Stream};
use fxrecon_core::fix::{DecodeError, decode};
use fxrecon_core::time::Micros;

/// Record kind of an event record.
pub const KIND_EVENT: u8 = 1;
const HEAD: usize = 1 + 8 + 8;

/// Encodes an event's metadata and raw bytes into `buf` (cleared first).
pub fn encode(stream: Stream, line: u64, event_time: Micros, raw: &[u8], buf: &mut Vec<u8>) {
    buf.clear();
    buf.push(stream as u8);
    buf.extend_from_slice(&line.to_le_bytes());
    buf.extend_from_slice(&event_time.0.to_le_bytes());
    buf.extend_from_slice(raw);
}

/// The raw FIX bytes of an event payload (empty if the payload is too short).
pub fn raw(payload: &[u8]) -> &[u8] {
    payload.get(HEAD..).unwrap_or(&[])
}

/// Why a payload could not be turned back into an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EventRecordError {
    /// Shorter than the fixed head.
    #[error("event record shorter than its header")]
    Short,
    /// Unknown stream byte.
    #[error("event record with unknown stream")]
    Stream,
    /// The raw bytes no longer decode.
    #[error("journaled message does not decode: {0}")]
    Decode(DecodeError),
}

/// Rebuilds the event a live run applied from its payload.
pub fn decode_event(payload: &[u8], out: &mut ExecEvent) -> Result<(), EventRecordError> {
    if payload.len() < HEAD {
        return Err(EventRecordError::Short);
    }
    let stream = match payload[0] {
        0 => Stream::Primary,
        1 => Stream::DropCopy,
        _ => return Err(EventRecordError::Stream),
    };
    let line = u64::from_le_bytes(payload[1..9].try_into().expect("8 bytes"));
    let t = i64::from_le_bytes(payload[9..17].try_into().expect("8 bytes"));
    out.stream = stream;
    out.line = line;
    decode(&payload[HEAD..], out).map_err(EventRecordError::Decode)?;
    out.event_time = Micros(t);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_round_trips_through_a_payload() {
        let raw = b"8=FIX.4.4|35=8|34=7|49=V|56=F|11=A|17=E|150=0|39=0|38=100";
        let mut buf = Vec::new();
        encode(Stream::DropCopy, 42, Micros(1_700_000_000_123_456), raw, &mut buf);
        let mut ev = ExecEvent::default();
        decode_event(&buf, &mut ev).unwrap();
        assert_eq!((ev.stream, ev.line, ev.event_time), (Stream::DropCopy, 42, Micros(1_700_000_000_123_456)));
        assert_eq!(ev.cl_ord_id.as_str(), "A");
        assert_eq!(decode_event(&buf[..5], &mut ev), Err(EventRecordError::Short));
    }
}
