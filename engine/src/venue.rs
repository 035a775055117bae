//! The demo venue: five canvases seeded into an empty database at first start.
//! Universes are laid out per canvas in their own hundreds so each canvas can grow
//! without renumbering the others.

use limelight_shared::canvas::CanvasSpec;

/// The demo canvases, as JSON documents of [`CanvasSpec`].
const DEMO_CANVASES: &[&str] = &[
    // 40 x 170-pixel runs across the exterior facade: 6,800 pixels, universes 1-40.
    r##"{"name": "Exterior Facade", "pixels": 6800, "fps": 40,
        "output": {"universe": 1, "sync_universe": 1000, "channel_order": "grb"},
        "emergency_color": "#FFFFFF"}"##,
    // The canopy: 2,040 pixels, universes 101-112.
    r##"{"name": "Canopy", "pixels": 2040, "fps": 40,
        "output": {"universe": 101, "sync_universe": 1001}}"##,
    // Interior strips: 1,200 pixels, universes 201-208.
    r##"{"name": "Interior Strips", "pixels": 1200, "fps": 40,
        "output": {"universe": 201, "send_mode": "on_change"}}"##,
    // The video wall: 128 x 72 pixels, universes 301-355, full 512-slot packing.
    r##"{"name": "Video Wall", "pixels": 9216, "fps": 40,
        "output": {"universe": 301, "packing": "channel", "sync_universe": 1003}}"##,
    // The main stairs: 24 steps of 28 pixels, universes 401-404.
    r##"{"name": "Main Stairs", "pixels": 672, "fps": 40,
        "output": {"universe": 401}}"##,
];

/// The demo canvases.
pub fn demo_canvases() -> Result<Vec<CanvasSpec>, serde_json::Error> {
    DEMO_CANVASES
        .iter()
        .map(|s| serde_json::from_str(s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::UniverseMap;

    #[test]
    fn demo_canvases_parse_and_do_not_share_universes() -> Result<(), Box<dyn std::error::Error>> {
        let canvases = demo_canvases()?;
        assert_eq!(canvases.len(), 5);
        let maps = canvases
            .iter()
            .map(|c| UniverseMap::new(c.pixels.get(), &c.output))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, a) in maps.iter().enumerate() {
            for b in &maps[i + 1..] {
                assert!(!a.overlaps(b), "{:?} overlaps {:?}", a.range(), b.range());
            }
        }
        Ok(())
    }
}
