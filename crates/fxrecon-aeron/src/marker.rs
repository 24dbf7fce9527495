//! The end-of-stream marker: the one Aeron message that is not a FIX message.
//!
//! Owns: [`END_OF_STREAM`]. A publisher replaying a recorded log (`fxrecon publish`) ends its
//! stream with it, so a subscriber can end its input deterministically (a live feed never
//! sends it: its input ends at shutdown); the divergence sink sends it when its output closes.
//! Must never be a valid FIX message or a JSON object (it starts with a NUL byte).

/// The bytes of the end-of-stream message.
pub const END_OF_STREAM: &[u8] = b"\0fxrecon:end-of-stream";

/// Whether `msg` is the end-of-stream marker.
pub fn is_end_of_stream(msg: &[u8]) -> bool {
    msg == END_OF_STREAM
}
