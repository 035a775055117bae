//! Cue lists through the real server: stored and edited over REST, run by hand and
//! by the schedule, GO / back / go to / panic over REST and the WebSocket, with the
//! looks checked in the E1.31 on the wire and the cue events consoles hear.

use anyhow::{Result, bail};
use futures_util::SinkExt;
use limelight_tests::{DataPacket, Receiver, TestApp, TestEnv, Ws, connect, next_of, next_where};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const A: [u8; 3] = [0x11, 0, 0];
const B: [u8; 3] = [0, 0x22, 0];
const C: [u8; 3] = [0, 0, 0x33];
const BLACK: [u8; 3] = [0, 0, 0];

async fn scenes(app: &TestApp, token: &str) -> Result<()> {
    app.solid_scene(token, "A", "#110000").await?;
    app.solid_scene(token, "B", "#002200").await?;
    app.solid_scene(token, "C", "#000033").await
}

/// Frames per second of the canvases under test.
const FPS: u32 = 40;

/// A server with scenes A, B and C and a dark canvas sending to a test socket.
async fn stage() -> Result<(TestApp, String, Receiver, i64)> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    scenes(&app, &admin).await?;
    let mut rx = Receiver::bind().await?;
    let canvas = app.canvas_to(&admin, "Canopy", 10, FPS, &rx).await?;
    until_rgb(&mut rx, BLACK, Duration::from_secs(2)).await?;
    Ok((app, admin, rx, canvas))
}

async fn until_rgb(rx: &mut Receiver, rgb: [u8; 3], within: Duration) -> Result<DataPacket> {
    rx.until(within, |p| p.slots.get(..3) == Some(&rgb[..]))
        .await
}

async fn create_list(app: &TestApp, token: &str, list: Value) -> Result<i64> {
    let (status, body) = app
        .call("POST", "/api/v1/cue-lists", Some(token), Some(list))
        .await?;
    if status != 201 {
        bail!("creating a cue list failed: {status} {body}");
    }
    body["id"]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("no id in {body}"))
}

async fn cue(app: &TestApp, token: &str, canvas: i64, command: Value) -> Result<(u16, Value)> {
    let path = format!("/api/v1/canvases/{canvas}/cues");
    app.call("POST", &path, Some(token), Some(command)).await
}

/// The next `cue` event: its action and cue number.
async fn cue_event(ws: &mut Ws) -> Result<(String, Value)> {
    let event = next_of(ws, "cue").await?["event"].clone();
    Ok((
        event["action"].as_str().unwrap_or_default().to_owned(),
        event["cue"].clone(),
    ))
}

#[actix_rt::test]
async fn cue_lists_are_managed_over_rest_and_bad_ones_change_nothing() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let marketing = app.user("mia", "marketing").await?;
    let operator = app.user("otto", "operator").await?;
    scenes(&app, &admin).await?;
    let list = json!({
        "name": "Opening", "go_protection_ms": 500,
        "cues": [
            {"number": 1, "scene": "A", "fade_ms": 1000, "continue": "auto_follow", "post_wait_ms": 200},
            {"number": "1.5", "scene": "B", "pre_wait_ms": 300},
            {"number": "2", "fade_ms": 3000}
        ]
    });
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/cue-lists",
            Some(&operator),
            Some(list.clone()),
        )
        .await?;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let id = create_list(&app, &marketing, list.clone()).await?;
    let (_, got) = app
        .call(
            "GET",
            &format!("/api/v1/cue-lists/{id}"),
            Some(&operator),
            None,
        )
        .await?;
    assert_eq!(got["cues"][1]["number"], "1.5");
    assert_eq!(got["cues"][0]["continue"], "auto_follow");
    assert_eq!(got["cues"][2]["scene"], Value::Null);

    let cases = [
        (json!({"name": "X", "cues": []}), 422, "validation_failed"),
        (
            json!({"name": "X", "cues": [{"number": 1}, {"number": 1}]}),
            422,
            "validation_failed",
        ),
        (
            json!({"name": "X", "cues": [{"number": 1, "fade_ms": 4000000}]}),
            422,
            "validation_failed",
        ),
        (
            json!({"name": "X", "cues": [{"number": 1, "continue": "maybe"}]}),
            422,
            "validation_failed",
        ),
        (
            json!({"name": "X", "cues": [{"number": "two words"}]}),
            422,
            "validation_failed",
        ),
        (
            json!({"name": "X", "cues": [{"number": 1, "scene": "Nope"}]}),
            404,
            "unknown_scene",
        ),
        (
            json!({"name": "X", "cues": [{"number": 1}], "loop": true}),
            422,
            "validation_failed",
        ),
        (list.clone(), 409, "conflict"),
    ];
    for (body, status, code) in cases {
        app.refused(
            "POST",
            "/api/v1/cue-lists",
            &admin,
            Some(body),
            status,
            code,
        )
        .await?;
    }
    let (status, got) = app
        .call_raw(
            "POST",
            "/api/v1/cue-lists",
            Some(&admin),
            "application/json",
            b"{\"name\": ".to_vec(),
        )
        .await?;
    assert_eq!((status, got["code"].as_str()), (400, Some("invalid_json")));
    let (_, all) = app
        .call("GET", "/api/v1/cue-lists", Some(&admin), None)
        .await?;
    assert_eq!(all.as_array().map(Vec::len), Some(1), "{all}");

    // Edit, then unknown ids.
    let mut edited = list.clone();
    edited["cues"][0]["fade_ms"] = json!(0);
    let (status, _) = app
        .call(
            "PUT",
            &format!("/api/v1/cue-lists/{id}"),
            Some(&marketing),
            Some(edited),
        )
        .await?;
    assert_eq!(status, 200);
    for (method, body) in [("GET", None), ("PUT", Some(list.clone())), ("DELETE", None)] {
        let (status, got) = app
            .call(method, "/api/v1/cue-lists/999", Some(&admin), body)
            .await?;
        assert_eq!(
            (status, got["code"].as_str()),
            (404, Some("unknown_cue_list"))
        );
    }

    // A list a schedule entry plays cannot be deleted; an entry naming a missing
    // list is refused.
    let canvas = app.idle_canvas(&admin, "Stairs").await?;
    let entry = |cue_list: i64| {
        json!({
            "name": "Nightly", "targets": [canvas], "priority": 10,
            "play": {"cue_list": cue_list},
            "start": {"date": "2026-01-01", "time": "20:00"}, "end": {"duration_s": 600},
            "rrule": "FREQ=DAILY", "stop": {"mode": "finish_cue_list", "fade_ms": 1500}
        })
    };
    let (status, got) = app
        .call("POST", "/api/v1/schedule", Some(&admin), Some(entry(999)))
        .await?;
    assert_eq!(
        (status, got["code"].as_str()),
        (404, Some("unknown_cue_list"))
    );
    let (status, got) = app
        .call("POST", "/api/v1/schedule", Some(&admin), Some(entry(id)))
        .await?;
    assert_eq!(status, 201, "{got}");
    let (status, got) = app
        .call(
            "DELETE",
            &format!("/api/v1/cue-lists/{id}"),
            Some(&admin),
            None,
        )
        .await?;
    assert_eq!((status, got["code"].as_str()), (409, Some("conflict")));
    let entry_id = got_entry_id(&app, &admin).await?;
    app.call(
        "DELETE",
        &format!("/api/v1/schedule/{entry_id}"),
        Some(&admin),
        None,
    )
    .await?;
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/cue-lists/{id}"),
            Some(&admin),
            None,
        )
        .await?;
    assert_eq!(status, 204);

    // Commands on a canvas with no list loaded, and bad command bodies.
    let (status, got) = cue(&app, &operator, canvas, json!({"action": "go"})).await?;
    assert_eq!((status, got["code"].as_str()), (409, Some("cue_refused")));
    let (status, got) = cue(&app, &operator, canvas, json!({"action": "jump"})).await?;
    assert_eq!(
        (status, got["code"].as_str()),
        (422, Some("validation_failed"))
    );
    let (status, got) = cue(
        &app,
        &operator,
        canvas,
        json!({"action": "run", "cue_list": 999}),
    )
    .await?;
    assert_eq!(
        (status, got["code"].as_str()),
        (404, Some("unknown_cue_list"))
    );
    let (status, got) = cue(&app, &operator, 999, json!({"action": "go"})).await?;
    assert_eq!(
        (status, got["code"].as_str()),
        (404, Some("unknown_canvas"))
    );
    let (status, got) = cue(&app, &marketing, canvas, json!({"action": "go"})).await?;
    assert_eq!((status, got["code"].as_str()), (403, Some("forbidden")));
    Ok(())
}

async fn got_entry_id(app: &TestApp, token: &str) -> Result<i64> {
    let (_, entries) = app
        .call("GET", "/api/v1/schedule", Some(token), None)
        .await?;
    entries[0]["id"]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("no entry in {entries}"))
}

#[actix_rt::test]
async fn go_protection_and_an_auto_follow_chain_show_on_the_wire_and_every_console() -> Result<()> {
    let (app, admin, mut rx, canvas) = stage().await?;
    let operator = app.user("otto", "operator").await?;
    let list = create_list(
        &app,
        &admin,
        json!({
            "name": "Show", "go_protection_ms": 2000,
            "cues": [
                {"number": 1, "scene": "A", "continue": "auto_follow", "post_wait_ms": 400},
                {"number": 2, "scene": "B"},
                {"number": 3, "scene": "C"}
            ]
        }),
    )
    .await?;
    let mut ws = connect(&app, &operator).await?;
    next_of(&mut ws, "snapshot").await?;

    // Run by hand: cue 1 at once, cue 2 follows 400 ms later by itself.
    let (status, state) = cue(
        &app,
        &operator,
        canvas,
        json!({"action": "run", "cue_list": list, "scope": "until_released"}),
    )
    .await?;
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["cues"]["current"], "1");
    assert_eq!(state["cues"]["standby"], "2");
    let a = until_rgb(&mut rx, A, Duration::from_secs(2)).await?;
    let b = until_rgb(&mut rx, B, Duration::from_secs(2)).await?;
    let gap = b.at.duration_since(a.at);
    let period = Duration::from_secs(1) / FPS;
    // Each look shows on the first frame at or after its instant: the gap is the
    // post-wait give or take one frame, and what the packets' arrival adds (2 ms).
    let slack = period + Duration::from_millis(2);
    assert!(
        gap + slack >= Duration::from_millis(400) && gap <= Duration::from_millis(400) + slack,
        "cue 2 followed {gap:?} after cue 1"
    );
    assert_eq!(cue_event(&mut ws).await?, ("run".into(), Value::Null));
    assert_eq!(cue_event(&mut ws).await?, ("go".into(), json!("1")));
    assert_eq!(
        cue_event(&mut ws).await?,
        ("auto_follow".into(), json!("2"))
    );

    // GO fires cue 3. A second GO inside the 2 s protection is refused and changes
    // nothing; so is one over the WebSocket.
    let (status, state) = cue(&app, &operator, canvas, json!({"action": "go"})).await?;
    assert_eq!((status, &state["cues"]["current"]), (200, &json!("3")));
    until_rgb(&mut rx, C, Duration::from_secs(1)).await?;
    assert_eq!(cue_event(&mut ws).await?, ("go".into(), json!("3")));
    let (status, refused) =
        cue(&app, &operator, canvas, json!({"action": "goto", "cue": 9})).await?;
    assert_eq!(
        (status, refused["code"].as_str()),
        (404, Some("unknown_cue"))
    );
    let (status, refused) = cue(&app, &operator, canvas, json!({"action": "go"})).await?;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("cue_refused")),
        "{refused}"
    );
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or_default()
            .contains("GO protection is 2000 ms")
    );
    ws.send(Message::Text(
        json!({"type": "cue", "request_id": "g", "canvas": canvas, "command": {"action": "go"}})
            .to_string()
            .into(),
    ))
    .await?;
    let error = next_of(&mut ws, "error").await?;
    assert_eq!(
        (error["request_id"].as_str(), error["code"].as_str()),
        (Some("g"), Some("cue_refused"))
    );
    let state = app.canvas_state(&admin, canvas).await?;
    assert_eq!(
        (state["scene"].as_str(), &state["cues"]["current"]),
        (Some("C"), &json!("3"))
    );

    // Go to cue 2 over the WebSocket, back to cue 1, then panic to black.
    ws.send(Message::Text(
        json!({"type": "cue", "request_id": "t", "canvas": canvas, "command": {"action": "goto", "cue": "2"}})
            .to_string()
            .into(),
    ))
    .await?;
    let ack = next_of(&mut ws, "ack").await?;
    assert_eq!(ack["canvas"]["cues"]["current"], "2");
    until_rgb(&mut rx, B, Duration::from_secs(1)).await?;
    let (status, state) = cue(&app, &operator, canvas, json!({"action": "back"})).await?;
    assert_eq!(
        (status, &state["cues"]["current"], &state["cues"]["standby"]),
        (200, &json!("1"), &json!("2"))
    );
    until_rgb(&mut rx, A, Duration::from_secs(1)).await?;
    let (status, _) = cue(
        &app,
        &operator,
        canvas,
        json!({"action": "panic", "fade_ms": 0}),
    )
    .await?;
    assert_eq!(status, 200);
    until_rgb(&mut rx, BLACK, Duration::from_secs(1)).await?;
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/panic",
            Some(&operator),
            Some(json!({"fade_ms": 4000000})),
        )
        .await?;
    assert_eq!(status, 422);

    // The list holds the canvas as an override until released; every command is audited.
    let (_, overrides) = app
        .call("GET", "/api/v1/overrides", Some(&admin), None)
        .await?;
    assert_eq!(overrides[0]["play"]["cue_list"], list);
    let (_, audit) = app
        .call("GET", "/api/v1/audit?limit=50", Some(&admin), None)
        .await?;
    let cues: Vec<(&str, &str)> = audit["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["action"] == "cue")
        .map(|e| {
            (
                e["detail"]["action"].as_str().unwrap_or_default(),
                e["outcome"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        cues,
        vec![
            ("panic", "ok"),
            ("back", "ok"),
            ("goto", "ok"),
            ("go", "error"),
            ("go", "error"),
            ("goto", "error"),
            ("go", "ok"),
            ("run", "ok"),
        ]
    );
    Ok(())
}

#[actix_rt::test]
async fn a_scheduled_cue_list_plays_out_before_the_schedule_moves_on() -> Result<()> {
    // On manual time: each frame is counted, so the cue instants are exact.
    let (app, time) = TestApp::spawn_on_manual_time().await?;
    let admin = app.admin().await?;
    scenes(&app, &admin).await?;
    let mut rx = Receiver::bind().await?;
    let canvas = app.canvas_to(&admin, "Canopy", 10, FPS, &rx).await?;
    time.frames_until(&mut rx, FPS, BLACK, 2).await?;
    // A follows into B 2.5 s in, B into C 1 s later: the list outlasts its 2 s entry.
    let list = create_list(
        &app,
        &admin,
        json!({
            "name": "Chain",
            "cues": [
                {"number": 1, "scene": "A", "continue": "auto_follow", "post_wait_ms": 2500},
                {"number": 2, "scene": "B", "continue": "auto_follow", "post_wait_ms": 1000},
                {"number": 3, "scene": "C", "fade_ms": 500}
            ]
        }),
    )
    .await?;
    let mut ws = connect(&app, &admin).await?;
    next_of(&mut ws, "snapshot").await?;
    let due = time.wall() + chrono::Duration::seconds(3);
    let due = chrono::Timelike::with_nanosecond(&due, 0).unwrap_or(due);
    let entry = json!({
        "name": "Chain", "targets": [canvas], "priority": 10,
        "play": {"cue_list": list},
        "start": {"date": due.format("%Y-%m-%d").to_string(), "time": due.format("%H:%M:%S").to_string()},
        "end": {"duration_s": 2},
        "stop": {"mode": "finish_cue_list"}
    });
    let (status, body) = app
        .call("POST", "/api/v1/schedule", Some(&admin), Some(entry))
        .await?;
    assert_eq!(status, 201, "{body}");

    // To the due instant: the frame rendered on the way is still dark, and the
    // change is with the canvas once the console hears of it.
    time.advance_to(due);
    let before = rx.next_data(Duration::from_secs(5)).await?;
    assert_eq!(before.slots.get(..3), Some(&BLACK[..]));
    let change = next_of(&mut ws, "schedule_change").await?;
    assert_eq!(change["change"]["cause"], "start", "{change}");
    // Cue 1 on the first frame due at or after the instant.
    assert_eq!(time.frames_until(&mut rx, FPS, A, 2).await?, 1);
    // The entry ends at 2 s, but the list plays on: every frame to then is A, and
    // the end is with the canvas once the console hears of it.
    let frames = |ms: u64| ms * u64::from(FPS) / 1000;
    let period = Duration::from_secs(1) / FPS;
    let mut since_a = 0;
    while time.wall() < due + chrono::Duration::seconds(2) {
        time.advance(period);
        let p = rx.next_data(Duration::from_secs(5)).await?;
        assert_eq!(p.slots.get(..3), Some(&A[..]), "frame {since_a} after A");
        since_a += 1;
    }
    let mut actions = Vec::new();
    loop {
        let m = next_where(&mut ws, "the entry's end", |v| {
            v["type"] == "cue" || v["type"] == "schedule_change"
        })
        .await?;
        if m["type"] == "cue" {
            actions.push(m["event"]["action"].as_str().unwrap_or_default().to_owned());
        } else if m["change"]["cause"] == "end" {
            break;
        }
    }
    // B exactly 2.5 s after A, and C's fade from 1 s after B. Black only once that
    // fade has ended.
    since_a += time.frames_until(&mut rx, FPS, B, 200).await?;
    assert_eq!(since_a, frames(2500));
    assert_eq!(
        time.frames_until(&mut rx, FPS, BLACK, 200).await?,
        frames(1500)
    );
    while actions.last().map(String::as_str) != Some("finished") {
        actions.push(cue_event(&mut ws).await?.0);
    }
    assert_eq!(
        actions,
        ["run", "go", "auto_follow", "auto_follow", "finished"]
    );
    let state = app.canvas_state(&admin, canvas).await?;
    assert_eq!(
        (&state["scene"], &state["cues"]),
        (&Value::Null, &Value::Null)
    );
    Ok(())
}

#[actix_rt::test]
async fn edits_and_restarts_keep_the_playhead_on_the_same_cue() -> Result<()> {
    let app = TestApp::spawn_in(TestEnv::new().await?).await?;
    let admin = app.admin().await?;
    scenes(&app, &admin).await?;
    let mut rx = Receiver::bind().await?;
    let canvas = app.canvas_to(&admin, "Wall", 10, 40, &rx).await?;
    let list = create_list(
        &app,
        &admin,
        json!({"name": "Slow", "go_protection_ms": 0, "cues": [
            {"number": 1, "scene": "A"}, {"number": 2, "scene": "B"}, {"number": 3, "scene": "C"}
        ]}),
    )
    .await?;
    cue(
        &app,
        &admin,
        canvas,
        json!({"action": "run", "cue_list": list, "scope": "until_released"}),
    )
    .await?;
    let (status, _) = cue(&app, &admin, canvas, json!({"action": "go"})).await?;
    assert_eq!(status, 200);
    // The answer comes once the playhead is stored.
    until_rgb(&mut rx, B, Duration::from_secs(2)).await?;
    // An edit while it is loaded: cue 1 goes, cue 3 now shows A. The playhead stays
    // on the same numbers.
    let edited = json!({"name": "Slow", "go_protection_ms": 0, "cues": [
        {"number": 2, "scene": "B"}, {"number": 3, "scene": "A"}
    ]});
    let (status, _) = app
        .call(
            "PUT",
            &format!("/api/v1/cue-lists/{list}"),
            Some(&admin),
            Some(edited),
        )
        .await?;
    assert_eq!(status, 200);
    let state = app.canvas_state(&admin, canvas).await?;
    assert_eq!(
        (&state["cues"]["current"], &state["cues"]["standby"]),
        (&json!("2"), &json!("3"))
    );

    assert_eq!(app.scheduled_changes(&admin).await?, Vec::<Value>::new());
    let env = app.stop().await;
    let app = TestApp::spawn_in(env).await?;
    let admin = app.admin().await?;
    until_rgb(&mut rx, B, Duration::from_secs(3)).await?;
    // Half a second of frames, all still cue 2: the list was not started again.
    for _ in 0..20 {
        let p = rx.next_data(Duration::from_secs(1)).await?;
        assert_eq!(p.slots.get(..3), Some(&B[..]));
    }
    // The schedule fired nothing at the start: after a change made behind anything
    // the start-up could have queued, the log holds that one change alone.
    let mut console = connect(&app, &admin).await?;
    next_of(&mut console, "snapshot").await?;
    let barrier = app.schedule_barrier(&admin, &mut console).await?;
    let changes = app.scheduled_changes(&admin).await?;
    assert_eq!(changes.len(), 1, "a change was fired again: {changes:?}");
    assert_eq!(changes[0]["target"], format!("canvas:{barrier}"));
    let state = app.canvas_state(&admin, canvas).await?;
    assert_eq!(state["scene"], "B");
    assert_eq!(
        (&state["cues"]["current"], &state["cues"]["standby"]),
        (&json!("2"), &json!("3"))
    );
    // GO carries on from where it stood.
    let (status, state) = cue(&app, &admin, canvas, json!({"action": "go"})).await?;
    assert_eq!((status, &state["cues"]["current"]), (200, &json!("3")));
    until_rgb(&mut rx, A, Duration::from_secs(1)).await?;
    Ok(())
}
