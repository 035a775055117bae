//! Cue playback on one canvas, in plain Rust on the canvas's own clock.
//!
//! The canvas polls the runner at every frame; waits and continues therefore end on
//! the first frame at or after their instant, and each is timed from the instant
//! the one before it was due, not from the frame that noticed it, so a chain of
//! auto-follows does not drift by a frame per cue.
//!
//! One cue runs at a time: a GO, go-to, back or panic cancels whatever an earlier
//! cue was still waiting to do (see `limelight_shared::cues` for the rules).

use limelight_shared::cues::{ContinueMode, CueAction, CueNumber, Playhead};
use limelight_shared::ids::CueListId;
use limelight_shared::scene::{FadeCurve, SceneSpec};
use std::fmt;
use std::sync::Arc;

/// A cue list ready to play: scenes resolved, times in seconds.
#[derive(Debug, Clone)]
pub struct CueProgram {
    /// The list.
    pub id: CueListId,
    /// Its name.
    pub name: String,
    /// Shortest time between two GOs.
    pub go_protection: f64,
    /// The cues, in order.
    pub cues: Vec<Cue>,
}

/// One cue ready to play.
#[derive(Debug, Clone)]
pub struct Cue {
    /// Its number.
    pub number: CueNumber,
    /// The look; none is black.
    pub scene: Option<Arc<SceneSpec>>,
    /// Fade time.
    pub fade: f64,
    /// Fade shape.
    pub curve: FadeCurve,
    /// Time from GO to the start of the fade.
    pub pre_wait: f64,
    /// Time to the next cue's GO, with a continue mode.
    pub post_wait: f64,
    /// What happens next.
    pub continue_mode: ContinueMode,
}

/// A change of look for the stage: fade to `scene` from instant `at`.
#[derive(Debug, Clone)]
pub struct Show {
    /// The look; none is black.
    pub scene: Option<Arc<SceneSpec>>,
    /// When the fade starts (canvas seconds).
    pub at: f64,
    /// Fade time.
    pub fade: f64,
    /// Fade shape.
    pub curve: FadeCurve,
}

/// Something consoles should hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CueNote {
    /// The list.
    pub cue_list: CueListId,
    /// What happened.
    pub action: CueAction,
    /// The cue fired, if any.
    pub cue: Option<CueNumber>,
    /// The cue standing by after it.
    pub standby: Option<CueNumber>,
}

/// What a call to the runner produced, in order.
#[derive(Debug, Default)]
pub struct CueOutput {
    /// Looks for the stage.
    pub shows: Vec<Show>,
    /// Events for consoles.
    pub notes: Vec<CueNote>,
}

/// Why a cue command was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum CueRefusal {
    /// A GO came sooner than the list's GO protection allows.
    Protected {
        /// Time since the last GO, in milliseconds.
        since_ms: u64,
        /// The list's protection, in milliseconds.
        protection_ms: u64,
    },
    /// The playhead is past the last cue.
    EndOfList,
    /// No cue has that number.
    UnknownCue(CueNumber),
    /// No cue list is loaded on the canvas.
    NoList,
    /// The canvas failed while taking the command and is restarting.
    Restarting,
}

impl fmt::Display for CueRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CueRefusal::Protected {
                since_ms,
                protection_ms,
            } => write!(
                f,
                "GO refused: {since_ms} ms after the last GO, and this list's GO protection is {protection_ms} ms"
            ),
            CueRefusal::EndOfList => f.write_str("GO refused: the list has played its last cue"),
            CueRefusal::UnknownCue(n) => write!(f, "no cue numbered {n} in the loaded list"),
            CueRefusal::NoList => f.write_str("no cue list is loaded on this canvas"),
            CueRefusal::Restarting => f.write_str("the canvas failed and is restarting"),
        }
    }
}

impl std::error::Error for CueRefusal {}

/// Where a playhead stands, to store and restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Position {
    /// Index of the cue that fired last.
    pub current: Option<usize>,
    /// Index of the cue the next GO fires (the list's length at its end).
    pub standby: usize,
}

#[derive(Debug, Clone, Copy)]
enum Timer {
    /// Cue `index`'s pre-wait ends: its fade starts.
    Start { index: usize, at: f64 },
    /// Cue `index` fires by itself.
    Go {
        index: usize,
        at: f64,
        action: CueAction,
    },
}

impl Timer {
    fn at(self) -> f64 {
        match self {
            Timer::Start { at, .. } | Timer::Go { at, .. } => at,
        }
    }
}

/// The playback of one cue list on one canvas.
#[derive(Debug)]
pub struct CueRunner {
    program: Arc<CueProgram>,
    position: Position,
    last_go: Option<f64>,
    timer: Option<Timer>,
    fade_end: f64,
}

impl CueRunner {
    /// A runner standing at `position`, nothing running.
    pub fn new(program: Arc<CueProgram>, position: Position) -> Self {
        let mut runner = Self {
            program,
            position: Position::default(),
            last_go: None,
            timer: None,
            fade_end: f64::NEG_INFINITY,
        };
        runner.position = runner.clamp(position);
        runner
    }

    fn clamp(&self, p: Position) -> Position {
        let len = self.program.cues.len();
        Position {
            current: p.current.filter(|c| *c < len),
            standby: p.standby.min(len),
        }
    }

    /// The list.
    pub fn program(&self) -> &Arc<CueProgram> {
        &self.program
    }

    /// Where the playhead stands.
    #[cfg(test)]
    pub fn position(&self) -> Position {
        self.position
    }

    /// Start the list: fire its first cue. Not a GO: GO protection neither applies
    /// to it nor counts from it.
    pub fn run(&mut self, now: f64, out: &mut CueOutput) {
        self.last_go = None;
        self.position = Position::default();
        self.note(CueAction::Run, None, out);
        self.fire(0, now, CueAction::Go, out);
        self.poll(now, out);
    }

    /// GO: fire the cue standing by.
    pub fn go(&mut self, now: f64, out: &mut CueOutput) -> Result<(), CueRefusal> {
        if let Some(last) = self.last_go {
            let since = now - last;
            if since < self.program.go_protection {
                return Err(CueRefusal::Protected {
                    since_ms: ms(since),
                    protection_ms: ms(self.program.go_protection),
                });
            }
        }
        if self.position.standby >= self.program.cues.len() {
            return Err(CueRefusal::EndOfList);
        }
        self.last_go = Some(now);
        self.fire(self.position.standby, now, CueAction::Go, out);
        self.poll(now, out);
        Ok(())
    }

    /// Go to cue `number`: fire it now.
    pub fn goto(
        &mut self,
        number: &CueNumber,
        now: f64,
        out: &mut CueOutput,
    ) -> Result<(), CueRefusal> {
        let index = self
            .program
            .cues
            .iter()
            .position(|c| c.number == *number)
            .ok_or_else(|| CueRefusal::UnknownCue(number.clone()))?;
        self.fire(index, now, CueAction::Goto, out);
        self.poll(now, out);
        Ok(())
    }

    /// Back: the cue before the current one, with its fade and no waits; before
    /// the first cue, black, standing by on the first.
    pub fn back(&mut self, now: f64, out: &mut CueOutput) {
        self.timer = None;
        match self.position.current {
            Some(c) if c > 0 => {
                self.position = Position {
                    current: Some(c - 1),
                    standby: c,
                };
                self.note(CueAction::Back, Some(c - 1), out);
                self.show(c - 1, now, out);
            }
            current => {
                let fade = current.map_or(0.0, |c| self.program.cues[c].fade);
                self.position = Position {
                    current: None,
                    standby: 0,
                };
                self.note(CueAction::Back, None, out);
                self.black(now, fade, out);
            }
        }
    }

    /// Panic: cancel every wait and fade to black; the playhead stays.
    pub fn panic(&mut self, fade: f64, now: f64, out: &mut CueOutput) {
        self.timer = None;
        self.position.current = None;
        self.note(CueAction::Panic, None, out);
        self.black(now, fade, out);
    }

    /// Do what has come due by `now`.
    pub fn poll(&mut self, now: f64, out: &mut CueOutput) {
        while let Some(timer) = self.timer.filter(|t| t.at() <= now) {
            self.timer = None;
            match timer {
                Timer::Start { index, at } => self.start(index, at, out),
                Timer::Go { index, at, action } => self.fire(index, at, action, out),
            }
        }
    }

    /// Nothing waiting and no fade running at `now`: the list has played out.
    pub fn idle(&self, now: f64) -> bool {
        self.timer.is_none() && now >= self.fade_end
    }

    /// Take an edited version of the list: the playhead stays on the same cue
    /// numbers where they still exist.
    pub fn reload(&mut self, program: Arc<CueProgram>) {
        let find = |i: usize| {
            self.program
                .cues
                .get(i)
                .and_then(|c| program.cues.iter().position(|n| n.number == c.number))
        };
        let position = Position {
            current: self.position.current.and_then(find),
            standby: find(self.position.standby).unwrap_or(self.position.standby),
        };
        self.timer = None;
        self.program = program;
        self.position = self.clamp(position);
    }

    /// The playhead as consoles see it.
    pub fn playhead(&self) -> Playhead {
        Playhead {
            cue_list: self.program.id,
            name: self.program.name.clone(),
            current: self.number(self.position.current),
            standby: self.number(Some(self.position.standby)),
            running: self.timer.is_some(),
        }
    }

    fn number(&self, index: Option<usize>) -> Option<CueNumber> {
        index
            .and_then(|i| self.program.cues.get(i))
            .map(|c| c.number.clone())
    }

    /// Cue `index` fires at `at`: its pre-wait starts, or its fade if it has none.
    fn fire(&mut self, index: usize, at: f64, action: CueAction, out: &mut CueOutput) {
        self.timer = None;
        self.position = Position {
            current: Some(index),
            standby: index + 1,
        };
        self.note(action, Some(index), out);
        let pre_wait = self.program.cues[index].pre_wait;
        if pre_wait > 0.0 {
            self.timer = Some(Timer::Start {
                index,
                at: at + pre_wait,
            });
        } else {
            self.start(index, at, out);
        }
    }

    /// Cue `index`'s fade starts at `at`; its continue mode sets what comes next.
    fn start(&mut self, index: usize, at: f64, out: &mut CueOutput) {
        self.show(index, at, out);
        let cue = &self.program.cues[index];
        let (next_at, action) = match cue.continue_mode {
            ContinueMode::None => return,
            ContinueMode::AutoContinue => (at + cue.post_wait, CueAction::AutoContinue),
            ContinueMode::AutoFollow => (at + cue.fade + cue.post_wait, CueAction::AutoFollow),
        };
        if index + 1 < self.program.cues.len() {
            self.timer = Some(Timer::Go {
                index: index + 1,
                at: next_at,
                action,
            });
        }
    }

    fn show(&mut self, index: usize, at: f64, out: &mut CueOutput) {
        let cue = &self.program.cues[index];
        self.fade_end = at + cue.fade;
        out.shows.push(Show {
            scene: cue.scene.clone(),
            at,
            fade: cue.fade,
            curve: cue.curve,
        });
    }

    fn black(&mut self, at: f64, fade: f64, out: &mut CueOutput) {
        self.fade_end = at + fade;
        out.shows.push(Show {
            scene: None,
            at,
            fade,
            curve: FadeCurve::Linear,
        });
    }

    fn note(&self, action: CueAction, cue: Option<usize>, out: &mut CueOutput) {
        out.notes.push(CueNote {
            cue_list: self.program.id,
            action,
            cue: self.number(cue),
            standby: self.number(Some(self.position.standby)),
        });
    }
}

fn ms(seconds: f64) -> u64 {
    // Non-negative and far below u64::MAX: seconds of a GO protection.
    (seconds.max(0.0) * 1000.0).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene(name: &str) -> Arc<SceneSpec> {
        let json =
            format!(r##"{{"name":"{name}","layers":[{{"effect":"solid","color":"#FF0000"}}]}}"##);
        Arc::new(serde_json::from_str(&json).unwrap_or_else(|e| unreachable!("{e}")))
    }

    /// Cue `n` shows scene `Sn`, with the given fade, pre-wait, post-wait, mode.
    fn program(cues: &[(f64, f64, f64, ContinueMode)], protection: f64) -> Arc<CueProgram> {
        Arc::new(CueProgram {
            id: CueListId(7),
            name: "test".into(),
            go_protection: protection,
            cues: cues
                .iter()
                .enumerate()
                .map(|(i, &(fade, pre_wait, post_wait, continue_mode))| Cue {
                    number: CueNumber::try_from((i + 1).to_string())
                        .unwrap_or_else(|e| unreachable!("{e}")),
                    scene: Some(scene(&format!("S{}", i + 1))),
                    fade,
                    curve: FadeCurve::Linear,
                    pre_wait,
                    post_wait,
                    continue_mode,
                })
                .collect(),
        })
    }

    /// The shows as (scene name, start instant).
    fn shown(out: &CueOutput) -> Vec<(String, f64)> {
        out.shows
            .iter()
            .map(|s| {
                let name = s.scene.as_ref().map_or("black", |s| s.name.as_str());
                (name.to_owned(), s.at)
            })
            .collect()
    }

    fn actions(out: &CueOutput) -> Vec<(CueAction, Option<String>)> {
        out.notes
            .iter()
            .map(|n| (n.action, n.cue.as_ref().map(|c| c.as_str().to_owned())))
            .collect()
    }

    /// Poll every frame at 40 fps from `from` to `to`.
    fn frames(runner: &mut CueRunner, from: f64, to: f64, out: &mut CueOutput) {
        let mut frame = (from * 40.0).ceil() as i64;
        while (frame as f64) / 40.0 <= to {
            runner.poll(frame as f64 / 40.0, out);
            frame += 1;
        }
    }

    use ContinueMode::{AutoContinue, AutoFollow, None as Stop};

    #[test]
    fn go_protection_refuses_a_double_press_and_nothing_changes() {
        let mut r = CueRunner::new(
            program(
                &[
                    (1.0, 0.0, 0.0, Stop),
                    (1.0, 0.0, 0.0, Stop),
                    (1.0, 0.0, 0.0, Stop),
                ],
                0.5,
            ),
            Position::default(),
        );
        let mut out = CueOutput::default();
        assert_eq!(r.go(10.0, &mut out), Ok(()));
        let refused = r.go(10.3, &mut out);
        assert_eq!(
            refused,
            Err(CueRefusal::Protected {
                since_ms: 300,
                protection_ms: 500
            })
        );
        assert_eq!(shown(&out), vec![("S1".to_owned(), 10.0)]);
        assert_eq!(
            r.playhead().standby.map(|n| n.to_string()),
            Some("2".into())
        );
        // A refused GO does not restart the protection: 0.5 s after the first is fine.
        assert_eq!(r.go(10.5, &mut out), Ok(()));
        assert_eq!(shown(&out).last(), Some(&("S2".to_owned(), 10.5)));
        assert_eq!(r.go(11.0, &mut out), Ok(()));
        assert_eq!(r.go(12.0, &mut out), Err(CueRefusal::EndOfList));
        // Go-to is deliberate and not protected.
        assert_eq!(
            r.goto(&r.program().cues[0].number.clone(), 12.1, &mut out),
            Ok(())
        );
        assert_eq!(shown(&out).last(), Some(&("S1".to_owned(), 12.1)));
    }

    #[test]
    fn an_auto_follow_chain_fires_each_cue_when_the_fade_before_ends() {
        // 1 follows into 2 after its 2 s fade plus 0.5 s post-wait; 2 follows into
        // 3 after 1 s; 3 has a 0.25 s pre-wait and stops the chain; 4 waits for GO.
        let mut r = CueRunner::new(
            program(
                &[
                    (2.0, 0.0, 0.5, AutoFollow),
                    (1.0, 0.0, 0.0, AutoFollow),
                    (0.0, 0.25, 0.0, Stop),
                    (1.0, 0.0, 0.0, Stop),
                ],
                0.3,
            ),
            Position::default(),
        );
        let mut out = CueOutput::default();
        assert_eq!(r.go(1.0, &mut out), Ok(()));
        frames(&mut r, 1.0, 10.0, &mut out);
        assert_eq!(
            shown(&out),
            vec![
                ("S1".to_owned(), 1.0),
                ("S2".to_owned(), 3.5),
                ("S3".to_owned(), 4.75),
            ]
        );
        assert_eq!(
            actions(&out),
            vec![
                (CueAction::Go, Some("1".into())),
                (CueAction::AutoFollow, Some("2".into())),
                (CueAction::AutoFollow, Some("3".into())),
            ]
        );
        assert!(r.idle(10.0));
        assert_eq!(
            r.playhead().standby.map(|n| n.to_string()),
            Some("4".into())
        );
    }

    #[test]
    fn chains_keep_their_instants_when_frames_come_late() {
        // Instants off the frame grid: each step is timed from the one before,
        // so the third cue starts at exactly 0.01 + 3 × 0.33 s.
        let mut r = CueRunner::new(
            program(
                &[
                    (0.33, 0.0, 0.0, AutoFollow),
                    (0.33, 0.0, 0.0, AutoFollow),
                    (0.33, 0.0, 0.0, AutoFollow),
                    (0.0, 0.0, 0.0, Stop),
                ],
                0.0,
            ),
            Position::default(),
        );
        let mut out = CueOutput::default();
        r.run(0.01, &mut out);
        frames(&mut r, 0.01, 2.0, &mut out);
        let starts: Vec<f64> = out.shows.iter().map(|s| s.at).collect();
        let expected = [0.01, 0.34, 0.67, 1.0];
        assert_eq!(starts.len(), 4);
        for (a, b) in starts.iter().zip(expected) {
            assert!((a - b).abs() < 1e-9, "{starts:?}");
        }
    }

    #[test]
    fn auto_continue_fires_the_next_cue_after_the_post_wait_from_the_fade_start() {
        let mut r = CueRunner::new(
            program(
                &[
                    (5.0, 1.0, 0.5, AutoContinue),
                    (5.0, 0.0, 0.0, AutoContinue),
                    (1.0, 0.0, 0.0, Stop),
                ],
                0.3,
            ),
            Position::default(),
        );
        let mut out = CueOutput::default();
        assert_eq!(r.go(0.0, &mut out), Ok(()));
        assert!(out.shows.is_empty(), "the pre-wait holds the fade");
        assert!(r.playhead().running);
        frames(&mut r, 0.0, 3.0, &mut out);
        // 1 fades from 1.0 (pre-wait); 2 fires 0.5 s later; 3 at once with it.
        assert_eq!(
            shown(&out),
            vec![
                ("S1".to_owned(), 1.0),
                ("S2".to_owned(), 1.5),
                ("S3".to_owned(), 1.5),
            ]
        );
        assert!(!r.playhead().running);
    }

    #[test]
    fn a_go_cancels_the_waits_of_the_cue_before() {
        let mut r = CueRunner::new(
            program(
                &[
                    (1.0, 0.0, 5.0, AutoFollow),
                    (1.0, 0.0, 0.0, Stop),
                    (0.0, 0.0, 0.0, Stop),
                ],
                0.3,
            ),
            Position::default(),
        );
        let mut out = CueOutput::default();
        assert_eq!(r.go(0.0, &mut out), Ok(()));
        assert_eq!(r.go(1.0, &mut out), Ok(()));
        frames(&mut r, 1.0, 20.0, &mut out);
        // Cue 2 was taken by hand; the follow 1 had planned for 6.0 never fires.
        assert_eq!(
            shown(&out),
            vec![("S1".to_owned(), 0.0), ("S2".to_owned(), 1.0)]
        );
    }

    #[test]
    fn back_goto_and_panic_move_the_playhead_as_an_operator_expects() {
        let mut r = CueRunner::new(
            program(
                &[
                    (1.0, 0.0, 0.0, Stop),
                    (2.0, 3.0, 0.0, AutoFollow),
                    (0.5, 0.0, 0.0, Stop),
                ],
                0.0,
            ),
            Position::default(),
        );
        let mut out = CueOutput::default();
        let three = r.program().cues[2].number.clone();
        assert_eq!(r.goto(&three, 0.0, &mut out), Ok(()));
        r.back(1.0, &mut out);
        // Back shows cue 2 at once with its fade: no pre-wait, no follow.
        assert_eq!(shown(&out).last(), Some(&("S2".to_owned(), 1.0)));
        assert_eq!(
            r.position(),
            Position {
                current: Some(1),
                standby: 2
            }
        );
        frames(&mut r, 1.0, 10.0, &mut out);
        assert_eq!(out.shows.len(), 2, "back does not follow");
        r.back(10.0, &mut out);
        r.back(11.0, &mut out);
        assert_eq!(shown(&out).last(), Some(&("black".to_owned(), 11.0)));
        assert_eq!(
            r.position(),
            Position {
                current: None,
                standby: 0
            }
        );

        // Panic during a pre-wait: black over its fade, the wait never ends.
        assert_eq!(r.go(20.0, &mut out), Ok(()));
        assert_eq!(r.go(21.0, &mut out), Ok(()));
        r.panic(2.0, 22.0, &mut out);
        frames(&mut r, 22.0, 40.0, &mut out);
        let last = out.shows.last().map(|s| (s.scene.is_none(), s.at, s.fade));
        assert_eq!(last, Some((true, 22.0, 2.0)));
        assert!(!r.idle(23.0));
        assert!(r.idle(24.0));
        assert_eq!(r.position().standby, 2, "panic leaves the playhead");
        assert_eq!(
            r.goto(
                &CueNumber::try_from("9".to_owned()).unwrap_or_else(|e| unreachable!("{e}")),
                30.0,
                &mut out
            ),
            Err(CueRefusal::UnknownCue(
                CueNumber::try_from("9".to_owned()).unwrap_or_else(|e| unreachable!("{e}"))
            ))
        );
    }

    #[test]
    fn an_edited_list_keeps_the_playhead_on_the_same_numbers() {
        let first = program(
            &[
                (1.0, 0.0, 0.0, Stop),
                (1.0, 0.0, 0.0, Stop),
                (1.0, 0.0, 0.0, Stop),
            ],
            0.0,
        );
        let mut r = CueRunner::new(
            first.clone(),
            Position {
                current: Some(1),
                standby: 2,
            },
        );
        // Cue 1 removed: cues 2 and 3 move up one place.
        let mut edited = (*first).clone();
        edited.cues.remove(0);
        r.reload(Arc::new(edited));
        assert_eq!(
            r.position(),
            Position {
                current: Some(0),
                standby: 1
            }
        );
        assert_eq!(
            r.playhead().standby.map(|n| n.to_string()),
            Some("3".into())
        );
    }
}
