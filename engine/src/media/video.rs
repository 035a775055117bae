//! Video layers: one player per video, area and rate, each a GStreamer
//! pipeline on a thread of its own (`uridecodebin ! videoconvert ! videoscale !
//! videorate` to the fitted size and the canvas's rate, into an `appsink` that
//! keeps one frame and drops the rest). Each frame is fitted to the layer's
//! area as a picture is and kept as the player's newest; a frame thread takes
//! it without waiting. A player no layer asked for in a while is stopped.

use crate::content::{Folders, Scaled, VideoKey, pixels_per_cell, scale};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

/// Requests for players not started yet that may wait.
const QUEUE: usize = 64;
/// A player no frame asked for this long is stopped.
const IDLE: Duration = Duration::from_secs(3);
/// Largest decoded side: a video shown at its own size (`fit: none`) on a
/// small area is not decoded larger than this.
const MAX_DECODED_SIDE: u32 = 4096;

#[derive(Debug, Default)]
struct Player {
    newest: Mutex<Option<Arc<Scaled>>>,
    /// Milliseconds since `Videos::epoch` when a frame last asked.
    used_ms: AtomicU64,
    stop: AtomicBool,
}

/// The players, and the thread that starts and stops them.
#[derive(Debug)]
pub struct Videos {
    players: Mutex<HashMap<VideoKey, Arc<Player>>>,
    requests: mpsc::SyncSender<VideoKey>,
    epoch: Instant,
}

impl Videos {
    /// Players of the videos in `folders`, started by a thread of their own.
    pub fn start(folders: Folders) -> std::io::Result<Arc<Self>> {
        let (requests, asked) = mpsc::sync_channel(QUEUE);
        let videos = Arc::new(Self {
            players: Mutex::default(),
            requests,
            epoch: Instant::now(),
        });
        let weak = Arc::downgrade(&videos);
        std::thread::Builder::new()
            .name("videos".into())
            .spawn(move || {
                loop {
                    let asked = asked.recv_timeout(Duration::from_secs(1));
                    let Some(videos) = weak.upgrade() else { break };
                    match asked {
                        Ok(key) => videos.open(key, &folders),
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                    videos.reap();
                }
            })?;
        Ok(videos)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The newest frame for `key`; the first ask starts its player (without
    /// waiting) and finds none. Safe on a frame thread.
    pub fn frame(&self, key: &VideoKey) -> Option<Arc<Scaled>> {
        let player = self
            .players
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned();
        match player {
            Some(p) => {
                p.used_ms.store(self.now_ms(), Ordering::Relaxed);
                p.newest
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone()
            }
            None => {
                // A full queue asks again on a later frame.
                let _ = self.requests.try_send(key.clone());
                None
            }
        }
    }

    fn open(&self, key: VideoKey, folders: &Folders) {
        let mut players = self.players.lock().unwrap_or_else(PoisonError::into_inner);
        if players.contains_key(&key) {
            return;
        }
        let player = Arc::new(Player::default());
        player.used_ms.store(self.now_ms(), Ordering::Relaxed);
        players.insert(key.clone(), player.clone());
        drop(players);
        let path = folders.asset(&key.scaled.sha256);
        let spawned = std::thread::Builder::new()
            .name("video".into())
            .spawn(move || {
                if let Err(e) = play(&key, &path, &player) {
                    tracing::warn!(sha256 = %key.scaled.sha256, error = %e, "a video layer cannot play");
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no thread for a video player");
        }
    }

    /// Stop players no frame asked for in a while.
    fn reap(&self) {
        let now = self.now_ms();
        let idle = u64::try_from(IDLE.as_millis()).unwrap_or(u64::MAX);
        self.players
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, p| {
                let keep = now.saturating_sub(p.used_ms.load(Ordering::Relaxed)) < idle;
                if !keep {
                    p.stop.store(true, Ordering::Relaxed);
                }
                keep
            });
    }
}

/// The size a video is decoded at: fitted to the area as `scale` fits a picture,
/// so each decoded pixel lands on about one cell.
fn decoded_size(key: &VideoKey) -> [u32; 2] {
    let [w, h] = key.source.map(|n| f64::from(n.max(1)));
    let area = [key.scaled.width, key.scaled.height].map(|n| f64::from(n.max(1)));
    let (sx, sy) = pixels_per_cell([w, h], area, key.scaled.fit);
    [w / sx, h / sy].map(|n| (n.round() as u32).clamp(1, MAX_DECODED_SIDE))
}

fn play(key: &VideoKey, path: &std::path::Path, player: &Player) -> Result<(), String> {
    super::init()?;
    let [dw, dh] = decoded_size(key);
    let description = format!(
        "uridecodebin uri=\"{}\" ! videoconvert ! videoscale add-borders=false ! videorate ! \
         video/x-raw,format=RGBA,width={dw},height={dh},pixel-aspect-ratio=1/1,framerate={}/1 ! \
         appsink name=sink drop=true max-buffers=1 sync=true",
        super::uri(path)?,
        key.fps.max(1)
    );
    let pipeline = gst::parse::launch(&description)
        .map_err(|e| e.to_string())?
        .downcast::<gst::Pipeline>()
        .map_err(|_| "not a pipeline".to_owned())?;
    let sink = pipeline
        .by_name("sink")
        .and_then(|s| s.downcast::<gst_app::AppSink>().ok())
        .ok_or_else(|| "no appsink".to_owned())?;
    let rate = f64::from(key.speed_milli) / 1000.0;
    let result = run(&pipeline, &sink, key, [dw, dh], rate, player);
    let _ = pipeline.set_state(gst::State::Null);
    result
}

/// From the start, at `rate`.
fn rewind(pipeline: &gst::Pipeline, rate: f64) -> Result<(), String> {
    pipeline
        .seek(
            rate,
            gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE,
            gst::SeekType::Set,
            gst::ClockTime::ZERO,
            gst::SeekType::None,
            gst::ClockTime::NONE,
        )
        .map_err(|e| format!("seeking: {e}"))
}

fn run(
    pipeline: &gst::Pipeline,
    sink: &gst_app::AppSink,
    key: &VideoKey,
    [dw, dh]: [u32; 2],
    rate: f64,
    player: &Player,
) -> Result<(), String> {
    let bus = pipeline.bus().ok_or_else(|| "no bus".to_owned())?;
    pipeline
        .set_state(gst::State::Paused)
        .map_err(|e| format!("starting: {e}"))?;
    let (ready, _, _) = pipeline.state(gst::ClockTime::from_seconds(10));
    ready.map_err(|e| format!("starting: {e}"))?;
    if rate != 1.0 {
        rewind(pipeline, rate)?;
    }
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|e| format!("playing: {e}"))?;
    let row = dw as usize * 4;
    let mut frame = image::RgbaImage::new(dw, dh);
    while !player.stop.load(Ordering::Relaxed) {
        if let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_mseconds(100)) {
            let Some(buffer) = sample.buffer() else {
                continue;
            };
            let Ok(map) = buffer.map_readable() else {
                continue;
            };
            // The buffer holds `dh` rows of one stride each, which may pad a row.
            let stride = (map.len() / dh.max(1) as usize).max(row);
            for (y, out) in frame.chunks_exact_mut(row).enumerate() {
                if let Some(src) = map.get(y * stride..y * stride + row) {
                    out.copy_from_slice(src);
                }
            }
            let scaled = Arc::new(scale(&frame, &key.scaled));
            *player.newest.lock().unwrap_or_else(PoisonError::into_inner) = Some(scaled);
            continue;
        }
        // No frame: the end, or an error. At the end of a video that does not
        // loop the last frame stays, and the bus is watched until the player stops.
        let wait = if sink.is_eos() && !key.looping {
            gst::ClockTime::from_mseconds(100)
        } else {
            gst::ClockTime::ZERO
        };
        while let Some(message) = bus.timed_pop(wait) {
            match message.view() {
                gst::MessageView::Eos(_) if key.looping => rewind(pipeline, rate)?,
                gst::MessageView::Error(e) => return Err(e.error().to_string()),
                _ => {}
            }
            if !wait.is_zero() {
                break;
            }
        }
    }
    Ok(())
}
