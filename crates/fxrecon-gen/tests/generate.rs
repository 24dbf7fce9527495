//! End-to-end checks of generated days: framing, determinism, sequencing against the ground
//! truth, per-order ordering, clean-day consistency and the shape of every injected fault.

use std::collections::{BTreeMap, BTreeSet};

use fxrecon_gen::{Expected, GenConfig, GeneratedDay, Scenario, generate};

const ORDERS: usize = 300;

fn cfg(scenario: Scenario, seed: u64) -> GenConfig {
    GenConfig { orders: ORDERS, seed, scenario, ..GenConfig::default() }
}

/// One parsed log line.
#[derive(Debug, Clone)]
struct Line {
    /// `YYYYMMDD-HH:MM:SS.nnnnnnnnn` (fixed width, so it orders like the time).
    prefix: String,
    fields: Vec<(u32, String)>,
}

impl Line {
    fn get(&self, tag: u32) -> Option<&str> {
        self.fields.iter().find(|(t, _)| *t == tag).map(|(_, v)| v.as_str())
    }
    fn req(&self, tag: u32) -> &str {
        self.get(tag).unwrap_or_else(|| panic!("tag {tag} missing in {:?}", self.fields))
    }
    fn num(&self, tag: u32) -> u64 {
        self.req(tag).parse().unwrap_or_else(|_| panic!("tag {tag} not a number in {:?}", self.fields))
    }
    fn is_er(&self) -> bool {
        self.get(35) == Some("8")
    }
    fn poss_dup(&self) -> bool {
        self.get(43) == Some("Y")
    }
    fn session(&self) -> String {
        format!("{}->{}", self.req(49), self.req(56))
    }
    fn root(&self) -> String {
        self.req(11).split('.').next().unwrap_or_default().to_string()
    }
    fn is_fill(&self) -> bool {
        matches!(self.req(150), "F" | "1" | "2")
    }
    /// OrdStatus with FIX 4.2 Replaced normalised to the live state.
    fn status(&self) -> String {
        match self.req(39) {
            "5" if self.num(14) > 0 => "1".to_string(),
            "5" => "0".to_string(),
            s => s.to_string(),
        }
    }
}

/// Parses a whole file, checking the FileLog framing, BodyLength and CheckSum of every line.
fn parse(bytes: &[u8]) -> Vec<Line> {
    assert_eq!(bytes.last(), Some(&b'\n'), "file must end with a newline");
    let mut out = Vec::new();
    for raw in bytes[..bytes.len() - 1].split(|&b| b == b'\n') {
        let text = std::str::from_utf8(raw).expect("ascii line");
        let (prefix, msg) = text.split_once(" : ").expect("prefix separator");
        assert_eq!(prefix.len(), 27, "prefix {prefix}");
        assert!(prefix.ends_with("000"), "arrival must be whole microseconds: {prefix}");
        assert_eq!(&prefix[8..9], "-");
        let msg = msg.as_bytes();
        assert!(msg.starts_with(b"8=FIX.4."), "{text}");
        assert_eq!(msg.last(), Some(&1u8), "line must end with SOH");
        // BodyLength: bytes after the 9= field's SOH up to and including the SOH before 10=.
        let first_soh = msg.iter().position(|&b| b == 1).expect("soh");
        let second_soh = first_soh + 1 + msg[first_soh + 1..].iter().position(|&b| b == 1).expect("soh");
        let len_field = std::str::from_utf8(&msg[first_soh + 1..second_soh]).expect("utf8");
        let body_len: usize = len_field.strip_prefix("9=").expect("9= second").parse().expect("len");
        let trailer_at = msg.len() - 7;
        assert_eq!(&msg[trailer_at..trailer_at + 3], b"10=", "{text}");
        assert_eq!(trailer_at - (second_soh + 1), body_len, "BodyLength of {text}");
        let sum = msg[..trailer_at].iter().map(|&b| u32::from(b)).sum::<u32>() % 256;
        let cks: u32 = std::str::from_utf8(&msg[trailer_at + 3..trailer_at + 6]).expect("utf8").parse().expect("cks");
        assert_eq!(sum, cks, "CheckSum of {text}");
        let fields = msg[..msg.len() - 1]
            .split(|&b| b == 1)
            .map(|f| {
                let f = std::str::from_utf8(f).expect("utf8");
                let (t, v) = f.split_once('=').expect("tag=value");
                (t.parse().expect("numeric tag"), v.to_string())
            })
            .collect::<Vec<_>>();
        let order: Vec<u32> = fields.iter().map(|(t, _)| *t).take(3).collect();
        assert_eq!(order, vec![8, 9, 35], "{text}");
        out.push(Line { prefix: prefix.to_string(), fields });
    }
    out
}

struct Parsed {
    day: GeneratedDay,
    streams: [Vec<Line>; 2],
}

fn run(c: &GenConfig) -> Parsed {
    let day = generate(c);
    let streams = [parse(&day.primary), parse(&day.dropcopy)];
    Parsed { day, streams }
}

const STREAMS: [&str; 2] = ["primary", "dropcopy"];

fn order_kinds(day: &GeneratedDay) -> BTreeSet<(String, &'static str)> {
    day.expected
        .iter()
        .filter_map(|e| match e {
            Expected::Order { order_id, kind, .. } => Some((order_id.clone(), *kind)),
            Expected::Gap { .. } => None,
        })
        .collect()
}

fn gap_records(day: &GeneratedDay) -> BTreeSet<(String, String, String, u64, u64)> {
    day.expected
        .iter()
        .filter_map(|e| match e {
            Expected::Gap { stream, session, kind, expected, seen } => {
                Some((stream.to_string(), session.clone(), kind.to_string(), *expected, *seen))
            }
            Expected::Order { .. } => None,
        })
        .collect()
}

#[test]
fn same_config_gives_identical_bytes() {
    let a = generate(&cfg(Scenario::Mixed, 7));
    let b = generate(&cfg(Scenario::Mixed, 7));
    assert_eq!(a, b);
    let c = generate(&cfg(Scenario::Mixed, 8));
    assert_ne!(a.primary, c.primary);
}

/// A sequencer in the spirit of the contract (and decision D9), used to check that the file
/// numbering shows exactly the gap records of the ground truth.
fn observed_gaps(p: &Parsed) -> BTreeSet<(String, String, String, u64, u64)> {
    struct Dir {
        expected: u64,
        gaps: Vec<(u64, u64, u64)>, // (first, last, lowest unfilled)
    }
    let mut out = BTreeSet::new();
    for (s, lines) in p.streams.iter().enumerate() {
        let mut dirs: BTreeMap<String, Dir> = BTreeMap::new();
        for l in lines {
            let session = l.session();
            let seq = l.num(34);
            let mut rec = |kind: &str, e: u64, seen: u64| {
                out.insert((STREAMS[s].to_string(), session.clone(), kind.to_string(), e, seen));
            };
            let Some(d) = dirs.get_mut(&session) else {
                assert_eq!(seq, 1, "{session} starts at 1");
                dirs.insert(session.clone(), Dir { expected: seq + 1, gaps: Vec::new() });
                continue;
            };
            let close = |d: &mut Dir, rec: &mut dyn FnMut(&str, u64, u64), seq: u64| {
                d.gaps.retain(|&(first, last, next)| {
                    if next > last {
                        rec("gap_filled", first, seq);
                        false
                    } else {
                        true
                    }
                });
            };
            if l.get(35) == Some("4") && l.get(123) != Some("Y") {
                let new = l.num(36);
                rec("reset", d.expected, new);
                d.expected = new;
                d.gaps.clear();
            } else if l.get(35) == Some("4") {
                let new = l.num(36);
                if seq == d.expected {
                    d.expected = new;
                } else {
                    for g in &mut d.gaps {
                        if seq <= g.2 && new > g.2 {
                            g.2 = new;
                        }
                    }
                    close(d, &mut rec, seq);
                }
            } else if l.poss_dup() && seq < d.expected {
                for g in &mut d.gaps {
                    if seq == g.2 {
                        g.2 += 1;
                    }
                }
                close(d, &mut rec, seq);
            } else if seq == d.expected {
                d.expected += 1;
            } else if seq > d.expected {
                rec("gap", d.expected, seq);
                d.gaps.push((d.expected, seq - 1, d.expected));
                d.expected = seq + 1;
            } else {
                rec("duplicate", d.expected, seq);
            }
        }
    }
    out
}

/// Arrival time in µs of a `YYYYMMDD-HH:MM:SS.nnnnnnnnn` prefix.
fn arrival_us(prefix: &str) -> i64 {
    let n = |a: usize, b: usize| prefix[a..b].parse::<i64>().expect("digits");
    let (y, m, d) = (n(0, 4), n(4, 6), n(6, 8));
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + (153 * m + 2) / 5 + d - 1;
    let days = era * 146_097 + doe - 719_468;
    ((days * 86_400 + n(9, 11) * 3600 + n(12, 14) * 60 + n(15, 17)) * 1_000_000) + n(18, 27) / 1000
}

/// Orders with a TimingAnomaly, recomputed from the files: fills paired by ExecID (by CumQty at
/// HOTSPOT), and the first non-fill report of each status on each stream.
fn observed_timing(p: &Parsed, threshold_us: i64) -> BTreeSet<String> {
    let mut firsts: [BTreeMap<(String, String), i64>; 2] = [BTreeMap::new(), BTreeMap::new()];
    for (s, lines) in p.streams.iter().enumerate() {
        let mut seen_ids = BTreeSet::new();
        for l in lines.iter().filter(|l| l.is_er()) {
            if !seen_ids.insert(l.req(17).to_string()) {
                continue;
            }
            let key = if l.is_fill() {
                if l.req(30) == "HOTSPOT" { format!("cum {}", l.req(14)) } else { format!("id {}", l.req(17)) }
            } else if matches!(l.req(150), "H" | "G") {
                continue;
            } else {
                format!("status {}", l.status())
            };
            firsts[s].entry((l.root(), key)).or_insert_with(|| arrival_us(&l.prefix));
        }
    }
    firsts[0]
        .iter()
        .filter_map(|(k, a)| firsts[1].get(k).filter(|b| (a - *b).abs() > threshold_us).map(|_| k.0.clone()))
        .collect()
}

fn expected_order_kind(sc: Scenario) -> Option<&'static str> {
    match sc {
        Scenario::MissingFill => Some("MissingFill"),
        Scenario::Phantom => Some("PhantomOrder"),
        Scenario::CancelOneSide => Some("StateMismatch"),
        Scenario::ReplaceOneSide | Scenario::FillMismatch | Scenario::Bust | Scenario::Correct => {
            Some("QuantityMismatch")
        }
        Scenario::Lag => Some("TimingAnomaly"),
        _ => None,
    }
}

fn expected_gap_kinds(sc: Scenario) -> &'static [&'static str] {
    match sc {
        Scenario::GapResend | Scenario::GapFill => &["gap", "gap_filled"],
        Scenario::GapUnfilled => &["gap"],
        Scenario::Duplicate => &["duplicate"],
        Scenario::Reset => &["reset"],
        _ => &[],
    }
}

#[test]
fn every_scenario_is_well_formed_and_injects_its_fault() {
    for sc in Scenario::ALL {
        let p = run(&cfg(sc, 11));
        let day = &p.day;
        assert_eq!(p.streams[0].len(), day.primary_messages, "{sc}");
        assert_eq!(p.streams[1].len(), day.dropcopy_messages, "{sc}");

        // BeginString per session; header order; SendingTime not after arrival.
        for lines in &p.streams {
            for l in lines {
                let want = if l.req(49) == "FXADC" || l.req(56) == "FXADC" { "FIX.4.2" } else { "FIX.4.4" };
                assert_eq!(l.req(8), want, "{sc}: {l:?}");
                let tags: Vec<u32> = l.fields.iter().map(|(t, _)| *t).collect();
                let header: Vec<u32> =
                    tags[3..].iter().copied().take_while(|t| matches!(t, 34 | 43 | 49 | 52 | 56 | 122)).collect();
                let want_header: &[u32] = if l.poss_dup() { &[34, 43, 49, 52, 56, 122] } else { &[34, 49, 52, 56] };
                assert_eq!(header, want_header, "{sc}: {l:?}");
                let body = &tags[3 + header.len()..tags.len() - 1];
                assert!(body.windows(2).all(|w| w[0] < w[1]), "body tags in order: {l:?}");
                assert!(l.req(52) <= &l.prefix[..21], "SendingTime after arrival: {l:?}");
            }
        }

        // TimingAnomaly ground truth matches the arrival times in the files.
        let timing: BTreeSet<String> =
            order_kinds(day).into_iter().filter(|(_, k)| *k == "TimingAnomaly").map(|(o, _)| o).collect();
        assert_eq!(observed_timing(&p, 250_000), timing, "{sc}");

        // Sequence numbers show exactly the injected gap records.
        assert_eq!(observed_gaps(&p), gap_records(day), "{sc}");

        // The fault kind is in the ground truth, and nothing else is.
        let kinds: BTreeSet<&str> = order_kinds(day).into_iter().map(|(_, k)| k).collect();
        let gaps: BTreeSet<String> = gap_records(day).into_iter().map(|g| g.2).collect();
        match sc {
            Scenario::Clean | Scenario::InternalReject => assert!(day.expected.is_empty(), "{sc}: {:?}", day.expected),
            Scenario::Mixed => {
                for k in ["MissingFill", "PhantomOrder", "StateMismatch", "QuantityMismatch", "TimingAnomaly"] {
                    assert!(kinds.contains(k), "mixed lacks {k}");
                }
                for k in ["gap", "gap_filled", "duplicate", "reset"] {
                    assert!(gaps.contains(k), "mixed lacks {k}");
                }
            }
            _ => {
                if let Some(k) = expected_order_kind(sc) {
                    assert!(kinds.contains(k), "{sc}: {kinds:?}");
                    let n = order_kinds(day).iter().filter(|(_, kk)| *kk == k).count();
                    assert_eq!(n, (0.02 * ORDERS as f64).round() as usize, "{sc}: one record per injection");
                    let allowed: BTreeSet<&str> = [k, "TimingAnomaly"].into();
                    assert!(kinds.is_subset(&allowed), "{sc}: {kinds:?}");
                } else {
                    assert!(kinds.iter().all(|k| *k == "TimingAnomaly"), "{sc}: {kinds:?}");
                }
                let want: BTreeSet<String> = expected_gap_kinds(sc).iter().map(|s| s.to_string()).collect();
                assert_eq!(gaps, want, "{sc}");
            }
        }

        // Per order and stream, reports arrive in strictly increasing time (PossDup resends aside).
        for (s, lines) in p.streams.iter().enumerate() {
            let mut last: BTreeMap<String, &str> = BTreeMap::new();
            for l in lines.iter().filter(|l| l.is_er() && !l.poss_dup()) {
                if let Some(prev) = last.insert(l.root(), &l.prefix) {
                    assert!(prev < l.prefix.as_str(), "{sc} {}: {} reordered at {}", STREAMS[s], l.root(), l.prefix);
                }
            }
        }

        // Files are sorted by arrival.
        for lines in &p.streams {
            assert!(lines.windows(2).all(|w| w[0].prefix <= w[1].prefix), "{sc}: file not sorted");
        }

        // ExecIDs are unique per stream; a repeat is only a duplicate line or a PossDup resend.
        for lines in &p.streams {
            let mut ids: BTreeMap<&str, (String, u64)> = BTreeMap::new();
            for l in lines.iter().filter(|l| l.is_er() && !l.poss_dup()) {
                let key = (l.session(), l.num(34));
                if let Some(prev) = ids.insert(l.req(17), key.clone()) {
                    assert_eq!(prev, key, "{sc}: ExecID {} reused", l.req(17));
                }
            }
        }

        // Drop copy never shows pending states; the FIX 4.2 drop copy uses 1/2 for fills.
        for l in p.streams[1].iter().filter(|l| l.is_er()) {
            assert!(!matches!(l.req(39), "A" | "6" | "E"), "{sc}: pending state on drop copy {l:?}");
            if l.req(8) == "FIX.4.2" {
                assert!(!matches!(l.req(150), "F" | "H" | "G"), "{sc}: {l:?}");
                if l.req(150) == "5" {
                    assert_eq!(l.req(39), "5");
                }
            }
            let hs = l.req(49) == "HSDC";
            assert_eq!(l.req(17).starts_with("HS"), hs, "{sc}: {l:?}");
        }
    }
}

/// Reports of each order per stream, in file order, without resends and duplicates.
fn reports(lines: &[Line]) -> BTreeMap<String, Vec<&Line>> {
    let mut seen = BTreeSet::new();
    let mut out: BTreeMap<String, Vec<&Line>> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.is_er()) {
        if seen.insert(l.req(17).to_string()) {
            out.entry(l.root()).or_default().push(l);
        }
    }
    out
}

#[test]
fn clean_day_streams_agree() {
    let p = run(&GenConfig { orders: 600, seed: 3, scenario: Scenario::Clean, ..GenConfig::default() });
    let prim = reports(&p.streams[0]);
    let dc = reports(&p.streams[1]);
    assert!(dc.keys().all(|k| prim.contains_key(k)), "drop-copy-only order on a clean day");
    let mut internal = 0;
    for (root, pr) in &prim {
        let Some(dr) = dc.get(root) else {
            assert!(pr.iter().all(|l| matches!(l.req(39), "A" | "8")), "{root} primary-only but not rejected");
            assert_eq!(pr.last().map(|l| l.req(39)), Some("8"));
            internal += 1;
            continue;
        };
        let (pl, dl) = (pr[pr.len() - 1], dr[dr.len() - 1]);
        for tag in [14, 6, 38, 37, 55, 54, 1, 64] {
            assert_eq!(pl.req(tag), dl.req(tag), "{root}: tag {tag} differs at the end");
        }
        assert_eq!(pl.status(), dl.status(), "{root}: final status");
        let fills = |v: &Vec<&Line>| v.iter().filter(|l| l.is_fill()).map(|l| l.num(14)).collect::<Vec<_>>();
        assert_eq!(fills(pr), fills(dr), "{root}: fills by CumQty");
        // Same ExecID on both streams => same state, AvgPx string included.
        for d in dr {
            if let Some(pm) = pr.iter().find(|l| l.req(17) == d.req(17)) {
                for tag in [14, 6, 38, 31, 32, 151] {
                    assert_eq!(pm.get(tag), d.get(tag), "{root}: tag {tag} of {}", d.req(17));
                }
                assert_eq!(pm.status(), d.status());
            }
        }
        assert!(pr.iter().all(|l| l.req(100) == l.req(37).split('-').next().unwrap_or_default()));
    }
    assert!(internal > 0, "some internal rejects expected at ~1%");
    assert!(p.day.expected.is_empty());
}

fn order_lines<'a>(p: &'a Parsed, stream: usize, order: &str) -> Vec<&'a Line> {
    p.streams[stream].iter().filter(|l| l.is_er() && !l.poss_dup() && l.root() == order).collect()
}

fn stream_index(name: &str) -> usize {
    STREAMS.iter().position(|s| *s == name).unwrap_or_else(|| panic!("stream {name}"))
}

#[test]
fn order_faults_have_the_injected_shape() {
    for sc in [
        Scenario::MissingFill,
        Scenario::Phantom,
        Scenario::CancelOneSide,
        Scenario::ReplaceOneSide,
        Scenario::FillMismatch,
        Scenario::Bust,
        Scenario::Correct,
    ] {
        for seed in [1, 2] {
            let p = run(&cfg(sc, seed));
            for e in &p.day.expected {
                let Expected::Order { order_id, kind, side, exec_id, .. } = e else { continue };
                if *kind == "TimingAnomaly" {
                    continue;
                }
                let on = [order_lines(&p, 0, order_id), order_lines(&p, 1, order_id)];
                match sc {
                    Scenario::MissingFill => {
                        let missing = stream_index(side.unwrap_or_default());
                        let other = 1 - missing;
                        let id = exec_id.clone().unwrap_or_default();
                        assert!(on[other].iter().any(|l| l.is_fill() && l.req(17) == id), "{order_id} {id}");
                        let fills = |v: &Vec<&Line>| v.iter().filter(|l| l.is_fill()).count();
                        assert_eq!(fills(&on[missing]) + 1, fills(&on[other]), "{order_id}");
                    }
                    Scenario::Phantom => {
                        let seen = stream_index(side.unwrap_or_default());
                        assert!(!on[seen].is_empty() && on[1 - seen].is_empty(), "{order_id}");
                        assert!(on[seen].iter().any(|l| l.req(39) != "8" && l.req(39) != "A"), "{order_id}");
                    }
                    Scenario::CancelOneSide => {
                        let n = on.iter().filter(|v| v.iter().any(|l| l.req(39) == "4")).count();
                        assert_eq!(n, 1, "{order_id}");
                        for v in &on {
                            assert!(matches!(v.last().map(|l| l.req(39)), Some("4" | "0" | "1")), "{order_id}");
                        }
                    }
                    Scenario::ReplaceOneSide => {
                        let n = on.iter().filter(|v| v.iter().any(|l| l.req(150) == "5")).count();
                        assert_eq!(n, 1, "{order_id}");
                        assert_ne!(on[0].last().map(|l| l.req(38)), on[1].last().map(|l| l.req(38)));
                    }
                    Scenario::FillMismatch => {
                        let differs = on[0].iter().any(|a| {
                            on[1].iter().any(|b| a.is_fill() && b.req(17) == a.req(17) && b.req(31) != a.req(31))
                        });
                        assert!(differs, "{order_id}");
                    }
                    Scenario::Bust | Scenario::Correct => {
                        let et = if sc == Scenario::Bust { "H" } else { "G" };
                        let with: Vec<usize> = (0..2).filter(|&s| on[s].iter().any(|l| l.req(150) == et)).collect();
                        assert_eq!(with.len(), 1, "{order_id}");
                        let s = with[0];
                        let adj = on[s].last().copied().unwrap_or_else(|| panic!("{order_id}"));
                        assert_eq!(adj.req(150), et, "adjustment is the last report");
                        assert!(on[s].iter().any(|l| l.is_fill() && l.req(17) == adj.req(19)), "{order_id}: ExecRefID");
                        assert_ne!(adj.req(6), on[1 - s].last().map(|l| l.req(6)).unwrap_or_default());
                        assert_ne!(adj.req(8), "FIX.4.2");
                    }
                    _ => unreachable!(),
                }
            }
        }
    }
}

#[test]
fn larger_mixed_day_keeps_its_invariants() {
    let p = run(&GenConfig { orders: 3_000, seed: 99, scenario: Scenario::Mixed, ..GenConfig::default() });
    assert_eq!(observed_gaps(&p), gap_records(&p.day));
    // 3000 orders: round(0.02 * 3000 / 13) = 5 injections per kind.
    let kinds = order_kinds(&p.day);
    assert_eq!(kinds.iter().filter(|(_, k)| *k == "MissingFill").count(), 5);
    assert_eq!(kinds.iter().filter(|(_, k)| *k == "PhantomOrder").count(), 5);
    assert!(kinds.iter().filter(|(_, k)| *k == "TimingAnomaly").count() >= 5);
    for (i, e) in p.day.expected.iter().enumerate() {
        let line = e.to_json_line(i as u64 + 1);
        assert!(line.starts_with(&format!("{{\"id\":{},\"type\":\"", i + 1)) && line.ends_with('}'), "{line}");
    }
}

/// The full-size day of the brief (about a million messages); run with
/// `cargo test --release -p fxrecon-gen -- --ignored`.
#[test]
#[ignore]
fn full_size_mixed_day() {
    let c = GenConfig { orders: 125_000, seed: 5, scenario: Scenario::Mixed, ..GenConfig::default() };
    let p = run(&c);
    assert!(p.day.primary_messages + p.day.dropcopy_messages > 1_000_000);
    assert_eq!(observed_gaps(&p), gap_records(&p.day));
    let heartbeats = p.streams[0].iter().filter(|l| l.get(35) == Some("0")).count();
    assert!(heartbeats >= 4 * 8, "heartbeats every 30 s each way: {heartbeats}");
    let timing: BTreeSet<String> =
        order_kinds(&p.day).into_iter().filter(|(_, k)| *k == "TimingAnomaly").map(|(o, _)| o).collect();
    assert_eq!(observed_timing(&p, 250_000), timing);
}

#[test]
fn odd_configs_do_not_panic() {
    let base = GenConfig { orders: 40, ..GenConfig::default() };
    let configs = [
        GenConfig { orders: 0, ..base.clone() },
        GenConfig { orders: 1, ..base.clone() },
        GenConfig { fault_rate: f64::NAN, ..base.clone() },
        GenConfig { fault_rate: -1.0, ..base.clone() },
        GenConfig { fault_rate: 1e12, ..base.clone() },
        GenConfig { grace_ms: 0, timing_ms: -5, scenario: Scenario::Lag, ..base.clone() },
        GenConfig { start_time_us: i64::MAX, ..base.clone() },
        GenConfig { start_time_us: i64::MIN, ..base.clone() },
    ];
    for c in configs {
        for sc in [Scenario::Mixed, Scenario::GapResend, Scenario::Lag] {
            let day = generate(&GenConfig { scenario: sc, ..c.clone() });
            parse(&day.primary);
            parse(&day.dropcopy);
        }
    }
}
