//! `fxrecon run` fed by FIX sessions against QuickFIX (issue 26 acceptance): QuickFIX as each
//! venue's drop-copy acceptor (fxrecon initiates; four venues on the drop-copy stream) and as
//! each OMS gateway initiator (fxrecon accepts; two on the primary stream) streams a generated
//! day, each session its own messages; the divergences fxrecon finds equal the ground truth, also across
//! a `kill -9` and a restart with `--journal` (no fill lost or counted twice); SIGTERM logs
//! the sessions out and exits 0.
//!
//! What live sessions cannot carry is left out of the comparison (D66): QuickFIX numbers the
//! messages itself and stamps its own SendingTime, so the generator's session-level faults
//! (SequenceGap records) and its arrival times (TimingAnomaly) do not reach fxrecon; the
//! generator's duplicated messages (the same MsgSeqNum twice) are sent once.

mod common;
#[path = "../../fxrecon-fixsession/tests/peer/mod.rs"]
mod peer;

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Reap, bin, scratch};
use fxrecon_engine::ground_truth::Finding;
use peer::{Peer, free_port};

/// Generous: live arrival times replace the file's, and a restart stops both streams for a
/// while; the end-of-day flush still fires every check.
const CONFIG: &str = "grace_ms = 60000\nretention_ms = 120000\nsnapshot_every = 200\n";

/// A generated day written for sending: each stream's ExecutionReports once (a message the
/// generator wrote twice with the same MsgSeqNum, a `Duplicate` fault, is sent once).
fn day(dir: &Path, orders: usize, seed: u64) -> (PathBuf, PathBuf) {
    let status = bin()
        .args(["gen", "--orders", &orders.to_string(), "--seed", &seed.to_string(), "--out-dir"])
        .arg(dir)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let once = |name: &str| {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let mut seen = HashSet::new();
        let key = |l: &str, tag: &str| l.split('\x01').find(|f| f.starts_with(tag)).unwrap_or("").to_string();
        let kept: Vec<&str> =
            text.lines().filter(|l| seen.insert((key(l, "49="), key(l, "56="), key(l, "34=")))).collect();
        let path = dir.join(format!("{name}.send"));
        std::fs::write(&path, kept.join("\n") + "\n").unwrap();
        path
    };
    (once("primary.fix"), once("dropcopy.fix"))
}

/// The first or second half of a log's lines, as a file of its own.
fn half(path: &Path, second: bool) -> PathBuf {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mid = lines.len() / 2;
    let part = if second { &lines[mid..] } else { &lines[..mid] };
    let out = path.with_extension(if second { "second" } else { "first" });
    std::fs::write(&out, part.join("\n") + "\n").unwrap();
    out
}

/// The findings live sessions can carry (no SequenceGap, no TimingAnomaly) of a JSON Lines file.
fn findings(path: &Path) -> BTreeSet<Finding> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| Finding::of_json_line(l).unwrap())
        .filter(|f| !matches!(f.type_name(), "SequenceGap" | "TimingAnomaly"))
        .collect()
}

/// The generated day's sessions: (stream, the peer's CompID, ours). QuickFIX plays each peer
/// (an OMS gateway initiating into our acceptor, a venue's drop-copy acceptor we initiate to).
const SESSIONS: [(&str, &str, &str); 6] = [
    ("primary", "FXGW1", "FIRM"),
    ("primary", "FXGW2", "FIRM"),
    ("dropcopy", "EBSDC", "FIRMDC"),
    ("dropcopy", "FXADC", "FIRMDC"),
    ("dropcopy", "CNXDC", "FIRMDC"),
    ("dropcopy", "HSDC", "FIRMDC"),
];

/// The QuickFIX peers of a day and fxrecon's config naming them.
struct Venue {
    peers: Vec<(Peer, &'static str, &'static str)>,
    config: PathBuf,
}

fn venue(dir: &Path) -> Venue {
    let mut toml = CONFIG.to_string();
    let mut peers = Vec::new();
    for (stream, theirs, ours) in SESSIONS {
        let port = free_port();
        let (role, peer_role) = if stream == "primary" { ("acceptor", "initiator") } else { ("initiator", "acceptor") };
        toml += &format!(
            "\n[[session]]\nstream = \"{stream}\"\nrole = \"{role}\"\nport = {port}\nsender_comp_id = \"{ours}\"\n\
             target_comp_id = \"{theirs}\"\nheartbeat_s = 1\nend_on_logout = true\nreconnect_min_ms = 100\nreconnect_max_ms = 500\n"
        );
        // QuickFIX's initiators retry every second until fxrecon listens.
        peers.push((Peer::start(peer_role, port, theirs, ours, &dir.join(theirs)), stream, theirs));
    }
    let config = dir.join("fxrecon.toml");
    std::fs::write(&config, toml).unwrap();
    Venue { peers, config }
}

/// `fxrecon run` with `config`, its output, state (and journal) in `dir`, `extra` flags.
fn run_command(dir: &Path, config: &Path, journal: bool, extra: &[&std::ffi::OsStr]) -> std::process::Command {
    let mut c = bin();
    c.arg("run");
    if !extra.iter().any(|e| *e == "--api") {
        c.args(["--api", "off"]);
    }
    c.args(extra)
        .arg("--config")
        .arg(config)
        .arg("--out")
        .arg(dir.join("out.jsonl"))
        .arg("--state-dir")
        .arg(dir.join("state"))
        .env("RUST_LOG", "warn,fxrecon_fixsession=info");
    if journal {
        c.arg("--journal").arg(dir.join("journal"));
    }
    c
}

/// [`run_command`] started, its stderr in the next `dir/stderr-N.txt`.
fn spawn(mut c: std::process::Command, dir: &Path) -> Reap {
    c.stdout(Stdio::null()).stderr(std::fs::File::create(dir.join(format!("stderr-{}.txt", runs(dir)))).unwrap());
    Reap(c.spawn().unwrap())
}

/// `fxrecon run` with the sessions of `v`.
fn daemon(dir: &Path, v: &Venue, journal: bool, extra: &[&str]) -> Reap {
    let extra: Vec<&std::ffi::OsStr> = extra.iter().map(std::ffi::OsStr::new).collect();
    spawn(run_command(dir, &v.config, journal, &extra), dir)
}

/// How many daemons ran in `dir` so far (one stderr file each).
fn runs(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().starts_with("stderr-")).count()
}

/// The lines of `path` sent by `sender` (49), as a file of their own.
fn of_sender(path: &Path, sender: &str) -> PathBuf {
    let text = std::fs::read_to_string(path).unwrap();
    let tag = format!("\x0149={sender}\x01");
    let kept: Vec<&str> = text.lines().filter(|l| l.contains(&tag)).collect();
    let out = path.with_extension(format!("{sender}.part"));
    std::fs::write(&out, kept.join("\n") + "\n").unwrap();
    out
}

/// Every peer sends its session's messages of `primary`/`dropcopy`, all at once; waits until
/// they are sent.
fn send_all(v: &mut Venue, primary: &Path, dropcopy: &Path) {
    start_sending(v, primary, dropcopy);
    wait_sent(v);
}

/// Every peer starts sending its session's messages of `primary`/`dropcopy`, all at once.
fn start_sending(v: &mut Venue, primary: &Path, dropcopy: &Path) {
    for (peer, stream, theirs) in &mut v.peers {
        let file = of_sender(if *stream == "primary" { primary } else { dropcopy }, theirs);
        peer.send(&format!("send_file {}", file.display()), "SENT");
    }
}

/// Waits until every peer sent what it was given.
fn wait_sent(v: &mut Venue) {
    for (peer, _, _) in &mut v.peers {
        peer.answer("SENT", Duration::from_secs(30));
    }
}

/// The inbound numbers stored in the state directory, summed over the sessions.
fn stored_in(dir: &Path) -> u64 {
    let Ok(files) = std::fs::read_dir(dir.join("state/fix")) else { return 0 };
    files
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "seqnums"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|t| t.split_whitespace().nth(1).and_then(|n| n.parse::<u64>().ok()))
        .sum()
}

/// (stored, journaled) inbound numbers of each session that resumed from the journal, from
/// its log line.
fn resumed(said: &str) -> Vec<(u64, u64)> {
    let field = |l: &str, key: &str| {
        l.split_whitespace().find_map(|w| w.strip_prefix(key)).and_then(|v| v.parse::<u64>().ok()).unwrap()
    };
    said.lines()
        .filter(|l| l.contains("resumes from the journal"))
        .map(|l| (field(l, "stored="), field(l, "next_in=")))
        .collect()
}

fn wait_logons(v: &mut Venue) {
    for (peer, _, _) in &mut v.peers {
        peer.cmd("wait_logon 20", "OK");
    }
}

fn logout_all(v: &mut Venue) {
    for (peer, _, _) in &mut v.peers {
        peer.cmd("logout", "OK");
    }
}

/// Waits (up to `limit`) for the daemon to exit; its status.
fn wait_exit(d: &mut Reap, limit: Duration) -> std::process::ExitStatus {
    let until = Instant::now() + limit;
    loop {
        if let Some(s) = d.try_wait().unwrap() {
            return s;
        }
        assert!(Instant::now() < until, "the daemon did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr_of(dir: &Path) -> String {
    let mut all = String::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("stderr-") {
            all += &std::fs::read_to_string(e.path()).unwrap();
        }
    }
    all
}

#[test]
fn a_generated_day_over_live_quickfix_sessions_gives_the_ground_truth() {
    let tmp = scratch("fix-day");
    let dir = tmp.path();
    let (p, d) = day(dir, 300, 31);
    let want = findings(&dir.join("expected.jsonl"));
    assert!(want.len() >= 5, "a day with faults: {want:?}");
    let mut v = venue(dir);
    let mut fx = daemon(dir, &v, false, &[]);
    wait_logons(&mut v);
    send_all(&mut v, &p, &d);
    // The peers log out: each session's input ends (end_on_logout), the day is flushed.
    logout_all(&mut v);
    let status = wait_exit(&mut fx, Duration::from_secs(30));
    let said = stderr_of(dir);
    assert!(status.success(), "{said}");
    assert_eq!(findings(&dir.join("out.jsonl")), want, "{said}");
    for (_, theirs, ours) in SESSIONS {
        assert!(said.contains(&format!("\"{ours}->{theirs}\"")), "session counters in the summary: {said}");
    }
}

#[test]
fn a_kill_9_mid_day_and_a_restart_with_the_journal_lose_and_repeat_no_fill() {
    let tmp = scratch("fix-restart");
    let dir = tmp.path();
    let (p, d) = day(dir, 300, 32);
    let want = findings(&dir.join("expected.jsonl"));
    let mut v = venue(dir);
    // Paced (each stream 100 messages/s into the pipeline, counted from the daemon's start) so
    // what the sessions received waits in their rings, not yet journaled, when the kill comes.
    let mut fx = daemon(dir, &v, true, &["--pace", "200"]);
    wait_logons(&mut v);
    start_sending(&mut v, &half(&p, false), &half(&d, false));
    // Killed while the first half is arriving (the sessions' stored numbers moving): much of
    // it received by the sessions but not yet journaled.
    let until = Instant::now() + Duration::from_secs(20);
    while stored_in(dir) < 800 {
        assert!(Instant::now() < until, "nothing arrived");
        std::thread::sleep(Duration::from_millis(2));
    }
    fx.kill().unwrap();
    fx.wait().unwrap();
    drop(fx);
    // While fxrecon is down QuickFIX keeps the rest (it is resent on request).
    wait_sent(&mut v);
    send_all(&mut v, &half(&p, true), &half(&d, true));
    for (peer, _, _) in &mut v.peers {
        peer.forget("ADMIN_IN 2 ");
    }
    let mut fx = daemon(dir, &v, true, &[]);
    wait_logons(&mut v);
    // Each session asks for what was not journaled and what was sent while it was down; the
    // peer resends it before its Logout (in order on each connection).
    for (peer, _, theirs) in &mut v.peers {
        assert!(peer.wait_for("ADMIN_IN 2 ", Duration::from_secs(20)), "{theirs} got no ResendRequest");
    }
    std::thread::sleep(Duration::from_millis(300));
    logout_all(&mut v);
    let status = wait_exit(&mut fx, Duration::from_secs(30));
    let said = stderr_of(dir);
    assert!(status.success(), "{said}");
    let resumed = resumed(&said);
    assert_eq!(resumed.len(), SESSIONS.len(), "{said}");
    // The case that matters was hit: a session had delivered more than the journal held.
    assert!(resumed.iter().any(|&(stored, journaled)| stored > journaled), "{resumed:?}");
    assert!(said.contains("\"recovered\": {"), "{said}");
    assert_eq!(findings(&dir.join("out.jsonl")), want, "{said}");
    // What was sent while fxrecon was down is a gap of each session, requested and filled
    // (contract 3, SequenceGap), in the normal output.
    let out = std::fs::read_to_string(dir.join("out.jsonl")).unwrap();
    for session in ["FXGW1->FIRM", "EBSDC->FIRMDC"] {
        for kind in ["gap", "gap_filled"] {
            let needle = format!("\"session\":\"{session}\",\"kind\":\"{kind}\"");
            assert!(out.contains(&needle), "no {needle} in {out}");
        }
    }
    // The journal replays to the same records (the receive stamps are journaled).
    let replayed = dir.join("replay.jsonl");
    let o = bin().args(["replay", "--journal"]).arg(dir.join("journal")).arg("--out").arg(&replayed).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_to_string(&replayed).unwrap(), out, "replay of the journal");
    // Nothing reported twice across the restart.
    let lines: Vec<String> = std::fs::read_to_string(dir.join("out.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.contains("\"SequenceGap\""))
        .map(|l| l.split_once(',').map_or(l, |(_, rest)| rest).to_string())
        .collect();
    let unique: HashSet<&String> = lines.iter().collect();
    assert_eq!(unique.len(), lines.len(), "a record written twice");
}

#[test]
fn sigterm_logs_the_sessions_out_and_exits_0() {
    let tmp = scratch("fix-term");
    let dir = tmp.path();
    let mut v = venue(dir);
    let addr_file = dir.join("api.addr");
    let mut fx = daemon(dir, &v, true, &["--api", "127.0.0.1:0", "--api-addr-file", addr_file.to_str().unwrap()]);
    wait_logons(&mut v);
    v.peers[2].0.cmd("send_er 3 T", "SENT 3");
    std::thread::sleep(Duration::from_millis(300));
    // `/metrics` has every session's counters, labelled by session, parsed by a real parser.
    let addr = common::bound_addr(&addr_file);
    let scrape = || {
        let (status, text) = fxrecon_api::client::get(&addr, "/metrics", None).unwrap();
        assert_eq!(status, 200, "{text}");
        prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap()
    };
    let of = |scrape: &prometheus_parse::Scrape, metric: &str| -> std::collections::BTreeMap<String, f64> {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == metric)
            .map(|s| {
                let (prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v)) = s.value
                else {
                    panic!("{metric}: {:?}", s.value)
                };
                (s.labels.get("session").unwrap().to_string(), v)
            })
            .collect()
    };
    let t0 = Instant::now();
    let got = loop {
        let got = scrape();
        let application = of(&got, "fxrecon_fix_session_application_messages_total");
        if application.values().sum::<f64>() >= 3.0 || t0.elapsed() > Duration::from_secs(10) {
            break got;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let logged_on = of(&got, "fxrecon_fix_session_logged_on");
    assert_eq!(logged_on.len(), SESSIONS.len(), "one row per session: {logged_on:?}");
    assert!(logged_on.values().all(|&v| v == 1.0), "every session logged on: {logged_on:?}");
    let application = of(&got, "fxrecon_fix_session_application_messages_total");
    assert_eq!(application.values().sum::<f64>(), 3.0, "the three reports sent, on one session: {application:?}");
    assert_eq!(application.values().filter(|&&v| v > 0.0).count(), 1, "{application:?}");
    assert!(of(&got, "fxrecon_fix_session_logons_total").values().all(|&v| v >= 1.0), "{logged_on:?}");
    let pid = fx.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = wait_exit(&mut fx, Duration::from_secs(15));
    assert!(status.success(), "{}", stderr_of(dir));
    // Each QuickFIX side got our Logout.
    for (peer, _, theirs) in &mut v.peers {
        assert!(peer.wait_for("ADMIN_IN 5 ", Duration::from_secs(5)), "{theirs} saw our Logout");
        assert!(peer.wait_for("LOGGED_OUT", Duration::from_secs(5)), "{theirs} logged out");
    }
    let said = stderr_of(dir);
    assert!(said.contains("\"interrupted\": true"), "{said}");
    // What the session delivered before the signal was drained into the journal.
    let dump = bin().args(["journal", "dump"]).arg(dir.join("journal")).output().unwrap();
    let dump = String::from_utf8(dump.stdout).unwrap();
    assert_eq!(dump.lines().filter(|l| l.contains("|35=8|") && l.contains("|11=T-")).count(), 3, "{dump}");
    // A restart must name the same sessions: one venue fewer is refused before anything starts.
    let fewer = dir.join("fewer.toml");
    let text = std::fs::read_to_string(&v.config).unwrap();
    let cut = text.rfind("[[session]]").unwrap();
    std::fs::write(&fewer, &text[..cut]).unwrap();
    let o = run_command(dir, &fewer, true, &[]).output().unwrap();
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("the journal was made from transport fix session"), "{err}");
}

#[test]
fn a_session_with_nothing_journaled_resumes_where_its_journal_started() {
    let tmp = scratch("fix-start");
    let dir = tmp.path();
    let (p, _) = day(dir, 20, 33);
    // A venue that never answers (nothing listens): the journal never holds its messages.
    let cfg = dir.join("fxrecon.toml");
    let port = free_port();
    std::fs::write(
        &cfg,
        format!("[[session]]\nstream = \"dropcopy\"\nport = {port}\nsender_comp_id = \"FIRMDC\"\ntarget_comp_id = \"EBSDC\"\n"),
    )
    .unwrap();
    let store = dir.join("state/fix/FIRMDC-EBSDC.seqnums");
    std::fs::create_dir_all(store.parent().unwrap()).unwrap();
    std::fs::write(&store, "7 50\n").unwrap();
    let run = || spawn(run_command(dir, &cfg, true, &["--primary".as_ref(), p.as_os_str()]), dir);
    let wait = |what: &Path| {
        let until = Instant::now() + Duration::from_secs(20);
        while !what.exists() {
            assert!(Instant::now() < until, "no {}", what.display());
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let mut fx = run();
    wait(&store.with_extension("journal-start"));
    // The journal exists once its run header is durable: the header's copy is written after
    // the header record is synced (the directory, or a segment, alone is not yet a journal).
    wait(&dir.join("journal/run-header.json"));
    fx.kill().unwrap();
    fx.wait().unwrap();
    // As if 40 messages had been received but not journaled before the kill.
    std::fs::write(&store, "9 90\n").unwrap();
    let mut fx = run();
    let until = Instant::now() + Duration::from_secs(20);
    while !stderr_of(dir).contains("resumes from the journal") {
        assert!(Instant::now() < until, "{}", stderr_of(dir));
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(std::process::Command::new("kill").args(["-TERM", &fx.id().to_string()]).status().unwrap().success());
    let status = wait_exit(&mut fx, Duration::from_secs(15));
    let said = stderr_of(dir);
    assert!(status.success(), "{said}");
    assert_eq!(resumed(&said), vec![(90, 50)], "resumes at the journal's start, not the stored 90: {said}");
}
