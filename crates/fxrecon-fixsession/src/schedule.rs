//! A session's schedule: the UTC time of day it starts and ends, and the weekdays it runs.
//!
//! Owns: deciding whether an instant is inside the session's window (pure). Must never read
//! a clock (the I/O thread passes the time).

use fxrecon_core::time::Micros;

/// When a session runs (UTC). An end before the start wraps past midnight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Seconds after midnight it starts.
    pub start_s: u32,
    /// Seconds after midnight it ends.
    pub end_s: u32,
    /// Weekdays it runs, 0 = Monday … 6 = Sunday (of the day the window starts).
    pub days: [bool; 7],
}

impl Default for Schedule {
    /// Always on: every day, all day.
    fn default() -> Self {
        Self { start_s: 0, end_s: 86_400, days: [true; 7] }
    }
}

/// Parses `HH:MM:SS` (or `HH:MM`) into seconds after midnight.
pub fn parse_time_of_day(s: &str) -> Option<u32> {
    let mut parts = s.split(':').map(|p| p.parse::<u32>().ok());
    let h = parts.next()??;
    let m = parts.next()??;
    let sec = parts.next().unwrap_or(Some(0))?;
    (parts.next().is_none() && h < 24 && m < 60 && sec < 60).then_some(h * 3600 + m * 60 + sec)
}

/// Parses a weekday name (`mon`, `Monday`, …) into 0 = Monday … 6 = Sunday.
pub fn parse_day(s: &str) -> Option<usize> {
    let l = s.to_ascii_lowercase();
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].iter().position(|d| l.starts_with(d))
}

impl Schedule {
    /// Whether `t` is inside the session's window.
    pub fn is_open(&self, t: Micros) -> bool {
        let secs = t.0.div_euclid(1_000_000);
        let day = secs.div_euclid(86_400);
        let tod = secs.rem_euclid(86_400) as u32;
        // 1970-01-01 was a Thursday (3).
        let weekday = |d: i64| (d + 3).rem_euclid(7) as usize;
        if self.start_s <= self.end_s {
            self.days[weekday(day)] && tod >= self.start_s && tod < self.end_s
        } else {
            (tod >= self.start_s && self.days[weekday(day)]) || (tod < self.end_s && self.days[weekday(day - 1)])
        }
    }

    /// When the window `t` is in opened (None outside every window).
    pub fn opened_at(&self, t: Micros) -> Option<Micros> {
        if !self.is_open(t) {
            return None;
        }
        let secs = t.0.div_euclid(1_000_000);
        let (day, tod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) as u32);
        // A window wrapping past midnight, seen after midnight, opened the day before.
        let opened_day = if self.start_s > self.end_s && tod < self.end_s { day - 1 } else { day };
        Some(Micros((opened_day * 86_400 + i64::from(self.start_s)) * 1_000_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_by_time_of_day_and_weekday_wrapping_past_midnight() {
        let at = |s: &str| Micros::parse_fix(s.as_bytes()).unwrap();
        let mut days = [true; 7];
        days[5] = false;
        days[6] = false;
        let s = Schedule {
            start_s: parse_time_of_day("08:00").unwrap(),
            end_s: parse_time_of_day("17:30:00").unwrap(),
            days,
        };
        assert!(s.is_open(at("20261207-08:00:00"))); // a Monday
        assert!(!s.is_open(at("20261207-17:30:00")));
        assert!(!s.is_open(at("20261205-12:00:00"))); // a Saturday
        let night = Schedule { start_s: 22 * 3600, end_s: 2 * 3600, days };
        assert!(night.is_open(at("20261211-23:00:00"))); // Friday night
        assert!(night.is_open(at("20261212-01:00:00"))); // into Saturday, started Friday
        assert!(!night.is_open(at("20261213-01:00:00"))); // started Saturday: off
        assert_eq!(s.opened_at(at("20261207-12:00:00")), Some(at("20261207-08:00:00")));
        assert_eq!(s.opened_at(at("20261207-18:00:00")), None);
        assert_eq!(night.opened_at(at("20261212-01:00:00")), Some(at("20261211-22:00:00")));
        assert_eq!(night.opened_at(at("20261211-23:00:00")), Some(at("20261211-22:00:00")));
        assert_eq!(parse_day("Tuesday"), Some(1));
        assert_eq!(parse_time_of_day("25:00"), None);
    }
}
