//! Canvas configuration (pixels, clock, output) and the live state of a canvas.

use crate::geometry::Geometry;
use crate::ids::CanvasId;
use crate::values::{
    Fps, Percent, PixelCount, PixelsPerUniverse, Priority, RangeError, Rgb, Universe,
};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Longest canvas name, in characters.
pub const MAX_CANVAS_NAME_LEN: usize = 64;
/// Longest sACN source name, in bytes (the field holds 64 with a terminating NUL).
pub const MAX_SOURCE_NAME_LEN: usize = 63;

/// A canvas as configured by a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CanvasBody", into = "CanvasBody")]
pub struct CanvasSpec {
    /// Unique display name.
    pub name: CanvasName,
    /// Number of RGB pixels: the geometry's count when it has one.
    pub pixels: PixelCount,
    /// Frame rate of the canvas clock.
    pub fps: Fps,
    /// Where and how frames are sent.
    pub output: OutputSpec,
    /// The safe look shown while emergency override is on.
    pub emergency_color: Rgb,
    /// Where the pixels are; one strip along x when absent.
    pub geometry: Option<Geometry>,
}

/// A canvas as its JSON has it: `pixels`, a `geometry`, or both when they agree.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CanvasSpec))]
#[serde(deny_unknown_fields)]
pub struct CanvasBody {
    /// Unique display name.
    name: CanvasName,
    /// Number of RGB pixels; may be left out when a geometry gives it, and must
    /// match it when both are given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pixels: Option<PixelCount>,
    /// Frame rate of the canvas clock.
    #[serde(default)]
    fps: Fps,
    /// Where and how frames are sent.
    output: OutputSpec,
    /// The safe look shown while emergency override is on.
    #[serde(default = "white")]
    emergency_color: Rgb,
    /// Where the pixels are (a matrix, strips, or points); one strip along x when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    geometry: Option<Geometry>,
}

impl TryFrom<CanvasBody> for CanvasSpec {
    type Error = RangeError;
    fn try_from(b: CanvasBody) -> Result<Self, RangeError> {
        let pixels = match (&b.geometry, b.pixels) {
            (Some(g), given) => {
                let placed = g.pixel_count()?;
                if given.is_some_and(|p| p != placed) {
                    return Err(RangeError(format!(
                        "pixels ({}) must match the geometry's {} pixels, or be left out",
                        given.map_or(0, PixelCount::get),
                        placed.get()
                    )));
                }
                placed
            }
            (None, Some(p)) => p,
            (None, None) => {
                return Err(RangeError(
                    "a canvas needs pixels or a geometry that places them".into(),
                ));
            }
        };
        Ok(Self {
            name: b.name,
            pixels,
            fps: b.fps,
            output: b.output,
            emergency_color: b.emergency_color,
            geometry: b.geometry,
        })
    }
}

impl From<CanvasSpec> for CanvasBody {
    fn from(c: CanvasSpec) -> Self {
        Self {
            name: c.name,
            pixels: Some(c.pixels),
            fps: c.fps,
            output: c.output,
            emergency_color: c.emergency_color,
            geometry: c.geometry,
        }
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for CanvasSpec {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        // One of `pixels` and `geometry` is needed: a rule between fields that
        // `.ci/schemathesis_hooks.py` keeps, as a schema of their own would not
        // merge into the `Canvas` that flattens this one.
        <CanvasBody as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for CanvasSpec {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("CanvasSpec")
    }

    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <CanvasBody as utoipa::ToSchema>::schemas(schemas);
    }
}

fn white() -> Rgb {
    Rgb::WHITE
}

/// A validated canvas name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CanvasName(String);

crate::openapi::schema!(
    CanvasName,
    "CanvasName",
    crate::openapi::text(1, 64, crate::openapi::Form::Trimmed)
);

impl CanvasName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CanvasName {
    type Error = RangeError;
    fn try_from(s: String) -> Result<Self, RangeError> {
        if s.trim().is_empty() || s.trim() != s || s.chars().count() > MAX_CANVAS_NAME_LEN {
            return Err(RangeError(format!(
                "name must be 1-{MAX_CANVAS_NAME_LEN} characters without leading or trailing spaces, got {s:?}"
            )));
        }
        Ok(Self(s))
    }
}

impl From<CanvasName> for String {
    fn from(n: CanvasName) -> String {
        n.0
    }
}

/// sACN output of a canvas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// First universe; the canvas uses as many consecutive universes as its pixels need.
    pub universe: Universe,
    /// sACN priority of the stream.
    #[serde(default)]
    pub priority: Priority,
    /// Unicast receivers as `ip:port`; empty means multicast to each universe's group.
    #[serde(default)]
    pub destinations: Vec<Destination>,
    /// Universe on which a sync packet follows each frame, so receivers show all
    /// universes of the canvas on the same frame. No sync when absent.
    #[serde(default)]
    pub sync_universe: Option<Universe>,
    /// Order of the colour channels on the wire.
    #[serde(default)]
    pub channel_order: ChannelOrder,
    /// How pixels are spread across universes.
    #[serde(default)]
    pub packing: Packing,
    /// Pixels per universe with `pixel` packing (1-170).
    #[serde(default)]
    pub pixels_per_universe: PixelsPerUniverse,
    /// Source name in the packets; the canvas name when absent (at most 63 bytes).
    #[serde(default)]
    pub source_name: Option<SourceName>,
    /// Whether unchanged universes are sent every frame or only as keep-alive.
    #[serde(default)]
    pub send_mode: SendMode,
    /// Interval at which unchanged universes are resent in `on_change` mode, and at
    /// which the last frame is repeated if rendering stalls (200-1000 ms).
    #[serde(default)]
    pub keepalive_ms: KeepaliveMs,
}

/// A unicast receiver, `ip:port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Destination(pub SocketAddr);

crate::openapi::schema!(
    Destination,
    "Destination",
    crate::openapi::pattern(
        r"^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]):([0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$",
        "A receiver, IPv4 address and port"
    )
);

impl TryFrom<String> for Destination {
    type Error = RangeError;
    fn try_from(s: String) -> Result<Self, RangeError> {
        s.parse()
            .map(Destination)
            .map_err(|_| RangeError(format!("destination must be ip:port, got {s:?}")))
    }
}

impl From<Destination> for String {
    fn from(d: Destination) -> String {
        d.0.to_string()
    }
}

/// A source name that fits the 64-byte sACN field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SourceName(String);

crate::openapi::schema!(
    SourceName,
    "SourceName",
    crate::openapi::text(0, 63, crate::openapi::Form::Any)
);

impl SourceName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SourceName {
    type Error = RangeError;
    fn try_from(s: String) -> Result<Self, RangeError> {
        if s.len() > MAX_SOURCE_NAME_LEN || s.contains('\0') {
            return Err(RangeError(format!(
                "source_name must be at most {MAX_SOURCE_NAME_LEN} bytes without NUL"
            )));
        }
        Ok(Self(s))
    }
}

impl From<SourceName> for String {
    fn from(n: SourceName) -> String {
        n.0
    }
}

/// Keep-alive interval in milliseconds (200-1000, default 1000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct KeepaliveMs(u32);

crate::openapi::schema!(
    KeepaliveMs,
    "KeepaliveMs",
    crate::openapi::integer(200, 1000)
);

impl KeepaliveMs {
    /// The interval in milliseconds.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for KeepaliveMs {
    fn default() -> Self {
        Self(1000)
    }
}

impl TryFrom<u32> for KeepaliveMs {
    type Error = RangeError;
    fn try_from(v: u32) -> Result<Self, RangeError> {
        if !(200..=1000).contains(&v) {
            return Err(RangeError(format!(
                "keepalive_ms must be between 200 and 1000, got {v}"
            )));
        }
        Ok(Self(v))
    }
}

impl From<KeepaliveMs> for u32 {
    fn from(v: KeepaliveMs) -> u32 {
        v.0
    }
}

/// Colour channel order on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ChannelOrder {
    /// Red, green, blue.
    #[default]
    Rgb,
    /// Red, blue, green.
    Rbg,
    /// Green, red, blue (common on WS2811/WS2812 strips).
    Grb,
    /// Green, blue, red.
    Gbr,
    /// Blue, red, green.
    Brg,
    /// Blue, green, red.
    Bgr,
}

impl ChannelOrder {
    /// For each wire slot, the index of the source channel (0 = red).
    pub fn permutation(self) -> [usize; 3] {
        match self {
            ChannelOrder::Rgb => [0, 1, 2],
            ChannelOrder::Rbg => [0, 2, 1],
            ChannelOrder::Grb => [1, 0, 2],
            ChannelOrder::Gbr => [1, 2, 0],
            ChannelOrder::Brg => [2, 0, 1],
            ChannelOrder::Bgr => [2, 1, 0],
        }
    }
}

/// How pixels are spread across universes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Packing {
    /// Whole pixels per universe (`pixels_per_universe`, 170 uses 510 channels).
    #[default]
    Pixel,
    /// All 512 channels of every universe; a pixel may straddle two universes.
    Channel,
}

/// When universes are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SendMode {
    /// Every universe on every frame.
    #[default]
    EveryFrame,
    /// A universe when its data changed, and every `keepalive_ms` otherwise.
    OnChange,
}

/// A canvas as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Canvas {
    /// Database id.
    pub id: CanvasId,
    /// The configuration.
    #[serde(flatten)]
    pub spec: CanvasSpec,
    /// Universes the canvas sends, first and last inclusive.
    pub universes: UniverseRange,
}

/// A span of consecutive universes, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UniverseRange {
    /// First universe.
    pub first: u16,
    /// Last universe.
    pub last: u16,
}

/// What a canvas shows right now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CanvasState {
    /// The canvas.
    pub id: CanvasId,
    /// Its name.
    pub name: String,
    /// Scene on stage (the one faded to, while a fade runs).
    pub scene: Option<String>,
    /// Progress of a running crossfade, 0-1; absent when no fade runs.
    pub fade: Option<f64>,
    /// Canvas master in percent.
    pub master: Percent,
    /// Whether blackout is on.
    pub blackout: bool,
    /// Whether emergency override is latched on.
    pub emergency: bool,
    /// Frames handed to the output since the canvas started.
    pub frames_sent: u64,
    /// Frames skipped because a deadline had passed.
    pub frames_skipped: u64,
    /// Times the canvas was restarted after a failure.
    pub restarts: u32,
    /// The cue list loaded and where its playback stands; none when no list is loaded.
    #[serde(default)]
    pub cues: Option<crate::cues::Playhead>,
}
