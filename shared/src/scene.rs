//! Scene documents: a stack of layers, each an effect with its parameters, an opacity,
//! a blend mode and an optional pixel region. The same schema is read from TOML files
//! (with a `format` version) and from JSON bodies.

use crate::geometry::MAX_COORDINATE;
use crate::ids::AssetId;
use crate::values::{Fraction, Opacity, RangeError, Rgb, Speed};
use serde::{Deserialize, Serialize};

/// The scene-file format this build reads and writes.
pub const SCENE_FORMAT_VERSION: u32 = 1;
/// Most layers one scene may stack.
pub const MAX_LAYERS: usize = 32;
/// Most colours a gradient may have.
pub const MAX_GRADIENT_COLORS: usize = 16;
/// Longest scene name, in characters.
pub const MAX_NAME_LEN: usize = 64;

/// A scene as written by a user: name, description and layers (bottom first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SceneSpec {
    /// Unique name, 1-64 characters of letters, digits, `-`, `_` or space.
    pub name: SceneName,
    /// Free text for the content team.
    #[serde(default)]
    pub description: String,
    /// Layers, rendered bottom (first) to top (last).
    pub layers: Layers,
}

/// A scene file in `scenes/`: a format version, the canvas it was written for, and
/// the scene itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SceneFile {
    /// Format version; must be [`SCENE_FORMAT_VERSION`].
    pub format: u32,
    /// Unique name of the scene.
    pub name: SceneName,
    /// Free text for the content team.
    #[serde(default)]
    pub description: String,
    /// Name of the canvas the look was designed for (informational; any canvas may play it).
    #[serde(default)]
    pub canvas: Option<String>,
    /// Layers, rendered bottom (first) to top (last).
    pub layers: Layers,
}

impl SceneFile {
    /// The scene the file describes.
    pub fn into_spec(self) -> SceneSpec {
        SceneSpec {
            name: self.name,
            description: self.description,
            layers: self.layers,
        }
    }
}

/// A validated scene name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SceneName(String);

crate::openapi::schema!(
    SceneName,
    "SceneName",
    crate::openapi::short_name(MAX_NAME_LEN)
);

impl SceneName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SceneName {
    type Error = RangeError;
    fn try_from(s: String) -> Result<Self, RangeError> {
        let ok_char = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | ' ' | '.');
        if s.trim().is_empty() || s.chars().count() > MAX_NAME_LEN || s.trim() != s {
            return Err(RangeError(format!(
                "name must be 1-{MAX_NAME_LEN} characters without leading or trailing spaces, got {s:?}"
            )));
        }
        if !s.chars().all(ok_char) {
            return Err(RangeError(format!(
                "name may hold letters, digits, '-', '_', '.' and spaces only, got {s:?}"
            )));
        }
        Ok(Self(s))
    }
}

impl From<SceneName> for String {
    fn from(n: SceneName) -> String {
        n.0
    }
}

impl std::fmt::Display for SceneName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The layers of a scene: 1 to [`MAX_LAYERS`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<LayerSpec>", into = "Vec<LayerSpec>")]
pub struct Layers(Vec<LayerSpec>);

crate::openapi::schema_with!(Layers, "Layers", layer_schema::layers(), [LayerSpec]);

impl Layers {
    /// The layers, bottom first.
    pub fn as_slice(&self) -> &[LayerSpec] {
        &self.0
    }
}

impl TryFrom<Vec<LayerSpec>> for Layers {
    type Error = RangeError;
    fn try_from(v: Vec<LayerSpec>) -> Result<Self, RangeError> {
        if v.is_empty() || v.len() > MAX_LAYERS {
            return Err(RangeError(format!(
                "a scene needs 1 to {MAX_LAYERS} layers, got {}",
                v.len()
            )));
        }
        Ok(Self(v))
    }
}

impl From<Layers> for Vec<LayerSpec> {
    fn from(l: Layers) -> Self {
        l.0
    }
}

crate::openapi::schema_with!(
    LayerSpec,
    "Layer",
    layer_schema::layer(),
    [
        Rgb, Speed, Fraction, Opacity, BlendMode, Region, AssetId, Fit, TextSize
    ]
);

/// A layer's schema: one closed object per effect, each listing only the fields
/// that effect takes, with their bounds.
#[cfg(feature = "openapi")]
mod layer_schema {
    use super::{
        AssetId, BlendMode, Fit, Fraction, LayerSpec, MAX_GRADIENT_COLORS, MAX_LAYERS, MAX_TEXT,
        Opacity, Region, Rgb, Speed, TextSize,
    };
    use crate::openapi::{of, or_null};
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{
        AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type,
    };

    /// One effect's layer: `required` and `optional` fields, plus the fields every
    /// layer takes.
    fn variant(
        effect: &str,
        description: &str,
        required: Vec<(&str, RefOr<Schema>)>,
        optional: Vec<(&str, RefOr<Schema>)>,
    ) -> ObjectBuilder {
        let mut object = ObjectBuilder::new()
            .description(Some(description))
            .property(
                "effect",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([effect])),
            )
            .required("effect");
        for (name, schema) in required {
            object = object.property(name, schema).required(name);
        }
        let common = [
            ("opacity", or_null(of::<Opacity>())),
            ("blend", or_null(of::<BlendMode>())),
            ("region", or_null(of::<Region>())),
        ];
        for (name, schema) in optional.into_iter().chain(common) {
            object = object.property(name, schema);
        }
        object.additional_properties(Some(AdditionalProperties::FreeForm(false)))
    }

    pub(super) fn layer() -> RefOr<Schema> {
        let colors = ArrayBuilder::new()
            .items(of::<Rgb>())
            .min_items(Some(2))
            .max_items(Some(MAX_GRADIENT_COLORS));
        let width = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(u32::MAX));
        let scale = ObjectBuilder::new()
            .schema_type(Type::Number)
            .exclusive_minimum(Some(0))
            .maximum(Some(1000));
        let angle = ObjectBuilder::new()
            .schema_type(Type::Number)
            .minimum(Some(-360))
            .maximum(Some(360));
        let speed = || or_null(of::<Speed>());
        let background = || or_null(of::<Rgb>());
        OneOfBuilder::new()
            .item(variant(
                "solid",
                "One colour everywhere",
                vec![("color", of::<Rgb>())],
                vec![],
            ))
            .item(variant(
                "gradient",
                "Colour stops spread along the pixels; speed scrolls them (canvas lengths/s, default 0); on a canvas with a geometry they run across x, or at `angle` degrees (90: top to bottom)",
                vec![("colors", colors.into())],
                vec![("speed", speed()), ("angle", or_null(angle))],
            ))
            .item(variant(
                "chase",
                "A block of `width` pixels (default 10) running at `speed` pixels/s (default 30)",
                vec![("color", of::<Rgb>())],
                vec![
                    ("background", background()),
                    ("width", or_null(width)),
                    ("speed", speed()),
                ],
            ))
            .item(variant(
                "rainbow",
                "The colour wheel along the canvas, `scale` times (default 1), turning `speed` times/s (default 0.1)",
                vec![],
                vec![("speed", speed()), ("scale", or_null(scale))],
            ))
            .item(variant(
                "image",
                "A picture from the content library (an approved version plays: the asset's live one, or the `version` pinned), fitted to the layer's area by `fit` (default contain) and placed by `position` ([0, 0] top left to [1, 1] bottom right, default centre)",
                vec![("asset", of::<AssetId>())],
                vec![
                    ("version", or_null(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(u32::MAX)))),
                    ("fit", or_null(of::<Fit>())),
                    ("position", or_null(crate::openapi::numbers(2, 0.0, 1.0, "[x, y] from [0, 0] (top left) to [1, 1] (bottom right)"))),
                ],
            ))
            .item(variant(
                "video",
                "A video from the content library (with the `media` feature; an approved version plays, as for images), decoded to the layer's area at the canvas's frame rate, fitted by `fit` and placed by `position`; `speed` is the playback rate (0.1 to 4, default 1) and `loop` (default true) starts it again at its end",
                vec![("asset", of::<AssetId>())],
                vec![
                    ("version", or_null(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(u32::MAX)))),
                    ("fit", or_null(of::<Fit>())),
                    ("position", or_null(crate::openapi::numbers(2, 0.0, 1.0, "[x, y] from [0, 0] (top left) to [1, 1] (bottom right)"))),
                    ("speed", or_null(ObjectBuilder::new().schema_type(Type::Number).minimum(Some(0.1)).maximum(Some(4.0)))),
                    ("loop", or_null(ObjectBuilder::new().schema_type(Type::Boolean))),
                ],
            ))
            .item(variant(
                "text",
                "A message in Limelight's pixel font (printable ASCII), `color` on `background` (none: the layers below show through), in `size` small (3 x 5 cells), medium (5 x 7, the default) or large (10 x 14); still and placed by `position` when `speed` is 0 (the default), otherwise scrolling across the layer's area at `speed` cells/s (positive: right to left), placed upright by `position`",
                vec![
                    ("text", ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(MAX_TEXT)).pattern(Some("^[ -~]+$")).into()),
                    ("color", of::<Rgb>()),
                ],
                vec![
                    ("background", background()),
                    ("size", or_null(of::<TextSize>())),
                    ("speed", speed()),
                    ("position", or_null(crate::openapi::numbers(2, 0.0, 1.0, "[x, y] from [0, 0] (top left) to [1, 1] (bottom right)"))),
                ],
            ))
            .item(variant(
                "sparkle",
                "Random pixels flashing `color` over `background`",
                vec![("color", of::<Rgb>())],
                vec![
                    ("background", background()),
                    ("density", or_null(of::<Fraction>())),
                    ("speed", speed()),
                ],
            ))
            .description(Some(
                "One layer: an effect composited onto the layers below it",
            ))
            .into()
    }

    pub(super) fn layers() -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(of::<LayerSpec>())
            .min_items(Some(1))
            .max_items(Some(MAX_LAYERS))
            .description(Some("The layers of a scene, bottom first"))
            .into()
    }
}

/// One layer: an effect composited onto the layers below it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawLayer", into = "RawLayer")]
pub struct LayerSpec {
    /// What the layer draws.
    pub effect: Effect,
    /// How much of the layer shows (0-1).
    pub opacity: Opacity,
    /// How the layer combines with those below.
    pub blend: BlendMode,
    /// Pixels the layer covers; all of them when absent.
    pub region: Option<Region>,
}

/// What a layer draws. Times are seconds, positions pixels.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// One colour everywhere.
    Solid {
        /// The colour.
        color: Rgb,
    },
    /// Colours spread evenly along the pixels, blended between stops; `speed` scrolls it
    /// (lengths of the canvas per second).
    Gradient {
        /// 2 to 16 colour stops.
        colors: Vec<Rgb>,
        /// Scroll speed in canvas lengths per second (0 holds still).
        speed: Speed,
        /// Direction in degrees on a canvas with a geometry (0 runs left to right,
        /// 90 top to bottom); none runs across x there, and along the wiring on a
        /// canvas without one.
        angle: Option<f64>,
    },
    /// A block of `width` pixels running along the canvas at `speed` pixels per second.
    Chase {
        /// Colour of the running block.
        color: Rgb,
        /// Colour of the other pixels.
        background: Rgb,
        /// Length of the block in pixels.
        width: u32,
        /// Pixels per second; negative runs backwards.
        speed: Speed,
    },
    /// The colour wheel spread along the canvas, turning `speed` times per second.
    Rainbow {
        /// Turns of the wheel per second.
        speed: Speed,
        /// How many times the wheel repeats along the canvas.
        scale: f64,
    },
    /// Random pixels flash `color` over `background`; `density` of them at a time,
    /// re-drawn `speed` times per second.
    Sparkle {
        /// Colour of a lit pixel.
        color: Rgb,
        /// Colour of the other pixels.
        background: Rgb,
        /// Share of pixels lit.
        density: Fraction,
        /// New sparkle patterns per second.
        speed: Speed,
    },
    /// A picture from the content library, fitted to the layer's area (the whole
    /// canvas, or its region's rectangle) on the canvas's pixel map.
    Image {
        /// The asset.
        asset: AssetId,
        /// A version pinned; the asset's live version when none is.
        version: Option<u32>,
        /// How the picture fills the area.
        fit: Fit,
        /// Where a picture that does not fill the area sits in it, `[x, y]` from
        /// `[0, 0]` (top left) to `[1, 1]` (bottom right); the centre by default.
        position: [f64; 2],
    },
    /// A video from the content library, decoded to the layer's area at the
    /// canvas's frame rate (with the `media` feature), fitted and placed as an
    /// image is.
    Video {
        /// The asset.
        asset: AssetId,
        /// A version pinned; the asset's live version when none is.
        version: Option<u32>,
        /// How the picture fills the area.
        fit: Fit,
        /// Where a picture that does not fill the area sits in it.
        position: [f64; 2],
        /// Playback rate: 1 is real time, from [`MIN_VIDEO_SPEED`] to
        /// [`MAX_VIDEO_SPEED`].
        speed: f64,
        /// Start again at the end (the default); otherwise the last frame stays.
        looping: bool,
    },
    /// A message in the pixel font, still or scrolling across the layer's area
    /// of the canvas's pixel map.
    Text {
        /// The message: printable ASCII, 1 to [`MAX_TEXT`] characters.
        text: String,
        /// Colour of the letters.
        color: Rgb,
        /// Colour behind them; none lets the layers below show through.
        background: Option<Rgb>,
        /// Letter size.
        size: TextSize,
        /// Cells per second, right to left (negative: left to right); 0 holds the
        /// message still.
        speed: Speed,
        /// Where the message sits in the area, `[x, y]` from `[0, 0]` (top left)
        /// to `[1, 1]` (bottom right); a scrolling message uses only `y`.
        position: [f64; 2],
    },
}

/// Slowest playback rate of a video layer.
pub const MIN_VIDEO_SPEED: f64 = 0.1;
/// Fastest playback rate of a video layer.
pub const MAX_VIDEO_SPEED: f64 = 4.0;

/// Longest message a text layer takes, in characters.
pub const MAX_TEXT: usize = 500;

/// Letter sizes of the pixel font.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TextSize {
    /// Capitals 3 cells wide and 5 high (lower case is drawn as capitals).
    Small,
    /// 5 cells wide and 7 high, with lower case.
    #[default]
    Medium,
    /// The medium letters doubled: 10 x 14.
    Large,
}

/// How a picture fills its area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    /// Scaled to the area, whatever its proportions.
    Stretch,
    /// Scaled to fit inside, proportions kept; the rest of the area shows through.
    #[default]
    Contain,
    /// Scaled to cover the whole area, proportions kept; the overflow is cut.
    Cover,
    /// One picture pixel to one cell of the pixel map.
    None,
}

impl Effect {
    /// The name of the effect as written in scenes.
    pub fn kind(&self) -> EffectKind {
        match self {
            Effect::Solid { .. } => EffectKind::Solid,
            Effect::Gradient { .. } => EffectKind::Gradient,
            Effect::Chase { .. } => EffectKind::Chase,
            Effect::Rainbow { .. } => EffectKind::Rainbow,
            Effect::Sparkle { .. } => EffectKind::Sparkle,
            Effect::Image { .. } => EffectKind::Image,
            Effect::Video { .. } => EffectKind::Video,
            Effect::Text { .. } => EffectKind::Text,
        }
    }
}

/// Names of the effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EffectKind {
    /// See [`Effect::Solid`].
    Solid,
    /// See [`Effect::Gradient`].
    Gradient,
    /// See [`Effect::Chase`].
    Chase,
    /// See [`Effect::Rainbow`].
    Rainbow,
    /// See [`Effect::Sparkle`].
    Sparkle,
    /// See [`Effect::Image`].
    Image,
    /// See [`Effect::Video`].
    Video,
    /// See [`Effect::Text`].
    Text,
}

/// How a layer combines with the layers below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BlendMode {
    /// The layer covers what is below (by its opacity).
    #[default]
    Normal,
    /// Channels add, clipped at full.
    Add,
    /// Channels multiply: the layer darkens.
    Multiply,
    /// Inverse multiply: the layer lightens.
    Screen,
    /// The brighter of the two per channel.
    Max,
}

/// Where a layer draws: a run of pixels in wire order, or a rectangle in canvas
/// coordinates (every pixel whose position is inside it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged, try_from = "RawRegion")]
pub enum Region {
    /// `len` pixels from `start` (0-based), in wire order.
    Run {
        /// First pixel.
        start: u32,
        /// Number of pixels.
        len: u32,
    },
    /// The pixels at `x <= px < x + width` and `y <= py < y + height`.
    Rect {
        /// Left edge.
        x: f64,
        /// Top edge.
        y: f64,
        /// Width, above 0.
        width: f64,
        /// Height, above 0.
        height: f64,
    },
}

impl Region {
    /// Whether a pixel at `[x, y]` is inside a rectangle (a run says nothing of
    /// positions: always false).
    pub fn contains(&self, [px, py]: [f64; 2]) -> bool {
        match *self {
            Region::Run { .. } => false,
            Region::Rect {
                x,
                y,
                width,
                height,
            } => px >= x && px < x + width && py >= y && py < y + height,
        }
    }
}

/// A region as written: the fields of either form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    start: Option<u32>,
    len: Option<u32>,
    x: Option<f64>,
    y: Option<f64>,
    width: Option<f64>,
    height: Option<f64>,
}

impl TryFrom<RawRegion> for Region {
    type Error = RangeError;

    fn try_from(r: RawRegion) -> Result<Self, RangeError> {
        let form = "a region is {\"start\", \"len\"} or {\"x\", \"y\", \"width\", \"height\"}";
        match r {
            RawRegion {
                start: Some(start),
                len: Some(len),
                x: None,
                y: None,
                width: None,
                height: None,
            } => {
                if len == 0 {
                    return Err(RangeError("region len must be at least 1".into()));
                }
                Ok(Region::Run { start, len })
            }
            RawRegion {
                start: None,
                len: None,
                x: Some(x),
                y: Some(y),
                width: Some(width),
                height: Some(height),
            } => {
                for (name, v) in [("x", x), ("y", y)] {
                    if !(v.is_finite() && v.abs() <= MAX_COORDINATE) {
                        return Err(RangeError(format!(
                            "region {name} must be within ±{MAX_COORDINATE}, got {v}"
                        )));
                    }
                }
                for (name, v) in [("width", width), ("height", height)] {
                    if !(v.is_finite() && v > 0.0 && v <= 2.0 * MAX_COORDINATE) {
                        return Err(RangeError(format!(
                            "region {name} must be above 0 and at most {}, got {v}",
                            2.0 * MAX_COORDINATE
                        )));
                    }
                }
                Ok(Region::Rect {
                    x,
                    y,
                    width,
                    height,
                })
            }
            _ => Err(RangeError(form.into())),
        }
    }
}

crate::openapi::schema!(Region, "Region", region_schema());

#[cfg(feature = "openapi")]
fn region_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use crate::openapi::{integer, number};
    let side = || number(f64::MIN_POSITIVE, 2.0 * MAX_COORDINATE);
    crate::openapi::exclusive(
        "Where a layer draws: a run of pixels in wire order, or a rectangle in canvas coordinates",
        &[],
        &[
            (
                "`len` pixels from `start` (0-based), in wire order",
                vec![
                    ("start", integer(0, i64::from(u32::MAX))),
                    ("len", integer(1, i64::from(u32::MAX))),
                ],
                vec![],
            ),
            (
                "The pixels at x <= px < x + width and y <= py < y + height",
                vec![
                    ("x", number(-MAX_COORDINATE, MAX_COORDINATE)),
                    ("y", number(-MAX_COORDINATE, MAX_COORDINATE)),
                    ("width", side()),
                    ("height", side()),
                ],
                vec![],
            ),
        ],
    )
}

/// How a crossfade moves from the old look to the new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FadeCurve {
    /// Even pace.
    #[default]
    Linear,
    /// Slow at both ends (smoothstep).
    EaseInOut,
}

/// Every field a layer may carry, as written; [`LayerSpec`] checks which belong to
/// which effect.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayer {
    effect: EffectKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    color: Option<Rgb>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    colors: Option<Vec<Rgb>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    background: Option<Rgb>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    speed: Option<Speed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scale: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    density: Option<Fraction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    angle: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    asset: Option<AssetId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fit: Option<Fit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    position: Option<[f64; 2]>,
    #[serde(default, rename = "loop", skip_serializing_if = "Option::is_none")]
    looping: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<TextSize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    opacity: Option<Opacity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    blend: Option<BlendMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

impl TryFrom<RawLayer> for LayerSpec {
    type Error = RangeError;

    fn try_from(raw: RawLayer) -> Result<Self, RangeError> {
        let kind = raw.effect;
        let name = match kind {
            EffectKind::Solid => "solid",
            EffectKind::Gradient => "gradient",
            EffectKind::Chase => "chase",
            EffectKind::Rainbow => "rainbow",
            EffectKind::Sparkle => "sparkle",
            EffectKind::Image => "image",
            EffectKind::Video => "video",
            EffectKind::Text => "text",
        };
        let allowed: &[&str] = match kind {
            EffectKind::Solid => &["color"],
            EffectKind::Gradient => &["colors", "speed", "angle"],
            EffectKind::Chase => &["color", "background", "width", "speed"],
            EffectKind::Rainbow => &["speed", "scale"],
            EffectKind::Sparkle => &["color", "background", "density", "speed"],
            EffectKind::Image => &["asset", "version", "fit", "position"],
            EffectKind::Video => &["asset", "version", "fit", "position", "speed", "loop"],
            EffectKind::Text => &["text", "color", "background", "size", "speed", "position"],
        };
        let present = [
            ("color", raw.color.is_some()),
            ("colors", raw.colors.is_some()),
            ("background", raw.background.is_some()),
            ("width", raw.width.is_some()),
            ("speed", raw.speed.is_some()),
            ("scale", raw.scale.is_some()),
            ("density", raw.density.is_some()),
            ("angle", raw.angle.is_some()),
            ("asset", raw.asset.is_some()),
            ("version", raw.version.is_some()),
            ("fit", raw.fit.is_some()),
            ("position", raw.position.is_some()),
            ("text", raw.text.is_some()),
            ("size", raw.size.is_some()),
            ("loop", raw.looping.is_some()),
        ];
        if let Some((field, _)) = present
            .iter()
            .find(|(field, set)| *set && !allowed.contains(field))
        {
            return Err(RangeError(format!(
                "field `{field}` does not apply to effect `{name}` (it takes: {})",
                allowed.join(", ")
            )));
        }
        let need = |field: &str| RangeError(format!("effect `{name}` needs field `{field}`"));
        let speed = |default: f64| match raw.speed {
            Some(s) => Ok(s),
            None => Speed::try_from(default),
        };
        let position = |what: &str| {
            let position = raw.position.unwrap_or([0.5, 0.5]);
            if position.iter().all(|p| (0.0..=1.0).contains(p)) {
                Ok(position)
            } else {
                Err(RangeError(format!(
                    "{what} position must be two numbers from 0 to 1, got {position:?}"
                )))
            }
        };
        let effect = match kind {
            EffectKind::Solid => Effect::Solid {
                color: raw.color.ok_or_else(|| need("color"))?,
            },
            EffectKind::Gradient => {
                let colors = raw.colors.ok_or_else(|| need("colors"))?;
                if colors.len() < 2 || colors.len() > MAX_GRADIENT_COLORS {
                    return Err(RangeError(format!(
                        "gradient needs 2 to {MAX_GRADIENT_COLORS} colors, got {}",
                        colors.len()
                    )));
                }
                if let Some(angle) = raw.angle
                    && !(angle.is_finite() && (-360.0..=360.0).contains(&angle))
                {
                    return Err(RangeError(format!(
                        "gradient angle must be -360 to 360 degrees, got {angle}"
                    )));
                }
                Effect::Gradient {
                    colors,
                    speed: speed(0.0)?,
                    angle: raw.angle,
                }
            }
            EffectKind::Chase => {
                let width = raw.width.unwrap_or(10);
                if width == 0 {
                    return Err(RangeError("chase width must be at least 1 pixel".into()));
                }
                Effect::Chase {
                    color: raw.color.ok_or_else(|| need("color"))?,
                    background: raw.background.unwrap_or(Rgb::BLACK),
                    width,
                    speed: speed(30.0)?,
                }
            }
            EffectKind::Rainbow => {
                let scale = raw.scale.unwrap_or(1.0);
                if !(scale.is_finite() && scale > 0.0 && scale <= 1000.0) {
                    return Err(RangeError(format!(
                        "rainbow scale must be above 0 and at most 1000, got {scale}"
                    )));
                }
                Effect::Rainbow {
                    speed: speed(0.1)?,
                    scale,
                }
            }
            EffectKind::Sparkle => Effect::Sparkle {
                color: raw.color.ok_or_else(|| need("color"))?,
                background: raw.background.unwrap_or(Rgb::BLACK),
                density: raw.density.unwrap_or_default(),
                speed: speed(10.0)?,
            },
            EffectKind::Image => {
                let position = position("image")?;
                if raw.version == Some(0) {
                    return Err(RangeError("image version must be at least 1".into()));
                }
                Effect::Image {
                    asset: raw.asset.ok_or_else(|| need("asset"))?,
                    version: raw.version,
                    fit: raw.fit.unwrap_or_default(),
                    position,
                }
            }
            EffectKind::Video => {
                if raw.version == Some(0) {
                    return Err(RangeError("video version must be at least 1".into()));
                }
                let rate = raw.speed.map_or(1.0, Speed::get);
                if !(MIN_VIDEO_SPEED..=MAX_VIDEO_SPEED).contains(&rate) {
                    return Err(RangeError(format!(
                        "video speed is a playback rate from {MIN_VIDEO_SPEED} to {MAX_VIDEO_SPEED}, got {rate}"
                    )));
                }
                Effect::Video {
                    asset: raw.asset.ok_or_else(|| need("asset"))?,
                    version: raw.version,
                    fit: raw.fit.unwrap_or_default(),
                    position: position("video")?,
                    speed: rate,
                    looping: raw.looping.unwrap_or(true),
                }
            }
            EffectKind::Text => {
                let text = raw.text.clone().ok_or_else(|| need("text"))?;
                let count = text.chars().count();
                if count == 0 || count > MAX_TEXT {
                    return Err(RangeError(format!(
                        "text must be 1 to {MAX_TEXT} characters, got {count}"
                    )));
                }
                if let Some(c) = text.chars().find(|c| !(' '..='~').contains(c)) {
                    return Err(RangeError(format!(
                        "text character {c:?} is not in the pixel font (printable ASCII only)"
                    )));
                }
                Effect::Text {
                    text,
                    color: raw.color.ok_or_else(|| need("color"))?,
                    background: raw.background,
                    size: raw.size.unwrap_or_default(),
                    speed: speed(0.0)?,
                    position: position("text")?,
                }
            }
        };
        Ok(LayerSpec {
            effect,
            opacity: raw.opacity.unwrap_or_default(),
            blend: raw.blend.unwrap_or_default(),
            region: raw.region,
        })
    }
}

impl From<LayerSpec> for RawLayer {
    fn from(layer: LayerSpec) -> Self {
        let mut raw = RawLayer {
            effect: layer.effect.kind(),
            color: None,
            colors: None,
            background: None,
            width: None,
            speed: None,
            scale: None,
            density: None,
            angle: None,
            asset: None,
            version: None,
            fit: None,
            position: None,
            looping: None,
            text: None,
            size: None,
            opacity: Some(layer.opacity),
            blend: Some(layer.blend),
            region: layer.region,
        };
        match layer.effect {
            Effect::Solid { color } => raw.color = Some(color),
            Effect::Gradient {
                colors,
                speed,
                angle,
            } => {
                raw.colors = Some(colors);
                raw.speed = Some(speed);
                raw.angle = angle;
            }
            Effect::Chase {
                color,
                background,
                width,
                speed,
            } => {
                raw.color = Some(color);
                raw.background = Some(background);
                raw.width = Some(width);
                raw.speed = Some(speed);
            }
            Effect::Rainbow { speed, scale } => {
                raw.speed = Some(speed);
                raw.scale = Some(scale);
            }
            Effect::Sparkle {
                color,
                background,
                density,
                speed,
            } => {
                raw.color = Some(color);
                raw.background = Some(background);
                raw.density = Some(density);
                raw.speed = Some(speed);
            }
            Effect::Image {
                asset,
                version,
                fit,
                position,
            } => {
                raw.asset = Some(asset);
                raw.version = version;
                raw.fit = Some(fit);
                raw.position = Some(position);
            }
            Effect::Video {
                asset,
                version,
                fit,
                position,
                speed,
                looping,
            } => {
                raw.asset = Some(asset);
                raw.version = version;
                raw.fit = Some(fit);
                raw.position = Some(position);
                raw.speed = Speed::try_from(speed).ok();
                raw.looping = Some(looping);
            }
            Effect::Text {
                text,
                color,
                background,
                size,
                speed,
                position,
            } => {
                raw.text = Some(text);
                raw.color = Some(color);
                raw.background = background;
                raw.size = Some(size);
                raw.speed = Some(speed);
                raw.position = Some(position);
            }
        }
        raw
    }
}

/// A stored scene as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scene {
    /// Database id.
    pub id: crate::ids::SceneId,
    /// Where it came from: `file` (seeded from scenes/) or `api`.
    pub origin: String,
    /// The scene document.
    #[serde(flatten)]
    pub spec: SceneSpec,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<SceneSpec, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn a_minimal_solid_scene_parses_and_round_trips() -> Result<(), serde_json::Error> {
        let spec = parse(r##"{"name":"orange","layers":[{"effect":"solid","color":"#FF8000"}]}"##)?;
        assert_eq!(
            spec.layers.as_slice()[0].effect,
            Effect::Solid {
                color: Rgb::new(255, 128, 0)
            }
        );
        let again: SceneSpec = serde_json::from_str(&serde_json::to_string(&spec)?)?;
        assert_eq!(again, spec);
        Ok(())
    }

    #[test]
    fn wrong_or_missing_fields_are_named() {
        let err = |json: &str| parse(json).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err(r#"{"name":"x","layers":[{"effect":"solid"}]}"#).contains("needs field `color`")
        );
        assert!(
            err(r##"{"name":"x","layers":[{"effect":"solid","color":"#000000","density":0.5}]}"##)
                .contains("`density` does not apply")
        );
        assert!(err(r#"{"name":"x","layers":[{"effect":"laser"}]}"#).contains("unknown variant"));
        assert!(err(r#"{"name":"x","layers":[]}"#).contains("1 to 32 layers"));
        assert!(
            err(r##"{"name":"x","bogus":1,"layers":[{"effect":"solid","color":"#000000"}]}"##)
                .contains("unknown field")
        );
        assert!(
            err(r##"{"name":"","layers":[{"effect":"solid","color":"#000000"}]}"##)
                .contains("name must be")
        );
    }

    #[test]
    fn a_region_is_a_run_or_a_rectangle_and_nothing_in_between() {
        let region = |json: &str| serde_json::from_str::<Region>(json).map_err(|e| e.to_string());
        assert_eq!(
            region(r#"{"start": 3, "len": 4}"#),
            Ok(Region::Run { start: 3, len: 4 })
        );
        let rect = region(r#"{"x": 0, "y": 0, "width": 4, "height": 2}"#);
        assert_eq!(
            rect,
            Ok(Region::Rect {
                x: 0.0,
                y: 0.0,
                width: 4.0,
                height: 2.0
            })
        );
        let rect = rect.unwrap_or(Region::Run { start: 0, len: 1 });
        assert!(rect.contains([3.0, 1.0]));
        assert!(!rect.contains([4.0, 1.0]) && !rect.contains([0.0, 2.0]));
        // Both forms round-trip as written.
        assert_eq!(
            serde_json::to_value(rect).ok(),
            Some(serde_json::json!({"x": 0.0, "y": 0.0, "width": 4.0, "height": 2.0}))
        );
        for (json, says) in [
            (r#"{"start": 3}"#, "a region is"),
            (r#"{"start": 3, "len": 4, "x": 1}"#, "a region is"),
            (r#"{"start": 3, "len": 0}"#, "len must be at least 1"),
            (
                r#"{"x": 0, "y": 0, "width": 0, "height": 2}"#,
                "width must be above 0",
            ),
            (
                r#"{"x": 1e9, "y": 0, "width": 1, "height": 2}"#,
                "x must be within",
            ),
            (
                r#"{"x": 0, "y": 0, "width": 1, "height": 2, "z": 1}"#,
                "unknown field",
            ),
        ] {
            let err = region(json).err().unwrap_or_default();
            assert!(err.contains(says), "{json}: {err}");
        }
    }
}
