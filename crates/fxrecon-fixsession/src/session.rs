//! The FIX 4.4 session state machine, pure: a message's bytes (or a tick, a connect, a
//! disconnect) and the time go in; what to send, whether to deliver the message, whether to
//! drop the connection and what happened (for logs and counters) come out. No socket, no
//! clock, no thread: the I/O thread ([`crate::connection`]) feeds it and carries out its
//! actions, tests drive it directly.
//!
//! Owns: logon (HeartBtInt, ResetSeqNumFlag, 553/554), heartbeats and TestRequest timeouts,
//! inbound sequencing (a gap is ResendRequested, resends and GapFills close it, a resend
//! unanswered is retried a bounded number of times, then logout), PossDupFlag/OrigSendingTime
//! checks, SequenceReset (GapFill and Reset), answering the peer's ResendRequest with a
//! GapFill (we send admin messages only: nothing is ever resent), logout. Must never read
//! business fields, nor decide anything about orders.

use fxrecon_core::time::Micros;

use crate::message::{Builder, Fields};
use crate::store::SeqNums;
use crate::timefmt::fix_timestamp;

/// Which side opens the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// We connect and send the first Logon (drop copy).
    Initiator,
    /// We listen and answer the peer's Logon (primary).
    Acceptor,
}

/// What a session is set up with.
#[derive(Clone, Debug)]
pub struct Settings {
    /// BeginString (8).
    pub begin_string: &'static str,
    /// Our CompID (49 of what we send).
    pub sender_comp_id: String,
    /// The peer's CompID (56 of what we send).
    pub target_comp_id: String,
    /// Our side.
    pub role: Role,
    /// HeartBtInt (108) in seconds.
    pub heartbeat_s: u32,
    /// Send ResetSeqNumFlag (141=Y) on every logon: both sides start again at 1.
    pub reset_on_logon: bool,
    /// Username (553) and Password (554) sent on logon (initiator) or required (acceptor).
    pub credentials: Option<(String, String)>,
    /// How long a ResendRequest may go without any of its numbers arriving (ms).
    pub resend_timeout_ms: i64,
    /// How many times an unanswered ResendRequest is sent again before logout.
    pub max_resend_attempts: u32,
    /// How long to wait for the peer's Logon, or its answer to our Logout (ms).
    pub logon_timeout_ms: i64,
}

impl Settings {
    /// Settings with the usual timings: 30 s heartbeats, resend retried 3 times after 10 s.
    pub fn new(sender: &str, target: &str, role: Role) -> Self {
        Self {
            begin_string: "FIX.4.4",
            sender_comp_id: sender.to_string(),
            target_comp_id: target.to_string(),
            role,
            heartbeat_s: 30,
            reset_on_logon: false,
            credentials: None,
            resend_timeout_ms: 10_000,
            max_resend_attempts: 3,
            logon_timeout_ms: 10_000,
        }
    }
}

/// Something the session did or saw, for logs and counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Logged on (`reset`: sequence numbers started again at 1).
    LoggedOn {
        /// Whether this logon reset both sides' numbers.
        reset: bool,
    },
    /// The peer refused our logon, or we refused the peer's (text says why).
    LogonRefused(String),
    /// The session logged out (`by_peer`: the peer asked first).
    LoggedOut {
        /// Whether the peer sent the first Logout.
        by_peer: bool,
        /// Text (58) of the peer's Logout, if any.
        text: String,
    },
    /// Inbound MsgSeqNum above the expected one.
    GapDetected {
        /// The number expected.
        expected: u64,
        /// The number seen.
        seen: u64,
    },
    /// We sent a ResendRequest for `begin ..= end`.
    ResendRequested {
        /// BeginSeqNo (7).
        begin: u64,
        /// EndSeqNo (16).
        end: u64,
        /// 1 for the first request of a gap, more for a retry.
        attempt: u32,
    },
    /// Every number of the open gaps arrived (resent) or was gap-filled.
    GapFilled,
    /// A ResendRequest went unanswered `max_resend_attempts` times: logging out.
    ResendAbandoned,
    /// SequenceReset-Reset or a Logon with 141=Y: the peer's numbers start at `new`.
    Reset {
        /// The number expected before.
        expected: u64,
        /// The peer's next number now.
        new: u64,
    },
    /// A PossDupFlag=Y message (or GapFill) below the expected number, not in any open gap:
    /// already had, discarded.
    DuplicateDiscarded(u64),
    /// The peer's ResendRequest answered with a GapFill (we send admin messages only).
    ResendAnswered {
        /// Its BeginSeqNo.
        begin: u64,
        /// The NewSeqNo of our GapFill.
        new_seq_no: u64,
    },
    /// A message we rejected at the session level (35=3), with why.
    Rejected(String),
    /// The peer rejected one of our messages.
    PeerReject(String),
    /// Heartbeat or TestRequest timing: nothing heard from the peer.
    TestRequestSent,
}

/// What the I/O thread must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes to the peer.
    Send(Vec<u8>),
    /// Close the connection (why, for the log); a later connection starts with a new logon.
    Disconnect(String),
    /// Log and count this.
    Event(Event),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Disconnected,
    AwaitingLogon,
    Active,
    LoggingOut,
}

/// One FIX session (both directions' numbers, the logon state, the open gaps).
#[derive(Debug)]
pub struct Session {
    cfg: Settings,
    seq: SeqNums,
    state: State,
    state_since: Micros,
    last_sent: Micros,
    last_received: Micros,
    test_request: Option<(u64, Micros)>,
    test_requests: u64,
    /// Inbound numbers not yet had, as inclusive ranges in order.
    missing: Vec<(u64, u64)>,
    resend_at: Micros,
    resend_attempts: u32,
    we_reset: bool,
}

/// Removes `first ..= last` from `missing` (inclusive ranges in order).
pub fn remove_range(missing: &mut Vec<(u64, u64)>, first: u64, last: u64) {
    let mut kept = Vec::with_capacity(missing.len() + 1);
    for &(a, b) in missing.iter() {
        if b < first || a > last {
            kept.push((a, b));
            continue;
        }
        if a < first {
            kept.push((a, first - 1));
        }
        if b > last {
            kept.push((last + 1, b));
        }
    }
    *missing = kept;
}

/// Whether a message type is an admin (session-level) one.
pub fn is_admin(msg_type: &[u8]) -> bool {
    matches!(msg_type, b"0" | b"1" | b"2" | b"3" | b"4" | b"5" | b"A")
}

impl Session {
    /// A session that starts from the numbers `seq` (persisted, or 1/1).
    pub fn new(cfg: Settings, seq: SeqNums) -> Self {
        Self {
            cfg,
            seq,
            state: State::Disconnected,
            state_since: Micros(0),
            last_sent: Micros(0),
            last_received: Micros(0),
            test_request: None,
            test_requests: 0,
            missing: Vec::new(),
            resend_at: Micros(0),
            resend_attempts: 0,
            we_reset: false,
        }
    }

    /// The numbers to persist: the next one we send and the next one we expect.
    pub fn seq_nums(&self) -> SeqNums {
        self.seq
    }

    /// Whether the session is logged on.
    pub fn is_active(&self) -> bool {
        self.state == State::Active
    }

    /// Inbound numbers still missing (open gaps), inclusive ranges.
    pub fn missing(&self) -> &[(u64, u64)] {
        &self.missing
    }

    /// Settings it runs with.
    pub fn settings(&self) -> &Settings {
        &self.cfg
    }

    /// Resumes the inbound side where a journal left it (D64): the next number expected and
    /// the gaps still open (asked for again at the next logon).
    pub fn resume_inbound(&mut self, next_in: u64, missing: Vec<(u64, u64)>) {
        self.seq.next_in = next_in.max(1);
        self.missing = missing;
    }

    /// Both sides start again at 1 (a daily reset at the schedule's start, while disconnected).
    pub fn reset_sequences(&mut self) {
        self.seq = SeqNums { next_out: 1, next_in: 1 };
        self.missing.clear();
    }

    /// A connection is up: the initiator sends its Logon, the acceptor waits for one.
    pub fn on_connected(&mut self, now: Micros, out: &mut Vec<Action>) {
        self.state = State::AwaitingLogon;
        self.state_since = now;
        self.last_received = now;
        self.test_request = None;
        self.we_reset = false;
        self.resend_attempts = 0;
        if self.cfg.role == Role::Initiator {
            let reset = self.cfg.reset_on_logon;
            if reset {
                self.seq = SeqNums { next_out: 1, next_in: 1 };
                self.missing.clear();
                self.we_reset = true;
            }
            self.send_logon(reset, now, out);
        }
    }

    /// The connection is gone (closed by either side).
    pub fn on_disconnected(&mut self) {
        self.state = State::Disconnected;
        self.test_request = None;
    }

    /// Starts a logout (shutdown, end of the schedule): the connection closes when the peer
    /// answers, or after `logon_timeout_ms`.
    pub fn logout(&mut self, text: &str, now: Micros, out: &mut Vec<Action>) {
        match self.state {
            State::Active => {
                self.send(b"5", now, out, |b| {
                    b.field(58, text);
                });
                self.state = State::LoggingOut;
                self.state_since = now;
            }
            State::AwaitingLogon => out.push(Action::Disconnect(text.to_string())),
            State::LoggingOut | State::Disconnected => {}
        }
    }

    /// Time passes: heartbeats, TestRequests, resend retries, logon/logout timeouts.
    pub fn on_tick(&mut self, now: Micros, out: &mut Vec<Action>) {
        let hb_ms = i64::from(self.cfg.heartbeat_s.max(1)) * 1000;
        match self.state {
            State::Disconnected => {}
            State::AwaitingLogon | State::LoggingOut => {
                if now.0 - self.state_since.0 > self.cfg.logon_timeout_ms * 1000 {
                    let why = if self.state == State::AwaitingLogon {
                        "no Logon within the logon timeout"
                    } else {
                        "no answer to our Logout"
                    };
                    self.disconnect(why, out);
                }
            }
            State::Active => {
                if let Some((_, sent)) = self.test_request {
                    if now.0 - sent.0 > hb_ms * 1000 {
                        self.disconnect("no answer to our TestRequest within a heartbeat interval", out);
                        return;
                    }
                } else if now.0 - self.last_received.0 > hb_ms * 1200 {
                    self.test_requests += 1;
                    let id = self.test_requests;
                    self.send(b"1", now, out, |b| {
                        b.field(112, format_args!("TEST-{id}"));
                    });
                    self.test_request = Some((id, now));
                    out.push(Action::Event(Event::TestRequestSent));
                }
                if !self.missing.is_empty() && now.0 - self.resend_at.0 > self.cfg.resend_timeout_ms * 1000 {
                    if self.resend_attempts >= self.cfg.max_resend_attempts {
                        out.push(Action::Event(Event::ResendAbandoned));
                        self.logout("ResendRequest not answered", now, out);
                        return;
                    }
                    self.request_missing(now, out);
                }
                if now.0 - self.last_sent.0 >= hb_ms * 1000 {
                    self.send(b"0", now, out, |_| {});
                }
            }
        }
    }

    /// One whole inbound message (framed and checksummed by the caller). Returns whether it
    /// goes on to the engine's ingest path (see D81: every message accepted in sequence, admin
    /// ones too, so the sequencer sees the session's numbers; resends already had do not).
    pub fn on_message(&mut self, bytes: &[u8], now: Micros, out: &mut Vec<Action>) -> bool {
        let f = Fields::new(bytes);
        self.last_received = now;
        let Some(msg_type) = f.get(35) else {
            self.disconnect("message without MsgType (35)", out);
            return false;
        };
        let Some(seq) = f.u64(34) else {
            self.logout_and_disconnect("MsgSeqNum (34) missing", now, out);
            return false;
        };
        if f.str(8) != Some(self.cfg.begin_string) {
            let why = format!("BeginString {:?} is not {}", f.str(8).unwrap_or(""), self.cfg.begin_string);
            if self.state == State::AwaitingLogon {
                out.push(Action::Event(Event::LogonRefused(why.clone())));
            }
            self.logout_and_disconnect(&why, now, out);
            return false;
        }
        if f.str(49) != Some(self.cfg.target_comp_id.as_str()) || f.str(56) != Some(self.cfg.sender_comp_id.as_str()) {
            let why = format!(
                "CompID problem: got SenderCompID {:?} TargetCompID {:?}, expected {} and {}",
                f.str(49).unwrap_or(""),
                f.str(56).unwrap_or(""),
                self.cfg.target_comp_id,
                self.cfg.sender_comp_id
            );
            if self.state != State::Active {
                out.push(Action::Event(Event::LogonRefused(why.clone())));
            }
            self.reject(seq, 9, &why, now, out);
            self.logout_and_disconnect(&why, now, out);
            return false;
        }
        match self.state {
            State::Disconnected => false,
            State::AwaitingLogon => self.on_logon(msg_type, seq, &f, now, out),
            State::Active | State::LoggingOut => self.on_sequenced(msg_type, seq, &f, now, out),
        }
    }

    fn on_logon(&mut self, msg_type: &[u8], seq: u64, f: &Fields<'_>, now: Micros, out: &mut Vec<Action>) -> bool {
        if msg_type == b"5" {
            let text = f.str(58).unwrap_or("").to_string();
            out.push(Action::Event(Event::LogonRefused(format!("the peer logged out instead: {text}"))));
            self.disconnect("logon refused by the peer", out);
            return false;
        }
        if msg_type != b"A" {
            self.disconnect("first message is not a Logon", out);
            return false;
        }
        if self.cfg.role == Role::Acceptor
            && let Some((user, pass)) = &self.cfg.credentials
            && (f.str(553) != Some(user.as_str()) || f.str(554) != Some(pass.as_str()))
        {
            let why = "Username/Password (553/554) do not match".to_string();
            out.push(Action::Event(Event::LogonRefused(why.clone())));
            self.logout_and_disconnect(&why, now, out);
            return false;
        }
        let peer_reset = f.flag(141);
        if peer_reset {
            let expected = self.seq.next_in;
            self.seq.next_in = seq;
            self.missing.clear();
            if !self.we_reset {
                // The peer asked: we start again at 1 too, and say so in our answer.
                self.seq.next_out = 1;
            }
            out.push(Action::Event(Event::Reset { expected, new: seq }));
        }
        if !peer_reset && seq < self.seq.next_in {
            let why = format!("MsgSeqNum too low, expecting {} but received {seq}", self.seq.next_in);
            out.push(Action::Event(Event::LogonRefused(why.clone())));
            self.logout_and_disconnect(&why, now, out);
            return false;
        }
        if self.cfg.role == Role::Acceptor {
            let reset = peer_reset;
            self.send_logon(reset, now, out);
        }
        self.state = State::Active;
        self.state_since = now;
        out.push(Action::Event(Event::LoggedOn { reset: peer_reset || self.we_reset }));
        let had_missing = !self.missing.is_empty();
        self.advance(seq, f, now, out);
        if had_missing {
            // Gaps left open by an earlier connection: ask again.
            self.request_missing(now, out);
        }
        true
    }

    /// Moves the inbound number past `seq` (its gap, if it opens one, is requested).
    fn advance(&mut self, seq: u64, f: &Fields<'_>, now: Micros, out: &mut Vec<Action>) {
        let e = self.seq.next_in;
        let gap_fill_to = (f.get(35) == Some(b"4") && f.flag(123)).then(|| f.u64(36)).flatten();
        if seq > e {
            out.push(Action::Event(Event::GapDetected { expected: e, seen: seq }));
            self.missing.push((e, seq - 1));
            self.resend_attempts = 0;
            self.send_resend(e, seq - 1, now, out);
        }
        self.seq.next_in = (seq + 1).max(e).max(gap_fill_to.unwrap_or(0));
    }

    fn on_sequenced(&mut self, msg_type: &[u8], seq: u64, f: &Fields<'_>, now: Micros, out: &mut Vec<Action>) -> bool {
        let poss_dup = f.flag(43);
        let is_seq_reset = msg_type == b"4";
        let gap_fill = is_seq_reset && f.flag(123);
        if poss_dup && !is_seq_reset {
            match (f.get(122).and_then(Micros::parse_fix), f.get(52).and_then(Micros::parse_fix)) {
                (None, _) => {
                    self.reject(seq, 1, "PossDupFlag=Y without OrigSendingTime (122)", now, out);
                    self.consume(seq);
                    return false;
                }
                (Some(orig), Some(sent)) if orig > sent => {
                    self.reject(seq, 10, "OrigSendingTime (122) after SendingTime (52)", now, out);
                    self.consume(seq);
                    return false;
                }
                _ => {}
            }
        }
        if is_seq_reset && !gap_fill {
            let Some(new) = f.u64(36) else {
                self.reject(seq, 1, "SequenceReset without NewSeqNo (36)", now, out);
                return false;
            };
            let expected = self.seq.next_in;
            out.push(Action::Event(Event::Reset { expected, new }));
            self.seq.next_in = new;
            self.missing.retain(|&(_, last)| last >= new);
            return true;
        }
        let e = self.seq.next_in;
        let deliver = if seq >= e {
            self.advance(seq, f, now, out);
            true
        } else if self.is_missing(seq) {
            let last = if gap_fill { f.u64(36).unwrap_or(seq + 1).max(seq + 1) - 1 } else { seq };
            self.fill(seq, last);
            if last >= self.seq.next_in {
                // A GapFill beyond what we asked for: those numbers will not come either.
                self.seq.next_in = last + 1;
            }
            self.resend_at = now;
            if self.missing.is_empty() {
                self.resend_attempts = 0;
                out.push(Action::Event(Event::GapFilled));
            }
            true
        } else if poss_dup {
            out.push(Action::Event(Event::DuplicateDiscarded(seq)));
            return false;
        } else {
            let why = format!("MsgSeqNum too low, expecting {e} but received {seq}");
            self.logout_and_disconnect(&why, now, out);
            // Delivered: the sequencer reports it as a duplicate.
            return true;
        };
        match msg_type {
            b"0" => {
                if let Some((id, _)) = self.test_request
                    && f.get(112).is_some_and(|v| v == format!("TEST-{id}").as_bytes())
                {
                    self.test_request = None;
                }
            }
            b"1" => {
                let id = f.get(112).unwrap_or(b"").to_vec();
                self.send(b"0", now, out, |b| {
                    b.field(112, String::from_utf8_lossy(&id));
                });
            }
            b"2" => self.answer_resend(f, now, out),
            b"3" => out.push(Action::Event(Event::PeerReject(f.str(58).unwrap_or("").to_string()))),
            b"5" => {
                let text = f.str(58).unwrap_or("").to_string();
                let by_peer = self.state != State::LoggingOut;
                if by_peer {
                    self.send(b"5", now, out, |_| {});
                }
                out.push(Action::Event(Event::LoggedOut { by_peer, text }));
                self.disconnect("logged out", out);
            }
            _ => {}
        }
        if self.test_request.is_some() && msg_type != b"0" {
            // Any message shows the peer is alive; a late Heartbeat answer is not needed.
            self.test_request = None;
        }
        deliver
    }

    /// A message taken but not acted on (rejected): its number is used up.
    fn consume(&mut self, seq: u64) {
        if seq == self.seq.next_in {
            self.seq.next_in += 1;
        }
    }

    fn is_missing(&self, seq: u64) -> bool {
        self.missing.iter().any(|&(a, b)| (a..=b).contains(&seq))
    }

    /// Removes `first ..= last` from the missing ranges.
    fn fill(&mut self, first: u64, last: u64) {
        remove_range(&mut self.missing, first, last);
    }

    fn request_missing(&mut self, now: Micros, out: &mut Vec<Action>) {
        let (Some(&(begin, _)), Some(&(_, end))) = (self.missing.first(), self.missing.last()) else {
            return;
        };
        self.send_resend(begin, end, now, out);
    }

    fn send_resend(&mut self, begin: u64, end: u64, now: Micros, out: &mut Vec<Action>) {
        self.resend_attempts += 1;
        self.resend_at = now;
        self.send(b"2", now, out, |b| {
            b.field(7, begin).field(16, end);
        });
        out.push(Action::Event(Event::ResendRequested { begin, end, attempt: self.resend_attempts }));
    }

    /// The peer asks us to resend: we only ever sent admin messages, so one GapFill covers
    /// the range up to our next number.
    fn answer_resend(&mut self, f: &Fields<'_>, now: Micros, out: &mut Vec<Action>) {
        let begin = f.u64(7).unwrap_or(1).max(1);
        let new_seq_no = self.seq.next_out;
        if begin >= new_seq_no {
            return;
        }
        let mut b = self.header(b"4", begin, now);
        b.field(43, "Y").field(122, fix_timestamp(now)).field(123, "Y").field(36, new_seq_no);
        out.push(Action::Send(b.finish()));
        self.last_sent = now;
        out.push(Action::Event(Event::ResendAnswered { begin, new_seq_no }));
    }

    fn send_logon(&mut self, reset: bool, now: Micros, out: &mut Vec<Action>) {
        let hb = self.cfg.heartbeat_s;
        let creds = if self.cfg.role == Role::Initiator { self.cfg.credentials.clone() } else { None };
        self.send(b"A", now, out, |b| {
            b.field(98, 0).field(108, hb);
            if reset {
                b.field(141, "Y");
            }
            if let Some((user, pass)) = &creds {
                b.field(553, user).field(554, pass);
            }
        });
    }

    fn reject(&mut self, ref_seq: u64, reason: u32, text: &str, now: Micros, out: &mut Vec<Action>) {
        self.send(b"3", now, out, |b| {
            b.field(45, ref_seq).field(373, reason).field(58, text);
        });
        out.push(Action::Event(Event::Rejected(text.to_string())));
    }

    fn logout_and_disconnect(&mut self, why: &str, now: Micros, out: &mut Vec<Action>) {
        self.send(b"5", now, out, |b| {
            b.field(58, why);
        });
        self.disconnect(why, out);
    }

    fn disconnect(&mut self, why: &str, out: &mut Vec<Action>) {
        self.state = State::Disconnected;
        out.push(Action::Disconnect(why.to_string()));
    }

    fn header(&self, msg_type: &[u8], seq: u64, now: Micros) -> Builder {
        let mut b = Builder::new(self.cfg.begin_string, std::str::from_utf8(msg_type).unwrap_or("0"));
        b.field(49, &self.cfg.sender_comp_id)
            .field(56, &self.cfg.target_comp_id)
            .field(34, seq)
            .field(52, fix_timestamp(now));
        b
    }

    fn send(&mut self, msg_type: &[u8], now: Micros, out: &mut Vec<Action>, body: impl FnOnce(&mut Builder)) {
        let mut b = self.header(msg_type, self.seq.next_out, now);
        body(&mut b);
        self.seq.next_out += 1;
        self.last_sent = now;
        out.push(Action::Send(b.finish()));
    }
}
