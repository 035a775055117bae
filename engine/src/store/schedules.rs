//! Schedule entries (JSON documents, like scenes) and overrides of the schedule.

use super::schema::schedule_overrides;
use super::{Store, StoreError, with_conn, with_read_conn};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

super::documents::named_documents! {
    /// A stored schedule entry (its `ScheduleSpec` as JSON).
    ScheduleRecord in schedules, "schedule entry":
    insert insert_schedule, update update_schedule, list list_schedules, get schedule,
    delete delete_schedule
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
        with_read_conn!(self, |conn| {
            Ok(schedule_overrides::table
                .select(OverrideRecord::as_select())
                .load(conn)
                .await?)
        })
    }
}
