//! Following the other nodes: each change another node stored (see
//! [`crate::cluster::relay`]) is brought into this node's actors from the
//! database, without storing it again or writing it in the audit log, so every
//! node's canvases and scheduler show what the database holds.

use super::*;
use crate::canvas::CueOp;
use limelight_shared::cues::CueCommand;
use limelight_shared::scene::FadeCurve;
use std::time::Duration;
use tokio::sync::mpsc;

impl EngineHandle {
    /// Announce a change this node stored to the other nodes.
    pub(super) async fn announce(&self, change: Change) {
        self.inner.relay.publish(change).await;
    }

    /// Take up the other nodes' changes as they are heard, one at a time and in
    /// the order they were announced, for as long as the engine runs.
    pub(super) async fn follow(self, mut heard: mpsc::UnboundedReceiver<Change>) {
        while let Some(change) = heard.recv().await {
            let what = format!("{change:?}");
            if let Err(e) = self.take_up(change).await {
                tracing::warn!(change = %what, error = %e, "another node's change was not taken up");
            }
        }
    }

    async fn take_up(&self, change: Change) -> Result<(), EngineError> {
        match change {
            Change::Live {
                canvas,
                fade_ms,
                curve,
            } => {
                let fade = Duration::from_millis(u64::from(fade_ms));
                self.align_live(canvas, fade, curve).await
            }
            Change::Cue { canvas, command } => {
                let Some(op) = cue_op(&command)? else {
                    return Ok(());
                };
                let state = self
                    .inner
                    .directory
                    .send(directory::ControlCue { id: canvas, op })
                    .await
                    .map_err(mailbox)??;
                let _ = self.inner.events.send(EngineEvent::CanvasChanged(state));
                Ok(())
            }
            Change::GrandMaster => self.follow_grand_master().await,
            Change::Canvas { canvas } => {
                self.follow_canvas(canvas).await?;
                self.canvases_changed().await
            }
            Change::Scenes => {
                self.inner.live.scenes_changed();
                self.inner.scenes.clear();
                Ok(())
            }
            Change::CueList { cue_list } => {
                self.inner.cue_lists.clear();
                self.reload_cue_list(cue_list).await
            }
            Change::Schedule { .. } => self.align_schedule(true, Vec::new(), None).await,
            Change::Override { canvas, fade_ms } => {
                self.align_schedule(false, vec![canvas], fade_ms).await
            }
            Change::All => self.align_all().await,
        }
    }

    /// Show what is stored for canvas `id`: its master, blackout and emergency,
    /// and its scene (faded in over `fade`) unless a cue list is stored.
    async fn align_live(
        &self,
        id: CanvasId,
        fade: Duration,
        curve: FadeCurve,
    ) -> Result<(), EngineError> {
        let live = &self.inner.live;
        let _lane = live.lane(id).await;
        let Some(record) = self.inner.store.canvas(id.0).await? else {
            return Ok(());
        };
        let emergency = self.inner.store.emergency(id.0).await?;
        let mut state = live.settle(id).await?;
        if (state.master.get() - record.live_master).abs() > f64::EPSILON
            && let Ok(level) = Percent::try_from(record.live_master)
        {
            state = live.control(id, LiveCommand::Master(level)).await?;
        }
        if state.blackout != record.live_blackout {
            state = live
                .control(id, LiveCommand::Blackout(record.live_blackout))
                .await?;
        }
        if state.emergency != emergency {
            state = live.control(id, LiveCommand::Emergency(emergency)).await?;
        }
        if record.live_cues.is_none() && (state.cues.is_some() || state.scene != record.live_scene)
        {
            let command = match &record.live_scene {
                Some(name) => LiveCommand::TriggerScene {
                    scene: live.scene(name).await?,
                    fade,
                    curve,
                },
                None => LiveCommand::Clear { fade, curve },
            };
            state = live.control(id, command).await?;
        }
        let _ = self.inner.events.send(EngineEvent::CanvasChanged(state));
        Ok(())
    }

    /// Scale every canvas by the stored grand master.
    async fn follow_grand_master(&self) -> Result<(), EngineError> {
        let level = stored_grand_master(&self.inner.store).await?;
        self.inner
            .directory
            .send(directory::SetGrandMaster(level))
            .await
            .map_err(mailbox)?;
        let _ = self.inner.events.send(EngineEvent::GrandMaster(level));
        Ok(())
    }

    /// Start, restart or stop canvas `id` as it is stored now.
    async fn follow_canvas(&self, id: CanvasId) -> Result<(), EngineError> {
        self.inner.canvases.clear();
        match load_setup(&self.inner.store, id).await? {
            Some((setup, cid)) => self.start_canvas(setup, cid).await,
            None => {
                self.inner
                    .directory
                    .send(directory::RemoveCanvas(id))
                    .await
                    .map_err(mailbox)?;
                Ok(())
            }
        }
    }

    /// Canvases that have cue list `id` loaded take its stored version.
    pub(super) async fn reload_cue_list(
        &self,
        id: limelight_shared::ids::CueListId,
    ) -> Result<(), EngineError> {
        if self.inner.store.cue_list(id.0).await?.is_none() {
            return Ok(());
        }
        let program = Arc::new(crate::cue_list::program(&self.inner.store, id).await?);
        for state in self.states().await? {
            if state.cues.as_ref().is_some_and(|p| p.cue_list == id) {
                self.inner
                    .live
                    .control(state.id, LiveCommand::ReloadCues(program.clone()))
                    .await?;
            }
        }
        Ok(())
    }

    /// Bring the scheduler to the stored entries (when `entries`) and to the
    /// stored overrides of `canvases`.
    async fn align_schedule(
        &self,
        entries: bool,
        canvases: Vec<CanvasId>,
        fade_ms: Option<u32>,
    ) -> Result<(), EngineError> {
        let store = &self.inner.store;
        let entries = match entries {
            true => Some(schedule::stored_entries(store, &self.inner.venue).await?),
            false => None,
        };
        let stored = schedule::stored_overrides(store).await?;
        let overrides = canvases
            .into_iter()
            .map(|c| {
                let o = stored.iter().find(|(s, _)| *s == c).map(|(_, o)| o.clone());
                (c, o)
            })
            .collect();
        self.inner
            .scheduler
            .send(crate::schedule::Align {
                entries,
                overrides,
                fade_ms,
            })
            .await
            .map_err(mailbox)
    }

    /// Align everything with the database: after this node's listener
    /// (re)connected, it may have missed changes.
    async fn align_all(&self) -> Result<(), EngineError> {
        self.inner.live.scenes_changed();
        self.inner.scenes.clear();
        self.inner.cue_lists.clear();
        self.inner.canvases.clear();
        let stored = self.stored_canvas_ids().await?;
        let running: Vec<CanvasId> = self.states().await?.iter().map(|s| s.id).collect();
        for id in running.iter().filter(|id| !stored.contains(id)) {
            self.follow_canvas(*id).await?;
        }
        for id in stored.iter().filter(|id| !running.contains(id)) {
            self.follow_canvas(*id).await?;
        }
        self.canvases_changed().await?;
        self.follow_grand_master().await?;
        for id in &stored {
            self.align_live(*id, Duration::ZERO, FadeCurve::Linear)
                .await?;
        }
        self.align_schedule(true, stored, None).await
    }
}

/// The cue playback command of a cue command; `None` for running a list, which
/// is an override and follows as one.
pub(super) fn cue_op(command: &CueCommand) -> Result<Option<CueOp>, EngineError> {
    Ok(Some(match command {
        CueCommand::Run { .. } => return Ok(None),
        CueCommand::Go {} => CueOp::Go,
        CueCommand::Back {} => CueOp::Back,
        CueCommand::Goto { cue } => CueOp::Goto(cue.clone()),
        CueCommand::Panic { fade_ms } => CueOp::Panic(super::cue_lists::panic_fade(*fade_ms)?),
    }))
}
