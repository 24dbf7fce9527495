//! Tests of the reconciler as a whole: events in, records out. Never part of a build other
//! than `cargo test`.

use super::engine::{ReconConfig, Reconciler};
use crate::divergence::{DivergenceKind, Record};
use crate::event::{ExecEvent, ExecType, MsgKind, OrdStatus, Stream, has};
use crate::text::{Id, Name};
use crate::time::Micros;

fn er(stream: Stream, t: i64, clordid: &str, exec_id: &str, et: ExecType, st: OrdStatus) -> ExecEvent {
    ExecEvent {
        stream,
        kind: MsgKind::ExecutionReport,
        event_time: Micros(t),
        cl_ord_id: Id::from_bytes(clordid.as_bytes()).unwrap(),
        exec_id: Id::from_bytes(exec_id.as_bytes()).unwrap(),
        exec_type: et,
        ord_status: st,
        symbol: Name::from_bytes(b"EUR/USD").unwrap(),
        present: has::ORD_STATUS | has::EXEC_TYPE,
        ..ExecEvent::default()
    }
}

/// A store full of live orders: the next new order is reported as CapacityExhausted, every
/// known order keeps reconciling, and once an order finishes its slot is reused.
#[test]
fn full_store_reports_capacity_exhausted_and_loses_nothing_else() {
    let cfg = ReconConfig { max_orders: 2, max_execs: 64, retention_ms: 2000, ..ReconConfig::default() };
    let mut r = Reconciler::new(cfg);
    let mut out: Vec<Record> = Vec::new();
    let (p, d) = (Stream::Primary, Stream::DropCopy);
    r.apply(&er(p, 0, "A", "E1", ExecType::New, OrdStatus::New), &mut out);
    r.apply(&er(p, 1, "B", "E2", ExecType::New, OrdStatus::New), &mut out);
    r.apply(&er(p, 2, "C", "E3", ExecType::New, OrdStatus::New), &mut out);
    assert!(matches!(out.last(), Some(Record::CapacityExhausted(c)) if c.order_id.as_str() == "C"));
    // Known orders still reconcile.
    r.apply(&er(d, 3, "A", "E1", ExecType::New, OrdStatus::New), &mut out);
    r.apply(&er(d, 4, "B", "E2", ExecType::New, OrdStatus::New), &mut out);
    for s in [p, d] {
        r.apply(&er(s, 10, "A", "E9", ExecType::Canceled, OrdStatus::Canceled), &mut out);
    }
    // A is finished: the next new order evicts it instead of being refused.
    r.apply(&er(p, 20, "D", "E4", ExecType::New, OrdStatus::New), &mut out);
    r.apply(&er(d, 21, "D", "E4", ExecType::New, OrdStatus::New), &mut out);
    r.finish(&mut out);
    let capacity = out.iter().filter(|x| matches!(x, Record::CapacityExhausted(_))).count();
    assert_eq!(capacity, 1);
    assert_eq!(r.store_stats().evicted, 1);
    assert!(!out.iter().any(|x| matches!(x, Record::Divergence(_))), "{out:?}");
}

fn kinds(out: &[Record]) -> Vec<DivergenceKind> {
    out.iter()
        .filter_map(|r| match r {
            Record::Divergence(d) => Some(d.kind),
            _ => None,
        })
        .collect()
}

fn fill(stream: Stream, t: i64, exec_id: &str, cum: i64, last: i64, px: i64, status: OrdStatus) -> ExecEvent {
    let mut e = er(stream, t, "F", exec_id, ExecType::Trade, status);
    e.cum_qty = crate::decimal::Qty::from_int(cum);
    e.last_qty = crate::decimal::Qty::from_int(last);
    e.last_px = crate::decimal::Price::from_int(px);
    e.order_qty = crate::decimal::Qty::from_int(100);
    e.present |= has::CUM_QTY | has::LAST_QTY | has::LAST_PX | has::ORDER_QTY;
    e
}

/// Review finding: a primary order seen only as PendingNew is a phantom (only Rejected is
/// exempt).
#[test]
fn primary_pending_new_only_is_a_phantom_but_rejected_only_is_not() {
    let mut r = Reconciler::new(ReconConfig { max_orders: 8, max_execs: 64, ..ReconConfig::default() });
    let mut out = Vec::new();
    r.apply(&er(Stream::Primary, 0, "PN", "E1", ExecType::PendingNew, OrdStatus::PendingNew), &mut out);
    r.apply(&er(Stream::Primary, 0, "RJ", "E2", ExecType::PendingNew, OrdStatus::PendingNew), &mut out);
    r.apply(&er(Stream::Primary, 1, "RJ", "E3", ExecType::Rejected, OrdStatus::Rejected), &mut out);
    r.finish(&mut out);
    assert_eq!(kinds(&out), vec![DivergenceKind::PhantomOrder]);
    assert!(matches!(&out[0], Record::Divergence(d) if d.order_id.as_str() == "PN"));
}

/// Review finding: a bust on one side is a QuantityMismatch whether the other side's copy
/// of the fill arrives before or after the bust.
#[test]
fn one_sided_bust_is_a_quantity_mismatch_whatever_the_arrival_order() {
    for other_fill_at in [150_000, 300_000] {
        let mut r = Reconciler::new(ReconConfig { max_orders: 8, max_execs: 64, ..ReconConfig::default() });
        let mut out = Vec::new();
        let mut evs = vec![
            er(Stream::Primary, 0, "F", "N", ExecType::New, OrdStatus::New),
            er(Stream::DropCopy, 10, "F", "N", ExecType::New, OrdStatus::New),
            fill(Stream::Primary, 100_000, "F1", 100, 100, 1, OrdStatus::Filled),
            fill(Stream::DropCopy, other_fill_at, "F1", 100, 100, 1, OrdStatus::Filled),
        ];
        let mut bust = fill(Stream::Primary, 200_000, "B1", 0, 100, 1, OrdStatus::New);
        bust.exec_type = ExecType::TradeCancel;
        bust.exec_ref_id = Id::from_bytes(b"F1").unwrap();
        evs.push(bust);
        evs.sort_by_key(|e| e.event_time);
        for e in &evs {
            r.apply(e, &mut out);
        }
        r.finish(&mut out);
        assert_eq!(kinds(&out), vec![DivergenceKind::QuantityMismatch], "other fill at {other_fill_at}");
    }
}

/// Review finding: a trade correct on one side that changes only LastPx (no AvgPx sent)
/// still surfaces as a QuantityMismatch after grace.
#[test]
fn one_sided_correction_without_avgpx_is_reported() {
    let mut r = Reconciler::new(ReconConfig { max_orders: 8, max_execs: 64, ..ReconConfig::default() });
    let mut out = Vec::new();
    r.apply(&er(Stream::Primary, 0, "F", "N", ExecType::New, OrdStatus::New), &mut out);
    r.apply(&er(Stream::DropCopy, 10, "F", "N", ExecType::New, OrdStatus::New), &mut out);
    r.apply(&fill(Stream::Primary, 100, "F1", 100, 100, 1, OrdStatus::Filled), &mut out);
    r.apply(&fill(Stream::DropCopy, 200, "F1", 100, 100, 1, OrdStatus::Filled), &mut out);
    let mut correct = fill(Stream::Primary, 300, "C1", 100, 100, 2, OrdStatus::Filled);
    correct.exec_type = ExecType::TradeCorrect;
    correct.exec_ref_id = Id::from_bytes(b"F1").unwrap();
    correct.present &= !has::AVG_PX;
    r.apply(&correct, &mut out);
    r.finish(&mut out);
    assert_eq!(kinds(&out), vec![DivergenceKind::QuantityMismatch]);
}

// ---- Issue 22: the hard days -------------------------------------------------------------

/// An ER of order `id` on `stream` at `t` ms, with the tags named in `tags` ("38=100|6=1.2";
/// also "41=ORIG" and "37=ORDERID").
fn report(stream: Stream, t_ms: i64, id: &str, exec_id: &str, et: ExecType, st: OrdStatus, tags: &str) -> ExecEvent {
    use crate::decimal::{Price, Qty};
    let mut e = er(stream, t_ms * 1000, id, exec_id, et, st);
    for field in tags.split('|').filter(|f| !f.is_empty()) {
        let (tag, v) = field.split_once('=').unwrap();
        let q = || Qty::parse(v.as_bytes()).unwrap();
        let p = || Price::parse(v.as_bytes()).unwrap();
        match tag {
            "38" => (e.order_qty, e.present) = (q(), e.present | has::ORDER_QTY),
            "44" => (e.price, e.present) = (p(), e.present | has::PRICE),
            "32" => (e.last_qty, e.present) = (q(), e.present | has::LAST_QTY),
            "31" => (e.last_px, e.present) = (p(), e.present | has::LAST_PX),
            "14" => (e.cum_qty, e.present) = (q(), e.present | has::CUM_QTY),
            "151" => (e.leaves_qty, e.present) = (q(), e.present | has::LEAVES_QTY),
            "6" => (e.avg_px, e.present) = (p(), e.present | has::AVG_PX),
            "41" => e.orig_cl_ord_id = Id::from_bytes(v.as_bytes()).unwrap(),
            "37" => e.order_id = Id::from_bytes(v.as_bytes()).unwrap(),
            "1" => e.account = Name::from_bytes(v.as_bytes()).unwrap(),
            "54" => e.side = v.as_bytes()[0],
            _ => panic!("tag {tag}"),
        }
    }
    e
}

/// Runs `events` (primary-first ties) then a heartbeat-like wake-up long after, then the
/// end of input; returns every divergence.
fn divergences(events: &[ExecEvent]) -> Vec<crate::divergence::Divergence> {
    let mut r = Reconciler::new(ReconConfig { max_orders: 64, max_execs: 256, ..ReconConfig::default() });
    let mut out = Vec::new();
    for e in events {
        r.apply(e, &mut out);
    }
    r.finish(&mut out);
    out.iter()
        .filter_map(|x| match x {
            Record::Divergence(d) => Some(*d),
            _ => None,
        })
        .collect()
}

fn both(t_ms: i64, id: &str, exec_id: &str, et: ExecType, st: OrdStatus, p: &str, d: &str) -> [ExecEvent; 2] {
    [report(Stream::Primary, t_ms, id, exec_id, et, st, p), report(Stream::DropCopy, t_ms + 1, id, exec_id, et, st, d)]
}

#[test]
fn an_avg_px_rounded_to_fewer_decimals_is_equal_and_any_other_value_is_a_quantity_mismatch() {
    let new = both(0, "A", "A0", ExecType::New, OrdStatus::New, "38=100|14=0|6=0", "38=100|14=0|6=0");
    let fill = |venue_px: &str| {
        both(
            10,
            "A",
            "A1",
            ExecType::Trade,
            OrdStatus::Filled,
            "38=100|32=100|31=1.08456667|14=100|151=0|6=1.08456667",
            &format!("38=100|32=100|31=1.08456667|14=100|151=0|6={venue_px}"),
        )
    };
    let rounded: Vec<_> = new.iter().chain(fill("1.0845667").iter()).copied().collect();
    assert!(divergences(&rounded).is_empty(), "7 decimals is the 8-decimal value rounded half-even");
    let other: Vec<_> = new.iter().chain(fill("1.0845677").iter()).copied().collect();
    let got = divergences(&other);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].kind, DivergenceKind::QuantityMismatch);
    assert!(got[0].to_string().contains("AvgPx"), "{}", got[0]);
}

#[test]
fn a_price_only_amend_of_a_live_order_on_one_stream_is_a_quantity_mismatch_after_grace() {
    let mut ev: Vec<ExecEvent> =
        both(0, "P", "P0", ExecType::New, OrdStatus::New, "38=100|44=1.0845|14=0", "38=100|44=1.0845|14=0").into();
    // The primary amends the limit to 1.0850 (same quantity); the venue never shows it.
    let mut amend =
        report(Stream::Primary, 10, "P2", "P1", ExecType::Replaced, OrdStatus::New, "38=100|44=1.0850|14=0");
    amend.orig_cl_ord_id = Id::from_bytes(b"P").unwrap();
    ev.push(amend);
    let got = divergences(&ev);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].kind, got[0].order_id.as_str()), (DivergenceKind::QuantityMismatch, "P"));
    assert!(got[0].to_string().starts_with("Price differs"), "{}", got[0]);
    assert_eq!(got[0].detected_at, Micros(10_000 + 2_000_000), "decided when grace expires");
}

#[test]
fn the_limit_price_of_a_finished_order_is_not_compared() {
    let mut ev: Vec<ExecEvent> =
        both(0, "Q", "Q0", ExecType::New, OrdStatus::New, "38=100|44=1.0845|14=0", "38=100|44=1.0846|14=0").into();
    ev.extend(both(1, "Q", "Q1", ExecType::Canceled, OrdStatus::Canceled, "38=100|14=0", "38=100|14=0"));
    assert!(divergences(&ev).is_empty());
}

#[test]
fn a_venue_only_order_only_ever_rejected_is_a_phantom_of_low_severity() {
    use crate::divergence::Severity;
    let rejected = [report(Stream::DropCopy, 0, "V", "V0", ExecType::Rejected, OrdStatus::Rejected, "38=100|14=0")];
    let got = divergences(&rejected);
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].kind, got[0].side, got[0].severity),
        (DivergenceKind::PhantomOrder, Some(Stream::DropCopy), Severity::Low)
    );
    let live = [report(Stream::DropCopy, 0, "W", "W0", ExecType::New, OrdStatus::New, "38=100|14=0")];
    assert_eq!(divergences(&live)[0].severity, Severity::High, "a live venue-only order is exposure");
}

#[test]
fn a_missing_fill_or_a_phantom_whose_missing_side_has_an_open_gap_carries_gap_exposure() {
    let seq = |mut e: ExecEvent, n: u64| {
        e.seq = n;
        e.present |= has::SEQ;
        e.sender = Name::from_bytes(if e.stream == Stream::Primary { b"GW" } else { b"VENUE" }).unwrap();
        e.target = Name::from_bytes(b"FIRM").unwrap();
        e
    };
    let day = |gap: bool| {
        let [p, d] = both(0, "G", "G0", ExecType::New, OrdStatus::New, "38=100|14=0", "38=100|14=0");
        let fill =
            report(Stream::Primary, 10, "G", "G1", ExecType::Trade, OrdStatus::Filled, "38=100|32=100|31=1|14=100");
        // The drop copy's next message skips number 3 when `gap`.
        let later = report(Stream::DropCopy, 20, "H", "H0", ExecType::New, OrdStatus::New, "38=1|14=0");
        let h = report(Stream::Primary, 21, "H", "H0", ExecType::New, OrdStatus::New, "38=1|14=0");
        vec![seq(p, 1), seq(d, 1), seq(d, 2), seq(fill, 2), seq(later, if gap { 4 } else { 3 }), seq(h, 3)]
    };
    let exposure = |gap| {
        divergences(&day(gap))
            .iter()
            .filter(|d| d.kind == DivergenceKind::MissingFill)
            .map(|d| (d.side, d.gap_exposure))
            .collect::<Vec<_>>()
    };
    assert_eq!(exposure(true), [(Some(Stream::DropCopy), true)], "the fill may be in the drop copy's gap");
    assert_eq!(exposure(false), [(Some(Stream::DropCopy), false)]);

    // A venue-only order while the primary has an open gap: a PhantomOrder seen on the drop
    // copy, exposed (its New may be in the gap), still reported at grace.
    let venue_only = |gap: bool| {
        let [p, d] = both(0, "K", "K0", ExecType::New, OrdStatus::New, "38=100|14=0", "38=100|14=0");
        let v = report(Stream::DropCopy, 10, "V", "V0", ExecType::New, OrdStatus::New, "38=100|14=0");
        let later = report(Stream::Primary, 20, "L", "L0", ExecType::New, OrdStatus::New, "38=1|14=0");
        let l = report(Stream::DropCopy, 21, "L", "L0", ExecType::New, OrdStatus::New, "38=1|14=0");
        vec![seq(p, 1), seq(d, 1), seq(v, 2), seq(later, if gap { 3 } else { 2 }), seq(l, 3)]
    };
    let phantoms = |gap| {
        divergences(&venue_only(gap))
            .iter()
            .map(|d| (d.kind, d.order_id.to_string(), d.side, d.gap_exposure, d.detected_at))
            .collect::<Vec<_>>()
    };
    let at = Micros(10_000 + 2_000_000);
    let phantom = |exposed| (DivergenceKind::PhantomOrder, "V".to_string(), Some(Stream::DropCopy), exposed, at);
    assert_eq!(phantoms(true), [phantom(true)], "the New may be in the primary's gap");
    assert_eq!(phantoms(false), [phantom(false)]);
}

#[test]
fn absent_tags_leave_values_unknown_and_never_compared() {
    // The drop copy never sends OrderQty, AvgPx or LeavesQty, and its fill has no LastPx.
    let mut ev: Vec<ExecEvent> =
        both(0, "U", "U0", ExecType::New, OrdStatus::New, "38=100|14=0|151=100|6=0", "14=0").into();
    ev.extend(both(
        10,
        "U",
        "U1",
        ExecType::Trade,
        OrdStatus::Filled,
        "38=100|32=100|31=1.0845|14=100|151=0|6=1.0845",
        "32=100|14=100",
    ));
    assert!(divergences(&ev).is_empty(), "{:?}", divergences(&ev));
    // A value that was reported and differs is still compared.
    ev[1] = report(Stream::DropCopy, 1, "U", "U0", ExecType::New, OrdStatus::New, "38=90|14=0");
    assert_eq!(divergences(&ev).iter().map(|d| d.kind).collect::<Vec<_>>(), [DivergenceKind::QuantityMismatch]);
}

#[test]
fn a_fix42_replace_down_to_the_filled_quantity_leaves_the_order_filled() {
    // OrderQty 5M, CumQty 3M; replaced to 3M. FIX 4.2 says Replaced with LeavesQty 0; the
    // FIX 4.4 side says Filled.
    let mut ev: Vec<ExecEvent> =
        both(0, "R", "R0", ExecType::New, OrdStatus::New, "38=5000000|14=0", "38=5000000|14=0").into();
    ev.extend(both(
        5,
        "R",
        "R1",
        ExecType::Trade,
        OrdStatus::PartiallyFilled,
        "38=5000000|32=3000000|31=1.1|14=3000000|6=1.1",
        "38=5000000|32=3000000|31=1.1|14=3000000|6=1.1",
    ));
    let mut p = report(
        Stream::Primary,
        10,
        "R2",
        "R2",
        ExecType::Replaced,
        OrdStatus::Filled,
        "38=3000000|14=3000000|151=0|6=1.1",
    );
    let mut d = report(
        Stream::DropCopy,
        11,
        "R2",
        "R2",
        ExecType::Replaced,
        OrdStatus::Replaced,
        "38=3000000|14=3000000|151=0|6=1.1",
    );
    for e in [&mut p, &mut d] {
        e.orig_cl_ord_id = Id::from_bytes(b"R").unwrap();
    }
    assert_eq!(d.normalized_status(), OrdStatus::Filled);
    ev.extend([p, d]);
    assert!(divergences(&ev).is_empty(), "{:?}", divergences(&ev));
}

#[test]
fn a_bust_before_its_fill_is_held_and_applied_when_the_fill_arrives() {
    // Both streams: New, fill B1. The drop copy then busts B1; on the primary the bust
    // arrives before the fill (reordered), and both end with the fill busted.
    let mut ev: Vec<ExecEvent> = both(0, "B", "B0", ExecType::New, OrdStatus::New, "38=100|14=0", "38=100|14=0").into();
    let fill = "38=100|32=100|31=1.1|14=100|151=0|6=1.1";
    let bust = |s: Stream, t: i64| {
        let mut e = report(s, t, "B", "B9", ExecType::TradeCancel, OrdStatus::New, "38=100|14=0|151=100|6=0");
        e.exec_ref_id = Id::from_bytes(b"B1").unwrap();
        e
    };
    ev.push(bust(Stream::Primary, 10));
    ev.push(report(Stream::Primary, 11, "B", "B1", ExecType::Trade, OrdStatus::Filled, fill));
    ev.push(report(Stream::DropCopy, 12, "B", "B1", ExecType::Trade, OrdStatus::Filled, fill));
    ev.push(bust(Stream::DropCopy, 13));
    assert!(divergences(&ev).is_empty(), "{:?}", divergences(&ev));
    // Without the drop copy's bust, the primary's (held, then applied) bust is a one-sided
    // bust: a QuantityMismatch after grace, not an unknown reference.
    ev.pop();
    let got = divergences(&ev);
    assert_eq!(got.iter().map(|d| d.kind).collect::<Vec<_>>(), [DivergenceKind::QuantityMismatch], "{got:?}");
}

#[test]
fn a_refused_replace_never_joins_the_chain_and_a_restatement_of_the_original_applies() {
    use crate::event::MsgKind;
    // The request (PendingReplace on C2, naming C1) and its refusal (an OrderCancelReject, or
    // an ER 150=8 naming C1) on either stream, the refusal before or after the request (a
    // PendingReplace resent after a gap arrives after the refusal): C2 never joins the chain,
    // and a later restatement of a smaller OrderQty on C1, on both streams, applies.
    for stream in [Stream::Primary, Stream::DropCopy] {
        for refusal_first in [false, true] {
            for as_reject_er in [false, true] {
                let mut ev: Vec<ExecEvent> =
                    both(0, "C1", "C0", ExecType::New, OrdStatus::New, "38=5000000|14=0", "38=5000000|14=0").into();
                let mut pending = report(
                    stream,
                    5,
                    "C2",
                    "C5",
                    ExecType::PendingReplace,
                    OrdStatus::PendingReplace,
                    "38=5000000|14=0",
                );
                pending.orig_cl_ord_id = Id::from_bytes(b"C1").unwrap();
                let mut refusal = if as_reject_er {
                    report(stream, 6, "C2", "C6", ExecType::Rejected, OrdStatus::New, "38=5000000|14=0")
                } else {
                    let mut r = report(stream, 6, "C2", "", ExecType::Other, OrdStatus::New, "");
                    r.kind = MsgKind::OrderCancelReject;
                    r
                };
                refusal.orig_cl_ord_id = Id::from_bytes(b"C1").unwrap();
                if refusal_first {
                    pending.event_time = Micros(7_000);
                    ev.extend([refusal, pending]);
                } else {
                    ev.extend([pending, refusal]);
                }
                ev.extend(both(
                    100,
                    "C1",
                    "C7",
                    ExecType::Restated,
                    OrdStatus::New,
                    "38=4000000|14=0",
                    "38=4000000|14=0",
                ));
                let got = divergences(&ev);
                let case = format!("{stream:?}, refusal first {refusal_first}, ER 150=8 {as_reject_er}");
                assert!(got.is_empty(), "{case}: {got:?}");
                // Without the refusal, C2 is the newest link: C1's restatement is stale there.
                let without: Vec<ExecEvent> = ev.iter().filter(|e| e.event_time != Micros(6_000)).copied().collect();
                let kinds: Vec<DivergenceKind> = divergences(&without).iter().map(|d| d.kind).collect();
                assert!(kinds.contains(&DivergenceKind::QuantityMismatch), "{case}, no refusal: {kinds:?}");
            }
        }
    }
}

#[test]
fn a_pending_replace_resent_after_its_replaced_changes_nothing() {
    // C1 replaced by C2 (5M -> 3M) on the primary only; the primary's PendingReplace of C2 is
    // resent after the Replaced (PossDup after a gap). The one break is the OrderQty the drop
    // copy never saw replaced, not a PendingReplace-vs-New StateMismatch.
    for both_replaced in [false, true] {
        let mut ev: Vec<ExecEvent> =
            both(0, "C1", "C0", ExecType::New, OrdStatus::New, "38=5000000|14=0", "38=5000000|14=0").into();
        let mut replaced =
            both(10, "C2", "C2", ExecType::Replaced, OrdStatus::New, "38=3000000|14=0", "38=3000000|14=0");
        for e in &mut replaced {
            e.orig_cl_ord_id = Id::from_bytes(b"C1").unwrap();
        }
        let [p, d] = replaced;
        ev.push(p);
        if both_replaced {
            ev.push(d);
        }
        let mut pending = report(
            Stream::Primary,
            11,
            "C2",
            "C1X",
            ExecType::PendingReplace,
            OrdStatus::PendingReplace,
            "38=5000000|14=0",
        );
        pending.orig_cl_ord_id = Id::from_bytes(b"C1").unwrap();
        ev.push(pending);
        let got = divergences(&ev);
        let kinds: Vec<(DivergenceKind, String)> = got.iter().map(|d| (d.kind, d.order_id.to_string())).collect();
        if both_replaced {
            assert!(kinds.is_empty(), "{got:?}");
        } else {
            assert_eq!(kinds, [(DivergenceKind::QuantityMismatch, "C1".to_string())], "{got:?}");
        }
    }
}

#[test]
fn a_cancel_of_a_replaced_leg_cancels_the_leg_not_the_order() {
    // A venue that replaces by cancel + new: the new leg D2 (naming D1), then D1 Canceled.
    let mut ev: Vec<ExecEvent> =
        both(0, "D1", "D0", ExecType::New, OrdStatus::New, "38=100|14=0", "38=100|14=0").into();
    let mut replaced = both(10, "D2", "D5", ExecType::Replaced, OrdStatus::New, "38=200|14=0", "38=200|14=0");
    for e in &mut replaced {
        e.orig_cl_ord_id = Id::from_bytes(b"D1").unwrap();
    }
    ev.extend(replaced);
    // Only the venue reports the old leg's cancel.
    ev.push(report(Stream::DropCopy, 12, "D1", "D6", ExecType::Canceled, OrdStatus::Canceled, "38=100|14=0"));
    assert!(divergences(&ev).is_empty(), "{:?}", divergences(&ev));
}

// ---- Issue 22 items 3 and 4: order identity in hard cases (contract 2.1) ------------------

/// `events` in merged order: by event time, the primary first on ties, then as given.
fn merged(mut events: Vec<ExecEvent>) -> Vec<ExecEvent> {
    events.sort_by_key(|e| (e.event_time, e.stream == Stream::DropCopy));
    events
}

/// A reconciler that has applied `events` (merged order), with every record so far.
fn applied(events: &[ExecEvent]) -> (Reconciler, Vec<Record>) {
    let mut r = Reconciler::new(ReconConfig { max_orders: 64, max_execs: 256, ..ReconConfig::default() });
    let mut out = Vec::new();
    for e in events {
        r.apply(e, &mut out);
    }
    (r, out)
}

/// Then a message long after every grace window and the retention (finished orders retire),
/// then the end of input.
fn wake_and_finish(r: &mut Reconciler, out: &mut Vec<Record>) {
    let after = Micros(r.now.0 + 120_000_000);
    r.apply(&ExecEvent { kind: MsgKind::Heartbeat, event_time: after, ..ExecEvent::default() }, out);
    r.finish(out);
}

/// The live orders, in slot order.
fn live(r: &Reconciler) -> Vec<crate::order::store::OrderIdx> {
    let s = r.store();
    (0..).take_while(|&i| s.holds_order(i)).filter(|&i| s.order(i).live).collect()
}

/// The keys of the live orders, in slot order.
fn live_keys(r: &Reconciler) -> Vec<String> {
    live(r).into_iter().map(|i| r.store().order(i).key.to_string()).collect()
}

/// Every record of a run: (type, order_id, missing_on / seen_on, exec_id) for divergences,
/// ("Resolved", order_id, resolved type) for resolutions.
fn summary(out: &[Record]) -> Vec<(String, String, String)> {
    out.iter()
        .map(|r| match r {
            Record::Divergence(d) => (
                d.kind.name().to_string(),
                d.order_id.to_string(),
                format!("{}{}", d.side.map_or("", |s| s.name()), d.exec_id.map_or(String::new(), |x| format!(" {x}"))),
            ),
            Record::Resolved(x) => ("Resolved".into(), x.order_id.to_string(), x.resolved_kind.name().to_string()),
            other => ("other".into(), format!("{other:?}"), String::new()),
        })
        .collect()
}

/// Issue 22 item 3 (contract 2.1, "several OrderIDs"): the venue gives the order a new
/// OrderID on each replace and its drop copy is keyed only by OrderID (no ClOrdID on its
/// reports). Every OrderID that a primary report of the order carries maps to the order, so the
/// drop copy follows it across both replaces: no PhantomOrder and no MissingFill, with the drop
/// copy behind the primary or ahead of it (then each OrderID starts a part known only by it:
/// the first takes the primary's root ClOrdID, the others are joined to the order when the
/// primary's replace carries them).
#[test]
fn a_drop_copy_keyed_only_by_order_id_follows_an_order_that_gets_a_new_order_id_on_each_replace() {
    use ExecType::{Replaced, Trade};
    use OrdStatus::{Filled, New, PartiallyFilled};
    for (lag_ms, joins) in [(2, 0), (200, 0), (-2, 2), (-200, 2)] {
        let mut ev = Vec::new();
        let steps = [
            ("A", "E0", ExecType::New, New, "37=V1|38=100|44=1.1|14=0"),
            ("B", "E1", Replaced, New, "41=A|37=V2|38=200|44=1.1|14=0"),
            ("C", "E2", Replaced, New, "41=B|37=V3|38=300|44=1.2|14=0"),
            ("C", "E3", Trade, PartiallyFilled, "37=V3|38=300|32=100|31=1.2|14=100|6=1.2"),
            ("C", "E4", Trade, Filled, "37=V3|38=300|32=200|31=1.2|14=300|151=0|6=1.2"),
        ];
        for (k, (cl, exec, et, st, tags)) in steps.into_iter().enumerate() {
            let t = 1_000 + 100 * k as i64;
            ev.push(report(Stream::Primary, t, cl, exec, et, st, tags));
            // The drop copy's copy: the same report without ClOrdID and OrigClOrdID.
            let tags: Vec<_> = tags.split('|').filter(|f| !f.starts_with("41=")).collect();
            ev.push(report(Stream::DropCopy, t + lag_ms, "", exec, et, st, &tags.join("|")));
        }
        let (mut r, mut out) = applied(&merged(ev));
        assert_eq!(live_keys(&r), ["A"], "lag {lag_ms} ms: one order, keyed by its root");
        assert_eq!(r.store_stats().joined, joins, "lag {lag_ms} ms");
        wake_and_finish(&mut r, &mut out);
        assert_eq!(summary(&out), [], "lag {lag_ms} ms");
        assert_eq!((r.stats().orders, r.store().len()), (1, 0), "lag {lag_ms} ms: one order, retired");
    }
}

/// The report of link `k` of the chain A→B→C→D→E (A the root, each next link a replace that
/// names the one before in OrigClOrdID and raises OrderQty by 100) on `stream`; `ids`: 0 one
/// OrderID for the order, 1 a new OrderID per link, 2 none.
fn chain_link(stream: Stream, t_ms: i64, k: usize, ids: u8) -> ExecEvent {
    const LINKS: [&str; 5] = ["A", "B", "C", "D", "E"];
    let order_id = match ids {
        0 => "|37=V".to_string(),
        1 => format!("|37=V{k}"),
        _ => String::new(),
    };
    let qty = 100 * (k + 1);
    let (et, orig) =
        if k == 0 { (ExecType::New, String::new()) } else { (ExecType::Replaced, format!("|41={}", LINKS[k - 1])) };
    let tags = format!("38={qty}|44=1.1|14=0{orig}{order_id}");
    report(stream, t_ms, LINKS[k], &format!("X{k}"), et, OrdStatus::New, &tags)
}

/// The fill that completes the chain of [`chain_link`] (OrderQty 500) on `stream`, quoting
/// the root ClOrdID (`root`) or the newest link.
fn chain_fill(stream: Stream, t_ms: i64, root: bool, ids: u8) -> ExecEvent {
    let order_id = ["|37=V", "|37=V4", ""][ids as usize];
    let tags = format!("38=500|44=1.1|32=500|31=1.1|14=500|151=0|6=1.1{order_id}");
    report(stream, t_ms, if root { "A" } else { "E" }, "F1", ExecType::Trade, OrdStatus::Filled, &tags)
}

proptest::proptest! {
    /// Issue 22 item 4 (contract 2.1, "links out of order"): the five links of a chain reach
    /// the drop copy in any order, ahead of the primary or behind it, whether the venue keeps
    /// one OrderID, gives each link its own, or sends none; each stream's fill quotes the root
    /// ClOrdID or the newest link. Both streams agree, so nothing is reported, and it is one
    /// order keyed by its root, which retires whole. With `both`, the primary's links are out
    /// of order too (in an order of their own).
    #[test]
    fn a_chain_whose_links_reach_the_drop_copy_in_any_order_is_one_order_keyed_by_its_root(
        order in proptest::strategy::Strategy::prop_shuffle(proptest::strategy::Just(vec![0usize, 1, 2, 3, 4])),
        primary_order in proptest::strategy::Strategy::prop_shuffle(proptest::strategy::Just(vec![0usize, 1, 2, 3, 4])),
        both in proptest::prelude::any::<bool>(),
        ids in 0u8..3,
        root_fill in proptest::prelude::any::<[bool; 2]>(),
        ahead in proptest::prelude::any::<bool>(),
    ) {
        let mut ev = Vec::new();
        for (slot, k) in (0..5).enumerate() {
            let k = if both { primary_order[k] } else { k };
            ev.push(chain_link(Stream::Primary, 1_000 + 10 * slot as i64, k, ids));
        }
        for (slot, &k) in order.iter().enumerate() {
            let t = if ahead { 990 + slot as i64 } else { 1_005 + 10 * slot as i64 };
            ev.push(chain_link(Stream::DropCopy, t, k, ids));
        }
        ev.push(chain_fill(Stream::Primary, 1_100, root_fill[0], ids));
        ev.push(chain_fill(Stream::DropCopy, 1_101, root_fill[1], ids));
        let (mut r, mut out) = applied(&merged(ev));
        proptest::prop_assert_eq!(live_keys(&r), ["A"]);
        for s in Stream::BOTH {
            let v = r.store().order(live(&r)[0]).view(s);
            proptest::prop_assert_eq!((v.status, v.order_qty.0), (OrdStatus::Filled, crate::decimal::Qty::from_int(500).0));
        }
        wake_and_finish(&mut r, &mut out);
        proptest::prop_assert_eq!(summary(&out), []);
        proptest::prop_assert_eq!((r.stats().orders, r.store().len()), (1, 0));
    }
}

/// Contract 2.1: "a venue may echo the root ClOrdID on fills after a replace". The drop copy
/// gets C (naming B) before B, and its fill quotes the root A while the primary's quotes C:
/// the fills match, and nothing is reported.
#[test]
fn a_fill_quoting_the_root_on_one_stream_and_the_newest_link_on_the_other_matches() {
    let (p, d) = (Stream::Primary, Stream::DropCopy);
    let ev = vec![
        chain_link(p, 1_000, 0, 2),
        chain_link(d, 1_001, 0, 2),
        chain_link(d, 1_005, 2, 2), // C names B, not seen yet on either stream
        report(d, 1_006, "A", "F1", ExecType::Trade, OrdStatus::PartiallyFilled, "38=300|32=50|31=1.1|14=50|6=1.1"),
        chain_link(p, 1_010, 1, 2),
        chain_link(d, 1_011, 1, 2),
        chain_link(p, 1_020, 2, 2),
        report(p, 1_030, "C", "F1", ExecType::Trade, OrdStatus::PartiallyFilled, "38=300|32=50|31=1.1|14=50|6=1.1"),
    ];
    let (mut r, mut out) = applied(&ev);
    assert_eq!(live_keys(&r), ["A"]);
    assert_eq!(r.store_stats().joined, 1, "C's part joined when the primary's B tied it");
    let o = live(&r)[0];
    let fills =
        |s| r.store().execs_of(o, s).filter(|&i| r.store().exec(i).matched != crate::order::store::NONE).count();
    assert_eq!((fills(p), fills(d)), (1, 1), "the two fills are a pair");
    wake_and_finish(&mut r, &mut out);
    assert_eq!(summary(&out), []);
}

/// A fill the primary never gets, on an order whose chain reached the drop copy out of order
/// (C, naming B, before B; the fill quotes C): one MissingFill, under the root ClOrdID, at the
/// fill's arrival + grace, and nothing else (the views differ, but the missing fill explains
/// it). When the report that ties the fragment to its order (B's) comes only after that
/// deadline on both streams, the MissingFill names the best key known then: the fragment's
/// (its lowest link, B); the joined order is still one order.
#[test]
fn a_real_missing_fill_on_an_out_of_order_chain_is_reported_once_under_the_root() {
    let (p, d) = (Stream::Primary, Stream::DropCopy);
    let fill =
        report(d, 1_006, "C", "F1", ExecType::Trade, OrdStatus::PartiallyFilled, "38=300|32=50|31=1.1|14=50|6=1.1");
    for (b_at, c_at, key) in [(1_010, 1_015, "A"), (4_000, 1_010, "B")] {
        let mut ev = vec![chain_link(p, 1_000, 0, 2), chain_link(d, 1_001, 0, 2), chain_link(d, 1_005, 2, 2), fill];
        ev.push(chain_link(p, b_at, 1, 2));
        ev.push(chain_link(p, c_at, 2, 2));
        ev.push(chain_link(d, b_at + 6, 1, 2));
        let (mut r, mut out) = applied(&merged(ev));
        wake_and_finish(&mut r, &mut out);
        let want = [("MissingFill".to_string(), key.to_string(), "primary F1".to_string())];
        assert_eq!(summary(&out), want, "B at {b_at} ms");
        let Record::Divergence(m) = out[0] else { unreachable!() };
        assert_eq!(m.detected_at, Micros((1_006 + 2_000) * 1_000), "decided at the fill's arrival + grace");
        assert_eq!((r.stats().orders, r.store_stats().joined), (1, 1), "B at {b_at} ms: one order in the end");
    }
}

/// A provisional part (D, naming C, first on the drop copy) that is joined later (when C
/// arrives and names B, which belongs to the order) leaves nothing behind: no PhantomOrder for
/// the fragment, one order counted, and once the order is done the store is empty.
#[test]
fn a_provisional_part_that_is_joined_later_leaves_no_stale_fragment() {
    let (p, d) = (Stream::Primary, Stream::DropCopy);
    let mut ev = Vec::new();
    for (slot, k) in [3usize, 0, 1, 2, 4].into_iter().enumerate() {
        ev.push(chain_link(d, 1_000 + slot as i64, k, 2));
    }
    for k in 0..5 {
        ev.push(chain_link(p, 1_100 + 10 * k as i64, k, 2));
    }
    ev.push(chain_fill(p, 1_200, false, 2));
    ev.push(chain_fill(d, 1_201, false, 2));
    let (mut r, mut out) = applied(&merged(ev));
    assert_eq!(live_keys(&r), ["A"], "the fragment's slot was released");
    assert_eq!(r.store_stats().joined, 1);
    wake_and_finish(&mut r, &mut out);
    assert_eq!(summary(&out), []);
    assert_eq!((r.stats().orders, r.store().len()), (1, 0));
}

/// A fragment seen on one stream for a whole grace window is a PhantomOrder under the best key
/// known then (its lowest link, C), as is the order's other part on the other stream (A). When
/// the report that ties them arrives, the joined order is seen on both streams: both phantoms
/// are resolved (and the resolving report is a TimingAnomaly, D3), under the root.
#[test]
fn phantoms_of_two_parts_of_one_order_are_resolved_when_the_parts_join() {
    let (p, d) = (Stream::Primary, Stream::DropCopy);
    let ev = vec![
        chain_link(p, 1_000, 0, 2),
        chain_link(d, 1_000, 3, 2), // D names C: a provisional part, keyed C
        chain_link(p, 1_010, 1, 2),
        chain_link(p, 4_000, 2, 2), // C names B: the primary ties the parts
        chain_link(p, 4_010, 3, 2),
    ];
    let (mut r, mut out) = applied(&ev);
    wake_and_finish(&mut r, &mut out);
    let row = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        summary(&out),
        [
            row("PhantomOrder", "A", "primary"),
            row("PhantomOrder", "C", "dropcopy"),
            row("Resolved", "A", "PhantomOrder"),
            row("Resolved", "A", "PhantomOrder"),
            row("TimingAnomaly", "A", ""),
        ]
    );
    let resolves: Vec<u64> = out
        .iter()
        .filter_map(|x| match x {
            Record::Resolved(x) => Some(x.resolves),
            _ => None,
        })
        .collect();
    assert_eq!(resolves, [1, 2], "each phantom once");
    assert_eq!(r.stats().orders, 1);
}

/// A snapshot taken between any two events of a day with joins (OrderIDs in the pool, a
/// provisional part, parts joined) restores to a reconciler that goes on exactly like the one
/// that never stopped: same records, same digest.
#[test]
fn a_snapshot_at_any_point_of_a_day_with_joined_parts_restores_the_same_run() {
    let (p, d) = (Stream::Primary, Stream::DropCopy);
    let mut ev = Vec::new();
    for (slot, k) in [3usize, 1, 0, 4, 2].into_iter().enumerate() {
        ev.push(chain_link(d, 1_000 + slot as i64, k, 1));
    }
    for k in 0..5 {
        ev.push(chain_link(p, 1_100 + 10 * k as i64, k, 1));
    }
    ev.push(chain_fill(d, 1_150, true, 1));
    let ev = merged(ev);
    let cfg = ReconConfig { max_orders: 64, max_execs: 256, ..ReconConfig::default() };
    let (mut whole, mut want) = applied(&ev);
    wake_and_finish(&mut whole, &mut want);
    for cut in 0..=ev.len() {
        let (r, mut out) = applied(&ev[..cut]);
        let mut buf = Vec::new();
        r.save(&mut buf);
        let mut restored = Reconciler::restore(cfg, &mut crate::snapshot::SnapReader::new(&buf)).unwrap();
        assert_eq!(restored.state_digest(), r.state_digest(), "cut {cut}");
        for e in &ev[cut..] {
            restored.apply(e, &mut out);
        }
        wake_and_finish(&mut restored, &mut out);
        assert_eq!(out, want, "cut {cut}");
        assert_eq!(restored.state_digest(), whole.state_digest(), "cut {cut}");
    }
}

/// A trade cancel that reached a provisional part before its fill (held) belongs to the
/// order once the part joins it: the fill, arriving after the join, is busted, on both
/// streams alike, and nothing is reported or counted as an unknown ExecRefID.
#[test]
fn a_bust_held_on_a_provisional_part_applies_to_its_fill_after_the_join() {
    let (p, d) = (Stream::Primary, Stream::DropCopy);
    let fill =
        |s, t| report(s, t, "C", "F1", ExecType::Trade, OrdStatus::Filled, "38=300|32=300|31=1.1|14=300|151=0|6=1.1");
    let bust = |s, t| {
        let mut e = report(s, t, "C", "F9", ExecType::TradeCancel, OrdStatus::New, "38=300|14=0|151=300|6=0");
        e.exec_ref_id = Id::from_bytes(b"F1").unwrap();
        e
    };
    let ev = vec![
        chain_link(p, 1_000, 0, 2),
        chain_link(d, 1_001, 0, 2),
        chain_link(d, 1_005, 2, 2), // C names B: a provisional part
        bust(d, 1_006),             // held: F1 has not come yet
        chain_link(p, 1_010, 1, 2), // B names A: the part joins the order
        chain_link(d, 1_011, 1, 2),
        chain_link(p, 1_020, 2, 2),
        fill(p, 1_030),
        fill(d, 1_031),
        bust(p, 1_040),
    ];
    let (mut r, mut out) = applied(&ev);
    let o = live(&r)[0];
    for s in [p, d] {
        let busted = r.store().live_fills(o, s).count();
        assert_eq!((busted, r.store().order(o).view(s).cum_qty), (0, crate::decimal::Qty::ZERO), "{s:?}");
    }
    wake_and_finish(&mut r, &mut out);
    assert_eq!(summary(&out), []);
    assert_eq!(r.stats().unknown_exec_refs, 0);
}

/// One report can tie three parts of an order at once: its ClOrdID (B) is a provisional
/// part's, its OrigClOrdID (A) the order's, and its OrderID (V3) belongs to a part known only
/// by it. Both parts join the order; each absorbed fill gets its MissingFill check back once,
/// and the primary's fills match them all.
#[test]
fn one_report_that_ties_three_parts_joins_them_all_and_checks_each_fill_once() {
    use super::grace_timers::TimerKind;
    let (p, d) = (Stream::Primary, Stream::DropCopy);
    let fill = |s, t, cl: &str, exec: &str, cum: i64, st| {
        let order_id = if cl.is_empty() { "|37=V3" } else { "" };
        let tags = format!("38=300|32=100|31=1.1|14={cum}|6=1.1{order_id}");
        report(s, t, cl, exec, ExecType::Trade, st, &tags)
    };
    let mut tie = chain_link(d, 1_020, 1, 2); // B, naming A
    tie.order_id = Id::from_bytes(b"V3").unwrap();
    let ev = vec![
        chain_link(p, 1_000, 0, 2),
        chain_link(d, 1_001, 0, 2),
        chain_link(d, 1_005, 2, 2), // C names B: a provisional part
        fill(d, 1_006, "C", "F1", 100, OrdStatus::PartiallyFilled),
        fill(d, 1_007, "", "F2", 200, OrdStatus::PartiallyFilled), // known only by V3
        tie,
    ];
    let (mut r, mut out) = applied(&ev);
    assert_eq!((live_keys(&r), r.store_stats().joined), (vec!["A".to_string()], 2));
    let fill_checks = (0..r.timers.len()).filter(|&i| matches!(r.timers.peek(i).unwrap().kind, TimerKind::Fill(_)));
    assert_eq!(fill_checks.count(), 4, "F1 and F2: the voided check of each, and its one new check");
    for e in [chain_link(p, 1_030, 1, 2), chain_link(p, 1_040, 2, 2)] {
        r.apply(&e, &mut out);
    }
    r.apply(&fill(p, 1_050, "C", "F1", 100, OrdStatus::PartiallyFilled), &mut out);
    r.apply(&fill(p, 1_060, "A", "F2", 200, OrdStatus::PartiallyFilled), &mut out);
    wake_and_finish(&mut r, &mut out);
    assert_eq!(summary(&out), []);
    assert_eq!(r.stats().orders, 1);
}

// ---- Issue 22 item 5: retired orders and late reports (contract 2.2) ---------------------

/// A retention far longer than any test day: nothing retires, so this is what the day would
/// report had retirement never happened.
const NEVER_RETIRES: ReconConfig = ReconConfig {
    grace_ms: 2000,
    timing_threshold_ms: 250,
    max_orders: 256,
    max_execs: 4096,
    retention_ms: 48 * 3_600_000,
    max_sessions: 16,
    open_retention_ms: 0,
    avg_px_tolerance: crate::decimal::Price::ZERO,
    retired_memory_ms: 24 * 3_600_000,
    max_retired_orders: 256,
    max_positions: 64,
};

/// The default retention (60 s) and retired memory (24 h), in a store sized for test days.
const RETIRES: ReconConfig = ReconConfig { retention_ms: 60_000, ..NEVER_RETIRES };

/// Every record of `events` (merged order) then a wake-up long after them and the end of
/// input, with `cfg`.
fn run_day(cfg: ReconConfig, events: &[ExecEvent]) -> (Reconciler, Vec<Record>) {
    let mut r = Reconciler::new(cfg);
    let mut out = Vec::new();
    for e in events {
        r.apply(e, &mut out);
    }
    wake_and_finish(&mut r, &mut out);
    (r, out)
}

/// The trade cancel of fill `fill` of order `id` (OrderQty 100, that fill the only one) on
/// `stream` at `t_ms`: the order goes back to New with nothing filled.
fn bust_of(stream: Stream, t_ms: i64, id: &str, fill: &str) -> ExecEvent {
    let mut e = report(
        stream,
        t_ms,
        id,
        &format!("{fill}-X"),
        ExecType::TradeCancel,
        OrdStatus::New,
        "38=100|14=0|151=100|6=0",
    );
    e.exec_ref_id = Id::from_bytes(fill.as_bytes()).unwrap();
    e
}

/// Order `id` (OrderID `V<id>`) opened at `t_ms` on both streams and filled at once in full
/// (ExecID `<id>1`), the drop copy 1 ms behind.
fn filled_order(t_ms: i64, id: &str) -> Vec<ExecEvent> {
    let oid = format!("37=V{id}");
    let mut ev: Vec<ExecEvent> = both(
        t_ms,
        id,
        &format!("{id}0"),
        ExecType::New,
        OrdStatus::New,
        &format!("{oid}|38=100|44=1.1|14=0"),
        &format!("{oid}|38=100|44=1.1|14=0"),
    )
    .into();
    let fill = format!("{oid}|38=100|44=1.1|32=100|31=1.1|14=100|151=0|6=1.1");
    ev.extend(both(t_ms + 10, id, &format!("{id}1"), ExecType::Trade, OrdStatus::Filled, &fill, &fill));
    ev
}

/// The records of `events` with orders retired after 60 s and remembered, which must be the
/// records of the same day had nothing retired (contract 2.2: retirement never changes what
/// is reported); returns them, and the retiring run's reconciler.
fn as_if_never_retired(events: &[ExecEvent]) -> (Reconciler, Vec<Record>) {
    let events = merged(events.to_vec());
    let (r, got) = run_day(RETIRES, &events);
    let (_, want) = run_day(NEVER_RETIRES, &events);
    assert_eq!(got, want, "retirement changed what was reported");
    (r, got)
}

fn row(kind: &str, order: &str, side: &str) -> (String, String, String) {
    (kind.to_string(), order.to_string(), side.to_string())
}

/// Contract 2.2: a bust on one stream only, 90 s after the fill (the order retired at 60 s),
/// reopens the order with its final views: one QuantityMismatch (CumQty) under the root
/// ClOrdID, decided when grace expires after the bust, and nothing else — on either stream.
#[test]
fn a_bust_after_retirement_reopens_the_order_and_is_a_quantity_mismatch_after_grace() {
    for stream in Stream::BOTH {
        let mut ev = filled_order(1_000, "A");
        ev.push(bust_of(stream, 91_000, "A", "A1"));
        let (r, out) = as_if_never_retired(&ev);
        assert_eq!(summary(&out), [row("QuantityMismatch", "A", "")], "bust on {stream:?}");
        let Record::Divergence(q) = out[0] else { unreachable!() };
        assert_eq!(q.detected_at, Micros((91_000 + 2_000) * 1_000), "bust on {stream:?}");
        assert!(q.to_string().contains("CumQty"), "{q}");
        assert_eq!((r.store_stats().remembered, r.store_stats().reopened), (1, 1), "bust on {stream:?}");
        assert_eq!(r.stats().orders, 1, "a reopened order is the same order");
    }
}

/// The same for a FIX 4.2 trade correct (ExecTransType 2, decoded as a trade correct) that
/// changes only LastPx on one stream: the reopened order's matched pair no longer agrees.
#[test]
fn a_late_trade_correct_on_one_stream_reopens_the_order_and_is_a_quantity_mismatch() {
    for stream in Stream::BOTH {
        let mut ev = filled_order(1_000, "K");
        let mut correct = report(
            stream,
            95_000,
            "K",
            "K1-C",
            ExecType::TradeCorrect,
            OrdStatus::Filled,
            "38=100|32=100|31=1.2|14=100|151=0",
        );
        correct.exec_ref_id = Id::from_bytes(b"K1").unwrap();
        ev.push(correct);
        let (r, out) = as_if_never_retired(&ev);
        assert_eq!(summary(&out), [row("QuantityMismatch", "K", "")], "correct on {stream:?}");
        assert_eq!(r.store_stats().reopened, 1);
    }
}

/// A whole day that retired: orders filled, replaced, cancelled, one the drop copy never saw
/// (a PhantomOrder) and one whose fill the primary never got (a MissingFill).
fn a_day_with_every_kind_of_order() -> Vec<ExecEvent> {
    use ExecType::{Canceled, Replaced, Trade};
    use OrdStatus::{Filled, New, PartiallyFilled};
    let (p, d) = (Stream::Primary, Stream::DropCopy);
    let mut ev = filled_order(1_000, "A");
    ev.extend(both(1_100, "B", "B0", ExecType::New, New, "37=VB|38=300|44=1.2|14=0", "37=VB|38=300|44=1.2|14=0"));
    ev.extend(both(
        1_200,
        "B",
        "B1",
        Trade,
        PartiallyFilled,
        "37=VB|38=300|32=100|31=1.2|14=100|6=1.2",
        "37=VB|38=300|32=100|31=1.2|14=100|6=1.2",
    ));
    let mut rep = both(
        1_300,
        "B2",
        "B2",
        Replaced,
        PartiallyFilled,
        "41=B|37=VB|38=200|44=1.2|14=100|6=1.2",
        "41=B|37=VB|38=200|44=1.2|14=100|6=1.2",
    );
    for e in &mut rep {
        e.orig_cl_ord_id = Id::from_bytes(b"B").unwrap();
    }
    ev.extend(rep);
    ev.extend(both(
        1_400,
        "B2",
        "B3",
        Trade,
        Filled,
        "37=VB|38=200|32=100|31=1.2|14=200|151=0|6=1.2",
        "37=VB|38=200|32=100|31=1.2|14=200|151=0|6=1.2",
    ));
    ev.extend(both(1_500, "C", "C0", ExecType::New, New, "38=100|14=0", "38=100|14=0"));
    ev.extend(both(2_500, "C", "C9", Canceled, OrdStatus::Canceled, "38=100|14=0", "38=100|14=0"));
    ev.push(report(p, 1_600, "D", "D0", ExecType::New, New, "38=100|14=0"));
    ev.push(report(p, 1_700, "D", "D9", Canceled, OrdStatus::Canceled, "38=100|14=0"));
    ev.extend(both(1_800, "E", "E0", ExecType::New, New, "37=VE|38=100|14=0", "37=VE|38=100|14=0"));
    ev.push(report(d, 1_900, "E", "E1", Trade, Filled, "37=VE|38=100|32=100|31=1.1|14=100|151=0|6=1.1"));
    ev.push(report(p, 9_000, "E", "E9", Canceled, OrdStatus::Canceled, "37=VE|38=100|14=0"));
    ev
}

/// `events` again from `at_ms` on, on `stream`, as a venue replays its session after a
/// ResendRequest for 2..0: every report with PossDupFlag=Y, 1 ms apart, in their order.
fn replayed(events: &[ExecEvent], stream: Stream, at_ms: i64) -> Vec<ExecEvent> {
    let mut k = 0;
    events
        .iter()
        .filter(|e| e.stream == stream)
        .map(|e| {
            k += 1;
            ExecEvent { event_time: Micros((at_ms + k) * 1_000), poss_dup: true, ..*e }
        })
        .collect()
}

/// Contract 2.2: a venue (or the gateway, or both) replaying its whole day with PossDupFlag=Y
/// 80 s after the day's last report — every order retired by then but the last — is
/// recognised order by order and ExecID by ExecID: no record, no new order, nothing reopened.
#[test]
fn a_whole_day_possdup_replay_after_retirement_changes_no_output() {
    let day = merged(a_day_with_every_kind_of_order());
    let (_, want) = run_day(RETIRES, &day);
    assert_eq!(
        summary(&want),
        [row("PhantomOrder", "D", "primary"), row("MissingFill", "E", "primary E1")],
        "the day itself"
    );
    for streams in [&[Stream::DropCopy][..], &[Stream::Primary], &[Stream::DropCopy, Stream::Primary]] {
        let mut ev = day.clone();
        for (k, &s) in streams.iter().enumerate() {
            ev.extend(replayed(&day, s, 89_000 + 1_000 * k as i64));
        }
        let (r, got) = run_day(RETIRES, &merged(ev.clone()));
        assert_eq!(got, want, "replay of {streams:?}");
        let s = r.store_stats();
        assert_eq!((s.reopened, r.stats().orders), (0, 5), "replay of {streams:?}: no order reopened, none new");
        assert!(s.remembered >= 4, "replay of {streams:?}: the orders had retired ({s:?})");
        let replayed: usize = streams.iter().map(|&s| day.iter().filter(|e| e.stream == s).count()).sum();
        let (base, _) = run_day(RETIRES, &day);
        assert_eq!(
            r.stats().repeated_exec_ids - base.stats().repeated_exec_ids,
            replayed as u64,
            "every replayed report a repeat"
        );
        // And the same as a run that never retired anything.
        as_if_never_retired(&ev);
    }
}

/// A fill the primary never got (its MissingFill reported at grace) that arrives after the
/// order retired: the order reopens, the fill pairs with the remembered one, the MissingFill is
/// resolved and the late fill is a TimingAnomaly — exactly as if it had never retired.
#[test]
fn a_missing_fill_that_arrives_after_retirement_is_resolved() {
    let mut ev = a_day_with_every_kind_of_order();
    ev.push(report(
        Stream::Primary,
        120_000,
        "E",
        "E1",
        ExecType::Trade,
        OrdStatus::Filled,
        "37=VE|38=100|32=100|31=1.1|14=100|151=0|6=1.1",
    ));
    let (r, out) = as_if_never_retired(&ev);
    assert_eq!(
        summary(&out),
        [
            row("PhantomOrder", "D", "primary"),
            row("MissingFill", "E", "primary E1"),
            row("Resolved", "E", "MissingFill"),
            row("TimingAnomaly", "E", " E1"),
        ]
    );
    assert_eq!(r.store_stats().reopened, 1);
}

/// A PhantomOrder (seen on the primary only) that the drop copy reports after the order
/// retired: reopened, seen on both streams now, the phantom resolved — as if never retired.
#[test]
fn a_phantom_the_other_stream_reports_after_retirement_is_resolved() {
    let mut ev = a_day_with_every_kind_of_order();
    ev.push(report(Stream::DropCopy, 100_000, "D", "D0", ExecType::New, OrdStatus::New, "38=100|14=0"));
    ev.push(report(Stream::DropCopy, 100_001, "D", "D9", ExecType::Canceled, OrdStatus::Canceled, "38=100|14=0"));
    let (r, out) = as_if_never_retired(&ev);
    assert_eq!(
        summary(&out),
        [
            row("PhantomOrder", "D", "primary"),
            row("MissingFill", "E", "primary E1"),
            row("Resolved", "D", "PhantomOrder"),
            row("TimingAnomaly", "D", ""), // its New, 98 s after the primary's
            row("TimingAnomaly", "D", ""), // its Canceled
        ]
    );
    assert_eq!(r.store_stats().reopened, 1);
}

/// A late report quoting a later link of a retired replace chain (B2), or only the OrderID
/// (a drop copy keyed by OrderID), finds the order; a resend of one of its old fills on the
/// reopened order still counts once.
#[test]
fn a_retired_order_is_found_by_any_of_its_identifiers_and_keeps_its_exec_ids_when_reopened() {
    let fill = "37=VB|38=200|32=0|14=200|151=0|6=1.2";
    for (cl, oid) in [("B2", ""), ("B", ""), ("", "VB")] {
        let mut ev = a_day_with_every_kind_of_order();
        // A DoneForDay from the venue (new), then its resend of the old fill B3 (not new).
        let tags = if oid.is_empty() { fill.replace("37=VB|", "") } else { fill.to_string() };
        let mut done =
            report(Stream::DropCopy, 100_000, cl, "B-DFD", ExecType::DoneForDay, OrdStatus::DoneForDay, &tags);
        if !oid.is_empty() {
            done.order_id = Id::from_bytes(oid.as_bytes()).unwrap();
        }
        ev.push(done);
        let mut resend = report(
            Stream::DropCopy,
            100_500,
            cl,
            "B3",
            ExecType::Trade,
            OrdStatus::Filled,
            "38=200|32=100|31=1.2|14=200|151=0|6=1.2",
        );
        resend.poss_dup = true;
        if !oid.is_empty() {
            resend.order_id = Id::from_bytes(oid.as_bytes()).unwrap();
        }
        ev.push(resend);
        let (r, out) = as_if_never_retired(&ev);
        assert_eq!(r.store_stats().reopened, 1, "{cl}/{oid}");
        let states: Vec<_> = summary(&out).into_iter().filter(|x| x.1 == "B").collect();
        assert_eq!(states, [row("StateMismatch", "B", "")], "{cl}/{oid}: Filled against DoneForDay, once");
        assert_eq!(r.stats().orders, 5, "{cl}/{oid}: no new order");
    }
}

/// Contract 2.2: an order forgotten after `retired_memory` is unknown again — a report of it
/// starts a new order (here a PhantomOrder of the bust's stream); within the memory it reopens.
#[test]
fn an_order_forgotten_after_retired_memory_is_unknown_again() {
    let cfg = ReconConfig { retired_memory_ms: 10 * 60_000, ..RETIRES };
    // Retired at 71 s (60 s after its fill), remembered until 10 min 71 s.
    for (bust_at, want, forgotten) in
        [(600_000, row("QuantityMismatch", "A", ""), 0), (672_000, row("PhantomOrder", "A", "primary"), 1)]
    {
        let mut ev = filled_order(1_000, "A");
        ev.push(bust_of(Stream::Primary, bust_at, "A", "A1"));
        let (r, out) = run_day(cfg, &merged(ev));
        assert_eq!(summary(&out), [want], "bust at {bust_at} ms");
        let s = r.store_stats();
        assert_eq!(
            (s.forgotten, s.forgotten_early, r.stats().orders),
            (forgotten, 0, 1 + forgotten),
            "bust at {bust_at} ms"
        );
    }
}

/// A retired order can be read back from its record by any of its ids without reopening it
/// (the query API's answer for an order no longer held).
#[test]
fn a_retired_order_reads_back_from_its_record_by_clordid_or_orderid() {
    let (r, _) = run_day(RETIRES, &merged(filled_order(1_000, "A")));
    let store = r.store();
    assert!(store.lookup(&Id::from_bytes(b"A").unwrap(), &Id::new(), &Id::new()).is_none(), "retired");
    let by_cl = store.retired_order(&Id::from_bytes(b"A").unwrap()).expect("remembered");
    assert_eq!(store.retired_order(&Id::from_bytes(b"VA").unwrap()), Some(by_cl));
    assert_eq!(by_cl.key.as_str(), "A");
    for v in by_cl.views {
        assert_eq!(
            (v.status, v.cum_qty.to_string(), v.order_qty.to_string()),
            (OrdStatus::Filled, "100".into(), "100".into())
        );
    }
    assert!(by_cl.retired_at.0 > by_cl.last_activity.0);
    assert_eq!(store.retired_order(&Id::from_bytes(b"B").unwrap()), None);
    assert_eq!(r.store_stats().reopened, 0, "reading it reopens nothing");
}

/// A full retired memory forgets the oldest order first (counted as forgotten early): a late
/// bust of it starts a new order, while the newer ones are still recognised.
#[test]
fn a_full_retired_memory_forgets_the_oldest_order_first_and_counts_it() {
    let cfg = ReconConfig { max_retired_orders: 2, ..RETIRES };
    let mut day = filled_order(1_000, "A");
    day.extend(filled_order(2_000, "B"));
    day.extend(filled_order(3_000, "C"));
    for (late, want) in [
        ("A", row("PhantomOrder", "A", "primary")),
        ("B", row("QuantityMismatch", "B", "")),
        ("C", row("QuantityMismatch", "C", "")),
    ] {
        let mut ev = day.clone();
        ev.push(bust_of(Stream::Primary, 100_000, late, &format!("{late}1")));
        let (r, out) = run_day(cfg, &merged(ev));
        assert_eq!(summary(&out), [want], "late bust of {late}");
        let s = r.store_stats();
        assert_eq!((s.remembered, s.forgotten_early), (3, 1), "late bust of {late}: {s:?}");
    }
}

/// With `retired_memory` (or `max_retired_orders`) 0 nothing is remembered: a late bust starts
/// a new order, as before contract 2.2.
#[test]
fn with_the_retired_memory_off_a_late_report_starts_a_new_order() {
    for cfg in [ReconConfig { retired_memory_ms: 0, ..RETIRES }, ReconConfig { max_retired_orders: 0, ..RETIRES }] {
        let mut ev = filled_order(1_000, "A");
        ev.push(bust_of(Stream::DropCopy, 91_000, "A", "A1"));
        let (r, out) = run_day(cfg, &merged(ev));
        assert_eq!(summary(&out), [row("PhantomOrder", "A", "dropcopy")]);
        assert_eq!(r.store_stats().remembered, 0);
    }
}

/// A snapshot taken between any two events of a day whose orders retire, are replayed,
/// reopened and forgotten restores to a reconciler that goes on exactly like the one that
/// never stopped: same records, same digest (the retired memory is part of the state).
#[test]
fn a_snapshot_at_any_point_of_a_day_with_retired_orders_restores_the_same_run() {
    let cfg = ReconConfig { retired_memory_ms: 5 * 60_000, max_retired_orders: 3, ..RETIRES };
    let day = merged(a_day_with_every_kind_of_order());
    let mut ev = day.clone();
    ev.extend(replayed(&day, Stream::DropCopy, 89_000));
    ev.push(bust_of(Stream::Primary, 95_000, "A", "A1"));
    ev.push(report(
        Stream::Primary,
        96_000,
        "E",
        "E1",
        ExecType::Trade,
        OrdStatus::Filled,
        "37=VE|38=100|32=100|31=1.1|14=100|151=0|6=1.1",
    ));
    ev.extend(filled_order(200_000, "F"));
    ev.push(bust_of(Stream::DropCopy, 400_000, "C", "C1")); // C forgotten by then: a new order
    let ev = merged(ev);
    let (whole, want) = run_day(cfg, &ev);
    let s = whole.store_stats();
    assert!(s.reopened >= 1 && s.forgotten_early >= 1 && s.forgotten >= 1, "{s:?}");
    let mut with_memory = 0;
    for cut in 0..=ev.len() {
        let mut r = Reconciler::new(cfg);
        let mut out = Vec::new();
        for e in &ev[..cut] {
            r.apply(e, &mut out);
        }
        with_memory += usize::from(!r.store().retired().is_empty());
        let mut buf = Vec::new();
        r.save(&mut buf);
        let mut rd = crate::snapshot::SnapReader::new(&buf);
        let mut restored = Reconciler::restore(cfg, &mut rd).unwrap();
        rd.finish().unwrap();
        assert_eq!(restored.state_digest(), r.state_digest(), "cut {cut}");
        for e in &ev[cut..] {
            restored.apply(e, &mut out);
        }
        wake_and_finish(&mut restored, &mut out);
        assert_eq!(out, want, "cut {cut}");
        assert_eq!(restored.state_digest(), whole.state_digest(), "cut {cut}");
        assert_eq!(restored.store_stats(), whole.store_stats(), "cut {cut}");
    }
    assert!(with_memory > ev.len() / 3, "most cuts hold retired orders ({with_memory} of {})", ev.len());
    // A snapshot of another retired-memory size is refused.
    let mut buf = Vec::new();
    whole.save(&mut buf);
    let other = ReconConfig { max_retired_orders: 4, ..cfg };
    let got = Reconciler::restore(other, &mut crate::snapshot::SnapReader::new(&buf)).err();
    assert_eq!(got, Some(crate::snapshot::SnapshotError::ConfigMismatch));
}

/// The compact record of a plain order (one ClOrdID, one OrderID, New and a fill on each
/// stream, both views alike) is small: the figure BENCHMARKS.md gives.
#[test]
fn a_plain_retired_order_takes_a_little_over_a_hundred_bytes() {
    let mut ev = Vec::new();
    for k in 0..100 {
        ev.extend(filled_order(1_000 + 10 * k, &format!("C{:07}", 1_000_000 + k)));
    }
    let (r, _) = run_day(RETIRES, &merged(ev));
    let m = r.store().retired();
    assert_eq!(m.len(), 100);
    let per_order = m.bytes_in_use() / m.len();
    assert!(
        (80..=crate::order::store::retired_memory::BYTES_PER_ORDER).contains(&per_order),
        "{per_order} bytes per order"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..proptest::prelude::ProptestConfig::default() })]
    /// Contract 2.2: replaying a whole day with PossDupFlag=Y — one stream or both, at any time
    /// from just after the retention to the end of the retired memory — changes no output,
    /// whatever the day held (fills and partial fills, cancels, a stream that missed reports).
    #[test]
    fn replaying_a_whole_day_with_possdup_after_retirement_changes_no_output(
        orders in proptest::collection::vec((1usize..4, proptest::prelude::any::<bool>(), 0u8..4), 1..6),
        replay_streams in 1u8..4,
        replay_after_s in 61i64..80_000,
    ) {
        let (p, d) = (Stream::Primary, Stream::DropCopy);
        let mut day = Vec::new();
        for (k, &(fills, cancel, drop)) in orders.iter().enumerate() {
            let id = format!("O{k}");
            let t = 1_000 + 500 * k as i64;
            day.extend(both(t, &id, &format!("{id}-0"), ExecType::New, OrdStatus::New, "38=300|14=0", "38=300|14=0"));
            for f in 1..=fills {
                let cum = 100 * f as i64;
                let st = if cum == 300 { OrdStatus::Filled } else { OrdStatus::PartiallyFilled };
                let tags = format!("38=300|32=100|31=1.1|14={cum}|6=1.1");
                let [a, b] = both(t + 10 * f as i64, &id, &format!("{id}-{f}"), ExecType::Trade, st, &tags, &tags);
                // `drop` 1: the drop copy misses the first fill; 2: the primary does.
                if drop != 1 || f != 1 { day.push(b); }
                if drop != 2 || f != 1 { day.push(a); }
            }
            if cancel || fills < 3 {
                day.extend(both(t + 100, &id, &format!("{id}-9"), ExecType::Canceled, OrdStatus::Canceled, "38=300|14=0", "38=300|14=0"));
            }
            if drop == 3 {
                day.retain(|e| !(e.stream == d && e.cl_ord_id.as_str() == id)); // a phantom
            }
        }
        let day = merged(day);
        let last = day.last().unwrap().event_time.0 / 1_000;
        let (_, want) = run_day(RETIRES, &day);
        let mut ev = day.clone();
        for (k, s) in [p, d].into_iter().enumerate() {
            if replay_streams & (1 << k) != 0 {
                ev.extend(replayed(&day, s, last + replay_after_s * 1_000 + 5_000 * k as i64));
            }
        }
        let (r, got) = run_day(RETIRES, &merged(ev));
        proptest::prop_assert_eq!(got, want);
        proptest::prop_assert_eq!(r.store_stats().reopened, 0);
        proptest::prop_assert_eq!(r.stats().orders, orders.len() as u64);
    }
}

/// Positions (contract 6): a fill counts on the stream that reported it, a bust takes it back
/// — also one that comes after its order retired, or before its fill — and a correct
/// replaces it; the break is what one stream's live fills add up to and the other's do not.
#[test]
fn positions_net_the_live_fills_per_stream_and_busts_and_corrects_adjust_them() {
    let name = |s: &str| Name::from_bytes(s.as_bytes()).unwrap();
    let with = |mut e: ExecEvent, side: u8| {
        (e.account, e.side) = (name("ACC-1"), side);
        e
    };
    // A: bought 100 @ 1.1 on both streams, busted on the primary after retirement.
    let mut ev: Vec<ExecEvent> = filled_order(1_000, "A").into_iter().map(|e| with(e, b'1')).collect();
    ev.push(with(bust_of(Stream::Primary, 91_000, "A", "A1"), b'1'));
    // B: sold 100 @ 1.1 on both; the drop copy corrects it to 1.2, the correct ahead of its fill.
    let b = filled_order(2_000, "B");
    ev.extend(b[..3].iter().map(|e| with(*e, b'2')));
    let mut correct = report(
        Stream::DropCopy,
        2_005,
        "B",
        "B1-C",
        ExecType::TradeCorrect,
        OrdStatus::Filled,
        "37=VB|38=100|32=100|31=1.2|14=100|151=0|6=1.2",
    );
    correct.exec_ref_id = Id::from_bytes(b"B1").unwrap();
    ev.push(with(correct, b'2'));
    ev.push(with(b[3], b'2'));
    let (r, _) = as_if_never_retired(&ev);
    let p = r.positions().get(&name("ACC-1"), &name("EUR/USD")).copied().unwrap();
    assert_eq!(r.positions().len(), 1);
    assert_eq!([p.base[0].to_string(), p.base[1].to_string()], ["-100", "0"], "{p:?}");
    assert_eq!([p.counter[0].to_string(), p.counter[1].to_string()], ["110", "10"], "{p:?}");
    assert_eq!((p.base_break().to_string(), p.counter_break().to_string()), ("-100".into(), "100".into()));
    assert_eq!(p.fills, [1, 2]);
    // The table is state: a snapshot restores it and the digest covers it.
    let mut snap = Vec::new();
    r.save(&mut snap);
    let back = Reconciler::restore(RETIRES, &mut crate::snapshot::SnapReader::new(&snap)).unwrap();
    assert_eq!(back.positions().get(&name("ACC-1"), &name("EUR/USD")), Some(&p));
    assert_eq!(back.state_digest(), r.state_digest());
}
