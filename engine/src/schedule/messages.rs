//! Messages of the scheduler actor.

use super::plan::PlanEntry;
use crate::error::EngineError;
use actix::Message;
use chrono::{DateTime, Utc};
use limelight_shared::canvas::CanvasState;
use limelight_shared::ids::{CanvasId, ScheduleId};
use limelight_shared::schedule::{OverrideInfo, OverrideScope, Play, Preview, Timeline};

/// Add or replace an entry (already stored).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct PutEntry(pub PlanEntry);

/// Remove an entry (already removed from storage).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct RemoveEntry(pub ScheduleId);

/// Bring the plan to what another node stored: the entries (all of them, when
/// given) and the overrides of some canvases (`None`: none stored). A changed
/// override is shown here without being stored again; a hand-back fades over
/// `fade_ms`, or the entry's own fade.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Align {
    /// Every stored entry, or `None` to leave the entries as they are.
    pub entries: Option<Vec<PlanEntry>>,
    /// Canvases and their stored overrides.
    pub overrides: Vec<(CanvasId, Option<super::plan::Override>)>,
    /// Fade of a hand-back.
    pub fade_ms: Option<u32>,
}

/// The canvases now running.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SetCanvases(pub Vec<CanvasId>);

/// An operator takes a canvas by hand.
#[derive(Debug, Message)]
#[rtype(result = "Result<CanvasState, EngineError>")]
pub struct TakeOverride {
    /// The canvas.
    pub canvas: CanvasId,
    /// What to play.
    pub play: Play,
    /// For how long.
    pub scope: OverrideScope,
    /// Who.
    pub by: String,
}

/// Hand a canvas back to the schedule.
#[derive(Debug, Message)]
#[rtype(result = "Result<CanvasState, EngineError>")]
pub struct ReleaseOverride {
    /// The canvas.
    pub canvas: CanvasId,
    /// Fade to what the schedule plays; the entry's own fade when absent.
    pub fade_ms: Option<u32>,
}

/// Start the canvas's next scheduled entry now (held until that occurrence ends).
#[derive(Debug, Message)]
#[rtype(result = "Result<CanvasState, EngineError>")]
pub struct Advance {
    /// The canvas.
    pub canvas: CanvasId,
    /// Who.
    pub by: String,
}

/// What plays on every canvas at an instant.
#[derive(Debug, Message)]
#[rtype(result = "Preview")]
pub struct GetPreview(pub DateTime<Utc>);

/// The changes over a range.
#[derive(Debug, Message)]
#[rtype(result = "Timeline")]
pub struct GetTimeline {
    /// Start.
    pub from: DateTime<Utc>,
    /// End.
    pub to: DateTime<Utc>,
}

/// Every override in force.
#[derive(Debug, Message)]
#[rtype(result = "Vec<OverrideInfo>")]
pub struct GetOverrides;
