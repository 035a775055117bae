//! Cue lists in the engine: stored documents turned into programs a canvas can
//! play, the playhead as stored, and the recorder that stores and publishes what
//! the canvases' cue playback does.
//!
//! A canvas reports each cue it fires on a channel that never blocks its frame
//! thread. The recorder, on an ordinary task, tells consoles at once, then stores
//! what the canvas shows (its scene and its playhead) so a restart comes back to
//! it. It stores what the canvas reports *now*, under the canvas's lane, so a
//! report overtaken by an operator's command can never store an older look.

use crate::SceneError;
use crate::SceneRef;
use crate::canvas::CueReport;
use crate::canvas::control::{LiveControl, scene_spec};
use crate::canvas::playback::{Cue, CueProgram, Position};
use crate::error::EngineError;
use crate::published::EngineEvent;
use crate::store::{self, CueListRecord, LiveField, Store};
use limelight_shared::canvas::CanvasState;
use limelight_shared::cues::{CueEvent, CueListSpec, CueNumber, Playhead};
use limelight_shared::ids::{CanvasId, CueListId, ScheduleId};
use limelight_shared::scene::SceneSpec;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

/// A stored cue list's document.
pub(crate) fn cue_spec(record: &CueListRecord) -> Result<CueListSpec, EngineError> {
    serde_json::from_str(&record.spec).map_err(|e| {
        EngineError::Store(store::StoreError::Corrupt(format!(
            "cue list {}: {e}",
            record.id
        )))
    })
}

/// The stored list `id` made ready to play, with its scenes as stored now.
pub(crate) async fn program(store: &Store, id: CueListId) -> Result<CueProgram, EngineError> {
    let record = store
        .cue_list(id.0)
        .await?
        .ok_or(EngineError::CueList(CueListError::Unknown(id)))?;
    let spec = cue_spec(&record)?;
    let mut scenes: HashMap<String, Arc<SceneSpec>> = HashMap::new();
    let mut cues = Vec::with_capacity(spec.cues.len());
    for cue in spec.cues {
        let scene = match &cue.scene {
            Some(name) => Some(match scenes.get(name.as_str()) {
                Some(scene) => scene.clone(),
                None => {
                    let record = store.scene_by_name(name.as_str()).await?.ok_or_else(|| {
                        EngineError::Scene(SceneError::Unknown(SceneRef::Name(name.to_string())))
                    })?;
                    let scene = Arc::new(scene_spec(&record)?);
                    scenes.insert(name.as_str().to_owned(), scene.clone());
                    scene
                }
            }),
            None => None,
        };
        cues.push(Cue {
            number: cue.number,
            scene,
            fade: seconds(cue.fade_ms),
            curve: cue.curve,
            pre_wait: seconds(cue.pre_wait_ms),
            post_wait: seconds(cue.post_wait_ms),
            continue_mode: cue.continue_mode,
        });
    }
    Ok(CueProgram {
        id,
        name: spec.name.as_str().to_owned(),
        go_protection: seconds(spec.go_protection_ms),
        cues,
    })
}

fn seconds(ms: u32) -> f64 {
    f64::from(ms) / 1000.0
}

/// A playhead as stored in a canvas's live state: cue numbers, so an edit that
/// moves cues keeps the playhead on the same cue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct StoredPlayhead {
    pub cue_list: CueListId,
    pub current: Option<CueNumber>,
    pub standby: Option<CueNumber>,
}

impl StoredPlayhead {
    /// At the top of `list`, nothing fired.
    pub fn top(list: &CueProgram) -> Self {
        Self {
            cue_list: list.id,
            current: None,
            standby: list.cues.first().map(|c| c.number.clone()),
        }
    }

    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "null".to_owned())
    }

    /// The position in `list`; a number no longer in it counts as the list's end.
    pub fn position(&self, list: &CueProgram) -> Position {
        let find = |n: &CueNumber| list.cues.iter().position(|c| c.number == *n);
        Position {
            current: self.current.as_ref().and_then(find),
            standby: self
                .standby
                .as_ref()
                .and_then(find)
                .unwrap_or(list.cues.len()),
        }
    }
}

impl From<&Playhead> for StoredPlayhead {
    fn from(p: &Playhead) -> Self {
        Self {
            cue_list: p.cue_list,
            current: p.current.clone(),
            standby: p.standby.clone(),
        }
    }
}

/// The stored playhead of a canvas, made ready to restore; `None` when no list was
/// loaded or the list has been deleted since.
pub(crate) async fn restore(
    store: &Store,
    stored: Option<&str>,
) -> Result<Option<(Arc<CueProgram>, Position)>, EngineError> {
    let Some(head) = stored.and_then(|s| serde_json::from_str::<StoredPlayhead>(s).ok()) else {
        return Ok(None);
    };
    match program(store, head.cue_list).await {
        Ok(list) => {
            let position = head.position(&list);
            Ok(Some((Arc::new(list), position)))
        }
        Err(
            EngineError::CueList(CueListError::Unknown(_))
            | EngineError::Scene(SceneError::Unknown(_)),
        ) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The list loaded on a canvas, from its stored live state.
pub(crate) fn stored_list(stored: Option<&str>) -> Option<CueListId> {
    serde_json::from_str::<StoredPlayhead>(stored?)
        .ok()
        .map(|h| h.cue_list)
}

/// What to store for a canvas that shows `state`.
pub(crate) fn show_field(state: &CanvasState) -> LiveField {
    LiveField::Show {
        scene: state.scene.clone(),
        cues: state.cues.as_ref().map(|p| StoredPlayhead::from(p).json()),
    }
}

/// Tell consoles what each canvas's cue playback did, and store what it shows.
pub(crate) async fn recorder(
    mut reports: mpsc::UnboundedReceiver<CueReport>,
    live: LiveControl,
    events: broadcast::Sender<EngineEvent>,
) {
    let mut batch = Vec::new();
    while reports.recv_many(&mut batch, 256).await > 0 {
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut touched = BTreeSet::new();
        for report in batch.drain(..) {
            touched.insert(report.canvas);
            let event = CueEvent {
                canvas: report.canvas,
                cue_list: report.note.cue_list,
                action: report.note.action,
                cue: report.note.cue,
                standby: report.note.standby,
                at: at.clone(),
            };
            metrics::counter!("limelight_cue_events_total").increment(1);
            let _ = events.send(EngineEvent::Cue(event));
        }
        for canvas in touched {
            if let Err(e) = store_show(&live, canvas, &events).await {
                tracing::error!(%canvas, error = %e, "could not store the cue playback");
            }
        }
    }
}

async fn store_show(
    live: &LiveControl,
    canvas: CanvasId,
    events: &broadcast::Sender<EngineEvent>,
) -> Result<(), EngineError> {
    let _lane = live.lane(canvas).await;
    let state = live.settle(canvas).await?;
    live.store().save_live(canvas.0, show_field(&state)).await?;
    let _ = events.send(EngineEvent::CanvasChanged(state));
    Ok(())
}

/// Whether `store` names cue list `id` in a schedule entry or an override: the
/// entry's or override's description when it does.
pub(crate) async fn used_by(
    store: &Store,
    id: CueListId,
) -> Result<Option<CueListUser>, EngineError> {
    use limelight_shared::schedule::{Play, ScheduleSpec};
    let plays = |play: &Play| matches!(play, Play::CueList { cue_list } if *cue_list == id);
    for record in store.list_schedules().await? {
        if let Ok(spec) = serde_json::from_str::<ScheduleSpec>(&record.spec)
            && plays(&spec.play)
        {
            return Ok(Some(CueListUser::Schedule {
                id: ScheduleId(record.id),
                name: record.name,
            }));
        }
    }
    for record in store.list_overrides().await? {
        if let Ok(play) = serde_json::from_str::<Play>(&record.play)
            && plays(&play)
        {
            return Ok(Some(CueListUser::Override(CanvasId(record.canvas_id))));
        }
    }
    Ok(None)
}

/// What plays a cue list, and so keeps it from being deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CueListUser {
    /// A schedule entry.
    Schedule {
        /// Its id.
        id: ScheduleId,
        /// Its name.
        name: String,
    },
    /// The override on a canvas.
    Override(CanvasId),
}

impl std::fmt::Display for CueListUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CueListUser::Schedule { id, name } => write!(f, "schedule entry {id} ({name})"),
            CueListUser::Override(canvas) => write!(f, "the override on canvas {canvas}"),
        }
    }
}

/// Why a cue-list call failed.
#[derive(Debug, thiserror::Error)]
pub enum CueListError {
    /// No cue list with that id.
    #[error("no cue list with id {0}")]
    Unknown(CueListId),
    /// A schedule entry or an override plays the list.
    #[error("cue list {list} is played by {by}; change that first")]
    InUse {
        /// The list.
        list: CueListId,
        /// What plays it.
        by: CueListUser,
    },
}
