//! Position breaks (issue 25, contract 6): a daemon fed a generated day answers
//! `GET /v1/positions` and `fxrecon query positions` with, per account × symbol, each stream's
//! net base quantity and counter notional from its live fills, and their difference. The test
//! computes the same from the generated files alone (fills, busts and corrects as written, an
//! adjustment ahead of its fill applied when the fill comes; independently of the reconciler)
//! and checks that every break comes from an order the generator labelled with an injected
//! fault, never from normal flow — on a mixed day and on the hard mix of issue 22.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use common::{api_get, daemon_on_day, scratch, settle};
use serde_json::Value;

/// `text` (a FIX decimal) as an integer scaled by 10^`scale`.
fn scaled(text: &str, scale: u32) -> i128 {
    let (neg, body) = text.strip_prefix('-').map_or((false, text), |b| (true, b));
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    assert!(frac.len() as u32 <= scale, "{text}");
    let v = format!("{int}{frac:0<width$}", width = scale as usize).parse::<i128>().unwrap();
    if neg { -v } else { v }
}

/// Both streams' base quantity (4 decimals) and counter notional (12 decimals).
type Amounts = [(i128, i128); 2];

/// One fill as a stream's file has it, after the busts and corrects that name it.
struct Fill {
    order: u64,
    key: (String, String),
    sign: i128,
    qty: i128,
    px: Option<i128>,
    busted: bool,
}

/// A trade cancel ('H') or correct ('G') and the LastQty/LastPx it carries.
type Adjustment = (char, Option<i128>, Option<i128>);

/// Applies `adj` to `fill` (a busted fill changes no more); a corrected fill counts again in
/// `left_out` when it has no side or no price.
fn adjust(fill: &mut Fill, (kind, qty, px): Adjustment, left_out: &mut [u64; 2]) {
    if fill.busted {
        return;
    }
    if kind == 'H' {
        fill.busted = true;
        return;
    }
    fill.qty = qty.unwrap_or(fill.qty);
    fill.px = px.or(fill.px);
    left_out[0] += u64::from(fill.sign == 0);
    left_out[1] += u64::from(fill.sign != 0 && fill.px.is_none());
}

/// The order number a generated report belongs to (from ClOrdID `C%07d…`, else OrderID
/// `VENUE-%06d…`).
fn order_number(f: &BTreeMap<&str, &str>) -> u64 {
    if let Some(cl) = f.get("11") {
        return cl[1..8].parse().unwrap();
    }
    f["37"].split('-').nth(1).unwrap().parse().unwrap()
}

/// Every stream's fills from the generated files: a fill (150=F, or 1/2 in FIX 4.2) counts
/// once per ExecID; a trade cancel (150=H, 4.2: 20=1) busts the fill its ExecRefID names, a
/// trade correct (150=G, 4.2: 20=2) gives it the new LastQty/LastPx. Also how many fills (and
/// corrected fills) had no buy/sell Side, and how many no LastPx.
fn fills_of(files: [&[u8]; 2]) -> ([Vec<Fill>; 2], [u64; 2]) {
    let mut left_out = [0u64; 2];
    let fills = files.map(|bytes| {
        let mut fills: Vec<Fill> = Vec::new();
        let mut by_exec: BTreeMap<String, usize> = BTreeMap::new();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut held: BTreeMap<String, Vec<Adjustment>> = BTreeMap::new();
        for line in String::from_utf8_lossy(bytes).lines() {
            let f: BTreeMap<&str, &str> = line.split('\x01').filter_map(|kv| kv.split_once('=')).collect();
            if f.get("35") != Some(&"8") || !seen.insert(f["17"].to_string()) {
                continue;
            }
            let kind = match (f.get("20").copied(), f["150"]) {
                (Some("1"), _) | (_, "H") => 'H',
                (Some("2"), _) | (_, "G") => 'G',
                (_, "F" | "1" | "2") => 'F',
                _ => continue,
            };
            if kind == 'F' {
                // A fill without LastQty counts nothing; one without LastPx counts its quantity.
                let Some(qty) = f.get("32") else { continue };
                by_exec.insert(f["17"].to_string(), fills.len());
                fills.push(Fill {
                    order: order_number(&f),
                    key: (f.get("1").unwrap_or(&"").to_string(), f["55"].to_string()),
                    sign: match f.get("54") {
                        Some(&"1") => 1,
                        Some(&("2" | "5" | "6")) => -1,
                        _ => 0,
                    },
                    qty: scaled(qty, 4),
                    px: f.get("31").map(|p| scaled(p, 8)),
                    busted: false,
                });
                let added = fills.last().unwrap();
                left_out[0] += u64::from(added.sign == 0);
                left_out[1] += u64::from(added.sign != 0 && added.px.is_none());
            } else if let Some(r) = f.get("19") {
                // An adjustment before its fill waits for it (the fill may come later).
                let adj = (kind, f.get("32").map(|q| scaled(q, 4)), f.get("31").map(|p| scaled(p, 8)));
                match by_exec.get(*r) {
                    Some(&i) => adjust(&mut fills[i], adj, &mut left_out),
                    None => held.entry(r.to_string()).or_default().push(adj),
                }
            }
            if kind == 'F'
                && let Some(&i) = by_exec.get(f["17"])
            {
                for adj in held.remove(f["17"]).unwrap_or_default() {
                    adjust(&mut fills[i], adj, &mut left_out);
                }
            }
        }
        fills
    });
    (fills, left_out)
}

/// Net amounts per `group` (account × symbol, or order) of the live fills of both streams.
fn net<K: Ord>(fills: &[Vec<Fill>; 2], group: impl Fn(&Fill) -> K) -> BTreeMap<K, Amounts> {
    let mut out: BTreeMap<K, Amounts> = BTreeMap::new();
    for (s, list) in fills.iter().enumerate() {
        for f in list.iter().filter(|f| !f.busted) {
            let e = &mut out.entry(group(f)).or_default()[s];
            e.0 += f.sign * f.qty;
            e.1 -= f.sign * f.qty * f.px.unwrap_or(0);
        }
    }
    out
}

fn get_json(addr: &str, path: &str) -> Value {
    let (status, v) = api_get(addr, path);
    assert_eq!(status, 200, "{path}: {v}");
    v
}

fn amounts_of(p: &Value) -> Amounts {
    ["primary", "dropcopy"].map(|s| {
        (scaled(p[s]["base_qty"].as_str().unwrap(), 4), scaled(p[s]["counter_notional"].as_str().unwrap(), 12))
    })
}

#[test]
fn position_breaks_are_what_the_injected_faults_imply() {
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig {
        orders: 1500,
        seed: 2025,
        fault_rate: 0.15,
        ..Default::default()
    });
    check_day(&day, &["missing_fill", "phantom", "bust", "correct"]);
}

/// The hard mix (issue 22): busts before their fills, late busts after retirement, replayed
/// sessions, OrderID-only drop copies, among normal flow.
#[test]
fn position_breaks_of_a_hard_day_are_what_its_faults_imply() {
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig {
        orders: 1500,
        seed: 2026,
        fault_rate: 0.15,
        scenario: fxrecon_gen::Scenario::Hard,
        ..Default::default()
    });
    check_day(&day, &["bust_before_fill", "late_after_retirement", "bust", "correct"]);
}

/// The positions a daemon fed `day` answers equal the files' and the faults' (`labels_wanted`
/// among the day's).
fn check_day(day: &fxrecon_gen::GeneratedDay, labels_wanted: &[&str]) {
    let dir = scratch("positions");
    let (_child, addr) = daemon_on_day(dir.path(), day, &[]);
    settle(&addr, day);
    let got = get_json(&addr, "/v1/positions");

    // From the files alone.
    let (fills, [unsided, unpriced]) = fills_of([&day.primary, &day.dropcopy]);
    let want = net(&fills, |f| f.key.clone());
    let rows = got["positions"].as_array().unwrap();
    let answered: BTreeMap<(String, String), Amounts> = rows
        .iter()
        .map(|r| {
            ((r["account"].as_str().unwrap().to_string(), r["symbol"].as_str().unwrap().to_string()), amounts_of(r))
        })
        .collect();
    assert_eq!(answered, want, "both streams' positions per account × symbol");
    for r in rows {
        let [(pb, pc), (db, dc)] = amounts_of(r);
        assert_eq!(scaled(r["break"]["base_qty"].as_str().unwrap(), 4), pb - db, "{r}");
        assert_eq!(scaled(r["break"]["counter_notional"].as_str().unwrap(), 12), pc - dc, "{r}");
    }
    assert_eq!(
        got["left_out"],
        serde_json::json!({"table_full": 0, "unsided_fills": unsided, "unpriced_fills": unpriced})
    );

    // Largest break first.
    let sizes: Vec<(i128, i128)> = rows
        .iter()
        .map(|r| {
            (
                scaled(r["break"]["base_qty"].as_str().unwrap(), 4).abs(),
                scaled(r["break"]["counter_notional"].as_str().unwrap(), 12).abs(),
            )
        })
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");

    // Every break comes from orders with an injected fault: normal orders' fills agree on both
    // streams, and the faulty orders' differences add up to each account × symbol's break.
    let faulty: BTreeSet<u64> = day.labels.iter().map(|(cl, _)| cl[1..].parse().unwrap()).collect();
    let per_order = net(&fills, |f| (f.order, f.key.clone()));
    let mut implied: BTreeMap<(String, String), (i128, i128)> = BTreeMap::new();
    for ((order, key), [(pb, pc), (db, dc)]) in &per_order {
        let diff = (pb - db, pc - dc);
        if faulty.contains(order) {
            let e = implied.entry(key.clone()).or_default();
            (e.0, e.1) = (e.0 + diff.0, e.1 + diff.1);
        } else {
            assert_eq!(diff, (0, 0), "order {order} has no injected fault but its streams' fills differ");
        }
    }
    let breaks: BTreeMap<(String, String), (i128, i128)> = answered
        .iter()
        .map(|(k, [(pb, pc), (db, dc)])| (k.clone(), (pb - db, pc - dc)))
        .filter(|(_, b)| *b != (0, 0))
        .collect();
    implied.retain(|_, b| *b != (0, 0));
    assert_eq!(breaks, implied);
    assert!(breaks.len() >= 3, "a faulty day breaks positions: {breaks:?}");
    assert_eq!(got["breaks"].as_u64().unwrap() as usize, breaks.len());
    let labels: BTreeSet<&str> = day.labels.iter().map(|(_, l)| *l).collect();
    for l in labels_wanted {
        assert!(labels.contains(l), "the day injects {l}: {labels:?}");
    }

    // Filters, and the CLI's table and JSON.
    let (acc, sym) = breaks.keys().next().unwrap();
    let one = get_json(&addr, &format!("/v1/positions?account={acc}&symbol={}", fxrecon_api::client::encode(sym)));
    assert_eq!(one["count"], 1);
    assert_eq!(amounts_of(&one["positions"][0]), answered[&(acc.clone(), sym.clone())]);
    let by_acc = get_json(&addr, &format!("/v1/positions?account={acc}"));
    assert_eq!(by_acc["count"].as_u64().unwrap() as usize, answered.keys().filter(|(a, _)| a == acc).count());
    let (status, body) = fxrecon_api::client::get(&addr, "/v1/positions?acount=x", None).unwrap();
    assert_eq!(status, 400, "{body}");
    let url = format!("http://{addr}");
    let cli = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_fxrecon"))
            .args(["query", "positions", "--api", &url, "--account", acc])
            .args(extra)
            .env_remove("FXRECON_API_TOKEN")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let json: Value = serde_json::from_str(&cli(&["--json"])).unwrap();
    assert_eq!(json, by_acc);
    let text = cli(&[]);
    assert!(text.starts_with("ACCOUNT"), "{text}");
    let rows = text.lines().filter(|l| !l.starts_with("left out:")).count();
    assert_eq!(rows, 1 + by_acc["count"].as_u64().unwrap() as usize, "{text}");
    let first = &by_acc["positions"][0];
    assert!(text.lines().nth(1).unwrap().contains(first["break"]["base_qty"].as_str().unwrap()), "{text}");
}
