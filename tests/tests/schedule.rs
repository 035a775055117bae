//! The scheduler through the real server: entries over REST, the preview and the
//! timeline, overrides over REST and the WebSocket, and a scheduled change on the
//! wire within one frame of its due time.

use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, Utc};
use limelight_tests::{Receiver, TestApp, TestEnv, connect, next_of, next_where};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

/// The solid colours of the override test's scenes.
const PLANNED: [u8; 3] = [0x22, 0x44, 0x66];
const MANUAL: [u8; 3] = [0xAA, 0x55, 0x00];
const LATER: [u8; 3] = [0x11, 0x77, 0x33];
/// Frame rate of the override test's canvas.
const FPS: u32 = 40;

/// A server whose venue is in Paris.
async fn paris() -> Result<TestApp> {
    let env = TestEnv::new().await?;
    let mut config = env.config();
    config.venue.timezone = "Europe/Paris".into();
    config.venue.latitude = 48.8584;
    config.venue.longitude = 2.2945;
    TestApp::spawn_with(env, config).await
}

/// An entry starting at `start` (UTC, to the second) for `duration_s`.
fn entry_at(
    name: &str,
    canvas: i64,
    scene: &str,
    start: DateTime<Utc>,
    duration_s: u32,
    priority: u32,
) -> Value {
    json!({
        "name": name, "targets": [canvas], "priority": priority,
        "play": {"scene": scene},
        "start": {"date": start.format("%Y-%m-%d").to_string(), "time": start.format("%H:%M:%S").to_string()},
        "end": {"duration_s": duration_s},
        "stop": {"mode": "cut"}
    })
}

/// Data packets until one shows `rgb` in its first pixel.
async fn until_rgb(
    rx: &mut Receiver,
    rgb: [u8; 3],
    within: Duration,
) -> Result<limelight_tests::DataPacket> {
    rx.until(within, |p| p.slots.get(..3) == Some(&rgb[..]))
        .await
}

#[actix_rt::test]
async fn a_scheduled_entry_reaches_the_wire_within_one_frame_of_its_due_time() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    app.solid_scene(&admin, "Due", "#3A5B7C").await?;
    let mut rx = Receiver::bind().await?;
    let fps = 40;
    let canvas = app.canvas_to(&admin, "Facade", 10, fps, &rx).await?;
    until_rgb(&mut rx, [0, 0, 0], Duration::from_secs(2)).await?;

    // Due in three whole seconds (the venue is in UTC by default).
    let due = (Utc::now() + chrono::Duration::seconds(3)).with_nanosecond_zero();
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/schedule",
            Some(&admin),
            Some(entry_at("Due", canvas, "Due", due, 60, 10)),
        )
        .await?;
    assert_eq!(status, 201, "{body}");

    // Every packet before the change is black; the first in the new look is the
    // frame due at or just after the entry's start.
    let mut last_black = None;
    let first = loop {
        let p = rx.next_data(Duration::from_secs(6)).await?;
        match p.slots.get(..3) {
            Some([0, 0, 0]) => last_black = Some(p.wall),
            Some([0x3A, 0x5B, 0x7C]) => break p,
            other => bail!("unexpected pixel {other:?}"),
        }
    };
    let due_wall = SystemTime::from(due);
    let period = Duration::from_secs(1) / fps;
    let late = first
        .wall
        .duration_since(due_wall)
        .map_err(|_| anyhow!("the new look came before its due time"))?;
    assert!(
        late < period + Duration::from_millis(5),
        "first frame of the new look arrived {late:?} after due (period {period:?})"
    );
    if let Some(black) = last_black {
        // The frame before was due before the change (it may arrive a moment after).
        assert!(black.duration_since(due_wall).unwrap_or_default() < Duration::from_millis(5));
    }
    Ok(())
}

trait SecondsOnly {
    fn with_nanosecond_zero(self) -> Self;
}

impl SecondsOnly for DateTime<Utc> {
    fn with_nanosecond_zero(self) -> Self {
        chrono::Timelike::with_nanosecond(&self, 0).unwrap_or(self)
    }
}

#[actix_rt::test]
async fn entries_are_managed_over_rest_and_bad_ones_change_nothing() -> Result<()> {
    let app = paris().await?;
    let admin = app.admin().await?;
    let marketing = app.user("mia", "marketing").await?;
    let operator = app.user("otto", "operator").await?;
    app.solid_scene(&admin, "Evening", "#102030").await?;
    let canvas = app.idle_canvas(&admin, "Canopy").await?;
    let daily = json!({
        "name": "Evenings", "targets": "all", "priority": 10,
        "play": {"scene": "Evening", "fade_ms": 2000},
        "start": {"date": "2026-03-27", "time": "20:00"}, "end": {"time": "23:00"},
        "rrule": "FREQ=DAILY", "exdates": ["2026-03-30"]
    });
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/schedule",
            Some(&operator),
            Some(daily.clone()),
        )
        .await?;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let (status, created) = app
        .call(
            "POST",
            "/api/v1/schedule",
            Some(&marketing),
            Some(daily.clone()),
        )
        .await?;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().ok_or_else(|| anyhow!("no id"))?;

    let with = |field: &str, value: Value| {
        let mut v = daily.clone();
        v["name"] = json!("Other");
        v[field] = value;
        v
    };
    for (bad, status, code) in [
        (
            with("rrule", json!("FREQ=FORTNIGHTLY")),
            422,
            "validation_failed",
        ),
        (
            with("rrule", json!("FREQ=MINUTELY")),
            422,
            "validation_failed",
        ),
        (
            with("start", json!({"date": "2026-02-30", "time": "20:00"})),
            422,
            "validation_failed",
        ),
        (
            with("start", json!({"date": "2026-03-01", "sun": "noon"})),
            422,
            "validation_failed",
        ),
        (with("priority", json!(5000)), 422, "validation_failed"),
        (
            with("valid_until", json!("2026-01-01")),
            422,
            "validation_failed",
        ),
        (
            with("play", json!({"scene": "Nowhere"})),
            404,
            "unknown_scene",
        ),
        (with("targets", json!([9999])), 404, "unknown_canvas"),
        (with("surprise", json!(true)), 422, "validation_failed"),
        (daily.clone(), 409, "conflict"),
    ] {
        app.refused(
            "POST",
            "/api/v1/schedule",
            &marketing,
            Some(bad),
            status,
            code,
        )
        .await?;
    }
    let (_, list) = app
        .call("GET", "/api/v1/schedule", Some(&operator), None)
        .await?;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");

    // The timeline across the spring DST change: 20:00 local every day, the 30th skipped.
    let path =
        "/api/v1/schedule/timeline?from=2026-03-27T12:00:00%2B01:00&to=2026-03-31T12:00:00%2B02:00";
    let (status, timeline) = app.call("GET", path, Some(&operator), None).await?;
    assert_eq!(status, 200, "{timeline}");
    let starts: Vec<&str> = timeline["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["canvas"] == json!(canvas) && c["cause"] == "start")
        .filter_map(|c| c["at"].as_str())
        .collect();
    assert_eq!(
        starts,
        [
            "2026-03-27T20:00:00+01:00",
            "2026-03-28T20:00:00+01:00",
            "2026-03-29T20:00:00+02:00"
        ]
    );

    // The preview says what plays then, and until when.
    let (_, preview) = app
        .call(
            "GET",
            "/api/v1/schedule/preview?at=2026-03-29T21:00:00%2B02:00",
            Some(&operator),
            None,
        )
        .await?;
    let playing = &preview["canvases"][0];
    assert_eq!(playing["play"]["scene"], "Evening");
    assert_eq!(playing["source"]["entry"], json!(id));
    assert_eq!(playing["until"], "2026-03-29T23:00:00+02:00");

    let (status, body) = app
        .call(
            "GET",
            "/api/v1/schedule/timeline?from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z",
            Some(&operator),
            None,
        )
        .await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("validation_failed"))
    );

    let mut changed = daily.clone();
    changed["priority"] = json!(20);
    let (status, body) = app
        .call(
            "PUT",
            &format!("/api/v1/schedule/{id}"),
            Some(&marketing),
            Some(changed),
        )
        .await?;
    assert_eq!((status, body["priority"].as_i64()), (200, Some(20)));
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/schedule/{id}"),
            Some(&marketing),
            None,
        )
        .await?;
    assert_eq!(status, 204);
    let (status, body) = app
        .call(
            "GET",
            &format!("/api/v1/schedule/{id}"),
            Some(&operator),
            None,
        )
        .await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("unknown_schedule"))
    );
    Ok(())
}

#[actix_rt::test]
async fn operators_override_the_schedule_and_hand_it_back() -> Result<()> {
    // On manual time: each frame is stepped, so what shows when is exact.
    let (app, time) = TestApp::spawn_on_manual_time().await?;
    let admin = app.admin().await?;
    let operator = app.user("otto", "operator").await?;
    app.solid_scene(&admin, "Planned", "#224466").await?;
    app.solid_scene(&admin, "Manual", "#AA5500").await?;
    app.solid_scene(&admin, "Later", "#117733").await?;
    let mut rx = Receiver::bind().await?;
    let canvas = app.canvas_to(&admin, "Stairs", 10, FPS, &rx).await?;
    let mut ws = connect(&app, &operator).await?;
    let snapshot = next_of(&mut ws, "snapshot").await?;
    assert_eq!(snapshot["overrides"], json!([]));

    // An entry already running: the scheduler takes it up at once.
    let now = time.wall();
    let running = entry_at(
        "Planned",
        canvas,
        "Planned",
        now - chrono::Duration::seconds(30),
        3600,
        10,
    );
    let (status, body) = app
        .call("POST", "/api/v1/schedule", Some(&admin), Some(running))
        .await?;
    assert_eq!(status, 201, "{body}");
    let change = next_of(&mut ws, "schedule_change").await?;
    assert_eq!(
        (
            change["change"]["cause"].as_str(),
            change["change"]["play"]["scene"].as_str()
        ),
        (Some("resume"), Some("Planned"))
    );
    assert_eq!(time.frames_until(&mut rx, FPS, PLANNED, 1).await?, 1);

    // Taken by hand for two seconds, then back to the schedule on its own.
    let taken_at = time.now();
    let (status, body) = app
        .call(
            "POST",
            &format!("/api/v1/canvases/{canvas}/scene"),
            Some(&operator),
            Some(json!({"scene": "Manual", "scope": {"for_s": 2}})),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(time.frames_until(&mut rx, FPS, MANUAL, 1).await?, 1);
    let taken = next_of(&mut ws, "override_changed").await?;
    assert_eq!(
        (
            taken["override"]["by"].as_str(),
            taken["override"]["scope"]["for_s"].as_i64()
        ),
        (Some("otto"), Some(2))
    );
    let (_, overrides) = app
        .call("GET", "/api/v1/overrides", Some(&operator), None)
        .await?;
    assert_eq!(overrides[0]["canvas"], json!(canvas), "{overrides}");
    // Every frame until the two seconds are up is the override's.
    let period = Duration::from_secs(1) / FPS;
    while time.now() < taken_at + Duration::from_secs(2) {
        time.advance(period);
        let p = rx.next_data(Duration::from_secs(5)).await?;
        assert_eq!(
            p.slots.get(..3),
            Some(&MANUAL[..]),
            "at {:?}",
            time.now() - taken_at
        );
    }
    // Then it ends and the schedule's look comes back on the next frame, once the
    // release (which consoles hear of once it is with the canvas) has been made.
    // The release reaches the canvas after the store has it: when that is later
    // than the frame it was due on, it is taken at the next one, so frames go on
    // while the test waits (a few at most).
    let mut ended = None;
    let mut released = false;
    let mut late_frames = 0;
    while ended.is_none() || !released {
        let heard = tokio::time::timeout(
            Duration::from_millis(200),
            next_where(&mut ws, "override end", |v| {
                v["type"] == "override_changed" || v["type"] == "schedule_change"
            }),
        )
        .await;
        match heard {
            Ok(m) => {
                let m = m?;
                if m["type"] == "override_changed" {
                    ended = Some(m);
                } else {
                    released |= m["change"]["cause"] == "release";
                }
            }
            Err(_) => {
                late_frames += 1;
                assert!(
                    late_frames <= 5,
                    "no override end in 5 frames (ended {ended:?}, released {released})"
                );
                time.advance(period);
                rx.next_data(Duration::from_secs(5)).await?;
            }
        }
    }
    assert_eq!(time.frames_until(&mut rx, FPS, PLANNED, 1).await?, 1);
    let ended = ended.unwrap_or_default();
    assert_eq!(ended["override"], Value::Null);
    let (_, overrides) = app
        .call("GET", "/api/v1/overrides", Some(&operator), None)
        .await?;
    assert_eq!(overrides, json!([]));

    // Until released: held until an operator hands it back.
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/canvases/{canvas}/scene"),
            Some(&operator),
            Some(json!({"scene": "Manual", "scope": "until_released"})),
        )
        .await?;
    assert_eq!(status, 200);
    assert_eq!(time.frames_until(&mut rx, FPS, MANUAL, 1).await?, 1);
    let (status, state) = app
        .call(
            "POST",
            &format!("/api/v1/canvases/{canvas}/release"),
            Some(&operator),
            Some(json!({"fade_ms": 0})),
        )
        .await?;
    assert_eq!(
        (status, state["scene"].as_str()),
        (200, Some("Planned")),
        "{state}"
    );
    assert_eq!(time.frames_until(&mut rx, FPS, PLANNED, 1).await?, 1);

    // Start the next entry now: it is held until that occurrence's end.
    let later = entry_at(
        "Later",
        canvas,
        "Later",
        now + chrono::Duration::hours(2),
        600,
        10,
    );
    let (status, _) = app
        .call("POST", "/api/v1/schedule", Some(&admin), Some(later))
        .await?;
    assert_eq!(status, 201);
    let (status, state) = app
        .call(
            "POST",
            &format!("/api/v1/canvases/{canvas}/advance"),
            Some(&operator),
            None,
        )
        .await?;
    assert_eq!(
        (status, state["scene"].as_str()),
        (200, Some("Later")),
        "{state}"
    );
    assert_eq!(time.frames_until(&mut rx, FPS, LATER, 1).await?, 1);
    let (_, overrides) = app
        .call("GET", "/api/v1/overrides", Some(&operator), None)
        .await?;
    let until = overrides[0]["until"]
        .as_str()
        .ok_or_else(|| anyhow!("no until: {overrides}"))?;
    let until = DateTime::parse_from_rfc3339(until)?.with_timezone(&Utc);
    let expected = now + chrono::Duration::hours(2) + chrono::Duration::seconds(600);
    assert!(
        (until - expected).num_seconds().abs() <= 2,
        "{until} vs {expected}"
    );

    // Every hand-taken change is in the audit log.
    let (_, audit) = app
        .call("GET", "/api/v1/audit?limit=50", Some(&admin), None)
        .await?;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in ["trigger_scene", "release_to_schedule", "start_next_entry"] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    let (status, body) = app
        .call(
            "POST",
            &format!("/api/v1/canvases/{canvas}/scene"),
            Some(&operator),
            Some(json!({"scene": "Manual", "scope": {"for_s": 0}})),
        )
        .await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("validation_failed"))
    );
    Ok(())
}

#[actix_rt::test]
async fn after_a_restart_the_running_entry_is_taken_up_not_replayed() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    app.solid_scene(&admin, "Running", "#135790").await?;
    let mut rx = Receiver::bind().await?;
    let canvas = app.canvas_to(&admin, "Wall", 10, 40, &rx).await?;
    let mut console = connect(&app, &admin).await?;
    next_of(&mut console, "snapshot").await?;
    let now = Utc::now();
    let running = entry_at(
        "Running",
        canvas,
        "Running",
        now - chrono::Duration::seconds(60),
        3600,
        10,
    );
    app.call("POST", "/api/v1/schedule", Some(&admin), Some(running))
        .await?;
    // One that already came and went: never played.
    app.solid_scene(&admin, "Past", "#FFFFFF").await?;
    let past = entry_at(
        "Past",
        canvas,
        "Past",
        now - chrono::Duration::hours(3),
        600,
        50,
    );
    app.call("POST", "/api/v1/schedule", Some(&admin), Some(past))
        .await?;
    let taken_up = next_of(&mut console, "schedule_change").await?;
    assert_eq!(taken_up["change"]["cause"], "resume", "{taken_up}");
    until_rgb(&mut rx, [0x13, 0x57, 0x90], Duration::from_secs(3)).await?;
    let changes = app.scheduled_changes(&admin).await?;
    assert_eq!(
        changes.len(),
        1,
        "taken up once, when it was created: {changes:?}"
    );

    let env = app.stop().await;
    let app = TestApp::spawn_in(env).await?;
    let admin = app.admin().await?;
    // Back on the wire in the running entry's look.
    until_rgb(&mut rx, [0x13, 0x57, 0x90], Duration::from_secs(3)).await?;
    let state = app.canvas_state(&admin, canvas).await?;
    assert_eq!(state["scene"], "Running");
    // Nothing was fired again: after a change made behind anything the start-up
    // could have queued, the log holds that one change more.
    let mut console = connect(&app, &admin).await?;
    next_of(&mut console, "snapshot").await?;
    let barrier = app.schedule_barrier(&admin, &mut console).await?;
    let after = app.scheduled_changes(&admin).await?;
    assert_eq!(after.len(), 2, "a change was fired again: {after:?}");
    assert_eq!(after[0]["target"], format!("canvas:{barrier}"));
    let (_, preview) = app
        .call("GET", "/api/v1/schedule/preview", Some(&admin), None)
        .await?;
    assert_eq!(preview["canvases"][0]["play"]["scene"], "Running");
    Ok(())
}

#[actix_rt::test]
async fn the_console_hears_every_fired_change() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    app.solid_scene(&admin, "Brief", "#445566").await?;
    let canvas = app.idle_canvas(&admin, "Strip").await?;
    let mut ws = connect(&app, &admin).await?;
    next_of(&mut ws, "snapshot").await?;
    let start = (Utc::now() + chrono::Duration::seconds(2)).with_nanosecond_zero();
    app.call(
        "POST",
        "/api/v1/schedule",
        Some(&admin),
        Some(entry_at("Brief", canvas, "Brief", start, 1, 10)),
    )
    .await?;
    let began = next_of(&mut ws, "schedule_change").await?;
    assert_eq!(began["change"]["cause"], "start");
    let at = began["change"]["at"]
        .as_str()
        .ok_or_else(|| anyhow!("no time"))?;
    assert_eq!(DateTime::parse_from_rfc3339(at)?, start);
    let state = next_of(&mut ws, "canvas_state").await?;
    assert_eq!(state["canvas"]["scene"], "Brief");
    let ended = next_of(&mut ws, "schedule_change").await?;
    assert_eq!(
        (ended["change"]["cause"].as_str(), &ended["change"]["play"]),
        (Some("end"), &Value::Null)
    );
    Ok(())
}

#[actix_rt::test]
async fn a_wall_clock_jump_takes_up_what_plays_at_the_new_time() -> Result<()> {
    let env = TestEnv::new().await?;
    let config = env.config();
    let wall = limelight_engine::clock::ShiftedWallClock::default();
    let mut engine = config.engine();
    engine.wall_clock = std::sync::Arc::new(wall.clone());
    let app = TestApp::spawn_engine(env, config, engine).await?;
    let admin = app.admin().await?;
    app.solid_scene(&admin, "Day", "#204060").await?;
    app.solid_scene(&admin, "Night", "#602040").await?;
    let mut rx = Receiver::bind().await?;
    let canvas = app.canvas_to(&admin, "Facade", 10, 40, &rx).await?;
    let now = Utc::now().with_nanosecond_zero();
    let day = entry_at(
        "Day",
        canvas,
        "Day",
        now - chrono::Duration::minutes(1),
        3600,
        10,
    );
    let night = entry_at(
        "Night",
        canvas,
        "Night",
        now + chrono::Duration::hours(3),
        3600,
        10,
    );
    for entry in [day, night] {
        let (status, body) = app
            .call("POST", "/api/v1/schedule", Some(&admin), Some(entry))
            .await?;
        assert_eq!(status, 201, "{body}");
    }
    until_rgb(&mut rx, [0x20, 0x40, 0x60], Duration::from_secs(3)).await?;
    // Each take-up is heard by this server's console as a `schedule_change` with
    // cause `resume`; the first one after each jump names the entry that jump
    // leads to, so no take-up was fired twice or for the wrong entry.
    let mut ws = connect(&app, &admin).await?;
    next_of(&mut ws, "snapshot").await?;
    // The start's own take-up may be told after its look reached the wire (its
    // audit row is written first): let it pass before the clock jumps.
    while tokio::time::timeout(
        Duration::from_millis(500),
        next_of(&mut ws, "schedule_change"),
    )
    .await
    .is_ok()
    {}
    let take_up = async |ws: &mut limelight_tests::Ws| -> Result<Value> {
        loop {
            let change = next_of(ws, "schedule_change").await?["change"].clone();
            if change["cause"] == "resume" {
                return Ok(change["play"]["scene"].clone());
            }
        }
    };

    // The clock is set three hours and ten minutes ahead: the day entry is over
    // and the night entry is ten minutes in. It is taken up, not its start replayed
    // from the top, and within the scheduler's 5 s check.
    let jumped = std::time::Instant::now();
    wall.jump(chrono::Duration::minutes(190));
    until_rgb(&mut rx, [0x60, 0x20, 0x40], Duration::from_secs(7)).await?;
    assert!(jumped.elapsed() < Duration::from_secs(6));
    assert_eq!(take_up(&mut ws).await?, "Night");

    // Back again: the day entry is taken up once more.
    wall.jump(chrono::Duration::minutes(-190));
    until_rgb(&mut rx, [0x20, 0x40, 0x60], Duration::from_secs(7)).await?;
    assert_eq!(take_up(&mut ws).await?, "Day");
    Ok(())
}
