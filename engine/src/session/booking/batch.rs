//! One batch of ledger commands in one database transaction.
//!
//! The transaction starts by bumping the session row's `ledger_version`. That
//! UPDATE locks the row until commit, on PostgreSQL and SQLite alike, so batches
//! of one session never interleave, even from two processes. If the version is
//! not the one after the ledger's own, another writer has been there: the ledger
//! is rebuilt from the rows inside the same transaction before anything is
//! decided. The batch then stores what changed, checks the invariant again in
//! SQL, and commits; replies go out only after that.

use super::ledger::{Answer, Command, Entry, Ledger, Notice, Remembered, Terms, Write};
use super::waitlist::Waiter;
use crate::store::calendar::LIVE;
use crate::store::schema::{
    bookings, events, idempotency_keys, seat_claims, sessions, waitlist_entries,
};
use crate::store::{BookingRecord, SessionRecord, Store, StoreError, with_conn};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use limelight_shared::booking::{BookingState, WaitlistState};
use limelight_shared::events::SeatMap;
use limelight_shared::ids::{SessionId, UserId};
use std::collections::HashMap;

/// Idempotency keys are answered for a day.
pub const KEY_LIFETIME_HOURS: i64 = 24;

/// A command, with the idempotency key it came with.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Keyed {
    /// The command.
    pub command: Command,
    /// Its idempotency key.
    pub key: Option<String>,
}

/// What a batch did.
#[derive(Debug)]
pub struct Done {
    /// The ledger after the batch.
    pub ledger: Ledger,
    /// One answer per command, in order.
    pub answers: Vec<Answer>,
    /// Holds and offers that expired in the batch.
    pub expired: Vec<Entry>,
    /// What attendees should hear about, now that it is stored.
    pub notices: Vec<Notice>,
}

/// Why a batch failed: nothing of it was stored.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The session is gone.
    #[error("no session with id {0}")]
    NoSession(SessionId),
    /// Storage failed, or a check refused the batch.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E: std::error::Error + 'static> From<bb8::RunError<E>> for BatchError {
    fn from(e: bb8::RunError<E>) -> Self {
        BatchError::Store(e.into())
    }
}

impl From<diesel::result::Error> for BatchError {
    fn from(e: diesel::result::Error) -> Self {
        BatchError::Store(StoreError::Query(e))
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = bookings)]
struct BookingRow {
    id: String,
    session_id: i64,
    user_id: i64,
    state: &'static str,
    quantity: i32,
    seats: Option<String>,
    expires_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = seat_claims)]
struct ClaimRow {
    session_id: i64,
    seat: String,
    booking_id: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = idempotency_keys)]
struct AnswerRow {
    session_id: i64,
    user_id: i64,
    key: String,
    request: String,
    status: i32,
    response: String,
    created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = waitlist_entries)]
struct WaiterRow {
    id: String,
    session_id: i64,
    user_id: i64,
    tier: &'static str,
    party: i32,
    seq: i64,
    state: &'static str,
    offer_id: Option<String>,
    joined_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// A stored waitlist entry.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = waitlist_entries)]
struct WaiterRecord {
    id: String,
    user_id: i64,
    tier: String,
    party: i32,
    seq: i64,
    state: String,
    offer_id: Option<String>,
    joined_at: NaiveDateTime,
}

/// New rows of a batch.
#[derive(Debug, Default)]
struct NewRows {
    bookings: Vec<BookingRow>,
    claims: Vec<ClaimRow>,
    answers: Vec<AnswerRow>,
    waiters: Vec<WaiterRow>,
}

/// Inserting many rows at once: one statement per table on PostgreSQL; on SQLite,
/// one trip to its thread for all of them.
trait Bulk {
    fn insert_rows(
        &mut self,
        rows: NewRows,
    ) -> impl std::future::Future<Output = QueryResult<()>> + Send;
}

impl Bulk for AsyncPgConnection {
    async fn insert_rows(&mut self, rows: NewRows) -> QueryResult<()> {
        // PostgreSQL takes at most 65,535 bound values per statement.
        for chunk in rows.bookings.chunks(4096) {
            diesel::insert_into(bookings::table)
                .values(chunk)
                .execute(self)
                .await?;
        }
        for chunk in rows.claims.chunks(8192) {
            diesel::insert_into(seat_claims::table)
                .values(chunk)
                .execute(self)
                .await?;
        }
        for chunk in rows.answers.chunks(4096) {
            diesel::insert_into(idempotency_keys::table)
                .values(chunk)
                .execute(self)
                .await?;
        }
        for chunk in rows.waiters.chunks(4096) {
            diesel::insert_into(waitlist_entries::table)
                .values(chunk)
                .execute(self)
                .await?;
        }
        Ok(())
    }
}

impl Bulk for crate::store::SqliteConn {
    async fn insert_rows(&mut self, rows: NewRows) -> QueryResult<()> {
        self.spawn_blocking(move |conn| {
            use diesel::RunQueryDsl as Sync;
            for row in &rows.bookings {
                Sync::execute(diesel::insert_into(bookings::table).values(row), conn)?;
            }
            for row in &rows.claims {
                Sync::execute(diesel::insert_into(seat_claims::table).values(row), conn)?;
            }
            for row in &rows.answers {
                Sync::execute(
                    diesel::insert_into(idempotency_keys::table).values(row),
                    conn,
                )?;
            }
            for row in &rows.waiters {
                Sync::execute(
                    diesel::insert_into(waitlist_entries::table).values(row),
                    conn,
                )?;
            }
            Ok(())
        })
        .await
    }
}

/// How a stored session sells, given whether its event is active.
pub fn terms(record: &SessionRecord, event_active: bool) -> Result<Terms, StoreError> {
    let seats = record
        .seat_map
        .as_deref()
        .map(|json| {
            serde_json::from_str::<SeatMap>(json)
                .map(|m| m.bookable())
                .map_err(|e| StoreError::Corrupt(format!("session {} seat map: {e}", record.id)))
        })
        .transpose()?;
    Ok(Terms {
        capacity: u32::try_from(record.capacity).unwrap_or_default(),
        seats,
        per_user_limit: record.per_user_limit.and_then(|n| u32::try_from(n).ok()),
        hold_ttl: chrono::Duration::seconds(i64::from(record.hold_ttl_s)),
        open: event_active,
        skip_ahead: record.waitlist_order == "skip_ahead",
    })
}

/// Run one batch. `ledger` is the state after the last batch, or `None` to
/// rebuild it from the database.
pub async fn run(
    store: &Store,
    session: SessionId,
    ledger: Option<Ledger>,
    commands: Vec<Keyed>,
    now: DateTime<Utc>,
) -> Result<Done, BatchError> {
    with_conn!(store, |conn| {
        conn.transaction::<Done, BatchError, _>(async move |conn| {
            let record: Option<SessionRecord> = diesel::update(sessions::table.find(session.0))
                .set(sessions::ledger_version.eq(sessions::ledger_version + 1))
                .returning(SessionRecord::as_returning())
                .get_result(conn)
                .await
                .optional()?;
            let Some(record) = record else {
                return Err(BatchError::NoSession(session));
            };
            let mut ledger = match ledger {
                Some(l) if l.version + 1 == record.ledger_version => l,
                _ => {
                    let status: String = events::table
                        .find(record.event_id)
                        .select(events::status)
                        .first(conn)
                        .await?;
                    let terms = terms(&record, status == "active")?;
                    let mut ledger = Ledger::new(session, terms, record.ledger_version);
                    let keys_from = now.naive_utc() - chrono::Duration::hours(KEY_LIFETIME_HOURS);
                    diesel::delete(
                        idempotency_keys::table
                            .filter(idempotency_keys::session_id.eq(session.0))
                            .filter(idempotency_keys::created_at.lt(keys_from)),
                    )
                    .execute(conn)
                    .await?;
                    let rows: Vec<BookingRecord> = bookings::table
                        .filter(bookings::session_id.eq(session.0))
                        .select(BookingRecord::as_select())
                        .load(conn)
                        .await?;
                    for BookingRecord {
                        id,
                        user_id: user,
                        state,
                        quantity,
                        seats,
                        expires_at,
                        ..
                    } in rows
                    {
                        let state: BookingState = state.parse().map_err(StoreError::Corrupt)?;
                        let user = UserId(user);
                        if !state.is_live() {
                            ledger.restore_ended(id, user, state);
                            continue;
                        }
                        let seats = seats
                            .map(|s| serde_json::from_str::<Vec<String>>(&s))
                            .transpose()
                            .map_err(|e| StoreError::Corrupt(format!("booking {id} seats: {e}")))?;
                        ledger.restore(Entry {
                            id,
                            user,
                            state,
                            quantity: u32::try_from(quantity).unwrap_or_default(),
                            seats,
                            expires_at: expires_at.map(|t| t.and_utc()),
                        });
                    }
                    let keys: Vec<(i64, String, String, String)> = idempotency_keys::table
                        .filter(idempotency_keys::session_id.eq(session.0))
                        .select((
                            idempotency_keys::user_id,
                            idempotency_keys::key,
                            idempotency_keys::request,
                            idempotency_keys::response,
                        ))
                        .load(conn)
                        .await?;
                    for (user, key, request, response) in keys {
                        let answer: Answer = serde_json::from_str(&response).map_err(|e| {
                            StoreError::Corrupt(format!("idempotency key {key:?}: {e}"))
                        })?;
                        ledger.remember(UserId(user), key, Remembered { request, answer });
                    }
                    let waiters: Vec<WaiterRecord> = waitlist_entries::table
                        .filter(waitlist_entries::session_id.eq(session.0))
                        .filter(waitlist_entries::state.eq_any(["waiting", "offered"]))
                        .order(waitlist_entries::seq.asc())
                        .select(WaiterRecord::as_select())
                        .load(conn)
                        .await?;
                    let next_seq: Option<i64> = waitlist_entries::table
                        .filter(waitlist_entries::session_id.eq(session.0))
                        .select(diesel::dsl::max(waitlist_entries::seq))
                        .first(conn)
                        .await?;
                    ledger.restore_seq(next_seq.map_or(0, |s| s + 1));
                    for w in waiters {
                        ledger.restore_waiter(waiter(w)?);
                    }
                    ledger.check().map_err(StoreError::Corrupt)?;
                    ledger
                }
            };
            ledger.version = record.ledger_version;
            let expired = ledger.sweep(now);
            let answers = commands
                .into_iter()
                .map(|c| ledger.apply(c.command, c.key, now))
                .collect();
            ledger.check().map_err(StoreError::Corrupt)?;
            let writes = ledger.take_writes();
            if !writes.is_empty() {
                let st = statements(session, writes, now)?;
                let stamp = now.naive_utc();
                if !st.ended.is_empty() {
                    diesel::delete(
                        seat_claims::table.filter(seat_claims::booking_id.eq_any(&st.ended)),
                    )
                    .execute(conn)
                    .await?;
                }
                for (state, ids) in &st.by_state {
                    diesel::update(bookings::table.filter(bookings::id.eq_any(ids)))
                        .set((
                            bookings::state.eq(state.as_str()),
                            bookings::expires_at.eq(None::<NaiveDateTime>),
                            bookings::updated_at.eq(stamp),
                        ))
                        .execute(conn)
                        .await?;
                }
                conn.insert_rows(st.rows).await?;
                for (id, state, offer) in &st.waiters {
                    diesel::update(waitlist_entries::table.find(id))
                        .set((
                            waitlist_entries::state.eq(state.as_str()),
                            waitlist_entries::offer_id.eq(offer),
                            waitlist_entries::updated_at.eq(stamp),
                        ))
                        .execute(conn)
                        .await?;
                }
                let live: Option<i64> = bookings::table
                    .filter(bookings::session_id.eq(session.0))
                    .filter(bookings::state.eq_any(LIVE))
                    .select(diesel::dsl::sum(bookings::quantity))
                    .first(conn)
                    .await?;
                let live = live.unwrap_or(0);
                if live > i64::from(record.capacity) {
                    return Err(StoreError::Corrupt(format!(
                        "session {session}: {live} live places stored for a capacity of {}",
                        record.capacity
                    ))
                    .into());
                }
            }
            let notices = ledger.take_notices();
            Ok(Done {
                ledger,
                answers,
                expired,
                notices,
            })
        })
        .await
    })
}

/// The statements a batch's writes come to.
#[derive(Debug, Default)]
struct Statements {
    /// Entries that ended: their seat claims go.
    ended: Vec<String>,
    /// Existing entries by their new state.
    by_state: Vec<(BookingState, Vec<String>)>,
    /// New rows.
    rows: NewRows,
    /// Existing waitlist entries' new states and offers.
    waiters: Vec<(String, WaitlistState, Option<String>)>,
}

fn waiter(w: WaiterRecord) -> Result<Waiter, StoreError> {
    Ok(Waiter {
        tier: w.tier.parse().map_err(StoreError::Corrupt)?,
        state: w.state.parse().map_err(StoreError::Corrupt)?,
        party: u32::try_from(w.party).unwrap_or_default(),
        id: w.id,
        user: UserId(w.user_id),
        seq: w.seq,
        offer: w.offer_id,
        joined_at: w.joined_at.and_utc(),
    })
}

/// The net effect of `writes`: an entry made and ended in the same batch is
/// inserted in its final state and never claims its seats; seats of entries that
/// ended are freed before new claims are made.
fn statements(
    session: SessionId,
    writes: Vec<Write>,
    now: DateTime<Utc>,
) -> Result<Statements, StoreError> {
    let now = now.naive_utc();
    let mut inserted: Vec<Entry> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut changed: HashMap<String, BookingState> = HashMap::new();
    let mut rows = NewRows::default();
    let mut new_waiters: Vec<Waiter> = Vec::new();
    let mut waiter_index: HashMap<String, usize> = HashMap::new();
    let mut waiters: Vec<(String, WaitlistState, Option<String>)> = Vec::new();
    for write in writes {
        match write {
            Write::Insert(entry) => {
                index.insert(entry.id.clone(), inserted.len());
                inserted.push(entry);
            }
            Write::State { id, state, .. } => match index.get(&id) {
                Some(&i) => {
                    if let Some(e) = inserted.get_mut(i) {
                        e.state = state;
                        if !matches!(state, BookingState::Held | BookingState::Offered) {
                            e.expires_at = None;
                        }
                    }
                }
                None => {
                    changed.insert(id, state);
                }
            },
            Write::WaitInsert(w) => {
                waiter_index.insert(w.id.clone(), new_waiters.len());
                new_waiters.push(w);
            }
            Write::WaitState { id, state, offer } => match waiter_index.get(&id) {
                Some(&i) => {
                    if let Some(w) = new_waiters.get_mut(i) {
                        w.state = state;
                        w.offer = offer;
                    }
                }
                None => waiters.push((id, state, offer)),
            },
            Write::Remember {
                user,
                key,
                remembered,
            } => rows.answers.push(AnswerRow {
                session_id: session.0,
                user_id: user.0,
                key,
                request: remembered.request,
                status: i32::from(remembered.answer.is_err()),
                response: serde_json::to_string(&remembered.answer)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                created_at: now,
            }),
        }
    }
    let ended: Vec<String> = changed
        .iter()
        .filter(|(_, s)| !s.is_live())
        .map(|(id, _)| id.clone())
        .collect();
    let mut by_state: HashMap<BookingState, Vec<String>> = HashMap::new();
    for (id, state) in changed {
        by_state.entry(state).or_default().push(id);
    }
    for e in inserted {
        if e.state.is_live() {
            for seat in e.seats.iter().flatten() {
                rows.claims.push(ClaimRow {
                    session_id: session.0,
                    seat: seat.clone(),
                    booking_id: e.id.clone(),
                });
            }
        }
        rows.bookings.push(BookingRow {
            seats: e
                .seats
                .as_ref()
                .map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into())),
            id: e.id,
            session_id: session.0,
            user_id: e.user.0,
            state: e.state.as_str(),
            quantity: i32::try_from(e.quantity).unwrap_or(i32::MAX),
            expires_at: e.expires_at.map(|t| t.naive_utc()),
            created_at: now,
            updated_at: now,
        });
    }
    rows.waiters = new_waiters
        .into_iter()
        .map(|w| WaiterRow {
            id: w.id,
            session_id: session.0,
            user_id: w.user.0,
            tier: w.tier.as_str(),
            party: i32::try_from(w.party).unwrap_or(i32::MAX),
            seq: w.seq,
            state: w.state.as_str(),
            offer_id: w.offer,
            joined_at: w.joined_at.naive_utc(),
            updated_at: now,
        })
        .collect();
    Ok(Statements {
        ended,
        by_state: by_state.into_iter().collect(),
        rows,
        waiters,
    })
}
