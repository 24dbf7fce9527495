//! Real Aeron, an embedded media driver, no mocks: messages published on a stream come out of
//! the subscription source whole and in order (messages above the MTU included: the fragment
//! assembler puts them back together), over IPC and over UDP on the loopback; the end marker
//! ends the input; a message over the limit is handed over as too long. The publication sink
//! publishes each record as one JSON object, then the end marker.

use std::path::Path;
use std::time::{Duration, Instant};

use fxrecon_aeron::driver::{DriverConfig, MediaDriver};
use fxrecon_aeron::endpoint::Endpoint;
use fxrecon_aeron::marker::END_OF_STREAM;
use fxrecon_aeron::sink::{AeronSink, SinkConfig, connect_publication};
use fxrecon_aeron::source::{AeronSource, SourceConfig};
use fxrecon_core::divergence::{CapacityRecord, Record};
use fxrecon_core::event::Stream;
use fxrecon_core::text::Id;
use fxrecon_core::time::Micros;
use fxrecon_engine::ingest::source::{MessageSource, Poll, SourceMessage};
use fxrecon_engine::output::sink::OutputSink;

/// What a source handed over, until its end.
#[derive(Debug, PartialEq, Eq)]
enum Got {
    Whole(Vec<u8>),
    TooLong(usize),
}

fn read_all(src: &mut AeronSource, limit: Duration) -> Vec<Got> {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    loop {
        assert!(Instant::now() < deadline, "no end of stream after {limit:?}; got {} messages", got.len());
        match src.poll().unwrap() {
            Poll::Message(SourceMessage::Whole { bytes, received }) => {
                assert!(received.is_some(), "arrival is stamped at ingest");
                got.push(Got::Whole(bytes.to_vec()));
            }
            Poll::Message(SourceMessage::TooLong { len, .. }) => got.push(Got::TooLong(len)),
            Poll::Pending => std::thread::sleep(Duration::from_micros(50)),
            Poll::End => return got,
        }
    }
}

/// Messages of many sizes: small ones, several times the 1408-byte MTU, and one just under
/// the 64 KiB limit.
fn messages() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for i in 0..500usize {
        let len = match i % 5 {
            0 => 40,
            1 => 1500,
            2 => 5000,
            3 => 20_000,
            _ => 200,
        };
        out.push((0..len).map(|k| b'a' + ((i + k) % 26) as u8).collect());
    }
    out.push(vec![b'z'; (64 << 10) - 1]);
    out
}

fn publish_all(dir: &Path, endpoint: &Endpoint, msgs: &[Vec<u8>]) {
    let (_client, publication) = connect_publication(dir, endpoint, Duration::from_secs(10)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !publication.is_connected() {
        assert!(Instant::now() < deadline, "the subscription never connected");
        std::thread::sleep(Duration::from_millis(1));
    }
    for m in msgs.iter().map(Vec::as_slice).chain([END_OF_STREAM]) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Err(e) = publication.offer(m) {
            assert!(e.is_retryable(), "offer failed: {e}");
            assert!(Instant::now() < deadline, "backpressure for 10 s");
            std::thread::yield_now();
        }
    }
}

fn round_trip(channel: &str) {
    let state = tempfile::tempdir().unwrap();
    let driver = MediaDriver::embedded(state.path(), &DriverConfig::default()).unwrap();
    let endpoint = Endpoint::new(channel, 1001);
    let mut src = AeronSource::subscribe(driver.dir(), endpoint.clone(), SourceConfig::default()).unwrap();
    let msgs = messages();
    let mut too_long = msgs.clone();
    too_long.push(vec![b'x'; 70_000]);
    let publisher = {
        let (dir, endpoint, too_long) = (driver.dir().to_path_buf(), endpoint.clone(), too_long.clone());
        std::thread::spawn(move || publish_all(&dir, &endpoint, &too_long))
    };
    // Made on this thread, polled on another (as the ingest agent polls it), then back here:
    // the source moves between threads whole (D68).
    let (got, mut src) = std::thread::spawn(move || (read_all(&mut src, Duration::from_secs(60)), src)).join().unwrap();
    publisher.join().unwrap();
    let mut want: Vec<Got> = msgs.into_iter().map(Got::Whole).collect();
    want.push(Got::TooLong(70_000));
    assert_eq!(got.len(), want.len());
    assert!(got == want, "messages differ");
    let c = src.counters();
    assert_eq!(c.messages.load(std::sync::atomic::Ordering::Relaxed), 501);
    assert_eq!(c.too_long.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert!(c.images_joined.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    assert!(matches!(src.poll().unwrap(), Poll::End), "the end is for good");
}

#[test]
fn ipc_round_trip_reassembles_messages_above_the_mtu() {
    round_trip("aeron:ipc");
}

#[test]
fn udp_loopback_round_trip_reassembles_messages_above_the_mtu() {
    let port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    round_trip(&format!("aeron:udp?endpoint=127.0.0.1:{port}"));
}

#[test]
fn the_sink_publishes_one_json_object_per_record_then_the_end_marker() {
    let state = tempfile::tempdir().unwrap();
    let driver = MediaDriver::embedded(state.path(), &DriverConfig::default()).unwrap();
    let endpoint = Endpoint::new("aeron:ipc", 2001);
    let mut sub = AeronSource::subscribe(driver.dir(), endpoint.clone(), SourceConfig::default()).unwrap();
    let cfg = SinkConfig { wait_for_subscriber: Duration::from_secs(10), ..SinkConfig::default() };
    let mut sink = AeronSink::publish(driver.dir(), endpoint, cfg).unwrap();
    let records: Vec<Record> = (0..100)
        .map(|i| {
            Record::CapacityExhausted(CapacityRecord {
                id: i,
                order_id: Id::from_bytes(format!("ORD-{i}").as_bytes()).unwrap(),
                stream: if i % 2 == 0 { Stream::Primary } else { Stream::DropCopy },
                detected_at: Micros(1_700_000_000_000_000 + i as i64),
            })
        })
        .collect();
    let mut want = Vec::new();
    for r in &records {
        sink.record(r).unwrap();
        let mut line = Vec::new();
        fxrecon_engine::output::render::write_record(&mut line, r).unwrap();
        line.pop();
        want.push(Got::Whole(line));
    }
    let counters = sink.counters();
    sink.close().unwrap();
    let got = read_all(&mut sub, Duration::from_secs(30));
    assert!(got == want, "published records differ: {got:?}");
    assert_eq!(counters.sent.load(std::sync::atomic::Ordering::Relaxed), 100);
    assert_eq!(counters.dropped(), 0);
    for g in &got {
        let Got::Whole(b) = g else { unreachable!() };
        let v: serde_json::Value = serde_json::from_slice(b).unwrap();
        assert!(v.is_object() && v.to_string().contains("\"CapacityExhausted\""), "{v}");
    }
}

#[test]
fn a_live_driver_directory_is_refused_and_an_external_driver_can_be_attached() {
    let state = tempfile::tempdir().unwrap();
    let driver = MediaDriver::embedded(state.path(), &DriverConfig::default()).unwrap();
    let err = MediaDriver::embedded(state.path(), &DriverConfig::default()).err().expect("a second driver is refused");
    assert!(err.to_string().contains("already active"), "{err}");
    let attached = MediaDriver::attach(driver.dir()).unwrap();
    assert!(!attached.is_embedded());
    let missing = MediaDriver::attach(&state.path().join("nothing")).err().expect("no driver there");
    assert!(missing.to_string().contains("no active Aeron media driver"), "{missing}");
}

#[test]
fn a_stale_driver_directory_is_cleaned() {
    let state = tempfile::tempdir().unwrap();
    let dir = state.path().join(fxrecon_aeron::driver::DRIVER_DIR_NAME);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("cnc.dat"), b"left by a dead driver").unwrap();
    std::fs::write(dir.join("junk"), b"x").unwrap();
    let driver = MediaDriver::embedded(state.path(), &DriverConfig::default()).unwrap();
    assert!(!driver.dir().join("junk").exists());
}

#[test]
fn a_publisher_that_leaves_and_comes_back_is_counted_and_logged_and_the_stream_goes_on() {
    let state = tempfile::tempdir().unwrap();
    let driver = MediaDriver::embedded(state.path(), &DriverConfig::default()).unwrap();
    let endpoint = Endpoint::new("aeron:ipc", 1002);
    let mut src = AeronSource::subscribe(driver.dir(), endpoint.clone(), SourceConfig::default()).unwrap();
    let counters = src.counters();
    let wait = Duration::from_secs(10);
    let mut got = Vec::new();
    for round in 0..2u8 {
        let publisher = fxrecon_aeron::publisher::Publisher::connect(driver.dir(), endpoint.clone(), wait).unwrap();
        publisher.wait_connected(wait).unwrap();
        for i in 0..10u8 {
            publisher.offer(&[b'a' + round, b'0' + i], wait).unwrap();
        }
        if round == 1 {
            publisher.offer(END_OF_STREAM, wait).unwrap();
        }
        // Read what it sent before it goes (its image is then lost).
        while got.len() < 10 * (round as usize + 1) {
            match src.poll().unwrap() {
                Poll::Message(SourceMessage::Whole { bytes, .. }) => got.push(bytes.to_vec()),
                Poll::Message(other) => panic!("{other:?}"),
                Poll::Pending => std::thread::sleep(Duration::from_millis(1)),
                Poll::End => panic!("ended early"),
            }
        }
        drop(publisher);
        if round == 0 {
            let deadline = Instant::now() + Duration::from_secs(30);
            while counters.images_lost.load(std::sync::atomic::Ordering::Relaxed) == 0 {
                assert!(Instant::now() < deadline, "the image loss was never reported");
                assert!(matches!(src.poll().unwrap(), Poll::Pending));
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    assert!(matches!(read_all(&mut src, Duration::from_secs(10)).as_slice(), []), "only the end is left");
    assert_eq!(got.len(), 20);
    assert_eq!(got[10], b"b0");
    assert!(counters.images_joined.load(std::sync::atomic::Ordering::Relaxed) >= 2);
    assert!(counters.images_lost.load(std::sync::atomic::Ordering::Relaxed) >= 1);
}
