//! The append-only journal: what the reconciler consumed, in consumption order, in segment
//! files of CRC32C-framed records.
//!
//! Owns: the on-disk format (segment header, record framing), appending with rollover and an
//! fsync policy, reading back with torn-tail and corruption detection, and the `verify` /
//! `dump` views. Knows nothing of reconciliation: payloads are opaque bytes here (the event
//! payload layout is in [`event_record`]).
//!
//! Format (little-endian):
//! - segment file `journal-<index, 10 digits>.seg`, starting with a 16-byte header:
//!   magic `FXRJ`, version u16 = 1, reserved u16, segment index u64;
//! - then records: `len` u32 (payload bytes), `kind` u8, header CRC32C u32 (of len and kind),
//!   payload CRC32C u32 (of kind and payload), payload. A damaged header is corruption; only a
//!   frame cut short (or zeros) at the very end of the last segment is a torn tail.

pub mod event_record;
pub mod frame_crc;
pub mod segment;
pub mod snapshot_file;
pub mod write_behind;

pub use segment::{FsyncPolicy, JournalError, JournalReader, JournalWriter, ReadOutcome, RecordRef};
