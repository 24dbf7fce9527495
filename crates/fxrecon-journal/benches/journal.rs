//! Micro-benchmarks of the journal: the frame checksum of one record the size of the bench
//! day's (350 bytes), against the `crc32c` crate on the same bytes in the same run.
//! `cargo bench -p fxrecon-journal --bench journal`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fxrecon_journal::frame_crc::record_crc;

fn bench(c: &mut Criterion) {
    let payload: Vec<u8> = (0..350u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let mut g = c.benchmark_group("record_crc");
    g.throughput(Throughput::Bytes(payload.len() as u64));
    g.bench_function("fxrecon 350 B", |b| b.iter(|| record_crc(black_box(1), black_box(&payload))));
    g.bench_function("crc32c crate 350 B", |b| {
        b.iter(|| crc32c::crc32c_append(crc32c::crc32c(&[black_box(1u8)]), black_box(&payload)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
