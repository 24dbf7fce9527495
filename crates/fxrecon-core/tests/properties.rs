//! Property tests: the order state machine's invariants, the reconciler's exactness on random
//! days with drops, duplicates and reorderings, and determinism.

use std::collections::BTreeSet;

use fxrecon_core::decimal::{Price, Qty};
use fxrecon_core::divergence::{DivergenceKind, Record};
use fxrecon_core::event::{ExecEvent, ExecType, MsgKind, OrdStatus, Stream, has};
use fxrecon_core::order::view::OrderView;
use fxrecon_core::text::{Id, Name};
use fxrecon_core::time::Micros;
use fxrecon_core::{ReconConfig, Reconciler};
use proptest::prelude::*;

fn id(s: &str) -> Id {
    Id::from_bytes(s.as_bytes()).unwrap()
}

/// One report of an order's lifecycle, as both streams would carry it.
#[derive(Clone, Debug)]
struct Step {
    exec_id: String,
    exec_type: ExecType,
    status: OrdStatus,
    cum: i64,
    last: i64,
}

/// New, then fills of the given sizes, then Filled or (if not complete) Canceled.
fn lifecycle(order_qty: i64, fills: &[i64], cancel: bool) -> Vec<Step> {
    let mut steps =
        vec![Step { exec_id: "N".into(), exec_type: ExecType::New, status: OrdStatus::New, cum: 0, last: 0 }];
    let mut cum = 0;
    for (i, &f) in fills.iter().enumerate() {
        let f = f.min(order_qty - cum);
        if f <= 0 {
            break;
        }
        cum += f;
        let status = if cum == order_qty { OrdStatus::Filled } else { OrdStatus::PartiallyFilled };
        steps.push(Step { exec_id: format!("F{i}"), exec_type: ExecType::Trade, status, cum, last: f });
    }
    if cancel && cum < order_qty {
        steps.push(Step {
            exec_id: "X".into(),
            exec_type: ExecType::Canceled,
            status: OrdStatus::Canceled,
            cum,
            last: 0,
        });
    }
    steps
}

fn event(order: &str, s: &Step, stream: Stream, t: i64, order_qty: i64, exec_prefix: &str) -> ExecEvent {
    ExecEvent {
        stream,
        kind: MsgKind::ExecutionReport,
        event_time: Micros(t),
        cl_ord_id: id(order),
        exec_id: id(&format!("{exec_prefix}{order}-{}", s.exec_id)),
        exec_type: s.exec_type,
        ord_status: s.status,
        symbol: Name::from_bytes(b"EUR/USD").unwrap(),
        order_qty: Qty::from_int(order_qty),
        cum_qty: Qty::from_int(s.cum),
        last_qty: Qty::from_int(s.last),
        last_px: Price::from_int(1),
        avg_px: if s.cum > 0 { Price::from_int(1) } else { Price::ZERO },
        leaves_qty: Qty::from_int(if s.status.is_terminal() { 0 } else { order_qty - s.cum }),
        present: has::EXEC_TYPE
            | has::ORD_STATUS
            | has::ORDER_QTY
            | has::CUM_QTY
            | has::LAST_QTY
            | has::LAST_PX
            | has::AVG_PX
            | has::LEAVES_QTY,
        ..ExecEvent::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever order a stream delivers an order's reports in (with repeats), CumQty never
    /// goes negative or above OrderQty, never moves backwards, and the view ends where the
    /// lifecycle ends; while live, CumQty + LeavesQty = OrderQty once the newest report is in.
    #[test]
    fn order_view_invariants_under_reordering(
        order_qty in 1i64..100,
        fills in prop::collection::vec(1i64..40, 0..6),
        cancel in any::<bool>(),
        order in prop::collection::vec(0usize..64, 1..40),
    ) {
        let steps = lifecycle(order_qty, &fills, cancel);
        let mut v = OrderView::default();
        let mut last_cum = Qty::ZERO;
        // Every step at least once, in a random order, some repeated.
        let mut sequence: Vec<usize> = (0..steps.len()).collect();
        sequence.extend(order.iter().map(|i| i % steps.len()));
        let perm: Vec<usize> = order.iter().map(|i| i % sequence.len()).collect();
        let len = sequence.len();
        for (a, &b) in perm.iter().enumerate() {
            sequence.swap(a % len, b);
        }
        for &i in &sequence {
            v.apply_report(&event("O", &steps[i], Stream::Primary, 0, order_qty, ""), 0);
            prop_assert!(v.cum_qty >= Qty::ZERO && v.cum_qty <= Qty::from_int(order_qty));
            prop_assert!(v.cum_qty >= last_cum, "CumQty moved backwards");
            last_cum = v.cum_qty;
        }
        let last = steps.last().unwrap();
        prop_assert_eq!(v.cum_qty, Qty::from_int(last.cum));
        let terminal = steps.iter().any(|s| s.status.is_terminal());
        if terminal {
            prop_assert!(v.status.is_terminal());
        } else {
            prop_assert_eq!(v.cum_qty.plus(v.leaves_qty), Qty::from_int(order_qty));
        }
    }

    /// A bust restores the CumQty before the busted fill, even after Filled.
    #[test]
    fn bust_restores_previous_cum(order_qty in 2i64..100, first in 1i64..50) {
        let first = first.min(order_qty - 1);
        let steps = lifecycle(order_qty, &[first, order_qty], false);
        let mut v = OrderView::default();
        for s in &steps {
            v.apply_report(&event("O", s, Stream::Primary, 0, order_qty, ""), 0);
        }
        prop_assert_eq!(v.status, OrdStatus::Filled);
        let bust = Step { exec_id: "B".into(), exec_type: ExecType::TradeCancel, status: OrdStatus::PartiallyFilled, cum: first, last: order_qty - first };
        v.apply_trade_adjustment(&event("O", &bust, Stream::Primary, 0, order_qty, ""));
        prop_assert_eq!(v.cum_qty, Qty::from_int(first));
        prop_assert_eq!(v.status, OrdStatus::PartiallyFilled);
        prop_assert_eq!(v.leaves_qty, Qty::from_int(order_qty - first));
    }

    /// Random days: both streams carry the same lifecycles, the drop copy with its own jitter
    /// (reordering across streams, always within the timing threshold), some messages
    /// repeated on either side, some fills dropped on one side. The reconciler reports exactly
    /// one MissingFill per order with a dropped fill, and nothing else; twice the same bytes.
    #[test]
    fn reconciler_reports_exactly_the_injected_drops(
        orders in prop::collection::vec(
            (1i64..50, prop::collection::vec(1i64..30, 1..5), any::<bool>(), 0u8..4, 0i64..200_000, any::<bool>()),
            1..25,
        ),
        own_exec_ids in any::<bool>(),
    ) {
        let mut events = Vec::new();
        let mut expected = BTreeSet::new();
        for (n, (qty, fills, cancel, fault, jitter_us, dup)) in orders.iter().enumerate() {
            let name = format!("O{n}");
            let steps = lifecycle(*qty, fills, *cancel);
            let fill_steps: Vec<usize> = steps.iter().enumerate().filter(|(_, s)| s.exec_type == ExecType::Trade).map(|(i, _)| i).collect();
            // fault 1: drop a fill on the drop copy; 2: on the primary; else none.
            let dropped = match (*fault, fill_steps.first()) {
                (1, Some(&i)) => Some((Stream::DropCopy, i)),
                (2, Some(&i)) => Some((Stream::Primary, i)),
                _ => None,
            };
            if dropped.is_some() {
                expected.insert((name.clone(), DivergenceKind::MissingFill));
            }
            let base = n as i64 * 10_000_000; // 10 s apart: orders never interact
            for (k, s) in steps.iter().enumerate() {
                for stream in Stream::BOTH {
                    if dropped == Some((stream, k)) {
                        continue;
                    }
                    let t = base + k as i64 * 300_000 + if stream == Stream::DropCopy { *jitter_us } else { 0 };
                    let prefix = if own_exec_ids && stream == Stream::DropCopy { "V" } else { "" };
                    let ev = event(&name, s, stream, t, *qty, prefix);
                    events.push(ev);
                    if *dup && k == 0 {
                        events.push(ExecEvent { event_time: Micros(t + 1), ..ev });
                    }
                }
            }
        }
        events.sort_by_key(|e| (e.event_time, e.stream));
        let run = || {
            let mut r = Reconciler::new(ReconConfig { max_orders: 1024, max_execs: 8192, ..ReconConfig::default() });
            let mut out: Vec<Record> = Vec::new();
            for e in &events {
                r.apply(e, &mut out);
            }
            r.finish(&mut out);
            out
        };
        let out = run();
        prop_assert_eq!(&out, &run(), "same input, same output");
        let got: BTreeSet<(String, DivergenceKind)> = out
            .iter()
            .filter_map(|r| match r {
                Record::Divergence(d) => Some((d.order_id.as_str().to_string(), d.kind)),
                _ => None,
            })
            .collect();
        prop_assert_eq!(got, expected);
    }
}
