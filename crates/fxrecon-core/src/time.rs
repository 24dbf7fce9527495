//! Event time: microseconds since the Unix epoch, UTC.
//!
//! Owns: parsing FIX UTCTimestamp text and printing RFC 3339. Never reads a clock: time
//! always arrives with the event.

use core::fmt;

/// A UTC instant in microseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Micros(pub i64);

impl Micros {
    /// Microseconds in one millisecond.
    pub const PER_MS: i64 = 1_000;

    /// This instant plus `ms` milliseconds.
    pub const fn plus_ms(self, ms: i64) -> Self {
        Self(self.0 + ms * Self::PER_MS)
    }

    /// Parses `YYYYMMDD-HH:MM:SS` with an optional fraction of 1 to 9 digits (kept to the
    /// microsecond, extra digits truncated).
    pub fn parse_fix(t: &[u8]) -> Option<Self> {
        if t.len() < 17 || t[8] != b'-' || t[11] != b':' || t[14] != b':' {
            return None;
        }
        let num = |r: core::ops::Range<usize>| -> Option<i64> {
            let mut v = 0i64;
            for &b in &t[r] {
                if !b.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + (b - b'0') as i64;
            }
            Some(v)
        };
        let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
        let (h, mi, s) = (num(9..11)?, num(12..14)?, num(15..17)?);
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        let mut micros = 0i64;
        if t.len() > 17 {
            if t[17] != b'.' {
                return None;
            }
            let frac = &t[18..];
            if frac.is_empty() || frac.len() > 9 || !frac.iter().all(u8::is_ascii_digit) {
                return None;
            }
            for i in 0..6 {
                micros = micros * 10 + frac.get(i).map_or(0, |b| (b - b'0') as i64);
            }
        }
        let days = days_from_civil(y, mo, d);
        Some(Self(((days * 86_400 + h * 3_600 + mi * 60 + s) * 1_000_000) + micros))
    }

    /// A value that prints as RFC 3339 with microseconds (`2026-11-25T13:47:53.758261Z`).
    pub fn rfc3339(self) -> Rfc3339 {
        Rfc3339(self)
    }
}

/// Display adapter for [`Micros::rfc3339`].
pub struct Rfc3339(Micros);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0.0;
        let secs = us.div_euclid(1_000_000);
        let frac = us.rem_euclid(1_000_000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:06}Z", sod / 3600, (sod / 60) % 60, sod % 60)
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (public-domain algorithms).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quickfix_nanoseconds_to_micros() {
        let t = Micros::parse_fix(b"20261125-13:47:53.758261000").unwrap();
        assert_eq!(t.rfc3339().to_string(), "2026-11-25T13:47:53.758261Z");
        let t = Micros::parse_fix(b"20261125-13:47:53.5").unwrap();
        assert_eq!(t.rfc3339().to_string(), "2026-11-25T13:47:53.500000Z");
        let t = Micros::parse_fix(b"19700101-00:00:00").unwrap();
        assert_eq!(t, Micros(0));
        let t = Micros::parse_fix(b"20240229-23:59:59.999999").unwrap();
        assert_eq!(t.rfc3339().to_string(), "2024-02-29T23:59:59.999999Z");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            &b"2026112513:47:53"[..],
            b"20261125-13:47",
            b"20261325-13:47:53",
            b"20261125-13:47:53.",
            b"20261125-13:47:53.1234567890",
            b"2026x125-13:47:53",
            b"20261125-13:47:53Z",
        ] {
            assert!(Micros::parse_fix(bad).is_none(), "{:?}", bad);
        }
    }
}
