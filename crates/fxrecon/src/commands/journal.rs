//! `fxrecon journal verify|dump|roll`: inspect a journal without replaying it, or roll a
//! finished day into a directory of its own.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use fxrecon_journal::record::{self, KIND_END_OF_INPUT, KIND_EVENT, KIND_HEADER, KIND_REJECT};
use fxrecon_journal::segment::{JournalReader, segment_name};

/// `journal` subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Check every record; report segments, records, torn tail and corruption.
    Verify {
        /// Journal directory.
        dir: PathBuf,
        /// Report corruption and go on instead of stopping.
        #[arg(long)]
        salvage: bool,
    },
    /// Print every record: segment, offset, kind; for events stream, line, event time and the
    /// raw FIX (`|` for SOH).
    Dump {
        /// Journal directory.
        dir: PathBuf,
    },
    /// End of day: move the finished day's journal to a directory of its own (a complete
    /// journal: `replay --journal DAYDIR` gives the day) and leave DIR holding the state the
    /// next day's run starts from (open orders and what is remembered carry over; sessions
    /// and counters start afresh). Refused while a run holds DIR or before the day is finished.
    Roll {
        /// Journal directory.
        dir: PathBuf,
        /// Where the day's journal goes: a new or empty directory on the same file system.
        #[arg(long)]
        into: PathBuf,
    },
}

/// Runs a `journal` subcommand.
pub fn run(c: Command) -> Result<()> {
    match c {
        Command::Roll { dir, into } => {
            fxrecon_engine::pipeline::paths::check_directory(fxrecon_engine::pipeline::paths::Named {
                option: "DIR",
                path: &dir,
            })?;
            let report = fxrecon_engine::pipeline::day_roll::roll(&dir, &into)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::Verify { dir, salvage } => {
            let salvage = salvage || fxrecon_journal::recovery::was_salvaged(&dir);
            let out = JournalReader::new(&dir, salvage).read(|_| {})?;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "segments": out.segments,
                    "records": out.records,
                    "end": out.end.map(|(s, o)| format!("{} @ {o}", segment_name(s))),
                    "torn_tail": out.torn_tail.map(|(s, o)| format!("{s} @ {o}")),
                    "salvaged": out.salvaged.iter().map(|(s, o, r)| format!("{s} @ {o}: {r}")).collect::<Vec<_>>(),
                }))?
            );
        }
        Command::Dump { dir } => {
            let mut stdout = BufWriter::new(io::stdout().lock());
            let mut err = None;
            JournalReader::new(&dir, false).read(|r| {
                if err.is_some() {
                    return;
                }
                let at = format!("{} {:>10}", segment_name(r.segment), r.offset);
                let line = match r.kind {
                    KIND_EVENT => match record::event_position(r.payload) {
                        Ok((stream, line, t)) => format!(
                            "{at} event   {:<8} line {:<8} {} {}",
                            stream.name(),
                            line,
                            t.rfc3339(),
                            String::from_utf8_lossy(record::raw(r.payload)).replace('\u{1}', "|")
                        ),
                        Err(e) => format!("{at} event   unreadable: {e}"),
                    },
                    KIND_REJECT => match record::decode_reject(r.payload) {
                        Ok(j) => format!(
                            "{at} reject  {:<8} line {:<8} {}: {}",
                            j.stream.name(),
                            j.line,
                            j.reason,
                            String::from_utf8_lossy(j.excerpt).replace('\u{1}', "|")
                        ),
                        Err(e) => format!("{at} reject  unreadable: {e}"),
                    },
                    KIND_HEADER => format!("{at} header  {}", String::from_utf8_lossy(r.payload)),
                    KIND_END_OF_INPUT => format!("{at} end of input (every pending check fired here)"),
                    k => format!("{at} kind {k} ({} bytes)", r.payload.len()),
                };
                if let Err(e) = writeln!(stdout, "{line}") {
                    err = Some(e);
                }
            })?;
            if let Some(e) = err {
                return Err(e).context("writing dump");
            }
            stdout.flush()?;
        }
    }
    Ok(())
}
