//! Position breaks (contract 6, `GET /v1/positions`): per account × symbol, the net base
//! quantity and counter notional of the live (not busted) fills as each stream sees them.
//!
//! Owns: the fixed-capacity position table (sized at construction, never grown: a fill of a
//! new account × symbol when the table is full is counted in [`PositionStats::full`] and left
//! out, never silently), the signed exact arithmetic of a fill's contribution (base quantity ×
//! price in 128-bit integers, no rounding), and the table's snapshot and digest form. Never
//! allocates after construction, never decides which fills are live: the engine adds a fill
//! when it applies it and takes it back (or changes it) when a bust or a correction applies.

use core::fmt;

use crate::decimal::{Price, Qty};
use crate::event::Stream;
use crate::snapshot::{SnapReader, SnapWriter, SnapshotError};
use crate::text::Name;

/// Positions held by default (accounts × symbols of a firm's day).
pub const DEFAULT_MAX_POSITIONS: usize = 65_536;

/// An exact signed decimal with `SCALE` fractional digits in a 128-bit integer (sums of
/// quantities and of quantity × price never overflow or round).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Wide<const SCALE: u32>(pub i128);

/// Net base quantity: [`Qty`]'s 4 decimals.
pub type BaseQty = Wide<4>;
/// Counter-currency notional: quantity × price, 4 + 8 = 12 decimals.
pub type Notional = Wide<12>;

impl<const SCALE: u32> Wide<SCALE> {
    /// Zero.
    pub const ZERO: Self = Self(0);

    /// `self - o`.
    pub const fn minus(self, o: Self) -> Self {
        Self(self.0 - o.0)
    }

    /// The magnitude.
    pub const fn abs(self) -> Self {
        Self(self.0.abs())
    }
}

impl<const SCALE: u32> fmt::Display for Wide<SCALE> {
    /// As FIX writes decimals: no exponent, no trailing zeros, no dot for whole numbers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::decimal::write_scaled(f, self.0 < 0, self.0.unsigned_abs(), SCALE)
    }
}

/// One account × symbol: what each stream's live fills add up to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// 1 Account.
    pub account: Name,
    /// 55 Symbol.
    pub symbol: Name,
    /// Net base quantity per stream (bought minus sold).
    pub base: [BaseQty; 2],
    /// Net counter notional per stream (sold minus bought, quantity × LastPx).
    pub counter: [Notional; 2],
    /// Live fills counted per stream.
    pub fills: [u64; 2],
}

impl Position {
    /// Primary minus drop copy, base quantity.
    pub fn base_break(&self) -> BaseQty {
        self.base[0].minus(self.base[1])
    }

    /// Primary minus drop copy, counter notional.
    pub fn counter_break(&self) -> Notional {
        self.counter[0].minus(self.counter[1])
    }

    /// True when the two streams agree on both amounts.
    pub fn is_flat_break(&self) -> bool {
        self.base_break() == BaseQty::ZERO && self.counter_break() == Notional::ZERO
    }
}

/// What the table could not count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PositionStats {
    /// Fills (and adjustments) of a new account × symbol left out: the table was full.
    pub full: u64,
    /// Fills (or corrected fills) without a Side of buy (1) or sell (2, 5, 6): not counted.
    pub unsided: u64,
    /// Fills (or corrected fills) without LastPx: their quantity counts, their notional cannot.
    pub unpriced: u64,
}

/// A fill's attributes the table needs: whose, what, which way.
#[derive(Clone, Copy, Debug)]
pub struct FillKey<'a> {
    /// 1 Account.
    pub account: &'a Name,
    /// 55 Symbol.
    pub symbol: &'a Name,
    /// 54 Side (raw byte).
    pub side: u8,
}

/// A free index slot. Slots hold an entry's index plus one, so a fresh index is all zero
/// bytes: allocated zeroed (the OS maps those pages on first touch), never written whole (D131).
const EMPTY: u32 = 0;

/// The position table: entries in first-seen order, an open-addressed index over them.
#[derive(Debug)]
pub struct Positions {
    entries: Vec<Position>,
    slots: Vec<u32>,
    capacity: usize,
    stats: PositionStats,
}

impl Positions {
    /// A table of at most `capacity` account × symbol entries, all memory reserved now (its
    /// pages touched only as entries arrive).
    pub fn with_capacity(capacity: usize) -> Self {
        let slots = (capacity.max(1) * 2).next_power_of_two();
        Self {
            entries: Vec::with_capacity(capacity),
            slots: vec![EMPTY; slots],
            capacity,
            stats: PositionStats::default(),
        }
    }

    /// Every position, in the order first seen.
    pub fn iter(&self) -> impl Iterator<Item = &Position> + '_ {
        self.entries.iter()
    }

    /// Positions held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no fill was counted yet.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The table's capacity (accounts × symbols).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// What was left out so far.
    pub fn stats(&self) -> PositionStats {
        self.stats
    }

    /// The position of `account` × `symbol`, if any fill made it.
    pub fn get(&self, account: &Name, symbol: &Name) -> Option<&Position> {
        let (slot, found) = self.probe(account, symbol);
        found.then(|| &self.entries[self.slots[slot] as usize - 1])
    }

    /// Adds fill `qty` @ `px` of `key` on `stream` (`sign` +1) or takes it back (`sign` -1).
    pub fn add(&mut self, key: FillKey<'_>, stream: Stream, qty: Qty, px: Price, sign: i8) {
        let way: i128 = match key.side {
            b'1' => 1,
            b'2' | b'5' | b'6' => -1,
            _ => {
                self.stats.unsided += u64::from(sign > 0);
                return;
            }
        };
        if qty == Qty::unknown() {
            return;
        }
        let Some(i) = self.entry(key.account, key.symbol) else {
            self.stats.full += 1;
            return;
        };
        let sign = i128::from(sign);
        let e = &mut self.entries[i];
        let s = stream.index();
        e.base[s].0 += sign * way * i128::from(qty.0);
        if px == Price::unknown() {
            self.stats.unpriced += u64::from(sign > 0);
        } else {
            e.counter[s].0 -= sign * way * i128::from(qty.0) * i128::from(px.0);
        }
        if sign > 0 {
            e.fills[s] += 1;
        } else {
            e.fills[s] = e.fills[s].saturating_sub(1);
        }
    }

    /// Forgets every position (the next trading day starts flat); the memory stays.
    pub fn clear(&mut self) {
        if !self.entries.is_empty() {
            // Only an entry ever fills a slot: an empty table's index is all free already.
            self.slots.fill(EMPTY);
        }
        self.entries.clear();
        self.stats = PositionStats::default();
    }

    fn hash(account: &Name, symbol: &Name) -> usize {
        crate::digest::Digest::default().text(account.as_bytes()).text(symbol.as_bytes()).finish() as usize
    }

    /// The slot holding `account` × `symbol` (true) or the empty slot it would go in (false).
    fn probe(&self, account: &Name, symbol: &Name) -> (usize, bool) {
        let mask = self.slots.len() - 1;
        let mut slot = Self::hash(account, symbol) & mask;
        loop {
            match self.slots[slot] {
                EMPTY => return (slot, false),
                i if self.entries[i as usize - 1].account == *account
                    && self.entries[i as usize - 1].symbol == *symbol =>
                {
                    return (slot, true);
                }
                _ => slot = (slot + 1) & mask,
            }
        }
    }

    /// The entry of `account` × `symbol`, made when there is room.
    fn entry(&mut self, account: &Name, symbol: &Name) -> Option<usize> {
        let (slot, found) = self.probe(account, symbol);
        if found {
            return Some(self.slots[slot] as usize - 1);
        }
        if self.entries.len() >= self.capacity {
            return None;
        }
        self.slots[slot] = self.entries.len() as u32 + 1;
        self.entries.push(Position { account: *account, symbol: *symbol, ..Position::default() });
        Some(self.entries.len() - 1)
    }

    /// Writes the table into a snapshot (entries in first-seen order, then the counts).
    pub fn save(&self, w: &mut SnapWriter<'_>) {
        w.put(&self.entries.len());
        for e in &self.entries {
            w.put(&e.account).put(&e.symbol).put(&e.fills);
            for v in [e.base[0].0, e.base[1].0, e.counter[0].0, e.counter[1].0] {
                w.put(&(v as u128 as u64)).put(&((v as u128 >> 64) as u64));
            }
        }
        w.put(&self.stats.full).put(&self.stats.unsided).put(&self.stats.unpriced);
    }

    /// Reads a table written by [`Positions::save`] into this (empty) one; the index is rebuilt
    /// in the same order, so the table is the one saved.
    pub fn load(&mut self, r: &mut SnapReader<'_>) -> Result<(), SnapshotError> {
        self.clear();
        let n = r.count(self.capacity)?;
        for _ in 0..n {
            let (account, symbol): (Name, Name) = (r.get()?, r.get()?);
            let fills: [u64; 2] = r.get()?;
            let mut v = [0i128; 4];
            for x in &mut v {
                let (lo, hi): (u64, u64) = (r.get()?, r.get()?);
                *x = ((u128::from(hi) << 64) | u128::from(lo)) as i128;
            }
            let (slot, found) = self.probe(&account, &symbol);
            if found {
                return Err(SnapshotError::Invalid("position listed twice"));
            }
            self.slots[slot] = self.entries.len() as u32 + 1;
            self.entries.push(Position {
                account,
                symbol,
                base: [Wide(v[0]), Wide(v[1])],
                counter: [Wide(v[2]), Wide(v[3])],
                fills,
            });
        }
        self.stats = PositionStats { full: r.get()?, unsided: r.get()?, unpriced: r.get()? };
        Ok(())
    }

    /// Feeds the table to a state digest.
    pub fn digest_into(&self, d: &mut crate::digest::Digest) {
        d.u64(self.entries.len() as u64);
        for e in &self.entries {
            d.text(e.account.as_bytes()).text(e.symbol.as_bytes()).u64(e.fills[0]).u64(e.fills[1]);
            for v in [e.base[0].0, e.base[1].0, e.counter[0].0, e.counter[1].0] {
                d.bytes(&v.to_le_bytes());
            }
        }
        d.u64(self.stats.full).u64(self.stats.unsided).u64(self.stats.unpriced);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Name {
        Name::from_bytes(s.as_bytes()).unwrap()
    }

    #[test]
    fn buys_and_sells_net_exactly_and_a_bust_takes_its_fill_back() {
        let (acc, eur, jpy) = (name("ACC-1"), name("EUR/USD"), name("USD/JPY"));
        let mut p = Positions::with_capacity(4);
        let buy = FillKey { account: &acc, symbol: &eur, side: b'1' };
        let sell = FillKey { side: b'2', ..buy };
        let q = |s: &str| Qty::parse(s.as_bytes()).unwrap();
        let px = |s: &str| Price::parse(s.as_bytes()).unwrap();
        p.add(buy, Stream::Primary, q("1000000"), px("1.08451"), 1);
        p.add(sell, Stream::Primary, q("250000"), px("1.08449"), 1);
        p.add(buy, Stream::DropCopy, q("1000000"), px("1.08451"), 1);
        let e = *p.get(&acc, &eur).unwrap();
        assert_eq!(e.base[0].to_string(), "750000");
        assert_eq!(e.counter[0].to_string(), "-813387.5", "-1084510 + 271122.5");
        assert_eq!(e.base_break().to_string(), "-250000");
        assert_eq!(e.counter_break().to_string(), "271122.5");
        p.add(sell, Stream::Primary, q("250000"), px("1.08449"), -1);
        assert!(p.get(&acc, &eur).unwrap().is_flat_break(), "the bust took the sale back");
        assert!(p.get(&acc, &jpy).is_none());
    }

    #[test]
    fn a_full_table_counts_what_it_leaves_out_and_a_snapshot_round_trips() {
        let acc = name("A");
        let syms = [name("S1"), name("S2"), name("S3")];
        let mut p = Positions::with_capacity(2);
        for s in &syms {
            p.add(
                FillKey { account: &acc, symbol: s, side: b'1' },
                Stream::Primary,
                Qty::from_int(1),
                Price::unknown(),
                1,
            );
        }
        p.add(FillKey { account: &acc, symbol: &syms[0], side: 0 }, Stream::Primary, Qty::from_int(1), Price::ZERO, 1);
        assert_eq!(p.len(), 2);
        assert_eq!(p.stats(), PositionStats { full: 1, unsided: 1, unpriced: 2 });
        let mut buf = Vec::new();
        p.save(&mut SnapWriter::new(&mut buf));
        let mut back = Positions::with_capacity(2);
        let mut r = SnapReader::new(&buf);
        back.load(&mut r).unwrap();
        r.finish().unwrap();
        let (mut a, mut b) = (crate::digest::Digest::default(), crate::digest::Digest::default());
        p.digest_into(&mut a);
        back.digest_into(&mut b);
        assert_eq!(a.finish(), b.finish());
        assert_eq!(back.get(&acc, &syms[1]).unwrap().base[0], Wide(10_000));
        let mut small = Positions::with_capacity(1);
        assert!(small.load(&mut SnapReader::new(&buf)).is_err(), "more entries than capacity");
    }
}
