//! Camera inputs: a GStreamer source analysed for bright (or dark) blobs, each
//! tracked with an id that persists from frame to frame, and the camera's frame
//! mapped onto the canvases' pixel maps so that a layer can follow a blob or
//! ripple where one entered.

use super::InputName;
use crate::values::RangeError;
use serde::{Deserialize, Serialize};

/// Longest GStreamer source description, in bytes.
pub const MAX_SOURCE_LEN: usize = 1024;
/// Smallest analysis width or height, in pixels.
pub const MIN_ANALYSIS_SIDE: u32 = 8;
/// Largest analysis width, in pixels.
pub const MAX_ANALYSIS_WIDTH: u32 = 640;
/// Largest analysis height, in pixels.
pub const MAX_ANALYSIS_HEIGHT: u32 = 480;
/// Most blobs a camera tracks at once.
pub const MAX_BLOBS: u32 = 64;
/// Longest a blob may take to be confirmed or be missed before it leaves, in frames.
pub const MAX_TRACK_FRAMES: u32 = 1000;
/// Largest magnitude of a mapping's coordinates, in lengths of the pixel map.
pub const MAX_MAPPED: f64 = 10.0;

/// A camera: where its frames come from, how they are analysed, and where the
/// frame lands on the canvases' pixel maps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CameraInput {
    /// Unique name of the input; layers follow its blobs by this name.
    pub name: InputName,
    /// A GStreamer source description, e.g. `v4l2src device=/dev/video0` or
    /// `rtspsrc location=rtsp://10.0.0.20/stream ! decodebin`; Limelight adds
    /// `! videoconvert ! videoscale` to grey at the analysis size and its own sink.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[^\x00-\x1f\x7f]+$", min_length = 1, max_length = 1024)
    )]
    pub source: String,
    /// Analysis width in pixels (8-640, 160 by default).
    #[serde(default = "default_width")]
    #[cfg_attr(feature = "openapi", schema(minimum = 8, maximum = 640))]
    pub width: u32,
    /// Analysis height in pixels (8-480, 120 by default).
    #[serde(default = "default_height")]
    #[cfg_attr(feature = "openapi", schema(minimum = 8, maximum = 480))]
    pub height: u32,
    /// Grey level (1-255, 128 by default) at or above which a pixel belongs to a
    /// blob (below it when `dark`).
    #[serde(default = "default_threshold")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 255))]
    pub threshold: u8,
    /// Blobs are darker than the threshold (people against a bright floor).
    #[serde(default)]
    pub dark: bool,
    /// Fewest pixels a blob has at the analysis size (8 by default); smaller
    /// specks are noise.
    #[serde(default = "default_min_area")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 307_200))]
    pub min_area: u32,
    /// Most blobs tracked at once, the largest first (1-64, 16 by default).
    #[serde(default = "default_max_blobs")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 64))]
    pub max_blobs: u32,
    /// Frames a new blob must be seen in before it counts and enters (1-1000,
    /// 3 by default), so that a flicker makes no blob.
    #[serde(default = "default_min_seen")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub min_seen: u32,
    /// Frames a blob may go unseen before it leaves (0-1000, 5 by default), so
    /// that a blob lost for a moment keeps its id.
    #[serde(default = "default_max_missing")]
    #[cfg_attr(feature = "openapi", schema(maximum = 1000))]
    pub max_missing: u32,
    /// Farthest a blob moves between frames and keeps its id, in analysis pixels;
    /// a quarter of the larger side when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0.5, maximum = 800.0))]
    pub max_distance: Option<f64>,
    /// Where the camera's frame lands on a canvas's pixel map; the whole map
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<CameraMapping>,
}

fn default_width() -> u32 {
    160
}
fn default_height() -> u32 {
    120
}
fn default_threshold() -> u8 {
    128
}
fn default_min_area() -> u32 {
    8
}
fn default_max_blobs() -> u32 {
    16
}
fn default_min_seen() -> u32 {
    3
}
fn default_max_missing() -> u32 {
    5
}

impl CameraInput {
    /// Farthest a blob moves between frames and keeps its id, in analysis pixels.
    pub fn max_distance(&self) -> f64 {
        self.max_distance
            .unwrap_or_else(|| f64::from(self.width.max(self.height)) / 4.0)
    }

    /// Where the camera's frame lands.
    pub fn projection(&self) -> Projection {
        self.mapping
            .as_ref()
            .map_or_else(Projection::identity, CameraMapping::projection)
    }

    pub(super) fn check(&self) -> Result<(), RangeError> {
        if self.source.trim().is_empty()
            || self.source.len() > MAX_SOURCE_LEN
            || self.source.chars().any(char::is_control)
        {
            return Err(RangeError(format!(
                "source must be a GStreamer description of 1 to {MAX_SOURCE_LEN} bytes without control characters"
            )));
        }
        if !(MIN_ANALYSIS_SIDE..=MAX_ANALYSIS_WIDTH).contains(&self.width)
            || !(MIN_ANALYSIS_SIDE..=MAX_ANALYSIS_HEIGHT).contains(&self.height)
        {
            return Err(RangeError(format!(
                "the analysis size must be {MIN_ANALYSIS_SIDE}-{MAX_ANALYSIS_WIDTH} x {MIN_ANALYSIS_SIDE}-{MAX_ANALYSIS_HEIGHT} pixels, got {} x {}",
                self.width, self.height
            )));
        }
        if self.threshold == 0 {
            return Err(RangeError("threshold must be 1 to 255".into()));
        }
        let pixels = self.width * self.height;
        if !(1..=pixels).contains(&self.min_area) {
            return Err(RangeError(format!(
                "min_area must be 1 to {pixels} (the analysis size), got {}",
                self.min_area
            )));
        }
        if !(1..=MAX_BLOBS).contains(&self.max_blobs) {
            return Err(RangeError(format!(
                "max_blobs must be 1 to {MAX_BLOBS}, got {}",
                self.max_blobs
            )));
        }
        if !(1..=MAX_TRACK_FRAMES).contains(&self.min_seen) || self.max_missing > MAX_TRACK_FRAMES {
            return Err(RangeError(format!(
                "min_seen must be 1 to {MAX_TRACK_FRAMES} and max_missing 0 to {MAX_TRACK_FRAMES} frames"
            )));
        }
        if let Some(d) = self.max_distance
            && !(d.is_finite() && (0.5..=800.0).contains(&d))
        {
            return Err(RangeError(format!(
                "max_distance must be 0.5 to 800 analysis pixels, got {d}"
            )));
        }
        if let Some(m) = &self.mapping {
            m.check()?;
        }
        Ok(())
    }
}

/// Where a camera's frame lands on a pixel map, in lengths of the map's box
/// (`[0, 0]` its top left corner, `[1, 1]` its bottom right).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CameraMapping {
    /// The frame fills this rectangle, upright.
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
    /// Where the frame's four corners land (top left, top right, bottom right,
    /// bottom left), a convex quadrilateral: a camera looking at the floor at an
    /// angle, say. Points between are mapped by the perspective that takes the
    /// frame's corners to these.
    Corners([[f64; 2]; 4]),
}

crate::openapi::schema!(CameraMapping, "CameraMapping", mapping_schema());

#[cfg(feature = "openapi")]
fn mapping_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use crate::openapi::{number, numbers};
    use utoipa::openapi::schema::{
        AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder,
    };
    let closed = |object: ObjectBuilder| {
        object.additional_properties(Some(AdditionalProperties::FreeForm(false)))
    };
    let side = || number(f64::MIN_POSITIVE, MAX_MAPPED);
    let rect = closed(
        ObjectBuilder::new()
            .property("x", number(-MAX_MAPPED, MAX_MAPPED))
            .property("y", number(-MAX_MAPPED, MAX_MAPPED))
            .property("width", side())
            .property("height", side())
            .required("x")
            .required("y")
            .required("width")
            .required("height"),
    );
    let corners = ArrayBuilder::new()
        .items(numbers(2, -MAX_MAPPED, MAX_MAPPED, "[x, y]"))
        .min_items(Some(4))
        .max_items(Some(4))
        .description(Some(
            "Top left, top right, bottom right, bottom left: a convex quadrilateral",
        ));
    OneOfBuilder::new()
        .description(Some(
            "Where a camera's frame lands on a pixel map, in lengths of the map's box: a rectangle, or four corners",
        ))
        .item(closed(ObjectBuilder::new().property("rect", rect).required("rect")))
        .item(closed(
            ObjectBuilder::new()
                .property("corners", corners)
                .required("corners"),
        ))
        .into()
}

impl CameraMapping {
    fn check(&self) -> Result<(), RangeError> {
        let within = |v: f64| v.is_finite() && v.abs() <= MAX_MAPPED;
        match *self {
            CameraMapping::Rect {
                x,
                y,
                width,
                height,
            } => {
                if !(within(x) && within(y)) {
                    return Err(RangeError(format!(
                        "mapping rect x and y must be within ±{MAX_MAPPED}"
                    )));
                }
                if !(within(width) && within(height) && width > 0.0 && height > 0.0) {
                    return Err(RangeError(format!(
                        "mapping rect width and height must be above 0 and at most {MAX_MAPPED}"
                    )));
                }
            }
            CameraMapping::Corners(corners) => {
                if !corners.iter().flatten().all(|v| within(*v)) {
                    return Err(RangeError(format!(
                        "mapping corners must be within ±{MAX_MAPPED}"
                    )));
                }
                // Each turn along the outline goes the same way: convex, and
                // not folded over itself.
                let turns: Vec<f64> = (0..4)
                    .map(|i| {
                        let [a, b, c] = [corners[i], corners[(i + 1) % 4], corners[(i + 2) % 4]];
                        (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])
                    })
                    .collect();
                let convex = turns.iter().all(|t| *t > 1e-9) || turns.iter().all(|t| *t < -1e-9);
                if !convex {
                    return Err(RangeError(
                        "mapping corners must make a convex quadrilateral, in order round it (top left, top right, bottom right, bottom left)".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The map from camera to pixel-map coordinates.
    pub fn projection(&self) -> Projection {
        match *self {
            CameraMapping::Rect {
                x,
                y,
                width,
                height,
            } => Projection {
                m: [width, 0.0, x, 0.0, height, y, 0.0, 0.0],
            },
            CameraMapping::Corners(corners) => Projection::square_to(corners),
        }
    }
}

/// A perspective map of the unit square (the camera's frame, `[0, 0]` top left)
/// onto the pixel map's box: `x = (a u + b v + c) / (g u + h v + 1)`,
/// `y = (d u + e v + f) / (g u + h v + 1)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    m: [f64; 8],
}

impl Projection {
    /// The frame onto the whole box.
    pub fn identity() -> Self {
        Self {
            m: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        }
    }

    /// The square's corners (0,0), (1,0), (1,1), (0,1) onto `p`'s four points.
    fn square_to(p: [[f64; 2]; 4]) -> Self {
        let [[x0, y0], [x1, y1], [x2, y2], [x3, y3]] = p;
        let (sx, sy) = (x0 - x1 + x2 - x3, y0 - y1 + y2 - y3);
        let (g, h) = if sx.abs() < 1e-12 && sy.abs() < 1e-12 {
            // A parallelogram: the map is affine.
            (0.0, 0.0)
        } else {
            let (dx1, dx2, dy1, dy2) = (x1 - x2, x3 - x2, y1 - y2, y3 - y2);
            let det = dx1 * dy2 - dx2 * dy1;
            ((sx * dy2 - dx2 * sy) / det, (dx1 * sy - sx * dy1) / det)
        };
        Self {
            m: [
                x1 - x0 + g * x1,
                x3 - x0 + h * x3,
                x0,
                y1 - y0 + g * y1,
                y3 - y0 + h * y3,
                y0,
                g,
                h,
            ],
        }
    }

    /// Where camera point `[u, v]` (fractions of the frame) lands on the box.
    pub fn map(&self, [u, v]: [f64; 2]) -> [f64; 2] {
        let [a, b, c, d, e, f, g, h] = self.m;
        let w = g * u + h * v + 1.0;
        let w = if w.abs() < 1e-12 { 1e-12 } else { w };
        [(a * u + b * v + c) / w, (d * u + e * v + f) / w]
    }
}

/// One tracked blob, as a camera's state shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlobState {
    /// The blob's id, kept from frame to frame while it is tracked.
    pub id: u64,
    /// Centre across the camera's frame, in analysis pixels.
    pub x: f64,
    /// Centre down the camera's frame, in analysis pixels.
    pub y: f64,
    /// Pixels it covers at the analysis size.
    pub area: u32,
    /// Where its centre lands on the pixel map, in lengths of the map's box.
    pub mapped: [f64; 2],
    /// Frames it has been tracked for.
    pub frames: u64,
}

/// Blob events a camera has had since it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlobEvents {
    /// Blobs that came and stayed long enough to count.
    pub entered: u64,
    /// Frames in which a counted blob moved.
    pub moved: u64,
    /// Counted blobs that went and stayed gone.
    pub left: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn camera(json: &str) -> Result<CameraInput, String> {
        let c: CameraInput = serde_json::from_str(json).map_err(|e| e.to_string())?;
        c.check().map_err(|e| e.0)?;
        Ok(c)
    }

    #[test]
    fn a_camera_takes_defaults_and_refuses_what_cannot_be_analysed() {
        let c = camera(r#"{"name": "door", "source": "videotestsrc"}"#);
        assert!(c.as_ref().is_ok_and(|c| c.width == 160
            && c.height == 120
            && c.max_distance() == 40.0
            && c.min_seen == 3));
        for (json, says) in [
            (r#"{"name": "d", "source": ""}"#, "source"),
            (r#"{"name": "d", "source": "a\nb"}"#, "control"),
            (
                r#"{"name": "d", "source": "v", "width": 4}"#,
                "analysis size",
            ),
            (
                r#"{"name": "d", "source": "v", "height": 481}"#,
                "analysis size",
            ),
            (
                r#"{"name": "d", "source": "v", "threshold": 0}"#,
                "threshold",
            ),
            (r#"{"name": "d", "source": "v", "threshold": 256}"#, "u8"),
            (r#"{"name": "d", "source": "v", "min_area": 0}"#, "min_area"),
            (
                r#"{"name": "d", "source": "v", "max_blobs": 65}"#,
                "max_blobs",
            ),
            (r#"{"name": "d", "source": "v", "min_seen": 0}"#, "min_seen"),
            (
                r#"{"name": "d", "source": "v", "max_distance": 0.1}"#,
                "max_distance",
            ),
            (
                r#"{"name": "d", "source": "v", "mapping": {"rect": {"x": 0, "y": 0, "width": 0, "height": 1}}}"#,
                "above 0",
            ),
            (
                r#"{"name": "d", "source": "v", "mapping": {"corners": [[0, 0], [1, 1], [1, 0], [0, 1]]}}"#,
                "convex",
            ),
            (
                r#"{"name": "d", "source": "v", "bogus": 1}"#,
                "unknown field",
            ),
        ] {
            let refused = camera(json);
            assert!(
                refused.as_ref().is_err_and(|e| e.contains(says)),
                "{json}: {refused:?}"
            );
        }
    }

    #[test]
    fn a_mapping_takes_the_frame_corners_where_it_says() {
        let close =
            |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).abs() < 1e-9 && (a[1] - b[1]).abs() < 1e-9;
        let rect = CameraMapping::Rect {
            x: 0.25,
            y: 0.5,
            width: 0.5,
            height: 0.25,
        }
        .projection();
        assert!(close(rect.map([0.0, 0.0]), [0.25, 0.5]));
        assert!(close(rect.map([1.0, 1.0]), [0.75, 0.75]));
        assert!(close(rect.map([0.5, 0.5]), [0.5, 0.625]));
        // A trapezoid: the far edge of the floor seen narrower.
        let corners = [[0.25, 0.0], [0.75, 0.0], [1.0, 1.0], [0.0, 1.0]];
        let mapping = CameraMapping::Corners(corners);
        assert!(mapping.check().is_ok());
        let p = mapping.projection();
        for (uv, at) in [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
            .into_iter()
            .zip(corners)
        {
            assert!(close(p.map(uv), at), "{uv:?} -> {:?}", p.map(uv));
        }
        // The frame's vertical centre line stays the map's centre line.
        assert!((p.map([0.5, 0.3])[0] - 0.5).abs() < 1e-9);
        assert!(close(Projection::identity().map([0.3, 0.7]), [0.3, 0.7]));
    }
}
