//! Payloads of the journal's records: what the reconciler consumed, enough to replay it.
//!
//! Layouts (little-endian):
//! - event (kind 1): stream u8; line u64; event_time i64 (µs, the ingest stamp in live mode);
//!   raw FIX bytes (the rest). Replay hands the raw bytes to the same ingest path as a live
//!   run, with the journaled stream, line and event time, so it sees exactly the event the
//!   live run applied. This module never decodes FIX.
//! - reject (kind 2): stream u8; line u64; reason length u16; reason (UTF-8); excerpt (rest).
//! - run header (kind 3, the journal's first record): the run's rules as JSON, so a replay or a
//!   recovery uses the rules the journal was written with (what they are is the caller's).
//! - end of input (kind 4, empty): both inputs ended here and every pending check fired (the
//!   end-of-day flush), so a replay flushes exactly where the run did. It counts as a consumed
//!   message: the records the flush emitted are written once it is journaled.

use fxrecon_core::event::Stream;
use fxrecon_core::time::Micros;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Record kind of an event record.
pub const KIND_EVENT: u8 = 1;
/// Record kind of a rejected input line.
pub const KIND_REJECT: u8 = 2;
/// Record kind of the run header (first record of a journal).
pub const KIND_HEADER: u8 = 3;
/// Record kind of the end of both inputs (the end-of-day flush).
pub const KIND_END_OF_INPUT: u8 = 4;
/// Bytes of an event record before its raw FIX bytes.
pub const HEAD: usize = 1 + 8 + 8;

/// The fixed head of an event record (the raw FIX bytes follow it).
pub fn event_head(stream: Stream, line: u64, event_time: Micros) -> [u8; HEAD] {
    let mut h = [0u8; HEAD];
    h[0] = stream as u8;
    h[1..9].copy_from_slice(&line.to_le_bytes());
    h[9..17].copy_from_slice(&event_time.0.to_le_bytes());
    h
}

/// Encodes an event's metadata and raw bytes into `buf` (cleared first).
pub fn encode(stream: Stream, line: u64, event_time: Micros, raw: &[u8], buf: &mut Vec<u8>) {
    buf.clear();
    buf.extend_from_slice(&event_head(stream, line, event_time));
    buf.extend_from_slice(raw);
}

/// The stream, line and event time of an event payload, without decoding its FIX bytes.
pub fn event_position(payload: &[u8]) -> Result<(Stream, u64, Micros), EventRecordError> {
    if payload.len() < HEAD {
        return Err(EventRecordError::Short);
    }
    let line = u64::from_le_bytes(payload[1..9].try_into().expect("8 bytes"));
    let t = i64::from_le_bytes(payload[9..17].try_into().expect("8 bytes"));
    Ok((stream_of(payload[0])?, line, Micros(t)))
}

fn stream_of(b: u8) -> Result<Stream, EventRecordError> {
    match b {
        0 => Ok(Stream::Primary),
        1 => Ok(Stream::DropCopy),
        _ => Err(EventRecordError::Stream),
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct RunHeader<T> {
    format: u32,
    config: T,
}

/// Encodes the run header: the rules the journal is written with.
pub fn encode_header<T: Serialize>(rules: &T) -> Vec<u8> {
    serde_json::to_vec(&RunHeader { format: 2, config: rules }).expect("rules always serialise")
}

/// Reads the rules back from a run header.
pub fn decode_header<T: DeserializeOwned>(payload: &[u8]) -> Result<T, EventRecordError> {
    let h: RunHeader<T> = serde_json::from_slice(payload).map_err(|_| EventRecordError::Header)?;
    if h.format != 2 {
        return Err(EventRecordError::Header);
    }
    Ok(h.config)
}

/// A rejected line as journaled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectEntry<'a> {
    /// Stream of the input.
    pub stream: Stream,
    /// Line number (0: the input as a whole).
    pub line: u64,
    /// The reason as written to the rejects output.
    pub reason: &'a str,
    /// First bytes of the line.
    pub excerpt: &'a [u8],
}

/// Encodes a rejected line into `buf` (cleared first).
pub fn encode_reject(stream: Stream, line: u64, reason: &str, excerpt: &[u8], buf: &mut Vec<u8>) {
    let reason = &reason.as_bytes()[..reason.len().min(u16::MAX as usize)];
    buf.clear();
    buf.push(stream as u8);
    buf.extend_from_slice(&line.to_le_bytes());
    buf.extend_from_slice(&(reason.len() as u16).to_le_bytes());
    buf.extend_from_slice(reason);
    buf.extend_from_slice(excerpt);
}

/// Reads a reject payload back.
pub fn decode_reject(payload: &[u8]) -> Result<RejectEntry<'_>, EventRecordError> {
    if payload.len() < 11 {
        return Err(EventRecordError::Short);
    }
    let stream = stream_of(payload[0])?;
    let line = u64::from_le_bytes(payload[1..9].try_into().expect("8 bytes"));
    let n = u16::from_le_bytes(payload[9..11].try_into().expect("2 bytes")) as usize;
    let reason = payload.get(11..11 + n).ok_or(EventRecordError::Short)?;
    let reason = std::str::from_utf8(reason).map_err(|_| EventRecordError::Short)?;
    Ok(RejectEntry { stream, line, reason, excerpt: &payload[11 + n..] })
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
    /// The run header is not a configuration this build understands.
    #[error("journal run header is not readable")]
    Header,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_round_trips_through_a_payload() {
        let fix = b"8=FIX.4.4|35=8|34=7|49=V|56=F|11=A|17=E|150=0|39=0|38=100";
        let mut buf = Vec::new();
        encode(Stream::DropCopy, 42, Micros(1_700_000_000_123_456), fix, &mut buf);
        assert_eq!(event_position(&buf), Ok((Stream::DropCopy, 42, Micros(1_700_000_000_123_456))));
        assert_eq!(raw(&buf), fix);
        assert_eq!(event_position(&buf[..5]), Err(EventRecordError::Short));
    }

    #[test]
    fn header_round_trips_the_rules() {
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Rules {
            grace_ms: i64,
        }
        let rules = Rules { grace_ms: 1500 };
        assert_eq!(decode_header::<Rules>(&encode_header(&rules)).unwrap(), rules);
        assert_eq!(decode_header::<Rules>(b"{}"), Err(EventRecordError::Header));
    }

    #[test]
    fn reject_round_trips_through_a_payload() {
        let mut buf = Vec::new();
        encode_reject(Stream::Primary, 7, "bad number in tag 38", b"8=FIX.4.4|38=x", &mut buf);
        let r = decode_reject(&buf).unwrap();
        assert_eq!(
            (r.stream, r.line, r.reason, r.excerpt),
            (Stream::Primary, 7, "bad number in tag 38", &b"8=FIX.4.4|38=x"[..])
        );
        assert_eq!(decode_reject(&buf[..12]), Err(EventRecordError::Short));
    }
}
