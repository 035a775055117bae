//! Pixel maps: where each pixel of a canvas is, in the order the pixels go out on
//! the wire. A canvas without a geometry is one strip along x.
//!
//! Canvas coordinates have x to the right and y downwards. A matrix's pixels sit
//! on whole cells (0 to width - 1, 0 to height - 1); strips and points are placed
//! freely, in any unit.

use crate::values::{PixelCount, RangeError};
use serde::{Deserialize, Serialize};

/// Most cells along one side of a matrix.
pub const MAX_MATRIX_SIDE: u32 = 1000;
/// Most strips in a `strips` geometry.
pub const MAX_STRIPS: usize = 1000;
/// Largest coordinate, either way, of a strip's end or a point.
pub const MAX_COORDINATE: f64 = 1_000_000.0;

/// Where a canvas's pixels are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Geometry {
    /// A grid of `width` x `height` pixels, wired from `origin` along rows or
    /// columns, every other line reversed when `serpentine`.
    Matrix {
        /// Cells across.
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
        width: u32,
        /// Cells down.
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
        height: u32,
        /// The corner of the first pixel.
        #[serde(default)]
        origin: Corner,
        /// Whether the wiring runs along rows or columns.
        #[serde(default)]
        order: Order,
        /// Whether every other row (or column) runs back the other way.
        #[serde(default)]
        serpentine: bool,
    },
    /// Runs of pixels, each spread evenly from one point to another, one after
    /// the other on the wire.
    Strips {
        /// The runs, in wire order.
        #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 1000))]
        strips: Vec<Strip>,
    },
    /// Each pixel's own position, in wire order.
    Points {
        /// The positions, `[x, y]`.
        #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 1_000_000))]
        points: Vec<Point>,
    },
}

/// A corner of a matrix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Corner {
    /// Top left.
    #[default]
    TopLeft,
    /// Top right.
    TopRight,
    /// Bottom left.
    BottomLeft,
    /// Bottom right.
    BottomRight,
}

/// Which way a matrix is wired first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Along each row, then to the next row.
    #[default]
    Rows,
    /// Down each column, then to the next column.
    Columns,
}

/// A run of `pixels` pixels from `from` to `to` (both ends lit).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Strip {
    /// Where the first pixel is.
    pub from: Point,
    /// Where the last pixel is.
    pub to: Point,
    /// Pixels in the run.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub pixels: u32,
}

/// A position `[x, y]` in canvas coordinates, each within ±[`MAX_COORDINATE`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "[f64; 2]", into = "[f64; 2]")]
pub struct Point(pub [f64; 2]);

crate::openapi::schema!(
    Point,
    "Point",
    crate::openapi::numbers(
        2,
        -MAX_COORDINATE,
        MAX_COORDINATE,
        "[x, y] in canvas coordinates (x to the right, y downwards)"
    )
);

impl TryFrom<[f64; 2]> for Point {
    type Error = RangeError;
    fn try_from(p: [f64; 2]) -> Result<Self, RangeError> {
        if p.iter().all(|c| c.is_finite() && c.abs() <= MAX_COORDINATE) {
            Ok(Self(p))
        } else {
            Err(RangeError(format!(
                "a point must be two numbers within ±{MAX_COORDINATE}, got {p:?}"
            )))
        }
    }
}

impl From<Point> for [f64; 2] {
    fn from(p: Point) -> Self {
        p.0
    }
}

/// Most pixels in one strip of a `strips` geometry.
pub const MAX_STRIP_PIXELS: u32 = 1000;

impl Geometry {
    /// How many pixels it places, once it is known to be valid.
    pub fn pixel_count(&self) -> Result<PixelCount, RangeError> {
        let count: u64 = match self {
            Geometry::Matrix { width, height, .. } => {
                for (name, side) in [("width", width), ("height", height)] {
                    if !(1..=MAX_MATRIX_SIDE).contains(side) {
                        return Err(RangeError(format!(
                            "geometry.{name} must be 1-{MAX_MATRIX_SIDE}, got {side}"
                        )));
                    }
                }
                u64::from(*width) * u64::from(*height)
            }
            Geometry::Strips { strips } => {
                if strips.is_empty() || strips.len() > MAX_STRIPS {
                    return Err(RangeError(format!(
                        "geometry.strips must hold 1-{MAX_STRIPS} strips, got {}",
                        strips.len()
                    )));
                }
                let mut sum = 0;
                for (i, s) in strips.iter().enumerate() {
                    if !(1..=MAX_STRIP_PIXELS).contains(&s.pixels) {
                        return Err(RangeError(format!(
                            "geometry.strips[{i}].pixels must be 1-{MAX_STRIP_PIXELS}, got {}",
                            s.pixels
                        )));
                    }
                    sum += u64::from(s.pixels);
                }
                sum
            }
            Geometry::Points { points } => points.len() as u64,
        };
        i64::try_from(count)
            .ok()
            .and_then(|c| PixelCount::try_from(c).ok())
            .ok_or_else(|| {
                RangeError(format!(
                    "a geometry must place 1-{} pixels, this one places {count}",
                    PixelCount::MAX
                ))
            })
    }

    /// Each pixel's position, in wire order.
    pub fn positions(&self) -> Vec<[f32; 2]> {
        match self {
            Geometry::Matrix {
                width,
                height,
                origin,
                order,
                serpentine,
            } => {
                let (w, h) = (*width, *height);
                let (lines, along) = match order {
                    Order::Rows => (h, w),
                    Order::Columns => (w, h),
                };
                let mut out = Vec::with_capacity((w as usize) * (h as usize));
                for line in 0..lines {
                    for step in 0..along {
                        let step = if *serpentine && line % 2 == 1 {
                            along - 1 - step
                        } else {
                            step
                        };
                        // From the top-left corner, rows first...
                        let (mut x, mut y) = match order {
                            Order::Rows => (step, line),
                            Order::Columns => (line, step),
                        };
                        // ...then mirrored to where the wiring really starts.
                        if matches!(origin, Corner::TopRight | Corner::BottomRight) {
                            x = w - 1 - x;
                        }
                        if matches!(origin, Corner::BottomLeft | Corner::BottomRight) {
                            y = h - 1 - y;
                        }
                        out.push([x as f32, y as f32]);
                    }
                }
                out
            }
            Geometry::Strips { strips } => {
                let mut out = Vec::new();
                for s in strips {
                    let n = s.pixels.max(1);
                    for k in 0..n {
                        let t = if n == 1 {
                            0.0
                        } else {
                            f64::from(k) / f64::from(n - 1)
                        };
                        let ([fx, fy], [tx, ty]) = (s.from.0, s.to.0);
                        out.push([(fx + (tx - fx) * t) as f32, (fy + (ty - fy) * t) as f32]);
                    }
                }
                out
            }
            Geometry::Points { points } => points.iter().map(|p| p.0.map(|c| c as f32)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(json: &str) -> Geometry {
        serde_json::from_str(json).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn the_example_matrix_places_32_pixels_row_by_row() -> Result<(), RangeError> {
        let g = matrix(
            r#"{"kind": "matrix", "width": 8, "height": 4, "origin": "top_left",
                "order": "rows", "serpentine": false}"#,
        );
        assert_eq!(g.pixel_count()?.get(), 32);
        let p = g.positions();
        assert_eq!(p[0], [0.0, 0.0]);
        assert_eq!(p[7], [7.0, 0.0]);
        assert_eq!(p[8], [0.0, 1.0]);
        assert_eq!(p[31], [7.0, 3.0]);
        Ok(())
    }

    #[test]
    fn serpentine_columns_from_the_bottom_right() {
        let g = matrix(
            r#"{"kind": "matrix", "width": 3, "height": 2, "origin": "bottom_right",
                "order": "columns", "serpentine": true}"#,
        );
        assert_eq!(
            g.positions(),
            [
                [2.0, 1.0],
                [2.0, 0.0],
                [1.0, 0.0],
                [1.0, 1.0],
                [0.0, 1.0],
                [0.0, 0.0]
            ]
        );
    }

    #[test]
    fn strips_spread_their_pixels_end_to_end() -> Result<(), RangeError> {
        let g = matrix(
            r#"{"kind": "strips", "strips": [
                {"from": [0, 0], "to": [4, 0], "pixels": 5},
                {"from": [0, 2], "to": [0, 2], "pixels": 1}]}"#,
        );
        assert_eq!(g.pixel_count()?.get(), 6);
        let p = g.positions();
        assert_eq!(p[1], [1.0, 0.0]);
        assert_eq!(p[4], [4.0, 0.0]);
        assert_eq!(p[5], [0.0, 2.0]);
        Ok(())
    }

    #[test]
    fn out_of_range_geometry_is_refused_with_its_field() {
        for (json, field) in [
            (
                r#"{"kind": "matrix", "width": 0, "height": 4}"#,
                "geometry.width",
            ),
            (
                r#"{"kind": "matrix", "width": 8, "height": 1001}"#,
                "geometry.height",
            ),
            (r#"{"kind": "strips", "strips": []}"#, "geometry.strips"),
            (r#"{"kind": "points", "points": []}"#, "1-1000000 pixels"),
        ] {
            let err = matrix(json)
                .pixel_count()
                .err()
                .map(|e| e.0)
                .unwrap_or_default();
            assert!(err.contains(field), "{json}: {err}");
        }
        for json in [
            r#"{"kind": "matrix", "width": 2, "height": 2, "depth": 3}"#,
            r#"{"kind": "strips", "strips": [{"from": [0, 0], "to": [1e9, 0], "pixels": 3}]}"#,
            r#"{"kind": "points", "points": [[0, 0, 0]]}"#,
            r#"{"kind": "hexagon"}"#,
        ] {
            assert!(serde_json::from_str::<Geometry>(json).is_err(), "{json}");
        }
    }
}
