//! A canvas's state in plain Rust: the stage, masters, blackout and emergency, and
//! the render of one frame into output bytes. The actor only adds timing and
//! messaging around it.

use super::playback::{CueNote, CueOutput, CueProgram, CueRefusal, CueRunner, Position, Show};
use crate::render::{Layout, Look, Px, Raster, Scratch, Stage, px};
use limelight_shared::canvas::{CanvasSpec, CanvasState as CanvasStateDto};
use limelight_shared::cues::{CueAction, CueNumber};
use limelight_shared::ids::CanvasId;
use limelight_shared::scene::{FadeCurve, SceneSpec};
use limelight_shared::values::Percent;
use std::sync::Arc;
use std::time::Duration;

/// A change to a canvas's live state.
#[derive(Debug, Clone)]
pub enum LiveCommand {
    /// Crossfade to a scene.
    TriggerScene {
        /// The scene.
        scene: Arc<SceneSpec>,
        /// Fade time (zero cuts).
        fade: Duration,
        /// Fade shape.
        curve: FadeCurve,
    },
    /// Crossfade to black (no scene).
    Clear {
        /// Fade time (zero cuts).
        fade: Duration,
        /// Fade shape.
        curve: FadeCurve,
    },
    /// Blackout on or off.
    Blackout(bool),
    /// Canvas master.
    Master(Percent),
    /// Emergency override on or off.
    Emergency(bool),
    /// The grand master.
    GrandMaster(Percent),
    /// Load a cue list and fire its first cue.
    RunCues(Arc<CueProgram>),
    /// An edited version of a cue list: taken if that list is loaded.
    ReloadCues(Arc<CueProgram>),
    /// A change that waits until the loaded cue list has played out (nothing
    /// waiting, no fade running); at once when none is loaded.
    AfterCues(Box<LiveCommand>),
}

/// A command to the cue playback.
#[derive(Debug, Clone, PartialEq)]
pub enum CueOp {
    /// Fire the cue standing by.
    Go,
    /// Back to the cue before.
    Back,
    /// Fire this cue.
    Goto(CueNumber),
    /// Stop every wait and fade to black.
    Panic(Duration),
}

/// What a canvas starts from: its configuration and its stored live state.
#[derive(Debug, Clone)]
pub struct CanvasSetup {
    /// The canvas.
    pub id: CanvasId,
    /// Its configuration.
    pub spec: CanvasSpec,
    /// Scene on stage when it stopped.
    pub scene: Option<Arc<SceneSpec>>,
    /// Canvas master.
    pub master: Percent,
    /// Blackout.
    pub blackout: bool,
    /// Latched emergency override.
    pub emergency: bool,
    /// Grand master.
    pub grand_master: Percent,
    /// Restarts after failures so far.
    pub restarts: u32,
    /// The cue list loaded when it stopped, and where its playhead stood.
    pub cues: Option<(Arc<CueProgram>, Position)>,
    /// Pictures for image layers (set by the directory that starts the canvas).
    pub pictures: Option<Arc<crate::content::Pictures>>,
    /// Input values for bound layer parameters (set by the directory too).
    pub inputs: Option<Arc<crate::input::InputBoard>>,
}

/// Live state of one canvas.
#[derive(Debug)]
pub struct CanvasState {
    id: CanvasId,
    name: String,
    pixels: usize,
    emergency_color: Px,
    stage: Stage,
    master: Percent,
    grand_master: Percent,
    blackout: bool,
    emergency: bool,
    frames_sent: u64,
    frames_skipped: u64,
    restarts: u32,
    buf: Vec<Px>,
    scratch: Scratch,
    cues: Option<CueRunner>,
    /// A change held until the cue list has played out.
    deferred: Option<LiveCommand>,
    cue_out: CueOutput,
    /// What happened to the cue playback since the actor last took the notes.
    notes: Vec<CueNote>,
    #[cfg(feature = "fault-injection")]
    fail_next_render: bool,
}

impl CanvasState {
    /// The raster the canvas's pixels fall on.
    pub fn raster(&self) -> &Arc<Raster> {
        self.stage.layout().raster()
    }

    /// State as set up; the stored scene shows at once (no fade on start).
    pub fn new(setup: CanvasSetup) -> Self {
        let pixels = setup.spec.pixels.get() as usize;
        Self {
            id: setup.id,
            name: setup.spec.name.as_str().to_owned(),
            pixels,
            emergency_color: px(setup.spec.emergency_color),
            stage: Stage::new(setup.scene.map(|s| Look::new(s, 0.0)))
                .with_layout(Layout::new(setup.spec.geometry.as_ref(), pixels))
                .with_pictures(setup.pictures.clone(), u32::from(setup.spec.fps.get()))
                .with_inputs(setup.inputs.clone().map(crate::input::InputReader::new)),
            master: setup.master,
            grand_master: setup.grand_master,
            blackout: setup.blackout,
            emergency: setup.emergency,
            frames_sent: 0,
            frames_skipped: 0,
            restarts: setup.restarts,
            buf: vec![[0.0; 3]; pixels],
            scratch: Scratch::default(),
            cues: setup
                .cues
                .map(|(program, position)| CueRunner::new(program, position)),
            deferred: None,
            cue_out: CueOutput::default(),
            notes: Vec::new(),
            #[cfg(feature = "fault-injection")]
            fail_next_render: false,
        }
    }

    /// Apply a command at canvas time `now` (seconds).
    pub fn apply(&mut self, cmd: LiveCommand, now: f64) {
        match cmd {
            LiveCommand::TriggerScene { scene, fade, curve } => {
                self.unload_cues();
                self.stage.go(
                    Some(Look::new(scene, now)),
                    now,
                    fade.as_secs_f64(),
                    curve,
                    self.pixels,
                );
            }
            LiveCommand::Clear { fade, curve } => {
                self.unload_cues();
                self.stage
                    .go(None, now, fade.as_secs_f64(), curve, self.pixels);
            }
            LiveCommand::Blackout(on) => self.blackout = on,
            LiveCommand::Master(level) => self.master = level,
            LiveCommand::Emergency(on) => self.emergency = on,
            LiveCommand::GrandMaster(level) => self.grand_master = level,
            LiveCommand::RunCues(program) => {
                self.deferred = None;
                let runner = self
                    .cues
                    .insert(CueRunner::new(program, Position::default()));
                runner.run(now, &mut self.cue_out);
                self.take_cue_output();
            }
            LiveCommand::ReloadCues(program) => {
                if let Some(runner) = self.cues.as_mut().filter(|r| r.program().id == program.id) {
                    runner.reload(program);
                }
            }
            LiveCommand::AfterCues(command) => {
                self.deferred = Some(*command);
                self.settle_cues(now);
            }
        }
    }

    /// A command to the cue playback, at canvas time `now`. Panic works without a
    /// cue list (it fades the canvas to black); the others need one.
    pub fn cue(&mut self, op: CueOp, now: f64) -> Result<(), CueRefusal> {
        if let CueOp::Panic(fade) = op {
            match self.cues.as_mut() {
                Some(runner) => runner.panic(fade.as_secs_f64(), now, &mut self.cue_out),
                None => self.stage.go(
                    None,
                    now,
                    fade.as_secs_f64(),
                    FadeCurve::Linear,
                    self.pixels,
                ),
            }
            self.take_cue_output();
            return Ok(());
        }
        let runner = self.cues.as_mut().ok_or(CueRefusal::NoList)?;
        runner.poll(now, &mut self.cue_out);
        let done = match &op {
            CueOp::Go => runner.go(now, &mut self.cue_out),
            CueOp::Back => {
                runner.back(now, &mut self.cue_out);
                Ok(())
            }
            CueOp::Goto(number) => runner.goto(number, now, &mut self.cue_out),
            CueOp::Panic(_) => Ok(()),
        };
        self.take_cue_output();
        done
    }

    /// What happened to the cue playback since the last call.
    pub fn take_notes(&mut self) -> impl Iterator<Item = CueNote> + '_ {
        self.notes.drain(..)
    }

    fn unload_cues(&mut self) {
        self.cues = None;
        self.deferred = None;
    }

    /// Put the looks the cue runner asked for on stage and keep its notes.
    fn take_cue_output(&mut self) {
        for Show {
            scene,
            at,
            fade,
            curve,
        } in self.cue_out.shows.drain(..)
        {
            self.stage.go(
                scene.map(|s| Look::new(s, at)),
                at,
                fade,
                curve,
                self.pixels,
            );
        }
        self.notes.append(&mut self.cue_out.notes);
    }

    /// Advance the cue playback to `now`; once it has played out, apply the change
    /// held for it.
    fn settle_cues(&mut self, now: f64) {
        if let Some(runner) = self.cues.as_mut() {
            runner.poll(now, &mut self.cue_out);
            self.take_cue_output();
        }
        if self.deferred.is_some() && self.cues.as_ref().is_none_or(|r| r.idle(now)) {
            let finished = self.cues.as_ref().map(|r| CueNote {
                cue_list: r.program().id,
                action: CueAction::Finished,
                cue: None,
                standby: None,
            });
            self.notes.extend(finished);
            if let Some(command) = self.deferred.take() {
                self.apply(command, now);
            }
        }
    }

    /// Start a frame due at clock time `clock_now`: bound layer parameters read
    /// their inputs' values as of then, once for the whole frame.
    pub fn start_frame(&mut self, clock_now: Duration) {
        self.stage.start_frame(clock_now);
    }

    /// Render the frame at canvas time `now` into `out` as RGB bytes, 3 per pixel.
    ///
    /// Emergency override wins over everything, masters and blackout included: it is
    /// the look for an evacuation. Blackout sends zeros (the output keeps streaming).
    pub fn render(&mut self, now: f64, out: &mut Vec<u8>) {
        #[cfg(feature = "fault-injection")]
        if std::mem::take(&mut self.fail_next_render) {
            // Deliberate: exercises the supervisor's restart of a failed canvas.
            #[expect(clippy::panic, reason = "fault injection for supervision tests")]
            {
                panic!("injected render fault on canvas {}", self.id);
            }
        }
        self.settle_cues(now);
        out.clear();
        out.reserve(self.pixels * 3);
        if self.emergency {
            let c = to_byte(self.emergency_color, 1.0);
            for _ in 0..self.pixels {
                out.extend_from_slice(&c);
            }
            return;
        }
        self.stage.render(now, &mut self.buf, &mut self.scratch);
        if self.blackout {
            out.resize(self.pixels * 3, 0);
            return;
        }
        let scale = (self.master.get() / 100.0 * self.grand_master.get() / 100.0) as f32;
        out.resize(self.buf.len() * 3, 0);
        for (bytes, p) in out.chunks_exact_mut(3).zip(&self.buf) {
            bytes.copy_from_slice(&to_byte(*p, scale));
        }
    }

    /// Count a frame handed to the output, and frames skipped before it.
    pub fn count_frame(&mut self, skipped: u64) {
        self.frames_sent += 1;
        self.frames_skipped += skipped;
    }

    /// Make the next render fail, to exercise supervision.
    #[cfg(feature = "fault-injection")]
    pub fn fail_next_render(&mut self) {
        self.fail_next_render = true;
    }

    /// The state as the API reports it, at canvas time `now`.
    pub fn snapshot(&self, now: f64) -> CanvasStateDto {
        CanvasStateDto {
            id: self.id,
            name: self.name.clone(),
            scene: self
                .stage
                .current()
                .map(|l| l.scene().name.as_str().to_owned()),
            fade: self.stage.fade_progress(now),
            master: self.master,
            blackout: self.blackout,
            emergency: self.emergency,
            frames_sent: self.frames_sent,
            frames_skipped: self.frames_skipped,
            restarts: self.restarts,
            cues: self.cues.as_ref().map(CueRunner::playhead),
        }
    }
}

fn to_byte(p: Px, scale: f32) -> [u8; 3] {
    // Rounds half up; `as` saturates (below 0 gives 0, above 255 gives 255, NaN 0).
    p.map(|c| (c * scale * 255.0 + 0.5) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use limelight_shared::canvas::OutputSpec;

    fn scene(json: &str) -> Arc<SceneSpec> {
        Arc::new(serde_json::from_str(json).unwrap_or_else(|e| {
            unreachable!("test scene does not parse: {e}");
        }))
    }

    fn orange() -> Arc<SceneSpec> {
        scene(r##"{"name":"orange","layers":[{"effect":"solid","color":"#FF8000"}]}"##)
    }

    fn blue() -> Arc<SceneSpec> {
        scene(r##"{"name":"blue","layers":[{"effect":"solid","color":"#0000FF"}]}"##)
    }

    fn canvas(pixels: i64) -> CanvasState {
        let spec = CanvasSpec {
            name: "test"
                .to_owned()
                .try_into()
                .unwrap_or_else(|_| unreachable!()),
            pixels: pixels.try_into().unwrap_or_default(),
            fps: Default::default(),
            output: OutputSpec {
                universe: Default::default(),
                priority: Default::default(),
                destinations: vec![],
                sync_universe: None,
                channel_order: Default::default(),
                packing: Default::default(),
                pixels_per_universe: Default::default(),
                source_name: None,
                send_mode: Default::default(),
                keepalive_ms: Default::default(),
            },
            emergency_color: limelight_shared::values::Rgb::WHITE,
            geometry: None,
        };
        CanvasState::new(CanvasSetup {
            id: CanvasId(1),
            spec,
            scene: None,
            master: Percent::default(),
            blackout: false,
            emergency: false,
            grand_master: Percent::default(),
            restarts: 0,
            cues: None,
            pictures: None,
            inputs: None,
        })
    }

    fn frame(c: &mut CanvasState, now: f64) -> Vec<u8> {
        let mut out = Vec::new();
        c.render(now, &mut out);
        out
    }

    fn pct(v: f64) -> Percent {
        Percent::try_from(v).unwrap_or_default()
    }

    #[test]
    fn a_cut_shows_the_scene_on_the_next_frame() {
        let mut c = canvas(4);
        assert_eq!(frame(&mut c, 0.0), vec![0; 12]);
        c.apply(
            LiveCommand::TriggerScene {
                scene: orange(),
                fade: Duration::ZERO,
                curve: FadeCurve::Linear,
            },
            0.1,
        );
        assert_eq!(&frame(&mut c, 0.125)[..6], &[255, 128, 0, 255, 128, 0]);
        assert_eq!(c.snapshot(0.125).scene.as_deref(), Some("orange"));
    }

    #[test]
    fn masters_scale_and_blackout_zeroes() {
        let mut c = canvas(2);
        c.apply(
            LiveCommand::TriggerScene {
                scene: orange(),
                fade: Duration::ZERO,
                curve: FadeCurve::Linear,
            },
            0.0,
        );
        c.apply(LiveCommand::Master(pct(50.0)), 0.0);
        assert_eq!(&frame(&mut c, 0.0)[..3], &[128, 64, 0]);
        c.apply(LiveCommand::GrandMaster(pct(50.0)), 0.0);
        assert_eq!(&frame(&mut c, 0.0)[..3], &[64, 32, 0]);
        c.apply(LiveCommand::Blackout(true), 0.0);
        assert_eq!(frame(&mut c, 0.0), vec![0; 6]);
        c.apply(LiveCommand::Blackout(false), 0.0);
        assert_eq!(&frame(&mut c, 0.0)[..3], &[64, 32, 0]);
    }

    #[test]
    fn emergency_overrides_blackout_and_masters() {
        let mut c = canvas(2);
        c.apply(LiveCommand::Blackout(true), 0.0);
        c.apply(LiveCommand::Master(pct(0.0)), 0.0);
        c.apply(LiveCommand::Emergency(true), 0.0);
        assert_eq!(frame(&mut c, 0.0), vec![255; 6]);
        c.apply(LiveCommand::Emergency(false), 0.0);
        assert_eq!(frame(&mut c, 0.0), vec![0; 6]);
    }

    #[test]
    fn crossfades_follow_their_curve() {
        let mut c = canvas(1);
        let go = |c: &mut CanvasState, s, fade_ms, curve, now| {
            c.apply(
                LiveCommand::TriggerScene {
                    scene: s,
                    fade: Duration::from_millis(fade_ms),
                    curve,
                },
                now,
            )
        };
        go(&mut c, orange(), 0, FadeCurve::Linear, 0.0);
        go(&mut c, blue(), 1000, FadeCurve::Linear, 1.0);
        assert_eq!(frame(&mut c, 1.0), vec![255, 128, 0]);
        assert_eq!(frame(&mut c, 1.5), vec![128, 64, 128]);
        assert_eq!(c.snapshot(1.5).fade, Some(0.5));
        assert_eq!(frame(&mut c, 2.0), vec![0, 0, 255]);
        assert_eq!(c.snapshot(2.0).fade, None);

        // Ease-in-out is slower than linear near the ends.
        go(&mut c, orange(), 1000, FadeCurve::EaseInOut, 3.0);
        let early = frame(&mut c, 3.1);
        assert!(early[0] < 26, "{early:?}");
        assert_eq!(frame(&mut c, 3.5), vec![128, 64, 128]);
    }

    #[test]
    fn an_interrupted_fade_continues_from_what_shows() {
        let mut c = canvas(1);
        let go = |c: &mut CanvasState, s, now| {
            c.apply(
                LiveCommand::TriggerScene {
                    scene: s,
                    fade: Duration::from_millis(1000),
                    curve: FadeCurve::Linear,
                },
                now,
            )
        };
        go(&mut c, orange(), 0.0);
        go(&mut c, blue(), 0.5);
        // Starts from the half-faded orange, not from orange or black.
        assert_eq!(frame(&mut c, 0.5), vec![128, 64, 0]);
        assert_eq!(frame(&mut c, 1.5), vec![0, 0, 255]);
    }

    #[test]
    fn a_change_after_the_cue_list_waits_until_the_list_has_played_out() {
        use super::super::playback::{Cue, CueProgram};
        use limelight_shared::cues::ContinueMode;
        let cue = |n: &str, scene, fade, post_wait, continue_mode| Cue {
            number: CueNumber::try_from(n.to_owned()).unwrap_or_else(|e| unreachable!("{e}")),
            scene: Some(scene),
            fade,
            curve: FadeCurve::Linear,
            pre_wait: 0.0,
            post_wait,
            continue_mode,
        };
        let program = Arc::new(CueProgram {
            id: limelight_shared::ids::CueListId(1),
            name: "list".into(),
            go_protection: 0.3,
            cues: vec![
                cue("1", orange(), 0.0, 1.0, ContinueMode::AutoFollow),
                cue("2", blue(), 1.0, 0.0, ContinueMode::None),
            ],
        });
        let mut c = canvas(1);
        c.apply(LiveCommand::RunCues(program), 0.0);
        assert_eq!(frame(&mut c, 0.0), vec![255, 128, 0]);
        c.apply(
            LiveCommand::AfterCues(Box::new(LiveCommand::Clear {
                fade: Duration::ZERO,
                curve: FadeCurve::Linear,
            })),
            0.5,
        );
        // Cue 2 follows at 1.0 and fades for a second; only then the change shows.
        assert_eq!(frame(&mut c, 0.5), vec![255, 128, 0]);
        assert_eq!(frame(&mut c, 1.5), vec![128, 64, 128]);
        assert_eq!(frame(&mut c, 1.975), vec![6, 3, 249]);
        assert!(c.snapshot(1.975).cues.is_some());
        assert_eq!(frame(&mut c, 2.0), vec![0, 0, 0]);
        assert!(c.snapshot(2.0).cues.is_none());
        let actions: Vec<CueAction> = c.take_notes().map(|n| n.action).collect();
        assert_eq!(
            actions,
            vec![
                CueAction::Run,
                CueAction::Go,
                CueAction::AutoFollow,
                CueAction::Finished
            ]
        );
        // Without a list, GO is refused and changes nothing; panic still fades.
        assert_eq!(c.cue(CueOp::Go, 3.0), Err(CueRefusal::NoList));
        assert_eq!(c.cue(CueOp::Panic(Duration::ZERO), 3.0), Ok(()));
    }
}
