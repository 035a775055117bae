//! The canvas actor: wakes at each frame deadline, takes the commands in its inbox,
//! renders, hands the frame to the sender thread and the preview channel, and
//! reschedules itself. It runs on an arbiter (thread) of its own, so neither API
//! traffic nor another canvas can delay it.
//!
//! The system clock's timers fire on millisecond ticks and can be up to a tick late,
//! so the actor asks to be woken the clock's timer slack (1.5 ms) before each
//! deadline and sleeps the rest on its own thread, which is precise to tens of
//! microseconds. Commands that arrive during that sleep wait in the inbox and still
//! make the frame. A manual clock has no slack: its timers fire at the deadline.

use super::inbox::Inbox;
use super::messages::{CanvasFailed, CueReport, GetState, RunCue, TakeCommands};
use super::playback::CueRefusal;
use super::state::{CanvasSetup, CanvasState, LiveCommand};
use crate::clock::{Clock, FrameClock, Tick, phase_offset};
use crate::output::OutputTx;
use crate::render::Raster;
use actix::prelude::*;
use limelight_shared::ids::CanvasId;
use metrics::{Counter, Histogram};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// The newest rendered frame of a canvas, for live previews.
#[derive(Debug, Clone)]
pub struct PreviewFrame {
    /// Frame number since the canvas (re)started.
    pub frame: u64,
    /// RGB bytes after masters, 3 a pixel.
    pub rgb: Arc<[u8]>,
    /// The raster the pixels fall on, for drawing them where they are.
    pub raster: Arc<Raster>,
}

struct Metrics {
    frames: Counter,
    skipped: Counter,
    render: Histogram,
    interval: Histogram,
}

/// One canvas.
pub struct CanvasActor {
    id: CanvasId,
    state: CanvasState,
    inbox: Arc<Inbox>,
    /// Commands taken from the inbox, kept to reuse the allocation.
    taken: Vec<LiveCommand>,
    clock: Arc<dyn Clock>,
    frames: FrameClock,
    output: OutputTx,
    preview: Arc<watch::Sender<Option<PreviewFrame>>>,
    supervisor: Recipient<CanvasFailed>,
    /// Where cue events go; the receiver stores and publishes them off this thread.
    reports: mpsc::UnboundedSender<CueReport>,
    metrics: Metrics,
    rgb: Vec<u8>,
    last_frame_at: Option<Instant>,
}

impl std::fmt::Debug for CanvasActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CanvasActor").field("id", &self.id).finish()
    }
}

impl CanvasActor {
    /// A canvas set up from its stored state. Its first frame is due within one
    /// period of its start, at a phase set by its id (see [`phase_offset`]).
    pub fn new(
        setup: CanvasSetup,
        inbox: Arc<Inbox>,
        clock: Arc<dyn Clock>,
        output: OutputTx,
        preview: Arc<watch::Sender<Option<PreviewFrame>>>,
        supervisor: Recipient<CanvasFailed>,
        reports: mpsc::UnboundedSender<CueReport>,
    ) -> Self {
        let id = setup.id;
        let fps = setup.spec.fps.get();
        let label = id.to_string();
        Self {
            id,
            state: CanvasState::new(setup),
            inbox,
            taken: Vec::new(),
            frames: FrameClock::new(
                clock.now() + phase_offset(id.0.unsigned_abs(), FrameClock::period_of(fps)),
                fps,
            ),
            clock,
            output,
            preview,
            supervisor,
            reports,
            metrics: Metrics {
                frames: metrics::counter!("limelight_canvas_frames_total", "canvas" => label.clone()),
                skipped: metrics::counter!("limelight_canvas_frames_skipped_total", "canvas" => label.clone()),
                render: metrics::histogram!("limelight_canvas_render_seconds", "canvas" => label.clone()),
                interval: metrics::histogram!("limelight_canvas_frame_interval_seconds", "canvas" => label),
            },
            rgb: Vec::new(),
            last_frame_at: None,
        }
    }

    /// Canvas time of the frame that first shows what is done now: the newest
    /// frame due, or the next one. Commands taken between frames apply at it, as
    /// they would have had that frame taken them, so a fade or a cue's waits start
    /// on the frame that shows their start however the command and the frame raced.
    fn showing(&self) -> f64 {
        self.frames
            .frame_time(self.frames.frame_at(self.clock.now()))
    }

    /// Canvas time now, in seconds.
    fn now(&self) -> f64 {
        self.clock
            .now()
            .saturating_sub(self.frames.deadline(0))
            .as_secs_f64()
    }

    /// Wake the clock's timer slack before the next deadline, or at it when that is
    /// already past.
    fn schedule(&self, ctx: &mut Context<Self>) {
        let deadline = self.frames.next_deadline();
        let early = deadline.saturating_sub(self.clock.timer_slack());
        let wake = if self.clock.now() < early {
            early
        } else {
            deadline
        };
        let wait = self.clock.wait_until(wake);
        ctx.spawn(wait.into_actor(self).map(|(), act, ctx| act.on_tick(ctx)));
    }

    /// Apply the commands due by `due` (clock time) at canvas time `now`. False when
    /// one failed and the canvas has stopped.
    fn take_commands(&mut self, ctx: &mut Context<Self>, due: Duration, now: f64) -> bool {
        self.inbox.take_into(due, &mut self.taken);
        let (state, taken) = (&mut self.state, &mut self.taken);
        let applied = guarded(|| {
            for command in taken.drain(..) {
                state.apply(command, now);
            }
        });
        self.taken.clear();
        self.send_reports();
        match applied {
            Ok(()) => true,
            Err(reason) => {
                self.fail(ctx, reason);
                false
            }
        }
    }

    fn on_tick(&mut self, ctx: &mut Context<Self>) {
        self.clock.sleep_until(self.frames.next_deadline());
        if let Tick::Render { frame, skipped } = self.frames.tick(self.clock.now()) {
            let t = self.frames.frame_time(frame);
            if !self.take_commands(ctx, self.frames.deadline(frame), t) {
                return;
            }
            let started = Instant::now();
            let due = self.frames.deadline(frame);
            let (state, rgb) = (&mut self.state, &mut self.rgb);
            if let Err(reason) = guarded(|| {
                state.start_frame(due);
                state.render(t, rgb)
            }) {
                self.fail(ctx, reason);
                return;
            }
            self.metrics.render.record(started.elapsed().as_secs_f64());
            self.send_reports();
            let frame_bytes: Arc<[u8]> = Arc::from(self.rgb.as_slice());
            self.output.send(frame_bytes.clone());
            self.preview.send_replace(Some(PreviewFrame {
                frame,
                rgb: frame_bytes,
                raster: self.state.raster().clone(),
            }));
            self.state.count_frame(skipped);
            self.metrics.frames.increment(1);
            if skipped > 0 {
                self.metrics.skipped.increment(skipped);
            }
            if let Some(last) = self.last_frame_at.replace(started) {
                self.metrics
                    .interval
                    .record(started.duration_since(last).as_secs_f64());
            }
        }
        self.schedule(ctx);
    }

    /// Hand the cue playback's notes to their receiver (never blocks).
    fn send_reports(&mut self) {
        let id = self.id;
        for note in self.state.take_notes() {
            // The receiver lives as long as the engine; after it, nobody listens.
            let _ = self.reports.send(CueReport { canvas: id, note });
        }
    }

    /// Stop and tell the supervisor, which restarts the canvas from its stored state.
    fn fail(&mut self, ctx: &mut Context<Self>, reason: String) {
        tracing::error!(canvas = %self.id, %reason, "canvas failed; restarting it");
        self.supervisor.do_send(CanvasFailed {
            id: self.id,
            reason,
        });
        ctx.stop();
    }
}

/// Run `f`, turning a panic into an error carrying its message.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_owned())
    })
}

impl Actor for CanvasActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Commands are few; a deep mailbox would only hide a stuck canvas.
        ctx.set_mailbox_capacity(256);
        self.schedule(ctx);
    }
}

impl Handler<TakeCommands> for CanvasActor {
    type Result = MessageResult<TakeCommands>;

    fn handle(&mut self, _: TakeCommands, ctx: &mut Self::Context) -> Self::Result {
        let t = self.showing();
        self.take_commands(ctx, self.clock.now(), t);
        MessageResult(self.state.snapshot(t))
    }
}

impl Handler<RunCue> for CanvasActor {
    type Result = MessageResult<RunCue>;

    fn handle(&mut self, msg: RunCue, ctx: &mut Self::Context) -> Self::Result {
        let now = self.showing();
        if !self.take_commands(ctx, self.clock.now(), now) {
            return MessageResult(Err(CueRefusal::Restarting));
        }
        let state = &mut self.state;
        let done = match guarded(|| state.cue(msg.0, now)) {
            Ok(done) => done,
            Err(reason) => {
                self.fail(ctx, reason);
                return MessageResult(Err(CueRefusal::Restarting));
            }
        };
        self.send_reports();
        MessageResult(done.map(|()| self.state.snapshot(now)))
    }
}

impl Handler<GetState> for CanvasActor {
    type Result = MessageResult<GetState>;

    fn handle(&mut self, _: GetState, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.state.snapshot(self.now()))
    }
}

#[cfg(feature = "fault-injection")]
impl Handler<super::messages::InjectRenderFault> for CanvasActor {
    type Result = ();

    fn handle(&mut self, _: super::messages::InjectRenderFault, _: &mut Self::Context) {
        self.state.fail_next_render();
    }
}
