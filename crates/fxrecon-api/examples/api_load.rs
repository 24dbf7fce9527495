//! A load driver for the query API (BENCHMARKS.md, "the query API under load"): asks a
//! running daemon at a fixed rate over keep-alive connections, until the daemon goes away.
//!
//! Usage: `api_load ADDR_FILE RATE CONNECTIONS PATHS_FILE` — waits for ADDR_FILE (written by
//! `run --api-addr-file`), then sends the request paths of PATHS_FILE (one per line, in turn)
//! at RATE requests/s in all, spread over CONNECTIONS connections each pacing its own share;
//! prints `{"sent":N,"ok":N,"secs":S}` when the daemon closes its connections. Written in Rust
//! so that the driver itself costs the 2-core host as little as possible (a Python driver
//! spent about 100 µs of CPU a request).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One keep-alive GET: the status, or None when the connection is gone.
fn get(r: &mut BufReader<TcpStream>, host: &str, path: &str, body: &mut Vec<u8>) -> Option<u16> {
    write!(r.get_mut(), "GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").ok()?;
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let status = line.split(' ').nth(1)?.parse().ok()?;
    let mut len = 0usize;
    loop {
        line.clear();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().ok()?;
        }
    }
    body.resize(len, 0);
    r.read_exact(body).ok()?;
    Some(status)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, addr_file, rate, conns, paths] = args.as_slice() else {
        eprintln!("usage: api_load ADDR_FILE RATE CONNECTIONS PATHS_FILE");
        std::process::exit(2);
    };
    let rate: f64 = rate.parse().expect("RATE");
    let conns: usize = conns.parse().expect("CONNECTIONS");
    let paths: Vec<String> = std::fs::read_to_string(paths).expect("PATHS_FILE").lines().map(str::to_string).collect();
    let addr = loop {
        if let Ok(s) = std::fs::read_to_string(addr_file)
            && s.ends_with('\n')
        {
            break s.trim().to_string();
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let t0 = Instant::now();
    let workers: Vec<_> = (0..conns)
        .map(|k| {
            let (addr, paths) = (addr.clone(), paths.clone());
            std::thread::spawn(move || {
                let Ok(s) = TcpStream::connect(&addr) else { return (0u64, 0u64) };
                let _ = s.set_nodelay(true);
                let mut r = BufReader::new(s);
                let (mut sent, mut ok, mut body) = (0u64, 0u64, Vec::new());
                let each = rate / conns as f64;
                let start = Instant::now();
                let mut i = k;
                while let Some(status) = get(&mut r, &addr, &paths[i % paths.len()], &mut body) {
                    sent += 1;
                    ok += u64::from(status == 200 || status == 404);
                    i += conns;
                    let due = start + Duration::from_secs_f64(sent as f64 / each);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                }
                (sent, ok)
            })
        })
        .collect();
    let (sent, ok) = workers.into_iter().filter_map(|w| w.join().ok()).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    println!("{{\"sent\":{sent},\"ok\":{ok},\"secs\":{:.3}}}", t0.elapsed().as_secs_f64());
}
