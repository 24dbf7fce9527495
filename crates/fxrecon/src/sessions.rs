//! FIX session wiring for `run`: the `[[session]]`s of a stream as a run's input (resumed
//! from the journal when the run recovers), what a journal records of it, and its counters in the summary.
//!
//! Owns: only that mapping from the config to `fxrecon_fixsession` (the session layer itself
//! is that crate's). Must never hold session logic.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use fxrecon_core::event::Stream;
use fxrecon_engine::ingest::source::MessageSource;
use fxrecon_engine::pipeline::inputs::InputIdentity;
use fxrecon_fixsession::config::SessionConfig;
use fxrecon_fixsession::counters::SessionCounters;
use fxrecon_fixsession::resume::Journaled;
use fxrecon_fixsession::source::FixSource;
use fxrecon_fixsession::stream::FixStream;

/// What a journal records of a stream's sessions: their CompIDs, in any order (a restart must
/// name the same sessions).
pub fn identity(sessions: &[SessionConfig]) -> InputIdentity {
    let mut names: Vec<String> = sessions.iter().map(SessionConfig::name).collect();
    names.sort();
    InputIdentity::transport(format!("fix session {}", names.join(", ")))
}

/// A stream's sessions as `--check-config` shows them.
pub fn describe(sessions: &[SessionConfig]) -> String {
    sessions.iter().map(describe_one).collect::<Vec<_>>().join("; ")
}

fn describe_one(s: &SessionConfig) -> String {
    let to = format!("{}:{}", s.host, s.port);
    format!(
        "FIX session {} ({:?} {} {to}, heartbeat {} s, reset {:?}{})",
        s.name(),
        s.role(),
        if s.role() == fxrecon_fixsession::session::Role::Acceptor { "on" } else { "to" },
        s.heartbeat_s,
        s.reset,
        if s.end_on_logout { ", ends on the peer's logout" } else { "" }
    )
}

/// Counters of a session, by its name.
pub type Named = (String, Arc<SessionCounters>);

/// Starts a stream's sessions (their numbers under `state_dir/fix`) as one input; `journal`:
/// how the run journals (a recovered journal is where their inbound sides resume, D64).
pub fn open(
    sessions: &[SessionConfig],
    state_dir: &Path,
    max: usize,
    journal: Option<(&Path, bool)>,
) -> Result<(Box<dyn MessageSource>, Vec<Named>)> {
    let mut started = Vec::with_capacity(sessions.len());
    for s in sessions {
        let stream = if s.stream == "primary" { Stream::Primary } else { Stream::DropCopy };
        let journaled = match journal {
            None => Journaled::No,
            Some((_, false)) => Journaled::New,
            Some((dir, true)) => Journaled::Recovering { dir, stream },
        };
        started.push(
            FixSource::start_journaled(s, state_dir, max, journaled)
                .with_context(|| format!("cannot start the {} FIX session", s.stream))?,
        );
    }
    let counters = started.iter().zip(sessions).map(|(src, s)| (s.name(), src.counters())).collect();
    let src: Box<dyn MessageSource> = match started.len() {
        1 => Box::new(started.pop().expect("one session")),
        _ => Box::new(FixStream::new(started)),
    };
    Ok((src, counters))
}

/// The sessions' counters as `/metrics` families labelled by session (None without sessions):
/// read from their atomics at each scrape, on the API's thread.
pub fn metrics(sessions: Vec<Named>) -> Option<fxrecon_api::metrics::ExternalMetrics> {
    use fxrecon_api::metrics::{ExternalFamily, Kind};
    type Field = fn(&SessionCounters) -> u64;
    const FAMILIES: [(&str, &str, Kind, Field); 12] = [
        ("fix_session_logged_on", "Whether the FIX session is logged on (1) or not (0)", Kind::Gauge, |c| {
            u64::from(c.logged_on.load(std::sync::atomic::Ordering::Relaxed))
        }),
        ("fix_session_messages", "Messages the FIX session handed to the ingest path", Kind::Counter, |c| {
            SessionCounters::get(&c.delivered)
        }),
        ("fix_session_application_messages", "Application messages among them", Kind::Counter, |c| {
            SessionCounters::get(&c.application)
        }),
        ("fix_session_logons", "Logons completed", Kind::Counter, |c| SessionCounters::get(&c.logons)),
        ("fix_session_logons_refused", "Logons refused by either side", Kind::Counter, |c| {
            SessionCounters::get(&c.logons_refused)
        }),
        ("fix_session_logouts", "Logouts", Kind::Counter, |c| SessionCounters::get(&c.logouts)),
        ("fix_session_disconnects", "Connections lost or closed", Kind::Counter, |c| {
            SessionCounters::get(&c.disconnects)
        }),
        ("fix_session_gaps_detected", "Inbound sequence gaps detected", Kind::Counter, |c| {
            SessionCounters::get(&c.gaps_detected)
        }),
        ("fix_session_resend_requests", "ResendRequests sent (retries included)", Kind::Counter, |c| {
            SessionCounters::get(&c.resend_requests)
        }),
        ("fix_session_gaps_filled", "Times every open gap was filled", Kind::Counter, |c| {
            SessionCounters::get(&c.gaps_filled)
        }),
        ("fix_session_resets", "Sequence resets", Kind::Counter, |c| SessionCounters::get(&c.resets)),
        ("fix_session_duplicates_discarded", "Resent messages already had, discarded", Kind::Counter, |c| {
            SessionCounters::get(&c.duplicates_discarded)
        }),
    ];
    if sessions.is_empty() {
        return None;
    }
    Some(std::sync::Arc::new(move || {
        FAMILIES
            .iter()
            .map(|&(name, help, kind, field)| ExternalFamily {
                name,
                help,
                kind,
                rows: sessions.iter().map(|(s, c)| (vec![("session".to_string(), s.clone())], field(c))).collect(),
            })
            .collect()
    }))
}

/// The sessions' counters for the run's summary.
pub fn summary(sessions: &[Named]) -> serde_json::Value {
    let get = SessionCounters::get;
    sessions
        .iter()
        .map(|(name, c)| {
            let v = serde_json::json!({
                "logons": get(&c.logons), "logons_refused": get(&c.logons_refused), "logouts": get(&c.logouts),
                "connections": get(&c.connections), "disconnects": get(&c.disconnects),
                "gaps_detected": get(&c.gaps_detected), "resend_requests": get(&c.resend_requests),
                "gaps_filled": get(&c.gaps_filled), "resets": get(&c.resets),
                "duplicates_discarded": get(&c.duplicates_discarded), "delivered": get(&c.delivered),
                "application": get(&c.application),
            });
            (name.clone(), v)
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}
