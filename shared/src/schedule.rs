//! Schedules: entries that put a scene or a cue list on canvases at planned times,
//! operators' manual overrides, and the preview and timeline answers.
//!
//! Times of day are the venue's local time; instants on the wire are RFC 3339 with
//! the venue's UTC offset at that instant.

use crate::ids::{CanvasId, CueListId, ScheduleId};
use crate::scene::{FadeCurve, SceneName};
use crate::values::{EntryPriority, RangeError};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Largest offset from a sun event, in minutes (12 hours either way).
pub const MAX_SUN_OFFSET_MINUTES: i32 = 720;
/// Longest entry, in seconds (31 days).
pub const MAX_DURATION_S: u32 = 31 * 24 * 3600;
/// Longest override "for a duration", in seconds (7 days).
pub const MAX_OVERRIDE_S: u32 = 7 * 24 * 3600;

/// A time of day, written `HH:MM` or `HH:MM:SS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(NaiveTime);

impl ClockTime {
    /// The time of day.
    pub fn time(self) -> NaiveTime {
        self.0
    }
}

crate::openapi::schema!(
    ClockTime,
    "ClockTime",
    crate::openapi::pattern(
        "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
        "A time of day, HH:MM or HH:MM:SS"
    )
);

impl std::str::FromStr for ClockTime {
    type Err = RangeError;
    fn from_str(s: &str) -> Result<Self, RangeError> {
        NaiveTime::parse_from_str(s, "%H:%M:%S")
            .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
            .map(Self)
            .map_err(|_| RangeError(format!("a time of day is HH:MM or HH:MM:SS, got {s:?}")))
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%H:%M:%S"))
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A moment of the sun's day at the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SunEvent {
    /// The sun's upper edge clears the horizon (zenith 90.833°).
    Sunrise,
    /// The sun's upper edge goes below the horizon (zenith 90.833°).
    Sunset,
    /// Morning civil twilight begins (sun 6° below the horizon).
    CivilDawn,
    /// Evening civil twilight ends (sun 6° below the horizon).
    CivilDusk,
}

/// Which canvases an entry plays on: `"all"` or a list of canvas ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    /// Every canvas, including ones added later.
    All,
    /// These canvases.
    Canvases(Vec<CanvasId>),
}

crate::openapi::schema!(Targets, "Targets", crate::openapi::targets());

impl Targets {
    /// Whether `canvas` is a target.
    pub fn includes(&self, canvas: CanvasId) -> bool {
        match self {
            Targets::All => true,
            Targets::Canvases(ids) => ids.contains(&canvas),
        }
    }
}

impl Serialize for Targets {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Targets::All => s.serialize_str("all"),
            Targets::Canvases(ids) => ids.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Targets {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Targets;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#""all" or a non-empty list of canvas ids"#)
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Targets, E> {
                if s == "all" {
                    Ok(Targets::All)
                } else {
                    Err(E::custom(format!(
                        r#"targets is "all" or a list of canvas ids, got {s:?}"#
                    )))
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Targets, A::Error> {
                let mut ids: Vec<CanvasId> = Vec::new();
                while let Some(id) = seq.next_element()? {
                    if ids.contains(&id) {
                        return Err(serde::de::Error::custom(format!(
                            "canvas {id} is listed twice"
                        )));
                    }
                    ids.push(id);
                }
                if ids.is_empty() {
                    return Err(serde::de::Error::custom(
                        "targets must name at least one canvas",
                    ));
                }
                Ok(Targets::Canvases(ids))
            }
        }
        d.deserialize_any(V)
    }
}

crate::openapi::schema_with!(
    Play,
    "Play",
    {
        use crate::openapi::*;
        exclusive(
            "What an entry plays: a scene (with a fade) or a cue list",
            &[],
            &[
                (
                    "A scene, faded in over `fade_ms` (default 0) along `curve`",
                    vec![("scene", of::<SceneName>())],
                    vec![
                        ("fade_ms", integer(0, i64::from(crate::values::MAX_FADE_MS))),
                        ("curve", of::<FadeCurve>()),
                    ],
                ),
                (
                    "A cue list, from its first cue",
                    vec![("cue_list", of::<CueListId>())],
                    vec![],
                ),
            ],
        )
    },
    [SceneName, FadeCurve, CueListId]
);

/// What an entry or an override plays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PlayBody", into = "PlayBody")]
pub enum Play {
    /// A scene, faded in.
    Scene {
        /// The scene's name.
        scene: SceneName,
        /// Fade-in time in milliseconds (0 cuts).
        fade_ms: u32,
        /// Fade shape.
        curve: FadeCurve,
    },
    /// A cue list, from its first cue.
    CueList {
        /// The cue list.
        cue_list: CueListId,
    },
}

/// `{"scene": "…", "fade_ms": …, "curve": …}` or `{"cue_list": id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlayBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scene: Option<SceneName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fade_ms: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    curve: Option<FadeCurve>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cue_list: Option<CueListId>,
}

impl TryFrom<PlayBody> for Play {
    type Error = RangeError;
    fn try_from(b: PlayBody) -> Result<Self, RangeError> {
        match (b.scene, b.cue_list) {
            (Some(scene), None) => {
                let fade_ms = b.fade_ms.unwrap_or(0);
                if fade_ms > crate::values::MAX_FADE_MS {
                    return Err(RangeError(format!(
                        "fade_ms must be at most {}, got {fade_ms}",
                        crate::values::MAX_FADE_MS
                    )));
                }
                Ok(Play::Scene {
                    scene,
                    fade_ms,
                    curve: b.curve.unwrap_or_default(),
                })
            }
            (None, Some(cue_list)) if b.fade_ms.is_none() && b.curve.is_none() => {
                Ok(Play::CueList { cue_list })
            }
            (None, Some(_)) => Err(RangeError(
                "a cue list carries its own fades: fade_ms and curve belong to scenes".into(),
            )),
            (Some(_), Some(_)) => Err(RangeError(
                "play is either a scene or a cue list, not both".into(),
            )),
            (None, None) => Err(RangeError("play needs a scene or a cue_list".into())),
        }
    }
}

impl From<Play> for PlayBody {
    fn from(p: Play) -> Self {
        match p {
            Play::Scene {
                scene,
                fade_ms,
                curve,
            } => PlayBody {
                scene: Some(scene),
                fade_ms: Some(fade_ms),
                curve: Some(curve),
                cue_list: None,
            },
            Play::CueList { cue_list } => PlayBody {
                scene: None,
                fade_ms: None,
                curve: None,
                cue_list: Some(cue_list),
            },
        }
    }
}

/// A time of day: a clock time, or a sun event with an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayTime {
    /// A local clock time.
    Clock(ClockTime),
    /// A sun event at the venue, moved by `offset_minutes` (negative is before).
    Sun {
        /// The event.
        event: SunEvent,
        /// Minutes after the event (negative: before).
        offset_minutes: i32,
    },
}

crate::openapi::schema_with!(
    Start,
    "Start",
    {
        use crate::openapi::*;
        exclusive(
            "The first day, and a clock time or a sun event (with an offset) on it",
            &[("date", date())],
            &day_time(),
        )
    },
    [ClockTime, SunEvent]
);

/// When an entry starts: on `date` (the first day when it recurs), at a clock time or
/// relative to a sun event.
///
/// `{"date": "2026-03-01", "time": "20:00"}` or
/// `{"date": "2026-03-01", "sun": "sunset", "offset_minutes": -15}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StartBody", into = "StartBody")]
pub struct Start {
    /// The (first) day.
    pub date: NaiveDate,
    /// The time on that day.
    pub at: DayTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartBody {
    date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time: Option<ClockTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sun: Option<SunEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    offset_minutes: Option<i32>,
}

/// `time`, or `sun` with `offset_minutes`: the fields start and end share.
#[derive(Debug, Clone, Default)]
struct DayTimeBody {
    time: Option<ClockTime>,
    sun: Option<SunEvent>,
    offset_minutes: Option<i32>,
}

impl DayTimeBody {
    fn into_day_time(self, what: &str) -> Result<Option<DayTime>, RangeError> {
        match (self.time, self.sun) {
            (Some(_), Some(_)) => Err(RangeError(format!(
                "{what} is either a time or a sun event, not both"
            ))),
            (Some(t), None) if self.offset_minutes.is_none() => Ok(Some(DayTime::Clock(t))),
            (Some(_), None) => Err(RangeError(format!(
                "offset_minutes of {what} goes with a sun event, not a clock time"
            ))),
            (None, Some(event)) => {
                let offset_minutes = self.offset_minutes.unwrap_or(0);
                if offset_minutes.abs() > MAX_SUN_OFFSET_MINUTES {
                    return Err(RangeError(format!(
                        "offset_minutes must be between -{MAX_SUN_OFFSET_MINUTES} and {MAX_SUN_OFFSET_MINUTES}, got {offset_minutes}"
                    )));
                }
                Ok(Some(DayTime::Sun {
                    event,
                    offset_minutes,
                }))
            }
            (None, None) if self.offset_minutes.is_some() => Err(RangeError(format!(
                "offset_minutes of {what} goes with a sun event"
            ))),
            (None, None) => Ok(None),
        }
    }

    fn from_day_time(at: DayTime) -> Self {
        match at {
            DayTime::Clock(t) => DayTimeBody {
                time: Some(t),
                ..Default::default()
            },
            DayTime::Sun {
                event,
                offset_minutes,
            } => DayTimeBody {
                time: None,
                sun: Some(event),
                offset_minutes: Some(offset_minutes),
            },
        }
    }
}

impl TryFrom<StartBody> for Start {
    type Error = RangeError;
    fn try_from(b: StartBody) -> Result<Self, RangeError> {
        let at = DayTimeBody {
            time: b.time,
            sun: b.sun,
            offset_minutes: b.offset_minutes,
        }
        .into_day_time("start")?
        .ok_or_else(|| {
            RangeError("start needs a time (\"20:00\") or a sun event (\"sunset\")".into())
        })?;
        Ok(Start { date: b.date, at })
    }
}

impl From<Start> for StartBody {
    fn from(s: Start) -> Self {
        let at = DayTimeBody::from_day_time(s.at);
        StartBody {
            date: s.date,
            time: at.time,
            sun: at.sun,
            offset_minutes: at.offset_minutes,
        }
    }
}

crate::openapi::schema_with!(
    End,
    "End",
    {
        use crate::openapi::*;
        let mut ways = day_time();
        ways.push((
            "A duration in seconds",
            vec![("duration_s", integer(1, i64::from(MAX_DURATION_S)))],
            vec![],
        ));
        exclusive(
            "When an occurrence ends: a clock time, a sun event, or a duration",
            &[],
            &ways,
        )
    },
    [ClockTime, SunEvent]
);

/// The ways a time of day is written: a clock time, or a sun event with an offset.
#[cfg(feature = "openapi")]
fn day_time() -> Vec<crate::openapi::Variant> {
    use crate::openapi::*;
    vec![
        ("A clock time", vec![("time", of::<ClockTime>())], vec![]),
        (
            "A sun event, offset by minutes",
            vec![("sun", of::<SunEvent>())],
            vec![(
                "offset_minutes",
                integer(
                    -i64::from(MAX_SUN_OFFSET_MINUTES),
                    i64::from(MAX_SUN_OFFSET_MINUTES),
                ),
            )],
        ),
    ]
}

/// When an occurrence ends: at the next such clock time or sun event after its
/// start, or after a duration.
///
/// `{"time": "23:30"}`, `{"sun": "sunrise", "offset_minutes": 0}` or
/// `{"duration_s": 5400}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "EndBody", into = "EndBody")]
pub enum End {
    /// The first such time of day after the start (the same day or the next).
    At(DayTime),
    /// A fixed length, in seconds.
    After {
        /// Seconds after the start.
        duration_s: u32,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time: Option<ClockTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sun: Option<SunEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    offset_minutes: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duration_s: Option<u32>,
}

impl TryFrom<EndBody> for End {
    type Error = RangeError;
    fn try_from(b: EndBody) -> Result<Self, RangeError> {
        let at = DayTimeBody {
            time: b.time,
            sun: b.sun,
            offset_minutes: b.offset_minutes,
        };
        match (at.into_day_time("end")?, b.duration_s) {
            (Some(at), None) => Ok(End::At(at)),
            (None, Some(d)) if (1..=MAX_DURATION_S).contains(&d) => {
                Ok(End::After { duration_s: d })
            }
            (None, Some(d)) => Err(RangeError(format!(
                "duration_s must be between 1 and {MAX_DURATION_S}, got {d}"
            ))),
            (Some(_), Some(_)) => Err(RangeError(
                "end is a time, a sun event or a duration_s, only one of them".into(),
            )),
            (None, None) => Err(RangeError(
                "end needs a time, a sun event or a duration_s".into(),
            )),
        }
    }
}

impl From<End> for EndBody {
    fn from(e: End) -> Self {
        match e {
            End::At(at) => {
                let at = DayTimeBody::from_day_time(at);
                EndBody {
                    time: at.time,
                    sun: at.sun,
                    offset_minutes: at.offset_minutes,
                    duration_s: None,
                }
            }
            End::After { duration_s } => EndBody {
                time: None,
                sun: None,
                offset_minutes: None,
                duration_s: Some(duration_s),
            },
        }
    }
}

/// What happens when an occurrence ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum StopMode {
    /// Fade to what plays next (or to black) over `fade_ms`.
    FadeOut {
        /// Fade time in milliseconds.
        #[cfg_attr(feature = "openapi", schema(maximum = 3_600_000))]
        fade_ms: u32,
    },
    /// Cut to what plays next (or to black).
    Cut,
    /// Let the running cue list play out its remaining automatic cues (and the
    /// last cue's fade) first, then fade to what plays next over `fade_ms`.
    FinishCueList {
        /// Fade time in milliseconds once the list has played out (0 cuts).
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(maximum = 3_600_000))]
        fade_ms: u32,
    },
}

impl StopMode {
    /// The fade to what plays next, in milliseconds.
    pub fn fade_ms(self) -> u32 {
        match self {
            StopMode::FadeOut { fade_ms } | StopMode::FinishCueList { fade_ms } => fade_ms,
            StopMode::Cut => 0,
        }
    }
}

impl Default for StopMode {
    fn default() -> Self {
        StopMode::FadeOut { fade_ms: 2000 }
    }
}

fn yes() -> bool {
    true
}

/// A schedule entry as written by the content team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// Unique name.
    pub name: SceneName,
    /// Canvases it plays on.
    pub targets: Targets,
    /// What it plays.
    pub play: Play,
    /// When it (first) starts.
    pub start: Start,
    /// When each occurrence ends.
    pub end: End,
    /// RFC 5545 recurrence rule (`FREQ=WEEKLY;BYDAY=FR,SA`); none for a one-off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrule: Option<String>,
    /// Days the recurrence skips (local dates).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exdates: Vec<NaiveDate>,
    /// Extra days it also plays (local dates, at the start's time).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rdates: Vec<NaiveDate>,
    /// First day it may play.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<NaiveDate>,
    /// Last day it may start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
    /// Higher wins when entries overlap on a canvas.
    pub priority: EntryPriority,
    /// What happens at the end of each occurrence.
    #[serde(default)]
    pub stop: StopMode,
    /// A disabled entry is kept but never plays.
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// A stored schedule entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleEntry {
    /// Database id.
    pub id: ScheduleId,
    /// The entry.
    #[serde(flatten)]
    pub spec: ScheduleSpec,
}

/// How long a manual override lasts: `"next_change"`, `"until_released"` or
/// `{"for_s": 600}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideScope {
    /// Until the schedule next changes what plays on the canvas.
    #[default]
    NextChange,
    /// For this many seconds.
    ForS(u32),
    /// Until an operator releases it.
    UntilReleased,
}

crate::openapi::schema!(
    OverrideScope,
    "OverrideScope",
    crate::openapi::override_scope(MAX_OVERRIDE_S)
);

impl OverrideScope {
    /// Refuse a duration out of range.
    pub fn check(self) -> Result<Self, RangeError> {
        match self {
            OverrideScope::ForS(s) if s == 0 || s > MAX_OVERRIDE_S => Err(RangeError(format!(
                "for_s must be between 1 and {MAX_OVERRIDE_S}, got {s}"
            ))),
            scope => Ok(scope),
        }
    }
}

/// An operator's hold on a canvas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverrideInfo {
    /// The canvas.
    pub canvas: CanvasId,
    /// What plays.
    pub play: Play,
    /// How long it lasts.
    pub scope: OverrideScope,
    /// Who took it.
    pub by: String,
    /// When it was taken.
    pub since: DateTime<FixedOffset>,
    /// When it ends, if that is known now.
    pub until: Option<DateTime<FixedOffset>>,
}

/// Hand a canvas back to the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// Fade to what the schedule plays, in milliseconds; the scheduled entry's own
    /// fade when absent.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(maximum = 3_600_000))]
    pub fade_ms: Option<u32>,
}

/// Why something plays on a canvas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// A schedule entry's occurrence.
    Entry {
        /// The entry.
        entry: ScheduleId,
        /// Its name.
        name: String,
        /// Its priority.
        priority: EntryPriority,
    },
    /// An operator's override.
    Override {
        /// Who took it.
        by: String,
        /// How long it lasts.
        scope: OverrideScope,
    },
}

/// What plays on one canvas at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Playing {
    /// The canvas.
    pub canvas: CanvasId,
    /// What plays; none when nothing is scheduled (the canvas is dark).
    pub play: Option<Play>,
    /// Why it plays.
    pub source: Option<Source>,
    /// Since when.
    pub since: Option<DateTime<FixedOffset>>,
    /// Until when, if it ends.
    pub until: Option<DateTime<FixedOffset>>,
}

/// The answer to "what plays at T".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Preview {
    /// The instant asked about.
    pub at: DateTime<FixedOffset>,
    /// Each canvas.
    pub canvases: Vec<Playing>,
}

/// How a change moves to the new look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// An entry's occurrence starts and wins.
    Start,
    /// The winning occurrence ends.
    End,
    /// An override starts.
    Override,
    /// An override ends or is released.
    Release,
    /// The scheduler took up what should be playing now (start-up, clock jump, edit).
    Resume,
}

/// One change of what plays on a canvas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// When.
    pub at: DateTime<FixedOffset>,
    /// The canvas.
    pub canvas: CanvasId,
    /// What plays from then on; none means dark.
    pub play: Option<Play>,
    /// Why.
    pub source: Option<Source>,
    /// What caused the change.
    pub cause: Cause,
    /// Fade time of the change, in milliseconds.
    pub fade_ms: u32,
    /// `finish_cue_list`: the cue list plays out first, so the change shows later.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub after_cue_list: bool,
}

/// The changes over a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Timeline {
    /// Start of the range.
    pub from: DateTime<FixedOffset>,
    /// End of the range.
    pub to: DateTime<FixedOffset>,
    /// What plays at `from`.
    pub initial: Vec<Playing>,
    /// Changes in time order.
    pub changes: Vec<Change>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> Result<ScheduleSpec, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn a_full_entry_round_trips() -> Result<(), Box<dyn std::error::Error>> {
        let s = spec(
            r#"{"name": "Evenings", "targets": "all",
                "play": {"scene": "Sunset Glow", "fade_ms": 3000},
                "start": {"date": "2026-03-01", "sun": "sunset", "offset_minutes": -15},
                "end": {"time": "23:30"}, "rrule": "FREQ=WEEKLY;BYDAY=FR,SA",
                "exdates": ["2026-03-06"], "priority": 10,
                "stop": {"mode": "fade_out", "fade_ms": 5000}}"#,
        )?;
        assert_eq!(s.targets, Targets::All);
        assert!(matches!(
            s.start.at,
            DayTime::Sun {
                event: SunEvent::Sunset,
                offset_minutes: -15
            }
        ));
        let again: ScheduleSpec = serde_json::from_str(&serde_json::to_string(&s)?)?;
        assert_eq!(again, s);
        Ok(())
    }

    #[test]
    fn inconsistent_entries_are_refused() {
        let base = |play: &str, start: &str, end: &str| {
            format!(
                r#"{{"name": "x", "targets": [1], "play": {play}, "start": {start}, "end": {end}, "priority": 1}}"#
            )
        };
        let ok_play = r#"{"scene": "A"}"#;
        let ok_start = r#"{"date": "2026-03-01", "time": "20:00"}"#;
        let ok_end = r#"{"duration_s": 60}"#;
        assert!(spec(&base(ok_play, ok_start, ok_end)).is_ok());
        for (play, start, end) in [
            (r#"{"scene": "A", "cue_list": 1}"#, ok_start, ok_end),
            (r#"{"cue_list": 1, "fade_ms": 5}"#, ok_start, ok_end),
            ("{}", ok_start, ok_end),
            (ok_play, r#"{"date": "2026-03-01"}"#, ok_end),
            (
                ok_play,
                r#"{"date": "2026-02-30", "time": "20:00"}"#,
                ok_end,
            ),
            (
                ok_play,
                r#"{"date": "2026-03-01", "time": "25:00"}"#,
                ok_end,
            ),
            (
                ok_play,
                r#"{"date": "2026-03-01", "time": "20:00", "sun": "sunset"}"#,
                ok_end,
            ),
            (
                ok_play,
                r#"{"date": "2026-03-01", "sun": "sunset", "offset_minutes": 900}"#,
                ok_end,
            ),
            (ok_play, r#"{"date": "2026-03-01", "sun": "noon"}"#, ok_end),
            (ok_play, ok_start, r#"{"duration_s": 0}"#),
            (ok_play, ok_start, r#"{"time": "23:00", "duration_s": 60}"#),
            (ok_play, ok_start, "{}"),
        ] {
            assert!(
                spec(&base(play, start, end)).is_err(),
                "{play} {start} {end}"
            );
        }
        assert!(spec(&base(ok_play, ok_start, ok_end).replace("[1]", "[]")).is_err());
        assert!(spec(&base(ok_play, ok_start, ok_end).replace("[1]", "\"some\"")).is_err());
        assert!(
            spec(&base(ok_play, ok_start, ok_end).replace("\"priority\": 1", "\"priority\": 1001"))
                .is_err()
        );
    }

    #[test]
    fn override_scopes_read_as_documented() -> Result<(), serde_json::Error> {
        assert_eq!(
            serde_json::from_str::<OverrideScope>(r#""next_change""#)?,
            OverrideScope::NextChange
        );
        assert_eq!(
            serde_json::from_str::<OverrideScope>(r#"{"for_s": 600}"#)?,
            OverrideScope::ForS(600)
        );
        assert!(OverrideScope::ForS(0).check().is_err());
        Ok(())
    }
}
