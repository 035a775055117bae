//! A canvas's layout for rendering: each pixel's position (when the canvas has a
//! geometry) and the raster its pixels fall on, which images and previews use.
//!
//! The raster is a grid of cells over the canvas's bounding box. A matrix's raster
//! is the matrix itself; a canvas without a geometry is one row of cells, one per
//! pixel; strips and points get cells as far apart as their neighbouring pixels
//! (at most [`MAX_RASTER_SIDE`] a side), so two pixels rarely share a cell.

use super::Position;
use limelight_shared::geometry::Geometry;
use std::sync::Arc;

/// Most cells along a side of the raster of a strips or points geometry.
pub const MAX_RASTER_SIDE: u32 = 1000;

/// Where each pixel of a canvas is.
#[derive(Debug, Clone)]
pub struct Layout {
    positions: Option<Arc<[Position]>>,
    raster: Arc<Raster>,
    /// The map's box: left, top, width, height, half a pixel round the pixels'
    /// centres.
    bounds: [f64; 4],
}

impl Layout {
    /// The layout of a canvas of `pixels` pixels placed by `geometry` (none: a
    /// strip in wire order).
    pub fn new(geometry: Option<&Geometry>, pixels: usize) -> Self {
        match geometry {
            None => Self::strip(pixels),
            Some(g) => {
                let positions: Arc<[Position]> = Arc::from(g.positions());
                let raster = match g {
                    Geometry::Matrix { width, height, .. } => Raster::grid(
                        *width,
                        *height,
                        positions
                            .iter()
                            .map(|[x, y]| *y as u32 * *width + *x as u32)
                            .collect(),
                    ),
                    _ => Raster::spread(&positions),
                };
                Self {
                    bounds: bounds(&positions),
                    positions: Some(positions),
                    raster: Arc::new(raster),
                }
            }
        }
    }

    /// `pixels` pixels in a row, in wire order.
    pub fn strip(pixels: usize) -> Self {
        let width = u32::try_from(pixels).unwrap_or(u32::MAX);
        Self {
            positions: None,
            raster: Arc::new(Raster::grid(width, 1, (0..width).collect())),
            bounds: [-0.5, -0.5, f64::from(width.max(1)), 1.0],
        }
    }

    /// Where a point of the map's box (`[0, 0]` its top left, `[1, 1]` its
    /// bottom right) is in canvas coordinates.
    pub fn on_map(&self, [u, v]: [f64; 2]) -> [f64; 2] {
        let [x, y, w, h] = self.bounds;
        [x + u * w, y + v * h]
    }

    /// The longer side of the map's box, in canvas units.
    pub fn longer_side(&self) -> f64 {
        self.bounds[2].max(self.bounds[3])
    }

    /// Each pixel's position, when the canvas has a geometry.
    pub fn positions(&self) -> Option<&[Position]> {
        self.positions.as_deref()
    }

    /// Pixel `i`'s position: its place in the geometry, or `[i, 0]` along a strip.
    pub fn position(&self, i: usize) -> [f64; 2] {
        match &self.positions {
            Some(p) => p
                .get(i)
                .map_or([0.0, 0.0], |[x, y]| [(*x).into(), (*y).into()]),
            None => [i as f64, 0.0],
        }
    }

    /// The raster the pixels fall on.
    pub fn raster(&self) -> &Arc<Raster> {
        &self.raster
    }
}

/// The box round `positions`, half a unit out from the outermost centres.
fn bounds(positions: &[Position]) -> [f64; 4] {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in positions {
        for k in 0..2 {
            lo[k] = lo[k].min(f64::from(p[k]));
            hi[k] = hi[k].max(f64::from(p[k]));
        }
    }
    if !(lo[0].is_finite() && hi[0].is_finite()) {
        return [-0.5, -0.5, 1.0, 1.0];
    }
    [
        lo[0] - 0.5,
        lo[1] - 0.5,
        hi[0] - lo[0] + 1.0,
        hi[1] - lo[1] + 1.0,
    ]
}

impl Default for Layout {
    fn default() -> Self {
        Self::strip(0)
    }
}

/// A grid of `width` x `height` cells and the cell each pixel falls in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raster {
    width: u32,
    height: u32,
    /// Row-major cell index of each pixel, in wire order.
    cells: Box<[u32]>,
}

impl Raster {
    fn grid(width: u32, height: u32, cells: Box<[u32]>) -> Self {
        Self {
            width: width.max(1),
            height: height.max(1),
            cells,
        }
    }

    /// Cells as far apart as neighbouring pixels usually are.
    fn spread(positions: &[Position]) -> Self {
        let (mut lo, mut hi) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
        for p in positions {
            for a in 0..2 {
                lo[a] = lo[a].min(p[a]);
                hi[a] = hi[a].max(p[a]);
            }
        }
        if positions.is_empty() {
            return Self::grid(1, 1, Box::new([]));
        }
        let extent = [f64::from(hi[0] - lo[0]), f64::from(hi[1] - lo[1])];
        // The median gap between pixels next to each other on the wire.
        let mut gaps: Vec<f64> = positions
            .windows(2)
            .map(|w| f64::from(w[1][0] - w[0][0]).hypot(f64::from(w[1][1] - w[0][1])))
            .filter(|d| *d > 0.0)
            .collect();
        gaps.sort_by(f64::total_cmp);
        let longest = extent[0].max(extent[1]);
        let mut cell = gaps.get(gaps.len() / 2).copied().unwrap_or(1.0);
        let most = f64::from(MAX_RASTER_SIDE - 1);
        if longest / cell > most {
            cell = longest / most;
        }
        let side = |e: f64| (e / cell).round() as u32 + 1;
        let (width, height) = (side(extent[0]), side(extent[1]));
        let cells = positions
            .iter()
            .map(|p| {
                let x = ((f64::from(p[0] - lo[0]) / cell).round() as u32).min(width - 1);
                let y = ((f64::from(p[1] - lo[1]) / cell).round() as u32).min(height - 1);
                y * width + x
            })
            .collect();
        Self::grid(width, height, cells)
    }

    /// Cells across.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Cells down.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The cell of each pixel, row-major, in wire order.
    pub fn cells(&self) -> &[u32] {
        &self.cells
    }

    /// The same pixels on a coarser raster of at most `most` cells: square blocks
    /// of cells merge (a one-row raster merges runs along its row).
    pub fn coarse(&self, most: u32) -> Raster {
        let most = u64::from(most.max(1));
        let area = |k: u32| u64::from(self.width.div_ceil(k)) * u64::from(self.height.div_ceil(k));
        let mut k = 1;
        while area(k) > most {
            k += 1;
        }
        if k == 1 {
            return self.clone();
        }
        let width = self.width.div_ceil(k);
        let cells = self
            .cells
            .iter()
            .map(|c| {
                let (x, y) = (c % self.width, c / self.width);
                (y / k) * width + x / k
            })
            .collect();
        Self::grid(width, self.height.div_ceil(k), cells)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry(json: &str) -> Geometry {
        serde_json::from_str(json).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn a_serpentine_matrix_falls_on_its_own_cells() {
        let g = geometry(
            r#"{"kind": "matrix", "width": 3, "height": 2, "origin": "top_left",
                "order": "rows", "serpentine": true}"#,
        );
        let layout = Layout::new(Some(&g), 6);
        let r = layout.raster();
        assert_eq!((r.width(), r.height()), (3, 2));
        assert_eq!(r.cells(), [0, 1, 2, 5, 4, 3]);
    }

    #[test]
    fn strips_get_a_cell_per_pixel_spacing() {
        // Two rows of 5 pixels one unit apart, the second row two units below.
        let g = geometry(
            r#"{"kind": "strips", "strips": [
                {"from": [0, 0], "to": [4, 0], "pixels": 5},
                {"from": [4, 2], "to": [0, 2], "pixels": 5}]}"#,
        );
        let r = Layout::new(Some(&g), 10).raster().clone();
        assert_eq!((r.width(), r.height()), (5, 3));
        assert_eq!(r.cells(), [0, 1, 2, 3, 4, 14, 13, 12, 11, 10]);
    }

    #[test]
    fn a_long_strip_is_capped_and_no_geometry_is_one_row() {
        let g = geometry(
            r#"{"kind": "strips", "strips": [{"from": [0, 0], "to": [5000, 0], "pixels": 1000},
                {"from": [5000, 0], "to": [10000, 0], "pixels": 1000}]}"#,
        );
        let r = Layout::new(Some(&g), 2000).raster().clone();
        assert_eq!((r.width(), r.height()), (MAX_RASTER_SIDE, 1));
        let strip = Layout::strip(7);
        assert_eq!(strip.raster().cells(), [0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(strip.position(3), [3.0, 0.0]);
    }

    #[test]
    fn a_coarse_raster_merges_square_blocks() {
        let g = geometry(r#"{"kind": "matrix", "width": 4, "height": 4}"#);
        let fine = Layout::new(Some(&g), 16).raster().clone();
        let coarse = fine.coarse(4);
        assert_eq!((coarse.width(), coarse.height()), (2, 2));
        assert_eq!(&coarse.cells()[..4], [0, 0, 1, 1]);
        assert_eq!(coarse.cells()[15], 3);
        assert_eq!(fine.coarse(16), *fine);
        let row = Layout::strip(10).raster().coarse(4);
        assert_eq!((row.width(), row.height()), (4, 1));
    }
}
