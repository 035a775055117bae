//! Cue lists: ordered cues played on a canvas, in the manner of a theatre's GO
//! button. A cue list is a document like a scene; any canvas can run it, and each
//! canvas keeps its own playhead.
//!
//! A cue's timing, measured on the canvas's frame clock:
//!
//! - GO fires the cue standing by; the playhead moves to the cue after it.
//! - `pre_wait_ms` after the GO, the cue's look starts fading in over `fade_ms`.
//! - `continue`: `none` waits for the next GO; `auto_continue` fires the next cue
//!   `post_wait_ms` after this cue's fade *starts*; `auto_follow` fires it
//!   `post_wait_ms` after this cue's fade *ends*.
//!
//! One cue runs at a time on a canvas: a GO, go-to, back or panic cancels whatever
//! an earlier cue was still waiting to do.

use crate::ids::{CanvasId, CueListId};
use crate::scene::{FadeCurve, SceneName};
use crate::schedule::OverrideScope;
use crate::values::MAX_FADE_MS;
use crate::values::RangeError;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// Most cues in one list.
pub const MAX_CUES: usize = 1000;
/// Longest pre-wait or post-wait, in milliseconds (one hour).
pub const MAX_WAIT_MS: u32 = 3_600_000;
/// Longest GO protection, in milliseconds.
pub const MAX_GO_PROTECTION_MS: u32 = 10_000;
/// GO protection when a list does not set it.
pub const DEFAULT_GO_PROTECTION_MS: u32 = 300;
/// Panic fade when a command does not set it.
pub const DEFAULT_PANIC_FADE_MS: u32 = 1000;

/// A cue's number: a label like `1`, `1.5` or `12A`, unique in its list. Numbers
/// in JSON (`3`, `1.5`) are read as their text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct CueNumber(String);

crate::openapi::schema!(CueNumber, "CueNumber", crate::openapi::cue_number());

impl CueNumber {
    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl CueNumber {
    /// The largest magnitude of a cue number given as a JSON number.
    pub const MAX_NUMERIC: f64 = 1e9;

    /// A cue number given as a JSON number: at most [`Self::MAX_NUMERIC`] either
    /// way, in steps of 0.001 (a console's three decimals).
    fn from_number(n: f64) -> Result<Self, RangeError> {
        let thousandths = n * 1000.0;
        if !n.is_finite()
            || n.abs() > Self::MAX_NUMERIC
            || (thousandths - thousandths.round()).abs() > 1e-9 * thousandths.abs().max(1.0)
        {
            return Err(RangeError(format!(
                "a numeric cue number is within ±1e9 in steps of 0.001, got {n}"
            )));
        }
        Self::try_from(n.to_string())
    }
}

impl TryFrom<String> for CueNumber {
    type Error = RangeError;
    fn try_from(s: String) -> Result<Self, RangeError> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
        if s.is_empty() || s.len() > 16 || !s.chars().all(ok_char) {
            return Err(RangeError(format!(
                "a cue number is 1-16 letters, digits, '.', '-' or '_', got {s:?}"
            )));
        }
        Ok(Self(s))
    }
}

impl From<CueNumber> for String {
    fn from(n: CueNumber) -> String {
        n.0
    }
}

impl fmt::Display for CueNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CueNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = CueNumber;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a cue number such as \"1\", \"1.5\" or \"12A\"")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<CueNumber, E> {
                CueNumber::try_from(s.to_owned()).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<CueNumber, E> {
                CueNumber::from_number(n as f64).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<CueNumber, E> {
                CueNumber::from_number(n as f64).map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<CueNumber, E> {
                CueNumber::from_number(n).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// What happens after a cue fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContinueMode {
    /// Wait for the next GO.
    #[default]
    None,
    /// Fire the next cue `post_wait_ms` after this cue's fade starts.
    AutoContinue,
    /// Fire the next cue `post_wait_ms` after this cue's fade ends.
    AutoFollow,
}

/// One cue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CueSpec {
    /// Its number, unique in the list.
    pub number: CueNumber,
    /// The look it fades to; none fades to black.
    #[serde(default)]
    pub scene: Option<SceneName>,
    /// Fade time in milliseconds (0 cuts).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(maximum = 3_600_000))]
    pub fade_ms: u32,
    /// Fade shape.
    #[serde(default)]
    pub curve: FadeCurve,
    /// Time from GO to the start of the fade, in milliseconds.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(maximum = 3_600_000))]
    pub pre_wait_ms: u32,
    /// With a continue mode: time to the next cue's GO, in milliseconds.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(maximum = 3_600_000))]
    pub post_wait_ms: u32,
    /// What happens next.
    #[serde(default, rename = "continue")]
    pub continue_mode: ContinueMode,
}

/// A cue list document, as stored and as written over REST.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CueListSpec {
    /// Unique name.
    pub name: SceneName,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Shortest time between two GOs, in milliseconds: a GO sooner than this after
    /// the last one is refused (a double press on the button).
    #[serde(default = "default_go_protection")]
    #[cfg_attr(feature = "openapi", schema(maximum = 10_000))]
    pub go_protection_ms: u32,
    /// The cues, in playing order.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 1000))]
    pub cues: Vec<CueSpec>,
}

fn default_go_protection() -> u32 {
    DEFAULT_GO_PROTECTION_MS
}

impl CueListSpec {
    /// Check what serde cannot: sizes, ranges, unique numbers.
    pub fn check(&self) -> Result<(), RangeError> {
        if self.cues.is_empty() || self.cues.len() > MAX_CUES {
            return Err(RangeError(format!(
                "cues: a list has 1-{MAX_CUES} cues, got {}",
                self.cues.len()
            )));
        }
        if self.go_protection_ms > MAX_GO_PROTECTION_MS {
            return Err(RangeError(format!(
                "go_protection_ms must be at most {MAX_GO_PROTECTION_MS}, got {}",
                self.go_protection_ms
            )));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, cue) in self.cues.iter().enumerate() {
            let field = |name: &str| format!("cues[{i}].{name}");
            if !seen.insert(cue.number.as_str()) {
                return Err(RangeError(format!(
                    "{}: cue {} appears twice",
                    field("number"),
                    cue.number
                )));
            }
            for (name, value, max) in [
                ("fade_ms", cue.fade_ms, MAX_FADE_MS),
                ("pre_wait_ms", cue.pre_wait_ms, MAX_WAIT_MS),
                ("post_wait_ms", cue.post_wait_ms, MAX_WAIT_MS),
            ] {
                if value > max {
                    return Err(RangeError(format!(
                        "{} must be at most {max}, got {value}",
                        field(name)
                    )));
                }
            }
        }
        Ok(())
    }
}

/// A stored cue list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CueList {
    /// Its id.
    pub id: CueListId,
    /// The document.
    #[serde(flatten)]
    pub spec: CueListSpec,
}

/// A command to a canvas's cue playback, over REST (`POST /canvases/{id}/cues`) or
/// the WebSocket (`{"type": "cue", "canvas": …, "command": {…}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum CueCommand {
    /// Take a cue list by hand (an override of the schedule for `scope`) and fire
    /// its first cue.
    Run {
        /// The list.
        cue_list: CueListId,
        /// How long it holds the canvas against the schedule.
        #[serde(default)]
        scope: OverrideScope,
    },
    /// Fire the cue standing by.
    Go {},
    /// Return to the cue before the current one (its look, its fade, no waits).
    Back {},
    /// Fire cue `cue` now (its waits and continue mode apply).
    Goto {
        /// The cue's number.
        cue: CueNumber,
    },
    /// Stop every wait and fade the canvas to black over `fade_ms`; the playhead
    /// stays where it is.
    Panic {
        /// Fade time in milliseconds.
        #[serde(default = "default_panic_fade")]
        #[cfg_attr(feature = "openapi", schema(maximum = 3_600_000))]
        fade_ms: u32,
    },
}

fn default_panic_fade() -> u32 {
    DEFAULT_PANIC_FADE_MS
}

/// Fade every canvas to black (`POST /api/v1/panic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Panic {
    /// Fade time in milliseconds.
    #[serde(default = "default_panic_fade")]
    #[cfg_attr(feature = "openapi", schema(maximum = 3_600_000))]
    pub fade_ms: u32,
}

/// Where a canvas's cue playback stands, in its live state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Playhead {
    /// The list loaded.
    pub cue_list: CueListId,
    /// Its name.
    pub name: String,
    /// The cue that fired last (its look shows or is coming); none before the first.
    pub current: Option<CueNumber>,
    /// The cue the next GO fires; none at the end of the list.
    pub standby: Option<CueNumber>,
    /// Whether a wait or a continue is still running.
    pub running: bool,
}

/// Why a cue fired, or what else happened to the playback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CueAction {
    /// An operator's GO.
    Go,
    /// The cue before continued into it.
    AutoContinue,
    /// The cue before followed into it when its fade ended.
    AutoFollow,
    /// Go to cue.
    Goto,
    /// Back.
    Back,
    /// Panic: faded to black.
    Panic,
    /// The list was started (by the schedule or by hand).
    Run,
    /// The list finished playing out and the schedule's change took over.
    Finished,
}

/// A cue fired on a canvas, or its playback changed: sent to every console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CueEvent {
    /// The canvas.
    pub canvas: CanvasId,
    /// The list.
    pub cue_list: CueListId,
    /// What happened.
    pub action: CueAction,
    /// The cue it concerns (the one fired), if any.
    pub cue: Option<CueNumber>,
    /// The cue standing by after it.
    pub standby: Option<CueNumber>,
    /// When (RFC 3339, UTC).
    pub at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(json: &str) -> Result<CueListSpec, String> {
        let spec: CueListSpec = serde_json::from_str(json).map_err(|e| e.to_string())?;
        spec.check().map_err(|e| e.0)?;
        Ok(spec)
    }

    #[test]
    fn cue_numbers_read_from_text_or_numbers() -> Result<(), serde_json::Error> {
        let n: CueNumber = serde_json::from_str("3")?;
        assert_eq!(n.as_str(), "3");
        let n: CueNumber = serde_json::from_str("1.5")?;
        assert_eq!(n.as_str(), "1.5");
        let n: CueNumber = serde_json::from_str("\"12A\"")?;
        assert_eq!(n.as_str(), "12A");
        assert!(serde_json::from_str::<CueNumber>("\"\"").is_err());
        assert!(serde_json::from_str::<CueNumber>("\"1 2\"").is_err());
        Ok(())
    }

    #[test]
    fn lists_are_checked() {
        let ok = r#"{"name":"L","cues":[{"number":1,"scene":"A","continue":"auto_follow"},{"number":"2"}]}"#;
        let spec = list(ok).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(spec.go_protection_ms, DEFAULT_GO_PROTECTION_MS);
        assert_eq!(spec.cues[0].continue_mode, ContinueMode::AutoFollow);
        for (bad, says) in [
            (r#"{"name":"L","cues":[]}"#, "1-1000 cues"),
            (
                r#"{"name":"L","cues":[{"number":1},{"number":"1"}]}"#,
                "cue 1 appears twice",
            ),
            (
                r#"{"name":"L","cues":[{"number":1,"fade_ms":3600001}]}"#,
                "cues[0].fade_ms",
            ),
            (
                r#"{"name":"L","cues":[{"number":1,"pre_wait_ms":4000000}]}"#,
                "cues[0].pre_wait_ms",
            ),
            (
                r#"{"name":"L","go_protection_ms":20000,"cues":[{"number":1}]}"#,
                "go_protection_ms",
            ),
            (
                r#"{"name":"L","cues":[{"number":1,"continue":"sometimes"}]}"#,
                "unknown variant",
            ),
            (r#"{"name":"L","cues":[{"number":1,"colour":1}]}"#, "colour"),
        ] {
            let e = list(bad).err().unwrap_or_default();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn commands_read_by_action() -> Result<(), serde_json::Error> {
        let c: CueCommand = serde_json::from_str(r#"{"action":"goto","cue":4}"#)?;
        assert!(matches!(c, CueCommand::Goto { cue } if cue.as_str() == "4"));
        let c: CueCommand = serde_json::from_str(r#"{"action":"panic"}"#)?;
        assert_eq!(
            c,
            CueCommand::Panic {
                fade_ms: DEFAULT_PANIC_FADE_MS
            }
        );
        assert!(serde_json::from_str::<CueCommand>(r#"{"action":"go","x":1}"#).is_err());
        assert!(serde_json::from_str::<CueCommand>(r#"{"action":"jump"}"#).is_err());
        Ok(())
    }
}
