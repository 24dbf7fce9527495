//! FIX UTC timestamps (`YYYYMMDD-HH:MM:SS.sss`) from microseconds since the Unix epoch, and
//! the wall clock the session I/O reads.
//!
//! Owns: formatting only (parsing is `fxrecon_core::time::Micros::parse_fix`). Never reads a
//! clock except in [`wall_now`], which only the I/O thread calls.

use fxrecon_core::time::{Micros, civil_from_days};

/// `t` as a FIX UTCTimestamp with milliseconds.
pub fn fix_timestamp(t: Micros) -> String {
    let secs = t.0.div_euclid(1_000_000);
    let millis = t.0.rem_euclid(1_000_000) / 1000;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!("{y:04}{m:02}{d:02}-{:02}:{:02}:{:02}.{millis:03}", s / 3600, s / 60 % 60, s % 60)
}

/// The wall clock as microseconds since the Unix epoch (the I/O thread's only clock read).
pub fn wall_now() -> Micros {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Micros(d.as_micros() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_fix_and_parses_back() {
        let t = Micros::parse_fix(b"20261125-13:33:20.297").expect("parses");
        assert_eq!(fix_timestamp(t), "20261125-13:33:20.297");
        assert_eq!(fix_timestamp(Micros(0)), "19700101-00:00:00.000");
        assert_eq!(fix_timestamp(Micros::parse_fix(b"20240229-23:59:59.999").unwrap()), "20240229-23:59:59.999");
    }
}
