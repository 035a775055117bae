//! A scene's thumbnail: the scene rendered on a strip over a few seconds, one row
//! of pixels per instant, as the library shows it.

use super::{Layout, Look, Px, Scratch};
use limelight_shared::scene::{Region, SceneSpec};
use std::sync::Arc;

/// What a thumbnail shows: `width` columns (the strip), `rows` instants spread over
/// `seconds` (the first at 0), each row drawn from a render of `pixels` pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThumbnailSize {
    /// Columns.
    pub width: usize,
    /// Rows: instants.
    pub rows: usize,
    /// Time the rows span.
    pub seconds: f64,
}

/// The longest strip a thumbnail is rendered on: a region beyond it is not shown.
pub const THUMBNAIL_MAX_STRIP: usize = 65_536;

/// `scene` as `size.rows` rows of `size.width` RGB pixels, top row first.
///
/// The scene is rendered on a strip long enough for every region it names (no
/// shorter than `width`, no longer than [`THUMBNAIL_MAX_STRIP`]), and each column
/// is the average of its run of pixels, so a region far along the strip still shows.
pub fn thumbnail(scene: Arc<SceneSpec>, size: ThumbnailSize) -> Vec<u8> {
    let width = size.width.clamp(1, THUMBNAIL_MAX_STRIP);
    let rows = size.rows.max(1);
    let pixels = scene
        .layers
        .as_slice()
        .iter()
        .filter_map(|l| match l.region? {
            Region::Run { start, len } => Some(start as usize + len as usize),
            // Along a strip, a rectangle holds the pixels from x to x + width.
            Region::Rect { x, width, .. } => Some((x + width).max(0.0).ceil() as usize),
        })
        .fold(width, usize::max)
        .min(THUMBNAIL_MAX_STRIP);
    let mut look = Look::new(scene, 0.0);
    let layout = Layout::strip(pixels);
    let mut frame: Vec<Px> = vec![[0.0; 3]; pixels];
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(width * rows * 3);
    for row in 0..rows {
        let t = size.seconds * row as f64 / rows as f64;
        look.render(t, &mut frame, &mut scratch, &layout, None, None);
        for column in 0..width {
            let run = &frame[column * pixels / width
                ..((column + 1) * pixels / width).max(column * pixels / width + 1)];
            let mut sum = [0.0f32; 3];
            for p in run {
                for (s, c) in sum.iter_mut().zip(p) {
                    *s += c;
                }
            }
            // Rounded half up; `as` saturates.
            out.extend(sum.map(|s| (s / run.len() as f32 * 255.0 + 0.5) as u8));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene(json: &str) -> Arc<SceneSpec> {
        Arc::new(serde_json::from_str(json).unwrap_or_else(|e| {
            unreachable!("test scene does not parse: {e}");
        }))
    }

    const SIZE: ThumbnailSize = ThumbnailSize {
        width: 8,
        rows: 4,
        seconds: 2.0,
    };

    #[test]
    fn a_solid_scene_is_its_colour_everywhere() {
        let rgb = thumbnail(
            scene(r##"{"name":"s","layers":[{"effect":"solid","color":"#FF8000"}]}"##),
            SIZE,
        );
        assert_eq!(rgb.len(), 8 * 4 * 3);
        assert!(rgb.chunks(3).all(|p| p == [255, 128, 0]));
    }

    #[test]
    fn a_region_beyond_the_width_still_shows_in_its_columns() {
        // 200 pixels rendered for 8 columns of 25: the region is columns 4-5.
        let rgb = thumbnail(
            scene(
                r##"{"name":"r","layers":[{"effect":"solid","color":"#0000FF",
                    "region":{"start":100,"len":50}},
                    {"effect":"solid","color":"#FF0000","region":{"start":150,"len":50}}]}"##,
            ),
            SIZE,
        );
        let row: Vec<&[u8]> = rgb.chunks(3).take(8).collect();
        assert_eq!(row[0], [0, 0, 0]);
        assert_eq!(row[4], [0, 0, 255]);
        assert_eq!(row[5], [0, 0, 255]);
        assert_eq!(row[7], [255, 0, 0]);
    }

    #[test]
    fn a_region_at_the_end_of_the_numbers_is_cut_to_the_longest_strip() {
        let rgb = thumbnail(
            scene(
                r##"{"name":"far","layers":[{"effect":"solid","color":"#00FF00",
                    "region":{"start":4294967295,"len":4294967295}}]}"##,
            ),
            SIZE,
        );
        assert_eq!(rgb.len(), 8 * 4 * 3);
        assert!(rgb.iter().all(|c| *c == 0));
    }

    #[test]
    fn rows_are_later_instants_of_a_moving_scene() {
        let rgb = thumbnail(
            scene(
                r##"{"name":"c","layers":[{"effect":"chase","color":"#FFFFFF",
                    "background":"#000000","width":1,"speed":2}]}"##,
            ),
            SIZE,
        );
        // At 2 pixels a second the head moves one column per half-second row.
        let lit: Vec<usize> = rgb
            .chunks(8 * 3)
            .map(|row| row.chunks(3).position(|p| p[0] == 255).unwrap_or(99))
            .collect();
        assert_eq!(lit, [0, 1, 2, 3]);
    }
}
