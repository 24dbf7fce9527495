//! The HTTP server: its options (where it listens, its token), the routes of contract
//! section 6, and the thread running them on a current-thread tokio runtime.
//!
//! Owns: binding (checked before the daemon starts), the bearer-token check, routing and the
//! server's lifetime. Never blocks the pipeline: every handler runs on the API's own thread and
//! reads the state only through the command ring, the record book and the live counters.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fxrecon_engine::command::CommandClient;
use fxrecon_engine::counters::{InputState, PipelineCounters, StreamSnapshot};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::error::ApiError;
use crate::orders::{OrderDesk, order_answer};
use crate::positions::{PositionFilter, positions_json};
use crate::records::{DivergenceFilter, RecordBook};

/// The API's default address (contract section 6).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7878";

/// Where the API listens and what it asks of a client.
#[derive(Clone, Debug)]
pub struct ApiOptions {
    /// Address to bind (port 0: any free port, written to `addr_file`).
    pub listen: SocketAddr,
    /// Bearer token every request must carry (required off loopback).
    pub token: Option<String>,
    /// A file the bound address is written to once listening.
    pub addr_file: Option<PathBuf>,
}

/// Why the API cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Bound off loopback without a token.
    #[error("the API at {0} is not on loopback: give a bearer token (api.token or FXRECON_API_TOKEN)")]
    NoToken(SocketAddr),
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The runtime, the thread or the address file could not be made.
    #[error("cannot start the API: {0}")]
    Io(#[from] std::io::Error),
}

impl ApiOptions {
    /// Checks the options before anything starts: off loopback needs a token.
    pub fn check(&self) -> Result<(), StartError> {
        if !self.listen.ip().is_loopback() && self.token.as_deref().is_none_or(str::is_empty) {
            return Err(StartError::NoToken(self.listen));
        }
        Ok(())
    }
}

struct AppState {
    token: Option<String>,
    counters: Arc<PipelineCounters>,
    /// The API's own copy of the records (held only while a handler reads it, never across an
    /// await; nothing of the pipeline ever takes it).
    book: std::sync::Mutex<RecordBook>,
    /// The command ring's reader end: one question in flight at a time.
    desk: Mutex<OrderDesk>,
    /// Families from outside the pipeline (the FIX sessions'), added to `/metrics`.
    external: Option<crate::metrics::ExternalMetrics>,
}

impl AppState {
    /// The record book, caught up with what the output wrote.
    fn book(&self) -> std::sync::MutexGuard<'_, RecordBook> {
        let mut b = self.book.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        b.catch_up();
        b
    }
}

/// What the API takes from the pipeline: the reader's end of the command ring, and the
/// listening end of the doorbell the reconciler rings when it answered
/// ([`crate::orders::doorbell`]).
pub struct DeskParts {
    /// The command ring's reader end.
    pub commands: CommandClient,
    /// The doorbell's listening end.
    pub doorbell: std::os::unix::net::UnixStream,
}

/// A running API: stopped (and its thread joined) when dropped.
pub struct ApiServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ApiServer {
    /// Binds `opts.listen` (checked first) and serves on a thread of its own: orders through
    /// `desk`, records from `book`, health and metrics from `counters` (and `external`'s families).
    pub fn start(
        opts: &ApiOptions,
        counters: Arc<PipelineCounters>,
        desk: DeskParts,
        book: RecordBook,
        external: Option<crate::metrics::ExternalMetrics>,
    ) -> Result<Self, StartError> {
        opts.check()?;
        let listener =
            TcpListener::bind(opts.listen).map_err(|source| StartError::Bind { addr: opts.listen, source })?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let desk = {
            let _in_runtime = rt.enter();
            OrderDesk::new(desk.commands, desk.doorbell)?
        };
        let state = Arc::new(AppState {
            token: opts.token.clone().filter(|t| !t.is_empty()),
            counters,
            book: std::sync::Mutex::new(book),
            desk: Mutex::new(desk),
            external,
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = router(state);
        let thread = std::thread::Builder::new().name("api".into()).spawn(move || {
            rt.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => return tracing::error!(error = %e, "API listener"),
                };
                let served = axum::serve(listener, app).with_graceful_shutdown(async {
                    let _ = stopped.await;
                });
                if let Err(e) = served.await {
                    tracing::error!(error = %e, "API server stopped");
                }
            });
        })?;
        tracing::info!(%addr, "query API listening");
        if let Some(f) = &opts.addr_file {
            std::fs::write(f, format!("{addr}\n"))?;
        }
        Ok(Self { addr, stop: Some(stop), thread: Some(thread) })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(live_page))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/orders/{key}", get(order))
        .route("/v1/divergences", get(divergences))
        .route("/v1/gaps", get(gaps))
        .route("/v1/positions", get(positions))
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(from_fn_with_state(state.clone(), authorize))
        .with_state(state)
}

/// Checks the bearer token (when one is set) before any handler runs.
async fn authorize(State(s): State<Arc<AppState>>, headers: HeaderMap, req: Request, next: Next) -> Response {
    if let Some(token) = &s.token {
        let given =
            headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(token.as_str()) {
            return ApiError::Unauthorized.into_response();
        }
    }
    next.run(req).await
}

/// The live page: one self-contained HTML file (no external assets), refreshing itself.
const LIVE_PAGE: &str = include_str!("live.html");

async fn live_page() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], LIVE_PAGE).into_response()
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready when every input is connected and none failed, and the run is caught up with its
/// inputs: each is over or its last poll found nothing waiting, and the reconciler is not
/// behind — the merge can hold back one stream's items while it waits for the other stream's
/// time, but with both rings holding more than the one item at a head it is simply behind.
/// Recovered: the API starts only once a recovered run's journal has been read back, so
/// whenever it answers, recovery is done.
async fn readyz(State(s): State<Arc<AppState>>) -> Response {
    let c = s.counters.snapshot();
    let now = unix_micros();
    let input = |x: &StreamSnapshot| {
        let caught_up = x.state != InputState::Reading || x.caught_up;
        let age = (x.last_message_us > 0).then(|| now.saturating_sub(x.last_message_us) as f64 / 1e6);
        (
            x.connected && x.state != InputState::Failed,
            caught_up,
            json!({ "state": x.state, "connected": x.connected, "caught_up": caught_up, "messages": x.messages,
                    "ring_depth": x.ring_depth, "last_message_age_s": age }),
        )
    };
    let (p, d) = (input(&c.primary), input(&c.dropcopy));
    let connected = p.0 && d.0;
    let behind = c.primary.ring_depth > 1 && c.dropcopy.ring_depth > 1;
    let caught_up = p.1 && d.1 && !behind;
    let ready = connected && caught_up;
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({ "ready": ready, "connected": connected, "recovered": true, "caught_up": caught_up,
                       "inputs": { "primary": p.2, "dropcopy": d.2 }, "events": c.events });
    (status, Json(body)).into_response()
}

/// Wall-clock microseconds since the epoch (for input ages).
pub(crate) fn unix_micros() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

async fn metrics(State(s): State<Arc<AppState>>) -> Response {
    let snapshot = s.counters.snapshot();
    let external = s.external.as_ref().map(|f| f()).unwrap_or_default();
    let text = crate::metrics::render(&snapshot, &s.book(), unix_micros(), &external);
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}

async fn order(State(s): State<Arc<AppState>>, Path(key): Path<String>) -> Result<Json<Value>, ApiError> {
    let found = s.desk.lock().await.order(&key).await?;
    Ok(Json(order_answer(found, &key, &s.book())))
}

async fn divergences(
    State(s): State<Arc<AppState>>,
    q: Result<Query<DivergenceFilter>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(f) = q.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let body = s.book().divergences(&f)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn gaps(State(s): State<Arc<AppState>>) -> Json<Value> {
    let sessions = s.counters.snapshot().sessions;
    let gaps = s.book().gaps();
    Json(json!({ "gaps": gaps, "sessions": sessions }))
}

async fn positions(
    State(s): State<Arc<AppState>>,
    q: Result<Query<PositionFilter>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(f) = q.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let table = s.desk.lock().await.positions().await?;
    Ok(Json(positions_json(&table, &f)))
}

/// How `run` asked for the API: `None` for `off`; `explicit` false for the default address
/// (busy, it is skipped with a warning rather than refusing to start).
pub struct ApiRequest {
    /// The options.
    pub options: ApiOptions,
    /// Given by a flag or the config (not the default).
    pub explicit: bool,
}

/// The API `run` serves: `flag` (`--api`) over `cfg.listen` over the default; the token from
/// `cfg.token` or `env_token` (FXRECON_API_TOKEN). Checked here, before anything starts.
pub fn resolve(
    flag: Option<&str>,
    cfg: &fxrecon_engine::config::ApiConfig,
    env_token: Option<String>,
    addr_file: Option<PathBuf>,
) -> Result<Option<ApiRequest>, String> {
    let given = flag.or(cfg.listen.as_deref());
    let listen = given.unwrap_or(DEFAULT_LISTEN);
    if listen == "off" {
        return Ok(None);
    }
    let listen: SocketAddr =
        listen.parse().map_err(|_| format!("--api / api.listen: {listen:?} is not HOST:PORT (or off)"))?;
    let options = ApiOptions { listen, token: cfg.token.clone().or(env_token), addr_file };
    options.check().map_err(|e| e.to_string())?;
    Ok(Some(ApiRequest { options, explicit: given.is_some() }))
}
