//! Cue lists: stored documents, and the cue commands operators give a canvas.

use super::*;
use crate::CueListError;
use crate::canvas::CueOp;
use crate::cue_list::{self as cue_lists, cue_spec};
use crate::store::CueListRecord;
use limelight_shared::cues::{CueCommand, CueList, CueListSpec};
use limelight_shared::ids::CueListId;
use limelight_shared::schedule::Play;
use std::time::Duration;

fn cue_list_dto(record: &CueListRecord) -> Result<CueList, EngineError> {
    Ok(CueList {
        id: CueListId(record.id),
        spec: cue_spec(record)?,
    })
}

impl EngineHandle {
    /// Parse and check a cue list: its values are in range and its scenes exist.
    async fn check_cue_list(&self, spec: CueListSpec) -> Result<CueListSpec, EngineError> {
        spec.check().map_err(|e| EngineError::invalid(e.0))?;
        for cue in &spec.cues {
            if let Some(scene) = &cue.scene {
                let spec = self.inner.live.scene(scene.as_str()).await?;
                self.check_playable(&spec)?;
            }
        }
        Ok(spec)
    }

    /// All cue lists.
    pub async fn list_cue_lists(&self) -> Result<Arc<Vec<CueList>>, EngineError> {
        let store = &self.inner.store;
        self.inner
            .cue_lists
            .get_or_load(|| async {
                store
                    .list_cue_lists()
                    .await?
                    .iter()
                    .map(cue_list_dto)
                    .collect()
            })
            .await
    }

    /// One cue list.
    pub async fn cue_list(&self, id: CueListId) -> Result<CueList, EngineError> {
        self.list_cue_lists()
            .await?
            .iter()
            .find(|c| c.id == id)
            .cloned()
            .ok_or(EngineError::CueList(CueListError::Unknown(id)))
    }

    /// Add a cue list.
    pub async fn create_cue_list(&self, spec: CueListSpec) -> Result<CueList, EngineError> {
        let spec = self.check_cue_list(spec).await?;
        let record = self
            .inner
            .store
            .insert_cue_list(spec.name.as_str(), &json(&spec))
            .await;
        self.inner.cue_lists.clear();
        let record = record?;
        self.announce(Change::CueList {
            cue_list: CueListId(record.id),
        })
        .await;
        cue_list_dto(&record)
    }

    /// Replace a cue list. Canvases that have it loaded take the
    /// new version, their playhead on the same cue numbers.
    pub async fn update_cue_list(
        &self,
        id: CueListId,
        spec: CueListSpec,
    ) -> Result<CueList, EngineError> {
        let spec = self.check_cue_list(spec).await?;
        let record = self
            .inner
            .store
            .update_cue_list(id.0, spec.name.as_str(), &json(&spec))
            .await;
        self.inner.cue_lists.clear();
        let record = record?.ok_or(EngineError::CueList(CueListError::Unknown(id)))?;
        self.reload_cue_list(id).await?;
        self.announce(Change::CueList { cue_list: id }).await;
        cue_list_dto(&record)
    }

    /// Remove a cue list; refused while a schedule entry or an override plays it.
    /// Canvases that have it loaded play on from memory.
    pub async fn delete_cue_list(&self, id: CueListId) -> Result<(), EngineError> {
        if self.inner.store.cue_list(id.0).await?.is_none() {
            return Err(EngineError::CueList(CueListError::Unknown(id)));
        }
        if let Some(user) = cue_lists::used_by(&self.inner.store, id).await? {
            return Err(CueListError::InUse { list: id, by: user }.into());
        }
        let deleted = self.inner.store.delete_cue_list(id.0).await;
        self.inner.cue_lists.clear();
        if !deleted? {
            return Err(EngineError::CueList(CueListError::Unknown(id)));
        }
        self.announce(Change::CueList { cue_list: id }).await;
        Ok(())
    }

    /// A cue command on a canvas: run a list (an override of the schedule for its
    /// scope), GO, back, go to cue, or panic.
    pub async fn cue(
        &self,
        who: &Principal,
        id: CanvasId,
        command: &CueCommand,
    ) -> Result<CanvasState, EngineError> {
        let work = async {
            if let CueCommand::Run { cue_list, scope } = command {
                let scope = scope.check().map_err(|e| EngineError::invalid(e.0))?;
                if self.inner.store.cue_list(cue_list.0).await?.is_none() {
                    return Err(EngineError::CueList(CueListError::Unknown(*cue_list)));
                }
                let play = Play::CueList {
                    cue_list: *cue_list,
                };
                return self.take_override(who, id, play, scope).await;
            }
            let Some(op) = super::cluster::cue_op(command)? else {
                return Err(EngineError::invalid("not a cue playback command"));
            };
            let state = self.cue_op(id, op).await?;
            let change = Change::Cue {
                canvas: id,
                command: command.clone(),
            };
            self.announce(change).await;
            Ok(state)
        };
        let result = work.await;
        self.record(who, "cue", id, json(command), result).await
    }

    /// Panic on every canvas: every cue list stops and every canvas fades to black.
    pub async fn panic_all(
        &self,
        who: &Principal,
        fade_ms: u32,
    ) -> Result<Vec<CanvasState>, EngineError> {
        let work = async {
            let fade = panic_fade(fade_ms)?;
            let mut states = Vec::new();
            for record in self.inner.store.list_canvases().await? {
                let id = CanvasId(record.id);
                let state = self.cue_op(id, CueOp::Panic(fade)).await?;
                let change = Change::Cue {
                    canvas: id,
                    command: CueCommand::Panic { fade_ms },
                };
                self.announce(change).await;
                let _ = self
                    .inner
                    .events
                    .send(EngineEvent::CanvasChanged(state.clone()));
                states.push(state);
            }
            Ok(states)
        };
        let result: Result<Vec<CanvasState>, EngineError> = work.await;
        let detail = serde_json::json!({ "fade_ms": fade_ms }).to_string();
        self.audit(who, "panic", "system", &detail, result.as_ref().err())
            .await;
        result
    }

    /// Give the canvas a cue command and store what it shows after it, under its
    /// lane (the answer means it is stored).
    async fn cue_op(&self, id: CanvasId, op: CueOp) -> Result<CanvasState, EngineError> {
        let _lane = self.inner.live.lane(id).await;
        let state = self
            .inner
            .directory
            .send(directory::ControlCue { id, op })
            .await
            .map_err(mailbox)??;
        self.inner
            .store
            .save_live(id.0, cue_lists::show_field(&state))
            .await?;
        Ok(state)
    }
}

pub(super) fn panic_fade(fade_ms: u32) -> Result<Duration, EngineError> {
    if fade_ms > MAX_FADE_MS {
        return Err(EngineError::invalid(format!(
            "fade_ms must be at most {MAX_FADE_MS}, got {fade_ms}"
        )));
    }
    Ok(Duration::from_millis(u64::from(fade_ms)))
}
