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
