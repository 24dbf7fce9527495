//! With an Aeron source (issue 24): after warm-up the ingest agent reading a subscription
//! makes zero heap allocations (a counting global allocator measures its thread alone), over a
//! generated day's primary stream published over IPC through an embedded media driver, while
//! the reconciler applies it against the drop copy. The Aeron C code's own memory is not the
//! Rust allocator's and is not counted; what the poller thread hands over is copied into
//! buffers that were sized at start.

#[path = "common/hot_path.rs"]
mod hot_path;

use std::time::Duration;

use fxrecon_aeron::driver::{DriverConfig, MediaDriver};
use fxrecon_aeron::endpoint::Endpoint;
use fxrecon_aeron::marker::END_OF_STREAM;
use fxrecon_aeron::publisher::Publisher;
use fxrecon_aeron::source::{AeronSource, SourceConfig};
use fxrecon_engine::ingest::memory::MemorySource;
use hot_path::{HotPath, measured, unmeasured};

const WARM_UP: u64 = 20_000;

#[test]
fn the_ingest_agent_reading_an_aeron_subscription_does_not_allocate_after_warm_up() {
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders: 30_000, seed: 24, ..Default::default() });
    let lines: Vec<Vec<u8>> =
        day.primary.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect();
    let n = lines.len() as u64;
    assert!(n > 5 * WARM_UP, "a day long enough to measure: {n} lines");
    let dropcopy: &'static [u8] = day.dropcopy.leak();

    let dir = tempfile::Builder::new().prefix("fxrecon-zero-alloc-aeron-").tempdir().unwrap();
    let driver = MediaDriver::embedded_at(&dir.path().join("driver"), &DriverConfig::default()).unwrap();
    let endpoint = Endpoint::new("aeron:ipc", 1001);
    let source = AeronSource::subscribe(driver.dir(), endpoint.clone(), SourceConfig::default()).unwrap();
    let aeron_dir = driver.dir().to_path_buf();
    let publisher = std::thread::spawn(move || {
        let wait = Duration::from_secs(30);
        let p = Publisher::connect(&aeron_dir, endpoint, wait).unwrap();
        p.wait_connected(wait).unwrap();
        for l in &lines {
            p.offer(l, wait).unwrap();
        }
        p.offer(END_OF_STREAM, wait).unwrap();
    });

    let HotPath { ingest: [mut ingest_p, mut ingest_d], mut recon, mut output, counters, .. } =
        HotPath::new([Box::new(source), Box::new(MemorySource::new(dropcopy, 1 << 16))], None);

    let c = &counters;
    let p_info = std::thread::scope(|s| {
        let p = s.spawn(|| measured(&mut ingest_p, || c.ingest[0].messages.get() >= WARM_UP));
        s.spawn(|| unmeasured(&mut ingest_d));
        s.spawn(|| unmeasured(&mut recon));
        s.spawn(|| unmeasured(&mut output));
        p.join().unwrap()
    });
    publisher.join().unwrap();
    assert_eq!(counters.ingest[0].messages.get() + counters.ingest[0].rejected.get(), n, "every line came over Aeron");
    assert!(counters.output.records.get() > 0, "the day has divergences");
    assert_eq!(p_info.count_total, 0, "the ingest agent on the Aeron source allocated: {p_info:?}");
    drop(driver);
}
