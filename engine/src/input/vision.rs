//! What a camera sees, in plain Rust: a grey frame thresholded into spots
//! (8-connected components), and the spots tracked from frame to frame as blobs
//! with ids that persist. A new blob counts (and enters) once it has been seen in
//! `min_seen` frames; a counted blob leaves once it has gone unseen for more than
//! `max_missing`, so neither a flicker nor a moment's occlusion changes ids.
//! [`Analysis`] does it all for one camera: rows copied from a frame, spots,
//! blobs, and where they land on the pixel map.

use super::board::{Blob, Entry, Sighting};
use super::health::Status;
use limelight_shared::input::{BlobState, CameraInput, Projection};
use std::collections::VecDeque;
use std::time::Duration;

/// One connected patch of foreground pixels in a frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spot {
    /// Centre across, in pixels (the frame spans 0..width).
    pub x: f64,
    /// Centre down, in pixels.
    pub y: f64,
    /// Pixels it covers.
    pub area: u32,
}

/// The spots of a `width` x `height` grey frame (rows of `width` bytes): pixels
/// at or above `threshold` (below it when `dark`), patches of at least
/// `min_area` pixels, the `most` largest first. `marks` is scratch kept between
/// frames.
pub fn spots(
    frame: &[u8],
    [width, height]: [usize; 2],
    threshold: u8,
    dark: bool,
    min_area: u32,
    most: usize,
    marks: &mut Vec<bool>,
) -> Vec<Spot> {
    let n = width * height;
    let frame = frame.get(..n).unwrap_or(frame);
    marks.clear();
    marks.extend(frame.iter().map(|&v| (v >= threshold) != dark));
    marks.resize(n, false);
    let mut found = Vec::new();
    let mut stack = Vec::new();
    for start in 0..n {
        if !marks[start] {
            continue;
        }
        // Flood the patch from `start`, clearing each pixel as it is counted.
        marks[start] = false;
        stack.push(start);
        let (mut area, mut sx, mut sy) = (0u32, 0.0f64, 0.0f64);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % width, i / width);
            area += 1;
            sx += x as f64;
            sy += y as f64;
            for dy in [-1isize, 0, 1] {
                for dx in [-1isize, 0, 1] {
                    let (nx, ny) = (x as isize + dx, y as isize + dy);
                    if nx < 0 || ny < 0 || nx >= width as isize || ny >= height as isize {
                        continue;
                    }
                    let j = ny as usize * width + nx as usize;
                    if marks[j] {
                        marks[j] = false;
                        stack.push(j);
                    }
                }
            }
        }
        if area >= min_area {
            let a = f64::from(area);
            // A pixel's centre is half a pixel in from its top left corner.
            found.push(Spot {
                x: sx / a + 0.5,
                y: sy / a + 0.5,
                area,
            });
        }
    }
    found.sort_by_key(|s| std::cmp::Reverse(s.area));
    found.truncate(most);
    found
}

/// A blob followed from frame to frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// Its id once it counts (0 before).
    pub id: u64,
    /// Where it was last seen.
    pub spot: Spot,
    /// Frames it was seen in.
    pub seen: u32,
    /// Frames since it was last seen.
    pub missing: u32,
    /// Frames since it was first seen.
    pub frames: u64,
}

impl Track {
    /// Whether it has been seen often enough to count.
    pub fn counted(&self) -> bool {
        self.id != 0
    }
}

/// What happened to a blob in a frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BlobEvent {
    /// Counted for the first time, here.
    Entered(u64, Spot),
    /// A counted blob moved.
    Moved(u64),
    /// A counted blob went and stayed gone.
    Left(u64),
}

/// Blobs tracked across frames.
#[derive(Debug, Clone)]
pub struct Tracker {
    tracks: Vec<Track>,
    next_id: u64,
    min_seen: u32,
    max_missing: u32,
    max_distance: f64,
}

impl Tracker {
    /// A tracker that counts a blob after `min_seen` frames, lets it go after
    /// more than `max_missing` unseen, and matches spots at most `max_distance`
    /// pixels from where a blob was.
    pub fn new(min_seen: u32, max_missing: u32, max_distance: f64) -> Self {
        Self {
            tracks: Vec::new(),
            next_id: 1,
            min_seen: min_seen.max(1),
            max_missing,
            max_distance,
        }
    }

    /// Give ids from `next` on (a camera started again keeps counting).
    pub fn ids_from(mut self, next: u64) -> Self {
        self.next_id = next.max(1);
        self
    }

    /// The id the next counted blob gets.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// The counted blobs, the largest first.
    pub fn counted(&self) -> impl Iterator<Item = &Track> {
        self.tracks.iter().filter(|t| t.counted())
    }

    /// Let every blob go (the source stopped): the counted ones leave.
    pub fn forget(&mut self) -> Vec<BlobEvent> {
        self.tracks
            .drain(..)
            .filter(|t| t.counted())
            .map(|t| BlobEvent::Left(t.id))
            .collect()
    }

    /// Take one frame's spots; what happened, in order.
    pub fn update(&mut self, spots: &[Spot]) -> Vec<BlobEvent> {
        // Every close enough pair of track and spot, nearest first, taken
        // greedily: each track and each spot once.
        let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
        for (t, track) in self.tracks.iter().enumerate() {
            for (s, spot) in spots.iter().enumerate() {
                let d = (track.spot.x - spot.x).hypot(track.spot.y - spot.y);
                if d <= self.max_distance {
                    pairs.push((d, t, s));
                }
            }
        }
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut matched_track = vec![None; self.tracks.len()];
        let mut spot_taken = vec![false; spots.len()];
        for (d, t, s) in pairs {
            if matched_track[t].is_none() && !spot_taken[s] {
                matched_track[t] = Some((s, d));
                spot_taken[s] = true;
            }
        }
        let mut events = Vec::new();
        for (track, matched) in self.tracks.iter_mut().zip(&matched_track) {
            track.frames += 1;
            match matched {
                Some((s, d)) => {
                    track.spot = spots[*s];
                    track.seen = track.seen.saturating_add(1);
                    track.missing = 0;
                    if !track.counted() && track.seen >= self.min_seen {
                        track.id = self.next_id;
                        self.next_id += 1;
                        events.push(BlobEvent::Entered(track.id, track.spot));
                    } else if track.counted() && *d > 0.0 {
                        events.push(BlobEvent::Moved(track.id));
                    }
                }
                None => track.missing = track.missing.saturating_add(1),
            }
        }
        // Gone for good: a counted blob after `max_missing` frames, one not yet
        // counted at once (it was a flicker).
        let max_missing = self.max_missing;
        self.tracks.retain(|t| {
            let keep = t.missing == 0 || (t.counted() && t.missing <= max_missing);
            if !keep && t.counted() {
                events.push(BlobEvent::Left(t.id));
            }
            keep
        });
        for (s, spot) in spots.iter().enumerate() {
            if spot_taken[s] {
                continue;
            }
            let mut track = Track {
                id: 0,
                spot: *spot,
                seen: 1,
                missing: 0,
                frames: 1,
            };
            if self.min_seen <= 1 {
                track.id = self.next_id;
                self.next_id += 1;
                events.push(BlobEvent::Entered(track.id, track.spot));
            }
            self.tracks.push(track);
        }
        self.tracks.sort_by_key(|t| std::cmp::Reverse(t.spot.area));
        events
    }
}

/// Most recent entries a camera keeps for ripple layers.
pub const ENTRIES_KEPT: usize = 32;

/// One camera's analysis from frame to frame: the tracker, where blobs land, and
/// buffers kept between frames.
pub struct Analysis {
    size: [usize; 2],
    threshold: u8,
    dark: bool,
    min_area: u32,
    most: usize,
    tracker: Tracker,
    projection: Projection,
    entries: VecDeque<Entry>,
    grey: Vec<u8>,
    marks: Vec<bool>,
    frames: u64,
}

impl Analysis {
    /// The analysis `spec` asks for, its blob ids from `first_id` on.
    pub fn new(spec: &CameraInput, first_id: u64) -> Self {
        Self {
            size: [spec.width as usize, spec.height as usize],
            threshold: spec.threshold,
            dark: spec.dark,
            min_area: spec.min_area,
            most: spec.max_blobs as usize,
            tracker: Tracker::new(spec.min_seen, spec.max_missing, spec.max_distance())
                .ids_from(first_id),
            projection: spec.projection(),
            entries: VecDeque::with_capacity(ENTRIES_KEPT),
            grey: Vec::new(),
            marks: Vec::new(),
            frames: 0,
        }
    }

    /// The analysis size, `[width, height]`.
    pub fn size(&self) -> [usize; 2] {
        self.size
    }

    /// The id the next counted blob gets.
    pub fn next_id(&self) -> u64 {
        self.tracker.next_id()
    }

    /// Frames analysed so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Where a point of the frame (in analysis pixels) lands on the pixel map.
    fn mapped(&self, x: f64, y: f64) -> [f64; 2] {
        let [w, h] = self.size.map(|n| n.max(1) as f64);
        self.projection.map([x / w, y / h])
    }

    /// Analyse a frame of `rows` rows of `stride` bytes each (each row's first
    /// `width` bytes are its pixels), numbered `frame` by the source and arrived
    /// at clock time `at`; the sighting for the board, and the state's blobs and
    /// events.
    pub fn take(
        &mut self,
        buffer: &[u8],
        stride: usize,
        frame: u64,
        at: Duration,
    ) -> (Sighting, Vec<BlobState>, Vec<BlobEvent>) {
        let [w, h] = self.size;
        self.grey.clear();
        for y in 0..h {
            match buffer.get(y * stride..y * stride + w) {
                Some(row) => self.grey.extend_from_slice(row),
                None => self.grey.resize(self.grey.len() + w, 0),
            }
        }
        self.frames += 1;
        let found = spots(
            &self.grey,
            self.size,
            self.threshold,
            self.dark,
            self.min_area,
            self.most,
            &mut self.marks,
        );
        let events = self.tracker.update(&found);
        for e in &events {
            if let BlobEvent::Entered(_, Spot { x, y, .. }) = e {
                if self.entries.len() == ENTRIES_KEPT {
                    self.entries.pop_front();
                }
                self.entries.push_back(Entry {
                    at,
                    place: self.mapped(*x, *y),
                });
            }
        }
        let width = w.max(1) as f64;
        let mut blobs = Vec::new();
        let mut states = Vec::new();
        for t in self.tracker.counted() {
            let mapped = self.mapped(t.spot.x, t.spot.y);
            // Across: the diameter of a disc of the blob's area.
            let across = 2.0 * (f64::from(t.spot.area) / std::f64::consts::PI).sqrt();
            blobs.push(Blob {
                id: t.id,
                at: mapped,
                size: across / width,
            });
            states.push(BlobState {
                id: t.id,
                x: t.spot.x,
                y: t.spot.y,
                area: t.spot.area,
                mapped,
                frames: t.frames,
            });
        }
        let sighting = Sighting {
            frame,
            at,
            blobs,
            entries: self.entries.iter().copied().collect(),
        };
        (sighting, states, events)
    }

    /// The source stopped: every counted blob leaves.
    pub fn lose_all(&mut self) -> Vec<BlobEvent> {
        self.tracker.forget()
    }
}

impl Status {
    /// Count a frame's blob events into the input's state.
    pub fn count_blobs(&mut self, events: &[BlobEvent]) {
        for e in events {
            match e {
                BlobEvent::Entered(..) => self.blob_events.entered += 1,
                BlobEvent::Moved(_) => self.blob_events.moved += 1,
                BlobEvent::Left(_) => self.blob_events.left += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w` x `h` frame with filled discs at `discs` (`[x, y, r]`).
    fn frame(w: usize, h: usize, discs: &[[f64; 3]]) -> Vec<u8> {
        let mut f = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
                if discs
                    .iter()
                    .any(|[cx, cy, r]| (px - cx).hypot(py - cy) <= *r)
                {
                    f[y * w + x] = 255;
                }
            }
        }
        f
    }

    #[test]
    fn spots_are_found_at_their_centres_largest_first_and_specks_are_dropped() {
        let f = frame(
            64,
            48,
            &[[10.0, 10.0, 3.0], [40.5, 30.25, 8.0], [60.0, 5.0, 0.6]],
        );
        let mut marks = Vec::new();
        let found = spots(&f, [64, 48], 128, false, 4, 8, &mut marks);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].area > found[1].area);
        assert!((found[0].x - 40.5).abs() < 0.3 && (found[0].y - 30.25).abs() < 0.3);
        assert!((found[1].x - 10.0).abs() < 0.3 && (found[1].y - 10.0).abs() < 0.3);
        let dark = spots(&f, [64, 48], 128, true, 4, 8, &mut marks);
        assert_eq!(dark.len(), 1, "the background is one dark patch");
        let one = spots(&f, [64, 48], 128, false, 4, 1, &mut marks);
        assert_eq!(one.len(), 1);
    }

    fn spot(x: f64, y: f64) -> Spot {
        Spot { x, y, area: 10 }
    }

    #[test]
    fn ids_persist_while_blobs_move_and_flickers_make_none() {
        let mut t = Tracker::new(2, 2, 10.0);
        assert!(t.update(&[spot(10.0, 10.0)]).is_empty(), "not counted yet");
        assert_eq!(
            t.update(&[spot(12.0, 10.0)]),
            [BlobEvent::Entered(1, spot(12.0, 10.0))]
        );
        // A flicker: seen once, gone the next frame; no id spent on it.
        assert_eq!(
            t.update(&[spot(14.0, 10.0), spot(50.0, 50.0)]),
            [BlobEvent::Moved(1)]
        );
        assert_eq!(t.update(&[spot(16.0, 10.0)]), [BlobEvent::Moved(1)]);
        // Unseen for two frames: still blob 1 when it comes back.
        assert!(t.update(&[]).is_empty());
        assert!(t.update(&[]).is_empty());
        assert_eq!(t.update(&[spot(18.0, 10.0)]), [BlobEvent::Moved(1)]);
        assert_eq!(t.counted().map(|b| b.id).collect::<Vec<_>>(), [1]);
        // Unseen for three: it leaves.
        for _ in 0..2 {
            assert!(t.update(&[]).is_empty());
        }
        assert_eq!(t.update(&[]), [BlobEvent::Left(1)]);
        // A new blob far away gets the next id.
        t.update(&[spot(80.0, 80.0)]);
        assert_eq!(
            t.update(&[spot(80.0, 80.0)]),
            [BlobEvent::Entered(2, spot(80.0, 80.0))]
        );
    }

    #[test]
    fn two_blobs_that_pass_near_each_other_keep_their_ids() {
        let mut t = Tracker::new(1, 0, 6.0);
        t.update(&[spot(0.0, 0.0), spot(20.0, 0.0)]);
        for step in 1..=10 {
            let s = f64::from(step) * 2.0;
            t.update(&[spot(s, 0.0), spot(20.0 - s, 1.0)]);
        }
        let at: Vec<(u64, f64)> = t.counted().map(|b| (b.id, b.spot.x)).collect();
        assert!(at.contains(&(1, 20.0)) && at.contains(&(2, 0.0)), "{at:?}");
    }

    #[test]
    fn an_analysis_reads_rows_by_stride_and_maps_blobs_onto_the_pixel_map() {
        let spec: CameraInput = match serde_json::from_str(
            r#"{"name": "c", "source": "v", "width": 20, "height": 10, "min_seen": 1,
                "mapping": {"rect": {"x": 0.5, "y": 0, "width": 0.5, "height": 1}}}"#,
        ) {
            Ok(s) => s,
            Err(e) => unreachable!("test camera: {e}"),
        };
        let mut analysis = Analysis::new(&spec, 1);
        // Rows of 24 bytes for 20 pixels: the padding is lit and must not count.
        let mut buffer = vec![0u8; 24 * 10];
        for y in 0..10 {
            buffer[y * 24 + 20..y * 24 + 24].fill(255);
        }
        for y in 2..6 {
            buffer[y * 24 + 8..y * 24 + 12].fill(255);
        }
        let (sighting, blobs, events) = analysis.take(&buffer, 24, 7, Duration::from_secs(1));
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(blobs.len(), 1, "{blobs:?}");
        assert_eq!((blobs[0].x, blobs[0].y, blobs[0].area), (10.0, 4.0, 16));
        let [mx, my] = blobs[0].mapped;
        assert!(
            (mx - 0.75).abs() < 1e-9 && (my - 0.4).abs() < 1e-9,
            "{:?}",
            blobs[0].mapped
        );
        assert_eq!((sighting.frame, sighting.entries.len()), (7, 1));
        assert_eq!(sighting.blobs[0].at, blobs[0].mapped);
    }
}
