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
    }
}

fn hold(user: i64, n: u32) -> Command {
    Command::Hold {
        user: UserId(user),
        places: Places::Quantity(n),
        book: false,
    }
}

fn seats(names: &[&str]) -> Places {
    Places::Seats(names.iter().map(|s| (*s).to_owned()).collect())
}

#[test]
fn holds_never_exceed_capacity_and_confirm_keeps_the_places() -> Result<(), String> {
    let mut l = Ledger::new(SessionId(1), terms(3, None, None), 0);
    let a = l.apply(hold(1, 2), None, t(0)).map_err(|r| r.message())?;
    assert_eq!(
        l.apply(hold(2, 2), None, t(1)),
        Err(Refusal::SoldOut {
            wanted: 2,
            available: 1
        })
    );
    let b = l.apply(
        Command::Confirm {
            user: UserId(1),
            id: a.id.clone(),
        },
        None,
        t(2),
    );
    assert_eq!(b.map(|b| b.state), Ok(BookingState::Booked));
    assert_eq!(l.counts(), (2, 0, 0));
    l.check()
}

#[test]
fn an_expired_hold_frees_its_places_and_cannot_be_confirmed() -> Result<(), String> {
    let mut l = Ledger::new(SessionId(1), terms(2, None, None), 0);
    let a = l.apply(hold(1, 2), None, t(0)).map_err(|r| r.message())?;
    assert_eq!(l.sweep(t(TTL_S - 1)).len(), 0);
    assert_eq!(l.sweep(t(TTL_S)).len(), 1);
    assert_eq!(l.available(), 2);
    let late = l.apply(
        Command::Confirm {
            user: UserId(1),
            id: a.id,
        },
        None,
        t(TTL_S),
    );
    assert_eq!(late, Err(Refusal::Expired));
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
        Err(Refusal::SeatsTaken {
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
        Err(Refusal::UnknownSeats {
            seats: vec!["Z-9".into()]
        })
    );
    // Best available: the first free seats in map order.
    let best = l
        .apply(book(3, Places::Quantity(2)), None, t(0))
        .map_err(|r| r.message())?;
    assert_eq!(best.seats, Some(vec!["A-1".into(), "A-3".into()]));
    l.check()
}

#[test]
fn the_per_user_limit_counts_holds_and_bookings() {
    let mut l = Ledger::new(SessionId(1), terms(100, None, Some(4)), 0);
    assert!(l.apply(hold(1, 3), None, t(0)).is_ok());
    assert_eq!(
        l.apply(hold(1, 2), None, t(0)),
        Err(Refusal::LimitReached { limit: 4, has: 3 })
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
        Err(Refusal::KeyReused)
    );
    // Keys belong to their user.
    assert!(l.apply(hold(2, 3), Some("k".into()), t(1)).is_ok());
}

/// An entry of the model: whose, state, places, seats, expiry.
type ModelEntry = (
    UserId,
    BookingState,
    u32,
    Vec<String>,
    Option<DateTime<Utc>>,
);
/// A remembered answer: (user, key), request, entry index or refusal.
type ModelAnswer = ((UserId, String), String, Result<usize, Refusal>);

/// The reference model: every entry ever made, in order.
#[derive(Debug, Clone, Default)]
struct Model {
    capacity: u32,
    seats: Option<Vec<String>>,
    limit: Option<u32>,
    entries: Vec<ModelEntry>,
    answers: Vec<ModelAnswer>,
}

impl Model {
    fn live(
        &self,
    ) -> impl Iterator<
        Item = &(
            UserId,
            BookingState,
            u32,
            Vec<String>,
            Option<DateTime<Utc>>,
        ),
    > {
        self.entries.iter().filter(|e| e.1.is_live())
    }

    fn expire(&mut self, now: DateTime<Utc>) {
        for e in &mut self.entries {
            if e.1 == BookingState::Held && e.4.is_some_and(|at| at <= now) {
                e.1 = BookingState::Expired;
            }
        }
    }

    fn used(&self) -> u32 {
        self.live().map(|e| e.2).sum()
    }

    fn taken(&self, seat: &str) -> bool {
        self.live().any(|e| e.3.iter().any(|s| s == seat))
    }

    /// The index of the entry made or touched, or the refusal.
    fn apply(&mut self, op: &Op, now: DateTime<Utc>) -> Result<usize, Refusal> {
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
        };
        if let Some(key) = op.key.map(|k| (user, k.to_string())) {
            if let Some((_, first, answer)) = self.answers.iter().find(|a| a.0 == key) {
                return if *first == request {
                    answer.clone()
                } else {
                    Err(Refusal::KeyReused)
                };
            }
            let answer = self.decide(user, &op.kind, now);
            self.answers.push((key, request, answer.clone()));
            return answer;
        }
        self.decide(user, &op.kind, now)
    }

    fn decide(&mut self, user: UserId, kind: &Kind, now: DateTime<Utc>) -> Result<usize, Refusal> {
        match kind {
            Kind::Hold {
                quantity,
                seats,
                book,
            } => {
                let wanted = seats.as_ref().map_or(*quantity, |s| s.len() as u32);
                let has: u32 = self.live().filter(|e| e.0 == user).map(|e| e.2).sum();
                if let Some(limit) = self.limit
                    && has + wanted > limit
                {
                    return Err(Refusal::LimitReached { limit, has });
                }
                let available = self.capacity - self.used();
                let chosen = match (&self.seats, seats) {
                    (None, Some(_)) => return Err(Refusal::NotSeated),
                    (None, None) => Vec::new(),
                    (Some(map), Some(asked)) => {
                        let unknown: Vec<String> =
                            asked.iter().filter(|s| !map.contains(s)).cloned().collect();
                        if !unknown.is_empty() {
                            return Err(Refusal::UnknownSeats { seats: unknown });
                        }
                        let taken: Vec<String> =
                            asked.iter().filter(|s| self.taken(s)).cloned().collect();
                        if !taken.is_empty() {
                            return Err(Refusal::SeatsTaken { seats: taken });
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
                            return Err(Refusal::SoldOut { wanted, available });
                        }
                        free
                    }
                };
                if wanted > available {
                    return Err(Refusal::SoldOut { wanted, available });
                }
                let (state, expires) = if *book {
                    (BookingState::Booked, None)
                } else {
                    (
                        BookingState::Held,
                        Some(now + chrono::Duration::seconds(TTL_S)),
                    )
                };
                self.entries.push((user, state, wanted, chosen, expires));
                Ok(self.entries.len() - 1)
            }
            Kind::Confirm { which } | Kind::Release { which, .. } => {
                let staff = matches!(kind, Kind::Release { staff: true, .. });
                let i = which % self.entries.len().max(1);
                let Some(e) = self.entries.get_mut(i) else {
                    return Err(Refusal::NotFound);
                };
                if e.0 != user && !(staff && e.1.is_live()) {
                    return Err(Refusal::NotFound);
                }
                let confirm = matches!(kind, Kind::Confirm { .. });
                match (e.1, confirm) {
                    (BookingState::Expired, _) if e.0 == user => Err(Refusal::Expired),
                    (s, _) if !s.is_live() => Err(Refusal::Gone),
                    (BookingState::Booked, true) => Ok(i),
                    (_, true) => {
                        e.1 = BookingState::Booked;
                        e.4 = None;
                        Ok(i)
                    }
                    (s, false) => {
                        e.1 = if s == BookingState::Booked {
                            BookingState::Cancelled
                        } else {
                            BookingState::Released
                        };
                        Ok(i)
                    }
                }
            }
        }
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
    ];
    (
        1i64..=3,
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

fn scenario() -> impl Strategy<Value = (bool, u32, Option<u32>, Vec<Op>)> {
    any::<bool>().prop_flat_map(|seated| {
        (
            Just(seated),
            if seated {
                Just(6u32).boxed()
            } else {
                (0u32..10).boxed()
            },
            proptest::option::of(1u32..6),
            proptest::collection::vec(op(seated), 1..60),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn the_ledger_agrees_with_the_reference_model((seated, capacity, limit, ops) in scenario()) {
        let map: Option<Vec<String>> = seated.then(|| MAP.iter().map(|s| (*s).to_owned()).collect());
        let mut ledger = Ledger::new(SessionId(7), terms(capacity, map.clone(), limit), 0);
        let mut model = Model { capacity, seats: map, limit, ..Model::default() };
        // Model entry index -> ledger id.
        let mut ids: Vec<String> = Vec::new();
        let mut now = t(0);
        for op in &ops {
            now += chrono::Duration::seconds(op.after_s);
            ledger.sweep(now);
            let target = |which: usize| ids.get(which % ids.len().max(1)).cloned().unwrap_or_else(|| "none".into());
            let command = match &op.kind {
                Kind::Hold { quantity, seats, book } => Command::Hold {
                    user: UserId(op.user),
                    places: seats.clone().map_or(Places::Quantity(*quantity), Places::Seats),
                    book: *book,
                },
                Kind::Confirm { which } => Command::Confirm { user: UserId(op.user), id: target(*which) },
                Kind::Release { which, staff } => Command::Release { user: UserId(op.user), id: target(*which), staff: *staff },
            };
            let got = ledger.apply(command, op.key.map(|k| k.to_string()), now);
            let want = model.apply(op, now);
            match (&got, &want) {
                (Ok(b), Ok(i)) => {
                    if *i == ids.len() {
                        ids.push(b.id.clone());
                    }
                    prop_assert_eq!(Some(&b.id), ids.get(*i));
                    let e = &model.entries[*i];
                    prop_assert_eq!((b.user, b.quantity), (e.0, e.2));
                    if seated {
                        prop_assert_eq!(b.seats.clone().unwrap_or_default(), e.3.clone());
                    }
                }
                (Err(g), Err(w)) => prop_assert_eq!(g, w),
                _ => prop_assert!(false, "ledger {:?}, model {:?} for {:?}", got, want, op),
            }
            ledger.take_writes();
            prop_assert!(ledger.check().is_ok(), "{:?}", ledger.check());
            let (booked, held, offered) = ledger.counts();
            let live = |s: BookingState| model.live().filter(|e| e.1 == s).map(|e| e.2).sum::<u32>();
            prop_assert_eq!((booked, held, offered), (live(BookingState::Booked), live(BookingState::Held), 0));
            prop_assert!(booked + held + offered <= capacity);
        }
    }
}
