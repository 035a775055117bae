//! Test videos, made by GStreamer's own `gst-launch-1.0` (Debian's
//! `gstreamer1.0-tools`): a test pattern as Theora in Ogg.

use anyhow::{Result, ensure};

/// `seconds` of `videotestsrc`'s `pattern` at `width` x `height` and `fps`, as
/// Theora in Ogg.
pub fn test_video(
    pattern: &str,
    seconds: u32,
    [width, height]: [u32; 2],
    fps: u32,
) -> Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("test.ogv");
    let made = std::process::Command::new("gst-launch-1.0")
        .arg("-q")
        .arg("videotestsrc")
        .arg(format!("pattern={pattern}"))
        .arg(format!("num-buffers={}", seconds * fps))
        .arg("!")
        .arg(format!(
            "video/x-raw,width={width},height={height},framerate={fps}/1"
        ))
        .args([
            "!",
            "videoconvert",
            "!",
            "theoraenc",
            "!",
            "oggmux",
            "!",
            "filesink",
        ])
        .arg(format!("location={}", path.display()))
        .status()?;
    ensure!(made.success(), "gst-launch-1.0 failed: {made}");
    Ok(std::fs::read(path)?)
}
