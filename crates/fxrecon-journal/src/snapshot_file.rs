//! Snapshot files: the whole canonical state at one journal position, so recovery replays only
//! the journal after it.
//!
//! Owns: the file format, writing it atomically (temporary file, fsync, rename), finding and
//! checking snapshots, and pruning old ones. A snapshot's payload is a [`SnapshotHeader`]
//! followed by the reconciler's own encoding; what that holds is the core's business.
//!
//! File `snapshot-<consumed, 16 digits>.snap` (little-endian): magic `FXRS`, version u16 = 2,
//! reserved u16, payload length u64, payload CRC32C u32, payload.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use fxrecon_core::snapshot::{SnapReader, SnapWriter, SnapshotError};

use crate::position::StreamPosition;

const MAGIC: &[u8; 4] = b"FXRS";
/// 2: the store's free execution records are one linked list (was a list of indices). A
/// snapshot of another version is skipped: recovery replays from an older one or the start.
const VERSION: u16 = 2;
const HEAD: usize = 4 + 2 + 2 + 8 + 4;

/// Where a snapshot stands in the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotHeader {
    /// Messages (events and rejects) consumed when it was taken: the journal records it covers.
    pub consumed: u64,
    /// Rejects among them.
    pub rejects: u64,
    /// Records emitted so far (the last output id).
    pub records_emitted: u64,
    /// Where each input stood.
    pub streams: [StreamPosition; 2],
}

impl SnapshotHeader {
    /// Writes the header (first part of a payload).
    pub fn save(&self, w: &mut SnapWriter<'_>) {
        w.put(&self.consumed).put(&self.rejects).put(&self.records_emitted);
        for s in &self.streams {
            w.put(&s.lines).put(&s.clock);
        }
    }

    /// Reads a header written by [`SnapshotHeader::save`].
    pub fn load(r: &mut SnapReader<'_>) -> Result<Self, SnapshotError> {
        let (consumed, rejects, records_emitted) = (r.get()?, r.get()?, r.get()?);
        let mut streams = [StreamPosition::default(); 2];
        for s in &mut streams {
            *s = StreamPosition { lines: r.get()?, clock: r.get()? };
        }
        Ok(Self { consumed, rejects, records_emitted, streams })
    }
}

/// File name of the snapshot taken after `consumed` messages.
pub fn file_name(consumed: u64) -> String {
    format!("snapshot-{consumed:016}.snap")
}

fn consumed_of(name: &str) -> Option<u64> {
    name.strip_prefix("snapshot-")?.strip_suffix(".snap")?.parse().ok()
}

/// Snapshots in `dir`, newest (most consumed) first.
pub fn list(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut v: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(|e| {
            let e = e.ok()?;
            consumed_of(&e.file_name().to_string_lossy()).map(|c| (c, e.path()))
        })
        .collect();
    v.sort_unstable_by_key(|x| std::cmp::Reverse(x.0));
    Ok(v)
}

/// Writes `payload` as the snapshot after `consumed` messages: to a temporary file, synced,
/// then renamed into place, so a crash leaves either the whole snapshot or none.
pub fn write(dir: &Path, consumed: u64, payload: &[u8]) -> io::Result<PathBuf> {
    let path = dir.join(file_name(consumed));
    let tmp = dir.join(format!("{}.tmp", file_name(consumed)));
    let mut head = [0u8; HEAD];
    head[..4].copy_from_slice(MAGIC);
    head[4..6].copy_from_slice(&VERSION.to_le_bytes());
    head[8..16].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    head[16..20].copy_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    let mut f = File::create(&tmp)?;
    f.write_all(&head)?;
    f.write_all(payload)?;
    f.sync_data()?;
    drop(f);
    std::fs::rename(&tmp, &path)?;
    // The rename itself must survive a power loss too.
    File::open(dir)?.sync_all()?;
    Ok(path)
}

/// Reads a snapshot file and checks it; returns its payload or why it cannot be used.
pub fn read(path: &Path) -> Result<Vec<u8>, &'static str> {
    let data = std::fs::read(path).map_err(|_| "unreadable")?;
    if data.len() < HEAD || &data[..4] != MAGIC {
        return Err("not a snapshot");
    }
    if data[4..6] != VERSION.to_le_bytes() {
        return Err("unsupported snapshot version");
    }
    let len = u64::from_le_bytes(data[8..16].try_into().expect("8 bytes"));
    let crc = u32::from_le_bytes(data[16..20].try_into().expect("4 bytes"));
    if data.len() as u64 - HEAD as u64 != len {
        return Err("length mismatch");
    }
    let payload = &data[HEAD..];
    if crc32c::crc32c(payload) != crc {
        return Err("CRC32C mismatch");
    }
    Ok(payload.to_vec())
}

/// Removes all but the `keep` newest snapshots (and leftover temporary files).
pub fn prune(dir: &Path, keep: usize) -> io::Result<()> {
    for (_, path) in list(dir)?.into_iter().skip(keep.max(1)) {
        std::fs::remove_file(path)?;
    }
    remove_temporaries(dir)
}

/// Removes the temporary files of snapshots whose writing was cut short (a kill mid-write).
pub fn remove_temporaries(dir: &Path) -> io::Result<()> {
    for e in std::fs::read_dir(dir)?.flatten() {
        if e.file_name().to_string_lossy().ends_with(".snap.tmp") {
            let _ = std::fs::remove_file(e.path());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use fxrecon_core::time::Micros;

    #[test]
    fn write_read_damage_and_prune() {
        let tmp = tempfile::Builder::new().prefix("fxrecon-snap-").tempdir().unwrap();
        let dir = tmp.path();
        let h = SnapshotHeader {
            consumed: 10,
            rejects: 1,
            records_emitted: 3,
            streams: [StreamPosition { lines: 6, clock: Micros(5) }, StreamPosition { lines: 5, clock: Micros(4) }],
        };
        let mut payload = Vec::new();
        h.save(&mut SnapWriter::new(&mut payload));
        payload.extend_from_slice(b"state");
        for c in [10, 20, 30, 40] {
            write(dir, c, &payload).unwrap();
        }
        let got = read(&list(dir).unwrap()[0].1).unwrap();
        let mut r = SnapReader::new(&got);
        assert_eq!(SnapshotHeader::load(&mut r).unwrap(), h);
        assert_eq!(r.bytes(5).unwrap(), b"state");
        prune(dir, 2).unwrap();
        assert_eq!(list(dir).unwrap().iter().map(|x| x.0).collect::<Vec<_>>(), vec![40, 30]);
        // A flipped bit is caught.
        let p = dir.join(file_name(40));
        let mut data = std::fs::read(&p).unwrap();
        let last = data.len() - 1;
        data[last] ^= 1;
        std::fs::write(&p, data).unwrap();
        assert_eq!(read(&p), Err("CRC32C mismatch"));
    }
}
