//! The board of named input values: input actors write them, canvases read them at
//! the start of each frame. A value is a few atomics, so neither side ever waits
//! for the other; a camera's newest sighting is swapped in whole behind a lock
//! held only for that swap. The map of names takes a lock only when inputs are
//! added or removed, and a canvas keeps its own copy of the names it reads,
//! refreshed when the board's generation moves.

use limelight_shared::input::{InputName, MqttBinding};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

/// A value at or above this is "on": a touch, for the rings of a ripple layer.
pub const TOUCHED: f64 = 0.5;

/// One named value: what its binding last produced and when, and what stands in
/// while it is stale.
#[derive(Debug)]
pub struct Slot {
    /// The value (0..1) as `f64` bits.
    value: AtomicU64,
    /// The last number received (before the range) as `f64` bits.
    raw: AtomicU64,
    /// Clock time of the last accepted message in microseconds, plus one (0: none yet).
    at_us: AtomicU64,
    /// Messages accepted.
    messages: AtomicU64,
    /// Clock time in microseconds, plus one, when the value last rose to
    /// [`TOUCHED`] from below (0: never).
    touched_us: AtomicU64,
    /// False while the input's availability topic says offline.
    available: AtomicBool,
    /// Stale this long after the last message (none: never).
    expire_after: Option<Duration>,
    /// The value while stale.
    fallback: f64,
}

impl Slot {
    /// A slot for `binding`, stale until its first message.
    pub fn new(binding: &MqttBinding) -> Self {
        Self {
            value: AtomicU64::new(binding.fallback().to_bits()),
            raw: AtomicU64::new(f64::NAN.to_bits()),
            at_us: AtomicU64::new(0),
            messages: AtomicU64::new(0),
            touched_us: AtomicU64::new(0),
            available: AtomicBool::new(true),
            expire_after: binding
                .expire_after_ms
                .map(|ms| Duration::from_millis(ms.into())),
            fallback: binding.fallback(),
        }
    }

    /// Take a value at clock time `now`.
    pub fn set(&self, value: f64, raw: f64, now: Duration) {
        let before = f64::from_bits(self.value.swap(value.to_bits(), Ordering::Relaxed));
        if before < TOUCHED && value >= TOUCHED {
            self.touched_us
                .store(now.as_micros() as u64 + 1, Ordering::Relaxed);
        }
        self.raw.store(raw.to_bits(), Ordering::Relaxed);
        self.messages.fetch_add(1, Ordering::Relaxed);
        // Release: a reader that sees the new time sees the value stored before it.
        self.at_us
            .store(now.as_micros() as u64 + 1, Ordering::Release);
    }

    /// Count a message that left the value as it was (inside the deadband): the
    /// sensor spoke, so the value is fresh again.
    pub fn touch(&self, raw: f64, now: Duration) {
        self.raw.store(raw.to_bits(), Ordering::Relaxed);
        self.messages.fetch_add(1, Ordering::Relaxed);
        self.at_us
            .store(now.as_micros() as u64 + 1, Ordering::Release);
    }

    /// Whether the sensors are there (the availability topic's word).
    pub fn set_available(&self, available: bool) {
        self.available.store(available, Ordering::Relaxed);
    }

    /// Time since the last accepted message, if any.
    pub fn age(&self, now: Duration) -> Option<Duration> {
        match self.at_us.load(Ordering::Acquire) {
            0 => None,
            at => Some(now.saturating_sub(Duration::from_micros(at - 1))),
        }
    }

    /// The last value produced, fresh or not.
    pub fn last(&self) -> f64 {
        f64::from_bits(self.value.load(Ordering::Relaxed))
    }

    /// What a layer reads at clock time `now`, and whether the fallback stands in.
    pub fn read(&self, now: Duration) -> (f64, bool) {
        let fresh = self.available.load(Ordering::Relaxed)
            && match (self.age(now), self.expire_after) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(age), Some(limit)) => age <= limit,
            };
        if fresh {
            (self.last(), false)
        } else {
            (self.fallback, true)
        }
    }

    /// The last number received, if any.
    pub fn raw(&self) -> Option<f64> {
        Some(f64::from_bits(self.raw.load(Ordering::Relaxed))).filter(|v| !v.is_nan())
    }

    /// Messages accepted.
    pub fn messages(&self) -> u64 {
        self.messages.load(Ordering::Relaxed)
    }

    /// When the value last rose to [`TOUCHED`] from below, if it has.
    pub fn touched(&self) -> Option<Duration> {
        match self.touched_us.load(Ordering::Relaxed) {
            0 => None,
            at => Some(Duration::from_micros(at - 1)),
        }
    }
}

/// A blob as layers see it: where it is on the pixel map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Blob {
    /// Its id.
    pub id: u64,
    /// Its centre in lengths of the pixel map's box.
    pub at: [f64; 2],
    /// Its size across, in lengths of the map's box.
    pub size: f64,
}

/// A blob that entered, for the rings of a ripple layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    /// Clock time of the frame it entered in.
    pub at: Duration,
    /// Where, in lengths of the pixel map's box.
    pub place: [f64; 2],
}

/// What a camera saw in its newest frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sighting {
    /// The source's frame number.
    pub frame: u64,
    /// Clock time the frame arrived.
    pub at: Duration,
    /// Its counted blobs, the largest first.
    pub blobs: Vec<Blob>,
    /// The latest entries, oldest first.
    pub entries: Vec<Entry>,
}

/// A camera's newest sighting.
#[derive(Debug, Default)]
pub struct CameraSlot {
    newest: Mutex<Arc<Sighting>>,
}

impl CameraSlot {
    /// Put `sighting` in place of the last.
    pub fn show(&self, sighting: Sighting) {
        *self.newest.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(sighting);
    }

    /// The newest sighting.
    pub fn newest(&self) -> Arc<Sighting> {
        self.newest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Every named value of every input.
#[derive(Debug, Default)]
pub struct InputBoard {
    slots: RwLock<HashMap<InputName, Arc<Slot>>>,
    cameras: RwLock<HashMap<InputName, Arc<CameraSlot>>>,
    /// Moves whenever names come or go.
    generation: AtomicU64,
}

impl InputBoard {
    /// Put `slot` under `name`, replacing what was there.
    pub fn insert(&self, name: InputName, slot: Arc<Slot>) {
        if let Ok(mut slots) = self.slots.write() {
            slots.insert(name, slot);
        }
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Take `name` off the board.
    pub fn remove(&self, name: &InputName) {
        if let Ok(mut slots) = self.slots.write() {
            slots.remove(name);
        }
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// The slot under `name`, if any.
    pub fn get(&self, name: &InputName) -> Option<Arc<Slot>> {
        self.slots.read().ok()?.get(name).cloned()
    }

    /// Put camera `name`'s slot on the board, replacing what was there.
    pub fn insert_camera(&self, name: InputName, slot: Arc<CameraSlot>) {
        if let Ok(mut cameras) = self.cameras.write() {
            cameras.insert(name, slot);
        }
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Take camera `name` off the board.
    pub fn remove_camera(&self, name: &InputName) {
        if let Ok(mut cameras) = self.cameras.write() {
            cameras.remove(name);
        }
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Camera `name`'s slot, if any.
    pub fn camera(&self, name: &InputName) -> Option<Arc<CameraSlot>> {
        self.cameras.read().ok()?.get(name).cloned()
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

/// A canvas's view of the board: the slots it has read, by name, kept until the
/// board's names change.
#[derive(Debug, Clone)]
pub struct InputReader {
    board: Arc<InputBoard>,
    seen: u64,
    known: HashMap<InputName, Option<Arc<Slot>>>,
    cameras: HashMap<InputName, Option<Arc<CameraSlot>>>,
    /// Each camera's sighting as of this frame.
    sighted: HashMap<InputName, Arc<Sighting>>,
    /// Clock time of the frame being drawn.
    now: Duration,
}

impl InputReader {
    /// A reader of `board`.
    pub fn new(board: Arc<InputBoard>) -> Self {
        Self {
            seen: board.generation(),
            board,
            known: HashMap::new(),
            cameras: HashMap::new(),
            sighted: HashMap::new(),
            now: Duration::ZERO,
        }
    }

    /// Start a frame at clock time `now`: every value read until the next call is
    /// read as of `now`.
    pub fn start_frame(&mut self, now: Duration) {
        self.now = now;
        self.sighted.clear();
        let generation = self.board.generation();
        if generation != self.seen {
            self.seen = generation;
            self.known.clear();
            self.cameras.clear();
        }
    }

    /// Clock time of the frame being drawn.
    pub fn now(&self) -> Duration {
        self.now
    }

    fn slot(&mut self, name: &InputName) -> Option<&Arc<Slot>> {
        if !self.known.contains_key(name) {
            let slot = self.board.get(name);
            self.known.insert(name.clone(), slot);
        }
        self.known.get(name).and_then(Option::as_ref)
    }

    /// The value of `name` (0..1): latest, or its fallback while stale; 0 for a
    /// name no input has.
    pub fn value(&mut self, name: &InputName) -> f64 {
        let now = self.now;
        self.slot(name).map_or(0.0, |s| s.read(now).0)
    }

    /// When value `name` last rose to [`TOUCHED`], if it has and is fresh.
    pub fn touched(&mut self, name: &InputName) -> Option<Duration> {
        let now = self.now;
        self.slot(name)
            .filter(|s| !s.read(now).1)
            .and_then(|s| s.touched())
    }

    /// What camera `name` saw in its newest frame, the same for every layer of
    /// this frame; `None` for a name no camera has.
    pub fn sighting(&mut self, name: &InputName) -> Option<Arc<Sighting>> {
        if let Some(s) = self.sighted.get(name) {
            return Some(s.clone());
        }
        if !self.cameras.contains_key(name) {
            let slot = self.board.camera(name);
            self.cameras.insert(name.clone(), slot);
        }
        let sighting = self.cameras.get(name)?.as_ref()?.newest();
        self.sighted.insert(name.clone(), sighting.clone());
        Some(sighting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(json: &str) -> MqttBinding {
        match serde_json::from_str(json) {
            Ok(b) => b,
            Err(e) => unreachable!("test binding: {e}"),
        }
    }

    fn name(s: &str) -> InputName {
        match InputName::try_from(s.to_owned()) {
            Ok(n) => n,
            Err(e) => unreachable!("test name: {e}"),
        }
    }

    #[test]
    fn a_value_is_fresh_until_it_expires_then_the_fallback_stands_in() {
        let slot = Slot::new(&binding(
            r#"{"name": "a", "topic": "t", "expire_after_ms": 1500, "fallback": 0.25}"#,
        ));
        let s = Duration::from_secs;
        assert_eq!(slot.read(s(0)), (0.25, true), "no message yet");
        slot.set(0.8, 80.0, s(10));
        assert_eq!(slot.read(s(11)), (0.8, false));
        assert_eq!(slot.read(Duration::from_millis(11_500)), (0.8, false));
        assert_eq!(slot.read(Duration::from_millis(11_501)), (0.25, true));
        slot.touch(80.0, s(12));
        assert_eq!(
            slot.read(s(12)),
            (0.8, false),
            "a message in the deadband refreshes"
        );
        slot.set_available(false);
        assert_eq!(slot.read(s(12)), (0.25, true), "offline gives the fallback");
    }

    #[test]
    fn a_reader_sees_names_that_come_and_go() {
        let board = Arc::new(InputBoard::default());
        let mut reader = InputReader::new(board.clone());
        reader.start_frame(Duration::from_secs(1));
        assert_eq!(reader.value(&name("a")), 0.0, "unknown reads 0");
        let slot = Arc::new(Slot::new(&binding(r#"{"name": "a", "topic": "t"}"#)));
        slot.set(0.5, 0.5, Duration::from_secs(1));
        board.insert(name("a"), slot);
        reader.start_frame(Duration::from_secs(2));
        assert_eq!(reader.value(&name("a")), 0.5);
        board.remove(&name("a"));
        reader.start_frame(Duration::from_secs(3));
        assert_eq!(reader.value(&name("a")), 0.0);
    }
}
