//! A FIX session as the config file names it (`[[session]]` tables of `fxrecon.toml`), and
//! its checks.
//!
//! Owns: every session key, its default and its validation (one clear message naming the
//! session), and turning it into [`Settings`] and a [`Schedule`]. Must never open a socket.

use serde::Deserialize;

use crate::error::SessionError;
use crate::schedule::{Schedule, parse_day, parse_time_of_day};
use crate::session::{Role, Settings};

/// When sequence numbers start again at 1.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ResetPolicy {
    /// Never by us: numbers resume from the state directory (the peer may still reset).
    #[default]
    Never,
    /// Every logon sends ResetSeqNumFlag=Y.
    Logon,
    /// At the start of each scheduled session (a new day starts at 1).
    Daily,
}

/// One `[[session]]` table.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// `primary` or `dropcopy`: the stream its application messages feed.
    pub stream: String,
    /// `initiator` or `acceptor` (default: initiator for dropcopy, acceptor for primary).
    #[serde(default)]
    pub role: Option<Role>,
    /// Host to connect to (initiator) or address to listen on (acceptor).
    #[serde(default = "default_host")]
    pub host: String,
    /// Port to connect to or listen on.
    pub port: u16,
    /// Our CompID.
    pub sender_comp_id: String,
    /// The peer's CompID.
    pub target_comp_id: String,
    /// HeartBtInt in seconds.
    #[serde(default = "default_heartbeat")]
    pub heartbeat_s: u32,
    /// When numbers reset.
    #[serde(default)]
    pub reset: ResetPolicy,
    /// Username (553).
    #[serde(default)]
    pub username: Option<String>,
    /// Password (554), or better:
    #[serde(default)]
    pub password: Option<String>,
    /// the environment variable holding it.
    #[serde(default)]
    pub password_env: Option<String>,
    /// First reconnect delay (ms); it doubles up to `reconnect_max_ms`.
    #[serde(default = "default_reconnect_min")]
    pub reconnect_min_ms: u64,
    /// Longest reconnect delay (ms).
    #[serde(default = "default_reconnect_max")]
    pub reconnect_max_ms: u64,
    /// Refused logons in a row before the session gives up and its input fails (0: never).
    #[serde(default)]
    pub max_logon_refusals: u32,
    /// A ResendRequest with no answer for this long is sent again (ms).
    #[serde(default = "default_resend_timeout")]
    pub resend_timeout_ms: u64,
    /// Times a ResendRequest is sent again before logout and reconnect.
    #[serde(default = "default_resend_attempts")]
    pub max_resend_attempts: u32,
    /// The input ends when the peer logs out (a finite day, tests); default: reconnect.
    #[serde(default)]
    pub end_on_logout: bool,
    /// Schedule start, `HH:MM:SS` UTC (default: always on).
    #[serde(default)]
    pub start_time: Option<String>,
    /// Schedule end, `HH:MM:SS` UTC.
    #[serde(default)]
    pub end_time: Option<String>,
    /// Weekdays (`["mon", "tue", …]`; default every day).
    #[serde(default)]
    pub days: Option<Vec<String>>,
    /// TLS (rustls): not supported yet; a session that asks for it is refused.
    #[serde(default)]
    pub tls: bool,
}

fn default_host() -> String {
    "127.0.0.1".to_string()
}
fn default_heartbeat() -> u32 {
    30
}
fn default_reconnect_min() -> u64 {
    100
}
fn default_reconnect_max() -> u64 {
    5_000
}
fn default_resend_timeout() -> u64 {
    10_000
}
fn default_resend_attempts() -> u32 {
    3
}

impl SessionConfig {
    /// A session with defaults for everything but where it goes and who talks.
    pub fn new(stream: &str, host: &str, port: u16, sender: &str, target: &str) -> Self {
        Self {
            stream: stream.to_string(),
            role: None,
            host: host.to_string(),
            port,
            sender_comp_id: sender.to_string(),
            target_comp_id: target.to_string(),
            heartbeat_s: default_heartbeat(),
            reset: ResetPolicy::Never,
            username: None,
            password: None,
            password_env: None,
            reconnect_min_ms: default_reconnect_min(),
            reconnect_max_ms: default_reconnect_max(),
            max_logon_refusals: 0,
            resend_timeout_ms: default_resend_timeout(),
            max_resend_attempts: default_resend_attempts(),
            end_on_logout: false,
            start_time: None,
            end_time: None,
            days: None,
            tls: false,
        }
    }

    /// `SENDER->TARGET`, as logs and errors name it.
    pub fn name(&self) -> String {
        format!("{}->{}", self.sender_comp_id, self.target_comp_id)
    }

    /// The side we play.
    pub fn role(&self) -> Role {
        self.role.unwrap_or(if self.stream == "primary" { Role::Acceptor } else { Role::Initiator })
    }

    fn bad(&self, what: impl Into<String>) -> SessionError {
        SessionError::Config { session: self.name(), what: what.into() }
    }

    /// Checks every key; the session's settings and schedule.
    pub fn check(&self) -> Result<(Settings, Schedule), SessionError> {
        if self.stream != "primary" && self.stream != "dropcopy" {
            return Err(self.bad(format!("stream must be primary or dropcopy, not {:?}", self.stream)));
        }
        if self.sender_comp_id.is_empty() || self.target_comp_id.is_empty() {
            return Err(self.bad("sender_comp_id and target_comp_id must not be empty"));
        }
        if self.tls {
            return Err(self.bad("tls is not supported yet (issue 26)"));
        }
        if self.heartbeat_s == 0 {
            return Err(self.bad("heartbeat_s must be > 0"));
        }
        if self.reconnect_min_ms == 0 || self.reconnect_max_ms < self.reconnect_min_ms {
            return Err(self.bad("reconnect_min_ms must be > 0 and at most reconnect_max_ms"));
        }
        let password = match (&self.password, &self.password_env) {
            (Some(_), Some(_)) => return Err(self.bad("give password or password_env, not both")),
            (Some(p), None) => Some(p.clone()),
            (None, Some(var)) => Some(
                std::env::var(var)
                    .map_err(|_| self.bad(format!("password_env {var} is not set in the environment")))?,
            ),
            (None, None) => None,
        };
        let credentials = match (&self.username, password) {
            (Some(u), Some(p)) => Some((u.clone(), p)),
            (None, None) => None,
            _ => return Err(self.bad("username and a password go together")),
        };
        let mut schedule = Schedule::default();
        match (&self.start_time, &self.end_time) {
            (Some(s), Some(e)) => {
                schedule.start_s =
                    parse_time_of_day(s).ok_or_else(|| self.bad(format!("start_time {s:?} is not HH:MM:SS")))?;
                schedule.end_s =
                    parse_time_of_day(e).ok_or_else(|| self.bad(format!("end_time {e:?} is not HH:MM:SS")))?;
                if schedule.start_s == schedule.end_s {
                    return Err(self.bad("start_time and end_time are the same"));
                }
            }
            (None, None) => {}
            _ => return Err(self.bad("start_time and end_time go together")),
        }
        if let Some(days) = &self.days {
            schedule.days = [false; 7];
            for d in days {
                let i = parse_day(d).ok_or_else(|| self.bad(format!("{d:?} is not a weekday")))?;
                schedule.days[i] = true;
            }
        }
        let mut s = Settings::new(&self.sender_comp_id, &self.target_comp_id, self.role());
        s.heartbeat_s = self.heartbeat_s;
        s.reset_on_logon = self.reset == ResetPolicy::Logon;
        s.credentials = credentials;
        s.resend_timeout_ms = self.resend_timeout_ms as i64;
        s.max_resend_attempts = self.max_resend_attempts;
        Ok((s, schedule))
    }
}

/// The `[[session]]` tables of a run config, read and checked: every key of each (one clear
/// message naming the session); no two sessions with the same CompIDs, no two acceptors on the
/// same address. A stream may have several sessions (D63).
pub fn sessions_of(tables: &[toml::Table]) -> Result<Vec<SessionConfig>, SessionError> {
    let mut out: Vec<SessionConfig> = Vec::with_capacity(tables.len());
    for (i, t) in tables.iter().enumerate() {
        let s = |k: &str| t.get(k).and_then(toml::Value::as_str).unwrap_or("?").to_string();
        let name = format!("#{} ({}->{})", i + 1, s("sender_comp_id"), s("target_comp_id"));
        let cfg: SessionConfig = toml::Value::Table(t.clone()).try_into().map_err(|e: toml::de::Error| {
            SessionError::Config { session: name.clone(), what: e.message().lines().next().unwrap_or("").to_string() }
        })?;
        cfg.check()?;
        if out.iter().any(|o| o.sender_comp_id == cfg.sender_comp_id && o.target_comp_id == cfg.target_comp_id) {
            return Err(cfg.bad("two [[session]] tables have these CompIDs"));
        }
        let listens = |c: &SessionConfig| c.role() == Role::Acceptor && c.port != 0;
        if listens(&cfg) && out.iter().any(|o| listens(o) && o.host == cfg.host && o.port == cfg.port) {
            return Err(cfg.bad(format!("another acceptor session already listens on {}:{}", cfg.host, cfg.port)));
        }
        out.push(cfg);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(text: &str) -> Vec<toml::Table> {
        let t: toml::Table = text.parse().unwrap();
        t["session"].as_array().unwrap().iter().map(|v| v.as_table().unwrap().clone()).collect()
    }

    #[test]
    fn sessions_are_read_with_their_defaults_and_bad_ones_name_themselves() {
        let ok = sessions_of(&tables(
            "[[session]]\nstream = \"dropcopy\"\nport = 9001\nsender_comp_id = \"FIRMDC\"\ntarget_comp_id = \"EBSDC\"\n\
             [[session]]\nstream = \"primary\"\nport = 9002\nsender_comp_id = \"FIRM\"\ntarget_comp_id = \"OMS\"\nheartbeat_s = 5\n",
        ))
        .unwrap();
        assert_eq!((ok[0].role(), ok[1].role(), ok[1].heartbeat_s), (Role::Initiator, Role::Acceptor, 5));
        let err = |text: &str| sessions_of(&tables(text)).unwrap_err().to_string();
        let base = "[[session]]\nstream = \"dropcopy\"\nport = 9001\nsender_comp_id = \"A\"\ntarget_comp_id = \"B\"\n";
        assert!(err(&format!("{base}colour = 1\n")).contains("#1 (A->B): unknown field `colour`"));
        assert!(err(&format!("{base}tls = true\n")).contains("tls is not supported"));
        assert!(err(&format!("{base}{base}")).contains("two [[session]] tables have these CompIDs"));
        let two = sessions_of(&tables(&format!("{base}{}", base.replace("\"B\"", "\"C\"")))).unwrap();
        assert_eq!(two.len(), 2, "two sessions on one stream");
        let acceptor = base.replace("dropcopy", "primary");
        assert!(
            err(&format!("{acceptor}{}", acceptor.replace("\"B\"", "\"C\"")))
                .contains("already listens on 127.0.0.1:9001")
        );
        assert!(err(&base.replace("dropcopy", "both")).contains("stream must be primary or dropcopy"));
    }
}
