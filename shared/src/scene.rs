//! Scene documents: a stack of layers, each an effect with its parameters, an opacity,
//! a blend mode and an optional pixel region. The same schema is read from TOML files
//! (with a `format` version) and from JSON bodies.

use crate::geometry::MAX_COORDINATE;
use crate::ids::AssetId;
use crate::input::{InputName, InputRef, Param};
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
        crate::values::check_short_name(&s, MAX_NAME_LEN)?;
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
        Rgb, Speed, Fraction, Opacity, BlendMode, AssetId, Fit, TextSize, InputRef, InputName
    ]
);

/// A layer's schema: one closed object per effect, each listing only the fields
/// that effect takes, with their bounds.
#[cfg(feature = "openapi")]
mod layer_schema {
    use super::{
        AssetId, BlendMode, Fit, Fraction, InputName, InputRef, LayerSpec, MAX_GRADIENT_COLORS,
        MAX_LAYERS, MAX_TEXT, Opacity, Rgb, Speed, TextSize,
    };
    use crate::openapi::{integer, number, of, or_null};
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
            ("opacity", or_null(bindable(of::<Opacity>()))),
            ("blend", or_null(of::<BlendMode>())),
            ("region", or_null(region())),
        ];
        for (name, schema) in optional.into_iter().chain(common) {
            object = object.property(name, schema);
        }
        object.additional_properties(Some(AdditionalProperties::FreeForm(false)))
    }

    /// `schema`, or an input read each frame.
    fn bindable(schema: impl Into<RefOr<Schema>>) -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(schema)
            .item(of::<InputRef>())
            .into()
    }

    /// `#RRGGBB`, or its channels one by one, each 0-255 or an input.
    fn color() -> RefOr<Schema> {
        let channel = || bindable(integer(0, 255));
        OneOfBuilder::new()
            .item(of::<Rgb>())
            .item(
                ObjectBuilder::new()
                    .description(Some("A colour by channel, each 0-255 or an input"))
                    .property("r", channel())
                    .property("g", channel())
                    .property("b", channel())
                    .required("r")
                    .required("g")
                    .required("b")
                    .additional_properties(Some(AdditionalProperties::FreeForm(false))),
            )
            .into()
    }

    /// `[x, y]` from `[0, 0]` (top left) to `[1, 1]` (bottom right), each may be an input.
    fn position() -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(bindable(number(0.0, 1.0)))
            .min_items(Some(2))
            .max_items(Some(2))
            .description(Some(
                "[x, y] from [0, 0] (top left) to [1, 1] (bottom right)",
            ))
            .into()
    }

    /// A follow or ripple layer's radius.
    fn radius() -> RefOr<Schema> {
        number(super::MIN_RADIUS, super::MAX_RADIUS)
    }

    /// A layer's region: a run of pixels, or a rectangle whose sides may be inputs.
    fn region() -> RefOr<Schema> {
        super::region_schema_of(
            "Where a layer draws: a run of pixels in wire order, or a rectangle in canvas coordinates (each side a number or an input)",
            bindable,
        )
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
        let angle = || {
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .minimum(Some(-360))
                .maximum(Some(360))
        };
        let speed = || or_null(bindable(of::<Speed>()));
        let background = || or_null(color());
        OneOfBuilder::new()
            .item(variant(
                "solid",
                "One colour everywhere",
                vec![("color", color())],
                vec![],
            ))
            .item(variant(
                "gradient",
                "Colour stops spread along the pixels; speed scrolls them (canvas lengths/s, default 0); on a canvas with a geometry they run across x, or at `angle` degrees (90: top to bottom)",
                vec![("colors", colors.into())],
                vec![("speed", speed()), ("angle", or_null(angle()))],
            ))
            .item(variant(
                "chase",
                "A block of `width` pixels (default 10) running at `speed` pixels/s (default 30)",
                vec![("color", color())],
                vec![
                    ("background", background()),
                    ("width", or_null(bindable(width))),
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
                    ("position", or_null(position())),
                ],
            ))
            .item(variant(
                "video",
                "A video from the content library (with the `media` feature; an approved version plays, as for images), decoded to the layer's area at the canvas's frame rate, fitted by `fit` and placed by `position`; `speed` is the playback rate (0.1 to 4, default 1) and `loop` (default true) starts it again at its end",
                vec![("asset", of::<AssetId>())],
                vec![
                    ("version", or_null(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(u32::MAX)))),
                    ("fit", or_null(of::<Fit>())),
                    ("position", or_null(position())),
                    ("speed", or_null(ObjectBuilder::new().schema_type(Type::Number).minimum(Some(0.1)).maximum(Some(4.0)))),
                    ("loop", or_null(ObjectBuilder::new().schema_type(Type::Boolean))),
                ],
            ))
            .item(variant(
                "text",
                "A message in Limelight's pixel font (printable ASCII), `color` on `background` (none: the layers below show through), in `size` small (3 x 5 cells), medium (5 x 7, the default) or large (10 x 14); still and placed by `position` when `speed` is 0 (the default), otherwise scrolling across the layer's area at `speed` cells/s (positive: right to left), placed upright by `position`",
                vec![
                    ("text", ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(MAX_TEXT)).pattern(Some("^[ -~]+$")).into()),
                    ("color", color()),
                ],
                vec![
                    ("background", background()),
                    ("size", or_null(of::<TextSize>())),
                    ("speed", speed()),
                    ("position", or_null(position())),
                ],
            ))
            .item(variant(
                "level",
                "A bar graph: the first `level` (0-1, usually an input) of the pixels lit `color` over `background` (default black), along the wiring, or at `angle` degrees on a canvas with a geometry (0: left to right, default; 90: top to bottom)",
                vec![("level", bindable(of::<Fraction>())), ("color", color())],
                vec![("background", background()), ("angle", or_null(angle()))],
            ))
            .item(variant(
                "follow",
                "A soft glow of `radius` (lengths of the pixel map's longer side, 0.01-2, default 0.1) round each blob the `camera` input tracks, or round `position` ([x, y] in lengths of the map's box, usually inputs) without a camera; the layers below show round it",
                vec![("color", color())],
                vec![
                    ("camera", or_null(of::<InputName>())),
                    ("position", or_null(position())),
                    ("radius", or_null(radius())),
                ],
            ))
            .item(variant(
                "ripple",
                "Rings of `color` growing at `speed` (map lengths/s, default 0.5) to `radius` (default 0.5) and fading as they grow: from where a blob of the `camera` input entered, from `position` when the `trigger` input rises past 0.5 (a touch), or from `position` again and again with neither",
                vec![("color", color())],
                vec![
                    ("camera", or_null(of::<InputName>())),
                    ("trigger", or_null(of::<InputName>())),
                    ("position", or_null(position())),
                    ("speed", or_null(ObjectBuilder::new().schema_type(Type::Number).exclusive_minimum(Some(0)).maximum(Some(1000)))),
                    ("radius", or_null(radius())),
                ],
            ))
            .item(variant(
                "sparkle",
                "Random pixels flashing `color` over `background`",
                vec![("color", color())],
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
    /// Parameters read from inputs each frame instead of the constants above
    /// (which hold what an empty input, 0, gives).
    pub inputs: Vec<Bound>,
}

/// A layer parameter that reads an input.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// Which parameter.
    pub target: Target,
    /// The input value, scale and offset.
    pub source: InputRef,
}

/// A layer parameter an input can drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The layer's opacity (0..1).
    Opacity,
    /// A channel (0 red, 1 green, 2 blue) of `color` (0..255).
    Color(usize),
    /// A channel of `background` (0..255).
    Background(usize),
    /// The effect's speed.
    Speed,
    /// A chase's block width (pixels, at least 1).
    Width,
    /// `position[0]` or `position[1]` (0..1).
    Position(usize),
    /// A region rectangle's side: 0 x, 1 y, 2 width, 3 height.
    Region(usize),
    /// A level bar's fill (0..1).
    Level,
}

impl Target {
    /// What a full input value spans when its reference gives no scale.
    pub fn natural_span(self) -> f64 {
        match self {
            Target::Color(_) | Target::Background(_) => 255.0,
            _ => 1.0,
        }
    }
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
    /// A bar graph: the first `level` of the pixels (in wire order, or along
    /// `angle` on a canvas with a geometry) lit `color`, the rest `background`,
    /// the pixel at the edge lit in part.
    Level {
        /// How much of the bar is lit, 0..1 (usually an input).
        level: f64,
        /// Colour of the lit part.
        color: Rgb,
        /// Colour of the rest.
        background: Rgb,
        /// Direction in degrees on a canvas with a geometry (0: left to right,
        /// 90: top to bottom); along the wiring without one.
        angle: Option<f64>,
    },
    /// A soft glow of `radius` round each blob a camera tracks, or round
    /// `position` (usually two inputs) without a camera; the layers below show
    /// round it.
    Follow {
        /// The camera whose blobs it follows.
        camera: Option<InputName>,
        /// Where the glow is without a camera, `[x, y]` in lengths of the pixel
        /// map's box (`[0, 0]` top left, `[1, 1]` bottom right).
        position: [f64; 2],
        /// Colour of the glow.
        color: Rgb,
        /// Radius in lengths of the map's longer side.
        radius: f64,
    },
    /// Rings that grow from where something happened and fade as they grow: a
    /// camera's blob entering, an input rising past one half (a touch, at
    /// `position`), or, with neither, a ring from `position` again and again.
    Ripple {
        /// The camera whose entering blobs start rings.
        camera: Option<InputName>,
        /// The input whose rise starts a ring at `position`.
        trigger: Option<InputName>,
        /// Where triggered and repeating rings start, in lengths of the map's box.
        position: [f64; 2],
        /// Colour of the rings.
        color: Rgb,
        /// How fast a ring grows, in lengths of the map's longer side per second.
        speed: Speed,
        /// How far a ring grows before it is gone, in lengths of the map's
        /// longer side.
        radius: f64,
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

/// Smallest radius of a follow or ripple layer, in lengths of the pixel map.
pub const MIN_RADIUS: f64 = 0.01;
/// Largest radius of a follow or ripple layer.
pub const MAX_RADIUS: f64 = 2.0;

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
            Effect::Level { .. } => EffectKind::Level,
            Effect::Follow { .. } => EffectKind::Follow,
            Effect::Ripple { .. } => EffectKind::Ripple,
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
    /// See [`Effect::Level`].
    Level,
    /// See [`Effect::Follow`].
    Follow,
    /// See [`Effect::Ripple`].
    Ripple,
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
    region_schema_of(
        "Where a layer draws: a run of pixels in wire order, or a rectangle in canvas coordinates",
        |side| side,
    )
}

/// A region's schema, each side of its rectangle as `side` makes it.
#[cfg(feature = "openapi")]
fn region_schema_of(
    description: &str,
    side: impl Fn(
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    ) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use crate::openapi::{integer, number};
    let length = || side(number(f64::MIN_POSITIVE, 2.0 * MAX_COORDINATE));
    crate::openapi::exclusive(
        description,
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
                    ("x", side(number(-MAX_COORDINATE, MAX_COORDINATE))),
                    ("y", side(number(-MAX_COORDINATE, MAX_COORDINATE))),
                    ("width", length()),
                    ("height", length()),
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

/// A colour as a layer writes it: `#RRGGBB`, or its channels one by one, each a
/// number 0-255 or an input (`{"r": 255, "g": {"input": "level"}, "b": 0}`).
#[derive(Debug, Clone, PartialEq)]
enum ColorParam {
    Fixed(Rgb),
    Channels(Channels),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Channels {
    r: Param<u8>,
    g: Param<u8>,
    b: Param<u8>,
}

impl Serialize for ColorParam {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ColorParam::Fixed(c) => c.serialize(serializer),
            ColorParam::Channels(c) => c.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ColorParam {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ColorParam;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a colour #RRGGBB, or {\"r\", \"g\", \"b\"} each 0-255 or {\"input\": name}",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ColorParam, E> {
                v.parse().map(ColorParam::Fixed).map_err(E::custom)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<ColorParam, A::Error> {
                Channels::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(ColorParam::Channels)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A region as a layer writes it: a rectangle's sides may be inputs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayerRegion {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    len: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<Param<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    y: Option<Param<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    width: Option<Param<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    height: Option<Param<f64>>,
}

/// Every field a layer may carry, as written; [`LayerSpec`] checks which belong to
/// which effect.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayer {
    effect: EffectKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    color: Option<ColorParam>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    colors: Option<Vec<Rgb>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    background: Option<ColorParam>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    width: Option<Param<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    speed: Option<Param<Speed>>,
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
    position: Option<[Param<f64>; 2]>,
    #[serde(default, rename = "loop", skip_serializing_if = "Option::is_none")]
    looping: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<TextSize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    level: Option<Param<Fraction>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    camera: Option<InputName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trigger: Option<InputName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    radius: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    opacity: Option<Param<Opacity>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    blend: Option<BlendMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<RawLayerRegion>,
}

/// Collects the parameters a layer reads from inputs while its constants are
/// parsed: an input's constant is what an empty input (0) gives.
#[derive(Default)]
struct Binder(Vec<Bound>);

impl Binder {
    /// The constant of `param`, or (for an input) `at_zero` of what an empty
    /// input gives, remembering the input for `target`.
    fn take<T>(&mut self, param: Param<T>, target: Target, at_zero: impl FnOnce(f64) -> T) -> T {
        match param {
            Param::Value(v) => v,
            Param::Input(source) => {
                let zero = source.apply(0.0, target.natural_span());
                self.0.push(Bound { target, source });
                at_zero(zero)
            }
        }
    }

    fn color(&mut self, color: ColorParam, channel_of: fn(usize) -> Target) -> Rgb {
        match color {
            ColorParam::Fixed(c) => c,
            ColorParam::Channels(Channels { r, g, b }) => {
                let mut out = [0u8; 3];
                for (i, p) in [r, g, b].into_iter().enumerate() {
                    out[i] = self.take(p, channel_of(i), channel);
                }
                Rgb::new(out[0], out[1], out[2])
            }
        }
    }
}

/// A colour channel from a number, clamped to 0..=255.
pub fn channel(v: f64) -> u8 {
    v.clamp(0.0, 255.0).round() as u8
}

/// A speed from a number, clamped to its range.
pub fn speed_of(v: f64) -> Speed {
    Speed::try_from(v.clamp(Speed::MIN, Speed::MAX)).unwrap_or_default()
}

/// An opacity from a number, clamped to 0..=1.
pub fn opacity_of(v: f64) -> Opacity {
    Opacity::try_from(v.clamp(0.0, 1.0)).unwrap_or_default()
}

/// A chase width from a number: at least 1 pixel.
pub fn width_of(v: f64) -> u32 {
    v.clamp(1.0, f64::from(u32::MAX)).round() as u32
}

/// A coordinate of a region's rectangle from a number, clamped so it stays valid
/// (sides at least a hundredth of a pixel).
pub fn region_side(side: usize, v: f64) -> f64 {
    if side < 2 {
        v.clamp(-MAX_COORDINATE, MAX_COORDINATE)
    } else {
        v.clamp(0.01, 2.0 * MAX_COORDINATE)
    }
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
            EffectKind::Level => "level",
            EffectKind::Follow => "follow",
            EffectKind::Ripple => "ripple",
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
            EffectKind::Level => &["level", "color", "background", "angle"],
            EffectKind::Follow => &["camera", "position", "color", "radius"],
            EffectKind::Ripple => &["camera", "trigger", "position", "color", "speed", "radius"],
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
            ("level", raw.level.is_some()),
            ("camera", raw.camera.is_some()),
            ("trigger", raw.trigger.is_some()),
            ("radius", raw.radius.is_some()),
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
        let mut bind = Binder::default();
        let need = |field: &str| RangeError(format!("effect `{name}` needs field `{field}`"));
        let color = raw.color.map(|c| bind.color(c, Target::Color));
        let background = raw.background.map(|c| bind.color(c, Target::Background));
        let speed = match raw.speed {
            Some(Param::Input(_)) if kind == EffectKind::Video => {
                return Err(RangeError(
                    "a video's speed is its playback rate and cannot follow an input".into(),
                ));
            }
            Some(Param::Input(_)) if kind == EffectKind::Ripple => {
                return Err(RangeError(
                    "a ripple's speed is how fast its rings grow and cannot follow an input".into(),
                ));
            }
            Some(p) => Some(bind.take(p, Target::Speed, speed_of)),
            None => None,
        };
        let speed = |default: f64| match speed {
            Some(s) => Ok(s),
            None => Speed::try_from(default),
        };
        let position = raw.position.map(|[x, y]| {
            [
                bind.take(x, Target::Position(0), |v| v.clamp(0.0, 1.0)),
                bind.take(y, Target::Position(1), |v| v.clamp(0.0, 1.0)),
            ]
        });
        let position = |what: &str| {
            let position = position.unwrap_or([0.5, 0.5]);
            if position.iter().all(|p| (0.0..=1.0).contains(p)) {
                Ok(position)
            } else {
                Err(RangeError(format!(
                    "{what} position must be two numbers from 0 to 1, got {position:?}"
                )))
            }
        };
        let width = raw.width.map(|p| bind.take(p, Target::Width, width_of));
        let level = raw.level.map(|p| {
            bind.take(p, Target::Level, |v| {
                Fraction::try_from(v.clamp(0.0, 1.0)).unwrap_or_default()
            })
        });
        let opacity = match raw.opacity {
            Some(p) => bind.take(p, Target::Opacity, opacity_of),
            None => Opacity::default(),
        };
        let region = match raw.region {
            Some(r) => Some(layer_region(r, &mut bind)?),
            None => None,
        };
        let angle = |what: &str| match raw.angle {
            Some(angle) if !(angle.is_finite() && (-360.0..=360.0).contains(&angle)) => {
                Err(RangeError(format!(
                    "{what} angle must be -360 to 360 degrees, got {angle}"
                )))
            }
            angle => Ok(angle),
        };
        let effect = match kind {
            EffectKind::Solid => Effect::Solid {
                color: color.ok_or_else(|| need("color"))?,
            },
            EffectKind::Gradient => {
                let colors = raw.colors.ok_or_else(|| need("colors"))?;
                if colors.len() < 2 || colors.len() > MAX_GRADIENT_COLORS {
                    return Err(RangeError(format!(
                        "gradient needs 2 to {MAX_GRADIENT_COLORS} colors, got {}",
                        colors.len()
                    )));
                }
                Effect::Gradient {
                    colors,
                    speed: speed(0.0)?,
                    angle: angle("gradient")?,
                }
            }
            EffectKind::Chase => {
                let width = width.unwrap_or(10);
                if width == 0 {
                    return Err(RangeError("chase width must be at least 1 pixel".into()));
                }
                Effect::Chase {
                    color: color.ok_or_else(|| need("color"))?,
                    background: background.unwrap_or(Rgb::BLACK),
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
                color: color.ok_or_else(|| need("color"))?,
                background: background.unwrap_or(Rgb::BLACK),
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
                let rate = speed(1.0)?.get();
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
                    color: color.ok_or_else(|| need("color"))?,
                    background,
                    size: raw.size.unwrap_or_default(),
                    speed: speed(0.0)?,
                    position: position("text")?,
                }
            }
            EffectKind::Level => Effect::Level {
                level: level.ok_or_else(|| need("level"))?.get(),
                color: color.ok_or_else(|| need("color"))?,
                background: background.unwrap_or(Rgb::BLACK),
                angle: angle("level")?,
            },
            EffectKind::Follow => Effect::Follow {
                camera: raw.camera,
                position: position("follow")?,
                color: color.ok_or_else(|| need("color"))?,
                radius: radius("follow", raw.radius, 0.1)?,
            },
            EffectKind::Ripple => {
                let speed = speed(0.5)?;
                if speed.get() <= 0.0 {
                    return Err(RangeError(format!(
                        "ripple speed must be above 0, got {}",
                        speed.get()
                    )));
                }
                Effect::Ripple {
                    camera: raw.camera,
                    trigger: raw.trigger,
                    position: position("ripple")?,
                    color: color.ok_or_else(|| need("color"))?,
                    speed,
                    radius: radius("ripple", raw.radius, 0.5)?,
                }
            }
        };
        Ok(LayerSpec {
            effect,
            opacity,
            blend: raw.blend.unwrap_or_default(),
            region,
            inputs: bind.0,
        })
    }
}

/// A follow or ripple layer's radius: `given`, or `default`, within range.
fn radius(what: &str, given: Option<f64>, default: f64) -> Result<f64, RangeError> {
    let r = given.unwrap_or(default);
    if r.is_finite() && (MIN_RADIUS..=MAX_RADIUS).contains(&r) {
        Ok(r)
    } else {
        Err(RangeError(format!(
            "{what} radius must be {MIN_RADIUS} to {MAX_RADIUS} lengths of the pixel map, got {r}"
        )))
    }
}

/// A layer's region: a run, or a rectangle whose sides may be inputs.
fn layer_region(r: RawLayerRegion, bind: &mut Binder) -> Result<Region, RangeError> {
    let mut sides = [r.x, r.y, r.width, r.height];
    let bound = sides
        .iter()
        .any(|side| matches!(side, Some(Param::Input(_))));
    if !bound {
        let value = |p: &mut Option<Param<f64>>| match p.take() {
            Some(Param::Value(v)) => Some(v),
            _ => None,
        };
        let [x, y, width, height] = &mut sides;
        return Region::try_from(RawRegion {
            start: r.start,
            len: r.len,
            x: value(x),
            y: value(y),
            width: value(width),
            height: value(height),
        });
    }
    if r.start.is_some() || r.len.is_some() || sides.iter().any(Option::is_none) {
        return Err(RangeError(
            "a region is {\"start\", \"len\"} or {\"x\", \"y\", \"width\", \"height\"}".into(),
        ));
    }
    let mut at = [0.0; 4];
    for (i, side) in sides.into_iter().enumerate() {
        let Some(side) = side else { continue };
        let value = match side {
            Param::Value(v) => Param::Value(region_side(i, v)),
            input => input,
        };
        at[i] = bind.take(value, Target::Region(i), |v| region_side(i, v));
    }
    let [x, y, width, height] = at;
    Region::try_from(RawRegion {
        start: None,
        len: None,
        x: Some(x),
        y: Some(y),
        width: Some(width),
        height: Some(height),
    })
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
            level: None,
            camera: None,
            trigger: None,
            radius: None,
            opacity: Some(Param::Value(layer.opacity)),
            blend: Some(layer.blend),
            region: layer.region.map(|region| match region {
                Region::Run { start, len } => RawLayerRegion {
                    start: Some(start),
                    len: Some(len),
                    x: None,
                    y: None,
                    width: None,
                    height: None,
                },
                Region::Rect {
                    x,
                    y,
                    width,
                    height,
                } => RawLayerRegion {
                    start: None,
                    len: None,
                    x: Some(Param::Value(x)),
                    y: Some(Param::Value(y)),
                    width: Some(Param::Value(width)),
                    height: Some(Param::Value(height)),
                },
            }),
        };
        let fixed = |c: Rgb| Some(ColorParam::Fixed(c));
        let at = |p: [f64; 2]| Some(p.map(Param::Value));
        match layer.effect {
            Effect::Solid { color } => raw.color = fixed(color),
            Effect::Gradient {
                colors,
                speed,
                angle,
            } => {
                raw.colors = Some(colors);
                raw.speed = Some(Param::Value(speed));
                raw.angle = angle;
            }
            Effect::Chase {
                color,
                background,
                width,
                speed,
            } => {
                raw.color = fixed(color);
                raw.background = fixed(background);
                raw.width = Some(Param::Value(width));
                raw.speed = Some(Param::Value(speed));
            }
            Effect::Rainbow { speed, scale } => {
                raw.speed = Some(Param::Value(speed));
                raw.scale = Some(scale);
            }
            Effect::Sparkle {
                color,
                background,
                density,
                speed,
            } => {
                raw.color = fixed(color);
                raw.background = fixed(background);
                raw.density = Some(density);
                raw.speed = Some(Param::Value(speed));
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
                raw.position = at(position);
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
                raw.position = at(position);
                raw.speed = Speed::try_from(speed).ok().map(Param::Value);
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
                raw.color = fixed(color);
                raw.background = background.and_then(fixed);
                raw.size = Some(size);
                raw.speed = Some(Param::Value(speed));
                raw.position = at(position);
            }
            Effect::Level {
                level,
                color,
                background,
                angle,
            } => {
                raw.level = Fraction::try_from(level).ok().map(Param::Value);
                raw.color = fixed(color);
                raw.background = fixed(background);
                raw.angle = angle;
            }
            Effect::Follow {
                camera,
                position,
                color,
                radius,
            } => {
                raw.camera = camera;
                raw.position = at(position);
                raw.color = fixed(color);
                raw.radius = Some(radius);
            }
            Effect::Ripple {
                camera,
                trigger,
                position,
                color,
                speed,
                radius,
            } => {
                raw.camera = camera;
                raw.trigger = trigger;
                raw.position = at(position);
                raw.color = fixed(color);
                raw.speed = Some(Param::Value(speed));
                raw.radius = Some(radius);
            }
        }
        // Parameters that read inputs are written as they were.
        for Bound { target, source } in layer.inputs {
            match target {
                Target::Opacity => raw.opacity = Some(Param::Input(source.clone())),
                Target::Speed => raw.speed = Some(Param::Input(source.clone())),
                Target::Width => raw.width = Some(Param::Input(source.clone())),
                Target::Level => raw.level = Some(Param::Input(source.clone())),
                Target::Position(i) => {
                    if let Some(p) = raw.position.as_mut().and_then(|p| p.get_mut(i)) {
                        *p = Param::Input(source.clone());
                    }
                }
                Target::Color(i) => set_channel(&mut raw.color, i, Param::Input(source.clone())),
                Target::Background(i) => {
                    set_channel(&mut raw.background, i, Param::Input(source.clone()))
                }
                Target::Region(i) => {
                    if let Some(r) = raw.region.as_mut() {
                        let side = match i {
                            0 => &mut r.x,
                            1 => &mut r.y,
                            2 => &mut r.width,
                            _ => &mut r.height,
                        };
                        *side = Some(Param::Input(source.clone()));
                    }
                }
            }
        }
        raw
    }
}

/// Write one channel of a colour as an input (the colour as channels from then on).
fn set_channel(color: &mut Option<ColorParam>, i: usize, input: Param<u8>) {
    let channels = match color.take() {
        Some(ColorParam::Channels(c)) => c,
        Some(ColorParam::Fixed(c)) => Channels {
            r: Param::Value(c.r),
            g: Param::Value(c.g),
            b: Param::Value(c.b),
        },
        None => Channels {
            r: Param::Value(0),
            g: Param::Value(0),
            b: Param::Value(0),
        },
    };
    let mut channels = channels;
    match i {
        0 => channels.r = input,
        1 => channels.g = input,
        _ => channels.b = input,
    }
    *color = Some(ColorParam::Channels(channels));
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
    fn parameters_read_inputs_and_round_trip_as_written() -> Result<(), serde_json::Error> {
        let json = r##"{"name": "x", "layers": [
            {"effect": "chase", "color": {"r": 255, "g": {"input": "level", "scale": 100}, "b": 0},
             "speed": {"input": "tempo", "scale": 50, "offset": 5}, "width": {"input": "size"},
             "opacity": {"input": "level"},
             "region": {"x": {"input": "where"}, "y": 0, "width": 4, "height": 1}}]}"##;
        let spec = parse(json)?;
        let layer = &spec.layers.as_slice()[0];
        let targets: Vec<Target> = layer.inputs.iter().map(|b| b.target).collect();
        assert_eq!(
            targets,
            [
                Target::Color(1),
                Target::Speed,
                Target::Width,
                Target::Opacity,
                Target::Region(0)
            ]
        );
        // The constants hold what an empty input gives: the offset, clamped.
        let Effect::Chase { speed, width, .. } = &layer.effect else {
            unreachable!("a chase")
        };
        assert_eq!((speed.get(), *width), (5.0, 1));
        let again: SceneSpec = serde_json::from_str(&serde_json::to_string(&spec)?)?;
        assert_eq!(again, spec);
        let err = |json: &str| parse(json).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err(r#"{"name":"x","layers":[{"effect":"video","asset":1,"speed":{"input":"a"}}]}"#)
                .contains("playback rate")
        );
        assert!(
            err(r#"{"name":"x","layers":[{"effect":"solid","color":{"r":1,"g":2}}]}"#)
                .contains("missing field `b`")
        );
        assert!(err(r##"{"name":"x","layers":[{"effect":"solid","color":"#FFFFFF","opacity":{"input":"a","bogus":1}}]}"##)
            .contains("unknown field"));
        assert!(
            err(r##"{"name":"x","layers":[{"effect":"level","color":"#FFFFFF"}]}"##)
                .contains("needs field `level`")
        );
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
