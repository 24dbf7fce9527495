//! `fxrecon publish`: replays a FIX log onto an Aeron stream, one line per message as it
//! stands (arrival prefix included, line end dropped), then the end-of-stream marker, so a
//! recorded day goes through the live path deterministically (issue 24 item 4). It sends as
//! fast as the subscriber takes them, at a fixed `--rate`, or (`--timed`) when each line's
//! arrival-time prefix says, relative to the first (`--speed` times faster).

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
    #[arg(long, conflicts_with = "timed")]
    rate: Option<u64>,
    /// Send each line when its arrival-time prefix says, relative to the first line's (a line
    /// without a prefix goes with the one before it).
    #[arg(long)]
    timed: bool,
    /// With `--timed`: replay this many times faster than the log's own times.
    #[arg(long, default_value_t = 1.0, requires = "timed")]
    speed: f64,
    /// How long to wait for a subscriber before giving up (milliseconds).
    #[arg(long, default_value_t = 30_000)]
    wait_ms: u64,
}

/// Runs `publish`.
pub fn run(a: Args) -> Result<()> {
    if a.rate == Some(0) {
        bail!("--rate must be > 0");
    }
    if !(a.speed.is_finite() && a.speed > 0.0) {
        bail!("--speed must be > 0");
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
    let lines = split_lines(&log);
    let pace = match (a.rate, a.timed) {
        (Some(rate), _) => Pace::Rate(rate as f64),
        (None, true) => Pace::Timed { speed: a.speed },
        (None, false) => Pace::AsFast,
    };
    let start = Instant::now();
    send_lines(&publisher, &lines, pace, wait, |_| {})?;
    eprintln!("published {} messages on {endpoint} in {:.3} s", lines.len(), start.elapsed().as_secs_f64());
    Ok(())
}

/// How [`send_lines`] spaces the lines out.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Pace {
    /// As fast as the subscriber takes them.
    AsFast,
    /// This many lines per second.
    Rate(f64),
    /// When each line's arrival-time prefix says, relative to the first line's, `speed` times
    /// faster (a line without a prefix goes with the one before it).
    Timed {
        /// How many times faster than the log's own times.
        speed: f64,
    },
}

/// The lines of a log as they are sent: line ends (`\n` or `\r\n`) and a trailing empty line
/// dropped.
pub(crate) fn split_lines(log: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = log.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// A line less than this far ahead of its time is sent at once rather than slept for. At
/// 100k lines/s a sleep per line (10 µs, which the kernel's 50 µs timer slack makes about 60 µs)
/// is a syscall and a wake-up per line: the two publishers of `demo --aeron` took 44% of a core
/// of a 2-core host that way, beside the pipeline they measure. Sleeping only when 200 µs ahead
/// sends in bursts of that length and keeps the rate.
const MIN_SLEEP: Duration = Duration::from_micros(200);

/// Offers `lines` in order on `publisher`, spaced out by `pace`, then the end-of-stream marker;
/// `on_sent` sees each line just after it was offered. The one send loop of `publish` and
/// `demo`.
pub(crate) fn send_lines(
    publisher: &Publisher,
    lines: &[&[u8]],
    pace: Pace,
    wait: Duration,
    mut on_sent: impl FnMut(&[u8]),
) -> Result<()> {
    let start = Instant::now();
    let mut first_arrival = None;
    let mut offset = Duration::ZERO;
    for (i, line) in lines.iter().enumerate() {
        let due = match pace {
            Pace::Rate(rate) => Some(Duration::from_secs_f64(i as f64 / rate.max(1e-9))),
            Pace::Timed { speed } => {
                if let Some(t) = arrival(line) {
                    let first = *first_arrival.get_or_insert(t);
                    // A log whose times go backwards is sent at once there, never waited for.
                    offset = offset.max(Duration::from_secs_f64((t - first).max(0) as f64 / 1e6 / speed));
                }
                Some(offset)
            }
            Pace::AsFast => None,
        };
        if let Some(ahead) = due.and_then(|d| (start + d).checked_duration_since(Instant::now()))
            && ahead >= MIN_SLEEP
        {
            std::thread::sleep(ahead);
        }
        publisher.offer(line, wait)?;
        on_sent(line);
    }
    publisher.offer(END_OF_STREAM, wait)?;
    Ok(())
}

/// The arrival time (µs) of a log line's `YYYYMMDD-HH:MM:SS.ffffff : ` prefix, if it has one.
pub(crate) fn arrival(line: &[u8]) -> Option<i64> {
    let sep = line.windows(3).take(40).position(|w| w == b" : ")?;
    fxrecon_core::time::Micros::parse_fix(&line[..sep]).map(|m| m.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_arrival_prefix_is_read_and_a_line_without_one_has_none() {
        let a = super::arrival(b"20261125-08:00:01.500000000 : 8=FIX.4.4\x019=5").unwrap();
        let b = super::arrival(b"20261125-08:00:00.250000 : 8=FIX.4.4").unwrap();
        assert_eq!(a - b, 1_250_000);
        assert_eq!(super::arrival(b"8=FIX.4.4\x0135=8"), None);
    }
}
