//! `fxrecon reconcile`: offline reconciliation of a primary and a drop-copy log (contract
//! section 5), on the threaded pipeline or (`--single-thread`) every agent stepped on one
//! thread; the same bytes either way.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use fxrecon_engine::config::Config;
use fxrecon_engine::output::sink::{CountingSink, JsonLines, RejectLines};
use fxrecon_engine::output::summary::Summary;
use fxrecon_engine::pipeline::builder::{Intake, PipelineBuilder};
use fxrecon_engine::pipeline::inputs::{InputKind, input_kind, open_input};
use fxrecon_engine::pipeline::options::PipelineOptions;
use fxrecon_engine::pipeline::paths::{Named, check_directory, check_outputs, same_input};
use fxrecon_journal::segment::FsyncPolicy;
use fxrecon_runtime::threading::Threading;

use crate::exit::fatal;
use crate::setup::{self, Default};

/// The journal's fsync policy when none is given.
const DEFAULT_FSYNC: FsyncPolicy = FsyncPolicy::IntervalMs(100);

/// Arguments of `reconcile`.
#[derive(clap::Args)]
pub struct Args {
    /// Primary (OMS / gateway) FIX log (`-`: standard input).
    #[arg(long)]
    primary: PathBuf,
    /// Drop-copy FIX log (`-`: standard input).
    #[arg(long)]
    dropcopy: PathBuf,
    /// TOML config file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Grace window in ms (overrides config).
    #[arg(long)]
    grace_ms: Option<i64>,
    /// TimingAnomaly threshold in ms (overrides config).
    #[arg(long)]
    timing_ms: Option<i64>,
    /// Divergences as JSON Lines (default stdout).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Rejected messages as JSON Lines (default stderr).
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// Run summary as JSON (default stderr).
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Step every agent on one thread instead of the threaded pipeline (same output).
    #[arg(long)]
    single_thread: bool,
    /// Journal every consumed message to this directory (a new one).
    #[arg(long)]
    journal: Option<PathBuf>,
    /// Journal fsync policy: every_batch, interval_ms:N or never (default interval_ms:100;
    /// needs --journal).
    #[arg(long)]
    fsync: Option<FsyncPolicy>,
}

/// Bytes of `path` when it is a regular file (what the store is sized for).
fn file_bytes(path: &Path) -> Option<u64> {
    match input_kind(path) {
        Ok(InputKind::File) => std::fs::metadata(path).ok().map(|m| m.len()),
        _ => None,
    }
}

/// Runs `reconcile`.
pub fn run(a: Args, cfg: Config) -> Result<()> {
    let mut cfg = cfg;
    if let Some(g) = a.grace_ms {
        cfg.grace_ms = g;
    }
    if let Some(t) = a.timing_ms {
        cfg.timing_threshold_ms = t;
    }
    cfg.validate()?;
    if a.primary.as_os_str() == "-" && a.dropcopy.as_os_str() == "-" {
        bail!("--primary and --dropcopy cannot both be standard input");
    }
    if a.fsync.is_some() && a.journal.is_none() {
        bail!("--fsync needs --journal (there is no journal to sync)");
    }
    // Every path is checked before anything is opened for writing (contract 5).
    let inputs = [Named { option: "--primary", path: &a.primary }, Named { option: "--dropcopy", path: &a.dropcopy }];
    let outputs: Vec<Named<'_>> = [("--out", &a.out), ("--rejects", &a.rejects), ("--summary", &a.summary)]
        .into_iter()
        .filter_map(|(option, p)| p.as_deref().map(|path| Named { option, path }))
        .collect();
    check_outputs(&inputs, &outputs)?;
    if let Some(dir) = &a.journal {
        check_directory(Named { option: "--journal", path: dir })?;
    }
    if same_input(&a.primary, &a.dropcopy) {
        tracing::warn!(path = %a.primary.display(), "--primary and --dropcopy are the same file: it is reconciled against itself");
    }
    // Sized to what the inputs can need (D14), when both are files of known size.
    if let (Some(p), Some(d)) = (file_bytes(&a.primary), file_bytes(&a.dropcopy)) {
        cfg = cfg.sized_for_input_bytes(p + d);
    }
    let open = |path: &Path, what: &str| {
        open_input(path, false, cfg.max_message_bytes)
            .with_context(|| format!("cannot open {what} input {}", path.display()))
    };
    let sources = [open(&a.primary, "primary")?, open(&a.dropcopy, "dropcopy")?];
    // One instance per journal (contract 6): held until this function returns.
    let _lock = a.journal.as_deref().map(fxrecon_journal::recovery::lock).transpose()?;
    if let Some(dir) = &a.journal {
        // A journal is one run: appending a second run would make replay mix the two.
        if fxrecon_journal::recovery::journal_exists(dir)? {
            bail!("journal directory {} already holds a journal; use an empty directory", dir.display());
        }
    }
    let out = setup::output(a.out.as_deref(), Default::Stdout)?;
    let rejects = setup::output(a.rejects.as_deref(), Default::Stderr)?;
    let mut summary_out = setup::output(a.summary.as_deref(), Default::Stderr)?;
    let journal = match &a.journal {
        Some(dir) => Some(fxrecon_engine::pipeline::recovery::create(
            dir,
            &cfg,
            a.fsync.unwrap_or(DEFAULT_FSYNC),
            Some([&a.primary, &a.dropcopy]),
        )?),
        None => None,
    };

    let shutdown = setup::shutdown_on_signals()?;
    let opts = PipelineOptions {
        threading: if a.single_thread { Threading::Stepped } else { Threading::default() },
        shutdown_timeout: std::time::Duration::from_millis(cfg.shutdown_timeout_ms),
        ..PipelineOptions::default()
    };
    let (counting, counts) = CountingSink::new();
    let mut builder = PipelineBuilder::new(&cfg, opts, Intake::Sources(sources))
        .sink(Box::new(JsonLines::new(out)))
        .sink(Box::new(RejectLines::new(rejects)))
        .sink(Box::new(counting))
        .shutdown(shutdown);
    if let Some(j) = journal {
        builder = builder.journal(j);
    }
    let outcome = builder.build()?.run().map_err(fatal)?;
    let counts = counts.take();
    Summary::new(&outcome.counters, &counts, outcome.elapsed.as_millis() as u64)
        .write(&mut summary_out)
        .context("writing summary")?;
    summary_out.flush().context("writing summary")?;
    if outcome.interrupted {
        return Err(fatal("interrupted by a signal: the output covers only the input read until then"));
    }
    setup::check_inputs_used(&outcome.counters)?;
    if outcome.input_failed {
        return Err(fatal("an input failed while it was read (see the error above): the output covers what was read"));
    }
    Ok(())
}
