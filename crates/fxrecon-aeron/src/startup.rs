//! Waiting for a thread that owns Aeron handles to say it is ready (its subscription or
//! publication registered), for the source and the sink alike.
//!
//! Owns: the start-up handshake's outcomes (ready, failed, timed out). Never touches an Aeron
//! handle itself: the thread that made them is the only one that may.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::AeronError;

/// What the thread sent on `ready` within `waited`. If it failed, the thread is joined first.
/// If it sent nothing in time, `stop` tells it to end (it is not waited for) and the error
/// names `what`.
pub(crate) fn await_ready<T>(
    ready: &Receiver<Result<T, AeronError>>,
    thread: JoinHandle<Result<(), AeronError>>,
    stop: &AtomicBool,
    waited: Duration,
    what: String,
) -> Result<(T, JoinHandle<Result<(), AeronError>>), AeronError> {
    match ready.recv_timeout(waited) {
        Ok(Ok(v)) => Ok((v, thread)),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => {
            stop.store(true, Ordering::Release);
            Err(AeronError::TimedOut { what, ms: waited.as_millis() as u64 })
        }
    }
}
