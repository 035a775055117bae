//! The booking ledger of one session, in plain Rust: what is held, offered and
//! booked, and the decisions on every command. The actor around it batches
//! commands and stores what each batch changed in one transaction.
//!
//! Availability is never a counter kept beside the bookings: it is derived from the
//! live entries, and [`Ledger::check`] proves `booked + held + offered <= capacity`
//! after every batch.
//!
//! The session's waitlist is part of the ledger (`offers.rs`): while anyone waits,
//! every free place is kept for the line, and after every command the ledger
//! offers free places to the next entry that fits, as a hold in state `offered`.
//! An offer and the places it keeps are therefore decided, and stored, together.

mod offers;

pub use offers::Notice;

use super::waitlist::{Waiter, Waitlist};
use chrono::{DateTime, Utc};
use limelight_shared::booking::{
    Availability, Booking, BookingState, Places, WaitlistEntry, WaitlistState, WaitlistTier,
};
use limelight_shared::ids::{SessionId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet};

/// How a session sells its places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    /// Places in all (the bookable seats, for a seated session).
    pub capacity: u32,
    /// Bookable seats in map order (front row first), for a seated session.
    pub seats: Option<Vec<String>>,
    /// Most live places one attendee may have.
    pub per_user_limit: Option<u32>,
    /// How long a hold lasts.
    pub hold_ttl: chrono::Duration,
    /// Whether the session takes bookings (its event is active).
    pub open: bool,
    /// Whether a smaller party may take places the first in line cannot fit in.
    pub skip_ahead: bool,
}

/// A live hold, offer or booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Id (a UUID).
    pub id: String,
    /// Whose.
    pub user: UserId,
    /// Held, offered or booked.
    pub state: BookingState,
    /// Places.
    pub quantity: u32,
    /// Seats, for a seated session.
    pub seats: Option<Vec<String>>,
    /// When a hold or offer lapses.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A command to the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Hold places; with `book`, book them at once.
    Hold {
        /// Who.
        user: UserId,
        /// How many, or which seats.
        places: Places,
        /// Book at once instead of holding.
        book: bool,
    },
    /// Book what a hold (or an offer) keeps.
    Confirm {
        /// Who.
        user: UserId,
        /// The hold's id.
        id: String,
    },
    /// Give back a hold or offer, or cancel a booking.
    Release {
        /// Who asks.
        user: UserId,
        /// The hold or booking.
        id: String,
        /// Staff may release anyone's.
        staff: bool,
    },
    /// Join the waitlist.
    Join {
        /// Who.
        user: UserId,
        /// Places wanted together.
        party: u32,
        /// Tier.
        tier: WaitlistTier,
    },
    /// Leave the waitlist, declining an open offer.
    Leave {
        /// Who.
        user: UserId,
    },
}

impl Command {
    fn user(&self) -> UserId {
        match self {
            Command::Hold { user, .. }
            | Command::Confirm { user, .. }
            | Command::Release { user, .. }
            | Command::Join { user, .. }
            | Command::Leave { user } => *user,
        }
    }

    /// The command as canonical text, to tell a retry from another request under
    /// the same idempotency key.
    fn canonical(&self) -> String {
        match self {
            Command::Hold { places, book, .. } => {
                let what = match places {
                    Places::Quantity(n) => format!("quantity={n}"),
                    Places::Seats(s) => format!("seats={}", s.join(",")),
                };
                format!("{} {what}", if *book { "book" } else { "hold" })
            }
            Command::Confirm { id, .. } => format!("confirm {id}"),
            Command::Release { id, .. } => format!("release {id}"),
            Command::Join { party, tier, .. } => format!("join {party} {}", tier.as_str()),
            Command::Leave { .. } => "leave".into(),
        }
    }
}

/// Why the ledger said no. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum LedgerRefusal {
    /// Not enough places are free.
    SoldOut {
        /// Places asked for.
        wanted: u32,
        /// Places free.
        available: u32,
    },
    /// Some of the seats are held or booked by someone else.
    SeatsTaken {
        /// The seats that are not free.
        seats: Vec<String>,
    },
    /// Some seats are not in the map, or are blocked.
    UnknownSeats {
        /// The seats that cannot be sold.
        seats: Vec<String>,
    },
    /// Seats were named for a session without a seat map.
    NotSeated,
    /// The attendee would have more than the session allows.
    LimitReached {
        /// The limit.
        limit: u32,
        /// Places the attendee already has.
        has: u32,
    },
    /// The hold lapsed before it was confirmed.
    Expired,
    /// The hold was given back, or the booking cancelled.
    Gone,
    /// No such hold or booking of this attendee.
    NotFound,
    /// The session does not take bookings now.
    Closed,
    /// The idempotency key was used for a different request.
    KeyReused,
    /// The attendee is on the waitlist already.
    AlreadyWaiting,
    /// Places are free for the party: hold them instead of waiting.
    PlacesAvailable {
        /// Places free.
        available: u32,
    },
    /// The attendee is not on the waitlist.
    NotWaiting,
    /// The party is larger than the session.
    PartyTooLarge {
        /// The session's capacity.
        capacity: u32,
    },
}

impl LedgerRefusal {
    /// A sentence for people.
    pub fn message(&self) -> String {
        match self {
            LedgerRefusal::SoldOut { wanted, available } => {
                format!("{wanted} places asked for, {available} available")
            }
            LedgerRefusal::SeatsTaken { seats } => format!("not free: {}", seats.join(", ")),
            LedgerRefusal::UnknownSeats { seats } => {
                format!("no such seats to sell: {}", seats.join(", "))
            }
            LedgerRefusal::NotSeated => "this session has no seat map; ask for a quantity".into(),
            LedgerRefusal::LimitReached { limit, has } => {
                format!("at most {limit} places per attendee; you have {has}")
            }
            LedgerRefusal::Expired => "the hold has expired".into(),
            LedgerRefusal::Gone => "the hold was released or the booking cancelled".into(),
            LedgerRefusal::NotFound => "no such hold or booking".into(),
            LedgerRefusal::Closed => "this session does not take bookings now".into(),
            LedgerRefusal::KeyReused => {
                "this idempotency key was used for a different request".into()
            }
            LedgerRefusal::AlreadyWaiting => "you are on this session's waitlist already".into(),
            LedgerRefusal::PlacesAvailable { available } => {
                format!("{available} places are available: hold them instead of waiting")
            }
            LedgerRefusal::NotWaiting => "you are not on this session's waitlist".into(),
            LedgerRefusal::PartyTooLarge { capacity } => {
                format!("the party is larger than the session's {capacity} places")
            }
        }
    }
}

/// What a command made or touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A hold, offer or booking.
    Booking(Booking),
    /// A waitlist entry.
    Waiter(WaitlistEntry),
}

/// The ledger's answer to one command.
pub type Answer = Result<Outcome, LedgerRefusal>;

/// A stored answer to an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    /// The request, canonical.
    pub request: String,
    /// The first answer.
    pub answer: Answer,
}

/// A change to store, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// A new hold, offer or booking.
    Insert(Entry),
    /// A new state; the entry's seats are freed when it is no longer live.
    State {
        /// The entry.
        id: String,
        /// Its new state.
        state: BookingState,
        /// Its seats, to free or keep.
        seats: Option<Vec<String>>,
    },
    /// A new waitlist entry.
    WaitInsert(Waiter),
    /// A waitlist entry's new state, and its offer.
    WaitState {
        /// The entry.
        id: String,
        /// Its new state.
        state: WaitlistState,
        /// The offered hold.
        offer: Option<String>,
    },
    /// An answer to remember under an idempotency key.
    Remember {
        /// Whose key.
        user: UserId,
        /// The key.
        key: String,
        /// The request and its answer.
        remembered: Remembered,
    },
}

/// The ledger of one session.
#[derive(Debug, Clone)]
pub struct Ledger {
    session: SessionId,
    terms: Terms,
    /// The stored row's `ledger_version` this state matches.
    pub version: i64,
    live: HashMap<String, Entry>,
    /// Gone entries' ids and final states, so a late confirm is answered well.
    ended: HashMap<String, (UserId, BookingState)>,
    claimed: HashMap<String, String>,
    per_user: HashMap<UserId, u32>,
    expiries: BTreeSet<(DateTime<Utc>, String)>,
    answers: HashMap<(UserId, String), Remembered>,
    waitlist: Waitlist,
    writes: Vec<Write>,
    notices: Vec<Notice>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new(session: SessionId, terms: Terms, version: i64) -> Self {
        Self {
            session,
            terms,
            version,
            live: HashMap::new(),
            ended: HashMap::new(),
            claimed: HashMap::new(),
            per_user: HashMap::new(),
            expiries: BTreeSet::new(),
            answers: HashMap::new(),
            waitlist: Waitlist::default(),
            writes: Vec::new(),
            notices: Vec::new(),
        }
    }

    /// Take up a stored entry (at load).
    pub fn restore(&mut self, entry: Entry) {
        if entry.state.is_live() {
            self.admit(entry);
        }
    }

    /// Take up an ended entry's final state (at load), for late confirms.
    pub fn restore_ended(&mut self, id: String, user: UserId, state: BookingState) {
        self.ended.insert(id, (user, state));
    }

    /// Take up a stored answer (at load).
    pub fn remember(&mut self, user: UserId, key: String, remembered: Remembered) {
        self.answers.insert((user, key), remembered);
    }

    /// Continue signup numbers from `seq` (at load).
    pub fn restore_seq(&mut self, seq: i64) {
        self.waitlist.continue_from(seq);
    }

    /// Take up a stored waitlist entry (at load, in signup order).
    pub fn restore_waiter(&mut self, waiter: Waiter) {
        self.waitlist.admit(waiter);
    }

    fn admit(&mut self, entry: Entry) {
        for seat in entry.seats.iter().flatten() {
            self.claimed.insert(seat.clone(), entry.id.clone());
        }
        *self.per_user.entry(entry.user).or_default() += entry.quantity;
        if let Some(at) = entry.expires_at {
            self.expiries.insert((at, entry.id.clone()));
        }
        self.live.insert(entry.id.clone(), entry);
    }

    /// End a live entry in `state`, freeing its places and seats.
    fn end(&mut self, id: &str, state: BookingState) -> Option<Entry> {
        let entry = self.live.remove(id)?;
        for seat in entry.seats.iter().flatten() {
            self.claimed.remove(seat);
        }
        if let Some(n) = self.per_user.get_mut(&entry.user) {
            *n = n.saturating_sub(entry.quantity);
            if *n == 0 {
                self.per_user.remove(&entry.user);
            }
        }
        if let Some(at) = entry.expires_at {
            self.expiries.remove(&(at, entry.id.clone()));
        }
        self.ended.insert(entry.id.clone(), (entry.user, state));
        self.writes.push(Write::State {
            id: entry.id.clone(),
            state,
            seats: entry.seats.clone(),
        });
        if entry.state == BookingState::Offered {
            let outcome = if state == BookingState::Expired {
                WaitlistState::Expired
            } else {
                WaitlistState::Declined
            };
            self.offer_ended(&entry.id, outcome);
        }
        Some(entry)
    }

    /// Places in each live state: (booked, held, offered).
    pub fn counts(&self) -> (u32, u32, u32) {
        let (mut booked, mut held, mut offered) = (0, 0, 0);
        for e in self.live.values() {
            match e.state {
                BookingState::Booked => booked += e.quantity,
                BookingState::Held => held += e.quantity,
                BookingState::Offered => offered += e.quantity,
                _ => {}
            }
        }
        (booked, held, offered)
    }

    fn used(&self) -> u32 {
        self.per_user.values().sum()
    }

    /// Places not held, offered or booked.
    pub fn free(&self) -> u32 {
        self.terms.capacity.saturating_sub(self.used())
    }

    /// Places anyone may take now: none while anyone waits, since free places
    /// are kept for the waitlist then.
    pub fn available(&self) -> u32 {
        if self.waitlist.waiting() > 0 {
            0
        } else {
            self.free()
        }
    }

    /// When the next hold or offer lapses.
    pub fn next_expiry(&self) -> Option<DateTime<Utc>> {
        self.expiries.first().map(|(at, _)| *at)
    }

    /// Whether any hold or offer is live (the ledger has a timer to keep).
    pub fn has_pending(&self) -> bool {
        !self.expiries.is_empty()
    }

    /// Expire every hold and offer whose time has come, and offer the places
    /// they free to the waitlist; the expired entries.
    pub fn sweep(&mut self, now: DateTime<Utc>) -> Vec<Entry> {
        let due: Vec<String> = self
            .expiries
            .iter()
            .take_while(|(at, _)| *at <= now)
            .map(|(_, id)| id.clone())
            .collect();
        let expired = due
            .iter()
            .filter_map(|id| self.end(id, BookingState::Expired))
            .collect();
        self.pump(now);
        expired
    }

    /// Decide one command at `now`. A refusal changes nothing; an answer under an
    /// idempotency key is remembered, refusals included.
    pub fn apply(&mut self, command: Command, key: Option<String>, now: DateTime<Utc>) -> Answer {
        let user = command.user();
        let request = command.canonical();
        if let Some(key) = &key
            && let Some(first) = self.answers.get(&(user, key.clone()))
        {
            return if first.request == request {
                first.answer.clone()
            } else {
                Err(LedgerRefusal::KeyReused)
            };
        }
        let answer = match command {
            Command::Hold { user, places, book } => {
                self.hold(user, places, book, now).map(Outcome::Booking)
            }
            Command::Confirm { user, id } => self.confirm(user, &id).map(Outcome::Booking),
            Command::Release { user, id, staff } => {
                self.release(user, &id, staff).map(Outcome::Booking)
            }
            Command::Join { user, party, tier } => {
                self.join(user, party, tier, now).map(Outcome::Waiter)
            }
            Command::Leave { user } => self.leave(user).map(Outcome::Waiter),
        };
        // Places a command freed go to the waitlist at once.
        self.pump(now);
        if let Some(key) = key {
            let remembered = Remembered {
                request,
                answer: answer.clone(),
            };
            self.answers.insert((user, key.clone()), remembered.clone());
            self.writes.push(Write::Remember {
                user,
                key,
                remembered,
            });
        }
        answer
    }

    fn hold(
        &mut self,
        user: UserId,
        places: Places,
        book: bool,
        now: DateTime<Utc>,
    ) -> Result<Booking, LedgerRefusal> {
        if !self.terms.open {
            return Err(LedgerRefusal::Closed);
        }
        let wanted = places.count();
        if let Some(limit) = self.terms.per_user_limit {
            let has = self.per_user.get(&user).copied().unwrap_or(0);
            if has + wanted > limit {
                return Err(LedgerRefusal::LimitReached { limit, has });
            }
        }
        let available = self.available();
        let seats = match (&self.terms.seats, places) {
            (None, Places::Seats(_)) => return Err(LedgerRefusal::NotSeated),
            (None, Places::Quantity(_)) => None,
            (Some(map), Places::Seats(asked)) => {
                let bookable: HashSet<&String> = map.iter().collect();
                let unknown: Vec<String> = asked
                    .iter()
                    .filter(|s| !bookable.contains(s))
                    .cloned()
                    .collect();
                if !unknown.is_empty() {
                    return Err(LedgerRefusal::UnknownSeats { seats: unknown });
                }
                let taken: Vec<String> = asked
                    .iter()
                    .filter(|s| self.claimed.contains_key(*s))
                    .cloned()
                    .collect();
                if !taken.is_empty() {
                    return Err(LedgerRefusal::SeatsTaken { seats: taken });
                }
                Some(asked)
            }
            (Some(map), Places::Quantity(n)) => {
                // Best available: the first free seats in map order, front first.
                let free: Vec<String> = map
                    .iter()
                    .filter(|s| !self.claimed.contains_key(*s))
                    .take(n as usize)
                    .cloned()
                    .collect();
                if free.len() < n as usize {
                    return Err(LedgerRefusal::SoldOut { wanted, available });
                }
                Some(free)
            }
        };
        if wanted > available {
            return Err(LedgerRefusal::SoldOut { wanted, available });
        }
        let entry = Entry {
            id: uuid::Uuid::new_v4().to_string(),
            user,
            state: if book {
                BookingState::Booked
            } else {
                BookingState::Held
            },
            quantity: wanted,
            seats,
            expires_at: (!book).then(|| now + self.terms.hold_ttl),
        };
        self.writes.push(Write::Insert(entry.clone()));
        let booking = self.dto(&entry);
        self.admit(entry);
        if book {
            self.notices.push(Notice::Confirmed(booking.clone()));
        }
        Ok(booking)
    }

    fn confirm(&mut self, user: UserId, id: &str) -> Result<Booking, LedgerRefusal> {
        let Some(entry) = self.live.get(id).filter(|e| e.user == user) else {
            return Err(self.why_not_live(user, id));
        };
        match entry.state {
            BookingState::Booked => Ok(self.dto(entry)),
            BookingState::Held | BookingState::Offered => {
                let mut entry = entry.clone();
                if let Some(at) = entry.expires_at.take() {
                    self.expiries.remove(&(at, entry.id.clone()));
                }
                let was_offer = entry.state == BookingState::Offered;
                entry.state = BookingState::Booked;
                self.writes.push(Write::State {
                    id: entry.id.clone(),
                    state: BookingState::Booked,
                    seats: entry.seats.clone(),
                });
                let booking = self.dto(&entry);
                self.live.insert(entry.id.clone(), entry);
                if was_offer {
                    self.offer_ended(id, WaitlistState::Booked);
                }
                self.notices.push(Notice::Confirmed(booking.clone()));
                Ok(booking)
            }
            _ => Err(LedgerRefusal::Gone),
        }
    }

    fn release(&mut self, user: UserId, id: &str, staff: bool) -> Result<Booking, LedgerRefusal> {
        let Some(entry) = self.live.get(id).filter(|e| staff || e.user == user) else {
            return Err(self.why_not_live(user, id));
        };
        let state = if entry.state == BookingState::Booked {
            BookingState::Cancelled
        } else {
            BookingState::Released
        };
        match self.end(id, state) {
            Some(mut entry) => {
                entry.state = state;
                entry.expires_at = None;
                Ok(self.dto(&entry))
            }
            None => Err(LedgerRefusal::NotFound),
        }
    }

    fn why_not_live(&self, user: UserId, id: &str) -> LedgerRefusal {
        match self.ended.get(id) {
            Some((owner, BookingState::Expired)) if *owner == user => LedgerRefusal::Expired,
            Some((owner, _)) if *owner == user => LedgerRefusal::Gone,
            _ => LedgerRefusal::NotFound,
        }
    }

    /// A live entry as the API shows it.
    pub fn dto(&self, entry: &Entry) -> Booking {
        Booking {
            id: entry.id.clone(),
            session: self.session,
            user: entry.user,
            state: entry.state,
            quantity: entry.quantity,
            seats: entry.seats.clone(),
            expires_at: entry
                .expires_at
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        }
    }

    /// The live entries of one attendee.
    pub fn of_user(&self, user: UserId) -> Vec<Booking> {
        let mut mine: Vec<&Entry> = self.live.values().filter(|e| e.user == user).collect();
        mine.sort_by(|a, b| a.id.cmp(&b.id));
        mine.into_iter().map(|e| self.dto(e)).collect()
    }

    /// What the session has left.
    pub fn availability(&self) -> Availability {
        let (booked, held, offered) = self.counts();
        Availability {
            session: self.session,
            capacity: self.terms.capacity,
            booked,
            held,
            offered,
            kept_for_waitlist: self.free() - self.available(),
            available: self.available(),
            free_seats: self.terms.seats.as_ref().map(|map| {
                map.iter()
                    .filter(|s| !self.claimed.contains_key(*s))
                    .cloned()
                    .collect()
            }),
        }
    }

    /// The changes decided since the last call, to store.
    pub fn take_writes(&mut self) -> Vec<Write> {
        std::mem::take(&mut self.writes)
    }

    /// What attendees should hear about since the last call, once stored.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    /// Prove the invariant from the entries themselves: `booked + held + offered
    /// <= capacity`, every seat claimed once and by a live entry that lists it, and
    /// the per-attendee totals add up.
    pub fn check(&self) -> Result<(), String> {
        let (booked, held, offered) = self.counts();
        let live = u64::from(booked) + u64::from(held) + u64::from(offered);
        if live > u64::from(self.terms.capacity) {
            return Err(format!(
                "session {}: booked {booked} + held {held} + offered {offered} > capacity {}",
                self.session, self.terms.capacity
            ));
        }
        let mut seats = 0usize;
        for e in self.live.values() {
            for s in e.seats.iter().flatten() {
                seats += 1;
                if self.claimed.get(s) != Some(&e.id) {
                    return Err(format!(
                        "session {}: seat {s} is not claimed by {}",
                        self.session, e.id
                    ));
                }
            }
        }
        if seats != self.claimed.len() {
            return Err(format!(
                "session {}: a seat is claimed by no live entry",
                self.session
            ));
        }
        if u64::from(self.used()) != live {
            return Err(format!(
                "session {}: per-attendee totals drifted",
                self.session
            ));
        }
        self.check_waitlist()
    }
}

#[cfg(test)]
mod tests;
