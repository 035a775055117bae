//! Image and video layers: a picture from the content library, scaled off the
//! frame thread by [`Pictures`] (a video's newest frame, made by its player),
//! laid on the raster cells of the layer's area.

use super::area::{composite, cover};
use super::{Content, Layout, Px, Scratch};
use crate::content::{ScaledKey, VideoKey};
use limelight_shared::content::MediaKind;
use limelight_shared::scene::{Effect, LayerSpec};

/// Draw an image or video layer into its look. Nothing is drawn while the
/// picture (or a video's first frame) is not ready, when the version it would
/// play may not play (pending versions play only in a blind preview), or for
/// other effects.
pub fn draw(
    layer: &LayerSpec,
    out: &mut [Px],
    scratch: &mut Scratch,
    layout: &Layout,
    content: &Content,
) {
    let (asset, version, fit, position, video) = match &layer.effect {
        Effect::Image {
            asset,
            version,
            fit,
            position,
        } => (asset, version, fit, position, None),
        Effect::Video {
            asset,
            version,
            fit,
            position,
            speed,
            looping,
        } => (asset, version, fit, position, Some((*speed, *looping))),
        _ => return,
    };
    let pictures = &content.pictures;
    let Ok(chosen) = pictures.playable(*asset, *version, content.unapproved) else {
        return;
    };
    let wanted = if video.is_some() {
        MediaKind::Video
    } else {
        MediaKind::Image
    };
    if chosen.kind != wanted {
        return;
    }
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
    let key = ScaledKey::new(chosen.sha256, area.width, area.height, *fit, *position);
    let scaled = match video {
        None => pictures.scaled(&key),
        Some((speed, looping)) => pictures.video_frame(&VideoKey {
            scaled: key,
            source: chosen.size,
            fps: content.fps,
            speed_milli: (speed * 1000.0).round() as u32,
            looping,
        }),
    };
    let Some(scaled) = scaled else {
        return;
    };
    let opacity = layer.opacity.get() as f32;
    drawn.clear();
    weights.clear();
    for &[x, y] in local.iter() {
        let at = y as usize * scaled.width as usize + x as usize;
        drawn.push(scaled.rgb.get(at).copied().unwrap_or_default());
        weights.push(scaled.alpha.get(at).copied().unwrap_or(0.0) * opacity);
    }
    composite(out, picked, drawn, weights, layer.blend, under);
}
