//! Binary preview frames (layouts in `limelight_shared::ws`): a canvas's pixels in
//! wire order (format 1) or drawn on its raster (format 2).

use limelight_engine::Raster;
use limelight_shared::ids::CanvasId;
use limelight_shared::ws::{
    PREVIEW_FORMAT_VERSION, PREVIEW_HEADER_LEN, PREVIEW_RASTER_FORMAT_VERSION,
    PREVIEW_RASTER_HEADER_LEN,
};
use std::sync::Arc;

/// A format 1 frame: `rgb` as it is, or averaged over runs of neighbouring pixels
/// down to at most `max_pixels`.
pub fn wire_order(canvas: CanvasId, frame: u64, rgb: &[u8], max_pixels: Option<u32>) -> Vec<u8> {
    let pixels = rgb.len() / 3;
    let run = max_pixels.map_or(1, |most| pixels.div_ceil(most.max(1) as usize).max(1));
    let sent = pixels.div_ceil(run);
    let mut bytes = Vec::with_capacity(PREVIEW_HEADER_LEN + sent * 3);
    bytes.push(PREVIEW_FORMAT_VERSION);
    bytes.extend_from_slice(&canvas.0.to_be_bytes());
    bytes.extend_from_slice(&frame.to_be_bytes());
    bytes.extend_from_slice(&u32::try_from(sent).unwrap_or(u32::MAX).to_be_bytes());
    if run == 1 {
        bytes.extend_from_slice(&rgb[..pixels * 3]);
        return bytes;
    }
    for group in rgb[..pixels * 3].chunks(run * 3) {
        let n = (group.len() / 3) as u32;
        let mut sum = [0u32; 3];
        for px in group.chunks_exact(3) {
            for (s, c) in sum.iter_mut().zip(px) {
                *s += u32::from(*c);
            }
        }
        // Rounded to the nearest level.
        bytes.extend(sum.map(|s| ((s + n / 2) / n) as u8));
    }
    bytes
}

/// The raster a format 2 subscription draws a canvas on: the canvas's own, made
/// coarse enough for `max_pixels`, kept while the canvas keeps its layout.
#[derive(Default)]
pub struct RasterCache {
    /// The canvas's raster and the one it is shown on.
    rasters: Option<(Arc<Raster>, Arc<Raster>)>,
}

impl RasterCache {
    /// `raster` made coarse for `max_pixels`, worked out again only when the
    /// canvas's raster changed.
    pub fn get(&mut self, raster: &Arc<Raster>, max_pixels: Option<u32>) -> Arc<Raster> {
        match &self.rasters {
            Some((from, shown)) if Arc::ptr_eq(from, raster) => shown.clone(),
            _ => {
                let shown = match max_pixels {
                    Some(most) => Arc::new(raster.coarse(most)),
                    None => raster.clone(),
                };
                self.rasters = Some((raster.clone(), shown.clone()));
                shown
            }
        }
    }
}

/// A format 2 frame: each cell of `raster` the average of the pixels in it,
/// transparent where none is.
pub fn on_raster(canvas: CanvasId, frame: u64, rgb: &[u8], raster: &Raster) -> Vec<u8> {
    let cells = raster.width() as usize * raster.height() as usize;
    let mut sums = vec![[0u32; 4]; cells];
    for (px, &cell) in rgb.chunks_exact(3).zip(raster.cells()) {
        if let Some(sum) = sums.get_mut(cell as usize) {
            for c in 0..3 {
                sum[c] += u32::from(px[c]);
            }
            sum[3] += 1;
        }
    }
    let mut bytes = Vec::with_capacity(PREVIEW_RASTER_HEADER_LEN + cells * 4);
    bytes.push(PREVIEW_RASTER_FORMAT_VERSION);
    bytes.extend_from_slice(&canvas.0.to_be_bytes());
    bytes.extend_from_slice(&frame.to_be_bytes());
    bytes.extend_from_slice(&raster.width().to_be_bytes());
    bytes.extend_from_slice(&raster.height().to_be_bytes());
    for [r, g, b, n] in sums {
        if n == 0 {
            bytes.extend_from_slice(&[0, 0, 0, 0]);
        } else {
            // Rounded to the nearest level.
            bytes.extend([r, g, b].map(|s| ((s + n / 2) / n) as u8));
            bytes.push(255);
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(bytes: &[u8]) -> (i64, u64, u32) {
        let field = |r: std::ops::Range<usize>| bytes.get(r).unwrap_or_default().to_vec();
        let id = i64::from_be_bytes(field(1..9).try_into().unwrap_or_default());
        let frame = u64::from_be_bytes(field(9..17).try_into().unwrap_or_default());
        let pixels = u32::from_be_bytes(field(17..21).try_into().unwrap_or_default());
        (id, frame, pixels)
    }

    #[test]
    fn a_preview_carries_every_pixel_unless_asked_for_fewer() {
        let rgb: Vec<u8> = (0..30).collect();
        let full = wire_order(CanvasId(7), 42, &rgb, None);
        assert_eq!(header(&full), (7, 42, 10));
        assert_eq!(full[PREVIEW_HEADER_LEN..], rgb[..]);
        // Under the limit: as it is.
        let same = wire_order(CanvasId(7), 42, &rgb, Some(16));
        assert_eq!(same, full);
    }

    #[test]
    fn a_large_canvas_is_averaged_down_to_the_limit() {
        // 40 pixels, at most 16: runs of 3, the last one of a single pixel.
        let rgb: Vec<u8> = (0..40u8).flat_map(|i| [i, 255 - i, 10]).collect();
        let small = wire_order(CanvasId(1), 1, &rgb, Some(16));
        let (_, _, pixels) = header(&small);
        assert_eq!(pixels, 14);
        let body = &small[PREVIEW_HEADER_LEN..];
        assert_eq!(body.len(), 14 * 3);
        // Pixels 0, 1, 2 average to 1; the last run is pixel 39 alone.
        assert_eq!(body[..3], [1, 254, 10]);
        assert_eq!(body[39..], [39, 216, 10]);
    }
}
