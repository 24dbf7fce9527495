//! `fxrecon`: command line of the FX execution reconciler.
//!
//! Wiring only: parse flags, load the config, start logging, hand over to the subcommand's
//! file under `commands/`, and map errors to exit statuses (0 ran, 2 a usage, config or I/O
//! error at start, 1 a fatal error while running). Logic lives in the library crates.

use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;
mod exit;
mod logging;
mod sessions;
mod setup;
mod transport;

/// Counts allocations per thread for `fxrecon bench` (`allocations_after_warmup`); the hot
/// path makes none, so the counter costs nothing where it matters.
#[cfg(feature = "bench")]
#[global_allocator]
static ALLOC: fxrecon_bench::alloc_counter::CountingAlloc = fxrecon_bench::alloc_counter::CountingAlloc;

/// FX execution-state reconciliation: primary vs drop-copy FIX execution reports.
#[derive(Parser)]
#[command(name = "fxrecon", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reconcile a primary and a drop-copy FIX log offline (contract section 5).
    Reconcile(commands::reconcile::Args),
    /// Generate a synthetic FX trading day with injected faults and its ground truth.
    Gen(commands::gen_day::Args),
    /// The daemon: reconcile two live inputs until they end or a signal stops it (contract
    /// section 6).
    Run(commands::run::Args),
    /// Generate a mixed day in memory, reconcile it, and print injected vs detected.
    Demo(commands::demo::Args),
    /// Benchmarks run inside the product (figures for BENCHMARKS.md).
    #[cfg(feature = "bench")]
    Bench(commands::bench::Args),
    /// Re-run reconciliation from a journal (byte-identical to the run that wrote it).
    Replay(commands::replay::Args),
    /// Replay a FIX log onto an Aeron stream, then an end-of-stream marker.
    Publish(commands::publish::Args),
    /// Print what is published on an Aeron stream (the divergence stream by default).
    Tail(commands::tail::Args),
    /// Ask a running daemon's query API, or a journal offline: `order KEY`, `divergences [filters]`, `gaps`, `positions`.
    Query(commands::query::Args),
    /// The end-of-day report (breaks.csv, breaks.json, report.html) from a journal or the daemon.
    Eod(commands::eod::Args),
    /// Inspect a journal: `verify DIR` or `dump DIR`.
    #[command(subcommand)]
    Journal(commands::journal::Command),
}

impl Command {
    /// The config file the command names, if any.
    fn config_path(&self) -> Option<&Path> {
        match self {
            Command::Reconcile(a) => a.config.as_deref(),
            Command::Run(a) => a.config.as_deref(),
            Command::Replay(a) => a.config.as_deref(),
            #[cfg(feature = "bench")]
            Command::Bench(a) => a.config.as_deref(),
            Command::Gen(_)
            | Command::Demo(_)
            | Command::Journal(_)
            | Command::Publish(_)
            | Command::Tail(_)
            | Command::Query(_)
            | Command::Eod(_) => None,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cfg = setup::load_config(cli.command.config_path());
    logging::init(cfg.as_ref().ok());
    let result = cfg.and_then(|cfg| match cli.command {
        Command::Reconcile(a) => commands::reconcile::run(a, cfg),
        Command::Gen(a) => commands::gen_day::run(a),
        Command::Run(a) => commands::run::run(a, cfg),
        Command::Demo(a) => commands::demo::run(a),
        #[cfg(feature = "bench")]
        Command::Bench(a) => commands::bench::run(a, cfg),
        Command::Replay(a) => commands::replay::run(a, cfg),
        Command::Journal(c) => commands::journal::run(c),
        Command::Publish(a) => commands::publish::run(a),
        Command::Tail(a) => commands::tail::run(a),
        Command::Query(a) => commands::query::run(a),
        Command::Eod(a) => commands::eod::run(a),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fxrecon: {e:#}");
            ExitCode::from(exit::status_of(&e))
        }
    }
}
