//! Blind previews: a scene rendered on a canvas's pixel map for the console
//! that asked, never sent to the wire. Versions still waiting for approval show
//! too, so an approver sees the real result on the real canvas before it goes
//! live.
//!
//! Each runs on a thread of its own, paced at the canvas's rate (at most
//! [`MAX_BLIND_FPS`]), apart from every frame and sender thread; it ends within
//! a frame of its [`Blind`] being dropped.

use super::PreviewFrame;
use crate::clock::Clock;
use crate::content::Pictures;
use crate::input::{InputBoard, InputReader};
use crate::render::{Content, Layout, Look, Px, Scratch};
use limelight_shared::geometry::Geometry;
use limelight_shared::scene::SceneSpec;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Fastest a blind preview renders: consoles show previews at up to 30 frames a
/// second.
pub const MAX_BLIND_FPS: u32 = 30;

/// What a blind preview renders on: the canvas's geometry and pixel count.
#[derive(Debug, Clone)]
pub struct BlindSetup {
    /// The scene.
    pub scene: Arc<SceneSpec>,
    /// The canvas's pixel map (none: one strip).
    pub geometry: Option<Geometry>,
    /// The canvas's pixel count.
    pub pixels: usize,
    /// The canvas's frame rate.
    pub fps: u32,
}

/// A running blind preview: its frames, as a canvas publishes its own. Dropping
/// it stops the render.
#[derive(Debug)]
pub struct Blind {
    frames: watch::Receiver<Option<PreviewFrame>>,
}

impl Blind {
    /// Start rendering `setup` with `pictures` and the values on `inputs`, timed
    /// by `clock`.
    pub fn start(
        setup: BlindSetup,
        pictures: Arc<Pictures>,
        inputs: Arc<InputBoard>,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Self> {
        let (tx, frames) = watch::channel(None);
        std::thread::Builder::new()
            .name("blind".into())
            .spawn(move || run(setup, pictures, inputs, clock, tx))?;
        Ok(Self { frames })
    }

    /// The frames, newest wins.
    pub fn frames(&self) -> watch::Receiver<Option<PreviewFrame>> {
        self.frames.clone()
    }
}

fn run(
    setup: BlindSetup,
    pictures: Arc<Pictures>,
    inputs: Arc<InputBoard>,
    clock: Arc<dyn Clock>,
    tx: watch::Sender<Option<PreviewFrame>>,
) {
    let layout = Layout::new(setup.geometry.as_ref(), setup.pixels);
    let raster = layout.raster().clone();
    let content = Content {
        pictures,
        unapproved: true,
        fps: setup.fps.clamp(1, MAX_BLIND_FPS),
    };
    let mut look = Look::new(setup.scene, clock.now().as_secs_f64());
    let mut inputs = InputReader::new(inputs);
    let period = Duration::from_secs(1) / setup.fps.clamp(1, MAX_BLIND_FPS);
    let mut pixels: Vec<Px> = vec![[0.0; 3]; setup.pixels];
    let mut scratch = Scratch::default();
    let mut next = Instant::now();
    for frame in 0u64.. {
        if tx.is_closed() {
            break;
        }
        let now = clock.now();
        inputs.start_frame(now);
        look.render(
            now.as_secs_f64(),
            &mut pixels,
            &mut scratch,
            &layout,
            Some(&content),
            Some(&mut inputs),
        );
        // Rounded half up, as a canvas does; `as` saturates.
        let rgb: Arc<[u8]> = pixels
            .iter()
            .flat_map(|p| p.map(|c| (c * 255.0 + 0.5) as u8))
            .collect();
        tx.send_replace(Some(PreviewFrame {
            frame,
            rgb,
            raster: raster.clone(),
        }));
        next += period;
        let now = Instant::now();
        match next.checked_duration_since(now) {
            Some(wait) => std::thread::sleep(wait),
            // Behind (a slow machine): the next frame as soon as it can be drawn.
            None => next = now,
        }
    }
}
