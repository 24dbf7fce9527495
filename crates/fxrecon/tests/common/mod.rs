//! What the binary's end-to-end tests share: the binary, a scratch directory per test, a child
//! process that never outlives its test, and a generated day written to files.
//!
//! Each test file includes it (`mod common;`) and uses what it needs.
#![allow(dead_code)] // each test binary uses a different part of it

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// The built `fxrecon` binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fxrecon"))
}

/// A fresh directory for one test, removed when dropped (also when the test panics).
pub fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(&format!("fxrecon-{name}-")).tempdir().unwrap()
}

/// A running child, killed and waited for if the test fails first: it never outlives the
/// directory it writes in (declared after it, it is dropped first).
pub struct Reap(pub Child);

impl std::ops::Deref for Reap {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Reap {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `run --primary p --dropcopy d --out out`: the daemon over two input files, to which a test
/// adds what it is about.
pub fn run_on(p: &Path, d: &Path, out: &Path) -> Command {
    let mut c = bin();
    c.arg("run").arg("--primary").arg(p).arg("--dropcopy").arg(d).arg("--out").arg(out);
    c
}

/// [`run_on`] with `--journal journal`.
pub fn run_journaled(p: &Path, d: &Path, out: &Path, journal: &Path) -> Command {
    let mut c = run_on(p, d, out);
    c.arg("--journal").arg(journal);
    c
}

/// A generated day of `orders` orders (`seed`, `fault_rate` of them faulty) written to
/// `dir/primary.fix` and `dir/dropcopy.fix`.
pub fn write_faulty_day(dir: &Path, orders: usize, seed: u64, fault_rate: f64) -> (PathBuf, PathBuf) {
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders, seed, fault_rate, ..Default::default() });
    let (p, d) = (dir.join("primary.fix"), dir.join("dropcopy.fix"));
    std::fs::write(&p, &day.primary).unwrap();
    std::fs::write(&d, &day.dropcopy).unwrap();
    (p, d)
}

/// [`write_faulty_day`] at the generator's default fault rate.
pub fn write_day(dir: &Path, orders: usize, seed: u64) -> (PathBuf, PathBuf) {
    write_faulty_day(dir, orders, seed, fxrecon_gen::GenConfig::default().fault_rate)
}

/// Waits for a daemon to write its bound API address into `file`.
pub fn bound_addr(file: &Path) -> String {
    let t0 = std::time::Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(file)
            && s.ends_with('\n')
        {
            return s.trim().to_string();
        }
        assert!(t0.elapsed() < std::time::Duration::from_secs(30), "the API never listened");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A daemon following `day`'s files (written to `dir`) with its API on a free port and
/// `extra` arguments; returns it and the API's address. A followed input's merge holds its
/// newest messages until the other stream is past them, so a last line much later on each
/// stream (a copy of its final Logout) is appended once it runs: the whole day is applied.
pub fn daemon_on_day(dir: &Path, day: &fxrecon_gen::GeneratedDay, extra: &[&std::ffi::OsStr]) -> (Reap, String) {
    let (p, d) = (dir.join("primary.fix"), dir.join("dropcopy.fix"));
    std::fs::write(&p, &day.primary).unwrap();
    std::fs::write(&d, &day.dropcopy).unwrap();
    let addr_file = dir.join("api.addr");
    let child = Reap(
        bin()
            .args(["run", "--follow", "--api", "127.0.0.1:0", "--threading", "shared", "--primary"])
            .arg(&p)
            .arg("--dropcopy")
            .arg(&d)
            .arg("--out")
            .arg(dir.join("out.jsonl"))
            .arg("--api-addr-file")
            .arg(&addr_file)
            .args(extra)
            .stderr(std::process::Stdio::null())
            .env_remove("FXRECON_API_TOKEN")
            .spawn()
            .unwrap(),
    );
    let addr = bound_addr(&addr_file);
    for (path, bytes) in [(&p, &day.primary), (&d, &day.dropcopy)] {
        let text = String::from_utf8_lossy(bytes);
        let body = text.lines().last().unwrap().split_once(" : ").unwrap().1.to_string();
        let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        std::io::Write::write_all(&mut f, format!("20991231-00:00:00.000000000 : {body}\n").as_bytes()).unwrap();
    }
    (child, addr)
}

/// `GET path` of the API at `addr`, as JSON, with its status.
pub fn api_get(addr: &str, path: &str) -> (u16, serde_json::Value) {
    let (status, body) = fxrecon_api::client::get(addr, path, None).unwrap();
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")))
}

/// Waits until the daemon at `addr` read every line of `day` and the two appended by
/// [`daemon_on_day`] (so the whole day is released to the reconciler), and its positions and
/// records stopped moving.
pub fn settle(addr: &str, day: &fxrecon_gen::GeneratedDay) {
    let messages = (day.primary_messages + day.dropcopy_messages + 2) as u64;
    let t0 = std::time::Instant::now();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let (_, ready) = api_get(addr, "/readyz");
        let consumed = ready["inputs"]["primary"]["messages"].as_u64().unwrap()
            + ready["inputs"]["dropcopy"]["messages"].as_u64().unwrap();
        if consumed >= messages {
            let a = (api_get(addr, "/v1/positions"), api_get(addr, "/v1/divergences"), ready["events"].clone());
            std::thread::sleep(std::time::Duration::from_millis(300));
            let (_, again) = api_get(addr, "/readyz");
            if (api_get(addr, "/v1/positions"), api_get(addr, "/v1/divergences"), again["events"].clone()) == a {
                return;
            }
        }
        assert!(t0.elapsed() < std::time::Duration::from_secs(60), "the daemon never settled: {ready}");
    }
}

/// Runs headless Chromium on `url` with `extra` flags (a fresh profile and temp dir under
/// `scratch`); its stdout.
pub fn chromium(scratch: &Path, url: &str, extra: &[&str]) -> String {
    let profile = tempfile::tempdir_in(scratch).unwrap();
    let tmp = tempfile::tempdir_in(scratch).unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--virtual-time-budget=5000",
            "--window-size=1280,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .env("TMPDIR", tmp.path())
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .expect("chromium (installed by scripts/bootstrap-api.sh)");
    assert!(out.status.success(), "chromium {url}: {}", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned()
}
