//! `fxrecon run`: the daemon (contract section 6). Inputs from flags or `fxrecon.toml` (files,
//! FIFOs, Aeron channels, FIX sessions);
//! a journal that is recovered from when it already holds one; shutdown on SIGTERM/SIGINT;
//! live counters on stderr with `--status-every`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use fxrecon_engine::config::Config;
use fxrecon_engine::ingest::ingestor::EventClock;
use fxrecon_engine::output::sink::{JsonLines, RejectLines};
use fxrecon_engine::pipeline::builder::{Intake, PipelineBuilder};
use fxrecon_engine::pipeline::inputs::{InputKind, input_kind, open_input};
use fxrecon_engine::pipeline::options::{PipelineOptions, pace_shares};
use fxrecon_engine::pipeline::paths::{Named, check_archive, check_directory, check_outputs, same_input};
use fxrecon_engine::pipeline::recovery;
use fxrecon_fixsession::config::SessionConfig;
use fxrecon_journal::segment::FsyncPolicy;
use fxrecon_runtime::idle::IdleStrategy;
use fxrecon_runtime::threading::Threading;

use crate::exit::fatal;
use crate::setup::{self, Default};

/// Arguments of `run`.
#[derive(clap::Args)]
pub struct Args {
    /// Primary (OMS / gateway) input: a file, `-` (standard input), a FIFO or an Aeron
    /// channel (`aeron:ipc`, `aeron:udp?endpoint=HOST:PORT`) (default: the config's
    /// `[primary] path`).
    #[arg(long)]
    primary: Option<PathBuf>,
    /// Drop-copy input, as `--primary` (default: the config's `[dropcopy] path`).
    #[arg(long)]
    dropcopy: Option<PathBuf>,
    /// Stream id of an Aeron primary input (default: the config's `aeron.primary_stream_id`,
    /// 1001).
    #[arg(long)]
    primary_stream_id: Option<i32>,
    /// Stream id of an Aeron drop-copy input (default: `aeron.dropcopy_stream_id`, 1002).
    #[arg(long)]
    dropcopy_stream_id: Option<i32>,
    /// Also publish the divergences on this Aeron channel (one JSON object per message;
    /// default: the config's `aeron.output_channel`).
    #[arg(long, value_name = "CHANNEL")]
    out_aeron: Option<String>,
    /// Stream id of `--out-aeron` (default: `aeron.output_stream_id`, 2001).
    #[arg(long)]
    out_stream_id: Option<i32>,
    /// Attach to the external Aeron media driver in DIR (default: the config's `aeron.dir`,
    /// else embed one).
    #[arg(long, value_name = "DIR")]
    aeron_dir: Option<PathBuf>,
    /// Where an embedded media driver keeps its directory (`DIR/aeron-driver`) and FIX
    /// sessions their sequence numbers (`DIR/fix`) (default: the system temp directory's
    /// `fxrecon-state`).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Divergences as JSON Lines.
    #[arg(long)]
    out: PathBuf,
    /// Rejected messages as JSON Lines (default stderr).
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// TOML config file (`fxrecon.toml`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Keep reading file inputs as they grow, until shutdown (as `follow = true`).
    #[arg(long)]
    follow: bool,
    /// Print the live counters to stderr every SECS seconds.
    #[arg(long, value_name = "SECS")]
    status_every: Option<u64>,
    /// Check the config, the flags and the paths, print what the run would use, and exit.
    #[arg(long)]
    check_config: bool,
    /// Release messages at this combined rate, each stream at its share of the inputs' lines.
    #[arg(long)]
    pace: Option<u64>,
    /// Event clock: `file` (the inputs' own times; output as `reconcile`) or `ingest` (stamped
    /// on arrival, as live). Default: ingest with --pace, else file.
    #[arg(long)]
    clock: Option<EventClock>,
    /// Pin agent threads to cores (off by default: it stalls a small shared machine).
    #[arg(long)]
    pin: bool,
    /// Idle strategy of the agents: busy-spin, yield or park.
    #[arg(long, default_value = "park")]
    idle: IdleStrategy,
    /// Slots per ring (power of two).
    #[arg(long, default_value_t = 1 << 14)]
    ring_capacity: usize,
    /// Agents to threads: `shared` (two threads: the reconciler alone; ingest, journal and
    /// output on the other), `dedicated` (a thread per ingest agent, the reconciler, and a
    /// background one for journal and output), `stepped` (every agent on one thread) or `auto`
    /// (dedicated with four cores or more, else shared).
    #[arg(long, default_value = "auto")]
    threading: Threading,
    /// Map all of the pre-sized state memory at start-up, so no page fault of fresh memory
    /// delays an event later (start-up takes longer and the memory is resident from the start).
    #[arg(long)]
    prefault: bool,
    /// Journal every consumed message here; if it already holds a journal, recover from it
    /// first (replay, resume the outputs) and continue where it ended.
    #[arg(long)]
    journal: Option<PathBuf>,
    /// Journal fsync policy: every_batch, interval_ms:N or never (default interval_ms:100;
    /// needs --journal).
    #[arg(long)]
    fsync: Option<FsyncPolicy>,
    /// Recover from a damaged journal: skip what cannot be read, set the existing outputs aside
    /// (`<file>.before-salvage`) and write them anew from what could be replayed.
    #[arg(long)]
    salvage: bool,
    /// Query API address (`api.listen`; default 127.0.0.1:7878, `off` for none).
    #[arg(long, value_name = "ADDR")]
    api: Option<String>,
    /// Write the query API's bound address to FILE once it listens (for `--api HOST:0`).
    #[arg(long, value_name = "FILE")]
    api_addr_file: Option<PathBuf>,
}

/// The smallest ring a run accepts (smaller ones only make every push wait).
const MIN_RING: usize = 16;

/// An input as the run will read it.
struct InputPlan {
    path: PathBuf,
    follow: bool,
    kind: InputKind,
    /// An Aeron channel rather than a path.
    aeron: bool,
    /// FIX sessions (`[[session]]`) rather than a path (empty: none).
    sessions: Vec<SessionConfig>,
}

fn plan(
    flag: Option<&Path>,
    cfg: &fxrecon_engine::config::InputConfig,
    follow: bool,
    what: &str,
    sessions: Vec<SessionConfig>,
) -> Result<InputPlan> {
    if let Some(s) = sessions.first() {
        if let Some(p) = flag.or(cfg.path.as_deref()) {
            bail!("the {what} input is both the FIX session {} ([[session]]) and {}: give one", s.name(), p.display());
        }
        let path = PathBuf::from(format!("fix session {}", s.name()));
        return Ok(InputPlan { path, follow: false, kind: InputKind::Stream, aeron: false, sessions });
    }
    let Some(path) = flag.or(cfg.path.as_deref()) else {
        bail!("no {what} input: give --{what}, [{what}] path or a [[session]] in the config");
    };
    if crate::transport::is_aeron(path) {
        return Ok(InputPlan {
            path: path.to_path_buf(),
            follow: false,
            kind: InputKind::Stream,
            aeron: true,
            sessions: Vec::new(),
        });
    }
    let kind = input_kind(path).with_context(|| format!("cannot open {what} input {}", path.display()))?;
    let follow = follow || cfg.follow;
    if follow && kind != InputKind::File {
        bail!("{what} input {} is not a regular file: only files can be followed", path.display());
    }
    Ok(InputPlan { path: path.to_path_buf(), follow, kind, aeron: false, sessions: Vec::new() })
}

/// Lines of a regular file (for the pace shares), 0 for a stream.
fn lines_of(p: &InputPlan) -> Result<u64> {
    if p.kind != InputKind::File {
        return Ok(0);
    }
    let bytes = std::fs::read(&p.path).with_context(|| format!("cannot read {}", p.path.display()))?;
    Ok(fxrecon_engine::pipeline::options::line_count(&bytes))
}

/// Runs `run`.
pub fn run(a: Args, cfg: Config) -> Result<()> {
    if a.pace == Some(0) {
        bail!("--pace must be > 0");
    }
    if !(MIN_RING..=1 << 24).contains(&a.ring_capacity) {
        bail!("--ring-capacity must be between {MIN_RING} and 16777216");
    }
    if a.salvage && a.journal.is_none() {
        bail!("--salvage needs --journal");
    }
    if a.fsync.is_some() && a.journal.is_none() {
        bail!("--fsync needs --journal (there is no journal to sync)");
    }
    let fsync = a.fsync.unwrap_or(FsyncPolicy::IntervalMs(100));
    // FIX sessions (`[[session]]`): every key checked here, before anything is opened.
    let sessions = fxrecon_fixsession::config::sessions_of(&cfg.session)?;
    let session_of = |what: &str| sessions.iter().filter(|s| s.stream == what).cloned().collect::<Vec<_>>();
    // Aeron settings: a flag, else the config's `[aeron]` (an input named nowhere else may be
    // its channel there).
    let ax = &cfg.aeron;
    let channel = |c: &Option<String>| c.as_ref().map(PathBuf::from);
    let aeron_channel = |what: &str, c: &Option<String>| if !session_of(what).is_empty() { None } else { channel(c) };
    let primary_name = a
        .primary
        .clone()
        .or_else(|| cfg.primary.path.clone())
        .or_else(|| aeron_channel("primary", &ax.primary_channel));
    let dropcopy_name = a
        .dropcopy
        .clone()
        .or_else(|| cfg.dropcopy.path.clone())
        .or_else(|| aeron_channel("dropcopy", &ax.dropcopy_channel));
    let (primary_stream_id, dropcopy_stream_id) =
        (a.primary_stream_id.unwrap_or(ax.primary_stream_id), a.dropcopy_stream_id.unwrap_or(ax.dropcopy_stream_id));
    let (out_aeron, out_stream_id) =
        (a.out_aeron.clone().or_else(|| ax.output_channel.clone()), a.out_stream_id.unwrap_or(ax.output_stream_id));
    let aeron_dir = a.aeron_dir.clone().or_else(|| ax.dir.clone());
    let primary = plan(primary_name.as_deref(), &cfg.primary, a.follow, "primary", session_of("primary"))?;
    let dropcopy = plan(dropcopy_name.as_deref(), &cfg.dropcopy, a.follow, "dropcopy", session_of("dropcopy"))?;
    let with_session = !primary.sessions.is_empty() || !dropcopy.sessions.is_empty();
    if primary.kind == InputKind::Stdin && dropcopy.kind == InputKind::Stdin {
        bail!("--primary and --dropcopy cannot both be standard input");
    }
    let aeron = primary.aeron || dropcopy.aeron || out_aeron.is_some();
    // What a journal records of the inputs: an Aeron stream is known by its channel and id, a
    // FIX session by its CompIDs.
    let identity = |p: &InputPlan, id: i32| match p.sessions.is_empty() {
        false => Ok(crate::sessions::identity(&p.sessions)),
        true => crate::transport::identity(&p.path, p.aeron.then_some(id)),
    };
    let identities = match primary.aeron || dropcopy.aeron || with_session {
        true => Some([identity(&primary, primary_stream_id)?, identity(&dropcopy, dropcopy_stream_id)?]),
        false => None,
    };
    // Every path is checked before anything is opened for writing (contract 5); the journal's
    // own files count as inputs too (an output over a segment would destroy the journal).
    let journal_files = match &a.journal {
        Some(dir) => {
            check_directory(Named { option: "--journal", path: dir })?;
            if let Some(archive) = &cfg.journal.archive_dir {
                check_archive(dir, archive)?;
            }
            std::fs::read_dir(dir).map(|it| it.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default()
        }
        None => Vec::new(),
    };
    let mut inputs = Vec::new();
    for (option, p) in [("--primary", &primary), ("--dropcopy", &dropcopy)] {
        if p.sessions.is_empty() {
            inputs.push(Named { option, path: &p.path });
        }
    }
    inputs.extend(journal_files.iter().map(|path| Named { option: "--journal", path }));
    let mut outputs = vec![Named { option: "--out", path: &a.out }];
    outputs.extend(a.rejects.as_deref().map(|path| Named { option: "--rejects", path }));
    check_outputs(&inputs, &outputs)?;
    let api = crate::commands::run_api::resolve(a.api.as_deref(), &cfg, a.api_addr_file.clone())?;
    if !with_session && same_input(&primary.path, &dropcopy.path) {
        tracing::warn!(path = %primary.path.display(), "--primary and --dropcopy are the same file: it is reconciled against itself");
    }
    let status_every = a.status_every.unwrap_or(cfg.status_every_s);
    // A FIX session's messages carry no arrival prefix: their receive stamp is the event time
    // (journaled, so a replay sees it too; D65).
    let clock = a.clock.unwrap_or(if a.pace.is_some() || with_session { EventClock::Ingest } else { EventClock::File });
    let recovering = match &a.journal {
        Some(dir) => fxrecon_journal::recovery::journal_exists(dir)?,
        None => false,
    };
    // One instance per journal (contract 6): held until this function returns.
    let _lock = match &a.journal {
        Some(dir) if !a.check_config => Some(fxrecon_journal::recovery::lock(dir)?),
        _ => None,
    };
    if a.check_config {
        let show = |p: &InputPlan, id: i32| match (p.sessions.is_empty(), p.aeron) {
            (false, _) => crate::sessions::describe(&p.sessions),
            (true, true) => format!("{} stream {id} (Aeron)", p.path.display()),
            (true, false) => format!("{} ({:?}{})", p.path.display(), p.kind, if p.follow { ", followed" } else { "" }),
        };
        println!("config OK");
        println!("  primary:  {}", show(&primary, primary_stream_id));
        println!("  dropcopy: {}", show(&dropcopy, dropcopy_stream_id));
        println!("  out: {}", a.out.display());
        if let Some(ch) = &out_aeron {
            println!("  out-aeron: {ch} stream {out_stream_id}");
        }
        if aeron {
            match &aeron_dir {
                Some(d) => println!("  aeron: the external media driver in {}", d.display()),
                None => println!(
                    "  aeron: an embedded media driver (terms {} / ipc {} bytes, idle {})",
                    ax.term_buffer_bytes, ax.ipc_term_buffer_bytes, ax.idle_strategy
                ),
            }
        }
        println!(
            "  journal: {}",
            a.journal.as_ref().map_or("none".to_string(), |d| format!(
                "{} ({})",
                d.display(),
                if recovering { "recovers from the journal there" } else { "new" }
            ))
        );
        println!(
            "  threading {:?}, clock {clock:?}, grace_ms {}, shutdown_timeout_ms {}",
            a.threading, cfg.grace_ms, cfg.shutdown_timeout_ms
        );
        return Ok(());
    }
    // Paced: each stream gets its share of the lines, so the two stay level in time (D40).
    let shares = match a.pace {
        Some(_) => pace_shares([lines_of(&primary)?, lines_of(&dropcopy)?]),
        None => [0.5, 0.5],
    };
    let opts = PipelineOptions {
        ring_capacity: a.ring_capacity,
        idle: a.idle,
        pin: a.pin,
        pace_msgs_per_s: a.pace,
        pace_shares: shares,
        clock,
        threading: a.threading,
        prefault: a.prefault,
        shutdown_timeout: Duration::from_millis(cfg.shutdown_timeout_ms),
    };
    // The media driver outlives the pipeline (declared first, dropped last).
    let driver = match aeron {
        true => Some(crate::transport::driver(aeron_dir.as_deref(), a.state_dir.as_deref(), ax)?),
        false => None,
    };
    let shutdown = setup::shutdown_on_signals()?;
    let state_dir = a.state_dir.clone().unwrap_or_else(|| std::env::temp_dir().join("fxrecon-state"));
    let session_counters = std::cell::RefCell::new(Vec::new());
    let journal_use = a.journal.as_deref().map(|dir| (dir, recovering));
    let open = |p: &InputPlan, what: &str| match (&driver, p.aeron, p.sessions.as_slice()) {
        (_, _, [_, ..]) => {
            let (src, counters) = crate::sessions::open(&p.sessions, &state_dir, cfg.max_message_bytes, journal_use)?;
            session_counters.borrow_mut().extend(counters);
            Ok(src)
        }
        (Some(d), true, _) => {
            let id = if what == "primary" { primary_stream_id } else { dropcopy_stream_id };
            crate::transport::open_source(d, &p.path, id, cfg.max_message_bytes)
        }
        _ => open_input(&p.path, p.follow, cfg.max_message_bytes)
            .with_context(|| format!("cannot open {what} input {}", p.path.display())),
    };

    let mut recovered = None;
    let builder = match &a.journal {
        Some(dir) if recovering => {
            if let Some(ids) = &identities {
                recovery::check_identities(dir, ids)?;
            }
            let r = recovery::recover(
                dir,
                &cfg,
                fsync,
                &a.out,
                a.rejects.as_deref(),
                a.salvage,
                &opts,
                shutdown.clone(),
                identities.is_none().then_some([&primary.path, &dropcopy.path]),
            )?;
            let out = std::fs::OpenOptions::new()
                .append(true)
                .open(&a.out)
                .with_context(|| format!("cannot append to {}", a.out.display()))?;
            let rejects: Box<dyn std::io::Write + Send> = match &a.rejects {
                Some(p) => Box::new(std::io::BufWriter::new(
                    std::fs::OpenOptions::new()
                        .append(true)
                        .open(p)
                        .with_context(|| format!("cannot append to {}", p.display()))?,
                )),
                None => setup::output(None, Default::Stderr)?,
            };
            let sources = [open(&primary, "primary")?, open(&dropcopy, "dropcopy")?];
            recovered = Some(r.report);
            let mut b = PipelineBuilder::new(&cfg, opts, Intake::Sources(sources))
                .start_from(r.state)
                .journal(r.journal)
                .skipping(r.already)
                .sink(Box::new(JsonLines::new(std::io::BufWriter::with_capacity(1 << 16, out))))
                .sink(Box::new(RejectLines::new(rejects)));
            if let (Some(d), Some(channel)) = (&driver, &out_aeron) {
                b = b.sink(crate::transport::open_sink(d, channel, out_stream_id)?);
            }
            b
        }
        journal => {
            // FIX sessions receive (and store their numbers) as soon as they start: their new
            // journal is made first, so no kill can fall between a message received and a
            // journal to resume it from (D67). Other inputs are opened first, as before.
            let mut early = match (journal, with_session) {
                (Some(dir), true) => Some(recovery::create_with(dir, &cfg, fsync, identities.clone())?),
                _ => None,
            };
            let sources = [open(&primary, "primary")?, open(&dropcopy, "dropcopy")?];
            let out = setup::create(&a.out)?;
            let rejects = setup::output(a.rejects.as_deref(), Default::Stderr)?;
            let mut b = PipelineBuilder::new(&cfg, opts, Intake::Sources(sources))
                .sink(Box::new(JsonLines::new(out)))
                .sink(Box::new(RejectLines::new(rejects)));
            if let (Some(d), Some(channel)) = (&driver, &out_aeron) {
                b = b.sink(crate::transport::open_sink(d, channel, out_stream_id)?);
            }
            if let Some(setup) = early.take() {
                b = b.journal(setup);
            } else if let Some(dir) = journal {
                b = b.journal(match identities {
                    Some(ids) => recovery::create_with(dir, &cfg, fsync, Some(ids))?,
                    None => recovery::create(dir, &cfg, fsync, Some([&primary.path, &dropcopy.path]))?,
                });
            }
            b
        }
    };
    let mut builder = builder.shutdown(shutdown);
    if status_every > 0 {
        builder = builder.status(Duration::from_secs(status_every), Box::new(setup::print_status));
    }
    let (builder, api) = crate::commands::run_api::plug(builder, api, recovered.is_some().then_some(&a.out))?;
    let pipeline = builder.build()?;
    let session_metrics = crate::sessions::metrics(session_counters.borrow().clone());
    let _api = crate::commands::run_api::start(api, &pipeline, session_metrics)?;
    let outcome = pipeline.run().map_err(fatal)?;
    let c = &outcome.counters;
    let messages = c.primary.messages + c.dropcopy.messages;
    let secs = outcome.elapsed.as_secs_f64().max(1e-9);
    let summary = serde_json::json!({
        "messages_read": { "primary": c.primary.messages, "dropcopy": c.dropcopy.messages },
        "messages_rejected": { "primary": c.primary.rejected, "dropcopy": c.dropcopy.rejected },
        "inputs": { "primary": c.primary.state, "dropcopy": c.dropcopy.state },
        "ring_full_waits": { "primary": c.primary.ring_full_waits, "dropcopy": c.dropcopy.ring_full_waits,
                             "output": c.output_full_waits, "journal": c.journal_full_waits },
        "orders": c.orders,
        "store": {
            "high_water": c.orders_high_water,
            "retired": c.orders_retired,
            "evicted": c.orders_evicted,
            "capacity_exhausted": c.capacity_exhausted,
            "stale_retired": c.orders_stale_retired,
            "reopened": c.orders_reopened,
            "retired_held": c.retired_held,
            "retired_forgotten_early": c.retired_forgotten_early,
        },
        "journal": c.journal,
        "recovered": recovered,
        "interrupted": outcome.interrupted,
        "elapsed_ms": outcome.elapsed.as_millis() as u64,
        "messages_per_s": (messages as f64 / secs).round(),
        "state_digest": format!("{:016x}", c.state_digest),
        "by_type": c.records_by_type,
        "sessions": crate::sessions::summary(&session_counters.borrow()),
    });
    eprintln!("{}", serde_json::to_string_pretty(&summary)?);
    if outcome.input_failed {
        return Err(fatal("an input failed while it was read (see the error above)"));
    }
    setup::check_inputs_used(c)
}
