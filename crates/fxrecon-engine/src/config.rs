//! Run configuration, loaded from a TOML file and overridden by command-line flags.
//!
//! Owns: defaults and validation. Unknown keys and impossible values are errors with one clear
//! message, never silently ignored.

use std::path::Path;

use fxrecon_core::ReconConfig;
use serde::Deserialize;

/// Everything a run can be tuned with.
#[derive(Clone, Debug, Deserialize, serde::Serialize, PartialEq)]
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
    /// A journaled run snapshots its state every this many consumed messages (0: never).
    pub snapshot_every: u64,
    /// Write the journal with `O_DIRECT` where the file system allows it (D31, D34): no
    /// page-cache copy, less CPU per message; a batch counts as written once it is on the
    /// device, which adds the device's write time (about 0.1–0.2 ms here) to journaled output.
    /// On by default; `false` writes through the page cache.
    pub journal_direct_io: bool,
    /// Snapshots kept beside the journal (older ones are removed).
    pub snapshots_kept: usize,
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
            snapshot_every: 2_000_000,
            snapshots_kept: 3,
            journal_direct_io: true,
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
        Ok(())
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
        }
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
        assert!(matches!(Config::load(&p), Err(ConfigError::Parse { .. })));
        std::fs::write(&p, "grace_ms = -1\n").unwrap();
        assert!(matches!(Config::load(&p), Err(ConfigError::Invalid(_))));
        std::fs::write(&p, "grace_ms = 10000000000000000\nretention_ms = 10000000000000000\n").unwrap();
        assert!(matches!(Config::load(&p), Err(ConfigError::Invalid(_))));
        assert!(matches!(Config::load(&dir.join("none.toml")), Err(ConfigError::Read { .. })));
    }
}
