//! `fxrecon tail`: prints what is published on an Aeron stream, one message a line (to watch
//! the divergence stream), until the stream's end-of-stream marker or SIGTERM/SIGINT.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use fxrecon_aeron::endpoint::{DEFAULT_CHANNEL, Endpoint, OUTPUT_STREAM_ID};
use fxrecon_aeron::source::{AeronSource, SourceConfig};
use fxrecon_engine::ingest::source::{MessageSource, Poll, SourceMessage};

use crate::setup;

/// Arguments of `tail`.
#[derive(clap::Args)]
pub struct Args {
    /// The Aeron channel.
    #[arg(long, default_value = DEFAULT_CHANNEL)]
    channel: String,
    /// The stream id (default: the divergence stream, 2001).
    #[arg(long, default_value_t = OUTPUT_STREAM_ID)]
    stream_id: i32,
    /// The media driver's directory (a daemon's embedded one is `STATE_DIR/aeron-driver`).
    #[arg(long)]
    aeron_dir: PathBuf,
}

/// Runs `tail`.
pub fn run(a: Args) -> Result<()> {
    let endpoint = Endpoint::new(a.channel, a.stream_id);
    let shutdown = setup::shutdown_on_signals()?;
    let cfg = SourceConfig { max_message_bytes: 1 << 20, ..SourceConfig::default() };
    let mut src = AeronSource::subscribe(&a.aeron_dir, endpoint.clone(), cfg)
        .with_context(|| format!("cannot subscribe to {endpoint} through {}", a.aeron_dir.display()))?;
    eprintln!("subscribed to {endpoint}");
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    loop {
        match src.poll()? {
            Poll::Message(SourceMessage::Whole { bytes, .. }) => {
                out.write_all(bytes)?;
                out.write_all(b"\n")?;
            }
            Poll::Message(SourceMessage::TooLong { len, .. }) => {
                eprintln!("skipped a message of {len} bytes (over 1 MiB)");
            }
            Poll::Pending => {
                out.flush()?;
                if shutdown.is_requested() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Poll::End => break,
        }
    }
    out.flush()?;
    Ok(())
}
