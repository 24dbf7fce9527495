//! The end-of-day report and the offline queries (issue 25, contract 6): a daemon follows a
//! generated day into a journal; `fxrecon query … --journal` (the journal replayed read-only
//! while the daemon still holds it) answers exactly what the daemon's API answers, `fxrecon
//! eod` from the journal and from the API writes the same three files, the report renders in
//! headless Chromium with the tables the answers imply, and bad output paths are refused
//! before anything is written.

mod common;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

use common::{api_get, bin, chromium, daemon_on_day, scratch, settle};
use serde_json::Value;

fn fxrecon(args: &[&OsStr]) -> Output {
    bin().args(args).env_remove("FXRECON_API_TOKEN").output().unwrap()
}

fn ok_json(args: &[&OsStr]) -> Value {
    let out = fxrecon(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    ["breaks.csv", "breaks.json", "report.html"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"))))
        .collect()
}

#[test]
fn offline_answers_and_the_eod_report_equal_the_running_daemons() {
    let dir = scratch("eod");
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig {
        orders: 800,
        seed: 2512,
        fault_rate: 0.12,
        ..Default::default()
    });
    let journal = dir.path().join("journal");
    let (child, addr) = daemon_on_day(dir.path(), &day, &[os("--journal"), journal.as_os_str()]);
    settle(&addr, &day);
    let j = journal.as_os_str();

    // Offline queries: what the API answers, with the daemon still running on the journal.
    let (_, divs) = api_get(&addr, "/v1/divergences");
    assert!(divs["count"].as_u64().unwrap() > 10, "{divs}");
    let offline = |what: &[&str]| {
        let mut args: Vec<&OsStr> = vec![os("query")];
        args.extend(what.iter().map(|s| os(s)));
        args.extend([os("--json"), os("--journal"), j]);
        ok_json(&args)
    };
    assert_eq!(offline(&["divergences"]), divs);
    let some = &divs["divergences"][0];
    let (t, v) = (some["type"].as_str().unwrap(), some["venue"].as_str().unwrap());
    let (_, filtered) = api_get(&addr, &format!("/v1/divergences?type={t}&venue={v}&open=true"));
    assert_eq!(offline(&["divergences", "--type", t, "--venue", v, "--open", "true"]), filtered);
    assert_eq!(offline(&["gaps"]), api_get(&addr, "/v1/gaps").1);
    let (_, positions) = api_get(&addr, "/v1/positions");
    assert!(positions["breaks"].as_u64().unwrap() > 0, "{positions}");
    assert_eq!(offline(&["positions"]), positions);
    let acc = positions["positions"][0]["account"].as_str().unwrap();
    assert_eq!(offline(&["positions", "--account", acc]), api_get(&addr, &format!("/v1/positions?account={acc}")).1);
    let orders: BTreeSet<&str> =
        divs["divergences"].as_array().unwrap().iter().filter_map(|d| d["order_id"].as_str()).collect();
    let mut compared = 0;
    for key in orders.iter().take(40).chain(&["C0000001", "C0000400", "NOSUCH"]) {
        let (status, online) = api_get(&addr, &format!("/v1/orders/{key}"));
        if status == 200 {
            assert_eq!(offline(&["order", key]), online, "order {key}");
            compared += 1;
        } else {
            assert_eq!(status, 404, "{key}: {online}");
            let out = fxrecon(&[os("query"), os("order"), os(key), os("--journal"), j]);
            assert_eq!(out.status.code(), Some(2), "{key}");
            assert!(String::from_utf8_lossy(&out.stderr).contains(online["error"].as_str().unwrap()), "{key}: {out:?}");
        }
    }
    assert!(compared >= 8, "{compared} orders compared");

    // eod from the API and from the journal: the same files.
    let (from_api, from_journal) = (dir.path().join("eod-api"), dir.path().join("eod-journal"));
    let url = format!("http://{addr}");
    let run = |args: &[&OsStr]| {
        let out = fxrecon(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&[os("eod"), os("--api"), os(&url), os("--out"), from_api.as_os_str()]);
    run(&[os("eod"), os("--journal"), j, os("--out"), from_journal.as_os_str()]);
    assert!(files_of(&from_api) == files_of(&from_journal), "eod from the API and from the journal differ");
    let (day_api, day_journal) = (dir.path().join("day-api"), dir.path().join("day-journal"));
    run(&[os("eod"), os("--api"), os(&url), os("--date"), os("2026-11-25"), os("--out"), day_api.as_os_str()]);
    run(&[os("eod"), os("--journal"), j, os("--date"), os("2026-11-25"), os("--out"), day_journal.as_os_str()]);
    assert!(files_of(&day_api) == files_of(&day_journal), "eod --date from the API and from the journal differ");
    drop(child);

    // What the report holds: every divergence of the day, the tables the answers imply.
    let report: Value = serde_json::from_slice(&std::fs::read(day_api.join("breaks.json")).unwrap()).unwrap();
    let on_day: Vec<&Value> = divs["divergences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["detected_at"].as_str().unwrap().starts_with("2026-11-25"))
        .collect();
    assert_eq!(report["summary"]["breaks"].as_u64().unwrap() as usize, on_day.len());
    let open = on_day.iter().filter(|d| d["open"] == true).count();
    assert_eq!(report["summary"]["open"].as_u64().unwrap() as usize, open);
    let csv = std::fs::read_to_string(day_api.join("breaks.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + on_day.len());
    let grid = report["breaks_by_venue_and_type"].as_array().unwrap();
    let cell_sum: u64 = grid.iter().map(|c| c["open"].as_u64().unwrap() + c["resolved"].as_u64().unwrap()).sum();
    assert_eq!(cell_sum as usize, on_day.len());
    let gap_records = report["gaps"].as_array().unwrap().len() as u64;
    let per_session: u64 =
        report["gaps_per_session"].as_array().unwrap().iter().map(|g| g["gaps"].as_u64().unwrap()).sum();
    assert_eq!((report["summary"]["sequence_gaps"].as_u64().unwrap(), per_session), (gap_records, gap_records));
    assert!(gap_records > 0, "the day has sequence gaps");
    let exposures = report["largest_exposures"].as_array().unwrap();
    assert!(!exposures.is_empty());
    let amounts: Vec<f64> = exposures.iter().map(|e| e["exposure"].as_str().unwrap().parse().unwrap()).collect();
    assert!(amounts.windows(2).all(|w| w[0] >= w[1]), "{amounts:?}");

    // The report in headless Chromium: the rendered DOM has the summary, one bar per venue ×
    // type, one row per position; a screenshot is kept as the test's artefact.
    let page = format!("file://{}", day_api.join("report.html").display());
    let dom = chromium(dir.path(), &page, &["--dump-dom"]);
    assert!(dom.contains(&format!("<b id=\"n-breaks\">{}</b>", on_day.len())), "{dom}");
    assert!(dom.contains(&format!("<b id=\"n-open\">{open}</b>")), "{dom}");
    assert_eq!(dom.matches("<g class=\"bar\"").count(), grid.len());
    let section = |id: &str| {
        let at = dom.find(&format!("<table id=\"{id}\">")).unwrap_or_else(|| panic!("no table {id}"));
        let end = at + dom[at..].find("</table>").unwrap();
        dom[at..end].matches("<tr>").count() - 1
    };
    assert_eq!(section("positions"), positions["count"].as_u64().unwrap() as usize);
    assert_eq!(section("by-venue-type"), grid.len());
    assert_eq!(section("exposures"), exposures.len());
    let first = &positions["positions"][0];
    assert!(dom.contains(&format!("<td>{}</td>", first["break"]["base_qty"].as_str().unwrap())), "{dom}");
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("eod-report.png");
    let _ = std::fs::remove_file(&shot);
    chromium(dir.path(), &page, &[&format!("--screenshot={}", shot.display())]);
    assert!(std::fs::metadata(&shot).map(|m| m.len() > 1000).unwrap_or(false), "no screenshot at {}", shot.display());

    // Bad output paths, dates and sources: exit 2, one line, nothing written.
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let inside = journal.join("report");
    let [x, y, z] = ["x", "y", "z"].map(|n| dir.path().join(n));
    let bad: [Vec<&OsStr>; 5] = [
        vec![os("eod"), os("--journal"), j, os("--out"), file.as_os_str()],
        vec![os("eod"), os("--journal"), j, os("--out"), inside.as_os_str()],
        vec![os("eod"), os("--journal"), j, os("--date"), os("2026-13-01"), os("--out"), x.as_os_str()],
        vec![os("eod"), os("--journal"), file.as_os_str(), os("--out"), y.as_os_str()],
        vec![os("eod"), os("--journal"), j, os("--api"), os(&url), os("--out"), z.as_os_str()],
    ];
    for args in &bad {
        let out = fxrecon(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!out.stderr.is_empty());
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
    for never in [&inside, &x, &y, &z] {
        assert!(!never.exists(), "{} was written", never.display());
    }
}
