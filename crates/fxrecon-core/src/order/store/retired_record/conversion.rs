//! The two directions between a live order and its retired record: [`OrderStore::encode_retired`]
//! writes one (the layout is the parent module's), [`OrderStore::reopen`] puts one back.
//!
//! Owns: remembering an order as it leaves the store, telling a resend of a retired order from
//! news, and reopening it with its identifiers, views, open divergences and execution records.
//! Never allocates: records are written into the retired memory's reserved bytes.

// The parent is the layout this half writes and reads: its flags, readers and writers, and the
// types it names.
use super::*;
use crate::order::store::order_record::Staged;
use crate::order::store::order_store::{CapacityExhausted, OrderStore};
use crate::order::store::retired_memory::{RetiredOrder, RetiredRef};

impl OrderStore {
    /// Writes the compact record of order `idx`, retired at `retired_at`, to `o` (the module
    /// header has the layout).
    pub(in crate::order::store) fn encode_retired(&self, idx: OrderIdx, retired_at: Micros, o: &mut impl Out) {
        let ord = &self.orders[idx as usize];
        let pool_ids = |want_order_id: bool| {
            self.pool_chain(idx).map(|e| &self.aliases.entries[e as usize]).filter(move |a| a.order_id == want_order_id)
        };
        let n_cl = ord.n_ids as usize + pool_ids(false).count();
        let n_oid = usize::from(!ord.order_id.is_empty()) + pool_ids(true).count();
        put_varint(o, n_cl as u64);
        put_varint(o, n_oid as u64);
        for k in 0..ord.n_ids as usize {
            put_varint(o, u64::from(ord.id_depth[k]));
            put_short(o, ord.ids[k].as_bytes());
        }
        for a in pool_ids(false) {
            put_varint(o, u64::from(a.depth));
            put_short(o, a.id.as_bytes());
        }
        if !ord.order_id.is_empty() {
            put_varint(o, u64::from(ord.order_id_depth));
            put_short(o, ord.order_id.as_bytes());
        }
        for a in pool_ids(true) {
            put_varint(o, u64::from(a.depth));
            put_short(o, a.id.as_bytes());
        }
        let base = ord.last_activity;
        let mut flags = (Standing::ALL.iter().position(|s| *s == ord.standing).unwrap_or(0) as u64) << F_STANDING_SHIFT;
        if ord.n_ids > 0 && ord.ids[0] == ord.key {
            flags |= F_KEY_IS_CL0;
        }
        if ord.differ_since.is_some() {
            flags |= F_DIFFER;
        }
        for (bit, v) in
            [(F_OPEN_PHANTOM, ord.open_phantom), (F_OPEN_QUANTITY, ord.open_quantity), (F_OPEN_STATE, ord.open_state)]
        {
            if v != 0 {
                flags |= bit;
            }
        }
        put_varint(o, flags);
        put_signed(o, retired_at.0.wrapping_sub(base.0));
        if flags & F_KEY_IS_CL0 == 0 {
            put_short(o, ord.key.as_bytes());
        }
        put_short(o, ord.symbol.as_bytes());
        put_short(o, ord.venue.as_bytes());
        if let Some(t) = ord.differ_since {
            put_signed(o, t.0.wrapping_sub(base.0));
        }
        for v in [ord.open_phantom, ord.open_quantity, ord.open_state] {
            if v != 0 {
                put_varint(o, v);
            }
        }
        let [p, d] = &ord.views;
        let numbers = |v: &OrderView| (v.order_qty, v.cum_qty, v.leaves_qty, v.avg_px, v.price);
        let same = numbers(p) == numbers(d);
        let masks = [p.status_mask(), d.status_mask()];
        for (k, v) in ord.views.iter().enumerate() {
            let mut f = if v.seen { V_SEEN } else { 0 } | if v.only_rejected { V_ONLY_REJECTED } else { 0 };
            if k == 1 && same {
                f |= V_SAME_NUMBERS;
            }
            put_u8(o, f);
            put_u8(o, v.status.index() as u8);
            put_varint(o, u64::from(v.known));
            put_varint(o, u64::from(v.chain_depth));
            put_varint(o, u64::from(masks[k]));
        }
        for (k, v) in ord.views.iter().enumerate() {
            for s in OrdStatus::ALL {
                let bit = 1u16 << s.index();
                if masks[k] & bit != 0 && masks[1 - k] & bit == 0 {
                    let t = v.status_first_seen(s).unwrap_or(base);
                    put_signed(o, t.0.wrapping_sub(base.0));
                }
            }
        }
        for (k, v) in ord.views.iter().enumerate() {
            if k == 1 && same {
                continue;
            }
            put_signed(o, v.order_qty.0);
            put_signed(o, v.cum_qty.0);
            put_signed(o, v.leaves_qty.0);
            put_signed(o, v.avg_px.0);
            put_signed(o, v.price.0);
        }
        // Partners of the drop copy's matched fills, by position in the primary list: found
        // from where the last one was (pairs mostly come in the same order on both streams).
        let mut cursor: (ExecIdx, u64) = (ord.execs[0], 0);
        for s in Stream::BOTH {
            put_varint(o, self.execs_of(idx, s).count() as u64);
            for i in self.execs_of(idx, s) {
                let rec = &self.execs[i as usize];
                let matched = rec.matched != NONE;
                let fill = rec.kind == ExecKind::Fill;
                let exact = fill && !matched;
                let partner =
                    (s == Stream::DropCopy && matched).then(|| self.matched_position(idx, rec.matched, &mut cursor));
                // A matched pair keeps LastQty/LastPx unless busted; the drop copy's only when
                // they differ from the primary's.
                let same_as_partner = s == Stream::DropCopy && matched && fill && {
                    let m = &self.execs[rec.matched as usize];
                    !m.busted && !rec.busted && m.last_qty == rec.last_qty && m.last_px == rec.last_px
                };
                let mut f = ExecKind::ALL.iter().position(|k| *k == rec.kind).unwrap_or(0) as u8;
                for (bit, on) in [
                    (E_BUSTED, rec.busted),
                    (E_MATCHED, matched),
                    (E_EXACT, exact),
                    (E_DEFERRED, exact && rec.deferred),
                    (E_MISSING, exact && rec.missing_id != 0),
                    (E_SAME_AS_PARTNER, same_as_partner),
                ] {
                    if on {
                        f |= bit;
                    }
                }
                put_u8(o, f);
                if exact {
                    put_short(o, rec.exec_id.as_bytes());
                } else {
                    let h = hash_of_hashed(&rec.exec_id).unwrap_or_else(|| exec_hash(&rec.exec_id));
                    o.put(&h.to_le_bytes());
                }
                if let Some(k) = partner {
                    put_varint(o, k);
                }
                if fill && !(rec.busted && matched) && !same_as_partner {
                    put_signed(o, rec.last_qty.0);
                    put_signed(o, rec.last_px.0);
                }
                if exact {
                    put_signed(o, rec.cum_after.0);
                    put_signed(o, rec.arrival.0.wrapping_sub(base.0));
                    if rec.missing_id != 0 {
                        put_varint(o, rec.missing_id);
                    }
                }
            }
        }
    }

    /// The position of record `target` in order `idx`'s primary list, searched from `cursor`
    /// (the record after the last one found, and its position) round to it.
    fn matched_position(&self, idx: OrderIdx, target: ExecIdx, cursor: &mut (ExecIdx, u64)) -> u64 {
        let head = self.orders[idx as usize].execs[0];
        let (mut at, mut pos) = *cursor;
        for _ in 0..2 {
            while at != NONE {
                let next = self.execs[at as usize].next;
                if at == target {
                    *cursor = (next, pos + 1);
                    return pos;
                }
                (at, pos) = (next, pos + 1);
            }
            (at, pos) = (head, 0);
        }
        u64::MAX // not on the list: cannot happen (a pair is always of the order's own records)
    }

    /// Writes the retired record of order `idx`, which has just finished, ahead into the
    /// staging ring, as retired a retention after its last activity (D110): its records are in
    /// cache now, not when it retires. Any later change to the order drops it
    /// ([`Order::unstage`]); [`Self::remember`] then encodes it again.
    pub(in crate::order::store) fn stage_retired(&mut self, idx: OrderIdx) {
        let o = &self.orders[idx as usize];
        if !self.staging.is_on() || !o.sighted() {
            return;
        }
        let at = Micros(o.last_activity.0.saturating_add(self.retention_us));
        let mut staging = core::mem::take(&mut self.staging);
        let staged = staging.stage(at, |buf| {
            let mut out = Fill::new(buf);
            self.encode_retired(idx, at, &mut out);
            out.wanted()
        });
        self.staging = staging;
        if let Some((start, len)) = staged {
            self.orders[idx as usize].staged = Staged { at: start, len };
        }
    }

    /// Remembers order `idx`, which is leaving the store (retired, evicted or swept), in the
    /// retired memory as retired at `at`. An order never reported is not kept. A record staged
    /// when it finished, for this retirement time and unchanged since, is copied as it is.
    pub(in crate::order::store) fn remember(&mut self, idx: OrderIdx, at: Micros) {
        if !self.retired.is_on() || !self.orders[idx as usize].sighted() {
            return;
        }
        let staged = self.orders[idx as usize].staged;
        if staged.len > 0
            && let Some((rec, staged_at)) = self.staging.get(staged.at, staged.len)
            && staged_at == at
        {
            #[cfg(debug_assertions)]
            self.assert_staged_true(idx, at, rec);
            let len = rec.len();
            let Some(start) = self.retired.reserve(len) else { return };
            self.retired.put_record(start, rec);
            self.retired.commit(at, start, len);
            #[cfg(test)]
            {
                self.staged_hits += 1;
            }
            return;
        }
        let mut size = Measure(0);
        self.encode_retired(idx, at, &mut size);
        let len = size.0;
        let Some(start) = self.retired.reserve(len) else { return };
        let mut bytes = self.retired.take_bytes();
        self.encode_retired(idx, at, &mut Fill::new(&mut bytes[start..start + len]));
        self.retired.put_bytes(bytes);
        self.retired.commit(at, start, len);
    }

    /// Proves a staged record still true: the order encoded now gives the same bytes.
    #[cfg(debug_assertions)]
    fn assert_staged_true(&self, idx: OrderIdx, at: Micros, rec: &[u8]) {
        let mut size = Measure(0);
        self.encode_retired(idx, at, &mut size);
        let mut same = Compare { want: rec, at: 0, same: size.0 == rec.len() };
        self.encode_retired(idx, at, &mut same);
        assert!(same.same, "order {idx} changed after its retired record was staged, and nothing unstaged it");
    }

    /// The retired order any of whose ClOrdIDs or whose OrderID is `id`, decoded from its
    /// record without changing anything (a damaged record: None).
    pub fn retired_order(&self, id: &Id) -> Option<RetiredOrder> {
        let r = self
            .retired
            .find(IdKind::ClOrdId, id)
            .or_else(|| (id.as_bytes() != b"NONE").then(|| self.retired.find(IdKind::OrderId, id)).flatten())?;
        let (rec, retired_at) = self.retired.record(r);
        if !check(rec, retired_at) {
            return None;
        }
        let h = Header::parse(rec, retired_at)?;
        Some(RetiredOrder {
            key: h.key,
            symbol: h.symbol,
            venue: h.venue,
            views: h.views,
            differ_since: h.differ_since,
            open: h.open,
            last_activity: h.last_activity,
            retired_at,
        })
    }

    /// True when retired record `r` holds ExecID `exec_id` on `stream`.
    pub fn retired_knows_exec(&self, r: RetiredRef, stream: Stream, exec_id: &Id) -> bool {
        let (rec, at) = self.retired.record(r);
        knows_exec(rec, at, stream, exec_id)
    }

    /// Puts retired order `r` back in the live store with its identifiers, final views, open
    /// divergences and execution records (contract 2.2: a late report reopens it), and forgets
    /// its record. A record that does not decode is forgotten (its report then starts a new
    /// order). The store may evict a retiring order to make room; the record itself is kept
    /// safe meanwhile (a full retired memory drops what it would have had to write over it).
    pub fn reopen(&mut self, r: RetiredRef) -> Result<(), CapacityExhausted> {
        let (rec, retired_at) = self.retired.record(r);
        if !check(rec, retired_at) {
            self.retired.remove(r);
            return Ok(());
        }
        let Some(h) = Header::parse(rec, retired_at) else { return Ok(()) };
        self.retired.pin(r);
        let idx = match self.create(h.key, h.standing) {
            Ok(idx) => idx,
            Err(e) => {
                self.retired.unpin();
                return Err(e);
            }
        };
        // Identifiers: each read from the record, then added (the record stays where it is:
        // it is pinned).
        let mut k = 0;
        loop {
            let (rec, _) = self.retired.record(r);
            let Some((kind, depth, b)) = ids(rec).nth(k) else { break };
            k += 1;
            let Ok(id) = Id::from_bytes(b) else { continue };
            match kind {
                IdKind::ClOrdId if self.get_alias(&id).is_none() => self.add_alias(id, idx, depth),
                IdKind::OrderId if self.get_order_id(&id).is_none() => self.add_order_id(id, idx, depth),
                _ => {} // another live order has it now: it keeps it
            }
        }
        let o = &mut self.orders[idx as usize];
        o.symbol = h.symbol;
        o.venue = h.venue;
        o.views = h.views;
        o.differ_since = h.differ_since;
        [o.open_phantom, o.open_quantity, o.open_state] = h.open;
        o.last_activity = h.last_activity;
        o.reopened = true;
        self.restore_execs(r, idx, &h);
        self.retired.unpin();
        self.retired.remove(r);
        self.stats.reopened += 1;
        Ok(())
    }

    /// Puts back the execution records of retired order `r` into live order `idx`: the
    /// primary's, then the drop copy's, each matched drop-copy fill paired again with its
    /// primary partner. A record the pool cannot hold is counted as dropped (and the pairs after
    /// it on that stream are not made: their partners' positions no longer hold).
    fn restore_execs(&mut self, r: RetiredRef, idx: OrderIdx, h: &Header) {
        let mut at = h.execs_at;
        let mut primary_intact = true;
        let mut cursor: (ExecIdx, u64) = (NONE, 0);
        for s in Stream::BOTH {
            let (rec, _) = self.retired.record(r);
            let mut rd = In::new(rec);
            rd.at = at;
            let Some(n) = rd.varint() else { return };
            at = rd.at;
            for _ in 0..n {
                let (rec, _) = self.retired.record(r);
                let mut rd = In::new(rec);
                rd.at = at;
                let Some(e) = ExecEntry::parse(&mut rd, s == Stream::DropCopy) else { return };
                at = rd.at;
                let exec_id = match e.exec {
                    ExecKey::Exact(x) => x,
                    ExecKey::Hash(hash) => hashed_exec_id(hash),
                };
                let partner = if s == Stream::DropCopy && e.matched && primary_intact {
                    self.position_in_primary(idx, e.partner, &mut cursor)
                } else {
                    None
                };
                let (last_qty, last_px) = match (e.last, partner) {
                    (Some(l), _) => l,
                    (None, Some(p)) if e.same_as_partner => {
                        (self.execs[p as usize].last_qty, self.execs[p as usize].last_px)
                    }
                    _ => (Qty::unknown(), Price::unknown()),
                };
                let rec = ExecRecord {
                    stream: s,
                    exec_id,
                    kind: e.kind,
                    cum_after: e.cum_after,
                    last_qty,
                    last_px,
                    arrival: Micros(h.last_activity.0.wrapping_add(e.arrival)),
                    matched: NONE,
                    busted: e.busted,
                    missing_id: e.missing_id,
                    deferred: e.deferred,
                    next: NONE,
                };
                let Some(f) = self.push_exec(idx, s, rec) else {
                    primary_intact &= s != Stream::Primary;
                    continue;
                };
                if let Some(p) = partner {
                    let (a, b) = (&self.execs[f as usize], &self.execs[p as usize]);
                    if a.kind == ExecKind::Fill && b.kind == ExecKind::Fill && a.matched == NONE && b.matched == NONE {
                        self.pair_fills(idx, f, p);
                    }
                }
            }
        }
    }

    /// The record at position `pos` of order `idx`'s primary list, searched from `cursor` as
    /// in [`Self::matched_position`].
    fn position_in_primary(&self, idx: OrderIdx, pos: u64, cursor: &mut (ExecIdx, u64)) -> Option<ExecIdx> {
        let head = self.orders[idx as usize].execs[0];
        let (mut at, mut k) = if cursor.0 == NONE || cursor.1 > pos { (head, 0) } else { *cursor };
        while at != NONE {
            let next = self.execs[at as usize].next;
            if k == pos {
                *cursor = (next, k + 1);
                return Some(at);
            }
            (at, k) = (next, k + 1);
        }
        None
    }
}
