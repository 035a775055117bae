//! Events: rows and their queries (paged, sorted, filtered, searched).

use super::*;
use crate::store::schema::{bookings, events, sessions};
use crate::store::{Store, StoreError, with_conn, with_read_conn};
use diesel::dsl::sql;
use diesel::sql_types::Integer;
use diesel_async::{AsyncConnection, RunQueryDsl};
use limelight_shared::events::{EventFilter, Paging};

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

by_id!(EventRecord in events: get event);

impl Store {
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
        let status = filter.status.map(|s| crate::calendar::stored(&s));
        let kind = filter.kind.map(|k| crate::calendar::stored(&k));
        let priority = filter.priority.map(|p| crate::calendar::stored(&p));
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
}
