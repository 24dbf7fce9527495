//! `fxrecon query order|divergences|gaps|positions` (contract section 6): asks a running
//! daemon's API, or answers the same from a journal directory (`--journal`, replayed
//! read-only to its end); a table by default, the API's JSON with `--json`.

use std::path::Path;

use anyhow::{Result, bail};
use fxrecon_api::client::{address_of, encode, get};
use fxrecon_api::offline::OfflineDay;
use fxrecon_api::positions::PositionFilter;
use fxrecon_api::records::DivergenceFilter;
use fxrecon_api::table;

/// The local daemon's API.
pub const DEFAULT_API: &str = "http://127.0.0.1:7878";

/// Arguments of `query`.
#[derive(clap::Args)]
pub struct Args {
    /// The daemon's API (default http://127.0.0.1:7878).
    #[arg(long, global = true)]
    api: Option<String>,
    /// Answer from this journal directory instead (replayed read-only to its end).
    #[arg(long, global = true, conflicts_with = "api")]
    journal: Option<std::path::PathBuf>,
    /// Bearer token (default: FXRECON_API_TOKEN).
    #[arg(long, global = true)]
    token: Option<String>,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    what: What,
}

/// What to ask.
#[derive(clap::Subcommand)]
enum What {
    /// One order by any ClOrdID or OrderID: both views, flags, its divergences.
    Order {
        /// A ClOrdID or OrderID of the order.
        key: String,
    },
    /// Divergences, filtered.
    Divergences {
        /// Of this order (any of its ids).
        #[arg(long)]
        order: Option<String>,
        /// Of this type (MissingFill, …).
        #[arg(long = "type")]
        kind: Option<String>,
        /// At this venue.
        #[arg(long)]
        venue: Option<String>,
        /// Detected at or after (RFC 3339 UTC).
        #[arg(long)]
        from: Option<String>,
        /// Detected before (RFC 3339 UTC).
        #[arg(long)]
        to: Option<String>,
        /// Only open ones (true) or only resolved ones (false).
        #[arg(long)]
        open: Option<bool>,
    },
    /// Sequence gaps and the sessions' numbers.
    Gaps,
    /// Position breaks per account × symbol: both streams' net amounts, largest break first.
    Positions {
        /// Of this account.
        #[arg(long)]
        account: Option<String>,
        /// In this symbol.
        #[arg(long)]
        symbol: Option<String>,
    },
}

/// Runs `query`.
pub fn run(a: Args) -> Result<()> {
    let v = match &a.journal {
        Some(dir) => offline(dir, &a.what)?,
        None => online(&a)?,
    };
    let text = match (&a.what, a.json) {
        (_, true) => serde_json::to_string_pretty(&v)? + "\n",
        (What::Order { .. }, false) => table::order(&v),
        (What::Divergences { .. }, false) => table::divergences(&v),
        (What::Gaps, false) => table::gaps(&v),
        (What::Positions { .. }, false) => table::positions(&v),
    };
    print!("{text}");
    Ok(())
}

/// The answer of the daemon's API.
fn online(a: &Args) -> Result<serde_json::Value> {
    let addr = address_of(a.api.as_deref().unwrap_or(DEFAULT_API))?;
    let token = a.token.clone().or_else(|| std::env::var("FXRECON_API_TOKEN").ok()).filter(|t| !t.is_empty());
    let query = |pairs: &[(&str, &Option<String>)]| -> String {
        let q: Vec<String> =
            pairs.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v)))).collect();
        q.join("&")
    };
    let path = match &a.what {
        What::Order { key } => format!("/v1/orders/{}", encode(key)),
        What::Divergences { order, kind, venue, from, to, open } => {
            let open = open.map(|o| o.to_string());
            let pairs =
                [("order", order), ("type", kind), ("venue", venue), ("from", from), ("to", to), ("open", &open)];
            format!("/v1/divergences?{}", query(&pairs))
        }
        What::Gaps => "/v1/gaps".to_string(),
        What::Positions { account, symbol } => {
            format!("/v1/positions?{}", query(&[("account", account), ("symbol", symbol)]))
        }
    };
    let (status, body) = get(&addr, &path, token.as_deref())?;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
    if status != 200 {
        bail!("{} ({status})", v["error"].as_str().unwrap_or(body.trim()));
    }
    Ok(v)
}

/// The same answer from journal `dir`, replayed to its end.
fn offline(dir: &Path, what: &What) -> Result<serde_json::Value> {
    check_journal_dir(dir)?;
    let day = OfflineDay::replay(dir)?;
    let answer = match what {
        What::Order { key } => day.order(key),
        What::Divergences { order, kind, venue, from, to, open } => day.divergences(&DivergenceFilter {
            order: order.clone(),
            kind: kind.clone(),
            venue: venue.clone(),
            from: from.clone(),
            to: to.clone(),
            open: open.map(|o| o.to_string()),
        }),
        What::Gaps => Ok(day.gaps()),
        What::Positions { account, symbol } => {
            Ok(day.positions(&PositionFilter { account: account.clone(), symbol: symbol.clone() }))
        }
    };
    answer.map_err(|e| anyhow::anyhow!("{e} ({})", e.status().as_u16()))
}

/// `--journal` must name an existing directory (checked before anything is read).
pub fn check_journal_dir(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        bail!("--journal {}: not a journal directory", dir.display());
    }
    Ok(())
}
