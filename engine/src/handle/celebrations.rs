//! Celebrations: stored documents, fired by hand or by their rules. Firing takes
//! each chosen canvas as an override for the celebration's time (with a few
//! seconds' margin, so a restart never leaves one held), and when the time is up
//! hands each canvas back: to the override it had before, for what is left of
//! that, or to the schedule. A canvas someone took in the meantime is left alone.

use super::*;
use crate::CanvasError;
use crate::celebration::{CelebrationError, Held, RULE_EVERY};
use crate::store::CelebrationRecord;
use limelight_shared::celebration::{Celebration, CelebrationFired, CelebrationSpec};
use limelight_shared::ids::CelebrationId;
use limelight_shared::schedule::{OverrideInfo, OverrideScope, Play, Targets};
use std::time::Duration;

/// How much longer than the celebration its overrides last: only a restart in
/// the middle of one lets them run out by themselves.
const MARGIN_S: u32 = 5;

fn celebration_spec(record: &CelebrationRecord) -> Result<CelebrationSpec, EngineError> {
    serde_json::from_str(&record.spec)
        .map_err(|e| EngineError::internal(format!("stored celebration {}", record.id), e))
}

/// Who an override taken for celebration `name` is by.
fn holder(name: &str) -> String {
    format!("celebration:{name}")
}

impl EngineHandle {
    fn celebration_dto(&self, record: &CelebrationRecord) -> Result<Celebration, EngineError> {
        let id = CelebrationId(record.id);
        let (fired, left) = self.inner.celebrations.standing(id, self.inner.clock.now());
        Ok(Celebration {
            id,
            spec: celebration_spec(record)?,
            fired_at: fired.map(|t| t.fixed_offset()),
            cooldown_left_ms: left,
            rule_value: self.inner.celebrations.rule_value(id),
        })
    }

    /// Take up the stored celebrations' rules (at engine start) and start
    /// reading their inputs.
    pub(super) async fn run_stored_celebrations(&self) -> Result<(), EngineError> {
        for record in self.inner.store.list_celebrations().await? {
            let spec = celebration_spec(&record)?;
            self.inner
                .celebrations
                .set_rule(CelebrationId(record.id), spec.rule);
        }
        let handle = self.clone();
        actix::spawn(async move { handle.watch_rules().await });
        Ok(())
    }

    /// Every [`RULE_EVERY`], fire the celebrations whose input rose past their
    /// threshold, for as long as the engine runs.
    async fn watch_rules(self) {
        let board = self.inner.inputs.board();
        loop {
            self.inner.clock.wait(RULE_EVERY).await;
            let now = self.inner.clock.now();
            let firing = self.inner.celebrations.rules_that_fire(|rule| {
                let (value, stale) = board.get(&rule.input)?.read(now);
                (!stale).then_some(value)
            });
            for (id, input) in firing {
                let by = Principal {
                    id: UserId(0),
                    username: format!("rule:{input}"),
                    role: Role::Admin,
                    approver: false,
                };
                if let Err(e) = self.fire_celebration(&by, id).await {
                    tracing::info!(celebration = %id, error = %e, "a rule did not fire its celebration");
                }
            }
        }
    }

    /// Check that what `spec` plays and where exists and may play.
    async fn check_celebration(&self, spec: &CelebrationSpec) -> Result<(), EngineError> {
        spec.check().map_err(|e| EngineError::invalid(e.0))?;
        match &spec.play {
            Play::Scene { scene, .. } => {
                let scene = self.inner.live.scene(scene.as_str()).await?;
                self.check_playable(&scene)?;
            }
            Play::CueList { cue_list } => {
                self.cue_list(*cue_list).await?;
            }
        }
        if let Targets::Canvases(ids) = &spec.canvases {
            let known = self.list_canvases().await?;
            if let Some(id) = ids.iter().find(|id| !known.iter().any(|c| c.id == **id)) {
                return Err(CanvasError::Unknown(*id).into());
            }
        }
        Ok(())
    }

    /// All celebrations by id.
    pub async fn list_celebrations(&self) -> Result<Vec<Celebration>, EngineError> {
        self.inner
            .store
            .list_celebrations()
            .await?
            .iter()
            .map(|r| self.celebration_dto(r))
            .collect()
    }

    /// One celebration.
    pub async fn celebration(&self, id: CelebrationId) -> Result<Celebration, EngineError> {
        let record = self.inner.store.celebration(id.0).await?;
        self.celebration_dto(&record.ok_or(CelebrationError::Unknown(id))?)
    }

    /// Add a celebration.
    pub async fn create_celebration(
        &self,
        who: &Principal,
        spec: CelebrationSpec,
    ) -> Result<Celebration, EngineError> {
        let result = async {
            self.check_celebration(&spec).await?;
            let record = self
                .inner
                .store
                .insert_celebration(spec.name.as_str(), &json(&spec))
                .await?;
            self.inner
                .celebrations
                .set_rule(CelebrationId(record.id), spec.rule.clone());
            self.celebration_dto(&record)
        }
        .await;
        let target = format!("celebration:{}", spec.name);
        self.audit(
            who,
            "celebration.create",
            &target,
            &json(&spec),
            result.as_ref().err(),
        )
        .await;
        result
    }

    /// Replace a celebration.
    pub async fn update_celebration(
        &self,
        who: &Principal,
        id: CelebrationId,
        spec: CelebrationSpec,
    ) -> Result<Celebration, EngineError> {
        let result = async {
            self.check_celebration(&spec).await?;
            let record = self
                .inner
                .store
                .update_celebration(id.0, spec.name.as_str(), &json(&spec))
                .await?
                .ok_or(CelebrationError::Unknown(id))?;
            self.inner.celebrations.set_rule(id, spec.rule.clone());
            self.celebration_dto(&record)
        }
        .await;
        let target = format!("celebration:{id}");
        self.audit(
            who,
            "celebration.update",
            &target,
            &json(&spec),
            result.as_ref().err(),
        )
        .await;
        result
    }

    /// Remove a celebration (one playing now still hands its canvases back).
    pub async fn delete_celebration(
        &self,
        who: &Principal,
        id: CelebrationId,
    ) -> Result<(), EngineError> {
        let result = async {
            if !self.inner.store.delete_celebration(id.0).await? {
                return Err(CelebrationError::Unknown(id).into());
            }
            self.inner.celebrations.forget(id);
            Ok(())
        }
        .await;
        let target = format!("celebration:{id}");
        self.audit(
            who,
            "celebration.delete",
            &target,
            "{}",
            result.as_ref().err(),
        )
        .await;
        result
    }

    /// Fire celebration `id` as `who`: it takes its canvases now and hands them
    /// back after its duration. Refused while it plays or cools down.
    pub async fn fire_celebration(
        &self,
        who: &Principal,
        id: CelebrationId,
    ) -> Result<CelebrationFired, EngineError> {
        let result = self.fire(who, id).await;
        let target = format!("celebration:{id}");
        let detail = match &result {
            Ok(fired) => json(fired),
            Err(_) => "{}".into(),
        };
        self.audit(
            who,
            "celebration.fire",
            &target,
            &detail,
            result.as_ref().err(),
        )
        .await;
        result
    }

    async fn fire(
        &self,
        who: &Principal,
        id: CelebrationId,
    ) -> Result<CelebrationFired, EngineError> {
        let record = self
            .inner
            .store
            .celebration(id.0)
            .await?
            .ok_or(CelebrationError::Unknown(id))?;
        let spec = celebration_spec(&record)?;
        let (now, wall) = (self.inner.clock.now(), self.inner.wall_clock.now());
        let duration = Duration::from_millis(spec.duration_ms.into());
        self.inner.celebrations.take_fire(
            id,
            spec.name.as_str(),
            now,
            wall,
            duration,
            Duration::from_millis(spec.cooldown_ms.into()),
        )?;
        let taken = self.take_canvases(&spec).await;
        let held = match taken {
            Ok(held) => held,
            Err(e) => {
                self.inner.celebrations.undo_fire(id, now);
                return Err(e);
            }
        };
        let until = wall + chrono::Duration::milliseconds(i64::from(spec.duration_ms));
        let fired = CelebrationFired {
            celebration: id,
            name: spec.name.clone(),
            by: who.username.clone(),
            canvases: held.iter().map(|h| h.canvas).collect(),
            at: wall.fixed_offset(),
            until: until.fixed_offset(),
        };
        let _ = self
            .inner
            .events
            .send(EngineEvent::Celebration(fired.clone()));
        let handle = self.clone();
        actix::spawn(async move {
            handle.inner.clock.wait(duration).await;
            handle.hand_back(&spec, held).await;
        });
        Ok(fired)
    }

    /// Take `spec`'s canvases for it; each with the override it had before.
    async fn take_canvases(&self, spec: &CelebrationSpec) -> Result<Vec<Held>, EngineError> {
        self.check_celebration(spec).await?;
        let canvases: Vec<CanvasId> = match &spec.canvases {
            Targets::All => self.list_canvases().await?.iter().map(|c| c.id).collect(),
            Targets::Canvases(ids) => ids.clone(),
        };
        let overrides = self.overrides().await?;
        let by = Principal {
            id: UserId(0),
            username: holder(spec.name.as_str()),
            role: Role::Admin,
            approver: false,
        };
        let seconds = spec.duration_ms.div_ceil(1000) + MARGIN_S;
        let mut held = Vec::new();
        for canvas in canvases {
            let before = overrides.iter().find(|o| o.canvas == canvas).cloned();
            self.take_override(&by, canvas, spec.play.clone(), OverrideScope::ForS(seconds))
                .await?;
            held.push(Held { canvas, before });
        }
        Ok(held)
    }

    /// The time is up: each canvas still held goes back to what it had.
    async fn hand_back(&self, spec: &CelebrationSpec, held: Vec<Held>) {
        let mine = holder(spec.name.as_str());
        let overrides = match self.overrides().await {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(error = %e, "a celebration cannot read the overrides to hand back");
                return;
            }
        };
        let fade_ms = match &spec.play {
            Play::Scene { fade_ms, .. } => Some(*fade_ms),
            Play::CueList { .. } => None,
        };
        let now = self.inner.wall_clock.now();
        for Held { canvas, before } in held {
            let still_mine = overrides.iter().any(|o| o.canvas == canvas && o.by == mine);
            if !still_mine {
                continue;
            }
            let back = match before.as_ref().and_then(|b| rest_of(b, now)) {
                Some((play, scope, by)) => {
                    let who = Principal {
                        id: UserId(0),
                        username: by,
                        role: Role::Admin,
                        approver: false,
                    };
                    self.take_override(&who, canvas, play, scope).await
                }
                None => self
                    .inner
                    .scheduler
                    .send(crate::schedule::ReleaseOverride { canvas, fade_ms })
                    .await
                    .map_err(mailbox)
                    .and_then(|r| r),
            };
            if let Err(e) = back {
                tracing::error!(%canvas, error = %e, "a celebration could not hand a canvas back");
            }
        }
        let who = Principal {
            id: UserId(0),
            username: mine,
            role: Role::Admin,
            approver: false,
        };
        self.audit(
            &who,
            "celebration.end",
            &format!("celebration:{}", spec.name),
            "{}",
            None,
        )
        .await;
    }
}

/// What is left at `now` of override `o`: its play, its scope from now, and who
/// took it; none when it has run out.
fn rest_of(
    o: &OverrideInfo,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<(Play, OverrideScope, String)> {
    let scope = match o.scope {
        OverrideScope::ForS(_) => {
            let until = o.until?;
            let left = (until.to_utc() - now).num_seconds();
            OverrideScope::ForS(u32::try_from(left).ok().filter(|s| *s > 0)?)
        }
        scope => scope,
    };
    Some((o.play.clone(), scope, o.by.clone()))
}
