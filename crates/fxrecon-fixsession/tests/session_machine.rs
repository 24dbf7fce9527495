//! The session state machine driven directly (no socket, no clock): logon, heartbeats,
//! TestRequest timeouts, gaps and their recovery, and the issue 26 edge cases.

use fxrecon_core::time::Micros;
use fxrecon_fixsession::message::{Builder, Fields};
use fxrecon_fixsession::session::{Action, Event, Role, Session, Settings};
use fxrecon_fixsession::store::SeqNums;
use fxrecon_fixsession::timefmt::fix_timestamp;

const T0: i64 = 1_796_000_000_000_000;

fn at(ms: i64) -> Micros {
    Micros(T0 + ms * 1000)
}

/// A message from the venue (VENUE → FXRECON) with number `seq` and extra fields.
fn peer(msg_type: &str, seq: u64, extra: &[(u32, &str)]) -> Vec<u8> {
    let mut b = Builder::new("FIX.4.4", msg_type);
    b.field(49, "VENUE").field(56, "FXRECON").field(34, seq).field(52, fix_timestamp(at(0)));
    for (t, v) in extra {
        b.field(*t, v);
    }
    b.finish()
}

fn resend(seq: u64) -> Vec<u8> {
    let orig = fix_timestamp(at(-1000));
    peer("8", seq, &[(43, "Y"), (122, &orig), (11, "A"), (17, "E")])
}

fn gap_fill(seq: u64, new: u64, poss_dup: bool) -> Vec<u8> {
    let new = new.to_string();
    let mut f = vec![(123, "Y"), (36, new.as_str())];
    if poss_dup {
        f.push((43, "Y"));
    }
    peer("4", seq, &f)
}

fn sent(out: &[Action]) -> Vec<(String, Vec<u8>)> {
    out.iter()
        .filter_map(|a| match a {
            Action::Send(b) => Some((Fields::new(b).str(35).unwrap().to_string(), b.clone())),
            _ => None,
        })
        .collect()
}

fn types(out: &[Action]) -> Vec<String> {
    sent(out).into_iter().map(|(t, _)| t).collect()
}

fn events(out: &[Action]) -> Vec<Event> {
    out.iter().filter_map(|a| if let Action::Event(e) = a { Some(e.clone()) } else { None }).collect()
}

fn disconnected(out: &[Action]) -> bool {
    out.iter().any(|a| matches!(a, Action::Disconnect(_)))
}

/// An initiator logged on with the venue; the venue's Logon was number `peer_seq`.
fn logged_on(cfg: Settings, seq: SeqNums, peer_seq: u64) -> (Session, Vec<Action>) {
    let mut s = Session::new(cfg, seq);
    let mut out = Vec::new();
    s.on_connected(at(0), &mut out);
    assert_eq!(types(&out), ["A"]);
    assert!(s.on_message(&peer("A", peer_seq, &[(98, "0"), (108, "30")]), at(10), &mut out));
    assert!(s.is_active());
    (s, out)
}

fn initiator() -> Settings {
    Settings::new("FXRECON", "VENUE", Role::Initiator)
}

#[test]
fn logon_heartbeats_test_request_timeout_and_logout() {
    let (mut s, out) = logged_on(initiator(), SeqNums::default(), 1);
    let logon = &sent(&out)[0].1;
    let f = Fields::new(logon);
    assert_eq!(
        (f.str(49), f.str(56), f.u64(34), f.u64(108), f.get(141)),
        (Some("FXRECON"), Some("VENUE"), Some(1), Some(30), None)
    );
    assert_eq!(events(&out), [Event::LoggedOn { reset: false }]);
    // Nothing sent for a heartbeat interval: a Heartbeat.
    let mut out = Vec::new();
    s.on_tick(at(30_010), &mut out);
    assert_eq!(types(&out), ["0"]);
    // Nothing heard for 1.2 intervals: a TestRequest; its answer clears it.
    out.clear();
    s.on_tick(at(36_100), &mut out);
    assert_eq!(types(&out), ["1"]);
    let (_, tr) = &sent(&out)[0];
    let id = Fields::new(tr).str(112).unwrap().to_string();
    out.clear();
    assert!(s.on_message(&peer("0", 2, &[(112, &id)]), at(37_000), &mut out));
    s.on_tick(at(60_000), &mut out);
    assert!(!disconnected(&out));
    // Silence again: TestRequest, then no answer within an interval: disconnect.
    out.clear();
    s.on_tick(at(80_000), &mut out);
    assert_eq!(types(&out), ["1"]);
    s.on_tick(at(111_000), &mut out);
    assert!(disconnected(&out));
    // A new connection resumes the numbers; the venue's Logout is answered and closes it.
    let mut out = Vec::new();
    s.on_connected(at(120_000), &mut out);
    let f = Fields::new(&sent(&out)[0].1).u64(34).unwrap();
    assert_eq!(f, s.seq_nums().next_out - 1);
    assert!(s.on_message(&peer("A", 3, &[(98, "0"), (108, "30")]), at(120_010), &mut out));
    out.clear();
    assert!(s.on_message(&peer("5", 4, &[(58, "bye")]), at(121_000), &mut out));
    assert_eq!(types(&out), ["5"]);
    assert!(events(&out).contains(&Event::LoggedOut { by_peer: true, text: "bye".into() }));
    assert!(disconnected(&out));
    assert_eq!(s.seq_nums().next_in, 5);
}

#[test]
fn a_peer_test_request_is_answered_with_its_id() {
    let (mut s, _) = logged_on(initiator(), SeqNums::default(), 1);
    let mut out = Vec::new();
    assert!(s.on_message(&peer("1", 2, &[(112, "PING-7")]), at(100), &mut out));
    let (t, hb) = &sent(&out)[0];
    assert_eq!((t.as_str(), Fields::new(hb).str(112)), ("0", Some("PING-7")));
}

#[test]
fn a_gap_is_resend_requested_and_closed_by_the_possdup_resends() {
    let (mut s, _) = logged_on(initiator(), SeqNums::default(), 1);
    let mut out = Vec::new();
    assert!(s.on_message(&peer("8", 2, &[]), at(100), &mut out));
    // 3 and 4 skipped: 5 is delivered at once, and 3..=4 requested.
    assert!(s.on_message(&peer("8", 5, &[]), at(200), &mut out));
    let (t, rr) = sent(&out).pop().unwrap();
    let f = Fields::new(&rr);
    assert_eq!((t.as_str(), f.u64(7), f.u64(16)), ("2", Some(3), Some(4)));
    assert_eq!(events(&out)[0], Event::GapDetected { expected: 3, seen: 5 });
    assert_eq!(s.missing(), [(3, 4)]);
    out.clear();
    assert!(s.on_message(&resend(3), at(300), &mut out));
    assert!(events(&out).is_empty());
    assert!(s.on_message(&resend(4), at(301), &mut out));
    assert_eq!(events(&out), [Event::GapFilled]);
    assert!(s.missing().is_empty());
    // The same resend again: already had, discarded (not delivered), no disconnect.
    out.clear();
    assert!(!s.on_message(&resend(4), at(302), &mut out));
    assert_eq!(events(&out), [Event::DuplicateDiscarded(4)]);
    assert!(!disconnected(&out));
    assert_eq!(s.seq_nums().next_in, 6);
}

#[test]
fn a_gap_fill_below_the_expected_number_with_possdup_is_discarded_not_a_disconnect() {
    let (mut s, _) = logged_on(initiator(), SeqNums::default(), 1);
    let mut out = Vec::new();
    for n in 2..=6 {
        assert!(s.on_message(&peer("8", n, &[]), at(n as i64), &mut out));
    }
    out.clear();
    assert!(!s.on_message(&gap_fill(3, 5, true), at(100), &mut out));
    assert_eq!(events(&out), [Event::DuplicateDiscarded(3)]);
    assert!(!disconnected(&out) && s.is_active());
    assert_eq!(s.seq_nums().next_in, 7);
}

#[test]
fn a_resend_answered_with_a_gap_fill_beyond_the_requested_end_closes_the_gap_and_moves_on() {
    let (mut s, _) = logged_on(initiator(), SeqNums::default(), 1);
    let mut out = Vec::new();
    assert!(s.on_message(&peer("8", 4, &[]), at(100), &mut out));
    assert_eq!(s.missing(), [(2, 3)]);
    out.clear();
    // The venue gap-fills 2..=9: beyond the requested end (3) and beyond what we had (4).
    assert!(s.on_message(&gap_fill(2, 10, true), at(200), &mut out));
    assert_eq!(events(&out), [Event::GapFilled]);
    assert!(!disconnected(&out));
    assert_eq!(s.seq_nums().next_in, 10);
    assert!(s.on_message(&peer("8", 10, &[]), at(300), &mut out));
    assert!(!events(&out).iter().any(|e| matches!(e, Event::GapDetected { .. })));
}

#[test]
fn an_unanswered_resend_request_is_retried_a_bounded_number_of_times_then_logout() {
    let mut cfg = initiator();
    cfg.resend_timeout_ms = 1000;
    cfg.max_resend_attempts = 3;
    cfg.heartbeat_s = 3600;
    let (mut s, _) = logged_on(cfg, SeqNums::default(), 1);
    let mut out = Vec::new();
    assert!(s.on_message(&peer("8", 5, &[]), at(0), &mut out));
    let requests = |out: &[Action]| types(out).iter().filter(|t| *t == "2").count();
    assert_eq!(requests(&out), 1);
    let mut all = out.clone();
    for k in 1..=5 {
        let mut o = Vec::new();
        s.on_tick(at(k * 1100), &mut o);
        all.extend(o);
    }
    // The first request and two retries, then a Logout (the connection closes on its answer
    // or timeout, and the next logon asks again).
    assert_eq!(requests(&all), 3);
    assert!(events(&all).contains(&Event::ResendAbandoned));
    assert!(types(&all).contains(&"5".to_string()));
    assert!(!s.is_active());
    // Reconnected: the still-missing numbers are requested again after logon.
    s.on_disconnected();
    let mut out = Vec::new();
    s.on_connected(at(10_000), &mut out);
    assert!(s.on_message(&peer("A", 6, &[(98, "0"), (108, "30")]), at(10_010), &mut out));
    let (_, rr) = sent(&out).into_iter().rfind(|(t, _)| t == "2").expect("asked again");
    assert_eq!((Fields::new(&rr).u64(7), Fields::new(&rr).u64(16)), (Some(2), Some(4)));
}

#[test]
fn our_admin_messages_are_gap_filled_not_resent_when_the_peer_asks() {
    let (mut s, _) = logged_on(initiator(), SeqNums::default(), 1);
    let mut out = Vec::new();
    s.on_tick(at(31_000), &mut out); // a heartbeat: our number 2
    s.on_tick(at(62_000), &mut out); // TestRequest (3) and a heartbeat (4)
    let next = s.seq_nums().next_out;
    out.clear();
    assert!(s.on_message(&peer("2", 2, &[(7, "1"), (16, "0")]), at(62_100), &mut out));
    let all = sent(&out);
    assert_eq!(all.len(), 1, "one GapFill, no resent message");
    let f = Fields::new(&all[0].1);
    assert_eq!(
        (f.str(35), f.u64(34), f.str(123), f.str(43), f.u64(36), f.get(122).is_some()),
        (Some("4"), Some(1), Some("Y"), Some("Y"), Some(next), true)
    );
    assert_eq!(s.seq_nums().next_out, next, "a GapFill takes no number of its own");
}

#[test]
fn a_logon_with_the_wrong_compid_is_refused_clearly() {
    let mut s = Session::new(Settings::new("FXRECON", "VENUE", Role::Acceptor), SeqNums::default());
    let mut out = Vec::new();
    s.on_connected(at(0), &mut out);
    assert!(out.is_empty(), "an acceptor waits for the Logon");
    let mut b = Builder::new("FIX.4.4", "A");
    b.field(49, "INTRUDER")
        .field(56, "FXRECON")
        .field(34, 1)
        .field(52, fix_timestamp(at(0)))
        .field(98, 0)
        .field(108, 30);
    assert!(!s.on_message(&b.finish(), at(1), &mut out));
    let refused = events(&out).into_iter().find_map(|e| if let Event::LogonRefused(w) = e { Some(w) } else { None });
    assert!(refused.expect("refused").contains("CompID problem: got SenderCompID \"INTRUDER\""));
    assert!(types(&out).contains(&"5".to_string()));
    assert!(disconnected(&out));
}

#[test]
fn an_acceptor_answers_a_reset_logon_with_a_reset_and_checks_credentials() {
    let mut cfg = Settings::new("FXRECON", "OMS", Role::Acceptor);
    cfg.credentials = Some(("u".into(), "p".into()));
    let mut s = Session::new(cfg, SeqNums { next_out: 40, next_in: 50 });
    let logon = |seq: u64, pass: &str| {
        let mut b = Builder::new("FIX.4.4", "A");
        b.field(49, "OMS").field(56, "FXRECON").field(34, seq).field(52, fix_timestamp(at(0)));
        b.field(98, 0).field(108, 30).field(141, "Y").field(553, "u").field(554, pass);
        b.finish()
    };
    let mut out = Vec::new();
    s.on_connected(at(0), &mut out);
    assert!(!s.on_message(&logon(1, "wrong"), at(1), &mut out));
    assert!(disconnected(&out));
    let mut out = Vec::new();
    s.on_connected(at(10), &mut out);
    assert!(s.on_message(&logon(1, "p"), at(11), &mut out));
    let (t, answer) = &sent(&out)[0];
    let f = Fields::new(answer);
    assert_eq!((t.as_str(), f.u64(34), f.str(141)), ("A", Some(1), Some("Y")));
    assert!(events(&out).contains(&Event::Reset { expected: 50, new: 1 }));
    assert_eq!(s.seq_nums(), SeqNums { next_out: 2, next_in: 2 });
}

#[test]
fn too_low_without_possdup_logs_out_and_possdup_without_orig_sending_time_is_rejected() {
    let (mut s, _) = logged_on(initiator(), SeqNums { next_out: 1, next_in: 10 }, 10);
    let mut out = Vec::new();
    assert!(!s.on_message(&peer("8", 11, &[(43, "Y")]), at(1), &mut out));
    let (t, rej) = &sent(&out)[0];
    assert_eq!((t.as_str(), Fields::new(rej).u64(373)), ("3", Some(1)));
    assert!(!disconnected(&out));
    assert_eq!(s.seq_nums().next_in, 12);
    out.clear();
    assert!(s.on_message(&peer("8", 5, &[]), at(2), &mut out));
    assert!(types(&out).contains(&"5".to_string()) && disconnected(&out));
}

#[test]
fn a_sequence_reset_moves_the_expected_number_and_a_logon_too_high_requests_the_gap() {
    let (mut s, out) = logged_on(initiator(), SeqNums { next_out: 7, next_in: 20 }, 25);
    let (_, rr) = sent(&out).into_iter().find(|(t, _)| t == "2").expect("gap at logon requested");
    assert_eq!((Fields::new(&rr).u64(7), Fields::new(&rr).u64(16)), (Some(20), Some(24)));
    let mut out = Vec::new();
    assert!(s.on_message(&peer("4", 26, &[(36, "100")]), at(1), &mut out));
    assert_eq!(events(&out), [Event::Reset { expected: 26, new: 100 }]);
    assert_eq!(s.seq_nums().next_in, 100);
    assert!(s.missing().is_empty());
}
