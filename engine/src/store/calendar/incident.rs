//! Incidents: rows and their queries.

use super::*;
use crate::store::schema::incidents;
use crate::store::{Store, StoreError, with_conn, with_read_conn};
use diesel::dsl::sql;
use diesel::sql_types::Integer;
use diesel_async::RunQueryDsl;
use limelight_shared::events::{IncidentFilter, Paging};

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

by_id!(IncidentRecord in incidents: get incident, delete delete_incident, "the incident is still referenced");

impl Store {
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
        let status = filter.status.map(|s| crate::calendar::stored(&s));
        let priority = filter.priority.map(|p| crate::calendar::stored(&p));
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
