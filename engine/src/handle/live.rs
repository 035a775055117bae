//! Live control: scenes, blackout, masters, emergency, and the audit log.

use super::*;
use crate::CanvasError;
use crate::SceneError;
use crate::SceneRef;
use limelight_shared::scene::SceneName;
use limelight_shared::schedule::Play;

impl EngineHandle {
    /// What every canvas shows now, by id.
    pub async fn states(&self) -> Result<Vec<CanvasState>, EngineError> {
        self.inner
            .directory
            .send(directory::GetStates)
            .await
            .map_err(mailbox)
    }

    /// What one canvas shows now.
    pub async fn state(&self, id: CanvasId) -> Result<CanvasState, EngineError> {
        self.states()
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(EngineError::Canvas(CanvasError::Unknown(id)))
    }

    /// Count an operator console of `who` as open until the answer is dropped;
    /// every console hears who has one open.
    pub fn console_opened(&self, who: &Principal) -> crate::ConsoleOpen {
        self.inner.consoles.open(who)
    }

    /// Each user with a console open, and how many.
    pub fn consoles(&self) -> Vec<limelight_shared::ws::ConsoleUser> {
        self.inner.consoles.list()
    }

    /// The grand master.
    pub async fn grand_master(&self) -> Result<Percent, EngineError> {
        stored_grand_master(&self.inner.store).await
    }

    /// The preview channel of a canvas: the newest rendered frame.
    pub async fn preview(
        &self,
        id: CanvasId,
    ) -> Result<watch::Receiver<Option<PreviewFrame>>, EngineError> {
        self.inner
            .directory
            .send(directory::GetPreview(id))
            .await
            .map_err(mailbox)?
            .ok_or(EngineError::Canvas(CanvasError::Unknown(id)))
    }

    /// Start a blind preview of `scene` on canvas `id`'s pixel map: its frames
    /// for a console, never the wire; pending content shows too. It runs until
    /// the [`Blind`](crate::Blind) is dropped.
    pub async fn blind(&self, id: CanvasId, scene: &str) -> Result<crate::Blind, EngineError> {
        let canvas = self.canvas(id).await?;
        let scene = self.inner.live.scene(scene).await?;
        let setup = crate::canvas::BlindSetup {
            scene,
            geometry: canvas.spec.geometry,
            pixels: canvas.spec.pixels.get() as usize,
            fps: u32::from(canvas.spec.fps.get()),
        };
        crate::Blind::start(
            setup,
            self.inner.pictures.clone(),
            self.inner.inputs.board(),
            self.inner.clock.clone(),
        )
        .map_err(|e| EngineError::internal("starting a blind preview", e))
    }

    /// Crossfade a canvas to a scene, taken by hand: an override of the schedule for
    /// the command's scope (until the next scheduled change unless it says otherwise).
    pub async fn trigger_scene(
        &self,
        who: &Principal,
        id: CanvasId,
        cmd: &TriggerScene,
    ) -> Result<CanvasState, EngineError> {
        let work = async {
            if cmd.fade_ms > MAX_FADE_MS {
                return Err(EngineError::invalid(format!(
                    "fade_ms must be at most {MAX_FADE_MS}, got {}",
                    cmd.fade_ms
                )));
            }
            let scope = cmd.scope.check().map_err(|e| EngineError::invalid(e.0))?;
            // Checked before anything is stored: an unknown scene changes nothing.
            let spec = self.inner.live.scene(&cmd.scene).await?;
            self.check_playable(&spec)?;
            let scene = SceneName::try_from(cmd.scene.clone())
                .map_err(|_| SceneError::Unknown(SceneRef::Name(cmd.scene.clone())))?;
            let play = Play::Scene {
                scene,
                fade_ms: cmd.fade_ms,
                curve: cmd.curve,
            };
            self.take_override(who, id, play, scope).await
        };
        let result = work.await;
        self.record(who, "trigger_scene", id, json(cmd), result)
            .await
    }

    /// Blackout on or off.
    pub async fn set_blackout(
        &self,
        who: &Principal,
        id: CanvasId,
        on: bool,
    ) -> Result<CanvasState, EngineError> {
        let work = self
            .inner
            .live
            .apply(id, LiveField::Blackout(on), LiveCommand::Blackout(on));
        let result = self.announce_live(id, work.await).await;
        let detail = serde_json::json!({ "on": on }).to_string();
        self.record(who, "blackout", id, detail, result).await
    }

    /// Set a canvas master.
    pub async fn set_master(
        &self,
        who: &Principal,
        id: CanvasId,
        level: Percent,
    ) -> Result<CanvasState, EngineError> {
        let work = self.inner.live.apply(
            id,
            LiveField::Master(level.get()),
            LiveCommand::Master(level),
        );
        let result = self.announce_live(id, work.await).await;
        let detail = serde_json::json!({ "level": level.get() }).to_string();
        self.record(who, "master", id, detail, result).await
    }

    /// Latch or release the emergency override of a canvas.
    pub async fn set_emergency(
        &self,
        who: &Principal,
        id: CanvasId,
        on: bool,
    ) -> Result<CanvasState, EngineError> {
        let work = async {
            let _lane = self.inner.live.lane(id).await;
            self.ensure_canvas(id).await?;
            self.inner
                .store
                .set_emergency(id.0, on, &who.username)
                .await?;
            self.inner
                .live
                .control(id, LiveCommand::Emergency(on))
                .await
        };
        let result = self.announce_live(id, work.await).await;
        let detail = serde_json::json!({ "on": on }).to_string();
        self.record(who, "emergency", id, detail, result).await
    }

    /// Set the grand master, which scales every canvas.
    pub async fn set_grand_master(
        &self,
        who: &Principal,
        level: Percent,
    ) -> Result<Percent, EngineError> {
        let work = async {
            self.inner
                .store
                .set_setting(GRAND_MASTER_KEY, &level.get().to_string())
                .await?;
            self.inner
                .directory
                .send(directory::SetGrandMaster(level))
                .await
                .map_err(mailbox)?;
            Ok(level)
        };
        let result: Result<Percent, EngineError> = work.await;
        if result.is_ok() {
            self.announce(Change::GrandMaster).await;
        }
        let detail = serde_json::json!({ "level": level.get() }).to_string();
        self.audit(
            who,
            "grand_master",
            "system",
            &detail,
            result.as_ref().err(),
        )
        .await;
        if let Ok(level) = result {
            let _ = self.inner.events.send(EngineEvent::GrandMaster(level));
        }
        result
    }

    /// Announce a stored change of canvas `id`'s master, blackout or emergency
    /// once it took.
    async fn announce_live(
        &self,
        id: CanvasId,
        result: Result<CanvasState, EngineError>,
    ) -> Result<CanvasState, EngineError> {
        if result.is_ok() {
            let change = Change::Live {
                canvas: id,
                fade_ms: 0,
                curve: limelight_shared::scene::FadeCurve::Linear,
            };
            self.announce(change).await;
        }
        result
    }

    pub(super) async fn ensure_canvas(&self, id: CanvasId) -> Result<(), EngineError> {
        match self.inner.store.canvas(id.0).await? {
            Some(_) => Ok(()),
            None => Err(EngineError::Canvas(CanvasError::Unknown(id))),
        }
    }

    /// Audit a canvas command and publish its outcome.
    pub(super) async fn record(
        &self,
        who: &Principal,
        action: &str,
        id: CanvasId,
        detail: String,
        result: Result<CanvasState, EngineError>,
    ) -> Result<CanvasState, EngineError> {
        let target = format!("canvas:{id}");
        self.audit(who, action, &target, &detail, result.as_ref().err())
            .await;
        if let Ok(state) = &result {
            let _ = self
                .inner
                .events
                .send(EngineEvent::CanvasChanged(state.clone()));
        }
        result
    }

    pub(super) async fn audit(
        &self,
        who: &Principal,
        action: &str,
        target: &str,
        detail: &str,
        error: Option<&EngineError>,
    ) {
        let message = error.map(ToString::to_string);
        let entry = NewAudit {
            username: &who.username,
            action,
            target,
            detail,
            error: message.as_deref(),
        };
        if let Err(e) = self.inner.store.append_audit(entry).await {
            tracing::error!(error = %e, action, target, "could not write the audit log");
        }
    }

    /// One page of the audit log, newest first. `page` counts from 1.
    pub async fn audit_log(&self, page: u32, limit: u32) -> Result<Page<AuditEntry>, EngineError> {
        let offset = i64::from(page.saturating_sub(1)) * i64::from(limit);
        let (rows, total) = self
            .inner
            .store
            .audit_page(offset, i64::from(limit))
            .await?;
        let items = rows
            .into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                at: store::rfc3339(r.at),
                username: r.username,
                action: r.action,
                target: r.target,
                detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
                outcome: r.outcome,
                error: r.error,
            })
            .collect();
        Ok(Page {
            items,
            page,
            limit,
            total: u64::try_from(total).unwrap_or(0),
        })
    }
}
