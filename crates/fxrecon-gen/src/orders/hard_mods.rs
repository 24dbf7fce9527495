//! How an order of an issue 22 situation is written differently ([`HardMods`]): which reports
//! quote the root ClOrdID, and AvgPx rounded to 7 decimals (contract 3's rounding-aware rule).
//!
//! Owns: the per-report changes and the AvgPx roundings. Never builds a lifecycle ([`super::hard`]
//! does) and never emits a message.

use crate::model::Er;

/// What a situation changes in how the order's reports are written (all `None`/0 for every
/// other order: its reports are written exactly as before).
#[derive(Clone, Copy, Default)]
pub(in crate::orders) struct HardMods {
    /// `er_flags` of every report on each stream.
    pub flags: [u16; 2],
    /// The stream whose fills quote the root ClOrdID (a venue echoing it after replaces).
    pub root_fills_on: Option<u8>,
    /// The stream that prints AvgPx rounded half-even to 7 decimals.
    pub round7_on: Option<u8>,
    /// On that stream's last report, AvgPx moved by this many units of the 7th decimal (and
    /// further if needed) so that it is no rounding of the other stream's value.
    pub avg_off: Option<i64>,
    /// Steps (link C, link D) whose drop-copy reports arrive in swapped order.
    pub swap_dc: Option<(usize, usize)>,
}

impl HardMods {
    /// Applies the per-report changes to `er` (its stream's flags are already set); `last`: the
    /// order's last step.
    pub fn apply(&self, er: &mut Er, last: bool) {
        if er.last_qty > 0 && self.root_fills_on == Some(er.stream) {
            er.link = 0;
        }
        if self.round7_on == Some(er.stream) {
            let exact = er.avg;
            er.avg = round_half_even(exact, 10);
            if let (true, Some(k)) = (last, self.avg_off) {
                er.avg = not_a_rounding(exact, er.avg, k);
            }
        }
    }
}

/// `v` rounded half-even to a multiple of `unit`.
fn round_half_even(v: i64, unit: i64) -> i64 {
    let (q, r) = (v.div_euclid(unit), v.rem_euclid(unit));
    let q = match (2 * r).cmp(&unit) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q & 1),
    };
    q * unit
}

/// Decimals of a value in units of 10^-8 as FIX prints it (trailing zeros dropped).
fn decimals(v: i64) -> u32 {
    let mut d = 8;
    let mut v = v;
    while d > 0 && v % 10 == 0 {
        v /= 10;
        d -= 1;
    }
    d
}

/// Contract 3: two AvgPx values (units of 10^-8) are equal when the one with more decimals,
/// rounded half-even to the other's decimals, equals it.
pub(in crate::orders) fn equal_as_rounded(a: i64, b: i64) -> bool {
    let (more, fewer) = if decimals(a) >= decimals(b) { (a, b) } else { (b, a) };
    round_half_even(more, 10i64.pow(8 - decimals(fewer))) == fewer
}

/// An AvgPx near `rounded` (a 7-decimal rounding of `exact`), `k` units of the 7th decimal away
/// or further, that prints 7 decimals and is no rounding of `exact` (nor `exact` of it).
fn not_a_rounding(exact: i64, rounded: i64, k: i64) -> i64 {
    let mut step = k * 10;
    loop {
        let v = rounded + step;
        if v > 0 && decimals(v) == 7 && !equal_as_rounded(exact, v) {
            return v;
        }
        step = if decimals(v) != 7 { step + k.signum() * 10 } else { step * 10 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avg_px_roundings() {
        // 1.08456667 and its 7-decimal rounding 1.0845667 are equal; 1.0845677 is not.
        assert_eq!(round_half_even(108_456_667, 10), 108_456_670);
        assert_eq!(round_half_even(108_456_665, 10), 108_456_660, "half to even");
        assert_eq!(round_half_even(108_456_675, 10), 108_456_680, "half to even");
        assert!(equal_as_rounded(108_456_667, 108_456_670));
        assert!(!equal_as_rounded(108_456_667, 108_456_770));
        assert!(equal_as_rounded(108_450_000, 108_450_000));
        // A 4-decimal value and a 7-decimal value close to it: no rounding of each other.
        let v = not_a_rounding(108_450_000, 108_450_000, 3);
        assert_eq!(decimals(v), 7);
        assert!(!equal_as_rounded(108_450_000, v), "{v}");
        for (exact, k) in [(108_456_667, 2), (108_456_667, -9), (15_123_000_000, 9), (65_401_333, -2)] {
            let r = round_half_even(exact, 10);
            let v = not_a_rounding(exact, r, k);
            assert!(decimals(v) == 7 && !equal_as_rounded(exact, v), "{exact} {k} -> {v}");
        }
    }
}
