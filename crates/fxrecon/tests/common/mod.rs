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
