//! Crash recovery end to end: `fxrecon run --journal` is killed with SIGKILL at 20+ random
//! points of a generated day (some during its own recovery), restarted each time, and finally
//! left to finish. It snapshots every 3,000 messages, so restarts resume from a snapshot plus
//! the journal after it. Its divergence output and final state digest must equal those of an
//! uninterrupted run, and no rejected line may be lost or written twice.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

mod common;
use common::{Reap, bin, scratch};

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

/// A generated day with a few malformed lines mixed in (so rejects are recovered too).
fn write_day(dir: &Path) -> (PathBuf, PathBuf) {
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders: 6_000, seed: 5, ..Default::default() });
    let spoil = |bytes: &[u8]| {
        let mut out = Vec::new();
        for (i, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
            if i % 4_000 == 1_999 {
                out.extend_from_slice(b"20261125-13:33:20.000000000 : 8=FIX.4.4|35=8|38=notanumber|10=000\n");
            }
            out.extend_from_slice(line);
        }
        out
    };
    let (p, d) = (dir.join("primary.fix"), dir.join("dropcopy.fix"));
    std::fs::write(&p, spoil(&day.primary)).unwrap();
    std::fs::write(&d, spoil(&day.dropcopy)).unwrap();
    (p, d)
}

fn run_args(p: &Path, d: &Path, out: &Path, rejects: &Path, journal: &Path) -> Vec<String> {
    let cfg = p.with_file_name("snapshots.toml");
    std::fs::write(&cfg, "snapshot_every = 3000\nsnapshots_kept = 2\n").unwrap();
    [
        "run",
        "--config",
        cfg.to_str().unwrap(),
        "--primary",
        p.to_str().unwrap(),
        "--dropcopy",
        d.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
        "--journal",
        journal.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec()
}

fn digest_of(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let at = text.find("\"state_digest\"").unwrap_or_else(|| panic!("no digest in: {text}"));
    let rest = &text[at + 14..];
    let start = rest.find(|c: char| c.is_ascii_hexdigit()).unwrap();
    rest[start..start + 16].to_string()
}

/// Bytes of journal segments in `dir` (progress through the day; snapshot files left out, or
/// every kill would land on a snapshot being written).
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |it| {
        it.filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".seg"))
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum()
    })
}

fn sorted_lines(path: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_to_string(path).unwrap().lines().map(String::from).collect();
    v.sort();
    v
}

#[test]
fn kill_9_at_random_points_then_finish_equals_an_uninterrupted_run() {
    let tmp = scratch("day");
    let dir = tmp.path();
    let (p, d) = write_day(dir);

    let reference = bin()
        .args(run_args(&p, &d, &dir.join("ref.jsonl"), &dir.join("ref.rej"), &dir.join("j-ref")))
        .output()
        .unwrap();
    assert!(reference.status.success(), "{}", String::from_utf8_lossy(&reference.stderr));
    let ref_digest = digest_of(&reference.stderr);

    let (out, rejects, journal) = (dir.join("out.jsonl"), dir.join("out.rej"), dir.join("j"));
    // Kill points spread over the whole day: journal sizes drawn at random below the
    // uninterrupted run's; every fourth kill instead lands a few ms after start (in recovery).
    let total = dir_bytes(&dir.join("j-ref"));
    let mut seed = 0x5eed_cafe_u64;
    let mut targets: Vec<u64> = (0..22).map(|_| 64 + xorshift(&mut seed) % (total * 95 / 100)).collect();
    targets.sort_unstable();
    let mut kills = 0;
    let mut at_kill = Vec::new();
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    for (i, &target) in targets.iter().enumerate() {
        let mut child = Reap(
            bin()
                .args(run_args(&p, &d, &out, &rejects, &journal))
                .args(["--pace", "20000", "--clock", "file"]) // throttled, file clock kept
                // Both thread layouts write the same journal: alternate them across restarts.
                .args(["--threading", if i % 2 == 0 { "shared" } else { "dedicated" }])
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(logs.join(format!("run-{i}.log"))).unwrap())
                .spawn()
                .unwrap(),
        );
        if i % 4 == 3 {
            std::thread::sleep(Duration::from_millis(2 + xorshift(&mut seed) % 30));
        } else {
            while dir_bytes(&journal) < target && child.try_wait().unwrap().is_none() {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        if child.try_wait().unwrap().is_some() {
            break; // It finished before the kill: the day is over.
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        at_kill.push(dir_bytes(&journal));
    }
    assert!(kills >= 20, "only {kills} kills landed before the day ended (journal bytes {at_kill:?})");
    assert!(at_kill.last().unwrap() * 2 > total, "kills reach the second half of the day: {at_kill:?} of {total}");

    let last = bin().args(run_args(&p, &d, &out, &rejects, &journal)).output().unwrap();
    assert!(last.status.success(), "{}", String::from_utf8_lossy(&last.stderr));
    assert_eq!(digest_of(&last.stderr), ref_digest, "final state digest");
    // Most restarts resumed from a snapshot (one whose records the output already held; the
    // newest may not be, when the kill fell between writing it and flushing the output).
    let recoveries: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .filter(|t| t.contains("recovered from journal"))
        .collect();
    let from_snapshot = recoveries.iter().filter(|t| !t.contains("from_snapshot=0")).count();
    assert!(recoveries.len() >= 10, "{} of the restarts got through recovery", recoveries.len());
    assert!(from_snapshot * 2 > recoveries.len(), "{from_snapshot} of {} recoveries used a snapshot", recoveries.len());
    let snapshots = std::fs::read_dir(&journal)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".snap"));
    assert_eq!(snapshots.count(), 2, "older snapshots are pruned");
    let (want, got) = (std::fs::read(dir.join("ref.jsonl")).unwrap(), std::fs::read(&out).unwrap());
    assert!(!want.is_empty());
    assert!(want == got, "divergence output differs from the uninterrupted run's");
    assert_eq!(sorted_lines(&rejects), sorted_lines(&dir.join("ref.rej")), "rejects: none lost, none twice");
    assert!(!sorted_lines(&rejects).is_empty());

    // The journal replays to the same output and digest as well.
    let replay =
        bin().args(["replay", "--journal"]).arg(&journal).arg("--out").arg(dir.join("replay.jsonl")).output().unwrap();
    assert!(replay.status.success());
    assert_eq!(std::fs::read(dir.join("replay.jsonl")).unwrap(), want);
    assert_eq!(digest_of(&replay.stderr), ref_digest, "replay digest");
}

/// A bit flipped in the middle of the journal stops recovery with one line naming the segment
/// and offset (exit 2); `--salvage` sets the outputs aside, skips the damage, and — the inputs
/// being files that are still there — re-reads what was lost, ending where an undamaged run
/// ends.
#[test]
fn corruption_stops_recovery_unless_salvaging() {
    let tmp = scratch("salvage");
    let dir = tmp.path();
    let (p, d) = write_day(dir);
    let (out, rejects, journal) = (dir.join("out.jsonl"), dir.join("out.rej"), dir.join("j"));
    let first = bin().args(run_args(&p, &d, &out, &rejects, &journal)).output().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let want = std::fs::read(&out).unwrap();
    let want_digest = digest_of(&first.stderr);

    let seg = journal.join("journal-0000000000.seg");
    let mut bytes = std::fs::read(&seg).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x10;
    std::fs::write(&seg, bytes).unwrap();

    let refused = bin().args(run_args(&p, &d, &out, &rejects, &journal)).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    let last_line = err.lines().last().unwrap_or_default();
    assert!(last_line.contains("journal corrupt in segment journal-0000000000.seg at offset"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), want, "a refused recovery leaves the output alone");

    let salvaged = bin().args(run_args(&p, &d, &out, &rejects, &journal)).arg("--salvage").output().unwrap();
    let text = String::from_utf8_lossy(&salvaged.stderr);
    assert!(salvaged.status.success(), "{text}");
    assert!(text.contains("\"salvaged_regions\": 1"), "{text}");
    assert_eq!(std::fs::read(dir.join("out.jsonl.before-salvage")).unwrap(), want, "old output kept aside");
    assert!(std::fs::read(&out).unwrap() == want, "the salvaged run re-read what the damage lost");
    assert_eq!(digest_of(&salvaged.stderr), want_digest);
}
