//! The schedule: entries (stored, then handed to the scheduler), overrides taken by
//! operators, and the preview and timeline the scheduler's own plan answers.

use super::*;
use crate::CueListError;
use crate::ScheduleError;
use crate::schedule::{self as sched, PlanEntry, Rule};
use crate::store::ScheduleRecord;
use chrono::{DateTime, Utc};
use limelight_shared::ids::ScheduleId;
use limelight_shared::schedule::{
    OverrideInfo, OverrideScope, Play, Preview, ScheduleEntry, ScheduleSpec, Targets, Timeline,
};

/// Longest range a timeline may cover (one year).
pub const MAX_TIMELINE_DAYS: i64 = 366;

fn entry_spec(record: &ScheduleRecord) -> Result<ScheduleSpec, EngineError> {
    serde_json::from_str(&record.spec).map_err(|e| {
        EngineError::Store(store::StoreError::Corrupt(format!(
            "schedule entry {}: {e}",
            record.id
        )))
    })
}

/// Read every stored entry and override into `plan`. An entry whose rule no longer
/// compiles (a time zone renamed, say) is left out with an error in the log, rather
/// than keeping the venue dark.
pub(super) async fn load(store: &Store, plan: &mut sched::Plan) -> Result<(), EngineError> {
    for entry in stored_entries(store, plan.venue()).await? {
        plan.put_entry(entry);
    }
    for (canvas, o) in stored_overrides(store).await? {
        plan.set_override(canvas, o);
    }
    Ok(())
}

/// Every stored entry whose rule compiles for `venue`.
pub(super) async fn stored_entries(
    store: &Store,
    venue: &Site,
) -> Result<Vec<PlanEntry>, EngineError> {
    let mut entries = Vec::new();
    for record in store.list_schedules().await? {
        let spec = entry_spec(&record)?;
        match Rule::new(&spec, venue) {
            Ok(rule) => entries.push(PlanEntry {
                id: ScheduleId(record.id),
                spec,
                rule,
            }),
            Err(e) => tracing::error!(entry = record.id, error = %e, "schedule entry left out"),
        }
    }
    Ok(entries)
}

/// Every stored override that can be read, by canvas.
pub(super) async fn stored_overrides(
    store: &Store,
) -> Result<Vec<(CanvasId, sched::Override)>, EngineError> {
    let mut overrides = Vec::new();
    for record in store.list_overrides().await? {
        let parsed = (
            serde_json::from_str::<Play>(&record.play),
            serde_json::from_str::<OverrideScope>(&record.scope),
        );
        match parsed {
            (Ok(play), Ok(scope)) => overrides.push((
                CanvasId(record.canvas_id),
                sched::Override {
                    play,
                    scope,
                    by: record.taken_by,
                    since: record.since.and_utc(),
                },
            )),
            _ => tracing::error!(
                canvas = record.canvas_id,
                "stored override unreadable; left out"
            ),
        }
    }
    Ok(overrides)
}

impl EngineHandle {
    /// Parse and check an entry: its timing compiles, and what it names exists.
    async fn check_entry(&self, spec: ScheduleSpec) -> Result<(ScheduleSpec, Rule), EngineError> {
        let rule = Rule::new(&spec, &self.inner.venue).map_err(|e| EngineError::invalid(e.0))?;
        if let Targets::Canvases(ids) = &spec.targets {
            for id in ids {
                self.ensure_canvas(*id).await?;
            }
        }
        self.check_play(&spec.play).await?;
        if spec.stop.fade_ms() > MAX_FADE_MS {
            return Err(EngineError::invalid(format!(
                "stop.fade_ms must be at most {MAX_FADE_MS}, got {}",
                spec.stop.fade_ms()
            )));
        }
        if matches!(
            spec.stop,
            limelight_shared::schedule::StopMode::FinishCueList { .. }
        ) && !matches!(spec.play, Play::CueList { .. })
        {
            return Err(EngineError::invalid(
                "stop mode finish_cue_list needs a cue list to play",
            ));
        }
        Ok((spec, rule))
    }

    /// Refuse a play whose scene or cue list does not exist.
    async fn check_play(&self, play: &Play) -> Result<(), EngineError> {
        match play {
            Play::Scene { scene, .. } => {
                let spec = self.inner.live.scene(scene.as_str()).await?;
                self.check_playable(&spec)
            }
            Play::CueList { cue_list } => match self.inner.store.cue_list(cue_list.0).await? {
                Some(_) => Ok(()),
                None => Err(EngineError::CueList(CueListError::Unknown(*cue_list))),
            },
        }
    }

    fn entry_dto(record: &ScheduleRecord) -> Result<ScheduleEntry, EngineError> {
        Ok(ScheduleEntry {
            id: ScheduleId(record.id),
            spec: entry_spec(record)?,
        })
    }

    /// All schedule entries.
    pub async fn list_schedule(&self) -> Result<Vec<ScheduleEntry>, EngineError> {
        self.inner
            .store
            .list_schedules()
            .await?
            .iter()
            .map(Self::entry_dto)
            .collect()
    }

    /// One entry.
    pub async fn schedule_entry(&self, id: ScheduleId) -> Result<ScheduleEntry, EngineError> {
        let record = self.inner.store.schedule(id.0).await?;
        record
            .as_ref()
            .map(Self::entry_dto)
            .transpose()?
            .ok_or(EngineError::Schedule(ScheduleError::Unknown(id)))
    }

    /// Add an entry; it plays from now on.
    pub async fn create_schedule(&self, spec: ScheduleSpec) -> Result<ScheduleEntry, EngineError> {
        let (spec, rule) = self.check_entry(spec).await?;
        let record = self
            .inner
            .store
            .insert_schedule(spec.name.as_str(), &json(&spec))
            .await?;
        let id = ScheduleId(record.id);
        self.put_entry(PlanEntry { id, spec, rule }).await?;
        self.announce(Change::Schedule { entry: id }).await;
        Self::entry_dto(&record)
    }

    /// Replace an entry.
    pub async fn update_schedule(
        &self,
        id: ScheduleId,
        spec: ScheduleSpec,
    ) -> Result<ScheduleEntry, EngineError> {
        let (spec, rule) = self.check_entry(spec).await?;
        let record = self
            .inner
            .store
            .update_schedule(id.0, spec.name.as_str(), &json(&spec))
            .await?
            .ok_or(EngineError::Schedule(ScheduleError::Unknown(id)))?;
        self.put_entry(PlanEntry { id, spec, rule }).await?;
        self.announce(Change::Schedule { entry: id }).await;
        Self::entry_dto(&record)
    }

    /// Remove an entry; what it played stops as if it had ended.
    pub async fn delete_schedule(&self, id: ScheduleId) -> Result<(), EngineError> {
        if !self.inner.store.delete_schedule(id.0).await? {
            return Err(EngineError::Schedule(ScheduleError::Unknown(id)));
        }
        self.inner
            .scheduler
            .send(sched::RemoveEntry(id))
            .await
            .map_err(mailbox)?;
        self.announce(Change::Schedule { entry: id }).await;
        Ok(())
    }

    async fn put_entry(&self, entry: PlanEntry) -> Result<(), EngineError> {
        self.inner
            .scheduler
            .send(sched::PutEntry(entry))
            .await
            .map_err(mailbox)
    }

    /// Hold a canvas by hand (audited by the caller).
    pub(super) async fn take_override(
        &self,
        who: &Principal,
        id: CanvasId,
        play: Play,
        scope: OverrideScope,
    ) -> Result<CanvasState, EngineError> {
        let state = self
            .inner
            .scheduler
            .send(sched::TakeOverride {
                canvas: id,
                play,
                scope,
                by: who.username.clone(),
            })
            .await
            .map_err(mailbox)??;
        let change = Change::Override {
            canvas: id,
            fade_ms: None,
        };
        self.announce(change).await;
        Ok(state)
    }

    /// Hand a canvas back to the schedule.
    pub async fn release_override(
        &self,
        who: &Principal,
        id: CanvasId,
        fade_ms: Option<u32>,
    ) -> Result<CanvasState, EngineError> {
        let work = async {
            if let Some(f) = fade_ms
                && f > MAX_FADE_MS
            {
                return Err(EngineError::invalid(format!(
                    "fade_ms must be at most {MAX_FADE_MS}, got {f}"
                )));
            }
            self.inner
                .scheduler
                .send(sched::ReleaseOverride {
                    canvas: id,
                    fade_ms,
                })
                .await
                .map_err(mailbox)?
        };
        let result = work.await;
        if result.is_ok() {
            let change = Change::Override {
                canvas: id,
                fade_ms,
            };
            self.announce(change).await;
        }
        let detail = serde_json::json!({ "fade_ms": fade_ms }).to_string();
        self.record(who, "release_to_schedule", id, detail, result)
            .await
    }

    /// Start the canvas's next scheduled entry now.
    pub async fn advance_schedule(
        &self,
        who: &Principal,
        id: CanvasId,
    ) -> Result<CanvasState, EngineError> {
        let result = self
            .inner
            .scheduler
            .send(sched::Advance {
                canvas: id,
                by: who.username.clone(),
            })
            .await
            .map_err(mailbox)
            .and_then(|r| r);
        if result.is_ok() {
            let change = Change::Override {
                canvas: id,
                fade_ms: None,
            };
            self.announce(change).await;
        }
        self.record(who, "start_next_entry", id, "{}".into(), result)
            .await
    }

    /// Every override in force.
    pub async fn overrides(&self) -> Result<Vec<OverrideInfo>, EngineError> {
        self.inner
            .scheduler
            .send(sched::GetOverrides)
            .await
            .map_err(mailbox)
    }

    /// What plays on every canvas at `at`.
    pub async fn schedule_preview(&self, at: DateTime<Utc>) -> Result<Preview, EngineError> {
        self.inner
            .scheduler
            .send(sched::GetPreview(at))
            .await
            .map_err(mailbox)
    }

    /// Every change over `[from, to)`.
    pub async fn schedule_timeline(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Timeline, EngineError> {
        if to <= from {
            return Err(EngineError::invalid("`to` must be after `from`"));
        }
        if to - from > chrono::Duration::days(MAX_TIMELINE_DAYS) {
            return Err(EngineError::invalid(format!(
                "a timeline covers at most {MAX_TIMELINE_DAYS} days"
            )));
        }
        self.inner
            .scheduler
            .send(sched::GetTimeline { from, to })
            .await
            .map_err(mailbox)
    }

    /// The ids of the stored canvases.
    pub(super) async fn stored_canvas_ids(&self) -> Result<Vec<CanvasId>, EngineError> {
        Ok(self
            .inner
            .store
            .list_canvases()
            .await?
            .iter()
            .map(|r| CanvasId(r.id))
            .collect())
    }

    /// Tell the scheduler which canvases exist.
    pub(super) async fn canvases_changed(&self) -> Result<(), EngineError> {
        let ids = self.stored_canvas_ids().await?;
        self.inner
            .scheduler
            .send(sched::SetCanvases(ids))
            .await
            .map_err(mailbox)
    }
}
