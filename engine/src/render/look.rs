//! Looks (a scene started at some time) and the stage, which crossfades between them.

use super::{Position, Px, blend_into, mix, render_effect};
use limelight_shared::scene::{FadeCurve, SceneSpec};
use std::sync::Arc;

/// A scene on stage since `started` (seconds on the canvas clock).
#[derive(Debug, Clone)]
pub struct Look {
    scene: Arc<SceneSpec>,
    started: f64,
}

impl Look {
    /// `scene` starting at `started`.
    pub fn new(scene: Arc<SceneSpec>, started: f64) -> Self {
        Self { scene, started }
    }

    /// The scene.
    pub fn scene(&self) -> &SceneSpec {
        &self.scene
    }

    /// Render the layers at `now` into `out`; `scratch` is reused between layers.
    /// `map` holds each pixel's position on the canvas, when it has a geometry.
    pub fn render(
        &self,
        now: f64,
        out: &mut [Px],
        scratch: &mut Vec<Px>,
        map: Option<&[Position]>,
    ) {
        out.fill([0.0; 3]);
        let t = (now - self.started).max(0.0);
        for layer in self.scene.layers.as_slice() {
            let (start, end) = match layer.region {
                Some(r) => {
                    let start = (r.start as usize).min(out.len());
                    (start, start.saturating_add(r.len as usize).min(out.len()))
                }
                None => (0, out.len()),
            };
            if start == end {
                continue;
            }
            scratch.clear();
            scratch.resize(end - start, [0.0; 3]);
            let at = map.and_then(|m| m.get(start..end));
            render_effect(&layer.effect, t, scratch, at);
            blend_into(
                &mut out[start..end],
                scratch,
                layer.blend,
                layer.opacity.get() as f32,
            );
        }
    }
}

/// What a fade starts from.
#[derive(Debug, Clone)]
enum Outgoing {
    /// Nothing was on stage.
    Black,
    /// A look that keeps animating while it fades out.
    Live(Look),
    /// A frame taken when a fade was interrupted by another.
    Frozen(Vec<Px>),
}

#[derive(Debug, Clone)]
struct Fade {
    from: Outgoing,
    start: f64,
    duration: f64,
    curve: FadeCurve,
}

impl Fade {
    fn progress(&self, now: f64) -> f64 {
        if self.duration <= 0.0 {
            return 1.0;
        }
        ((now - self.start) / self.duration).clamp(0.0, 1.0)
    }
}

/// The look on stage and the crossfade into it, if one runs.
#[derive(Debug, Clone, Default)]
pub struct Stage {
    current: Option<Look>,
    fade: Option<Fade>,
    from_buf: Vec<Px>,
    /// Each pixel's position, when the canvas has a geometry.
    map: Option<Arc<[Position]>>,
}

impl Stage {
    /// A stage showing `look` (or black).
    pub fn new(look: Option<Look>) -> Self {
        Self {
            current: look,
            fade: None,
            from_buf: Vec::new(),
            map: None,
        }
    }

    /// Render on a canvas whose pixels are at `map` (wire order).
    pub fn with_map(mut self, map: Option<Arc<[Position]>>) -> Self {
        self.map = map;
        self
    }

    /// The look faded to (or on stage).
    pub fn current(&self) -> Option<&Look> {
        self.current.as_ref()
    }

    /// Progress of the running fade at `now`, 0..1; `None` when no fade runs.
    pub fn fade_progress(&self, now: f64) -> Option<f64> {
        self.fade
            .as_ref()
            .map(|f| f.progress(now))
            .filter(|p| *p < 1.0)
    }

    /// Crossfade to `look` (none: black) over `duration` seconds (0 cuts) from what
    /// shows at `now`. `pixels` is the canvas size, used to freeze an interrupted fade.
    pub fn go(
        &mut self,
        look: Option<Look>,
        now: f64,
        duration: f64,
        curve: FadeCurve,
        pixels: usize,
    ) {
        if duration <= 0.0 {
            self.current = look;
            self.fade = None;
            return;
        }
        let from = if self.fade_progress(now).is_some() {
            // Interrupting a fade: what the audience sees now becomes the start point.
            let mut frozen = vec![[0.0; 3]; pixels];
            let mut scratch = Vec::new();
            self.render(now, &mut frozen, &mut scratch);
            Outgoing::Frozen(frozen)
        } else {
            match self.current.take() {
                Some(l) => Outgoing::Live(l),
                None => Outgoing::Black,
            }
        };
        self.current = look;
        self.fade = Some(Fade {
            from,
            start: now,
            duration,
            curve,
        });
    }

    /// Render the stage at `now` into `out`.
    pub fn render(&mut self, now: f64, out: &mut [Px], scratch: &mut Vec<Px>) {
        match &self.current {
            Some(look) => look.render(now, out, scratch, self.map.as_deref()),
            None => out.fill([0.0; 3]),
        }
        let Some(fade) = &self.fade else { return };
        let p = fade.progress(now);
        if p >= 1.0 {
            self.fade = None;
            return;
        }
        let w = match fade.curve {
            FadeCurve::Linear => p,
            FadeCurve::EaseInOut => p * p * (3.0 - 2.0 * p),
        } as f32;
        self.from_buf.resize(out.len(), [0.0; 3]);
        match &fade.from {
            Outgoing::Black => self.from_buf.fill([0.0; 3]),
            Outgoing::Live(look) => {
                look.render(now, &mut self.from_buf, scratch, self.map.as_deref());
            }
            Outgoing::Frozen(frame) => {
                self.from_buf.fill([0.0; 3]);
                let n = frame.len().min(self.from_buf.len());
                self.from_buf[..n].copy_from_slice(&frame[..n]);
            }
        }
        for (o, f) in out.iter_mut().zip(&self.from_buf) {
            *o = mix(*f, *o, w);
        }
    }
}
