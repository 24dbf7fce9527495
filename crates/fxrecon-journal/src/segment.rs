//! Segment files: appending framed records with rollover and fsync policy; reading them back,
//! telling a torn final record (a crash mid-write: truncated, logged) from corruption before
//! the tail (an error naming segment and offset, unless salvaging).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const MAGIC: &[u8; 4] = b"FXRJ";
const VERSION: u16 = 2;
/// Bytes of a segment header.
pub const HEADER_LEN: usize = 24;
/// Bytes of a record frame before its payload: len u32, kind u8, header CRC u32, payload CRC u32.
pub const FRAME_LEN: usize = 13;
/// Largest payload accepted (a record larger than this is corruption).
pub const MAX_PAYLOAD: usize = 16 * 1024 * 1024;

/// When appended records are forced to disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// After every batch (group commit: one sync per batch, not per record).
    EveryBatch,
    /// At most this often.
    IntervalMs(u64),
    /// Never (the OS decides).
    Never,
}

impl std::str::FromStr for FsyncPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "every_batch" => Ok(FsyncPolicy::EveryBatch),
            "never" => Ok(FsyncPolicy::Never),
            _ => s
                .strip_prefix("interval_ms:")
                .and_then(|n| n.parse().ok())
                .map(FsyncPolicy::IntervalMs)
                .ok_or_else(|| format!("unknown fsync policy {s:?} (every_batch, interval_ms:N, never)")),
        }
    }
}

/// Why a journal could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// An I/O error, with the file it concerned.
    #[error("journal I/O on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A record failed its checks before the tail of the journal.
    #[error("journal corrupt in segment {segment} at offset {offset}: {reason}")]
    Corrupt {
        /// Segment file name.
        segment: String,
        /// Byte offset of the bad record in that segment.
        offset: u64,
        /// What was wrong.
        reason: &'static str,
    },
    /// Segment indexes are not contiguous.
    #[error("journal segment {missing} is missing (found {before} and {after})")]
    MissingSegment {
        /// Expected segment file name.
        missing: String,
        /// The segment before the gap.
        before: String,
        /// The segment after the gap.
        after: String,
    },
    /// A record larger than the replay feed was sized for (the journal was written with a
    /// larger `max_message_bytes`, or is not what it claims).
    #[error("journal record {seq} has {len} payload bytes, more than the replay allows ({max})")]
    RecordTooLarge {
        /// The record's position in the journal.
        seq: u64,
        /// Its payload bytes.
        len: usize,
        /// The most the replay was sized for.
        max: usize,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> JournalError + '_ {
    move |source| JournalError::Io { path: path.to_path_buf(), source }
}

/// File name of segment `index`.
pub fn segment_name(index: u64) -> String {
    format!("journal-{index:010}.seg")
}

fn segment_index(name: &str) -> Option<u64> {
    name.strip_prefix("journal-")?.strip_suffix(".seg")?.parse().ok()
}

/// Segment indexes present in `dir`, sorted.
pub fn list_segments(dir: &Path) -> Result<Vec<u64>, JournalError> {
    let mut v: Vec<u64> = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .filter_map(|e| e.ok().and_then(|e| segment_index(&e.file_name().to_string_lossy())))
        .collect();
    v.sort_unstable();
    Ok(v)
}

fn header(index: u64, first_record: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..4].copy_from_slice(MAGIC);
    h[4..6].copy_from_slice(&VERSION.to_le_bytes());
    h[8..16].copy_from_slice(&index.to_le_bytes());
    h[16..24].copy_from_slice(&first_record.to_le_bytes());
    h
}

use crate::frame_crc::{header_crc, record_crc as crc_of, record_crc_parts};
use crate::write_behind::{Done, Job, WriteBehind};

/// Appends records to segment files in a directory.
///
/// Records are framed into an in-memory batch buffer; a full batch (or the end of one, by the
/// agent's group commit) is handed to a write-behind thread ([`WriteBehind`]) that writes it,
/// and syncs it when the fsync policy says so, while the next batch fills the other buffer.
/// One batch is in flight at a time. A failed write is cut back off the file and its batch
/// kept, so it is written again, before anything newer, on the next call: nothing accepted is
/// lost and no half-written frame is left behind. The two buffers are allocated at open;
/// appending and writing never allocate; rolling over to a new segment does (its path).
///
/// Where the file system allows it, batches are written with `O_DIRECT` (D31): no copy into
/// the page cache and no writeback, which on this machine cost more CPU than the journal's
/// own work. Direct writes cover whole 4 KiB blocks from block-aligned memory, so each batch
/// starts with a copy of the file's last partial block (rewritten unchanged) and ends padded
/// with zeros; the padding is cut off at every sync the caller asks for and at close, and a
/// crash can leave at most one block of it, which reading treats as a torn tail.
pub struct JournalWriter {
    dir: PathBuf,
    segment_bytes: u64,
    fsync: FsyncPolicy,
    index: u64,
    /// The segment, buffered: headers, reads, cutting back.
    file: File,
    /// The segment opened with `O_DIRECT`, when the file system allows it.
    direct: Option<File>,
    /// Bytes of the current segment that are on file (written), padding not counted.
    offset: u64,
    /// Framed records not yet handed over, all destined for the current segment; in direct
    /// mode after `batch_start` bytes of alignment filler and the file's last partial block.
    batch: Vec<u8>,
    /// Where this batch's records start in `batch`.
    batch_start: usize,
    /// Where its block-aligned part starts (direct mode; 0 otherwise).
    batch_pad: usize,
    /// The second buffer, while no batch is in flight.
    spare: Option<Vec<u8>>,
    /// The batch being written.
    in_flight: Option<InFlight>,
    /// A batch whose write failed: first in line.
    failed: Option<(Vec<u8>, InFlight)>,
    /// Records on file plus records in flight, failed or batched, over the whole journal.
    records: u64,
    /// Record bytes (frames and payloads) appended by this writer.
    appended_bytes: u64,
    /// Records on file over the whole journal.
    written_records: u64,
    /// When the last sync was asked for.
    last_sync: Instant,
    /// Bytes were written (or are being written) since the last sync was asked for.
    dirty: bool,
    /// The write-behind thread (None: it could not be started; jobs then run inline).
    io: Option<WriteBehind>,
    /// An inline job's outcome, until collected.
    inline_done: Option<Done>,
    /// Syncs completed (by the policy or asked for).
    syncs: u64,
    /// The batch in flight is a retry of a failed one.
    retrying: bool,
    /// Tests: fail this many of the next writes.
    #[cfg(test)]
    fail_writes: u32,
    /// Write with `O_DIRECT` where the file system allows it ([`Self::direct_io`]).
    want_direct: bool,
}

/// What a batch handed over writes, and what it adds once written.
#[derive(Clone, Copy, Debug)]
struct InFlight {
    /// The part of the buffer written.
    range: (usize, usize),
    /// Where in the file it goes.
    file_offset: u64,
    /// Whether it goes through the `O_DIRECT` handle.
    direct: bool,
    /// Record bytes it adds to the segment.
    logical_len: u64,
    /// The journal's record count once it is written.
    records_after: u64,
}

/// Batch size: a batch is handed over when it would grow beyond this. The agent's group
/// commit hands batches over long before (256 KiB or 200 µs); the rest is room to go on
/// appending while the previous batch is written and synced (8 MiB: about 24,000 messages of
/// the bench day, 12 ms at 2M msgs/s), so a slow sync seldom holds up the journal thread.
const BATCH_BYTES: usize = 8 << 20;
/// Direct I/O block (and memory alignment) size.
const BLOCK: usize = 4096;
/// Each buffer's allocation: a batch plus alignment filler, the partial block it starts with
/// and the padding it ends with.
const BUFFER_BYTES: usize = BATCH_BYTES + 3 * BLOCK;

/// The segment at `path` opened for direct writes, if the file system allows it.
fn open_direct(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new().write(true).custom_flags(libc::O_DIRECT).open(path).ok()
}

impl JournalWriter {
    /// Opens `dir` for appending: verifies it, truncates a torn final record (logged), and
    /// continues the last segment (or starts segment 0 in an empty directory).
    pub fn open(dir: &Path, segment_bytes: u64, fsync: FsyncPolicy) -> Result<Self, JournalError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        // Only the tail needs reading to find where to append: start at the last segment whose
        // header is whole (checking everything before it is recovery's and `verify`'s job).
        let segments = list_segments(dir)?;
        let from = segments.iter().rev().find_map(|&i| first_record_of(&dir.join(segment_name(i)), i)).unwrap_or(0);
        let outcome = JournalReader::new(dir, false).from_record(from).read(|_| {})?;
        let (index, offset) = outcome.end.unwrap_or((0, 0));
        let path = dir.join(segment_name(index));
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err(&path))?;
        let offset = if offset == 0 {
            file.set_len(0).map_err(io_err(&path))?;
            file.write_all_at(&header(index, outcome.records), 0).map_err(io_err(&path))?;
            HEADER_LEN as u64
        } else {
            if let Some(torn) = outcome.torn_tail {
                tracing::warn!(segment = %torn.0, offset = torn.1, "journal: torn final record truncated");
                file.set_len(offset).map_err(io_err(&path))?;
            }
            offset
        };
        Self::appending(dir, segment_bytes, fsync, (index, file, offset), outcome.records)
    }

    /// Opens `dir` for appending in a new segment after the last one, whose records are
    /// numbered from `first_record`: after a salvaged recovery, nothing is ever appended to a
    /// damaged segment (and the damage stays there for inspection).
    pub fn open_new_segment(
        dir: &Path,
        segment_bytes: u64,
        fsync: FsyncPolicy,
        first_record: u64,
    ) -> Result<Self, JournalError> {
        let index = list_segments(dir)?.last().map_or(0, |i| i + 1);
        let path = dir.join(segment_name(index));
        let mut file = OpenOptions::new().create_new(true).read(true).write(true).open(&path).map_err(io_err(&path))?;
        file.write_all(&header(index, first_record)).map_err(io_err(&path))?;
        file.sync_data().map_err(io_err(&path))?;
        Self::appending(dir, segment_bytes, fsync, (index, file, HEADER_LEN as u64), first_record)
    }

    /// A writer appending to segment `index` (open as `file`, written up to `offset`) of a
    /// journal holding `records` records.
    fn appending(
        dir: &Path,
        segment_bytes: u64,
        fsync: FsyncPolicy,
        at: (u64, File, u64),
        records: u64,
    ) -> Result<Self, JournalError> {
        let (index, file, offset) = at;
        let io = WriteBehind::spawn()
            .inspect_err(|e| tracing::warn!(error = %e, "journal: no write-behind thread; writing inline"))
            .ok();
        let mut w = Self {
            dir: dir.to_path_buf(),
            segment_bytes: segment_bytes.max(HEADER_LEN as u64 + 64),
            fsync,
            index,
            file,
            direct: None,
            offset,
            batch: Vec::with_capacity(BUFFER_BYTES),
            batch_start: 0,
            batch_pad: 0,
            spare: Some(Vec::with_capacity(BUFFER_BYTES)),
            in_flight: None,
            failed: None,
            records,
            appended_bytes: 0,
            written_records: records,
            last_sync: Instant::now(),
            dirty: false,
            io,
            inline_done: None,
            syncs: 0,
            retrying: false,
            #[cfg(test)]
            fail_writes: 0,
            want_direct: false,
        };
        w.start_segment()?;
        Ok(w)
    }

    /// Opens the current segment for direct writes (if it can be) and starts the batch with
    /// the segment's last partial block, read back from the file.
    fn start_segment(&mut self) -> Result<(), JournalError> {
        let path = self.path();
        // Until the head block is read, the batch goes buffered (a failed read leaves the
        // writer consistent: buffered, appending after the records it has).
        self.direct = None;
        let direct = if self.want_direct { open_direct(&path) } else { None };
        let mut head = [0u8; BLOCK];
        let head_len = self.offset as usize % BLOCK;
        if direct.is_some() {
            self.file.read_exact_at(&mut head[..head_len], self.offset - head_len as u64).map_err(io_err(&path))?;
        }
        self.direct = direct;
        let buf = std::mem::take(&mut self.batch);
        self.begin_batch(buf, &head[..head_len]);
        Ok(())
    }

    /// Makes `buf` the batch: in direct mode, alignment filler, then `head` (the bytes of the
    /// block the batch starts in that are already in the file, rewritten unchanged).
    fn begin_batch(&mut self, mut buf: Vec<u8>, head: &[u8]) {
        buf.clear();
        if self.direct.is_some() {
            let pad = buf.as_ptr().align_offset(BLOCK);
            buf.resize(pad, 0);
            buf.extend_from_slice(head);
            self.batch_pad = pad;
        } else {
            self.batch_pad = 0;
        }
        self.batch_start = buf.len();
        self.batch = buf;
    }

    /// Writes with `O_DIRECT` from now on, where the file system allows it (else buffered, as
    /// without this); call before appending.
    pub fn direct_io(mut self, on: bool) -> Result<Self, JournalError> {
        if on != self.want_direct {
            self.flush()?;
            self.want_direct = on;
            self.start_segment()?;
        }
        Ok(self)
    }

    /// Records in the journal, including those appended but not yet written.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Bytes appended but not yet handed over for writing.
    pub fn batched_bytes(&self) -> usize {
        self.batch.len() - self.batch_start
    }

    /// Record bytes (frames and payloads) appended by this writer, written or not yet.
    pub fn appended_bytes(&self) -> u64 {
        self.appended_bytes
    }

    /// Records written to the journal file (handed to the OS; on disk once synced).
    pub fn written_records(&self) -> u64 {
        self.written_records
    }

    /// The segment being written (it changes at each roll-over).
    pub fn segment_index(&self) -> u64 {
        self.index
    }

    /// The size at which a segment rolls over.
    pub fn segment_bytes(&self) -> u64 {
        self.segment_bytes
    }

    /// Syncs completed so far.
    pub fn syncs(&self) -> u64 {
        self.syncs
    }

    /// True when batches go to the file with `O_DIRECT`.
    pub fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// Appends one record.
    pub fn append(&mut self, kind: u8, payload: &[u8]) -> Result<(), JournalError> {
        self.append_parts(kind, &[payload])
    }

    /// Appends one record whose payload is the concatenation of `parts` (no copy into an
    /// intermediate buffer). Hands the batch over first when this record would overflow it
    /// (waiting only if the previous batch is still being written), and rolls over to a new
    /// segment when this one is full.
    pub fn append_parts(&mut self, kind: u8, parts: &[&[u8]]) -> Result<(), JournalError> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let frame = FRAME_LEN + len;
        // (Twice when a failed batch goes first: the batch must be empty before it grows.) The
        // policy's sync rides along as at a group commit: under sustained load every hand-over
        // can come from here.
        while self.batch.len() + frame > BATCH_BYTES && self.batched_bytes() > 0 {
            let sync = self.sync_due();
            self.hand_over(sync)?;
        }
        let at = self.offset + self.unwritten_bytes();
        if at + frame as u64 > self.segment_bytes && at > HEADER_LEN as u64 {
            self.flush()?;
            self.roll()?;
        }
        let mut head = [0u8; FRAME_LEN];
        head[..4].copy_from_slice(&(len as u32).to_le_bytes());
        head[4] = kind;
        let hcrc = header_crc(&head);
        head[5..9].copy_from_slice(&hcrc.to_le_bytes());
        // Checksummed where the parts lie, not read back from the batch (D41).
        head[9..13].copy_from_slice(&record_crc_parts(kind, parts).to_le_bytes());
        self.batch.extend_from_slice(&head);
        for p in parts {
            self.batch.extend_from_slice(p);
        }
        self.records += 1;
        self.appended_bytes += frame as u64;
        Ok(())
    }

    /// Record bytes appended to this segment but not yet on file.
    fn unwritten_bytes(&self) -> u64 {
        self.in_flight.map_or(0, |f| f.logical_len)
            + self.failed.as_ref().map_or(0, |f| f.1.logical_len)
            + self.batched_bytes() as u64
    }

    /// Collects the outcome of the batch in flight, waiting for it when `block`. A failed one
    /// is kept (first in line) and its error returned.
    pub fn poll(&mut self, block: bool) -> Result<(), JournalError> {
        let Some(flight) = self.in_flight else { return Ok(()) };
        let done = match &mut self.io {
            Some(io) => io.collect(block),
            None => self.inline_done.take(),
        };
        let Some(Done { mut buf, sync, result }) = done else { return Ok(()) };
        self.in_flight = None;
        self.retrying = false; // a failed retry is back in `failed`
        match result {
            Ok(()) => {
                self.offset += flight.logical_len;
                self.written_records = flight.records_after;
                if sync {
                    self.syncs += 1;
                }
                buf.clear();
                self.spare = Some(buf);
                Ok(())
            }
            Err(source) => {
                self.dirty = true; // whatever that sync was to cover is not known to be on disk
                let mut flight = flight;
                if flight.direct && source.raw_os_error() == Some(libc::EINVAL) {
                    // The file system took O_DIRECT at open but not these writes: go buffered,
                    // this batch's records (after its head block) included.
                    tracing::warn!(error = %source, "journal: direct writes refused; writing buffered");
                    self.direct = None;
                    self.want_direct = false;
                    let from = flight.range.0 + (self.offset % BLOCK as u64) as usize;
                    let range = (from, from + flight.logical_len as usize);
                    flight = InFlight { range, file_offset: self.offset, direct: false, ..flight };
                }
                if flight.logical_len == 0 {
                    buf.clear();
                    self.spare = Some(buf);
                } else {
                    self.failed = Some((buf, flight));
                }
                Err(JournalError::Io { path: self.path(), source })
            }
        }
    }

    /// Starts writing the next batch in line (a failed one first, else the current batch, which
    /// may be empty when only a sync is wanted), syncing after it when `sync`. Waits for the one
    /// in flight first.
    fn hand_over(&mut self, sync: bool) -> Result<(), JournalError> {
        self.poll(true)?;
        self.retrying = self.failed.is_some();
        let (buf, flight) = match self.failed.take() {
            Some(failed) => failed,
            None => self.seal_batch(),
        };
        let handle = if flight.direct { self.direct.as_ref().unwrap_or(&self.file) } else { &self.file };
        let file = match handle.try_clone() {
            Ok(f) => f,
            Err(source) => {
                self.failed = Some((buf, flight));
                return Err(JournalError::Io { path: self.path(), source });
            }
        };
        if flight.logical_len > 0 {
            self.dirty = true;
        }
        if sync {
            self.dirty = false;
            self.last_sync = Instant::now();
        }
        self.in_flight = Some(flight);
        let job = Job {
            file,
            buf,
            range: flight.range,
            offset: flight.file_offset,
            truncate_to: self.offset,
            sync,
            #[cfg(test)]
            fail: {
                let fail = self.fail_writes > 0;
                self.fail_writes = self.fail_writes.saturating_sub(1);
                fail
            },
        };
        match &mut self.io {
            Some(io) => io.submit(job),
            None => {
                self.inline_done = Some(job.run());
                return self.poll(false);
            }
        }
        Ok(())
    }

    /// Takes the current batch for writing and starts the next one in the spare buffer (which
    /// begins, in direct mode, with the block the sealed batch ends in).
    fn seal_batch(&mut self) -> (Vec<u8>, InFlight) {
        let spare = self.spare.take().expect("a spare buffer whenever nothing is in flight");
        let mut buf = std::mem::take(&mut self.batch);
        let logical_len = (buf.len() - self.batch_start) as u64;
        let end = buf.len();
        let tail_len = ((self.offset + logical_len) % BLOCK as u64) as usize;
        let pad = self.batch_pad;
        let mut tail = [0u8; BLOCK];
        if self.direct.is_some() {
            tail[..tail_len].copy_from_slice(&buf[end - tail_len..end]);
        }
        self.begin_batch(spare, &tail[..tail_len]);
        let records_after = self.records;
        // Direct: whole blocks from the block the batch starts in, zero-padded. A record longer
        // than a batch can grow the buffer, which may move it off its alignment: then that one
        // batch goes through the buffered handle.
        let padded = (end - pad).next_multiple_of(BLOCK);
        if self.direct.is_some() && logical_len > 0 {
            buf.resize(pad + padded, 0);
        }
        let direct = self.direct.is_some() && (buf.as_ptr() as usize + pad).is_multiple_of(BLOCK);
        let flight = if logical_len == 0 {
            InFlight { range: (0, 0), file_offset: self.offset, direct: false, logical_len, records_after }
        } else if direct {
            let file_offset = self.offset - (self.offset % BLOCK as u64);
            InFlight { range: (pad, pad + padded), file_offset, direct: true, logical_len, records_after }
        } else {
            let start = end - logical_len as usize;
            InFlight { range: (start, end), file_offset: self.offset, direct: false, logical_len, records_after }
        };
        (buf, flight)
    }

    /// Whether the fsync policy wants a sync with the next batch.
    fn sync_due(&self) -> bool {
        match self.fsync {
            FsyncPolicy::EveryBatch => true,
            FsyncPolicy::IntervalMs(ms) => self.last_sync.elapsed() >= Duration::from_millis(ms),
            FsyncPolicy::Never => false,
        }
    }

    /// True while an earlier write failed and its batch has not been written since (the
    /// journal's alarm stays raised until this clears).
    pub fn is_failing(&self) -> bool {
        self.failed.is_some() || self.retrying
    }

    /// Writes everything appended so far to the segment file, and returns once it is written.
    /// On failure the file is cut back to its last complete batch and the batch is kept, so the
    /// call can be retried.
    pub fn flush(&mut self) -> Result<(), JournalError> {
        while self.failed.is_some() || self.batched_bytes() > 0 || self.in_flight.is_some() {
            if self.failed.is_some() || self.batched_bytes() > 0 {
                self.hand_over(false)?;
            }
            self.poll(true)?;
        }
        Ok(())
    }

    /// End of a batch (group commit): hands it over for writing, with a sync after it when the
    /// policy says so, and returns without waiting for either; an earlier failure is reported
    /// here. While a batch is in flight, the records appended meanwhile wait for the next call.
    pub fn end_batch(&mut self) -> Result<(), JournalError> {
        self.poll(false)?;
        if self.in_flight.is_some() {
            return Ok(());
        }
        let sync = self.sync_due();
        let has_bytes = self.failed.is_some() || self.batched_bytes() > 0;
        if has_bytes || (sync && self.dirty) {
            self.hand_over(sync && (self.dirty || has_bytes))?;
        }
        Ok(())
    }

    /// Writes everything appended so far and forces it to disk, without the direct mode's
    /// padding; returns once it is there.
    pub fn sync(&mut self) -> Result<(), JournalError> {
        self.flush()?;
        self.cut_padding()?;
        self.hand_over(true)?;
        self.poll(true)
    }

    /// Cuts the direct mode's zero padding off the end of the file (nothing in flight).
    fn cut_padding(&mut self) -> Result<(), JournalError> {
        if self.direct.is_some() {
            self.file.set_len(self.offset).map_err(|source| JournalError::Io { path: self.path(), source })?;
        }
        Ok(())
    }

    /// True when written bytes await a sync, a failed batch awaits its retry, or a batch is in
    /// flight whose outcome [`Self::end_batch`] has to collect (a non-empty batch alone is the
    /// group commit's business: [`Self::batched_bytes`]).
    pub fn needs_sync(&self) -> bool {
        self.dirty || self.in_flight.is_some() || self.failed.is_some()
    }

    /// The current segment's path (built only for errors and rollover: it allocates).
    fn path(&self) -> PathBuf {
        self.dir.join(segment_name(self.index))
    }

    fn roll(&mut self) -> Result<(), JournalError> {
        self.sync()?;
        let path = self.dir.join(segment_name(self.index + 1));
        let file =
            OpenOptions::new().create(true).read(true).write(true).truncate(true).open(&path).map_err(io_err(&path))?;
        if let Err(source) = file.write_all_at(&header(self.index + 1, self.written_records), 0) {
            let _ = std::fs::remove_file(&path);
            return Err(JournalError::Io { path, source });
        }
        self.index += 1;
        self.offset = HEADER_LEN as u64;
        self.file = file;
        self.start_segment()
    }
}

impl Drop for JournalWriter {
    /// Writes what is still batched and cuts the padding off (best effort: a writer dropped on
    /// an error path has already reported it).
    fn drop(&mut self) {
        if let Err(e) = self.flush().and_then(|()| self.cut_padding()) {
            tracing::error!(error = %e, "journal: batched records could not be written at close");
        }
    }
}

/// One record read back.
#[derive(Debug)]
pub struct RecordRef<'a> {
    /// Position of the record in the whole journal (0 = the first record ever written).
    pub seq: u64,
    /// Segment index.
    pub segment: u64,
    /// Byte offset of the frame in its segment.
    pub offset: u64,
    /// Record kind.
    pub kind: u8,
    /// Payload bytes.
    pub payload: &'a [u8],
}

/// What a read found.
#[derive(Debug, Default)]
pub struct ReadOutcome {
    /// Segments read.
    pub segments: u64,
    /// Records in the journal up to the end of what was read (the position after the last
    /// valid record: with `from_record`, records before it count too).
    pub records: u64,
    /// (segment, offset) just after the last valid record.
    pub end: Option<(u64, u64)>,
    /// A torn final record: (segment file, offset).
    pub torn_tail: Option<(String, u64)>,
    /// Corruptions skipped in salvage mode: (segment file, offset, reason).
    pub salvaged: Vec<(String, u64, &'static str)>,
}

/// Reads a journal directory in order.
pub struct JournalReader {
    dir: PathBuf,
    salvage: bool,
    from: u64,
    /// Bytes per read, and bytes each read repeats of the one before (tests make them small).
    chunk: (usize, usize),
}

/// The number of the first record of segment `index` at `path` (from its header), if the
/// header is whole and valid.
pub fn segment_first_record(path: &Path, index: u64) -> Option<u64> {
    first_record_of(path, index)
}

/// Reads the `first_record` field of a segment's header, if the header is whole and valid.
fn first_record_of(path: &Path, index: u64) -> Option<u64> {
    use std::io::Read;
    let mut h = [0u8; HEADER_LEN];
    File::open(path).ok()?.read_exact(&mut h).ok()?;
    let ok = &h[..4] == MAGIC && h[4..6] == VERSION.to_le_bytes() && h[8..16] == index.to_le_bytes();
    ok.then(|| u64::from_le_bytes(h[16..24].try_into().expect("8 bytes")))
}

/// How far ahead of the frame it checks the reader hints the segment's bytes.
const READ_AHEAD: usize = 2048;

/// Bytes one read brings in of a segment (a whole segment, 256 MiB, was read at once before:
/// two such buffers were most of a replay's memory, D44).
const CHUNK_BYTES: usize = 8 << 20;
/// Bytes each read repeats of the one before it, so a frame that the end of a chunk cuts is
/// whole in the next one (frames up to this size; a larger one is read on its own).
const OVERLAP_BYTES: usize = 128 << 10;

/// A segment file open for reading: `O_DIRECT` where the file system takes it (no page-cache
/// copy: a journal reads as fast from disk as from cache, D33), buffered where it does not
/// (tmpfs). Its size is the one it had at open: a read never sees further.
struct SegmentFile {
    path: PathBuf,
    file: File,
    /// `file` was opened with `O_DIRECT`.
    opened_direct: bool,
    /// Direct reads still work (a file system may refuse them only at the first read).
    direct: AtomicBool,
    size: u64,
}

/// Bytes of a segment from a (block-aligned) offset, in a block-aligned buffer.
struct Chunk {
    buf: Vec<u8>,
    /// Where the bytes lie in `buf`.
    data: std::ops::Range<usize>,
    /// File offset of the first byte.
    at: u64,
    /// The segment goes on after the last byte.
    more: bool,
}

impl Chunk {
    /// File offset just after the last byte.
    fn end(&self) -> u64 {
        self.at + self.data.len() as u64
    }

    /// The bytes from file offset `pos` (`at <= pos`) to the end of the chunk; none when `pos`
    /// is past its end (a file cut shorter since it was opened).
    fn from(&self, pos: u64) -> &[u8] {
        let i = (pos - self.at) as usize;
        &self.buf[(self.data.start + i).min(self.data.end)..self.data.end]
    }
}

impl SegmentFile {
    fn open(path: PathBuf) -> io::Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        let (file, direct) = match OpenOptions::new().read(true).custom_flags(libc::O_DIRECT).open(&path) {
            Ok(f) => (f, true),
            // The file system has no direct I/O; any other failure is the file's own.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => (File::open(&path)?, false),
            Err(e) => return Err(e),
        };
        let size = file.metadata()?.len();
        Ok(Self { path, file, opened_direct: direct, direct: AtomicBool::new(direct), size })
    }

    /// Reads `len` bytes from the block-aligned offset `at` (fewer at the end of the segment)
    /// into `buf`, which it reuses when it is large enough.
    fn read(&self, mut buf: Vec<u8>, at: u64, len: usize) -> io::Result<Chunk> {
        let asked = (at.saturating_add(len as u64).min(self.size).saturating_sub(at)) as usize;
        let want = asked.next_multiple_of(BLOCK);
        if buf.len() < want + BLOCK {
            // Zeroed once; later reads reuse it.
            buf = vec![0u8; want + BLOCK];
        }
        let base = buf.as_ptr().align_offset(BLOCK);
        let mut filled = 0;
        if self.direct.load(Ordering::Relaxed) {
            // Whole blocks at block offsets; the read that reaches the end of the file is short.
            while filled < want && filled.is_multiple_of(BLOCK) {
                match self.file.read_at(&mut buf[base + filled..base + want], at + filled as u64) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.raw_os_error() == Some(libc::EINVAL) && filled == 0 => {
                        self.direct.store(false, Ordering::Relaxed);
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        if filled < asked {
            // Buffered: no direct I/O here, or a direct read that stopped short (a signal), so
            // that a segment is never seen shorter than it was.
            let reopened;
            let file = if self.opened_direct {
                reopened = File::open(&self.path)?;
                &reopened
            } else {
                &self.file
            };
            while filled < asked {
                match file.read_at(&mut buf[base + filled..base + asked], at + filled as u64) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let got = filled.min(asked);
        // A file cut shorter since it was opened ends where its bytes end.
        let more = got == asked && at + (asked as u64) < self.size;
        Ok(Chunk { buf, data: base..base + got, at, more })
    }

    /// True when every byte from `pos` to the end of the segment is zero (what some file
    /// systems leave after a crash). Read buffered: only a damaged tail asks.
    fn zeros_from(&self, pos: u64) -> io::Result<bool> {
        let file = File::open(&self.path)?;
        let mut buf = vec![0u8; 1 << 16];
        let mut at = pos;
        while at < self.size {
            match file.read_at(&mut buf, at) {
                Ok(0) => break,
                Ok(n) => {
                    if buf[..n].iter().any(|&b| b != 0) {
                        return Ok(false);
                    }
                    at += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// What the read-ahead thread is fetching: segment `n` of the list, from offset `at`.
struct Ahead<'scope> {
    n: usize,
    at: u64,
    handle: std::thread::ScopedJoinHandle<'scope, io::Result<(Arc<SegmentFile>, Chunk)>>,
}

impl<'scope> Ahead<'scope> {
    /// Starts reading `len` bytes at `at` of segment `n`: of `seg` when it is open, else of
    /// the file at `path` (opened by the reading thread).
    fn start(
        scope: &'scope std::thread::Scope<'scope, '_>,
        n: usize,
        file: Result<Arc<SegmentFile>, PathBuf>,
        buf: Vec<u8>,
        at: u64,
        len: usize,
    ) -> Self {
        let handle = scope.spawn(move || {
            let seg = match file {
                Ok(seg) => seg,
                Err(path) => Arc::new(SegmentFile::open(path)?),
            };
            let chunk = seg.read(buf, at, len)?;
            Ok((seg, chunk))
        });
        Self { n, at, handle }
    }

    fn join(self) -> io::Result<(Arc<SegmentFile>, Chunk)> {
        self.handle.join().expect("a segment read panicked")
    }
}

impl JournalReader {
    /// A reader of `dir`; with `salvage`, corruption skips the rest of that segment instead of
    /// failing.
    pub fn new(dir: &Path, salvage: bool) -> Self {
        Self { dir: dir.to_path_buf(), salvage, from: 0, chunk: (CHUNK_BYTES, OVERLAP_BYTES) }
    }

    /// Reads `chunk` bytes at a time, each read repeating `overlap` of the one before (both
    /// whole blocks, `overlap < chunk`).
    #[cfg(test)]
    fn chunks(mut self, chunk: usize, overlap: usize) -> Self {
        assert!(chunk.is_multiple_of(BLOCK) && overlap.is_multiple_of(BLOCK) && overlap < chunk);
        self.chunk = (chunk, overlap);
        self
    }

    /// Starts delivering at record `seq` (earlier records are not passed to the callback;
    /// segments that end before it are not read at all).
    pub fn from_record(mut self, seq: u64) -> Self {
        self.from = seq;
        self
    }

    /// The journal's first record (kind and payload), checked, without reading further.
    pub fn first_record(&self) -> Result<Option<(u8, Vec<u8>)>, JournalError> {
        let Some(&index) = list_segments(&self.dir)?.first() else { return Ok(None) };
        let name = segment_name(index);
        let path = self.dir.join(&name);
        let mut head = vec![0u8; HEADER_LEN + FRAME_LEN];
        use std::io::Read;
        let mut f = File::open(&path).map_err(io_err(&path))?;
        if f.read_exact(&mut head).is_err() {
            return Ok(None);
        }
        let frame = &head[HEADER_LEN..];
        let len = u32::from_le_bytes(frame[..4].try_into().expect("4 bytes")) as usize;
        let corrupt = |reason| JournalError::Corrupt { segment: name.clone(), offset: HEADER_LEN as u64, reason };
        if header_crc(frame) != u32::from_le_bytes(frame[5..9].try_into().expect("4 bytes")) || len > MAX_PAYLOAD {
            return Err(corrupt("frame header checksum mismatch"));
        }
        let mut payload = vec![0u8; len];
        f.read_exact(&mut payload).map_err(io_err(&path))?;
        if crc_of(frame[4], &payload) != u32::from_le_bytes(frame[9..13].try_into().expect("4 bytes")) {
            return Err(corrupt("CRC32C mismatch"));
        }
        Ok(Some((frame[4], payload)))
    }

    /// Calls `each` for every valid record in order.
    pub fn read(&self, mut each: impl FnMut(RecordRef<'_>)) -> Result<ReadOutcome, JournalError> {
        let all = list_segments(&self.dir)?;
        // Skip whole segments that end before `from`: the last segment starting at or before it
        // is where reading begins.
        let mut skip = 0;
        if self.from > 0 {
            for (n, &index) in all.iter().enumerate() {
                match first_record_of(&self.dir.join(segment_name(index)), index) {
                    Some(first) if first <= self.from => skip = n,
                    _ => break,
                }
            }
        }
        let segments = &all[skip..];
        // Each segment is read in chunks, each on a helper thread while the one before it is
        // delivered (D44).
        std::thread::scope(|scope| self.read_segments(scope, segments, &mut each))
    }

    fn read_segments<'scope>(
        &self,
        scope: &'scope std::thread::Scope<'scope, '_>,
        segments: &[u64],
        each: &mut impl FnMut(RecordRef<'_>),
    ) -> Result<ReadOutcome, JournalError> {
        let (chunk_len, overlap) = self.chunk;
        let path_of = |n: usize| segments.get(n).map(|&index| self.dir.join(segment_name(index)));
        // What comes after `chunk` of segment `n`: its next bytes, or the next segment's first.
        let after = |n: usize, seg: &Arc<SegmentFile>, chunk: &Chunk, buf: Vec<u8>| {
            if chunk.more {
                Some(Ahead::start(scope, n, Ok(seg.clone()), buf, chunk.end() - overlap as u64, chunk_len))
            } else {
                path_of(n + 1).map(|p| Ahead::start(scope, n + 1, Err(p), buf, 0, chunk_len))
            }
        };
        // Each chunk is read (on a helper thread) while the one before it is checked, so neither
        // a direct read nor a cold cache stalls the records; two buffers take turns.
        let mut ahead = path_of(0).map(|p| Ahead::start(scope, 0, Err(p), Vec::new(), 0, chunk_len));
        let mut spare = Vec::new();
        let mut out = ReadOutcome::default();
        let mut seq: Option<u64> = None;
        for (n, &index) in segments.iter().enumerate() {
            if n > 0 && index != segments[n - 1] + 1 && !self.salvage {
                return Err(JournalError::MissingSegment {
                    missing: segment_name(segments[n - 1] + 1),
                    before: segment_name(segments[n - 1]),
                    after: segment_name(index),
                });
            }
            let name = segment_name(index);
            let path = self.dir.join(&name);
            let opened = match ahead.take() {
                Some(a) if a.n == n && a.at == 0 => a.join(),
                other => {
                    // A segment left early (salvage): what was read ahead of it is not needed.
                    if let Some(Ok((_, c))) = other.map(Ahead::join) {
                        spare = c.buf;
                    }
                    SegmentFile::open(path.clone())
                        .and_then(|seg| seg.read(std::mem::take(&mut spare), 0, chunk_len).map(|c| (Arc::new(seg), c)))
                }
            };
            let (seg, mut chunk) = opened.map_err(io_err(&path))?;
            ahead = after(n, &seg, &chunk, std::mem::take(&mut spare));
            let last = n + 1 == segments.len();
            out.segments += 1;
            let corrupt = |offset: u64, reason| JournalError::Corrupt { segment: name.clone(), offset, reason };
            let data = chunk.from(0);
            let header_ok = data.len() >= HEADER_LEN
                && &data[..4] == MAGIC
                && data[4..6] == VERSION.to_le_bytes()
                && data[8..16] == index.to_le_bytes();
            if !header_ok {
                if last && data.len() < HEADER_LEN {
                    // Crash while creating the segment: nothing in it was acknowledged.
                    out.torn_tail = Some((name.clone(), 0));
                    out.end = Some((index, 0));
                    break;
                }
                let reason = if data.len() >= 6 && &data[..4] == MAGIC && data[4..6] != VERSION.to_le_bytes() {
                    "unsupported journal format version"
                } else {
                    "bad segment header"
                };
                if self.salvage {
                    out.salvaged.push((name.clone(), 0, reason));
                    spare = chunk.buf;
                    continue;
                }
                return Err(corrupt(0, reason));
            }
            let first = u64::from_le_bytes(data[16..24].try_into().expect("8 bytes"));
            match seq {
                // Each segment says how many records came before it: a mismatch means records
                // were lost between segments.
                Some(s) if s != first && !self.salvage => {
                    return Err(corrupt(0, "segment does not continue the record count of the one before"));
                }
                _ => seq = Some(first),
            }
            // A segment holding no record yet (a kill just after a roll-over) still says how
            // many came before it.
            out.records = first;
            let mut pos = HEADER_LEN as u64;
            loop {
                // The bytes this frame needs: its header, and its payload once the header checks.
                let need = |rest: &[u8]| {
                    if rest.len() < FRAME_LEN {
                        return FRAME_LEN;
                    }
                    let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
                    let whole = header_crc(rest) == u32::from_le_bytes(rest[5..9].try_into().expect("4 bytes"));
                    FRAME_LEN + if whole && len <= MAX_PAYLOAD { len } else { 0 }
                };
                let rest = chunk.from(pos);
                let cut = rest.len() < FRAME_LEN
                    || FRAME_LEN + u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize > rest.len();
                let wanted = if cut && chunk.more { need(rest) } else { 0 };
                if rest.len() < wanted {
                    // The frame goes on past this chunk: the one read ahead repeats its start,
                    // unless the frame is longer than that; then it is read on its own.
                    let next = match ahead.take() {
                        Some(a) if a.n == n && a.at <= pos => Some(a.join().map_err(io_err(&path))?.1),
                        other => {
                            if let Some(Ok((_, c))) = other.map(Ahead::join) {
                                spare = c.buf;
                            }
                            None
                        }
                    };
                    let next = match next {
                        Some(c) if pos <= c.end() && (c.from(pos).len() >= wanted || !c.more) => c,
                        other => {
                            if let Some(c) = other {
                                spare = c.buf;
                            }
                            let at = pos / BLOCK as u64 * BLOCK as u64;
                            let len = chunk_len.max((pos - at) as usize + wanted).next_multiple_of(BLOCK);
                            seg.read(std::mem::take(&mut spare), at, len).map_err(io_err(&path))?
                        }
                    };
                    let old = std::mem::replace(&mut chunk, next);
                    ahead = after(n, &seg, &chunk, old.buf);
                }
                let rest = chunk.from(pos);
                if rest.is_empty() {
                    break;
                }
                let torn_here = |out: &mut ReadOutcome| out.torn_tail = Some((name.clone(), pos));
                if rest.len() < FRAME_LEN {
                    if last {
                        torn_here(&mut out);
                        break;
                    }
                    return Err(corrupt(pos, "truncated frame before the last segment"));
                }
                let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
                let kind = rest[4];
                let hcrc = u32::from_le_bytes(rest[5..9].try_into().expect("4 bytes"));
                let crc = u32::from_le_bytes(rest[9..13].try_into().expect("4 bytes"));
                // The chunk came in by direct reads (or as a copy larger than the cache), so its
                // lines are in memory, not in cache:
                // start loading the frames `READ_AHEAD` bytes on, as many bytes as this one
                // (its length is not checked yet: at most a record's worth).
                if let Some(ahead) = rest.get(READ_AHEAD..) {
                    fxrecon_core::memhint::prefetch_lines(&ahead[..ahead.len().min(FRAME_LEN + len.min(MAX_PAYLOAD))]);
                }
                // What a crash can leave at the end: a prefix of a correct frame, or (on some
                // filesystems) zeros. Anything else is damage. Past this chunk, the rest of the
                // segment is read to tell.
                let zero_tail = || -> Result<bool, JournalError> {
                    Ok(last
                        && rest.iter().all(|&b| b == 0)
                        && (!chunk.more || seg.zeros_from(chunk.end()).map_err(io_err(&path))?))
                };
                let problem = if header_crc(rest) != hcrc {
                    Some(if zero_tail()? { None } else { Some("frame header checksum mismatch") })
                } else if len > MAX_PAYLOAD {
                    Some(Some("record length out of range"))
                } else if FRAME_LEN + len > rest.len() {
                    Some(if last { None } else { Some("record runs past the end of its segment") })
                } else if crc_of(kind, &rest[FRAME_LEN..FRAME_LEN + len]) != crc {
                    let reaches_end = FRAME_LEN + len == rest.len() && !chunk.more;
                    Some(if last && reaches_end && rest[FRAME_LEN..].iter().all(|&b| b == 0) {
                        None
                    } else {
                        Some("CRC32C mismatch")
                    })
                } else {
                    None
                };
                match problem {
                    Some(None) => {
                        torn_here(&mut out);
                        break;
                    }
                    Some(Some(reason)) => {
                        if self.salvage {
                            out.salvaged.push((name.clone(), pos, reason));
                            seq = None; // the count is lost with the skipped records
                            break;
                        }
                        return Err(corrupt(pos, reason));
                    }
                    None => {}
                }
                let s = seq.unwrap_or(0);
                if s >= self.from {
                    each(RecordRef {
                        seq: s,
                        segment: index,
                        offset: pos,
                        kind,
                        payload: &rest[FRAME_LEN..FRAME_LEN + len],
                    });
                }
                seq = Some(s + 1);
                out.records = s + 1;
                pos += (FRAME_LEN + len) as u64;
            }
            out.end = Some((index, pos));
            spare = chunk.buf;
            if out.torn_tail.is_some() {
                break;
            }
        }
        if let Some(a) = ahead {
            // Read ahead of records that were not needed (a torn tail): its outcome is moot.
            let _ = a.join();
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh, empty directory of its own, removed when dropped (also when the test panics).
    fn dir(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new().prefix(&format!("fxrecon-journal-{name}-")).tempdir().unwrap()
    }

    fn write(d: &Path, n: usize) {
        let mut w = JournalWriter::open(d, 256, FsyncPolicy::EveryBatch).unwrap();
        for i in 0..n {
            w.append(1, format!("record {i:04} payload").as_bytes()).unwrap();
            w.end_batch().unwrap();
        }
    }

    fn read_all(d: &Path, salvage: bool) -> Result<(Vec<String>, ReadOutcome), JournalError> {
        let mut v = Vec::new();
        let out = JournalReader::new(d, salvage).read(|r| v.push(String::from_utf8(r.payload.to_vec()).unwrap()))?;
        Ok((v, out))
    }

    #[test]
    fn round_trips_across_segments_and_reopens_for_append() {
        let tmp = dir("roundtrip");
        let d = tmp.path();
        write(d, 40);
        assert!(list_segments(d).unwrap().len() > 3, "small segments roll over");
        let (v, out) = read_all(d, false).unwrap();
        assert_eq!(v.len(), 40);
        assert_eq!(v[39], "record 0039 payload");
        assert!(out.torn_tail.is_none());
        write(d, 5); // appends after the existing records
        let (v, _) = read_all(d, false).unwrap();
        assert_eq!(v.len(), 45);
        assert_eq!(v[40], "record 0000 payload");
    }

    #[test]
    fn a_last_segment_holding_only_its_header_keeps_the_record_count_on_reopen() {
        // A kill just after a roll-over leaves the new segment with its header alone.
        let tmp = dir("header-only");
        let d = tmp.path();
        write(d, 30);
        let last = *list_segments(d).unwrap().last().unwrap();
        let p = d.join(segment_name(last));
        let before = first_record_of(&p, last).unwrap();
        assert!(before > 0);
        OpenOptions::new().write(true).open(&p).unwrap().set_len(HEADER_LEN as u64).unwrap();
        let mut w = JournalWriter::open(d, 256, FsyncPolicy::Never).unwrap();
        assert_eq!(w.written_records(), before, "the count is the header's, not zero");
        for i in 0..20 {
            w.append(1, format!("again {i:04} payload").as_bytes()).unwrap();
        }
        w.sync().unwrap();
        drop(w);
        // More roll-overs since, each segment continuing the count of the one before.
        assert!(*list_segments(d).unwrap().last().unwrap() > last + 1);
        let (v, out) = read_all(d, false).unwrap();
        assert_eq!(v.len() as u64, before + 20);
        assert_eq!(out.records, before + 20);
    }

    #[test]
    fn torn_final_record_is_detected_and_truncated_on_reopen() {
        let tmp = dir("torn");
        let d = tmp.path();
        write(d, 30);
        let last = *list_segments(d).unwrap().last().unwrap();
        let p = d.join(segment_name(last));
        let len = std::fs::metadata(&p).unwrap().len();
        let f = OpenOptions::new().write(true).open(&p).unwrap();
        f.set_len(len - 5).unwrap(); // crash mid-write of the last record
        let (v, out) = read_all(d, false).unwrap();
        assert_eq!(v.len(), 29);
        assert_eq!(out.torn_tail.as_ref().unwrap().0, segment_name(last));
        let mut w = JournalWriter::open(d, 256, FsyncPolicy::Never).unwrap();
        w.append(1, b"after recovery").unwrap();
        w.sync().unwrap();
        let (v, out) = read_all(d, false).unwrap();
        assert_eq!(v.len(), 30);
        assert_eq!(v[29], "after recovery");
        assert!(out.torn_tail.is_none());
    }

    #[test]
    fn bit_flip_before_the_tail_names_segment_and_offset_unless_salvaging() {
        let tmp = dir("flip");
        let d = tmp.path();
        write(d, 40);
        let p = d.join(segment_name(1));
        let mut data = std::fs::read(&p).unwrap();
        let at = HEADER_LEN + FRAME_LEN + 3; // inside the first payload of segment 1
        data[at] ^= 0x04;
        std::fs::write(&p, data).unwrap();
        match read_all(d, false) {
            Err(JournalError::Corrupt { segment, offset, reason }) => {
                assert_eq!(segment, segment_name(1));
                assert_eq!(offset, HEADER_LEN as u64);
                assert_eq!(reason, "CRC32C mismatch");
            }
            other => panic!("expected corruption, got {other:?}"),
        }
        let (v, out) = read_all(d, true).unwrap();
        assert_eq!(out.salvaged.len(), 1);
        assert!(v.len() < 40 && v.len() > 30, "salvage skips the rest of segment 1 only: {}", v.len());
        assert_eq!(v.last().unwrap(), "record 0039 payload");
    }

    #[test]
    fn a_damaged_length_in_the_last_segment_is_corruption_not_a_torn_tail() {
        let tmp = dir("len");
        let d = tmp.path();
        write(d, 40);
        let last = *list_segments(d).unwrap().last().unwrap();
        let p = d.join(segment_name(last));
        let mut data = std::fs::read(&p).unwrap();
        data[HEADER_LEN + 2] ^= 0x01; // length field of the segment's first record
        std::fs::write(&p, data).unwrap();
        match read_all(d, false) {
            Err(JournalError::Corrupt { segment, offset, reason }) => {
                assert_eq!((segment, offset), (segment_name(last), HEADER_LEN as u64));
                assert_eq!(reason, "frame header checksum mismatch");
            }
            other => panic!("expected corruption, got {other:?}"),
        }
        assert!(JournalWriter::open(d, 256, FsyncPolicy::Never).is_err(), "never truncates valid records");
    }

    #[test]
    fn a_zero_filled_tail_is_a_torn_tail() {
        let tmp = dir("zeros");
        let d = tmp.path();
        write(d, 3);
        let p = d.join(segment_name(0));
        let mut data = std::fs::read(&p).unwrap();
        data.extend([0u8; 40]);
        std::fs::write(&p, data).unwrap();
        let (v, out) = read_all(d, false).unwrap();
        assert_eq!(v.len(), 3);
        assert!(out.torn_tail.is_some());
    }

    #[test]
    fn missing_segment_is_an_error_naming_it() {
        let tmp = dir("missing");
        let d = tmp.path();
        write(d, 40);
        std::fs::remove_file(d.join(segment_name(2))).unwrap();
        match read_all(d, false) {
            Err(JournalError::MissingSegment { missing, .. }) => assert_eq!(missing, segment_name(2)),
            other => panic!("expected a missing segment, got {other:?}"),
        }
    }

    #[test]
    fn reading_from_a_record_skips_earlier_segments_and_keeps_positions() {
        let tmp = dir("from");
        let d = tmp.path();
        write(d, 40);
        let mut all = Vec::new();
        JournalReader::new(d, false).read(|r| all.push((r.seq, r.segment))).unwrap();
        assert_eq!(all.iter().map(|x| x.0).collect::<Vec<_>>(), (0..40).collect::<Vec<_>>());
        let mut tail = Vec::new();
        let out = JournalReader::new(d, false).from_record(25).read(|r| tail.push((r.seq, r.segment))).unwrap();
        assert_eq!(tail, all[25..].to_vec(), "same records, same positions");
        assert_eq!(out.records, 40);
        assert!(out.segments < list_segments(d).unwrap().len() as u64, "earlier segments are not read");
    }

    #[test]
    fn a_segment_that_does_not_continue_the_record_count_is_corruption() {
        let tmp = dir("count");
        let d = tmp.path();
        write(d, 40);
        let p = d.join(segment_name(2));
        let mut data = std::fs::read(&p).unwrap();
        data[16] ^= 0x01; // first_record of segment 2
        std::fs::write(&p, data).unwrap();
        match read_all(d, false) {
            Err(JournalError::Corrupt { segment, offset: 0, .. }) => assert_eq!(segment, segment_name(2)),
            other => panic!("expected corruption, got {other:?}"),
        }
    }

    #[test]
    fn written_behind_with_interval_syncs_loses_nothing() {
        let tmp = dir("background-sync");
        let d = tmp.path();
        let mut w = JournalWriter::open(d, 4096, FsyncPolicy::IntervalMs(0)).unwrap();
        for i in 0..200 {
            w.append(1, format!("record {i:04} payload").as_bytes()).unwrap();
            w.end_batch().unwrap();
        }
        w.sync().unwrap();
        assert!(w.syncs() > 1, "interval syncs happened along the way, not only the last one");
        assert!(!w.needs_sync());
        drop(w);
        let (v, out) = read_all(d, false).unwrap();
        assert_eq!(v.len(), 200);
        assert_eq!(v[199], "record 0199 payload");
        assert!(out.torn_tail.is_none());
    }

    #[test]
    fn a_failed_write_is_retried_first_and_nothing_is_lost_or_reordered() {
        let tmp = dir("failed-write");
        let d = tmp.path();
        // Small segments: the later appends and retries cross rollovers.
        let mut w = JournalWriter::open(d, 2048, FsyncPolicy::IntervalMs(0)).unwrap();
        let record = |i: usize| format!("record {i:04} payload");
        for i in 0..10 {
            w.append(1, record(i).as_bytes()).unwrap();
        }
        w.flush().unwrap();
        assert_eq!(w.written_records(), 10);

        // The next batch fails twice; records appended meanwhile wait behind it.
        w.fail_writes = 2;
        for i in 10..20 {
            w.append(1, record(i).as_bytes()).unwrap();
        }
        w.end_batch().unwrap(); // handed over
        assert!(w.poll(true).is_err(), "first injected failure");
        assert!(w.is_failing());
        for i in 20..30 {
            w.append(1, record(i).as_bytes()).unwrap();
        }
        w.end_batch().unwrap(); // the retry goes first
        assert!(w.poll(true).is_err(), "second injected failure");
        assert_eq!(w.written_records(), 10, "the gate never counts a failed batch");
        assert!(w.is_failing());
        w.end_batch().unwrap();
        w.poll(true).unwrap();
        assert_eq!(w.written_records(), 20, "the retried batch, then the one behind it");
        assert!(!w.is_failing());
        w.sync().unwrap();
        assert_eq!(w.written_records(), 30);

        // One more failure among many small batches and rollovers: every call is retried
        // until it goes through, as the journal agent does.
        w.fail_writes = 1;
        let mut failures = 0;
        for i in 30..130 {
            while w.append(1, record(i).as_bytes()).is_err() {
                failures += 1;
            }
            while w.end_batch().and_then(|()| w.poll(true)).is_err() {
                failures += 1;
            }
        }
        assert_eq!(failures, 1);
        w.sync().unwrap();
        assert_eq!(w.written_records(), 130);
        drop(w);
        let (v, out) = read_all(d, false).unwrap();
        assert!(out.torn_tail.is_none());
        assert_eq!(v, (0..130).map(record).collect::<Vec<_>>(), "all records, in order, once");
        assert!(list_segments(d).unwrap().len() > 2, "the test crossed rollovers");
    }

    #[test]
    fn segment_reads_return_the_bytes_asked_for_directly_or_buffered_in_a_reused_buffer() {
        let tmp = dir("loader");
        let d = tmp.path();
        let mut direct_buf = Vec::new();
        let mut buffered_buf = Vec::new();
        let mut direct_seen = false;
        // Big first, so later (smaller) reads reuse a buffer holding older bytes past their end.
        for size in [3 * BLOCK + 17, 0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK, 777] {
            let bytes: Vec<u8> = (0..size).map(|i| (i * 7 + size) as u8).collect();
            let path = d.join(format!("f{size}"));
            std::fs::write(&path, &bytes).unwrap();
            let direct = SegmentFile::open(path.clone()).unwrap();
            direct_seen |= direct.opened_direct;
            let file = File::open(&path).unwrap();
            let buffered = SegmentFile {
                path: path.clone(),
                file,
                opened_direct: false,
                direct: AtomicBool::new(false),
                size: size as u64,
            };
            for (at, len) in [
                (0, 4 * BLOCK),
                (0, BLOCK),
                (BLOCK as u64, BLOCK),
                (BLOCK as u64, 8 * BLOCK),
                (4 * BLOCK as u64, BLOCK),
            ] {
                let want = &bytes[(at as usize).min(size)..(at as usize + len).min(size)];
                let more = at as usize + len < size;
                for (what, seg, buf) in
                    [("direct", &direct, &mut direct_buf), ("buffered", &buffered, &mut buffered_buf)]
                {
                    let c = seg.read(std::mem::take(buf), at, len).unwrap();
                    assert_eq!(c.from(at), want, "{what}, {size} bytes, {len} from {at}");
                    assert!(c.from(c.end() + 10).is_empty(), "past the end (a file cut since): nothing");
                    assert_eq!(
                        (c.more, c.end()),
                        (more, at + want.len() as u64),
                        "{what}, {size} bytes, {len} from {at}"
                    );
                    *buf = c.buf;
                }
            }
            assert!(direct.zeros_from(size as u64).unwrap());
            assert_eq!(direct.zeros_from(0).unwrap(), bytes.iter().all(|&b| b == 0));
        }
        if !direct_seen {
            tracing::warn!(dir = %d.display(), "no O_DIRECT here: only the buffered path was compared");
        }
        assert!(SegmentFile::open(d.join("absent")).is_err(), "a missing file is an error, not empty");
    }

    /// Every record and the outcome of reading `d`, in the reader's default chunks and in chunks
    /// small enough that frames straddle them and some are longer than the overlap or a chunk.
    fn read_in_chunk_sizes(d: &Path, salvage: bool) -> Vec<String> {
        let mut seen = Vec::new();
        for (chunk, overlap) in [(CHUNK_BYTES, OVERLAP_BYTES), (2 * BLOCK, BLOCK), (3 * BLOCK, BLOCK)] {
            let mut v = Vec::new();
            let out = JournalReader::new(d, salvage).chunks(chunk, overlap).read(|r| {
                v.push((r.seq, r.segment, r.offset, r.kind, r.payload.len(), crate::frame_crc::header_crc(r.payload)))
            });
            let out = out.map(|o| (o.segments, o.records, o.end, o.torn_tail, o.salvaged));
            seen.push(format!("{v:?} {out:?}"));
        }
        seen
    }

    #[test]
    fn chunked_reads_agree_with_whole_ones_on_any_damage() {
        let tmp = dir("chunks");
        let d = tmp.path();
        let mut w = JournalWriter::open(d, 64 << 10, FsyncPolicy::EveryBatch).unwrap();
        // Payloads from a few bytes to more than two small chunks.
        for i in 0..120usize {
            let len = [20, 300, 3_000, 5_000, 9_000, 13_000][i % 6] + i;
            let payload: Vec<u8> = (0..len).map(|j| (i * 31 + j) as u8).collect();
            w.append(1 + (i % 2) as u8, &payload).unwrap();
            w.end_batch().unwrap();
        }
        drop(w);
        let segments = list_segments(d).unwrap();
        assert!(segments.len() >= 4, "{} segments", segments.len());
        let original: Vec<(PathBuf, Vec<u8>)> = segments
            .iter()
            .map(|&i| d.join(segment_name(i)))
            .map(|p| {
                let b = std::fs::read(&p).unwrap();
                (p, b)
            })
            .collect();
        let restore = || original.iter().for_each(|(p, b)| std::fs::write(p, b).unwrap());
        let (last_path, last_bytes) = original.last().unwrap().clone();
        let (mid_path, mid_bytes) = original[1].clone();
        let mut cases: Vec<(String, Box<dyn Fn()>)> = vec![("intact".into(), Box::new(|| {}))];
        for cut in [1usize, 5, 13, 100, 2_000, 4_097, 9_000, 20_000] {
            let (p, b) = (last_path.clone(), last_bytes.clone());
            cases.push((format!("torn by {cut}"), Box::new(move || std::fs::write(&p, &b[..b.len() - cut]).unwrap())));
        }
        for zeros in [7usize, 5_000, 20_000] {
            let (p, mut b) = (last_path.clone(), last_bytes.clone());
            b.extend(std::iter::repeat_n(0u8, zeros));
            cases.push((format!("{zeros} zeros after"), Box::new(move || std::fs::write(&p, &b).unwrap())));
        }
        for at in [HEADER_LEN + 2, HEADER_LEN + 20, 4_090, 4_100, 8_200, 20_000, 40_000] {
            for (which, p, b) in [("middle", &mid_path, &mid_bytes), ("last", &last_path, &last_bytes)] {
                if at < b.len() {
                    let (p, mut b) = (p.clone(), b.clone());
                    b[at] ^= 0x10;
                    cases.push((
                        format!("flip at {at} of the {which} segment"),
                        Box::new(move || std::fs::write(&p, &b).unwrap()),
                    ));
                }
            }
        }
        {
            let (p, mut b) = (last_path.clone(), last_bytes.clone());
            let n = b.len();
            b[n - 9_000..].fill(0);
            cases.push(("the last 9,000 bytes zeroed".into(), Box::new(move || std::fs::write(&p, &b).unwrap())));
        }
        for (name, damage) in &cases {
            restore();
            damage();
            for salvage in [false, true] {
                let seen = read_in_chunk_sizes(d, salvage);
                assert_eq!(seen[1], seen[0], "{name}, salvage {salvage}: 2-block chunks");
                assert_eq!(seen[2], seen[0], "{name}, salvage {salvage}: 3-block chunks");
            }
        }
        restore();
        let all = read_in_chunk_sizes(d, false);
        assert!(all[0].contains("None, []"), "the intact journal reads whole: {}", &all[0][all[0].len() - 80..]);
    }

    #[test]
    fn damage_at_a_chunk_end_is_judged_on_the_whole_segment() {
        let tmp = dir("chunk-edge");
        let d = tmp.path();
        let mut w = JournalWriter::open(d, 1 << 20, FsyncPolicy::EveryBatch).unwrap();
        // The first frame ends exactly where the first 2-block chunk does.
        w.append(1, &[7u8; 2 * BLOCK - HEADER_LEN - FRAME_LEN]).unwrap();
        for i in 0..8u8 {
            w.append(1, &[i + 1; 3_000]).unwrap();
        }
        w.end_batch().unwrap();
        drop(w);
        let p = d.join(segment_name(0));
        let clean = std::fs::read(&p).unwrap();
        // A zeroed payload that ends at the chunk's end, records after it: damage, not a tail.
        let mut b = clean.clone();
        b[HEADER_LEN + FRAME_LEN..2 * BLOCK].fill(0);
        // Zeros from a frame's header past the chunk's end, records after them: the same.
        let mut c = clean.clone();
        c[HEADER_LEN..3 * BLOCK + 100].fill(0);
        for (name, bytes) in [("zeroed payload", b), ("zeros across the chunk end", c)] {
            std::fs::write(&p, &bytes).unwrap();
            let seen = read_in_chunk_sizes(d, false);
            assert!(seen[0].contains("Err(Corrupt"), "{name}: {}", seen[0]);
            assert_eq!(seen[1], seen[0], "{name}: 2-block chunks");
            assert_eq!(seen[2], seen[0], "{name}: 3-block chunks");
        }
    }

    #[test]
    fn a_crash_after_direct_writes_leaves_padding_that_reopening_cuts_and_nothing_is_lost() {
        let tmp = dir("direct-crash");
        let d = tmp.path();
        let mut w = JournalWriter::open(d, 1 << 20, FsyncPolicy::Never).unwrap().direct_io(true).unwrap();
        if !w.is_direct() {
            tracing::warn!(dir = %d.display(), "SKIPPED: no O_DIRECT here");
            return;
        }
        for i in 0..50usize {
            w.append(1, format!("record {i:04} {}", "x".repeat(i * 3)).as_bytes()).unwrap();
            if i % 10 == 9 {
                w.end_batch().unwrap();
            }
        }
        // Everything written (one batch in flight at a time), nothing synced.
        for _ in 0..10 {
            w.poll(true).unwrap();
            w.end_batch().unwrap();
        }
        w.poll(true).unwrap();
        assert_eq!(w.written_records(), 50);
        // The process dies here: no sync, no close, so the last block's zero padding stays.
        std::mem::forget(w);
        let seg = d.join(segment_name(0));
        let len = std::fs::metadata(&seg).unwrap().len();
        assert_eq!(len % BLOCK as u64, 0, "the file ends on a block, padded");
        let (v, out) = read_all(d, false).unwrap();
        assert_eq!(v.len(), 50, "every written record reads back");
        assert!(out.torn_tail.is_some(), "the padding reads as a torn tail");
        // Restart: the padding is cut, appending goes on after the last record.
        let mut w = JournalWriter::open(d, 1 << 20, FsyncPolicy::Never).unwrap().direct_io(true).unwrap();
        w.append(1, b"after the crash").unwrap();
        w.sync().unwrap();
        drop(w);
        let (v, out) = read_all(d, false).unwrap();
        assert_eq!(v.len(), 51);
        assert_eq!(v[0], "record 0000 ");
        assert_eq!(v[50], "after the crash");
        assert!(out.torn_tail.is_none(), "closed cleanly: no padding left");
        assert_ne!(std::fs::metadata(&seg).unwrap().len() % BLOCK as u64, 0, "cut to the last record");
    }

    #[test]
    fn direct_writes_leave_the_same_files_as_buffered_ones() {
        let write = |name: &str, direct: bool| {
            let tmp = dir(name);
            let d = tmp.path();
            let mut w = JournalWriter::open(d, 8192, FsyncPolicy::IntervalMs(0)).unwrap().direct_io(direct).unwrap();
            if w.is_direct() != direct {
                return None; // no O_DIRECT on this file system: nothing to compare
            }
            for i in 0..300usize {
                // Records of many sizes, one longer than a block, so batches end anywhere in a
                // block and records straddle blocks and segments.
                let len = if i == 150 { 5000 } else { 1 + (i * 37) % 700 };
                w.append(1, &vec![b'a' + (i % 26) as u8; len]).unwrap();
                if i % 7 == 0 {
                    w.end_batch().unwrap();
                }
                if i == 200 {
                    w.sync().unwrap();
                }
            }
            drop(w);
            let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap())
                .map(|e| (e.file_name().into_string().unwrap(), std::fs::read(e.path()).unwrap()))
                .collect();
            files.sort();
            let (v, out) = read_all(d, false).unwrap();
            assert_eq!(v.len(), 300);
            assert!(out.torn_tail.is_none(), "no padding left at close");
            Some(files)
        };
        let buffered = write("buffered", false).expect("buffered writes always work");
        assert!(buffered.len() > 3, "the test crossed rollovers");
        match write("direct", true) {
            Some(direct) => assert!(direct == buffered, "byte-identical segments"),
            None => tracing::warn!(dir = %std::env::temp_dir().display(), "SKIPPED the direct half: no O_DIRECT here"),
        }
    }

    #[test]
    fn fsync_policy_parses() {
        assert_eq!("interval_ms:50".parse(), Ok(FsyncPolicy::IntervalMs(50)));
        assert_eq!("every_batch".parse(), Ok(FsyncPolicy::EveryBatch));
        assert!("sometimes".parse::<FsyncPolicy>().is_err());
    }
}
