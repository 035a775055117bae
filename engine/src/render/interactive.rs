//! Layers that answer what inputs see, drawn across the pixel map: `follow`, a
//! soft glow round each blob a camera tracks (or round a position, usually two
//! inputs), and `ripple`, rings growing from where a blob entered, from a touch
//! (an input rising past one half), or from a position again and again. Both
//! light pixels with a weight each, so the layers below show where they do not.
//! Places are in lengths of the map's box, sizes in lengths of its longer side.

use super::area::{composite, cover};
use super::{Layout, Px, Scratch, px};
use crate::input::InputReader;
use limelight_shared::scene::{Effect, LayerSpec};

/// Thickness of a ripple's ring, in lengths of the map's longer side (at least
/// one pixel).
const RING: f64 = 0.04;

/// Draw a follow or ripple layer at look time `t`, reading `inputs` (without
/// them a follow glows at its position and a ripple pulses from it). Other
/// effects draw nothing.
pub fn draw(
    layer: &LayerSpec,
    t: f64,
    out: &mut [Px],
    scratch: &mut Scratch,
    layout: &Layout,
    inputs: Option<&mut InputReader>,
) {
    let Scratch {
        layer: drawn,
        under,
        picked,
        weights,
        local,
        ..
    } = scratch;
    if cover(layer.region, out.len(), layout, picked, local).is_none() {
        return;
    }
    let longer = layout.longer_side();
    let (weight, color): (Box<dyn Fn([f64; 2]) -> f64>, _) = match &layer.effect {
        Effect::Follow {
            camera,
            position,
            color,
            radius,
        } => {
            let centres: Vec<[f64; 2]> = match (camera, inputs) {
                (Some(camera), Some(inputs)) => inputs
                    .sighting(camera)
                    .map(|s| s.blobs.iter().map(|b| layout.on_map(b.at)).collect())
                    .unwrap_or_default(),
                (Some(_), None) => Vec::new(),
                (None, _) => vec![layout.on_map(*position)],
            };
            let r = (radius * longer).max(0.5);
            (Box::new(move |p| glow(&centres, r, p)), *color)
        }
        Effect::Ripple {
            camera,
            trigger,
            position,
            color,
            speed,
            radius,
        } => {
            let grow = speed.get() * longer;
            let reach = radius * longer;
            let rings = rings(
                layout,
                inputs,
                camera.as_ref(),
                trigger.as_ref(),
                *position,
                t,
                reach / grow,
            );
            let thickness = (RING * longer).max(1.0);
            let rings: Vec<([f64; 2], f64)> = rings
                .into_iter()
                .map(|(centre, age)| (centre, age * grow))
                .filter(|(_, r)| *r < reach)
                .collect();
            (Box::new(move |p| ring(&rings, reach, thickness, p)), *color)
        }
        _ => return,
    };
    let (ink, opacity) = (px(color), layer.opacity.get() as f32);
    drawn.clear();
    weights.clear();
    for &i in picked.iter() {
        drawn.push(ink);
        weights.push(weight(layout.position(i)) as f32 * opacity);
    }
    composite(out, picked, drawn, weights, layer.blend, under);
}

/// How lit a pixel at `p` is by glows of radius `r` round `centres`: fully
/// within half the radius, falling smoothly to nothing at it.
fn glow(centres: &[[f64; 2]], r: f64, p: [f64; 2]) -> f64 {
    centres
        .iter()
        .map(|c| {
            let d = (p[0] - c[0]).hypot(p[1] - c[1]);
            let u = ((d - r / 2.0) / (r / 2.0)).clamp(0.0, 1.0);
            1.0 - u * u * (3.0 - 2.0 * u)
        })
        .fold(0.0, f64::max)
}

/// How lit a pixel at `p` is by rings (centre, radius now) `thickness` thick,
/// each fading as it grows towards `reach`.
fn ring(rings: &[([f64; 2], f64)], reach: f64, thickness: f64, p: [f64; 2]) -> f64 {
    rings
        .iter()
        .map(|(c, r)| {
            let d = (p[0] - c[0]).hypot(p[1] - c[1]);
            let on = (1.0 - (d - r).abs() / thickness).max(0.0);
            on * (1.0 - r / reach)
        })
        .fold(0.0, f64::max)
}

/// The rings showing now, as (centre in canvas coordinates, age in seconds):
/// from the camera's entries and the trigger's last touch; with neither, one
/// from `position` every `period` seconds of look time `t`.
fn rings(
    layout: &Layout,
    inputs: Option<&mut InputReader>,
    camera: Option<&limelight_shared::input::InputName>,
    trigger: Option<&limelight_shared::input::InputName>,
    position: [f64; 2],
    t: f64,
    period: f64,
) -> Vec<([f64; 2], f64)> {
    if camera.is_none() && trigger.is_none() {
        let age = if period > 0.0 { t % period } else { 0.0 };
        return vec![(layout.on_map(position), age)];
    }
    let Some(inputs) = inputs else {
        return Vec::new();
    };
    let now = inputs.now();
    let mut rings = Vec::new();
    if let Some(sighting) = camera.and_then(|c| inputs.sighting(c)) {
        rings.extend(sighting.entries.iter().filter(|e| e.at <= now).map(|e| {
            (
                layout.on_map(e.place),
                now.saturating_sub(e.at).as_secs_f64(),
            )
        }));
    }
    if let Some(at) = trigger.and_then(|name| inputs.touched(name))
        && at <= now
    {
        rings.push((
            layout.on_map(position),
            now.saturating_sub(at).as_secs_f64(),
        ));
    }
    rings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Blob, CameraSlot, Entry, InputBoard, Sighting};
    use limelight_shared::geometry::Geometry;
    use limelight_shared::input::InputName;
    use std::sync::Arc;
    use std::time::Duration;

    fn layer(json: &str) -> LayerSpec {
        match serde_json::from_str(json) {
            Ok(l) => l,
            Err(e) => unreachable!("test layer: {e}"),
        }
    }

    /// A 16 x 12 matrix and a board with camera `cam` showing `sighting`.
    fn stage(sighting: Sighting) -> (Layout, InputReader) {
        let geometry: Option<Geometry> =
            serde_json::from_str(r#"{"kind": "matrix", "width": 16, "height": 12}"#).ok();
        let layout = Layout::new(geometry.as_ref(), 192);
        let board = Arc::new(InputBoard::default());
        let slot = Arc::new(CameraSlot::default());
        slot.show(sighting);
        let name = InputName::try_from("cam".to_owned());
        if let Ok(name) = name {
            board.insert_camera(name, slot);
        }
        let mut reader = InputReader::new(board);
        reader.start_frame(Duration::from_secs(10));
        (layout, reader)
    }

    fn lit(out: &[Px], x: usize, y: usize) -> f32 {
        out[y * 16 + x][0]
    }

    #[test]
    fn a_follow_layer_lights_the_pixels_round_each_blob_and_nothing_else() {
        let (layout, mut reader) = stage(Sighting {
            frame: 1,
            at: Duration::from_secs(10),
            blobs: vec![Blob {
                id: 1,
                // The centre of pixel (4, 3) of 16 x 12.
                at: [4.5 / 16.0, 3.5 / 12.0],
                size: 0.1,
            }],
            entries: Vec::new(),
        });
        let follow = layer(
            r##"{"effect": "follow", "camera": "cam", "color": "#FF0000", "radius": 0.125}"##,
        );
        let mut out = vec![[0.0; 3]; 192];
        draw(
            &follow,
            0.0,
            &mut out,
            &mut Scratch::default(),
            &layout,
            Some(&mut reader),
        );
        assert_eq!(lit(&out, 4, 3), 1.0, "under the blob");
        assert_eq!(lit(&out, 5, 3), 1.0, "within half the radius (2 px)");
        assert!(
            lit(&out, 5, 4) > 0.0 && lit(&out, 5, 4) < 1.0,
            "the soft edge"
        );
        assert_eq!(lit(&out, 10, 8), 0.0, "far away");
        // Without inputs (a preview), a camera's glow has nothing to follow.
        let mut blind = vec![[0.0; 3]; 192];
        draw(
            &follow,
            0.0,
            &mut blind,
            &mut Scratch::default(),
            &layout,
            None,
        );
        assert!(blind.iter().all(|p| p[0] == 0.0));
    }

    #[test]
    fn a_ripple_rings_out_from_where_a_blob_entered_and_fades() {
        let (layout, mut reader) = stage(Sighting {
            frame: 1,
            at: Duration::from_secs(10),
            blobs: Vec::new(),
            entries: vec![Entry {
                // One second before the frame, at the centre of pixel (8, 6).
                at: Duration::from_secs(9),
                place: [8.5 / 16.0, 6.5 / 12.0],
            }],
        });
        // Grows 0.25 x 16 = 4 pixels a second, to 8 pixels.
        let ripple = layer(
            r##"{"effect": "ripple", "camera": "cam", "color": "#FF0000", "speed": 0.25, "radius": 0.5}"##,
        );
        let mut out = vec![[0.0; 3]; 192];
        draw(
            &ripple,
            0.0,
            &mut out,
            &mut Scratch::default(),
            &layout,
            Some(&mut reader),
        );
        let on_ring = lit(&out, 12, 6);
        assert!(
            (on_ring - 0.5).abs() < 1e-6,
            "4 px out, half faded: {on_ring}"
        );
        assert_eq!(lit(&out, 8, 6), 0.0, "the centre has emptied");
        assert_eq!(lit(&out, 15, 6), 0.0, "beyond the ring");
    }
}
