//! Layer parameters read from inputs: each frame a bound layer is drawn from a
//! copy whose bound parameters hold the inputs' values. A bound speed is
//! integrated frame by frame, so a chase or a scroll whose speed follows a sensor
//! moves on smoothly from where it was instead of jumping.

use crate::input::InputReader;
use limelight_shared::scene::{
    Effect, LayerSpec, Region, Target, channel, opacity_of, region_side, speed_of, width_of,
};
use limelight_shared::values::{Rgb, Speed};

/// How far a layer with a bound speed has moved, in its effect's units.
#[derive(Debug, Clone, Copy, Default)]
pub struct Phase {
    /// Look time of the last frame.
    last: Option<f64>,
    /// Speed integrated over time.
    travelled: f64,
}

/// `layer` with its bound parameters read from `inputs`, and the time its effect
/// is drawn at: `t` itself, or for a bound speed the distance travelled (drawn
/// at speed 1). `None` when nothing of the layer is bound.
pub fn resolve(
    layer: &LayerSpec,
    t: f64,
    phase: &mut Phase,
    inputs: &mut InputReader,
) -> Option<(LayerSpec, f64)> {
    if layer.inputs.is_empty() {
        return None;
    }
    let mut out = layer.clone();
    let mut t_out = t;
    for bound in &layer.inputs {
        let v = bound.source.apply(
            inputs.value(&bound.source.input),
            bound.target.natural_span(),
        );
        match bound.target {
            Target::Opacity => out.opacity = opacity_of(v),
            Target::Color(i) => {
                if let Some(c) = color_mut(&mut out.effect) {
                    set(c, i, channel(v));
                }
            }
            Target::Background(i) => {
                if let Some(c) = background_mut(&mut out.effect) {
                    set(c, i, channel(v));
                }
            }
            Target::Speed => {
                let speed = speed_of(v).get();
                let dt = phase.last.map_or(0.0, |last| (t - last).max(0.0));
                phase.travelled += dt * speed;
                phase.last = Some(t);
                t_out = phase.travelled;
                if let Some(s) = speed_mut(&mut out.effect) {
                    *s = Speed::try_from(1.0).unwrap_or_default();
                }
            }
            Target::Width => {
                if let Effect::Chase { width, .. } = &mut out.effect {
                    *width = width_of(v);
                }
            }
            Target::Position(i) => {
                if let Some(p) = position_mut(&mut out.effect).and_then(|p| p.get_mut(i)) {
                    *p = v.clamp(0.0, 1.0);
                }
            }
            Target::Level => {
                if let Effect::Level { level, .. } = &mut out.effect {
                    *level = v.clamp(0.0, 1.0);
                }
            }
            Target::Region(i) => {
                if let Some(Region::Rect {
                    x,
                    y,
                    width,
                    height,
                }) = &mut out.region
                {
                    let side = match i {
                        0 => x,
                        1 => y,
                        2 => width,
                        _ => height,
                    };
                    *side = region_side(i, v);
                }
            }
        }
    }
    Some((out, t_out))
}

fn set(c: &mut Rgb, i: usize, v: u8) {
    match i {
        0 => c.r = v,
        1 => c.g = v,
        _ => c.b = v,
    }
}

fn color_mut(effect: &mut Effect) -> Option<&mut Rgb> {
    match effect {
        Effect::Solid { color }
        | Effect::Chase { color, .. }
        | Effect::Sparkle { color, .. }
        | Effect::Text { color, .. }
        | Effect::Level { color, .. }
        | Effect::Follow { color, .. }
        | Effect::Ripple { color, .. } => Some(color),
        _ => None,
    }
}

fn background_mut(effect: &mut Effect) -> Option<&mut Rgb> {
    match effect {
        Effect::Chase { background, .. }
        | Effect::Sparkle { background, .. }
        | Effect::Level { background, .. } => Some(background),
        Effect::Text { background, .. } => background.as_mut(),
        _ => None,
    }
}

fn speed_mut(effect: &mut Effect) -> Option<&mut Speed> {
    match effect {
        Effect::Gradient { speed, .. }
        | Effect::Chase { speed, .. }
        | Effect::Rainbow { speed, .. }
        | Effect::Sparkle { speed, .. }
        | Effect::Text { speed, .. } => Some(speed),
        _ => None,
    }
}

fn position_mut(effect: &mut Effect) -> Option<&mut [f64; 2]> {
    match effect {
        Effect::Image { position, .. }
        | Effect::Video { position, .. }
        | Effect::Text { position, .. }
        | Effect::Follow { position, .. }
        | Effect::Ripple { position, .. } => Some(position),
        _ => None,
    }
}
