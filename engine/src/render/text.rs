//! Text layers: a message in the pixel font on the raster cells of its area,
//! still where `position` puts it or scrolling across at `speed` cells a second.

use super::area::{Area, composite, cover};
use super::font::font;
use super::{Layout, Px, Scratch, px};
use limelight_shared::scene::{Effect, LayerSpec};

/// Draw a text layer at `t` seconds into its look. Other effects draw nothing.
pub fn draw(layer: &LayerSpec, t: f64, out: &mut [Px], scratch: &mut Scratch, layout: &Layout) {
    let Effect::Text {
        text,
        color,
        background,
        size,
        speed,
        position,
    } = &layer.effect
    else {
        return;
    };
    let Scratch {
        layer: drawn,
        under,
        picked,
        weights,
        local,
        ..
    } = scratch;
    let Some(area) = cover(layer.region, out.len(), layout, picked, local) else {
        return;
    };
    let (font, scale) = font(*size);
    let glyph = [font.width() * scale, font.height() * scale];
    // One font cell of space between letters.
    let advance = i64::from(glyph[0] + scale);
    let chars = text.len() as i64;
    let text_width = (chars * advance - i64::from(scale)).max(0);
    let [left, top] = placement(
        area,
        [text_width, i64::from(glyph[1])],
        *position,
        speed.get(),
        t,
    );
    let opacity = layer.opacity.get() as f32;
    let (ink, paper) = (px(*color), background.map(px));
    let bytes = text.as_bytes();
    drawn.clear();
    weights.clear();
    for &[x, y] in local.iter() {
        let (gx, gy) = (i64::from(x) - left, i64::from(y) - top);
        let lit = gx >= 0 && gy >= 0 && gx < text_width && gy < i64::from(glyph[1]) && {
            let (index, column) = ((gx / advance) as usize, (gx % advance) as u32);
            column < glyph[0]
                && bytes
                    .get(index)
                    .is_some_and(|c| font.lit(*c, column / scale, gy as u32 / scale))
        };
        match (lit, paper) {
            (true, _) => {
                drawn.push(ink);
                weights.push(opacity);
            }
            (false, Some(paper)) => {
                drawn.push(paper);
                weights.push(opacity);
            }
            (false, None) => {
                drawn.push([0.0; 3]);
                weights.push(0.0);
            }
        }
    }
    composite(out, picked, drawn, weights, layer.blend, under);
}

/// Where the message's top left cell is in the area at `t`: still, `position`
/// places it; scrolling, it enters on one side, leaves on the other and comes
/// round again, `position` placing it upright only.
fn placement(area: Area, size: [i64; 2], position: [f64; 2], speed: f64, t: f64) -> [i64; 2] {
    let (w, h) = (i64::from(area.width), i64::from(area.height));
    let top = ((h - size[1]) as f64 * position[1]).round() as i64;
    if speed == 0.0 {
        let left = ((w - size[0]) as f64 * position[0]).round() as i64;
        return [left, top];
    }
    // From fully off the right edge to fully off the left, then round again.
    let lap = (w + size[0]) as f64;
    let travelled = (t * speed).rem_euclid(lap).floor() as i64;
    [w - travelled, top]
}

#[cfg(test)]
mod tests {
    use super::*;
    use limelight_shared::geometry::Geometry;
    use limelight_shared::scene::SceneSpec;

    /// What a one-layer text scene draws on a `width` x `height` matrix at `t`,
    /// as rows of `#` (the text's colour), `o` (something else lit) and `.`.
    fn drawn(layer: &str, width: u32, height: u32, t: f64) -> Vec<String> {
        let geometry: Option<Geometry> = serde_json::from_str(&format!(
            r#"{{"kind": "matrix", "width": {width}, "height": {height}}}"#
        ))
        .ok();
        let scene: Option<SceneSpec> =
            serde_json::from_str(&format!(r#"{{"name": "t", "layers": [{layer}]}}"#)).ok();
        let Some(scene) = scene else {
            unreachable!("the test layer parses: {layer}")
        };
        let n = (width * height) as usize;
        let layout = Layout::new(geometry.as_ref(), n);
        let mut out = vec![[0.0; 3]; n];
        super::super::Look::new(std::sync::Arc::new(scene), 0.0).render(
            t,
            &mut out,
            &mut Scratch::default(),
            &layout,
            None,
            None,
        );
        out.chunks(width as usize)
            .map(|row| {
                row.iter()
                    .map(|p| match p {
                        [1.0, 1.0, 1.0] => '#',
                        [0.0, 0.0, 0.0] => '.',
                        _ => 'o',
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_still_message_sits_where_its_position_says() {
        let hi = r##"{"effect": "text", "text": "HI", "color": "#FFFFFF", "size": "small"}"##;
        // 7 cells of text in 9: one spare cell each side.
        assert_eq!(
            drawn(hi, 9, 5, 0.0),
            [
                ".#.#.###.",
                ".#.#..#..",
                ".###..#..",
                ".#.#..#..",
                ".#.#.###.",
            ]
        );
        let left = r##"{"effect": "text", "text": "HI", "color": "#FFFFFF", "size": "small",
                        "position": [0, 1], "background": "#0000FF"}"##;
        assert_eq!(
            drawn(left, 8, 6, 0.0),
            [
                "oooooooo", "#o#o###o", "#o#oo#oo", "###oo#oo", "#o#oo#oo", "#o#o###o",
            ]
        );
    }

    #[test]
    fn a_large_message_doubles_each_cell() {
        let i = r##"{"effect": "text", "text": "l", "color": "#FFFFFF", "size": "large"}"##;
        let rows = drawn(i, 10, 14, 0.0);
        // Medium "l" is .##.. on top: doubled, ..####.... twice.
        assert_eq!(rows[0], "..####....");
        assert_eq!(rows[1], "..####....");
        assert_eq!(rows[13], "..######..");
    }

    #[test]
    fn a_scrolling_message_enters_right_and_comes_round_again() {
        let go = r##"{"effect": "text", "text": "I", "color": "#FFFFFF", "size": "small",
                      "speed": 2}"##;
        // A 4-wide area and a 3-wide letter: a lap is 7 cells, 3.5 s at 2 cells/s.
        assert!(drawn(go, 4, 5, 0.0).iter().all(|r| r == "...."));
        assert_eq!(drawn(go, 4, 5, 1.0)[0], "..##");
        assert_eq!(drawn(go, 4, 5, 2.0)[0], "###.");
        assert_eq!(drawn(go, 4, 5, 2.0 + 3.5)[0], "###.");
        let back = r##"{"effect": "text", "text": "I", "color": "#FFFFFF", "size": "small",
                        "speed": -2}"##;
        assert_eq!(drawn(back, 4, 5, 0.5)[0], "#...");
        assert_eq!(drawn(back, 4, 5, 2.0)[0], ".###");
    }

    #[test]
    fn messages_outside_the_font_are_refused() {
        let scene = |text: &str| {
            serde_json::from_str::<SceneSpec>(&format!(
                r##"{{"name": "t", "layers": [{{"effect": "text", "text": {text:?}, "color": "#FFFFFF"}}]}}"##
            ))
            .map_err(|e| e.to_string())
        };
        assert!(scene("Welcome!").is_ok());
        assert!(scene("Café").is_err_and(|e| e.contains("not in the pixel font")));
        assert!(scene("").is_err_and(|e| e.contains("1 to 500")));
        assert!(scene(&"x".repeat(501)).is_err_and(|e| e.contains("1 to 500")));
    }
}
