//! Pictures for image layers, ready for the frame threads.
//!
//! A frame thread never reads a file, decodes or scales: it looks up what is ready
//! in memory and, when a picture it needs is not ready yet, asks the pictures
//! thread for it and draws nothing in its place meanwhile. The handle asks for
//! the pictures a scene needs before it puts the scene on a canvas, so they are
//! ready by the scene's first frame.
//!
//! What plays is decided here too: each asset's versions with their review status
//! are kept in memory (read again from the store after every change), so a layer
//! plays its asset's live version, or the version it pins if that one is
//! approved, and nothing that is pending or rejected; a canvas preview may show a
//! pending version.

use super::files::{Folders, decode};
use super::sniff::sniff;
use crate::render::Px;
use limelight_shared::content::{MediaKind, ReviewStatus};
use limelight_shared::ids::AssetId;
use limelight_shared::scene::Fit;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError, RwLock, mpsc};

/// Pictures asked for but not yet ready, at most.
const QUEUE: usize = 64;
/// Decoded source pictures kept for scaling again at another size.
const DECODED_KEPT: usize = 8;
/// Scaled pictures kept; the oldest go first.
const SCALED_KEPT: usize = 256;

/// One version of an asset, as far as playing it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playable {
    /// Its hash: also its file's name.
    pub sha256: Arc<str>,
    /// Review status.
    pub status: ReviewStatus,
    /// Image or video.
    pub kind: MediaKind,
    /// Its own width and height.
    pub size: [u32; 2],
}

#[derive(Debug, Clone, Default)]
struct AssetEntry {
    live: Option<u32>,
    versions: HashMap<u32, Playable>,
}

/// What a video layer plays: the version fitted to an area, at a rate and speed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VideoKey {
    /// The version, area, fit and position, as for pictures.
    pub scaled: ScaledKey,
    /// The video's own size.
    pub source: [u32; 2],
    /// Frames a second wanted (the canvas's rate).
    pub fps: u32,
    /// Playback rate in thousandths.
    pub speed_milli: u32,
    /// Start again at the end.
    pub looping: bool,
}

/// A picture scaled for one area: `width` x `height` cells, RGB and alpha.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaled {
    /// Cells across.
    pub width: u32,
    /// Cells down.
    pub height: u32,
    /// Colour of each cell, row-major.
    pub rgb: Vec<Px>,
    /// How much of each cell the picture covers (0 outside it).
    pub alpha: Vec<f32>,
}

/// What a scaled picture is made for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScaledKey {
    /// The version's bytes.
    pub sha256: Arc<str>,
    /// The area in cells.
    pub width: u32,
    /// The area in cells.
    pub height: u32,
    /// How it fills the area.
    pub fit: Fit,
    /// Where it sits, in thousandths of the spare room.
    pub position: [u16; 2],
}

impl ScaledKey {
    /// The key for a layer's area of `width` x `height` cells.
    pub fn new(sha256: Arc<str>, width: u32, height: u32, fit: Fit, position: [f64; 2]) -> Self {
        Self {
            sha256,
            width,
            height,
            fit,
            position: position.map(|p| (p.clamp(0.0, 1.0) * 1000.0).round() as u16),
        }
    }
}

#[derive(Debug, Default)]
struct Ready {
    scaled: HashMap<ScaledKey, Arc<Scaled>>,
    order: VecDeque<ScaledKey>,
}

/// The pictures: what may play, and what is ready to.
#[derive(Debug)]
pub struct Pictures {
    assets: RwLock<HashMap<AssetId, AssetEntry>>,
    ready: RwLock<Ready>,
    asked: Mutex<HashSet<ScaledKey>>,
    queue: mpsc::SyncSender<ScaledKey>,
    folders: Folders,
    /// Players of video layers.
    #[cfg(feature = "media")]
    videos: Arc<crate::media::Videos>,
}

impl Pictures {
    /// Pictures read from `folders`, scaled on a thread of their own.
    pub fn start(folders: Folders) -> std::io::Result<Arc<Self>> {
        let (queue, requests) = mpsc::sync_channel(QUEUE);
        let pictures = Arc::new(Self {
            assets: RwLock::default(),
            ready: RwLock::default(),
            asked: Mutex::default(),
            queue,
            #[cfg(feature = "media")]
            videos: crate::media::Videos::start(folders.clone())?,
            folders,
        });
        let weak = Arc::downgrade(&pictures);
        std::thread::Builder::new()
            .name("pictures".into())
            .spawn(move || {
                let mut decoded = Decoded::default();
                while let Ok(key) = requests.recv() {
                    let Some(pictures) = weak.upgrade() else {
                        break;
                    };
                    pictures.make(&key, &mut decoded);
                }
            })?;
        Ok(pictures)
    }

    /// What may play of `asset`: its live version and each version's status
    /// (none: the asset is gone).
    pub fn set_asset(
        &self,
        asset: AssetId,
        live: Option<u32>,
        versions: Option<Vec<(u32, Playable)>>,
    ) {
        let mut assets = self.assets.write().unwrap_or_else(PoisonError::into_inner);
        match versions {
            Some(v) => {
                assets.insert(
                    asset,
                    AssetEntry {
                        live,
                        versions: v.into_iter().collect(),
                    },
                );
            }
            None => {
                assets.remove(&asset);
            }
        }
    }

    /// The version a layer plays: the one it pins if approved (or pending, in a
    /// preview), else the asset's live version (in a preview, its newest version
    /// not rejected).
    pub fn playable(
        &self,
        asset: AssetId,
        pinned: Option<u32>,
        preview: bool,
    ) -> Result<Playable, String> {
        let assets = self.assets.read().unwrap_or_else(PoisonError::into_inner);
        let entry = assets
            .get(&asset)
            .ok_or_else(|| format!("asset {asset} does not exist"))?;
        // A preview shows what review would make live: the newest version not
        // rejected.
        let newest = || {
            entry
                .versions
                .iter()
                .filter(|(_, v)| v.status != ReviewStatus::Rejected)
                .map(|(n, _)| *n)
                .max()
        };
        let number = match pinned {
            Some(v) => v,
            None if preview => {
                newest().ok_or_else(|| format!("every version of asset {asset} was rejected"))?
            }
            None => entry
                .live
                .ok_or_else(|| format!("asset {asset} has no approved version yet"))?,
        };
        let version = entry
            .versions
            .get(&number)
            .ok_or_else(|| format!("asset {asset} has no version {number}"))?;
        match version.status {
            ReviewStatus::Approved => Ok(version.clone()),
            ReviewStatus::Pending if preview => Ok(version.clone()),
            ReviewStatus::Pending => Err(format!(
                "version {number} of asset {asset} is waiting for approval"
            )),
            ReviewStatus::Rejected => {
                Err(format!("version {number} of asset {asset} was rejected"))
            }
        }
    }

    /// The newest frame of the video layer `key` plays, if its player has made
    /// one; the first ask starts the player. Safe on a frame thread. Without the
    /// `media` feature there is none.
    pub fn video_frame(&self, key: &VideoKey) -> Option<Arc<Scaled>> {
        #[cfg(feature = "media")]
        {
            self.videos.frame(key)
        }
        #[cfg(not(feature = "media"))]
        {
            let _ = key;
            None
        }
    }

    /// The picture for `key` if it is ready; if not, it is asked for (without
    /// waiting) and `None` comes back. Safe on a frame thread.
    pub fn scaled(&self, key: &ScaledKey) -> Option<Arc<Scaled>> {
        if let Some(found) = self
            .ready
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .scaled
            .get(key)
        {
            return Some(found.clone());
        }
        let mut asked = self.asked.lock().unwrap_or_else(PoisonError::into_inner);
        if asked.insert(key.clone()) && self.queue.try_send(key.clone()).is_err() {
            // The queue is full: ask again on a later frame.
            asked.remove(key);
        }
        None
    }

    /// Version `sha256` fitted inside `size` x `size` cells (never enlarged),
    /// decoded here and now: for the blocking pool, never a frame thread.
    pub fn thumbnail(&self, sha256: &Arc<str>, size: u32) -> Result<Scaled, String> {
        let source = Decoded::default().get(&self.folders, sha256)?;
        let (w, h) = (source.width().max(1), source.height().max(1));
        let factor = (f64::from(size) / f64::from(w.max(h))).min(1.0);
        let cells = |n: u32| ((f64::from(n) * factor).round() as u32).max(1);
        let key = ScaledKey::new(sha256.clone(), cells(w), cells(h), Fit::Stretch, [0.5, 0.5]);
        Ok(scale(&source, &key))
    }

    fn make(&self, key: &ScaledKey, decoded: &mut Decoded) {
        let made = decoded
            .get(&self.folders, &key.sha256)
            .map(|source| scale(&source, key));
        self.asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
        match made {
            Ok(scaled) => {
                let mut ready = self.ready.write().unwrap_or_else(PoisonError::into_inner);
                if ready.scaled.insert(key.clone(), Arc::new(scaled)).is_none() {
                    ready.order.push_back(key.clone());
                }
                while ready.order.len() > SCALED_KEPT {
                    if let Some(old) = ready.order.pop_front() {
                        ready.scaled.remove(&old);
                    }
                }
            }
            Err(e) => {
                tracing::warn!(sha256 = %key.sha256, error = %e, "a picture cannot be made ready")
            }
        }
    }
}

/// The last few pictures decoded, by hash.
#[derive(Default)]
struct Decoded(VecDeque<(Arc<str>, Arc<image::RgbaImage>)>);

impl Decoded {
    fn get(
        &mut self,
        folders: &Folders,
        sha256: &Arc<str>,
    ) -> Result<Arc<image::RgbaImage>, String> {
        if let Some((_, found)) = self.0.iter().find(|(s, _)| s == sha256) {
            return Ok(found.clone());
        }
        let path = folders.asset(sha256);
        let mut head = Vec::with_capacity(64);
        std::io::Read::read_to_end(
            &mut std::io::Read::take(
                std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?,
                64,
            ),
            &mut head,
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
        let sniffed = sniff(&head).map_err(|e| e.to_string())?;
        let image = Arc::new(decode(&path, sniffed).map_err(|e| e.to_string())?);
        self.0.push_back((sha256.clone(), image.clone()));
        if self.0.len() > DECODED_KEPT {
            self.0.pop_front();
        }
        Ok(image)
    }
}

/// Source pixels per cell, across and down, for a `source` of that many
/// pixels fitted by `fit` into an `area` of that many cells.
pub fn pixels_per_cell([w, h]: [f64; 2], [cw, ch]: [f64; 2], fit: Fit) -> (f64, f64) {
    match fit {
        Fit::Stretch => (w / cw, h / ch),
        Fit::Contain => {
            let s = (w / cw).max(h / ch);
            (s, s)
        }
        Fit::Cover => {
            let s = (w / cw).min(h / ch);
            (s, s)
        }
        Fit::None => (1.0, 1.0),
    }
}

/// `source` fitted into `key`'s area: each cell the average of the source
/// pixels it covers (area filtering when shrinking; the nearest pixel when
/// enlarging, so an LED shows it crisp), weighted by their alpha.
pub fn scale(source: &image::RgbaImage, key: &ScaledKey) -> Scaled {
    let (w, h) = (
        f64::from(source.width().max(1)),
        f64::from(source.height().max(1)),
    );
    let (cw, ch) = (f64::from(key.width.max(1)), f64::from(key.height.max(1)));
    let (sx, sy) = pixels_per_cell([w, h], [cw, ch], key.fit);
    // Where the picture's top left corner falls, in cells.
    let (pw, ph) = (w / sx, h / sy);
    let ox = (cw - pw) * f64::from(key.position[0]) / 1000.0;
    let oy = (ch - ph) * f64::from(key.position[1]) / 1000.0;
    let cells = (key.width as usize) * (key.height as usize);
    let mut rgb = vec![[0.0; 3]; cells];
    let mut alpha = vec![0.0; cells];
    for cy in 0..key.height {
        let y0 = (f64::from(cy) - oy) * sy;
        let y1 = y0 + sy;
        for cx in 0..key.width {
            let x0 = (f64::from(cx) - ox) * sx;
            let x1 = x0 + sx;
            let i = cy as usize * key.width as usize + cx as usize;
            let (mut sum, mut weight) = ([0.0f64; 3], 0.0f64);
            let (ys, ye) = (y0.floor().max(0.0) as u32, (y1.ceil().min(h) as u32).max(1));
            let (xs, xe) = (x0.floor().max(0.0) as u32, (x1.ceil().min(w) as u32).max(1));
            for y in ys..ye.min(source.height()) {
                let fy = (f64::from(y + 1).min(y1) - f64::from(y).max(y0)).max(0.0);
                for x in xs..xe.min(source.width()) {
                    let fx = (f64::from(x + 1).min(x1) - f64::from(x).max(x0)).max(0.0);
                    let f = fx * fy;
                    if f <= 0.0 {
                        continue;
                    }
                    let p = source.get_pixel(x, y).0;
                    let a = f64::from(p[3]) / 255.0;
                    for c in 0..3 {
                        sum[c] += f64::from(p[c]) / 255.0 * a * f;
                    }
                    weight += a * f;
                }
            }
            if weight > 0.0 {
                rgb[i] = sum.map(|s| (s / weight) as f32);
                alpha[i] = (weight / (sx * sy)).min(1.0) as f32;
            }
        }
    }
    Scaled {
        width: key.width,
        height: key.height,
        rgb,
        alpha,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(w: u32, h: u32) -> image::RgbaImage {
        image::RgbaImage::from_fn(w, h, |x, y| {
            image::Rgba([(x * 30) as u8, (y * 60) as u8, 7, 255])
        })
    }

    fn key(w: u32, h: u32, fit: Fit) -> ScaledKey {
        ScaledKey::new(Arc::from("x"), w, h, fit, [0.5, 0.5])
    }

    #[test]
    fn the_same_size_is_copied_exactly() {
        let source = picture(8, 4);
        let scaled = scale(&source, &key(8, 4, Fit::Stretch));
        for (i, px) in scaled.rgb.iter().enumerate() {
            let p = source.get_pixel(i as u32 % 8, i as u32 / 8).0;
            assert_eq!(px.map(|c| (c * 255.0).round() as u8), [p[0], p[1], p[2]]);
            assert_eq!(scaled.alpha[i], 1.0);
        }
    }

    #[test]
    fn shrinking_averages_the_pixels_a_cell_covers() {
        let source = image::RgbaImage::from_fn(4, 2, |x, _| {
            if x % 2 == 0 {
                image::Rgba([255, 0, 0, 255])
            } else {
                image::Rgba([0, 0, 255, 255])
            }
        });
        let scaled = scale(&source, &key(2, 1, Fit::Stretch));
        for px in &scaled.rgb {
            assert!(
                (px[0] - 0.5).abs() < 1e-6 && (px[2] - 0.5).abs() < 1e-6,
                "{px:?}"
            );
        }
    }

    #[test]
    fn contain_leaves_the_spare_room_clear_and_cover_fills_it() {
        // A square picture on a 4 x 2 area: contained it takes the middle 2 x 2.
        let source = picture(2, 2);
        let contained = scale(&source, &key(4, 2, Fit::Contain));
        assert_eq!(contained.alpha, [0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0]);
        let covered = scale(&source, &key(4, 2, Fit::Cover));
        assert!(covered.alpha.iter().all(|a| *a == 1.0));
        let unscaled = scale(
            &picture(1, 1),
            &ScaledKey::new(Arc::from("x"), 3, 3, Fit::None, [0.0, 0.0]),
        );
        assert_eq!(unscaled.alpha.iter().filter(|a| **a > 0.0).count(), 1);
        assert_eq!(unscaled.alpha[0], 1.0);
    }
}
