//! A session's waitlist, in plain Rust: who waits, in which order, and where each
//! entry stands. It is part of the session's ledger, so an offer and the places it
//! keeps are decided together and stored in one transaction.
//!
//! Order: every VIP entry before any standard one, then by signup. Positions are
//! answered in O(log n) from a Fenwick tree per tier over the join order, so a
//! long line answers "my position" as fast as a short one.

use chrono::{DateTime, Utc};
use limelight_shared::booking::{WaitlistState, WaitlistTier};
use limelight_shared::ids::UserId;
use std::collections::HashMap;

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiter {
    /// Id (a UUID).
    pub id: String,
    /// Whose.
    pub user: UserId,
    /// Places wanted together.
    pub party: u32,
    /// Tier.
    pub tier: WaitlistTier,
    /// Signup order within the session.
    pub seq: i64,
    /// Waiting or offered (ended entries leave the list).
    pub state: WaitlistState,
    /// The offered hold, while offered.
    pub offer: Option<String>,
    /// When the attendee joined.
    pub joined_at: DateTime<Utc>,
}

/// Counts that can be summed over a prefix and grown at the end, in O(log n).
#[derive(Debug, Clone, Default)]
struct Fenwick {
    /// 1-based; `tree[0]` is unused.
    tree: Vec<i64>,
}

const fn low_bit(i: usize) -> usize {
    i & i.wrapping_neg()
}

impl Fenwick {
    fn len(&self) -> usize {
        self.tree.len().saturating_sub(1)
    }

    /// Sum of the first `i` counts.
    fn prefix(&self, mut i: usize) -> i64 {
        let mut sum = 0;
        while i > 0 {
            sum += self.tree.get(i).copied().unwrap_or(0);
            i -= low_bit(i);
        }
        sum
    }

    /// Append a count; its index (from 0).
    fn push(&mut self, value: i64) -> usize {
        if self.tree.is_empty() {
            self.tree.push(0);
        }
        let i = self.tree.len();
        // The new node covers (i - low_bit(i), i]: the counts before it in that
        // range, plus its own.
        let node = value + self.prefix(i - 1) - self.prefix(i - low_bit(i));
        self.tree.push(node);
        i - 1
    }

    /// Add to the count at `index` (from 0).
    fn add(&mut self, index: usize, value: i64) {
        let mut i = index + 1;
        while i < self.tree.len() {
            self.tree[i] += value;
            i += low_bit(i);
        }
    }
}

/// One tier's line: entry ids in join order, with a 1 in the tree while waiting.
#[derive(Debug, Clone, Default)]
struct Line {
    slots: Vec<Option<String>>,
    waiting: Fenwick,
    /// Slots before this one are all empty.
    head: usize,
}

impl Line {
    fn count(&self) -> u32 {
        u32::try_from(self.waiting.prefix(self.waiting.len())).unwrap_or(0)
    }

    fn vacate(&mut self, slot: usize) {
        if let Some(s) = self.slots.get_mut(slot)
            && s.take().is_some()
        {
            self.waiting.add(slot, -1);
        }
        while self.head < self.slots.len() && self.slots[self.head].is_none() {
            self.head += 1;
        }
    }

    fn ids(&self) -> impl Iterator<Item = &String> {
        self.slots.iter().skip(self.head).flatten()
    }
}

/// The waitlist of one session.
#[derive(Debug, Clone, Default)]
pub struct Waitlist {
    /// VIP, then standard.
    lines: [Line; 2],
    /// Active entries by id, with their slot while waiting.
    entries: HashMap<String, (Waiter, Option<usize>)>,
    by_user: HashMap<UserId, String>,
    by_offer: HashMap<String, String>,
    next_seq: i64,
}

fn line_of(tier: WaitlistTier) -> usize {
    match tier {
        WaitlistTier::Vip => 0,
        WaitlistTier::Standard => 1,
    }
}

impl Waitlist {
    /// The sequence number the next signup gets.
    pub fn next_seq(&self) -> i64 {
        self.next_seq
    }

    /// Number signups from `seq` on (entries that ended still hold theirs).
    pub fn continue_from(&mut self, seq: i64) {
        self.next_seq = self.next_seq.max(seq);
    }

    /// Take up an entry: a new signup, or one loaded from the database (load in
    /// signup order).
    pub fn admit(&mut self, waiter: Waiter) {
        self.next_seq = self.next_seq.max(waiter.seq + 1);
        if !waiter.state.is_active() {
            return;
        }
        let slot = if waiter.state == WaitlistState::Waiting {
            let line = &mut self.lines[line_of(waiter.tier)];
            line.slots.push(Some(waiter.id.clone()));
            Some(line.waiting.push(1))
        } else {
            None
        };
        if let Some(offer) = &waiter.offer {
            self.by_offer.insert(offer.clone(), waiter.id.clone());
        }
        self.by_user.insert(waiter.user, waiter.id.clone());
        self.entries.insert(waiter.id.clone(), (waiter, slot));
    }

    /// Entries waiting for an offer.
    pub fn waiting(&self) -> u32 {
        self.lines.iter().map(Line::count).sum()
    }

    /// Active entries (waiting or offered).
    #[cfg(test)]
    pub fn active(&self) -> usize {
        self.entries.len()
    }

    /// An active entry.
    pub fn get(&self, id: &str) -> Option<&Waiter> {
        self.entries.get(id).map(|(w, _)| w)
    }

    /// An attendee's active entry.
    pub fn of_user(&self, user: UserId) -> Option<&Waiter> {
        let id = self.by_user.get(&user)?;
        self.entries.get(id).map(|(w, _)| w)
    }

    /// The entry an offered hold was made for.
    pub fn of_offer(&self, offer: &str) -> Option<&Waiter> {
        let id = self.by_offer.get(offer)?;
        self.entries.get(id).map(|(w, _)| w)
    }

    /// Place in line from 1, for a waiting entry.
    pub fn position(&self, id: &str) -> Option<u32> {
        let (waiter, slot) = self.entries.get(id)?;
        let slot = (*slot)?;
        let tier = line_of(waiter.tier);
        let before: u32 = self.lines[..tier].iter().map(Line::count).sum();
        let line = &self.lines[tier];
        Some(before + u32::try_from(line.waiting.prefix(slot + 1)).unwrap_or(0))
    }

    /// Waiting entries in offer order.
    pub fn in_order(&self) -> impl Iterator<Item = &Waiter> {
        self.lines
            .iter()
            .flat_map(Line::ids)
            .filter_map(|id| self.entries.get(id).map(|(w, _)| w))
    }

    /// Active entries in offer order: offered ones (by signup) first, then the line.
    pub fn listing(&self) -> Vec<&Waiter> {
        let mut offered: Vec<&Waiter> = self
            .entries
            .values()
            .filter(|(w, _)| w.state == WaitlistState::Offered)
            .map(|(w, _)| w)
            .collect();
        offered.sort_by_key(|w| (w.tier, w.seq));
        offered.extend(self.in_order());
        offered
    }

    /// The entry to offer `free` places to next: the first in line, if its party
    /// fits (strict order), or the first whose party fits (skip-ahead).
    pub fn next_to_offer(&self, free: u32, skip_ahead: bool) -> Option<&Waiter> {
        let mut line = self.in_order();
        if skip_ahead {
            line.find(|w| w.party <= free)
        } else {
            line.next().filter(|w| w.party <= free)
        }
    }

    /// The entry now holds an offer.
    pub fn offered(&mut self, id: &str, offer: String) {
        let Some((waiter, slot)) = self.entries.get_mut(id) else {
            return;
        };
        if let Some(slot) = slot.take() {
            self.lines[line_of(waiter.tier)].vacate(slot);
        }
        waiter.state = WaitlistState::Offered;
        waiter.offer = Some(offer.clone());
        self.by_offer.insert(offer, id.to_owned());
    }

    /// The entry leaves the list in `state`; the entry as it ended.
    pub fn end(&mut self, id: &str, state: WaitlistState) -> Option<Waiter> {
        let (mut waiter, slot) = self.entries.remove(id)?;
        if let Some(slot) = slot {
            self.lines[line_of(waiter.tier)].vacate(slot);
        }
        self.by_user.remove(&waiter.user);
        if let Some(offer) = &waiter.offer {
            self.by_offer.remove(offer);
        }
        waiter.state = state;
        Some(waiter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter(n: i64, tier: WaitlistTier, party: u32) -> Waiter {
        Waiter {
            id: format!("w{n}"),
            user: UserId(n),
            party,
            tier,
            seq: n,
            state: WaitlistState::Waiting,
            offer: None,
            joined_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    #[test]
    fn vip_entries_go_first_and_positions_follow_departures() {
        let mut w = Waitlist::default();
        for n in 0..5 {
            w.admit(waiter(n, WaitlistTier::Standard, 2));
        }
        w.admit(waiter(5, WaitlistTier::Vip, 2));
        assert_eq!(w.position("w5"), Some(1));
        assert_eq!(w.position("w0"), Some(2));
        assert_eq!(w.position("w4"), Some(6));
        w.end("w1", WaitlistState::Left);
        w.offered("w0", "h".into());
        assert_eq!(w.position("w0"), None);
        assert_eq!(w.position("w4"), Some(4));
        assert_eq!(w.waiting(), 4);
        assert_eq!(w.active(), 5);
        assert_eq!(w.of_offer("h").map(|e| e.id.as_str()), Some("w0"));
        let order: Vec<&str> = w.in_order().map(|e| e.id.as_str()).collect();
        assert_eq!(order, ["w5", "w2", "w3", "w4"]);
    }

    #[test]
    fn strict_order_waits_for_the_head_and_skip_ahead_does_not() {
        let mut w = Waitlist::default();
        w.admit(waiter(0, WaitlistTier::Standard, 4));
        w.admit(waiter(1, WaitlistTier::Standard, 1));
        assert_eq!(w.next_to_offer(2, false), None);
        assert_eq!(w.next_to_offer(2, true).map(|e| e.seq), Some(1));
        assert_eq!(w.next_to_offer(4, false).map(|e| e.seq), Some(0));
    }

    #[test]
    fn positions_agree_with_counting_over_a_long_line() {
        let mut w = Waitlist::default();
        for n in 0..2000 {
            let tier = if n % 7 == 0 {
                WaitlistTier::Vip
            } else {
                WaitlistTier::Standard
            };
            w.admit(waiter(n, tier, 1));
        }
        for n in (0..2000).step_by(3) {
            w.end(&format!("w{n}"), WaitlistState::Left);
        }
        for (i, e) in w.in_order().enumerate() {
            assert_eq!(w.position(&e.id), u32::try_from(i + 1).ok());
        }
    }
}
