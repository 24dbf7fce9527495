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

/// An ER of order `id` on `stream` at `t` ms, with the tags named in `tags` ("38=100|6=1.2").
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
fn a_missing_fill_on_a_stream_with_an_open_gap_carries_gap_exposure() {
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
    let mut ev: Vec<ExecEvent> =
        both(0, "C1", "C0", ExecType::New, OrdStatus::New, "38=5000000|14=0", "38=5000000|14=0").into();
    // The primary asks to replace C1 by C2 (PendingReplace on C2); the venue refuses it.
    let mut pending =
        report(Stream::Primary, 5, "C2", "C5", ExecType::PendingReplace, OrdStatus::PendingReplace, "38=6000000|14=0");
    pending.orig_cl_ord_id = Id::from_bytes(b"C1").unwrap();
    ev.push(pending);
    let mut refusal = report(Stream::Primary, 6, "C2", "", ExecType::Other, OrdStatus::New, "");
    refusal.kind = MsgKind::OrderCancelReject;
    refusal.orig_cl_ord_id = Id::from_bytes(b"C1").unwrap();
    ev.push(refusal);
    // Later the venue restates a smaller OrderQty on C1, on both streams.
    ev.extend(both(100, "C1", "C7", ExecType::Restated, OrdStatus::New, "38=4000000|14=0", "38=4000000|14=0"));
    let got = divergences(&ev);
    assert!(got.is_empty(), "{got:?}");
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
