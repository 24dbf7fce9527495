//! Naming an Aeron stream: a channel URI and a stream id, with the defaults of contract 6.
//!
//! Owns: [`Endpoint`] and the default stream ids (1001 primary, 1002 drop copy, 2001 the
//! divergence output, all on `aeron:ipc`). Must never open anything.

use std::ffi::CString;
use std::fmt;

use crate::error::AeronError;

/// The default channel: shared memory on this host.
pub const DEFAULT_CHANNEL: &str = "aeron:ipc";
/// The default stream id of the primary execution stream.
pub const PRIMARY_STREAM_ID: i32 = 1001;
/// The default stream id of the drop-copy stream.
pub const DROPCOPY_STREAM_ID: i32 = 1002;
/// The default stream id of the divergence output.
pub const OUTPUT_STREAM_ID: i32 = 2001;

/// One Aeron stream: a channel and a stream id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The channel URI (`aeron:ipc`, `aeron:udp?endpoint=127.0.0.1:40123`).
    pub channel: String,
    /// The stream id.
    pub stream_id: i32,
}

impl Endpoint {
    /// The stream `stream_id` on `channel`.
    pub fn new(channel: impl Into<String>, stream_id: i32) -> Self {
        Self { channel: channel.into(), stream_id }
    }

    /// Whether `name` is an Aeron channel URI (how a command tells one from a path).
    pub fn is_channel(name: &str) -> bool {
        name.starts_with("aeron:")
    }

    /// The channel as the C library takes it.
    pub(crate) fn channel_c(&self) -> Result<CString, AeronError> {
        CString::new(self.channel.as_str())
            .map_err(|_| AeronError::Invalid { what: "channel", value: self.channel.clone() })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} stream {}", self.channel, self.stream_id)
    }
}
