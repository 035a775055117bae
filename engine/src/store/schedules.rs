//! Schedule entries (JSON documents, like scenes) and overrides of the schedule.

use super::schema::{schedule_overrides, schedules};
use super::{Store, StoreError, conflict, with_conn};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// A stored schedule entry.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = schedules)]
pub struct ScheduleRecord {
    /// Row id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// The `ScheduleSpec` as JSON.
    pub spec: String,
    /// Creation time (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

/// A stored override.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = schedule_overrides)]
pub struct OverrideRecord {
    /// The canvas.
    pub canvas_id: i64,
    /// The `Play` as JSON.
    pub play: String,
    /// The `OverrideScope` as JSON.
    pub scope: String,
    /// Who took it.
    pub taken_by: String,
    /// When (UTC).
    pub since: chrono::NaiveDateTime,
}

impl Store {
    /// Add a schedule entry.
    pub async fn insert_schedule(
        &self,
        name: &str,
        spec: &str,
    ) -> Result<ScheduleRecord, StoreError> {
        let now = super::now();
        let row = (
            schedules::name.eq(name),
            schedules::spec.eq(spec),
            schedules::created_at.eq(now),
            schedules::updated_at.eq(now),
        );
        with_conn!(self, |conn| {
            diesel::insert_into(schedules::table)
                .values(row)
                .returning(ScheduleRecord::as_returning())
                .get_result(conn)
                .await
                .map_err(conflict(format!("a schedule entry named {name:?} exists")))
        })
    }

    /// Replace an entry; `None` when there is no such entry.
    pub async fn update_schedule(
        &self,
        id: i64,
        name: &str,
        spec: &str,
    ) -> Result<Option<ScheduleRecord>, StoreError> {
        with_conn!(self, |conn| {
            diesel::update(schedules::table.find(id))
                .set((
                    schedules::name.eq(name),
                    schedules::spec.eq(spec),
                    schedules::updated_at.eq(super::now()),
                ))
                .returning(ScheduleRecord::as_returning())
                .get_result(conn)
                .await
                .optional()
                .map_err(conflict(format!("a schedule entry named {name:?} exists")))
        })
    }

    /// All entries by id.
    pub async fn list_schedules(&self) -> Result<Vec<ScheduleRecord>, StoreError> {
        with_conn!(self, |conn| {
            Ok(schedules::table
                .order(schedules::id)
                .select(ScheduleRecord::as_select())
                .load(conn)
                .await?)
        })
    }

    /// An entry by id.
    pub async fn schedule(&self, id: i64) -> Result<Option<ScheduleRecord>, StoreError> {
        with_conn!(self, |conn| {
            Ok(schedules::table
                .find(id)
                .select(ScheduleRecord::as_select())
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// Remove an entry; whether one was removed.
    pub async fn delete_schedule(&self, id: i64) -> Result<bool, StoreError> {
        with_conn!(self, |conn| {
            Ok(diesel::delete(schedules::table.find(id))
                .execute(conn)
                .await?
                > 0)
        })
    }

    /// Set the override of a canvas, replacing one there.
    pub async fn put_override(&self, record: OverrideRecord) -> Result<(), StoreError> {
        with_conn!(self, |conn| {
            diesel::insert_into(schedule_overrides::table)
                .values(record.clone())
                .on_conflict(schedule_overrides::canvas_id)
                .do_update()
                .set((
                    schedule_overrides::play.eq(&record.play),
                    schedule_overrides::scope.eq(&record.scope),
                    schedule_overrides::taken_by.eq(&record.taken_by),
                    schedule_overrides::since.eq(record.since),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    /// Remove the override of a canvas; whether there was one.
    pub async fn delete_override(&self, canvas_id: i64) -> Result<bool, StoreError> {
        with_conn!(self, |conn| {
            Ok(diesel::delete(schedule_overrides::table.find(canvas_id))
                .execute(conn)
                .await?
                > 0)
        })
    }

    /// Every override.
    pub async fn list_overrides(&self) -> Result<Vec<OverrideRecord>, StoreError> {
        with_conn!(self, |conn| {
            Ok(schedule_overrides::table
                .select(OverrideRecord::as_select())
                .load(conn)
                .await?)
        })
    }
}
