//! One binding's pipeline, in plain Rust: payload -> number (by JSON pointer) ->
//! input range to 0..1 (clamped) -> smoothing -> deadband -> the board's slot.

use super::board::Slot;
use limelight_shared::input::MqttBinding;
use std::sync::Arc;
use std::time::Duration;

/// Why a payload gave no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not JSON, where the binding has a pointer.
    BadJson,
    /// No number (at the pointer, or as the whole payload).
    NoNumber,
    /// NaN or an infinity.
    NotFinite,
}

/// A binding and the state its smoothing and deadband keep.
#[derive(Debug)]
pub struct Pipeline {
    binding: MqttBinding,
    slot: Arc<Slot>,
    /// The filter's output and when it was last fed.
    filtered: Option<(f64, Duration)>,
    /// The value last written to the slot.
    emitted: Option<f64>,
}

impl Pipeline {
    /// A pipeline writing `binding`'s values to `slot`.
    pub fn new(binding: MqttBinding, slot: Arc<Slot>) -> Self {
        Self {
            binding,
            slot,
            filtered: None,
            emitted: None,
        }
    }

    /// The slot it writes.
    pub fn slot(&self) -> &Arc<Slot> {
        &self.slot
    }

    /// Take a message's payload at clock time `now`.
    pub fn take(&mut self, payload: &[u8], now: Duration) -> Result<(), Refusal> {
        let raw = self.number(payload)?;
        let [lo, hi] = self.binding.range();
        // Equal ends are a threshold.
        let x = if lo == hi {
            if raw >= lo { 1.0 } else { 0.0 }
        } else {
            ((raw - lo) / (hi - lo)).clamp(0.0, 1.0)
        };
        let y = match (self.filtered, self.binding.smoothing_ms) {
            (Some((prev, at)), Some(ms)) if ms > 0 => {
                let dt = now.saturating_sub(at).as_secs_f64();
                let alpha = 1.0 - (-dt / (f64::from(ms) / 1000.0)).exp();
                prev + (x - prev) * alpha
            }
            _ => x,
        };
        self.filtered = Some((y, now));
        let deadband = self.binding.deadband.unwrap_or(0.0);
        match self.emitted {
            Some(last) if (y - last).abs() < deadband => self.slot.touch(raw, now),
            _ => {
                self.emitted = Some(y);
                self.slot.set(y, raw, now);
            }
        }
        Ok(())
    }

    fn number(&self, payload: &[u8]) -> Result<f64, Refusal> {
        let n = match &self.binding.pointer {
            Some(pointer) => {
                let doc: serde_json::Value =
                    serde_json::from_slice(payload).map_err(|_| Refusal::BadJson)?;
                doc.pointer(pointer)
                    .and_then(serde_json::Value::as_f64)
                    .ok_or(Refusal::NoNumber)?
            }
            None => std::str::from_utf8(payload)
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .ok_or(Refusal::NoNumber)?,
        };
        if n.is_finite() {
            Ok(n)
        } else {
            Err(Refusal::NotFinite)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipeline(json: &str) -> Pipeline {
        let binding: MqttBinding = match serde_json::from_str(json) {
            Ok(b) => b,
            Err(e) => unreachable!("test binding: {e}"),
        };
        let slot = Arc::new(Slot::new(&binding));
        Pipeline::new(binding, slot)
    }

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn a_pointer_picks_the_number_and_the_range_maps_it_clamped() {
        let mut p =
            pipeline(r#"{"name": "a", "topic": "t", "pointer": "/level", "range": [0, 100]}"#);
        assert_eq!(p.take(br#"{"level": 25}"#, MS(1)), Ok(()));
        assert_eq!(p.slot().read(MS(1)), (0.25, false));
        assert_eq!(p.take(br#"{"level": 250}"#, MS(2)), Ok(()));
        assert_eq!(p.slot().last(), 1.0);
        assert_eq!(p.take(br#"{"level": -5}"#, MS(3)), Ok(()));
        assert_eq!(p.slot().last(), 0.0);
        assert_eq!(p.slot().raw(), Some(-5.0));
        assert_eq!(p.take(b"not json", MS(4)), Err(Refusal::BadJson));
        assert_eq!(p.take(br#"{"level": "25"}"#, MS(4)), Err(Refusal::NoNumber));
        assert_eq!(p.take(br#"{"other": 1}"#, MS(4)), Err(Refusal::NoNumber));
        assert_eq!(p.slot().messages(), 3, "refusals change nothing");
    }

    #[test]
    fn a_bare_payload_is_the_number_and_nan_is_refused() {
        let mut p = pipeline(r#"{"name": "a", "topic": "t", "range": [100, 0]}"#);
        assert_eq!(p.take(b" 75\n", MS(1)), Ok(()));
        assert_eq!(p.slot().last(), 0.25, "a reversed range inverts");
        assert_eq!(p.take(b"NaN", MS(2)), Err(Refusal::NotFinite));
        assert_eq!(p.take(b"inf", MS(2)), Err(Refusal::NotFinite));
        assert_eq!(p.take(b"\xff\xfe", MS(2)), Err(Refusal::NoNumber));
        assert_eq!(p.take(b"", MS(2)), Err(Refusal::NoNumber));
        let mut p = pipeline(r#"{"name": "a", "topic": "t", "range": [50, 50]}"#);
        let _ = p.take(b"49.9", MS(3));
        assert_eq!(p.slot().last(), 0.0, "below a threshold");
        let _ = p.take(b"50", MS(4));
        assert_eq!(p.slot().last(), 1.0, "at a threshold");
    }

    #[test]
    fn the_deadband_holds_small_changes_and_smoothing_eases_big_ones() {
        let mut p = pipeline(r#"{"name": "a", "topic": "t", "deadband": 0.1}"#);
        let _ = p.take(b"0.5", MS(0));
        let _ = p.take(b"0.55", MS(10));
        assert_eq!(p.slot().last(), 0.5, "inside the deadband");
        let _ = p.take(b"0.65", MS(20));
        assert_eq!(p.slot().last(), 0.65);

        let mut p = pipeline(r#"{"name": "a", "topic": "t", "smoothing_ms": 100}"#);
        let _ = p.take(b"0", MS(0));
        let _ = p.take(b"1", MS(100));
        // One time constant: 1 - 1/e of the way.
        assert!((p.slot().last() - (1.0 - (-1.0f64).exp())).abs() < 1e-9);
        let _ = p.take(b"1", MS(1100));
        assert!(p.slot().last() > 0.9999);
    }
}
