//! Exact fixed-point decimals for quantities and prices.
//!
//! Owns: parsing FIX decimal text into scaled integers and printing them back the way FIX
//! writes them. Never uses binary floating point and never allocates.

use core::fmt;

/// A fixed-point decimal with `SCALE` fractional digits, stored as a scaled `i64`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fixed<const SCALE: u32>(pub i64);

/// A quantity (OrderQty, CumQty, LastQty …): 4 decimals, up to 9.2 * 10^14.
pub type Qty = Fixed<4>;
/// A price (Price, LastPx, AvgPx): 8 decimals, up to 9.2 * 10^10.
pub type Price = Fixed<8>;

/// Why a decimal could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    /// Empty text, a stray character, or a lone sign or dot.
    NotANumber,
    /// More significant fractional digits than the type keeps.
    TooPrecise,
    /// Larger than the type can hold.
    Overflow,
}

const POW10: [i64; 19] = {
    let mut t = [1i64; 19];
    let mut i = 1;
    while i < 19 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

impl<const SCALE: u32> Fixed<SCALE> {
    /// Zero.
    pub const ZERO: Self = Self(0);
    const ONE: i64 = 10i64.pow(SCALE);

    /// A whole number.
    pub const fn from_int(v: i64) -> Self {
        Self(v * Self::ONE)
    }

    /// Parses FIX decimal text (`-`? digits [`.` digits]); exact or an error, never rounded.
    pub fn parse(text: &[u8]) -> Result<Self, DecimalError> {
        let (neg, body) = match text.first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        // Integer part: up to 18 digits cannot overflow a u64 accumulator.
        let mut i = 0;
        let mut int: u64 = 0;
        while i < body.len() {
            let d = body[i].wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            int = int.wrapping_mul(10).wrapping_add(d as u64);
            i += 1;
        }
        let int_digits = i;
        if int_digits > 18 {
            return Err(DecimalError::Overflow);
        }
        let mut frac: u64 = 0;
        let mut frac_digits = 0u32;
        let mut any_frac = false;
        if i < body.len() && body[i] == b'.' {
            i += 1;
            while i < body.len() {
                let d = body[i].wrapping_sub(b'0');
                if d > 9 {
                    return Err(DecimalError::NotANumber);
                }
                any_frac = true;
                if frac_digits < SCALE {
                    frac = frac * 10 + d as u64;
                    frac_digits += 1;
                } else if d != 0 {
                    return Err(DecimalError::TooPrecise);
                }
                i += 1;
            }
        }
        if i != body.len() || (int_digits == 0 && !any_frac) {
            return Err(DecimalError::NotANumber);
        }
        let scaled = (int as i64)
            .checked_mul(Self::ONE)
            .and_then(|v| v.checked_add(frac as i64 * POW10[(SCALE - frac_digits) as usize]))
            .ok_or(DecimalError::Overflow)?;
        Ok(Self(if neg { -scaled } else { scaled }))
    }

    /// True for zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Saturating sum.
    pub const fn plus(self, o: Self) -> Self {
        Self(self.0.saturating_add(o.0))
    }

    /// Saturating difference.
    pub const fn minus(self, o: Self) -> Self {
        Self(self.0.saturating_sub(o.0))
    }
}

impl<const SCALE: u32> fmt::Display for Fixed<SCALE> {
    /// Prints as FIX would: no exponent, no trailing zeros, no dot for whole numbers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let one = Self::ONE as u64;
        let v = self.0.unsigned_abs();
        if self.0 < 0 {
            f.write_str("-")?;
        }
        write!(f, "{}", v / one)?;
        let mut frac = v % one;
        if frac != 0 {
            let mut width = SCALE as usize;
            while frac.is_multiple_of(10) {
                frac /= 10;
                width -= 1;
            }
            write!(f, ".{frac:0width$}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Result<Qty, DecimalError> {
        Qty::parse(s.as_bytes())
    }
    fn p(s: &str) -> Result<Price, DecimalError> {
        Price::parse(s.as_bytes())
    }

    #[test]
    fn parses_and_prints_like_fix() {
        assert_eq!(q("1000000").unwrap().to_string(), "1000000");
        assert_eq!(q("1000000.50").unwrap().to_string(), "1000000.5");
        assert_eq!(q("1000000000000.25").unwrap().to_string(), "1000000000000.25");
        assert_eq!(p("1.08453").unwrap().to_string(), "1.08453");
        assert_eq!(p("151.230").unwrap().to_string(), "151.23");
        assert_eq!(p("0.00000001").unwrap().to_string(), "0.00000001");
        assert_eq!(p("-0.5").unwrap().to_string(), "-0.5");
        assert_eq!(p("0").unwrap().to_string(), "0");
        assert_eq!(p(".5").unwrap(), p("0.5").unwrap());
        assert_eq!(p("1.5000000000").unwrap(), p("1.5").unwrap());
    }

    #[test]
    fn rejects_bad_text() {
        assert_eq!(q(""), Err(DecimalError::NotANumber));
        assert_eq!(q("-"), Err(DecimalError::NotANumber));
        assert_eq!(q("."), Err(DecimalError::NotANumber));
        assert_eq!(q("1e6"), Err(DecimalError::NotANumber));
        assert_eq!(q("1.2.3"), Err(DecimalError::NotANumber));
        assert_eq!(q("abc"), Err(DecimalError::NotANumber));
        assert_eq!(p("1.000000001"), Err(DecimalError::TooPrecise));
        assert_eq!(q("99999999999999999999"), Err(DecimalError::Overflow));
        assert_eq!(q("922337203685478"), Err(DecimalError::Overflow));
    }

    #[test]
    fn exact_comparison_not_float() {
        assert_eq!(p("0.1").unwrap().plus(p("0.2").unwrap()), p("0.3").unwrap());
    }
}
