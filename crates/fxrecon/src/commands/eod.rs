//! `fxrecon eod (--journal DIR | --api URL) [--date D] --out DIR` (contract 6): the end-of-day
//! report, from a journal replayed read-only to its end or from the running daemon's API. Both
//! ask the same three questions (divergences, gaps, positions) and hand the same answers to
//! `fxrecon_api::eod::build`, so both give the same files for the same day.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use fxrecon_api::client::{address_of, get};
use fxrecon_api::eod::{Answers, build};
use fxrecon_api::offline::OfflineDay;
use fxrecon_api::positions::PositionFilter;
use fxrecon_api::records::DivergenceFilter;
use serde_json::Value;

use crate::commands::query::check_journal_dir;

/// Arguments of `eod`.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["journal", "api"])))]
pub struct Args {
    /// Report from this journal directory (replayed read-only to its end).
    #[arg(long)]
    journal: Option<PathBuf>,
    /// Report from the daemon's API at this URL (http://HOST:PORT).
    #[arg(long)]
    api: Option<String>,
    /// Bearer token for --api (default: FXRECON_API_TOKEN).
    #[arg(long, requires = "api")]
    token: Option<String>,
    /// Only records detected on this day (YYYY-MM-DD, UTC); default: everything.
    #[arg(long, value_parser = parse_date)]
    date: Option<String>,
    /// Directory for breaks.csv, breaks.json and report.html (made if missing).
    #[arg(long)]
    out: PathBuf,
}

/// The files `eod` writes.
const FILES: [&str; 3] = ["breaks.csv", "breaks.json", "report.html"];

fn parse_date(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let ok = b.len() == 10 && b[4] == b'-' && b[7] == b'-' && digits(0..4) && digits(5..7) && digits(8..10);
    let (m, d): (u32, u32) = if ok { (s[5..7].parse().unwrap_or(0), s[8..10].parse().unwrap_or(0)) } else { (0, 0) };
    if !ok || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(format!("not a date (YYYY-MM-DD): {s}"));
    }
    Ok(s.to_string())
}

/// `--out` must be a directory or not exist yet, never inside the journal it reports on, and
/// none of its three files a directory.
fn check_out(out: &Path, journal: Option<&Path>) -> Result<()> {
    if out.exists() && !out.is_dir() {
        bail!("--out {}: not a directory", out.display());
    }
    if let Some(j) = journal {
        let canon = |p: &Path| {
            std::fs::canonicalize(p).ok().or_else(|| {
                let parent = p.parent().filter(|q| !q.as_os_str().is_empty()).unwrap_or(Path::new("."));
                Some(std::fs::canonicalize(parent).ok()?.join(p.file_name()?))
            })
        };
        if let (Some(o), Some(j)) = (canon(out), canon(j))
            && o.starts_with(&j)
        {
            bail!(
                "--out {} is inside --journal {}: the report must not go into the journal",
                out.display(),
                j.display()
            );
        }
    }
    for f in FILES {
        if out.join(f).is_dir() {
            bail!("--out {}: {f} there is a directory", out.display());
        }
    }
    Ok(())
}

/// Runs `eod`.
pub fn run(a: Args) -> Result<()> {
    if let Some(j) = &a.journal {
        check_journal_dir(j)?;
    }
    check_out(&a.out, a.journal.as_deref())?;
    let [divergences, gaps, positions] = match (&a.journal, &a.api) {
        (Some(dir), _) => {
            let day = OfflineDay::replay(dir)?;
            let divergences = day.divergences(&DivergenceFilter::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
            [divergences, day.gaps(), day.positions(&PositionFilter::default())]
        }
        (None, Some(url)) => {
            let addr = address_of(url)?;
            let token = a.token.clone().or_else(|| std::env::var("FXRECON_API_TOKEN").ok()).filter(|t| !t.is_empty());
            let ask = |path: &str| -> Result<Value> {
                let (status, body) = get(&addr, path, token.as_deref())?;
                let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                if status != 200 {
                    bail!("{path}: {} ({status})", v["error"].as_str().unwrap_or(body.trim()));
                }
                Ok(v)
            };
            [ask("/v1/divergences")?, ask("/v1/gaps")?, ask("/v1/positions")?]
        }
        (None, None) => unreachable!("clap requires one source"),
    };
    let files =
        build(&Answers { divergences: &divergences, gaps: &gaps, positions: &positions, date: a.date.as_deref() });
    std::fs::create_dir_all(&a.out).with_context(|| format!("--out {}", a.out.display()))?;
    for (name, body) in FILES.iter().zip([&files.csv, &files.json, &files.html]) {
        let path = a.out.join(name);
        std::fs::write(&path, body).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
