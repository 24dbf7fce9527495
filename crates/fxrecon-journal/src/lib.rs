//! fxrecon-journal: the append-only journal of what the reconciler consumed, in consumption
//! order, in segment files of CRC32C-framed records; snapshots beside it; and reading it back
//! for replay and recovery.
//!
//! Owns: the on-disk formats (segments, records, snapshots), appending with rollover, group
//! commit and an fsync policy ([`segment`], [`write_behind`]), the writer agent fed by the
//! pipeline's rings ([`writer_agent`]), reading back with torn-tail and corruption detection
//! ([`segment`], [`replay`]), and recovery's journal side ([`recovery`]). Knows nothing of
//! transports, outputs or the API, and never decodes FIX: payloads are opaque bytes here (the
//! event payload layout is in [`record`]).
//!
//! Format (little-endian):
//! - segment file `journal-<index, 10 digits>.seg`, starting with a 24-byte header:
//!   magic `FXRJ`, version u16, reserved u16, segment index u64, first record number u64;
//! - then records: `len` u32 (payload bytes), `kind` u8, header CRC32C u32 (of len and kind),
//!   payload CRC32C u32 (of kind and payload), payload. A damaged header is corruption; only a
//!   frame cut short (or zeros) at the very end of the last segment is a torn tail.
#![deny(missing_docs)]

pub mod frame_crc;
pub mod position;
pub mod record;
pub mod recovery;
pub mod replay;
pub mod retention;
pub mod segment;
pub mod snapshot_file;
pub mod write_behind;
pub mod writer_agent;
