//! The socket side of one session, on a thread of its own: connect (initiator, with backoff)
//! or accept (acceptor), feed the [`Session`] what the socket reads and the time, write what it
//! says to send, hand the messages it accepts (with their receive stamp) to the byte ring,
//! persist its numbers, log and count its events, keep to the schedule.
//!
//! Owns: all blocking I/O of a session and its reconnect policy. Must never decide anything a
//! FIX session decides (that is [`crate::session`]), nor decode a message for the engine.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fxrecon_engine::ingest::clock::IngestClock;
use fxrecon_runtime::rings::{self, Producer};

use crate::counters::SessionCounters;
use crate::error::SessionError;
use crate::message::Framer;
use crate::schedule::Schedule;
use crate::session::{Action, Event, Role, Session};
use crate::store::SeqStore;
use crate::timefmt::wall_now;

/// Bytes before a message in a ring frame: its arrival and its length (`rings` stamped frames).
pub const HEADER: usize = rings::STAMP_HEADER;
/// How long a read waits before the session is ticked.
const TICK: Duration = Duration::from_millis(20);

/// Where and how the I/O thread talks.
pub struct Link {
    /// `SENDER->TARGET`.
    pub name: String,
    /// Our side.
    pub role: Role,
    /// Where to connect (initiator).
    pub connect_to: String,
    /// The bound listener (acceptor).
    pub listener: Option<TcpListener>,
    /// First and longest reconnect delay.
    pub backoff: (Duration, Duration),
    /// Refused logons in a row before giving up (0: never).
    pub max_refusals: u32,
    /// End the input when the peer logs out.
    pub end_on_logout: bool,
    /// Reset to 1 at each scheduled start.
    pub daily_reset: bool,
    /// When the session runs.
    pub schedule: Schedule,
    /// Where its numbers are persisted.
    pub store: SeqStore,
    /// Longest message handed on.
    pub max_message_bytes: usize,
}

/// How one connection ended.
enum Ended {
    /// Closed; the session may connect again.
    Closed { logged_on: bool, refused: bool, peer_logout: bool },
    /// Told to stop.
    Stopped,
}

/// The I/O thread's body: runs the session until stopped, ended (peer logout with
/// `end_on_logout`) or given up.
pub fn run(
    link: Link,
    mut session: Session,
    mut tx: Producer<u8>,
    stop: Arc<AtomicBool>,
    counters: Arc<SessionCounters>,
) -> Result<(), SessionError> {
    let clock = IngestClock::start();
    let mut framer = Framer::new(link.max_message_bytes.max(1024));
    let mut delay = link.backoff.0;
    let mut refusals = 0u32;
    // A restart inside the window its numbers were stored in goes on with them; numbers from
    // an earlier window start again at 1 with a daily reset.
    let mut was_open = match (link.schedule.opened_at(wall_now()), link.store.saved_at()) {
        (Some(opened), Some(saved)) => {
            let saved = saved.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64);
            saved >= opened.0
        }
        _ => false,
    };
    let io_err =
        |what: &str, source: io::Error| SessionError::Io { session: link.name.clone(), what: what.into(), source };
    while !stop.load(Ordering::Acquire) && !tx.is_abandoned() {
        let open = link.schedule.is_open(wall_now());
        if !open {
            was_open = false;
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        if !was_open && link.daily_reset {
            tracing::info!(session = %link.name, "schedule start: sequence numbers start again at 1");
            session.reset_sequences();
            counters.resets.fetch_add(1, Ordering::Relaxed);
        }
        was_open = true;
        let stream = match connect(&link, &stop) {
            Ok(Some(s)) => s,
            Ok(None) => continue,
            Err(e) => {
                counters.connect_failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(session = %link.name, to = %link.connect_to, error = %e, retry_ms = delay.as_millis() as u64, "FIX connect failed; retrying");
                sleep_unless(&stop, delay);
                delay = (delay * 2).min(link.backoff.1);
                continue;
            }
        };
        counters.connections.fetch_add(1, Ordering::Relaxed);
        framer.clear();
        let ended = serve(&link, &mut session, stream, &mut framer, &mut tx, &stop, &counters, &clock)
            .map_err(|e| io_err("connection", e));
        counters.logged_on.store(false, Ordering::Relaxed);
        counters.disconnects.fetch_add(1, Ordering::Relaxed);
        link.store.save(session.seq_nums()).map_err(|e| io_err("persisting sequence numbers", e))?;
        let ended = match ended {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(session = %link.name, error = %e, "FIX connection lost");
                Ended::Closed { logged_on: false, refused: false, peer_logout: false }
            }
        };
        match ended {
            Ended::Stopped => break,
            Ended::Closed { peer_logout: true, .. } if link.end_on_logout => {
                tracing::info!(session = %link.name, "the peer logged out: input ends (end_on_logout)");
                let mut end = Vec::with_capacity(HEADER);
                rings::end_frame(&mut end);
                push_frame(&mut tx, &stop, &end);
                return Ok(());
            }
            Ended::Closed { logged_on, refused, .. } => {
                if logged_on {
                    delay = link.backoff.0;
                    refusals = 0;
                }
                // A connection closed before logon is a refused logon too (QuickFIX drops the
                // connection of a session it does not know, without a Logout).
                if refused || !logged_on {
                    refusals += 1;
                    if link.max_refusals > 0 && refusals >= link.max_refusals {
                        return Err(SessionError::GaveUp {
                            session: link.name.clone(),
                            what: format!("logon refused {refusals} times in a row; giving up (max_logon_refusals)"),
                        });
                    }
                }
                tracing::info!(session = %link.name, retry_ms = delay.as_millis() as u64, "FIX session disconnected; reconnecting");
                sleep_unless(&stop, delay);
                delay = (delay * 2).min(link.backoff.1);
            }
        }
    }
    link.store.save(session.seq_nums()).map_err(|e| io_err("persisting sequence numbers", e))
}

/// A connection: made (initiator) or accepted (acceptor; `None` when nothing came yet).
fn connect(link: &Link, stop: &AtomicBool) -> io::Result<Option<TcpStream>> {
    match (&link.listener, link.role) {
        (Some(l), Role::Acceptor) => {
            let deadline = Instant::now() + Duration::from_millis(200);
            while Instant::now() < deadline && !stop.load(Ordering::Acquire) {
                match l.accept() {
                    Ok((s, peer)) => {
                        tracing::info!(session = %link.name, %peer, "FIX connection accepted");
                        s.set_nonblocking(false)?;
                        return Ok(Some(s));
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(10)),
                    Err(e) => return Err(e),
                }
            }
            Ok(None)
        }
        _ => {
            let addrs: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(link.connect_to.as_str())?.collect();
            let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
            for a in addrs {
                match TcpStream::connect_timeout(&a, Duration::from_secs(2)) {
                    Ok(s) => {
                        tracing::info!(session = %link.name, to = %a, "FIX connected");
                        return Ok(Some(s));
                    }
                    Err(e) => last = e,
                }
            }
            Err(last)
        }
    }
}

fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until && !stop.load(Ordering::Acquire) {
        std::thread::sleep(Duration::from_millis(10).min(until - Instant::now()));
    }
}

/// Pushes one frame, waiting while the ring is full (TCP backpressure then reaches the peer).
fn push_frame(tx: &mut Producer<u8>, stop: &AtomicBool, f: &[u8]) -> bool {
    loop {
        if rings::push_frame(tx, f) {
            return true;
        }
        if stop.load(Ordering::Acquire) || tx.is_abandoned() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Runs one connection until it closes.
#[allow(clippy::too_many_arguments)]
fn serve(
    link: &Link,
    session: &mut Session,
    mut stream: TcpStream,
    framer: &mut Framer,
    tx: &mut Producer<u8>,
    stop: &AtomicBool,
    counters: &SessionCounters,
    clock: &IngestClock,
) -> io::Result<Ended> {
    stream.set_read_timeout(Some(TICK))?;
    stream.set_nodelay(true)?;
    let mut actions = Vec::new();
    let mut flags = Flags::default();
    session.on_connected(wall_now(), &mut actions);
    let mut buf = vec![0u8; 64 << 10];
    let mut stopping: Option<Instant> = None;
    let mut persisted = session.seq_nums();
    let mut frame = Vec::with_capacity(HEADER + link.max_message_bytes.max(1024));
    loop {
        // Persisted before what the session said is sent: our next number is on disk before
        // the peer can see it used (a restart never reuses a number; D64).
        if session.seq_nums() != persisted {
            persisted = session.seq_nums();
            link.store.save(persisted)?;
        }
        if let Some(why) = execute(&mut actions, &mut stream, &link.name, counters, &mut flags)? {
            session.on_disconnected();
            tracing::info!(session = %link.name, reason = %why, "FIX connection closed");
            if stopping.is_some() {
                return Ok(Ended::Stopped);
            }
            return Ok(Ended::Closed {
                logged_on: flags.logged_on,
                refused: flags.refused,
                peer_logout: flags.peer_logout,
            });
        }
        if stopping.is_none() && (stop.load(Ordering::Acquire) || tx.is_abandoned()) {
            stopping = Some(Instant::now());
            session.logout("fxrecon is shutting down", wall_now(), &mut actions);
            if !session.is_active() && actions.is_empty() {
                return Ok(Ended::Stopped);
            }
            continue;
        }
        if stopping.is_some_and(|t| t.elapsed() > Duration::from_secs(2)) {
            return Ok(Ended::Stopped);
        }
        if stopping.is_none() && session.is_active() && !link.schedule.is_open(wall_now()) {
            session.logout("end of the session's schedule", wall_now(), &mut actions);
            continue;
        }
        match stream.read(&mut buf) {
            Ok(0) => {
                session.on_disconnected();
                tracing::warn!(session = %link.name, "the peer closed the TCP connection");
                if stopping.is_some() {
                    return Ok(Ended::Stopped);
                }
                return Ok(Ended::Closed {
                    logged_on: flags.logged_on,
                    refused: flags.refused,
                    peer_logout: flags.peer_logout,
                });
            }
            Ok(n) => {
                let received = clock.now();
                framer.extend(&buf[..n]);
                loop {
                    let msg = match framer.next_message() {
                        Ok(Some(m)) => m,
                        Ok(None) => break,
                        Err(e) => {
                            actions.push(Action::Disconnect(e.to_string()));
                            break;
                        }
                    };
                    if session.on_message(msg, wall_now(), &mut actions) {
                        let app = !crate::session::is_admin(crate::message::Fields::new(msg).get(35).unwrap_or(b""));
                        rings::stamp_frame(&mut frame, received.0, msg.len() as u64, msg);
                        if push_frame(tx, stop, &frame) {
                            counters.delivered.fetch_add(1, Ordering::Relaxed);
                            if app {
                                counters.application.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    if actions.iter().any(|a| matches!(a, Action::Disconnect(_))) {
                        break;
                    }
                }
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        session.on_tick(wall_now(), &mut actions);
    }
}

/// What a connection's events said, for the reconnect policy.
#[derive(Default)]
struct Flags {
    logged_on: bool,
    refused: bool,
    peer_logout: bool,
}

/// Carries out the session's actions; returns the reason when it said to disconnect.
fn execute(
    actions: &mut Vec<Action>,
    stream: &mut TcpStream,
    name: &str,
    counters: &SessionCounters,
    flags: &mut Flags,
) -> io::Result<Option<String>> {
    let mut disconnect = None;
    for a in actions.drain(..) {
        match a {
            Action::Send(bytes) => {
                if disconnect.is_none() || is_logout(&bytes) {
                    // A write error closes the connection like a peer close would.
                    if let Err(e) = stream.write_all(&bytes) {
                        disconnect.get_or_insert(format!("write failed: {e}"));
                    }
                }
            }
            Action::Disconnect(why) => {
                disconnect.get_or_insert(why);
            }
            Action::Event(e) => {
                counters.count(&e);
                log_event(name, &e);
                match e {
                    Event::LoggedOn { .. } => {
                        flags.logged_on = true;
                        counters.logged_on.store(true, Ordering::Relaxed);
                    }
                    Event::LogonRefused(_) => flags.refused = true,
                    Event::LoggedOut { by_peer: true, .. } => flags.peer_logout = true,
                    _ => {}
                }
            }
        }
    }
    if disconnect.is_some() {
        let _ = stream.flush();
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
    Ok(disconnect)
}

fn is_logout(bytes: &[u8]) -> bool {
    crate::message::Fields::new(bytes).get(35) == Some(b"5")
}

fn log_event(name: &str, e: &Event) {
    match e {
        Event::LoggedOn { reset } => tracing::info!(session = name, reset, "FIX logon"),
        Event::LogonRefused(why) => tracing::error!(session = name, reason = %why, "FIX logon refused"),
        Event::LoggedOut { by_peer, text } => tracing::info!(session = name, by_peer, text = %text, "FIX logout"),
        Event::GapDetected { expected, seen } => {
            tracing::warn!(session = name, expected, seen, "FIX sequence gap detected")
        }
        Event::ResendRequested { begin, end, attempt } => {
            tracing::warn!(session = name, begin, end, attempt, "FIX ResendRequest sent")
        }
        Event::GapFilled => tracing::info!(session = name, "FIX sequence gap filled"),
        Event::ResendAbandoned => {
            tracing::error!(session = name, "FIX ResendRequest unanswered after the bounded retries: logging out")
        }
        Event::Reset { expected, new } => tracing::warn!(session = name, expected, new, "FIX sequence reset"),
        Event::DuplicateDiscarded(seq) => tracing::debug!(session = name, seq, "FIX resend already had: discarded"),
        Event::ResendAnswered { begin, new_seq_no } => {
            tracing::info!(session = name, begin, new_seq_no, "FIX ResendRequest answered with a GapFill")
        }
        Event::Rejected(why) => tracing::warn!(session = name, reason = %why, "FIX message rejected"),
        Event::PeerReject(why) => tracing::warn!(session = name, reason = %why, "FIX peer rejected our message"),
        Event::TestRequestSent => tracing::info!(session = name, "FIX peer silent: TestRequest sent"),
    }
}
