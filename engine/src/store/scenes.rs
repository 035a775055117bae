//! Scenes, stored as JSON documents.

use super::schema::scenes;
use super::{Store, StoreError, conflict, with_conn, with_read_conn};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// A stored scene.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = scenes)]
pub struct SceneRecord {
    /// Row id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// The `SceneSpec` as JSON.
    pub spec: String,
    /// `file` or `api`.
    pub origin: String,
    /// Creation time (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

impl Store {
    /// Add a scene.
    pub async fn insert_scene(
        &self,
        name: &str,
        spec: &str,
        origin: &str,
    ) -> Result<SceneRecord, StoreError> {
        let now = super::now();
        let row = (
            scenes::name.eq(name),
            scenes::spec.eq(spec),
            scenes::origin.eq(origin),
            scenes::created_at.eq(now),
            scenes::updated_at.eq(now),
        );
        with_conn!(self, |conn| {
            diesel::insert_into(scenes::table)
                .values(row)
                .returning(SceneRecord::as_returning())
                .get_result(conn)
                .await
                .map_err(conflict(format!("a scene named {name:?} exists")))
        })
    }

    /// Replace a scene's name and document; `None` when there is no such scene.
    pub async fn update_scene(
        &self,
        id: i64,
        name: &str,
        spec: &str,
    ) -> Result<Option<SceneRecord>, StoreError> {
        with_conn!(self, |conn| {
            diesel::update(scenes::table.find(id))
                .set((
                    scenes::name.eq(name),
                    scenes::spec.eq(spec),
                    scenes::updated_at.eq(super::now()),
                ))
                .returning(SceneRecord::as_returning())
                .get_result(conn)
                .await
                .optional()
                .map_err(conflict(format!("a scene named {name:?} exists")))
        })
    }

    /// All scenes by name.
    pub async fn list_scenes(&self) -> Result<Vec<SceneRecord>, StoreError> {
        with_read_conn!(self, |conn| {
            Ok(scenes::table
                .order(scenes::name)
                .select(SceneRecord::as_select())
                .load(conn)
                .await?)
        })
    }

    /// A scene by id.
    pub async fn scene(&self, id: i64) -> Result<Option<SceneRecord>, StoreError> {
        with_read_conn!(self, |conn| {
            Ok(scenes::table
                .find(id)
                .select(SceneRecord::as_select())
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// A scene by name.
    pub async fn scene_by_name(&self, name: &str) -> Result<Option<SceneRecord>, StoreError> {
        with_read_conn!(self, |conn| {
            Ok(scenes::table
                .filter(scenes::name.eq(name))
                .select(SceneRecord::as_select())
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// Remove a scene; whether one was removed.
    pub async fn delete_scene(&self, id: i64) -> Result<bool, StoreError> {
        with_conn!(self, |conn| {
            Ok(diesel::delete(scenes::table.find(id)).execute(conn).await? > 0)
        })
    }

    /// How many scenes are stored.
    pub async fn count_scenes(&self) -> Result<i64, StoreError> {
        with_read_conn!(self, |conn| {
            Ok(scenes::table.count().get_result(conn).await?)
        })
    }
}
