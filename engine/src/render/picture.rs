//! Image layers: a picture from the content library, scaled off the frame
//! thread by [`Pictures`], laid on the raster cells of the layer's area.

use super::area::{composite, cover};
use super::{Content, Layout, Px, Scratch};
use crate::content::ScaledKey;
use limelight_shared::scene::{Effect, LayerSpec};

/// Draw an image layer into its look. Nothing is drawn while the picture is
/// not scaled yet, when the version it would play may not play (pending
/// versions play only in a blind preview), or for other effects.
pub fn draw(
    layer: &LayerSpec,
    out: &mut [Px],
    scratch: &mut Scratch,
    layout: &Layout,
    content: &Content,
) {
    let Effect::Image {
        asset,
        version,
        fit,
        position,
    } = &layer.effect
    else {
        return;
    };
    let pictures = &content.pictures;
    let Ok(sha256) = pictures.playable(*asset, *version, content.unapproved) else {
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
    let key = ScaledKey::new(sha256, area.width, area.height, *fit, *position);
    let Some(scaled) = pictures.scaled(&key) else {
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
