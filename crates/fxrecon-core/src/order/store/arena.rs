//! The order arena's slot lifecycle: a slot taken for a new order, queued for retirement once
//! the order finishes, retired after its retention (or evicted early when the store is full),
//! swept when open but idle too long, and released with its identities and execution records.
//! An order that leaves the store in any of these three ways is remembered in the retired
//! memory first (contract 2.2).
//!
//! Owns: when a slot is taken and given back. Reuses slots through the free list and never
//! grows the arena past its capacity; a released slot's generation changes so stale handles
//! are recognised, and an eviction never frees the order an append is for.

use super::exec_record::NONE;
use super::order_record::{Order, OrderIdx, Standing};
use super::order_store::{CapacityExhausted, OrderStore, WarmCursor};
use crate::event::Stream;
use crate::text::Id;
use crate::time::Micros;

impl OrderStore {
    /// Hints the cache lines of order `idx` that a timer check reads first.
    #[inline]
    pub fn prefetch_order(&self, idx: OrderIdx) {
        if let Some(o) = self.orders.get(idx as usize) {
            crate::memhint::prefetch(&o.generation);
            crate::memhint::prefetch(&o.ids);
            crate::memhint::prefetch(&o.views[0].seen);
            crate::memhint::prefetch(&o.views[1].seen);
        }
    }

    /// Takes a slot for a new order keyed `key` (its identifiers are the caller's to add).
    pub(super) fn create(&mut self, key: Id, standing: Standing) -> Result<OrderIdx, CapacityExhausted> {
        if self.live >= self.capacity.orders || self.aliases.is_full() {
            self.evict_oldest_retiring(None)?;
        }
        let idx = match self.free_orders.pop() {
            Some(i) => {
                let generation = self.orders[i as usize].generation.wrapping_add(1);
                self.orders[i as usize] = Order::new(key, generation);
                i
            }
            None => {
                self.orders.push(Order::new(key, 0));
                (self.orders.len() - 1) as OrderIdx
            }
        };
        self.orders[idx as usize].standing = standing;
        self.live += 1;
        self.stats.high_water = self.stats.high_water.max(self.live as u64);
        Ok(idx)
    }

    /// Releases the oldest order still waiting for retirement, except `keep` (the order an
    /// append is for: freeing it would leave its caller holding a released slot).
    pub(super) fn evict_oldest_retiring(&mut self, keep: Option<OrderIdx>) -> Result<(), CapacityExhausted> {
        let mut kept = None;
        let mut evicted = false;
        while let Some(entry) = self.retiring.pop_front() {
            let (idx, generation, _) = entry;
            let o = &self.orders[idx as usize];
            if o.generation != generation || !o.retiring {
                continue; // stale: the order left the queue or its slot was reused
            }
            if Some(idx) == keep {
                kept = Some(entry);
                continue;
            }
            self.remember(idx, self.clock);
            self.release(idx);
            self.stats.evicted += 1;
            evicted = true;
            break;
        }
        if let Some(entry) = kept {
            self.retiring.push_front(entry); // back where it was: still the oldest
        }
        if evicted {
            return Ok(());
        }
        self.stats.capacity_exhausted += 1;
        Err(CapacityExhausted)
    }

    /// Queues a finished order for retirement (idempotent), and writes its retired record
    /// ahead unless one staged is still true (D110).
    pub fn mark_retiring(&mut self, idx: OrderIdx) {
        let o = &mut self.orders[idx as usize];
        if !o.retiring {
            o.retiring = true;
            self.retiring.push_back((idx, o.generation, o.last_activity));
        }
        if o.staged.len == 0 {
            self.stage_retired(idx);
        }
    }

    /// Retires queued orders that are still finished and idle for `retention_us` at `now`;
    /// returns how many. Orders that became active again leave the queue (and re-enter when
    /// they finish again).
    pub fn retire_idle(&mut self, now: Micros, retention_us: i64) -> usize {
        self.clock = now;
        self.retention_us = retention_us;
        let mut n = 0;
        while let Some(&(idx, generation, queued_at)) = self.retiring.front() {
            let o = &self.orders[idx as usize];
            if o.generation != generation || !o.retiring {
                self.retiring.pop_front();
                continue;
            }
            if !o.is_finished() {
                self.orders[idx as usize].retiring = false;
                self.retiring.pop_front();
                continue;
            }
            if o.last_activity > queued_at {
                // A late report touched it after it finished: it goes to the back, so one
                // busy order cannot hold the queue (the queue stays ordered by activity).
                self.retiring.pop_front();
                self.retiring.push_back((idx, generation, o.last_activity));
                continue;
            }
            if o.last_activity.0.saturating_add(retention_us) > now.0 {
                // Still inside retention, and so is everything queued after it.
                break;
            }
            self.retiring.pop_front();
            // Remembered as of when its retention ran out (not when an event came to notice).
            self.remember(idx, Micros(o.last_activity.0.saturating_add(retention_us)));
            self.release(idx);
            self.stats.retired += 1;
            n += 1;
        }
        self.warm_next_retiring();
        n
    }

    /// Brings one more execution record of the order due to retire next into cache. Its
    /// records were written long before it retires and are scattered over the pool; walking
    /// them one per call (about ten events pass between two retirements on an ordinary day)
    /// means remembering it finds them in cache instead of missing on each (BENCHMARKS.md,
    /// "Retired-order memory"). Only a hint: nothing observable changes.
    fn warm_next_retiring(&mut self) {
        if !self.retired.is_on() {
            return;
        }
        let Some(&(idx, generation, _)) = self.retiring.front() else { return };
        let o = &self.orders[idx as usize]; // in cache: `retire_idle` has just read it
        if self.warm.order != (idx, generation) {
            self.warm = WarmCursor { order: (idx, generation), stream: Stream::Primary, at: o.execs[0] };
            if o.n_ids > 0 {
                self.retired.prefetch(&o.ids[0]);
            }
            if !o.order_id.is_empty() {
                self.retired.prefetch_order_id(&o.order_id);
            }
            if o.staged.len > 0 {
                // Its record is written already: only those bytes are read when it retires.
                self.staging.prefetch(o.staged.at, o.staged.len);
                self.warm.at = NONE;
                self.warm.stream = Stream::DropCopy;
                return;
            }
        } else if self.warm.at != NONE {
            self.warm.at = self.execs.get(self.warm.at as usize).map_or(NONE, |r| r.next);
        }
        if self.warm.at == NONE && self.warm.stream == Stream::Primary {
            self.warm.stream = Stream::DropCopy;
            self.warm.at = o.execs[1];
        }
        if self.warm.at != NONE {
            self.prefetch_exec(self.warm.at);
        }
    }

    /// Looks at the next `slots` order slots (a clock hand going round the arena) and retires
    /// those still open but idle for `after_us` at `now`: orders one stream never finished
    /// (a cancel confirmed on one side only …), whose divergence has long been reported, so an
    /// endless run does not fill up with them. Finished orders are left to [`Self::retire_idle`].
    /// Returns how many it retired.
    pub fn sweep_stale(&mut self, now: Micros, after_us: i64, slots: usize) -> usize {
        let mut n = 0;
        for _ in 0..slots.min(self.orders.len()) {
            if self.sweep >= self.orders.len() {
                self.sweep = 0;
            }
            let idx = self.sweep as OrderIdx;
            self.sweep += 1;
            let o = &self.orders[idx as usize];
            if o.live && !o.retiring && o.last_activity.0.saturating_add(after_us) <= now.0 {
                self.remember(idx, Micros(o.last_activity.0.saturating_add(after_us)));
                self.release(idx);
                self.stats.stale_retired += 1;
                n += 1;
            }
        }
        n
    }

    /// Frees an order's slot, identifiers and execution records.
    pub(super) fn release(&mut self, idx: OrderIdx) {
        self.remove_ids(idx);
        // Each list goes onto the free list whole: its tail links to the old head (one
        // record touched per list, where walking it missed the cache once per record).
        let (heads, tails) = (self.orders[idx as usize].execs, self.orders[idx as usize].execs_tail);
        for s in Stream::BOTH {
            let (head, tail) = (heads[s.index()], tails[s.index()]);
            if head != NONE {
                self.execs[tail as usize].next = self.free_execs;
                self.free_execs = head;
            }
        }
        self.prefetch_free_link();
        let slot = &mut self.orders[idx as usize];
        slot.retiring = false;
        slot.live = false;
        slot.generation = slot.generation.wrapping_add(1);
        slot.n_ids = 0;
        slot.aliases = NONE;
        slot.order_id = Id::new();
        slot.execs = [NONE; 2];
        slot.execs_tail = [NONE; 2];
        self.free_orders.push(idx);
        self.live -= 1;
    }
}
