//! The query API's wiring into `run`: its options checked before the run starts, its command
//! ring and record feed plugged into the pipeline, its server started beside it.
//!
//! Owns: only wiring (the API itself is `fxrecon-api`). Never starts the server before the
//! pipeline is built, nor lets a busy default port stop the daemon.

use std::path::Path;

use anyhow::Result;
use fxrecon_api::records::{RecordBook, record_feed};
use fxrecon_api::server::{ApiRequest, ApiServer, DeskParts};
use fxrecon_engine::command::command_rings;
use fxrecon_engine::config::Config;
use fxrecon_engine::pipeline::builder::{Pipeline, PipelineBuilder};

/// Questions in flight at most (the API asks one at a time).
const COMMAND_SLOTS: usize = 8;

/// The API asked for by `--api` / `[api]` (None: off); a bad address or a missing token off
/// loopback is an error (exit 2) before anything starts.
pub fn resolve(flag: Option<&str>, cfg: &Config, addr_file: Option<std::path::PathBuf>) -> Result<Option<ApiRequest>> {
    let env = std::env::var("FXRECON_API_TOKEN").ok().filter(|t| !t.is_empty());
    fxrecon_api::server::resolve(flag, &cfg.api, env, addr_file).map_err(anyhow::Error::msg)
}

/// What the API takes with it once the pipeline is built.
pub struct Plugged {
    request: ApiRequest,
    desk: DeskParts,
    book: RecordBook,
}

/// Plugs the API's command ring (with its doorbell) and record feed into `builder`; a
/// recovered run's output file `resumed` is read into the book first.
pub fn plug(
    builder: PipelineBuilder,
    request: Option<ApiRequest>,
    resumed: Option<&Path>,
) -> Result<(PipelineBuilder, Option<Plugged>)> {
    let Some(request) = request else { return Ok((builder, None)) };
    let (commands, mut server) = command_rings(COMMAND_SLOTS);
    let (bell, doorbell) = fxrecon_api::orders::doorbell()?;
    server.doorbell = Some(bell);
    let (feed, mut book) = record_feed();
    if let Some(out) = resumed
        && let Ok(bytes) = std::fs::read(out)
    {
        book.preload(&bytes);
    }
    let desk = DeskParts { commands, doorbell };
    Ok((builder.commands(server).sink(Box::new(feed)), Some(Plugged { request, desk, book })))
}

/// Starts the API beside `pipeline` (`/metrics` also shows `external`'s families); the default
/// address busy is a warning, not an error.
pub fn start(
    plugged: Option<Plugged>,
    pipeline: &Pipeline,
    external: Option<fxrecon_api::metrics::ExternalMetrics>,
) -> Result<Option<ApiServer>> {
    let Some(p) = plugged else { return Ok(None) };
    match ApiServer::start(&p.request.options, pipeline.counters(), p.desk, p.book, external) {
        Ok(server) => Ok(Some(server)),
        Err(e) if !p.request.explicit => {
            tracing::warn!(error = %e, "query API not started (the default address is in use; give --api)");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}
