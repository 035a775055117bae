//! GStreamer at the edge (the `media` feature): reading what an uploaded video
//! is, and playing video layers on threads of their own (`video`). Nothing here
//! runs on a frame or sender thread: a frame thread only takes the newest frame
//! a player has made.

mod video;

pub(crate) use video::Videos;

use gstreamer as gst;
use gstreamer_pbutils as pbutils;
use std::path::Path;
use std::sync::OnceLock;

/// Longest a video is read for its description before it is refused.
const PROBE_TIMEOUT_S: u64 = 10;

/// What a video is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoInfo {
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
    /// Length in milliseconds.
    pub duration_ms: u64,
    /// Frames per second.
    pub fps: f64,
}

/// GStreamer, started once for the process.
pub fn init() -> Result<(), String> {
    static STARTED: OnceLock<Result<(), String>> = OnceLock::new();
    STARTED
        .get_or_init(|| gst::init().map_err(|e| format!("GStreamer cannot start: {e}")))
        .clone()
}

/// A `file://` URI for `path`.
fn uri(path: &Path) -> Result<String, String> {
    let full = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
    gst::glib::filename_to_uri(&full, None)
        .map(|u| u.to_string())
        .map_err(|e| format!("{}: {e}", full.display()))
}

/// Read the whole of what the video at `path` is: its first video stream's size
/// and rate, and its length. A file GStreamer cannot play is refused here.
pub fn probe(path: &Path) -> Result<VideoInfo, String> {
    init()?;
    let discoverer = pbutils::Discoverer::new(gst::ClockTime::from_seconds(PROBE_TIMEOUT_S))
        .map_err(|e| format!("the video cannot be read: {e}"))?;
    let info = discoverer
        .discover_uri(&uri(path)?)
        .map_err(|e| format!("the video cannot be read: {e}"))?;
    let stream = info
        .video_streams()
        .into_iter()
        .next()
        .ok_or_else(|| "the file has no video stream".to_owned())?;
    let rate = stream.framerate();
    let fps = if rate.denom() > 0 {
        f64::from(rate.numer()) / f64::from(rate.denom())
    } else {
        0.0
    };
    Ok(VideoInfo {
        width: stream.width(),
        height: stream.height(),
        duration_ms: info.duration().map_or(0, gst::ClockTime::mseconds),
        fps,
    })
}
