//! Bad input never stops the stream: each bad line is rejected with its line number and reason,
//! and every other message is still reconciled.

use fxrecon_core::event::Stream;
use fxrecon_engine::config::Config;
use fxrecon_engine::ground_truth::findings;
use fxrecon_engine::pipeline::memory::reconcile_in_memory;
use fxrecon_engine::pipeline::options::PipelineOptions;
use fxrecon_runtime::threading::Threading;

/// A framed SOH message (correct BodyLength and CheckSum) with a log prefix.
fn framed(prefix_time: &str, body: &str) -> Vec<u8> {
    let body = body.replace('|', "\x01");
    let mut m = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
    let sum: u32 = m.iter().map(|&b| b as u32).sum::<u32>() % 256;
    m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    let mut line = format!("{prefix_time} : ").into_bytes();
    line.extend(m);
    line
}

fn er(seq: u32, sender: &str, exec_id: &str, et: &str, st: &str, cum: u32, last: u32) -> String {
    format!(
        "35=8|34={seq}|49={sender}|52=20261125-10:00:00.000|56=FIRM|11=A1|37=V1|17={exec_id}|150={et}|39={st}|55=EUR/USD|54=1|38=2000000|44=1.0845|32={last}|31=1.0845|14={cum}|151={}|6=1.0845|",
        2_000_000 - cum
    )
}

/// Records and rejects (stream, line, reason) of a run, the same in every threading mode.
fn run(primary: &[u8], dropcopy: &[u8]) -> (Vec<fxrecon_core::divergence::Record>, Vec<(Stream, u64, String)>) {
    let mut results = Vec::new();
    for threading in [Threading::Stepped, Threading::Shared] {
        let opts = PipelineOptions { threading, ..PipelineOptions::default() };
        let run = reconcile_in_memory(primary.to_vec(), dropcopy.to_vec(), &Config::default(), opts).unwrap();
        let rejects: Vec<_> = run.rejects.iter().map(|n| (n.stream, n.line, n.reason.to_string())).collect();
        results.push((run.records, rejects));
    }
    let second = results.pop().unwrap();
    let first = results.pop().unwrap();
    assert_eq!(format!("{:?}", first), format!("{:?}", second), "stepped and threaded runs differ");
    first
}

#[test]
fn every_bad_line_is_rejected_with_line_and_reason_and_the_rest_reconciles() {
    let good_new = framed("20261125-10:00:00.000000", &er(1, "GW", "E1", "0", "0", 0, 0));
    let mut bad_checksum = framed("20261125-10:00:00.100000", &er(2, "GW", "EX", "0", "0", 0, 0));
    let n = bad_checksum.len();
    bad_checksum[n - 2] = if bad_checksum[n - 2] == b'9' { b'8' } else { b'9' };
    let bad_length = String::from_utf8(framed("20261125-10:00:00.100000", &er(2, "GW", "EX", "0", "0", 0, 0)))
        .unwrap()
        .replacen("\x019=", "\x019=9", 1)
        .into_bytes();
    let truncated = framed("20261125-10:00:00.100000", &er(2, "GW", "EX", "0", "0", 0, 0))[..70].to_vec();
    let non_numeric =
        framed("20261125-10:00:00.100000", &er(2, "GW", "EX", "0", "0", 0, 0).replace("38=2000000", "38=2OOOOOO"));
    let no_msgtype = framed("20261125-10:00:00.100000", &er(2, "GW", "EX", "0", "0", 0, 0).replace("35=8|", ""));
    let no_identity =
        framed("20261125-10:00:00.100000", &er(2, "GW", "EX", "0", "0", 0, 0).replace("11=A1|37=V1|", ""));
    let garbage: Vec<u8> = (0..200u32).map(|i| (i * 37 % 256) as u8).filter(|&b| b != b'\n').collect();
    let huge = vec![b'7'; 1 << 20];
    let good_fill = framed("20261125-10:00:00.200000", &er(2, "GW", "E2", "F", "2", 2_000_000, 2_000_000));

    let lines: Vec<&[u8]> = vec![
        &good_new,     // 1
        &bad_checksum, // 2
        &bad_length,   // 3
        &truncated,    // 4
        &non_numeric,  // 5
        &no_msgtype,   // 6
        &no_identity,  // 7
        &garbage,      // 8
        &huge,         // 9
        b"",           // 10: blank, skipped silently
        &good_fill,    // 11
    ];
    let primary = lines.join(&b'\n');
    let dropcopy = [
        framed("20261125-10:00:00.010000", &er(1, "VENUE", "E1", "0", "0", 0, 0)),
        framed("20261125-10:00:00.210000", &er(2, "VENUE", "E2", "F", "2", 2_000_000, 2_000_000)),
    ]
    .join(&b'\n');

    let (records, rejects) = run(&primary, &dropcopy);
    let got: Vec<(u64, &str)> = rejects
        .iter()
        .map(|(s, l, r)| {
            assert_eq!(*s, Stream::Primary);
            (*l, r.as_str())
        })
        .collect();
    let expect = [
        (2, "CheckSum (10)"),
        (3, "BodyLength (9)"),
        (4, "truncated message"),
        (5, "bad number in tag 38"),
        (6, "missing required tag 35"),
        (7, "neither ClOrdID (11) nor OrderID (37)"),
        (8, "no BeginString"),
        (9, "longer than max_message_bytes"),
    ];
    assert_eq!(got.len(), expect.len(), "{got:?}");
    for ((line, reason), (want_line, want_reason)) in got.iter().zip(expect) {
        assert_eq!(*line, want_line);
        assert!(reason.contains(want_reason), "line {line}: {reason:?} should mention {want_reason:?}");
    }
    // The good fill after all the bad lines was applied and matched: no divergence at all.
    assert!(findings(&records).is_empty(), "{records:?}");
}

#[test]
fn an_empty_file_is_no_reject_and_the_other_stream_still_reconciles() {
    // An empty input is a warning (logged), not a message that could not be used (D55).
    let primary = framed("20261125-10:00:00.000000", &er(1, "GW", "E1", "0", "0", 0, 0));
    let (records, rejects) = run(&primary, b"");
    assert!(rejects.is_empty(), "{rejects:?}");
    let kinds: Vec<String> = findings(&records).iter().map(|f| f.type_name().to_string()).collect();
    assert_eq!(kinds, vec!["PhantomOrder"]);
}

#[test]
fn a_line_with_no_time_at_all_is_rejected_not_put_at_the_start_of_time() {
    // No arrival prefix and no SendingTime: contract 1.3 gives it no event time.
    let untimed = b"8=FIX.4.4|35=8|34=1|49=GW|56=FIRM|11=A|17=E1|150=0|39=0|38=100|55=EUR/USD".to_vec();
    let timed = framed("20261125-10:00:00.000000", &er(2, "GW", "E2", "0", "0", 0, 0));
    let primary = [untimed, timed].join(&b'\n');
    let dropcopy = framed("20261125-10:00:00.010000", &er(1, "VENUE", "E2", "0", "0", 0, 0));
    let (records, rejects) = run(&primary, &dropcopy);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!((rejects[0].0, rejects[0].1), (Stream::Primary, 1));
    assert!(rejects[0].2.contains("no arrival time prefix and no SendingTime (52)"));
    assert!(findings(&records).is_empty(), "{records:?}");
}
