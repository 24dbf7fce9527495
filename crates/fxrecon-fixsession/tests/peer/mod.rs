//! The QuickFIX peer process of the interop tests: started with the venv's Python, driven by
//! commands on its stdin, read line by line from its stdout; killed when dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use fxrecon_engine::ingest::source::{MessageSource, Poll, SourceMessage};

/// The Python with `quickfix` installed: `FXRECON_FIX_PEER_PYTHON` (set by
/// scripts/bootstrap-fixsession.sh) or the venv it makes. Missing: the test fails, saying how
/// to install it (CI installs it; never a silent skip).
pub fn python() -> PathBuf {
    let candidate = std::env::var_os("FXRECON_FIX_PEER_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        let tools = std::env::var_os("FXRECON_TOOLS_DIR").map(PathBuf::from).unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/fxrecon-tools")
        });
        tools.join("fixpeer/bin/python")
    });
    let ok = Command::new(&candidate).args(["-c", "import quickfix"]).output().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "the QuickFIX test peer is not installed ({} cannot import quickfix): run `bash scripts/bootstrap-fixsession.sh`",
        candidate.display()
    );
    candidate
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A counter's value.
pub fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

/// A running QuickFIX peer.
pub struct Peer {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Peer {
    /// Starts `peer.py` as `role` on `port`, its store and logs in `work`.
    pub fn start(role: &str, port: u16, sender: &str, target: &str, work: &Path) -> Self {
        // From this crate's tests and from the binary's (both crates sit under crates/).
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fxrecon-fixsession/tests/peer/peer.py");
        let mut child = Command::new(python())
            .arg(script)
            .args([role, &port.to_string(), sender, target])
            .arg(work.join(format!("peer-{sender}")))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starts the QuickFIX peer");
        let stdin = child.stdin.take().unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let mut p = Self { child, stdin, lines, seen: Vec::new() };
        assert!(p.wait_for("STARTED", Duration::from_secs(20)), "the QuickFIX peer did not start: {:?}", p.seen);
        p
    }

    /// Waits (up to `limit`) for a line starting with `prefix`; true when it came.
    pub fn wait_for(&mut self, prefix: &str, limit: Duration) -> bool {
        if self.seen.iter().any(|l| l.starts_with(prefix)) {
            return true;
        }
        let until = Instant::now() + limit;
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    let hit = l.starts_with(prefix);
                    self.seen.push(l);
                    if hit {
                        return true;
                    }
                }
                Err(_) => return false,
            }
        }
        false
    }

    /// Sends a command and waits for its answer line (starting with `answer`).
    pub fn cmd(&mut self, command: &str, answer: &str) {
        self.seen.retain(|l| !l.starts_with(answer));
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
        assert!(
            self.wait_for(answer, Duration::from_secs(30)),
            "QuickFIX peer: no {answer:?} after {command:?}; it said {:?}",
            self.seen
        );
    }

    /// Sends a command without waiting for its answer (two peers working at once); earlier
    /// lines starting with `answer` are forgotten, so [`Peer::answer`] waits for this one's.
    pub fn send(&mut self, command: &str, answer: &str) {
        self.seen.retain(|l| !l.starts_with(answer));
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// Waits for the answer `answer` of a command given with [`Peer::send`].
    pub fn answer(&mut self, answer: &str, limit: Duration) {
        assert!(self.wait_for(answer, limit), "QuickFIX peer: no {answer:?}; it said {:?}", self.seen);
    }

    /// Forgets every line starting with `prefix` it printed so far (a later
    /// [`Peer::wait_for`] waits for a new one).
    pub fn forget(&mut self, prefix: &str) {
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
        self.seen.retain(|l| !l.starts_with(prefix));
    }

    /// Whether the peer printed a line starting with `prefix` so far.
    pub fn saw(&mut self, prefix: &str) -> bool {
        self.wait_for(prefix, Duration::from_millis(100))
    }

    /// Stops it.
    pub fn quit(mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `src` until `done` holds for the messages so far, the input ends, or `limit` passes.
/// Returns the messages (as text) and whether the input ended.
pub fn collect(src: &mut dyn MessageSource, limit: Duration, done: impl Fn(&[String]) -> bool) -> (Vec<String>, bool) {
    let until = Instant::now() + limit;
    let mut msgs = Vec::new();
    let mut finished = false;
    while Instant::now() < until {
        // Once done, what is already in the ring is still taken (the counters may run ahead).
        finished |= done(&msgs);
        match src.poll().expect("the session input does not fail") {
            Poll::Message(SourceMessage::Whole { bytes, received }) => {
                assert!(received.is_some(), "a live message carries its receive stamp");
                msgs.push(String::from_utf8_lossy(bytes).into_owned());
            }
            Poll::Message(m) => panic!("unexpected {m:?}"),
            Poll::Pending if finished => break,
            Poll::Pending => std::thread::sleep(Duration::from_millis(2)),
            Poll::End => return (msgs, true),
        }
    }
    (msgs, false)
}
