//! Bodies of live-control commands, shared by REST and the WebSocket.

use crate::scene::FadeCurve;
use crate::schedule::OverrideScope;
use crate::values::Percent;
use serde::{Deserialize, Serialize};

pub use crate::values::MAX_FADE_MS;

/// Put a scene on a canvas, crossfading from what shows now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TriggerScene {
    /// Scene name.
    pub scene: String,
    /// Crossfade time in milliseconds (0 cuts).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(maximum = 3_600_000))]
    pub fade_ms: u32,
    /// Shape of the crossfade.
    #[serde(default)]
    pub curve: FadeCurve,
    /// How long the scene holds the canvas against the schedule.
    #[serde(default)]
    pub scope: OverrideScope,
}

/// Switch blackout on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetBlackout {
    /// On or off.
    pub on: bool,
}

/// Switch emergency override on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetEmergency {
    /// On or off.
    pub on: bool,
}

/// Set a master level (a canvas master or the grand master).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetMaster {
    /// Level in percent, 0-100.
    pub level: Percent,
}

/// The grand master, which scales every canvas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrandMaster {
    /// Level in percent, 0-100.
    pub level: Percent,
}
