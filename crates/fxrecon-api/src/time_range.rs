//! Time bounds of a query (`from=`, `to=`): RFC 3339 UTC instants as the output writes them.
//!
//! Owns: parsing and normalising a bound so it compares with a record's `detected_at` as text.
//! Never reads a clock.

use crate::error::ApiError;

/// A bound normalised to the output's form `YYYY-MM-DDTHH:MM:SS.ffffffZ`, or a 400.
pub fn parse_instant(name: &str, s: &str) -> Result<String, ApiError> {
    let bad = || ApiError::BadRequest(format!("{name}: {s:?} is not a UTC time like 2026-11-25T10:00:07Z"));
    let b = s.as_bytes();
    if b.len() < 20 || *b.last().unwrap_or(&0) != b'Z' {
        return Err(bad());
    }
    let digit_at = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let shape_ok = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18].iter().all(|&i| digit_at(i))
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':';
    if !shape_ok {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().map_err(|_| bad());
    let (mo, d, h, mi, se) = (num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return Err(bad());
    }
    let frac = &s[19..s.len() - 1];
    let digits = match frac.strip_prefix('.') {
        Some(f) if !f.is_empty() && f.len() <= 6 && f.bytes().all(|c| c.is_ascii_digit()) => f,
        None if frac.is_empty() => "",
        _ => return Err(bad()),
    };
    Ok(format!("{}.{digits:0<6}Z", &s[..19]))
}

#[cfg(test)]
mod tests {
    use super::parse_instant;

    #[test]
    fn bounds_are_normalised_to_the_output_form() {
        assert_eq!(parse_instant("from", "2026-11-25T10:00:07Z").unwrap(), "2026-11-25T10:00:07.000000Z");
        assert_eq!(parse_instant("from", "2026-11-25T10:00:07.5Z").unwrap(), "2026-11-25T10:00:07.500000Z");
        for bad in
            ["yesterday", "2026-11-25", "2026-13-25T10:00:07Z", "2026-11-25T10:00:07.1234567Z", "2026-11-25 10:00:07Z"]
        {
            assert!(parse_instant("from", bad).is_err(), "{bad}");
        }
    }
}
