//! `fxrecon publish`: replays a FIX log onto an Aeron stream, one line per message as it
//! stands (arrival prefix included, line end dropped), then the end-of-stream marker, so a
//! recorded day goes through the live path deterministically (issue 24 item 4).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fxrecon_aeron::endpoint::{DEFAULT_CHANNEL, DROPCOPY_STREAM_ID, Endpoint, PRIMARY_STREAM_ID};
use fxrecon_aeron::marker::END_OF_STREAM;
use fxrecon_aeron::publisher::Publisher;

/// Which stream a log is (it picks the default stream id).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum StreamName {
    /// The primary execution stream (default stream id 1001).
    Primary,
    /// The drop-copy stream (default stream id 1002).
    Dropcopy,
}

/// Arguments of `publish`.
#[derive(clap::Args)]
pub struct Args {
    /// Which stream the log is.
    #[arg(long)]
    stream: StreamName,
    /// The FIX log to publish (e.g. from `fxrecon gen`).
    #[arg(long)]
    file: PathBuf,
    /// The Aeron channel.
    #[arg(long, default_value = DEFAULT_CHANNEL)]
    channel: String,
    /// The stream id (default: 1001 primary, 1002 drop copy).
    #[arg(long)]
    stream_id: Option<i32>,
    /// The media driver's directory (the daemon's embedded one is `STATE_DIR/aeron-driver`).
    #[arg(long)]
    aeron_dir: PathBuf,
    /// Messages per second (default: as fast as the subscriber takes them).
    #[arg(long)]
    rate: Option<u64>,
    /// How long to wait for a subscriber before giving up (milliseconds).
    #[arg(long, default_value_t = 30_000)]
    wait_ms: u64,
}

/// Runs `publish`.
pub fn run(a: Args) -> Result<()> {
    if a.rate == Some(0) {
        bail!("--rate must be > 0");
    }
    let stream_id = a.stream_id.unwrap_or(match a.stream {
        StreamName::Primary => PRIMARY_STREAM_ID,
        StreamName::Dropcopy => DROPCOPY_STREAM_ID,
    });
    let endpoint = Endpoint::new(a.channel, stream_id);
    let log = std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let wait = Duration::from_millis(a.wait_ms);
    // The driver may still be starting (a daemon launched just before): retry until `wait`.
    let deadline = Instant::now() + wait;
    let publisher = loop {
        match Publisher::connect(&a.aeron_dir, endpoint.clone(), wait) {
            Ok(p) => break p,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot publish on {endpoint} through {}", a.aeron_dir.display()));
            }
        }
    };
    publisher.wait_connected(wait)?;
    let mut lines: Vec<&[u8]> = log.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let start = Instant::now();
    for (i, line) in lines.iter().enumerate() {
        if let Some(rate) = a.rate {
            let due = start + Duration::from_secs_f64(i as f64 / rate as f64);
            if let Some(ahead) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(ahead);
            }
        }
        publisher.offer(line.strip_suffix(b"\r").unwrap_or(line), wait)?;
    }
    publisher.offer(END_OF_STREAM, wait)?;
    eprintln!("published {} messages on {endpoint} in {:.3} s", lines.len(), start.elapsed().as_secs_f64());
    Ok(())
}
