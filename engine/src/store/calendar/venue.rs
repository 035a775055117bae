//! Venues: rows and their queries.

use super::*;
use crate::store::schema::{events, venues};
use crate::store::{Store, StoreError, conflict, with_conn, with_read_conn};
use diesel_async::RunQueryDsl;
use limelight_shared::events::Paging;

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

by_id!(VenueRecord in venues: get venue);

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
}
