//! The board of named input values: input actors write them, canvases read them at
//! the start of each frame. A value is a few atomics, so neither side ever waits
//! for the other; the map of names takes a lock only when inputs are added or
//! removed, and a canvas keeps its own copy of the names it reads, refreshed when
//! the board's generation moves.

use limelight_shared::input::{InputName, MqttBinding};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

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
            available: AtomicBool::new(true),
            expire_after: binding
                .expire_after_ms
                .map(|ms| Duration::from_millis(ms.into())),
            fallback: binding.fallback(),
        }
    }

    /// Take a value at clock time `now`.
    pub fn set(&self, value: f64, raw: f64, now: Duration) {
        self.value.store(value.to_bits(), Ordering::Relaxed);
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
}

/// Every named value of every input.
#[derive(Debug, Default)]
pub struct InputBoard {
    slots: RwLock<HashMap<InputName, Arc<Slot>>>,
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
            now: Duration::ZERO,
        }
    }

    /// Start a frame at clock time `now`: every value read until the next call is
    /// read as of `now`.
    pub fn start_frame(&mut self, now: Duration) {
        self.now = now;
        let generation = self.board.generation();
        if generation != self.seen {
            self.seen = generation;
            self.known.clear();
        }
    }

    /// The value of `name` (0..1): latest, or its fallback while stale; 0 for a
    /// name no input has.
    pub fn value(&mut self, name: &InputName) -> f64 {
        let slot = match self.known.get(name) {
            Some(slot) => slot,
            None => {
                let slot = self.board.get(name);
                self.known.entry(name.clone()).or_insert(slot)
            }
        };
        slot.as_ref().map_or(0.0, |s| s.read(self.now).0)
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
