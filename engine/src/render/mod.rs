//! Rendering: effects into linear RGB buffers, layers composited by blend mode and
//! opacity, and looks crossfaded into each other.
//!
//! Pixels are `[f32; 3]` in 0..=1 while rendering; the canvas converts to bytes after
//! its masters.

mod area;
mod bind;
mod blend;
mod effects;
mod font;
mod interactive;
mod layout;
mod look;
mod picture;
mod text;
mod thumbnail;

use crate::content::Pictures;
use std::sync::Arc;

pub use blend::{blend_into, blend_weighted};
pub use effects::render_effect;
pub use layout::{Layout, Raster};
pub use look::{Look, Scratch, Stage};
pub use thumbnail::{ThumbnailSize, thumbnail};

/// Where image layers find their pictures, and whether versions still waiting
/// for approval may show: only in a blind preview, which never reaches the wire.
#[derive(Debug, Clone)]
pub struct Content {
    /// Pictures scaled for image layers.
    pub pictures: Arc<Pictures>,
    /// Pending versions show too.
    pub unapproved: bool,
    /// The canvas's frame rate, which video layers are decoded at.
    pub fps: u32,
}

/// One pixel while rendering: red, green, blue in 0..=1.
pub type Px = [f32; 3];

/// Where a pixel is on its canvas, `[x, y]` (x to the right, y downwards).
pub type Position = [f32; 2];

/// A colour from its wire form to rendering form.
pub fn px(c: limelight_shared::values::Rgb) -> Px {
    [
        f32::from(c.r) / 255.0,
        f32::from(c.g) / 255.0,
        f32::from(c.b) / 255.0,
    ]
}

/// Mix two pixels: `t` = 0 gives `a`, 1 gives `b`.
pub fn mix(a: Px, b: Px, t: f32) -> Px {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}
