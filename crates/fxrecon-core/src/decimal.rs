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

const ZEROS: u64 = 0x3030_3030_3030_3030;

/// Bytes of `x` (digit values, see [`Fixed::parse_in`]) that are not 0..=9 are non-zero in the
/// result (no carry crosses a byte: a low nibble + 6 is at most 21).
#[inline]
fn non_digits(x: u64) -> u64 {
    const LO: u64 = 0x0f0f_0f0f_0f0f_0f0f;
    const HI: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    (((x & LO) + 0x0606_0606_0606_0606) & HI) | (x & HI)
}

/// The number written by the first `k` (0..=8) digit values of `x` (byte 0 most significant).
#[inline]
fn digits8(x: u64, k: usize) -> u64 {
    if k == 0 {
        return 0;
    }
    // Move the digits to the top bytes: the bytes below become leading zeros.
    let v = x << (8 * (8 - k));
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    (((v & 0x0000_00ff_0000_00ff).wrapping_mul(100 + (1_000_000 << 32)))
        .wrapping_add(((v >> 16) & 0x0000_00ff_0000_00ff).wrapping_mul(1 + (10_000 << 32))))
        >> 32
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

    /// The marker of a value a report did not carry (never a real value: below any that parses).
    pub const fn unknown() -> Self {
        Self(i64::MIN)
    }

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

    /// Parses `buf[start..start + len]` exactly as [`Self::parse`] does; when `buf` has 16 bytes
    /// from `start`, a short unsigned value (up to 16 characters, at most `SCALE` decimals) is
    /// read word-at-a-time from two fixed-size loads instead of digit by digit.
    #[inline]
    pub fn parse_in(buf: &[u8], start: usize, len: usize) -> Result<Self, DecimalError> {
        if len <= 16
            && let Some(window) = buf.get(start..start + 16)
        {
            let w0 = u64::from_le_bytes(window[..8].try_into().expect("8 bytes"));
            let w1 = u64::from_le_bytes(window[8..].try_into().expect("8 bytes"));
            if let Some(v) = Self::parse_window(w0, w1, len) {
                return Ok(v);
            }
        }
        Self::parse(&buf[start..start + len])
    }

    /// The fast path of [`Self::parse_in`]: `w0`, `w1` hold the text's bytes 0..8 and 8..16
    /// (byte 0 lowest) and anything past `len`. `None` when the text is not plain
    /// `digits[.digits]` with 1..=`SCALE` decimals and a value that fits; [`Self::parse`] then
    /// decides (it gives the same value whenever this gives one).
    #[inline]
    fn parse_window(w0: u64, w1: u64, len: usize) -> Option<Self> {
        if len == 0 {
            return None;
        }
        let keep = |n: usize| if n >= 8 { u64::MAX } else { (1u64 << (8 * n)) - 1 };
        if len <= 8 {
            // One word (most FIX quantities and prices): the same rules, fewer steps.
            let x = (w0 ^ ZEROS) & keep(len);
            let b = non_digits(x);
            if b == 0 {
                return (digits8(x, len) as i64).checked_mul(Self::ONE).map(Self);
            }
            let p = (b.trailing_zeros() / 8) as usize;
            let f = len - p - 1;
            if (x >> (8 * p)) as u8 != 0x1e || b & !(0xffu64 << (8 * p)) != 0 || p == 0 || f == 0 || f > SCALE as usize
            {
                return None;
            }
            let int = digits8(x, p) as i64;
            let frac = digits8(x >> (8 * (p + 1)), f) as i64;
            return (int * POW10[f] + frac).checked_mul(POW10[SCALE as usize - f]).map(Self);
        }
        // Digit values per byte: an ASCII digit becomes 0..=9 with a clear high nibble.
        let x0 = (w0 ^ ZEROS) & keep(len);
        let x1 = if len > 8 { (w1 ^ ZEROS) & keep(len - 8) } else { 0 };
        let (b0, b1) = (non_digits(x0), non_digits(x1));
        let (int_len, frac) = if b0 | b1 == 0 {
            (len, 0)
        } else {
            // One '.' (0x2e ^ 0x30 = 0x1e) with digits on both sides, nothing else.
            let (p, x, b) = if b0 != 0 {
                ((b0.trailing_zeros() / 8) as usize, x0, b0)
            } else {
                (8 + (b1.trailing_zeros() / 8) as usize, x1, b1)
            };
            let q = p % 8;
            if (x >> (8 * q)) as u8 != 0x1e || b & !(0xffu64 << (8 * q)) != 0 || (p < 8 && b1 != 0) {
                return None;
            }
            let f = len - p - 1;
            if p == 0 || f == 0 || f > SCALE as usize {
                return None;
            }
            (p, f)
        };
        let int = if int_len <= 8 {
            digits8(x0, int_len)
        } else {
            digits8(x0, 8) * POW10[int_len - 8] as u64 + digits8(x1, int_len - 8)
        };
        let frac_val = if frac == 0 {
            0
        } else {
            // The fraction's bytes start at int_len + 1 (1..=16): shift the 16 bytes down.
            let at = int_len + 1;
            let fw = match at {
                8 => x1,
                16.. => 0,
                9.. => x1 >> (8 * (at - 8)),
                _ => (x0 >> (8 * at)) | (x1 << (64 - 8 * at)),
            };
            digits8(fw, frac)
        };
        let whole = (int as i64).checked_mul(POW10[frac])?.checked_add(frac_val as i64)?;
        whole.checked_mul(POW10[SCALE as usize - frac]).map(Self)
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

    /// Fractional digits the value needs (trailing zeros dropped): 1.08450 has 4.
    pub fn decimals(self) -> u32 {
        let mut v = self.0;
        let mut d = SCALE;
        while d > 0 && v % 10 == 0 {
            v /= 10;
            d -= 1;
        }
        d
    }

    /// The value rounded half-even to `decimals` fractional digits.
    pub fn round_half_even(self, decimals: u32) -> Self {
        if decimals >= SCALE {
            return self;
        }
        let unit = POW10[(SCALE - decimals) as usize];
        let (q, r) = (self.0.div_euclid(unit), self.0.rem_euclid(unit));
        let half = unit / 2;
        let up = r > half || (r == half && q % 2 != 0);
        Self((q + up as i64).saturating_mul(unit))
    }

    /// True when the two values are equal as rounded quantities (contract 3, AvgPx): the one
    /// with more decimals, rounded half-even to the other's decimals, is within `tolerance` of
    /// it (0: equal).
    pub fn equal_as_rounded(self, other: Self, tolerance: Self) -> bool {
        let (fine, coarse) = if self.decimals() >= other.decimals() { (self, other) } else { (other, self) };
        let rounded = fine.round_half_even(coarse.decimals());
        rounded.0.abs_diff(coarse.0) <= tolerance.0.unsigned_abs()
    }
}

impl<const SCALE: u32> fmt::Display for Fixed<SCALE> {
    /// Prints as FIX would: no exponent, no trailing zeros, no dot for whole numbers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_scaled(f, self.0 < 0, u128::from(self.0.unsigned_abs()), SCALE)
    }
}

/// Writes `magnitude / 10^scale` (negative when `negative`) as FIX writes decimals: no
/// exponent, no trailing zeros, no dot for whole numbers. The one decimal printer of every
/// fixed-point type.
pub(crate) fn write_scaled(f: &mut fmt::Formatter<'_>, negative: bool, magnitude: u128, scale: u32) -> fmt::Result {
    let one = 10u128.pow(scale);
    if negative {
        f.write_str("-")?;
    }
    write!(f, "{}", magnitude / one)?;
    let mut frac = magnitude % one;
    if frac != 0 {
        let mut width = scale as usize;
        while frac.is_multiple_of(10) {
            frac /= 10;
            width -= 1;
        }
        write!(f, ".{frac:0width$}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avg_px_rounded_to_fewer_decimals_is_equal_and_anything_else_is_not() {
        let px = |s: &str| Price::parse(s.as_bytes()).unwrap();
        let exact = Price::ZERO;
        assert_eq!(px("1.08450").decimals(), 4);
        assert_eq!(px("2").decimals(), 0);
        assert!(px("1.0845667").equal_as_rounded(px("1.08456667"), exact));
        assert!(px("1.08456667").equal_as_rounded(px("1.0845667"), exact), "either order");
        assert!(!px("1.0845677").equal_as_rounded(px("1.08456667"), exact), "not a rounding of it");
        // Half-even: 0.5 goes to the even neighbour.
        assert!(px("1.0846").equal_as_rounded(px("1.08455"), exact));
        assert!(px("1.0844").equal_as_rounded(px("1.08445"), exact));
        assert!(!px("1.0845").equal_as_rounded(px("1.08445"), exact));
        assert!(px("1.0845").equal_as_rounded(px("1.0845"), exact));
        assert!(px("1.0845").equal_as_rounded(px("1.0846"), px("0.0001")), "within the tolerance");
        assert!(!px("1.0845").equal_as_rounded(px("1.0847"), px("0.0001")));
        assert_eq!(px("-1.00005").round_half_even(4), px("-1"), "negative halves go to the even one too");
    }

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

    /// The word-at-a-time path agrees with the digit loop on every value and error, for values
    /// at every offset of a buffer (near its end the fixed-size load is not possible).
    #[test]
    fn parse_in_agrees_with_parse() {
        let mut texts: Vec<String> = [
            "0",
            "7",
            "00",
            "25000000",
            "100000000",
            "1.2684",
            "1.08586",
            "0.00000001",
            "1.5000",
            "1.50000",
            "1.00001",
            ".5",
            "5.",
            ".",
            "-1",
            "+1",
            "1e5",
            "12345678.1234",
            "1234567890123456",
            "99999999999999.99",
            "922337203685477.5807",
            "922337203685477.5808",
            "92233720368.54775807",
            "92233720368.54775808",
            "123456789012345.6",
            "1..2",
            "1.2.3",
            "",
            " 1",
            "1 ",
            "9999999999999999",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut seed = 7u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let n = (seed % 17) as usize;
            let t: String =
                (0..n).map(|i| b"0123456789012345.9x"[((seed >> (i * 3 + 8)) % 19) as usize] as char).collect();
            texts.push(t);
        }
        for t in &texts {
            for pad in [0, 3, 16] {
                let mut buf = b"44=".to_vec();
                buf.extend_from_slice(t.as_bytes());
                buf.extend(std::iter::repeat_n(b'\x01', pad));
                assert_eq!(Qty::parse_in(&buf, 3, t.len()), q(t), "qty {t:?} pad {pad}");
                assert_eq!(Price::parse_in(&buf, 3, t.len()), p(t), "price {t:?} pad {pad}");
            }
        }
    }

    #[test]
    fn exact_comparison_not_float() {
        assert_eq!(p("0.1").unwrap().plus(p("0.2").unwrap()), p("0.3").unwrap());
    }
}
