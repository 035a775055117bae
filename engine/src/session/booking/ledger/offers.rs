//! The waitlist side of the ledger: join, leave, and the offers that move free
//! places down the line.

use super::{Entry, Ledger, LedgerRefusal, Write};
use crate::session::booking::waitlist::Waiter;
use chrono::{DateTime, Utc};
use limelight_shared::booking::{
    Booking, BookingState, WaitlistEntry, WaitlistState, WaitlistTier,
};
use limelight_shared::ids::UserId;

/// Something an attendee should hear about once the batch deciding it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Places were offered to a waitlist entry.
    Offer(WaitlistEntry),
    /// A booking was made: booked at once, a hold confirmed or an offer accepted.
    Confirmed(Booking),
}

impl Ledger {
    pub(super) fn join(
        &mut self,
        user: UserId,
        party: u32,
        tier: WaitlistTier,
        now: DateTime<Utc>,
    ) -> Result<WaitlistEntry, LedgerRefusal> {
        if !self.terms.open {
            return Err(LedgerRefusal::Closed);
        }
        if self.waitlist.of_user(user).is_some() {
            return Err(LedgerRefusal::AlreadyWaiting);
        }
        if party > self.terms.capacity {
            return Err(LedgerRefusal::PartyTooLarge {
                capacity: self.terms.capacity,
            });
        }
        if let Some(limit) = self.terms.per_user_limit {
            let has = self.per_user.get(&user).copied().unwrap_or(0);
            if has + party > limit {
                return Err(LedgerRefusal::LimitReached { limit, has });
            }
        }
        let available = self.available();
        if available >= party {
            return Err(LedgerRefusal::PlacesAvailable { available });
        }
        let waiter = Waiter {
            id: uuid::Uuid::new_v4().to_string(),
            user,
            party,
            tier,
            seq: self.waitlist.next_seq(),
            state: WaitlistState::Waiting,
            offer: None,
            joined_at: now,
        };
        let id = waiter.id.clone();
        self.writes.push(Write::WaitInsert(waiter.clone()));
        self.waitlist.admit(waiter);
        // With skip-ahead the new entry may fit in places the line keeps.
        self.pump(now);
        self.waiter(&id).ok_or(LedgerRefusal::NotWaiting)
    }

    pub(super) fn leave(&mut self, user: UserId) -> Result<WaitlistEntry, LedgerRefusal> {
        let waiter = self
            .waitlist
            .of_user(user)
            .ok_or(LedgerRefusal::NotWaiting)?;
        let (id, offer) = (waiter.id.clone(), waiter.offer.clone());
        let mut entry = self.waiter_dto(waiter);
        match offer {
            // Giving the offer back ends the entry as declined.
            Some(offer) => {
                self.end(&offer, BookingState::Released);
                entry.state = WaitlistState::Declined;
            }
            None => {
                self.waitlist.end(&id, WaitlistState::Left);
                self.writes.push(Write::WaitState {
                    id,
                    state: WaitlistState::Left,
                    offer: None,
                });
                entry.state = WaitlistState::Left;
            }
        }
        entry.position = None;
        entry.offer = None;
        Ok(entry)
    }

    /// Offer free places to the line until nobody who waits fits.
    pub(super) fn pump(&mut self, now: DateTime<Utc>) {
        while self.terms.open {
            let free = self.free();
            if free == 0 {
                return;
            }
            let Some(next) = self.waitlist.next_to_offer(free, self.terms.skip_ahead) else {
                return;
            };
            let (waiter, user, party) = (next.id.clone(), next.user, next.party);
            // Best available seats for a seated session: the free seats, front first.
            let seats = self.terms.seats.as_ref().map(|map| {
                map.iter()
                    .filter(|s| !self.claimed.contains_key(*s))
                    .take(party as usize)
                    .cloned()
                    .collect::<Vec<_>>()
            });
            let offer = Entry {
                id: uuid::Uuid::new_v4().to_string(),
                user,
                state: BookingState::Offered,
                quantity: party,
                seats,
                expires_at: Some(now + self.terms.hold_ttl),
            };
            self.writes.push(Write::Insert(offer.clone()));
            self.waitlist.offered(&waiter, offer.id.clone());
            self.writes.push(Write::WaitState {
                id: waiter.clone(),
                state: WaitlistState::Offered,
                offer: Some(offer.id.clone()),
            });
            self.admit(offer);
            if let Some(entry) = self.waiter(&waiter) {
                self.notices.push(Notice::Offer(entry));
            }
        }
    }

    /// An offered hold ended (accepted, declined or lapsed): its entry leaves
    /// the list.
    pub(super) fn offer_ended(&mut self, offer: &str, state: WaitlistState) {
        let Some(id) = self.waitlist.of_offer(offer).map(|w| w.id.clone()) else {
            return;
        };
        self.waitlist.end(&id, state);
        self.writes.push(Write::WaitState {
            id,
            state,
            offer: Some(offer.to_owned()),
        });
    }

    fn waiter(&self, id: &str) -> Option<WaitlistEntry> {
        self.waitlist.get(id).map(|w| self.waiter_dto(w))
    }

    /// A waitlist entry as the API shows it.
    pub fn waiter_dto(&self, w: &Waiter) -> WaitlistEntry {
        WaitlistEntry {
            id: w.id.clone(),
            session: self.session,
            user: w.user,
            party: w.party,
            tier: w.tier,
            state: w.state,
            position: self.waitlist.position(&w.id),
            offer: w
                .offer
                .as_ref()
                .and_then(|o| self.live.get(o))
                .map(|e| self.dto(e)),
            joined_at: w
                .joined_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }
    }

    /// An attendee's active waitlist entry.
    pub fn waiting_entry(&self, user: UserId) -> Option<WaitlistEntry> {
        self.waitlist.of_user(user).map(|w| self.waiter_dto(w))
    }

    /// Active waitlist entries in offer order: `limit` of them from `offset`,
    /// and how many there are.
    pub fn waitlist_page(&self, offset: usize, limit: usize) -> (Vec<WaitlistEntry>, usize) {
        let listing = self.waitlist.listing();
        let total = listing.len();
        let page = listing
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|w| self.waiter_dto(w))
            .collect();
        (page, total)
    }

    /// The waitlist's part of the invariant: every offered entry holds one live
    /// offer of its own, every live offer belongs to an offered entry, and no
    /// free place is left idle while someone who fits waits.
    pub(super) fn check_waitlist(&self) -> Result<(), String> {
        let session = self.session;
        for w in self.waitlist.listing() {
            if w.state != WaitlistState::Offered {
                continue;
            }
            let offer = w.offer.as_ref().and_then(|o| self.live.get(o));
            if !offer.is_some_and(|e| e.state == BookingState::Offered && e.user == w.user) {
                return Err(format!(
                    "session {session}: waitlist entry {} has no live offer",
                    w.id
                ));
            }
        }
        for e in self.live.values() {
            if e.state == BookingState::Offered && self.waitlist.of_offer(&e.id).is_none() {
                return Err(format!(
                    "session {session}: offer {} belongs to no waitlist entry",
                    e.id
                ));
            }
        }
        if self.terms.open
            && self
                .waitlist
                .next_to_offer(self.free(), self.terms.skip_ahead)
                .is_some_and(|_| self.free() > 0)
        {
            return Err(format!(
                "session {session}: {} places free while a waitlist entry that fits waits",
                self.free()
            ));
        }
        Ok(())
    }
}
