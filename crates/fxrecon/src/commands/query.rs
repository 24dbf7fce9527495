//! `fxrecon query order|divergences|gaps|positions` (contract section 6): asks a running daemon's API;
//! a table by default, the API's JSON with `--json`.

use anyhow::{Result, bail};
use fxrecon_api::client::{address_of, encode, get};
use fxrecon_api::table;

/// Arguments of `query`.
#[derive(clap::Args)]
pub struct Args {
    /// The daemon's API.
    #[arg(long, global = true, default_value = "http://127.0.0.1:7878")]
    api: String,
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
    let addr = address_of(&a.api)?;
    let token = a.token.or_else(|| std::env::var("FXRECON_API_TOKEN").ok()).filter(|t| !t.is_empty());
    let path = match &a.what {
        What::Order { key } => format!("/v1/orders/{}", encode(key)),
        What::Divergences { order, kind, venue, from, to, open } => {
            let open = open.map(|o| o.to_string());
            let pairs =
                [("order", order), ("type", kind), ("venue", venue), ("from", from), ("to", to), ("open", &open)];
            let q: Vec<String> =
                pairs.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v)))).collect();
            format!("/v1/divergences?{}", q.join("&"))
        }
        What::Gaps => "/v1/gaps".to_string(),
        What::Positions { account, symbol } => {
            let q: Vec<String> = [("account", account), ("symbol", symbol)]
                .iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v))))
                .collect();
            format!("/v1/positions?{}", q.join("&"))
        }
    };
    let (status, body) = get(&addr, &path, token.as_deref())?;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
    if status != 200 {
        bail!("{} ({status})", v["error"].as_str().unwrap_or(body.trim()));
    }
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
