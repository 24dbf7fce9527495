//! One retired order's compact record (contract 2.2, docs/decisions.md D59): what the store
//! writes when an order leaves the live store, and puts back when a late report reopens it.
//!
//! Owns: the record's byte layout and its two directions: [`OrderStore::encode_retired`] (an
//! order into a record) and [`OrderStore::reopen`] (a record back into a live order), plus the
//! reads the retired memory needs without decoding everything (its identifiers, whether it
//! holds an ExecID). The rule: **what can still be reported is kept exactly, the rest is kept
//! only as far as it decides anything.** Identifiers, the views, the open divergence ids and
//! every unmatched fill (its ExecID may still be printed, its time may still be a lag) are
//! exact; a matched fill keeps its LastQty/LastPx (a later correct compares them) and its
//! pairing; every other ExecID is a 64-bit hash (it only ever answers "seen before?"), and the
//! time of a status both streams already reported is not kept (it can never be used again).
//!
//! Layout (varints are LEB128, signed ones zigzagged; `short` is a length byte and the bytes):
//! ```text
//! n_cl, n_oid                      varints
//! n_cl  x (depth varint, short)    ClOrdIDs: the inline ones, then the pool's
//! n_oid x (depth varint, short)    OrderIDs: the first, then the pool's
//! flags                            varint (F_*)
//! retired_at - last_activity       signed
//! [key short]                      unless F_KEY_IS_CL0
//! symbol short, venue short
//! [differ_since - last_activity]   signed, if F_DIFFER
//! [open phantom / quantity / state ids]   varints, if F_OPEN_*
//! 2 x (vflags u8, status u8, known, chain_depth, status mask)   views, primary first
//! first-report times of the statuses one view has and the other has not (signed, from
//! last_activity), primary's then drop copy's; then 5 signed numbers per view (OrderQty,
//! CumQty, LeavesQty, AvgPx, Price), the drop copy's left out when V_SAME_NUMBERS
//! 2 x (count varint, count x exec)  execution records, primary first
//! exec: eflags u8; the ExecID (short when E_EXACT, else its 8-byte hash); the partner's
//! position in the primary list (drop copy, E_MATCHED); LastQty, LastPx (signed; fills not
//! busted-and-matched, unless E_SAME_AS_PARTNER); and when E_EXACT: CumQty after, arrival
//! (from last_activity), [MissingFill id if E_MISSING].
//! ```
//! Never allocates: records are written into the retired memory's reserved bytes, read in
//! place, and every read is checked (a damaged record is refused, never a panic).

use super::alias_pool::{bytes_hash, id_hash};
use super::exec_record::{ExecIdx, ExecKind, ExecRecord, NONE};
use super::order_record::{OrderIdx, Standing};
use crate::decimal::{Fixed, Price, Qty};
use crate::event::{OrdStatus, Stream};
use crate::order::view::OrderView;
use crate::text::{Id, Name};
use crate::time::Micros;

/// Which identity table an identifier belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum IdKind {
    /// A ClOrdID (11, or 41 of a later link).
    ClOrdId,
    /// An OrderID (37).
    OrderId,
}

/// The hash an identifier is indexed under in the retired memory (ClOrdIDs and OrderIDs share
/// one table: the same text as the other kind hashes elsewhere, and a lookup confirms both).
#[inline]
pub(super) fn key_hash(kind: IdKind, id: &[u8]) -> u64 {
    let h = bytes_hash(id);
    match kind {
        IdKind::ClOrdId => h,
        IdKind::OrderId => h ^ 0x9e37_79b9_7f4a_7c15,
    }
}

/// The 64-bit hash a retired record keeps of an ExecID (collisions: docs/decisions.md D59).
#[inline]
pub(super) fn exec_hash(exec_id: &Id) -> u64 {
    id_hash(exec_id)
}

/// First byte of the ExecID of an execution record put back from a hash: SOH, which no FIX
/// value holds (it is the field delimiter), then the 8 bytes of the hash.
const HASHED: u8 = 0x01;

/// The stand-in ExecID of a record put back from the hash of its ExecID.
#[inline]
pub(super) fn hashed_exec_id(hash: u64) -> Id {
    let mut b = [0u8; 9];
    b[0] = HASHED;
    b[1..].copy_from_slice(&hash.to_le_bytes());
    Id::from_bytes(&b).unwrap_or_default()
}

/// The hash a stand-in ExecID holds, if it is one.
#[inline]
fn hash_of_hashed(id: &Id) -> Option<u64> {
    let b = id.as_bytes();
    (b.len() == 9 && b[0] == HASHED).then(|| u64::from_le_bytes(b[1..9].try_into().unwrap_or_default()))
}

// Record flags.
const F_KEY_IS_CL0: u64 = 1;
const F_STANDING_SHIFT: u32 = 1; // two bits
const F_DIFFER: u64 = 1 << 3;
const F_OPEN_PHANTOM: u64 = 1 << 4;
const F_OPEN_QUANTITY: u64 = 1 << 5;
const F_OPEN_STATE: u64 = 1 << 6;
// View flags.
const V_SEEN: u8 = 1;
const V_ONLY_REJECTED: u8 = 2;
const V_SAME_NUMBERS: u8 = 4;
// Execution-record flags (the kind is the low two bits).
const E_BUSTED: u8 = 1 << 2;
const E_MATCHED: u8 = 1 << 3;
const E_EXACT: u8 = 1 << 4;
const E_DEFERRED: u8 = 1 << 5;
const E_MISSING: u8 = 1 << 6;
const E_SAME_AS_PARTNER: u8 = 1 << 7;

/// Where encoded bytes go: counted first (the record's size), then written in place.
pub(super) trait Out {
    /// Appends `b`.
    fn put(&mut self, b: &[u8]);

    /// Appends one byte.
    #[inline]
    fn put_byte(&mut self, b: u8) {
        self.put(&[b]);
    }
}

/// Counts the bytes of a record.
pub(super) struct Measure(pub(super) usize);

impl Out for Measure {
    #[inline]
    fn put(&mut self, b: &[u8]) {
        self.0 += b.len();
    }
}

/// Writes a record into the bytes reserved for it (exactly as many as [`Measure`] counted, or
/// at most as many as it is given, counting what did not fit).
pub(super) struct Fill<'a> {
    buf: &'a mut [u8],
    at: usize,
    /// Bytes the record took, written or not.
    wanted: usize,
}

impl<'a> Fill<'a> {
    pub(super) fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, at: 0, wanted: 0 }
    }

    /// Bytes the record took: more than were given when it did not fit.
    pub(super) fn wanted(&self) -> usize {
        self.wanted
    }
}

impl Out for Fill<'_> {
    #[inline]
    fn put(&mut self, b: &[u8]) {
        self.wanted += b.len();
        let end = (self.at + b.len()).min(self.buf.len());
        let n = end - self.at;
        self.buf[self.at..end].copy_from_slice(&b[..n]);
        self.at = end;
    }

    /// One byte stored in place (no copy call: most of a record is one-byte fields).
    #[inline]
    fn put_byte(&mut self, b: u8) {
        self.wanted += 1;
        if let Some(d) = self.buf.get_mut(self.at) {
            *d = b;
            self.at += 1;
        }
    }
}

/// Compares a record being encoded with bytes already written (a debug build's proof that a
/// staged record is still true).
#[cfg(debug_assertions)]
pub(super) struct Compare<'a> {
    pub(super) want: &'a [u8],
    pub(super) at: usize,
    /// False once a byte differed or ran past `want`.
    pub(super) same: bool,
}

#[cfg(debug_assertions)]
impl Out for Compare<'_> {
    fn put(&mut self, b: &[u8]) {
        let end = self.at + b.len();
        self.same &= self.want.get(self.at..end) == Some(b);
        self.at = end;
    }
}

#[inline]
fn put_u8(o: &mut impl Out, b: u8) {
    o.put_byte(b);
}

#[inline]
fn put_varint(o: &mut impl Out, mut v: u64) {
    while v >= 0x80 {
        o.put_byte(v as u8 | 0x80);
        v >>= 7;
    }
    o.put_byte(v as u8);
}

#[inline]
fn put_signed(o: &mut impl Out, v: i64) {
    put_varint(o, ((v << 1) ^ (v >> 63)) as u64);
}

#[inline]
fn put_short(o: &mut impl Out, b: &[u8]) {
    put_u8(o, b.len() as u8);
    o.put(b);
}

/// A checked reader over one record.
#[derive(Clone, Copy)]
pub(super) struct In<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> In<'a> {
    pub(super) fn new(b: &'a [u8]) -> Self {
        Self { b, at: 0 }
    }

    #[inline]
    fn u8(&mut self) -> Option<u8> {
        let v = *self.b.get(self.at)?;
        self.at += 1;
        Some(v)
    }

    #[inline]
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    #[inline]
    fn signed(&mut self) -> Option<i64> {
        let v = self.varint()?;
        Some((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    #[inline]
    fn u16(&mut self) -> Option<u16> {
        u16::try_from(self.varint()?).ok()
    }

    #[inline]
    fn short(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()? as usize;
        if n > Id::CAPACITY {
            return None;
        }
        let s = self.b.get(self.at..self.at + n)?;
        self.at += n;
        Some(s)
    }

    #[inline]
    fn fixed8(&mut self) -> Option<u64> {
        let s = self.b.get(self.at..self.at + 8)?;
        self.at += 8;
        Some(u64::from_le_bytes(s.try_into().ok()?))
    }

    fn done(&self) -> bool {
        self.at == self.b.len()
    }
}

/// The identifiers of a record, in order: (kind, chain depth, bytes). Stops at the first
/// malformed one (a record that passed [`check`] has none).
pub(super) fn ids(rec: &[u8]) -> impl Iterator<Item = (IdKind, u16, &[u8])> + '_ {
    let mut r = In::new(rec);
    let counts = r.varint().zip(r.varint());
    let (n_cl, n_oid) = counts.unwrap_or((0, 0));
    let mut k = 0u64;
    core::iter::from_fn(move || {
        if k >= n_cl.saturating_add(n_oid) {
            return None;
        }
        let kind = if k < n_cl { IdKind::ClOrdId } else { IdKind::OrderId };
        k += 1;
        let depth = r.u16()?;
        let id = r.short()?;
        Some((kind, depth, id))
    })
}

/// True when the record holds identifier `id` of `kind`.
#[inline]
pub(super) fn has_id(rec: &[u8], kind: IdKind, id: &[u8]) -> bool {
    ids(rec).any(|(k, _, b)| k == kind && b == id)
}

/// Everything before the execution records, decoded.
struct Header {
    key: Id,
    symbol: Name,
    venue: Name,
    standing: Standing,
    last_activity: Micros,
    differ_since: Option<Micros>,
    open: [u64; 3],
    views: [OrderView; 2],
    /// Offset of the execution records.
    execs_at: usize,
}

fn name(b: &[u8]) -> Option<Name> {
    Name::from_bytes(b).ok()
}

fn id(b: &[u8]) -> Option<Id> {
    Id::from_bytes(b).ok()
}

impl Header {
    fn parse(rec: &[u8], retired_at: Micros) -> Option<Header> {
        let mut r = In::new(rec);
        let (n_cl, n_oid) = (r.varint()?, r.varint()?);
        let mut first_cl = None;
        for k in 0..n_cl.checked_add(n_oid)? {
            r.u16()?;
            let b = r.short()?;
            if k == 0 && n_cl > 0 {
                first_cl = Some(id(b)?);
            }
        }
        let flags = r.varint()?;
        let last_activity = Micros(retired_at.0.wrapping_sub(r.signed()?));
        let key = if flags & F_KEY_IS_CL0 != 0 { first_cl? } else { id(r.short()?)? };
        let symbol = name(r.short()?)?;
        let venue = name(r.short()?)?;
        let standing = *Standing::ALL.get((flags >> F_STANDING_SHIFT) as usize & 3)?;
        let at = |d: i64| Micros(last_activity.0.wrapping_add(d));
        let differ_since = if flags & F_DIFFER != 0 { Some(at(r.signed()?)) } else { None };
        let mut open = [0u64; 3];
        for (k, bit) in [F_OPEN_PHANTOM, F_OPEN_QUANTITY, F_OPEN_STATE].into_iter().enumerate() {
            if flags & bit != 0 {
                open[k] = r.varint()?;
            }
        }
        let mut views = [OrderView::default(); 2];
        let (mut vflags, mut masks) = ([0u8; 2], [0u16; 2]);
        for (k, v) in views.iter_mut().enumerate() {
            vflags[k] = r.u8()?;
            v.seen = vflags[k] & V_SEEN != 0;
            v.only_rejected = vflags[k] & V_ONLY_REJECTED != 0;
            v.status = *OrdStatus::ALL.get(r.u8()? as usize)?;
            v.known = r.u16()?;
            v.chain_depth = r.u16()?;
            masks[k] = r.u16()?;
            if masks[k] >> OrdStatus::COUNT != 0 {
                return None;
            }
        }
        for k in 0..2 {
            for s in OrdStatus::ALL {
                let bit = 1u16 << s.index();
                if masks[k] & bit == 0 {
                    continue;
                }
                // A status both streams reported keeps no time: it never decides anything again.
                let t = if masks[1 - k] & bit == 0 { at(r.signed()?) } else { last_activity };
                views[k].set_status_first(s, t);
            }
        }
        for k in 0..2 {
            if k == 1 && vflags[1] & V_SAME_NUMBERS != 0 {
                let p = views[0];
                let d = &mut views[1];
                (d.order_qty, d.cum_qty, d.leaves_qty, d.avg_px, d.price) =
                    (p.order_qty, p.cum_qty, p.leaves_qty, p.avg_px, p.price);
                continue;
            }
            let v = &mut views[k];
            v.order_qty = Fixed(r.signed()?);
            v.cum_qty = Fixed(r.signed()?);
            v.leaves_qty = Fixed(r.signed()?);
            v.avg_px = Fixed(r.signed()?);
            v.price = Fixed(r.signed()?);
        }
        Some(Header { key, symbol, venue, standing, last_activity, differ_since, open, views, execs_at: r.at })
    }
}

/// A record's ExecID: exact, or the hash of it.
#[derive(Clone, Copy)]
enum ExecKey {
    Exact(Id),
    Hash(u64),
}

/// One execution record of a retired order, decoded.
#[derive(Clone, Copy)]
struct ExecEntry {
    kind: ExecKind,
    exec: ExecKey,
    busted: bool,
    matched: bool,
    deferred: bool,
    /// The partner's position in the primary list (drop copy entries that are matched).
    partner: u64,
    /// None when not kept (a busted matched fill, a record that is no fill, or the same as
    /// the partner's).
    last: Option<(Qty, Price)>,
    same_as_partner: bool,
    cum_after: Qty,
    /// Arrival, from last_activity (exact entries).
    arrival: i64,
    missing_id: u64,
}

impl ExecEntry {
    fn parse(r: &mut In<'_>, dropcopy: bool) -> Option<ExecEntry> {
        let f = r.u8()?;
        let kind = *ExecKind::ALL.get((f & 3) as usize)?;
        let exact = f & E_EXACT != 0;
        let exec = if exact { ExecKey::Exact(id(r.short()?)?) } else { ExecKey::Hash(r.fixed8()?) };
        let matched = f & E_MATCHED != 0;
        let partner = if matched && dropcopy { r.varint()? } else { 0 };
        let busted = f & E_BUSTED != 0;
        let same_as_partner = f & E_SAME_AS_PARTNER != 0;
        let keeps_last = kind == ExecKind::Fill && !(busted && matched) && !same_as_partner;
        let last = if keeps_last { Some((Fixed(r.signed()?), Fixed(r.signed()?))) } else { None };
        let (mut cum_after, mut arrival, mut missing_id) = (Qty::ZERO, 0, 0);
        if exact {
            cum_after = Fixed(r.signed()?);
            arrival = r.signed()?;
            if f & E_MISSING != 0 {
                missing_id = r.varint()?;
            }
        }
        Some(ExecEntry {
            kind,
            exec,
            busted,
            matched,
            deferred: f & E_DEFERRED != 0,
            partner,
            last,
            same_as_partner,
            cum_after,
            arrival,
            missing_id,
        })
    }

    fn is(&self, exec_id: &Id, hash: &mut Option<u64>) -> bool {
        match self.exec {
            ExecKey::Exact(x) => x == *exec_id,
            ExecKey::Hash(h) => h == *hash.get_or_insert_with(|| exec_hash(exec_id)),
        }
    }
}

/// True when the record holds ExecID `exec_id` on `stream` (a resend of a report the order
/// had applied before it retired). A malformed record holds nothing.
pub(super) fn knows_exec(rec: &[u8], retired_at: Micros, stream: Stream, exec_id: &Id) -> bool {
    let Some(h) = Header::parse(rec, retired_at) else { return false };
    let mut r = In::new(rec);
    r.at = h.execs_at;
    let mut hash = None;
    for s in Stream::BOTH {
        let Some(n) = r.varint() else { return false };
        for _ in 0..n {
            let Some(e) = ExecEntry::parse(&mut r, s == Stream::DropCopy) else { return false };
            if s == stream && e.is(exec_id, &mut hash) {
                return true;
            }
        }
        if s == stream {
            return false;
        }
    }
    false
}

/// True when the record is well formed: every part decodes and nothing follows it (a loaded
/// snapshot's records are checked, so reading one later never fails half-way).
pub(super) fn check(rec: &[u8], retired_at: Micros) -> bool {
    let Some(h) = Header::parse(rec, retired_at) else { return false };
    if ids(rec).count() as u64 != count_ids(rec) {
        return false;
    }
    let mut r = In::new(rec);
    r.at = h.execs_at;
    for s in Stream::BOTH {
        let Some(n) = r.varint() else { return false };
        for _ in 0..n {
            if ExecEntry::parse(&mut r, s == Stream::DropCopy).is_none() {
                return false;
            }
        }
    }
    r.done()
}

fn count_ids(rec: &[u8]) -> u64 {
    let mut r = In::new(rec);
    r.varint().zip(r.varint()).map_or(0, |(a, b)| a.saturating_add(b))
}

// The store's side: an order into a record and back.
mod conversion;
