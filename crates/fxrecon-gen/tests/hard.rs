//! The issue 22 situations of the generator (`Scenario::HARD`): each scenario's files show the
//! situation as the issue describes it, framed as FIX (BodyLength and CheckSum, data fields
//! read by their length), and its ground truth holds exactly the records the contract asks for.

use std::collections::{BTreeMap, BTreeSet};

use fxrecon_gen::{Expected, GenConfig, GeneratedDay, Scenario, generate};

/// Length tag → data tag of the data fields the generator writes.
const DATA: [(u32, u32); 5] = [(90, 91), (95, 96), (212, 213), (354, 355), (93, 89)];

/// One parsed log line.
#[derive(Debug, Clone)]
struct Line {
    /// Line number in its file (0-based).
    at: usize,
    /// `YYYYMMDD-HH:MM:SS.nnnnnnnnn`.
    prefix: String,
    fields: Vec<(u32, Vec<u8>)>,
}

impl Line {
    fn get(&self, tag: u32) -> Option<&str> {
        self.fields.iter().find(|(t, _)| *t == tag).map(|(_, v)| std::str::from_utf8(v).unwrap_or("<bytes>"))
    }
    fn req(&self, tag: u32) -> &str {
        self.get(tag).unwrap_or_else(|| panic!("tag {tag} missing in {self:?}"))
    }
    fn has(&self, tag: u32) -> bool {
        self.get(tag).is_some()
    }
    fn msg_type(&self) -> &str {
        self.req(35)
    }
    fn is_er(&self) -> bool {
        self.msg_type() == "8"
    }
    fn poss_dup(&self) -> bool {
        self.get(43) == Some("Y")
    }
    fn is_fill(&self) -> bool {
        self.is_er() && matches!(self.req(150), "F" | "1" | "2")
    }
    /// The order's number: from ClOrdID `Cnnnnnnn[.Rk|.X]`, else OrderID `VENUE-nnnnnn[-k]`.
    fn root(&self) -> String {
        match self.get(11) {
            Some(cl) => cl.split('.').next().unwrap_or_default().to_string(),
            None => format!("C{:07}", self.req(37).split('-').nth(1).unwrap().parse::<u64>().unwrap()),
        }
    }
    /// Arrival in µs of the day (enough to compare times within one generated day).
    fn arrival_us(&self) -> i64 {
        let n = |a: usize, b: usize| self.prefix[a..b].parse::<i64>().unwrap();
        ((n(9, 11) * 60 + n(12, 14)) * 60 + n(15, 17)) * 1_000_000 + n(18, 27) / 1000
    }
}

/// Parses a file, reading data fields by their length and checking BodyLength and CheckSum.
fn parse(bytes: &[u8]) -> Vec<Line> {
    let mut out = Vec::new();
    for (at, raw) in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()).enumerate() {
        let sep = raw.windows(3).position(|w| w == b" : ").expect("prefix separator");
        let prefix = String::from_utf8(raw[..sep].to_vec()).unwrap();
        let msg = &raw[sep + 3..];
        let mut fields = Vec::new();
        let mut i = 0;
        let mut body_start = 0;
        let mut trailer_at = 0;
        while i < msg.len() {
            let eq = i + msg[i..].iter().position(|&b| b == b'=').expect("=");
            let tag: u32 = std::str::from_utf8(&msg[i..eq]).unwrap().parse().expect("numeric tag");
            let end = eq + 1 + msg[eq + 1..].iter().position(|&b| b == 1).expect("SOH");
            let value = msg[eq + 1..end].to_vec();
            if tag == 10 {
                trailer_at = i;
            }
            fields.push((tag, value.clone()));
            i = end + 1;
            if tag == 9 {
                body_start = i;
            }
            if let Some(&(_, data)) = DATA.iter().find(|(l, _)| *l == tag) {
                let len: usize = std::str::from_utf8(&value).unwrap().parse().unwrap();
                let head = format!("{data}=");
                assert!(msg[i..].starts_with(head.as_bytes()), "data field {data} right after {tag}");
                let start = i + head.len();
                assert_eq!(msg[start + len], 1, "data field {data} ends with SOH after {len} bytes");
                fields.push((data, msg[start..start + len].to_vec()));
                i = start + len + 1;
            }
        }
        let line = Line { at, prefix, fields };
        let body_len: usize = line.req(9).parse().unwrap();
        assert_eq!(trailer_at - body_start, body_len, "BodyLength of line {at}");
        let sum = msg[..trailer_at].iter().map(|&b| u32::from(b)).sum::<u32>() % 256;
        assert_eq!(format!("{sum:03}"), line.req(10), "CheckSum of line {at}");
        out.push(line);
    }
    out
}

struct Parsed {
    day: GeneratedDay,
    /// Lines of the primary and drop-copy files.
    files: [Vec<Line>; 2],
}

fn day(scenario: Scenario, orders: usize, seed: u64) -> Parsed {
    let day = generate(&GenConfig { orders, seed, scenario, fault_rate: 0.03, ..GenConfig::default() });
    let files = [parse(&day.primary), parse(&day.dropcopy)];
    Parsed { day, files }
}

impl Parsed {
    /// Orders labelled `label`.
    fn orders(&self, label: &str) -> Vec<String> {
        let v: Vec<String> = self.day.labels.iter().filter(|(_, l)| *l == label).map(|(o, _)| o.clone()).collect();
        assert!(!v.is_empty(), "no {label} order");
        v
    }
    /// The reports (ExecutionReports and OrderCancelRejects) of `order` on stream `s`, in
    /// file order, without PossDup resends.
    fn reports(&self, s: usize, order: &str) -> Vec<&Line> {
        self.files[s]
            .iter()
            .filter(|l| matches!(l.msg_type(), "8" | "9") && !l.poss_dup() && l.root() == order)
            .collect()
    }
    /// The ground-truth order records: order → kinds.
    fn kinds(&self) -> BTreeMap<String, BTreeSet<&'static str>> {
        let mut out: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
        for e in &self.day.expected {
            if let Expected::Order { order_id, kind, .. } = e {
                out.entry(order_id.clone()).or_default().insert(kind);
            }
        }
        out
    }
    /// Kinds of the ground truth for `order`, TimingAnomaly aside.
    fn kinds_of(&self, order: &str) -> BTreeSet<&'static str> {
        let mut k = self.kinds().remove(order).unwrap_or_default();
        k.remove("TimingAnomaly");
        k
    }
    fn gap_kinds(&self) -> BTreeSet<&'static str> {
        self.day
            .expected
            .iter()
            .filter_map(|e| if let Expected::Gap { kind, .. } = e { Some(*kind) } else { None })
            .collect()
    }
}

const P: usize = 0;
const D: usize = 1;

#[test]
fn every_hard_scenario_is_deterministic_framed_and_labelled() {
    for sc in Scenario::HARD {
        let a = day(sc, 400, 9);
        let b = generate(&GenConfig { orders: 400, seed: 9, scenario: sc, fault_rate: 0.03, ..GenConfig::default() });
        assert!(a.day == b, "{sc}: same config, same bytes");
        assert_eq!((a.files[P].len(), a.files[D].len()), (a.day.primary_messages, a.day.dropcopy_messages), "{sc}");
        for lines in &a.files {
            assert!(lines.windows(2).all(|w| w[0].prefix <= w[1].prefix), "{sc}: file sorted by arrival");
            for l in lines {
                assert!(l.req(52) <= &l.prefix[..21], "{sc}: SendingTime after arrival: {l:?}");
            }
        }
        if sc != Scenario::Hard && sc != Scenario::LateOriginal {
            assert!(a.day.labels.iter().any(|(_, l)| *l == sc.name()), "{sc}: labels name its orders");
        }
    }
}

#[test]
fn a_refused_replace_is_a_pending_replace_an_order_cancel_reject_and_a_restatement_of_the_original() {
    let p = day(Scenario::RefusedReplace, 600, 1);
    for o in p.orders("refused_replace") {
        let pr = p.reports(P, &o);
        let pending = pr.iter().position(|l| l.is_er() && l.req(150) == "E").unwrap_or_else(|| panic!("{o}"));
        let (refused, accepted) = (pr[pending].req(11), pr[pending].req(41));
        let reject = pr.iter().position(|l| l.msg_type() == "9").unwrap_or_else(|| panic!("{o}"));
        assert!(reject > pending && pr[reject].req(11) == refused && pr[reject].req(41) == accepted, "{o}");
        assert_eq!(pr[pending].req(38), pr[pending - 1].req(38), "{o}: PendingReplace quotes the order as it stands");
        for s in [P, D] {
            let r = p.reports(s, &o);
            let restated = r.iter().find(|l| l.is_er() && l.req(150) == "D").unwrap_or_else(|| panic!("{o}"));
            assert_eq!(restated.req(11), accepted, "{o}: restated on the accepted ClOrdID");
            assert!(!restated.has(41));
            assert!(restated.req(38).parse::<u64>().unwrap() < pr[0].req(38).parse::<u64>().unwrap(), "{o}: smaller");
            assert!(r.iter().all(|l| l.msg_type() == "9" || l.req(11) != refused || l.req(150) == "E"), "{o}");
        }
        assert!(p.reports(D, &o).iter().all(|l| l.msg_type() == "8"), "{o}: the drop copy has no reject");
        assert!(p.kinds_of(&o).is_empty(), "{o}: nothing to report");
    }
}

#[test]
fn a_fix42_replace_down_to_the_filled_quantity_is_replaced_with_leaves_zero_against_filled() {
    let p = day(Scenario::Fix42ReplaceToFilled, 600, 2);
    for o in p.orders("fix42_replace_to_filled") {
        let d = p.reports(D, &o);
        let last = d.last().unwrap();
        assert_eq!((last.req(8), last.req(150), last.req(39), last.req(151)), ("FIX.4.2", "5", "5", "0"), "{o}");
        assert_eq!(last.req(14), last.req(38), "{o}: replaced down to the filled quantity");
        assert!(last.req(14) != "0");
        let pl = *p.reports(P, &o).last().unwrap();
        assert_eq!((pl.req(8), pl.req(150), pl.req(39), pl.req(151)), ("FIX.4.4", "5", "2", "0"), "{o}");
        assert!(p.kinds_of(&o).is_empty(), "{o}");
    }
}

#[test]
fn a_new_order_id_per_replace_on_a_drop_copy_keyed_only_by_order_id() {
    let p = day(Scenario::NewOrderIdPerReplace, 600, 3);
    for o in p.orders("new_order_id_per_replace") {
        let d = p.reports(D, &o);
        assert!(d.iter().all(|l| !l.has(11) && !l.has(41)), "{o}: keyed only by OrderID");
        let ids: BTreeSet<&str> = d.iter().map(|l| l.req(37)).collect();
        assert!(ids.len() >= 2, "{o}: a new OrderID per replace: {ids:?}");
        let pr = p.reports(P, &o);
        for l in pr.iter().filter(|l| l.req(150) == "5") {
            assert!(l.req(37).ends_with(&format!("-{}", l.req(11).rsplit('R').next().unwrap())), "{o}: {l:?}");
        }
        let pids: BTreeSet<&str> = pr.iter().map(|l| l.req(37)).collect();
        assert_eq!(ids, pids, "{o}: the primary carries every OrderID");
        assert!(p.kinds_of(&o).is_empty(), "{o}");
    }
}

#[test]
fn chain_links_reach_the_drop_copy_out_of_order_ahead_of_the_primary() {
    let p = day(Scenario::ChainOutOfOrder, 1000, 4);
    let mut swapped = 0;
    let mut missing = 0;
    for o in p.orders("chain_out_of_order") {
        let d = p.reports(D, &o);
        let at = |cl: &str| d.iter().position(|l| l.req(150) == "5" && l.get(11) == Some(cl));
        if let (Some(c), Some(dd)) = (at(&format!("{o}.R2")), at(&format!("{o}.R3"))) {
            assert!(dd < c, "{o}: D (naming C) before C on the drop copy");
            assert_eq!(d[dd].req(41), format!("{o}.R2"));
            swapped += 1;
        }
        let pr = p.reports(P, &o);
        if let (Some(dd), Some(pc)) =
            (at(&format!("{o}.R3")), pr.iter().find(|l| l.req(150) == "5" && l.req(11) == format!("{o}.R2")))
        {
            assert!(d[dd].arrival_us() < pc.arrival_us(), "{o}: the drop copy has D before the primary has C");
        }
        let root_fills = |v: &[&Line]| v.iter().filter(|l| l.is_fill()).all(|l| l.req(11) == o);
        let (pf, df) = (root_fills(&pr), root_fills(&d));
        assert!(
            pf != df || pr.iter().chain(&d).filter(|l| l.is_fill()).all(|l| l.req(11) == o),
            "{o}: root on one side"
        );
        let kinds = p.kinds_of(&o);
        if kinds.contains("MissingFill") {
            missing += 1;
            let fills = |v: &[&Line]| v.iter().filter(|l| l.is_fill()).count();
            assert_eq!(fills(&pr).abs_diff(fills(&d)), 1, "{o}: one fill missing");
        }
        assert!(kinds.iter().all(|k| *k == "MissingFill"), "{o}: {kinds:?}");
    }
    assert!(swapped > 20 && missing > 10, "{swapped} swapped, {missing} with a missing fill");
}

#[test]
fn a_late_bust_after_retirement_and_a_whole_session_replay() {
    let p = day(Scenario::LateAfterRetirement, 600, 5);
    let busted: BTreeSet<String> =
        p.day.labels.iter().filter(|(_, l)| *l == "late_after_retirement").map(|(o, _)| o.clone()).collect();
    let kinds = p.kinds();
    let mut late = 0;
    for o in &busted {
        let pr = p.reports(P, o);
        let Some(bust) = pr.iter().find(|l| l.req(150) == "H") else { continue };
        late += 1;
        let fill = pr.iter().find(|l| l.req(17) == bust.req(19)).unwrap_or_else(|| panic!("{o}: ExecRefID"));
        let after = bust.arrival_us() - fill.arrival_us();
        assert!((90_000_000..=95_100_000).contains(&after), "{o}: bust {after} µs after its fill");
        assert!(p.reports(D, o).iter().all(|l| l.req(150) != "H"), "{o}: on the primary only");
        assert_eq!(kinds.get(o).map(|k| k.contains("QuantityMismatch")), Some(true), "{o}");
    }
    assert_eq!(late, (0.03f64 * 600.0).round() as usize);
    // One drop-copy session replayed from 2 after a ResendRequest 2..0: every message it had
    // sent, its reports PossDupFlag=Y (OrigSendingTime), its heartbeats as GapFills.
    let rr: Vec<&Line> = p.files[D].iter().filter(|l| l.msg_type() == "2").collect();
    assert_eq!(rr.len(), 1);
    assert_eq!((rr[0].req(7), rr[0].req(16)), ("2", "0"));
    let venue = rr[0].req(56);
    let sent: Vec<&Line> = p.files[D].iter().filter(|l| l.req(49) == venue && l.at < rr[0].at).collect();
    let resent: Vec<&Line> = p.files[D].iter().filter(|l| l.req(49) == venue && l.poss_dup()).collect();
    let numbers = |v: &[&Line]| {
        let mut n = BTreeSet::new();
        for l in v {
            let seq: u64 = l.req(34).parse().unwrap();
            let to = if l.msg_type() == "4" { l.req(36).parse().unwrap() } else { seq + 1 };
            n.extend(seq..to);
        }
        n
    };
    assert_eq!(numbers(&resent), numbers(&sent[1..]), "every number from 2 re-sent");
    let ids = |v: &[&Line]| v.iter().filter(|l| l.is_er()).map(|l| l.req(17).to_string()).collect::<BTreeSet<_>>();
    assert_eq!(ids(&resent), ids(&sent));
    assert!(resent.iter().all(|l| l.has(122) && (l.is_er() || (l.msg_type() == "4" && l.req(123) == "Y"))));
    let last_report =
        p.files.iter().flatten().filter(|l| l.is_er() && !l.poss_dup()).map(Line::arrival_us).max().unwrap();
    let wait = rr[0].arrival_us() - last_report;
    assert!((80_000_000..=82_000_000).contains(&wait), "replayed {wait} µs after the last report");
    // Nothing but the late busts is to be reported.
    assert!(kinds.values().flatten().all(|k| *k == "QuantityMismatch" || *k == "TimingAnomaly"), "{kinds:?}");
    assert!(p.gap_kinds().is_empty());
}

#[test]
fn data_fields_hold_soh_equals_and_checksum_lookalikes() {
    let p = day(Scenario::DataFields, 400, 6);
    let orders: BTreeSet<String> = p.orders("data_fields").into_iter().collect();
    let mut seen = 0;
    for lines in &p.files {
        for l in lines.iter().filter(|l| matches!(l.msg_type(), "8")) {
            let with = DATA.iter().filter(|(_, d)| l.has(*d)).count();
            assert!(with == 0 || with == DATA.len(), "{l:?}");
            if with > 0 {
                seen += 1;
                assert!(orders.contains(&l.root()));
                let raw = &l.fields.iter().find(|(t, _)| *t == 96).unwrap().1;
                assert!(raw.contains(&1) && raw.windows(3).any(|w| w == b"10=") && raw.contains(&b'='), "{raw:?}");
                assert_eq!(l.fields.iter().rev().nth(1).map(|f| f.0), Some(89), "Signature last before the CheckSum");
            }
        }
    }
    assert!(seen > 20);
    for o in orders {
        assert!(p.kinds_of(&o).is_empty(), "{o}");
    }
}

/// Decimals of a FIX decimal as printed.
fn decimals(v: &str) -> usize {
    v.split_once('.').map_or(0, |(_, f)| f.len())
}

/// A decimal of at most 8 decimals in units of 10^-8.
fn units(v: &str) -> i64 {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    int.parse::<i64>().unwrap() * 100_000_000 + format!("{frac:0<8}").parse::<i64>().unwrap()
}

/// Contract 3: the value with more decimals, rounded half-even to the other's decimals,
/// equals it.
fn equal_as_rounded(a: &str, b: &str) -> bool {
    let (more, fewer) = if decimals(a) >= decimals(b) { (a, b) } else { (b, a) };
    let unit = 10i64.pow(8 - decimals(fewer) as u32);
    let (q, r) = (units(more) / unit, units(more) % unit);
    let q = if 2 * r > unit || (2 * r == unit && q % 2 == 1) { q + 1 } else { q };
    q * unit == units(fewer)
}

#[test]
fn avg_px_rounded_to_seven_decimals_is_nothing_and_any_other_value_a_quantity_mismatch() {
    let p = day(Scenario::AvgPxRounding, 1000, 7);
    let (mut rounded, mut off) = (0, 0);
    for o in p.orders("avg_px_rounding") {
        let lasts = [P, D].map(|s| *p.reports(s, &o).last().unwrap());
        let (a, b) = (lasts[0].req(6), lasts[1].req(6));
        let kinds = p.kinds_of(&o);
        let eight = |s: usize| p.reports(s, &o).iter().any(|l| decimals(l.req(6)) == 8);
        assert!(!(eight(P) && eight(D)), "{o}: one stream rounds to 7 decimals");
        if kinds.contains("QuantityMismatch") {
            off += 1;
            assert!(decimals(a) == 7 || decimals(b) == 7, "{o}: {a} vs {b}");
            assert!(!equal_as_rounded(a, b), "{o}: {a} vs {b} is no rounding");
        } else {
            rounded += 1;
            assert!(equal_as_rounded(a, b), "{o}: {a} vs {b}");
            assert!(kinds.is_empty(), "{o}: {kinds:?}");
        }
    }
    assert!(rounded > 10 && off > 10, "{rounded} rounded, {off} off");
}

#[test]
fn a_price_only_amend_on_one_stream_is_a_quantity_mismatch() {
    let p = day(Scenario::PriceAmend, 600, 8);
    for o in p.orders("price_amend") {
        let on: Vec<usize> =
            [P, D].into_iter().filter(|&s| p.reports(s, &o).iter().any(|l| l.req(150) == "5")).collect();
        assert_eq!(on.len(), 1, "{o}: amended on one stream");
        let (amended, other) = (*p.reports(on[0], &o).last().unwrap(), *p.reports(1 - on[0], &o).last().unwrap());
        assert_eq!(amended.req(38), other.req(38), "{o}: same quantity");
        assert_ne!(amended.req(44), other.req(44), "{o}: another limit");
        assert!(matches!(amended.req(39), "0" | "1" | "5"), "{o}: still working (FIX 4.2: Replaced)");
        assert_eq!(p.kinds_of(&o), BTreeSet::from(["QuantityMismatch"]), "{o}");
    }
}

#[test]
fn a_replace_by_cancel_and_new_cancels_the_old_leg_and_opens_a_new_one() {
    let p = day(Scenario::CancelNewReplace, 600, 9);
    for o in p.orders("cancel_new_replace") {
        let d = p.reports(D, &o);
        let cancel = d.iter().find(|l| l.req(150) == "4").unwrap_or_else(|| panic!("{o}"));
        let new_leg = d.iter().find(|l| l.req(150) == "0" && l.has(41)).unwrap_or_else(|| panic!("{o}"));
        assert_eq!(cancel.req(11), new_leg.req(41), "{o}: the new leg names the old ClOrdID");
        assert_ne!(cancel.req(37), new_leg.req(37), "{o}: a new OrderID");
        assert_eq!(d.last().unwrap().req(39), "2", "{o}: the new leg fills");
        assert!(p.kinds_of(&o).is_empty(), "{o}");
    }
}

#[test]
fn a_bust_reaches_the_drop_copy_before_its_fill() {
    let p = day(Scenario::BustBeforeFill, 600, 10);
    for o in p.orders("bust_before_fill") {
        let d = p.reports(D, &o);
        let bust = d.iter().position(|l| l.req(150) == "H").unwrap_or_else(|| panic!("{o}"));
        let fill = d.iter().position(|l| l.req(17) == d[bust].req(19)).unwrap_or_else(|| panic!("{o}"));
        assert!(bust < fill, "{o}: the bust first");
        let pr = p.reports(P, &o);
        let pbust = pr.iter().position(|l| l.req(150) == "H").unwrap_or_else(|| panic!("{o}"));
        assert!(
            pr.iter().position(|l| l.req(17) == pr[pbust].req(19)).unwrap() < pbust,
            "{o}: in order on the primary"
        );
        assert!(p.kinds_of(&o).is_empty(), "{o}");
    }
}

#[test]
fn a_venue_only_order_only_ever_rejected_is_a_low_severity_phantom() {
    let p = day(Scenario::VenueOnlyRejected, 600, 11);
    for o in p.orders("venue_only_rejected") {
        assert!(p.reports(P, &o).is_empty(), "{o}");
        let d = p.reports(D, &o);
        assert!(d.len() == 1 && d[0].req(150) == "8" && d[0].req(39) == "8", "{o}");
        let rec = p.day.expected.iter().find_map(|e| match e {
            Expected::Order { order_id, .. } if *order_id == o => Some(e.to_json_line(1)),
            _ => None,
        });
        let rec = rec.unwrap_or_else(|| panic!("{o}"));
        assert!(
            rec.contains("\"type\":\"PhantomOrder\"") && rec.contains("\"severity\":\"low\",\"seen_on\":\"dropcopy\"")
        );
    }
}

#[test]
fn an_original_delivered_after_its_successor_is_a_gap_then_gap_filled() {
    let p = day(Scenario::LateOriginal, 600, 12);
    let mut found = 0;
    for lines in &p.files {
        let mut last: BTreeMap<String, u64> = BTreeMap::new();
        for l in lines.iter().filter(|l| !l.poss_dup()) {
            let seq: u64 = l.req(34).parse().unwrap();
            let session = format!("{}->{}", l.req(49), l.req(56));
            if let Some(&prev) = last.get(&session)
                && seq + 1 == prev
            {
                found += 1;
                let gap = |kind: &str, expected: u64, seen: u64| Expected::Gap {
                    stream: if std::ptr::eq(lines, &p.files[P]) { "primary" } else { "dropcopy" },
                    session: session.clone(),
                    kind: match kind {
                        "gap" => "gap",
                        _ => "gap_filled",
                    },
                    expected,
                    seen,
                };
                assert!(p.day.expected.contains(&gap("gap", seq, seq + 1)), "{session} {seq}");
                assert!(p.day.expected.contains(&gap("gap_filled", seq, seq)), "{session} {seq}");
            }
            last.insert(session, seq);
        }
    }
    assert_eq!(found * 2, p.day.expected.iter().filter(|e| matches!(e, Expected::Gap { .. })).count());
    assert!(found >= 10, "{found}");
    assert!(p.kinds().values().flatten().all(|k| *k == "TimingAnomaly"));
}

#[test]
fn a_fill_lost_in_a_gap_open_past_its_grace_deadline_is_a_missing_fill_with_gap_exposure() {
    let p = day(Scenario::GapExposure, 2000, 13);
    let exposed: Vec<String> = p
        .day
        .expected
        .iter()
        .filter_map(|e| match e {
            Expected::Order { order_id, kind: "MissingFill", gap_exposure: true, .. } => Some(order_id.clone()),
            _ => None,
        })
        .collect();
    let lost = p.orders("gap_exposure");
    assert!(lost.len() >= 3, "{lost:?}");
    assert_eq!(exposed, lost, "every lost fill's MissingFill is decided during its gap");
    assert_eq!(p.gap_kinds(), BTreeSet::from(["gap", "gap_filled"]));
    for o in &lost {
        let fills = |s| p.reports(s, o).iter().filter(|l| l.is_fill()).count();
        assert_eq!(fills(P).abs_diff(fills(D)), 1, "{o}");
    }
}

#[test]
fn absent_tags_are_left_out_on_one_stream_only() {
    let p = day(Scenario::AbsentTags, 600, 14);
    let mut left_out = BTreeSet::new();
    for o in p.orders("absent_tags") {
        let streams: Vec<usize> = [P, D]
            .into_iter()
            .filter(|&s| {
                let r = p.reports(s, &o);
                [38, 6, 151].iter().any(|&t| r.iter().any(|l| !l.has(t)))
                    || r.iter().filter(|l| l.is_fill()).any(|l| !l.has(31) || !l.has(32))
            })
            .collect();
        assert_eq!(streams.len(), 1, "{o}");
        for l in p.reports(streams[0], &o) {
            for t in [38, 6, 151, 31, 32] {
                if !l.has(t) && (l.is_fill() || t > 32) {
                    left_out.insert(t);
                }
            }
        }
        assert!(p.kinds_of(&o).is_empty(), "{o}");
    }
    assert_eq!(left_out, BTreeSet::from([6, 31, 32, 38, 151]));
}

#[test]
fn the_hard_mix_has_every_situation_and_every_classic_fault() {
    let p = day(Scenario::Hard, 3000, 15);
    let labels: BTreeSet<&str> = p.day.labels.iter().map(|(_, l)| *l).collect();
    for sc in Scenario::HARD.iter().filter(|&&s| s != Scenario::Hard) {
        assert!(labels.contains(sc.name()), "no {sc}");
    }
    for k in ["missing_fill", "phantom", "internal_reject", "cancel_one_side", "replace_one_side", "fill_mismatch"] {
        assert!(labels.contains(k), "no {k}");
    }
    assert_eq!(p.gap_kinds(), BTreeSet::from(["duplicate", "gap", "gap_filled", "reset"]));
}
