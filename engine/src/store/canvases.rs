//! Canvases: configuration, live state (what to restore after a restart) and the
//! latched emergency override.

use super::schema::{canvases, emergency_states};
use super::{Store, StoreError, conflict, with_conn, with_read_conn};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// A stored canvas with its live state.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = canvases)]
pub struct CanvasRecord {
    /// Row id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// The `CanvasSpec` as JSON.
    pub spec: String,
    /// sACN component id (UUID text).
    pub cid: String,
    /// Scene on stage.
    pub live_scene: Option<String>,
    /// Canvas master in percent.
    pub live_master: f64,
    /// Blackout.
    pub live_blackout: bool,
    /// Creation time (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last change of the configuration (UTC).
    pub updated_at: chrono::NaiveDateTime,
    /// The cue list loaded and its playhead, as JSON.
    pub live_cues: Option<String>,
}

/// One part of a canvas's live state, as stored.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveField {
    /// Scene on stage (none: dark), taken instead of any cue list.
    Scene(Option<String>),
    /// A cue list loaded, with its playhead (JSON); the scene on stage is unchanged.
    Cues(String),
    /// What the canvas shows: its scene and its cue playback (JSON), if any.
    Show {
        /// Scene on stage.
        scene: Option<String>,
        /// Cue list and playhead.
        cues: Option<String>,
    },
    /// Canvas master in percent.
    Master(f64),
    /// Blackout.
    Blackout(bool),
}

impl Store {
    /// Add a canvas.
    pub async fn insert_canvas(
        &self,
        name: &str,
        spec: &str,
        cid: &str,
    ) -> Result<CanvasRecord, StoreError> {
        let now = super::now();
        let row = (
            canvases::name.eq(name),
            canvases::spec.eq(spec),
            canvases::cid.eq(cid),
            canvases::created_at.eq(now),
            canvases::updated_at.eq(now),
        );
        with_conn!(self, |conn| {
            diesel::insert_into(canvases::table)
                .values(row)
                .returning(CanvasRecord::as_returning())
                .get_result(conn)
                .await
                .map_err(conflict(format!("a canvas named {name:?} exists")))
        })
    }

    /// Replace a canvas's configuration; `None` when there is no such canvas.
    pub async fn update_canvas(
        &self,
        id: i64,
        name: &str,
        spec: &str,
    ) -> Result<Option<CanvasRecord>, StoreError> {
        with_conn!(self, |conn| {
            diesel::update(canvases::table.find(id))
                .set((
                    canvases::name.eq(name),
                    canvases::spec.eq(spec),
                    canvases::updated_at.eq(super::now()),
                ))
                .returning(CanvasRecord::as_returning())
                .get_result(conn)
                .await
                .optional()
                .map_err(conflict(format!("a canvas named {name:?} exists")))
        })
    }

    /// Store one part of the live state of a canvas; whether the canvas exists.
    pub async fn save_live(&self, id: i64, field: LiveField) -> Result<bool, StoreError> {
        with_conn!(self, |conn| {
            let target = diesel::update(canvases::table.find(id));
            let n = match &field {
                LiveField::Scene(name) => {
                    target
                        .set((
                            canvases::live_scene.eq(name),
                            canvases::live_cues.eq(None::<String>),
                        ))
                        .execute(conn)
                        .await?
                }
                LiveField::Cues(cues) => {
                    target
                        .set(canvases::live_cues.eq(cues))
                        .execute(conn)
                        .await?
                }
                LiveField::Show { scene, cues } => {
                    target
                        .set((canvases::live_scene.eq(scene), canvases::live_cues.eq(cues)))
                        .execute(conn)
                        .await?
                }
                LiveField::Master(level) => {
                    target
                        .set(canvases::live_master.eq(level))
                        .execute(conn)
                        .await?
                }
                LiveField::Blackout(on) => {
                    target
                        .set(canvases::live_blackout.eq(on))
                        .execute(conn)
                        .await?
                }
            };
            Ok(n > 0)
        })
    }

    /// All canvases by id.
    pub async fn list_canvases(&self) -> Result<Vec<CanvasRecord>, StoreError> {
        with_read_conn!(self, |conn| {
            Ok(canvases::table
                .order(canvases::id)
                .select(CanvasRecord::as_select())
                .load(conn)
                .await?)
        })
    }

    /// A canvas by id.
    pub async fn canvas(&self, id: i64) -> Result<Option<CanvasRecord>, StoreError> {
        with_read_conn!(self, |conn| {
            Ok(canvases::table
                .find(id)
                .select(CanvasRecord::as_select())
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// Remove a canvas (its emergency state goes with it); whether one was removed.
    pub async fn delete_canvas(&self, id: i64) -> Result<bool, StoreError> {
        with_conn!(self, |conn| {
            Ok(diesel::delete(canvases::table.find(id))
                .execute(conn)
                .await?
                > 0)
        })
    }

    /// Latch or release the emergency override of a canvas.
    pub async fn set_emergency(
        &self,
        canvas_id: i64,
        active: bool,
        by: &str,
    ) -> Result<(), StoreError> {
        let row = (
            emergency_states::canvas_id.eq(canvas_id),
            emergency_states::active.eq(active),
            emergency_states::changed_by.eq(by),
            emergency_states::changed_at.eq(super::now()),
        );
        with_conn!(self, |conn| {
            diesel::insert_into(emergency_states::table)
                .values(row)
                .on_conflict(emergency_states::canvas_id)
                .do_update()
                .set((
                    emergency_states::active.eq(active),
                    emergency_states::changed_by.eq(by),
                    emergency_states::changed_at.eq(super::now()),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    /// Whether the emergency override of a canvas is latched.
    pub async fn emergency(&self, canvas_id: i64) -> Result<bool, StoreError> {
        with_read_conn!(self, |conn| {
            Ok(emergency_states::table
                .find(canvas_id)
                .select(emergency_states::active)
                .first::<bool>(conn)
                .await
                .optional()?
                .unwrap_or(false))
        })
    }
}
