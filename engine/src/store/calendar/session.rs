//! Sessions and their bookings: rows and their queries.

use super::*;
use crate::store::schema::{bookings, seat_claims, sessions};
use crate::store::{Store, StoreError, with_conn, with_read_conn};
use diesel_async::{AsyncConnection, RunQueryDsl};
use limelight_shared::events::Paging;

/// A stored session; its row is also its inventory (see the ledger).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRecord {
    /// Row id.
    #[diesel(skip_insertion)]
    pub id: i64,
    /// Its event.
    pub event_id: i64,
    /// Title.
    pub title: String,
    /// Room.
    pub room: String,
    /// Start (UTC).
    pub starts_at: chrono::NaiveDateTime,
    /// End (UTC).
    pub ends_at: chrono::NaiveDateTime,
    /// Places.
    pub capacity: i32,
    /// The seat map as JSON, for a seated session.
    pub seat_map: Option<String>,
    /// Most places per attendee.
    pub per_user_limit: Option<i32>,
    /// Hold lifetime, seconds.
    pub hold_ttl_s: i32,
    /// `strict` or `skip_ahead`.
    pub waitlist_order: String,
    /// Bumped by every ledger batch.
    #[diesel(skip_insertion)]
    pub ledger_version: i64,
    /// Creation time (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

/// Live states of a booking, as stored.
pub(crate) const LIVE: [&str; 3] = ["held", "offered", "booked"];

/// A stored hold, offer or booking.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bookings)]
pub struct BookingRecord {
    /// Id (a UUID).
    pub id: String,
    /// The session.
    pub session_id: i64,
    /// Whose.
    pub user_id: i64,
    /// `held`, `offered`, `booked`, `released`, `expired` or `cancelled`.
    pub state: String,
    /// Places.
    pub quantity: i32,
    /// JSON array of seats.
    pub seats: Option<String>,
    /// When a hold or offer lapses (UTC).
    pub expires_at: Option<chrono::NaiveDateTime>,
    /// Creation time (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

by_id!(SessionRecord in sessions: get session);

impl Store {
    /// Add a session.
    pub async fn insert_session(&self, row: &SessionRecord) -> Result<SessionRecord, StoreError> {
        with_conn!(self, |conn| {
            Ok(diesel::insert_into(sessions::table)
                .values(row)
                .returning(SessionRecord::as_returning())
                .get_result(conn)
                .await?)
        })
    }

    /// Replace a session. The update locks the row as a ledger batch does and
    /// bumps its version, so the ledger takes the new terms up at its next batch.
    /// The capacity may not drop below the places held, offered and booked, and
    /// the seat map may not change while any seat is claimed.
    pub async fn update_session(
        &self,
        row: &SessionRecord,
    ) -> Result<Option<SessionRecord>, StoreError> {
        with_conn!(self, |conn| {
            conn.transaction::<_, StoreError, _>(async move |conn| {
                let old: Option<SessionRecord> = diesel::update(sessions::table.find(row.id))
                    .set(sessions::ledger_version.eq(sessions::ledger_version + 1))
                    .returning(SessionRecord::as_returning())
                    .get_result(conn)
                    .await
                    .optional()?;
                let Some(old) = old else {
                    return Ok(None);
                };
                let live: Option<i64> = bookings::table
                    .filter(bookings::session_id.eq(row.id))
                    .filter(bookings::state.eq_any(LIVE))
                    .select(diesel::dsl::sum(bookings::quantity))
                    .first(conn)
                    .await?;
                let live = live.unwrap_or(0);
                if i64::from(row.capacity) < live {
                    return Err(StoreError::Conflict(format!(
                        "{live} places are held, offered or booked; the capacity cannot \
                             drop to {}",
                        row.capacity
                    )));
                }
                if old.seat_map != row.seat_map {
                    let claimed: i64 = seat_claims::table
                        .filter(seat_claims::session_id.eq(row.id))
                        .count()
                        .get_result(conn)
                        .await?;
                    if claimed > 0 {
                        return Err(StoreError::Conflict(format!(
                            "{claimed} seats are held, offered or booked; the seat map \
                                 cannot change"
                        )));
                    }
                }
                Ok(diesel::update(sessions::table.find(row.id))
                    .set((
                        sessions::title.eq(&row.title),
                        sessions::room.eq(&row.room),
                        sessions::starts_at.eq(row.starts_at),
                        sessions::ends_at.eq(row.ends_at),
                        sessions::capacity.eq(row.capacity),
                        sessions::seat_map.eq(&row.seat_map),
                        sessions::per_user_limit.eq(row.per_user_limit),
                        sessions::hold_ttl_s.eq(row.hold_ttl_s),
                        sessions::waitlist_order.eq(&row.waitlist_order),
                        sessions::updated_at.eq(row.updated_at),
                    ))
                    .returning(SessionRecord::as_returning())
                    .get_result(conn)
                    .await
                    .optional()?)
            })
            .await
        })
    }

    /// Remove a session unless it has a live hold, offer or booking; whether there
    /// was one.
    pub async fn delete_session(&self, id: i64) -> Result<bool, StoreError> {
        with_conn!(self, |conn| {
            conn.transaction::<_, StoreError, _>(async move |conn| {
                let found = diesel::update(sessions::table.find(id))
                    .set(sessions::ledger_version.eq(sessions::ledger_version + 1))
                    .execute(conn)
                    .await?;
                let live: i64 = bookings::table
                    .filter(bookings::session_id.eq(id))
                    .filter(bookings::state.eq_any(LIVE))
                    .count()
                    .get_result(conn)
                    .await?;
                if live > 0 {
                    return Err(StoreError::Conflict(format!(
                        "the session has {live} live holds or bookings; cancel them first"
                    )));
                }
                diesel::delete(sessions::table.find(id))
                    .execute(conn)
                    .await?;
                Ok(found > 0)
            })
            .await
        })
    }

    /// One attendee's holds and bookings, live or not, newest first.
    pub async fn bookings_of_user(
        &self,
        user: i64,
        limit: i64,
    ) -> Result<Vec<BookingRecord>, StoreError> {
        with_read_conn!(self, |conn| {
            Ok(bookings::table
                .filter(bookings::user_id.eq(user))
                .order((bookings::created_at.desc(), bookings::id.asc()))
                .limit(limit)
                .select(BookingRecord::as_select())
                .load(conn)
                .await?)
        })
    }

    /// A page of a session's holds and bookings, live or not, oldest first.
    pub async fn bookings_of_session(
        &self,
        session: i64,
        paging: &Paging,
    ) -> Result<Rows<BookingRecord>, StoreError> {
        with_read_conn!(self, |conn| {
            let items = bookings::table
                .filter(bookings::session_id.eq(session))
                .order((bookings::created_at.asc(), bookings::id.asc()))
                .limit(i64::from(paging.limit))
                .offset(paging.offset())
                .select(BookingRecord::as_select())
                .load(conn)
                .await?;
            let total: i64 = bookings::table
                .filter(bookings::session_id.eq(session))
                .count()
                .get_result(conn)
                .await?;
            Ok(Rows {
                items,
                total: count(total),
            })
        })
    }

    /// A page of an event's sessions.
    pub async fn list_sessions(
        &self,
        event: i64,
        paging: &Paging,
        sort: (&str, bool),
    ) -> Result<Rows<SessionRecord>, StoreError> {
        with_read_conn!(self, |conn| {
            let mut q = sessions::table
                .filter(sessions::event_id.eq(event))
                .select(SessionRecord::as_select())
                .into_boxed();
            q = order_by!(q, sort, {
                "title" => sessions::title,
                "room" => sessions::room,
                "capacity" => sessions::capacity,
                "id" => sessions::id,
            } else sessions::starts_at);
            load_page!(
                q,
                sessions::id,
                paging,
                sessions::table.filter(sessions::event_id.eq(event)),
                conn
            )
        })
    }
}
