//! `fxrecon replay`: re-runs reconciliation from a journal, with the rules it was written
//! with (or `--config`), through the same pipeline as the run that wrote it: byte-identical
//! output and the same state digest.

use std::path::PathBuf;

use anyhow::Result;
use fxrecon_core::time::Micros;
use fxrecon_engine::config::Config;
use fxrecon_engine::ingest::journal_intake::Window;
use fxrecon_engine::output::sink::{JsonLines, WindowFilter};
use fxrecon_engine::pipeline::builder::{Intake, JournalReplay, PipelineBuilder};
use fxrecon_engine::pipeline::options::PipelineOptions;
use fxrecon_engine::pipeline::paths::{Named, check_directory, check_outputs};
use fxrecon_engine::pipeline::recovery::{journal_rules, replay_start};

use crate::exit::fatal;
use crate::setup::{self, Default};

/// Arguments of `replay`.
#[derive(clap::Args)]
pub struct Args {
    /// Journal directory.
    #[arg(long)]
    journal: PathBuf,
    /// First event time to replay (FIX UTCTimestamp, inclusive).
    #[arg(long, value_parser = parse_time)]
    from: Option<Micros>,
    /// Last event time to replay (inclusive).
    #[arg(long, value_parser = parse_time)]
    to: Option<Micros>,
    /// Divergences as JSON Lines (default stdout).
    #[arg(long)]
    out: Option<PathBuf>,
    /// TOML config file (default: the rules the journal was written with).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Skip corrupt records instead of stopping (each skip is reported).
    #[arg(long)]
    salvage: bool,
}

fn parse_time(s: &str) -> Result<Micros, String> {
    Micros::parse_fix(s.as_bytes()).ok_or_else(|| format!("not a FIX UTC timestamp (YYYYMMDD-HH:MM:SS[.fff]): {s}"))
}

/// Runs `replay`.
pub fn run(a: Args, cfg: Config) -> Result<()> {
    if let (Some(from), Some(to)) = (a.from, a.to)
        && from > to
    {
        anyhow::bail!("--from {} is after --to {}: the window is empty", from.rfc3339(), to.rfc3339());
    }
    check_directory(Named { option: "--journal", path: &a.journal })?;
    if let Some(out) = &a.out {
        // The journal's own files are the input: an output over one would destroy it.
        let files: Vec<std::path::PathBuf> = std::fs::read_dir(&a.journal)
            .map(|it| it.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        let inputs: Vec<Named<'_>> = files.iter().map(|path| Named { option: "--journal", path }).collect();
        check_outputs(&inputs, &[Named { option: "--out", path: out }])?;
    }
    let cfg = match &a.config {
        Some(_) => cfg,
        None => Config::default().with_rules(journal_rules(&a.journal)?),
    };
    let out = setup::output(a.out.as_deref(), Default::Stdout)?;
    // From the nearest snapshot at or before the window (the run's state there), every record
    // the run detected within the window, and nothing else.
    let (state, from_record) = replay_start(&a.journal, &cfg, a.from)?;
    let replay = JournalReplay {
        dir: a.journal.clone(),
        from_record,
        salvage: a.salvage || fxrecon_journal::recovery::was_salvaged(&a.journal),
        window: Window { from: a.from, to: a.to },
    };
    let filter = WindowFilter::new(Box::new(JsonLines::new(out)), a.from, a.to);
    let left_out = filter.left_out.clone();
    let outcome = PipelineBuilder::new(&cfg, PipelineOptions::default(), Intake::Journal(replay))
        .start_from(state)
        .sink(Box::new(filter))
        .shutdown(setup::shutdown_on_signals()?)
        .build()?
        .run()
        .map_err(fatal)?;
    let replayed = outcome.replay.as_deref().expect("a journal intake counts its replay");
    eprintln!(
        "{}",
        serde_json::json!({
            "events_replayed": replayed.events.get(),
            "from_snapshot": (from_record > 0).then(|| from_record - 1),
            "records_outside_window": left_out.get(),
            "stopped_at_window_end": replayed.stopped_at_window_end.get() == 1,
            "state_digest": format!("{:016x}", outcome.counters.state_digest),
        })
    );
    if outcome.interrupted {
        return Err(fatal("interrupted by a signal: the output covers only part of the journal"));
    }
    Ok(())
}
