//! Compositing one layer onto the layers below it.

use super::Px;
use limelight_shared::scene::BlendMode;

/// Composite `src` over `dst` with `mode`, weighted by `opacity`.
pub fn blend_into(dst: &mut [Px], src: &[Px], mode: BlendMode, opacity: f32) {
    // One loop per mode, so the per-pixel work has no branch on the mode.
    match mode {
        BlendMode::Normal if opacity >= 1.0 => {
            let n = dst.len().min(src.len());
            dst[..n].copy_from_slice(&src[..n]);
        }
        BlendMode::Normal => each(dst, src, opacity, |_, b| b),
        BlendMode::Add => each(dst, src, opacity, |a, b| (a + b).min(1.0)),
        BlendMode::Multiply => each(dst, src, opacity, |a, b| a * b),
        BlendMode::Screen => each(dst, src, opacity, |a, b| 1.0 - (1.0 - a) * (1.0 - b)),
        BlendMode::Max => each(dst, src, opacity, f32::max),
    }
}

/// Composite `src` over `dst` with `mode`, each pixel weighted by its own
/// `weights` entry (a picture's coverage times the layer's opacity).
pub fn blend_weighted(dst: &mut [Px], src: &[Px], weights: &[f32], mode: BlendMode) {
    let f: fn(f32, f32) -> f32 = match mode {
        BlendMode::Normal => |_, b| b,
        BlendMode::Add => |a, b| (a + b).min(1.0),
        BlendMode::Multiply => |a, b| a * b,
        BlendMode::Screen => |a, b| 1.0 - (1.0 - a) * (1.0 - b),
        BlendMode::Max => f32::max,
    };
    for ((d, s), w) in dst.iter_mut().zip(src).zip(weights) {
        for c in 0..3 {
            let a = d[c];
            d[c] = a + (f(a, s[c]) - a) * w;
        }
    }
}

fn each(dst: &mut [Px], src: &[Px], opacity: f32, f: impl Fn(f32, f32) -> f32) {
    for (d, s) in dst.iter_mut().zip(src) {
        for c in 0..3 {
            let a = d[c];
            d[c] = a + (f(a, s[c]) - a) * opacity;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_combine_as_named() {
        let base = [0.5_f32, 0.2, 1.0];
        let top = [0.5_f32, 0.5, 0.0];
        let run = |mode, opacity| {
            let mut d = [base];
            blend_into(&mut d, &[top], mode, opacity);
            d[0]
        };
        assert_eq!(run(BlendMode::Normal, 1.0), top);
        assert_eq!(run(BlendMode::Normal, 0.0), base);
        let half = run(BlendMode::Normal, 0.5);
        assert!(
            half.iter()
                .zip([0.5, 0.35, 0.5])
                .all(|(a, b)| (a - b).abs() < 1e-6),
            "{half:?}"
        );
        assert_eq!(run(BlendMode::Add, 1.0), [1.0, 0.7, 1.0]);
        assert_eq!(run(BlendMode::Multiply, 1.0), [0.25, 0.1, 0.0]);
        assert_eq!(run(BlendMode::Screen, 1.0), [0.75, 0.6, 1.0]);
        assert_eq!(run(BlendMode::Max, 1.0), [0.5, 0.5, 1.0]);
    }
}
