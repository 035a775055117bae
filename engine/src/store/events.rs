//! Venues, events, sessions and incidents: rows, and list queries that page, sort,
//! filter and search.

use super::schema::{bookings, events, incidents, seat_claims, sessions, venues};
use super::{Store, StoreError, conflict, with_conn, with_read_conn};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::Integer;
use diesel_async::{AsyncConnection, RunQueryDsl};
use limelight_shared::events::{EventFilter, IncidentFilter, Paging};

diesel::define_sql_function!(
    /// SQL `lower()`, for case-insensitive search on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text
);

/// Rank of an urgency stored as text, so it sorts low → critical.
const URGENCY_RANK: &str =
    "CASE priority WHEN 'low' THEN 0 WHEN 'normal' THEN 1 WHEN 'high' THEN 2 ELSE 3 END";
/// Rank of an incident status, so it sorts open → resolved.
const STATUS_RANK: &str = "CASE status WHEN 'open' THEN 0 WHEN 'investigating' THEN 1 ELSE 2 END";

/// A stored venue.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = venues)]
pub struct VenueRecord {
    /// Row id.
    #[diesel(skip_insertion)]
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Postal address.
    pub address: String,
    /// IANA time zone.
    pub timezone: String,
    /// Whether an emergency switches the canvases' emergency override on.
    pub emergency_canvases: bool,
    /// Creation time (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

/// A stored event.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = events)]
pub struct EventRecord {
    /// Row id.
    #[diesel(skip_insertion)]
    pub id: i64,
    /// Its venue.
    pub venue_id: i64,
    /// Name.
    pub name: String,
    /// `conference`, `meeting`, `show` or `emergency`.
    pub kind: String,
    /// `draft`, `active` or `cancelled`.
    pub status: String,
    /// `low`, `normal`, `high` or `critical`.
    pub priority: String,
    /// Where in the venue.
    pub location: String,
    /// Start (UTC).
    pub starts_at: chrono::NaiveDateTime,
    /// End (UTC).
    pub ends_at: chrono::NaiveDateTime,
    /// JSON object.
    pub metadata: String,
    /// Creation time (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

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

/// A stored incident.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = incidents)]
#[diesel(treat_none_as_null = true)]
pub struct IncidentRecord {
    /// Row id.
    #[diesel(skip_insertion)]
    pub id: i64,
    /// The event, if any.
    pub event_id: Option<i64>,
    /// Title.
    pub title: String,
    /// Details.
    pub description: String,
    /// `open`, `investigating` or `resolved`.
    pub status: String,
    /// `low`, `normal`, `high` or `critical`.
    pub priority: String,
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

/// A page of rows and how many match in all.
#[derive(Debug, Clone)]
pub struct Rows<T> {
    /// This page.
    pub items: Vec<T>,
    /// Rows matching the filters.
    pub total: u64,
}

/// `%text%` for LIKE, with LIKE's wildcards in `text` taken literally.
fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

/// A foreign-key refusal (a venue still has events) as a conflict naming `what`.
fn in_use(what: impl Into<String>) -> impl FnOnce(DieselError) -> StoreError {
    move |e| match e {
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            StoreError::Conflict(what.into())
        }
        other => StoreError::Query(other),
    }
}

/// `$q` ordered by the column named in `$sort` (field, descending), or by
/// `$default`.
macro_rules! order_by {
    ($q:ident, $sort:expr, { $($name:literal => $column:expr),* $(,)? } else $default:expr) => {
        match $sort {
            $(($name, true) => $q.order($column.desc()),)*
            $(($name, false) => $q.order($column.asc()),)*
            (_, true) => $q.order($default.desc()),
            (_, false) => $q.order($default.asc()),
        }
    };
}

/// One page of `$q` (ties broken by `$id`) and the count of `$all`.
macro_rules! load_page {
    ($q:expr, $id:expr, $paging:expr, $all:expr, $conn:ident) => {{
        let items = $q
            .then_order_by($id.asc())
            .limit(i64::from($paging.limit))
            .offset($paging.offset())
            .load($conn)
            .await?;
        let total: i64 = $all.count().get_result($conn).await?;
        Ok(Rows {
            items,
            total: count(total),
        })
    }};
}

/// Queries for one table of rows with an `id`: get and delete.
macro_rules! by_id {
    ($record:ident in $table:ident: get $get:ident) => {
        impl Store {
            /// A row by id.
            pub async fn $get(&self, id: i64) -> Result<Option<$record>, StoreError> {
                with_read_conn!(self, |conn| {
                    Ok($table::table
                        .find(id)
                        .select($record::as_select())
                        .first(conn)
                        .await
                        .optional()?)
                })
            }
        }
    };
    ($record:ident in $table:ident: get $get:ident, delete $delete:ident, $in_use:literal) => {
        impl Store {
            /// A row by id.
            pub async fn $get(&self, id: i64) -> Result<Option<$record>, StoreError> {
                with_read_conn!(self, |conn| {
                    Ok($table::table
                        .find(id)
                        .select($record::as_select())
                        .first(conn)
                        .await
                        .optional()?)
                })
            }

            /// Remove a row; whether there was one.
            pub async fn $delete(&self, id: i64) -> Result<bool, StoreError> {
                with_conn!(self, |conn| {
                    Ok(diesel::delete($table::table.find(id))
                        .execute(conn)
                        .await
                        .map_err(in_use($in_use))?
                        > 0)
                })
            }
        }
    };
}

by_id!(VenueRecord in venues: get venue);
by_id!(EventRecord in events: get event);
by_id!(SessionRecord in sessions: get session);
by_id!(IncidentRecord in incidents: get incident, delete delete_incident, "the incident is still referenced");

impl Store {
    /// Add a venue.
    pub async fn insert_venue(&self, row: &VenueRecord) -> Result<VenueRecord, StoreError> {
        let taken = format!("a venue named {:?} exists", row.name);
        with_conn!(self, |conn| {
            diesel::insert_into(venues::table)
                .values(row)
                .returning(VenueRecord::as_returning())
                .get_result(conn)
                .await
                .map_err(conflict(taken))
        })
    }

    /// Remove a venue that has no events; whether there was one.
    pub async fn delete_venue(&self, id: i64) -> Result<bool, StoreError> {
        with_conn!(self, |conn| {
            let events: i64 = events::table
                .filter(events::venue_id.eq(id))
                .count()
                .get_result(conn)
                .await?;
            if events > 0 {
                return Err(StoreError::Conflict(format!(
                    "the venue has {events} events; remove them first"
                )));
            }
            Ok(diesel::delete(venues::table.find(id))
                .execute(conn)
                .await
                .map_err(in_use("the venue has events"))?
                > 0)
        })
    }

    /// Replace a venue (all but its id and creation time).
    pub async fn update_venue(&self, row: &VenueRecord) -> Result<Option<VenueRecord>, StoreError> {
        let taken = format!("a venue named {:?} exists", row.name);
        with_conn!(self, |conn| {
            diesel::update(venues::table.find(row.id))
                .set((
                    venues::name.eq(&row.name),
                    venues::address.eq(&row.address),
                    venues::timezone.eq(&row.timezone),
                    venues::emergency_canvases.eq(row.emergency_canvases),
                    venues::updated_at.eq(row.updated_at),
                ))
                .returning(VenueRecord::as_returning())
                .get_result(conn)
                .await
                .optional()
                .map_err(conflict(taken))
        })
    }

    /// A page of venues.
    pub async fn list_venues(
        &self,
        paging: &Paging,
        sort: (&str, bool),
    ) -> Result<Rows<VenueRecord>, StoreError> {
        with_read_conn!(self, |conn| {
            let mut q = venues::table.select(VenueRecord::as_select()).into_boxed();
            q = order_by!(q, sort, {
                "name" => venues::name,
                "created_at" => venues::created_at,
            } else venues::id);
            load_page!(q, venues::id, paging, venues::table, conn)
        })
    }

    /// Add an event.
    pub async fn insert_event(&self, row: &EventRecord) -> Result<EventRecord, StoreError> {
        with_conn!(self, |conn| {
            Ok(diesel::insert_into(events::table)
                .values(row)
                .returning(EventRecord::as_returning())
                .get_result(conn)
                .await?)
        })
    }

    /// Replace an event (all but its id and creation time). Its sessions' ledgers
    /// take up the change (an event opened or closed) at their next batch.
    pub async fn update_event(&self, row: &EventRecord) -> Result<Option<EventRecord>, StoreError> {
        with_conn!(self, |conn| {
            conn.transaction::<_, StoreError, _>(async move |conn| {
                diesel::update(sessions::table.filter(sessions::event_id.eq(row.id)))
                    .set(sessions::ledger_version.eq(sessions::ledger_version + 1))
                    .execute(conn)
                    .await?;
                Ok(diesel::update(events::table.find(row.id))
                    .set((
                        events::venue_id.eq(row.venue_id),
                        events::name.eq(&row.name),
                        events::kind.eq(&row.kind),
                        events::status.eq(&row.status),
                        events::priority.eq(&row.priority),
                        events::location.eq(&row.location),
                        events::starts_at.eq(row.starts_at),
                        events::ends_at.eq(row.ends_at),
                        events::metadata.eq(&row.metadata),
                        events::updated_at.eq(row.updated_at),
                    ))
                    .returning(EventRecord::as_returning())
                    .get_result(conn)
                    .await
                    .optional()?)
            })
            .await
        })
    }

    /// Remove an event and its sessions, unless one of them has a live hold, offer
    /// or booking; whether there was one.
    pub async fn delete_event(&self, id: i64) -> Result<bool, StoreError> {
        with_conn!(self, |conn| {
            conn.transaction::<_, StoreError, _>(async move |conn| {
                // Lock the sessions' rows: no ledger batch runs meanwhile.
                diesel::update(sessions::table.filter(sessions::event_id.eq(id)))
                    .set(sessions::ledger_version.eq(sessions::ledger_version + 1))
                    .execute(conn)
                    .await?;
                let live: i64 = bookings::table
                    .inner_join(sessions::table)
                    .filter(sessions::event_id.eq(id))
                    .filter(bookings::state.eq_any(LIVE))
                    .count()
                    .get_result(conn)
                    .await?;
                if live > 0 {
                    return Err(StoreError::Conflict(format!(
                        "the event's sessions have {live} live holds or bookings; \
                             cancel them first"
                    )));
                }
                Ok(diesel::delete(events::table.find(id)).execute(conn).await? > 0)
            })
            .await
        })
    }

    /// A page of events matching `filter`.
    pub async fn list_events(
        &self,
        filter: &EventFilter,
        paging: &Paging,
        sort: (&str, bool),
        published_only: bool,
    ) -> Result<Rows<EventRecord>, StoreError> {
        let pattern = filter.q.as_deref().map(contains_pattern);
        let status = filter.status.map(|s| crate::events::stored(&s));
        let kind = filter.kind.map(|k| crate::events::stored(&k));
        let priority = filter.priority.map(|p| crate::events::stored(&p));
        let from = filter.from.map(|t| t.naive_utc());
        let to = filter.to.map(|t| t.naive_utc());
        macro_rules! filtered {
            () => {{
                let mut q = events::table.into_boxed();
                if published_only {
                    q = q.filter(events::status.ne("draft"));
                }
                if let Some(p) = &pattern {
                    q = q.filter(lower(events::name).like(p.clone()).escape('\\'));
                }
                if let Some(s) = &status {
                    q = q.filter(events::status.eq(s.clone()));
                }
                if let Some(k) = &kind {
                    q = q.filter(events::kind.eq(k.clone()));
                }
                if let Some(p) = &priority {
                    q = q.filter(events::priority.eq(p.clone()));
                }
                if let Some(v) = filter.venue {
                    q = q.filter(events::venue_id.eq(v.0));
                }
                if let Some(t) = from {
                    q = q.filter(events::ends_at.gt(t));
                }
                if let Some(t) = to {
                    q = q.filter(events::starts_at.lt(t));
                }
                q
            }};
        }
        with_read_conn!(self, |conn| {
            let mut q = filtered!().select(EventRecord::as_select());
            q = order_by!(q, sort, {
                "name" => events::name,
                "ends_at" => events::ends_at,
                "priority" => sql::<Integer>(URGENCY_RANK),
                "created_at" => events::created_at,
                "id" => events::id,
            } else events::starts_at);
            load_page!(q, events::id, paging, filtered!(), conn)
        })
    }

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

    /// Add an incident.
    pub async fn insert_incident(
        &self,
        row: &IncidentRecord,
    ) -> Result<IncidentRecord, StoreError> {
        with_conn!(self, |conn| {
            Ok(diesel::insert_into(incidents::table)
                .values(row)
                .returning(IncidentRecord::as_returning())
                .get_result(conn)
                .await?)
        })
    }

    /// Replace an incident (all but its id and creation time).
    pub async fn update_incident(
        &self,
        row: &IncidentRecord,
    ) -> Result<Option<IncidentRecord>, StoreError> {
        with_conn!(self, |conn| {
            Ok(diesel::update(incidents::table.find(row.id))
                .set((
                    incidents::event_id.eq(row.event_id),
                    incidents::title.eq(&row.title),
                    incidents::description.eq(&row.description),
                    incidents::status.eq(&row.status),
                    incidents::priority.eq(&row.priority),
                    incidents::updated_at.eq(row.updated_at),
                ))
                .returning(IncidentRecord::as_returning())
                .get_result(conn)
                .await
                .optional()?)
        })
    }

    /// A page of incidents matching `filter`.
    pub async fn list_incidents(
        &self,
        filter: &IncidentFilter,
        paging: &Paging,
        sort: (&str, bool),
    ) -> Result<Rows<IncidentRecord>, StoreError> {
        let status = filter.status.map(|s| crate::events::stored(&s));
        let priority = filter.priority.map(|p| crate::events::stored(&p));
        macro_rules! filtered {
            () => {{
                let mut q = incidents::table.into_boxed();
                if let Some(s) = &status {
                    q = q.filter(incidents::status.eq(s.clone()));
                }
                if let Some(p) = &priority {
                    q = q.filter(incidents::priority.eq(p.clone()));
                }
                if let Some(e) = filter.event {
                    q = q.filter(incidents::event_id.eq(e.0));
                }
                q
            }};
        }
        with_read_conn!(self, |conn| {
            let mut q = filtered!().select(IncidentRecord::as_select());
            q = order_by!(q, sort, {
                "updated_at" => incidents::updated_at,
                "priority" => sql::<Integer>(URGENCY_RANK),
                "status" => sql::<Integer>(STATUS_RANK),
                "title" => incidents::title,
                "id" => incidents::id,
            } else incidents::created_at);
            load_page!(q, incidents::id, paging, filtered!(), conn)
        })
    }
}
