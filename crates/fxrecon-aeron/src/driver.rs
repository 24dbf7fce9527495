//! The media driver a run uses: embedded in the process (the default), or an external one
//! attached by its directory (`aeron.dir`).
//!
//! Owns: [`MediaDriver`] (its directory, and for an embedded driver the thread that runs its
//! duty cycle and stops it on drop) and [`DriverConfig`] (term buffers, MTU, idle behaviour).
//! An embedded driver lives in a directory of its own under the run's state directory; a
//! stale directory left there by a dead driver is removed at start, a live one is refused.
//! The driver runs its conductor, sender and receiver as one shared agent on one thread that
//! backs off when idle (this is a two-core machine). Must never create clients,
//! subscriptions or publications (those belong to the thread that uses them).

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusteron_media_driver::bindings::aeron_threading_mode_enum;
use rusteron_media_driver::{Aeron, AeronDriver, AeronDriverContext};

use crate::error::AeronError;

/// The name of the embedded driver's directory under the state directory.
pub const DRIVER_DIR_NAME: &str = "aeron-driver";

/// How long a driver's heartbeat may be old before its directory counts as stale.
const DRIVER_ACTIVE_TIMEOUT_MS: i64 = 10_000;

/// Settings of an embedded media driver.
#[derive(Clone, Debug)]
pub struct DriverConfig {
    /// Term buffer length of network publications (bytes, a power of two, 64 KiB..1 GiB).
    pub term_buffer_length: usize,
    /// Term buffer length of IPC publications (bytes; Aeron's default is 64 MB, so three terms
    /// take 192 MB of /dev/shm per publication).
    pub ipc_term_buffer_length: usize,
    /// MTU of network publications (bytes; messages above it travel in fragments).
    pub mtu_length: usize,
    /// The idle strategy of the driver's shared agent (Aeron's names: `backoff`, `sleeping`,
    /// `yield`, `spin`).
    pub idle_strategy: String,
    /// How long a client may be silent before the driver drops it and its publications (a
    /// killed publisher's image is then lost; Aeron's default is 10 s; more than its 1 s timer
    /// interval).
    pub client_liveness_timeout: Duration,
}

impl Default for DriverConfig {
    /// 4 MB terms (12 MB of /dev/shm per publication: fits a container's 64 MB default with
    /// room for the three streams of a run), Aeron's 1408-byte MTU, backoff idling.
    fn default() -> Self {
        Self {
            term_buffer_length: 4 << 20,
            ipc_term_buffer_length: 4 << 20,
            mtu_length: 1408,
            idle_strategy: "backoff".to_string(),
            client_liveness_timeout: Duration::from_secs(10),
        }
    }
}

/// The media driver of a run: where clients connect, and (embedded) the driver itself.
pub struct MediaDriver {
    dir: PathBuf,
    embedded: Option<Embedded>,
}

struct Embedded {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn c_path(what: &'static str, p: &Path) -> Result<CString, AeronError> {
    CString::new(p.as_os_str().as_encoded_bytes())
        .map_err(|_| AeronError::Invalid { what, value: p.display().to_string() })
}

/// The smallest CnC file a driver writes (its metadata and buffers take megabytes); the C
/// check reads past the end of a shorter one.
const MIN_CNC_BYTES: u64 = 64 << 10;

/// Aeron's check reports what it found through a log function it always calls.
extern "C" fn ignore_log(_: *const std::os::raw::c_char) {}

/// Whether a driver with a fresh heartbeat runs in `dir` (a missing, truncated or silent CnC
/// file means no).
pub fn driver_active(dir: &Path) -> bool {
    match std::fs::metadata(dir.join("cnc.dat")) {
        Ok(m) if m.len() >= MIN_CNC_BYTES => {}
        _ => return false,
    }
    match c_path("aeron dir", dir) {
        Ok(c) => Aeron::is_driver_active(&c, DRIVER_ACTIVE_TIMEOUT_MS, Some(ignore_log)),
        Err(_) => false,
    }
}

impl MediaDriver {
    /// Launches an embedded driver in `state_dir/aeron-driver` (created if missing; a stale
    /// directory there is removed first). Fails if a live driver already uses it.
    pub fn embedded(state_dir: &Path, cfg: &DriverConfig) -> Result<Self, AeronError> {
        Self::embedded_at(&state_dir.join(DRIVER_DIR_NAME), cfg)
    }

    /// Launches an embedded driver with its directory exactly at `dir`.
    pub fn embedded_at(dir: &Path, cfg: &DriverConfig) -> Result<Self, AeronError> {
        if driver_active(dir) {
            return Err(AeronError::DriverActive(dir.to_path_buf()));
        }
        if dir.exists() {
            tracing::info!(dir = %dir.display(), "removing a stale Aeron driver directory");
            std::fs::remove_dir_all(dir).map_err(|source| AeronError::Io { path: dir.to_path_buf(), source })?;
        }
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent).map_err(|source| AeronError::Io { path: parent.to_path_buf(), source })?;
        }
        let ctx = AeronDriverContext::new().map_err(|e| AeronError::aeron("driver context", e))?;
        let set = |what: &'static str, r: Result<i32, rusteron_media_driver::AeronCError>| {
            r.map(|_| ()).map_err(|e| AeronError::aeron(what, e))
        };
        set("aeron.dir", ctx.set_dir(&c_path("aeron dir", dir)?))?;
        set("dir_delete_on_start", ctx.set_dir_delete_on_start(true))?;
        set("dir_delete_on_shutdown", ctx.set_dir_delete_on_shutdown(true))?;
        set("threading_mode", ctx.set_threading_mode(aeron_threading_mode_enum::AERON_THREADING_MODE_SHARED))?;
        let idle = CString::new(cfg.idle_strategy.as_str())
            .map_err(|_| AeronError::Invalid { what: "idle strategy", value: cfg.idle_strategy.clone() })?;
        set("shared_idle_strategy", ctx.set_shared_idle_strategy(&idle))?;
        set("term_buffer_length", ctx.set_term_buffer_length(cfg.term_buffer_length))?;
        set("ipc_term_buffer_length", ctx.set_ipc_term_buffer_length(cfg.ipc_term_buffer_length))?;
        set("mtu_length", ctx.set_mtu_length(cfg.mtu_length))?;
        let liveness = cfg.client_liveness_timeout.as_nanos().min(u64::MAX as u128) as u64;
        set("client_liveness_timeout", ctx.set_client_liveness_timeout_ns(liveness))?;
        // Aeron requires the unblock timeout (15 s by default) to exceed the client liveness.
        let unblock = liveness.saturating_add(5_000_000_000).max(15_000_000_000);
        set("publication_unblock_timeout", ctx.set_publication_unblock_timeout_ns(unblock))?;
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<(), AeronError>>(1);
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("aeron-driver".into())
            .spawn(move || run_driver(ctx, flag, ready_tx))
            .map_err(|e| AeronError::Thread(e.to_string()))?;
        match ready_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                stop.store(true, Ordering::Release);
                return Err(AeronError::TimedOut { what: "the embedded media driver".into(), ms: 30_000 });
            }
        }
        tracing::info!(dir = %dir.display(), "embedded Aeron media driver started");
        Ok(Self { dir: dir.to_path_buf(), embedded: Some(Embedded { stop, thread: Some(thread) }) })
    }

    /// Attaches to an external driver running in `dir` (Aeron's `aeron.dir`).
    pub fn attach(dir: &Path) -> Result<Self, AeronError> {
        if !driver_active(dir) {
            return Err(AeronError::NoDriver(dir.to_path_buf()));
        }
        Ok(Self { dir: dir.to_path_buf(), embedded: None })
    }

    /// The directory clients connect to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether this process runs the driver.
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }
}

/// The driver's thread: start, then duty cycles with the configured idle strategy until told
/// to stop. The driver and its context live and die on this thread.
fn run_driver(ctx: AeronDriverContext, stop: Arc<AtomicBool>, ready: mpsc::SyncSender<Result<(), AeronError>>) {
    let driver = match AeronDriver::new(&ctx) {
        Ok(d) => d,
        Err(e) => {
            let _ = ready.send(Err(AeronError::aeron("starting the media driver", e)));
            return;
        }
    };
    if let Err(e) = driver.start(true) {
        let _ = ready.send(Err(AeronError::aeron("starting the media driver", e)));
        return;
    }
    let _ = ready.send(Ok(()));
    while !stop.load(Ordering::Acquire) {
        match driver.main_do_work() {
            Ok(work) => driver.main_idle_strategy(work),
            Err(e) => {
                tracing::error!(error = %e, "the embedded media driver failed");
                break;
            }
        }
    }
}

impl Drop for MediaDriver {
    fn drop(&mut self) {
        if let Some(e) = self.embedded.as_mut() {
            e.stop.store(true, Ordering::Release);
            if let Some(t) = e.thread.take() {
                let _ = t.join();
            }
        }
    }
}
