//! A FIX session as a [`MessageSource`]: the messages its I/O thread accepted, whole, with
//! their receive stamps, read from an SPSC byte ring (as the Aeron source does).
//!
//! Owns: starting the session's thread (an acceptor binds before `start` returns, so a bad
//! address is an error at start), the consumer side of the ring, stopping the thread when
//! dropped. Must never decode or classify: the engine's one ingest path does.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use fxrecon_core::time::Micros;
use fxrecon_engine::ingest::source::{MessageSource, Poll, SourceMessage};
use fxrecon_runtime::rings::{self, Consumer, RingBuffer};

use crate::config::{ResetPolicy, SessionConfig};
use crate::connection::{HEADER, Link, run};
use crate::counters::SessionCounters;
use crate::error::SessionError;
use crate::resume::{Journaled, from_journal};
use crate::session::{Role, Session};
use crate::store::SeqStore;

/// One FIX session read by a thread of its own.
pub struct FixSource {
    name: String,
    ring: Consumer<u8>,
    buf: Vec<u8>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<(), SessionError>>>,
    counters: Arc<SessionCounters>,
    local: Option<SocketAddr>,
    ended: bool,
}

impl FixSource {
    /// Checks `cfg`, loads its numbers from `state_dir`, binds (acceptor) and starts the
    /// session thread.
    pub fn start(cfg: &SessionConfig, state_dir: &Path, max_message_bytes: usize) -> Result<Self, SessionError> {
        Self::start_journaled(cfg, state_dir, max_message_bytes, Journaled::No)
    }

    /// [`FixSource::start`] in a journaled run (D64): a new journal records the inbound number
    /// it starts from; a recovered one is where the inbound side resumes (its messages of this
    /// session, else that recorded start), never the state directory's number, which may be
    /// ahead of what was journaled.
    pub fn start_journaled(
        cfg: &SessionConfig,
        state_dir: &Path,
        max_message_bytes: usize,
        journal: Journaled<'_>,
    ) -> Result<Self, SessionError> {
        let (settings, schedule) = cfg.check()?;
        let name = cfg.name();
        let io_err = |what: &str, source| SessionError::Io { session: name.clone(), what: what.into(), source };
        let store = SeqStore::open(state_dir, &cfg.sender_comp_id, &cfg.target_comp_id)
            .map_err(|e| io_err("opening the state directory", e))?;
        let mut seq = store.load().map_err(|e| io_err("loading sequence numbers", e))?;
        let missing = match journal {
            Journaled::No => Vec::new(),
            Journaled::New => {
                store.save_journal_start(seq.next_in).map_err(|e| io_err("recording the journal's start", e))?;
                Vec::new()
            }
            Journaled::Recovering { dir, stream } => {
                let start = store.load_journal_start().map_err(|e| io_err("loading the journal's start", e))?;
                let (next_in, missing) = match from_journal(dir, stream, cfg, start)? {
                    Some(r) => (r.next_in, r.missing),
                    None => (start.unwrap_or(seq.next_in), Vec::new()),
                };
                tracing::info!(session = %name, stored = seq.next_in, next_in, open_gaps = missing.len(), "FIX session resumes from the journal");
                seq.next_in = next_in.max(1);
                missing
            }
        };
        let addr = format!("{}:{}", cfg.host, cfg.port);
        let listener = match settings.role {
            Role::Acceptor => {
                let l = TcpListener::bind(&addr).map_err(|e| io_err(&format!("listening on {addr}"), e))?;
                l.set_nonblocking(true).map_err(|e| io_err("listener", e))?;
                Some(l)
            }
            Role::Initiator => None,
        };
        let local = listener.as_ref().and_then(|l| l.local_addr().ok());
        tracing::info!(session = %name, role = ?settings.role, %addr, next_out = seq.next_out, next_in = seq.next_in, "FIX session starting");
        let link = Link {
            name: name.clone(),
            role: settings.role,
            connect_to: addr,
            listener,
            backoff: (Duration::from_millis(cfg.reconnect_min_ms), Duration::from_millis(cfg.reconnect_max_ms)),
            max_refusals: cfg.max_logon_refusals,
            end_on_logout: cfg.end_on_logout,
            daily_reset: cfg.reset == ResetPolicy::Daily,
            schedule,
            store,
            max_message_bytes,
        };
        let max = max_message_bytes.max(1024);
        let (tx, ring) = RingBuffer::new((4 << 20).max(4 * (rings::FRAME_PREFIX + HEADER + max)));
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(SessionCounters::default());
        let mut session = Session::new(settings, seq);
        session.resume_inbound(seq.next_in, missing);
        let thread = {
            let (stop, counters) = (stop.clone(), counters.clone());
            std::thread::Builder::new()
                .name(format!("fix-{}", cfg.stream))
                .spawn(move || run(link, session, tx, stop, counters))
                .map_err(|e| io_err("starting its thread", e))?
        };
        Ok(Self {
            name,
            ring,
            buf: Vec::with_capacity(HEADER + max),
            stop,
            thread: Some(thread),
            counters,
            local,
            ended: false,
        })
    }

    /// What the session counts.
    pub fn counters(&self) -> Arc<SessionCounters> {
        self.counters.clone()
    }

    /// The address an acceptor listens on (a port of 0 in the config picks a free one).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local
    }

    fn join(&mut self) -> io::Result<()> {
        match self.thread.take() {
            None => Ok(()),
            Some(t) => match t.join() {
                Ok(r) => r.map_err(io::Error::from),
                Err(_) => Err(io::Error::other("the FIX session thread panicked")),
            },
        }
    }
}

impl MessageSource for FixSource {
    fn describe(&self) -> String {
        format!("fix session {}", self.name)
    }

    /// Connected while the session is logged on (`/readyz`, `fxrecon_input_connected`).
    fn connected(&self) -> bool {
        self.counters.logged_on.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Nothing to skip: a session resumes at its next number (from the journal when the run
    /// recovers, D64), so what a journal holds is never delivered again.
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        Ok(n)
    }

    fn poll(&mut self) -> io::Result<Poll<'_>> {
        if self.ended {
            return Ok(Poll::End);
        }
        let finished = self.thread.as_ref().is_none_or(|t| t.is_finished());
        match rings::take_stamped(&mut self.ring, &mut self.buf) {
            None if !finished => Ok(Poll::Pending),
            None => {
                self.ended = true;
                self.join()?;
                Ok(Poll::End)
            }
            Some(rings::Stamped::End) => {
                self.ended = true;
                self.stop.store(true, Ordering::Release);
                self.join()?;
                Ok(Poll::End)
            }
            Some(rings::Stamped::Message { received, .. }) => {
                Ok(Poll::Message(SourceMessage::Whole { bytes: &self.buf[HEADER..], received: Some(Micros(received)) }))
            }
        }
    }
}

impl Drop for FixSource {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
