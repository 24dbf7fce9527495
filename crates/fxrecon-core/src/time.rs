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

    /// Every instant fxrecon holds lies within this many microseconds of the epoch (about
    /// 12,700 years: any FIX UTCTimestamp, years 0000 to 9999, fits), so the difference of two
    /// never overflows. Snapshots are checked against it.
    pub const SPAN: i64 = 400_000_000_000_000_000;

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
        // Straight-line digit decoding: every message carries two or three timestamps.
        let head: &[u8; 17] = t[..17].try_into().ok()?;
        let mut bad = false;
        let mut d = |i: usize| {
            let x = head[i].wrapping_sub(b'0');
            bad |= x > 9;
            x as i64
        };
        let y = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3);
        let mo = d(4) * 10 + d(5);
        let day = d(6) * 10 + d(7);
        let h = d(9) * 10 + d(10);
        let mi = d(12) * 10 + d(13);
        let s = d(15) * 10 + d(16);
        if bad || !(1..=12).contains(&mo) || day < 1 || day > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        let mut micros = 0i64;
        if t.len() > 17 {
            let frac = &t[18..];
            if t[17] != b'.' || frac.is_empty() || frac.len() > 9 {
                return None;
            }
            for (i, &b) in frac.iter().enumerate() {
                let x = b.wrapping_sub(b'0');
                if x > 9 {
                    return None;
                }
                if i < 6 {
                    micros = micros * 10 + x as i64;
                }
            }
            for _ in frac.len()..6 {
                micros *= 10;
            }
        }
        let days = days_from_civil(y, mo, day);
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

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
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

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
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
            b"20260231-10:00:00",
            b"20250229-10:00:00",
        ] {
            assert!(Micros::parse_fix(bad).is_none(), "{:?}", bad);
        }
    }
}
