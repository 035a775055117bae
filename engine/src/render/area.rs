//! The cells a picture or a message fills: a layer's pixels on the canvas's
//! raster, the box they span, and compositing what is drawn there.

use super::{Layout, Px, blend_weighted};
use limelight_shared::scene::{BlendMode, Region};

/// The box of raster cells a layer's pixels span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Area {
    /// Width in cells.
    pub width: u32,
    /// Height in cells.
    pub height: u32,
}

/// Collect the pixels of a layer with `region` on a canvas of `n` pixels into
/// `picked`, and each one's cell inside their box into `local`. `None` when the
/// layer covers no pixel. Without a region the box is the whole raster.
pub fn cover(
    region: Option<Region>,
    n: usize,
    layout: &Layout,
    picked: &mut Vec<usize>,
    local: &mut Vec<[u32; 2]>,
) -> Option<Area> {
    picked.clear();
    local.clear();
    match region {
        None => picked.extend(0..n),
        Some(Region::Run { start, len }) => {
            let start = (start as usize).min(n);
            picked.extend(start..start.saturating_add(len as usize).min(n));
        }
        Some(rect @ Region::Rect { .. }) => {
            picked.extend((0..n).filter(|i| rect.contains(layout.position(*i))));
        }
    }
    if picked.is_empty() {
        return None;
    }
    let raster = layout.raster();
    let (w, cells) = (raster.width().max(1), raster.cells());
    let cell = |i: usize| {
        let c = cells.get(i).copied().unwrap_or(0);
        [c % w, c / w]
    };
    let (x0, y0, x1, y1) = match region {
        None => (0, 0, w - 1, raster.height().max(1) - 1),
        Some(_) => picked
            .iter()
            .fold((u32::MAX, u32::MAX, 0, 0), |(a, b, c, d), &i| {
                let [x, y] = cell(i);
                (a.min(x), b.min(y), c.max(x), d.max(y))
            }),
    };
    if x0 > x1 || y0 > y1 {
        return None;
    }
    local.extend(picked.iter().map(|&i| {
        let [x, y] = cell(i);
        [x - x0, y - y0]
    }));
    Some(Area {
        width: x1 - x0 + 1,
        height: y1 - y0 + 1,
    })
}

/// Composite `drawn` (one colour and weight per picked pixel) onto `out` with
/// `blend`; `under` is scratch.
pub fn composite(
    out: &mut [Px],
    picked: &[usize],
    drawn: &[Px],
    weights: &[f32],
    blend: BlendMode,
    under: &mut Vec<Px>,
) {
    under.clear();
    under.extend(picked.iter().map(|&i| out[i]));
    blend_weighted(under, drawn, weights, blend);
    for (&i, p) in picked.iter().zip(under.iter()) {
        out[i] = *p;
    }
}
