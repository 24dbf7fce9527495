//! The `fxrecon` binary end to end: exit codes, one-line errors, files written.

mod common;
use common::{bin, scratch, write_day};
use std::process::Command;

#[test]
fn missing_input_file_exits_2_with_one_clear_line() {
    let out = bin()
        .args(["reconcile", "--primary", "/nonexistent/p.fix", "--dropcopy", "/nonexistent/d.fix"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot open primary input /nonexistent/p.fix"), "{err}");
}

#[test]
fn bad_flag_and_bad_config_exit_2() {
    let out = bin().args(["reconcile", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));

    let tmp = scratch("cfg");
    let dir = tmp.path();
    let cfg = dir.join("bad.toml");
    std::fs::write(&cfg, "grace_ms = \"soon\"\n").unwrap();
    let f = dir.join("empty.fix");
    std::fs::write(&f, "").unwrap();
    let out = bin()
        .args(["reconcile", "--primary", f.to_str().unwrap(), "--dropcopy", f.to_str().unwrap(), "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("invalid config file"), "{err}");

    let out = bin()
        .args(["reconcile", "--primary", f.to_str().unwrap(), "--dropcopy", f.to_str().unwrap(), "--grace-ms", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("grace_ms must be > 0"));

    let out = bin().args(["gen", "--scenario", "nonsense", "--out-dir"]).arg(dir).output().unwrap();
    assert_eq!(out.status.code(), Some(2));

    let out = bin()
        .args(["run", "--primary", f.to_str().unwrap(), "--dropcopy", f.to_str().unwrap(), "--out", "/dev/null"])
        .args(["--threading", "triple"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("unknown threading mode \"triple\""));
}

#[test]
fn a_bad_fix_session_in_the_config_exits_2_with_one_line_and_writes_nothing() {
    let tmp = scratch("cfg-session");
    let dir = tmp.path();
    let f = dir.join("primary.fix");
    std::fs::write(&f, "").unwrap();
    let session =
        "[[session]]\nstream = \"dropcopy\"\nport = 9\nsender_comp_id = \"FIRMDC\"\ntarget_comp_id = \"VENUE\"\n";
    for (extra, flags, says) in [
        ("tls = true\n", &[][..], "tls is not supported"),
        ("colour = \"red\"\n", &[], "unknown field `colour`"),
        ("role = \"both\"\n", &[], "unknown variant `both`"),
        ("heartbeat_s = 0\n", &[], "heartbeat_s must be > 0"),
        ("username = \"u\"\npassword_env = \"FXRECON_TEST_NO_SUCH_VAR\"\n", &[], "FXRECON_TEST_NO_SUCH_VAR is not set"),
        ("start_time = \"25:00:00\"\nend_time = \"17:00:00\"\n", &[], "is not HH:MM:SS"),
        (session, &[], "two [[session]] tables have these CompIDs"),
        ("", &["--dropcopy", "/dev/null"], "both the FIX session FIRMDC->VENUE"),
    ] {
        let cfg = dir.join("bad.toml");
        std::fs::write(&cfg, format!("{session}{extra}")).unwrap();
        let out = dir.join("out.jsonl");
        let o = bin()
            .args(["run", "--api", "off", "--primary"])
            .arg(&f)
            .args(flags)
            .arg("--config")
            .arg(&cfg)
            .arg("--out")
            .arg(&out)
            .arg("--state-dir")
            .arg(dir.join("state"))
            .output()
            .unwrap();
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(o.status.code(), Some(2), "{extra}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{extra}: {err}");
        assert!(!out.exists() && !dir.join("state").exists(), "nothing written before the checks pass");
    }
}

#[test]
fn the_fix_session_example_config_is_accepted() {
    let cfg = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/fix-sessions.toml");
    let o = bin()
        .args(["run", "--api", "off", "--check-config", "--out", "/dev/null", "--config"])
        .arg(&cfg)
        .env("FXRECON_EBSDC_PASSWORD", "secret")
        .output()
        .unwrap();
    let said = String::from_utf8(o.stdout).unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(said.contains("primary:  FIX session FIRM->FXGW1 (Acceptor on 0.0.0.0:9880"), "{said}");
    assert!(said.contains("dropcopy: FIX session FIRMDC->EBSDC (Initiator to"), "{said}");
    assert!(said.contains("clock Ingest"), "a session's receive stamp is its event time: {said}");
    assert!(!said.contains("secret"), "the password is never shown");
}

#[test]
fn gen_then_reconcile_matches_ground_truth_and_is_byte_stable() {
    let tmp = scratch("gen");
    let dir = tmp.path();
    let status = bin()
        .args(["gen", "--orders", "300", "--seed", "5", "--scenario", "mixed", "--fault-rate", "0.05", "--out-dir"])
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
    let run = |out: &str| {
        let o = bin()
            .args(["reconcile", "--primary"])
            .arg(dir.join("primary.fix"))
            .arg("--dropcopy")
            .arg(dir.join("dropcopy.fix"))
            .arg("--out")
            .arg(dir.join(out))
            .arg("--rejects")
            .arg(dir.join("rejects.jsonl"))
            .arg("--summary")
            .arg(dir.join("summary.json"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(dir.join(out)).unwrap()
    };
    let first = run("out1.jsonl");
    let second = run("out2.jsonl");
    assert_eq!(first, second, "two runs must give identical bytes");
    assert_eq!(std::fs::read(dir.join("rejects.jsonl")).unwrap(), b"");

    let keys = |text: &str| -> std::collections::BTreeSet<_> {
        text.lines().filter_map(|l| fxrecon_engine::ground_truth::Finding::of_json_line(l).unwrap()).collect()
    };
    let expected = keys(&std::fs::read_to_string(dir.join("expected.jsonl")).unwrap());
    let detected = keys(&String::from_utf8(first).unwrap());
    assert!(!expected.is_empty());
    assert_eq!(detected, expected);

    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    assert!(summary["messages_read"]["primary"].as_u64().unwrap() > 300);
}

#[test]
fn demo_runs_over_aeron_and_reports_no_miss_and_its_latency() {
    // The README's first command: an embedded media driver, two publishers, the pipeline.
    let out = bin().args(["demo", "--orders", "2000", "--rate", "50000"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("reconciled over Aeron IPC"), "{text}");
    assert!(text.contains("missed 0, false alarms 0"), "{text}");
    assert!(text.contains("MissingFill"));
    let lat = text.lines().find(|l| l.contains("ingest-to-detection latency over")).expect(&text);
    let records: usize = lat.split_whitespace().nth(3).and_then(|n| n.parse().ok()).expect(lat);
    assert!(records > 10, "{lat}");
    for p in ["p50", "p99", "p99.9", "max"] {
        assert!(lat.contains(&format!("{p} ")), "{lat}");
    }
}

#[test]
fn demo_in_memory_gives_the_same_table() {
    let run = |extra: &[&str]| {
        let out = bin().args(["demo", "--orders", "1500", "--seed", "3"]).args(extra).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        // The per-type table: the lines between the header and the blank line after it.
        let table: Vec<String> = text
            .lines()
            .skip_while(|l| !l.contains("injected"))
            .take_while(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect();
        assert!(table.len() > 3, "{text}");
        table
    };
    assert_eq!(run(&["--in-memory"]), run(&[]));
}

#[test]
fn bad_lines_go_to_rejects_with_line_numbers_and_exit_0() {
    let tmp = scratch("bad");
    let dir = tmp.path();
    let good = "20261125-10:00:00.000000 : 8=FIX.4.4|35=8|34=1|49=GW|56=FIRM|11=A|37=V|17=E1|150=0|39=0|55=EUR/USD|38=100|14=0|151=100|6=0";
    let dc = good.replace("49=GW", "49=VENUE");
    let primary =
        format!("{good}\nnot fix at all\n8=FIX.4.4|35=8|11=B|17=E|150=0|39=0|38=abc\n{}\n", "x".repeat(1 << 20));
    std::fs::write(dir.join("p.fix"), primary).unwrap();
    std::fs::write(dir.join("d.fix"), format!("{dc}\n")).unwrap();
    for mode in [None, Some("--single-thread")] {
        let o = bin()
            .arg("reconcile")
            .args(mode)
            .arg("--primary")
            .arg(dir.join("p.fix"))
            .arg("--dropcopy")
            .arg(dir.join("d.fix"))
            .arg("--rejects")
            .arg(dir.join("rejects.jsonl"))
            .arg("--out")
            .arg(dir.join("out.jsonl"))
            .arg("--summary")
            .arg(dir.join("summary.json"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        let rejects = std::fs::read_to_string(dir.join("rejects.jsonl")).unwrap();
        let lines: Vec<serde_json::Value> = rejects.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let got: Vec<(u64, String)> =
            lines.iter().map(|v| (v["line"].as_u64().unwrap(), v["reason"].as_str().unwrap().to_string())).collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].0, 2);
        assert!(got[0].1.contains("BeginString"));
        assert_eq!(got[1].0, 3);
        assert!(got[1].1.contains("tag 38"));
        assert_eq!(got[2].0, 4);
        assert!(got[2].1.contains("max_message_bytes"));
        assert!(lines.iter().all(|v| v["stream"] == "primary" && v["excerpt"].as_str().unwrap().len() <= 120));
        // The good order reconciled: both streams agree, nothing to report.
        assert_eq!(std::fs::read_to_string(dir.join("out.jsonl")).unwrap(), "");
    }
}

#[test]
fn bench_quick_json_has_every_key_as_a_number() {
    let tmp = scratch("bench");
    let dir = tmp.path();
    let o = bin().args(["bench", "--quick", "--json", "--orders", "1500", "--out-dir"]).arg(dir).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for key in [
        "decode_msgs_per_s",
        "reconcile_msgs_per_s",
        "decode_reconcile_msgs_per_s",
        "pipeline_msgs_per_s",
        "ring_baseline_msgs_per_s",
        "baseline_decoder_msgs_per_s",
        "allocations_after_warmup",
    ] {
        assert!(v[key].is_number(), "{key} missing or not a number: {v}");
    }
    assert!(v["baseline_decoder"].is_string());
    assert_eq!(v["allocations_after_warmup"], 0);
    // The journal keeps each message's raw bytes (QuickFIX lines of 200+ bytes) plus framing,
    // and the disk baseline beside it measured something.
    let per_msg = v["journal_bytes_per_msg"].as_f64().unwrap();
    assert!(per_msg > 200.0 && per_msg < 1000.0, "journal_bytes_per_msg {per_msg}");
    assert!(v["disk_sync_mb_per_s"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["journal_disk_ceiling_msgs_per_s"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["pipeline_journaled_buffered_msgs_per_s"].as_f64().unwrap() > 0.0, "{v}");
    for rate in ["100000", "500000", "1000000"] {
        for q in ["p50", "p99", "p999", "max"] {
            assert!(v["latency_us"][rate][q].is_number(), "latency_us.{rate}.{q}: {v}");
        }
        // The host's floor, probed before the run, beside it.
        for q in ["host_p99", "host_p999"] {
            assert!(v["latency_us"][rate][q].is_number(), "latency_us.{rate}.{q}: {v}");
        }
    }
    // The ladder's rate re-run (quick mode: over the corpus as is, no 10 s target). A debug
    // build on a loaded machine may sustain no rung at all: then there is nothing to re-run.
    let sustained = &v["sustained"];
    assert_eq!(sustained["target_s"].as_f64(), Some(0.0), "{sustained}");
    let ladder = v["max_sustainable_msgs_per_s"].as_f64().unwrap();
    assert!(sustained["msgs_per_s"].as_f64().unwrap() <= ladder, "{v}");
    let tries = sustained["tries"].as_array().unwrap();
    assert_eq!(tries.is_empty(), ladder == 0.0, "{v}");
    if let Some(first) = tries.first() {
        assert_eq!(first["offered"].as_f64(), Some(ladder), "tries start at the ladder's rate: {v}");
    }
    // One probe per reported rate, each as long as its run (1,500 orders: well under 2 s).
    let host = &v["host_jitter_us"];
    assert!(host["threads"].as_u64().unwrap() >= 2, "{host}");
    assert!(host["probed_s"].as_f64().unwrap() > 0.0, "{host}");
    assert!(host["p999"].as_u64().unwrap() <= host["max"].as_u64().unwrap(), "{host}");
    assert!(std::fs::read_to_string(dir.join("latency-cdf.svg")).unwrap().starts_with("<svg"));
}

#[test]
fn a_journaled_paced_bench_run_reports_latency_and_leaves_no_journal_behind() {
    let tmp = scratch("paced");
    let dir = tmp.path();
    let o = bin().args(["bench", "--journaled"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "--journaled needs --paced");
    let o = bin()
        .args(["bench", "--paced", "200000", "--journaled", "--orders", "1500", "--out-dir"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["journaled"], true, "{v}");
    assert!(v["latency_us"]["count"].as_u64().unwrap() > 0, "divergences were timed: {v}");
    assert!(v["latency_us"]["p99"].is_number(), "{v}");
    assert!(v["latency_us"]["host_p999"].is_number(), "{v}");
    assert!(v["achieved"].as_f64().unwrap() > 0.0, "{v}");
    let left: Vec<_> = std::fs::read_dir(dir).unwrap().collect();
    assert!(left.is_empty(), "the journal directory is removed: {left:?}");
}

#[test]
fn aeron_latency_bench_reports_each_round_beside_the_host_floor_and_their_medians() {
    let o = bin().args(["bench", "--rounds", "2"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "--rounds needs --aeron-latency");
    let o = bin().args(["bench", "--aeron-latency", "50000", "--rounds", "2", "--orders", "1500"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows: Vec<serde_json::Value> =
        String::from_utf8(o.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 3, "two rounds and the summary: {rows:?}");
    for (i, r) in rows[..2].iter().enumerate() {
        assert_eq!(r["round"], i as u64 + 1, "{r}");
        assert!(r["records"].as_u64().unwrap() > 10, "divergences were timed: {r}");
        let (p50, p99, p999) =
            (r["p50_us"].as_u64().unwrap(), r["p99_us"].as_u64().unwrap(), r["p999_us"].as_u64().unwrap());
        assert!(p50 <= p99 && p99 <= p999, "{r}");
        assert!(r["host_p99_us"].is_u64() && r["host_p999_us"].is_u64(), "{r}");
        assert!(r["meets_target"].is_boolean(), "{r}");
    }
    let s = &rows[2];
    assert_eq!(s["median_of"], 2, "{s}");
    let medians: Vec<u64> = rows[..2].iter().map(|r| r["p99_us"].as_u64().unwrap()).collect();
    assert!(s["p99_us"].as_u64().unwrap() == *medians.iter().max().unwrap(), "the upper median of two: {s}");
    assert_eq!(s["target_us"]["p99"], 5000);
}

#[test]
fn bench_files_times_decode_and_reconcile_on_a_given_day() {
    let tmp = scratch("bench-files");
    let dir = tmp.path();
    let status = bin().args(["gen", "--orders", "300", "--seed", "4", "--out-dir"]).arg(dir).status().unwrap();
    assert!(status.success());
    let o = bin().args(["bench", "--json", "--runs", "3", "--files"]).arg(dir).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let lines = |f: &str| std::fs::read(dir.join(f)).unwrap().iter().filter(|&&b| b == b'\n').count() as u64;
    assert_eq!(v["messages"].as_u64(), Some(lines("primary.fix") + lines("dropcopy.fix")), "{v}");
    assert_eq!(v["runs"], 3, "{v}");
    let r = &v["decode_reconcile_1t"];
    let (min, median, max) = (r["min"].as_f64().unwrap(), r["median"].as_f64().unwrap(), r["max"].as_f64().unwrap());
    assert!(0.0 < min && min <= median && median <= max, "{v}");
    // A directory without the day: one line on stderr, exit 2, nothing on stdout.
    let o = bin().args(["bench", "--files"]).arg(dir.join("nope")).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("primary.fix") && err.trim().lines().count() == 1, "{err}");
}

#[test]
fn replay_of_a_journal_is_byte_identical_and_reports_the_same_state_digest() {
    let tmp = scratch("journal");
    let dir = tmp.path();
    let status = bin().args(["gen", "--orders", "400", "--seed", "9", "--out-dir"]).arg(dir).status().unwrap();
    assert!(status.success());
    let journal = dir.join("journal");
    let o = bin()
        .arg("reconcile")
        .arg("--primary")
        .arg(dir.join("primary.fix"))
        .arg("--dropcopy")
        .arg(dir.join("dropcopy.fix"))
        .arg("--out")
        .arg(dir.join("live.jsonl"))
        .arg("--summary")
        .arg(dir.join("summary.json"))
        .arg("--journal")
        .arg(&journal)
        .args(["--fsync", "every_batch"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    let live_digest = summary["state_digest"].as_str().unwrap().to_string();

    let o =
        bin().args(["replay", "--journal"]).arg(&journal).arg("--out").arg(dir.join("replay.jsonl")).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stderr).unwrap();
    assert_eq!(report["state_digest"].as_str().unwrap(), live_digest);
    let live = std::fs::read(dir.join("live.jsonl")).unwrap();
    assert!(!live.is_empty());
    assert_eq!(std::fs::read(dir.join("replay.jsonl")).unwrap(), live);

    let o = bin().args(["journal", "verify"]).arg(&journal).output().unwrap();
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["records"].as_u64().unwrap() > 1000);
    assert!(v["torn_tail"].is_null());

    // A bit flipped in the middle of the journal: verify and replay stop with segment and offset.
    let seg = journal.join("journal-0000000000.seg");
    let mut bytes = std::fs::read(&seg).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    std::fs::write(&seg, bytes).unwrap();
    let o = bin().args(["journal", "verify"]).arg(&journal).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("journal corrupt in segment journal-0000000000.seg at offset"), "{err}");
    let o = bin().args(["journal", "verify", "--salvage"]).arg(&journal).output().unwrap();
    assert!(o.status.success());
}

#[test]
fn a_paced_run_keeps_the_streams_level_and_reports_the_days_own_divergences() {
    // The day has about 20% more primary than drop-copy messages. Paced at half the rate each,
    // the drop copy ran a second ahead by the end and the run reported 5,636 records, against
    // 83 from the same files on their own clock (D40). At its share of the lines, each stream
    // keeps level with the other.
    let tmp = scratch("paced-run");
    let dir = tmp.path();
    let status = bin().args(["gen", "--orders", "3000", "--seed", "5", "--out-dir"]).arg(dir).status().unwrap();
    assert!(status.success());
    let (p, d) = (dir.join("primary.fix"), dir.join("dropcopy.fix"));
    let lines = |f: &std::path::Path| std::fs::read_to_string(f).unwrap().lines().count();
    // `fxrecon SUBCOMMAND` on the day's two inputs, writing `out`.
    let on_day = |subcommand: &str, out: &str, extra: &[&str]| {
        let out = dir.join(out);
        let o = bin()
            .arg(subcommand)
            .arg("--primary")
            .arg(&p)
            .arg("--dropcopy")
            .arg(&d)
            .arg("--out")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{subcommand}: {}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let reference = on_day("reconcile", "reference.jsonl", &[]);
    let paced = on_day("run", "paced.jsonl", &["--pace", "10000"]);
    let (want, got) = (lines(&reference), lines(&paced));
    assert!(want > 0);
    assert!(got <= 2 * want, "a paced run reported {got} records against {want} on the files' own clock");
}

#[test]
fn a_small_day_reconciles_in_a_small_address_space() {
    // The state memory is sized from the input and reserved, not touched: a small day needs
    // a small address space, to the end of the run. Until D130 the reconciler agent built a
    // default-sized empty reconciler (2.5 GB of retired memory reserved) at the end of every
    // run, so under a 1 GB `ulimit -v` the run aborted after writing its output.
    let tmp = scratch("small-as");
    let dir = tmp.path();
    let (p, d) = write_day(dir, 300, 5);
    let run = |tag: &str, single: bool, limit_kb: Option<u64>| {
        let out = dir.join(format!("{tag}.jsonl"));
        let mut c = match limit_kb {
            Some(kb) => {
                let mut c = Command::new("bash");
                c.arg("-c").arg(format!("ulimit -v {kb} && exec \"$0\" \"$@\"")).arg(env!("CARGO_BIN_EXE_fxrecon"));
                c
            }
            None => bin(),
        };
        c.arg("reconcile").arg("--primary").arg(&p).arg("--dropcopy").arg(&d).arg("--out").arg(&out);
        c.arg("--rejects")
            .arg(dir.join(format!("{tag}.rejects")))
            .arg("--summary")
            .arg(dir.join(format!("{tag}.summary")));
        if single {
            c.arg("--single-thread");
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{tag}: {}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(out).unwrap()
    };
    for single in [true, false] {
        let free = run(&format!("free-{single}"), single, None);
        let small = run(&format!("small-{single}"), single, Some(512 * 1024));
        assert!(!free.is_empty());
        assert_eq!(free, small, "single-thread {single}: the same output in 512 MB");
    }
}
