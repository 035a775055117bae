//! The demo venue: five canvases seeded into an empty database at first start,
//! with a show for them: a daily schedule that keeps a moving look on each canvas
//! all day, and a cue list for the facade. Universes are laid out per canvas in
//! their own hundreds so each canvas can grow without renumbering the others.

use chrono::{DateTime, Utc};
use limelight_shared::canvas::CanvasSpec;
use limelight_shared::cues::CueListSpec;
use limelight_shared::ids::CanvasId;
use limelight_shared::schedule::ScheduleSpec;

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

/// The moving look each demo canvas shows all day, by canvas name.
const DEMO_LOOKS: &[(&str, &str)] = &[
    ("Exterior Facade", "facade-rainbow-parade"),
    ("Canopy", "canopy-comet"),
    ("Interior Strips", "interior-warm-drift"),
    ("Video Wall", "videowall-aurora"),
    ("Main Stairs", "stairs-guide"),
];

/// A daily, all-day entry at the lowest priority for each demo canvas in
/// `canvases`, from the day before `now` (so today's occurrence has begun in any
/// time zone): anything scheduled later wins over it.
pub fn demo_schedule(
    canvases: &[(CanvasId, String)],
    now: DateTime<Utc>,
) -> Result<Vec<ScheduleSpec>, serde_json::Error> {
    let from = (now - chrono::Duration::days(1)).date_naive();
    canvases
        .iter()
        .filter_map(|(id, name)| {
            let (_, scene) = DEMO_LOOKS.iter().find(|(canvas, _)| canvas == name)?;
            Some(serde_json::from_value(serde_json::json!({
                "name": format!("{name} all day"),
                "targets": [id],
                "priority": 1,
                "play": {"scene": scene, "fade_ms": 2000},
                "start": {"date": from.format("%Y-%m-%d").to_string(), "time": "00:00:00"},
                "end": {"duration_s": 86_400},
                "rrule": "FREQ=DAILY",
                "stop": {"mode": "cut"}
            })))
        })
        .collect()
}

/// A cue list for the facade: the welcome, the parade, the night sky.
pub fn demo_cue_list() -> Result<CueListSpec, serde_json::Error> {
    serde_json::from_value(serde_json::json!({
        "name": "Facade show",
        "cues": [
            {"number": 1, "scene": "facade-warm-welcome", "fade_ms": 2000},
            {"number": 2, "scene": "facade-rainbow-parade", "fade_ms": 3000},
            {"number": 3, "scene": "facade-night-sky", "fade_ms": 5000}
        ]
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::UniverseMap;

    #[test]
    fn every_demo_canvas_has_an_all_day_look_and_the_cue_list_parses()
    -> Result<(), Box<dyn std::error::Error>> {
        let canvases: Vec<(CanvasId, String)> = demo_canvases()?
            .into_iter()
            .enumerate()
            .map(|(i, c)| (CanvasId(i as i64 + 1), c.name.as_str().to_owned()))
            .collect();
        let entries = demo_schedule(&canvases, Utc::now())?;
        assert_eq!(entries.len(), canvases.len());
        assert_eq!(demo_cue_list()?.cues.len(), 3);
        Ok(())
    }

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
