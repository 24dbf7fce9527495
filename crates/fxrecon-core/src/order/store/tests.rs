//! Tests of the order store through its operations: identity, execution lists, retirement,
//! eviction and snapshots. Never part of a build other than `cargo test`.

use super::exec_record::{ExecKind, ExecRecord, NONE, exec_bit};
use super::order_record::OrderIdx;
use super::order_store::{OrderStore, StoreCapacity, Unresolved};
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
    let (a, d0) = s.resolve(&id("C1"), &e, &id("V1"), true).unwrap();
    let (b, d1) = s.resolve(&id("C1.R1"), &id("C1"), &e, false).unwrap();
    let (c, d2) = s.resolve(&id("C1.R2"), &id("C1.R1"), &e, false).unwrap();
    assert_eq!((a, b, c), (0, 0, 0));
    assert_eq!((d0, d1, d2), (0, 1, 2));
    assert_eq!(s.order(0).key, id("C1"));
    // Missing ClOrdID: OrderID learned earlier maps to the same order.
    assert_eq!(s.resolve(&e, &e, &id("V1"), false).unwrap().0, 0);
    assert_eq!(s.len(), 1);
}

#[test]
fn an_order_first_seen_by_orderid_only_takes_its_clordid_later() {
    let mut s = store(4);
    let e = Id::new();
    let (a, _) = s.resolve(&e, &e, &id("V9"), false).unwrap();
    assert_eq!(s.order(a).key, id("V9"));
    let (b, _) = s.resolve(&id("C9"), &e, &id("V9"), true).unwrap();
    assert_eq!(a, b, "one order, not two");
    assert_eq!(s.order(a).key, id("C9"), "keyed by its root ClOrdID once known");
    assert_eq!(s.resolve(&id("C9.R1"), &id("C9"), &e, false).unwrap().0, a);
}

#[test]
fn replace_seen_before_its_original_uses_origclordid_as_root() {
    let mut s = store(4);
    let e = Id::new();
    let (a, d1) = s.resolve(&id("C2.R1"), &id("C2"), &e, false).unwrap();
    let (b, d0) = s.resolve(&id("C2"), &e, &e, true).unwrap();
    assert_eq!((a, b), (0, 0));
    assert_eq!(d1, d0 + 1, "the link sits one above the OrigClOrdID it names");
    assert_eq!(s.order(0).key, id("C2"));
    assert_eq!(s.order(0).standing, super::order_record::Standing::Rooted, "its New names the root");
}

#[test]
fn exec_lists_keep_arrival_order_per_stream() {
    let mut s = store(4);
    let (o, _) = s.resolve(&id("C3"), &Id::new(), &Id::new(), true).unwrap();
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
    let (a, _) = s.resolve(&id("R1"), &e, &id("NONE"), true).unwrap();
    let (b, _) = s.resolve(&id("R2"), &e, &id("NONE"), true).unwrap();
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
    let (open, _) = s.resolve(&id("OPEN"), &e, &e, true).unwrap();
    let (busy, _) = s.resolve(&id("BUSY"), &e, &e, true).unwrap();
    let (done, _) = s.resolve(&id("DONE"), &e, &e, true).unwrap();
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
    let (a, _) = s.resolve(&id("A"), &e, &e, true).unwrap();
    let (b, _) = s.resolve(&id("B"), &e, &e, true).unwrap();
    assert_eq!(s.resolve(&id("C"), &e, &e, true), Err(Unresolved::CapacityExhausted));
    assert_eq!(s.stats().capacity_exhausted, 1);
    finish(&mut s, b, 10);
    finish(&mut s, a, 20);
    let (c, _) = s.resolve(&id("C"), &e, &e, true).unwrap();
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
        let (o, _) = s.resolve(&id(&name), &e, &id(&format!("V{round}")), true).unwrap();
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
                    let Ok((idx, _)) = s.resolve(&key, &e, &e, true) else { continue };
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
    let (a, _) = s.resolve(&id("A"), &e, &e, true).unwrap();
    for (st, x) in
        [(Stream::Primary, "P1"), (Stream::DropCopy, "D1"), (Stream::Primary, "P2"), (Stream::DropCopy, "D2")]
    {
        s.push_exec(a, st, rec(x)).unwrap();
    }
    finish(&mut s, a, 10);
    s.retire_idle(Micros(100), 15);
    assert_eq!(s.stats().retired, 1);
    // B reuses all four records (the pool cannot grow), with nothing evicted.
    let (b, _) = s.resolve(&id("B"), &e, &e, true).unwrap();
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
    let (a, _) = s.resolve(&id("A"), &e, &e, true).unwrap();
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
    let (b, _) = s.resolve(&id("B"), &e, &e, true).unwrap();
    s.push_exec(b, Stream::Primary, rec("F1")).unwrap();
    assert_eq!(s.stats().evicted, 1);
    assert_eq!(s.lookup(&id("A"), &e, &e), None);
    assert_eq!(s.len(), 1);
    s.retire_idle(Micros(1_000_000), 15);
    assert_eq!(s.len(), 1, "nothing is released twice");
}

/// Contract 2.1, "several OrderIDs": every OrderID a report of the order carries maps to it
/// (the first inline, the others in the pool), with the depth of the link that carried it;
/// `NONE` and an empty OrderID never name an order; retirement forgets them all.
#[test]
fn every_order_id_a_report_carries_maps_to_its_order() {
    let mut s = store(4);
    let e = Id::new();
    let (a, _) = s.resolve(&id("A"), &e, &id("V1"), true).unwrap();
    assert_eq!(s.resolve(&id("B"), &id("A"), &id("V2"), false).unwrap(), (a, 1));
    assert_eq!(s.resolve(&id("C"), &id("B"), &id("V3"), false).unwrap(), (a, 2));
    for (v, depth) in [("V1", 0), ("V2", 1), ("V3", 2)] {
        assert_eq!(s.resolve(&e, &e, &id(v), false).unwrap(), (a, depth), "{v}");
    }
    assert_eq!(s.lookup(&e, &e, &id("V3")), Some(a));
    assert_eq!(s.lookup(&e, &e, &id("NONE")), None);
    assert_eq!((s.len(), s.stats().joined), (1, 0));
    finish(&mut s, a, 0);
    s.retire_idle(Micros(100), 1);
    for v in ["V1", "V2", "V3"] {
        assert_eq!(s.lookup(&e, &e, &id(v)), None, "{v} forgotten with its order");
    }
    assert!(s.aliases.entries.len() <= s.aliases.free.len(), "every pool entry is free again");
}

/// A link that arrives before the one it names starts a provisional part; the report that
/// ties it to the order (the missing link, naming a link of the order) joins them: one order,
/// keyed by the root, the part's depths rebased above the link it hangs off, its slot free.
#[test]
fn a_provisional_part_joins_its_order_when_the_missing_link_arrives() {
    let mut s = store(4);
    let e = Id::new();
    let (a, _) = s.resolve(&id("A"), &e, &e, true).unwrap();
    s.resolve(&id("B"), &id("A"), &e, false).unwrap();
    let (p, d) = s.resolve(&id("D"), &id("C"), &e, false).unwrap();
    assert_ne!(p, a, "nothing ties D to the order yet");
    assert_eq!((s.order(p).key, s.order(p).standing), (id("C"), super::order_record::Standing::Provisional));
    assert!(s.resolve(&id("E"), &id("D"), &e, false).unwrap() == (p, d + 1));
    assert!(!s.has_joins());
    // C names B: C's part joins A's order, C just above B.
    assert_eq!(s.resolve(&id("C"), &id("B"), &e, false).unwrap(), (a, 2));
    let joins = s.take_joins();
    assert_eq!(joins.as_slice().len(), 1);
    assert_eq!((joins.as_slice()[0].survivor, joins.as_slice()[0].absorbed), (a, p));
    assert!(!s.has_joins(), "taken");
    for (cl, depth) in [("A", 0), ("B", 1), ("C", 2), ("D", 3), ("E", 4)] {
        assert_eq!(s.chain_depth_of(&id(cl)), Some(depth), "{cl}");
        assert_eq!(s.lookup(&id(cl), &e, &e), Some(a));
    }
    assert_eq!((s.len(), s.order(a).key, s.order(p).live, s.stats().joined), (1, id("A"), false, 1));
}

/// A full identity pool (and OrderID table) is counted as capacity exhausted, never a panic,
/// and never allocates: the order still resolves by what it remembered (a link whose
/// OrigClOrdID was not remembered is a new order, refused by the full store).
#[test]
fn a_full_identity_pool_is_counted_not_a_panic() {
    let mut s = OrderStore::with_capacity(StoreCapacity { orders: 1, execs: 4 });
    let e = Id::new();
    let (a, _) = s.resolve(&id("A"), &e, &id("V0"), true).unwrap();
    let reserved = s.aliases.entries.capacity();
    let mut prev = "A".to_string();
    for k in 1..6 {
        let cl = format!("L{k}");
        if let Ok((o, _)) = s.resolve(&id(&cl), &id(&prev), &id(&format!("V{k}")), false) {
            assert_eq!(o, a);
        }
        prev = cl;
    }
    assert!(s.stats().capacity_exhausted > 0);
    assert_eq!(s.aliases.entries.capacity(), reserved);
    assert_eq!(s.lookup(&id("A"), &e, &e), Some(a));
    assert_eq!(s.lookup(&e, &e, &id("V0")), Some(a));
}

/// A snapshot keeps the pool's OrderIDs, the standing of each order and the joined count; a
/// pool entry whose kind does not match the table that names it is refused on load.
#[test]
fn a_snapshot_keeps_several_order_ids_and_refuses_an_entry_of_the_wrong_kind() {
    let mut s = store(8);
    let e = Id::new();
    let (a, _) = s.resolve(&id("A"), &e, &id("V1"), true).unwrap();
    s.resolve(&id("B"), &id("A"), &id("V2"), false).unwrap();
    s.resolve(&id("C"), &id("B"), &id("V3"), false).unwrap();
    let (p, _) = s.resolve(&id("Y"), &id("X"), &id("W1"), false).unwrap();
    s.resolve(&e, &e, &id("Q1"), false).unwrap();
    let mut buf = Vec::new();
    s.save(&mut SnapWriter::new(&mut buf));
    let mut t = store(8);
    t.load(&mut SnapReader::new(&buf)).unwrap();
    for v in ["V1", "V2", "V3"] {
        assert_eq!(t.lookup(&e, &e, &id(v)), Some(a));
    }
    assert_eq!((t.lookup(&e, &e, &id("W1")), t.order(p).standing), (Some(p), s.order(p).standing));
    let mut d1 = crate::digest::Digest::default();
    let mut d2 = crate::digest::Digest::default();
    s.digest_into(&mut d1);
    t.digest_into(&mut d2);
    assert_eq!(d1.finish(), d2.finish());
    // An OrderID entry passed off as a ClOrdID one.
    let e0 = s.pool_chain(a).find(|&x| s.aliases.entries[x as usize].order_id).unwrap();
    s.aliases.entries[e0 as usize].order_id = false;
    let mut bad = Vec::new();
    s.save(&mut SnapWriter::new(&mut bad));
    let mut u = store(8);
    assert!(u.load(&mut SnapReader::new(&bad)).is_err());
}

/// A store with a retired memory, its retention already known (as after the first event).
fn remembering_store() -> OrderStore {
    use super::order_store::RetiredCapacity;
    let mut s = OrderStore::with_memory(
        StoreCapacity { orders: 64, execs: 256 },
        RetiredCapacity { orders: 64, keep_us: 1_000_000 },
    );
    s.retire_idle(Micros(0), 10);
    s
}

/// The bytes of the one record the memory holds for ClOrdID `cl`.
fn retired_bytes(s: &OrderStore, cl: &str) -> Vec<u8> {
    let r = s.retired.find(super::retired_record::IdKind::ClOrdId, &id(cl)).expect("remembered");
    s.retired.record(r).0.to_vec()
}

#[test]
fn a_record_staged_at_finish_is_remembered_and_every_later_change_to_the_order_unstages_it() {
    // One change per path that can alter what an order's record holds (D110). For each, the
    // change made after the order finished (its record staged) must give the same record as
    // the change made before it finished, and a different one from no change at all.
    type Change = fn(&mut OrderStore, OrderIdx, [u32; 2]);
    let changes: [(&str, Change); 7] = [
        ("order_mut", |s, o, _| s.order_mut(o).open_quantity = 7),
        ("exec_mut", |s, o, f| s.exec_mut(o, f[0]).missing_id = 9),
        ("push_exec", |s, o, _| {
            s.push_exec(o, Stream::DropCopy, rec("X9")).unwrap();
        }),
        ("pair_fills", |s, o, f| s.pair_fills(o, f[0], f[1])),
        ("resolve: a new link", |s, _, _| {
            s.resolve(&id("C1.R1"), &id("C1"), &Id::new(), false).unwrap();
        }),
        ("resolve: a new OrderID", |s, _, _| {
            s.resolve(&id("C1"), &Id::new(), &id("V2"), false).unwrap();
        }),
        ("resolve: a join", |s, _, _| {
            s.resolve(&id("C1.R1"), &id("C1"), &Id::new(), false).unwrap();
            s.take_joins();
        }),
    ];
    // `when`: None no change, Some(true) before it finishes, Some(false) after.
    let day = |change: Option<(Change, bool)>| {
        let mut s = remembering_store();
        let e = Id::new();
        let (o, _) = s.resolve(&id("C1"), &e, &id("V1"), true).unwrap();
        // A provisional part the join change attaches (C1.R2 names C1.R1, unknown yet).
        let (p, _) = s.resolve(&id("C1.R2"), &id("C1.R1"), &e, false).unwrap();
        assert_ne!(o, p);
        s.order_mut(p).last_activity = Micros(1);
        let f0 = s.push_exec(o, Stream::Primary, rec("E1")).unwrap();
        let f1 = s.push_exec(o, Stream::DropCopy, ExecRecord { stream: Stream::DropCopy, ..rec("X1") }).unwrap();
        for v in &mut s.order_mut(o).views {
            v.seen = true;
            v.status = OrdStatus::Filled;
        }
        s.order_mut(o).last_activity = Micros(1);
        if let Some((c, true)) = change {
            c(&mut s, o, [f0, f1]);
        }
        s.mark_retiring(o);
        if let Some((c, false)) = change {
            c(&mut s, o, [f0, f1]);
        }
        s.retire_idle(Micros(100), 10);
        assert!(s.lookup(&id("C1"), &e, &e).is_none(), "retired");
        (retired_bytes(&s, "C1"), s.staged_hits)
    };
    let (plain, hits) = day(None);
    assert_eq!(hits, 1, "an order unchanged since it finished is remembered from its staged record");
    for (name, c) in changes {
        let (before, hits_before) = day(Some((c, true)));
        let (after, _) = day(Some((c, false)));
        assert_ne!(before, plain, "{name}: the change shows in the record");
        assert_eq!(after, before, "{name}: a change after the record was staged is not lost");
        assert_eq!(hits_before, 1, "{name}: staged at finish");
    }
}

#[test]
fn a_staged_record_written_over_or_for_another_retirement_time_is_encoded_again() {
    let e = Id::new();
    // Evicted from a full store: remembered as retired then, not a retention after.
    let mut s = remembering_store();
    let (o, _) = s.resolve(&id("C1"), &e, &id("V1"), true).unwrap();
    s.order_mut(o).views[0].seen = true;
    s.order_mut(o).views[0].status = OrdStatus::Filled;
    s.order_mut(o).last_activity = Micros(1);
    s.mark_retiring(o);
    s.retire_idle(Micros(5), 10);
    s.evict_oldest_retiring(None).unwrap();
    assert_eq!(s.staged_hits, 0);
    let (_, at) = s.retired.record(s.retired.find(super::retired_record::IdKind::ClOrdId, &id("C1")).unwrap());
    assert_eq!(at, Micros(5), "retired when evicted");
    // More finished orders than the staging ring holds (it is sized by the smaller of the
    // store and the memory: 16 × 160 bytes here): the first ones' records are written over,
    // and they are encoded again when they retire; the last ones come from the ring.
    use super::order_store::RetiredCapacity;
    let mut s = OrderStore::with_memory(
        StoreCapacity { orders: 256, execs: 256 },
        RetiredCapacity { orders: 16, keep_us: 1_000 },
    );
    s.retire_idle(Micros(0), 10);
    let n = 200;
    for k in 0..n {
        let (o, _) = s.resolve(&id(&format!("ORDER-{k:04}")), &e, &e, true).unwrap();
        s.order_mut(o).views[0].seen = true;
        s.order_mut(o).views[0].status = OrdStatus::Filled;
        s.order_mut(o).last_activity = Micros(1);
        s.mark_retiring(o);
    }
    s.retire_idle(Micros(100), 10);
    assert_eq!(s.retired().len(), 16, "the memory keeps its newest 16");
    assert!(s.staged_hits > 16 && s.staged_hits < n as u64, "some staged, some written over: {}", s.staged_hits);
    for k in n - 16..n {
        let r = s.retired_order(&id(&format!("ORDER-{k:04}"))).expect("remembered");
        assert_eq!((r.retired_at, r.last_activity), (Micros(11), Micros(1)));
    }
}
