//! Run configuration (`fxrecon.toml`), loaded from a TOML file and overridden by command-line
//! flags.
//!
//! Owns: every key, its default and its validation, and which keys are *rules* (the ones a
//! journal records, so a replay or recovery reconciles as the run did). Unknown keys and
//! impossible values are errors with one clear message, never silently ignored.

use std::path::{Path, PathBuf};

use fxrecon_core::reconciler::ReconConfig;
use serde::{Deserialize, Serialize};

/// How logs are written.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// One stream's input, when the config file names it (`[primary]`, `[dropcopy]`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct InputConfig {
    /// A file, or `-` for standard input (a pipe or FIFO path is streamed too).
    pub path: Option<PathBuf>,
    /// Keep reading the file as it grows, until shutdown.
    pub follow: bool,
}

/// The journal's files (`[journal]`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct JournalConfig {
    /// Bytes per segment file before the journal rolls over to the next.
    pub segment_bytes: u64,
    /// Keep the segments under this many bytes, letting go of those no restart needs (0: keep
    /// everything).
    pub retention_bytes: u64,
    /// Let go of segments no restart needs once they are this many days old (0: never).
    pub retention_days: u64,
    /// Move the segments let go here instead of deleting them.
    pub archive_dir: Option<PathBuf>,
}

impl Default for JournalConfig {
    fn default() -> Self {
        Self { segment_bytes: 256 << 20, retention_bytes: 0, retention_days: 0, archive_dir: None }
    }
}

impl JournalConfig {
    /// The retention these settings ask for.
    pub fn retention(&self) -> fxrecon_journal::retention::Retention {
        fxrecon_journal::retention::Retention {
            max_bytes: self.retention_bytes,
            max_age: (self.retention_days > 0).then(|| std::time::Duration::from_secs(self.retention_days * 86_400)),
            archive: self.archive_dir.clone(),
        }
    }
}

/// Everything a run can be tuned with.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Grace window in ms of event time.
    pub grace_ms: i64,
    /// TimingAnomaly threshold in ms.
    pub timing_threshold_ms: i64,
    /// Longest accepted message (line) in bytes.
    pub max_message_bytes: usize,
    /// Orders held at once (live + retiring); the store never grows beyond it.
    pub max_orders: usize,
    /// Execution records held at once.
    pub max_execs: usize,
    /// How long a finished order is kept for late reports (ms, at least grace_ms).
    pub retention_ms: i64,
    /// Session directions the sequencer tracks.
    pub max_sessions: usize,
    /// Open orders without a report for this long (ms) are retired (0: never; D29).
    pub open_retention_ms: i64,
    /// How long a retired order is remembered for late reports, ms of event time after it
    /// retired (contract 2.2; default 24 h; 0: not at all).
    pub retired_memory_ms: i64,
    /// Retired orders remembered at most; beyond it the oldest are forgotten first (counted).
    /// A plain order takes about 110 bytes, 160 are reserved per order (BENCHMARKS.md).
    pub max_retired_orders: usize,
    /// Account × symbol positions held at most (`GET /v1/positions`); fills of a new one
    /// beyond it are counted (`full`), never kept. About 130 bytes each, reserved at start.
    pub max_positions: usize,
    /// A journaled run snapshots its state every this many consumed messages (0: never).
    pub snapshot_every: u64,
    /// Write the journal with `O_DIRECT` where the file system allows it (D31, D34): no
    /// page-cache copy, less CPU per message; a batch counts as written once it is on the
    /// device, which adds the device's write time (about 0.1–0.2 ms here) to journaled output.
    /// On by default; `false` writes through the page cache.
    pub journal_direct_io: bool,
    /// Snapshots kept beside the journal (older ones are removed).
    pub snapshots_kept: usize,
    /// AvgPx values that are roundings of each other may still differ by this much (a decimal,
    /// e.g. "0.00000005"; default "0": exact after rounding; contract 3).
    pub avg_px_tolerance: String,
    /// How long a shutdown (SIGTERM/SIGINT) may take to drain and flush (ms).
    pub shutdown_timeout_ms: u64,
    /// `run` prints its live counters to stderr this often (s; 0: never).
    pub status_every_s: u64,
    /// Log level when `RUST_LOG` is not set (`error`, `warn`, `info`, `debug`, `trace`).
    pub log_level: Option<String>,
    /// Log format.
    pub log_format: LogFormat,
    /// The primary input.
    pub primary: InputConfig,
    /// The drop-copy input.
    pub dropcopy: InputConfig,
    /// The journal's files.
    pub journal: JournalConfig,
    /// The Aeron transport (`[aeron]`).
    pub aeron: AeronConfig,
    /// The query API (`[api]`).
    pub api: ApiConfig,
    /// FIX sessions (`[[session]]` tables), held as read: their keys and checks are the
    /// session crate's (`fxrecon_fixsession::config`), as the Aeron types are the transport's.
    pub session: Vec<toml::Table>,
}

/// The query API of `run` (`[api]`, contract section 6).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// `HOST:PORT` to listen on, or `off` (default `127.0.0.1:7878`).
    pub listen: Option<String>,
    /// Bearer token the API requires (else FXRECON_API_TOKEN; required off loopback).
    pub token: Option<String>,
}

/// The settings that decide what a run reports: recorded in its journal, so that a replay or
/// a recovery reconciles with the rules the run had.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Grace window in ms of event time.
    pub grace_ms: i64,
    /// TimingAnomaly threshold in ms.
    pub timing_threshold_ms: i64,
    /// Longest accepted message in bytes.
    pub max_message_bytes: usize,
    /// Orders held at once.
    pub max_orders: usize,
    /// Execution records held at once.
    pub max_execs: usize,
    /// How long a finished order is kept (ms).
    pub retention_ms: i64,
    /// Session directions tracked.
    pub max_sessions: usize,
    /// Open orders without a report for this long are retired (ms; 0: never).
    pub open_retention_ms: i64,
    /// AvgPx tolerance (a decimal).
    pub avg_px_tolerance: String,
    /// How long a retired order is remembered (ms; 0: not at all, as in a journal written
    /// before retired orders were remembered).
    #[serde(default)]
    pub retired_memory_ms: i64,
    /// Retired orders remembered at most (0 in a journal from before).
    #[serde(default)]
    pub max_retired_orders: usize,
    /// Positions held at most (the default in a journal from before positions).
    #[serde(default = "default_max_positions")]
    pub max_positions: usize,
}

fn default_max_positions() -> usize {
    fxrecon_core::reconciler::positions::DEFAULT_MAX_POSITIONS
}

impl Default for Config {
    fn default() -> Self {
        let core = ReconConfig::default();
        Self {
            grace_ms: core.grace_ms,
            timing_threshold_ms: core.timing_threshold_ms,
            max_message_bytes: 64 * 1024,
            max_orders: core.max_orders,
            max_execs: core.max_execs,
            retention_ms: core.retention_ms,
            max_sessions: core.max_sessions,
            open_retention_ms: core.open_retention_ms,
            retired_memory_ms: core.retired_memory_ms,
            max_retired_orders: core.max_retired_orders,
            max_positions: core.max_positions,
            snapshot_every: 2_000_000,
            snapshots_kept: 3,
            journal_direct_io: true,
            avg_px_tolerance: "0".to_string(),
            shutdown_timeout_ms: 10_000,
            status_every_s: 0,
            log_level: None,
            log_format: LogFormat::Text,
            primary: InputConfig::default(),
            dropcopy: InputConfig::default(),
            journal: JournalConfig::default(),
            aeron: AeronConfig::default(),
            api: ApiConfig::default(),
            session: Vec::new(),
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The path given.
        path: String,
        /// Parser message, first line.
        message: String,
    },
    /// A value out of range.
    #[error("invalid config: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads a TOML file; every key is optional.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        let cfg: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.message().lines().next().unwrap_or("parse error").to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_string()));
        const WEEK_MS: i64 = 7 * 24 * 3_600_000;
        if self.grace_ms <= 0 || self.grace_ms > WEEK_MS {
            return bad("grace_ms must be > 0 and at most 604800000 (7 days)");
        }
        if self.timing_threshold_ms <= 0 || self.timing_threshold_ms > self.grace_ms {
            return bad("timing_threshold_ms must be > 0 and not above grace_ms");
        }
        if !(64..=16 * 1024 * 1024).contains(&self.max_message_bytes) {
            return bad("max_message_bytes must be between 64 and 16777216");
        }
        if self.max_orders == 0 || self.max_execs == 0 || self.max_sessions == 0 {
            return bad("max_orders, max_execs and max_sessions must be > 0");
        }
        if self.max_positions == 0 || self.max_positions >= u32::MAX as usize / 4 {
            return bad("max_positions must be > 0 and below 2^30");
        }
        if self.max_orders >= u32::MAX as usize / 2 || self.max_execs >= u32::MAX as usize {
            return bad("max_orders must be below 2^31 and max_execs below 2^32");
        }
        if self.open_retention_ms != 0
            && (self.open_retention_ms < self.retention_ms || self.open_retention_ms > 4 * WEEK_MS)
        {
            return bad("open_retention_ms must be 0 (never) or between retention_ms and 2419200000 (28 days)");
        }
        if self.snapshots_kept == 0 {
            return bad("snapshots_kept must be at least 1");
        }
        if self.retention_ms < self.grace_ms || self.retention_ms > 4 * WEEK_MS {
            return bad("retention_ms must be at least grace_ms and at most 2419200000 (28 days)");
        }
        if !(0..=4 * WEEK_MS).contains(&self.retired_memory_ms) || self.max_retired_orders >= u32::MAX as usize / 2 {
            return bad("retired_memory_ms must be 0 (off) to 2419200000 (28 days), max_retired_orders below 2^31");
        }
        match fxrecon_core::decimal::Price::parse(self.avg_px_tolerance.as_bytes()) {
            Ok(t) if t.0 >= 0 => {}
            _ => return bad("avg_px_tolerance must be a decimal >= 0 with at most 8 decimals (e.g. \"0.00000005\")"),
        }
        if !(64 << 10..=1 << 40).contains(&self.journal.segment_bytes) {
            return bad("journal.segment_bytes must be between 65536 and 1099511627776");
        }
        let j = &self.journal;
        if j.retention_bytes != 0 && j.retention_bytes < j.segment_bytes {
            return bad("journal.retention_bytes must be 0 (keep everything) or at least journal.segment_bytes");
        }
        if j.retention_days > 3650 {
            return bad("journal.retention_days must be 0 (never) or at most 3650");
        }
        let retains = j.retention_bytes > 0 || j.retention_days > 0;
        if j.archive_dir.is_some() && !retains {
            return bad(
                "journal.archive_dir needs journal.retention_bytes or journal.retention_days: nothing would be archived",
            );
        }
        if retains && self.snapshot_every == 0 {
            // Segments go only once a snapshot stands in for them.
            return bad("journal retention needs snapshots: snapshot_every must be > 0");
        }
        if self.shutdown_timeout_ms == 0 || self.shutdown_timeout_ms > 3_600_000 {
            return bad("shutdown_timeout_ms must be > 0 and at most 3600000 (1 hour)");
        }
        if let Some(l) = &self.log_level
            && !["error", "warn", "info", "debug", "trace"].contains(&l.as_str())
        {
            return bad("log_level must be one of error, warn, info, debug, trace");
        }
        self.aeron.validate().map_err(ConfigError::Invalid)?;
        Ok(())
    }

    /// The rules a journal records.
    pub fn rules(&self) -> Rules {
        Rules {
            grace_ms: self.grace_ms,
            timing_threshold_ms: self.timing_threshold_ms,
            max_message_bytes: self.max_message_bytes,
            max_orders: self.max_orders,
            max_execs: self.max_execs,
            retention_ms: self.retention_ms,
            max_sessions: self.max_sessions,
            open_retention_ms: self.open_retention_ms,
            avg_px_tolerance: self.avg_px_tolerance.clone(),
            retired_memory_ms: self.retired_memory_ms,
            max_retired_orders: self.max_retired_orders,
            max_positions: self.max_positions,
        }
    }

    /// This configuration with `rules` in place of its own.
    pub fn with_rules(&self, r: Rules) -> Self {
        Self {
            grace_ms: r.grace_ms,
            timing_threshold_ms: r.timing_threshold_ms,
            max_message_bytes: r.max_message_bytes,
            max_orders: r.max_orders,
            max_execs: r.max_execs,
            retention_ms: r.retention_ms,
            max_sessions: r.max_sessions,
            open_retention_ms: r.open_retention_ms,
            avg_px_tolerance: r.avg_px_tolerance,
            retired_memory_ms: r.retired_memory_ms,
            max_retired_orders: r.max_retired_orders,
            max_positions: r.max_positions,
            ..self.clone()
        }
    }

    /// The first rule in which `self` and `other` differ, if any.
    pub fn rule_difference(&self, other: &Rules) -> Option<&'static str> {
        let (a, b) = (self.rules(), other.clone());
        [
            (a.grace_ms != b.grace_ms, "grace_ms"),
            (a.timing_threshold_ms != b.timing_threshold_ms, "timing_threshold_ms"),
            (a.max_orders != b.max_orders, "max_orders"),
            (a.max_execs != b.max_execs, "max_execs"),
            (a.retention_ms != b.retention_ms, "retention_ms"),
            (a.max_sessions != b.max_sessions, "max_sessions"),
            (a.open_retention_ms != b.open_retention_ms, "open_retention_ms"),
            (a.max_message_bytes != b.max_message_bytes, "max_message_bytes"),
            (a.retired_memory_ms != b.retired_memory_ms, "retired_memory_ms"),
            (a.max_retired_orders != b.max_retired_orders, "max_retired_orders"),
            (a.max_positions != b.max_positions, "max_positions"),
            (
                self.recon().avg_px_tolerance != Config::default().with_rules(b.clone()).recon().avg_px_tolerance,
                "avg_px_tolerance",
            ),
        ]
        .into_iter()
        .find_map(|(differs, name)| differs.then_some(name))
    }

    /// This configuration with the store capped at what inputs of `bytes` bytes in all can
    /// possibly need (D14): a message that creates an order or an execution record has at
    /// least six fields of four bytes, so these inputs hold at most `bytes / 24` of either, the
    /// cap is never reached and the output is the configured size's, while the tables stay
    /// small.
    pub fn sized_for_input_bytes(&self, bytes: u64) -> Self {
        self.sized_for_messages(bytes / 24)
    }

    /// This configuration with the store capped for inputs held in memory, from their lines:
    /// each line creates at most one order and one execution record (D14), so the cap is
    /// never reached and the output is the configured size's. Tighter than the byte bound,
    /// for inputs whose lines are at hand (benchmarks, `demo`).
    pub fn sized_for_inputs(&self, inputs: &[&[u8]]) -> Self {
        let lines: usize = inputs.iter().map(|b| memchr::memchr_iter(b'\n', b).count() + 1).sum();
        self.sized_for_messages(lines as u64)
    }

    fn sized_for_messages(&self, most: u64) -> Self {
        let most = usize::try_from(most).unwrap_or(usize::MAX).max(1024);
        Self {
            max_orders: self.max_orders.min(most),
            max_execs: self.max_execs.min(most),
            max_retired_orders: self.max_retired_orders.min(most),
            max_positions: self.max_positions.min(most),
            ..self.clone()
        }
    }

    /// The core's part of it.
    pub fn recon(&self) -> ReconConfig {
        ReconConfig {
            grace_ms: self.grace_ms,
            timing_threshold_ms: self.timing_threshold_ms,
            max_orders: self.max_orders,
            max_execs: self.max_execs,
            retention_ms: self.retention_ms,
            max_sessions: self.max_sessions,
            open_retention_ms: self.open_retention_ms,
            retired_memory_ms: self.retired_memory_ms,
            max_retired_orders: self.max_retired_orders,
            max_positions: self.max_positions,
            // Checked by `validate`; a config that skipped it compares exactly.
            avg_px_tolerance: fxrecon_core::decimal::Price::parse(self.avg_px_tolerance.as_bytes()).unwrap_or_default(),
        }
    }
}

/// The Aeron transport (`[aeron]`, issue 24, D61, D91): the media driver, the channels and
/// stream ids of the inputs and the divergence output, the embedded driver's term buffers and
/// idle behaviour. The command line overrides each of them.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AeronConfig {
    /// The directory of an external media driver to attach to (Aeron's `aeron.dir`); unset:
    /// the run embeds a driver under its state directory.
    pub dir: Option<PathBuf>,
    /// The primary input's channel, when neither `--primary` nor `[primary] path` names one.
    pub primary_channel: Option<String>,
    /// The primary stream id.
    pub primary_stream_id: i32,
    /// The drop-copy input's channel, when neither `--dropcopy` nor `[dropcopy] path` does.
    pub dropcopy_channel: Option<String>,
    /// The drop-copy stream id.
    pub dropcopy_stream_id: i32,
    /// Publish the divergences on this channel (as `--out-aeron`); unset: not published.
    pub output_channel: Option<String>,
    /// The divergence stream id.
    pub output_stream_id: i32,
    /// Term buffer length of an embedded driver's network (UDP) publications, bytes.
    pub term_buffer_bytes: usize,
    /// Term buffer length of its IPC publications, bytes (three terms of /dev/shm each).
    pub ipc_term_buffer_bytes: usize,
    /// The embedded driver's idle strategy (Aeron's names: `backoff`, `sleeping`, `yield`,
    /// `spin`, `noop`; spinning costs a core).
    pub idle_strategy: String,
    /// How long an embedded driver lets a silent client live (ms): a killed publisher's image
    /// is lost after it.
    pub client_liveness_timeout_ms: u64,
}

impl Default for AeronConfig {
    fn default() -> Self {
        Self {
            dir: None,
            primary_channel: None,
            primary_stream_id: 1001,
            dropcopy_channel: None,
            dropcopy_stream_id: 1002,
            output_channel: None,
            output_stream_id: 2001,
            term_buffer_bytes: 4 << 20,
            ipc_term_buffer_bytes: 4 << 20,
            idle_strategy: "backoff".to_string(),
            client_liveness_timeout_ms: 10_000,
        }
    }
}

impl AeronConfig {
    /// Checks ranges and names (the message names the key).
    pub fn validate(&self) -> Result<(), String> {
        for (key, ch) in [
            ("primary_channel", &self.primary_channel),
            ("dropcopy_channel", &self.dropcopy_channel),
            ("output_channel", &self.output_channel),
        ] {
            if ch.as_deref().is_some_and(|c| !c.starts_with("aeron:")) {
                return Err(format!("aeron.{key} must be an Aeron channel (aeron:ipc, aeron:udp?endpoint=HOST:PORT)"));
            }
        }
        for (key, len) in
            [("term_buffer_bytes", self.term_buffer_bytes), ("ipc_term_buffer_bytes", self.ipc_term_buffer_bytes)]
        {
            if !len.is_power_of_two() || !(64 << 10..=1 << 30).contains(&len) {
                return Err(format!("aeron.{key} must be a power of two between 65536 and 1073741824"));
            }
        }
        if !["backoff", "sleeping", "yield", "spin", "noop"].contains(&self.idle_strategy.as_str()) {
            return Err("aeron.idle_strategy must be one of backoff, sleeping, yield, spin, noop".to_string());
        }
        if !(2000..=600_000).contains(&self.client_liveness_timeout_ms) {
            // Aeron needs it above its 1 s timer interval.
            return Err("aeron.client_liveness_timeout_ms must be between 2000 and 600000".to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let dir = std::env::temp_dir().join(format!("fxrecon-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("c.toml");
        std::fs::write(&p, "grace_ms = 500\n").unwrap();
        assert_eq!(Config::load(&p).unwrap().grace_ms, 500);
        std::fs::write(&p, "grace_msx = 500\n").unwrap();
        let err = Config::load(&p).unwrap_err();
        assert!(matches!(err, ConfigError::Parse { .. }));
        assert!(err.to_string().contains("grace_msx") && !err.to_string().contains('\n'), "{err}");
        std::fs::write(&p, "[primary]\npath = \"a.fix\"\nfollow = true\n").unwrap();
        let c = Config::load(&p).unwrap();
        assert_eq!((c.primary.path.as_deref(), c.primary.follow), (Some(Path::new("a.fix")), true));
        std::fs::write(&p, "[primary]\nfolow = true\n").unwrap();
        assert!(Config::load(&p).unwrap_err().to_string().contains("folow"));
        std::fs::write(&p, "grace_ms = -1\n").unwrap();
        assert!(matches!(Config::load(&p), Err(ConfigError::Invalid(_))));
        std::fs::write(&p, "grace_ms = 10000000000000000\nretention_ms = 10000000000000000\n").unwrap();
        assert!(matches!(Config::load(&p), Err(ConfigError::Invalid(_))));
        assert!(matches!(Config::load(&dir.join("none.toml")), Err(ConfigError::Read { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn journal_settings_that_cannot_work_are_refused() {
        let journal =
            |j: JournalConfig| Config { journal: j, ..Config::default() }.validate().err().map(|e| e.to_string());
        let d = JournalConfig::default();
        assert_eq!(journal(d.clone()), None);
        assert!(journal(JournalConfig { segment_bytes: 4096, ..d.clone() }).unwrap().contains("segment_bytes"));
        let small = JournalConfig { retention_bytes: 1 << 20, ..d.clone() };
        assert!(journal(small).unwrap().contains("retention_bytes"));
        let archive = JournalConfig { archive_dir: Some("a".into()), ..d.clone() };
        assert!(journal(archive).unwrap().contains("archive_dir"));
        let fine = JournalConfig { retention_bytes: 1 << 30, archive_dir: Some("a".into()), ..d.clone() };
        assert_eq!(journal(fine.clone()), None);
        let no_snapshots = Config { journal: fine, snapshot_every: 0, ..Config::default() }.validate();
        assert!(no_snapshots.unwrap_err().to_string().contains("snapshot_every"));
        let days = JournalConfig { retention_days: 5000, ..d };
        assert!(journal(days).unwrap().contains("retention_days"));
    }

    #[test]
    fn rules_round_trip_and_differences_are_named() {
        let a = Config { grace_ms: 1500, ..Config::default() };
        assert_eq!(Config::default().with_rules(a.rules()), Config { grace_ms: 1500, ..Config::default() });
        assert_eq!(Config::default().rule_difference(&a.rules()), Some("grace_ms"));
        assert_eq!(a.rule_difference(&a.rules()), None);
        let small = Config::default().sized_for_input_bytes(24 * 2000);
        assert_eq!((small.max_orders, small.max_execs, small.max_retired_orders), (2000, 2000, 2000));
        let r = Config { retired_memory_ms: 3_600_000, ..Config::default() };
        assert_eq!(Config::default().rule_difference(&r.rules()), Some("retired_memory_ms"));
        // A journal from before retired orders were remembered had no retired memory.
        let mut old = serde_json::to_value(Config::default().rules()).unwrap();
        old.as_object_mut().unwrap().retain(|k, _| !k.contains("retired"));
        let old: Rules = serde_json::from_value(old).unwrap();
        assert_eq!((old.retired_memory_ms, old.max_retired_orders), (0, 0));
        let lines = Config::default().sized_for_inputs(&[&b"a\n".repeat(3000), b"b\n"]);
        assert_eq!((lines.max_orders, lines.max_execs), (3003, 3003));
    }

    #[test]
    fn aeron_settings_parse_and_impossible_ones_are_refused() {
        let text = "[aeron]\ndir = \"/dev/shm/aeron\"\nprimary_channel = \"aeron:udp?endpoint=127.0.0.1:40123\"\nprimary_stream_id = 11\nipc_term_buffer_bytes = 65536\nidle_strategy = \"sleeping\"\n";
        let c: Config = toml::from_str(text).unwrap();
        c.validate().unwrap();
        assert_eq!(c.aeron.dir.as_deref(), Some(Path::new("/dev/shm/aeron")));
        assert_eq!((c.aeron.primary_stream_id, c.aeron.dropcopy_stream_id, c.aeron.output_stream_id), (11, 1002, 2001));
        assert_eq!((c.aeron.ipc_term_buffer_bytes, c.aeron.idle_strategy.as_str()), (65536, "sleeping"));
        let bad = |a: AeronConfig| Config { aeron: a, ..Config::default() }.validate().unwrap_err().to_string();
        let d = AeronConfig::default();
        assert!(bad(AeronConfig { term_buffer_bytes: 100_000, ..d.clone() }).contains("aeron.term_buffer_bytes"));
        assert!(
            bad(AeronConfig { output_channel: Some("udp://x".into()), ..d.clone() }).contains("aeron.output_channel")
        );
        assert!(bad(AeronConfig { idle_strategy: "fast".into(), ..d.clone() }).contains("aeron.idle_strategy"));
        assert!(toml::from_str::<Config>("[aeron]\nterm_buffer = 1\n").is_err());
    }
}
