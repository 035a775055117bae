//! The effects. Each draws into a slice of pixels at a time in seconds; positions are
//! relative to the slice, so an effect fills a region as it would a whole canvas.

use super::{Position, Px, mix, px};
use limelight_shared::scene::Effect;

/// Draw `effect` at time `t` (seconds since the look started) into `out`.
///
/// `at` holds each pixel's position when the canvas has a geometry: a rainbow then
/// runs across x and a gradient with an angle along that direction. Without one,
/// or for effects that follow the wiring (chase, sparkle), pixels go in wire order.
pub fn render_effect(effect: &Effect, t: f64, out: &mut [Px], at: Option<&[Position]>) {
    let n = out.len();
    if n == 0 {
        return;
    }
    let at = at.filter(|a| a.len() == n);
    match effect {
        Effect::Solid { color } => out.fill(px(*color)),
        Effect::Gradient {
            colors,
            speed,
            angle,
        } => {
            let stops: Vec<Px> = colors.iter().map(|c| px(*c)).collect();
            let scroll = t * speed.get();
            let moving = speed.get() != 0.0;
            // Where each pixel is along the gradient, 0..=1.
            let along = match (at, angle) {
                (Some(at), Some(deg)) => {
                    let (sin, cos) = deg.to_radians().sin_cos();
                    Some(spread(at, |[x, y]| {
                        f64::from(*x) * cos + f64::from(*y) * sin
                    }))
                }
                (Some(at), None) => Some(spread(at, |[x, _]| f64::from(*x))),
                _ => None,
            };
            for (i, p) in out.iter_mut().enumerate() {
                *p = if moving {
                    // A moving gradient wraps round, so it has no seam.
                    let x = match &along {
                        Some(u) => u[i],
                        None => i as f64 / n as f64,
                    };
                    sample_cyclic(&stops, wrap01(x + scroll))
                } else {
                    let x = match &along {
                        Some(u) => u[i],
                        None if n == 1 => 0.0,
                        None => i as f64 / (n - 1) as f64,
                    };
                    sample(&stops, x)
                };
            }
        }
        Effect::Chase {
            color,
            background,
            width,
            speed,
        } => {
            let (fg, bg) = (px(*color), px(*background));
            let len = n as f64;
            let head = wrap01(t * speed.get() / len) * len;
            let width = f64::from(*width);
            for (i, p) in out.iter_mut().enumerate() {
                // How far pixel i is behind the head, round the end if need be.
                let mut behind = head - i as f64;
                if behind < 0.0 {
                    behind += len;
                }
                *p = if behind < width { fg } else { bg };
            }
        }
        Effect::Rainbow { speed, scale } => {
            let turn = wrap01(t * speed.get());
            match at {
                Some(at) => {
                    // Across x: pixels above one another share a colour.
                    let across = spread(at, |[x, _]| f64::from(*x));
                    for (p, x) in out.iter_mut().zip(across) {
                        *p = hue_to_rgb(wrap01(x * scale + turn));
                    }
                }
                None => {
                    let step = scale / n as f64;
                    for (i, p) in out.iter_mut().enumerate() {
                        *p = hue_to_rgb(wrap01(i as f64 * step + turn));
                    }
                }
            }
        }
        Effect::Level {
            level,
            color,
            background,
            angle,
        } => {
            let (fg, bg) = (px(*color), px(*background));
            // Each pixel spans `h` of the bar's length 0..=1, centred on where it
            // is along it; the bar's edge runs from just before the first pixel
            // (empty) to just past the last (full), lighting the edge pixel in part.
            let (along, extent) = match at {
                Some(at) => {
                    let (sin, cos) = angle.unwrap_or(0.0).to_radians().sin_cos();
                    let value = |[x, y]: &Position| f64::from(*x) * cos + f64::from(*y) * sin;
                    let (lo, hi) = at
                        .iter()
                        .map(value)
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                            (lo.min(v), hi.max(v))
                        });
                    (Some(spread(at, value)), hi - lo)
                }
                None => (None, n as f64 - 1.0),
            };
            let h = 1.0 / extent.max(1.0);
            let edge = level.clamp(0.0, 1.0) * (1.0 + h) - h / 2.0;
            for (i, p) in out.iter_mut().enumerate() {
                let u = match &along {
                    Some(u) => u[i],
                    None => i as f64 * h,
                };
                let lit = ((edge - (u - h / 2.0)) / h).clamp(0.0, 1.0) as f32;
                *p = mix(bg, fg, lit);
            }
        }
        // Pictures, messages and what follows inputs are drawn by the look (see
        // `Look::render`).
        Effect::Image { .. }
        | Effect::Video { .. }
        | Effect::Text { .. }
        | Effect::Follow { .. }
        | Effect::Ripple { .. } => {}
        Effect::Sparkle {
            color,
            background,
            density,
            speed,
        } => {
            let (fg, bg) = (px(*color), px(*background));
            // The pattern changes `speed` times a second and is the same for every
            // render of the same instant, so previews and output agree.
            let generation = (t * speed.get().abs()).floor() as u64;
            let threshold = density.get();
            for (i, p) in out.iter_mut().enumerate() {
                let r = unit_hash(generation, i as u64);
                *p = if r < threshold { fg } else { bg };
            }
        }
    }
}

/// `value` of each position, scaled to 0..=1 over the lowest and highest (all 0
/// when they are the same).
fn spread(at: &[Position], value: impl Fn(&Position) -> f64) -> Vec<f64> {
    let values: Vec<f64> = at.iter().map(value).collect();
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    let range = hi - lo;
    if range.is_finite() && range > 0.0 {
        values.iter().map(|v| (v - lo) / range).collect()
    } else {
        vec![0.0; values.len()]
    }
}

/// A colour along stops spread evenly over 0..=1.
fn sample(stops: &[Px], x: f64) -> Px {
    let segments = stops.len().saturating_sub(1).max(1);
    let pos = x.clamp(0.0, 1.0) * segments as f64;
    let i = (pos.floor() as usize).min(segments - 1);
    let a = stops.get(i).copied().unwrap_or_default();
    let b = stops.get(i + 1).copied().unwrap_or(a);
    mix(a, b, (pos - i as f64) as f32)
}

/// A colour along stops spread evenly round a circle (the last blends into the first).
fn sample_cyclic(stops: &[Px], x: f64) -> Px {
    let n = stops.len().max(1);
    let pos = wrap01(x) * n as f64;
    let i = (pos.floor() as usize).min(n - 1);
    let a = stops.get(i).copied().unwrap_or_default();
    let b = stops.get((i + 1) % n).copied().unwrap_or(a);
    mix(a, b, (pos - i as f64) as f32)
}

/// `x` wrapped into 0..1 (a fractional part that is never negative). Cheaper than
/// `rem_euclid`, which is a library call per pixel.
fn wrap01(x: f64) -> f64 {
    let w = x - x.floor();
    // x just below an integer can round up to exactly 1.
    if w >= 1.0 { 0.0 } else { w }
}

/// Fully saturated colour of a hue in 0..1.
fn hue_to_rgb(hue: f64) -> Px {
    let h = hue * 6.0;
    let sector = (h as u32).min(5);
    let f = (h - f64::from(sector)) as f32;
    // Rising in even sectors, falling in odd ones.
    let x = if sector.is_multiple_of(2) { f } else { 1.0 - f };
    match sector {
        0 => [1.0, x, 0.0],
        1 => [x, 1.0, 0.0],
        2 => [0.0, 1.0, x],
        3 => [0.0, x, 1.0],
        4 => [x, 0.0, 1.0],
        _ => [1.0, 0.0, x],
    }
}

/// A well-mixed number in 0..1 from two integers (splitmix64 finaliser).
fn unit_hash(a: u64, b: u64) -> f64 {
    let mut z = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use limelight_shared::values::{Fraction, Rgb, Speed};

    fn speed(v: f64) -> Speed {
        Speed::try_from(v).unwrap_or_default()
    }

    fn bytes(p: Px) -> [u8; 3] {
        p.map(|c| (c * 255.0).round() as u8)
    }

    #[test]
    fn a_level_lights_its_share_of_the_pixels_and_the_edge_pixel_in_part() {
        let bar = |level: f64, angle: Option<f64>| Effect::Level {
            level,
            color: Rgb::new(255, 255, 255),
            background: Rgb::BLACK,
            angle,
        };
        let lit = |l: f64| {
            let mut out = vec![[0.0; 3]; 10];
            render_effect(&bar(l, None), 0.0, &mut out, None);
            out.iter().map(|p| bytes(*p)[0]).collect::<Vec<u8>>()
        };
        assert_eq!(lit(0.0), [0; 10]);
        assert_eq!(lit(1.0), [255; 10]);
        assert_eq!(lit(0.35), [255, 255, 255, 128, 0, 0, 0, 0, 0, 0]);
        // On a 5 x 2 matrix, at 90 degrees, the top row fills first.
        let at: Vec<Position> = (0..10).map(|i| [(i % 5) as f32, (i / 5) as f32]).collect();
        let mut out = vec![[0.0; 3]; 10];
        render_effect(&bar(0.5, Some(90.0)), 0.0, &mut out, Some(&at));
        let rows: Vec<u8> = out.iter().map(|p| bytes(*p)[0]).collect();
        assert_eq!(rows, [255, 255, 255, 255, 255, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn solid_fills_every_pixel() {
        let mut out = vec![[0.0; 3]; 5];
        render_effect(
            &Effect::Solid {
                color: Rgb::new(255, 128, 0),
            },
            0.0,
            &mut out,
            None,
        );
        assert!(out.iter().all(|p| bytes(*p) == [255, 128, 0]));
    }

    #[test]
    fn gradient_runs_from_first_to_last_stop() {
        let mut out = vec![[0.0; 3]; 3];
        let effect = Effect::Gradient {
            colors: vec![Rgb::new(0, 0, 0), Rgb::new(255, 255, 255)],
            speed: speed(0.0),
            angle: None,
        };
        render_effect(&effect, 0.0, &mut out, None);
        assert_eq!(bytes(out[0]), [0, 0, 0]);
        assert_eq!(bytes(out[1]), [128, 128, 128]);
        assert_eq!(bytes(out[2]), [255, 255, 255]);
    }

    #[test]
    fn chase_moves_at_its_speed() {
        let effect = Effect::Chase {
            color: Rgb::WHITE,
            background: Rgb::BLACK,
            width: 2,
            speed: speed(10.0),
        };
        let lit = |t: f64| {
            let mut out = vec![[0.0; 3]; 20];
            render_effect(&effect, t, &mut out, None);
            out.iter()
                .enumerate()
                .filter(|(_, p)| p[0] > 0.5)
                .map(|(i, _)| i)
                .collect::<Vec<_>>()
        };
        assert_eq!(lit(0.0), vec![0, 19]);
        assert_eq!(lit(0.5), vec![4, 5]);
        // Wraps round the end.
        assert_eq!(lit(2.0), vec![0, 19]);
    }

    /// A `width` x `height` matrix, wired in rows from the top left.
    fn grid(width: u16, height: u16) -> Vec<Position> {
        (0..height)
            .flat_map(|y| (0..width).map(move |x| [f32::from(x), f32::from(y)]))
            .collect()
    }

    #[test]
    fn on_a_matrix_a_rainbow_runs_across_x() {
        let at = grid(3, 2);
        let mut out = vec![[0.0; 3]; 6];
        let effect = Effect::Rainbow {
            speed: speed(0.0),
            scale: 1.0,
        };
        render_effect(&effect, 0.0, &mut out, Some(&at));
        // Columns share a colour; the first column is red.
        for x in 0..3 {
            assert_eq!(bytes(out[x]), bytes(out[x + 3]), "column {x}");
        }
        assert_eq!(bytes(out[0]), [255, 0, 0]);
        assert_ne!(bytes(out[1]), bytes(out[0]));
    }

    #[test]
    fn a_gradient_with_an_angle_runs_that_way() {
        let at = grid(2, 3);
        let down = Effect::Gradient {
            colors: vec![Rgb::new(0, 0, 0), Rgb::new(255, 255, 255)],
            speed: speed(0.0),
            angle: Some(90.0),
        };
        let mut out = vec![[0.0; 3]; 6];
        render_effect(&down, 0.0, &mut out, Some(&at));
        let rows: Vec<[u8; 3]> = out.iter().map(|p| bytes(*p)).collect();
        assert_eq!(rows[0..2], [[0, 0, 0], [0, 0, 0]]);
        assert_eq!(rows[2..4], [[128, 128, 128], [128, 128, 128]]);
        assert_eq!(rows[4..6], [[255, 255, 255], [255, 255, 255]]);
        // Without an angle a gradient on a map runs across x.
        let across = Effect::Gradient {
            colors: vec![Rgb::new(0, 0, 0), Rgb::new(255, 255, 255)],
            speed: speed(0.0),
            angle: None,
        };
        render_effect(&across, 0.0, &mut out, Some(&at));
        assert_eq!(bytes(out[0]), bytes(out[2]));
        assert_eq!(bytes(out[1]), [255, 255, 255]);
    }

    #[test]
    fn rainbow_spans_the_wheel() {
        let mut out = vec![[0.0; 3]; 6];
        render_effect(
            &Effect::Rainbow {
                speed: speed(0.0),
                scale: 1.0,
            },
            0.0,
            &mut out,
            None,
        );
        assert_eq!(bytes(out[0]), [255, 0, 0]);
        assert_eq!(bytes(out[2]), [0, 255, 0]);
        assert_eq!(bytes(out[4]), [0, 0, 255]);
    }

    #[test]
    fn sparkle_lights_about_its_density_and_is_repeatable() {
        let effect = Effect::Sparkle {
            color: Rgb::WHITE,
            background: Rgb::BLACK,
            density: Fraction::try_from(0.2).unwrap_or_default(),
            speed: speed(10.0),
        };
        let mut a = vec![[0.0; 3]; 10_000];
        let mut b = a.clone();
        render_effect(&effect, 1.23, &mut a, None);
        render_effect(&effect, 1.23, &mut b, None);
        assert_eq!(a, b);
        let lit = a.iter().filter(|p| p[0] > 0.5).count();
        assert!((1_700..2_300).contains(&lit), "{lit} lit of 10000");
        let mut c = vec![[0.0; 3]; 10_000];
        render_effect(&effect, 1.33, &mut c, None);
        assert_ne!(a, c, "a new pattern each generation");
    }
}
