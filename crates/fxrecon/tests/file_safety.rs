//! Never destroy an input, never corrupt a journal (contract 5 and 6, issue 23): path checks
//! before anything is written, one instance per journal, restart identity, a restart after a
//! completed day over grown inputs agreeing with `replay`, salvage backups, bounded
//! generators, options that cannot take effect, and inputs that are empty or all rejected.

use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;
use common::{Reap, bin, run_journaled, run_on, scratch, write_day};

fn digest(path: &Path) -> (u64, u64) {
    let bytes = std::fs::read(path).unwrap();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in &bytes {
        h = (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    (bytes.len() as u64, h)
}

/// Exit status 2 and one line on stderr containing `text`.
fn refused(o: &Output, text: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "one clear line: {err}");
    assert!(err.contains(text), "{err:?} should say {text:?}");
}

/// `run` on the day `p`/`d`, writing `out` and journaling into `journal`.
fn reconcile(p: &Path, d: &Path) -> Command {
    let mut c = bin();
    c.arg("reconcile").arg("--primary").arg(p).arg("--dropcopy").arg(d);
    c
}

#[test]
fn an_output_that_names_an_input_by_any_path_is_refused_and_the_input_is_untouched() {
    let tmp = scratch("out-is-input");
    let dir = tmp.path();
    let (p, d) = write_day(dir, 200, 1);
    let before = (digest(&p), digest(&d));
    let link = dir.join("link.fix");
    std::os::unix::fs::symlink(&p, &link).unwrap();
    let by_another_path = dir.join(".").join("primary.fix");
    for option in ["--out", "--rejects", "--summary"] {
        for target in [&p, &link, &by_another_path, &d] {
            let o = reconcile(&p, &d).arg(option).arg(target).output().unwrap();
            refused(&o, "is the same file as the");
        }
    }
    // run, and replay over a journal's own files.
    let o = run_on(&p, &d, &d).output().unwrap();
    refused(&o, "--out");
    assert_eq!((digest(&p), digest(&d)), before, "the inputs are unchanged");
    let journal = dir.join("j");
    let o = reconcile(&p, &d).arg("--journal").arg(&journal).arg("--out").arg(dir.join("o.jsonl")).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let segment = std::fs::read_dir(&journal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "seg"))
        .unwrap();
    let seg_before = digest(&segment);
    let o = bin().args(["replay", "--journal"]).arg(&journal).arg("--out").arg(&segment).output().unwrap();
    refused(&o, "is the same file as the --journal input");
    assert_eq!(digest(&segment), seg_before, "the journal is unchanged");
}

#[test]
fn two_outputs_naming_one_file_or_a_directory_as_an_output_are_refused_before_anything_is_written() {
    let tmp = scratch("same-output");
    let dir = tmp.path();
    let (p, d) = write_day(dir, 200, 2);
    let out = dir.join("out.jsonl");
    let o = reconcile(&p, &d)
        .arg("--out")
        .arg(&out)
        .arg("--summary")
        .arg(dir.join(".").join("out.jsonl"))
        .output()
        .unwrap();
    refused(&o, "--out and --summary name the same file");
    assert!(!out.exists(), "nothing was written");
    let o = reconcile(&p, &d).arg("--out").arg(dir).output().unwrap();
    refused(&o, "is a directory, not a file");
    let o = reconcile(&p, &d).arg("--out").arg(dir.join("missing/out.jsonl")).output().unwrap();
    refused(&o, "does not exist");
    // /dev/null is not "a file": any number of outputs may go there.
    let o = reconcile(&p, &d)
        .args(["--out", "/dev/null", "--rejects", "/dev/null", "--summary", "/dev/null"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn options_that_cannot_take_effect_are_refused() {
    let tmp = scratch("options");
    let dir = tmp.path();
    let (p, d) = write_day(dir, 100, 3);
    let o = reconcile(&p, &d).args(["--fsync", "never", "--out", "/dev/null"]).output().unwrap();
    refused(&o, "--fsync needs --journal");
    let o = run_on(&p, &d, Path::new("/dev/null")).args(["--salvage"]).output().unwrap();
    refused(&o, "--salvage needs --journal");
    let o = run_on(&p, &d, Path::new("/dev/null")).args(["--ring-capacity", "4"]).output().unwrap();
    refused(&o, "--ring-capacity must be between 16");
    let o = bin()
        .args(["replay", "--journal"])
        .arg(dir.join("j"))
        .args(["--from", "20261125-12:00:00", "--to", "20261125-11:00:00"])
        .output()
        .unwrap();
    refused(&o, "is after --to");
    for cmd in ["gen", "demo"] {
        let mut c = bin();
        c.arg(cmd).args(["--orders", "99999999999"]);
        if cmd == "gen" {
            c.arg("--out-dir").arg(dir.join("g"));
        }
        let o = c.output().unwrap();
        refused(&o, "--orders must be between 1 and 2000000");
        assert!(!dir.join("g").exists(), "nothing generated");
    }
}

#[test]
fn a_second_run_on_a_journal_in_use_is_refused_naming_the_holder() {
    let tmp = scratch("lock");
    let dir = tmp.path();
    let (p, d) = write_day(dir, 3_000, 4);
    let journal = dir.join("j");
    // The first run holds the journal while it paces through the day.
    let mut first = Reap(
        run_journaled(&p, &d, &dir.join("a.jsonl"), &journal)
            .args(["--pace", "5000"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let t = std::time::Instant::now();
    while !journal.join("LOCK").exists() && t.elapsed().as_secs() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let o = run_journaled(&p, &d, &dir.join("b.jsonl"), &journal).output().unwrap();
    refused(&o, &format!("is in use by another fxrecon process (pid {})", first.id()));
    assert!(!dir.join("b.jsonl").exists(), "the refused run wrote nothing");
    let _ = first.kill();
    let _ = first.wait();
    // A lock held by a process that died (kill -9) blocks nobody: a restart recovers.
    let o = run_journaled(&p, &d, &dir.join("a.jsonl"), &journal).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = bin().args(["journal", "verify"]).arg(&journal).output().unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}

#[test]
fn an_archive_directory_keeps_the_segments_retention_lets_go_and_cannot_be_the_journal() {
    let tmp = scratch("archive");
    let dir = tmp.path();
    let (p, d) = write_day(dir, 3_000, 11);
    let (out, journal, archive) = (dir.join("out.jsonl"), dir.join("j"), dir.join("archive"));
    let cfg = dir.join("archive.toml");
    let write_cfg = |archive: &Path| {
        let body = format!(
            "snapshot_every = 2000\nsnapshots_kept = 1\n[journal]\nsegment_bytes = 65536\nretention_bytes = 65536\narchive_dir = {:?}\n",
            archive.display().to_string()
        );
        std::fs::write(&cfg, body).unwrap();
    };
    let run = || {
        let mut c = run_journaled(&p, &d, &out, &journal);
        c.arg("--config").arg(&cfg);
        c.output().unwrap()
    };
    write_cfg(&journal);
    std::fs::create_dir_all(&journal).unwrap();
    let refused = run();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("archive_dir"));
    assert!(!out.exists(), "nothing written before the checks pass");
    write_cfg(&archive);
    let ran = run();
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    let (_, first) = segment_bytes(&journal);
    assert!(first > 0, "segments were let go");
    // Every segment let go is in the archive, byte for byte what the journal wrote: the
    // archive and the journal together are the whole journal again.
    let archived: Vec<_> = std::fs::read_dir(&archive).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(archived.len() as u64, first, "segments 0..{first} archived");
    for seg in &archived {
        std::fs::copy(seg, journal.join(seg.file_name().unwrap())).unwrap();
    }
    let whole = bin().args(["replay", "--journal"]).arg(&journal).output().unwrap();
    assert!(whole.status.success(), "{}", String::from_utf8_lossy(&whole.stderr));
    assert_eq!(whole.stdout, std::fs::read(&out).unwrap(), "the whole day replays once the archive is back");
}

#[test]
fn concurrent_runs_on_one_journal_never_corrupt_it() {
    let tmp = scratch("race");
    let dir = tmp.path();
    // A tiny day: each run lasts a few milliseconds, so the two often overlap.
    let (p, d) = write_day(dir, 3, 5);
    let want = {
        let out = dir.join("want.jsonl");
        let o = reconcile(&p, &d).arg("--out").arg(&out).arg("--summary").arg("/dev/null").output().unwrap();
        assert!(o.status.success());
        std::fs::read(out).unwrap()
    };
    let rounds: usize = std::env::var("FXRECON_LOCK_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let mut refusals = 0;
    for round in 0..rounds {
        let journal = dir.join(format!("j{round}"));
        let spawn = |out: &str| {
            Reap(
                run_journaled(&p, &d, &dir.join(out), &journal)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            )
        };
        let (mut a, mut b) = (spawn("a.jsonl"), spawn("b.jsonl"));
        let (sa, sb) = (a.wait().unwrap(), b.wait().unwrap());
        for s in [sa, sb] {
            assert!(matches!(s.code(), Some(0) | Some(2)), "round {round}: {s:?}");
        }
        refusals += [sa, sb].iter().filter(|s| s.code() == Some(2)).count();
        assert!(sa.success() || sb.success(), "round {round}: one of them ran");
        let v = bin().args(["journal", "verify"]).arg(&journal).output().unwrap();
        assert!(v.status.success(), "round {round}: {}", String::from_utf8_lossy(&v.stdout));
        if round % 20 == 0 {
            let replayed = bin().args(["replay", "--journal"]).arg(&journal).output().unwrap();
            assert_eq!(replayed.stdout, want, "round {round}: the journal replays to the day's output");
        }
        let _ = std::fs::remove_dir_all(&journal);
    }
    assert!(rounds < 50 || refusals > 0, "in {rounds} rounds the two runs never overlapped: the test proves nothing");
}

#[test]
fn a_restart_on_a_different_day_is_refused_and_a_grown_one_continues() {
    let tmp = scratch("identity");
    let dir = tmp.path();
    let (p, d) = write_day(dir, 1_000, 6);
    let (out, journal) = (dir.join("out.jsonl"), dir.join("j"));
    let run = || run_journaled(&p, &d, &out, &journal).output().unwrap();
    let o = run();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Another, longer day under the same names looks like growth by size alone.
    let other = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders: 2_000, seed: 99, ..Default::default() });
    let saved = std::fs::read(&p).unwrap();
    std::fs::write(&p, &other.primary).unwrap();
    let out_before = digest(&out);
    let o = run();
    refused(&o, "primary input");
    assert!(String::from_utf8_lossy(&o.stderr).contains("differs in its first"));
    assert_eq!(digest(&out), out_before, "the refused restart touched no output");
    // The same day grown: the restart continues it, and agrees with replay (below).
    std::fs::write(&p, &saved).unwrap();
    let more =
        fxrecon_gen::parts(&fxrecon_gen::GenConfig { orders: 1_000, seed: 6, ..Default::default() }).nth(1).unwrap();
    let mut grown = saved.clone();
    grown.extend_from_slice(&more.primary);
    std::fs::write(&p, &grown).unwrap();
    let mut grown_d = std::fs::read(&d).unwrap();
    grown_d.extend_from_slice(&more.dropcopy);
    std::fs::write(&d, &grown_d).unwrap();
    let o = run();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A completed day over grown inputs continues as one day: output and replay agree.
    let replayed = bin().args(["replay", "--journal"]).arg(&journal).output().unwrap();
    assert!(replayed.status.success(), "{}", String::from_utf8_lossy(&replayed.stderr));
    assert_eq!(String::from_utf8(replayed.stdout).unwrap(), std::fs::read_to_string(&out).unwrap());
    assert!(std::fs::read_to_string(&out).unwrap().lines().count() > 10);
}

#[test]
fn a_run_killed_before_its_journal_had_a_run_header_restarts_afresh_instead_of_being_refused() {
    let tmp = scratch("unborn-journal");
    let dir = tmp.path();
    let (p, d) = write_day(dir, 400, 8);
    let run = |out: &Path, journal: &Path| run_journaled(&p, &d, out, journal).output().unwrap();
    let (want, journal) = (dir.join("want.jsonl"), dir.join("j"));
    let o = run(&want, &dir.join("reference"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // What a kill -9 between making the first segment and syncing the run header leaves: the
    // segment's own header and nothing else, no header copy.
    std::fs::create_dir_all(&journal).unwrap();
    let first = std::fs::read(dir.join("reference/journal-0000000000.seg")).unwrap();
    std::fs::write(journal.join("journal-0000000000.seg"), &first[..fxrecon_journal::segment::HEADER_LEN]).unwrap();
    let out = dir.join("out.jsonl");
    let o = run(&out, &journal);
    assert!(
        o.status.success(),
        "a journal with no record in it is started afresh: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&want).unwrap(), "the same output as an uninterrupted run");
    let replayed = bin().args(["replay", "--journal"]).arg(&journal).output().unwrap();
    assert!(replayed.status.success(), "{}", String::from_utf8_lossy(&replayed.stderr));
    assert_eq!(replayed.stdout, std::fs::read(&want).unwrap(), "and the journal replays to it");
}

#[test]
fn an_empty_input_is_a_warning_and_an_input_of_only_rejects_fails_the_run() {
    let tmp = scratch("empty");
    let dir = tmp.path();
    let (p, _) = write_day(dir, 100, 7);
    let empty = dir.join("empty.fix");
    std::fs::write(&empty, b"").unwrap();
    let rejects = dir.join("rejects.jsonl");
    let o = reconcile(&p, &empty)
        .arg("--out")
        .arg("/dev/null")
        .arg("--rejects")
        .arg(&rejects)
        .arg("--summary")
        .arg("/dev/null")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("input is empty"));
    assert_eq!(std::fs::read(&rejects).unwrap(), b"", "an empty input is no rejected message");
    let garbage = dir.join("garbage.fix");
    std::fs::write(&garbage, b"not fix\nstill not fix\n").unwrap();
    let o = reconcile(&p, &garbage)
        .arg("--out")
        .arg("/dev/null")
        .arg("--rejects")
        .arg(&rejects)
        .arg("--summary")
        .arg("/dev/null")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("every line of the dropcopy input (2 lines) was rejected"));
    assert_eq!(std::fs::read_to_string(&rejects).unwrap().lines().count(), 2);
    // The same file as both streams is allowed, with a warning.
    let o = reconcile(&p, &p).arg("--out").arg("/dev/null").arg("--summary").arg("/dev/null").output().unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("are the same file"));
}

/// `2026-11-25T10:15:00.123456Z` as the FIX timestamp `20261125-10:15:00.123456`.
fn fix_time(rfc3339: &str) -> String {
    let (date, time) = rfc3339.trim_end_matches('Z').split_once('T').unwrap();
    format!("{}-{time}", date.replace('-', ""))
}

#[test]
fn a_windowed_replay_starts_from_a_snapshot_and_gives_exactly_the_records_the_run_detected_in_it() {
    let tmp = scratch("window");
    let dir = tmp.path();
    let (p, d) = write_day(dir, 3_000, 8);
    let (out, journal) = (dir.join("out.jsonl"), dir.join("j"));
    let cfg = dir.join("snap.toml");
    std::fs::write(&cfg, "snapshot_every = 2000\nsnapshots_kept = 20\n").unwrap();
    let o = run_journaled(&p, &d, &out, &journal).arg("--config").arg(&cfg).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<String> = std::fs::read_to_string(&out).unwrap().lines().map(String::from).collect();
    let at =
        |l: &str| serde_json::from_str::<serde_json::Value>(l).unwrap()["detected_at"].as_str().unwrap().to_string();
    let (t1, t2) = (at(&lines[lines.len() * 3 / 10]), at(&lines[lines.len() * 7 / 10]));
    let want: Vec<&String> = lines.iter().filter(|l| (t1.as_str()..=t2.as_str()).contains(&at(l).as_str())).collect();
    assert!(want.len() > 10 && want.len() < lines.len());
    let r = bin()
        .args(["replay", "--journal"])
        .arg(&journal)
        .args(["--from", &fix_time(&t1), "--to", &fix_time(&t2)])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let got: Vec<String> = String::from_utf8(r.stdout).unwrap().lines().map(String::from).collect();
    assert_eq!(got.iter().collect::<Vec<_>>(), want, "exactly the run's records detected in the window");
    let stats: serde_json::Value =
        serde_json::from_slice(r.stderr.rsplit(|&b| b == b'\n').find(|l| !l.is_empty()).unwrap()).unwrap();
    assert!(stats["from_snapshot"].as_u64().is_some_and(|n| n > 0), "it started from a snapshot: {stats}");
    assert_eq!(stats["stopped_at_window_end"], true, "{stats}");
}

#[test]
fn a_salvage_keeps_every_earlier_backup_and_the_salvaged_journal_needs_no_salvage_again() {
    let tmp = scratch("salvage");
    let dir = tmp.path();
    let (p, d) = write_day(dir, 1_000, 9);
    let (out, journal) = (dir.join("out.jsonl"), dir.join("j"));
    let run = |salvage: bool| {
        let mut c = run_journaled(&p, &d, &out, &journal);
        if salvage {
            c.arg("--salvage");
        }
        c.output().unwrap()
    };
    assert!(run(false).status.success());
    // Damage a byte in the middle of the journal's first segment.
    let damage = |at_fraction: f64| {
        let seg = std::fs::read_dir(&journal)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "seg"))
            .min()
            .unwrap();
        let mut bytes = std::fs::read(&seg).unwrap();
        let i = (bytes.len() as f64 * at_fraction) as usize;
        bytes[i] ^= 0xff;
        std::fs::write(&seg, bytes).unwrap();
    };
    damage(0.5);
    let o = run(false);
    assert_eq!(o.status.code(), Some(2), "damage stops recovery unless salvaging");
    for round in 0..2 {
        let o = run(true);
        assert!(o.status.success(), "round {round}: {}", String::from_utf8_lossy(&o.stderr));
    }
    assert!(dir.join("out.jsonl.before-salvage").exists());
    assert!(dir.join("out.jsonl.before-salvage.1").exists(), "the first backup was kept, not overwritten");
    // From now on the journal is clean: a restart and journal verify need no --salvage.
    let o = run(false);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = bin().args(["journal", "verify"]).arg(&journal).output().unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}

/// Bytes of the journal's segment files.
fn segment_bytes(journal: &Path) -> (u64, u64) {
    let segs: Vec<(String, u64)> = std::fs::read_dir(journal)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".seg"))
        .map(|e| (e.file_name().to_string_lossy().to_string(), e.metadata().unwrap().len()))
        .collect();
    let first: u64 = segs.iter().map(|(n, _)| n[8..18].parse::<u64>().unwrap()).min().unwrap();
    (segs.iter().map(|(_, b)| b).sum(), first)
}

#[test]
fn retention_keeps_the_journal_under_its_budget_and_restarts_and_replays_still_agree() {
    let tmp = scratch("retention");
    let dir = tmp.path();
    let (p, d) = write_day(dir, 6_000, 10);
    let want = {
        let out = dir.join("want.jsonl");
        assert!(reconcile(&p, &d).arg("--out").arg(&out).arg("--summary").arg("/dev/null").status().unwrap().success());
        std::fs::read(out).unwrap()
    };
    let cfg = dir.join("retention.toml");
    std::fs::write(
        &cfg,
        "snapshot_every = 3000\nsnapshots_kept = 2\n[journal]\nsegment_bytes = 65536\nretention_bytes = 300000\n",
    )
    .unwrap();
    let (out, journal) = (dir.join("out.jsonl"), dir.join("j"));
    let start = |paced: bool| {
        let mut c = run_journaled(&p, &d, &out, &journal);
        c.arg("--config").arg(&cfg);
        if paced {
            c.args(["--pace", "20000", "--clock", "file"]);
        }
        Reap(c.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap())
    };
    // Killed a few times on the way (kill -9), then left to finish.
    for i in 0..4 {
        let mut child = start(true);
        std::thread::sleep(std::time::Duration::from_millis(400 + 150 * i));
        let _ = child.kill();
        let _ = child.wait();
    }
    let last = run_journaled(&p, &d, &out, &journal).arg("--config").arg(&cfg).output().unwrap();
    assert!(last.status.success(), "{}", String::from_utf8_lossy(&last.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), want, "the output is one uninterrupted run's");
    let (bytes, first) = segment_bytes(&journal);
    // What a restart may still need — from the oldest of the two snapshots kept (3,000
    // messages apart) on, at about 350 bytes a message — stays beside the budget.
    assert!(bytes <= 300_000 + 2 * 3_000 * 400 + 65_536, "{bytes} bytes of segments");
    assert!(bytes < 6_000 * 9 * 300, "far less than the whole day's journal");
    assert!(first > 0, "segments no restart needs were let go");
    // The header's copy keeps the journal readable; a replay starts at the oldest snapshot
    // the kept segments cover, and gives the rest of the day's records.
    let r = bin().args(["replay", "--journal"]).arg(&journal).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(!r.stdout.is_empty() && want.ends_with(&r.stdout), "the replay is the end of the day's output");
    let v = bin().args(["journal", "verify"]).arg(&journal).output().unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    // A window before what was kept cannot be replayed: said, not silently shortened.
    let early =
        bin().args(["replay", "--journal"]).arg(&journal).args(["--from", "20000101-00:00:00"]).output().unwrap();
    assert!(!early.status.success() && early.stdout.is_empty());
    assert!(String::from_utf8_lossy(&early.stderr).contains("retention"), "{}", String::from_utf8_lossy(&early.stderr));
}

#[test]
fn kill_9_at_twenty_points_while_the_inputs_grow_ends_as_one_uninterrupted_run_and_as_replay() {
    let tmp = scratch("grow");
    let dir = tmp.path();
    let cfg = fxrecon_gen::GenConfig { orders: 1_500, seed: 12, ..Default::default() };
    let parts: Vec<_> = fxrecon_gen::parts(&cfg).take(6).collect();
    let (p, d) = (dir.join("primary.fix"), dir.join("dropcopy.fix"));
    let (mut all_p, mut all_d) = (Vec::new(), Vec::new());
    for part in &parts {
        all_p.extend_from_slice(&part.primary);
        all_d.extend_from_slice(&part.dropcopy);
    }
    let (full_p, full_d) = (dir.join("full-primary.fix"), dir.join("full-dropcopy.fix"));
    std::fs::write(&full_p, &all_p).unwrap();
    std::fs::write(&full_d, &all_d).unwrap();
    let want = {
        let out = dir.join("want.jsonl");
        assert!(
            reconcile(&full_p, &full_d)
                .arg("--out")
                .arg(&out)
                .arg("--summary")
                .arg("/dev/null")
                .status()
                .unwrap()
                .success()
        );
        std::fs::read(out).unwrap()
    };
    std::fs::write(&p, &parts[0].primary).unwrap();
    std::fs::write(&d, &parts[0].dropcopy).unwrap();
    let snap = dir.join("snap.toml");
    std::fs::write(&snap, "snapshot_every = 2500\n").unwrap();
    let (out, journal) = (dir.join("out.jsonl"), dir.join("j"));
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut grown = 1;
    for restart in 0..22 {
        // Paced so that no run reaches the end of what it has been given before its kill.
        let mut child = Reap(
            run_journaled(&p, &d, &out, &journal)
                .arg("--config")
                .arg(&snap)
                .args(["--pace", "6000", "--clock", "file"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(std::time::Duration::from_millis(150 + seed % 500));
        let _ = child.kill();
        let _ = child.wait();
        // Every fourth restart, the inputs grow by the next part of the day.
        if restart % 4 == 3 && grown < parts.len() {
            let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
            std::io::Write::write_all(&mut f, &parts[grown].primary).unwrap();
            let mut f = std::fs::OpenOptions::new().append(true).open(&d).unwrap();
            std::io::Write::write_all(&mut f, &parts[grown].dropcopy).unwrap();
            grown += 1;
        }
    }
    for part in &parts[grown..] {
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        std::io::Write::write_all(&mut f, &part.primary).unwrap();
        let mut f = std::fs::OpenOptions::new().append(true).open(&d).unwrap();
        std::io::Write::write_all(&mut f, &part.dropcopy).unwrap();
    }
    let last = run_journaled(&p, &d, &out, &journal).arg("--config").arg(&snap).output().unwrap();
    assert!(last.status.success(), "{}", String::from_utf8_lossy(&last.stderr));
    let got = std::fs::read_to_string(&out).unwrap();
    assert_eq!(got, String::from_utf8(want).unwrap(), "one uninterrupted run's output");
    let r = bin().args(["replay", "--journal"]).arg(&journal).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(String::from_utf8(r.stdout).unwrap(), got, "and replay's");
}
