//! The query API of `fxrecon run` over a real socket (issue 25): a daemon follows a generated
//! day; its orders' views agree with the generator's ground truth, the divergence filters give
//! exactly the subsets the JSON Lines output implies, `/metrics` parses and counts what the
//! output holds, bad requests get a JSON 400/404/401, and off loopback it needs a token.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Reap, bin, bound_addr, chromium, scratch};
use serde_json::Value;

/// One GET over a fresh connection (the CLI's own client): status and body.
fn get(addr: &str, path: &str, token: Option<&str>) -> (u16, String) {
    fxrecon_api::client::get(addr, path, token).unwrap()
}

fn get_json(addr: &str, path: &str, token: Option<&str>) -> (u16, Value) {
    let (status, body) = get(addr, path, token);
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")))
}

/// Records of the JSON Lines output once the daemon consumed everything and the output and
/// the API hold the same number of records.
fn settled(addr: &str, out: &Path, token: Option<&str>) -> Vec<Value> {
    let t0 = Instant::now();
    let mut last = (u64::MAX, usize::MAX);
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let (_, ready) = get_json(addr, "/readyz", token);
        let events = ready["events"].as_u64().unwrap();
        let text = std::fs::read_to_string(out).unwrap_or_default();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let (_, all) = get_json(addr, "/v1/divergences", token);
        let api_div = all["count"].as_u64().unwrap() as usize;
        let file_div = lines.iter().filter(|v| is_divergence(v)).count();
        if (events, lines.len()) == last && api_div == file_div && events > 0 {
            return lines;
        }
        last = (events, lines.len());
        assert!(t0.elapsed() < Duration::from_secs(60), "the daemon never settled: {ready}");
    }
}

fn is_divergence(v: &Value) -> bool {
    !["SequenceGap", "Resolved", "CapacityExhausted"].contains(&v["type"].as_str().unwrap())
}

fn ids(v: &Value) -> BTreeSet<u64> {
    v["divergences"].as_array().unwrap().iter().map(|d| d["id"].as_u64().unwrap()).collect()
}

fn term(child: &Reap) {
    assert!(Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap().success());
}

/// The OrderID the primary file gives the order whose ClOrdID is `cl`.
fn order_id_of(primary: &[u8], cl: &str) -> Option<String> {
    let text = String::from_utf8_lossy(primary);
    let tag = format!("\x0111={cl}\x01");
    text.lines().filter(|l| l.contains(&tag)).find_map(|l| {
        l.split('\x01')
            .find_map(|f| f.strip_prefix("37="))
            .filter(|v| !v.is_empty() && *v != "NONE")
            .map(str::to_string)
    })
}

#[test]
fn api_answers_from_a_running_daemon() {
    let dir = scratch("api");
    let day =
        fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders: 400, seed: 25, fault_rate: 0.1, ..Default::default() });
    let (p, d) = (dir.path().join("primary.fix"), dir.path().join("dropcopy.fix"));
    std::fs::write(&p, &day.primary).unwrap();
    std::fs::write(&d, &day.dropcopy).unwrap();
    let (out, addr_file) = (dir.path().join("out.jsonl"), dir.path().join("api.addr"));
    // Finished orders retire soon after grace, so that the day has retired orders to ask for.
    let cfg = dir.path().join("fxrecon.toml");
    std::fs::write(&cfg, "retention_ms = 2000\n").unwrap();
    let child = Reap(
        bin()
            .args(["run", "--follow", "--api", "127.0.0.1:0", "--threading", "shared", "--config"])
            .arg(&cfg)
            .arg("--primary")
            .arg(&p)
            .arg("--dropcopy")
            .arg(&d)
            .arg("--out")
            .arg(&out)
            .arg("--api-addr-file")
            .arg(&addr_file)
            .stderr(Stdio::null())
            .env_remove("FXRECON_API_TOKEN")
            .spawn()
            .unwrap(),
    );
    let addr = bound_addr(&addr_file);
    let lines = settled(&addr, &out, None);
    let divs: Vec<&Value> = lines.iter().filter(|v| is_divergence(v)).collect();
    assert!(divs.len() > 10, "a faulty day gives divergences: {}", divs.len());

    // Filters: exactly the subsets the output implies.
    let resolved: BTreeSet<u64> =
        lines.iter().filter(|v| v["type"] == "Resolved").map(|v| v["resolves"].as_u64().unwrap()).collect();
    let expect = |f: &dyn Fn(&Value) -> bool| -> BTreeSet<u64> {
        divs.iter().filter(|v| f(v)).map(|v| v["id"].as_u64().unwrap()).collect()
    };
    let types: BTreeSet<&str> = divs.iter().map(|v| v["type"].as_str().unwrap()).collect();
    let venues: BTreeSet<&str> = divs.iter().map(|v| v["venue"].as_str().unwrap()).collect();
    assert!(types.len() >= 2 && venues.len() >= 2, "{types:?} {venues:?}");
    for t in &types {
        let (s, v) = get_json(&addr, &format!("/v1/divergences?type={t}"), None);
        assert_eq!(s, 200);
        assert_eq!(ids(&v), expect(&|d| d["type"] == *t), "type={t}");
        for venue in &venues {
            let (_, v) = get_json(&addr, &format!("/v1/divergences?type={t}&venue={venue}"), None);
            assert_eq!(ids(&v), expect(&|d| d["type"] == *t && d["venue"] == *venue), "type={t} venue={venue}");
        }
    }
    let (_, open) = get_json(&addr, "/v1/divergences?open=true", None);
    assert_eq!(ids(&open), expect(&|d| !resolved.contains(&d["id"].as_u64().unwrap())));
    let (_, closed) = get_json(&addr, "/v1/divergences?open=false", None);
    assert_eq!(ids(&closed), expect(&|d| resolved.contains(&d["id"].as_u64().unwrap())));
    let times: Vec<&str> = divs.iter().map(|v| v["detected_at"].as_str().unwrap()).collect();
    let (from, to) = (times[times.len() / 4], times[3 * times.len() / 4]);
    let (_, window) = get_json(&addr, &format!("/v1/divergences?from={from}&to={to}"), None);
    let want = expect(&|d| (from..to).contains(&d["detected_at"].as_str().unwrap()));
    assert!(!want.is_empty() && want.len() < divs.len());
    assert_eq!(ids(&window), want);
    let gaps_in_file = lines.iter().filter(|v| v["type"] == "SequenceGap").count();
    let (_, gaps) = get_json(&addr, "/v1/gaps", None);
    assert_eq!(gaps["gaps"].as_array().unwrap().len(), gaps_in_file);

    // Orders: both views as the ground truth says, by ClOrdID and by OrderID, live or retired
    // (a retired order answers from its retired record, contract 2.2).
    let mut checked = [0, 0];
    for e in &day.expected {
        let fxrecon_gen::Expected::Order { order_id, kind, side: Some(side), .. } = e else { continue };
        if !["PhantomOrder", "MissingFill"].contains(kind) {
            continue;
        }
        let (s, o) = get_json(&addr, &format!("/v1/orders/{order_id}"), None);
        assert_eq!(s, 200, "{order_id}: {o}");
        let other = if *side == "primary" { "dropcopy" } else { "primary" };
        if *kind == "PhantomOrder" {
            // Seen on `side` only.
            assert!(!o[*side].is_null() && o[other].is_null(), "{order_id}: {o}");
        } else {
            // A fill missing on `side` of an order both streams report (a later report may
            // still carry its CumQty, so only the views' presence is certain).
            assert!(!o["primary"].is_null() && !o["dropcopy"].is_null(), "{order_id}: {o}");
        }
        assert_eq!(o["order_id"], order_id.as_str());
        if let Some(oid) = order_id_of(&day.primary, order_id) {
            let (s, by_oid) = get_json(&addr, &format!("/v1/orders/{oid}"), None);
            assert_eq!(s, 200);
            assert_eq!(by_oid["order_id"], order_id.as_str(), "OrderID {oid}");
        }
        let listed = expect(&|d| d["order_id"] == order_id.as_str());
        let got: BTreeSet<u64> = o["divergences"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| is_divergence(d))
            .map(|d| d["id"].as_u64().unwrap())
            .collect();
        assert_eq!(got, listed, "{order_id}");
        checked[usize::from(o["retired"] == true)] += 1;
    }
    assert!(checked[0] + checked[1] >= 5, "sampled {checked:?} orders");
    // Every order of the day answers (none is a 404), the retired ones from their record: a
    // clean order's two views agree (status and quantities) as the ground truth says.
    let faulty: BTreeSet<&str> = day
        .expected
        .iter()
        .filter_map(|e| match e {
            fxrecon_gen::Expected::Order { order_id, .. } => Some(order_id.as_str()),
            _ => None,
        })
        .collect();
    let cl_ids: BTreeSet<String> = String::from_utf8_lossy(&day.primary)
        .lines()
        .filter(|l| l.contains("\x0135=8\x01") && !l.contains("\x0141="))
        .filter_map(|l| l.split('\x01').find_map(|f| f.strip_prefix("11=")).map(str::to_string))
        .collect();
    assert!(cl_ids.len() >= 200, "{}", cl_ids.len());
    let mut retired_clean = 0;
    for cl in &cl_ids {
        let (s, o) = get_json(&addr, &format!("/v1/orders/{cl}"), None);
        assert_eq!(s, 200, "{cl}: {o}");
        // (A later ClOrdID of a replace chain answers with its root.)
        let root = o["order_id"].as_str().unwrap_or_else(|| panic!("{o}"));
        if o["retired"] == true {
            assert!(o["retired_at"].is_string(), "{o}");
            // (An order the OMS rejected itself never reached the venue: no drop copy.)
            let internal_reject = o["primary"]["status"] == "Rejected" && o["dropcopy"].is_null();
            if !faulty.contains(root) && !internal_reject {
                for k in ["status", "order_qty", "cum_qty", "avg_px"] {
                    assert_eq!(o["primary"][k], o["dropcopy"][k], "{cl} {k}: {o}");
                }
                assert!(!o["primary"].is_null(), "{o}");
                retired_clean += 1;
            }
        }
    }

    // Metrics: parse with a real parser; divergence counters equal the output's counts.
    let (s, text) = get(&addr, "/metrics", None);
    assert_eq!(s, 200);
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    // Per type and venue: written, and still open, as the output's own lines count them.
    let per_type_venue = |metric: &str| -> BTreeMap<(String, String), u64> {
        let mut m = BTreeMap::new();
        for sample in scrape.samples.iter().filter(|s| s.metric == metric) {
            // OpenMetrics names the family without `_total`: the parser types the sample untyped.
            let (prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v)) = sample.value
            else {
                panic!("{sample:?}")
            };
            let key = (sample.labels.get("type").unwrap().to_string(), sample.labels.get("venue").unwrap().to_string());
            *m.entry(key).or_default() += v as u64;
        }
        m.retain(|_, n| *n > 0);
        m
    };
    let (mut want, mut want_open) = (BTreeMap::new(), BTreeMap::new());
    for v in &divs {
        let key = (v["type"].as_str().unwrap().to_string(), v["venue"].as_str().unwrap().to_string());
        *want.entry(key.clone()).or_default() += 1;
        if !resolved.contains(&v["id"].as_u64().unwrap()) {
            *want_open.entry(key).or_default() += 1u64;
        }
    }
    assert_eq!(per_type_venue("fxrecon_divergences_total"), want);
    assert_eq!(per_type_venue("fxrecon_divergences_open"), want_open);
    assert!(!want_open.is_empty(), "{want_open:?}");
    let events = scrape.samples.iter().find(|s| s.metric == "fxrecon_events_total").unwrap_or_else(|| panic!("{text}"));
    assert!(
        matches!(events.value, prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) if v > 0.0)
    );
    assert!(text.contains("# TYPE fxrecon_divergences counter"), "{text}");
    let value = |name: &str| -> f64 {
        let s = scrape.samples.iter().find(|s| s.metric == name).unwrap_or_else(|| panic!("{name}: {text}"));
        let (prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v)) = s.value
        else {
            panic!("{s:?}")
        };
        v
    };
    let retired = value("fxrecon_orders_retired_total");
    assert!(retired > 0.0 && retired_clean > 0, "orders retired {retired}, clean retired answers {retired_clean}");
    let ready = get_json(&addr, "/readyz", None);
    assert_eq!(ready.0, 200, "{}", ready.1);
    assert_eq!((ready.1["connected"].clone(), ready.1["caught_up"].clone()), (Value::Bool(true), Value::Bool(true)));
    assert_eq!(ready.1["recovered"], true);
    for s in ["primary", "dropcopy"] {
        assert!(ready.1["inputs"][s]["last_message_age_s"].as_f64().is_some_and(|a| a >= 0.0), "{}", ready.1);
    }
    // The questions that reached the reconciler, counted by it (read between batches).
    let commands = || -> u64 {
        let (_, t) = get(&addr, "/metrics", None);
        let line = t.lines().find(|l| l.starts_with("fxrecon_commands_total ")).unwrap_or_else(|| panic!("{t}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let before = commands();

    // Bad requests: a JSON error, and the reconciler is asked nothing.
    for (path, status) in [
        ("/v1/orders/THIS-ID-IS-LONGER-THAN-ANY-FIX-ID-COULD-EVER-BE-0123456789", 404),
        ("/v1/divergences?from=yesterday", 400),
        ("/v1/divergences?from=2026-11-25T11:00:00Z&to=2026-11-25T10:00:00Z", 400),
        ("/v1/divergences?open=maybe", 400),
        ("/v1/nothing", 404),
    ] {
        let (s, v) = get_json(&addr, path, None);
        assert_eq!(s, status, "{path}: {v}");
        assert!(v["error"].is_string(), "{path}: {v}");
    }
    assert_eq!(commands(), before, "a malformed request reached the reconciler");
    // An unknown but well-formed id costs one lookup between batches (never an event's apply).
    let (s, v) = get_json(&addr, "/v1/orders/NO-SUCH-ORDER", None);
    assert_eq!(s, 404, "{v}");
    assert!(v["error"].is_string(), "{v}");
    assert_eq!(commands(), before + 1);

    // The live page: one self-contained HTML page using only this API.
    let (s, page) = get(&addr, "/", None);
    assert_eq!(s, 200);
    assert!(page.starts_with("<!doctype html>") && page.contains("/v1/divergences?open=true"));
    assert!(!page.contains("http://") && !page.contains("https://") && !page.contains(" src="), "no external assets");

    // The CLI asks the same API: its JSON is the API's, its tables name what was asked.
    let url = format!("http://{addr}");
    let query = |args: &[&str]| {
        let o = bin().args(["query", "--api", &url]).args(args).env_remove("FXRECON_API_TOKEN").output().unwrap();
        (o.status.code(), String::from_utf8(o.stdout).unwrap(), String::from_utf8(o.stderr).unwrap())
    };
    let key = divs[0]["order_id"].as_str().unwrap();
    let (code, json, _) = query(&["--json", "order", key]);
    assert_eq!(code, Some(0));
    assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), get_json(&addr, &format!("/v1/orders/{key}"), None).1);
    let (code, table, _) = query(&["order", key]);
    assert_eq!(code, Some(0));
    assert!(
        table.starts_with(&format!("order {key} ")) && table.contains("\nprimary ") && table.contains("\ndropcopy "),
        "{table}"
    );
    let t = types.iter().next().unwrap();
    let (_, json, _) = query(&["--json", "divergences", "--type", t]);
    assert_eq!(ids(&serde_json::from_str(&json).unwrap()), expect(&|d| d["type"] == *t));
    let (_, table, _) = query(&["divergences", "--type", t]);
    assert_eq!(table.lines().count(), 1 + expect(&|d| d["type"] == *t).len(), "{table}");
    let (_, table, _) = query(&["gaps"]);
    assert_eq!(table.lines().count(), 1 + gaps_in_file, "{table}");
    let (code, _, err) = query(&["order", "NO-SUCH-ORDER"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no order") && err.contains("404"), "{err}");

    term(&child);
    let mut child = child;
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn token_is_checked_and_required_off_loopback() {
    let dir = scratch("api-token");
    let (p, d) = common::write_day(dir.path(), 50, 7);
    let out = dir.path().join("out.jsonl");
    // Off loopback without a token: refused before anything is written.
    let refused = bin()
        .args(["run", "--api", "0.0.0.0:0", "--primary"])
        .arg(&p)
        .arg("--dropcopy")
        .arg(&d)
        .arg("--out")
        .arg(&out)
        .env_remove("FXRECON_API_TOKEN")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("token"), "{err}");
    assert!(!out.exists());

    let addr_file = dir.path().join("api.addr");
    let child = Reap(
        bin()
            .args(["run", "--follow", "--api", "127.0.0.1:0", "--primary"])
            .arg(&p)
            .arg("--dropcopy")
            .arg(&d)
            .arg("--out")
            .arg(&out)
            .arg("--api-addr-file")
            .arg(&addr_file)
            .env("FXRECON_API_TOKEN", "s3cret")
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let addr = bound_addr(&addr_file);
    for token in [None, Some("wrong")] {
        for path in ["/v1/divergences", "/v1/orders/ANY", "/metrics"] {
            let (s, v) = get_json(&addr, path, token);
            assert_eq!(s, 401, "{path} {token:?}");
            assert!(v["error"].is_string());
        }
    }
    let (s, _) = get_json(&addr, "/v1/divergences", Some("s3cret"));
    assert_eq!(s, 200);
    // None of the refused order questions reached the reconciler.
    let (_, text) = get(&addr, "/metrics", Some("s3cret"));
    assert!(text.lines().any(|l| l == "fxrecon_commands_total 0"), "{text}");
    term(&child);
    let mut child = child;
    assert!(child.0.wait().unwrap().success());
}

#[test]
fn live_page_renders_in_headless_chromium() {
    let dir = scratch("api-live");
    let (p, d) = common::write_faulty_day(dir.path(), 300, 11, 0.1);
    let (out, addr_file) = (dir.path().join("out.jsonl"), dir.path().join("api.addr"));
    let child = Reap(
        bin()
            .args(["run", "--follow", "--api", "127.0.0.1:0", "--primary"])
            .arg(&p)
            .arg("--dropcopy")
            .arg(&d)
            .arg("--out")
            .arg(&out)
            .arg("--api-addr-file")
            .arg(&addr_file)
            .stderr(Stdio::null())
            .env_remove("FXRECON_API_TOKEN")
            .spawn()
            .unwrap(),
    );
    let addr = bound_addr(&addr_file);
    let lines = settled(&addr, &out, None);
    let (_, open) = get_json(&addr, "/v1/divergences?open=true", None);
    let open = open["divergences"].as_array().unwrap().clone();
    assert!(open.len() > 3, "{}", open.len());
    let key = open[0]["order_id"].as_str().unwrap();
    assert!(lines.iter().any(|v| v["order_id"] == key));

    // Every open divergence is a row, newest first.
    let dom = chromium(dir.path(), &format!("http://{addr}/"), &["--dump-dom"]);
    let rows = dom.matches("<tr class=\"row\"").count();
    assert_eq!(rows, open.len(), "{dom}");
    let first_row = dom.find("<tr class=\"row\"").unwrap();
    let newest = open.last().unwrap()["id"].as_u64().unwrap();
    assert!(
        dom[first_row..].starts_with(&format!(
            "<tr class=\"row\" data-order=\"{}\"><td>{newest}</td>",
            open.last().unwrap()["order_id"].as_str().unwrap()
        )),
        "{}",
        &dom[first_row..first_row + 200]
    );
    // A search for a known order shows its rows only, and both its views.
    let dom = chromium(dir.path(), &format!("http://{addr}/?q={key}"), &["--dump-dom"]);
    let want = open.iter().filter(|v| v["order_id"] == key).count();
    assert_eq!(dom.matches("<tr class=\"row\"").count(), want, "{dom}");
    assert!(
        dom.contains(&format!("\"order_id\": \"{key}\""))
            && dom.contains("\"primary\":")
            && dom.contains("\"dropcopy\":"),
        "{dom}"
    );
    // A screenshot, kept as the test's artefact under the target directory.
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("live-page.png");
    let _ = std::fs::remove_file(&shot);
    chromium(dir.path(), &format!("http://{addr}/?q={key}"), &[&format!("--screenshot={}", shot.display())]);
    assert!(std::fs::metadata(&shot).map(|m| m.len() > 1000).unwrap_or(false), "no screenshot at {}", shot.display());
    term(&child);
    let mut child = child;
    assert!(child.0.wait().unwrap().success());
}

/// Sum of a histogram's `le` buckets by bound, its count, from a parsed scrape.
fn histogram(scrape: &prometheus_parse::Scrape, name: &str) -> (Vec<(f64, f64)>, f64, f64) {
    let s = scrape.samples.iter().find(|s| s.metric == name).unwrap_or_else(|| panic!("no {name}"));
    let prometheus_parse::Value::Histogram(buckets) = &s.value else { panic!("{s:?}") };
    let count = scrape.samples.iter().find(|s| s.metric == format!("{name}_count"));
    let sum = scrape.samples.iter().find(|s| s.metric == format!("{name}_sum"));
    let num = |s: Option<&prometheus_parse::Sample>| match s.map(|s| &s.value) {
        Some(prometheus_parse::Value::Untyped(v) | prometheus_parse::Value::Counter(v)) => *v,
        None => f64::NAN,
        other => panic!("{other:?}"),
    };
    (buckets.iter().map(|b| (b.less_than, b.count)).collect(), num(count), num(sum))
}

#[test]
fn live_metrics_time_detection_and_readyz_sees_a_failed_input() {
    let dir = scratch("api-live-metrics");
    let (p, d) = common::write_faulty_day(dir.path(), 200, 5, 0.15);
    let (out, addr_file, journal) =
        (dir.path().join("out.jsonl"), dir.path().join("api.addr"), dir.path().join("journal"));
    let cfg = dir.path().join("fxrecon.toml");
    std::fs::write(&cfg, "grace_ms = 300\n").unwrap();
    // The ingest clock: event time is arrival time, so detection latency is wall-clock time.
    let child = Reap(
        bin()
            .args(["run", "--follow", "--clock", "ingest", "--api", "127.0.0.1:0", "--config"])
            .arg(&cfg)
            .arg("--primary")
            .arg(&p)
            .arg("--dropcopy")
            .arg(&d)
            .arg("--out")
            .arg(&out)
            .arg("--journal")
            .arg(&journal)
            .arg("--api-addr-file")
            .arg(&addr_file)
            .stderr(Stdio::null())
            .env_remove("FXRECON_API_TOKEN")
            .spawn()
            .unwrap(),
    );
    let addr = bound_addr(&addr_file);
    // Past grace, every timer has fired: the output settles.
    std::thread::sleep(Duration::from_millis(800));
    let lines = settled(&addr, &out, None);
    let findings = lines.iter().filter(|v| v["type"] != "Resolved" && v["type"] != "CapacityExhausted").count();
    assert!(findings > 5, "{findings}");
    let (s, text) = get(&addr, "/metrics", None);
    assert_eq!(s, 200);
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    let (buckets, count, sum) = histogram(&scrape, "fxrecon_detection_latency_seconds");
    // One observation per divergence and gap written, in cumulative buckets ending at +Inf.
    assert_eq!(count, findings as f64, "{text}");
    assert_eq!(buckets.last().unwrap(), &(f64::INFINITY, count), "{buckets:?}");
    assert!(buckets.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1), "{buckets:?}");
    assert!(sum > 0.0 && sum / count < 5.0, "mean latency {} s", sum / count);
    // Journal bytes: what this run appended, at most what its segments hold.
    let bytes_line =
        text.lines().find(|l| l.starts_with("fxrecon_journal_bytes_total ")).unwrap_or_else(|| panic!("{text}"));
    let bytes: u64 = bytes_line.rsplit(' ').next().unwrap().parse().unwrap();
    let on_disk: u64 =
        std::fs::read_dir(&journal).unwrap().filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum();
    assert!(bytes > 10_000 && bytes <= on_disk, "journal bytes {bytes}, on disk {on_disk}");
    for s in ["primary", "dropcopy"] {
        assert!(text.contains(&format!("fxrecon_input_connected{{stream=\"{s}\"}} 1")), "{text}");
        assert!(text.contains(&format!("fxrecon_input_last_message_age_seconds{{stream=\"{s}\"}} ")), "{text}");
    }
    let (s, ready) = get_json(&addr, "/readyz", None);
    assert_eq!(s, 200, "{ready}");

    // The followed primary file replaced under the reader: that input fails, the run goes on,
    // and the daemon is no longer ready.
    let moved = dir.path().join("moved.fix");
    std::fs::rename(&p, &moved).unwrap();
    std::fs::write(&p, b"").unwrap();
    let t0 = Instant::now();
    let ready = loop {
        let (s, ready) = get_json(&addr, "/readyz", None);
        if s == 503 {
            break ready;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "still ready after the input failed: {ready}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(ready["inputs"]["primary"]["state"], "failed", "{ready}");
    assert_eq!(ready["connected"], false, "{ready}");
    term(&child);
    let mut child = child;
    let status = child.0.wait().unwrap();
    assert_eq!(status.code(), Some(1), "a failed input ends the run with 1");
}
