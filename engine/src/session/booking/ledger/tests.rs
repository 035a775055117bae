//! The ledger's rules, and a property test against a reference model written the
//! plainest way: a list of every entry ever made, scanned on every question.

use super::*;
use proptest::prelude::*;

const TTL_S: i64 = 600;

fn t(s: i64) -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::seconds(1_800_000_000 + s)
}

fn terms(capacity: u32, seats: Option<Vec<String>>, limit: Option<u32>) -> Terms {
    Terms {
        capacity,
        seats,
        per_user_limit: limit,
        hold_ttl: chrono::Duration::seconds(TTL_S),
        open: true,
        skip_ahead: false,
    }
}

fn hold(user: i64, n: u32) -> Command {
    Command::Hold {
        user: UserId(user),
        places: Places::Quantity(n),
        book: false,
    }
}

/// The booking a command made or touched.
fn booking(answer: Answer) -> Result<Booking, LedgerRefusal> {
    match answer? {
        Outcome::Booking(b) => Ok(b),
        Outcome::Waiter(_) => Err(LedgerRefusal::NotFound),
    }
}

fn seats(names: &[&str]) -> Places {
    Places::Seats(names.iter().map(|s| (*s).to_owned()).collect())
}

#[test]
fn holds_never_exceed_capacity_and_confirm_keeps_the_places() -> Result<(), String> {
    let mut l = Ledger::new(SessionId(1), terms(3, None, None), 0);
    let a = booking(l.apply(hold(1, 2), None, t(0))).map_err(|r| r.message())?;
    assert_eq!(
        l.apply(hold(2, 2), None, t(1)),
        Err(LedgerRefusal::SoldOut {
            wanted: 2,
            available: 1
        })
    );
    let b = booking(l.apply(
        Command::Confirm {
            user: UserId(1),
            id: a.id.clone(),
        },
        None,
        t(2),
    ));
    assert_eq!(b.map(|b| b.state), Ok(BookingState::Booked));
    assert_eq!(l.counts(), (2, 0, 0));
    l.check()
}

#[test]
fn an_expired_hold_frees_its_places_and_cannot_be_confirmed() -> Result<(), String> {
    let mut l = Ledger::new(SessionId(1), terms(2, None, None), 0);
    let a = booking(l.apply(hold(1, 2), None, t(0))).map_err(|r| r.message())?;
    assert_eq!(l.sweep(t(TTL_S - 1)).len(), 0);
    assert_eq!(l.sweep(t(TTL_S)).len(), 1);
    assert_eq!(l.available(), 2);
    let late = booking(l.apply(
        Command::Confirm {
            user: UserId(1),
            id: a.id,
        },
        None,
        t(TTL_S),
    ));
    assert_eq!(late, Err(LedgerRefusal::Expired));
    l.check()
}

#[test]
fn seats_are_all_or_nothing_and_never_held_twice() -> Result<(), String> {
    let map: Vec<String> = ["A-1", "A-2", "A-3"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let mut l = Ledger::new(SessionId(1), terms(3, Some(map), None), 0);
    let book = |user, p| Command::Hold {
        user: UserId(user),
        places: p,
        book: false,
    };
    l.apply(book(1, seats(&["A-2"])), None, t(0))
        .map_err(|r| r.message())?;
    let clash = l.apply(book(2, seats(&["A-1", "A-2"])), None, t(0));
    assert_eq!(
        clash,
        Err(LedgerRefusal::SeatsTaken {
            seats: vec!["A-2".into()]
        })
    );
    assert_eq!(
        l.availability().free_seats,
        Some(vec!["A-1".into(), "A-3".into()])
    );
    let unknown = l.apply(book(2, seats(&["Z-9"])), None, t(0));
    assert_eq!(
        unknown,
        Err(LedgerRefusal::UnknownSeats {
            seats: vec!["Z-9".into()]
        })
    );
    // Best available: the first free seats in map order.
    let best =
        booking(l.apply(book(3, Places::Quantity(2)), None, t(0))).map_err(|r| r.message())?;
    assert_eq!(best.seats, Some(vec!["A-1".into(), "A-3".into()]));
    l.check()
}

#[test]
fn the_per_user_limit_counts_holds_and_bookings() {
    let mut l = Ledger::new(SessionId(1), terms(100, None, Some(4)), 0);
    assert!(l.apply(hold(1, 3), None, t(0)).is_ok());
    assert_eq!(
        l.apply(hold(1, 2), None, t(0)),
        Err(LedgerRefusal::LimitReached { limit: 4, has: 3 })
    );
    assert!(l.apply(hold(2, 4), None, t(0)).is_ok());
}

#[test]
fn an_idempotency_key_returns_the_first_answer_and_refuses_another_request() {
    let mut l = Ledger::new(SessionId(1), terms(10, None, None), 0);
    let first = l.apply(hold(1, 2), Some("k".into()), t(0));
    let again = l.apply(hold(1, 2), Some("k".into()), t(1));
    assert_eq!(first, again);
    assert_eq!(l.counts(), (0, 2, 0));
    assert_eq!(
        l.apply(hold(1, 3), Some("k".into()), t(1)),
        Err(LedgerRefusal::KeyReused)
    );
    // Keys belong to their user.
    assert!(l.apply(hold(2, 3), Some("k".into()), t(1)).is_ok());
}

fn join(user: i64, party: u32) -> Command {
    Command::Join {
        user: UserId(user),
        party,
        tier: WaitlistTier::Standard,
    }
}

fn waiter(answer: Answer) -> Result<WaitlistEntry, LedgerRefusal> {
    match answer? {
        Outcome::Waiter(w) => Ok(w),
        Outcome::Booking(_) => Err(LedgerRefusal::NotFound),
    }
}

#[test]
fn a_freed_place_goes_to_the_waitlist_not_the_public() -> Result<(), String> {
    let mut l = Ledger::new(SessionId(1), terms(2, None, None), 0);
    let a = booking(l.apply(hold(1, 2), None, t(0))).map_err(|r| r.message())?;
    assert_eq!(
        waiter(l.apply(join(2, 1), None, t(1))).map(|w| (w.state, w.position)),
        Ok((WaitlistState::Waiting, Some(1)))
    );
    // Release one hold: its places are offered to the line at once.
    booking(l.apply(
        Command::Release {
            user: UserId(1),
            id: a.id,
            staff: false,
        },
        None,
        t(2),
    ))
    .map_err(|r| r.message())?;
    let offer = l.waiting_entry(UserId(2)).and_then(|w| w.offer);
    assert_eq!(offer.as_ref().map(|o| o.state), Some(BookingState::Offered));
    assert_eq!(l.counts(), (0, 0, 1));
    // The other freed place is free for the public now that nobody waits.
    assert_eq!(l.available(), 1);
    let notices = l.take_notices();
    assert!(matches!(notices.as_slice(), [Notice::Offer(w)] if w.user == UserId(2)));
    l.check()
}

#[test]
fn while_anyone_waits_every_free_place_is_kept_for_the_line() -> Result<(), String> {
    let mut l = Ledger::new(SessionId(1), terms(3, None, None), 0);
    booking(l.apply(hold(1, 2), None, t(0))).map_err(|r| r.message())?;
    // A party of 2 does not fit in the 1 free place: it waits, and the place is kept.
    waiter(l.apply(join(2, 2), None, t(0))).map_err(|r| r.message())?;
    assert_eq!(
        booking(l.apply(hold(3, 1), None, t(0))),
        Err(LedgerRefusal::SoldOut {
            wanted: 1,
            available: 0
        })
    );
    assert_eq!(l.availability().kept_for_waitlist, 1);
    // Joining when the party fits is refused: hold instead.
    let mut open = Ledger::new(SessionId(2), terms(3, None, None), 0);
    assert_eq!(
        waiter(open.apply(join(1, 2), None, t(0))),
        Err(LedgerRefusal::PlacesAvailable { available: 3 })
    );
    l.check()
}

#[test]
fn an_offer_that_lapses_moves_on_to_the_next_in_line() -> Result<(), String> {
    let mut l = Ledger::new(SessionId(1), terms(1, None, None), 0);
    let a = booking(l.apply(hold(1, 1), None, t(0))).map_err(|r| r.message())?;
    for user in 2..=4 {
        waiter(l.apply(join(user, 1), None, t(user))).map_err(|r| r.message())?;
    }
    l.apply(
        Command::Release {
            user: UserId(1),
            id: a.id,
            staff: false,
        },
        None,
        t(10),
    )
    .map_err(|r| r.message())?;
    assert!(
        l.waiting_entry(UserId(2))
            .is_some_and(|w| w.offer.is_some())
    );
    // Each offer lapses after the TTL and the next attendee gets it.
    l.sweep(t(10 + TTL_S));
    assert!(l.waiting_entry(UserId(2)).is_none());
    assert!(
        l.waiting_entry(UserId(3))
            .is_some_and(|w| w.offer.is_some())
    );
    assert_eq!(l.waiting_entry(UserId(4)).and_then(|w| w.position), Some(1));
    // Declining moves on at once; accepting books.
    assert_eq!(
        waiter(l.apply(Command::Leave { user: UserId(3) }, None, t(11 + TTL_S))).map(|w| w.state),
        Ok(WaitlistState::Declined)
    );
    let offer = l
        .waiting_entry(UserId(4))
        .and_then(|w| w.offer)
        .ok_or("no offer for the third")?;
    let booked = booking(l.apply(
        Command::Confirm {
            user: UserId(4),
            id: offer.id,
        },
        None,
        t(12 + TTL_S),
    ))
    .map_err(|r| r.message())?;
    assert_eq!(booked.state, BookingState::Booked);
    assert!(l.waiting_entry(UserId(4)).is_none());
    assert_eq!(l.counts(), (1, 0, 0));
    l.check()
}

#[test]
fn skip_ahead_offers_to_a_smaller_party_further_down() -> Result<(), String> {
    let mut t2 = terms(4, None, None);
    t2.skip_ahead = true;
    let mut l = Ledger::new(SessionId(1), t2, 0);
    booking(l.apply(hold(1, 3), None, t(0))).map_err(|r| r.message())?;
    waiter(l.apply(join(2, 3), None, t(0))).map_err(|r| r.message())?;
    let small = waiter(l.apply(join(3, 1), None, t(0))).map_err(|r| r.message())?;
    assert_eq!(small.state, WaitlistState::Offered);
    assert_eq!(l.waiting_entry(UserId(2)).and_then(|w| w.position), Some(1));
    l.check()
}

/// An entry of the model.
#[derive(Debug, Clone)]
struct ModelEntry {
    user: UserId,
    state: BookingState,
    places: u32,
    seats: Vec<String>,
    expires: Option<DateTime<Utc>>,
}

/// A waitlist entry of the model.
#[derive(Debug, Clone)]
struct ModelWaiter {
    user: UserId,
    party: u32,
    tier: WaitlistTier,
    state: WaitlistState,
    /// The offered entry's index.
    offer: Option<usize>,
}

/// A remembered answer: (user, key), request, entry index or refusal.
type ModelAnswer = ((UserId, String), String, Result<usize, LedgerRefusal>);

/// The reference model: every entry and waitlist entry ever made, in order,
/// scanned on every question.
#[derive(Debug, Clone, Default)]
struct Model {
    capacity: u32,
    seats: Option<Vec<String>>,
    limit: Option<u32>,
    skip_ahead: bool,
    entries: Vec<ModelEntry>,
    waiters: Vec<ModelWaiter>,
    answers: Vec<ModelAnswer>,
}

impl Model {
    fn live(&self) -> impl Iterator<Item = &ModelEntry> {
        self.entries.iter().filter(|e| e.state.is_live())
    }

    /// Waiting entries in offer order: tier, then signup.
    fn line(&self) -> Vec<usize> {
        let mut line: Vec<usize> = (0..self.waiters.len())
            .filter(|&i| self.waiters[i].state == WaitlistState::Waiting)
            .collect();
        line.sort_by_key(|&i| (self.waiters[i].tier, i));
        line
    }

    fn free(&self) -> u32 {
        self.capacity - self.live().map(|e| e.places).sum::<u32>()
    }

    fn available(&self) -> u32 {
        if self.line().is_empty() {
            self.free()
        } else {
            0
        }
    }

    fn taken(&self, seat: &str) -> bool {
        self.live().any(|e| e.seats.iter().any(|s| s == seat))
    }

    /// Entry `i` ended in `state`; the waitlist entry of an offer ends with it.
    fn end(&mut self, i: usize, state: BookingState) {
        let was = self.entries[i].state;
        self.entries[i].state = state;
        self.entries[i].expires = None;
        if let Some(w) = self
            .waiters
            .iter_mut()
            .find(|w| w.offer == Some(i) && w.state == WaitlistState::Offered)
        {
            w.state = match (was, state) {
                (_, BookingState::Booked) => WaitlistState::Booked,
                (_, BookingState::Expired) => WaitlistState::Expired,
                _ => WaitlistState::Declined,
            };
        }
    }

    fn expire(&mut self, now: DateTime<Utc>) {
        for i in 0..self.entries.len() {
            let e = &self.entries[i];
            if matches!(e.state, BookingState::Held | BookingState::Offered)
                && e.expires.is_some_and(|at| at <= now)
            {
                self.end(i, BookingState::Expired);
            }
        }
        self.pump(now);
    }

    fn pump(&mut self, now: DateTime<Utc>) {
        loop {
            let free = self.free();
            let line = self.line();
            let next = if self.skip_ahead {
                line.into_iter().find(|&w| self.waiters[w].party <= free)
            } else {
                line.first()
                    .copied()
                    .filter(|&w| self.waiters[w].party <= free)
            };
            let Some(w) = next.filter(|_| free > 0) else {
                return;
            };
            let party = self.waiters[w].party;
            let seats = match &self.seats {
                Some(map) => map
                    .iter()
                    .filter(|s| !self.taken(s))
                    .take(party as usize)
                    .cloned()
                    .collect(),
                None => Vec::new(),
            };
            self.entries.push(ModelEntry {
                user: self.waiters[w].user,
                state: BookingState::Offered,
                places: party,
                seats,
                expires: Some(now + chrono::Duration::seconds(TTL_S)),
            });
            self.waiters[w].state = WaitlistState::Offered;
            self.waiters[w].offer = Some(self.entries.len() - 1);
        }
    }

    /// The index of the entry made or touched (of the waiter, for the waitlist),
    /// or the refusal.
    fn apply(&mut self, op: &Op, now: DateTime<Utc>) -> Result<usize, LedgerRefusal> {
        self.expire(now);
        let user = UserId(op.user);
        // The request as the attendee sent it: what to hold, or which entry.
        let target = |which: &usize| match self.entries.len() {
            0 => "none".to_owned(),
            n => (which % n).to_string(),
        };
        let request = match &op.kind {
            Kind::Hold {
                quantity,
                seats,
                book,
            } => format!("{book} {:?}", seats.as_ref().ok_or(quantity)),
            Kind::Confirm { which } => format!("confirm {}", target(which)),
            Kind::Release { which, .. } => format!("release {}", target(which)),
            Kind::Join { party } => format!("join {party}"),
            Kind::Leave => "leave".into(),
        };
        let answer = match op.key.map(|k| (user, k.to_string())) {
            Some(key) => {
                if let Some((_, first, answer)) = self.answers.iter().find(|a| a.0 == key) {
                    return if *first == request {
                        answer.clone()
                    } else {
                        Err(LedgerRefusal::KeyReused)
                    };
                }
                let answer = self.decide(user, &op.kind, now);
                self.answers.push((key, request, answer.clone()));
                answer
            }
            None => self.decide(user, &op.kind, now),
        };
        self.pump(now);
        answer
    }

    fn decide(
        &mut self,
        user: UserId,
        kind: &Kind,
        now: DateTime<Utc>,
    ) -> Result<usize, LedgerRefusal> {
        let has: u32 = self
            .live()
            .filter(|e| e.user == user)
            .map(|e| e.places)
            .sum();
        match kind {
            Kind::Hold {
                quantity,
                seats,
                book,
            } => {
                let wanted = seats.as_ref().map_or(*quantity, |s| s.len() as u32);
                if let Some(limit) = self.limit
                    && has + wanted > limit
                {
                    return Err(LedgerRefusal::LimitReached { limit, has });
                }
                let available = self.available();
                let chosen = match (&self.seats, seats) {
                    (None, Some(_)) => return Err(LedgerRefusal::NotSeated),
                    (None, None) => Vec::new(),
                    (Some(map), Some(asked)) => {
                        let unknown: Vec<String> =
                            asked.iter().filter(|s| !map.contains(s)).cloned().collect();
                        if !unknown.is_empty() {
                            return Err(LedgerRefusal::UnknownSeats { seats: unknown });
                        }
                        let taken: Vec<String> =
                            asked.iter().filter(|s| self.taken(s)).cloned().collect();
                        if !taken.is_empty() {
                            return Err(LedgerRefusal::SeatsTaken { seats: taken });
                        }
                        asked.clone()
                    }
                    (Some(map), None) => {
                        let free: Vec<String> = map
                            .iter()
                            .filter(|s| !self.taken(s))
                            .take(*quantity as usize)
                            .cloned()
                            .collect();
                        if free.len() < *quantity as usize {
                            return Err(LedgerRefusal::SoldOut { wanted, available });
                        }
                        free
                    }
                };
                if wanted > available {
                    return Err(LedgerRefusal::SoldOut { wanted, available });
                }
                let (state, expires) = if *book {
                    (BookingState::Booked, None)
                } else {
                    (
                        BookingState::Held,
                        Some(now + chrono::Duration::seconds(TTL_S)),
                    )
                };
                self.entries.push(ModelEntry {
                    user,
                    state,
                    places: wanted,
                    seats: chosen,
                    expires,
                });
                Ok(self.entries.len() - 1)
            }
            Kind::Confirm { which } | Kind::Release { which, .. } => {
                let staff = matches!(kind, Kind::Release { staff: true, .. });
                let i = which % self.entries.len().max(1);
                let Some(e) = self.entries.get(i) else {
                    return Err(LedgerRefusal::NotFound);
                };
                if e.user != user && !(staff && e.state.is_live()) {
                    return Err(LedgerRefusal::NotFound);
                }
                let confirm = matches!(kind, Kind::Confirm { .. });
                match (e.state, confirm) {
                    (BookingState::Expired, _) if e.user == user => Err(LedgerRefusal::Expired),
                    (s, _) if !s.is_live() => Err(LedgerRefusal::Gone),
                    (BookingState::Booked, true) => Ok(i),
                    (_, true) => {
                        self.end(i, BookingState::Booked);
                        Ok(i)
                    }
                    (s, false) => {
                        let end = if s == BookingState::Booked {
                            BookingState::Cancelled
                        } else {
                            BookingState::Released
                        };
                        self.end(i, end);
                        Ok(i)
                    }
                }
            }
            Kind::Join { party } => {
                if self
                    .waiters
                    .iter()
                    .any(|w| w.user == user && w.state.is_active())
                {
                    return Err(LedgerRefusal::AlreadyWaiting);
                }
                if *party > self.capacity {
                    return Err(LedgerRefusal::PartyTooLarge {
                        capacity: self.capacity,
                    });
                }
                if let Some(limit) = self.limit
                    && has + party > limit
                {
                    return Err(LedgerRefusal::LimitReached { limit, has });
                }
                let available = self.available();
                if available >= *party {
                    return Err(LedgerRefusal::PlacesAvailable { available });
                }
                self.waiters.push(ModelWaiter {
                    user,
                    party: *party,
                    tier: WaitlistTier::Standard,
                    state: WaitlistState::Waiting,
                    offer: None,
                });
                self.pump(now);
                Ok(self.waiters.len() - 1)
            }
            Kind::Leave => {
                let Some(w) = self
                    .waiters
                    .iter()
                    .position(|w| w.user == user && w.state.is_active())
                else {
                    return Err(LedgerRefusal::NotWaiting);
                };
                match self.waiters[w].offer {
                    Some(i) if self.waiters[w].state == WaitlistState::Offered => {
                        self.end(i, BookingState::Released);
                    }
                    _ => self.waiters[w].state = WaitlistState::Left,
                }
                Ok(w)
            }
        }
    }

    /// An attendee's active waitlist entry: state, position, offered entry.
    fn waiting(&self, user: UserId) -> Option<(WaitlistState, Option<u32>, Option<usize>)> {
        let w = self
            .waiters
            .iter()
            .position(|w| w.user == user && w.state.is_active())?;
        let position = self
            .line()
            .iter()
            .position(|&i| i == w)
            .map(|p| p as u32 + 1);
        Some((self.waiters[w].state, position, self.waiters[w].offer))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Hold {
        quantity: u32,
        seats: Option<Vec<String>>,
        book: bool,
    },
    Confirm {
        which: usize,
    },
    Release {
        which: usize,
        staff: bool,
    },
    Join {
        party: u32,
    },
    Leave,
}

#[derive(Debug, Clone)]
struct Op {
    user: i64,
    key: Option<u8>,
    /// Seconds since the last op.
    after_s: i64,
    kind: Kind,
}

const MAP: [&str; 6] = ["A-1", "A-2", "A-3", "B-1", "B-2", "B-3"];

fn op(seated: bool) -> impl Strategy<Value = Op> {
    let seat_list = proptest::sample::subsequence(MAP.to_vec(), 1..=3)
        .prop_map(|v| v.into_iter().map(str::to_owned).collect::<Vec<_>>());
    let hold = (
        1u32..=3,
        proptest::option::weighted(if seated { 0.5 } else { 0.05 }, seat_list),
        any::<bool>(),
    )
        .prop_map(|(quantity, seats, book)| Kind::Hold {
            quantity,
            seats,
            book,
        });
    let kind = prop_oneof![
        4 => hold,
        2 => (0usize..40).prop_map(|which| Kind::Confirm { which }),
        2 => (0usize..40, any::<bool>()).prop_map(|(which, staff)| Kind::Release { which, staff }),
        2 => (1u32..=4).prop_map(|party| Kind::Join { party }),
        1 => Just(Kind::Leave),
    ];
    (
        1i64..=5,
        proptest::option::weighted(0.3, 0u8..3),
        prop_oneof![3 => Just(0i64), 1 => 0i64..=TTL_S],
        kind,
    )
        .prop_map(|(user, key, after_s, kind)| Op {
            user,
            key,
            after_s,
            kind,
        })
}

fn scenario() -> impl Strategy<Value = (bool, bool, u32, Option<u32>, Vec<Op>)> {
    (any::<bool>(), any::<bool>()).prop_flat_map(|(seated, skip_ahead)| {
        (
            Just(seated),
            Just(skip_ahead),
            if seated {
                Just(6u32).boxed()
            } else {
                (0u32..10).boxed()
            },
            proptest::option::of(1u32..6),
            proptest::collection::vec(op(seated), 1..80),
        )
    })
}

/// Offers the ledger made, in order, are the model's new entries: map their ids.
fn take_offers(
    ledger: &mut Ledger,
    model: &Model,
    ids: &mut Vec<String>,
) -> Result<(), TestCaseError> {
    let mut offers = ledger.take_notices().into_iter().filter_map(|n| match n {
        Notice::Offer(w) => w.offer.map(|o| o.id),
        Notice::Confirmed(_) => None,
    });
    for i in ids.len()..model.entries.len() {
        let Some(id) = offers.next() else {
            return Err(TestCaseError::fail(format!(
                "the model made offer {i}; the ledger did not"
            )));
        };
        ids.push(id);
    }
    prop_assert!(
        offers.next().is_none(),
        "the ledger made an offer the model did not"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn the_ledger_agrees_with_the_reference_model((seated, skip_ahead, capacity, limit, ops) in scenario()) {
        let map: Option<Vec<String>> = seated.then(|| MAP.iter().map(|s| (*s).to_owned()).collect());
        let mut t0 = terms(capacity, map.clone(), limit);
        t0.skip_ahead = skip_ahead;
        let mut ledger = Ledger::new(SessionId(7), t0, 0);
        let mut model = Model { capacity, seats: map, limit, skip_ahead, ..Model::default() };
        // Model entry index -> ledger id.
        let mut ids: Vec<String> = Vec::new();
        let mut now = t(0);
        for op in &ops {
            now += chrono::Duration::seconds(op.after_s);
            ledger.sweep(now);
            model.expire(now);
            take_offers(&mut ledger, &model, &mut ids)?;
            let target = |which: usize| ids.get(which % ids.len().max(1)).cloned().unwrap_or_else(|| "none".into());
            let user = UserId(op.user);
            let command = match &op.kind {
                Kind::Hold { quantity, seats, book } => Command::Hold {
                    user,
                    places: seats.clone().map_or(Places::Quantity(*quantity), Places::Seats),
                    book: *book,
                },
                Kind::Confirm { which } => Command::Confirm { user, id: target(*which) },
                Kind::Release { which, staff } => Command::Release { user, id: target(*which), staff: *staff },
                Kind::Join { party } => Command::Join { user, party: *party, tier: WaitlistTier::Standard },
                Kind::Leave => Command::Leave { user },
            };
            let got = ledger.apply(command, op.key.map(|k| k.to_string()), now);
            let want = model.apply(op, now);
            match (&got, &want) {
                (Ok(Outcome::Booking(b)), Ok(i)) => {
                    if *i == ids.len() {
                        ids.push(b.id.clone());
                    }
                    prop_assert_eq!(Some(&b.id), ids.get(*i));
                    let e = &model.entries[*i];
                    prop_assert_eq!((b.user, b.quantity), (e.user, e.places));
                    if seated {
                        prop_assert_eq!(b.seats.clone().unwrap_or_default(), e.seats.clone());
                    }
                }
                (Ok(Outcome::Waiter(w)), Ok(i)) => {
                    let m = &model.waiters[*i];
                    prop_assert_eq!((w.user, w.party), (m.user, m.party));
                    // A replayed key answers as it did the first time.
                    if op.key.is_none() {
                        let state = model.waiting(user).map_or(m.state, |s| s.0);
                        prop_assert_eq!(w.state, state);
                    }
                }
                (Err(g), Err(w)) => prop_assert_eq!(g, w),
                _ => prop_assert!(false, "ledger {:?}, model {:?} for {:?}", got, want, op),
            }
            take_offers(&mut ledger, &model, &mut ids)?;
            prop_assert_eq!(ids.len(), model.entries.len());
            ledger.take_writes();
            prop_assert!(ledger.check().is_ok(), "{:?}", ledger.check());
            let (booked, held, offered) = ledger.counts();
            let live = |s: BookingState| model.live().filter(|e| e.state == s).map(|e| e.places).sum::<u32>();
            prop_assert_eq!((booked, held, offered), (live(BookingState::Booked), live(BookingState::Held), live(BookingState::Offered)));
            prop_assert!(booked + held + offered <= capacity);
            prop_assert_eq!(ledger.available(), model.available());
            for u in 1..=5 {
                let got = ledger.waiting_entry(UserId(u)).map(|w| (w.state, w.position, w.offer.map(|o| o.id)));
                let want = model.waiting(UserId(u)).map(|(s, p, o)| (s, p, o.and_then(|i| ids.get(i).cloned()).filter(|_| s == WaitlistState::Offered)));
                prop_assert_eq!(got, want);
            }
        }
    }
}
