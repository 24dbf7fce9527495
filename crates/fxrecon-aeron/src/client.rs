//! An Aeron client connected to a media driver, for one source or sink.
//!
//! Owns: the client context (the driver's directory, an error handler that logs with the
//! endpoint) and starting the client. Never shares the client: each source and sink has its own.

use std::ffi::CString;

use rusteron_client::{Aeron, AeronContext};

use crate::endpoint::Endpoint;
use crate::error::AeronError;

/// A started client of the driver in `dir`, its errors logged as `endpoint`'s.
pub(crate) fn connect(dir: &CString, endpoint: &Endpoint) -> Result<Aeron, AeronError> {
    let ctx = AeronContext::new().map_err(|e| AeronError::aeron("client context", e))?;
    ctx.set_dir(dir).map_err(|e| AeronError::aeron("aeron.dir", e))?;
    let stream = endpoint.to_string();
    ctx.set_error_handler(Some(move |code: i32, msg: &str| {
        tracing::warn!(endpoint = %stream, code, message = msg, "aeron client error");
    }))
    .map_err(|e| AeronError::aeron("error handler", e))?;
    let client = Aeron::new(&ctx).map_err(|e| AeronError::aeron("connecting to the media driver", e))?;
    client.start().map_err(|e| AeronError::aeron("starting the client", e))?;
    Ok(client)
}
