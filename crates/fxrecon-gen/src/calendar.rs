//! Civil-calendar arithmetic (proleptic Gregorian, UTC) for log timestamps and settlement dates.
//!
//! Pure integer functions: this module must never read the system clock, use a time zone or
//! know anything about FIX, orders or the configuration.

/// Microseconds in one day.
pub(crate) const US_PER_DAY: i64 = 86_400_000_000;

/// Converts days since 1970-01-01 into (year, month, day).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Converts (year, month, day) into days since 1970-01-01.
pub(crate) const fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Day of the week of a day number: 0 = Sunday .. 6 = Saturday.
fn weekday(days: i64) -> i64 {
    (days + 4).rem_euclid(7)
}

/// Moves a day forward to the next business day (Monday to Friday) if it falls on a weekend.
fn roll_forward(mut days: i64) -> i64 {
    while matches!(weekday(days), 0 | 6) {
        days += 1;
    }
    days
}

/// Adds `n` business days to a day number.
fn add_business_days(mut days: i64, n: u32) -> i64 {
    for _ in 0..n {
        days = roll_forward(days + 1);
    }
    days
}

/// Number of days in a month.
fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Formats a day number as `YYYYMMDD` (years clamped to 0..=9999).
pub(crate) fn ymd_bytes(days: i64) -> [u8; 8] {
    let (y, m, d) = civil_from_days(days);
    let mut out = [0u8; 8];
    put_digits(&mut out[0..4], y.clamp(0, 9999) as u32);
    put_digits(&mut out[4..6], m);
    put_digits(&mut out[6..8], d);
    out
}

/// Writes `v` zero-padded into the whole of `slot`.
fn put_digits(slot: &mut [u8], mut v: u32) {
    for b in slot.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Settlement dates `[spot, one week, one month]` for a trading day starting at `start_us`.
pub(crate) fn settlement_dates(start_us: i64) -> [[u8; 8]; 3] {
    let trade = start_us.div_euclid(US_PER_DAY);
    let spot = add_business_days(trade, 2);
    let week = roll_forward(spot + 7);
    let (y, m, d) = civil_from_days(spot);
    let (y1, m1) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let month = roll_forward(days_from_civil(y1, m1, d.min(days_in_month(y1, m1))));
    [ymd_bytes(spot), ymd_bytes(week), ymd_bytes(month)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_settles() {
        for days in [-800_000, -1, 0, 1, 20_417, 20_782, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(&ymd_bytes(days_from_civil(2026, 11, 25)), b"20261125");
        // 2026-11-25 is a Wednesday: spot is Friday 27th, a week later 4 Dec, a month later
        // 27 Dec is a Sunday and rolls to Monday 28 Dec.
        let dates = settlement_dates(days_from_civil(2026, 11, 25) * US_PER_DAY);
        assert_eq!(&dates[0], b"20261127");
        assert_eq!(&dates[1], b"20261204");
        assert_eq!(&dates[2], b"20261228");
    }
}
