//! Celebrations at run time, in plain Rust: when each last fired (for its
//! cooldown), which canvases each holds and what they showed before (to hand
//! them back), and the rules that fire them from input values, with the edge
//! each rule last saw. The handle does the playing (`handle/celebrations.rs`);
//! this keeps the books.

use chrono::{DateTime, Utc};
use limelight_shared::celebration::CelebrationRule;
use limelight_shared::ids::{CanvasId, CelebrationId};
use limelight_shared::schedule::OverrideInfo;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How often rules read their input values.
pub const RULE_EVERY: Duration = Duration::from_millis(50);

/// Why a celebration was refused.
#[derive(Debug, thiserror::Error)]
pub enum CelebrationError {
    /// No celebration with that id.
    #[error("no celebration {0}")]
    Unknown(CelebrationId),
    /// It fired a moment ago.
    #[error("the celebration {name:?} fired {ago_ms} ms ago; it may fire again in {left_ms} ms")]
    CoolingDown {
        /// Its name.
        name: String,
        /// Milliseconds since it fired.
        ago_ms: u64,
        /// Milliseconds until it may fire again.
        left_ms: u64,
    },
}

/// One canvas a celebration holds.
#[derive(Debug, Clone)]
pub struct Held {
    /// The canvas.
    pub canvas: CanvasId,
    /// The override the canvas had before, to hand it back to (none: the
    /// schedule).
    pub before: Option<OverrideInfo>,
}

/// A celebration firing now.
#[derive(Debug, Clone)]
struct Firing {
    /// Clock time it fired.
    at: Duration,
    /// Wall time it fired.
    wall: DateTime<Utc>,
    /// How long it lasts and then waits.
    busy: Duration,
}

/// A rule and what it last read.
#[derive(Debug)]
struct Watch {
    rule: CelebrationRule,
    /// The input was above the threshold at the last reading (true at first,
    /// so a value already high does not fire at once).
    above: bool,
    /// The input's value at the last reading, while it was fresh.
    seen: Option<f64>,
}

#[derive(Debug, Default)]
struct Books {
    fired: HashMap<CelebrationId, Firing>,
    rules: HashMap<CelebrationId, Watch>,
}

/// The books of every celebration.
#[derive(Debug, Default)]
pub struct Celebrations {
    books: Mutex<Books>,
}

impl Celebrations {
    fn books(&self) -> MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Take a fire of celebration `id` (`name`) at clock time `now` (wall time
    /// `wall`) that plays for `duration` and then waits `cooldown`, unless it
    /// fired too recently: it is busy for the longer of the two.
    pub fn take_fire(
        &self,
        id: CelebrationId,
        name: &str,
        now: Duration,
        wall: DateTime<Utc>,
        duration: Duration,
        cooldown: Duration,
    ) -> Result<(), CelebrationError> {
        let mut books = self.books();
        if let Some(last) = books.fired.get(&id) {
            let ago = now.saturating_sub(last.at);
            if ago < last.busy {
                return Err(CelebrationError::CoolingDown {
                    name: name.to_owned(),
                    ago_ms: ago.as_millis() as u64,
                    left_ms: (last.busy - ago).as_millis().max(1) as u64,
                });
            }
        }
        books.fired.insert(
            id,
            Firing {
                at: now,
                wall,
                busy: duration.max(cooldown),
            },
        );
        Ok(())
    }

    /// Forget a fire that could not start, so it does not count.
    pub fn undo_fire(&self, id: CelebrationId, now: Duration) {
        let mut books = self.books();
        if books.fired.get(&id).is_some_and(|f| f.at == now) {
            books.fired.remove(&id);
        }
    }

    /// When celebration `id` last fired and how long until it may fire again,
    /// at clock time `now`.
    pub fn standing(&self, id: CelebrationId, now: Duration) -> (Option<DateTime<Utc>>, u64) {
        let books = self.books();
        match books.fired.get(&id) {
            None => (None, 0),
            Some(f) => {
                let left = f.busy.saturating_sub(now.saturating_sub(f.at));
                (Some(f.wall), left.as_millis() as u64)
            }
        }
    }

    /// Celebration `id` has `rule` (none: no rule); it was removed when `rule`
    /// is none. A new rule waits for its input to be at or below the threshold
    /// before a rise counts, so a value already high does not fire at once.
    pub fn set_rule(&self, id: CelebrationId, rule: Option<CelebrationRule>) {
        let mut books = self.books();
        match rule {
            Some(rule) => {
                let watch = Watch {
                    rule,
                    above: true,
                    seen: None,
                };
                books.rules.insert(id, watch);
            }
            None => {
                books.rules.remove(&id);
            }
        }
    }

    /// Forget celebration `id` (removed).
    pub fn forget(&self, id: CelebrationId) {
        let mut books = self.books();
        books.rules.remove(&id);
        books.fired.remove(&id);
    }

    /// The rules that fire now: each reads `value` of its input (0..1, `None`
    /// while the input is stale or missing) and fires on a rise above its
    /// threshold from at or below it.
    pub fn rules_that_fire(
        &self,
        mut value: impl FnMut(&CelebrationRule) -> Option<f64>,
    ) -> Vec<(CelebrationId, String)> {
        let mut books = self.books();
        let mut firing = Vec::new();
        for (id, watch) in books.rules.iter_mut() {
            watch.seen = value(&watch.rule);
            let Some(v) = watch.seen else {
                continue;
            };
            let now_above = v > watch.rule.above;
            if now_above && !watch.above {
                firing.push((*id, watch.rule.input.to_string()));
            }
            watch.above = now_above;
        }
        firing.sort();
        firing
    }

    /// The value celebration `id`'s rule last read from its input; none without
    /// a rule, before the first reading and while the input is stale.
    pub fn rule_value(&self, id: CelebrationId) -> Option<f64> {
        self.books().rules.get(&id).and_then(|w| w.seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(above: f64) -> CelebrationRule {
        match serde_json::from_value(serde_json::json!({"input": "v", "above": above})) {
            Ok(r) => r,
            Err(e) => unreachable!("test rule: {e}"),
        }
    }

    #[test]
    fn a_celebration_waits_out_the_longer_of_its_run_and_its_cooldown() {
        let books = Celebrations::default();
        let (id, s) = (CelebrationId(1), Duration::from_secs);
        let wall = Utc::now();
        assert!(books.take_fire(id, "goal", s(10), wall, s(5), s(2)).is_ok());
        assert!(matches!(
            books.take_fire(id, "goal", s(14), wall, s(5), s(2)),
            Err(CelebrationError::CoolingDown { left_ms: 1000, .. })
        ));
        assert_eq!(books.standing(id, s(12)), (Some(wall), 3000));
        assert!(
            books
                .take_fire(id, "goal", s(15), wall, s(5), s(20))
                .is_ok()
        );
        assert!(
            books
                .take_fire(id, "goal", s(30), wall, s(5), s(20))
                .is_err()
        );
        books.undo_fire(id, s(15));
        assert!(
            books
                .take_fire(id, "goal", s(30), wall, s(5), s(20))
                .is_ok()
        );
    }

    #[test]
    fn a_rule_fires_once_per_rise_and_not_for_a_value_already_high() {
        let books = Celebrations::default();
        let id = CelebrationId(7);
        books.set_rule(id, Some(rule(0.8)));
        let fire = |v: Option<f64>| books.rules_that_fire(|_| v).len();
        assert_eq!(fire(Some(0.9)), 0, "already high when the rule came");
        assert_eq!(fire(Some(0.5)), 0);
        assert_eq!(fire(Some(0.85)), 1, "a rise");
        assert_eq!(fire(Some(0.95)), 0, "still high");
        assert_eq!(fire(None), 0, "stale: nothing changes");
        assert_eq!(fire(Some(0.8)), 0, "at the threshold is not above it");
        assert_eq!(fire(Some(0.81)), 1);
    }
}
