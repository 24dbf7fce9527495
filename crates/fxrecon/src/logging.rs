//! Logs: `tracing` to stderr, the level from `RUST_LOG` (else the config's `log_level`, else
//! `warn`), JSON lines with `log_format = "json"`, colour only on a terminal.

use std::io::IsTerminal;

use fxrecon_engine::config::{Config, LogFormat};
use tracing_subscriber::EnvFilter;

/// Installs the subscriber for the process (once, before the command runs).
pub fn init(cfg: Option<&Config>) {
    let default = cfg.and_then(|c| c.log_level.clone()).unwrap_or_else(|| "warn".to_string());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let json = cfg.is_some_and(|c| c.log_format == LogFormat::Json);
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter);
    if json {
        builder.json().init();
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).init();
    }
}
