//! The daemon fed over Aeron through interruptions (issue 24 acceptance): SIGTERM drains and
//! exits 0, a restart with `--journal` resumes from the journal, repeats nothing and reports
//! what was published while it was down as a sequence gap; a publisher killed and restarted
//! mid-day is logged as a lost image, the daemon keeps running, reports the gap and reconciles
//! the rest exactly. "Exactly" is checked against `reconcile` on the same files with the
//! lost lines left out.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use common::{Reap, bin, scratch, write_day};
use fxrecon_aeron::driver::{DRIVER_DIR_NAME, DriverConfig, MediaDriver};
use fxrecon_aeron::endpoint::Endpoint;
use fxrecon_aeron::marker::END_OF_STREAM;
use fxrecon_aeron::publisher::Publisher;

/// The lines of a FIX log (without line ends).
fn lines_of(p: &Path) -> Vec<Vec<u8>> {
    std::fs::read(p).unwrap().split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect()
}

/// The index of the first line whose arrival prefix is at or after `t`.
fn first_at(lines: &[Vec<u8>], t: &[u8]) -> usize {
    lines.iter().position(|l| &l[..t.len()] >= t).unwrap_or(lines.len())
}

/// Writes `parts` one after the other as a log file.
fn write_log(path: &Path, parts: &[&[Vec<u8>]]) {
    let mut bytes = Vec::new();
    for l in parts.iter().flat_map(|p| p.iter()) {
        bytes.extend_from_slice(l);
        bytes.push(b'\n');
    }
    std::fs::write(path, bytes).unwrap();
}

/// `reconcile` on `p`/`d`: its output.
fn reconcile(dir: &Path, p: &Path, d: &Path) -> Vec<u8> {
    let want = dir.join("want.jsonl");
    let o = bin()
        .args(["reconcile", "--primary"])
        .arg(p)
        .arg("--dropcopy")
        .arg(d)
        .arg("--out")
        .arg(&want)
        .arg("--rejects")
        .arg(dir.join("want.rej"))
        .arg("--summary")
        .arg(dir.join("want.summary"))
        .output()
        .unwrap();
    assert!(o.status.success(), "reconcile: {}", String::from_utf8_lossy(&o.stderr));
    std::fs::read(want).unwrap()
}

/// Each stderr line of `child`, as it comes.
fn stderr_lines(child: &mut Reap) -> Receiver<String> {
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

/// What a daemon said on stderr so far, kept, with waits for a line that matches.
struct Said {
    rx: Receiver<String>,
    all: Vec<String>,
}

impl Said {
    fn new(child: &mut Reap) -> Self {
        Self { rx: stderr_lines(child), all: Vec::new() }
    }

    /// Waits up to `limit` for a line `f` accepts; returns what `f` made of it.
    fn wait_for<T>(&mut self, limit: Duration, mut f: impl FnMut(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    let got = f(&line);
                    self.all.push(line);
                    if let Some(t) = got {
                        return t;
                    }
                }
                Err(_) => panic!("waited {limit:?} in vain; the daemon said:\n{}", self.all.join("\n")),
            }
        }
    }

    /// Waits for a status line; returns the messages (read and rejected) of both streams.
    fn status(&mut self, limit: Duration) -> [u64; 2] {
        self.wait_for(limit, status_counts)
    }

    /// Everything until the child closes stderr, then the run summary in it.
    fn summary(&mut self) -> serde_json::Value {
        self.all.extend(self.rx.iter());
        let start = self.all.iter().position(|l| l == "{").unwrap_or_else(|| panic!("no summary: {:?}", self.all));
        let end = start + self.all[start..].iter().position(|l| l == "}").expect("a whole summary");
        serde_json::from_str(&self.all[start..=end].join("\n")).unwrap()
    }
}

/// The messages (read + rejected) of primary and drop copy in a status line.
fn status_counts(line: &str) -> Option<[u64; 2]> {
    let rest = line.strip_prefix("status: ")?;
    let count = |name: &str| -> u64 {
        let s = &rest[rest.find(&format!("{name} ")).unwrap() + name.len() + 1..];
        let w: Vec<&str> = s.split_whitespace().collect();
        w[0].parse::<u64>().unwrap() + w[2].parse::<u64>().unwrap()
    };
    Some([count("primary"), count("dropcopy")])
}

fn wait_exit_ok(child: &mut Reap, what: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{what} exited with {status}");
            return;
        }
        assert!(Instant::now() < deadline, "{what} did not finish in {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn until(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "{what} took longer than {limit:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn gap_records(out: &[u8]) -> usize {
    String::from_utf8_lossy(out).lines().filter(|l| l.contains("\"type\":\"SequenceGap\"")).count()
}

/// The daemon over IPC through the driver in `aeron_dir`, journaling into `journal`.
fn journaled_daemon(aeron_dir: &Path, journal: &Path, out: &Path, rejects: &Path) -> Reap {
    Reap(
        bin()
            .args([
                "run",
                "--primary",
                "aeron:ipc",
                "--dropcopy",
                "aeron:ipc",
                "--clock",
                "file",
                "--status-every",
                "1",
            ])
            .arg("--aeron-dir")
            .arg(aeron_dir)
            .arg("--journal")
            .arg(journal)
            .arg("--out")
            .arg(out)
            .arg("--rejects")
            .arg(rejects)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

#[test]
fn sigterm_drains_an_aeron_fed_run_and_a_journaled_restart_reports_what_it_missed_as_a_gap() {
    let tmp = scratch("aeron-journal");
    let dir = tmp.path();
    let (p, d) = write_day(dir, 300, 31);
    let (pl, dl) = (lines_of(&p), lines_of(&d));
    // Three parts by arrival time: published before the stop, while the daemon is down, after.
    let t1 = pl[pl.len() * 35 / 100][..27].to_vec();
    let t2 = pl[pl.len() * 65 / 100][..27].to_vec();
    let cut = |l: &[Vec<u8>]| (first_at(l, &t1), first_at(l, &t2));
    let ((p1, p2), (d1, d2)) = (cut(&pl), cut(&dl));
    let (kept_p, kept_d) = (dir.join("kept-primary.fix"), dir.join("kept-dropcopy.fix"));
    write_log(&kept_p, &[&pl[..p1], &pl[p2..]]);
    write_log(&kept_d, &[&dl[..d1], &dl[d2..]]);
    let want = reconcile(dir, &kept_p, &kept_d);

    // An external media driver (this process's), so the publishers outlive the daemon.
    let driver = MediaDriver::embedded_at(&dir.join("driver"), &DriverConfig::default()).unwrap();
    let wait = Duration::from_secs(30);
    let primary = Publisher::connect(driver.dir(), Endpoint::new("aeron:ipc", 1001), wait).unwrap();
    let dropcopy = Publisher::connect(driver.dir(), Endpoint::new("aeron:ipc", 1002), wait).unwrap();
    let (out, rejects, journal) = (dir.join("out.jsonl"), dir.join("rejects.jsonl"), dir.join("journal"));

    let mut first = journaled_daemon(driver.dir(), &journal, &out, &rejects);
    let mut said = Said::new(&mut first);
    primary.wait_connected(wait).unwrap();
    dropcopy.wait_connected(wait).unwrap();
    for l in &pl[..p1] {
        primary.offer(l, wait).unwrap();
    }
    for l in &dl[..d1] {
        dropcopy.offer(l, wait).unwrap();
    }
    // Everything published so far is read before the signal.
    let expected = [p1 as u64, d1 as u64];
    said.wait_for(Duration::from_secs(60), |l| status_counts(l).filter(|c| *c == expected));
    let term = Command::new("kill").arg("-TERM").arg(first.id().to_string()).status().unwrap();
    assert!(term.success());
    wait_exit_ok(&mut first, "the daemon after SIGTERM", Duration::from_secs(30));
    let s = said.summary();
    assert_eq!(s["interrupted"], true);
    assert_eq!(s["messages_read"]["primary"], p1 as u64);
    let before_restart = std::fs::read(&out).unwrap();

    // Published while nobody listens: lost (no archive holds it).
    until(Duration::from_secs(30), "the daemon's subscriptions to go", || {
        !primary.is_connected() && !dropcopy.is_connected()
    });
    for (publisher, lines) in [(&primary, &pl[p1..p2]), (&dropcopy, &dl[d1..d2])] {
        for l in lines {
            assert!(
                publisher.offer(l, Duration::ZERO).is_err(),
                "a message found a subscriber while the daemon was down"
            );
        }
    }

    // The restart recovers from the journal and goes on with what is published now.
    let mut second = journaled_daemon(driver.dir(), &journal, &out, &rejects);
    let mut said = Said::new(&mut second);
    primary.wait_connected(wait).unwrap();
    dropcopy.wait_connected(wait).unwrap();
    for l in &pl[p2..] {
        primary.offer(l, wait).unwrap();
    }
    for l in &dl[d2..] {
        dropcopy.offer(l, wait).unwrap();
    }
    primary.offer(END_OF_STREAM, wait).unwrap();
    dropcopy.offer(END_OF_STREAM, wait).unwrap();
    wait_exit_ok(&mut second, "the restarted daemon", Duration::from_secs(60));
    let s = said.summary();
    assert!(s["recovered"].is_object(), "the restart recovered: {s}");
    // Nothing journaled came again: this run read only what was published after it started.
    assert_eq!(s["messages_read"]["primary"], (pl.len() - p2) as u64);
    assert_eq!(s["messages_read"]["dropcopy"], (dl.len() - d2) as u64);

    let got = std::fs::read(&out).unwrap();
    assert!(got.starts_with(&before_restart), "the restart rewrote what the first run had written");
    assert!(gap_records(&got) > gap_records(&before_restart), "the lost messages were not reported as a gap");
    assert!(got == want, "the two runs' output differs from reconcile on the day without the lost lines");
    drop(driver);
}

#[test]
fn a_publisher_killed_and_restarted_mid_day_is_a_lost_image_and_a_gap_and_the_rest_reconciles_exactly() {
    let tmp = scratch("aeron-publisher-restart");
    let dir = tmp.path();
    let (p, d) = write_day(dir, 300, 32);
    let pl = lines_of(&p);
    let resume_at = pl.len() * 70 / 100;
    let state = dir.join("state");
    let aeron_dir = state.join(DRIVER_DIR_NAME);
    let out = dir.join("out.jsonl");
    // The inputs come from the config's [aeron] section only (no input flags), with stream ids
    // of their own and a killed client dropped after two seconds instead of Aeron's ten.
    let cfg = dir.join("fxrecon.toml");
    std::fs::write(
        &cfg,
        "[aeron]\nprimary_channel = \"aeron:ipc\"\nprimary_stream_id = 3001\ndropcopy_channel = \"aeron:ipc\"\n\
         dropcopy_stream_id = 3002\nclient_liveness_timeout_ms = 2000\n",
    )
    .unwrap();
    let mut daemon = Reap(
        bin()
            .args(["run", "--clock", "file", "--status-every", "1", "--config"])
            .arg(&cfg)
            .arg("--state-dir")
            .arg(&state)
            .arg("--out")
            .arg(&out)
            .arg("--rejects")
            .arg(dir.join("rejects.jsonl"))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut said = Said::new(&mut daemon);
    until(Duration::from_secs(30), "the daemon's media driver", || aeron_dir.join("cnc.dat").exists());
    let publish = |file: &Path, stream: &str, rate: Option<&str>| {
        let mut c = bin();
        let id = if stream == "primary" { "3001" } else { "3002" };
        c.args(["publish", "--stream", stream, "--stream-id", id, "--file"])
            .arg(file)
            .arg("--aeron-dir")
            .arg(&aeron_dir);
        if let Some(r) = rate {
            c.args(["--rate", r]);
        }
        Reap(c.stderr(Stdio::null()).spawn().unwrap())
    };
    let mut dropcopy = publish(&d, "dropcopy", None);
    // The primary publisher goes slowly and is killed about a third of the way in.
    let mut primary = publish(&p, "primary", Some("300"));
    said.wait_for(Duration::from_secs(60), |l| status_counts(l).filter(|c| c[0] as usize >= pl.len() * 30 / 100));
    primary.kill().unwrap();
    primary.wait().unwrap();
    // The daemon logs the lost image and goes on; after it, nothing more comes from the dead one.
    said.wait_for(Duration::from_secs(60), |l| l.contains("aeron image lost").then_some(()));
    let delivered = said.status(Duration::from_secs(10))[0] as usize;
    assert!(delivered < resume_at, "the killed publisher got too far ({delivered} lines)");
    let rest: PathBuf = dir.join("rest.fix");
    write_log(&rest, &[&pl[resume_at..]]);
    let mut restarted = publish(&rest, "primary", None);
    wait_exit_ok(&mut restarted, "the restarted publisher", Duration::from_secs(60));
    wait_exit_ok(&mut dropcopy, "the drop-copy publisher", Duration::from_secs(60));
    wait_exit_ok(&mut daemon, "the daemon", Duration::from_secs(60));
    let s = said.summary();
    assert_eq!(s["messages_read"]["primary"], (delivered + pl.len() - resume_at) as u64);

    let kept = dir.join("kept-primary.fix");
    write_log(&kept, &[&pl[..delivered], &pl[resume_at..]]);
    let want = reconcile(dir, &kept, &d);
    let got = std::fs::read(&out).unwrap();
    assert!(gap_records(&got) > 0, "no sequence gap reported");
    assert!(got == want, "the daemon's output differs from reconcile on the day without the lost lines");
}

#[test]
fn aeron_settings_come_from_the_config_and_flags_override_them() {
    let tmp = scratch("aeron-config");
    let cfg = tmp.path().join("fxrecon.toml");
    std::fs::write(
        &cfg,
        "[aeron]\ndir = \"/nonexistent/aeron\"\nprimary_channel = \"aeron:ipc\"\nprimary_stream_id = 11\n\
         dropcopy_channel = \"aeron:udp?endpoint=127.0.0.1:40999\"\noutput_channel = \"aeron:ipc\"\noutput_stream_id = 21\n",
    )
    .unwrap();
    let check = |extra: &[&str]| {
        let o = bin()
            .args(["run", "--check-config", "--out"])
            .arg(tmp.path().join("out.jsonl"))
            .arg("--config")
            .arg(&cfg)
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let from_config = check(&[]);
    assert!(from_config.contains("primary:  aeron:ipc stream 11 (Aeron)"), "{from_config}");
    assert!(from_config.contains("dropcopy: aeron:udp?endpoint=127.0.0.1:40999 stream 1002 (Aeron)"), "{from_config}");
    assert!(from_config.contains("out-aeron: aeron:ipc stream 21"), "{from_config}");
    assert!(from_config.contains("external media driver in /nonexistent/aeron"), "{from_config}");
    let flagged = check(&["--primary-stream-id", "12", "--out-stream-id", "22", "--aeron-dir", "/other/aeron"]);
    assert!(flagged.contains("primary:  aeron:ipc stream 12 (Aeron)"), "{flagged}");
    assert!(flagged.contains("out-aeron: aeron:ipc stream 22"), "{flagged}");
    assert!(flagged.contains("external media driver in /other/aeron"), "{flagged}");
    // A bad value is one clear line and exit 2.
    std::fs::write(&cfg, "[aeron]\nipc_term_buffer_bytes = 1000\n").unwrap();
    let o = bin().args(["run", "--check-config", "--out", "x.jsonl", "--config"]).arg(&cfg).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("aeron.ipc_term_buffer_bytes"));
}

#[test]
fn publish_timed_sends_each_line_when_its_arrival_prefix_says() {
    use fxrecon_aeron::source::{AeronSource, SourceConfig};
    use fxrecon_engine::ingest::source::{MessageSource, Poll, SourceMessage};
    let tmp = scratch("aeron-timed");
    let driver = MediaDriver::embedded_at(&tmp.path().join("driver"), &DriverConfig::default()).unwrap();
    let log = tmp.path().join("log.fix");
    // Four lines over 1.2 s of log time, one without a prefix (it goes with the one before).
    std::fs::write(
        &log,
        "20261125-08:00:00.000000000 : a\n20261125-08:00:00.400000000 : b\nno prefix\n20261125-08:00:01.200000000 : c\n",
    )
    .unwrap();
    let mut sub =
        AeronSource::subscribe(driver.dir(), Endpoint::new("aeron:ipc", 1001), SourceConfig::default()).unwrap();
    let run = |sub: &mut AeronSource, speed: &str| {
        let mut publisher = Reap(
            bin()
                .args(["publish", "--stream", "primary", "--timed", "--speed", speed, "--file"])
                .arg(&log)
                .arg("--aeron-dir")
                .arg(driver.dir())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            assert!(Instant::now() < deadline, "the stream never ended");
            match sub.poll().unwrap() {
                Poll::Message(SourceMessage::Whole { bytes, received }) => {
                    got.push((bytes.to_vec(), received.unwrap().0))
                }
                Poll::Message(other) => panic!("{other:?}"),
                Poll::Pending => std::thread::sleep(Duration::from_millis(1)),
                Poll::End => break,
            }
        }
        wait_exit_ok(&mut publisher, "publish --timed", Duration::from_secs(30));
        assert_eq!(got.len(), 4);
        assert_eq!(got[2].0, b"no prefix");
        let gaps: Vec<i64> = got.windows(2).map(|w| w[1].1 - w[0].1).collect();
        gaps
    };
    let gaps = run(&mut sub, "1");
    // Log gaps 400 ms, 0, 800 ms, give or take the stamping: a message is stamped when its
    // source is polled (D68), after this loop's 1 ms sleep, and on a busy 2-core machine that
    // sleep can overrun by several milliseconds, making a gap short as well as long.
    assert!((350_000..600_000).contains(&gaps[0]), "{gaps:?}");
    assert!(gaps[1] < 100_000, "{gaps:?}");
    assert!((750_000..1_000_000).contains(&gaps[2]), "{gaps:?}");
    drop(sub);
    // Ten times faster: the whole log in about 120 ms (first gap 40 ms). The lower bound leaves
    // room for the stamping overrun above (seen: 35.8 ms on a loaded CI machine) while still
    // telling a paced send from an unpaced one (gaps near 0); the sum tells it from speed 1.
    let mut sub =
        AeronSource::subscribe(driver.dir(), Endpoint::new("aeron:ipc", 1001), SourceConfig::default()).unwrap();
    let fast = run(&mut sub, "10");
    assert!((20_000..200_000).contains(&fast[0]) && fast.iter().sum::<i64>() < 400_000, "{fast:?}");
}
