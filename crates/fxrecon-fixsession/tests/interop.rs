//! Interop with a FIX engine none of us wrote: QuickFIX (the `quickfix-py` wheel, installed
//! by `scripts/bootstrap-fixsession.sh`), started by each test on 127.0.0.1 as the venue's
//! drop-copy acceptor or as the OMS initiator, against our sessions (`FixSource`).

mod peer;

use std::time::Duration;

use fxrecon_engine::ingest::source::MessageSource;
use fxrecon_fixsession::config::SessionConfig;
use fxrecon_fixsession::counters::SessionCounters;
use fxrecon_fixsession::session::Role;
use fxrecon_fixsession::source::FixSource;
use fxrecon_fixsession::store::{SeqNums, SeqStore};
use peer::{Peer, collect, free_port, get};

fn dropcopy(port: u16) -> SessionConfig {
    let mut c = SessionConfig::new("dropcopy", "127.0.0.1", port, "FXRECON", "VENUE");
    c.heartbeat_s = 1;
    c.reconnect_min_ms = 200;
    c.reconnect_max_ms = 1000;
    c
}

fn ers(msgs: &[String]) -> Vec<&String> {
    msgs.iter().filter(|m| m.contains("\x0135=8\x01")).collect()
}

#[test]
fn logon_heartbeats_and_logout_with_quickfix_as_the_venue() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut venue = Peer::start("acceptor", port, "VENUE", "FXRECON", dir.path());
    let mut cfg = dropcopy(port);
    cfg.end_on_logout = true;
    let mut src = FixSource::start(&cfg, dir.path(), 1 << 16).expect("starts");
    venue.cmd("wait_logon 20", "OK");
    venue.cmd("send_er 3 A", "SENT 3");
    std::thread::sleep(Duration::from_millis(2600));
    venue.cmd("logout", "OK");
    let (msgs, ended) = collect(&mut src, Duration::from_secs(10), |_| false);
    assert!(ended, "end_on_logout ends the input when the venue logs out");
    assert_eq!(ers(&msgs).len(), 3);
    // Heartbeats went both ways (HeartBtInt 1 s): QuickFIX saw ours, we delivered its own.
    assert!(venue.saw("ADMIN_IN 0 "), "QuickFIX received our heartbeats");
    assert!(msgs.iter().any(|m| m.contains("\x0135=0\x01")));
    let c = src.counters();
    assert_eq!((get(&c.logons), get(&c.logouts), get(&c.gaps_detected)), (1, 1, 0));
    venue.quit();
}

#[test]
fn a_venue_that_skips_numbers_is_resend_requested_and_gap_fills_then_rewound_numbers_bring_possdup_resends() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut venue = Peer::start("acceptor", port, "VENUE", "FXRECON", dir.path());
    let cfg = dropcopy(port);
    let mut src = FixSource::start(&cfg, dir.path(), 1 << 16).unwrap();
    venue.cmd("wait_logon 20", "OK");
    venue.cmd("send_er 2 A", "SENT 2");
    venue.cmd("skip 3", "OK");
    venue.cmd("send_er 2 B", "SENT 2");
    let c = src.counters();
    let (msgs, _) = collect(&mut src, Duration::from_secs(15), |_| get(&c.gaps_filled) >= 1);
    assert_eq!((get(&c.gaps_detected), get(&c.resend_requests), get(&c.gaps_filled)), (1, 1, 1));
    assert!(venue.saw("ADMIN_IN 2 "), "QuickFIX got our ResendRequest");
    assert_eq!(ers(&msgs).len(), 4, "every fill once");
    assert!(msgs.iter().any(|m| m.contains("\x0135=4\x01") && m.contains("\x01123=Y\x01")), "QuickFIX gap-filled");
    // Our stored numbers are rewound (the last messages "lost"): at the next logon QuickFIX's
    // number is too high, we ask, and it resends the ERs with PossDupFlag=Y.
    drop(src);
    venue.cmd("sleep 0.5", "OK");
    let store = SeqStore::open(dir.path(), "FXRECON", "VENUE").unwrap();
    let seq = store.load().unwrap();
    store.save(SeqNums { next_in: seq.next_in - 4, ..seq }).unwrap();
    let mut src = FixSource::start(&cfg, dir.path(), 1 << 16).unwrap();
    let c = src.counters();
    let (msgs, _) = collect(&mut src, Duration::from_secs(15), |_| get(&c.gaps_filled) >= 1);
    let resent: Vec<_> =
        ers(&msgs).into_iter().filter(|m| m.contains("\x0143=Y\x01") && m.contains("\x01122=")).collect();
    assert_eq!(resent.len(), 2, "the two B fills resent with PossDupFlag and OrigSendingTime: {msgs:?}");
    assert_eq!(get(&c.gaps_filled), 1);
    venue.quit();
}

#[test]
fn a_restart_resumes_with_the_persisted_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut venue = Peer::start("acceptor", port, "VENUE", "FXRECON", dir.path());
    let cfg = dropcopy(port);
    let mut src = FixSource::start(&cfg, dir.path(), 1 << 16).unwrap();
    venue.cmd("wait_logon 20", "OK");
    venue.cmd("send_er 5 A", "SENT 5");
    let (msgs, _) = collect(&mut src, Duration::from_secs(10), |m| ers(m).len() >= 5);
    assert_eq!(ers(&msgs).len(), 5);
    drop(src); // fxrecon stops (a Logout), the numbers stay in the state directory
    venue.cmd("sleep 0.5", "OK");
    let before = SeqStore::open(dir.path(), "FXRECON", "VENUE").unwrap().load().unwrap();
    assert!(before.next_in > 6 && before.next_out > 1, "{before:?}");
    venue.cmd("send_er 2 B", "SENT 2"); // queued by QuickFIX while we are away
    let mut src = FixSource::start(&cfg, dir.path(), 1 << 16).unwrap();
    let c = src.counters();
    let (msgs, _) = collect(&mut src, Duration::from_secs(15), |m| ers(m).len() >= 2 && get(&c.gaps_filled) >= 1);
    // QuickFIX accepted our resumed numbers (no reset, no "too low"), and only the two fills
    // sent while we were away came back: the day was not requested again from 1.
    assert_eq!(get(&c.logons), 1);
    assert_eq!(get(&c.resets), 0);
    let b: Vec<_> = ers(&msgs).into_iter().filter(|m| m.contains("\x0111=B-")).collect();
    assert_eq!(b.len(), 2, "{msgs:?}");
    assert!(!ers(&msgs).iter().any(|m| m.contains("\x0111=A-")), "nothing from before the restart again");
    venue.quit();
}

#[test]
fn a_dropped_connection_reconnects_with_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut venue = Peer::start("acceptor", port, "VENUE", "FXRECON", dir.path());
    let mut src = FixSource::start(&dropcopy(port), dir.path(), 1 << 16).unwrap();
    venue.cmd("wait_logon 20", "OK");
    venue.cmd("drop", "OK");
    let c = src.counters();
    collect(&mut src, Duration::from_secs(15), |_| get(&c.logons) >= 2);
    assert_eq!(get(&c.logons), 2, "logged on again after the drop");
    assert!(get(&c.disconnects) >= 1 && get(&c.connections) >= 2);
    venue.cmd("send_er 1 C", "SENT 1");
    let (msgs, _) = collect(&mut src, Duration::from_secs(10), |m| !ers(m).is_empty());
    assert_eq!(ers(&msgs).len(), 1);
    venue.quit();
}

#[test]
fn a_logon_with_the_wrong_compid_fails_clearly_and_retries_per_policy() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let venue = Peer::start("acceptor", port, "VENUE", "FXRECON", dir.path());
    let mut cfg = dropcopy(port);
    cfg.target_comp_id = "NOTVENUE".into();
    cfg.max_logon_refusals = 3;
    let mut src = FixSource::start(&cfg, dir.path(), 1 << 16).unwrap();
    let c = src.counters();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let err = loop {
        match fxrecon_engine::ingest::source::MessageSource::poll(&mut src) {
            Err(e) => break e.to_string(),
            Ok(fxrecon_engine::ingest::source::Poll::End) => panic!("ended without an error"),
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
        assert!(std::time::Instant::now() < deadline, "never gave up");
    };
    assert!(err.contains("FXRECON->NOTVENUE") && err.contains("logon refused 3 times"), "{err}");
    assert_eq!(get(&c.logons), 0);
    assert!(get(&c.connections) >= 3);
    venue.quit();
    // And the other way: an OMS with the wrong CompID into our acceptor gets a Logout saying so.
    let mut acfg = SessionConfig::new("primary", "127.0.0.1", 0, "FXRECON", "OMS");
    acfg.heartbeat_s = 1;
    let mut acc = FixSource::start(&acfg, dir.path(), 1 << 16).unwrap();
    let port = acc.local_addr().unwrap().port();
    let odir = dir.path().join("oms");
    let mut oms = Peer::start("initiator", port, "INTRUDER", "FXRECON", &odir);
    let ac = acc.counters();
    collect(&mut acc, Duration::from_secs(10), |_| get(&ac.logons_refused) >= 1);
    assert!(get(&ac.logons_refused) >= 1 && get(&ac.logons) == 0);
    // (Our Logout names the TargetCompID we expect, so QuickFIX drops it as not its own.)
    assert!(!oms.wait_for("LOGGED_ON", Duration::from_secs(1)), "the intruder never logs on");
    oms.quit();
}

#[test]
fn quickfix_as_the_oms_initiator_into_our_primary_acceptor() {
    let dir = tempfile::tempdir().unwrap();
    let acfg = {
        let mut c = SessionConfig::new("primary", "127.0.0.1", 0, "FXRECON", "OMS");
        c.heartbeat_s = 1;
        c
    };
    assert_eq!(acfg.role(), Role::Acceptor);
    let mut acc = FixSource::start(&acfg, dir.path(), 1 << 16).unwrap();
    let port = acc.local_addr().unwrap().port();
    let mut oms = Peer::start("initiator", port, "OMS", "FXRECON", &dir.path().join("oms"));
    oms.cmd("wait_logon 20", "OK");
    oms.cmd("send_er 5 P", "SENT 5");
    let (msgs, _) = collect(&mut acc, Duration::from_secs(10), |m| ers(m).len() >= 5);
    assert_eq!(ers(&msgs).len(), 5);
    let c: std::sync::Arc<SessionCounters> = acc.counters();
    assert_eq!(get(&c.logons), 1);
    oms.cmd("logout", "OK");
    collect(&mut acc, Duration::from_secs(5), |_| get(&c.logouts) >= 1);
    assert_eq!(get(&c.logouts), 1);
    oms.quit();
}

#[test]
fn two_venue_sessions_feed_one_drop_copy_stream_in_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let (p1, p2) = (free_port(), free_port());
    let mut v1 = Peer::start("acceptor", p1, "VENUE1", "FXRECON", &dir.path().join("v1"));
    let mut v2 = Peer::start("acceptor", p2, "VENUE2", "FXRECON", &dir.path().join("v2"));
    let session = |port, target: &str| {
        let mut c = dropcopy(port);
        c.target_comp_id = target.into();
        c.end_on_logout = true;
        FixSource::start(&c, dir.path(), 1 << 16).unwrap()
    };
    let mut stream = fxrecon_fixsession::stream::FixStream::new(vec![session(p1, "VENUE1"), session(p2, "VENUE2")]);
    v1.cmd("wait_logon 20", "OK");
    v2.cmd("wait_logon 20", "OK");
    // Everything arrives before the stream is read: taking the sessions in turn would mix
    // the two venues' batches; by arrival, VENUE1's first three come before VENUE2's two.
    v1.cmd("send_er 3 A", "SENT 3");
    v1.cmd("sleep 0.2", "OK");
    v2.cmd("send_er 2 B", "SENT 2");
    v2.cmd("sleep 0.2", "OK");
    v1.cmd("send_er 2 C", "SENT 2");
    v1.cmd("sleep 0.2", "OK");
    v1.cmd("logout", "OK");
    v2.cmd("logout", "OK");
    let mut order = Vec::new();
    let mut stamps = Vec::new();
    let until = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        assert!(std::time::Instant::now() < until, "the stream did not end");
        match fxrecon_engine::ingest::source::MessageSource::poll(&mut stream).unwrap() {
            fxrecon_engine::ingest::source::Poll::Message(fxrecon_engine::ingest::source::SourceMessage::Whole {
                bytes,
                received,
            }) => {
                stamps.push(received.expect("a receive stamp"));
                let m = String::from_utf8_lossy(bytes);
                if m.contains("\x0135=8\x01") {
                    order.push(m.split("\x0111=").nth(1).unwrap().chars().next().unwrap());
                }
            }
            fxrecon_engine::ingest::source::Poll::Message(m) => panic!("{m:?}"),
            fxrecon_engine::ingest::source::Poll::Pending => std::thread::sleep(Duration::from_millis(2)),
            fxrecon_engine::ingest::source::Poll::End => break,
        }
    }
    assert_eq!(order.iter().collect::<String>(), "AAABBCC", "fills of both venues, by arrival");
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "every message in arrival order");
    v1.quit();
    v2.quit();
}

/// `HH:MM:SS` (UTC) `secs` from now.
fn time_of_day_in(secs: u64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + secs;
    let tod = now % 86_400;
    format!("{:02}:{:02}:{:02}", tod / 3600, tod % 3600 / 60, tod % 60)
}

#[test]
fn a_session_outside_its_schedule_does_not_log_on_and_logs_out_at_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut venue = Peer::start("acceptor", port, "VENUE", "FXRECON", dir.path());
    let mut cfg = dropcopy(port);
    // The window opens in 3 s and closes 4 s later.
    cfg.start_time = Some(time_of_day_in(3));
    cfg.end_time = Some(time_of_day_in(7));
    let mut src = FixSource::start(&cfg, dir.path(), 1 << 16).unwrap();
    let c = src.counters();
    collect(&mut src, Duration::from_millis(1500), |_| false);
    assert_eq!(get(&c.connections), 0, "no connection before the window opens");
    assert!(!venue.saw("LOGGED_ON"));
    assert!(!src.connected(), "not connected before the window opens (/readyz)");
    venue.cmd("wait_logon 10", "OK");
    // QuickFIX reports the logon when it has sent its Logon back; we count ours when that
    // answer is read, a moment later (a busy CI machine showed the gap).
    collect(&mut src, Duration::from_secs(5), |_| get(&c.logons) >= 1);
    assert_eq!(get(&c.logons), 1);
    collect(&mut src, Duration::from_millis(300), |_| false);
    assert!(src.connected(), "connected while logged on");
    // At the end of the window we log out (QuickFIX answers) and stay off.
    collect(&mut src, Duration::from_secs(10), |_| get(&c.logouts) >= 1);
    assert_eq!(get(&c.logouts), 1, "logged out at the end of the schedule");
    assert!(!src.connected(), "not connected once logged out");
    assert!(venue.wait_for("ADMIN_IN 5 ", Duration::from_secs(10)), "QuickFIX got our Logout");
    let connections = get(&c.connections);
    collect(&mut src, Duration::from_millis(1500), |_| false);
    assert_eq!(get(&c.connections), connections, "no reconnect outside the window");
    venue.quit();
}

#[test]
fn a_daily_reset_session_restarted_inside_its_window_keeps_its_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut venue = Peer::start("acceptor", port, "VENUE", "FXRECON", dir.path());
    let mut cfg = dropcopy(port);
    cfg.reset = fxrecon_fixsession::config::ResetPolicy::Daily;
    let mut src = FixSource::start(&cfg, dir.path(), 1 << 16).unwrap();
    venue.cmd("wait_logon 20", "OK");
    venue.cmd("send_er 4 A", "SENT 4");
    let (msgs, _) = collect(&mut src, Duration::from_secs(10), |m| ers(m).len() >= 4);
    assert_eq!(ers(&msgs).len(), 4);
    drop(src);
    venue.cmd("sleep 0.5", "OK");
    venue.cmd("send_er 1 B", "SENT 1");
    // The same window (the whole UTC day): no reset, our numbers go on, QuickFIX accepts them
    // and only what we missed comes back (a reset would log on at 1: "too low").
    let mut src = FixSource::start(&cfg, dir.path(), 1 << 16).unwrap();
    let c = src.counters();
    let (msgs, _) = collect(&mut src, Duration::from_secs(15), |m| !ers(m).is_empty() && get(&c.gaps_filled) >= 1);
    assert_eq!((get(&c.logons), get(&c.resets), get(&c.logons_refused)), (1, 0, 0));
    assert_eq!(ers(&msgs).len(), 1, "{msgs:?}");
    venue.quit();
}
