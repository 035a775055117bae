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
    // The exterior facade: 170 x 40 pixels wired in serpentine rows from the
    // bottom left, 6,800 pixels, universes 1-40.
    r##"{"name": "Exterior Facade", "fps": 40,
        "geometry": {"kind": "matrix", "width": 170, "height": 40,
                     "origin": "bottom_left", "order": "rows", "serpentine": true},
        "output": {"universe": 1, "sync_universe": 1000, "channel_order": "grb"},
        "emergency_color": "#FFFFFF"}"##,
    // The canopy: its outline, front and back 680 pixels, the sides 340, wired
    // round from the front left: 2,040 pixels, universes 101-112.
    r##"{"name": "Canopy", "fps": 40,
        "geometry": {"kind": "strips", "strips": [
            {"from": [0, 0], "to": [679, 0], "pixels": 680},
            {"from": [680, 0], "to": [680, 339], "pixels": 340},
            {"from": [679, 340], "to": [0, 340], "pixels": 680},
            {"from": [-1, 339], "to": [-1, 0], "pixels": 340}]},
        "output": {"universe": 101, "sync_universe": 1001}}"##,
    // Interior strips: eight upright strips of 150 pixels along the hall, 1,200
    // pixels, universes 201-208.
    r##"{"name": "Interior Strips", "fps": 40,
        "geometry": {"kind": "strips", "strips": [
            {"from": [0, 149], "to": [0, 0], "pixels": 150},
            {"from": [20, 149], "to": [20, 0], "pixels": 150},
            {"from": [40, 149], "to": [40, 0], "pixels": 150},
            {"from": [60, 149], "to": [60, 0], "pixels": 150},
            {"from": [80, 149], "to": [80, 0], "pixels": 150},
            {"from": [100, 149], "to": [100, 0], "pixels": 150},
            {"from": [120, 149], "to": [120, 0], "pixels": 150},
            {"from": [140, 149], "to": [140, 0], "pixels": 150}]},
        "output": {"universe": 201, "send_mode": "on_change"}}"##,
    // The video wall: 128 x 72 pixels in rows from the top left, universes
    // 301-355, full 512-slot packing.
    r##"{"name": "Video Wall", "fps": 40,
        "geometry": {"kind": "matrix", "width": 128, "height": 72,
                     "origin": "top_left", "order": "rows", "serpentine": false},
        "output": {"universe": 301, "packing": "channel", "sync_universe": 1003}}"##,
    // The main stairs: 24 steps of 28 pixels, one row per step from the bottom
    // step up, each step set back from the one below; universes 401-404.
    STAIRS,
];

/// The stairs: step k (0 at the bottom) is a row of 28 pixels two units above
/// the one below it and one unit further back.
const STAIRS: &str = r##"{"name": "Main Stairs", "fps": 40,
    "geometry": {"kind": "strips", "strips": [
        {"from": [0, 46], "to": [27, 46], "pixels": 28},
        {"from": [1, 44], "to": [28, 44], "pixels": 28},
        {"from": [2, 42], "to": [29, 42], "pixels": 28},
        {"from": [3, 40], "to": [30, 40], "pixels": 28},
        {"from": [4, 38], "to": [31, 38], "pixels": 28},
        {"from": [5, 36], "to": [32, 36], "pixels": 28},
        {"from": [6, 34], "to": [33, 34], "pixels": 28},
        {"from": [7, 32], "to": [34, 32], "pixels": 28},
        {"from": [8, 30], "to": [35, 30], "pixels": 28},
        {"from": [9, 28], "to": [36, 28], "pixels": 28},
        {"from": [10, 26], "to": [37, 26], "pixels": 28},
        {"from": [11, 24], "to": [38, 24], "pixels": 28},
        {"from": [12, 22], "to": [39, 22], "pixels": 28},
        {"from": [13, 20], "to": [40, 20], "pixels": 28},
        {"from": [14, 18], "to": [41, 18], "pixels": 28},
        {"from": [15, 16], "to": [42, 16], "pixels": 28},
        {"from": [16, 14], "to": [43, 14], "pixels": 28},
        {"from": [17, 12], "to": [44, 12], "pixels": 28},
        {"from": [18, 10], "to": [45, 10], "pixels": 28},
        {"from": [19, 8], "to": [46, 8], "pixels": 28},
        {"from": [20, 6], "to": [47, 6], "pixels": 28},
        {"from": [21, 4], "to": [48, 4], "pixels": 28},
        {"from": [22, 2], "to": [49, 2], "pixels": 28},
        {"from": [23, 0], "to": [50, 0], "pixels": 28}]},
    "output": {"universe": 401}}"##;

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
        let pixels: Vec<u32> = canvases.iter().map(|c| c.pixels.get()).collect();
        assert_eq!(pixels, [6800, 2040, 1200, 9216, 672]);
        assert!(canvases.iter().all(|c| c.geometry.is_some()));
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
