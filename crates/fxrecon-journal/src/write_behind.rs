//! Write-behind for the journal writer: a batch of framed records is handed over, and a thread
//! of its own writes it to the segment file (and syncs it, when asked) while the writer goes on
//! framing the next batch into its other buffer.
//!
//! Owns: one thread that sleeps (parked) until it has a job, the one job in flight (a
//! duplicated file handle, the batch buffer, where it goes), and that job's outcome until the
//! writer collects it. A failed write is cut back off the file here, so a file never ends in
//! half a batch. Never frames records and never decides what to write:
//! [`crate::segment::JournalWriter`] does.
//!
//! Why a thread: `write` copies the batch into the page cache and `fdatasync` waits for the
//! disk, both in the caller. On the shared two-core layout the caller is the ingest thread,
//! and in a journaled run of the bench day `fdatasync` alone held it for 12% of the run (14
//! syncs, 163 ms; strace). This thread only ever blocks in the kernel, so it takes a core
//! only while there is copying to do, and that runs wherever a core is free.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::thread::JoinHandle;
use std::time::Duration;

use fxrecon_runtime::rings::{Consumer, Producer, RingBuffer};

/// One write (and optional sync) of a batch.
#[derive(Debug)]
pub struct Job {
    /// The segment file (a duplicate of the writer's handle).
    pub file: File,
    /// The buffer holding the batch.
    pub buf: Vec<u8>,
    /// The part of `buf` to write (may be empty: a sync alone).
    pub range: (usize, usize),
    /// Where in the file that part goes.
    pub offset: u64,
    /// Where to cut the file back to if the write fails (its length before this batch).
    pub truncate_to: u64,
    /// Force the file to disk after writing.
    pub sync: bool,
    /// Tests: fail this write (after writing half of it).
    #[cfg(test)]
    pub fail: bool,
}

/// A job's outcome, with its buffer back for reuse.
#[derive(Debug)]
pub struct Done {
    /// The job's buffer, as it was handed over.
    pub buf: Vec<u8>,
    /// Whether the sync was asked for.
    pub sync: bool,
    /// `Ok` when everything was written (and synced, when asked).
    pub result: io::Result<()>,
}

impl Job {
    /// Runs the job on the calling thread.
    pub fn run(self) -> Done {
        let (from, to) = self.range;
        #[cfg(test)]
        if self.fail {
            // Injected: the batch reaches the file, then the write "fails".
            let _ = self.file.write_all_at(&self.buf[from..to], self.offset);
            let _ = self.file.set_len(self.truncate_to);
            return Done { buf: self.buf, sync: self.sync, result: Err(io::Error::other("injected write failure")) };
        }
        let mut result = if from < to { self.file.write_all_at(&self.buf[from..to], self.offset) } else { Ok(()) };
        if result.is_err() {
            // A partial write would leave half a frame: cut it off (best effort; a torn tail
            // is recognised and truncated on the next open anyway).
            let _ = self.file.set_len(self.truncate_to);
        } else if self.sync {
            result = self.file.sync_data();
        }
        Done { buf: self.buf, sync: self.sync, result }
    }
}

/// How long a writer waiting for its batch sleeps between looks (a wait happens only when a
/// batch must be written before the writer can go on: a sync the caller asked for, a
/// rollover, a flush at close, a retry of a failed batch, or a buffer filled while the other
/// is in flight).
const WAIT_PARK: Duration = Duration::from_micros(20);

/// The write-behind thread, and the one-slot rings that carry jobs to it and outcomes back
/// (lock-free, like every hand-over in the pipeline: the journal agent may share its thread
/// with ingest).
pub struct WriteBehind {
    jobs: Option<Producer<Job>>,
    done: Consumer<Done>,
    thread: Option<JoinHandle<()>>,
}

impl WriteBehind {
    /// Starts the thread.
    pub fn spawn() -> io::Result<Self> {
        let (jobs, mut jobs_rx) = RingBuffer::<Job>::new(1);
        let (mut done_tx, done) = RingBuffer::<Done>::new(1);
        let thread = std::thread::Builder::new().name("journal-io".into()).spawn(move || {
            // The writer may be waiting for this thread's answer: a panic here aborts.
            let _abort_on_panic = fxrecon_runtime::runner::AbortOnPanic("journal-io");
            loop {
                match jobs_rx.pop() {
                    Ok(job) => {
                        // The writer collects each outcome before it submits again: room.
                        let _ = done_tx.push(job.run());
                    }
                    // The writer is gone (and nothing is left to write): stop.
                    Err(_) if jobs_rx.is_abandoned() => return,
                    // Sleep until the next job (an unpark that came first wakes at once).
                    Err(_) => std::thread::park(),
                }
            }
        })?;
        Ok(Self { jobs: Some(jobs), done, thread: Some(thread) })
    }

    /// Hands `job` to the thread; the caller collected the previous one first.
    pub fn submit(&mut self, job: Job) {
        let jobs = self.jobs.as_mut().expect("jobs ring lives until drop");
        let pushed = jobs.push(job);
        debug_assert!(pushed.is_ok(), "one job at a time");
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
    }

    /// The outcome of the job in flight: waits for it when `block`, else only if it is done.
    pub fn collect(&mut self, block: bool) -> Option<Done> {
        loop {
            match self.done.pop() {
                Ok(done) => return Some(done),
                Err(_) if !block => return None,
                Err(_) => std::thread::park_timeout(WAIT_PARK),
            }
        }
    }
}

impl Drop for WriteBehind {
    /// Lets the job in flight finish, then stops the thread.
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_syncs_on_its_thread_and_hands_the_buffer_back() {
        let tmp = tempfile::Builder::new().prefix("fxrecon-write-behind-").tempfile().unwrap();
        let path = tmp.path();
        let file = tmp.as_file();
        let mut io = WriteBehind::spawn().unwrap();
        assert!(io.collect(false).is_none(), "nothing submitted, nothing done");
        io.submit(Job {
            file: file.try_clone().unwrap(),
            buf: b"hello ".to_vec(),
            range: (0, 6),
            offset: 0,
            truncate_to: 0,
            sync: false,
            fail: false,
        });
        let done = io.collect(true).unwrap();
        assert!(done.result.is_ok() && !done.sync);
        assert_eq!(done.buf, b"hello ", "the buffer comes back as it was");
        assert!(io.collect(false).is_none(), "each outcome is handed over once");
        io.submit(Job {
            file: file.try_clone().unwrap(),
            buf: b"world".to_vec(),
            range: (0, 5),
            offset: 6,
            truncate_to: 6,
            sync: true,
            fail: false,
        });
        let done = io.collect(true).unwrap();
        assert!(done.result.is_ok() && done.sync);
        assert_eq!(std::fs::read(path).unwrap(), b"hello world");
        drop(io);
    }

    #[test]
    fn a_failed_write_is_cut_back_off_the_file() {
        let tmp = tempfile::Builder::new().prefix("fxrecon-write-behind-ro-").tempfile().unwrap();
        let path = tmp.path();
        std::fs::write(path, b"kept").unwrap();
        // Read-only handle: the write fails, and nothing is left behind.
        let file = File::open(path).unwrap();
        let done =
            Job { file, buf: b"lost".to_vec(), range: (0, 4), offset: 4, truncate_to: 4, sync: true, fail: false }
                .run();
        assert!(done.result.is_err());
        assert_eq!(std::fs::read(path).unwrap(), b"kept");
    }
}
