//! The live path over real Aeron (issue 24): two `fxrecon publish` runs replay a generated day
//! over IPC into `fxrecon run --clock file` with Aeron inputs and an embedded media driver;
//! the daemon's output equals `fxrecon reconcile` on the same files, byte for byte, and the
//! divergences it publishes on the output stream are the same records.

mod common;

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

fn publish(stream: &str, file: &Path, aeron_dir: &Path) -> Reap {
    Reap(
        bin()
            .args(["publish", "--stream", stream, "--file"])
            .arg(file)
            .arg("--aeron-dir")
            .arg(aeron_dir)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

#[test]
fn a_day_published_over_aeron_ipc_reconciles_as_the_files_do() {
    let dir = scratch("aeron-live");
    let (p, d) = write_day(dir.path(), 400, 24);
    let want = dir.path().join("want.jsonl");
    let status = bin()
        .args(["reconcile", "--primary"])
        .arg(&p)
        .arg("--dropcopy")
        .arg(&d)
        .arg("--out")
        .arg(&want)
        .arg("--rejects")
        .arg(dir.path().join("want.rej"))
        .arg("--summary")
        .arg(dir.path().join("want.summary"))
        .status()
        .unwrap();
    assert!(status.success());

    let state = dir.path().join("state");
    let aeron_dir = state.join(DRIVER_DIR_NAME);
    let got = dir.path().join("got.jsonl");
    let mut daemon = Reap(
        bin()
            .args([
                "run",
                "--primary",
                "aeron:ipc",
                "--primary-stream-id",
                "1001",
                "--dropcopy",
                "aeron:ipc",
                "--dropcopy-stream-id",
                "1002",
                "--clock",
                "file",
                "--out-aeron",
                "aeron:ipc",
                "--out",
            ])
            .arg(&got)
            .arg("--rejects")
            .arg(dir.path().join("got.rej"))
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
        AeronSource::subscribe(&aeron_dir, Endpoint::new("aeron:ipc", 2001), SourceConfig::default()).unwrap();
    let mut primary = publish("primary", &p, &aeron_dir);
    let mut dropcopy = publish("dropcopy", &d, &aeron_dir);
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

    let want = std::fs::read(&want).unwrap();
    assert!(!want.is_empty(), "the day has divergences");
    assert!(std::fs::read(&got).unwrap() == want, "the daemon's output differs from reconcile's");
    assert!(published == want, "the published divergences differ from reconcile's");
    assert_eq!(std::fs::read(dir.path().join("got.rej")).unwrap(), std::fs::read(dir.path().join("want.rej")).unwrap());
}
