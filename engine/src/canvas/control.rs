//! Live control of canvases, shared by the API's calls and the scheduler: scenes by
//! name from the library, and changes that are stored before a canvas takes them.
//!
//! Commands to one canvas go through its lane one at a time, so the stored state and
//! what the canvas shows never disagree.

use crate::CanvasError;
use crate::SceneError;
use crate::SceneRef;
use crate::canvas::LiveCommand;
use crate::canvas::directory::{self, Directory};
use crate::error::EngineError;
use crate::scene::library::{Lookup, SceneLibrary};
use crate::store::{self, LiveField, SceneRecord, Store};
use actix::prelude::*;
use limelight_shared::canvas::CanvasState;
use limelight_shared::ids::CanvasId;
use limelight_shared::scene::SceneSpec;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Live control. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LiveControl {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    directory: Addr<Directory>,
    lanes: std::sync::Mutex<HashMap<CanvasId, Arc<tokio::sync::Mutex<()>>>>,
    library: SceneLibrary,
}

impl LiveControl {
    /// Live control over the canvases of `directory`.
    pub fn new(store: Store, directory: Addr<Directory>) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                directory,
                lanes: std::sync::Mutex::default(),
                library: SceneLibrary::default(),
            }),
        }
    }

    /// The scene called `name`, from memory when it is there.
    pub async fn scene(&self, name: &str) -> Result<Arc<SceneSpec>, EngineError> {
        let generation = match self.inner.library.get(name) {
            Lookup::Hit(scene) => return Ok(scene),
            Lookup::Miss(generation) => generation,
        };
        let record = self.inner.store.scene_by_name(name).await?.ok_or_else(|| {
            EngineError::Scene(SceneError::Unknown(SceneRef::Name(name.to_string())))
        })?;
        let scene = Arc::new(scene_spec(&record)?);
        self.inner.library.fill(generation, scene.clone());
        Ok(scene)
    }

    /// The store live state is written to.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Forget the scenes in memory: one was written.
    pub fn scenes_changed(&self) {
        self.inner.library.invalidate();
    }

    /// Wait for the canvas's lane.
    pub async fn lane(&self, id: CanvasId) -> tokio::sync::OwnedMutexGuard<()> {
        let lane = self
            .inner
            .lanes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(id)
            .or_default()
            .clone();
        lane.lock_owned().await
    }

    /// Store a live change, then hand it to the canvas. Stored first, so what an
    /// operator sees on the wire is already what a restart comes back to.
    pub async fn apply(
        &self,
        id: CanvasId,
        field: LiveField,
        command: LiveCommand,
    ) -> Result<CanvasState, EngineError> {
        let _lane = self.lane(id).await;
        if !self.inner.store.save_live(id.0, field).await? {
            return Err(EngineError::Canvas(CanvasError::Unknown(id)));
        }
        self.control(id, command).await
    }

    /// Store a change and queue it for the canvas's first frame due at or after
    /// `due` (canvas clock).
    pub async fn apply_at(
        &self,
        id: CanvasId,
        field: LiveField,
        command: LiveCommand,
        due: Duration,
    ) -> Result<(), EngineError> {
        let _lane = self.lane(id).await;
        if !self.inner.store.save_live(id.0, field).await? {
            return Err(EngineError::Canvas(CanvasError::Unknown(id)));
        }
        self.control_at(id, command, due).await
    }

    /// Queue a command for the canvas's first frame due at or after `due`
    /// (canvas clock), without storing it.
    pub async fn control_at(
        &self,
        id: CanvasId,
        command: LiveCommand,
        due: Duration,
    ) -> Result<(), EngineError> {
        let queued = self
            .inner
            .directory
            .send(directory::ControlAt { id, command, due })
            .await
            .map_err(mailbox)?;
        if queued {
            Ok(())
        } else {
            Err(EngineError::Canvas(CanvasError::Unknown(id)))
        }
    }

    /// Hand a command to the canvas now, without storing it.
    pub async fn control(
        &self,
        id: CanvasId,
        command: LiveCommand,
    ) -> Result<CanvasState, EngineError> {
        self.inner
            .directory
            .send(directory::Control { id, command })
            .await
            .map_err(mailbox)?
    }

    /// Forget the canvas's commands that wait for a later frame.
    pub async fn drop_timed(&self, id: CanvasId) -> Result<(), EngineError> {
        self.inner
            .directory
            .send(directory::DropTimed(id))
            .await
            .map_err(mailbox)
    }

    /// The canvas's state once it has taken the commands due by now.
    pub async fn settle(&self, id: CanvasId) -> Result<CanvasState, EngineError> {
        self.inner
            .directory
            .send(directory::Settle(id))
            .await
            .map_err(mailbox)?
    }
}

/// A stored scene's document.
pub(crate) fn scene_spec(record: &SceneRecord) -> Result<SceneSpec, EngineError> {
    serde_json::from_str(&record.spec).map_err(|e| {
        EngineError::Store(store::StoreError::Corrupt(format!(
            "scene {}: {e}",
            record.id
        )))
    })
}

/// An actor that did not answer.
pub(crate) fn mailbox(e: MailboxError) -> EngineError {
    EngineError::internal("an engine actor is unavailable", e)
}
