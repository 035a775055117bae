//! Looks (a scene started at some time) and the stage, which crossfades between them.

use super::bind::{self, Phase};
use super::{
    Content, Layout, Position, Px, blend_into, interactive, mix, picture, render_effect, text,
};
use crate::content::Pictures;
use crate::input::InputReader;
use limelight_shared::scene::{Effect, FadeCurve, Region, SceneSpec};
use std::sync::Arc;

/// A scene on stage since `started` (seconds on the canvas clock).
#[derive(Debug, Clone)]
pub struct Look {
    scene: Arc<SceneSpec>,
    started: f64,
    /// How far each layer with a bound speed has moved.
    phases: Vec<Phase>,
}

impl Look {
    /// `scene` starting at `started`.
    pub fn new(scene: Arc<SceneSpec>, started: f64) -> Self {
        let phases = vec![Phase::default(); scene.layers.as_slice().len()];
        Self {
            scene,
            started,
            phases,
        }
    }

    /// The scene.
    pub fn scene(&self) -> &SceneSpec {
        &self.scene
    }

    /// Render the layers at `now` into `out`, for a canvas laid out as `layout`;
    /// `scratch` is reused between layers and frames. Bound parameters read
    /// `inputs` (without it they hold what an empty input gives).
    pub fn render(
        &mut self,
        now: f64,
        out: &mut [Px],
        scratch: &mut Scratch,
        layout: &Layout,
        content: Option<&Content>,
        mut inputs: Option<&mut InputReader>,
    ) {
        out.fill([0.0; 3]);
        let look_t = (now - self.started).max(0.0);
        for (layer, phase) in self.scene.layers.as_slice().iter().zip(&mut self.phases) {
            let resolved = inputs
                .as_deref_mut()
                .and_then(|inputs| bind::resolve(layer, look_t, phase, inputs));
            let (layer, t) = match &resolved {
                Some((bound, t)) => (bound, *t),
                None => (layer, look_t),
            };
            let (opacity, blend) = (layer.opacity.get() as f32, layer.blend);
            match &layer.effect {
                Effect::Image { .. } | Effect::Video { .. } => {
                    if let Some(content) = content {
                        picture::draw(layer, out, scratch, layout, content);
                    }
                    continue;
                }
                Effect::Text { .. } => {
                    text::draw(layer, t, out, scratch, layout);
                    continue;
                }
                Effect::Follow { .. } | Effect::Ripple { .. } => {
                    interactive::draw(layer, t, out, scratch, layout, inputs.as_deref_mut());
                    continue;
                }
                _ => {}
            }
            match layer.region {
                None => {
                    let Scratch { layer: buf, .. } = scratch;
                    buf.clear();
                    buf.resize(out.len(), [0.0; 3]);
                    render_effect(&layer.effect, t, buf, layout.positions());
                    blend_into(out, buf, blend, opacity);
                }
                Some(Region::Run { start, len }) => {
                    let start = (start as usize).min(out.len());
                    let end = start.saturating_add(len as usize).min(out.len());
                    if start == end {
                        continue;
                    }
                    let Scratch { layer: buf, .. } = scratch;
                    buf.clear();
                    buf.resize(end - start, [0.0; 3]);
                    let at = layout.positions().and_then(|m| m.get(start..end));
                    render_effect(&layer.effect, t, buf, at);
                    blend_into(&mut out[start..end], buf, blend, opacity);
                }
                Some(rect @ Region::Rect { .. }) => {
                    let Scratch {
                        layer: buf,
                        under,
                        picked,
                        at,
                        ..
                    } = scratch;
                    picked.clear();
                    at.clear();
                    for i in 0..out.len() {
                        let p = layout.position(i);
                        if rect.contains(p) {
                            picked.push(i);
                            at.push([p[0] as f32, p[1] as f32]);
                        }
                    }
                    if picked.is_empty() {
                        continue;
                    }
                    buf.clear();
                    buf.resize(picked.len(), [0.0; 3]);
                    let at = layout.positions().map(|_| at.as_slice());
                    render_effect(&layer.effect, t, buf, at);
                    under.clear();
                    under.extend(picked.iter().map(|&i| out[i]));
                    blend_into(under, buf, blend, opacity);
                    for (&i, p) in picked.iter().zip(under.iter()) {
                        out[i] = *p;
                    }
                }
            }
        }
    }
}

/// Buffers a render reuses from frame to frame.
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    /// One layer's pixels.
    pub(super) layer: Vec<Px>,
    /// The pixels under a rectangle.
    pub(super) under: Vec<Px>,
    /// Which pixels a rectangle holds.
    pub(super) picked: Vec<usize>,
    /// Where they are.
    at: Vec<Position>,
    /// Each pixel's weight in a picture or a message.
    pub(super) weights: Vec<f32>,
    /// Each picked pixel's cell in its layer's area.
    pub(super) local: Vec<[u32; 2]>,
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
    /// Where the canvas's pixels are.
    layout: Layout,
    /// Pictures for image layers (approved versions only: what goes on the wire).
    content: Option<Content>,
    /// Input values for bound layer parameters.
    inputs: Option<InputReader>,
}

impl Stage {
    /// A stage showing `look` (or black).
    pub fn new(look: Option<Look>) -> Self {
        Self {
            current: look,
            fade: None,
            from_buf: Vec::new(),
            layout: Layout::strip(0),
            content: None,
            inputs: None,
        }
    }

    /// Read bound layer parameters from `inputs`.
    pub fn with_inputs(mut self, inputs: Option<InputReader>) -> Self {
        self.inputs = inputs;
        self
    }

    /// Start a frame at clock time `now`: input values are read as of then.
    pub fn start_frame(&mut self, now: std::time::Duration) {
        if let Some(inputs) = &mut self.inputs {
            inputs.start_frame(now);
        }
    }

    /// Draw image and video layers from `pictures`, videos at `fps`.
    pub fn with_pictures(mut self, pictures: Option<Arc<Pictures>>, fps: u32) -> Self {
        self.content = pictures.map(|pictures| Content {
            pictures,
            unapproved: false,
            fps,
        });
        self
    }

    /// Render on a canvas laid out as `layout`.
    pub fn with_layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// Where the canvas's pixels are.
    pub fn layout(&self) -> &Layout {
        &self.layout
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
            let mut scratch = Scratch::default();
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
    pub fn render(&mut self, now: f64, out: &mut [Px], scratch: &mut Scratch) {
        match &mut self.current {
            Some(look) => look.render(
                now,
                out,
                scratch,
                &self.layout,
                self.content.as_ref(),
                self.inputs.as_mut(),
            ),
            None => out.fill([0.0; 3]),
        }
        let Some(fade) = &mut self.fade else { return };
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
        match &mut fade.from {
            Outgoing::Black => self.from_buf.fill([0.0; 3]),
            Outgoing::Live(look) => {
                look.render(
                    now,
                    &mut self.from_buf,
                    scratch,
                    &self.layout,
                    self.content.as_ref(),
                    self.inputs.as_mut(),
                );
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

#[cfg(test)]
mod tests {
    use super::*;
    use limelight_shared::geometry::Geometry;

    #[test]
    fn a_rectangle_region_paints_the_pixels_inside_it_whatever_the_wiring() {
        // 4 x 2, serpentine: the second row runs right to left on the wire.
        let geometry: Option<Geometry> = serde_json::from_str(
            r#"{"kind": "matrix", "width": 4, "height": 2, "serpentine": true}"#,
        )
        .ok();
        let scene: Option<SceneSpec> = serde_json::from_str(
            r##"{"name": "r", "layers": [
                {"effect": "solid", "color": "#0000FF"},
                {"effect": "solid", "color": "#FF0000",
                 "region": {"x": 2, "y": 0, "width": 2, "height": 2}}]}"##,
        )
        .ok();
        let Some(scene) = scene else {
            unreachable!("the test scene parses")
        };
        let layout = Layout::new(geometry.as_ref(), 8);
        let mut out = vec![[0.0; 3]; 8];
        Look::new(Arc::new(scene), 0.0).render(
            0.0,
            &mut out,
            &mut Scratch::default(),
            &layout,
            None,
            None,
        );
        let red = |i: usize| out[i] == [1.0, 0.0, 0.0];
        // Row 0 on the wire: x = 0, 1, 2, 3; row 1: x = 3, 2, 1, 0.
        let reds: Vec<bool> = (0..8).map(red).collect();
        assert_eq!(reds, [false, false, true, true, true, true, false, false]);
    }
}
