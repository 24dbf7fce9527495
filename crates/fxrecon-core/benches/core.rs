//! Micro-benchmarks of the core: decode one ExecutionReport, reconcile a pre-decoded day,
//! order-table lookup, timer tick (grace queue push + fire). `cargo bench -p fxrecon-core`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fxrecon_core::event::{ExecEvent, Stream};
use fxrecon_core::fix::decode;
use fxrecon_core::order::store::index::OrderTable;
use fxrecon_core::reconciler::grace_timers::{GraceTimers, TimerKind};
use fxrecon_core::time::Micros;
use fxrecon_core::{ReconConfig, Reconciler, Record, Sink};

const ER: &[u8] = b"20261125-13:47:53.561269000 : 8=FIX.4.4\x019=188\x0135=8\x0134=3\x0149=FXGW\x0152=20261125-13:47:53.561\x0156=FIRM\x011=ACC-Q\x016=1.0801\x0111=Q0001\x0114=1000000\x0117=QX000002\x0131=1.0801\x0132=1000000\x0137=V-1\x0138=2000000\x0139=1\x0144=1.0801\x0154=1\x0155=EUR/USD\x01150=F\x01151=1000000\x0110=115\x01";

struct Count(u64);
impl Sink for Count {
    fn emit(&mut self, _: &Record) {
        self.0 += 1;
    }
}

/// A generated mixed day, decoded and merged the way the offline reader does.
fn decoded_day(orders: usize) -> Vec<ExecEvent> {
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders, seed: 9, ..Default::default() });
    let mut events = Vec::new();
    for (stream, bytes) in [(Stream::Primary, &day.primary), (Stream::DropCopy, &day.dropcopy)] {
        for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let mut e = ExecEvent { stream, ..Default::default() };
            decode(line, &mut e).unwrap();
            e.event_time = e.arrival().unwrap();
            events.push(e);
        }
    }
    events.sort_by_key(|e| (e.event_time, e.stream));
    events
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(1));
    let mut ev = ExecEvent::default();
    assert!(decode(ER, &mut ev).is_ok());
    g.bench_function("execution_report_188b", |b| b.iter(|| decode(black_box(ER), &mut ev)));
    g.finish();

    let events = decoded_day(20_000);
    let mut g = c.benchmark_group("reconcile");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.sample_size(10);
    g.bench_function("apply_mixed_day", |b| {
        b.iter(|| {
            let cfg = ReconConfig { max_orders: 1 << 16, max_execs: 1 << 20, ..Default::default() };
            let mut r = Reconciler::new(cfg);
            let mut sink = Count(0);
            for e in &events {
                r.apply(e, &mut sink);
            }
            r.finish(&mut sink);
            sink.0
        })
    });
    g.finish();

    let mut g = c.benchmark_group("order_table");
    let n = 1 << 20;
    let mut t = OrderTable::with_capacity(n);
    let keys: Vec<u64> = (0..n as u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).collect();
    for (i, &k) in keys.iter().enumerate() {
        t.insert(k, i as u32).unwrap();
    }
    let mut i = 0usize;
    g.bench_function("lookup_hit_1m", |b| {
        b.iter(|| {
            i = (i + 7919) & (n - 1);
            t.get(keys[i], |v| v as usize == i)
        })
    });
    g.finish();

    // Timer tick: one grace check scheduled and one fired per event, 40,000 pending (an event
    // every 50 µs of event time under a 2 s grace window), as in the reconciler's steady state.
    let mut g = c.benchmark_group("timers");
    let mut q = GraceTimers::with_capacity(1 << 16);
    let mut now = 1_700_000_000_000_000i64;
    g.bench_function("tick_push_then_fire_2s_grace", |b| {
        b.iter(|| {
            now += 50;
            q.push(Micros(now + 2_000_000), 1, 0, TimerKind::Views).unwrap();
            while let Some(x) = q.pop_due(Some(Micros(now))) {
                black_box(x);
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
