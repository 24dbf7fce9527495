//! The daemon's life cycle and live inputs end to end (contract section 6, issue 21):
//! SIGTERM mid-run stops cleanly and a restart finishes the day exactly as one uninterrupted
//! run; a second signal exits at once and the journal still recovers; standard input and a
//! FIFO give the file's output; `--follow` reconciles lines appended after start; a file
//! truncated under the reader stops that input with a clear error instead of killing the
//! process; `--status-every` prints live counters; `--check-config` and unknown config keys.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{bin, run_journaled, run_on, scratch, write_day, write_faulty_day};

/// A running `fxrecon`, killed and waited for if the test fails before it is: it never
/// outlives the directory it writes in (declared after it, it is dropped first).
struct Running(Option<Child>);

fn spawn(c: &mut Command) -> Running {
    Running(Some(c.spawn().unwrap()))
}

impl Running {
    /// Waits for the exit, collecting what was piped.
    fn output(mut self) -> Output {
        self.0.take().expect("running").wait_with_output().unwrap()
    }
}

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        self.0.as_ref().expect("running")
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        self.0.as_mut().expect("running")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A generated day in `dir`: (primary, dropcopy).
/// `reconcile`'s output for the two inputs: what one uninterrupted run reports.
fn reference(p: &Path, d: &Path, dir: &Path) -> Vec<u8> {
    let out = dir.join("reference.jsonl");
    let o = bin()
        .arg("reconcile")
        .arg("--primary")
        .arg(p)
        .arg("--dropcopy")
        .arg(d)
        .arg("--out")
        .arg(&out)
        .arg("--summary")
        .arg(dir.join("reference-summary.json"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read(out).unwrap()
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill").arg(format!("-{sig}")).arg(child.id().to_string()).status().unwrap();
    assert!(ok.success());
}

/// Waits for `child` at most `limit`; fails if it takes longer (the child is killed then).
fn wait_within(mut child: Running, limit: Duration) -> (Output, Duration) {
    let t = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return (child.output(), t.elapsed());
        }
        if t.elapsed() > limit {
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The run summary: the pretty JSON object among the log lines on stderr.
fn summary_of(stderr: &[u8]) -> serde_json::Value {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| *l == "{").unwrap_or_else(|| panic!("no summary in: {text}"));
    let end = start + lines[start..].iter().position(|l| *l == "}").unwrap_or_else(|| panic!("unterminated: {text}"));
    serde_json::from_str(&lines[start..=end].join("\n")).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn run_cmd(p: &Path, d: &Path, out: &Path, rejects: &Path, journal: &Path) -> Command {
    let mut c = run_journaled(p, d, out, journal);
    c.arg("--rejects").arg(rejects);
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

/// `run` of two inputs into `out`, stderr captured.
fn run_plain(p: &Path, d: &Path, out: &Path) -> Command {
    let mut c = run_on(p, d, out);
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

fn journal_verifies(journal: &Path) {
    let o = bin().args(["journal", "verify"]).arg(journal).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "journal verify: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn sigterm_two_seconds_into_a_paced_journaled_run_stops_cleanly_and_a_restart_finishes_the_day() {
    let tmp = scratch("sigterm");
    let dir = tmp.path();
    let (p, d) = write_day(dir, 3_000, 8);
    let want = reference(&p, &d, dir);
    let (out, rejects, journal) = (dir.join("out.jsonl"), dir.join("rejects.jsonl"), dir.join("journal"));

    // About 26,000 messages at 4,000 a second: the signal lands early in the day. The files'
    // clock keeps the output comparable with `reconcile`'s.
    let child = spawn(run_cmd(&p, &d, &out, &rejects, &journal).args(["--pace", "4000", "--clock", "file"]));
    std::thread::sleep(Duration::from_secs(2));
    signal(&child, "TERM");
    let (first, took) = wait_within(child, Duration::from_secs(10));
    assert_eq!(first.status.code(), Some(0), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(took < Duration::from_secs(10));
    let s = summary_of(&first.stderr);
    assert_eq!(s["interrupted"], true);
    let read = s["messages_read"]["primary"].as_u64().unwrap() + s["messages_read"]["dropcopy"].as_u64().unwrap();
    assert!(read > 1_000 && read < 20_000, "the signal came mid-day: {read} messages read");
    let partial = std::fs::read(&out).unwrap();
    assert!(want.starts_with(&partial), "what the first run wrote is the start of the day's output");
    assert!(partial.len() < want.len());
    journal_verifies(&journal);

    // The restart recovers (from the final snapshot) and finishes the day.
    let (second, _) = wait_within(spawn(&mut run_cmd(&p, &d, &out, &rejects, &journal)), Duration::from_secs(60));
    assert_eq!(second.status.code(), Some(0), "{}", String::from_utf8_lossy(&second.stderr));
    let s = summary_of(&second.stderr);
    assert_eq!(s["interrupted"], false);
    assert!(s["recovered"]["snapshot"].as_u64().is_some(), "the restart starts from the shutdown's snapshot: {s}");
    let got = std::fs::read(&out).unwrap();
    assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(want).unwrap(), "none lost, none twice");
    assert_eq!(std::fs::read(&rejects).unwrap(), b"");
    journal_verifies(&journal);
}

#[test]
fn a_second_signal_exits_at_once_and_the_journal_still_recovers() {
    let tmp = scratch("second-signal");
    let dir = tmp.path();
    // Many faults: far more output than a pipe holds.
    let (p, d) = write_faulty_day(dir, 3_000, 9, 0.3);
    let want = reference(&p, &d, dir);
    let (out, rejects, journal) = (dir.join("out.jsonl"), dir.join("rejects.jsonl"), dir.join("journal"));
    // A shutdown that cannot finish: the output is a FIFO nobody reads, so the drain blocks.
    let fifo = dir.join("stuck.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = std::fs::OpenOptions::new().read(true).write(true).open(&fifo).unwrap();
    let mut child = spawn(&mut run_cmd(&p, &d, &fifo, &rejects, &journal));
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, "TERM");
    std::thread::sleep(Duration::from_millis(500));
    assert!(child.try_wait().unwrap().is_none(), "the drain is blocked on the output: still running");
    signal(&child, "TERM");
    let (o, took) = wait_within(child, Duration::from_secs(5));
    drop(reader);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(took < Duration::from_secs(5));
    // The journal recovers: a restart with a plain rejects file finishes the day.
    let (again, _) = wait_within(spawn(&mut run_cmd(&p, &d, &out, &rejects, &journal)), Duration::from_secs(60));
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), want);
}

#[test]
fn standard_input_and_a_fifo_give_the_output_of_the_file() {
    let tmp = scratch("stdin");
    let dir = tmp.path();
    let (p, d) = write_day(dir, 1_500, 3);
    let want = reference(&p, &d, dir);
    // reconcile and run, the primary from standard input.
    for cmd in ["reconcile", "run"] {
        let out = dir.join(format!("{cmd}-stdin.jsonl"));
        let mut child = spawn(
            bin()
                .arg(cmd)
                .args(["--primary", "-", "--dropcopy"])
                .arg(&d)
                .arg("--out")
                .arg(&out)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped()),
        );
        let bytes = std::fs::read(&p).unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // Written in pieces, as a pipe delivers it.
        for piece in bytes.chunks(7_919) {
            stdin.write_all(piece).unwrap();
        }
        drop(stdin);
        let (o, _) = wait_within(child, Duration::from_secs(60));
        assert!(o.status.success(), "{cmd}: {}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(std::fs::read(&out).unwrap(), want, "{cmd} with the primary on stdin");
    }
    // The drop copy through a FIFO.
    let fifo = dir.join("dropcopy.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let out = dir.join("fifo.jsonl");
    let child = spawn(&mut run_plain(&p, &fifo, &out));
    let bytes = std::fs::read(&d).unwrap();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        f.write_all(&bytes).unwrap();
    });
    let (o, _) = wait_within(child, Duration::from_secs(60));
    writer.join().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), want, "the drop copy through a FIFO");
}

/// Reads `child`'s stderr lines on a thread; returns the receiver of the lines.
fn stderr_lines(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn follow_reconciles_lines_appended_after_start_then_stops_on_sigterm() {
    let tmp = scratch("follow");
    let dir = tmp.path();
    let (full_p, full_d) = write_day(dir, 1_500, 4);
    let want = reference(&full_p, &full_d, dir);
    let (p_bytes, d_bytes) = (std::fs::read(&full_p).unwrap(), std::fs::read(&full_d).unwrap());
    let half = |b: &[u8]| {
        let ends: Vec<usize> = b.iter().enumerate().filter(|(_, c)| **c == b'\n').map(|(i, _)| i + 1).collect();
        ends[ends.len() / 2]
    };
    let (hp, hd) = (half(&p_bytes), half(&d_bytes));
    let (p, d, out) = (dir.join("follow-p.fix"), dir.join("follow-d.fix"), dir.join("follow.jsonl"));
    std::fs::write(&p, &p_bytes[..hp]).unwrap();
    std::fs::write(&d, &d_bytes[..hd]).unwrap();
    let mut child = spawn(run_plain(&p, &d, &out).arg("--follow").args(["--status-every", "1"]));
    let lines = stderr_lines(&mut child);
    std::thread::sleep(Duration::from_millis(500));
    // The rest of the day arrives, in pieces, after the run started.
    for (path, bytes) in [(&p, &p_bytes[hp..]), (&d, &d_bytes[hd..])] {
        let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        for piece in bytes.chunks(50_000) {
            f.write_all(piece).unwrap();
            f.flush().unwrap();
        }
    }
    let total = (p_bytes.iter().filter(|&&b| b == b'\n').count(), d_bytes.iter().filter(|&&b| b == b'\n').count());
    // The status lines show every line read, then the run is stopped.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let line = lines.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("a status line");
        if line.starts_with("status:")
            && line.contains(&format!("primary {} msgs", total.0))
            && line.contains(&format!("dropcopy {} msgs", total.1))
        {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "TERM");
    let (o, _) = wait_within(child, Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(0));
    let rest: Vec<String> = lines.try_iter().collect();
    let summary = summary_of(rest.join("\n").as_bytes());
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["messages_read"]["primary"].as_u64().unwrap() as usize, total.0);
    // Stopped, not ended: no end-of-day flush, so the output is the day's output up to it.
    let got = std::fs::read(&out).unwrap();
    assert!(want.starts_with(&got), "a followed run's output is the start of the day's");
    assert!(
        got.len() * 2 > want.len(),
        "lines appended after the start were reconciled ({} of {} bytes)",
        got.len(),
        want.len()
    );
}

#[test]
fn a_file_truncated_under_the_reader_stops_that_input_with_a_clear_error() {
    let tmp = scratch("truncate");
    let dir = tmp.path();
    let (p, d) = write_day(dir, 3_000, 6);
    // Read slowly (paced), then cut the primary file short under the reader.
    let child = spawn(run_plain(&p, &d, &dir.join("out.jsonl")).args(["--pace", "3000"]));
    std::thread::sleep(Duration::from_millis(1500));
    std::fs::OpenOptions::new().write(true).open(&p).unwrap().set_len(1000).unwrap();
    let (o, _) = wait_within(child, Duration::from_secs(60));
    let err = String::from_utf8_lossy(&o.stderr);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(o.status.signal(), None, "killed by a signal: {err}");
    assert_eq!(o.status.code(), Some(1), "an input failed while running: {err}");
    assert!(err.contains("was truncated while being read") && err.contains("primary.fix"), "{err}");
    let s = summary_of(&o.stderr);
    assert_eq!(s["inputs"]["primary"], "failed");
    assert_eq!(s["inputs"]["dropcopy"], "ended", "the other input went on to its end");

    // Followed: a truncation is noticed at the file's end too.
    let child = spawn(run_plain(&p, &d, &dir.join("out2.jsonl")).arg("--follow"));
    std::thread::sleep(Duration::from_millis(800));
    std::fs::OpenOptions::new().write(true).open(&p).unwrap().set_len(10).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, "TERM");
    let (o, _) = wait_within(child, Duration::from_secs(10));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.signal(), None, "{err}");
    assert!(err.contains("was truncated"), "{err}");
}

#[test]
fn check_config_reports_what_a_run_would_use_and_unknown_keys_exit_2() {
    let tmp = scratch("config");
    let dir = tmp.path();
    let (p, d) = write_day(dir, 100, 1);
    let cfg = dir.join("fxrecon.toml");
    std::fs::write(&cfg, format!("grace_ms = 1500\n[primary]\npath = {:?}\n[dropcopy]\npath = {:?}\n", p, d)).unwrap();
    let o = bin().args(["run", "--check-config", "--out", "/dev/null", "--config"]).arg(&cfg).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.starts_with("config OK") && text.contains("primary.fix") && text.contains("grace_ms 1500"), "{text}");
    // A run from the config's inputs alone.
    let out = dir.join("out.jsonl");
    let o = bin().args(["run", "--out"]).arg(&out).arg("--config").arg(&cfg).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    for bad in ["grace_ms = 1500\nfollw = true\n", "[primary]\npath = \"x\"\nfolow = true\n"] {
        std::fs::write(&cfg, bad).unwrap();
        let o = bin().args(["run", "--check-config", "--out", "/dev/null", "--config"]).arg(&cfg).output().unwrap();
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("unknown field") && (err.contains("follw") || err.contains("folow")), "{err}");
    }
    // A directory is not an input.
    let o = bin().args(["reconcile", "--dropcopy"]).arg(&d).arg("--primary").arg(dir).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("is a directory"), "{err}");
}
