//! A minimal HTTP/1.1 client for the CLI (`fxrecon query`, against a running daemon): one GET
//! per connection, the bearer token when given.
//!
//! Owns: the request and the reading of the response. Never retries or keeps a connection.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Why a request failed before any answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL is not `http://HOST:PORT[/...]`.
    #[error("--api: {0:?} is not http://HOST:PORT")]
    Url(String),
    /// Connecting, sending or reading failed.
    #[error("cannot reach the API at {addr}: {source}")]
    Io {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The answer is not HTTP.
    #[error("the API at {0} answered something that is not HTTP")]
    Malformed(String),
}

/// The address part of `http://HOST:PORT[/]`.
pub fn address_of(url: &str) -> Result<String, ClientError> {
    let rest = url.strip_prefix("http://").ok_or_else(|| ClientError::Url(url.to_string()))?;
    let addr = rest.trim_end_matches('/');
    if addr.is_empty() || addr.contains('/') || !addr.contains(':') {
        return Err(ClientError::Url(url.to_string()));
    }
    Ok(addr.to_string())
}

/// `GET path` from the API at `addr`: the status and the body.
pub fn get(addr: &str, path: &str, token: Option<&str>) -> Result<(u16, String), ClientError> {
    let io = |source| ClientError::Io { addr: addr.to_string(), source };
    let mut s = TcpStream::connect(addr).map_err(io)?;
    s.set_read_timeout(Some(Duration::from_secs(30))).map_err(io)?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n").map_err(io)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(io)?;
    let raw = String::from_utf8_lossy(&raw);
    let bad = || ClientError::Malformed(addr.to_string());
    let (head, body) = raw.split_once("\r\n\r\n").ok_or_else(bad)?;
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    Ok((status, if chunked { unchunk(body).ok_or_else(bad)? } else { body.to_string() }))
}

/// The body of a chunked transfer.
fn unchunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    while let Some((len, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).ok()?;
        if n == 0 {
            break;
        }
        out.push_str(rest.get(..n)?);
        body = rest.get(n + 2..)?;
    }
    Some(out)
}

/// `s` made safe as a query-string value (percent-encoding all but unreserved bytes).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
