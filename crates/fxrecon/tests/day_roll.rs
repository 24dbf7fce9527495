//! `fxrecon journal roll`: the end of a trading day. The finished day's journal moves to a
//! directory of its own and replays there alone; the next day's run starts from the carried
//! state, so yesterday's orders stay known (a resend of yesterday's fill is no phantom), and
//! its output agrees with `replay` of its own journal. Refusals: a day not finished, a journal
//! in use, a day directory that already holds files.

use std::path::{Path, PathBuf};
use std::process::Stdio;

mod common;
use common::bin;

const SOH: u8 = 0x01;

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("fxrecon-roll-").tempdir().unwrap()
}

fn sample(name: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples/quickfix-day");
    std::fs::read(dir.join(name)).unwrap()
}

fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

fn join(lines: &[Vec<u8>]) -> Vec<u8> {
    lines.join(&b'\n')
}

fn contains(line: &[u8], field: &str) -> bool {
    let f = format!("\u{1}{field}\u{1}");
    line.windows(f.len()).any(|w| w == f.as_bytes())
}

/// The sample day cut in two, per stream, just after the first fill of order Q0003: the second
/// day goes on with the orders the first left open.
fn two_days(s: &[Vec<u8>]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let cut = s.iter().position(|l| contains(l, "11=Q0003") && contains(l, "150=F")).unwrap();
    (s[..=cut].to_vec(), s[cut + 1..].to_vec())
}

/// A FIX field as (tag, value) bytes.
type Field = (Vec<u8>, Vec<u8>);

/// The fields of a FIX line (`time : 8=...`): its arrival prefix and (tag, value) pairs.
fn fields(line: &[u8]) -> (Vec<u8>, Vec<Field>) {
    let at = line.windows(3).position(|w| w == b" : ").unwrap();
    let msg = &line[at + 3..];
    let pairs = msg
        .split(|&b| b == SOH)
        .filter(|f| !f.is_empty())
        .map(|f| {
            let eq = f.iter().position(|&b| b == b'=').unwrap();
            (f[..eq].to_vec(), f[eq + 1..].to_vec())
        })
        .collect();
    (line[..at + 3].to_vec(), pairs)
}

/// A FIX message with its BodyLength and CheckSum computed.
fn message(prefix: &[u8], pairs: &[Field]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in pairs.iter().filter(|(k, _)| !matches!(k.as_slice(), b"8" | b"9" | b"10")) {
        body.extend_from_slice(k);
        body.push(b'=');
        body.extend_from_slice(v);
        body.push(SOH);
    }
    let mut m = format!("8=FIX.4.4\u{1}9={}\u{1}", body.len()).into_bytes();
    m.extend_from_slice(&body);
    let sum = m.iter().map(|&b| b as u32).sum::<u32>() % 256;
    m.extend_from_slice(format!("10={sum:03}\u{1}").as_bytes());
    [prefix, &m].concat()
}

/// The venue's resend (PossDupFlag=Y) of yesterday's first fill of Q0001, sent just after the
/// second day's first drop-copy message: yesterday's fill, not a new order.
fn resend_of_yesterdays_fill(day1: &[Vec<u8>], day2: &mut Vec<Vec<u8>>) {
    let orig = day1.iter().find(|l| contains(l, "11=Q0001") && contains(l, "150=F")).unwrap();
    let (_, pairs) = fields(orig);
    let (prefix, first) = fields(&day2[0]);
    let now = first.iter().find(|(k, _)| k == b"52").unwrap().1.clone();
    let mut resent = Vec::new();
    for (k, v) in pairs {
        match k.as_slice() {
            b"34" => {
                resent.push((k, v));
                resent.push((b"43".to_vec(), b"Y".to_vec()));
            }
            b"52" => {
                resent.push((k, now.clone()));
                resent.push((b"122".to_vec(), v));
            }
            _ => resent.push((k, v)),
        }
    }
    day2.insert(1, message(&prefix, &resent));
}

struct Days {
    dir: tempfile::TempDir,
}

impl Days {
    fn new() -> Self {
        let dir = scratch();
        let (p, d) = (lines(&sample("primary.fix")), lines(&sample("dropcopy.fix")));
        let ((p1, p2), (d1, mut d2)) = (two_days(&p), two_days(&d));
        resend_of_yesterdays_fill(&d1, &mut d2);
        for (name, day) in [("p1.fix", &p1), ("p2.fix", &p2), ("d1.fix", &d1), ("d2.fix", &d2)] {
            std::fs::write(dir.path().join(name), join(day)).unwrap();
        }
        Self { dir }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn run(&self, day: u32, journal: &str, out: &str) -> std::process::Output {
        bin()
            .arg("run")
            .arg("--primary")
            .arg(self.path(&format!("p{day}.fix")))
            .arg("--dropcopy")
            .arg(self.path(&format!("d{day}.fix")))
            .arg("--out")
            .arg(self.path(out))
            .arg("--journal")
            .arg(self.path(journal))
            .output()
            .unwrap()
    }
    fn roll(&self, journal: &str, into: &str) -> std::process::Output {
        bin().args(["journal", "roll"]).arg(self.path(journal)).arg("--into").arg(self.path(into)).output().unwrap()
    }
    fn replay(&self, journal: &str) -> Vec<u8> {
        let r = bin().args(["replay", "--journal"]).arg(self.path(journal)).output().unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        r.stdout
    }
    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }
}

fn records(jsonl: &[u8]) -> Vec<serde_json::Value> {
    jsonl.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

fn ok(o: &std::process::Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_rolled_day_replays_alone_and_the_next_day_starts_from_its_orders() {
    let days = Days::new();
    ok(&days.run(1, "j", "out1.jsonl"));
    let rolled = days.roll("j", "day1");
    ok(&rolled);
    let report: serde_json::Value = serde_json::from_slice(&rolled.stdout).unwrap();
    assert_eq!(report["orders_carried"], 3, "Q0001..Q0003 are still held at the day's end");
    assert_eq!(names(&days.path("j")), ["LOCK", "carried.snap"], "the journal directory holds the next day's start");
    assert!(names(&days.path("day1")).iter().any(|n| n.ends_with(".seg")));
    assert_eq!(days.replay("day1"), days.read("out1.jsonl"), "the day's journal replays alone");

    ok(&days.run(2, "j", "out2.jsonl"));
    let out2 = days.read("out2.jsonl");
    let got: Vec<(String, String)> = records(&out2)
        .iter()
        .map(|r| (r["type"].as_str().unwrap().to_string(), r["kind"].as_str().unwrap_or("").to_string()))
        .collect();
    // The sample's own recovery, and nothing about yesterday's resent fill.
    let want = [("SequenceGap", "gap"), ("SequenceGap", "gap_filled")];
    assert_eq!(got, want.map(|(t, k)| (t.to_string(), k.to_string())), "{}", String::from_utf8_lossy(&out2));
    assert_eq!(days.replay("j"), out2, "the next day's run agrees with replay of its journal");
    // A restart of the finished second day changes nothing.
    ok(&days.run(2, "j", "out2.jsonl"));
    assert_eq!(days.read("out2.jsonl"), out2);

    // Without the carried state the resend would be taken for a new order on the drop copy.
    ok(&days.run(2, "fresh", "fresh.jsonl"));
    let fresh = records(&days.read("fresh.jsonl"));
    assert!(
        fresh.iter().any(|r| r["type"] == "PhantomOrder" && r["order_id"] == "Q0001" && r["seen_on"] == "dropcopy")
    );

    // The second day rolls too, its carried start going with it: it replays alone as well.
    ok(&days.roll("j", "day2"));
    assert!(names(&days.path("day2")).contains(&"carried.snap".to_string()));
    assert_eq!(days.replay("day2"), out2);
}

#[test]
fn a_roll_is_refused_before_the_day_is_finished_while_a_run_holds_it_or_into_a_used_directory() {
    let days = Days::new();
    let before = [days.read("p1.fix"), days.read("d1.fix")];
    // A run stopped before its inputs ended: its day is not finished.
    let mut child = bin()
        .arg("run")
        .arg("--primary")
        .arg(days.path("p1.fix"))
        .arg("--dropcopy")
        .arg(days.path("d1.fix"))
        .arg("--out")
        .arg(days.path("out1.jsonl"))
        .arg("--journal")
        .arg(days.path("j"))
        .args(["--pace", "4"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // While it runs, it holds the journal.
    let mut held = None;
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let o = days.roll("j", "day1");
        if String::from_utf8_lossy(&o.stderr).contains("in use") {
            held = Some(o);
            break;
        }
    }
    let held = held.expect("the roll saw the running process's lock");
    assert_eq!(held.status.code(), Some(2));
    let _ = child.kill();
    let _ = child.wait();
    let unfinished = days.roll("j", "day1");
    assert_eq!(unfinished.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unfinished.stderr).contains("not finished"));
    assert!(!days.path("day1").exists(), "nothing moved");
    // Finished by a run to the inputs' end, the day rolls, but not into a directory in use.
    ok(&days.run(1, "j", "out1.jsonl"));
    std::fs::create_dir_all(days.path("used")).unwrap();
    std::fs::write(days.path("used/keep.txt"), b"x").unwrap();
    let used = days.roll("j", "used");
    assert_eq!(used.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&used.stderr).contains("already holds files"));
    assert_eq!(names(&days.path("used")), ["keep.txt"]);
    ok(&days.roll("j", "day1"));
    assert_eq!([days.read("p1.fix"), days.read("d1.fix")], before, "the inputs are never touched");
    let missing = days.roll("nothing-here", "day9");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("holds no journal"));
}
