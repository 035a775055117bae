//! Celebrations: a named moment (a goal, a sale, the millionth visitor) that
//! plays a scene or a cue list over chosen canvases for a time, then hands each
//! canvas back to what it showed before. One fires over REST, the WebSocket,
//! MQTT, or by a rule on an input value, and not again until its cooldown ends.

use crate::ids::{CanvasId, CelebrationId};
use crate::input::InputName;
use crate::schedule::{Play, Targets};
use crate::values::{RangeError, check_short_name};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// Longest celebration name, in characters.
pub const MAX_CELEBRATION_NAME_LEN: usize = 64;
/// Shortest celebration, in milliseconds.
pub const MIN_CELEBRATION_MS: u32 = 500;
/// Longest celebration: an hour.
pub const MAX_CELEBRATION_MS: u32 = 3_600_000;
/// Highest threshold of a rule (a value is at most 1).
pub const MAX_THRESHOLD: f64 = 0.999;
/// Longest cooldown: a day.
pub const MAX_COOLDOWN_MS: u32 = 86_400_000;

/// A celebration as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CelebrationSpec {
    /// Unique name (1-64 characters).
    pub name: CelebrationName,
    /// What plays: a scene (faded in over its `fade_ms`, and out again over the
    /// same time) or a cue list from its first cue.
    pub play: Play,
    /// The canvases it takes: `"all"` or a list of ids.
    pub canvases: Targets,
    /// How long it plays, in milliseconds (500 to 3,600,000).
    #[cfg_attr(feature = "openapi", schema(minimum = 500, maximum = 3_600_000))]
    pub duration_ms: u32,
    /// After firing, how long it refuses to fire again, in milliseconds (0 to a
    /// day; 0 by default).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(maximum = 86_400_000))]
    pub cooldown_ms: u32,
    /// Fire by itself when an input value rises past a threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<CelebrationRule>,
}

impl CelebrationSpec {
    /// Check what serde cannot: the times.
    pub fn check(&self) -> Result<(), RangeError> {
        if !(MIN_CELEBRATION_MS..=MAX_CELEBRATION_MS).contains(&self.duration_ms) {
            return Err(RangeError(format!(
                "duration_ms must be {MIN_CELEBRATION_MS} to {MAX_CELEBRATION_MS}, got {}",
                self.duration_ms
            )));
        }
        if self.cooldown_ms > MAX_COOLDOWN_MS {
            return Err(RangeError(format!(
                "cooldown_ms must be at most {MAX_COOLDOWN_MS}, got {}",
                self.cooldown_ms
            )));
        }
        if let Some(rule) = &self.rule
            && !(rule.above.is_finite() && (0.0..=MAX_THRESHOLD).contains(&rule.above))
        {
            return Err(RangeError(format!(
                "a rule's threshold `above` must be from 0 to {MAX_THRESHOLD}, got {}",
                rule.above
            )));
        }
        Ok(())
    }
}

/// Fire when `input` (a value 0..1) rises above `above` (0 to 0.999): once per rise, so a
/// value that stays high fires once, and again only after it fell to or below
/// the threshold (and the cooldown ended).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CelebrationRule {
    /// The input value's name.
    pub input: InputName,
    /// The threshold, from 0 to 0.999.
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 0.999))]
    pub above: f64,
}

/// A validated celebration name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CelebrationName(String);

crate::openapi::schema!(
    CelebrationName,
    "CelebrationName",
    crate::openapi::short_name(MAX_CELEBRATION_NAME_LEN)
);

impl CelebrationName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CelebrationName {
    type Error = RangeError;
    fn try_from(s: String) -> Result<Self, RangeError> {
        check_short_name(&s, MAX_CELEBRATION_NAME_LEN)?;
        Ok(Self(s))
    }
}

impl From<CelebrationName> for String {
    fn from(n: CelebrationName) -> String {
        n.0
    }
}

impl std::fmt::Display for CelebrationName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A celebration as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Celebration {
    /// Database id.
    pub id: CelebrationId,
    /// The celebration as written.
    #[serde(flatten)]
    pub spec: CelebrationSpec,
    /// When it last fired (since the server started), if it has.
    pub fired_at: Option<DateTime<FixedOffset>>,
    /// Milliseconds until it may fire again (0: it may now).
    pub cooldown_left_ms: u64,
    /// The value (0..1) its rule last read from its input, read every 50 ms;
    /// absent without a rule, before the first reading and while the input is
    /// stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_value: Option<f64>,
}

/// A celebration fired: the `celebration` event, and the answer to firing one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CelebrationFired {
    /// The celebration.
    pub celebration: CelebrationId,
    /// Its name.
    pub name: CelebrationName,
    /// Who fired it: a user, or `rule:<input>` for its rule.
    pub by: String,
    /// The canvases it took.
    pub canvases: Vec<CanvasId>,
    /// When it fired.
    pub at: DateTime<FixedOffset>,
    /// When it hands the canvases back.
    pub until: DateTime<FixedOffset>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> Result<CelebrationSpec, String> {
        let s: CelebrationSpec = serde_json::from_str(json).map_err(|e| e.to_string())?;
        s.check().map_err(|e| e.0)?;
        Ok(s)
    }

    #[test]
    fn a_celebration_is_checked() {
        assert!(
            spec(
                r#"{"name": "goal", "play": {"scene": "gold", "fade_ms": 500},
                "canvases": [1, 2], "duration_ms": 10000, "cooldown_ms": 60000,
                "rule": {"input": "lobby_level", "above": 0.8}}"#
            )
            .is_ok()
        );
        for (json, says) in [
            (
                r#"{"name": "g", "play": {"scene": "s"}, "canvases": "all", "duration_ms": 100}"#,
                "duration_ms",
            ),
            (
                r#"{"name": "g", "play": {"scene": "s"}, "canvases": "all", "duration_ms": 1000, "cooldown_ms": 86400001}"#,
                "cooldown_ms",
            ),
            (
                r#"{"name": "g", "play": {"scene": "s"}, "canvases": "all", "duration_ms": 1000, "rule": {"input": "v", "above": 1}}"#,
                "threshold",
            ),
            (
                r#"{"name": "g", "play": {"scene": "s"}, "canvases": [], "duration_ms": 1000}"#,
                "at least one canvas",
            ),
            (
                r#"{"name": "", "play": {"scene": "s"}, "canvases": "all", "duration_ms": 1000}"#,
                "name",
            ),
        ] {
            let refused = spec(json);
            assert!(
                refused.as_ref().is_err_and(|e| e.contains(says)),
                "{json}: {refused:?}"
            );
        }
    }
}
