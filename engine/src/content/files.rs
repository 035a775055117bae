//! Content on disk, under the content directory:
//!
//! - `uploads/<id>`: the bytes of an upload so far;
//! - `assets/<ab>/<abcdef…>`: each version's bytes, named by their SHA-256.
//!
//! A version's file is written, synced and renamed into place before its row is
//! stored, and its row removed before its file, so a crash leaves at worst a file
//! without a row, which [`orphans`] finds at the next start. These calls block:
//! they run on the blocking pool, never on a frame or sender thread.

use super::sniff::{MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, Sniffed, sniff};
use limelight_shared::content::MediaKind;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The two folders.
#[derive(Debug, Clone)]
pub struct Folders {
    uploads: PathBuf,
    assets: PathBuf,
}

/// A complete file, read through: what it is, its size and hash.
#[derive(Debug, Clone, PartialEq)]
pub struct Probed {
    /// The type found in its bytes.
    pub sniffed: Sniffed,
    /// Width and height, read from the whole file.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// A video's length in milliseconds.
    pub duration_ms: Option<u64>,
    /// A video's frames per second.
    pub fps: Option<f64>,
}

/// Why a complete file is not taken.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// Not a whole image of a known kind, or too large.
    #[error("{0}")]
    Invalid(String),
    /// The disk failed.
    #[error("cannot read the upload: {0}")]
    Io(#[from] io::Error),
}

impl Folders {
    /// The folders under `root`, made if missing.
    pub fn open(root: &Path) -> io::Result<Self> {
        let folders = Self {
            uploads: root.join("uploads"),
            assets: root.join("assets"),
        };
        std::fs::create_dir_all(&folders.uploads)?;
        std::fs::create_dir_all(&folders.assets)?;
        Ok(folders)
    }

    /// Where upload `id`'s bytes are.
    pub fn upload(&self, id: &str) -> PathBuf {
        self.uploads.join(id)
    }

    /// Where the version with hash `sha256` lives.
    pub fn asset(&self, sha256: &str) -> PathBuf {
        self.assets
            .join(&sha256[..2.min(sha256.len())])
            .join(sha256)
    }

    /// Give a complete upload's file its name under its hash too (a hard link,
    /// synced); the same bytes stored before are left as they are.
    pub fn link(&self, upload: &str, sha256: &str) -> io::Result<PathBuf> {
        let to = self.asset(sha256);
        let dir = to.parent().unwrap_or(&self.assets).to_path_buf();
        std::fs::create_dir_all(&dir)?;
        match std::fs::hard_link(self.upload(upload), &to) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
        std::fs::File::open(&dir)?.sync_all()?;
        Ok(to)
    }

    /// Files in `assets/` that no stored version names, and uploads' files that no
    /// stored upload owns: what a crash between file and row can leave.
    pub fn orphans(
        &self,
        versions: &HashSet<String>,
        uploads: &HashSet<String>,
    ) -> io::Result<Vec<PathBuf>> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.uploads)? {
            let entry = entry?;
            if !uploads.contains(entry.file_name().to_string_lossy().as_ref()) {
                found.push(entry.path());
            }
        }
        for dir in std::fs::read_dir(&self.assets)? {
            let dir = dir?;
            if !dir.file_type()?.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(dir.path())? {
                let entry = entry?;
                if !versions.contains(entry.file_name().to_string_lossy().as_ref()) {
                    found.push(entry.path());
                }
            }
        }
        Ok(found)
    }
}

/// Read a complete file through: hash it and decode it whole (so a truncated or
/// corrupt image is refused), within the size limits, which are checked from the
/// header before anything is decoded.
pub fn probe(path: &Path) -> Result<Probed, ProbeError> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut head = Vec::new();
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if head.len() < 64 {
            head.extend_from_slice(&buf[..n.min(64 - head.len())]);
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    let sniffed = sniff(&head).map_err(|e| ProbeError::Invalid(e.to_string()))?;
    if sniffed.kind == MediaKind::Video {
        return probe_video(path, sniffed, size, hex(&hasher.finalize()));
    }
    // The decoder's limits refuse a picture too large before they allocate for it.
    let decoded = decode(path, sniffed)?;
    let (width, height) = decoded.dimensions();
    if u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS {
        return Err(ProbeError::Invalid(format!(
            "the image is {width} x {height} pixels; at most {MAX_IMAGE_PIXELS} are taken"
        )));
    }
    Ok(Probed {
        sniffed,
        width,
        height,
        size,
        sha256: hex(&hasher.finalize()),
        duration_ms: None,
        fps: None,
    })
}

/// A whole video, read through by GStreamer.
#[cfg(feature = "media")]
fn probe_video(
    path: &Path,
    sniffed: Sniffed,
    size: u64,
    sha256: String,
) -> Result<Probed, ProbeError> {
    let info = crate::media::probe(path).map_err(ProbeError::Invalid)?;
    if info.width == 0
        || info.height == 0
        || info.width > MAX_IMAGE_SIDE
        || info.height > MAX_IMAGE_SIDE
    {
        return Err(ProbeError::Invalid(format!(
            "the video is {} x {} pixels; 1 to {} a side are taken",
            info.width, info.height, MAX_IMAGE_SIDE
        )));
    }
    Ok(Probed {
        sniffed,
        width: info.width,
        height: info.height,
        size,
        sha256,
        duration_ms: Some(info.duration_ms),
        fps: Some(info.fps),
    })
}

/// Without the `media` feature no video gets this far: `sniff` refuses it.
#[cfg(not(feature = "media"))]
fn probe_video(_: &Path, _: Sniffed, _: u64, _: String) -> Result<Probed, ProbeError> {
    Err(ProbeError::Invalid(
        super::sniff::Refused::VideoNeedsMedia.to_string(),
    ))
}

/// Decode the whole image to RGBA, within the limits.
pub fn decode(path: &Path, sniffed: Sniffed) -> Result<image::RgbaImage, ProbeError> {
    let reader = reader(path, sniffed)?;
    let decoded = reader
        .decode()
        .map_err(|e| ProbeError::Invalid(format!("the image cannot be decoded: {e}")))?;
    Ok(decoded.into_rgba8())
}

/// A decoder for the file at `path`, of the type sniffed, with the size limits.
fn reader(
    path: &Path,
    sniffed: Sniffed,
) -> io::Result<image::ImageReader<io::BufReader<std::fs::File>>> {
    let mut reader = image::ImageReader::open(path)?;
    reader.set_format(match sniffed.media_type {
        "image/png" => image::ImageFormat::Png,
        "image/jpeg" => image::ImageFormat::Jpeg,
        "image/gif" => image::ImageFormat::Gif,
        _ => image::ImageFormat::WebP,
    });
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_IMAGE_PIXELS * 4 + (64 << 20));
    reader.limits(limits);
    Ok(reader)
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}
