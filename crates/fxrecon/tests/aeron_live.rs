//! The live path over real Aeron (issue 24): two `fxrecon publish` runs replay a recorded day
//! (generated days, a hard day, the QuickFIX sample) over IPC, and over UDP on the loopback,
//! into `fxrecon run --clock file` with Aeron inputs and an embedded media driver; the
//! daemon's output equals `fxrecon reconcile` on the same files, byte for byte, and the
//! divergences it publishes on the output stream are the same records (read by a subscriber
//! here and by `fxrecon tail`).

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Reap, bin, scratch, write_day};
use fxrecon_aeron::driver::DRIVER_DIR_NAME;
use fxrecon_aeron::endpoint::Endpoint;
use fxrecon_aeron::source::{AeronSource, SourceConfig};
use fxrecon_engine::ingest::source::{MessageSource, Poll, SourceMessage};

/// Waits for `child` to exit (killing it after `limit`) and asserts it succeeded.
fn wait_ok(child: &mut Reap, what: &str, limit: Duration) {
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

fn publish(stream: &str, file: &Path, aeron_dir: &Path, channel: &str) -> Reap {
    Reap(
        bin()
            .args(["publish", "--stream", stream, "--channel", channel, "--file"])
            .arg(file)
            .arg("--aeron-dir")
            .arg(aeron_dir)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// A free UDP port on the loopback (free when asked; Aeron binds it soon after).
fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The channels of the primary, drop-copy and output streams of one run.
struct Channels {
    primary: String,
    dropcopy: String,
    out: String,
}

impl Channels {
    fn ipc() -> Self {
        Self { primary: "aeron:ipc".into(), dropcopy: "aeron:ipc".into(), out: "aeron:ipc".into() }
    }

    fn udp() -> Self {
        let at = |p: u16| format!("aeron:udp?endpoint=127.0.0.1:{p}");
        Self { primary: at(free_port()), dropcopy: at(free_port()), out: at(free_port()) }
    }
}

/// `reconcile` on `p`/`d`, then the same files published over Aeron into `run --clock file`:
/// the daemon's output, its rejects and the divergences it publishes equal reconcile's.
fn live_equals_offline(dir: &Path, p: &Path, d: &Path, ch: &Channels) {
    let want = dir.join("want.jsonl");
    let status = bin()
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
        .status()
        .unwrap();
    assert!(status.success());

    let state = dir.join("state");
    let aeron_dir = state.join(DRIVER_DIR_NAME);
    let got = dir.join("got.jsonl");
    let mut daemon = Reap(
        bin()
            .args(["run", "--primary", &ch.primary, "--primary-stream-id", "1001"])
            .args(["--dropcopy", &ch.dropcopy, "--dropcopy-stream-id", "1002"])
            .args(["--clock", "file", "--out-aeron", &ch.out, "--out"])
            .arg(&got)
            .arg("--rejects")
            .arg(dir.join("got.rej"))
            .arg("--state-dir")
            .arg(&state)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // The daemon's driver comes up first; then a subscriber of our own on its output stream.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !aeron_dir.join("cnc.dat").exists() {
        assert!(Instant::now() < deadline, "the daemon's media driver never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut out =
        AeronSource::subscribe(&aeron_dir, Endpoint::new(ch.out.as_str(), 2001), SourceConfig::default()).unwrap();
    // And `fxrecon tail` on it, subscribed before anything is published (it says so).
    let mut tail = Reap(
        bin()
            .args(["tail", "--channel", &ch.out, "--aeron-dir"])
            .arg(&aeron_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut said = String::new();
    // Kept open to the end: tail may log more (a lost image when the daemon stops).
    let mut tail_err = BufReader::new(tail.stderr.take().unwrap());
    tail_err.read_line(&mut said).unwrap();
    assert!(said.starts_with("subscribed to"), "tail said {said:?}");
    let mut primary = publish("primary", p, &aeron_dir, &ch.primary);
    let mut dropcopy = publish("dropcopy", d, &aeron_dir, &ch.dropcopy);
    let mut published = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "the output stream never ended");
        match out.poll().unwrap() {
            Poll::Message(SourceMessage::Whole { bytes, .. }) => {
                published.extend_from_slice(bytes);
                published.push(b'\n');
            }
            Poll::Message(other) => panic!("{other:?}"),
            Poll::Pending => std::thread::sleep(Duration::from_micros(100)),
            Poll::End => break,
        }
    }
    wait_ok(&mut primary, "publish primary", Duration::from_secs(60));
    wait_ok(&mut dropcopy, "publish dropcopy", Duration::from_secs(60));
    wait_ok(&mut daemon, "the daemon", Duration::from_secs(60));
    drop(out);
    let mut tailed = Vec::new();
    tail.stdout.take().unwrap().read_to_end(&mut tailed).unwrap();
    wait_ok(&mut tail, "tail", Duration::from_secs(30));
    drop(tail_err);

    let want = std::fs::read(&want).unwrap();
    assert!(!want.is_empty(), "the day has divergences");
    assert!(std::fs::read(&got).unwrap() == want, "the daemon's output differs from reconcile's");
    assert!(published == want, "the published divergences differ from reconcile's");
    assert!(tailed == want, "what tail printed differs from reconcile's output");
    assert_eq!(std::fs::read(dir.join("got.rej")).unwrap(), std::fs::read(dir.join("want.rej")).unwrap());
}

#[test]
fn generated_days_published_over_aeron_ipc_reconcile_as_the_files_do() {
    for seed in [24, 25] {
        let dir = scratch("aeron-live");
        let (p, d) = write_day(dir.path(), 400, seed);
        live_equals_offline(dir.path(), &p, &d, &Channels::ipc());
    }
}

#[test]
fn a_hard_day_published_over_aeron_ipc_reconciles_as_the_files_do() {
    let dir = scratch("aeron-live-hard");
    let status = bin()
        .args(["gen", "--orders", "300", "--seed", "9", "--hard", "--out-dir"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let (p, d) = (dir.path().join("primary.fix"), dir.path().join("dropcopy.fix"));
    live_equals_offline(dir.path(), &p, &d, &Channels::ipc());
}

#[test]
fn the_quickfix_day_published_over_aeron_ipc_reconciles_as_the_files_do() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples/quickfix-day");
    let dir = scratch("aeron-live-quickfix");
    live_equals_offline(dir.path(), &sample.join("primary.fix"), &sample.join("dropcopy.fix"), &Channels::ipc());
}

#[test]
fn a_day_published_over_aeron_udp_on_the_loopback_reconciles_as_the_files_do() {
    let dir = scratch("aeron-live-udp");
    let (p, d) = write_day(dir.path(), 400, 26);
    live_equals_offline(dir.path(), &p, &d, &Channels::udp());
}
