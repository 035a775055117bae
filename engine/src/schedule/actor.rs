//! The scheduler actor: keeps every canvas showing what the plan says.
//!
//! It wakes [`LEAD`] before each change and hands the canvas a command due at the
//! change's instant; the canvas applies it on its first frame at or after that
//! instant, so the change is on the wire within one frame of its due time however
//! late this actor's timer fires. A single worker task carries every command to the
//! canvases in order. At start-up, after an edit or an override, and when the wall
//! clock jumps, it takes up what should play now instead of replaying what it
//! missed.

use super::messages::*;
use super::plan::{Override, Plan, Step, fade_in};
use crate::CanvasError;
use crate::ScheduleError;
use crate::canvas::LiveCommand;
use crate::canvas::control::LiveControl;
use crate::clock::{Clock, WallClock};
use crate::error::EngineError;
use crate::output::OnAir;
use crate::published::EngineEvent;
use crate::store::{LiveField, NewAudit, OverrideRecord, Store};
use actix::prelude::*;
use chrono::{DateTime, Utc};
use limelight_shared::canvas::CanvasState;
use limelight_shared::ids::CanvasId;
use limelight_shared::scene::FadeCurve;
use limelight_shared::schedule::{Cause, Change, OverrideInfo, Play};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot};

/// How long before a change the actor wakes to queue it on the canvas.
pub const LEAD: Duration = Duration::from_millis(500);
/// Longest sleep: the wall clock is checked for jumps at least this often.
const MAX_SLEEP: Duration = Duration::from_secs(5);
/// A wall clock that drifts from the monotonic clock by more than this has jumped.
const JUMP: chrono::Duration = chrono::Duration::seconds(2);
/// How far ahead the changes to fire are worked out at once.
const WINDOW: chrono::Duration = chrono::Duration::hours(24);

/// A command for the worker: put `play` on `canvas`.
struct Job {
    canvas: CanvasId,
    play: Option<Play>,
    fade_ms: u32,
    /// Due on the canvas clock; `None` for now.
    due: Option<Duration>,
    /// Forget commands queued for later frames first (an override or a resync).
    drop_timed: bool,
    /// Let the running cue list play out first (stop mode `finish_cue_list`).
    after_cue_list: bool,
    /// Store it and write it in the audit log: false on a node that follows a
    /// change another node stored, and for the plan's own changes on a standby.
    store: bool,
    /// Published once it shows.
    change: Change,
    reply: Option<oneshot::Sender<Result<CanvasState, EngineError>>>,
}

/// The scheduler.
pub struct Scheduler {
    plan: Plan,
    store: Store,
    clock: Arc<dyn Clock>,
    wall: Arc<dyn WallClock>,
    events: broadcast::Sender<EngineEvent>,
    jobs: mpsc::UnboundedSender<Job>,
    jobs_rx: Option<mpsc::UnboundedReceiver<Job>>,
    live: LiveControl,
    /// What each canvas was last told to play.
    applied: HashMap<CanvasId, Option<Play>>,
    /// Changes to fire, in time order, up to `horizon`.
    pending: VecDeque<Step>,
    horizon: DateTime<Utc>,
    timer: Option<SpawnHandle>,
    /// Wall and monotonic time at the last wake, to notice jumps.
    anchor: (DateTime<Utc>, Duration),
    /// When each override ends, worked out whenever the plan changes.
    override_ends: HashMap<CanvasId, DateTime<Utc>>,
    /// Whether this node drives the output: only the leader stores and logs the
    /// plan's own changes (every node makes them, at the same instants).
    on_air: OnAir,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("entries", &self.plan.entries().len())
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl Scheduler {
    /// A scheduler for `plan`; `applied` is what each canvas shows at start-up.
    pub fn new(
        plan: Plan,
        applied: HashMap<CanvasId, Option<Play>>,
        store: Store,
        live: LiveControl,
        clock: Arc<dyn Clock>,
        wall: Arc<dyn WallClock>,
        events: broadcast::Sender<EngineEvent>,
    ) -> Self {
        let (jobs, jobs_rx) = mpsc::unbounded_channel();
        let anchor = (wall.now(), clock.now());
        Self {
            plan,
            store,
            clock,
            horizon: anchor.0,
            wall,
            events,
            jobs,
            jobs_rx: Some(jobs_rx),
            live,
            applied,
            pending: VecDeque::new(),
            timer: None,
            anchor,
            override_ends: HashMap::new(),
            on_air: OnAir::on(),
        }
    }

    /// Store and log the plan's own changes only while `on_air` is on: on a node
    /// that shares its database with others, only the leader does. Alone, a node
    /// always does.
    pub fn stored_while(mut self, on_air: OnAir) -> Self {
        self.on_air = on_air;
        self
    }

    fn send(&self, job: Job) {
        if self.jobs.send(job).is_err() {
            tracing::error!("scheduler worker stopped; a change was not applied");
        }
    }

    /// Take up what should play now on every canvas whose look differs from it, and
    /// work out the changes ahead.
    fn resync(&mut self, cause: Cause) {
        let now = self.wall.now();
        let store = self.on_air.is_on();
        self.take_up(now, None, cause, None, None, store);
        self.refill(now, true);
    }

    /// Put what the plan says at `now` on every canvas whose look differs from it,
    /// or on `only` whatever it shows (a canvas handed back), fading over `fade_ms`
    /// or the look's own fade-in.
    fn take_up(
        &mut self,
        now: DateTime<Utc>,
        only: Option<CanvasId>,
        cause: Cause,
        fade_ms: Option<u32>,
        mut reply: Option<oneshot::Sender<Result<CanvasState, EngineError>>>,
        store: bool,
    ) {
        for n in self.plan.at(now) {
            let wanted = match only {
                Some(canvas) => canvas == n.canvas,
                None => {
                    let current = self.applied.get(&n.canvas).cloned().flatten();
                    !same_look(current.as_ref(), n.play.as_ref())
                }
            };
            if !wanted {
                continue;
            }
            let step = Step {
                at: now,
                canvas: n.canvas,
                fade_ms: fade_ms.unwrap_or_else(|| n.play.as_ref().map_or(0, fade_in)),
                play: n.play,
                source: n.source,
                cause,
                after_cue_list: false,
            };
            self.fire(step, None, true, reply.take(), store);
        }
    }

    /// Work out the changes after `from` (all of them again when `reset`).
    fn refill(&mut self, from: DateTime<Utc>, reset: bool) {
        let start = if reset { from } else { self.horizon.max(from) };
        let to = start + WINDOW;
        // Ask from just before `start` so a change exactly at the old horizon is kept.
        let (_, steps) = self
            .plan
            .steps(start - chrono::Duration::milliseconds(1), to);
        if reset {
            self.pending.clear();
        }
        self.pending
            .extend(steps.into_iter().filter(|s| s.at > from && s.at >= start));
        self.horizon = to;
        if reset {
            let canvases: Vec<CanvasId> = self.plan.canvases().collect();
            self.override_ends = canvases
                .into_iter()
                .filter_map(|c| self.plan.override_end(c, from).map(|t| (c, t)))
                .collect();
        }
    }

    /// Forget overrides whose scope has run out: the schedule has taken over again.
    fn expire_overrides(&mut self, now: DateTime<Utc>) {
        let ended: Vec<CanvasId> = self
            .override_ends
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(c, _)| *c)
            .collect();
        for canvas in ended {
            self.override_ends.remove(&canvas);
            if self.plan.clear_override(canvas).is_none() {
                continue;
            }
            let store = self.store.clone();
            actix::spawn(async move {
                if let Err(e) = store.delete_override(canvas.0).await {
                    tracing::error!(%canvas, error = %e, "could not forget an ended override");
                }
            });
            self.publish_override(canvas);
        }
    }

    /// Hand a change to the worker.
    fn fire(
        &mut self,
        step: Step,
        due: Option<Duration>,
        drop_timed: bool,
        reply: Option<oneshot::Sender<Result<CanvasState, EngineError>>>,
        store: bool,
    ) {
        self.applied.insert(step.canvas, step.play.clone());
        let job = Job {
            canvas: step.canvas,
            play: step.play.clone(),
            fade_ms: step.fade_ms,
            due,
            drop_timed,
            after_cue_list: step.after_cue_list,
            store,
            change: self.plan.change(step),
            reply,
        };
        self.send(job);
    }

    fn wake(&mut self, ctx: &mut Context<Self>) {
        let (wall, mono) = (self.wall.now(), self.clock.now());
        let expected = self.anchor.0
            + chrono::Duration::from_std(mono.saturating_sub(self.anchor.1)).unwrap_or_default();
        self.anchor = (wall, mono);
        if (wall - expected).abs() > JUMP {
            tracing::warn!(%wall, %expected, "wall clock jumped; taking up what should play now");
            self.resync(Cause::Resume);
        }
        self.expire_overrides(wall);
        let lead = chrono::Duration::from_std(LEAD).unwrap_or_default();
        loop {
            if self.pending.is_empty() && self.horizon <= wall + lead {
                self.refill(wall, false);
            }
            match self.pending.front() {
                Some(step) if step.at <= wall + lead => {
                    let Some(step) = self.pending.pop_front() else {
                        break;
                    };
                    let ahead = (step.at - wall).to_std().unwrap_or_default();
                    let store = self.on_air.is_on();
                    self.fire(step, Some(mono + ahead), false, None, store);
                }
                _ => break,
            }
            if self.pending.is_empty() && self.horizon > wall + lead {
                break;
            }
        }
        self.arm(ctx);
    }

    /// Set the timer for the next change, or the next jump check.
    fn arm(&mut self, ctx: &mut Context<Self>) {
        if let Some(handle) = self.timer.take() {
            ctx.cancel_future(handle);
        }
        let now = self.wall.now();
        let next = self.pending.front().map(|s| s.at).unwrap_or(self.horizon);
        let to_next = (next - now)
            .to_std()
            .unwrap_or_default()
            .saturating_sub(LEAD);
        let to_expiry = self
            .override_ends
            .values()
            .min()
            .map_or(MAX_SLEEP, |t| (*t - now).to_std().unwrap_or_default());
        let wait = to_next.min(to_expiry).min(MAX_SLEEP);
        let timer = self.clock.wait(wait).into_actor(self);
        self.timer = Some(ctx.spawn(timer.map(|(), act, ctx| {
            act.timer = None;
            act.wake(ctx);
        })));
    }

    fn publish_override(&self, canvas: CanvasId) {
        let info = self.plan.override_info(canvas, self.wall.now());
        let _ = self
            .events
            .send(EngineEvent::OverrideChanged { canvas, info });
    }

    fn ensure_canvas(&self, canvas: CanvasId) -> Result<(), EngineError> {
        if self.plan.canvases().any(|c| c == canvas) {
            Ok(())
        } else {
            Err(EngineError::Canvas(CanvasError::Unknown(canvas)))
        }
    }

    /// Store and apply an override; answers once the canvas shows it.
    fn take(
        &mut self,
        canvas: CanvasId,
        o: Override,
    ) -> ResponseActFuture<Self, Result<CanvasState, EngineError>> {
        let record = match override_record(canvas, &o) {
            Ok(r) => r,
            Err(e) => return Box::pin(fut::ready(Err(e))),
        };
        let store = self.store.clone();
        Box::pin(
            async move { store.put_override(record).await }
                .into_actor(self)
                .then(move |stored, act, ctx| {
                    let (tx, rx) = oneshot::channel();
                    match stored {
                        Ok(()) => {
                            let step = override_step(canvas, &o);
                            act.plan.set_override(canvas, o);
                            act.fire(step, None, true, Some(tx), true);
                            act.refill(act.wall.now(), true);
                            act.arm(ctx);
                            act.publish_override(canvas);
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e.into()));
                        }
                    }
                    async move { rx.await.unwrap_or_else(|_| Err(stopped())) }.into_actor(act)
                }),
        )
    }
}

/// The change that puts override `o` on `canvas`, fading in as its play says.
fn override_step(canvas: CanvasId, o: &Override) -> Step {
    Step {
        at: o.since,
        canvas,
        play: Some(o.play.clone()),
        source: Some(limelight_shared::schedule::Source::Override {
            by: o.by.clone(),
            scope: o.scope,
        }),
        cause: Cause::Override,
        fade_ms: fade_in(&o.play),
        after_cue_list: false,
    }
}

/// Whether two plays show the same thing (fades aside).
fn same_look(a: Option<&Play>, b: Option<&Play>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(Play::Scene { scene: x, .. }), Some(Play::Scene { scene: y, .. })) => x == y,
        (Some(Play::CueList { cue_list: x }), Some(Play::CueList { cue_list: y })) => x == y,
        _ => false,
    }
}

fn stopped() -> EngineError {
    EngineError::broken("the scheduler stopped")
}

fn override_record(canvas: CanvasId, o: &Override) -> Result<OverrideRecord, EngineError> {
    let json = |e: serde_json::Error| EngineError::internal("writing an override", e);
    Ok(OverrideRecord {
        canvas_id: canvas.0,
        play: serde_json::to_string(&o.play).map_err(json)?,
        scope: serde_json::to_string(&o.scope).map_err(json)?,
        taken_by: o.by.clone(),
        since: o.since.naive_utc(),
    })
}

/// Carry jobs to the canvases, one at a time and in order.
async fn worker(
    mut jobs: mpsc::UnboundedReceiver<Job>,
    live: LiveControl,
    store: Store,
    clock: Arc<dyn Clock>,
    events: broadcast::Sender<EngineEvent>,
) {
    while let Some(job) = jobs.recv().await {
        if job.drop_timed
            && let Err(e) = live.drop_timed(job.canvas).await
        {
            tracing::warn!(canvas = %job.canvas, error = %e, "could not drop queued changes");
        }
        let result = apply(&live, &job).await;
        if result.is_ok() {
            metrics::counter!("limelight_schedule_changes_total", "cause" => cause_label(job.change.cause))
                .increment(1);
            // Before consoles hear of it: what a console heard is in the log. An
            // override is the operator's command, logged as that.
            if job.store && job.change.cause != Cause::Override {
                audit(&store, &job.change).await;
            }
        }
        match (result, job.due) {
            (Err(e), _) => {
                tracing::error!(canvas = %job.canvas, error = %e, "scheduled change failed");
                if let Some(reply) = job.reply {
                    let _ = reply.send(Err(e));
                }
            }
            (Ok(state), None) => {
                let _ = events.send(EngineEvent::ScheduleChanged(job.change));
                if let Some(state) = &state {
                    let _ = events.send(EngineEvent::CanvasChanged(state.clone()));
                }
                if let Some(reply) = job.reply {
                    let _ = reply.send(state.ok_or_else(stopped));
                }
            }
            (Ok(_), Some(due)) => {
                // Tell consoles once it shows, without holding up the next job.
                let (live, events, clock) = (live.clone(), events.clone(), clock.clone());
                actix::spawn(async move {
                    clock.wait_until(due).await;
                    let canvas = job.canvas;
                    let _ = events.send(EngineEvent::ScheduleChanged(job.change));
                    if let Ok(state) = live.settle(canvas).await {
                        let _ = events.send(EngineEvent::CanvasChanged(state));
                    }
                });
            }
        }
    }
}

/// Who the audit log names for the schedule's own changes: not a possible user name.
const AUDIT_NAME: &str = "(schedule)";

/// Put a change the schedule made in the audit log, beside the hand-taken commands:
/// entries starting and ending, overrides running out or handed back, and what it
/// took up at start-up, after a clock jump or an edit.
async fn audit(store: &Store, change: &Change) {
    let target = format!("canvas:{}", change.canvas);
    let detail = serde_json::to_string(change).unwrap_or_default();
    let entry = NewAudit {
        username: AUDIT_NAME,
        action: "schedule_change",
        target: &target,
        detail: &detail,
        error: None,
    };
    if let Err(e) = store.append_audit(entry).await {
        tracing::error!(error = %e, %target, "could not write the audit log");
    }
}

fn cause_label(cause: Cause) -> &'static str {
    match cause {
        Cause::Start => "start",
        Cause::End => "end",
        Cause::Override => "override",
        Cause::Release => "release",
        Cause::Resume => "resume",
    }
}

/// Put a job's play on its canvas: the state after it when applied now.
async fn apply(live: &LiveControl, job: &Job) -> Result<Option<CanvasState>, EngineError> {
    let fade = Duration::from_millis(u64::from(job.fade_ms));
    let (field, command) = match &job.play {
        Some(Play::Scene { scene, curve, .. }) => {
            let spec = live.scene(scene.as_str()).await?;
            (
                LiveField::Scene(Some(scene.as_str().to_owned())),
                LiveCommand::TriggerScene {
                    scene: spec,
                    fade,
                    curve: *curve,
                },
            )
        }
        Some(Play::CueList { cue_list }) => {
            let list = crate::cue_list::program(live.store(), *cue_list).await?;
            (
                LiveField::Cues(crate::cue_list::StoredPlayhead::top(&list).json()),
                LiveCommand::RunCues(Arc::new(list)),
            )
        }
        None => (
            LiveField::Scene(None),
            LiveCommand::Clear {
                fade,
                curve: FadeCurve::Linear,
            },
        ),
    };
    let command = if job.after_cue_list {
        LiveCommand::AfterCues(Box::new(command))
    } else {
        command
    };
    match (job.due, job.store) {
        (Some(due), true) => live
            .apply_at(job.canvas, field, command, due)
            .await
            .map(|()| None),
        (Some(due), false) => live
            .control_at(job.canvas, command, due)
            .await
            .map(|()| None),
        (None, true) => live.apply(job.canvas, field, command).await.map(Some),
        (None, false) => live.control(job.canvas, command).await.map(Some),
    }
}

impl Actor for Scheduler {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Not a future of this context: overrides wait for the worker while the
        // context is held for them.
        if let Some(rx) = self.jobs_rx.take() {
            actix::spawn(worker(
                rx,
                self.live.clone(),
                self.store.clone(),
                self.clock.clone(),
                self.events.clone(),
            ));
        }
        self.resync(Cause::Resume);
        self.arm(ctx);
    }
}

impl Handler<PutEntry> for Scheduler {
    type Result = ();

    fn handle(&mut self, msg: PutEntry, ctx: &mut Self::Context) {
        self.plan.put_entry(msg.0);
        self.resync(Cause::Resume);
        self.arm(ctx);
    }
}

impl Handler<RemoveEntry> for Scheduler {
    type Result = ();

    fn handle(&mut self, msg: RemoveEntry, ctx: &mut Self::Context) {
        self.plan.remove_entry(msg.0);
        self.resync(Cause::Resume);
        self.arm(ctx);
    }
}

impl Handler<SetCanvases> for Scheduler {
    type Result = ();

    fn handle(&mut self, msg: SetCanvases, ctx: &mut Self::Context) {
        self.applied.retain(|c, _| msg.0.contains(c));
        self.plan.set_canvases(msg.0);
        self.resync(Cause::Resume);
        self.arm(ctx);
    }
}

impl Handler<TakeOverride> for Scheduler {
    type Result = AtomicResponse<Self, Result<CanvasState, EngineError>>;

    fn handle(&mut self, msg: TakeOverride, _: &mut Self::Context) -> Self::Result {
        if let Err(e) = self.ensure_canvas(msg.canvas) {
            return AtomicResponse::new(Box::pin(fut::ready(Err(e))));
        }
        let o = Override {
            play: msg.play,
            scope: msg.scope,
            by: msg.by,
            since: self.wall.now(),
        };
        AtomicResponse::new(self.take(msg.canvas, o))
    }
}

impl Handler<Advance> for Scheduler {
    type Result = AtomicResponse<Self, Result<CanvasState, EngineError>>;

    fn handle(&mut self, msg: Advance, _: &mut Self::Context) -> Self::Result {
        if let Err(e) = self.ensure_canvas(msg.canvas) {
            return AtomicResponse::new(Box::pin(fut::ready(Err(e))));
        }
        let now = self.wall.now();
        let Some((play, _, end)) = self.plan.next_scheduled(msg.canvas, now) else {
            return AtomicResponse::new(Box::pin(fut::ready(Err(
                ScheduleError::NothingScheduled(msg.canvas).into(),
            ))));
        };
        let seconds = (end - now).num_seconds().max(1);
        let o = Override {
            play,
            scope: limelight_shared::schedule::OverrideScope::ForS(
                u32::try_from(seconds).unwrap_or(u32::MAX),
            ),
            by: msg.by,
            since: now,
        };
        AtomicResponse::new(self.take(msg.canvas, o))
    }
}

impl Handler<ReleaseOverride> for Scheduler {
    type Result = AtomicResponse<Self, Result<CanvasState, EngineError>>;

    fn handle(&mut self, msg: ReleaseOverride, _: &mut Self::Context) -> Self::Result {
        if let Err(e) = self.ensure_canvas(msg.canvas) {
            return AtomicResponse::new(Box::pin(fut::ready(Err(e))));
        }
        let store = self.store.clone();
        let canvas = msg.canvas;
        AtomicResponse::new(Box::pin(
            async move { store.delete_override(canvas.0).await }
                .into_actor(self)
                .then(move |deleted, act, ctx| {
                    let (tx, rx) = oneshot::channel();
                    match deleted {
                        Ok(_) => {
                            act.plan.clear_override(canvas);
                            // Re-apply what the schedule says, even when it looks the same.
                            let now = act.wall.now();
                            act.take_up(
                                now,
                                Some(canvas),
                                Cause::Release,
                                msg.fade_ms,
                                Some(tx),
                                true,
                            );
                            act.refill(now, true);
                            act.arm(ctx);
                            act.publish_override(canvas);
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e.into()));
                        }
                    }
                    async move { rx.await.unwrap_or_else(|_| Err(stopped())) }.into_actor(act)
                }),
        ))
    }
}

impl Handler<Align> for Scheduler {
    type Result = ();

    fn handle(&mut self, msg: Align, ctx: &mut Self::Context) {
        if let Some(entries) = msg.entries {
            let stored: HashMap<_, _> = entries.into_iter().map(|e| (e.id, e)).collect();
            let gone: Vec<_> = self
                .plan
                .entries()
                .iter()
                .filter(|e| !stored.contains_key(&e.id))
                .map(|e| e.id)
                .collect();
            for id in gone {
                self.plan.remove_entry(id);
            }
            for (id, entry) in stored {
                let same = self
                    .plan
                    .entries()
                    .iter()
                    .any(|e| e.id == id && e.spec == entry.spec);
                if !same {
                    self.plan.put_entry(entry);
                }
            }
        }
        let now = self.wall.now();
        for (canvas, stored) in msg.overrides {
            if self.plan.override_of(canvas) == stored.as_ref()
                || self.ensure_canvas(canvas).is_err()
            {
                continue;
            }
            match stored {
                Some(o) => {
                    let step = override_step(canvas, &o);
                    self.plan.set_override(canvas, o);
                    self.fire(step, None, true, None, false);
                }
                None => {
                    self.plan.clear_override(canvas);
                    self.take_up(now, Some(canvas), Cause::Release, msg.fade_ms, None, false);
                }
            }
            self.publish_override(canvas);
        }
        self.resync(Cause::Resume);
        self.arm(ctx);
    }
}

impl Handler<GetPreview> for Scheduler {
    type Result = MessageResult<GetPreview>;

    fn handle(&mut self, msg: GetPreview, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.plan.preview(msg.0))
    }
}

impl Handler<GetTimeline> for Scheduler {
    type Result = MessageResult<GetTimeline>;

    fn handle(&mut self, msg: GetTimeline, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.plan.timeline(msg.from, msg.to))
    }
}

impl Handler<GetOverrides> for Scheduler {
    type Result = MessageResult<GetOverrides>;

    fn handle(&mut self, _: GetOverrides, _: &mut Self::Context) -> Self::Result {
        let now = self.wall.now();
        let infos: Vec<OverrideInfo> = self
            .plan
            .canvases()
            .filter_map(|c| self.plan.override_info(c, now))
            .collect();
        MessageResult(infos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use limelight_shared::scene::SceneName;

    #[test]
    fn looks_compare_by_what_shows_not_by_fade() -> Result<(), Box<dyn std::error::Error>> {
        let scene = |name: &str, fade_ms| -> Result<Play, Box<dyn std::error::Error>> {
            Ok(Play::Scene {
                scene: SceneName::try_from(name.to_owned())?,
                fade_ms,
                curve: FadeCurve::Linear,
            })
        };
        assert!(same_look(Some(&scene("A", 0)?), Some(&scene("A", 900)?)));
        assert!(!same_look(Some(&scene("A", 0)?), Some(&scene("B", 0)?)));
        assert!(!same_look(Some(&scene("A", 0)?), None));
        assert!(same_look(None, None));
        Ok(())
    }
}
