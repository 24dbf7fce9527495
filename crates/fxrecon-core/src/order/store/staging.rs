//! The staging ring: retired records written ahead, when an order finishes (its records are in
//! cache then), and read back when it retires a retention later (docs/decisions.md D110).
//!
//! Owns: a ring of bytes reserved at construction, written in order and never split; a record
//! is readable until the writer comes round over it (then its order is encoded again when it
//! retires). A lossy cache only: it never decides anything, is in no snapshot and no digest,
//! and never allocates after construction.

use crate::time::Micros;

/// Bytes before each staged record: the event time it was encoded as retired at.
const HEADER: usize = 8;

/// Most bytes the ring reserves, whatever the store's size (a record that was written over is
/// encoded again at retirement: a smaller ring costs time, never correctness).
pub(super) const MAX_BYTES: usize = 8 << 20;

/// The staging ring.
#[derive(Debug, Default)]
pub(super) struct Staging {
    /// The ring (`cap` bytes reserved; filled as records come).
    bytes: Vec<u8>,
    cap: usize,
    /// Bytes written since construction (where the next record goes, before wrapping).
    pos: u64,
}

impl Staging {
    /// A ring of `bytes` bytes (0: off, nothing reserved).
    pub(super) fn with_capacity(bytes: usize) -> Self {
        Self { bytes: Vec::with_capacity(bytes), cap: bytes, pos: 0 }
    }

    /// True when records can be staged at all.
    #[inline]
    pub(super) fn is_on(&self) -> bool {
        self.cap > 0
    }

    /// Stages a record encoded as retired at `retired_at`: `write` writes it (in one pass) into
    /// the bytes it is given and returns its length, which may exceed them (then nothing was
    /// kept, and it is written again after the ring wraps). Returns its position and length;
    /// None when it would take more than an eighth of the ring.
    pub(super) fn stage(
        &mut self,
        retired_at: Micros,
        mut write: impl FnMut(&mut [u8]) -> usize,
    ) -> Option<(u64, u32)> {
        let most = self.cap / 8;
        if most <= HEADER {
            return None;
        }
        for _ in 0..2 {
            let at = (self.pos % self.cap as u64) as usize;
            let room = most.min(self.cap - at);
            if self.bytes.len() < at + room {
                self.bytes.resize(at + room, 0); // within the reservation: `at + room <= cap`
            }
            let len = if room > HEADER { write(&mut self.bytes[at + HEADER..at + room]) } else { usize::MAX };
            if len <= room - HEADER {
                self.bytes[at..at + HEADER].copy_from_slice(&retired_at.0.to_le_bytes());
                let start = self.pos;
                self.pos += (HEADER + len) as u64;
                return Some((start, len as u32));
            }
            if at == 0 || len.saturating_add(HEADER) > most {
                return None; // larger than the ring keeps
            }
            self.pos += (self.cap - at) as u64; // never split: the ring wraps first
        }
        None
    }

    /// The record of `len` bytes staged at `start` and the time it was encoded as retired at;
    /// None once the writer has come round over it.
    #[inline]
    pub(super) fn get(&self, start: u64, len: u32) -> Option<(&[u8], Micros)> {
        let total = HEADER as u64 + u64::from(len);
        if self.pos > start + self.cap as u64 || start + total > self.pos {
            return None;
        }
        let at = (start % self.cap as u64) as usize;
        let head: [u8; HEADER] = self.bytes[at..at + HEADER].try_into().ok()?;
        Some((&self.bytes[at + HEADER..at + total as usize], Micros(i64::from_le_bytes(head))))
    }

    /// Hints the cache lines of the record staged at `start` (`len` bytes).
    #[inline]
    pub(super) fn prefetch(&self, start: u64, len: u32) {
        if self.cap == 0 {
            return;
        }
        let at = ((start % self.cap as u64) as usize).min(self.bytes.len());
        let end = (at + HEADER + len as usize).min(self.bytes.len());
        crate::memhint::prefetch_lines(&self.bytes[at..end]);
    }

    /// Maps every page of the ring now (see `OrderStore::prefault`).
    pub(super) fn prefault(&mut self) {
        crate::memhint::prefault_pages(&mut self.bytes);
    }

    /// Forgets every staged record (a snapshot was loaded: the orders are new).
    pub(super) fn clear(&mut self) {
        self.pos += self.cap as u64 + 1;
    }
}
