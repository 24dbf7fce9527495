//! What every command sets up the same way: its configuration, its output writers, its
//! shutdown on signals, and the status line.
//!
//! Owns: the defaults of unnamed outputs (records to stdout, rejects and summary to stderr)
//! and the one clear line an unusable path gets.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use fxrecon_engine::config::Config;
use fxrecon_engine::counters::CountersSnapshot;
use fxrecon_runtime::shutdown::Shutdown;

/// The configuration at `path` (defaults without one), validated.
pub fn load_config(path: Option<&Path>) -> Result<Config> {
    let cfg = match path {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    cfg.validate()?;
    Ok(cfg)
}

/// Where an unnamed output goes.
#[derive(Clone, Copy, Debug)]
pub enum Default {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// A buffered writer to `path`, created (truncated), or to `default` without one.
pub fn output(path: Option<&Path>, default: Default) -> Result<Box<dyn Write + Send>> {
    Ok(match path {
        Some(p) => Box::new(create(p)?),
        None => match default {
            Default::Stdout => Box::new(BufWriter::with_capacity(1 << 16, io::stdout())),
            Default::Stderr => Box::new(BufWriter::new(io::stderr())),
        },
    })
}

/// Creates (truncates) `path` for buffered writing.
pub fn create(path: &Path) -> Result<BufWriter<File>> {
    let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 16, f))
}

/// A shutdown flag raised by SIGTERM or SIGINT (a second signal exits at once).
pub fn shutdown_on_signals() -> Result<Shutdown> {
    let s = Shutdown::new();
    s.on_signals().context("installing the signal handlers")?;
    Ok(s)
}

/// An error when an input had lines and every one of them was rejected: the day's output
/// would look clean while nothing of that stream was reconciled.
pub fn check_inputs_used(c: &CountersSnapshot) -> Result<()> {
    for (name, s) in [("primary", &c.primary), ("dropcopy", &c.dropcopy)] {
        // Of what this run read (a restart resumes after what its journal holds).
        if s.rejected > 0 && s.messages == 0 {
            tracing::warn!(stream = name, rejected = s.rejected, "every line of the input was rejected");
            return Err(crate::exit::fatal(format!(
                "every line of the {name} input ({} lines) was rejected: see the rejects output; nothing of that stream was reconciled",
                s.rejected
            )));
        }
    }
    Ok(())
}

/// Prints the live counters as one status line on stderr.
pub fn print_status(c: &CountersSnapshot) {
    eprintln!("{}", c.status_line());
}
