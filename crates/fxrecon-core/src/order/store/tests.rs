//! Tests of the order store through its operations: identity, execution lists, retirement,
//! eviction and snapshots. Never part of a build other than `cargo test`.

use super::exec_record::{ExecKind, ExecRecord, NONE, exec_bit};
use super::order_record::OrderIdx;
use super::order_store::{CapacityExhausted, OrderStore, StoreCapacity};
use crate::decimal::{Fixed, Price, Qty};
use crate::event::{OrdStatus, Stream};
use crate::snapshot::{SnapReader, SnapWriter};
use crate::text::Id;
use crate::time::Micros;

fn id(s: &str) -> Id {
    Id::from_bytes(s.as_bytes()).unwrap()
}

fn store(orders: usize) -> OrderStore {
    OrderStore::with_capacity(StoreCapacity { orders, execs: orders * 4 })
}

fn rec(x: &str) -> ExecRecord {
    ExecRecord {
        stream: Stream::Primary,
        exec_id: id(x),
        kind: ExecKind::Fill,
        cum_after: Qty::ZERO,
        last_qty: Qty::ZERO,
        last_px: Price::ZERO,
        arrival: Micros(0),
        matched: NONE,
        busted: false,
        missing_id: 0,
        deferred: false,
        next: NONE,
    }
}

#[test]
fn replace_chain_maps_every_clordid_to_the_root() {
    let mut s = store(4);
    let e = Id::new();
    let (a, d0) = s.resolve(&id("C1"), &e, &id("V1")).unwrap();
    let (b, d1) = s.resolve(&id("C1.R1"), &id("C1"), &e).unwrap();
    let (c, d2) = s.resolve(&id("C1.R2"), &id("C1.R1"), &e).unwrap();
    assert_eq!((a, b, c), (0, 0, 0));
    assert_eq!((d0, d1, d2), (0, 1, 2));
    assert_eq!(s.order(0).key, id("C1"));
    // Missing ClOrdID: OrderID learned earlier maps to the same order.
    assert_eq!(s.resolve(&e, &e, &id("V1")).unwrap().0, 0);
    assert_eq!(s.len(), 1);
}

#[test]
fn an_order_first_seen_by_orderid_only_takes_its_clordid_later() {
    let mut s = store(4);
    let e = Id::new();
    let (a, _) = s.resolve(&e, &e, &id("V9")).unwrap();
    assert_eq!(s.order(a).key, id("V9"));
    let (b, _) = s.resolve(&id("C9"), &e, &id("V9")).unwrap();
    assert_eq!(a, b, "one order, not two");
    assert_eq!(s.order(a).key, id("C9"), "keyed by its root ClOrdID once known");
    assert_eq!(s.resolve(&id("C9.R1"), &id("C9"), &e).unwrap().0, a);
}

#[test]
fn replace_seen_before_its_original_uses_origclordid_as_root() {
    let mut s = store(4);
    let e = Id::new();
    let (a, _) = s.resolve(&id("C2.R1"), &id("C2"), &e).unwrap();
    let (b, d) = s.resolve(&id("C2"), &e, &e).unwrap();
    assert_eq!((a, b, d), (0, 0, 0));
    assert_eq!(s.order(0).key, id("C2"));
}

#[test]
fn exec_lists_keep_arrival_order_per_stream() {
    let mut s = store(4);
    let (o, _) = s.resolve(&id("C3"), &Id::new(), &Id::new()).unwrap();
    s.push_exec(o, Stream::Primary, rec("E1")).unwrap();
    s.push_exec(o, Stream::DropCopy, rec("X1")).unwrap();
    s.push_exec(o, Stream::Primary, rec("E2")).unwrap();
    let ids: Vec<_> = s.execs_of(o, Stream::Primary).map(|i| s.exec(i).exec_id).collect();
    assert_eq!(ids, vec![id("E1"), id("E2")]);
    assert_eq!(s.find_exec(o, Stream::DropCopy, &id("X1")), Some(1));
    assert_eq!(s.find_exec(o, Stream::DropCopy, &id("E1")), None);
}

fn finish(s: &mut OrderStore, idx: OrderIdx, at: i64) {
    let o = s.order_mut(idx);
    o.views[0].seen = true;
    o.views[0].status = OrdStatus::Filled;
    o.last_activity = Micros(at);
    s.mark_retiring(idx);
}

#[test]
fn orderid_none_never_joins_orders_and_a_busy_finished_order_does_not_block_retirement() {
    let mut s = store(8);
    let e = Id::new();
    let (a, _) = s.resolve(&id("R1"), &e, &id("NONE")).unwrap();
    let (b, _) = s.resolve(&id("R2"), &e, &id("NONE")).unwrap();
    assert_ne!(a, b, "internal rejects share OrderID NONE but are different orders");
    finish(&mut s, a, 0);
    finish(&mut s, b, 1);
    s.order_mut(a).last_activity = Micros(50); // a late report after it finished
    s.retire_idle(Micros(20), 10);
    assert_eq!(s.lookup(&id("R2"), &e, &e), None, "B retires although A, ahead of it, is still busy");
    assert_eq!(s.lookup(&id("R1"), &e, &e), Some(a));
    s.retire_idle(Micros(61), 10);
    assert_eq!(s.lookup(&id("R1"), &e, &e), None);
}

#[test]
fn the_sweep_retires_open_orders_idle_too_long_and_nothing_else() {
    let mut s = store(8);
    let e = Id::new();
    let (open, _) = s.resolve(&id("OPEN"), &e, &e).unwrap();
    let (busy, _) = s.resolve(&id("BUSY"), &e, &e).unwrap();
    let (done, _) = s.resolve(&id("DONE"), &e, &e).unwrap();
    s.order_mut(open).last_activity = Micros(0);
    s.order_mut(busy).last_activity = Micros(90);
    finish(&mut s, done, 0); // finished: left to retire_idle
    assert_eq!(s.sweep_stale(Micros(100), 50, 8), 1);
    assert_eq!(s.lookup(&id("OPEN"), &e, &e), None, "idle open order retired");
    assert_eq!(s.lookup(&id("BUSY"), &e, &e), Some(busy));
    assert_eq!(s.lookup(&id("DONE"), &e, &e), Some(done));
    assert_eq!(s.stats().stale_retired, 1);
    // The hand moves on a few slots per call and comes round again.
    s.order_mut(busy).last_activity = Micros(100);
    let mut n = 0;
    for _ in 0..4 {
        n += s.sweep_stale(Micros(200), 50, 1);
    }
    assert_eq!(n, 1, "BUSY retired once the hand reached it");
}

#[test]
fn full_store_evicts_oldest_retiring_else_reports_exhaustion() {
    let mut s = store(2);
    let e = Id::new();
    let (a, _) = s.resolve(&id("A"), &e, &e).unwrap();
    let (b, _) = s.resolve(&id("B"), &e, &e).unwrap();
    assert_eq!(s.resolve(&id("C"), &e, &e), Err(CapacityExhausted));
    assert_eq!(s.stats().capacity_exhausted, 1);
    finish(&mut s, b, 10);
    finish(&mut s, a, 20);
    let (c, _) = s.resolve(&id("C"), &e, &e).unwrap();
    assert_eq!(c, b, "the oldest retiring order (B) is evicted and its slot reused");
    assert_eq!(s.stats().evicted, 1);
    assert_eq!(s.lookup(&id("B"), &e, &e), None);
    assert_eq!(s.lookup(&id("A"), &e, &e), Some(a));
    assert_eq!(s.len(), 2);
}

#[test]
fn retirement_after_retention_frees_everything_for_reuse() {
    let mut s = store(3);
    let e = Id::new();
    for round in 0..100 {
        let name = format!("O{round}");
        let (o, _) = s.resolve(&id(&name), &e, &id(&format!("V{round}"))).unwrap();
        s.push_exec(o, Stream::Primary, rec("E1")).unwrap();
        s.push_exec(o, Stream::Primary, rec("E2")).unwrap();
        finish(&mut s, o, round * 10);
        s.retire_idle(Micros(round * 10), 15);
        assert!(s.len() <= 3);
    }
    assert!(s.stats().retired >= 97);
    assert_eq!(s.stats().evicted + s.stats().capacity_exhausted, 0);
    assert!(s.execs.len() <= 12, "exec records are reused, not grown");
}

#[test]
fn an_exec_bit_depends_on_the_value_only() {
    let mut reused = id("EXEC-0000000000000001-LONG");
    reused.set(b"E1").unwrap(); // the bytes past the value are left over, never read
    assert_eq!(exec_bit(&reused), exec_bit(&id("E1")));
    assert_eq!(exec_bit(&id("E1")).count_ones(), 1);
    // Mostly different bits for ids that differ in their last characters.
    let bits: u64 = (0..16).map(|n| exec_bit(&id(&format!("EXEC-{n:04}")))).fold(0, |a, b| a | b);
    assert!(bits.count_ones() >= 8, "{bits:064b}");
}

proptest::proptest! {
    /// The summaries kept beside the lists are the ones the records imply (and those a
    /// snapshot load rebuilds), so a lookup they let skip a walk would have found nothing.
    #[test]
    fn list_summaries_always_match_their_lists(
        ops in proptest::collection::vec((0u8..4, 0u8..3, 0u8..2, 0u8..12, 0i64..3), 1..120)
    ) {
        let mut s = OrderStore::with_capacity(StoreCapacity { orders: 4, execs: 24 });
        let e = Id::new();
        for (op, o, st, x, q) in ops {
            let stream = Stream::BOTH[st as usize];
            let key = id(&format!("O{o}"));
            match op {
                // Append a fill or a status report (a small id alphabet: repeats happen).
                0 | 1 => {
                    let Ok((idx, _)) = s.resolve(&key, &e, &e) else { continue };
                    let kind = if op == 0 { ExecKind::Fill } else { ExecKind::Status };
                    let r = ExecRecord { kind, last_qty: Fixed(q), stream, ..rec(&format!("X{x}")) };
                    s.push_exec(idx, stream, r);
                }
                // Pair the first unmatched fill on each stream.
                2 => {
                    let Some(idx) = s.lookup(&key, &e, &e) else { continue };
                    let first = |st| s.execs_of(idx, st).find(|&i| {
                        let r = s.exec(i);
                        r.kind == ExecKind::Fill && r.matched == NONE
                    });
                    if let (Some(f), Some(p)) = (first(Stream::Primary), first(Stream::DropCopy)) {
                        s.pair_fills(idx, f, p);
                    }
                }
                // Finish and retire (its slot and records are reused later).
                _ => {
                    let Some(idx) = s.lookup(&key, &e, &e) else { continue };
                    finish(&mut s, idx, 0);
                    s.retire_idle(Micros(100), 1);
                }
            }
            for idx in 0..s.orders.len() as OrderIdx {
                if !s.order(idx).live {
                    continue;
                }
                let (lists, disagree) = s.derive_summaries(idx).unwrap();
                proptest::prop_assert_eq!(s.order(idx).lists, lists);
                proptest::prop_assert!(s.fills_may_disagree(idx) || !disagree);
                for x in 0..12 {
                    let x = id(&format!("X{x}"));
                    for st in Stream::BOTH {
                        let walked = s.execs_of(idx, st).find(|&i| s.exec(i).exec_id == x);
                        proptest::prop_assert_eq!(s.find_exec(idx, st, &x), walked);
                    }
                }
            }
        }
        let mut buf = Vec::new();
        s.save(&mut SnapWriter::new(&mut buf));
        let mut t = OrderStore::with_capacity(StoreCapacity { orders: 4, execs: 24 });
        t.load(&mut SnapReader::new(&buf)).unwrap();
        for idx in 0..s.orders.len() as OrderIdx {
            if s.order(idx).live {
                proptest::prop_assert_eq!(t.order(idx).lists, s.order(idx).lists);
                proptest::prop_assert!(s.fills_may_disagree(idx) || !t.fills_may_disagree(idx));
            }
        }
    }
}

#[test]
fn a_released_orders_records_on_both_streams_are_reused_whole_and_survive_a_snapshot() {
    // A pool of exactly four records: order A takes them all, two per stream.
    let mut s = OrderStore::with_capacity(StoreCapacity { orders: 2, execs: 4 });
    let e = Id::new();
    let names =
        |s: &OrderStore, o, st| -> Vec<String> { s.execs_of(o, st).map(|i| s.exec(i).exec_id.to_string()).collect() };
    let (a, _) = s.resolve(&id("A"), &e, &e).unwrap();
    for (st, x) in
        [(Stream::Primary, "P1"), (Stream::DropCopy, "D1"), (Stream::Primary, "P2"), (Stream::DropCopy, "D2")]
    {
        s.push_exec(a, st, rec(x)).unwrap();
    }
    finish(&mut s, a, 10);
    s.retire_idle(Micros(100), 15);
    assert_eq!(s.stats().retired, 1);
    // B reuses all four records (the pool cannot grow), with nothing evicted.
    let (b, _) = s.resolve(&id("B"), &e, &e).unwrap();
    s.push_exec(b, Stream::Primary, rec("B1")).unwrap();
    s.push_exec(b, Stream::DropCopy, rec("B2")).unwrap();
    // A snapshot taken with half the free list left restores the same free list.
    let mut buf = Vec::new();
    s.save(&mut SnapWriter::new(&mut buf));
    let mut t = OrderStore::with_capacity(StoreCapacity { orders: 2, execs: 4 });
    t.load(&mut SnapReader::new(&buf)).unwrap();
    for st in [&mut s, &mut t] {
        st.push_exec(b, Stream::Primary, rec("B3")).unwrap();
        st.push_exec(b, Stream::Primary, rec("B4")).unwrap();
        assert_eq!(st.execs.len(), 4, "records are reused, not grown");
        assert_eq!(names(st, b, Stream::Primary), ["B1", "B3", "B4"]);
        assert_eq!(names(st, b, Stream::DropCopy), ["B2"]);
        assert_eq!(st.stats().evicted + st.stats().capacity_exhausted, 0);
        // The pool is now exhausted: with nothing retiring, the next record is refused.
        assert_eq!(st.push_exec(b, Stream::DropCopy, rec("B5")), None);
        assert_eq!(names(st, b, Stream::DropCopy), ["B2"]);
    }
}

#[test]
fn an_append_to_a_full_pool_never_evicts_the_order_it_is_for() {
    // One record in all. A finished order holds it and is the only one retiring, so a late
    // report for it has nothing to evict but itself: refused, and the order stays whole.
    let mut s = OrderStore::with_capacity(StoreCapacity { orders: 2, execs: 1 });
    let e = Id::new();
    let (a, _) = s.resolve(&id("A"), &e, &e).unwrap();
    s.push_exec(a, Stream::Primary, rec("E1")).unwrap();
    finish(&mut s, a, 10);
    let generation = s.order(a).generation;
    assert_eq!(s.push_exec(a, Stream::DropCopy, rec("E2")), None);
    assert_eq!(s.stats().capacity_exhausted, 1);
    assert_eq!(s.stats().evicted, 0);
    assert_eq!((s.len(), s.order(a).generation), (1, generation), "A is still live, same slot");
    assert_eq!(s.lookup(&id("A"), &e, &e), Some(a));
    assert_eq!(s.execs_of(a, Stream::Primary).count(), 1);
    // A is still first in the queue: another order's append evicts it, once.
    let (b, _) = s.resolve(&id("B"), &e, &e).unwrap();
    s.push_exec(b, Stream::Primary, rec("F1")).unwrap();
    assert_eq!(s.stats().evicted, 1);
    assert_eq!(s.lookup(&id("A"), &e, &e), None);
    assert_eq!(s.len(), 1);
    s.retire_idle(Micros(1_000_000), 15);
    assert_eq!(s.len(), 1, "nothing is released twice");
}
