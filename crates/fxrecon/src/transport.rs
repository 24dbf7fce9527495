//! Aeron wiring for the commands: which named inputs are Aeron channels, the media driver a
//! run uses, and opening a subscription as a run's input.
//!
//! Owns: only that mapping from flags to `fxrecon_aeron` (an input named `aeron:...` is a
//! subscription; `--aeron-dir` attaches to an external driver, else one is embedded under the
//! state directory). Must never hold transport logic (that is `fxrecon-aeron`'s).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use fxrecon_aeron::driver::{DriverConfig, MediaDriver};
use fxrecon_aeron::endpoint::Endpoint;
use fxrecon_aeron::source::{AeronSource, SourceConfig};
use fxrecon_engine::config::AeronConfig;
use fxrecon_engine::ingest::source::MessageSource;
use fxrecon_engine::pipeline::inputs::InputIdentity;

/// Whether `input` names an Aeron channel (`aeron:ipc`, `aeron:udp?...`) rather than a path.
pub fn is_aeron(input: &Path) -> bool {
    input.to_str().is_some_and(Endpoint::is_channel)
}

/// An embedded driver's settings from the config's `[aeron]`.
pub fn driver_config(c: &AeronConfig) -> DriverConfig {
    DriverConfig {
        term_buffer_length: c.term_buffer_bytes,
        ipc_term_buffer_length: c.ipc_term_buffer_bytes,
        idle_strategy: c.idle_strategy.clone(),
        client_liveness_timeout: std::time::Duration::from_millis(c.client_liveness_timeout_ms),
        ..DriverConfig::default()
    }
}

/// The media driver of a run: the external one in `aeron_dir`, else one embedded under
/// `state_dir` (its directory `state_dir/aeron-driver`) with the settings of `cfg`.
pub fn driver(aeron_dir: Option<&Path>, state_dir: Option<&Path>, cfg: &AeronConfig) -> Result<MediaDriver> {
    match aeron_dir {
        Some(dir) => {
            MediaDriver::attach(dir).with_context(|| format!("cannot attach to the media driver in {}", dir.display()))
        }
        None => {
            let state: PathBuf =
                state_dir.map_or_else(|| std::env::temp_dir().join("fxrecon-state"), Path::to_path_buf);
            MediaDriver::embedded(&state, &driver_config(cfg))
                .with_context(|| format!("cannot start an embedded media driver under {}", state.display()))
        }
    }
}

/// What a journal records of an input: an Aeron stream (`stream_id` given) by its channel and
/// id, a file by its contents.
pub fn identity(input: &Path, stream_id: Option<i32>) -> Result<InputIdentity> {
    Ok(match stream_id {
        Some(id) => InputIdentity::transport(Endpoint::new(input.to_string_lossy(), id).to_string()),
        None => InputIdentity::of(input).with_context(|| format!("cannot read input {}", input.display()))?,
    })
}

/// Subscribes to `channel` stream `stream_id` as an input of messages up to `max` bytes.
pub fn open_source(driver: &MediaDriver, channel: &Path, stream_id: i32, max: usize) -> Result<Box<dyn MessageSource>> {
    let endpoint = Endpoint::new(channel.to_string_lossy(), stream_id);
    let cfg = SourceConfig { max_message_bytes: max, ..SourceConfig::default() };
    let src = AeronSource::subscribe(driver.dir(), endpoint.clone(), cfg)
        .with_context(|| format!("cannot subscribe to {endpoint}"))?;
    Ok(Box::new(src))
}

/// Publishes the divergences on `channel` stream `stream_id` (the output agent's sink).
pub fn open_sink(
    driver: &MediaDriver,
    channel: &str,
    stream_id: i32,
) -> Result<Box<dyn fxrecon_engine::output::sink::OutputSink>> {
    let endpoint = Endpoint::new(channel, stream_id);
    let sink = fxrecon_aeron::sink::AeronSink::publish(driver.dir(), endpoint.clone(), Default::default())
        .with_context(|| format!("cannot publish on {endpoint}"))?;
    Ok(Box::new(sink))
}
